/* test.c — `msl test` (prefix test_): each `test` block of the files given
 * is run as one account through the compiled program and the VM, fed the
 * way `msl run` feeds an account (worker.c: the account's fields, then its
 * events in time order, then vm_finish at the as-of time), and each
 * `expect` is compared with the account's result rows.  Only the tests of
 * the files named run: an imported module's tests are its own file's.
 * test_report.c writes the outcome. */
#include "cli/test.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bc/compile.h"
#include "cli/cli.h"
#include "cli/run.h"
#include "core/htable.h"
#include "core/util.h"
#include "io/output.h"
#include "vm/vm.h"

typedef struct test_options {
  regex_t filter;          /* --run */
  bool has_filter;
  bool allow_ffi;
} test_options;

/* One file's program, and where its tests' observations go. */
typedef struct file_ctx {
  test_run *run;
  test_file *out;
  const msl_program *prog;
  const bc_program *p;
  native_fn *const *externs;
  arena *a;                /* the file's: what its tests need while they run */
  vm_runtime *rt;          /* its tests' accounts, one after another; NULL after a runtime error */
  htable milestones, playbooks, events;   /* name -> bc_milestone*, bc_playbook*, bc_event* */
  /* coverage: per milestone, the item of entry, exit, blocked when and
   * action i (slots 0, 1, 2, 3 + i); per playbook, the item of each step;
   * NULL for an imported unit, -1 for a clause it lacks */
  int32_t **crit, **steps;
  vm_observer observer;
} file_ctx;

enum { SLOT_ENTRY, SLOT_EXIT, SLOT_BLOCKED, SLOT_ACTIONS };

/* ---- coverage ---------------------------------------------------------------------------- */

bool test_cov_covered(const test_cov_item *it) {
  return it->kind == TEST_COV_STEP || it->kind == TEST_COV_SIGNAL ? it->seen_true : it->seen_true && it->seen_false;
}

static int32_t cov_add(file_ctx *c, test_cov_kind kind, const char *unit, const char *name) {
  test_cov_item *it = arena_alloc(c->run->arena, sizeof *it);
  *it = (test_cov_item){.kind = kind, .unit = unit, .name = name};
  ptr_vec_push(c->run->arena, &c->out->cov, it);
  return c->out->cov.len - 1;
}

static void cov_add_signal(file_ctx *c, const char *unit, uint32_t signal) {
  cov_add(c, TEST_COV_SIGNAL, unit, arena_strdup(c->run->arena, bc_str(c->p, signal)));
}

/* The items of the file's own milestones and playbooks, in declaration order. */
static void cov_build(file_ctx *c) {
  const bc_program *p = c->p;
  c->crit = arena_alloc(c->a, ((size_t)p->nmilestones + 1) * sizeof *c->crit);
  c->steps = arena_alloc(c->a, ((size_t)p->nplaybooks + 1) * sizeof *c->steps);
  for (int u = 0; u < c->prog->units.len; u++) {
    const ast_decl *d = c->prog->units.items[u];
    if (d->module != c->prog->main) continue;
    const char *unit = arena_strdup(c->run->arena, d->name.text);
    if (d->kind == DECL_PLAYBOOK) {
      const bc_playbook *pb = &p->playbooks[d->u.playbook.index];
      int32_t *slots = c->steps[d->u.playbook.index] = arena_alloc(c->a, (pb->nsteps + 1) * sizeof *slots);
      for (uint32_t k = 0; k < pb->nsteps; k++)
        slots[k] = cov_add(c, TEST_COV_STEP, unit, arena_strdup(c->run->arena, bc_str(p, pb->steps[k].name)));
      for (uint32_t i = 0; i < pb->nemits; i++) cov_add_signal(c, unit, pb->emits[i]);
      continue;
    }
    const bc_milestone *m = &p->milestones[d->u.milestone.index];
    int32_t *slots = c->crit[d->u.milestone.index] = arena_alloc(c->a, (SLOT_ACTIONS + m->nactions) * sizeof *slots);
    slots[SLOT_ENTRY] = m->entry_block != BC_NO_BLOCK ? cov_add(c, TEST_COV_ENTRY, unit, NULL) : -1;
    slots[SLOT_EXIT] = m->exit_block != BC_NO_BLOCK ? cov_add(c, TEST_COV_EXIT, unit, NULL) : -1;
    for (uint32_t i = 0; i < m->nactions; i++) {
      const char *action = arena_strdup(c->run->arena, bc_str(p, m->actions[i].name));
      slots[SLOT_ACTIONS + i] = cov_add(c, TEST_COV_ACTION, unit, action);
    }
    slots[SLOT_BLOCKED] = m->blocked_block != BC_NO_BLOCK ? cov_add(c, TEST_COV_BLOCKED, unit, NULL) : -1;
    for (uint32_t i = 0; i < m->nemits; i++) cov_add_signal(c, unit, m->emits[i].signal);
  }
}

