/* bc.h — a compiled MSL program: the unit that `msl build` writes to a .msc
 * file (msc.c), the verifier checks (verify*.c), `msl disasm` lists (disasm.c)
 * and the VM runs (vm/interp.c).
 *
 * Everything the VM needs is here; nothing points back into the AST.  A
 * program owns all its memory (bc_program_free releases it), so a loaded
 * .msc and a freshly compiled .ms look the same to the VM.
 *
 * Code is split by when it runs:
 *  - update blocks, one per (event type, scope): run for each event being
 *    applied; they hold `where` filters, UPDATE/STEP/STARTON instructions.
 *    Scope 0 is the account-wide aggregates; scope m+1 the `since start`
 *    aggregates of milestone m, run only while m has started.
 *  - value blocks: an expression returning R[0] (criteria, segments, starts,
 *    step conditions), run at evaluation instants or once per account. */
#ifndef MSL_BC_H
#define MSL_BC_H

#include <stdbool.h>
#include <stdint.h>

#include "io/io.h"
#include "bc/opcodes.h"

#define MSC_MAGIC "MSLC"
#define MSC_VERSION 3u   /* 2: MOVE and JMP dropped, so the opcode numbers moved;
                            3: a milestone's signals carry when they fire (bc_emit) */

typedef struct bc_insn {
  uint8_t op, a;
  uint16_t b, c, d;
} bc_insn;

/* Limits that follow from the encoding above (as Lua derives MAXARG_A from
 * SIZE_A): operand a, a register, is 8 bits; b, c and d are 16 bits, so a
 * constant, aggregate or other index, and a jump target within a block,
 * are at most BC_MAX_ARG. */
#define BC_MAX_REGS ((unsigned)UINT8_MAX + 1)   /* registers per block */
#define BC_MAX_ARG ((unsigned)UINT16_MAX)       /* largest b, c or d */
_Static_assert(sizeof ((bc_insn *)0)->a == 1 && sizeof ((bc_insn *)0)->d == 2,
               "BC_MAX_REGS and BC_MAX_ARG follow the operand widths");

#define BC_NO_BLOCK 0xFFFFFFFFu   /* an absent optional block */
#define BC_ACCOUNT_ID BC_MAX_ARG  /* ACCT operand naming the account id */
#define BC_NONE 0xFFFFFFFFu       /* an absent index */

typedef struct bc_block {
  uint32_t start, len;      /* instructions code[start .. start+len-1] */
  uint16_t nregs;           /* registers the block uses (R[0..nregs-1]) */
  uint8_t type;             /* value_type of the returned value; 0 for update blocks */
  uint32_t milestone;       /* the enclosing milestone (START, since start), or BC_NONE */
} bc_block;

typedef struct bc_const {
  uint8_t type;             /* value_type */
  value_data v;               /* strings point into the program's string pool */
} bc_const;

typedef enum { BC_AGG_COUNT, BC_AGG_SUM, BC_AGG_MIN, BC_AGG_MAX, BC_AGG_AVG, BC_AGG_DISTINCT } bc_agg_fn;
typedef enum { BC_WIN_NONE, BC_WIN_WITHIN, BC_WIN_SINCE_START, BC_WIN_SINCE } bc_window;

/* An aggregate: its value lives in the account state; UPDATE feeds it. */
typedef struct bc_aggregate {
  uint8_t fn;               /* bc_agg_fn */
  uint8_t window;           /* bc_window */
  uint8_t arg_type;         /* value_type of the aggregated field (0 for count) */
  uint8_t result_type;      /* value_type of the value AGG loads */
  uint32_t event;           /* event type id */
  int64_t within_us;        /* BC_WIN_WITHIN: window length */
  uint32_t since_block;     /* BC_WIN_SINCE: value block giving the time */
  uint32_t milestone;       /* BC_WIN_SINCE_START: the milestone; else BC_NONE */
  uint32_t owner;           /* a milestone that uses it (runtime errors), or BC_NONE */
} bc_aggregate;

typedef struct bc_sequence {
  uint32_t nsteps;
  int64_t within_us;        /* 0: no window */
  uint32_t owner;           /* a milestone that uses it, or BC_NONE */
} bc_sequence;

typedef enum { BC_START_NONE, BC_START_AT, BC_START_AFTER, BC_START_ON_EVENT, BC_START_ON_ASSIGNMENT } bc_start_kind;
typedef enum { BC_DEADLINE_NONE, BC_DEADLINE_AFTER, BC_DEADLINE_AT } bc_deadline_kind;

typedef struct bc_action {
  uint32_t name;            /* string pool offsets */
  uint32_t label;
  uint8_t owner;            /* 0 none, 1 csm, 2 customer */
  uint32_t done_block;
} bc_action;

