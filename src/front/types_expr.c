/* types_expr.c — the types of expressions (SPEC §5-§6): each operator's
 * rules and constant folding, what each region lets an expression use, calls
 * and fn inlining, aggregates and sequences.  The regions, and how fns are
 * inlined, are described in types.c, which checks the declarations and
 * clauses that hold these expressions. */
#include <math.h>
#include <string.h>

#include "front/codes.h"
#include "front/types_internal.h"

/* ty_check_expr() recurses into the lets, segments and fns an expression
 * uses when they are not checked yet, and into inlined fn bodies.  Checking
 * lets, segments and fns in dependency order first (depgraph_order)
 * keeps that shallow, but a long chain of declarations leading into a
 * cycle, or of fns inlining fns, could still overflow the stack: past this
 * depth the program is refused. */
enum { TY_MAX_DEPTH = 4000 };

/* Inlining copies bodies, and fns calling fns twice each grow the copies
 * exponentially; past this many nodes the program is refused. */
enum { TY_MAX_CLONED_NODES = 200000 };

/* ---- values --------------------------------------------------------------- */

static bool is_number(value_type t) { return t == VALUE_INT || t == VALUE_FLOAT; }

static ast_value value_int(value_type type, int64_t i) {
  ast_value v = {.type = type};
  v.u.i = i;
  return v;
}

static ast_value value_float(double f) {
  ast_value v = {.type = VALUE_FLOAT};
  v.u.f = f;
  return v;
}

static ast_value value_bool(bool b) {
  ast_value v = {.type = VALUE_BOOL};
  v.u.b = b;
  return v;
}

static double as_double(const ast_value *v) { return v->type == VALUE_FLOAT ? v->u.f : (double)v->u.i; }

static void set_const(ast_expr *e, ast_value v) {
  e->is_const = true;
  e->const_value = v;
}

/* A constant int used where a float is expected becomes that float. */
void ty_widen_const(ast_expr *e) {
  if (e->type != VALUE_INT) return;
  e->type = VALUE_FLOAT;
  if (e->is_const) e->const_value = value_float((double)e->const_value.u.i);
}

static int compare_strings(const ast_value *a, const ast_value *b) {
  size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
  int c = n ? memcmp(a->u.str.s, b->u.str.s, n) : 0;
  if (c) return c < 0 ? -1 : 1;
  return a->u.str.len < b->u.str.len ? -1 : a->u.str.len > b->u.str.len;
}

/* Compares two constants of comparable types (numbers widen).  Returns
 * false for an unordered pair (a NaN). */
static bool compare_values(const ast_value *a, const ast_value *b, int *out) {
  if (a->type == VALUE_FLOAT || b->type == VALUE_FLOAT) {
    double x = as_double(a), y = as_double(b);
    if (isnan(x) || isnan(y)) return false;
    *out = x < y ? -1 : x > y;
    return true;
  }
  switch (a->type) {
    case VALUE_STRING: *out = compare_strings(a, b); return true;
    case VALUE_BOOL: *out = (int)a->u.b - (int)b->u.b; return true;
    default: *out = a->u.i < b->u.i ? -1 : a->u.i > b->u.i; return true;
  }
}

bool ty_comparison_holds(ast_op op, const ast_value *a, const ast_value *b) {
  int cmp;
  if (!compare_values(a, b, &cmp)) return op == OP_NE;
  switch (op) {
    case OP_EQ: return cmp == 0;
    case OP_NE: return cmp != 0;
    case OP_LT: return cmp < 0;
    case OP_LE: return cmp <= 0;
    case OP_GT: return cmp > 0;
    default: return cmp >= 0;
  }
}

/* ---- regions -------------------------------------------------------------- */

/* Aggregates, sequences, completed() and achieving() read events and
 * milestones: only criteria may.  In a const region they just make the
 * value non-constant, which the clause reports. */
