/* lint.c — warnings about programs that are valid but probably not what
 * their author meant (`msl check`; -Werror makes them errors).  Only the
 * main module is linted: imported modules are someone else's.  Its
 * `# msl: allow` comments (allow.c) silence warnings line by line.
 *
 * Two lints reason about which accounts a milestone applies to.  They only
 * warn on proof: a segment is turned into an OR of ANDs of atoms `account.f
 * OP constant` (anything else — calls, arithmetic on fields — is weakened to
 * `true`, which can only make a formula easier to satisfy), and a warning
 * needs that formula to be unsatisfiable. */
#include <math.h>
#include <string.h>

#include "front/allow.h"
#include "front/codes.h"
#include "front/sema_phases.h"

typedef struct lint_ctx {
  msl_program *p;
  diag_list *d;
  arena *arena;
  long dnf_steps;     /* to_dnf calls so far: segments sharing segments could make them exponential */
} lint_ctx;

static bool in_main(const lint_ctx *c, const ast_decl *d) { return d->module == c->p->main; }

/* ---- segments as formulas ---------------------------------------------------- */

typedef struct seg_atom {
  int field;          /* account field index; -1 is account.id */
  value_type type;       /* the field's type; value has it too */
  ast_op op;          /* OP_EQ .. OP_GE */
  ast_value value;
} seg_atom;

typedef struct seg_conj {
  seg_atom *atoms;
  int len;
} seg_conj;

/* An OR of conjunctions: no conjunction is false, one empty conjunction true. */
typedef struct seg_dnf {
  seg_conj *conjs;
  int len;
} seg_dnf;

enum { DNF_MAX_CONJS = 256, DNF_MAX_ATOMS = 64, DNF_MAX_DEPTH = 32, DNF_MAX_STEPS = 1000000 };

static seg_dnf dnf_const(lint_ctx *c, bool value) {
  seg_dnf f = {0};
  if (value) {
    f.conjs = arena_alloc(c->arena, sizeof *f.conjs);
    f.len = 1;
  }
  return f;
}

static seg_dnf dnf_or(lint_ctx *c, seg_dnf a, seg_dnf b) {
  if (a.len + b.len > DNF_MAX_CONJS) return dnf_const(c, true);  /* weaken: sound */
  seg_dnf f = {arena_alloc(c->arena, sizeof(seg_conj) * (size_t)(a.len + b.len + 1)), a.len + b.len};
  if (a.len) memcpy(f.conjs, a.conjs, sizeof(seg_conj) * (size_t)a.len);
  if (b.len) memcpy(f.conjs + a.len, b.conjs, sizeof(seg_conj) * (size_t)b.len);
  return f;
}

static seg_dnf dnf_and(lint_ctx *c, seg_dnf a, seg_dnf b) {
  if ((long)a.len * b.len > DNF_MAX_CONJS) return dnf_const(c, true);
  seg_dnf f = {arena_alloc(c->arena, sizeof(seg_conj) * (size_t)(a.len * b.len + 1)), 0};
  for (int i = 0; i < a.len; i++)
    for (int j = 0; j < b.len; j++) {
      int n = a.conjs[i].len + b.conjs[j].len;
      seg_conj *cj = &f.conjs[f.len++];
      if (n > DNF_MAX_ATOMS) continue;  /* an empty conjunction: true, the weakest */
      cj->atoms = arena_alloc(c->arena, sizeof(seg_atom) * (size_t)(n + 1));
      if (a.conjs[i].len) memcpy(cj->atoms, a.conjs[i].atoms, sizeof(seg_atom) * (size_t)a.conjs[i].len);
      if (b.conjs[j].len)
        memcpy(cj->atoms + a.conjs[i].len, b.conjs[j].atoms, sizeof(seg_atom) * (size_t)b.conjs[j].len);
      cj->len = n;
    }
  return f;
}

static seg_dnf dnf_atom(lint_ctx *c, seg_atom atom) {
  seg_dnf f = dnf_const(c, true);
  f.conjs[0].atoms = arena_alloc(c->arena, sizeof atom);
  f.conjs[0].atoms[0] = atom;
  f.conjs[0].len = 1;
  return f;
}

