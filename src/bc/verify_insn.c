/* verify_insn.c — the verifier's checks of each block's instructions.
 *
 * First each instruction on its own: its operands in range per their kind,
 * the op allowed in this kind of block, what the entries it names require
 * of it (an extern's arity, an aggregate's event); then that the block ends
 * where it must; then an abstract interpretation of the register types
 * along every path.  What each op reads, writes and where it may appear
 * comes from the columns of opcodes.h; only what an op requires of the
 * entries it names is written per op. */
#include "bc/verify_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool verify_insn_fail(verify_state *v, uint32_t bi, uint32_t pc, const char *fmt, ...) {
  char title[300], what[300];
  verify_block_title(v->p, bi, true, title, sizeof title);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return verify_fail(v, "block %u (%s), instruction %u: %s", bi, title, pc, what);
}

static const char *class_name(verify_class c) {
  switch (c) {
  case CL_BOOL: return "bool";
  case CL_I64: return "int/time/duration";
  case CL_FLOAT: return "float";
  case CL_STRING: return "string";
  default: return "nothing";
  }
}

/* The class a register type of opcodes.h stands for; CL_UNSET for any
 * (and for the types resolved elsewhere: none, same, declared). */
static verify_class class_of_optype(unsigned t) {
  switch (t) {
  case OPT_BOOL: return CL_BOOL;
  case OPT_INT: case OPT_TIME: return CL_I64;
  case OPT_FLOAT: return CL_FLOAT;
  case OPT_STRING: return CL_STRING;
  default: return CL_UNSET;
  }
}

/* Whether op may not appear in an update block (update) or a value block. */
static bool wrong_block_kind(unsigned op, bool update) {
  return bc_op_flags[op] & (update ? OPF_VAL : OPF_UPD);
}

/* Whether op ends a snippet of an update block; op is not checked yet (a
 * later instruction), and an invalid one is refused when its turn comes. */
static bool is_effect(unsigned op) { return op < BC__COUNT && (bc_op_flags[op] & OPF_EFFECT); }

/* The op that ends an update block (update) or a value block. */
static const char *terminator_name(bool update) {
  for (unsigned op = 0; op < BC__COUNT; op++)
    if ((bc_op_flags[op] & OPF_TERM) && !wrong_block_kind(op, update)) return bc_op_names[op];
  return "?";       /* tests/unit/test_opcodes.c checks the list has both */
}

/* The I/O type of a D register of opcodes.h: what the entry operand b names
 * declares (result: for R[a]; else for argument arg of a read), 0 for none.
 * Operand b must have passed its range check. */
static unsigned declared_type(const verify_state *v, uint32_t bi, const bc_insn *in, bool result, uint32_t arg) {
  const bc_program *p = v->p;
  switch ((vm_operand_kind)bc_op_operands[in->op][1]) {
  case OPND_NONE: return p->blocks[bi].type;
  case OPND_CONST: return p->consts[in->b].type;
  case OPND_FIELD: return p->events[v->use[bi].event].fields[in->b].type;
  case OPND_ACCT: return in->b == BC_ACCOUNT_ID ? VALUE_STRING : p->account_fields[in->b].type;
  case OPND_AGG: {
    const bc_aggregate *g = &p->aggregates[in->b];
    if (result) return g->result_type;
    return g->fn == BC_AGG_COUNT ? 0 : g->arg_type;
  }
  case OPND_EXTERN: {
    const bc_extern *x = &p->externs[in->b];
    if (result) return x->ret;
    return arg < x->nparams ? x->params[arg] : 0;
  }
  default: return 0;
  }
}

/* What reads a D register, for messages. */
static void declared_what(const verify_state *v, uint32_t bi, const bc_insn *in, uint32_t arg, char *what,
                          size_t len) {
  const bc_program *p = v->p;
  switch ((vm_operand_kind)bc_op_operands[in->op][1]) {
  case OPND_NONE:
    snprintf(what, len, "%s of a %s block", bc_op_names[in->op], verify_type_name(p->blocks[bi].type));
    break;
  case OPND_AGG: snprintf(what, len, "aggregate g%u", in->b); break;
  case OPND_EXTERN: snprintf(what, len, "argument %u of `%s`", arg + 1, bc_str(p, p->externs[in->b].name)); break;
  default: snprintf(what, len, "%s", bc_op_names[in->op]); break;
  }
}