static bool events_allowed(ty_ctx *c, msl_loc loc, const char *what) {
  switch (c->region) {
    case RG_CRITERIA: return true;
    case RG_CONST: return false;
    case RG_ACCOUNT:
      diag_error(c->d, loc, DIAG_E42,
                 "%s cannot use %s: only account fields and constants are allowed there",
                 c->region_what, what);
      return false;
    case RG_WHERE:
      diag_error(c->d, loc, DIAG_E42,
                 "a `where` condition cannot use %s: only the event's fields, account fields and "
                 "constants are allowed there",
                 what);
      return false;
  }
  return false;
}

/* `start` as a value, or `since start`. */
static void check_start_use(ty_ctx *c, msl_loc loc, bool since) {
  const char *what = since ? "`since start`" : "`start`";
  switch (c->region) {
    case RG_CONST: return;
    case RG_WHERE:
      diag_error(c->d, loc, DIAG_E44, "a `where` condition cannot use %s", what);
      return;
    case RG_ACCOUNT:
      diag_error(c->d, loc, DIAG_E44, "%s cannot use %s: only account fields and constants are allowed there",
                 c->region_what, what);
      return;
    case RG_CRITERIA: break;
  }
  if (!c->milestone) {
    /* A fn body on its own: the call site decides. */
    if (!c->fn) diag_error(c->d, loc, DIAG_E44, "%s can only be used in a milestone's conditions", what);
    return;
  }
  /* `since start` of an unbounded milestone counts every event (SPEC §6);
   * `start` as a value has no value there. */
  if (!since && c->milestone->u.milestone.start.kind == START_NONE)
    diag_error(c->d, loc, DIAG_E43,
               "`start` needs a start clause, but milestone `%s` has none (it starts unbounded)",
               c->milestone->name.text ? c->milestone->name.text : "?");
}

/* ---- expression walking ----------------------------------------------------- */

/* True when pred holds for e or a node below it; calls of fns are seen
 * through their inlined body when they have one. */
bool ty_any_node(const ast_expr *e, expr_pred pred, void *data) {
  if (!e) return false;
  if (pred(e, data)) return true;
  switch (e->kind) {
    case EX_LITERAL:
    case EX_NAME:
    case EX_ACCOUNT_FIELD:
    case EX_START:
    case EX_COMPLETED:
    case EX_ACHIEVING: return false;
    case EX_UNARY: return ty_any_node(e->u.op.lhs, pred, data);
    case EX_BINARY: return ty_any_node(e->u.op.lhs, pred, data) || ty_any_node(e->u.op.rhs, pred, data);
    case EX_IN:
      if (ty_any_node(e->u.in.lhs, pred, data)) return true;
      for (int i = 0; i < e->u.in.items.len; i++)
        if (ty_any_node(e->u.in.items.items[i], pred, data)) return true;
      return false;
    case EX_CALL:
      if (e->inlined) return ty_any_node(e->inlined, pred, data);
      for (int i = 0; i < e->u.call.args.len; i++)
        if (ty_any_node(e->u.call.args.items[i], pred, data)) return true;
      return false;
    case EX_AGGREGATE:
      return ty_any_node(e->u.agg.ref.where, pred, data) || ty_any_node(e->u.agg.window.expr, pred, data);
    case EX_SEQUENCE:
      for (int i = 0; i < e->u.seq.steps.len; i++) {
        const ast_event_ref *r = e->u.seq.steps.items[i];
        if (ty_any_node(r->where, pred, data)) return true;
      }
      return ty_any_node(e->u.seq.window.expr, pred, data);
  }
  return false;
}

static bool is_param(const ast_expr *e, void *data) {
  (void)data;
  return e->kind == EX_NAME && e->binding == BIND_PARAM;
}

/* ---- operators -------------------------------------------------------------- */

static void const_error(ty_ctx *c, ast_expr *e, bool div_zero) {
  diag_error(c->d, e->loc, DIAG_E40, "%s in a constant expression",
             div_zero ? "division by zero" : "integer overflow");
}

/* Folds lhs OP rhs (both constant) into e; reports overflow and division
 * by zero, and returns false then. */
