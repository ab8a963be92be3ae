/* types_internal.h — what the type checker's two files share, private to
 * types.c (lets, segments and fns on first use, the clauses, the program)
 * and types_expr.c (expressions: types, constant folding, regions, calls
 * and fn inlining): the checker's state, and the functions each file offers
 * the other.  The other phases see ty_ctx only as a name (sema_phases.h). */
#ifndef MSL_TYPES_INTERNAL_H
#define MSL_TYPES_INTERNAL_H

#include "front/sema_phases.h"

/* What an expression may use where it stands; see types.c. */
typedef enum { RG_CRITERIA, RG_ACCOUNT, RG_WHERE, RG_CONST } ty_region;

struct ty_ctx {
  msl_program *p;
  arena *arena;
  diag_list *d;            /* where diagnostics go: a capture while inlining */
  diag_list *program_d;    /* the program's list */
  ty_region region;
  const char *region_what; /* RG_ACCOUNT: "a segment", "`start at`", ... */
  ast_decl *milestone;     /* checking this milestone's clauses */
  ast_decl *fn;            /* checking this fn's body on its own */
  unsigned char *let_state, *segment_state, *fn_state;
  ptr_vec busy;            /* lets, segments and fns being checked (cycle chains) */
  long cloned;             /* expression nodes made by inlining so far */
  bool too_large;          /* ... more than TY_MAX_CLONED_NODES: reported */
  int depth;               /* ty_check_expr() calls under way */
  bool too_deep;           /* ... more than TY_MAX_DEPTH: reported */
};

/* What a nested check changes, saved and restored around it. */
typedef struct ty_scope {
  ty_region region;
  const char *region_what;
  ast_decl *milestone, *fn;
  diag_list *d;
} ty_scope;

static inline ty_scope ty_scope_save(const ty_ctx *c) {
  return (ty_scope){c->region, c->region_what, c->milestone, c->fn, c->d};
}

static inline void ty_scope_restore(ty_ctx *c, ty_scope s) {
  c->region = s.region;
  c->region_what = s.region_what;
  c->milestone = s.milestone;
  c->fn = s.fn;
  c->d = s.d;
}

/* ---- types_expr.c ---------------------------------------------------------- */

/* Sets e->type (and is_const, const_value) and returns the type. */
value_type ty_check_expr(ty_ctx *c, ast_expr *e);

/* An event reference's `where` condition, in its own region. */
void ty_check_where(ty_ctx *c, ast_event_ref *r);

/* A constant int used where a float is expected becomes that float. */
void ty_widen_const(ast_expr *e);

/* ---- types.c --------------------------------------------------------------- */

/* Checks d (a let, segment or fn) when it is first used; true when it is
 * sound to use. */
bool ty_ensure_checked(ty_ctx *c, ast_decl *d, msl_loc use);

#endif