/* Whether the op may appear where it is: in this kind of block (update or
 * value), and reading evaluation state only where there is some. */
static bool check_placement(verify_state *v, uint32_t bi, uint32_t pc) {
  const bc_block *blk = &v->p->blocks[bi];
  unsigned op = v->p->code[blk->start + pc].op;
  const char *opname = bc_op_names[op];
  bool update = blk->type == 0;
  if (wrong_block_kind(op, update)) {
    if (bc_op_flags[op] & OPF_TERM)
      return verify_insn_fail(v, bi, pc, "%s in %s block (they end with %s)", opname,
                              update ? "an update" : "a value", terminator_name(update));
    return verify_insn_fail(v, bi, pc, "%s is only allowed in %s blocks", opname, update ? "value" : "update");
  }
  if (v->use[bi].account_only && (bc_op_flags[op] & OPF_STATE))
    return verify_insn_fail(v, bi, pc, "%s is not allowed here: this block is evaluated once per account, "
                            "over account fields and constants", opname);
  return true;
}

/* A jump goes forward inside its block, and in an update block stays in
 * its snippet. */
static bool check_jump(verify_state *v, uint32_t bi, uint32_t pc, uint32_t target) {
  const bc_program *p = v->p;
  const bc_block *blk = &p->blocks[bi];
  if (target <= pc) return verify_insn_fail(v, bi, pc, "jump to %u goes backwards (blocks may not loop)", target);
  if (target >= blk->len)
    return verify_insn_fail(v, bi, pc, "jump target %u outside the block (%u instructions)", target, blk->len);
  if (blk->type == 0) {                                   /* an update block */
    /* a filter's jumps stay in its snippet, which ends at its first
       effect: the VM skips a failing filter to that effect */
    uint32_t e = pc;
    while (e < blk->len && !is_effect(p->code[blk->start + e].op)) e++;
    if (e < blk->len && target > e + 1)
      return verify_insn_fail(v, bi, pc, "jump to %u leaves its snippet, which ends at instruction %u", target, e);
  }
  return true;
}

/* Operand k (0..3 for a..d) in range for its kind in opcodes.h.  The
 * start of a run (an operand followed by N) is checked with the run. */
static bool check_operand(verify_state *v, uint32_t bi, uint32_t pc, int k) {
  const bc_program *p = v->p;
  const bc_block *blk = &p->blocks[bi];
  const verify_block_use *use = &v->use[bi];
  const bc_insn *in = &p->code[blk->start + pc];
  const char *opname = bc_op_names[in->op];
  const unsigned char *kinds = bc_op_operands[in->op];
  const uint32_t opnd[4] = {in->a, in->b, in->c, in->d};
  const uint32_t x = opnd[k];
  const char letter = "abcd"[k];
  bool run = k < 3 && kinds[k + 1] == OPND_COUNT;
  switch ((vm_operand_kind)kinds[k]) {
  case OPND_NONE:
    if (x) return verify_insn_fail(v, bi, pc, "%s: unused operand %c is %u (must be 0)", opname, letter, x);
    break;
  case OPND_REG:
    if (run) break;
    /* a read whose declared type is none (a count aggregate) reads no register */
    if (bc_op_types[in->op][k + 1] == OPT_DECLARED && !declared_type(v, bi, in, false, 0)) {
      if (x) return verify_insn_fail(v, bi, pc, "%s of a count: operand %c is %u (must be 0)", opname, letter, x);
      break;
    }
    if (x >= blk->nregs)
      return verify_insn_fail(v, bi, pc, "register %u out of range (block has %u)", x, blk->nregs);
    break;
  case OPND_CONST:
    if (run) break;
    if (x >= p->nconsts)
      return verify_insn_fail(v, bi, pc, "constant k%u out of range (the program has %u)", x, p->nconsts);
    break;
  case OPND_AGG:
    if (x >= p->naggregates)
      return verify_insn_fail(v, bi, pc, "aggregate g%u out of range (the program has %u)", x, p->naggregates);
    break;
  case OPND_SEQ:
    if (x >= p->nsequences)
      return verify_insn_fail(v, bi, pc, "sequence s%u out of range (the program has %u)", x, p->nsequences);
    break;
  case OPND_MILESTONE:
    if (x >= p->nmilestones)
      return verify_insn_fail(v, bi, pc, "milestone %u out of range (the program has %u)", x, p->nmilestones);
    break;
  case OPND_PLAYBOOK:
    if (x >= p->nplaybooks)
      return verify_insn_fail(v, bi, pc, "playbook %u out of range (the program has %u)", x, p->nplaybooks);
    break;
  case OPND_FIELD:
    if (use->event == BC_NONE) return verify_insn_fail(v, bi, pc, "FIELD in an update block that no event runs");
    if (x >= p->events[use->event].nfields)
      return verify_insn_fail(v, bi, pc, "field %u out of range (event `%s` has %u)", x,
                              bc_str(p, p->events[use->event].name), p->events[use->event].nfields);
    break;
  case OPND_ACCT:
    if (x != BC_ACCOUNT_ID && x >= p->naccount_fields)
      return verify_insn_fail(v, bi, pc, "account field %u out of range (the program has %u)", x,
                              p->naccount_fields);
    break;
  case OPND_EXTERN:
    if (x >= p->nexterns)
      return verify_insn_fail(v, bi, pc, "extern %u out of range (the program has %u)", x, p->nexterns);
    break;
  case OPND_JUMP:
    return check_jump(v, bi, pc, x);
  case OPND_COUNT:
    break;                                                 /* with its run */
  }
  return true;
}