static bool fold_binary(ty_ctx *c, ast_expr *e, ast_op op, const ast_value *a, const ast_value *b) {
  value_type t = e->type;
  if (op == OP_AND || op == OP_OR) {
    set_const(e, value_bool(op == OP_AND ? a->u.b && b->u.b : a->u.b || b->u.b));
    return true;
  }
  if (op >= OP_EQ && op <= OP_GE) {
    set_const(e, value_bool(ty_comparison_holds(op, a, b)));
    return true;
  }
  if (t == VALUE_FLOAT) {
    double x = as_double(a), y = as_double(b), r;
    switch (op) {
      case OP_ADD: r = x + y; break;
      case OP_SUB: r = x - y; break;
      case OP_MUL: r = x * y; break;
      default: r = x / y; break;  /* IEEE 754: x/0 is an infinity or NaN */
    }
    set_const(e, value_float(r));
    return true;
  }
  /* int, time and duration arithmetic, all on int64 microseconds or units */
  int64_t x = a->u.i, y = b->u.i, r = 0;
  bool overflow = false;
  switch (op) {
    case OP_ADD: overflow = __builtin_add_overflow(x, y, &r); break;
    case OP_SUB: overflow = __builtin_sub_overflow(x, y, &r); break;
    case OP_MUL: overflow = __builtin_mul_overflow(x, y, &r); break;
    case OP_DIV:
    case OP_MOD:
      if (y == 0) {
        const_error(c, e, true);
        return false;
      }
      if (y == -1) {
        /* INT64_MIN / -1 does not fit; INT64_MIN % -1 is 0 (C leaves both undefined) */
        if (op == OP_DIV) overflow = __builtin_sub_overflow((int64_t)0, x, &r);
        else r = 0;
      } else {
        r = op == OP_DIV ? x / y : x % y;
      }
      break;
    default: break;
  }
  if (overflow) {
    const_error(c, e, false);
    return false;
  }
  set_const(e, value_int(t, r));
  return true;
}

/* The result type of lhs OP rhs, or VALUE_NONE (reported) when none. */
static value_type binary_type(ty_ctx *c, ast_expr *e, ast_op op, value_type l, value_type r) {
  switch (op) {
    case OP_AND:
    case OP_OR:
      if (l == VALUE_BOOL && r == VALUE_BOOL) return VALUE_BOOL;
      diag_error(c->d, e->loc, DIAG_E34, "`%s` needs `bool` operands, found `%s` and `%s`",
                 ast_op_text(op), value_type_name(l), value_type_name(r));
      return VALUE_NONE;
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
      if (!(l == r || (is_number(l) && is_number(r)))) {
        diag_error(c->d, e->loc, DIAG_E34, "cannot compare `%s` with `%s`", value_type_name(l), value_type_name(r));
        return VALUE_NONE;
      }
      if (l == VALUE_BOOL && op != OP_EQ && op != OP_NE) {
        diag_error(c->d, e->loc, DIAG_E34, "`%s` cannot compare `bool` values (only `==` and `!=` can)",
                   ast_op_text(op));
        return VALUE_NONE;
      }
      return VALUE_BOOL;
    case OP_ADD:
      if (l == VALUE_INT && r == VALUE_INT) return VALUE_INT;
      if (is_number(l) && is_number(r)) return VALUE_FLOAT;
      if ((l == VALUE_TIME && r == VALUE_DURATION) || (l == VALUE_DURATION && r == VALUE_TIME)) return VALUE_TIME;
      if (l == VALUE_DURATION && r == VALUE_DURATION) return VALUE_DURATION;
      diag_error(c->d, e->loc, DIAG_E34, "cannot add `%s` and `%s`", value_type_name(l), value_type_name(r));
      return VALUE_NONE;
    case OP_SUB:
      if (l == VALUE_INT && r == VALUE_INT) return VALUE_INT;
      if (is_number(l) && is_number(r)) return VALUE_FLOAT;
      if (l == VALUE_TIME && r == VALUE_TIME) return VALUE_DURATION;
      if (l == VALUE_TIME && r == VALUE_DURATION) return VALUE_TIME;
      if (l == VALUE_DURATION && r == VALUE_DURATION) return VALUE_DURATION;
      diag_error(c->d, e->loc, DIAG_E34, "cannot subtract `%s` from `%s`", value_type_name(r), value_type_name(l));
      return VALUE_NONE;
    case OP_MUL:
      if (l == VALUE_INT && r == VALUE_INT) return VALUE_INT;
      if (is_number(l) && is_number(r)) return VALUE_FLOAT;
      if ((l == VALUE_DURATION && r == VALUE_INT) || (l == VALUE_INT && r == VALUE_DURATION)) return VALUE_DURATION;
      diag_error(c->d, e->loc, DIAG_E34, "cannot multiply `%s` by `%s`", value_type_name(l), value_type_name(r));
      return VALUE_NONE;
    case OP_DIV:
      if (l == VALUE_INT && r == VALUE_INT) return VALUE_INT;
      if (is_number(l) && is_number(r)) return VALUE_FLOAT;
      if (l == VALUE_DURATION && r == VALUE_INT) return VALUE_DURATION;
      diag_error(c->d, e->loc, DIAG_E34, "cannot divide `%s` by `%s`", value_type_name(l), value_type_name(r));
      return VALUE_NONE;
    case OP_MOD:
      if (l == VALUE_INT && r == VALUE_INT) return VALUE_INT;
      diag_error(c->d, e->loc, DIAG_E34, "`%%` needs `int` operands, found `%s` and `%s`", value_type_name(l),
                 value_type_name(r));
      return VALUE_NONE;
    case OP_NEG:
    case OP_NOT: break;  /* unary: see check_unary */
  }
  return VALUE_NONE;
}

