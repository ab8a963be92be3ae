/* compile.h — from a checked program (sema.h) to bytecode (bc.h). */
#ifndef MSL_COMPILE_H
#define MSL_COMPILE_H

#include "bc/bc.h"
#include "front/diag.h"
#include "front/sema.h"

/* Compiles a program that sema_check accepted.  Limits the bytecode cannot
 * express (more than 256 registers in a block, 65535 constants ...) are
 * reported as diagnostics; returns NULL then.  The result owns its memory. */
bc_program *compile_program(const msl_program *p, diag_list *diags);

/* compile_program, then the verifier: the one way from a checked program
 * to bytecode the VM may run, for the CLI, the tests and the fuzzers.  A
 * result the verifier refuses is a compiler bug, reported as E099 (an
 * error no rule file can fix); NULL then, as for any error. */
bc_program *compile_and_verify(const msl_program *p, diag_list *diags);

/* ---- the parts of criteria, for `msl explain` (compile_parts.c) ----------------

   A value block for every part of every milestone criterion (entry, exit,
   each action's `done when`, `blocked when`): each sub-expression that is not
   a constant, down to aggregates, sequences, `completed`/`achieving`, account
   fields and segments, through `and`/`or`/`not`, comparisons, `in`,
   arithmetic, extern calls (their arguments) and inlined fn calls (their
   bodies) -- never into a `where` filter or a window, which are evaluated per
   event, not at an instant.  The blocks join the program, so the verifier
   checks them and the VM can run them, but nothing in the program refers to
   them: a run never runs them, and they read the very aggregates and
   sequences of the criteria, so they add no state.  The table is not part of
   the .msc format. */
typedef struct compile_part {
  const ast_expr *expr;
  uint32_t block;
} compile_part;

typedef struct compile_parts {
  compile_part *items;     /* sorted by the expression's address */
  size_t len;
} compile_parts;

/* compile_and_verify with the parts' blocks, in *parts.  Should the parts
 * not compile (a limit of the bytecode that the criteria alone stay under),
 * the program is compiled without them and *parts is left empty: explaining
 * never fails where running succeeds. */
bc_program *compile_explained(const msl_program *p, diag_list *diags, compile_parts *parts);
/* The block of part e; BC_NO_BLOCK for a constant or an expression that is
 * not a part. */
uint32_t compile_part_block(const compile_parts *parts, const ast_expr *e);
void compile_parts_free(compile_parts *parts);

#endif
