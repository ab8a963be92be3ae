/* sema_phases.h — the checker's phases, run in this order by sema_check
 * (sema.c).  Private to sema.c, resolve.c, types.c, types_expr.c, depgraph.c,
 * tests_check.c, sema_externs.c, sema_hint.c and lint.c. */
#ifndef MSL_SEMA_PHASES_H
#define MSL_SEMA_PHASES_H

#include "core/suggest.h"
#include "front/sema.h"

/* Every declaration of the program in declaration order: an import's
 * declarations where its import stands, each module once (sema.c). */
void sema_all_decls(const msl_program *p, ptr_vec *out);

/* Namespaces, duplicate names, and what every name refers to (resolve.c). */
void resolve_program(msl_program *p, diag_list *d);

/* Types, fn inlining, constant folding and clause rules (types.c,
 * types_expr.c), then milestone dependency cycles (depgraph.c) and test
 * blocks (tests_check.c).  Runs after resolve_program. */
void ty_program(msl_program *p, diag_list *d);

/* The type checker's state, for the checks it hands test blocks to. */
typedef struct ty_ctx ty_ctx;

/* Whether e is a constant of type want (an int widens to float), in
 * defaults and tests; reports code, or E46 when it is not constant
 * (types.c). */
bool ty_check_constant_of(ty_ctx *c, ast_expr *e, value_type want, int code, const char *what);

typedef bool (*expr_pred)(const ast_expr *e, void *data);
/* True when pred holds for e or a node below it; calls of fns are seen
 * through their inlined body when they have one (types_expr.c). */
bool ty_any_node(const ast_expr *e, expr_pred pred, void *data);

/* Calls visit on every let, segment and fn after the ones it uses, and
 * never on one in (or leading into) a cycle (depgraph.c). */
void depgraph_order(msl_program *p, arena *a, void (*visit)(void *ctx, ast_decl *d), void *ctx);

/* E51 for milestones that depend on each other in a cycle (depgraph.c). */
void depgraph_milestone_cycles(msl_program *p, arena *a, diag_list *d);

/* "b -> c -> b": the names on path from the first d, then d's name (depgraph.c). */
const char *depgraph_cycle_chain(arena *a, const ptr_vec *path, const ast_decl *d);

/* The `test` blocks of the program, after everything else is checked
 * (tests_check.c). */
void tests_check(msl_program *p, ty_ctx *ty, diag_list *d);

/* extern fn declarations against what the VM supports and against the
 * tables of the stdlib's native libraries, read from their manifests
 * (sema_externs.c).  stdlib_dir: NULL when there is none. */
void sema_externs(msl_program *p, const char *stdlib_dir, diag_list *d);

/* The W-lints over the main module (lint.c).  Runs on an error-free
 * program only. */
void sema_lint(msl_program *p, diag_list *d);

/* Whether the constants a OP b compare true (OP one of == != < <= > >=;
 * numbers widen; NaN compares false except with !=) (types_expr.c). */
bool ty_comparison_holds(ast_op op, const ast_value *a, const ast_value *b);

/* "Did you mean": the closest of the candidates offered to a word that
 * named nothing (sema_hint.c).  Each phase gives its hints one budget of
 * comparisons, SEMA_HINT_BUDGET: 50,000 unknown names among 50,000
 * declarations would otherwise compare 2.5 billion pairs; once it is spent,
 * messages go without suggestions. */
enum { SEMA_HINT_BUDGET = 2000000 };

typedef struct sema_hint {
  suggest s;
  long *budget;            /* comparisons the phase has left */
} sema_hint;

/* Candidates within suggest_default_distance(word) of word. */
sema_hint sema_hint_start(const char *word, long *budget);
void sema_hint_offer(sema_hint *h, const char *candidate);
/* Offers the names of decls (ast_decl*), resp. fields (ast_field*). */
void sema_hint_decls(sema_hint *h, const ptr_vec *decls);
void sema_hint_fields(sema_hint *h, const ptr_vec *fields);
/* "; did you mean `NAME`?" to append to a message, or "" when nothing is close. */
const char *sema_hint_text(arena *a, const sema_hint *h);

/* "file:line:col" of a location, for messages that point elsewhere. */
const char *sema_loc_text(arena *a, msl_loc loc);

#endif
