/* compile_parts.c — the value blocks of the criteria's parts, for `msl
 * explain` (prefix compile_; see compile.h): each part of a criterion is
 * compiled as a value block of its own, in its milestone's context, after
 * the criteria themselves, so that its aggregates and sequences are found
 * among theirs and it adds no state. */
#include "bc/compile_internal.h"


typedef UTIL_VEC(compile_part) part_vec;

/* e and its parts, depth first.  A constant is shown from the tree
 * (const_value), and what lies below one is constant too. */
static void add_parts(compiler *c, const ast_expr *e, uint32_t m, part_vec *out) {
  if (!e || e->is_const || c->failed) return;
  compile_part part = {e, compile_value_block(c, e, e->type, m)};
  VEC_PUSH(*out, part);
  switch (e->kind) {
    case EX_UNARY: add_parts(c, e->u.op.lhs, m, out); break;
    case EX_BINARY:
      add_parts(c, e->u.op.lhs, m, out);
      add_parts(c, e->u.op.rhs, m, out);
      break;
    case EX_IN: add_parts(c, e->u.in.lhs, m, out); break;
    case EX_CALL:
      if (e->inlined) {
        add_parts(c, e->inlined, m, out);
        break;
      }
      for (int i = 0; i < e->u.call.args.len; i++) add_parts(c, e->u.call.args.items[i], m, out);
      break;
    default: break;   /* aggregates, sequences, names, fields: leaves */
  }
}

static int part_cmp(const void *x, const void *y) {
  uintptr_t a = (uintptr_t)((const compile_part *)x)->expr, b = (uintptr_t)((const compile_part *)y)->expr;
  return (a > b) - (a < b);
}

void compile_criteria_parts(compiler *c, compile_parts *parts) {
  part_vec out = {0};
  c->parts = true;
  for (uint32_t m = 0; m < c->nmilestones; m++) {
    const ast_milestone *ms = &((const ast_decl *)c->p->milestones.items[m])->u.milestone;
    add_parts(c, ms->entry, m, &out);
    add_parts(c, ms->exit, m, &out);
    add_parts(c, ms->blocked, m, &out);
    for (int k = 0; k < ms->actions.len; k++)
      add_parts(c, ((const ast_action *)ms->actions.items[k])->done_when, m, &out);
  }
  c->parts = false;
  if (out.len) qsort(out.items, out.len, sizeof *out.items, part_cmp);
  *parts = (compile_parts){out.items, out.len};
}

uint32_t compile_part_block(const compile_parts *parts, const ast_expr *e) {
  compile_part key = {e, 0};
  const compile_part *found =
      parts->len ? bsearch(&key, parts->items, parts->len, sizeof key, part_cmp) : NULL;
  return found ? found->block : BC_NO_BLOCK;
}

void compile_parts_free(compile_parts *parts) {
  free(parts->items);
  *parts = (compile_parts){0};
}
