/* compile_internal.h — what the compiler's files share, private to
 * src/bc/compile*.c: the compiler's state and the functions each file
 * offers the other.  Users of the compiler see compile.h.
 *
 *  compile.c       the program's layout: the string and constant pools,
 *                  externs, events, segments, milestones, playbooks and the
 *                  evaluation order (compile_program);
 *  compile_expr.c  register code: expressions, the value blocks they end in,
 *                  and the update snippets of aggregates, sequences and
 *                  `start on`;
 *  compile_parts.c the value blocks of the criteria's parts (`msl explain`). */
#ifndef MSL_COMPILE_INTERNAL_H
#define MSL_COMPILE_INTERNAL_H

#include <stdio.h>
#include <stdlib.h>

#include "bc/compile.h"
#include "core/htable.h"
#include "core/util.h"

#define VEC_PUSH(v, x) UTIL_VEC_PUSH(v, x, 8)

typedef UTIL_VEC(bc_insn) insn_vec;
typedef UTIL_VEC(uint32_t) u32_vec;

/* The block being written: its code, register high-water mark and context. */
typedef struct compiler_block {
  insn_vec code;
  int nregs;
  const ast_decl *event;     /* update blocks: the event whose fields FIELD reads */
  uint32_t milestone;        /* the enclosing milestone (START), or BC_NONE */
  bool update;
} compiler_block;

typedef struct compiler {
  const msl_program *p;
  diag_list *diags;
  bool failed;
  UTIL_VEC(char) strings;
  UTIL_VEC(bc_const) consts;
  insn_vec code;
  UTIL_VEC(bc_block) blocks;
  UTIL_VEC(bc_aggregate) aggs;
  UTIL_VEC(const ast_expr *) agg_exprs;     /* the expression behind each aggregate */
  UTIL_VEC(bc_sequence) seqs;
  UTIL_VEC(const ast_expr *) seq_exprs;     /* the expression behind each sequence */
  bool parts;                                /* compiling the parts: sequences are the criteria's */
  UTIL_VEC(bc_extern) externs;
  compiler_block *updates;                   /* nupdates = (nmilestones + 1) * nevents */
  size_t nupdates;
  compiler_block *cur;
  uint32_t nevents, nmilestones;
  u32_vec *needed_by;                  /* per milestone b: the milestones that need b first */
  uint32_t *unit_order;                /* per milestone, then per playbook: place among units */
  int segment_depth;
  arena pool_arena;                    /* the pools' hash tables */
  htable string_offsets;               /* string -> uint32_t* offset in strings */
  htable const_indexes;                /* bc_const bytes -> uint32_t* index in consts */
} compiler;

/* The place of a declaration in its per-kind vector of the program: its
 * index (sema.c), or BC_NONE when it is not there. */
static inline uint32_t compile_index_of(const ptr_vec *v, const ast_decl *d) {
  if (d && d->index >= 0 && d->index < v->len && v->items[d->index] == d) return (uint32_t)d->index;
  return BC_NONE;
}

/* ---- compile.c: diagnostics and pools ----------------------------------------- */

/* Marks the compilation failed; only its first error is reported (DIAG_E91). */
void compile_error(compiler *c, msl_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The offset of s[0..n) in the string pool, added when new. */
uint32_t compile_string_n(compiler *c, const char *s, size_t n);

/* The index of a constant in the constant pool, added when new. */
uint32_t compile_const(compiler *c, value_type type, ast_value v);

/* A constant converted to `want` (int widens to float). */
ast_value compile_convert(ast_value v, value_type want);

/* ---- compile_expr.c: dependencies and blocks --------------------------------- */

/* Records that the milestone being compiled needs target evaluated first
 * (inside a milestone only, and not for itself). */
void compile_add_dep(compiler *c, const ast_decl *target);

/* A value block computing e (converted to want), in milestone context m;
 * BC_NO_BLOCK when e is NULL. */
uint32_t compile_value_block(compiler *c, const ast_expr *e, value_type want, uint32_t m);

/* `start on E where P`: an op (STARTON, STARTONP) snippet for target in
 * E's account-wide update block. */
void compile_start_on(compiler *c, const ast_start *st, int op, uint32_t target);

/* Ends the update blocks and adds them to the program as
 * out->update_blocks; empty ones are left out. */
void compile_update_blocks(compiler *c, bc_program *out);

/* ---- compile_parts.c ---------------------------------------------------------- */

/* The blocks of every milestone criterion's parts, into parts (sorted). */
void compile_criteria_parts(compiler *c, compile_parts *parts);

#endif