static value_type check_binary(ty_ctx *c, ast_expr *e) {
  value_type l = ty_check_expr(c, e->u.op.lhs), r = ty_check_expr(c, e->u.op.rhs);
  if (l == VALUE_NONE || r == VALUE_NONE) return VALUE_NONE;
  e->type = binary_type(c, e, e->u.op.op, l, r);
  if (e->type != VALUE_NONE && e->u.op.lhs->is_const && e->u.op.rhs->is_const &&
      !fold_binary(c, e, e->u.op.op, &e->u.op.lhs->const_value, &e->u.op.rhs->const_value))
    return VALUE_NONE;  /* reported; the uses of e need not say more */
  return e->type;
}

static value_type check_unary(ty_ctx *c, ast_expr *e) {
  ast_expr *x = e->u.op.lhs;
  value_type t = ty_check_expr(c, x);
  if (t == VALUE_NONE) return VALUE_NONE;
  if (e->u.op.op == OP_NOT) {
    if (t != VALUE_BOOL) {
      diag_error(c->d, e->loc, DIAG_E34, "`not` needs a `bool` operand, found `%s`", value_type_name(t));
      return VALUE_NONE;
    }
    e->type = VALUE_BOOL;
    if (x->is_const) set_const(e, value_bool(!x->const_value.u.b));
    return VALUE_BOOL;
  }
  if (!is_number(t) && t != VALUE_DURATION) {
    diag_error(c->d, e->loc, DIAG_E34, "unary `-` needs a number or a duration, found `%s`", value_type_name(t));
    return VALUE_NONE;
  }
  e->type = t;
  if (!x->is_const) return t;
  if (t == VALUE_FLOAT) {
    set_const(e, value_float(-x->const_value.u.f));
  } else {
    int64_t r;
    if (__builtin_sub_overflow((int64_t)0, x->const_value.u.i, &r)) {
      const_error(c, e, false);
      return VALUE_NONE;
    }
    set_const(e, value_int(t, r));
  }
  return t;
}

