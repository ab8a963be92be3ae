/* bc.c — ownership of a compiled program, and the opcode tables that
 * opcodes.h generates (names for `msl disasm`; operand kinds, register
 * types and flags for the verifier). */
#include "bc/bc.h"

#include <stdlib.h>

/* Operand letters of opcodes.h, spelled as identifiers the X-macro can paste. */
#define BC_OPND__ OPND_NONE
#define BC_OPND_R OPND_REG
#define BC_OPND_K OPND_CONST
#define BC_OPND_G OPND_AGG
#define BC_OPND_S OPND_SEQ
#define BC_OPND_M OPND_MILESTONE
#define BC_OPND_P OPND_PLAYBOOK
#define BC_OPND_F OPND_FIELD
#define BC_OPND_A OPND_ACCT
#define BC_OPND_X OPND_EXTERN
#define BC_OPND_J OPND_JUMP
#define BC_OPND_N OPND_COUNT

/* Register type letters of opcodes.h. */
#define BC_OPT__ OPT_NONE
#define BC_OPT_B OPT_BOOL
#define BC_OPT_I OPT_INT
#define BC_OPT_T OPT_TIME
#define BC_OPT_F OPT_FLOAT
#define BC_OPT_S OPT_STRING
#define BC_OPT_D OPT_DECLARED

const char *const bc_op_names[BC__COUNT] = {
#define BC_OP_NAME(name, a, b, c, d, res, ta, tb, tc, flags, doc) #name,
  MSL_OPCODES(BC_OP_NAME)
#undef BC_OP_NAME
};

const unsigned char bc_op_operands[BC__COUNT][4] = {
#define BC_OP_KINDS(name, a, b, c, d, res, ta, tb, tc, flags, doc) \
  {BC_OPND_##a, BC_OPND_##b, BC_OPND_##c, BC_OPND_##d},
  MSL_OPCODES(BC_OP_KINDS)
#undef BC_OP_KINDS
};

const unsigned char bc_op_types[BC__COUNT][4] = {
#define BC_OP_TYPES(name, a, b, c, d, res, ta, tb, tc, flags, doc) \
  {BC_OPT_##res, BC_OPT_##ta, BC_OPT_##tb, BC_OPT_##tc},
  MSL_OPCODES(BC_OP_TYPES)
#undef BC_OP_TYPES
};

const unsigned char bc_op_flags[BC__COUNT] = {
#define BC_OP_FLAGS(name, a, b, c, d, res, ta, tb, tc, flags, doc) (flags),
  MSL_OPCODES(BC_OP_FLAGS)
#undef BC_OP_FLAGS
};

const char *bc_str(const bc_program *p, uint32_t off) {
  /* Out-of-range offsets only reach here from unverified programs; "" keeps
   * a diagnostic printer from reading outside the pool. */
  if (off == BC_NONE || !p->strings || off >= p->strings_len) return "";
  return p->strings + off;
}

void bc_program_free(bc_program *p) {
  if (!p) return;
  free(p->strings);
  free(p->consts);
  free(p->code);
  free(p->blocks);
  free(p->account_fields);
  if (p->events)
    for (uint32_t i = 0; i < p->nevents; i++) free(p->events[i].fields);
  free(p->events);
  free(p->segment_blocks);
  free(p->segment_names);
  free(p->aggregates);
  free(p->sequences);
  if (p->milestones)
    for (uint32_t i = 0; i < p->nmilestones; i++) {
      free(p->milestones[i].segments);
      free(p->milestones[i].actions);
      free(p->milestones[i].emits);
    }
  free(p->milestones);
  if (p->playbooks)
    for (uint32_t i = 0; i < p->nplaybooks; i++) {
      free(p->playbooks[i].segments);
      free(p->playbooks[i].steps);
      free(p->playbooks[i].emits);
    }
  free(p->playbooks);
  if (p->externs)
    for (uint32_t i = 0; i < p->nexterns; i++) free(p->externs[i].params);
  free(p->externs);
  free(p->update_blocks);
  free(p->eval_order);
  free(p);
}