static ast_op negated_op(ast_op op) {
  switch (op) {
    case OP_EQ: return OP_NE;
    case OP_NE: return OP_EQ;
    case OP_LT: return OP_GE;
    case OP_LE: return OP_GT;
    case OP_GT: return OP_LE;
    default: return OP_LT;
  }
}

/* c OP f is f MIRROR(OP) c. */
static ast_op mirrored_op(ast_op op) {
  switch (op) {
    case OP_LT: return OP_GT;
    case OP_LE: return OP_GE;
    case OP_GT: return OP_LT;
    case OP_GE: return OP_LE;
    default: return op;
  }
}

/* The account field e reads, when the prover can reason about it: its values
 * are always present, and a float field could hold NaN (which no ordering
 * atom describes) only through a NaN default. */
static bool usable_field(lint_ctx *c, const ast_expr *e, int *field, value_type *type) {
  if (e->kind != EX_ACCOUNT_FIELD) return false;
  *field = e->index;
  *type = e->type;
  if (e->index >= 0 && e->type == VALUE_FLOAT) {
    const ast_field *f = c->p->account->u.account.fields.items[e->index];
    if (f->default_value && f->default_value->is_const && isnan(f->default_value->const_value.u.f))
      return false;
  }
  return *type != VALUE_NONE;
}

static bool usable_constant(const ast_expr *e, value_type type) {
  if (!e->is_const || e->const_value.type != type) return false;
  return !(type == VALUE_FLOAT && isnan(e->const_value.u.f));
}

static seg_dnf to_dnf(lint_ctx *c, const ast_expr *e, bool negate, int depth) {
  if (!e || e->type != VALUE_BOOL || depth > DNF_MAX_DEPTH || ++c->dnf_steps > DNF_MAX_STEPS)
    return dnf_const(c, true);  /* out of budget: weaken, which is sound */
  if (e->is_const) return dnf_const(c, e->const_value.u.b != negate);
  int field;
  value_type type;
  switch (e->kind) {
    case EX_UNARY:
      if (e->u.op.op == OP_NOT) return to_dnf(c, e->u.op.lhs, !negate, depth + 1);
      break;
    case EX_NAME:
      if (e->binding == BIND_SEGMENT && e->decl)
        return to_dnf(c, e->decl->u.segment.expr, negate, depth + 1);
      break;
    case EX_ACCOUNT_FIELD:
      if (usable_field(c, e, &field, &type) && type == VALUE_BOOL) {
        seg_atom atom = {field, type, negate ? OP_NE : OP_EQ, {.type = VALUE_BOOL, .u.b = true}};
        return dnf_atom(c, atom);
      }
      break;
    case EX_BINARY: {
      ast_op op = e->u.op.op;
      const ast_expr *l = e->u.op.lhs, *r = e->u.op.rhs;
      if (op == OP_AND || op == OP_OR) {
        seg_dnf a = to_dnf(c, l, negate, depth + 1), b = to_dnf(c, r, negate, depth + 1);
        return (op == OP_AND) != negate ? dnf_and(c, a, b) : dnf_or(c, a, b);
      }
      if (op < OP_EQ || op > OP_GE) break;
      if (!usable_field(c, l, &field, &type)) {
        if (!usable_field(c, r, &field, &type)) break;
        const ast_expr *swap = l;
        l = r;
        r = swap;
        op = mirrored_op(op);
      }
      if (!usable_constant(r, type)) break;
      seg_atom atom = {field, type, negate ? negated_op(op) : op, r->const_value};
      return dnf_atom(c, atom);
    }
    case EX_IN: {
      if (!usable_field(c, e->u.in.lhs, &field, &type)) break;
      seg_dnf f = dnf_const(c, negate);
      for (int i = 0; i < e->u.in.items.len; i++) {
        const ast_expr *item = e->u.in.items.items[i];
        if (!usable_constant(item, type)) return dnf_const(c, true);
        seg_atom atom = {field, type, negate ? OP_NE : OP_EQ, item->const_value};
        f = negate ? dnf_and(c, f, dnf_atom(c, atom)) : dnf_or(c, f, dnf_atom(c, atom));
      }
      return f;
    }
    default: break;
  }
  return dnf_const(c, true);
}