static value_type check_in(ty_ctx *c, ast_expr *e) {
  value_type t = ty_check_expr(c, e->u.in.lhs);
  bool all_const = e->u.in.lhs->is_const, bad = t == VALUE_NONE;
  for (int i = 0; i < e->u.in.items.len; i++) {
    ast_expr *item = e->u.in.items.items[i];
    value_type it = ty_check_expr(c, item);
    if (it == VALUE_NONE) {
      bad = true;
      continue;
    }
    if (!item->is_const) {
      diag_error(c->d, item->loc, DIAG_E36, "the elements of an `in` list must be constants");
      bad = true;
    } else if (t != VALUE_NONE && !(it == t || (is_number(it) && is_number(t)))) {
      diag_error(c->d, item->loc, DIAG_E36, "`in` list element is `%s`, but the value tested is `%s`",
                 value_type_name(it), value_type_name(t));
      bad = true;
    }
  }
  if (bad) return VALUE_NONE;
  e->type = VALUE_BOOL;
  if (all_const) {
    bool found = false;
    for (int i = 0; i < e->u.in.items.len && !found; i++) {
      ast_expr *item = e->u.in.items.items[i];
      found = ty_comparison_holds(OP_EQ, &e->u.in.lhs->const_value, &item->const_value);
    }
    set_const(e, value_bool(found));
  }
  return VALUE_BOOL;
}

/* ---- calls and inlining ------------------------------------------------------ */

static ast_expr *clone_expr(ty_ctx *c, const ast_expr *e, const ast_decl *fn, const ptr_vec *args);

static ast_event_ref clone_ref(ty_ctx *c, const ast_event_ref *r, const ast_decl *fn,
                               const ptr_vec *args) {
  ast_event_ref copy = *r;
  copy.where = clone_expr(c, r->where, fn, args);
  return copy;
}

static ast_window clone_window(ty_ctx *c, const ast_window *w, const ast_decl *fn,
                               const ptr_vec *args) {
  ast_window copy = *w;
  copy.expr = clone_expr(c, w->expr, fn, args);
  copy.duration_us = 0;
  copy.since_start = false;
  return copy;
}

static ptr_vec clone_vec(ty_ctx *c, const ptr_vec *v, const ast_decl *fn, const ptr_vec *args) {
  ptr_vec out = {0};
  for (int i = 0; i < v->len; i++) ptr_vec_push(c->arena, &out, clone_expr(c, v->items[i], fn, args));
  return out;
}

/* A copy of the argument that replaces a parameter; an int argument of a
 * float parameter is multiplied by 1.0, which converts it exactly, so the
 * body computes in float as it was checked. */
static ast_expr *argument_copy(ty_ctx *c, const ast_param *param, const ast_expr *arg) {
  ast_expr *copy = clone_expr(c, arg, NULL, NULL);
  if (!(param->type == VALUE_FLOAT && arg->type == VALUE_INT)) return copy;
  ast_expr *one = ast_new_expr(c->arena, EX_LITERAL, arg->loc);
  one->u.lit.value = value_float(1.0);
  one->u.lit.raw = "1.0";
  ast_expr *convert = ast_new_expr(c->arena, EX_BINARY, arg->loc);
  convert->u.op.op = OP_MUL;
  convert->u.op.lhs = copy;
  convert->u.op.rhs = one;
  convert->parens = true;
  return convert;
}

/* A deep copy of e with what the checker computed cleared (names keep what
 * they resolved to), and fn's parameters replaced by args. */
