/* types.c — type checking, fn inlining, constant folding and the rules of
 * each clause (SPEC §4-§6), over a resolved program (resolve.c).
 *
 * Every expression is checked in a region that says what it may use:
 *  - criteria (entry, exit, blocked, done when, fn bodies): everything;
 *  - account (segments, `start at`, `deadline at`, `since EXPR`, a step's
 *    `when`): account fields, constants, segments and calls — no events;
 *  - where: the event's fields, account fields, constants and calls;
 *  - const (lets, window lengths, deadlines, estimates, defaults, test
 *    values): anything, but the result must fold to a constant.
 * A fn body is checked once on its own (so its mistakes are reported once,
 * in the fn), then every call inlines a clone of it with the arguments in
 * place of the parameters and checks the clone where the call stands; what
 * only the call site can get wrong (a window length that is not constant,
 * events in a segment, `start` outside a milestone) is reported at the call. */
#include <math.h>
#include <string.h>

#include "front/codes.h"
#include "core/htable.h"
#include "front/sema_phases.h"

typedef enum { RG_CRITERIA, RG_ACCOUNT, RG_WHERE, RG_CONST } ty_region;

/* Progress of a let, segment or fn checked on first use. */
enum { ST_NEW = 0, ST_BUSY, ST_OK, ST_BAD };

typedef struct ty_ctx {
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
  htable units_by_name, events_by_name;  /* for test blocks; empty until used */
  int depth;               /* check() calls under way */
  bool too_deep;           /* ... more than TY_MAX_DEPTH: reported */
} ty_ctx;

/* check() recurses into the lets, segments and fns an expression uses
 * when they are not checked yet, and into inlined fn bodies.  Checking
 * lets, segments and fns in dependency order first (check_in_dependency_order)
 * keeps that shallow, but a long chain of declarations leading into a
 * cycle, or of fns inlining fns, could still overflow the stack: past this
 * depth the program is refused. */
enum { TY_MAX_DEPTH = 4000 };

/* Inlining copies bodies, and fns calling fns twice each grow the copies
 * exponentially; past this many nodes the program is refused. */
enum { TY_MAX_CLONED_NODES = 200000 };

/* What a nested check changes, saved and restored around it. */
typedef struct ty_scope {
  ty_region region;
  const char *region_what;
  ast_decl *milestone, *fn;
  diag_list *d;
} ty_scope;

static ty_scope scope_save(const ty_ctx *c) {
  return (ty_scope){c->region, c->region_what, c->milestone, c->fn, c->d};
}

static void scope_restore(ty_ctx *c, ty_scope s) {
  c->region = s.region;
  c->region_what = s.region_what;
  c->milestone = s.milestone;
  c->fn = s.fn;
  c->d = s.d;
}

static ty_kind check(ty_ctx *c, ast_expr *e);

/* ---- values --------------------------------------------------------------- */

static bool is_number(ty_kind t) { return t == TY_INT || t == TY_FLOAT; }

static ast_value value_int(ty_kind type, int64_t i) {
  ast_value v = {.type = type};
  v.u.i = i;
  return v;
}

static ast_value value_float(double f) {
  ast_value v = {.type = TY_FLOAT};
  v.u.f = f;
  return v;
}

static ast_value value_bool(bool b) {
  ast_value v = {.type = TY_BOOL};
  v.u.b = b;
  return v;
}

static double as_double(const ast_value *v) { return v->type == TY_FLOAT ? v->u.f : (double)v->u.i; }

static void set_const(ast_expr *e, ast_value v) {
  e->is_const = true;
  e->const_value = v;
}

