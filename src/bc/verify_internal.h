/* verify_internal.h — what the verifier's files share, private to them:
 * the state of one verify_program run and the failure messages.
 *   verify.c        the tables, the evaluation order, and verify_program
 *   verify_insn.c   each block's instructions: operands, where ops may
 *                   appear, and the register types along every path
 *   verify_roles.c  what each block is for, for messages and listings
 * Users of the verifier see verify.h. */
#ifndef MSL_VERIFY_INTERNAL_H
#define MSL_VERIFY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bc/verify.h"
#include "core/util.h"

/* How the tables use a block, recorded by verify.c for the instruction
 * checks (which ops it may hold, which event's fields it reads). */
typedef struct verify_block_use {
  bool value_ref;      /* referenced by a table as an expression */
  bool account_only;   /* evaluated once per account: account fields and constants only */
  bool update_ref;     /* listed in update_blocks */
  uint32_t event;      /* update blocks: the event type that runs it, or BC_NONE */
  uint32_t scope;      /* update blocks: 0 account-wide, m+1 since start of m */
} verify_block_use;

typedef struct verify_state {
  const bc_program *p;
  char *msg;
  size_t msglen;
  verify_block_use *use;   /* one per block */
} verify_state;

/* What the VM can tell apart in a register: int, time and duration are all
 * int64 microseconds, so one class (and one set of ops) serves the three. */
typedef enum {
  CL_UNSET,        /* not written on some path that reaches here */
  CL_BOOL, CL_I64, CL_FLOAT, CL_STRING,
  CL_MIXED,        /* written with different classes on different paths */
} verify_class;

static inline verify_class verify_class_of(unsigned value_type) {
  switch (value_type) {
  case VALUE_BOOL: return CL_BOOL;
  case VALUE_INT: case VALUE_TIME: case VALUE_DURATION: return CL_I64;
  case VALUE_FLOAT: return CL_FLOAT;
  case VALUE_STRING: return CL_STRING;
  default: return CL_UNSET;
  }
}

/* ---- verify.c ------------------------------------------------------------------ */

/* The name of a value type in messages, whatever the number. */
const char *verify_type_name(unsigned t);

/* Sets v's message; returns false, for `return verify_fail(...)`. */
bool verify_fail(verify_state *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- verify_insn.c ------------------------------------------------------------- */

/* verify_fail with where: "block 12 (exit of milestone `kickoff`), instruction 7: ". */
bool verify_insn_fail(verify_state *v, uint32_t bi, uint32_t pc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks block bi's instructions, its end, and the register types along
 * every path through it.  Needs the tables checked and v->use filled. */
bool verify_insn_block(verify_state *v, uint32_t bi);

#endif