/* When a milestone's signal fires (SPEC 6 "Signals"). */
typedef enum { BC_EMIT_ACHIEVED, BC_EMIT_OVERDUE, BC_EMIT_LOST, BC_EMIT__COUNT } bc_emit_on;

typedef struct bc_emit {
  uint8_t on;               /* bc_emit_on */
  uint32_t signal;          /* signal name string */
} bc_emit;

typedef struct bc_milestone {
  uint32_t name, display, description, csm, customer, group;  /* strings; BC_NONE if absent */
  uint32_t decl_order;      /* position among milestones and playbooks (signal tie-break) */
  uint8_t continuous;
  uint8_t start_kind;       /* bc_start_kind */
  uint32_t start_block;     /* BC_START_AT: value block (time) */
  uint32_t start_after;     /* BC_START_AFTER: milestone index */
  uint8_t deadline_kind;    /* bc_deadline_kind */
  int64_t deadline_us;      /* BC_DEADLINE_AFTER */
  uint32_t deadline_block;  /* BC_DEADLINE_AT: value block (time) */
  int64_t estimate_us;      /* -1 when absent */
  uint32_t nsegments;
  uint32_t *segments;       /* segment indices; none: applies to every account */
  uint32_t entry_block, exit_block, blocked_block;   /* BC_NO_BLOCK when absent */
  uint32_t nactions;
  bc_action *actions;
  uint32_t nemits;
  bc_emit *emits;           /* clause order: a signal's clause index orders ties */
} bc_milestone;

typedef struct bc_step {
  uint32_t name, label;
  uint32_t tracks;          /* milestone index */
  uint8_t is_auto;
  uint32_t when_block;      /* BC_NO_BLOCK when absent */
} bc_step;

typedef struct bc_playbook {
  uint32_t name, display;
  uint32_t decl_order;
  uint8_t start_kind;
  uint32_t start_block, start_after;
  uint32_t nsegments;
  uint32_t *segments;
  uint32_t nsteps;
  bc_step *steps;
  uint32_t nemits;
  uint32_t *emits;
} bc_playbook;

typedef struct bc_extern {
  uint32_t name, lib, base_dir;  /* strings: fn name = symbol, LIB as written, dir of the .ms */
  uint32_t nparams;
  uint8_t *params;               /* value_type each */
  uint8_t ret;
  uint8_t called;                /* the program calls it: bind at load */
} bc_extern;

typedef struct bc_field {
  uint32_t name;
  uint8_t type;
  uint8_t has_default;
  uint32_t default_const;        /* constant index when has_default */
} bc_field;

typedef struct bc_event {
  uint32_t name;
  uint32_t nfields;
  bc_field *fields;
} bc_event;

typedef struct bc_program {
  /* string pool: NUL-terminated strings back to back; offsets index it */
  char *strings;
  uint32_t strings_len;
  uint32_t nconsts;
  bc_const *consts;
  uint32_t ncode;
  bc_insn *code;
  uint32_t nblocks;
  bc_block *blocks;

  uint32_t naccount_fields;
  bc_field *account_fields;
  uint32_t nevents;
  bc_event *events;
  uint32_t nsegments;
  uint32_t *segment_blocks;      /* value block (bool) per segment */
  uint32_t *segment_names;       /* string per segment */
  uint32_t naggregates;
  bc_aggregate *aggregates;
  uint32_t nsequences;
  bc_sequence *sequences;
  uint32_t nmilestones;
  bc_milestone *milestones;
  uint32_t nplaybooks;
  bc_playbook *playbooks;
  uint32_t nexterns;
  bc_extern *externs;
  /* update_blocks[scope * nevents + event]: BC_NO_BLOCK when nothing to do;
   * scope 0 = account-wide, scope m+1 = since-start aggregates of milestone m */
  uint32_t *update_blocks;
  /* milestones in evaluation order (dependencies first) */
  uint32_t *eval_order;
} bc_program;

void bc_program_free(bc_program *p);
const char *bc_str(const bc_program *p, uint32_t off);   /* "" for BC_NONE */

/* The columns of opcodes.h: names, operand kinds (vm_operand_kind of a, b,
 * c, d), register types (vm_operand_type of the result, then of R[a], R[b],
 * R[c] read) and flags (vm_opcode_flag). */
extern const char *const bc_op_names[BC__COUNT];
extern const unsigned char bc_op_operands[BC__COUNT][4];
extern const unsigned char bc_op_types[BC__COUNT][4];
extern const unsigned char bc_op_flags[BC__COUNT];

#endif
