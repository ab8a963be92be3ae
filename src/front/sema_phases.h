/* sema_phases.h — the checker's phases, run in this order by sema_check
 * (sema.c).  Private to sema.c, resolve.c, types.c, sema_externs.c and lint.c. */
#ifndef MSL_SEMA_PHASES_H
#define MSL_SEMA_PHASES_H

#include "front/sema.h"

/* Every declaration of the program in declaration order: an import's
 * declarations where its import stands, each module once (sema.c). */
void sema_all_decls(const msl_program *p, ptr_vec *out);

/* Namespaces, duplicate names, and what every name refers to (resolve.c). */
void res_program(msl_program *p, diag_list *d);

/* Types, fn inlining, constant folding, clause rules, test blocks and
 * milestone dependency cycles (types.c).  Runs after res_program. */
void ty_program(msl_program *p, diag_list *d);

/* extern fn declarations against what the VM supports and against the
 * tables of the stdlib's native libraries, read from their manifests
 * (sema_externs.c).  stdlib_dir: NULL when there is none. */
void sema_externs(msl_program *p, const char *stdlib_dir, diag_list *d);

/* The W-lints over the main module (lint.c).  Runs on an error-free
 * program only. */
void sema_lint(msl_program *p, diag_list *d);

/* Whether the constants a OP b compare true (OP one of == != < <= > >=;
 * numbers widen; NaN compares false except with !=) (types.c). */
bool ty_comparison_holds(ast_op op, const ast_value *a, const ast_value *b);

/* "file:line:col" of a location, for messages that point elsewhere. */
const char *sema_loc_text(arena *a, msl_loc loc);

#endif