/* What the entries the operands name require of this op; the operands
 * are in range. */
static bool check_entry_needs(verify_state *v, uint32_t bi, uint32_t pc) {
  const bc_program *p = v->p;
  const verify_block_use *use = &v->use[bi];
  const bc_insn *in = &p->code[p->blocks[bi].start + pc];
  switch (in->op) {
  case BC_CALL: {
    const bc_extern *x = &p->externs[in->b];
    if (in->d != x->nparams)
      return verify_insn_fail(v, bi, pc, "calls `%s` with %u arguments, it takes %u", bc_str(p, x->name), in->d,
                              x->nparams);
    if (!x->called)
      return verify_insn_fail(v, bi, pc, "calls `%s`, which is not marked as called (it would not be bound)",
                              bc_str(p, x->name));
    break;
  }
  case BC_UPDATE: {
    const bc_aggregate *g = &p->aggregates[in->b];
    if (use->event == BC_NONE) return verify_insn_fail(v, bi, pc, "UPDATE in an update block that no event runs");
    if (g->event != use->event)
      return verify_insn_fail(v, bi, pc, "aggregate g%u counts `%s` events, this block runs for `%s`", in->b,
                              bc_str(p, p->events[g->event].name), bc_str(p, p->events[use->event].name));
    uint32_t want_scope = g->window == BC_WIN_SINCE_START ? g->milestone + 1 : 0;
    if (use->scope != want_scope)
      return verify_insn_fail(v, bi, pc, "aggregate g%u is updated in the wrong scope (%s)", in->b,
                              want_scope ? "it counts since the start of a milestone" : "it is account-wide");
    break;
  }
  case BC_STEP:
    if (in->c >= p->sequences[in->b].nsteps)
      return verify_insn_fail(v, bi, pc, "step %u out of range (sequence s%u has %u)", in->c, in->b,
                              p->sequences[in->b].nsteps);
    break;
  case BC_STARTON:
    if (p->milestones[in->b].start_kind != BC_START_ON_EVENT)
      return verify_insn_fail(v, bi, pc, "milestone `%s` does not start on an event",
                              bc_str(p, p->milestones[in->b].name));
    if (use->scope != 0) return verify_insn_fail(v, bi, pc, "STARTON outside the account-wide update blocks");
    break;
  case BC_STARTONP:
    if (p->playbooks[in->b].start_kind != BC_START_ON_EVENT)
      return verify_insn_fail(v, bi, pc, "playbook `%s` does not start on an event",
                              bc_str(p, p->playbooks[in->b].name));
    if (use->scope != 0) return verify_insn_fail(v, bi, pc, "STARTONP outside the account-wide update blocks");
    break;
  case BC_START:
    if (p->milestones[in->b].start_kind == BC_START_NONE)
      return verify_insn_fail(v, bi, pc, "milestone `%s` has no start clause, so no start time",
                              bc_str(p, p->milestones[in->b].name));
    break;
  case BC_ACHIEVING:
    if (!p->milestones[in->b].continuous)
      return verify_insn_fail(v, bi, pc, "ACHIEVING of `%s`, which is not continuous",
                              bc_str(p, p->milestones[in->b].name));
    break;
  default:
    break;
  }
  return true;
}