static void observe_criterion(void *ctx, const vm_account *a, uint32_t m, vm_criterion kind, uint32_t action,
                              int64_t t, bool value) {
  (void)a, (void)t;
  const file_ctx *c = ctx;
  const int32_t *slots = c->crit[m];
  if (!slots) return;
  int32_t i = slots[kind == VM_CRIT_ENTRY ? SLOT_ENTRY
                    : kind == VM_CRIT_EXIT ? SLOT_EXIT
                    : kind == VM_CRIT_BLOCKED ? SLOT_BLOCKED
                                              : SLOT_ACTIONS + action];
  if (i < 0) return;
  test_cov_item *it = c->out->cov.items[i];
  if (value) it->seen_true = true;
  else it->seen_false = true;
}

static void observe_step(void *ctx, const vm_account *a, uint32_t playbook, int32_t step, int64_t t) {
  (void)a, (void)t;
  const file_ctx *c = ctx;
  if (!c->steps[playbook] || step < 0 || (uint32_t)step >= c->p->playbooks[playbook].nsteps) return;
  ((test_cov_item *)c->out->cov.items[c->steps[playbook][step]])->seen_true = true;
}

static void cov_signal_expected(file_ctx *c, const char *signal) {
  for (int i = 0; i < c->out->cov.len; i++) {
    test_cov_item *it = c->out->cov.items[i];
    if (it->kind == TEST_COV_SIGNAL && strcmp(it->name, signal) == 0) it->seen_true = true;
  }
}

/* ---- the test's account and events --------------------------------------------------------- */

/* The constant the checker gave a test value (widened to float where the field is). */
static value_data test_value(const ast_expr *e) {
  const ast_value *v = &e->const_value;
  switch (v->type) {
    case VALUE_BOOL: return (value_data){.b = v->u.b};
    case VALUE_FLOAT: return (value_data){.f = v->u.f};
    case VALUE_STRING: return (value_data){.s = {v->u.str.s, (uint32_t)v->u.str.len}};
    default: return (value_data){.i = v->u.i};
  }
}

/* Field values in the program's order: the assignments given, defaults for the rest. */
static value_data *field_values(file_ctx *c, const bc_field *fields, uint32_t n, const ptr_vec *assigns) {
  value_data *vals = arena_alloc(c->a, (n + 1) * sizeof *vals);
  for (uint32_t i = 0; i < n; i++)
    if (fields[i].has_default) vals[i] = c->p->consts[fields[i].default_const].v;
  for (int k = 0; k < assigns->len; k++) {
    const ast_assign *as = assigns->items[k];
    for (uint32_t i = 0; i < n; i++)
      if (strcmp(bc_str(c->p, fields[i].name), as->field.text) == 0) vals[i] = test_value(as->value);
  }
  return vals;
}

typedef struct test_event {
  io_event ev;
  int order;               /* in the block: the tie-break that keeps the sort stable */
} test_event;

static int test_event_cmp(const void *x, const void *y) {
  const test_event *a = x, *b = y;
  if (a->ev.time != b->ev.time) return a->ev.time < b->ev.time ? -1 : 1;
  return (a->order > b->order) - (a->order < b->order);
}