/* A constant int used where a float is expected becomes that float. */
static void widen_const(ast_expr *e) {
  if (e->type != TY_INT) return;
  e->type = TY_FLOAT;
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
  if (a->type == TY_FLOAT || b->type == TY_FLOAT) {
    double x = as_double(a), y = as_double(b);
    if (isnan(x) || isnan(y)) return false;
    *out = x < y ? -1 : x > y;
    return true;
  }
  switch (a->type) {
    case TY_STRING: *out = compare_strings(a, b); return true;
    case TY_BOOL: *out = (int)a->u.b - (int)b->u.b; return true;
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

typedef bool (*expr_pred)(const ast_expr *e, void *data);

/* True when pred holds for e or a node below it; calls of fns are seen
 * through their inlined body when they have one. */
static bool any_node(const ast_expr *e, expr_pred pred, void *data) {
  if (!e) return false;
  if (pred(e, data)) return true;
  switch (e->kind) {
    case EX_LITERAL:
    case EX_NAME:
    case EX_ACCOUNT_FIELD:
    case EX_START:
    case EX_COMPLETED:
    case EX_ACHIEVING: return false;
    case EX_UNARY: return any_node(e->u.op.lhs, pred, data);
    case EX_BINARY: return any_node(e->u.op.lhs, pred, data) || any_node(e->u.op.rhs, pred, data);
    case EX_IN:
      if (any_node(e->u.in.lhs, pred, data)) return true;
      for (int i = 0; i < e->u.in.items.len; i++)
        if (any_node(e->u.in.items.items[i], pred, data)) return true;
      return false;
    case EX_CALL:
      if (e->inlined) return any_node(e->inlined, pred, data);
      for (int i = 0; i < e->u.call.args.len; i++)
        if (any_node(e->u.call.args.items[i], pred, data)) return true;
      return false;
    case EX_AGGREGATE:
      return any_node(e->u.agg.ref.where, pred, data) || any_node(e->u.agg.window.expr, pred, data);
    case EX_SEQUENCE:
      for (int i = 0; i < e->u.seq.steps.len; i++) {
        const ast_event_ref *r = e->u.seq.steps.items[i];
        if (any_node(r->where, pred, data)) return true;
      }
      return any_node(e->u.seq.window.expr, pred, data);
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
  ty_kind t = e->type;
  if (op == OP_AND || op == OP_OR) {
    set_const(e, value_bool(op == OP_AND ? a->u.b && b->u.b : a->u.b || b->u.b));
    return true;
  }
  if (op >= OP_EQ && op <= OP_GE) {
    set_const(e, value_bool(ty_comparison_holds(op, a, b)));
    return true;
  }
  if (t == TY_FLOAT) {
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

/* The result type of lhs OP rhs, or TY_ERROR (reported) when none. */
static ty_kind binary_type(ty_ctx *c, ast_expr *e, ast_op op, ty_kind l, ty_kind r) {
  switch (op) {
    case OP_AND:
    case OP_OR:
      if (l == TY_BOOL && r == TY_BOOL) return TY_BOOL;
      diag_error(c->d, e->loc, DIAG_E34, "`%s` needs `bool` operands, found `%s` and `%s`",
                 ast_op_text(op), ty_name(l), ty_name(r));
      return TY_ERROR;
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
      if (!(l == r || (is_number(l) && is_number(r)))) {
        diag_error(c->d, e->loc, DIAG_E34, "cannot compare `%s` with `%s`", ty_name(l), ty_name(r));
        return TY_ERROR;
      }
      if (l == TY_BOOL && op != OP_EQ && op != OP_NE) {
        diag_error(c->d, e->loc, DIAG_E34, "`%s` cannot compare `bool` values (only `==` and `!=` can)",
                   ast_op_text(op));
        return TY_ERROR;
      }
      return TY_BOOL;
    case OP_ADD:
      if (l == TY_INT && r == TY_INT) return TY_INT;
      if (is_number(l) && is_number(r)) return TY_FLOAT;
      if ((l == TY_TIME && r == TY_DURATION) || (l == TY_DURATION && r == TY_TIME)) return TY_TIME;
      if (l == TY_DURATION && r == TY_DURATION) return TY_DURATION;
      diag_error(c->d, e->loc, DIAG_E34, "cannot add `%s` and `%s`", ty_name(l), ty_name(r));
      return TY_ERROR;
    case OP_SUB:
      if (l == TY_INT && r == TY_INT) return TY_INT;
      if (is_number(l) && is_number(r)) return TY_FLOAT;
      if (l == TY_TIME && r == TY_TIME) return TY_DURATION;
      if (l == TY_TIME && r == TY_DURATION) return TY_TIME;
      if (l == TY_DURATION && r == TY_DURATION) return TY_DURATION;
      diag_error(c->d, e->loc, DIAG_E34, "cannot subtract `%s` from `%s`", ty_name(r), ty_name(l));
      return TY_ERROR;
    case OP_MUL:
      if (l == TY_INT && r == TY_INT) return TY_INT;
      if (is_number(l) && is_number(r)) return TY_FLOAT;
      if ((l == TY_DURATION && r == TY_INT) || (l == TY_INT && r == TY_DURATION)) return TY_DURATION;
      diag_error(c->d, e->loc, DIAG_E34, "cannot multiply `%s` by `%s`", ty_name(l), ty_name(r));
      return TY_ERROR;
    case OP_DIV:
      if (l == TY_INT && r == TY_INT) return TY_INT;
      if (is_number(l) && is_number(r)) return TY_FLOAT;
      if (l == TY_DURATION && r == TY_INT) return TY_DURATION;
      diag_error(c->d, e->loc, DIAG_E34, "cannot divide `%s` by `%s`", ty_name(l), ty_name(r));
      return TY_ERROR;
    case OP_MOD:
      if (l == TY_INT && r == TY_INT) return TY_INT;
      diag_error(c->d, e->loc, DIAG_E34, "`%%` needs `int` operands, found `%s` and `%s`", ty_name(l),
                 ty_name(r));
      return TY_ERROR;
    case OP_NEG:
    case OP_NOT: break;  /* unary: see check_unary */
  }
  return TY_ERROR;
}

static ty_kind check_binary(ty_ctx *c, ast_expr *e) {
  ty_kind l = check(c, e->u.op.lhs), r = check(c, e->u.op.rhs);
  if (l == TY_ERROR || r == TY_ERROR) return TY_ERROR;
  e->type = binary_type(c, e, e->u.op.op, l, r);
  if (e->type != TY_ERROR && e->u.op.lhs->is_const && e->u.op.rhs->is_const &&
      !fold_binary(c, e, e->u.op.op, &e->u.op.lhs->const_value, &e->u.op.rhs->const_value))
    return TY_ERROR;  /* reported; the uses of e need not say more */
  return e->type;
}

static ty_kind check_unary(ty_ctx *c, ast_expr *e) {
  ast_expr *x = e->u.op.lhs;
  ty_kind t = check(c, x);
  if (t == TY_ERROR) return TY_ERROR;
  if (e->u.op.op == OP_NOT) {
    if (t != TY_BOOL) {
      diag_error(c->d, e->loc, DIAG_E34, "`not` needs a `bool` operand, found `%s`", ty_name(t));
      return TY_ERROR;
    }
    e->type = TY_BOOL;
    if (x->is_const) set_const(e, value_bool(!x->const_value.u.b));
    return TY_BOOL;
  }
  if (!is_number(t) && t != TY_DURATION) {
    diag_error(c->d, e->loc, DIAG_E34, "unary `-` needs a number or a duration, found `%s`", ty_name(t));
    return TY_ERROR;
  }
  e->type = t;
  if (!x->is_const) return t;
  if (t == TY_FLOAT) {
    set_const(e, value_float(-x->const_value.u.f));
  } else {
    int64_t r;
    if (__builtin_sub_overflow((int64_t)0, x->const_value.u.i, &r)) {
      const_error(c, e, false);
      return TY_ERROR;
    }
    set_const(e, value_int(t, r));
  }
  return t;
}

static ty_kind check_in(ty_ctx *c, ast_expr *e) {
  ty_kind t = check(c, e->u.in.lhs);
  bool all_const = e->u.in.lhs->is_const, bad = t == TY_ERROR;
  for (int i = 0; i < e->u.in.items.len; i++) {
    ast_expr *item = e->u.in.items.items[i];
    ty_kind it = check(c, item);
    if (it == TY_ERROR) {
      bad = true;
      continue;
    }
    if (!item->is_const) {
      diag_error(c->d, item->loc, DIAG_E36, "the elements of an `in` list must be constants");
      bad = true;
    } else if (t != TY_ERROR && !(it == t || (is_number(it) && is_number(t)))) {
      diag_error(c->d, item->loc, DIAG_E36, "`in` list element is `%s`, but the value tested is `%s`",
                 ty_name(it), ty_name(t));
      bad = true;
    }
  }
  if (bad) return TY_ERROR;
  e->type = TY_BOOL;
  if (all_const) {
    bool found = false;
    for (int i = 0; i < e->u.in.items.len && !found; i++) {
      ast_expr *item = e->u.in.items.items[i];
      found = ty_comparison_holds(OP_EQ, &e->u.in.lhs->const_value, &item->const_value);
    }
    set_const(e, value_bool(found));
  }
  return TY_BOOL;
}

/* ---- lets, segments and fns, checked on first use ------------------------------ */

/* "b -> c -> b": the names on path from the first d, then d's name; built
 * in one piece, since a cycle can be many thousand declarations long. */
static const char *decl_name(const ast_decl *d) { return d->name.text ? d->name.text : "?"; }

static const char *cycle_chain(arena *a, const ptr_vec *path, const ast_decl *d) {
  int from = 0;
  while (from < path->len && path->items[from] != d) from++;
  size_t len = strlen(decl_name(d)) + 1;
  for (int i = from; i < path->len; i++) len += strlen(decl_name(path->items[i])) + 4;
  char *chain = arena_alloc(a, len), *at = chain;
  for (int i = from; i < path->len; i++) {
    const char *name = decl_name(path->items[i]);
    size_t n = strlen(name);
    memcpy(at, name, n);
    memcpy(at + n, " -> ", 4);
    at += n + 4;
  }
  strcpy(at, decl_name(d));
  return chain;
}

static const char *busy_chain(ty_ctx *c, ast_decl *d) { return cycle_chain(c->arena, &c->busy, d); }

/* Called when d is found busy: its definition uses itself. */
static void report_cycle(ty_ctx *c, ast_decl *d, msl_loc use) {
  if (d->kind == DECL_FN)
    diag_error(c->d, use, DIAG_E48, "fn `%s` calls itself (%s); functions cannot be recursive",
               d->name.text, busy_chain(c, d));
  else
    diag_error(c->d, use, DIAG_E47, "%s `%s` depends on itself (%s)", ast_decl_kind_name(d->kind),
               d->name.text, busy_chain(c, d));
}

static unsigned char *state_of(ty_ctx *c, ast_decl *d) {
  switch (d->kind) {
    case DECL_LET: return &c->let_state[d->index];
    case DECL_SEGMENT: return &c->segment_state[d->index];
    default: return &c->fn_state[d->index];
  }
}

static void check_decl_body(ty_ctx *c, ast_decl *d);

/* Checks d when it is first used; true when it is sound to use. */
static bool ensure_checked(ty_ctx *c, ast_decl *d, msl_loc use) {
  unsigned char *state = state_of(c, d);
  if (*state == ST_BUSY) {
    report_cycle(c, d, use);
    return false;
  }
  if (*state == ST_NEW) {
    *state = ST_BUSY;
    ptr_vec_push(c->arena, &c->busy, d);
    ty_scope saved = scope_save(c);
    c->d = c->program_d;   /* its own mistakes belong to it, not to the use */
    c->milestone = NULL;
    c->fn = NULL;
    int errors = c->d->errors;
    check_decl_body(c, d);
    scope_restore(c, saved);
    c->busy.len--;
    /* a cycle through d may have marked it already */
    state = state_of(c, d);
    *state = c->program_d->errors == errors ? ST_OK : ST_BAD;
  }
  return *state == ST_OK;
}

static void check_decl_body(ty_ctx *c, ast_decl *d) {
  switch (d->kind) {
    case DECL_LET: {
      ast_expr *e = d->u.let.expr;
      c->region = RG_CONST;
      if (check(c, e) != TY_ERROR && !e->is_const)
        diag_error(c->d, e->loc, DIAG_E46,
                   "let `%s` must be a compile-time constant (literals, operators and other lets)",
                   d->name.text);
      break;
    }
    case DECL_SEGMENT: {
      ast_expr *e = d->u.segment.expr;
      c->region = RG_ACCOUNT;
      c->region_what = "a segment";
      ty_kind t = check(c, e);
      if (t != TY_ERROR && t != TY_BOOL)
        diag_error(c->d, e->loc, DIAG_E35, "segment `%s` must be a `bool` condition, found `%s`",
                   d->name.text, ty_name(t));
      break;
    }
    case DECL_FN:
      c->region = RG_CRITERIA;
      c->fn = d;
      check(c, d->u.fn.body);
      break;
    default: break;
  }
}

/* ---- dependency order ------------------------------------------------------------ */

/* Adds to a decl_deps the let, segment or fn a node uses directly. */
typedef struct decl_deps {
  arena *arena;
  ptr_vec decls;   /* ast_decl*, in the order the body uses them */
} decl_deps;

static bool collect_decl_use(const ast_expr *e, void *data) {
  decl_deps *deps = data;
  if (e->kind == EX_NAME && (e->binding == BIND_LET || e->binding == BIND_SEGMENT) && e->decl)
    ptr_vec_push(deps->arena, &deps->decls, e->decl);
  else if (e->kind == EX_CALL && e->decl && e->decl->kind == DECL_FN)
    ptr_vec_push(deps->arena, &deps->decls, e->decl);
  return false;
}

static ast_expr *decl_body(ast_decl *d) {
  switch (d->kind) {
    case DECL_LET: return d->u.let.expr;
    case DECL_SEGMENT: return d->u.segment.expr;
    default: return d->u.fn.body;
  }
}

/* A declaration on the explicit stack of the search below. */
typedef struct order_frame {
  ast_decl *decl;
  ptr_vec deps;
  int next;        /* the next of deps to visit */
  bool tainted;    /* it, or something it uses, is in a cycle */
} order_frame;

enum { ORDER_NEW = 0, ORDER_OPEN, ORDER_DONE, ORDER_TAINTED };

/* marks: per let, per segment and per fn, indexed by the declaration's index. */
static unsigned char *order_mark(unsigned char *marks[3], const ast_decl *d) {
  return &marks[d->kind == DECL_LET ? 0 : d->kind == DECL_SEGMENT ? 1 : 2][d->index];
}

/* Checks every let, segment and fn after the ones it uses, found by a
 * depth-first search with an explicit stack: a chain of N lets then costs
 * no stack.  What is in a cycle, or leads into one, is left to the
 * declaration-order checks in ty_program, which report the cycle as a use
 * of a declaration being checked. */
static void check_in_dependency_order(ty_ctx *c) {
  msl_program *p = c->p;
  unsigned char *marks[3] = {arena_alloc(c->arena, (size_t)p->lets.len + 1),
                             arena_alloc(c->arena, (size_t)p->segments.len + 1),
                             arena_alloc(c->arena, (size_t)p->fns.len + 1)};
  const ptr_vec *roots[3] = {&p->lets, &p->segments, &p->fns};
  int total = p->lets.len + p->segments.len + p->fns.len;
  order_frame *stack = arena_alloc(c->arena, sizeof *stack * (size_t)(total + 1));
  for (int k = 0; k < 3; k++)
    for (int r = 0; r < roots[k]->len; r++) {
      ast_decl *root = roots[k]->items[r];
      if (*order_mark(marks, root) != ORDER_NEW) continue;
      int depth = 0;
      *order_mark(marks, root) = ORDER_OPEN;
      stack[depth++] = (order_frame){.decl = root};
      decl_deps deps = {.arena = c->arena};
      any_node(decl_body(root), collect_decl_use, &deps);
      stack[0].deps = deps.decls;
      while (depth > 0) {
        order_frame *top = &stack[depth - 1];
        if (top->next < top->deps.len) {
          ast_decl *dep = top->deps.items[top->next++];
          unsigned char *mark = order_mark(marks, dep);
          if (*mark == ORDER_OPEN || *mark == ORDER_TAINTED) top->tainted = true;
          if (*mark != ORDER_NEW) continue;
          *mark = ORDER_OPEN;
          decl_deps more = {.arena = c->arena};
          any_node(decl_body(dep), collect_decl_use, &more);
          stack[depth++] = (order_frame){.decl = dep, .deps = more.decls};
          continue;
        }
        ast_decl *done = top->decl;
        bool tainted = top->tainted;
        depth--;
        *order_mark(marks, done) = tainted ? ORDER_TAINTED : ORDER_DONE;
        if (tainted && depth > 0) stack[depth - 1].tainted = true;
        if (!tainted) ensure_checked(c, done, done->loc);
      }
    }
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
  if (!(param->type == TY_FLOAT && arg->type == TY_INT)) return copy;
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
  n->type = TY_ERROR;
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

static ty_kind check_call(ty_ctx *c, ast_expr *e) {
  int errors = c->d->errors;
  ptr_vec *args = &e->u.call.args;
  for (int i = 0; i < args->len; i++) check(c, args->items[i]);
  ast_decl *callee = e->decl;
  if (!callee) return TY_ERROR;
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
      if (arg->type != TY_ERROR && arg->type != prm->type &&
          !(arg->type == TY_INT && prm->type == TY_FLOAT))
        diag_error(c->d, arg->loc, DIAG_E50, "argument %d of `%s` (`%s`) must be `%s`, found `%s`",
                   i + 1, name, prm->name.text, ty_name(prm->type), ty_name(arg->type));
    }
  }
  if (!is_fn) return callee->u.ext.ret;
  if (!ensure_checked(c, callee, e->loc)) return TY_ERROR;
  ty_kind ret = callee->u.fn.body->type;
  if (c->d->errors != errors) return ret;
  if (c->cloned > TY_MAX_CLONED_NODES) {
    if (!c->too_large) {
      c->too_large = true;
      diag_error(c->program_d, e->loc, DIAG_E61,
                 "inlining `%s` makes the program too large (more than %d expression nodes); "
                 "call functions fewer times, or from fewer functions",
                 name, TY_MAX_CLONED_NODES);
    }
    return TY_ERROR;
  }
  ast_expr *body = clone_expr(c, callee->u.fn.body, callee, args);
  diag_list found;
  diag_init(&found, c->arena);
  diag_list *saved = c->d;
  c->d = &found;
  check(c, body);
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

static void check_where(ty_ctx *c, ast_event_ref *r) {
  if (!r->where) return;
  ty_scope saved = scope_save(c);
  c->region = RG_WHERE;
  ty_kind t = check(c, r->where);
  scope_restore(c, saved);
  if (t != TY_ERROR && t != TY_BOOL)
    diag_error(c->d, r->where->loc, DIAG_E35, "a `where` condition must be a `bool`, found `%s`",
               ty_name(t));
}

/* A sequence's window is `within` only (the grammar says so). */
static void check_window(ty_ctx *c, ast_window *w) {
  if (w->kind == WIN_NONE || !w->expr) return;
  if (w->kind == WIN_SINCE) {
    if (w->expr->kind == EX_START) {
      w->since_start = true;
      w->expr->type = TY_TIME;
      check_start_use(c, w->expr->loc, true);
      return;
    }
    ty_scope saved = scope_save(c);
    if (c->region != RG_CONST) {
      c->region = RG_ACCOUNT;
      c->region_what = "`since`";
    }
    ty_kind t = check(c, w->expr);
    scope_restore(c, saved);
    if (t != TY_ERROR && t != TY_TIME)
      diag_error(c->d, w->expr->loc, DIAG_E37, "`since` needs a `time`, found `%s`", ty_name(t));
    return;
  }
  ty_scope saved = scope_save(c);
  c->region = RG_CONST;
  ty_kind t = check(c, w->expr);
  scope_restore(c, saved);
  if (t == TY_ERROR) return;
  if (t != TY_DURATION) {
    diag_error(c->d, w->expr->loc, DIAG_E37, "a window length must be a `duration`, found `%s`",
               ty_name(t));
    return;
  }
  if (any_node(w->expr, is_param, NULL)) return;  /* known where the fn is inlined */
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

static ty_kind check_aggregate(ty_ctx *c, ast_expr *e) {
  ast_agg_fn fn = e->u.agg.fn;
  ast_event_ref *r = &e->u.agg.ref;
  const char *name = ast_agg_name(fn);
  bool allowed = events_allowed(c, e->loc, arena_printf(c->arena, "`%s(...)`", name));
  ty_kind result = TY_INT;
  /* the grammar gives count() an event and the others an event field */
  if (fn != AGG_COUNT && fn != AGG_DISTINCT) {
    ty_kind ft = TY_ERROR;
    if (r->event_decl && r->field_index >= 0)
      ft = ((ast_field *)r->event_decl->u.event.fields.items[r->field_index])->type;
    if (ft != TY_ERROR && !is_number(ft)) {
      diag_error(c->d, r->field.loc, DIAG_E41, "`%s` takes a number field; `%s.%s` is `%s`", name,
                 r->event.text, r->field.text, ty_name(ft));
      ft = TY_ERROR;
    }
    result = fn == AGG_AVG ? TY_FLOAT : ft;
  }
  check_where(c, r);
  /* where an aggregate cannot be, its window has nothing more to say */
  if (allowed) check_window(c, &e->u.agg.window);
  return result;
}

static ty_kind check_sequence(ty_ctx *c, ast_expr *e) {
  bool allowed = events_allowed(c, e->loc, "`sequence(...)`");
  for (int i = 0; i < e->u.seq.steps.len; i++) check_where(c, e->u.seq.steps.items[i]);
  if (allowed) check_window(c, &e->u.seq.window);
  return TY_BOOL;
}

/* ---- expressions -------------------------------------------------------------- */

static ty_kind account_field_type(ty_ctx *c, const ast_expr *e) {
  if (e->index >= 0 && c->p->account && e->index < c->p->account->u.account.fields.len)
    return ((ast_field *)c->p->account->u.account.fields.items[e->index])->type;
  if (e->u.name.text && strcmp(e->u.name.text, "id") == 0) return TY_STRING;
  return TY_ERROR;  /* unknown field, already reported */
}

static ty_kind check_name(ty_ctx *c, ast_expr *e) {
  switch (e->binding) {
    case BIND_NONE: return TY_ERROR;  /* unresolved, already reported */
    case BIND_EVENT_FIELD:
      return ((ast_field *)e->decl->u.event.fields.items[e->index])->type;
    case BIND_PARAM: return ((ast_param *)e->decl->u.fn.params.items[e->index])->type;
    case BIND_LET: {
      if (!ensure_checked(c, e->decl, e->loc)) return TY_ERROR;
      ast_expr *value = e->decl->u.let.expr;
      if (value->is_const) set_const(e, value->const_value);
      return value->type;
    }
    case BIND_SEGMENT:
      return ensure_checked(c, e->decl, e->loc) ? TY_BOOL : TY_ERROR;
  }
  return TY_ERROR;
}

static ty_kind check_milestone_ref(ty_ctx *c, ast_expr *e) {
  bool achieving = e->kind == EX_ACHIEVING;
  events_allowed(c, e->loc, achieving ? "`achieving()`" : "`completed()`");
  if (achieving && e->decl && e->decl->u.milestone.mode == MODE_ONCE)
    diag_error(c->d, e->loc, DIAG_E45,
               "`achieving()` needs a continuous milestone, but `%s` is once-mode (use `completed(%s)`)",
               e->decl->name.text, e->decl->name.text);
  return TY_BOOL;
}

/* Sets e->type (and is_const, const_value) and returns the type. */
static ty_kind check(ty_ctx *c, ast_expr *e) {
  if (!e) return TY_ERROR;
  e->is_const = false;
  if (c->depth >= TY_MAX_DEPTH) {
    if (!c->too_deep) {
      c->too_deep = true;
      diag_error(c->program_d, e->loc, DIAG_E67,
                 "checking this goes more than %d levels deep through the lets, segments and fns "
                 "it uses; shorten the chain of declarations that use each other",
                 TY_MAX_DEPTH);
    }
    e->type = TY_ERROR;
    return TY_ERROR;
  }
  c->depth++;
  ty_kind t = TY_ERROR;
  switch (e->kind) {
    case EX_LITERAL:
      t = e->u.lit.value.type;
      set_const(e, e->u.lit.value);
      break;
    case EX_NAME: t = check_name(c, e); break;
    case EX_ACCOUNT_FIELD: t = account_field_type(c, e); break;
    case EX_START:
      check_start_use(c, e->loc, false);
      t = TY_TIME;
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
  if (t == TY_ERROR) e->is_const = false;
  return t;
}

/* ---- clauses ------------------------------------------------------------------ */

static void check_condition(ty_ctx *c, ast_expr *e, const char *what) {
  if (!e) return;
  ty_kind t = check(c, e);
  if (t != TY_ERROR && t != TY_BOOL)
    diag_error(c->d, e->loc, DIAG_E35, "%s must be a `bool` condition, found `%s`", what, ty_name(t));
}

/* A time expression over account fields and constants. */
static void check_account_time(ty_ctx *c, ast_expr *e, const char *what) {
  if (!e) return;
  ty_scope saved = scope_save(c);
  c->region = RG_ACCOUNT;
  c->region_what = what;
  ty_kind t = check(c, e);
  scope_restore(c, saved);
  if (t != TY_ERROR && t != TY_TIME)
    diag_error(c->d, e->loc, DIAG_E37, "%s needs a `time`, found `%s`", what, ty_name(t));
}

static void check_account_condition(ty_ctx *c, ast_expr *e, const char *what) {
  ty_scope saved = scope_save(c);
  c->region = RG_ACCOUNT;
  c->region_what = what;
  check_condition(c, e, what);
  scope_restore(c, saved);
}

/* A positive constant duration (deadline D, estimate D); -1 when it is not one. */
static int64_t check_const_duration(ty_ctx *c, ast_expr *e, const char *what) {
  ty_scope saved = scope_save(c);
  c->region = RG_CONST;
  ty_kind t = check(c, e);
  scope_restore(c, saved);
  if (t == TY_ERROR) return -1;
  if (t != TY_DURATION) {
    diag_error(c->d, e->loc, DIAG_E37, "%s must be a `duration`, found `%s`", what, ty_name(t));
    return -1;
  }
  if (!e->is_const) {
    diag_error(c->d, e->loc, DIAG_E46, "%s must be a compile-time constant duration", what);
    return -1;
  }
  if (e->const_value.u.i <= 0) {
    diag_error(c->d, e->loc, DIAG_E39, "%s must be positive", what);
    return -1;
  }
  return e->const_value.u.i;
}

/* A constant of type want (an int widens to float), in defaults and tests. */
static bool check_constant_of(ty_ctx *c, ast_expr *e, ty_kind want, int code, const char *what) {
  ty_scope saved = scope_save(c);
  c->region = RG_CONST;
  ty_kind t = check(c, e);
  scope_restore(c, saved);
  if (t == TY_ERROR) return false;
  if (t != want && !(t == TY_INT && want == TY_FLOAT)) {
    diag_error(c->d, e->loc, code, "%s must be `%s`, found `%s`", what, ty_name(want), ty_name(t));
    return false;
  }
  if (!e->is_const) {
    diag_error(c->d, e->loc, DIAG_E46, "%s must be a constant", what);
    return false;
  }
  if (want == TY_FLOAT) widen_const(e);
  return true;
}

static void check_fields(ty_ctx *c, ptr_vec *fields) {
  for (int i = 0; i < fields->len; i++) {
    ast_field *f = fields->items[i];
    if (f->default_value)
      check_constant_of(c, f->default_value, f->type, DIAG_E37,
                        arena_printf(c->arena, "the default of `%s`", f->name.text));
  }
}

static void check_start(ty_ctx *c, ast_start *s) {
  if (s->kind == START_AT) check_account_time(c, s->at, "`start at`");
  else if (s->kind == START_ON_EVENT) check_where(c, &s->on);
}

static void check_milestone(ty_ctx *c, ast_decl *d) {
  ast_milestone *m = &d->u.milestone;
  c->milestone = d;
  c->region = RG_CRITERIA;
  check_start(c, &m->start);
  m->deadline_us = 0;
  if (m->deadline_kind == DEADLINE_AFTER && m->deadline) {
    int64_t us = check_const_duration(c, m->deadline, "a `deadline`");
    if (us > 0) m->deadline_us = us;
    if (m->start.kind == START_NONE)
      diag_error(c->d, m->deadline->loc, DIAG_E52,
                 "`deadline %s` counts from the start, but milestone `%s` has no start clause (add "
                 "one, or use `deadline at TIME`)",
                 m->deadline->kind == EX_LITERAL && m->deadline->u.lit.raw ? m->deadline->u.lit.raw : "D",
                 d->name.text);
  } else if (m->deadline_kind == DEADLINE_AT) {
    check_account_time(c, m->deadline, "`deadline at`");
  }
  m->estimate_us = -1;
  if (m->estimate) m->estimate_us = check_const_duration(c, m->estimate, "an `estimate`");
  check_condition(c, m->entry, "`entry`");
  check_condition(c, m->exit, "`exit`");
  check_condition(c, m->blocked, "`blocked when`");
  for (int i = 0; i < m->actions.len; i++) {
    ast_action *act = m->actions.items[i];
    check_condition(c, act->done_when,
                    arena_printf(c->arena, "`done when` of action `%s`", act->name.text));
  }
  c->milestone = NULL;
}

static void check_playbook(ty_ctx *c, ast_decl *d) {
  ast_playbook *pb = &d->u.playbook;
  c->region = RG_CRITERIA;
  check_start(c, &pb->start);
  for (int i = 0; i < pb->steps.len; i++) {
    ast_step *st = pb->steps.items[i];
    if (st->when) check_account_condition(c, st->when, "a step's `when`");
  }
}

/* ---- milestone dependencies ---------------------------------------------------- */

typedef struct dep_edge {
  ast_decl *target;
  msl_loc loc;
} dep_edge;

typedef struct dep_graph {
  arena *arena;
  ptr_vec *edges;          /* per milestone: dep_edge* */
  int from;                /* the milestone whose edges are being collected */
} dep_graph;

static bool collect_dependency(const ast_expr *e, void *data) {
  dep_graph *g = data;
  if ((e->kind == EX_COMPLETED || e->kind == EX_ACHIEVING) && e->decl) {
    dep_edge *edge = arena_alloc(g->arena, sizeof *edge);
    edge->target = e->decl;
    edge->loc = e->loc;
    ptr_vec_push(g->arena, &g->edges[g->from], edge);
  }
  return false;
}

typedef struct dep_search {
  ty_ctx *c;
  dep_graph *graph;
  unsigned char *color;    /* 0 unvisited, 1 on the path, 2 done */
  ptr_vec path;            /* ast_decl*: the path from the root, an explicit stack */
  int *next_edge;          /* per milestone on the path: the next edge to follow */
} dep_search;

static void report_milestone_cycle(dep_search *s, const dep_edge *edge) {
  diag_error(s->c->d, edge->loc, DIAG_E51, "milestones depend on each other in a cycle: %s",
             cycle_chain(s->c->arena, &s->path, edge->target));
}

/* A depth-first search from root with an explicit stack (s->path): a chain
 * of many thousand `start after` milestones costs no C stack. */
static void visit_milestone(dep_search *s, ast_decl *root) {
  s->color[root->index] = 1;
  s->next_edge[root->index] = 0;
  ptr_vec_push(s->c->arena, &s->path, root);
  while (s->path.len > 0) {
    ast_decl *m = s->path.items[s->path.len - 1];
    ptr_vec *edges = &s->graph->edges[m->index];
    if (s->next_edge[m->index] == edges->len) {
      s->path.len--;
      s->color[m->index] = 2;
      continue;
    }
    dep_edge *edge = edges->items[s->next_edge[m->index]++];
    ast_decl *t = edge->target;
    if (s->color[t->index] == 1) {
      report_milestone_cycle(s, edge);
    } else if (s->color[t->index] == 0) {
      s->color[t->index] = 1;
      s->next_edge[t->index] = 0;
      ptr_vec_push(s->c->arena, &s->path, t);
    }
  }
}

/* `start after`, completed() and achieving() must not lead back to where they start. */
static void check_dependency_cycles(ty_ctx *c) {
  int n = c->p->milestones.len;
  if (n == 0) return;
  dep_graph g = {.arena = c->arena, .edges = arena_alloc(c->arena, sizeof(ptr_vec) * (size_t)n)};
  for (int i = 0; i < n; i++) {
    ast_decl *d = c->p->milestones.items[i];
    ast_milestone *m = &d->u.milestone;
    g.from = i;
    if (m->start.kind == START_AFTER && m->start.after_decl) {
      dep_edge *edge = arena_alloc(c->arena, sizeof *edge);
      edge->target = m->start.after_decl;
      edge->loc = m->start.after.loc;
      ptr_vec_push(c->arena, &g.edges[i], edge);
    }
    any_node(m->entry, collect_dependency, &g);
    any_node(m->exit, collect_dependency, &g);
    any_node(m->blocked, collect_dependency, &g);
    for (int k = 0; k < m->actions.len; k++)
      any_node(((ast_action *)m->actions.items[k])->done_when, collect_dependency, &g);
  }
  dep_search s = {.c = c, .graph = &g, .color = arena_alloc(c->arena, (size_t)n),
                  .next_edge = arena_alloc(c->arena, sizeof(int) * (size_t)n)};
  for (int i = 0; i < n; i++)
    if (s.color[i] == 0) visit_milestone(&s, c->p->milestones.items[i]);
}

/* ---- test blocks ---------------------------------------------------------------- */

/* The first of v's declarations named name, through a table built on first
 * use: a file can have thousands of tests over thousands of milestones. */
static ast_decl *find_named(ty_ctx *c, htable *table, const ptr_vec *v, const char *name) {
  if (!name) return NULL;
  if (!table->arena) {
    htable_init(table, c->arena);
    for (int i = 0; i < v->len; i++) {
      ast_decl *d = v->items[i];
      if (d->name.text) htable_put_str(table, d->name.text, d);
    }
  }
  return htable_get_str(table, name);
}

static ast_field *find_field(const ptr_vec *fields, const char *name) {
  for (int i = 0; i < fields->len; i++) {
    ast_field *f = fields->items[i];
    if (f->name.text && name && strcmp(f->name.text, name) == 0) return f;
  }
  return NULL;
}

static void check_test_time(ty_ctx *c, ast_expr *e, const char *what) {
  if (e) check_constant_of(c, e, TY_TIME, DIAG_E37, what);
}

/* field = value assignments of a test account or event: known, typed, each
 * once, and every required field given. */
static void check_assignments(ty_ctx *c, ptr_vec *assigns, const ptr_vec *fields, const char *owner,
                              bool is_account, msl_loc owner_loc) {
  for (int i = 0; i < assigns->len; i++) {
    ast_assign *as = assigns->items[i];
    if (!as->field.text) continue;
    ast_field *f = fields ? find_field(fields, as->field.text) : NULL;
    if (!f) {
      if (is_account && strcmp(as->field.text, "id") == 0)
        diag_error(c->d, as->field.loc, DIAG_E57,
                   "the test account's id is set as `account ID { ... }`, not as a field");
      else
        diag_error(c->d, as->field.loc, DIAG_E57, "%s has no field `%s`", owner, as->field.text);
      continue;
    }
    for (int j = 0; j < i; j++) {
      ast_assign *other = assigns->items[j];
      if (other->field.text && strcmp(other->field.text, as->field.text) == 0) {
        diag_error(c->d, as->field.loc, DIAG_E57, "field `%s` is set twice", as->field.text);
        break;
      }
    }
    check_constant_of(c, as->value, f->type, DIAG_E57,
                      arena_printf(c->arena, "the value of `%s`", as->field.text));
  }
  for (int i = 0; fields && i < fields->len; i++) {
    ast_field *f = fields->items[i];
    if (f->default_value || !f->name.text) continue;
    bool given = false;
    for (int j = 0; j < assigns->len && !given; j++) {
      ast_assign *as = assigns->items[j];
      given = as->field.text && strcmp(as->field.text, f->name.text) == 0;
    }
    if (!given)
      diag_error(c->d, owner_loc, DIAG_E57, "%s lacks the required field `%s`", owner, f->name.text);
  }
}

static void check_control_event(ty_ctx *c, ast_test_event *ev) {
  static const char *const controls[] = {"assign", "complete", "reset", "block", "unblock", "advance"};
  const char *name = ev->event.text;
  if (!name) return;
  if (strncmp(name, "ms.", 3) == 0) name += 3;
  bool known = false;
  for (size_t i = 0; i < sizeof controls / sizeof *controls && !known; i++)
    known = strcmp(name, controls[i]) == 0;
  if (!known) return;  /* the parser reports unknown control events */
  for (int i = 0; i < ev->fields.len; i++) {
    ast_assign *as = ev->fields.items[i];
    const char *field = as->field.text;
    if (!field) continue;
    bool is_milestone = strcmp(field, "milestone") == 0;
    if (!is_milestone && strcmp(field, "playbook") != 0) {
      diag_error(c->d, as->field.loc, DIAG_E58,
                 "a control event names a `milestone` or a `playbook`, not a `%s`", field);
      continue;
    }
    /* the grammar makes every test value a literal */
    if (as->value->u.lit.value.type != TY_STRING) {
      diag_error(c->d, as->value->loc, DIAG_E58, "`%s` must name a %s, as in `%s = \"name\"`", field,
                 field, field);
      continue;
    }
    const char *target = as->value->u.lit.value.u.str.s;
    as->value->type = TY_STRING;
    set_const(as->value, as->value->u.lit.value);
    ast_decl *unit = find_named(c, &c->units_by_name, &c->p->units, target);
    if (!unit || unit->kind != (is_milestone ? DECL_MILESTONE : DECL_PLAYBOOK))
      diag_error(c->d, as->value->loc, DIAG_E58, "there is no %s named `%s`", field, target);
  }
}

static ast_decl *expect_target(ty_ctx *c, ast_expect *ex, ast_decl_kind want) {
  const char *name = ex->target.text;
  if (!name) return NULL;
  ast_decl *unit = find_named(c, &c->units_by_name, &c->p->units, name);
  const char *want_name = want == DECL_MILESTONE ? "milestone" : "playbook";
  if (!unit) {
    diag_error(c->d, ex->target.loc, DIAG_E29, "unknown %s `%s`", want_name, name);
    return NULL;
  }
  if (unit->kind != want) {
    diag_error(c->d, ex->target.loc, DIAG_E33, "`%s` is a %s; this `expect` needs a %s%s", name,
               ast_decl_kind_name(unit->kind), want_name,
               want == DECL_MILESTONE ? " (a playbook has `P.step`)" : "");
    return NULL;
  }
  return unit;
}

static void check_expect_status(ty_ctx *c, ast_expect *ex) {
  static const char *const once_statuses[] = {"not_started", "completed", "blocked",
                                              "pending",     "overdue",   "in_progress"};
  static const char *const continuous_statuses[] = {"not_started", "achieving",     "blocked",
                                                    "pending",     "not_achieving", "never_achieved"};
  ast_decl *m = expect_target(c, ex, DECL_MILESTONE);
  const char *status = ex->member.text;
  if (!status) return;
  bool once = false, continuous = false;
  for (int i = 0; i < 6; i++) {
    once = once || strcmp(status, once_statuses[i]) == 0;
    continuous = continuous || strcmp(status, continuous_statuses[i]) == 0;
  }
  if (!once && !continuous) {
    diag_error(c->d, ex->member.loc, DIAG_E54,
               "unknown status `%s` (one of not_started, pending, in_progress, completed, overdue, "
               "blocked, achieving, not_achieving, never_achieved)",
               status);
    return;
  }
  if (m && m->u.milestone.mode == MODE_ONCE && !once)
    diag_error(c->d, ex->member.loc, DIAG_E54,
               "milestone `%s` is once-mode and is never `%s` (its statuses: not_started, pending, "
               "in_progress, completed, overdue, blocked)",
               m->name.text, status);
  if (m && m->u.milestone.mode == MODE_CONTINUOUS && !continuous)
    diag_error(c->d, ex->member.loc, DIAG_E54,
               "milestone `%s` is continuous and is never `%s` (its statuses: not_started, pending, "
               "achieving, not_achieving, never_achieved, blocked)",
               m->name.text, status);
  if (ex->at) {
    if (strcmp(status, "completed") != 0 && strcmp(status, "achieving") != 0)
      diag_error(c->d, ex->at->loc, DIAG_E60,
                 "`at TIME` checks the achievement time: only `is completed` and `is achieving` take it");
    else
      check_test_time(c, ex->at, "the time after `at`");
  }
}

static void check_expect_field(ty_ctx *c, ast_expect *ex) {
  static const struct { const char *name; ty_kind type; } fields[] = {
      {"started_at", TY_TIME}, {"entered_at", TY_TIME},  {"achieved_at", TY_TIME},
      {"lost_at", TY_TIME},    {"deadline_at", TY_TIME}, {"on_time", TY_BOOL},
      {"progress", TY_FLOAT},
  };
  expect_target(c, ex, DECL_MILESTONE);
  const char *name = ex->member.text;
  if (!name) return;
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
    if (strcmp(name, fields[i].name) != 0) continue;
    if (ex->value)
      check_constant_of(c, ex->value, fields[i].type, DIAG_E55,
                        arena_printf(c->arena, "the expected `%s`", name));
    return;
  }
  diag_error(c->d, ex->member.loc, DIAG_E55,
             "unknown milestone field `%s` (one of started_at, entered_at, achieved_at, lost_at, "
             "deadline_at, on_time, progress)",
             name);
}

static void check_expect_step(ty_ctx *c, ast_expect *ex) {
  ast_decl *pb = expect_target(c, ex, DECL_PLAYBOOK);
  const char *step = ex->member.text;
  if (!pb || !step || strcmp(step, "done") == 0) return;
  for (int i = 0; i < pb->u.playbook.steps.len; i++) {
    ast_step *st = pb->u.playbook.steps.items[i];
    if (st->name.text && strcmp(st->name.text, step) == 0) return;
  }
  diag_error(c->d, ex->member.loc, DIAG_E56, "playbook `%s` has no step `%s` (nor is it `done`)",
             pb->name.text, step);
}

static bool emits_signal(const ptr_vec *emits, const char *signal) {
  for (int i = 0; i < emits->len; i++) {
    const ast_string *s = emits->items[i];
    if (s->text && strcmp(s->text, signal) == 0) return true;
  }
  return false;
}

static void check_expect_signal(ty_ctx *c, ast_expect *ex) {
  const char *signal = ex->signal.text;
  if (signal) {
    bool emitted = false;
    for (int i = 0; i < c->p->units.len && !emitted; i++) {
      ast_decl *u = c->p->units.items[i];
      emitted = emits_signal(u->kind == DECL_MILESTONE ? &u->u.milestone.emits : &u->u.playbook.emits,
                             signal);
    }
    if (!emitted)
      diag_error(c->d, ex->signal.loc, DIAG_E59,
                 "no milestone or playbook emits \"%s\", so this expectation cannot hold", signal);
  }
  check_test_time(c, ex->at, "the time after `at`");
}

static void check_test(ty_ctx *c, ast_decl *d) {
  ast_test *t = &d->u.test;
  check_test_time(c, t->as_of, "`as_of`");
  msl_loc account_loc = d->loc;
  for (int i = 0; i < t->items.len; i++) {
    ast_test_item *item = t->items.items[i];
    if (item->kind == TI_ACCOUNT) account_loc = item->loc;
  }
  ptr_vec *account_fields = c->p->account ? &c->p->account->u.account.fields : NULL;
  check_assignments(c, &t->account_fields, account_fields, "the test account", true, account_loc);
  for (int i = 0; i < t->events.len; i++) {
    ast_test_event *ev = t->events.items[i];
    check_test_time(c, ev->time, "an event's time");
    if (ev->control) {
      check_control_event(c, ev);
      continue;
    }
    ast_decl *event = find_named(c, &c->events_by_name, &c->p->events, ev->event.text);
    if (!event) {
      if (ev->event.text) diag_error(c->d, ev->event.loc, DIAG_E28, "unknown event `%s`", ev->event.text);
      continue;
    }
    check_assignments(c, &ev->fields, &event->u.event.fields,
                      arena_printf(c->arena, "event `%s`", event->name.text), false, ev->loc);
  }
  for (int i = 0; i < t->expects.len; i++) {
    ast_expect *ex = t->expects.items[i];
    switch (ex->kind) {
      case EXPECT_STATUS: check_expect_status(c, ex); break;
      case EXPECT_FIELD: check_expect_field(c, ex); break;
      case EXPECT_STEP: check_expect_step(c, ex); break;
      case EXPECT_SIGNAL: check_expect_signal(c, ex); break;
    }
  }
}

/* ---- the program ---------------------------------------------------------------- */

void ty_program(msl_program *p, diag_list *d) {
  ty_ctx c = {
      .p = p,
      .arena = p->arena,
      .d = d,
      .program_d = d,
      .region = RG_CRITERIA,
      .let_state = arena_alloc(p->arena, (size_t)p->lets.len + 1),
      .segment_state = arena_alloc(p->arena, (size_t)p->segments.len + 1),
      .fn_state = arena_alloc(p->arena, (size_t)p->fns.len + 1),
  };
  if (p->account) check_fields(&c, &p->account->u.account.fields);
  for (int i = 0; i < p->events.len; i++)
    check_fields(&c, &((ast_decl *)p->events.items[i])->u.event.fields);
  check_in_dependency_order(&c);
  for (int i = 0; i < p->lets.len; i++) ensure_checked(&c, p->lets.items[i], ((ast_decl *)p->lets.items[i])->loc);
  for (int i = 0; i < p->segments.len; i++)
    ensure_checked(&c, p->segments.items[i], ((ast_decl *)p->segments.items[i])->loc);
  for (int i = 0; i < p->fns.len; i++) ensure_checked(&c, p->fns.items[i], ((ast_decl *)p->fns.items[i])->loc);
  for (int i = 0; i < p->units.len; i++) {
    ast_decl *u = p->units.items[i];
    if (u->kind == DECL_MILESTONE) check_milestone(&c, u);
    else check_playbook(&c, u);
  }
  check_dependency_cycles(&c);
  for (int i = 0; i < p->tests.len; i++) check_test(&c, p->tests.items[i]);
}