static ast_expr *clone_expr(ty_ctx *c, const ast_expr *e, const ast_decl *fn, const ptr_vec *args) {
  if (!e) return NULL;
  if (fn && e->kind == EX_NAME && e->binding == BIND_PARAM && e->decl == fn)
    return argument_copy(c, fn->u.fn.params.items[e->index], args->items[e->index]);
  ast_expr *n = arena_alloc(c->arena, sizeof *n);
  c->cloned++;
  *n = *e;
  n->type = VALUE_NONE;
  n->is_const = false;
  memset(&n->const_value, 0, sizeof n->const_value);
  n->inlined = NULL;
  switch (e->kind) {
    case EX_UNARY:
    case EX_BINARY:
      n->u.op.lhs = clone_expr(c, e->u.op.lhs, fn, args);
      n->u.op.rhs = clone_expr(c, e->u.op.rhs, fn, args);
      break;
    case EX_IN:
      n->u.in.lhs = clone_expr(c, e->u.in.lhs, fn, args);
      n->u.in.items = clone_vec(c, &e->u.in.items, fn, args);
      break;
    case EX_CALL: n->u.call.args = clone_vec(c, &e->u.call.args, fn, args); break;
    case EX_AGGREGATE:
      n->u.agg.ref = clone_ref(c, &e->u.agg.ref, fn, args);
      n->u.agg.window = clone_window(c, &e->u.agg.window, fn, args);
      break;
    case EX_SEQUENCE: {
      ptr_vec steps = {0};
      for (int i = 0; i < e->u.seq.steps.len; i++) {
        ast_event_ref *r = arena_alloc(c->arena, sizeof *r);
        *r = clone_ref(c, e->u.seq.steps.items[i], fn, args);
        ptr_vec_push(c->arena, &steps, r);
      }
      n->u.seq.steps = steps;
      n->u.seq.window = clone_window(c, &e->u.seq.window, fn, args);
      break;
    }
    default: break;
  }
  return n;
}

/* Reports what checking an inlined body found, at the call. */
static void report_inlined(ty_ctx *c, ast_expr *call, const diag_list *found) {
  for (const diag *g = found->first; g; g = g->next) {
    bool repeated = false;
    for (const diag *h = found->first; h != g && !repeated; h = h->next)
      repeated = h->code == g->code && strcmp(h->message, g->message) == 0;
    if (!repeated)
      diag_error(c->d, call->loc, g->code, "%s (in fn `%s`, inlined here)", g->message,
                 call->decl->name.text);
  }
}

static value_type check_call(ty_ctx *c, ast_expr *e) {
  int errors = c->d->errors;
  ptr_vec *args = &e->u.call.args;
  for (int i = 0; i < args->len; i++) ty_check_expr(c, args->items[i]);
  ast_decl *callee = e->decl;
  if (!callee) return VALUE_NONE;
  const char *name = callee->name.text;
  bool is_fn = callee->kind == DECL_FN;
  ptr_vec *params = is_fn ? &callee->u.fn.params : &callee->u.ext.params;
  if (args->len != params->len) {
    diag_error(c->d, e->loc, DIAG_E49, "`%s` takes %d argument%s, %d given", name, params->len,
               params->len == 1 ? "" : "s", args->len);
  } else {
    for (int i = 0; i < args->len; i++) {
      ast_expr *arg = args->items[i];
      const ast_param *prm = params->items[i];
      if (arg->type != VALUE_NONE && arg->type != prm->type &&
          !(arg->type == VALUE_INT && prm->type == VALUE_FLOAT))
        diag_error(c->d, arg->loc, DIAG_E50, "argument %d of `%s` (`%s`) must be `%s`, found `%s`",
                   i + 1, name, prm->name.text, value_type_name(prm->type), value_type_name(arg->type));
    }
  }
  if (!is_fn) return callee->u.ext.ret;
  if (!ty_ensure_checked(c, callee, e->loc)) return VALUE_NONE;
  value_type ret = callee->u.fn.body->type;
  if (c->d->errors != errors) return ret;
  if (c->cloned > TY_MAX_CLONED_NODES) {
    if (!c->too_large) {
      c->too_large = true;
      diag_error(c->program_d, e->loc, DIAG_E61,
                 "inlining `%s` makes the program too large (more than %d expression nodes); "
                 "call functions fewer times, or from fewer functions",
                 name, TY_MAX_CLONED_NODES);
    }
    return VALUE_NONE;
  }
  ast_expr *body = clone_expr(c, callee->u.fn.body, callee, args);
  diag_list found;
  diag_init(&found, c->arena);
  diag_list *saved = c->d;
  c->d = &found;
  ty_check_expr(c, body);
  c->d = saved;
  if (found.errors) {
    report_inlined(c, e, &found);
    return ret;
  }
  e->inlined = body;
  if (body->is_const) set_const(e, body->const_value);
  return body->type;
}