static int control_type(const char *name) {
  static const struct { const char *name; int type; } controls[] = {
      {"assign", IO_EV_ASSIGN}, {"reset", IO_EV_RESET},       {"unblock", IO_EV_UNBLOCK},
      {"block", IO_EV_BLOCK},   {"complete", IO_EV_COMPLETE}, {"advance", IO_EV_ADVANCE},
  };
  if (strncmp(name, "ms.", 3) == 0) name += 3;
  for (size_t i = 0; i < sizeof controls / sizeof *controls; i++)
    if (strcmp(name, controls[i].name) == 0) return controls[i].type;
  return IO_EV_UNDECLARED;   /* the checker let no other name through */
}

static test_event to_event(file_ctx *c, const ast_test_event *te, int order) {
  test_event t = {.order = order};
  t.ev = (io_event){.time = te->time->const_value.u.i, .milestone = {"", 0}, .playbook = {"", 0},
                    .file = c->out->path, .line = te->loc.line};
  if (te->control) {
    t.ev.type = control_type(te->event.text);
    for (int k = 0; k < te->fields.len; k++) {
      const ast_assign *as = te->fields.items[k];
      value_str name = test_value(as->value).s;
      if (strcmp(as->field.text, "milestone") == 0) t.ev.milestone = name;
      else t.ev.playbook = name;
    }
    return t;
  }
  const bc_event *e = htable_get_str(&c->events, te->event.text);
  t.ev.type = (int)(e - c->p->events);
  t.ev.values = field_values(c, e->fields, e->nfields, &te->fields);
  return t;
}

/* ---- expectations --------------------------------------------------------------------------- */

/* The text of loc in its source, white space runs as one space. */
static const char *source_text(arena *a, msl_loc loc) {
  const msl_source *s = loc.src;
  if (!s) return "";
  size_t at[2];
  int lines[2] = {loc.line, loc.end_line}, cols[2] = {loc.col, loc.end_col};
  for (int k = 0; k < 2; k++) {
    size_t off = 0;
    if (s->line_starts && lines[k] >= 1 && lines[k] <= s->nlines) off = s->line_starts[lines[k] - 1];
    else
      for (int l = 1; l < lines[k] && off < s->len; off++)
        if (s->text[off] == '\n') l++;
    off += (size_t)(cols[k] > 0 ? cols[k] - 1 : 0);
    at[k] = off < s->len ? off : s->len;
  }
  size_t end = at[1] < s->len ? at[1] + 1 : s->len;
  if (end < at[0]) end = at[0];
  char *out = arena_alloc(a, end - at[0] + 1);
  size_t n = 0;
  for (size_t i = at[0]; i < end; i++) {
    bool space = s->text[i] == ' ' || s->text[i] == '\t' || s->text[i] == '\n' || s->text[i] == '\r';
    if (!space) out[n++] = s->text[i];
    else if (n && out[n - 1] != ' ') out[n++] = ' ';
  }
  while (n && out[n - 1] == ' ') n--;
  out[n] = '\0';
  return out;
}

static const char *time_text(arena *a, int64_t t) {
  if (t == OUT_NO_TIME) return "empty";
  char buf[32];
  io_format_time(t, buf);
  return arena_strdup(a, buf);
}

static const char *run_copy(arena *a, const char *s) { return s ? arena_strdup(a, s) : NULL; }

/* Records a failure; its texts are copied to the run's arena, since the
 * report comes after the file's arena (its AST, its names) is gone. */
static void add_failure(file_ctx *c, test_result *res, msl_loc loc, const char *expect, const char *expected,
                        const char *actual, const char *message) {
  arena *a = c->run->arena;
  test_failure *f = arena_alloc(a, sizeof *f);
  *f = (test_failure){.line = loc.line, .col = loc.col, .expect = run_copy(a, expect),
                      .expected = run_copy(a, expected), .actual = run_copy(a, actual),
                      .message = message ? run_copy(a, message)
                                         : arena_printf(a, "expected %s, actual %s", expected, actual)};
  ptr_vec_push(a, &res->failures, f);
}

/* The row of the unit named ex's target; NULL (after recording the
 * failure) when it does not apply to the test account. */