static bool atoms_hold(const seg_conj *cj, int field, const ast_value *v) {
  for (int i = 0; i < cj->len; i++)
    if (cj->atoms[i].field == field && !ty_comparison_holds(cj->atoms[i].op, v, &cj->atoms[i].value))
      return false;
  return true;
}

static bool is_integral(value_type t) { return t == VALUE_INT || t == VALUE_TIME || t == VALUE_DURATION; }

/* Whether some value of one field satisfies the atoms about it; true
 * whenever unsure (the caller only acts on false). */
static bool field_satisfiable(const seg_conj *cj, int field, value_type type) {
  if (type == VALUE_BOOL) {
    ast_value f = {.type = VALUE_BOOL, .u.b = false}, t = {.type = VALUE_BOOL, .u.b = true};
    return atoms_hold(cj, field, &f) || atoms_hold(cj, field, &t);
  }
  const seg_atom *lo = NULL, *hi = NULL;
  for (int i = 0; i < cj->len; i++) {
    const seg_atom *a = &cj->atoms[i];
    if (a->field != field) continue;
    if (a->op == OP_EQ) return atoms_hold(cj, field, &a->value);
    bool lower = a->op == OP_GT || a->op == OP_GE, upper = a->op == OP_LT || a->op == OP_LE;
    /* the tighter bound: larger lower bound, or equal and strict */
    if (lower && (!lo || ty_comparison_holds(OP_GT, &a->value, &lo->value) ||
                  (ty_comparison_holds(OP_EQ, &a->value, &lo->value) && a->op == OP_GT)))
      lo = a;
    if (upper && (!hi || ty_comparison_holds(OP_LT, &a->value, &hi->value) ||
                  (ty_comparison_holds(OP_EQ, &a->value, &hi->value) && a->op == OP_LT)))
      hi = a;
  }
  if (!lo || !hi) return true;
  if (is_integral(type)) {
    int64_t from = lo->value.u.i, to = hi->value.u.i;
    if (lo->op == OP_GT && __builtin_add_overflow(from, 1, &from)) return false;
    if (hi->op == OP_LT && __builtin_sub_overflow(to, 1, &to)) return false;
    if (from > to) return false;
    int64_t span;
    if (__builtin_sub_overflow(to, from, &span) || span >= DNF_MAX_ATOMS) return true;
    for (int64_t v = from; v <= to; v++) {
      ast_value candidate = {.type = type, .u.i = v};
      if (atoms_hold(cj, field, &candidate)) return true;
    }
    return false;
  }
  if (ty_comparison_holds(OP_GT, &lo->value, &hi->value)) return false;
  if (ty_comparison_holds(OP_EQ, &lo->value, &hi->value))
    return lo->op == OP_GE && hi->op == OP_LE && atoms_hold(cj, field, &lo->value);
  return true;
}

static bool conj_satisfiable(const seg_conj *cj) {
  for (int i = 0; i < cj->len; i++) {
    bool seen = false;
    for (int j = 0; j < i && !seen; j++) seen = cj->atoms[j].field == cj->atoms[i].field;
    if (!seen && !field_satisfiable(cj, cj->atoms[i].field, cj->atoms[i].type)) return false;
  }
  return true;
}

static bool provably_empty(seg_dnf f) {
  for (int i = 0; i < f.len; i++)
    if (conj_satisfiable(&f.conjs[i])) return false;
  return true;
}

/* The accounts a milestone or playbook applies to: any of its segments. */
static seg_dnf applies_to(lint_ctx *c, const ptr_vec *segment_decls) {
  if (segment_decls->len == 0) return dnf_const(c, true);
  seg_dnf f = dnf_const(c, false);
  for (int i = 0; i < segment_decls->len; i++) {
    const ast_decl *s = segment_decls->items[i];
    f = dnf_or(c, f, to_dnf(c, s->u.segment.expr, false, 0));
  }
  return f;
}

/* ---- the lints ------------------------------------------------------------------ */

static void lint_step_counts(lint_ctx *c, ast_decl *d) {
  int n = d->u.playbook.steps.len;
  if (n < 3 || n > 7)
    diag_warning(c->d, d->name.loc, DIAG_W1,
                 "playbook `%s` has %d step%s; the playbooks customer-success teams follow have 3 to 7",
                 d->name.text, n, n == 1 ? "" : "s");
}

