/* types.c — type checking, fn inlining, constant folding and the rules of
 * each clause (SPEC §4-§6), over a resolved program (resolve.c).  This file
 * holds the lets, segments and fns (checked on first use), the clauses and
 * the program; the expressions they hold are typed in types_expr.c.
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
#include "front/codes.h"
#include "front/types_internal.h"

/* Progress of a let, segment or fn checked on first use. */
enum { TY_CHECK_NEW = 0, TY_CHECK_BUSY, TY_CHECK_OK, TY_CHECK_BAD };

/* ---- lets, segments and fns, checked on first use ------------------------------ */

static const char *busy_chain(ty_ctx *c, ast_decl *d) { return depgraph_cycle_chain(c->arena, &c->busy, d); }

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
bool ty_ensure_checked(ty_ctx *c, ast_decl *d, msl_loc use) {
  unsigned char *state = state_of(c, d);
  if (*state == TY_CHECK_BUSY) {
    report_cycle(c, d, use);
    return false;
  }
  if (*state == TY_CHECK_NEW) {
    *state = TY_CHECK_BUSY;
    ptr_vec_push(c->arena, &c->busy, d);
    ty_scope saved = ty_scope_save(c);
    c->d = c->program_d;   /* its own mistakes belong to it, not to the use */
    c->milestone = NULL;
    c->fn = NULL;
    int errors = c->d->errors;
    check_decl_body(c, d);
    ty_scope_restore(c, saved);
    c->busy.len--;
    /* a cycle through d may have marked it already */
    state = state_of(c, d);
    *state = c->program_d->errors == errors ? TY_CHECK_OK : TY_CHECK_BAD;
  }
  return *state == TY_CHECK_OK;
}

static void check_decl_body(ty_ctx *c, ast_decl *d) {
  switch (d->kind) {
    case DECL_LET: {
      ast_expr *e = d->u.let.expr;
      c->region = RG_CONST;
      if (ty_check_expr(c, e) != VALUE_NONE && !e->is_const)
        diag_error(c->d, e->loc, DIAG_E46,
                   "let `%s` must be a compile-time constant (literals, operators and other lets)",
                   d->name.text);
      break;
    }
    case DECL_SEGMENT: {
      ast_expr *e = d->u.segment.expr;
      c->region = RG_ACCOUNT;
      c->region_what = "a segment";
      value_type t = ty_check_expr(c, e);
      if (t != VALUE_NONE && t != VALUE_BOOL)
        diag_error(c->d, e->loc, DIAG_E35, "segment `%s` must be a `bool` condition, found `%s`",
                   d->name.text, value_type_name(t));
      break;
    }
    case DECL_FN:
      c->region = RG_CRITERIA;
      c->fn = d;
      ty_check_expr(c, d->u.fn.body);
      break;
    default: break;
  }
}

/* ---- clauses ------------------------------------------------------------------ */

static void check_condition(ty_ctx *c, ast_expr *e, const char *what) {
  if (!e) return;
  value_type t = ty_check_expr(c, e);
  if (t != VALUE_NONE && t != VALUE_BOOL)
    diag_error(c->d, e->loc, DIAG_E35, "%s must be a `bool` condition, found `%s`", what, value_type_name(t));
}

/* A time expression over account fields and constants. */
static void check_account_time(ty_ctx *c, ast_expr *e, const char *what) {
  if (!e) return;
  ty_scope saved = ty_scope_save(c);
  c->region = RG_ACCOUNT;
  c->region_what = what;
  value_type t = ty_check_expr(c, e);
  ty_scope_restore(c, saved);
  if (t != VALUE_NONE && t != VALUE_TIME)
    diag_error(c->d, e->loc, DIAG_E37, "%s needs a `time`, found `%s`", what, value_type_name(t));
}

static void check_account_condition(ty_ctx *c, ast_expr *e, const char *what) {
  ty_scope saved = ty_scope_save(c);
  c->region = RG_ACCOUNT;
  c->region_what = what;
  check_condition(c, e, what);
  ty_scope_restore(c, saved);
}