static const void *unit_row(file_ctx *c, test_result *res, const ast_expect *ex, const char *expected,
                            const vm_results *r, bool playbook) {
  if (playbook) {
    const bc_playbook *pb = htable_get_str(&c->playbooks, ex->target.text);
    for (int i = 0; i < r->nplaybooks; i++)
      if (&c->p->playbooks[r->playbooks[i].playbook] == pb) return &r->playbooks[i];
  } else {
    const bc_milestone *m = htable_get_str(&c->milestones, ex->target.text);
    for (int i = 0; i < r->nmilestones; i++)
      if (&c->p->milestones[r->milestones[i].milestone] == m) return &r->milestones[i];
  }
  arena *a = c->a;
  add_failure(c, res, ex->loc, source_text(a, ex->loc), expected, "does not apply",
              arena_printf(a, "%s `%s` does not apply to the test account (it is in none of its segments)",
                           playbook ? "playbook" : "milestone", ex->target.text));
  return NULL;
}

static void expect_status(file_ctx *c, test_result *res, const ast_expect *ex, const vm_results *r) {
  arena *a = c->a;
  const char *want = ex->member.text;
  int64_t at = ex->at ? ex->at->const_value.u.i : OUT_NO_TIME;
  const char *expected = ex->at ? arena_printf(a, "%s at %s", want, time_text(a, at)) : want;
  const out_milestone_row *row = unit_row(c, res, ex, expected, r, false);
  if (!row) return;
  const char *got = out_status_name(row->status);
  if (strcmp(got, want) == 0 && (!ex->at || row->achieved_at == at)) return;
  const char *actual = got;
  if (ex->at && row->achieved_at != OUT_NO_TIME) {
    bool achieved = row->status == OUT_ST_COMPLETED || row->status == OUT_ST_ACHIEVING;
    actual = arena_printf(a, achieved ? "%s at %s" : "%s (achieved at %s)", got, time_text(a, row->achieved_at));
  }
  add_failure(c, res, ex->loc, source_text(a, ex->loc), expected, actual, NULL);
}

/* progress as milestones.csv writes it: 4 decimals, half away from zero, trailing zeros dropped */
static double progress_rounded(const out_milestone_row *row) {
  int64_t scaled = ((int64_t)row->actions_done * 20000 + row->actions_total) / ((int64_t)row->actions_total * 2);
  return (double)scaled / 10000.0;
}

static const char *number_text(arena *a, double x) {
  char *s = arena_printf(a, "%.4f", x);
  char *end = s + strlen(s);
  while (end[-1] == '0') *--end = '\0';
  if (end[-1] == '.') end[-1] = '\0';
  return s;
}

static void expect_field(file_ctx *c, test_result *res, const ast_expect *ex, const vm_results *r) {
  arena *a = c->a;
  const char *field = ex->member.text;
  const ast_value *want = &ex->value->const_value;
  const char *expected = want->type == VALUE_BOOL    ? (want->u.b ? "true" : "false")
                         : want->type == VALUE_FLOAT ? number_text(a, want->u.f)
                                                     : time_text(a, want->u.i);
  const out_milestone_row *row = unit_row(c, res, ex, expected, r, false);
  if (!row) return;
  const char *actual;
  bool ok;
  if (strcmp(field, "on_time") == 0) {
    ok = row->on_time == (want->u.b ? 1 : 0);
    actual = row->on_time < 0 ? "empty" : row->on_time ? "true" : "false";
  } else if (strcmp(field, "progress") == 0) {
    ok = row->actions_total > 0 && fabs(progress_rounded(row) - want->u.f) < 1e-9;
    actual = row->actions_total > 0 ? number_text(a, progress_rounded(row)) : "empty (the milestone has no actions)";
  } else {
    int64_t got = strcmp(field, "started_at") == 0    ? row->started_at
                  : strcmp(field, "entered_at") == 0  ? row->entered_at
                  : strcmp(field, "achieved_at") == 0 ? row->achieved_at
                  : strcmp(field, "lost_at") == 0     ? row->lost_at
                                                      : row->deadline_at;
    ok = got == want->u.i;
    actual = time_text(a, got);
  }
  if (!ok) add_failure(c, res, ex->loc, source_text(a, ex->loc), expected, actual, NULL);
}