static void lint_unused(lint_ctx *c) {
  const ptr_vec *values[] = {&c->p->segments, &c->p->lets, &c->p->fns, &c->p->externs};
  for (size_t k = 0; k < sizeof values / sizeof *values; k++)
    for (int i = 0; i < values[k]->len; i++) {
      ast_decl *d = values[k]->items[i];
      if (in_main(c, d) && !d->used && d->name.text)
        diag_warning(c->d, d->name.loc, DIAG_W2, "%s `%s` is never used", ast_decl_kind_name(d->kind),
                     d->name.text);
    }
  for (int i = 0; i < c->p->events.len; i++) {
    ast_decl *d = c->p->events.items[i];
    if (in_main(c, d) && !d->used && d->name.text)
      diag_warning(c->d, d->name.loc, DIAG_W3, "event `%s` is declared but no rule uses it",
                   d->name.text);
  }
}

static void warn_if_constant(lint_ctx *c, const ast_expr *e, const char *what) {
  if (e && e->is_const && e->type == VALUE_BOOL)
    diag_warning(c->d, e->loc, DIAG_W4, "%s is always %s", what, e->const_value.u.b ? "true" : "false");
}

/* The `where` conditions written in e (not those of inlined bodies: the
 * fn's own body is linted once). */
static void lint_wheres(lint_ctx *c, const ast_expr *e) {
  if (!e) return;
  switch (e->kind) {
    case EX_UNARY: lint_wheres(c, e->u.op.lhs); break;
    case EX_BINARY:
      lint_wheres(c, e->u.op.lhs);
      lint_wheres(c, e->u.op.rhs);
      break;
    case EX_IN: lint_wheres(c, e->u.in.lhs); break;
    case EX_CALL:
      for (int i = 0; i < e->u.call.args.len; i++) lint_wheres(c, e->u.call.args.items[i]);
      break;
    case EX_AGGREGATE: warn_if_constant(c, e->u.agg.ref.where, "this `where` condition"); break;
    case EX_SEQUENCE:
      for (int i = 0; i < e->u.seq.steps.len; i++)
        warn_if_constant(c, ((ast_event_ref *)e->u.seq.steps.items[i])->where, "this `where` condition");
      break;
    default: break;
  }
}

static void lint_condition(lint_ctx *c, const ast_expr *e, const char *what) {
  warn_if_constant(c, e, what);
  lint_wheres(c, e);
}

static void lint_start_after(lint_ctx *c, ast_decl *d, const ast_start *s, const ptr_vec *segments) {
  if (s->kind != START_AFTER || !s->after_decl) return;
  const ast_decl *m = s->after_decl;
  seg_dnf target = applies_to(c, &m->u.milestone.segment_decls);
  if (provably_empty(target))
    diag_warning(c->d, s->after.loc, DIAG_W6,
                 "`%s` starts after `%s`, which applies to no account, so it never starts",
                 d->name.text, m->name.text);
  else if (provably_empty(dnf_and(c, applies_to(c, segments), target)))
    diag_warning(c->d, s->after.loc, DIAG_W6,
                 "`%s` starts after `%s`, which never applies to the accounts `%s` applies to, so it "
                 "never starts",
                 d->name.text, m->name.text, d->name.text);
}

/* W005.  A step is on the way of the accounts of the playbook for which its
 * `when` holds (the others skip it): the warning needs proof that the
 * tracked milestone applies to none of them in one of the playbook's
 * segments.  A segment whose accounts provably all skip the step is no
 * concern of this lint. */
