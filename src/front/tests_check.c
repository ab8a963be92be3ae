/* tests_check.c — the checks of `test` blocks (prefix tests_): the test
 * account and events name known fields with constants of their types,
 * control events name a milestone or playbook, and every `expect` names
 * what exists and can hold.  See sema_phases.h. */
#include <string.h>

#include "core/htable.h"
#include "front/codes.h"
#include "front/sema_phases.h"

typedef struct tests_ctx {
  msl_program *p;
  arena *arena;
  diag_list *d;
  ty_ctx *ty;              /* for the constants tests give */
  htable units_by_name, events_by_name;  /* empty until used */
  long hint_budget;        /* for "did you mean" (sema_hint) */
} tests_ctx;

/* The first of v's declarations named name, through a table built on first
 * use: a file can have thousands of tests over thousands of milestones. */
static ast_decl *find_named(tests_ctx *c, htable *table, const ptr_vec *v, const char *name) {
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

/* "; did you mean ...?" among decls (ast_decl*), or "". */
static const char *hint_among(tests_ctx *c, const char *word, const ptr_vec *decls) {
  sema_hint h = sema_hint_start(word, &c->hint_budget);
  sema_hint_decls(&h, decls);
  return sema_hint_text(c->arena, &h);
}

/* The same among fixed words. */
static const char *hint_among_words(tests_ctx *c, const char *word, const char *const *words,
                                    size_t n) {
  sema_hint h = sema_hint_start(word, &c->hint_budget);
  for (size_t i = 0; i < n; i++) sema_hint_offer(&h, words[i]);
  return sema_hint_text(c->arena, &h);
}

static void check_test_time(tests_ctx *c, ast_expr *e, const char *what) {
  if (e) ty_check_constant_of(c->ty, e, VALUE_TIME, DIAG_E37, what);
}

/* field = value assignments of a test account or event: known, typed, each
 * once, and every required field given. */
static void check_assignments(tests_ctx *c, ptr_vec *assigns, const ptr_vec *fields, const char *owner,
                              bool is_account, msl_loc owner_loc) {
  for (int i = 0; i < assigns->len; i++) {
    ast_assign *as = assigns->items[i];
    if (!as->field.text) continue;
    ast_field *f = fields ? find_field(fields, as->field.text) : NULL;
    if (!f) {
      if (is_account && strcmp(as->field.text, "id") == 0) {
        diag_error(c->d, as->field.loc, DIAG_E57,
                   "the test account's id is set as `account ID { ... }`, not as a field");
      } else {
        sema_hint h = sema_hint_start(as->field.text, &c->hint_budget);
        if (fields) sema_hint_fields(&h, fields);
        diag_error(c->d, as->field.loc, DIAG_E57, "%s has no field `%s`%s", owner, as->field.text,
                   sema_hint_text(c->arena, &h));
      }
      continue;
    }
    for (int j = 0; j < i; j++) {
      ast_assign *other = assigns->items[j];
      if (other->field.text && strcmp(other->field.text, as->field.text) == 0) {
        diag_error(c->d, as->field.loc, DIAG_E57, "field `%s` is set twice", as->field.text);
        break;
      }
    }
    ty_check_constant_of(c->ty, as->value, f->type, DIAG_E57,
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

static void check_control_event(tests_ctx *c, ast_test_event *ev) {
  static const char *const controls[] = {"assign", "complete", "reset", "block", "unblock", "advance"};
  static const char *const targets[] = {"milestone", "playbook"};
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
                 "a control event names a `milestone` or a `playbook`, not a `%s`%s", field,
                 hint_among_words(c, field, targets, 2));
      continue;
    }
    /* the grammar makes every test value a literal */
    if (as->value->u.lit.value.type != VALUE_STRING) {
      diag_error(c->d, as->value->loc, DIAG_E58, "`%s` must name a %s, as in `%s = \"name\"`", field,
                 field, field);
      continue;
    }
    const char *target = as->value->u.lit.value.u.str.s;
    as->value->type = VALUE_STRING;
    as->value->is_const = true;
    as->value->const_value = as->value->u.lit.value;
    ast_decl *unit = find_named(c, &c->units_by_name, &c->p->units, target);
    if (!unit || unit->kind != (is_milestone ? DECL_MILESTONE : DECL_PLAYBOOK))
      diag_error(c->d, as->value->loc, DIAG_E58, "there is no %s named `%s`%s", field, target,
                 hint_among(c, target, is_milestone ? &c->p->milestones : &c->p->playbooks));
  }
}

static ast_decl *expect_target(tests_ctx *c, ast_expect *ex, ast_decl_kind want) {
  const char *name = ex->target.text;
  if (!name) return NULL;
  ast_decl *unit = find_named(c, &c->units_by_name, &c->p->units, name);
  const char *want_name = want == DECL_MILESTONE ? "milestone" : "playbook";
  if (!unit) {
    diag_error(c->d, ex->target.loc, DIAG_E29, "unknown %s `%s`%s", want_name, name,
               hint_among(c, name, want == DECL_MILESTONE ? &c->p->milestones : &c->p->playbooks));
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

static void check_expect_status(tests_ctx *c, ast_expect *ex) {
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
    sema_hint h = sema_hint_start(status, &c->hint_budget);
    for (int i = 0; i < 6; i++) {
      sema_hint_offer(&h, once_statuses[i]);
      sema_hint_offer(&h, continuous_statuses[i]);
    }
    diag_error(c->d, ex->member.loc, DIAG_E54,
               "unknown status `%s` (one of not_started, pending, in_progress, completed, overdue, "
               "blocked, achieving, not_achieving, never_achieved)%s",
               status, sema_hint_text(c->arena, &h));
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

static void check_expect_field(tests_ctx *c, ast_expect *ex) {
  static const struct { const char *name; value_type type; } fields[] = {
      {"started_at", VALUE_TIME}, {"entered_at", VALUE_TIME},  {"achieved_at", VALUE_TIME},
      {"lost_at", VALUE_TIME},    {"deadline_at", VALUE_TIME}, {"on_time", VALUE_BOOL},
      {"progress", VALUE_FLOAT},
  };
  expect_target(c, ex, DECL_MILESTONE);
  const char *name = ex->member.text;
  if (!name) return;
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
    if (strcmp(name, fields[i].name) != 0) continue;
    if (ex->value)
      ty_check_constant_of(c->ty, ex->value, fields[i].type, DIAG_E55,
                        arena_printf(c->arena, "the expected `%s`", name));
    return;
  }
  sema_hint h = sema_hint_start(name, &c->hint_budget);
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) sema_hint_offer(&h, fields[i].name);
  diag_error(c->d, ex->member.loc, DIAG_E55,
             "unknown milestone field `%s` (one of started_at, entered_at, achieved_at, lost_at, "
             "deadline_at, on_time, progress)%s",
             name, sema_hint_text(c->arena, &h));
}

static void check_expect_step(tests_ctx *c, ast_expect *ex) {
  ast_decl *pb = expect_target(c, ex, DECL_PLAYBOOK);
  const char *step = ex->member.text;
  if (!pb || !step || strcmp(step, "done") == 0) return;
  for (int i = 0; i < pb->u.playbook.steps.len; i++) {
    ast_step *st = pb->u.playbook.steps.items[i];
    if (st->name.text && strcmp(st->name.text, step) == 0) return;
  }
  sema_hint h = sema_hint_start(step, &c->hint_budget);
  for (int i = 0; i < pb->u.playbook.steps.len; i++)
    sema_hint_offer(&h, ((const ast_step *)pb->u.playbook.steps.items[i])->name.text);
  sema_hint_offer(&h, "done");
  diag_error(c->d, ex->member.loc, DIAG_E56, "playbook `%s` has no step `%s` (nor is it `done`)%s",
             pb->name.text, step, sema_hint_text(c->arena, &h));
}

static bool emits_signal(const ptr_vec *emits, const char *signal) {
  for (int i = 0; i < emits->len; i++) {
    const ast_emit *e = emits->items[i];
    if (e->signal.text && strcmp(e->signal.text, signal) == 0) return true;
  }
  return false;
}

static const ptr_vec *unit_emits(const ast_decl *u) {
  return u->kind == DECL_MILESTONE ? &u->u.milestone.emits : &u->u.playbook.emits;
}

/* The closest signal emitted, quoted as the string it is: "; did you mean \"x\"?". */
static const char *signal_hint(tests_ctx *c, const char *signal) {
  sema_hint h = sema_hint_start(signal, &c->hint_budget);
  for (int i = 0; i < c->p->units.len; i++) {
    const ptr_vec *emits = unit_emits(c->p->units.items[i]);
    for (int j = 0; j < emits->len; j++) sema_hint_offer(&h, ((const ast_emit *)emits->items[j])->signal.text);
  }
  return h.s.best ? arena_printf(c->arena, "; did you mean \"%s\"?", h.s.best) : "";
}

static void check_expect_signal(tests_ctx *c, ast_expect *ex) {
  const char *signal = ex->signal.text;
  if (signal) {
    bool emitted = false;
    for (int i = 0; i < c->p->units.len && !emitted; i++)
      emitted = emits_signal(unit_emits(c->p->units.items[i]), signal);
    if (!emitted)
      diag_error(c->d, ex->signal.loc, DIAG_E59,
                 "no milestone or playbook emits \"%s\", so this expectation cannot hold%s", signal,
                 signal_hint(c, signal));
  }
  check_test_time(c, ex->at, "the time after `at`");
}

static void check_test(tests_ctx *c, ast_decl *d) {
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
      if (ev->event.text)
        diag_error(c->d, ev->event.loc, DIAG_E28, "unknown event `%s`%s", ev->event.text,
                   hint_among(c, ev->event.text, &c->p->events));
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

void tests_check(msl_program *p, ty_ctx *ty, diag_list *d) {
  tests_ctx c = {.p = p, .arena = p->arena, .d = d, .ty = ty, .hint_budget = SEMA_HINT_BUDGET};
  for (int i = 0; i < p->tests.len; i++) check_test(&c, p->tests.items[i]);
}
