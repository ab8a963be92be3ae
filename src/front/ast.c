/* ast.c — construction helpers and names for the syntax tree; see ast.h. */
#include "front/ast.h"

ast_expr *ast_new_expr(arena *a, ast_expr_kind kind, msl_loc loc) {
  ast_expr *e = arena_alloc(a, sizeof *e);
  e->kind = kind;
  e->loc = loc;
  e->index = -1;
  return e;
}

ast_decl *ast_new_decl(arena *a, ast_decl_kind kind, msl_loc loc) {
  ast_decl *d = arena_alloc(a, sizeof *d);
  d->kind = kind;
  d->loc = loc;
  d->index = -1;
  return d;
}

const char *ast_decl_kind_name(ast_decl_kind k) {
  switch (k) {
    case DECL_IMPORT: return "import";
    case DECL_ACCOUNT: return "account";
    case DECL_EVENT: return "event";
    case DECL_SEGMENT: return "segment";
    case DECL_LET: return "let";
    case DECL_FN: return "fn";
    case DECL_EXTERN: return "extern fn";
    case DECL_MILESTONE: return "milestone";
    case DECL_PLAYBOOK: return "playbook";
    case DECL_TEST: return "test";
  }
  return "declaration";
}

const char *ast_op_text(ast_op op) {
  switch (op) {
    case OP_NEG: return "-";
    case OP_NOT: return "not";
    case OP_OR: return "or";
    case OP_AND: return "and";
    case OP_EQ: return "==";
    case OP_NE: return "!=";
    case OP_LT: return "<";
    case OP_LE: return "<=";
    case OP_GT: return ">";
    case OP_GE: return ">=";
    case OP_ADD: return "+";
    case OP_SUB: return "-";
    case OP_MUL: return "*";
    case OP_DIV: return "/";
    case OP_MOD: return "%";
  }
  return "?";
}

const char *ast_agg_name(ast_agg_fn fn) {
  switch (fn) {
    case AGG_COUNT: return "count";
    case AGG_SUM: return "sum";
    case AGG_MIN: return "min";
    case AGG_MAX: return "max";
    case AGG_AVG: return "avg";
    case AGG_DISTINCT: return "distinct";
  }
  return "?";
}