static void lint_steps(lint_ctx *c, ast_decl *d) {
  const ast_playbook *pb = &d->u.playbook;
  for (int i = 0; i < pb->steps.len; i++) {
    const ast_step *st = pb->steps.items[i];
    const ast_decl *m = st->tracks_decl;
    warn_if_constant(c, st->when, "this step's `when`");
    if (!m || m->u.milestone.segment_decls.len == 0) continue;
    seg_dnf tracked = applies_to(c, &m->u.milestone.segment_decls);
    seg_dnf taken = st->when ? to_dnf(c, st->when, false, 0) : dnf_const(c, true);
    if (pb->segment_decls.len == 0) {
      if (provably_empty(taken)) continue;
      if (provably_empty(tracked))
        diag_warning(c->d, st->tracks.loc, DIAG_W5,
                     "step `%s` tracks `%s`, which applies to no account, so it never advances by itself",
                     st->name.text, m->name.text);
      else if (st->when && provably_empty(dnf_and(c, taken, tracked)))
        diag_warning(c->d, st->tracks.loc, DIAG_W5,
                     "step `%s` tracks `%s`, which never applies to the accounts the step's `when` "
                     "selects",
                     st->name.text, m->name.text);
      continue;
    }
    for (int k = 0; k < pb->segment_decls.len; k++) {
      const ast_decl *s = pb->segment_decls.items[k];
      seg_dnf reached = dnf_and(c, to_dnf(c, s->u.segment.expr, false, 0), taken);
      if (provably_empty(reached)) continue;
      if (provably_empty(dnf_and(c, reached, tracked))) {
        diag_warning(c->d, st->tracks.loc, DIAG_W5,
                     "step `%s` tracks `%s`, which never applies to accounts in segment `%s` of "
                     "playbook `%s`%s",
                     st->name.text, m->name.text, s->name.text, d->name.text,
                     st->when ? " that the step's `when` selects" : "");
        break;
      }
    }
  }
}

/* "30d", "90m", "1h30m" style, for messages. */
static const char *duration_text(arena *a, int64_t us) {
  static const struct { const char *unit; int64_t us; } units[] = {
      {"w", 604800000000}, {"d", 86400000000}, {"h", 3600000000}, {"m", 60000000}, {"s", 1000000}};
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (us % units[i].us == 0) return arena_printf(a, "%lld%s", (long long)(us / units[i].us), units[i].unit);
  return arena_printf(a, "%lldus", (long long)us);
}

static void lint_milestone(lint_ctx *c, ast_decl *d) {
  const ast_milestone *m = &d->u.milestone;
  if (!m->description.text)
    diag_warning(c->d, d->name.loc, DIAG_W8,
                 "milestone `%s` has no description; reports and `msl explain` show it to CSMs",
                 d->name.text);
  if (m->deadline_kind == DEADLINE_AFTER && m->deadline_us > 0 && m->estimate_us > 0 &&
      m->deadline_us < m->estimate_us)
    diag_warning(c->d, m->deadline->loc, DIAG_W7, "the deadline (%s) is shorter than the estimate (%s)",
                 duration_text(c->arena, m->deadline_us), duration_text(c->arena, m->estimate_us));
  lint_start_after(c, d, &m->start, &m->segment_decls);
  if (m->start.kind == START_ON_EVENT) warn_if_constant(c, m->start.on.where, "this `where` condition");
  lint_condition(c, m->entry, "`entry`");
  lint_condition(c, m->exit, "`exit`");
  lint_condition(c, m->blocked, "`blocked when`");
  for (int i = 0; i < m->actions.len; i++) {
    const ast_action *act = m->actions.items[i];
    lint_condition(c, act->done_when, "this `done when`");
  }
}

void sema_lint(msl_program *p, diag_list *d) {
  lint_ctx c = {.p = p, .d = d, .arena = p->arena};
  lint_unused(&c);
  for (int i = 0; i < p->segments.len; i++) {
    ast_decl *s = p->segments.items[i];
    if (in_main(&c, s))
      warn_if_constant(&c, s->u.segment.expr, arena_printf(p->arena, "segment `%s`", s->name.text));
  }
  for (int i = 0; i < p->fns.len; i++) {
    ast_decl *f = p->fns.items[i];
    if (in_main(&c, f)) lint_wheres(&c, f->u.fn.body);
  }
  for (int i = 0; i < p->units.len; i++) {
    ast_decl *u = p->units.items[i];
    if (!in_main(&c, u)) continue;
    if (u->kind == DECL_MILESTONE) {
      lint_milestone(&c, u);
    } else {
      lint_step_counts(&c, u);
      lint_start_after(&c, u, &u->u.playbook.start, &u->u.playbook.segment_decls);
      if (u->u.playbook.start.kind == START_ON_EVENT)
        warn_if_constant(&c, u->u.playbook.start.on.where, "this `where` condition");
      lint_steps(&c, u);
    }
  }
  allow_apply(p->main, d);
}