/* Runs: d registers or constants from c (an operand followed by N). */
static bool check_runs(verify_state *v, uint32_t bi, uint32_t pc) {
  const bc_program *p = v->p;
  const bc_block *blk = &p->blocks[bi];
  const bc_insn *in = &p->code[blk->start + pc];
  const unsigned char *kinds = bc_op_operands[in->op];
  const uint32_t opnd[4] = {in->a, in->b, in->c, in->d};
  for (int k = 0; k < 3; k++) {
    if (kinds[k + 1] != OPND_COUNT) continue;
    uint32_t first = opnd[k], n = opnd[k + 1];
    if (kinds[k] == OPND_REG && first + n > blk->nregs)
      return verify_insn_fail(v, bi, pc, "%u argument registers from register %u are out of range (block has %u)",
                              n, first, blk->nregs);
    if (kinds[k] != OPND_CONST) continue;
    if (first + n > p->nconsts)
      return verify_insn_fail(v, bi, pc, "constants k%u..k%u out of range (the program has %u)", first,
                              first + n - 1, p->nconsts);
    /* the constants are compared with R[b]: of the type it is read as */
    verify_class want = class_of_optype(bc_op_types[in->op][2]);
    for (uint32_t c = first; c < first + n; c++)
      if (verify_class_of(p->consts[c].type) != want)
        return verify_insn_fail(v, bi, pc, "%s needs %s constants, k%u is a %s", bc_op_names[in->op],
                                class_name(want), c, verify_type_name(p->consts[c].type));
  }
  return true;
}

/* Checks that need no flow information, in this order: the opcode, where
 * it is, each operand, what the entries it names require, its runs. */
static bool check_insn_static(verify_state *v, uint32_t bi, uint32_t pc) {
  unsigned op = v->p->code[v->p->blocks[bi].start + pc].op;
  if (op >= BC__COUNT) return verify_insn_fail(v, bi, pc, "invalid opcode %u", op);
  if (!check_placement(v, bi, pc)) return false;
  for (int k = 0; k < 4; k++)
    if (!check_operand(v, bi, pc, k)) return false;
  return check_entry_needs(v, bi, pc) && check_runs(v, bi, pc);
}

/* Abstract interpretation state of one block: the class of each register
 * on entry to the instruction being checked, and at every jump target the
 * merge of what the jumps to it carry.  Jumps only go forward, so one pass
 * in code order sees every edge into an instruction before it. */
typedef struct flow {
  uint32_t nregs;
  uint8_t *cur;
  bool reachable;
  uint32_t *slot_of;     /* per instruction: its jump-target slot, or BC_NONE */
  uint8_t *slot_regs;    /* nslots * nregs */
  bool *slot_reached;
} flow;

static void merge_into(uint8_t *dst, const uint8_t *src, uint32_t n) {
  for (uint32_t r = 0; r < n; r++)
    if (dst[r] != src[r]) dst[r] = (dst[r] == CL_UNSET || src[r] == CL_UNSET) ? CL_UNSET : CL_MIXED;
}

static void jump_to(flow *f, uint32_t target) {
  uint32_t s = f->slot_of[target];
  uint8_t *regs = f->slot_regs + (size_t)s * f->nregs;
  if (f->slot_reached[s]) {
    merge_into(regs, f->cur, f->nregs);
  } else {
    memcpy(regs, f->cur, f->nregs);
    f->slot_reached[s] = true;
  }
}

/* Reads register r, which must hold class want (CL_UNSET: any class). */
static bool use_reg(verify_state *v, const flow *f, uint32_t bi, uint32_t pc, uint32_t r, verify_class want,
                    const char *what) {
  verify_class have = f->cur[r];
  if (have == CL_UNSET) return verify_insn_fail(v, bi, pc, "register %u is read before it is written", r);
  if (have == CL_MIXED)
    return verify_insn_fail(v, bi, pc, "register %u holds different types on the paths that meet here", r);
  if (want != CL_UNSET && have != want)
    return verify_insn_fail(v, bi, pc, "%s needs %s, register %u holds %s", what, class_name(want), r,
                            class_name(have));
  return true;
}