/* ---- aggregates and sequences -------------------------------------------------- */

void ty_check_where(ty_ctx *c, ast_event_ref *r) {
  if (!r->where) return;
  ty_scope saved = ty_scope_save(c);
  c->region = RG_WHERE;
  value_type t = ty_check_expr(c, r->where);
  ty_scope_restore(c, saved);
  if (t != VALUE_NONE && t != VALUE_BOOL)
    diag_error(c->d, r->where->loc, DIAG_E35, "a `where` condition must be a `bool`, found `%s`",
               value_type_name(t));
}

/* A sequence's window is `within` only (the grammar says so). */
static void check_window(ty_ctx *c, ast_window *w) {
  if (w->kind == WIN_NONE || !w->expr) return;
  if (w->kind == WIN_SINCE) {
    if (w->expr->kind == EX_START) {
      w->since_start = true;
      w->expr->type = VALUE_TIME;
      check_start_use(c, w->expr->loc, true);
      return;
    }
    ty_scope saved = ty_scope_save(c);
    if (c->region != RG_CONST) {
      c->region = RG_ACCOUNT;
      c->region_what = "`since`";
    }
    value_type t = ty_check_expr(c, w->expr);
    ty_scope_restore(c, saved);
    if (t != VALUE_NONE && t != VALUE_TIME)
      diag_error(c->d, w->expr->loc, DIAG_E37, "`since` needs a `time`, found `%s`", value_type_name(t));
    return;
  }
  ty_scope saved = ty_scope_save(c);
  c->region = RG_CONST;
  value_type t = ty_check_expr(c, w->expr);
  ty_scope_restore(c, saved);
  if (t == VALUE_NONE) return;
  if (t != VALUE_DURATION) {
    diag_error(c->d, w->expr->loc, DIAG_E37, "a window length must be a `duration`, found `%s`",
               value_type_name(t));
    return;
  }
  if (ty_any_node(w->expr, is_param, NULL)) return;  /* known where the fn is inlined */
  if (!w->expr->is_const) {
    diag_error(c->d, w->expr->loc, DIAG_E38, "window length must be a compile-time constant duration");
    return;
  }
  if (w->expr->const_value.u.i <= 0) {
    diag_error(c->d, w->expr->loc, DIAG_E39, "window length must be positive");
    return;
  }
  w->duration_us = w->expr->const_value.u.i;
}

static value_type check_aggregate(ty_ctx *c, ast_expr *e) {
  ast_agg_fn fn = e->u.agg.fn;
  ast_event_ref *r = &e->u.agg.ref;
  const char *name = ast_agg_name(fn);
  bool allowed = events_allowed(c, e->loc, arena_printf(c->arena, "`%s(...)`", name));
  value_type result = VALUE_INT;
  /* the grammar gives count() an event and the others an event field */
  if (fn != AGG_COUNT && fn != AGG_DISTINCT) {
    value_type ft = VALUE_NONE;
    if (r->event_decl && r->field_index >= 0)
      ft = ((ast_field *)r->event_decl->u.event.fields.items[r->field_index])->type;
    if (ft != VALUE_NONE && !is_number(ft)) {
      diag_error(c->d, r->field.loc, DIAG_E41, "`%s` takes a number field; `%s.%s` is `%s`", name,
                 r->event.text, r->field.text, value_type_name(ft));
      ft = VALUE_NONE;
    }
    result = fn == AGG_AVG ? VALUE_FLOAT : ft;
  }
  ty_check_where(c, r);
  /* where an aggregate cannot be, its window has nothing more to say */
  if (allowed) check_window(c, &e->u.agg.window);
  return result;
}