static void expect_step(file_ctx *c, test_result *res, const ast_expect *ex, const vm_results *r) {
  const char *want = ex->member.text;
  const out_playbook_row *row = unit_row(c, res, ex, want, r, true);
  if (!row) return;
  const bc_playbook *pb = &c->p->playbooks[row->playbook];
  const char *got = row->step < 0                         ? "none (the playbook has not started)"
                    : (uint32_t)row->step == pb->nsteps ? "done"
                                                          : bc_str(c->p, pb->steps[row->step].name);
  if (strcmp(got, want) != 0)
    add_failure(c, res, ex->loc, source_text(c->a, ex->loc), want, got, NULL);
}

static void expect_signal(file_ctx *c, test_result *res, const ast_expect *ex, const vm_results *r) {
  arena *a = c->a;
  const char *want = ex->signal.text;
  int64_t at = ex->at ? ex->at->const_value.u.i : OUT_NO_TIME;
  const char *times = NULL;
  for (int i = 0; i < r->nsignals; i++) {
    const out_signal *s = &r->signals[i];
    if (strcmp(bc_str(c->p, s->signal), want) != 0) continue;
    if (!ex->at || s->time == at) {
      cov_signal_expected(c, want);
      return;
    }
    times = arena_printf(a, "%s%s%s", times ? times : "", times ? ", " : "", time_text(a, s->time));
  }
  const char *expected = ex->at ? arena_printf(a, "emitted at %s", time_text(a, at)) : "emitted";
  add_failure(c, res, ex->loc, source_text(a, ex->loc), expected,
              times ? arena_printf(a, "emitted at %s", times) : "not emitted", NULL);
}

/* ---- running a test ----------------------------------------------------------------------- */

static void fail_test(file_ctx *c, test_result *res, const ast_decl *d, const char *message) {
  add_failure(c, res, d->loc, NULL, NULL, NULL, message);
}