static bool check_insn_types(verify_state *v, flow *f, uint32_t bi, uint32_t pc) {
  const bc_program *p = v->p;
  const bc_insn *in = &p->code[p->blocks[bi].start + pc];
  const unsigned char *kinds = bc_op_operands[in->op], *types = bc_op_types[in->op];
  const uint32_t opnd[4] = {in->a, in->b, in->c, in->d};
  char what[200];

  for (int k = 0; k < 3; k++) {
    unsigned t = types[k + 1];
    if (t == OPT_NONE) continue;
    uint32_t n = kinds[k + 1] == OPND_COUNT ? opnd[k + 1] : 1;   /* a run reads n registers */
    for (uint32_t j = 0; j < n; j++) {
      verify_class want = class_of_optype(t);
      snprintf(what, sizeof what, "%s", bc_op_names[in->op]);
      if (t == OPT_DECLARED) {
        unsigned io = declared_type(v, bi, in, false, j);
        if (!io) continue;                                 /* a count reads no value */
        want = verify_class_of(io);
        declared_what(v, bi, in, j, what, sizeof what);
      }
      if (!use_reg(v, f, bi, pc, opnd[k] + j, want, what)) return false;
    }
  }

  switch ((vm_operand_type)types[0]) {
  case OPT_NONE: break;
  case OPT_DECLARED: f->cur[in->a] = (uint8_t)verify_class_of(declared_type(v, bi, in, true, 0)); break;
  default: f->cur[in->a] = (uint8_t)class_of_optype(types[0]); break;
  }
  if (bc_op_flags[in->op] & OPF_JUMP) jump_to(f, in->d);
  if (bc_op_flags[in->op] & OPF_STOP) f->reachable = false;
  return true;
}

bool verify_insn_block(verify_state *v, uint32_t bi) {
  const bc_program *p = v->p;
  const bc_block *blk = &p->blocks[bi];
  for (uint32_t pc = 0; pc < blk->len; pc++)
    if (!check_insn_static(v, bi, pc)) return false;
  /* every op passed, so one that ends a block ends this kind of block */
  unsigned last = p->code[blk->start + blk->len - 1].op;
  if (!(bc_op_flags[last] & OPF_TERM))
    return verify_insn_fail(v, bi, blk->len - 1, "the block does not end with %s, so it can run off its end",
                            terminator_name(blk->type == 0));

  flow f = {.nregs = blk->nregs, .reachable = true};
  uint32_t nslots = 0;
  f.slot_of = util_xalloc(sizeof *f.slot_of * blk->len);
  f.cur = util_xalloc(BC_MAX_REGS);
  for (uint32_t pc = 0; pc < blk->len; pc++) f.slot_of[pc] = BC_NONE;
  for (uint32_t pc = 0; pc < blk->len; pc++) {
    const bc_insn *in = &p->code[blk->start + pc];
    if ((bc_op_flags[in->op] & OPF_JUMP) && f.slot_of[in->d] == BC_NONE) f.slot_of[in->d] = nslots++;
  }
  f.slot_regs = util_xalloc((size_t)nslots * blk->nregs + 1);
  f.slot_reached = util_xalloc(((size_t)nslots + 1) * sizeof *f.slot_reached);
  bool ok = true;
  for (uint32_t pc = 0; ok && pc < blk->len; pc++) {
    uint32_t s = f.slot_of[pc];
    if (s != BC_NONE && f.slot_reached[s]) {
      const uint8_t *in_regs = f.slot_regs + (size_t)s * blk->nregs;
      if (f.reachable) merge_into(f.cur, in_regs, blk->nregs);
      else memcpy(f.cur, in_regs, blk->nregs);
      f.reachable = true;
    }
    if (f.reachable) ok = check_insn_types(v, &f, bi, pc);   /* dead code is never run */
  }
  free(f.slot_of);
  free(f.cur);
  free(f.slot_regs);
  free(f.slot_reached);
  return ok;
}