static value_type check_sequence(ty_ctx *c, ast_expr *e) {
  bool allowed = events_allowed(c, e->loc, "`sequence(...)`");
  for (int i = 0; i < e->u.seq.steps.len; i++) ty_check_where(c, e->u.seq.steps.items[i]);
  if (allowed) check_window(c, &e->u.seq.window);
  return VALUE_BOOL;
}

/* ---- expressions -------------------------------------------------------------- */

static value_type account_field_type(ty_ctx *c, const ast_expr *e) {
  if (e->index >= 0 && c->p->account && e->index < c->p->account->u.account.fields.len)
    return ((ast_field *)c->p->account->u.account.fields.items[e->index])->type;
  if (e->u.name.text && strcmp(e->u.name.text, "id") == 0) return VALUE_STRING;
  return VALUE_NONE;  /* unknown field, already reported */
}

static value_type check_name(ty_ctx *c, ast_expr *e) {
  switch (e->binding) {
    case BIND_NONE: return VALUE_NONE;  /* unresolved, already reported */
    case BIND_EVENT_FIELD:
      return ((ast_field *)e->decl->u.event.fields.items[e->index])->type;
    case BIND_PARAM: return ((ast_param *)e->decl->u.fn.params.items[e->index])->type;
    case BIND_LET: {
      if (!ty_ensure_checked(c, e->decl, e->loc)) return VALUE_NONE;
      ast_expr *value = e->decl->u.let.expr;
      if (value->is_const) set_const(e, value->const_value);
      return value->type;
    }
    case BIND_SEGMENT:
      return ty_ensure_checked(c, e->decl, e->loc) ? VALUE_BOOL : VALUE_NONE;
  }
  return VALUE_NONE;
}

static value_type check_milestone_ref(ty_ctx *c, ast_expr *e) {
  bool achieving = e->kind == EX_ACHIEVING;
  events_allowed(c, e->loc, achieving ? "`achieving()`" : "`completed()`");
  if (achieving && e->decl && e->decl->u.milestone.mode == MODE_ONCE)
    diag_error(c->d, e->loc, DIAG_E45,
               "`achieving()` needs a continuous milestone, but `%s` is once-mode (use `completed(%s)`)",
               e->decl->name.text, e->decl->name.text);
  return VALUE_BOOL;
}

/* Sets e->type (and is_const, const_value) and returns the type. */
value_type ty_check_expr(ty_ctx *c, ast_expr *e) {
  if (!e) return VALUE_NONE;
  e->is_const = false;
  if (c->depth >= TY_MAX_DEPTH) {
    if (!c->too_deep) {
      c->too_deep = true;
      diag_error(c->program_d, e->loc, DIAG_E67,
                 "checking this goes more than %d levels deep through the lets, segments and fns "
                 "it uses; shorten the chain of declarations that use each other",
                 TY_MAX_DEPTH);
    }
    e->type = VALUE_NONE;
    return VALUE_NONE;
  }
  c->depth++;
  value_type t = VALUE_NONE;
  switch (e->kind) {
    case EX_LITERAL:
      t = e->u.lit.value.type;
      set_const(e, e->u.lit.value);
      break;
    case EX_NAME: t = check_name(c, e); break;
    case EX_ACCOUNT_FIELD: t = account_field_type(c, e); break;
    case EX_START:
      check_start_use(c, e->loc, false);
      t = VALUE_TIME;
      break;
    case EX_UNARY: t = check_unary(c, e); break;
    case EX_BINARY: t = check_binary(c, e); break;
    case EX_IN: t = check_in(c, e); break;
    case EX_CALL: t = check_call(c, e); break;
    case EX_AGGREGATE: t = check_aggregate(c, e); break;
    case EX_SEQUENCE: t = check_sequence(c, e); break;
    case EX_COMPLETED:
    case EX_ACHIEVING: t = check_milestone_ref(c, e); break;
  }
  c->depth--;
  e->type = t;
  if (t == VALUE_NONE) e->is_const = false;
  return t;
}