static void evaluate(file_ctx *c, const ast_decl *d, test_result *res) {
  const ast_test *t = &d->u.test;
  int n = t->events.len;
  test_event *evs = arena_alloc(c->a, ((size_t)n + 1) * sizeof *evs);
  int64_t latest = INT64_MIN;
  for (int i = 0; i < n; i++) {
    evs[i] = to_event(c, t->events.items[i], i);
    if (evs[i].ev.time > latest) latest = evs[i].ev.time;
  }
  if (!t->as_of && n == 0) {
    fail_test(c, res, d, "the test has no events and no `as_of`, so it has no as-of time: add `as_of TIME`");
    return;
  }
  int64_t as_of = t->as_of ? t->as_of->const_value.u.i : latest;
  if (n > 0) qsort(evs, (size_t)n, sizeof *evs, test_event_cmp);
  const char *id_text = t->account_id.text ? t->account_id.text : "test";
  value_str id = {id_text, (uint32_t)strlen(id_text)};
  const bc_program *p = c->p;
  /* one runtime for every test of the file (a new one per test would
   * allocate and clear its slabs each time), except after a runtime error */
  if (!c->rt) {
    c->rt = vm_runtime_new(p, c->externs);
    if (c->run->coverage) vm_set_observer(c->rt, &c->observer);
  }
  vm_runtime *rt = c->rt;
  vm_account *acct = vm_account_new(rt, id, field_values(c, p->account_fields, p->naccount_fields, &t->account_fields));
  bool ok = acct != NULL;
  for (int i = 0; ok && i < n; i++) {
    evs[i].ev.account = id;
    if (evs[i].ev.time <= as_of) ok = vm_push(rt, acct, &evs[i].ev) == VM_OK;   /* SPEC 6: later ones are ignored */
  }
  vm_results r;
  ok = ok && vm_flush(rt) && vm_finish(rt, acct, as_of, &r);
  for (int i = 0; ok && i < t->expects.len; i++) {
    const ast_expect *ex = t->expects.items[i];
    switch (ex->kind) {
      case EXPECT_STATUS: expect_status(c, res, ex, &r); break;
      case EXPECT_FIELD: expect_field(c, res, ex, &r); break;
      case EXPECT_STEP: expect_step(c, res, ex, &r); break;
      case EXPECT_SIGNAL: expect_signal(c, res, ex, &r); break;
    }
  }
  vm_account_free(rt, acct);
  if (!ok) {
    fail_test(c, res, d, vm_error(rt));
    vm_runtime_free(rt);
    c->rt = NULL;
  }
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_test(file_ctx *c, const ast_decl *d) {
  test_result *res = arena_alloc(c->run->arena, sizeof *res);
  res->name = arena_strdup(c->run->arena, d->u.test.name.text ? d->u.test.name.text : "");
  res->line = d->loc.line;
  res->col = d->loc.col;
  double start = now_seconds();
  evaluate(c, d, res);
  res->seconds = now_seconds() - start;
  ptr_vec_push(c->run->arena, &c->out->results, res);
  if (res->failures.len) c->run->failed++;
  else c->run->passed++;
}

/* ---- files -------------------------------------------------------------------------------- */

static void index_names(file_ctx *c) {
  const bc_program *p = c->p;
  htable_init(&c->milestones, c->a);
  htable_init(&c->playbooks, c->a);
  htable_init(&c->events, c->a);
  for (uint32_t i = 0; i < p->nmilestones; i++)
    htable_put_str(&c->milestones, bc_str(p, p->milestones[i].name), &p->milestones[i]);
  for (uint32_t i = 0; i < p->nplaybooks; i++)
    htable_put_str(&c->playbooks, bc_str(p, p->playbooks[i].name), &p->playbooks[i]);
  for (uint32_t i = 0; i < p->nevents; i++) htable_put_str(&c->events, bc_str(p, p->events[i].name), &p->events[i]);
}

static bool selected(const test_options *o, const ast_decl *d) {
  return !o->has_filter || regexec(&o->filter, d->u.test.name.text ? d->u.test.name.text : "", 0, NULL, 0) == 0;
}

/* Runs the selected tests of a compiled file; the exit status of binding its externs. */
static int run_tests(file_ctx *c, const test_options *o) {
  index_names(c);
  cov_build(c);
  c->observer = (vm_observer){.criterion = observe_criterion, .step = observe_step, .ctx = c};
  bool any = false;
  for (int i = 0; i < c->prog->tests.len && !any; i++) any = selected(o, c->prog->tests.items[i]);
  if (!any) return EXIT_OK;   /* nothing to run: no library is loaded */
  cli_externs x;
  int status = cli_externs_bind(c->p, o->allow_ffi, &x);
  if (status)
    c->out->error = status == EXIT_USAGE ? "it calls native code from outside the stdlib: run with --allow-ffi"
                                         : "a native function it calls could not be loaded";
  c->externs = x.fns;
  for (int i = 0; !status && i < c->prog->tests.len; i++)
    if (selected(o, c->prog->tests.items[i])) run_test(c, c->prog->tests.items[i]);
  vm_runtime_free(c->rt);
  cli_externs_free(&x);
  return status;
}

static int run_file(test_run *run, const test_options *o, const char *path) {
  test_file *f = arena_alloc(run->arena, sizeof *f);
  f->path = arena_strdup(run->arena, path);
  ptr_vec_push(run->arena, &run->files, f);
  arena a;
  arena_init(&a);
  diag_list d;
  diag_init(&d, &a);
  int status, io_errno = 0;
  msl_program *prog = cli_load_checked(&a, path, false, false, &d, &status, &io_errno);
  bc_program *p = prog ? compile_and_verify(prog, &d) : NULL;
  if (prog && !p) status = EXIT_RULES;
  if (d.first) cli_print_diags(&d, DIAG_FORMAT_TEXT);
  if (p) {
    file_ctx c = {.run = run, .out = f, .prog = prog, .p = p, .a = &a};
    status = run_tests(&c, o);
    bc_program_free(p);
  } else {
    f->error = status == EXIT_IO ? arena_printf(run->arena, "cannot read it: %s", strerror(io_errno))
                                 : "it has errors (see above, or run `msl check`)";
  }
  arena_free(&a);
  return status;
}

/* ---- the command -------------------------------------------------------------------------- */

/* The status of two failures together: I/O first, then usage, then rules. */
static int worse(int a, int b) {
  static const int rank[] = {[EXIT_OK] = 0, [EXIT_RULES] = 1, [EXIT_USAGE] = 2, [EXIT_IO] = 3};
  return rank[b] > rank[a] ? b : a;
}

static const char *const test_options_known[] = {"--run", "--format", "--coverage", "--threshold", "-v",
                                                 "--verbose", "--allow-ffi", NULL};

static int parse_options(int argc, char **argv, test_run *run, test_options *o, const char **files, int *nfiles) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (strcmp(a, "--run") == 0 && has_value) {
      int err = regcomp(&o->filter, argv[++i], REG_EXTENDED | REG_NOSUB);
      if (err) {
        char msg[256];
        regerror(err, &o->filter, msg, sizeof msg);
        return cli_usage_error("--run: `%s` is not a regular expression: %s", argv[i], msg);
      }
      if (o->has_filter) regfree(&o->filter);   /* the last --run wins */
      o->has_filter = true;
    } else if (strcmp(a, "--format") == 0 && has_value) {
      const char *f = argv[++i];
      if (strcmp(f, "text") == 0) run->format = TEST_FORMAT_TEXT;
      else if (strcmp(f, "json") == 0) run->format = TEST_FORMAT_JSON;
      else if (strcmp(f, "junit") == 0) run->format = TEST_FORMAT_JUNIT;
      else return cli_usage_error("unknown test report format `%s` (text, json or junit)", f);
    } else if (strcmp(a, "--threshold") == 0 && has_value) {
      const char *n = argv[++i];
      char *end;
      run->threshold = strtod(n, &end);
      if (end == n || *end || !(run->threshold >= 0 && run->threshold <= 100))
        return cli_usage_error("--threshold: `%s` is not a percentage (0 to 100)", n);
      run->coverage = true;
    } else if (strcmp(a, "--coverage") == 0) {
      run->coverage = true;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
      run->verbose = true;
    } else if (strcmp(a, "--allow-ffi") == 0) {
      o->allow_ffi = true;
    } else if (a[0] == '-' && a[1]) {
      bool known = false;
      for (const char *const *k = test_options_known; *k && !known; k++) known = strcmp(a, *k) == 0;
      return known ? cli_usage_error("%s needs a value", a) : cli_unknown_option("test", a, test_options_known);
    } else if (cli_ends_with(a, ".msc")) {
      return cli_usage_error("test needs the rule file: `%s` is compiled and holds no tests", a);
    } else {
      files[(*nfiles)++] = a;
    }
  }
  return *nfiles ? EXIT_OK : cli_usage_error("%s", "test needs at least one FILE");
}