/* A positive constant duration (deadline D, estimate D); -1 when it is not one. */
static int64_t check_const_duration(ty_ctx *c, ast_expr *e, const char *what) {
  ty_scope saved = ty_scope_save(c);
  c->region = RG_CONST;
  value_type t = ty_check_expr(c, e);
  ty_scope_restore(c, saved);
  if (t == VALUE_NONE) return -1;
  if (t != VALUE_DURATION) {
    diag_error(c->d, e->loc, DIAG_E37, "%s must be a `duration`, found `%s`", what, value_type_name(t));
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
bool ty_check_constant_of(ty_ctx *c, ast_expr *e, value_type want, int code, const char *what) {
  ty_scope saved = ty_scope_save(c);
  c->region = RG_CONST;
  value_type t = ty_check_expr(c, e);
  ty_scope_restore(c, saved);
  if (t == VALUE_NONE) return false;
  if (t != want && !(t == VALUE_INT && want == VALUE_FLOAT)) {
    diag_error(c->d, e->loc, code, "%s must be `%s`, found `%s`", what, value_type_name(want), value_type_name(t));
    return false;
  }
  if (!e->is_const) {
    diag_error(c->d, e->loc, DIAG_E46, "%s must be a constant", what);
    return false;
  }
  if (want == VALUE_FLOAT) ty_widen_const(e);
  return true;
}

static void check_fields(ty_ctx *c, ptr_vec *fields) {
  for (int i = 0; i < fields->len; i++) {
    ast_field *f = fields->items[i];
    if (f->default_value)
      ty_check_constant_of(c, f->default_value, f->type, DIAG_E37,
                        arena_printf(c->arena, "the default of `%s`", f->name.text));
  }
}

static void check_start(ty_ctx *c, ast_start *s) {
  if (s->kind == START_AT) check_account_time(c, s->at, "`start at`");
  else if (s->kind == START_ON_EVENT) ty_check_where(c, &s->on);
}

/* `on overdue emit` needs a deadline to be past; `on lost emit` a
 * continuous milestone, the only kind that stops achieving. */
static void check_emits(ty_ctx *c, const ast_decl *d) {
  const ast_milestone *m = &d->u.milestone;
  for (int i = 0; i < m->emits.len; i++) {
    const ast_emit *e = m->emits.items[i];
    if (e->on == EMIT_OVERDUE && m->deadline_kind == DEADLINE_NONE)
      diag_error(c->d, e->loc, DIAG_E68,
                 "`on overdue emit` needs a deadline, but milestone `%s` has none (add `deadline D` or "
                 "`deadline at TIME`)", d->name.text);
    else if (e->on == EMIT_LOST && m->mode != MODE_CONTINUOUS)
      diag_error(c->d, e->loc, DIAG_E69,
                 "`on lost emit` needs `mode continuous`: once-mode milestone `%s` latches when it "
                 "completes and is never lost", d->name.text);
  }
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
  check_emits(c, d);
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

/* depgraph_order's visit: a let, segment or fn after the ones it uses. */
static void check_in_order(void *ctx, ast_decl *d) { ty_ensure_checked(ctx, d, d->loc); }

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
  depgraph_order(p, p->arena, check_in_order, &c);
  for (int i = 0; i < p->lets.len; i++)
    ty_ensure_checked(&c, p->lets.items[i], ((ast_decl *)p->lets.items[i])->loc);
  for (int i = 0; i < p->segments.len; i++)
    ty_ensure_checked(&c, p->segments.items[i], ((ast_decl *)p->segments.items[i])->loc);
  for (int i = 0; i < p->fns.len; i++)
    ty_ensure_checked(&c, p->fns.items[i], ((ast_decl *)p->fns.items[i])->loc);
  for (int i = 0; i < p->units.len; i++) {
    ast_decl *u = p->units.items[i];
    if (u->kind == DECL_MILESTONE) check_milestone(&c, u);
    else check_playbook(&c, u);
  }
  depgraph_milestone_cycles(p, p->arena, d);
  tests_check(p, &c, d);
}