int test_command(int argc, char **argv) {
  arena ra;
  arena_init(&ra);
  test_run run = {.arena = &ra, .threshold = -1};
  test_options o = {0};
  const char **files = util_xalloc(((size_t)argc + 1) * sizeof *files);
  int nfiles = 0;
  int status = parse_options(argc, argv, &run, &o, files, &nfiles);
  if (!status) {
    for (int i = 0; i < nfiles; i++) status = worse(status, run_file(&run, &o, files[i]));
    if (run.failed) status = worse(status, EXIT_RULES);
    if (o.has_filter && !run.passed && !run.failed) fputs("msl: no test matches --run\n", stderr);
    int covered, total;
    test_cov_totals(&run, &covered, &total);
    double percent = test_cov_percent(covered, total);
    if (run.threshold >= 0 && percent < run.threshold) {
      fprintf(stderr, "msl: coverage %.2f%% is below --threshold %g%%\n", percent, run.threshold);
      status = worse(status, EXIT_RULES);
    }
    if (!test_report(&run, stdout) || fflush(stdout) != 0) {
      fprintf(stderr, "msl: standard output: %s\n", strerror(errno ? errno : EIO));
      status = EXIT_IO;
    }
  }
  if (o.has_filter) regfree(&o.filter);
  free(files);
  arena_free(&ra);
  return status;
}
