/* test_sema.c — imports, names, types, inlining, constant folding and lints
 * (sema.c, resolve.c, types.c, lint.c), one rule file per line. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front/codes.h"
#include "front/parse.h"
#include "front/sema.h"

/* ---- helpers ------------------------------------------------------------------- */

typedef struct checked {
  arena arena;
  diag_list diags;
  msl_program *program;
  bool ok;
} checked;

static checked *check_text(const char *text, bool lints) {
  checked *c = calloc(1, sizeof *c);
  ck_assert_ptr_nonnull(c);
  arena_init(&c->arena);
  diag_init(&c->diags, &c->arena);
  msl_source *src = source_from_string(&c->arena, "test.ms", text, strlen(text));
  sema_options opts = {.lints = lints};
  c->program = sema_load_source(&c->arena, src, &opts, &c->diags);
  ck_assert_ptr_nonnull(c->program);
  c->ok = sema_check(c->program, &opts, &c->diags);
  return c;
}

static void release(checked *c) {
  arena_free(&c->arena);
  free(c);
}

/* Every diagnostic, one a line, for failure messages. */
static const char *listing(checked *c) {
  const char *out = "";
  for (const diag *g = c->diags.first; g; g = g->next)
    out = arena_printf(&c->arena, "%s\n  %d:%d %c%03d %s", out, g->loc.line, g->loc.col, g->kind,
                       g->code, g->message);
  return *out ? out : " (none)";
}

static bool has_diag(checked *c, char kind, int code) {
  for (const diag *g = c->diags.first; g; g = g->next)
    if (g->kind == kind && g->code == code) return true;
  return false;
}

#define assert_ok(text) assert_ok_(text, __LINE__)
static void assert_ok_(const char *text, int line) {
  checked *c = check_text(text, false);
  ck_assert_msg(c->ok && c->diags.errors == 0, "line %d: expected no errors, got:%s", line, listing(c));
  release(c);
}

/* No errors and no warnings with the lints on. */
#define assert_clean(text) assert_clean_(text, __LINE__)
static void assert_clean_(const char *text, int line) {
  checked *c = check_text(text, true);
  ck_assert_msg(c->ok && c->diags.first == NULL, "line %d: expected nothing, got:%s", line, listing(c));
  release(c);
}

#define assert_error(text, code) assert_error_(text, code, __LINE__)
static void assert_error_(const char *text, int code, int line) {
  checked *c = check_text(text, false);
  ck_assert_msg(!c->ok && has_diag(c, 'E', code), "line %d: expected E%03d, got:%s", line, code,
                listing(c));
  release(c);
}

/* The error, and only errors of that code. */
#define assert_only_error(text, code) assert_only_error_(text, code, __LINE__)
static void assert_only_error_(const char *text, int code, int line) {
  checked *c = check_text(text, false);
  bool only = c->diags.first != NULL;
  for (const diag *g = c->diags.first; g; g = g->next) only = only && g->kind == 'E' && g->code == code;
  ck_assert_msg(!c->ok && only, "line %d: expected only E%03d, got:%s", line, code, listing(c));
  release(c);
}

#define assert_warning(text, code) assert_warning_(text, code, __LINE__)
static void assert_warning_(const char *text, int code, int line) {
  checked *c = check_text(text, true);
  ck_assert_msg(c->diags.errors == 0 && has_diag(c, 'W', code), "line %d: expected W%03d, got:%s", line,
                code, listing(c));
  release(c);
}

#define assert_no_warning(text, code) assert_no_warning_(text, code, __LINE__)
static void assert_no_warning_(const char *text, int code, int line) {
  checked *c = check_text(text, true);
  ck_assert_msg(c->diags.errors == 0 && !has_diag(c, 'W', code), "line %d: expected no W%03d, got:%s",
                line, code, listing(c));
  release(c);
}

static ast_decl *find_decl(const ptr_vec *v, const char *name) {
  for (int i = 0; i < v->len; i++) {
    ast_decl *d = v->items[i];
    if (d->name.text && strcmp(d->name.text, name) == 0) return d;
  }
  ck_abort_msg("no declaration `%s`", name);
  return NULL;
}

/* The constant value of `let NAME`. */
static ast_value let_value(checked *c, const char *name) {
  ast_expr *e = find_decl(&c->program->lets, name)->u.let.expr;
  ck_assert_msg(e->is_const, "let %s is not constant:%s", name, listing(c));
  return e->const_value;
}

#define DAY_US 86400000000LL

/* ---- the SPEC §2 example --------------------------------------------------------- */

static const char spec_example[] =
    "account {\n"
    "  plan: string\n"
    "  seats: int = 0\n"
    "  kickoff: time = @1970-01-01\n"
    "  report_target: int = 1\n"
    "  owner_email: string = \"\"\n"
    "}\n"
    "event login { user: string }\n"
    "event feature_used { feature: string, module: string = \"\" }\n"
    "event report_created { template: string = \"blank\" }\n"
    "event ticket_opened { severity: string }\n"
    "event integration_connected\n"
    "segment enterprise = account.plan == \"enterprise\" or account.seats >= 200\n"
    "segment smb = not enterprise\n"
    "segment internal = email_domain(account.owner_email) == \"example.com\"\n"
    "let active_window = 30d\n"
    "fn active_users(w: duration) = distinct(login.user within w)\n"
    "milestone kickoff \"Kickoff held\" {\n"
    "  description \"Kickoff call done and goals agreed\"\n"
    "  csm \"Run the kickoff call\"\n"
    "  customer \"Name an executive sponsor\"\n"
    "  segments enterprise\n"
    "  start at account.kickoff\n"
    "  deadline 7d\n"
    "  exit count(feature_used where feature == \"kickoff_form\") >= 1\n"
    "}\n"
    "milestone first_report \"First report\" {\n"
    "  description \"The customer built their first report\"\n"
    "  group \"Activation\"\n"
    "  start after kickoff\n"
    "  deadline 14d\n"
    "  estimate 10d\n"
    "  action connect \"Connect the CRM\" owner customer done when count(integration_connected) >= 1\n"
    "  action build \"Build a report\"   owner customer done when count(report_created since start) >= "
    "account.report_target\n"
    "  blocked when count(ticket_opened where severity == \"high\" within 7d) > 0\n"
    "  on achieved emit \"advocacy_ask\"\n"
    "}\n"
    "milestone sso_done \"SSO\" { description \"SSO is live\"  exit count(login) >= 1 }\n"
    "milestone active \"Active usage\" {\n"
    "  description \"Three active users\"\n"
    "  mode continuous\n"
    "  exit active_users(active_window) >= 3 and count(login within 7d) >= 5\n"
    "}\n"
    "playbook onboarding \"Enterprise onboarding\" {\n"
    "  segments enterprise\n"
    "  step kick  \"Kickoff\"       tracks kickoff      auto\n"
    "  step value \"First value\"   tracks first_report auto\n"
    "  step sso   \"SSO rollout\"   tracks sso_done     when account.seats >= 500\n"
    "  step live  \"Go-live\"       tracks active       auto\n"
    "  on complete emit \"handoff_to_account_manager\"\n"
    "}\n"
    "extern fn churn_risk(seats: int, plan: string) -> float from \"libacme_models\"\n"
    "test \"report after kickoff completes first_report\" {\n"
    "  as_of @2026-02-01\n"
    "  account { plan = \"enterprise\", kickoff = @2026-01-05 }\n"
    "  events {\n"
    "    @2026-01-05T10:00:00Z feature_used { feature = \"kickoff_form\" }\n"
    "    @2026-01-06 integration_connected\n"
    "    @2026-01-09 report_created\n"
    "  }\n"
    "  expect kickoff is completed\n"
    "  expect first_report is completed at @2026-01-09\n"
    "  expect onboarding.step == live\n"
    "}\n";

/* The example imports std/text; the test declares what it uses instead. */
static const char text_externs[] =
    "extern fn email_domain(s: string) -> string from \"libmsl_text\"\n";

START_TEST(spec_example_checks) {
  char *text = malloc(sizeof text_externs + sizeof spec_example);
  ck_assert_ptr_nonnull(text);
  strcpy(text, text_externs);
  strcat(text, spec_example);
  checked *c = check_text(text, true);
  /* its extern is bound but unused (its comment says so), and the segments
   * smb and internal only illustrate: three unused declarations */
  int unused = 0;
  for (const diag *g = c->diags.first; g; g = g->next) {
    ck_assert_msg(g->kind == 'W' && g->code == 2, "unexpected:%s", listing(c));
    unused++;
  }
  ck_assert_msg(unused == 3, "%s", listing(c));
  ck_assert(c->ok);
  msl_program *p = c->program;
  ck_assert_int_eq(p->milestones.len, 4);
  ck_assert_int_eq(p->units.len, 5);
  ast_decl *kickoff = find_decl(&p->milestones, "kickoff");
  ck_assert_int_eq(kickoff->u.milestone.deadline_us, 7 * DAY_US);
  ck_assert_int_eq(kickoff->u.milestone.estimate_us, -1);
  ck_assert_int_eq(kickoff->u.milestone.segment_decls.len, 1);
  ast_decl *first = find_decl(&p->milestones, "first_report");
  ck_assert_ptr_eq(first->u.milestone.start.after_decl, kickoff);
  ck_assert_int_eq(first->u.milestone.estimate_us, 10 * DAY_US);
  ast_action *build = first->u.milestone.actions.items[1];
  ast_expr *agg = build->done_when->u.op.lhs;
  ck_assert_int_eq(agg->kind, EX_AGGREGATE);
  ck_assert(agg->u.agg.window.since_start);
  ck_assert_int_eq(build->done_when->u.op.rhs->index, 3);   /* account.report_target */
  ast_decl *onboarding = find_decl(&p->playbooks, "onboarding");
  ck_assert_int_eq(onboarding->u.playbook.index, 0);
  ast_step *sso = onboarding->u.playbook.steps.items[2];
  ck_assert_ptr_eq(sso->tracks_decl, find_decl(&p->milestones, "sso_done"));
  /* active_users(active_window) is inlined with a 30-day window */
  ast_expr *exit = find_decl(&p->milestones, "active")->u.milestone.exit;
  ast_expr *call = exit->u.op.lhs->u.op.lhs;
  ck_assert_int_eq(call->kind, EX_CALL);
  ck_assert_ptr_nonnull(call->inlined);
  ck_assert_int_eq(call->inlined->kind, EX_AGGREGATE);
  ck_assert_int_eq(call->inlined->u.agg.fn, AGG_DISTINCT);
  ck_assert_int_eq(call->inlined->u.agg.window.duration_us, 30 * DAY_US);
  ck_assert_int_eq(call->type, VALUE_INT);
  /* the fn's own body keeps its parameter */
  ast_expr *body = find_decl(&p->fns, "active_users")->u.fn.body;
  ck_assert_int_eq(body->u.agg.window.expr->binding, BIND_PARAM);
  release(c);
  free(text);
}
END_TEST

/* ---- names ------------------------------------------------------------------------- */

START_TEST(names_resolve) {
  checked *c = check_text(
      "account { target: int = 3 }\n"
      "event report_created { pages: int }\n"
      "let pages = 100\n"
      "milestone big \"Big\" { exit count(report_created where pages >= account.target) >= 1 }\n"
      "milestone let_used \"Let\" { exit count(report_created) * pages >= 200 }\n",
      false);
  ck_assert_msg(c->ok, "%s", listing(c));
  ast_expr *big = find_decl(&c->program->milestones, "big")->u.milestone.exit;
  ast_expr *where = big->u.op.lhs->u.agg.ref.where;
  ck_assert_int_eq(where->u.op.lhs->binding, BIND_EVENT_FIELD);
  ck_assert_int_eq(where->u.op.lhs->index, 0);
  ck_assert_int_eq(where->u.op.rhs->kind, EX_ACCOUNT_FIELD);
  ck_assert_int_eq(where->u.op.rhs->index, 0);
  ast_expr *let_used = find_decl(&c->program->milestones, "let_used")->u.milestone.exit;
  ck_assert_int_eq(let_used->u.op.lhs->u.op.rhs->binding, BIND_LET);
  release(c);
}
END_TEST

START_TEST(name_errors) {
  assert_error("event a\nevent a\n", 22);
  assert_error("segment s = true\nlet s = 1\n", 22);
  assert_error("event a\nmilestone m \"M\" { exit count(a) >= 1 }\nplaybook m \"P\" { }\n", 22);
  assert_ok("event m\nmilestone m \"M\" { exit count(m) >= 1 }\n");   /* separate namespaces */
  assert_error("event a\nmilestone m \"Same\" { exit count(a) >= 1 }\n"
               "milestone n \"Same\" { exit count(a) >= 2 }\n",
               23);
  assert_error("account { a: int = 1 }\naccount { b: int = 1 }\n", 24);
  assert_error("event e { a: int, a: string }\n", 25);
  assert_error("account { a: int = 1  a: int = 2 }\n", 25);
  assert_error("fn f(x: int, x: int) = x\n", 25);
  assert_error("extern fn f(x: int, x: int) -> int from \"lib\"\n", 25);
  assert_error("account { id: string }\n", 26);
  assert_error("event e { time: string }\n", 26);
  assert_error("event e { `event`: string }\n", 26);
  assert_only_error("segment s = seats > 3\n", 27);
  assert_error("event e\nmilestone m \"M\" { exit count(e where nope) >= 1 }\n", 27);
  assert_only_error("milestone m \"M\" { exit count(signup) >= 1 }\n", 28);
  /* an undeclared event's where is not reported a second time */
  assert_only_error("milestone m \"M\" { exit count(signup where plan == 1) >= 1 }\n", 28);
  assert_only_error("event e\nmilestone m \"M\" { start after nope  exit count(e) >= 1 }\n", 29);
  assert_only_error("event e\nmilestone m \"M\" { exit completed(nope) }\n", 29);
  assert_only_error("event e\nplaybook p \"P\" { step a \"A\" tracks nope }\n", 29);
  assert_only_error("event e\nmilestone m \"M\" { segments nope  exit count(e) >= 1 }\n", 30);
  assert_only_error("segment s = account.nope == 1\n", 31);
  assert_only_error("account { a: int = 0 }\nsegment s = account.b == 1\n", 31);
  checked *c = check_text("account { seats: int = 0 }\nsegment s = seats > 3\n", false);
  ck_assert_msg(c->diags.errors == 1 && strstr(c->diags.first->message, "`account.seats`"), "%s",
                listing(c));
  release(c);
  assert_only_error("event e { a: int }\nmilestone m \"M\" { exit sum(e.b) >= 1 }\n", 31);
  assert_only_error("segment s = nope(1)\n", 32);
  assert_only_error("let x = 1\nsegment s = x(1) == 1\n", 33);
  assert_only_error("fn f() = true\nsegment s = f\n", 33);
  assert_only_error("let x = 1\nevent e\nmilestone m \"M\" { segments x  exit count(e) >= 1 }\n", 33);
  assert_only_error("event e\nplaybook p \"P\" { }\nmilestone m \"M\" { start after p  exit count(e) >= 1 }\n",
                    33);
  assert_only_error("event e\nplaybook p \"P\" { }\nmilestone m \"M\" { exit completed(p) }\n", 33);
}
END_TEST

START_TEST(account_id_builtin) {
  checked *c = check_text("segment s = account.id == \"acme\"\n", false);
  ck_assert_msg(c->ok, "%s", listing(c));
  ast_expr *e = find_decl(&c->program->segments, "s")->u.segment.expr;
  ck_assert_int_eq(e->u.op.lhs->index, -1);
  ck_assert_int_eq(e->u.op.lhs->type, VALUE_STRING);
  release(c);
}
END_TEST

/* ---- types --------------------------------------------------------------------------- */

START_TEST(operator_types) {
  assert_ok("let a = 1 + 2.5\nlet b = @2026-01-01 + 1d\nlet c = 1d + @2026-01-01\n"
            "let d = @2026-01-02 - @2026-01-01\nlet e = @2026-01-02 - 1d\nlet f = 2d - 1h\n"
            "let g = 2d * 3\nlet h = 3 * 2d\nlet i = 4d / 2\nlet j = -1d\nlet k = 7 % 3\n"
            "let l = \"a\" < \"b\"\nlet m = true != false\nlet n = @2026-01-01 < @2026-01-02\n"
            "let o = 1 < 2.5\nlet p = not (1 > 2) and true or false\n");
  assert_only_error("segment s = account.plan + 1 > 2\naccount { plan: string = \"\" }\n", 34);
  assert_only_error("let a = \"a\" + \"b\"\n", 34);
  assert_only_error("let a = 1.5 % 2\n", 34);
  assert_only_error("let a = 1d - @2026-01-01\n", 34);
  assert_only_error("let a = 1d * 1.5\n", 34);
  assert_only_error("let a = 1d / 1d\n", 34);
  assert_only_error("let a = -\"x\"\n", 34);
  assert_only_error("let a = not 1\n", 34);
  assert_only_error("let a = 1 and true\n", 34);
  assert_only_error("let a = true < false\n", 34);
  assert_only_error("let a = 1 == \"1\"\n", 34);
  assert_only_error("let a = 1d == 1\n", 34);
  assert_only_error("event e\nmilestone m \"M\" { exit count(e) }\n", 35);
  assert_only_error("segment s = 1\n", 35);
  assert_only_error("event e { n: int }\nmilestone m \"M\" { exit count(e where n) >= 1 }\n", 35);
  assert_only_error("event e\nplaybook p \"P\" { step a \"A\" tracks m when 1 }\n"
                    "milestone m \"M\" { exit count(e) >= 1 }\n",
                    35);
  assert_ok("account { plan: string = \"\" }\nsegment s = account.plan in [\"a\", \"b\"]\n"
            "segment t = account.plan in [\"a\"] and 1.5 in [1, 2.5]\n");
  assert_only_error("account { plan: string = \"\" }\nsegment s = account.plan in [\"a\", 3]\n", 36);
  assert_only_error("account { plan: string = \"\", other: string = \"\" }\n"
                    "segment s = account.plan in [account.other]\n",
                    36);
  assert_only_error("account { seats: int = 0 }\nevent e\n"
                    "milestone m \"M\" { start at account.seats  exit count(e) >= 1 }\n",
                    37);
  assert_only_error("event e\nmilestone m \"M\" { exit count(e within 3) >= 1 }\n", 37);
  assert_only_error("event e\nmilestone m \"M\" { exit count(e since 3) >= 1 }\n", 37);
  assert_only_error("account { seats: int = \"x\" }\n", 37);
  assert_ok("account { score: float = 1 }\n");
}
END_TEST

START_TEST(aggregate_types) {
  checked *c = check_text("event pay { amount: int, ratio: float, user: string, late: duration }\n"
                          "milestone m \"M\" { exit sum(pay.amount) > 1 and avg(pay.amount) > 1.0 and "
                          "max(pay.ratio) > 0.5 and distinct(pay.user) > 1 and distinct(pay.late) > 0 "
                          "and min(pay.amount) >= 0 }\n",
                          false);
  ck_assert_msg(c->ok, "%s", listing(c));
  ast_expr *e = find_decl(&c->program->milestones, "m")->u.milestone.exit;
  /* ((((sum > 1 and avg > 1.0) and max > 0.5) and ...) */
  while (e->u.op.op == OP_AND) e = e->u.op.lhs;
  ck_assert_int_eq(e->u.op.lhs->type, VALUE_INT);   /* sum of ints */
  release(c);
  assert_only_error("event pay { user: string }\nmilestone m \"M\" { exit max(pay.user) >= 1 }\n", 41);
  assert_only_error("event pay { late: duration }\nmilestone m \"M\" { exit sum(pay.late) >= 1d }\n", 41);
}
END_TEST

START_TEST(windows) {
  assert_ok("event e\nlet w = 2w\nmilestone m \"M\" { exit count(e within w + 1d) >= 1 and "
            "sequence(e, e within 3d) }\n");
  assert_only_error("account { days: duration = 1d }\nevent e\n"
                    "milestone m \"M\" { exit count(e within account.days) >= 1 }\n",
                    38);
  assert_only_error("event e\nmilestone m \"M\" { exit count(e within 0d) >= 1 }\n", 39);
  assert_only_error("event e\nmilestone m \"M\" { exit count(e within -1d) >= 1 }\n", 39);
  assert_only_error("event e\nmilestone m \"M\" { exit sequence(e, e within 0d) }\n", 39);
  assert_ok("account { t: time = @2026-01-01 }\nevent e\n"
            "milestone m \"M\" { exit count(e since account.t - 1d) >= 1 }\n");
  assert_only_error("event e\nmilestone m \"M\" { exit count(e since @2026-01-01 + count(e) * 1d) >= 1 }\n",
                    42);
}
END_TEST

/* A window length that reaches an aggregate through a fn parameter is checked at each call. */
START_TEST(inlined_windows) {
  checked *c = check_text("event login { user: string }\nlet month = 30d\n"
                          "fn active(w: duration) = distinct(login.user within w)\n"
                          "fn twice(w: duration) = active(w * 2)\n"
                          "milestone m \"M\" { exit twice(month) >= 3 and active(1d) >= 1 }\n",
                          false);
  ck_assert_msg(c->ok, "%s", listing(c));
  ast_expr *exit = find_decl(&c->program->milestones, "m")->u.milestone.exit;
  ast_expr *twice = exit->u.op.lhs->u.op.lhs;
  ck_assert_ptr_nonnull(twice->inlined);
  ck_assert_int_eq(twice->inlined->kind, EX_CALL);
  ast_expr *inner = twice->inlined->inlined;
  ck_assert_ptr_nonnull(inner);
  ck_assert_int_eq(inner->u.agg.window.duration_us, 60 * DAY_US);
  ast_expr *active = exit->u.op.rhs->u.op.lhs;
  ck_assert_int_eq(active->inlined->u.agg.window.duration_us, DAY_US);
  /* each clone is a copy: the bodies are untouched */
  ck_assert_int_eq(find_decl(&c->program->fns, "active")->u.fn.body->u.agg.window.duration_us, 0);
  release(c);

  c = check_text("account { trial: duration = 14d }\nevent login { user: string }\n"
                 "fn active(w: duration) = distinct(login.user within w)\n"
                 "milestone m \"M\" { exit active(account.trial) >= 3 }\n",
                 false);
  ck_assert(!c->ok);
  ck_assert_int_eq(c->diags.errors, 1);
  const diag *g = c->diags.first;
  ck_assert_int_eq(g->code, 38);
  ck_assert_int_eq(g->loc.line, 4);   /* at the call */
  ck_assert_msg(strstr(g->message, "`active`"), "%s", g->message);
  release(c);
  assert_only_error("event e\nfn f(w: duration) = count(e within w)\nmilestone m \"M\" { exit f(0d) >= 1 }\n",
                    39);
  /* a window that does not depend on the parameter is the fn's own mistake, reported once */
  c = check_text("event e\nfn f(x: int) = count(e within 0d) + x\n"
                 "milestone m \"M\" { exit f(1) >= 1 and f(2) >= 1 }\n",
                 false);
  ck_assert_int_eq(c->diags.errors, 1);
  ck_assert_int_eq(c->diags.first->loc.line, 2);
  release(c);
}
END_TEST

START_TEST(inlined_errors_once) {
  /* the parameter is used twice: one error at the call */
  checked *c = check_text("account { d: duration = 1d }\nevent e\n"
                          "fn f(w: duration) = count(e within w) + count(e within w)\n"
                          "milestone m \"M\" { exit f(account.d) > 1 }\n",
                          false);
  ck_assert_msg(c->diags.errors == 1 && c->diags.first->code == 38, "%s", listing(c));
  release(c);
}
END_TEST

START_TEST(inlining_clones_everything) {
  checked *c = check_text("event e { n: int }\n"
                          "fn g(x: string, k: int) = x in [\"a\", \"b\"] and sequence(e where n > k, e within 2d)\n"
                          "milestone m \"M\" { exit g(\"a\", 3) }\n",
                          false);
  ck_assert_msg(c->ok, "%s", listing(c));
  ast_expr *call = find_decl(&c->program->milestones, "m")->u.milestone.exit;
  ast_expr *body = call->inlined;
  ck_assert_ptr_nonnull(body);
  ck_assert(body->u.op.lhs->is_const);          /* "a" in ["a", "b"] */
  ck_assert(body->u.op.lhs->const_value.u.b);
  ast_expr *seq = body->u.op.rhs;
  ck_assert_int_eq(seq->u.seq.window.duration_us, 2 * DAY_US);
  ast_event_ref *first = seq->u.seq.steps.items[0];
  ck_assert(first->where->u.op.rhs->is_const);  /* k replaced by 3 */
  ck_assert_int_eq(first->where->u.op.rhs->const_value.u.i, 3);
  /* the fn's own sequence is a different node */
  ck_assert_ptr_ne(seq, find_decl(&c->program->fns, "g")->u.fn.body->u.op.rhs);
  release(c);
}
END_TEST

/* fns that call fns twice: 2^40 copies if nothing stopped it */
START_TEST(inlining_budget) {
  char text[8192] = "fn f0(x: int) = x + 1\n";
  for (int i = 1; i <= 40; i++) {
    char line[128];
    snprintf(line, sizeof line, "fn f%d(x: int) = f%d(x) + f%d(x + 1)\n", i, i - 1, i - 1);
    strcat(text, line);
  }
  strcat(text, "segment s = f40(1) > 0\n");
  checked *c = check_text(text, false);
  ck_assert_msg(has_diag(c, 'E', 61) && c->diags.errors == 1, "%s", listing(c));
  release(c);
  /* segments that share segments: the prover gives up, soundly and fast */
  char segs[8192] = "account { n: int = 0 }\nevent login\nsegment s0 = account.n > 1\n";
  for (int i = 1; i <= 40; i++) {
    char line[128];
    snprintf(line, sizeof line, "segment s%d = s%d and (s%d or account.n > %d)\n", i, i - 1, i - 1, i);
    strcat(segs, line);
  }
  strcat(segs, "milestone a \"A\" { description \"d\" segments s40  exit count(login) >= 1 }\n"
               "milestone b \"B\" { description \"d\" segments s40  start after a  exit count(login) >= 2 }\n");
  c = check_text(segs, true);
  ck_assert_msg(c->ok, "%s", listing(c));
  release(c);
}
END_TEST

START_TEST(inlining_substitutes) {
  checked *c = check_text("fn half(x: float) = x / 2\nfn add(a: int, b: int) = a + b\n"
                          "let h = half(3)\nlet s = add(add(1, 2), 3)\n",
                          false);
  ck_assert_msg(c->ok, "%s", listing(c));
  ast_value h = let_value(c, "h");
  ck_assert_int_eq(h.type, VALUE_FLOAT);
  ck_assert_double_eq(h.u.f, 1.5);   /* not 3 / 2 == 1: the int argument became a float */
  ck_assert_int_eq(let_value(c, "s").u.i, 6);
  release(c);
  /* a where-bound argument stays bound to the caller's event */
  c = check_text("event login { user: string }\nfn is_bot(u: string) = u == \"bot\"\n"
                 "milestone m \"M\" { exit count(login where not is_bot(user)) >= 1 }\n",
                 false);
  ck_assert_msg(c->ok, "%s", listing(c));
  ast_expr *where = find_decl(&c->program->milestones, "m")->u.milestone.exit->u.op.lhs->u.agg.ref.where;
  ast_expr *body = where->u.op.lhs->inlined;
  ck_assert_ptr_nonnull(body);
  ck_assert_int_eq(body->u.op.lhs->binding, BIND_EVENT_FIELD);
  release(c);
}
END_TEST

START_TEST(calls) {
  assert_ok("extern fn score(seats: int, plan: string) -> float from \"lib\"\n"
            "account { seats: int = 0  plan: string = \"\" }\n"
            "segment risky = score(account.seats, account.plan) > 0.5\n");
  assert_only_error("fn f(a: int) = a > 1\nsegment s = f()\n", 49);
  assert_only_error("extern fn g(a: int) -> bool from \"lib\"\nsegment s = g(1, 2)\n", 49);
  assert_only_error("fn f(a: int) = a > 1\nsegment s = f(\"x\")\n", 50);
  assert_only_error("fn f(a: int) = a > 1\nsegment s = f(1.5)\n", 50);
  assert_ok("fn f(a: float) = a > 1\nsegment s = f(1)\n");
  assert_error("fn f(n: int) = f(n - 1) > 0\nsegment s = f(1)\n", 48);
  assert_error("fn f(n: int) = g(n)\nfn g(n: int) = f(n)\n", 48);
}
END_TEST

START_TEST(regions) {
  assert_only_error("event e\nsegment s = count(e) >= 1\n", 42);
  assert_only_error("event e\nmilestone m \"M\" { exit count(e) >= 1 }\nsegment s = completed(m)\n", 42);
  assert_only_error("event e { n: int }\nmilestone m \"M\" { exit count(e where count(e) > n) >= 1 }\n", 42);
  assert_only_error("account { t: time = @2026-01-01 }\nevent e\n"
                    "milestone m \"M\" { start at account.t + count(e) * 1d  exit count(e) >= 1 }\n",
                    42);
  assert_only_error("event e\nmilestone m \"M\" { exit count(e) >= 1 }\n"
                    "playbook p \"P\" { step a \"A\" tracks m when count(e) > 1 }\n",
                    42);
  /* through a fn: reported at the call, naming the fn */
  checked *c = check_text("event e\nfn busy() = count(e) > 3\nsegment s = busy()\n", false);
  ck_assert_int_eq(c->diags.errors, 1);
  ck_assert_int_eq(c->diags.first->code, 42);
  ck_assert_int_eq(c->diags.first->loc.line, 3);
  ck_assert_msg(strstr(c->diags.first->message, "`busy`"), "%s", c->diags.first->message);
  release(c);
  assert_ok("event e\nfn busy() = count(e) > 3\nmilestone m \"M\" { exit busy() }\n");
  assert_ok("account { plan: string = \"\" }\nsegment big = account.plan == \"x\"\n"
            "event e { n: int }\nmilestone m \"M\" { exit count(e where big and n > 1) >= 1 }\n");
}
END_TEST

START_TEST(start_uses) {
  assert_ok("account { t: time = @2026-01-01 }\nevent e\n"
            "milestone m \"M\" { start at account.t  exit count(e since start) >= 1 and start > account.t }\n");
  assert_ok("event e\nmilestone a \"A\" { exit count(e) >= 1 }\n"
            "milestone m \"M\" { start after a  exit count(e since start) >= 1 }\n");
  assert_ok("event e\nmilestone m \"M\" { start on e  exit count(e since start) >= 1 }\n");
  assert_ok("event e\nmilestone m \"M\" { start on assignment  exit count(e since start) >= 1 }\n");
  /* an unbounded milestone's `since start` counts every event (SPEC §6) */
  assert_ok("event e\nmilestone m \"M\" { exit count(e since start) >= 1 }\n");
  assert_only_error("account { t: time = @2026-01-01 }\nevent e\n"
                    "milestone m \"M\" { exit start > account.t }\n",
                    43);
  assert_only_error("account { t: time = @2026-01-01 }\nsegment s = start > account.t\n", 44);
  assert_only_error("event e\nmilestone m \"M\" { start at @2026-01-01  deadline at start + 1d  "
                    "exit count(e) >= 1 }\n",
                    44);
  assert_only_error("event e { ts: time }\nmilestone m \"M\" { start on e  exit count(e where ts > start) >= 1 }\n",
                    44);
  /* fns that use start: checked at each call */
  assert_ok("event e\nfn since_start() = count(e since start)\n"
            "milestone m \"M\" { start on e  exit since_start() >= 2 }\n");
  assert_only_error("account { t: time = @2026-01-01 }\nfn late() = start > account.t\n"
                    "milestone m \"M\" { exit late() }\n",
                    43);
  assert_only_error("event e\nfn since_start() = count(e since start)\nsegment s = since_start() > 1\n",
                    42);
}
END_TEST

START_TEST(milestone_references) {
  assert_ok("event e\nmilestone a \"A\" { mode continuous  exit count(e) >= 1 }\n"
            "milestone b \"B\" { exit achieving(a) and completed(a) }\n");
  assert_only_error("event e\nmilestone a \"A\" { exit count(e) >= 1 }\n"
                    "milestone b \"B\" { exit achieving(a) }\n",
                    45);
  assert_only_error("event e\nmilestone a \"A\" { start after b  exit count(e) >= 1 }\n"
                    "milestone b \"B\" { exit completed(a) }\n",
                    51);
  assert_only_error("event e\nmilestone a \"A\" { exit completed(a) }\n", 51);
  assert_only_error("event e\nfn done_a() = completed(a)\n"
                    "milestone a \"A\" { exit count(e) >= 1 and done_a() }\n",
                    51);
  assert_ok("event e\nmilestone a \"A\" { exit count(e) >= 1 }\nmilestone b \"B\" { start after a  "
            "exit completed(a) }\nmilestone c \"C\" { start after b  exit completed(a) and completed(b) }\n");
}
END_TEST

START_TEST(clauses) {
  assert_only_error("event e\nmilestone m \"M\" { deadline 7d  exit count(e) >= 1 }\n", 52);
  assert_ok("event e\nmilestone m \"M\" { deadline at @2026-03-01  exit count(e) >= 1 }\n");
  assert_only_error("event e\nmilestone m \"M\" { start on e  deadline 0d  exit count(e) >= 1 }\n", 39);
  assert_only_error("event e\nmilestone m \"M\" { estimate 3  exit count(e) >= 1 }\n", 37);
  assert_only_error("account { d: duration = 1d }\nevent e\n"
                    "milestone m \"M\" { start on e  deadline account.d  exit count(e) >= 1 }\n",
                    46);
  assert_only_error("event e\nmilestone m \"M\" { action a \"A\" done when count(e) >= 1  "
                    "action a \"B\" done when count(e) >= 2 }\n",
                    53);
  assert_only_error("event e\nmilestone m \"M\" { exit count(e) >= 1 }\n"
                    "playbook p \"P\" { step a \"A\" tracks m  step a \"B\" tracks m }\n",
                    53);
  assert_only_error("event e\nmilestone m \"M\" { exit count(e) >= 1 }\n"
                    "playbook p \"P\" { step `done` \"A\" tracks m }\n",
                    53);
  checked *c = check_text("account { d: int = 2 }\nevent e\n"
                          "milestone m \"M\" { start on e  deadline 2d + 12h  estimate 1d  exit count(e) >= 1 }\n",
                          false);
  ck_assert_msg(c->ok, "%s", listing(c));
  ast_milestone *m = &find_decl(&c->program->milestones, "m")->u.milestone;
  ck_assert_int_eq(m->deadline_us, 5 * DAY_US / 2);
  ck_assert_int_eq(m->estimate_us, DAY_US);
  release(c);
}
END_TEST

/* ---- constants ------------------------------------------------------------------------ */

START_TEST(constant_folding) {
  checked *c = check_text("let a = 2 + 3 * 4\nlet b = a - 20\nlet c = -7 / 2\nlet d = -7 % 2\n"
                          "let e = 1.5 * 2\nlet f = 1d + 2h\nlet g = @2026-01-02 - @2026-01-01\n"
                          "let h = @2026-01-01 + 1d\nlet i = \"b\" > \"a\"\nlet j = 3 in [1, 2, 3]\n"
                          "let k = not (a == 14)\nlet l = 1.0 / 0\nlet m = 2d / 2\nlet n = -a\n"
                          "let o = -1.5\nlet q = 2.5 - 1\n",
                          false);
  ck_assert_msg(c->ok, "%s", listing(c));
  ck_assert_int_eq(let_value(c, "a").u.i, 14);
  ck_assert_int_eq(let_value(c, "b").u.i, -6);
  ck_assert_int_eq(let_value(c, "c").u.i, -3);   /* truncates toward zero */
  ck_assert_int_eq(let_value(c, "d").u.i, -1);   /* sign of the dividend */
  ck_assert_double_eq(let_value(c, "e").u.f, 3.0);
  ck_assert_int_eq(let_value(c, "f").type, VALUE_DURATION);
  ck_assert_int_eq(let_value(c, "f").u.i, DAY_US + 2 * 3600000000LL);
  ck_assert_int_eq(let_value(c, "g").type, VALUE_DURATION);
  ck_assert_int_eq(let_value(c, "g").u.i, DAY_US);
  ck_assert_int_eq(let_value(c, "h").type, VALUE_TIME);
  ck_assert_int_eq(let_value(c, "h").u.i, 1767225600000000LL + DAY_US);
  ck_assert(let_value(c, "i").u.b);
  ck_assert(let_value(c, "j").u.b);
  ck_assert(!let_value(c, "k").u.b);
  ck_assert(isinf(let_value(c, "l").u.f));
  ck_assert_int_eq(let_value(c, "m").u.i, DAY_US);
  ck_assert_int_eq(let_value(c, "n").u.i, -14);
  ck_assert_double_eq(let_value(c, "o").u.f, -1.5);
  ck_assert_double_eq(let_value(c, "q").u.f, 1.5);
  /* a use of a let carries its value */
  release(c);
  c = check_text("let x = 5\nevent e\nmilestone m \"M\" { exit count(e) >= x + 1 }\n", false);
  ast_expr *rhs = find_decl(&c->program->milestones, "m")->u.milestone.exit->u.op.rhs;
  ck_assert(rhs->is_const);
  ck_assert_int_eq(rhs->const_value.u.i, 6);
  ck_assert(rhs->u.op.lhs->is_const);
  release(c);
  /* a float field's int default is stored as a float */
  c = check_text("account { score: float = 2 }\n", false);
  ast_field *f = c->program->account->u.account.fields.items[0];
  ck_assert_int_eq(f->default_value->const_value.type, VALUE_FLOAT);
  ck_assert_double_eq(f->default_value->const_value.u.f, 2.0);
  release(c);
}
END_TEST

START_TEST(constant_errors) {
  assert_only_error("let a = 9223372036854775807 + 1\n", 40);
  assert_only_error("let a = 100 / 0\n", 40);
  assert_only_error("let a = 100 % 0\n", 40);
  assert_only_error("let a = 1d / 0\n", 40);
  assert_only_error("let a = -9223372036854775807 - 1\nlet b = a / -1\n", 40);
  assert_only_error("let a = -9223372036854775807 - 1\nlet b = -a\n", 40);
  assert_only_error("let a = 4000000000000000000 * 3\n", 40);
  assert_ok("let a = -9223372036854775807 - 1\nlet b = a % -1\n");
  assert_only_error("account { n: int = 1 }\nlet a = account.n\n", 46);
  assert_only_error("event e\nlet a = count(e)\n", 46);
  assert_only_error("extern fn f() -> int from \"lib\"\nlet a = f()\n", 46);
  assert_only_error("let a = b\nlet b = a + 1\n", 47);
  assert_only_error("segment a = b\nsegment b = not a\n", 47);
  assert_only_error("segment a = a\n", 47);
  assert_only_error("account { n: int = account.n }\n", 46);
}
END_TEST

/* ---- test blocks ------------------------------------------------------------------------ */

static const char test_rules[] =
    "account { plan: string  seats: int = 0 }\n"
    "event login { user: string }\n"
    "milestone m \"M\" { exit count(login) >= 1  on achieved emit \"hello\" }\n"
    "milestone c \"C\" { mode continuous  exit count(login) >= 2 }\n"
    "playbook p \"P\" { step a \"A\" tracks m auto  step b \"B\" tracks c }\n";

static void assert_test_block(const char *block, int code, int line) {
  char *text = malloc(strlen(test_rules) + strlen(block) + 1);
  ck_assert_ptr_nonnull(text);
  strcpy(text, test_rules);
  strcat(text, block);
  if (code) assert_only_error_(text, code, line);
  else assert_ok_(text, line);
  free(text);
}

#define assert_test_ok(block) assert_test_block(block, 0, __LINE__)
#define assert_test_error(block, code) assert_test_block(block, code, __LINE__)

START_TEST(test_blocks) {
  assert_test_ok("test \"t\" {\n  as_of @2026-02-01\n  account acme { plan = \"x\", seats = 3 }\n"
                 "  events {\n    @2026-01-05 login { user = \"ann\" }\n"
                 "    @2026-01-06 ms.complete { milestone = \"m\" }\n"
                 "    @2026-01-07 ms.advance { playbook = \"p\" }\n  }\n"
                 "  expect m is completed at @2026-01-05\n  expect c is never_achieved\n"
                 "  expect m.achieved_at == @2026-01-05\n  expect m.on_time == true\n"
                 "  expect m.progress == 1\n  expect p.step == b\n  expect p.step == done\n"
                 "  expect signal \"hello\" at @2026-01-05\n}\n");
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect m is finished }\n", 54);
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect m is achieving }\n", 54);
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect c is completed }\n", 54);
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect m.completed_at == @2026-01-01 }\n", 55);
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect m.on_time == 1 }\n", 55);
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect m.started_at == 3 }\n", 55);
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect p.step == z }\n", 56);
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect m.step == a }\n", 33);
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect nope is completed }\n", 29);
  assert_test_error("test \"t\" { account { plan = 3 } }\n", 57);
  assert_test_error("test \"t\" { account { plan = \"x\", nope = 1 } }\n", 57);
  assert_test_error("test \"t\" { account { plan = \"x\", plan = \"y\" } }\n", 57);
  assert_test_error("test \"t\" { account { seats = 1 } }\n", 57);
  assert_test_error("test \"t\" { account { plan = \"x\", id = \"a\" } }\n", 57);
  assert_test_error("test \"t\" { account { plan = \"x\" }  events { @2026-01-05 login } }\n", 57);
  assert_test_error("test \"t\" { account { plan = \"x\" }  events { @2026-01-05 login { who = \"a\" } } }\n", 57);
  assert_test_error("test \"t\" { account { plan = \"x\" }  events { @2026-01-05 signup } }\n", 28);
  assert_test_error("test \"t\" { account { plan = \"x\" }  events { @2026-01-05 ms.finish { milestone = \"m\" } } }\n",
                    18);   /* the parser's, and not reported twice */
  assert_test_error("test \"t\" { account { plan = \"x\" }  events { @2026-01-05 ms.complete { milestone = \"z\" } } }\n",
                    58);
  assert_test_error("test \"t\" { account { plan = \"x\" }  events { @2026-01-05 ms.complete { step = \"m\" } } }\n",
                    58);
  assert_test_error("test \"t\" { account { plan = \"x\" }  events { @2026-01-05 ms.complete { milestone = 3 } } }\n",
                    58);
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect signal \"bye\" }\n", 59);
  assert_test_error("test \"t\" { account { plan = \"x\" }  expect m is in_progress at @2026-01-05 }\n", 60);
}
END_TEST

/* ---- lints --------------------------------------------------------------------------------- */

static const char lint_base[] =
    "account { plan: string = \"\"  seats: int = 0 }\n"
    "event login\n"
    "segment enterprise = account.plan == \"enterprise\" or account.seats >= 200\n"
    "segment smb = not enterprise\n";

static void lint_case(const char *rest, int code, bool expected, int line) {
  char *text = malloc(strlen(lint_base) + strlen(rest) + 1);
  ck_assert_ptr_nonnull(text);
  strcpy(text, lint_base);
  strcat(text, rest);
  if (expected) assert_warning_(text, code, line);
  else assert_no_warning_(text, code, line);
  free(text);
}

#define assert_lint(rest, code) lint_case(rest, code, true, __LINE__)
#define assert_no_lint(rest, code) lint_case(rest, code, false, __LINE__)

START_TEST(lints) {
  const char *three = "milestone a \"A\" { description \"d\" segments enterprise, smb  exit count(login) >= 1 }\n";
  char buf[2048];
  snprintf(buf, sizeof buf, "%splaybook p \"P\" { segments enterprise  step a \"A\" tracks a }\n", three);
  assert_lint(buf, 1);
  snprintf(buf, sizeof buf,
           "%splaybook p \"P\" { segments enterprise  step a \"A\" tracks a  step b \"B\" tracks a  "
           "step c \"C\" tracks a }\n",
           three);
  assert_no_lint(buf, 1);
  assert_lint("let unused = 3\n"
              "milestone a \"A\" { description \"d\" segments enterprise, smb  exit count(login) >= 1 }\n",
              2);
  assert_lint("fn unused() = true\n"
              "milestone a \"A\" { description \"d\" segments enterprise, smb  exit count(login) >= 1 }\n",
              2);
  assert_lint("event unused\n"
              "milestone a \"A\" { description \"d\" segments enterprise, smb  exit count(login) >= 1 }\n",
              3);
  assert_lint("let strict = false\n"
              "milestone a \"A\" { description \"d\" segments enterprise, smb  exit count(login) >= 1  "
              "blocked when strict }\n",
              4);
  assert_lint("event e { n: int }\n"
              "milestone a \"A\" { description \"d\" segments enterprise, smb  exit count(e where 1 < 2) >= 1 }\n",
              4);
  assert_lint("segment always = true\nmilestone a \"A\" { description \"d\" segments always, enterprise, smb  "
              "exit count(login) >= 1 }\n",
              4);
  /* W005: a step tracking an smb-only milestone in an enterprise playbook */
  const char *tracked =
      "milestone e1 \"E1\" { description \"d\" segments enterprise  exit count(login) >= 1 }\n"
      "milestone s1 \"S1\" { description \"d\" segments smb  exit count(login) >= 1 }\n"
      "milestone x1 \"X1\" { description \"d\"  exit count(login) >= 2 }\n";
  snprintf(buf, sizeof buf,
           "%splaybook p \"P\" { segments enterprise  step a \"A\" tracks e1  step b \"B\" tracks s1  "
           "step c \"C\" tracks x1 }\n",
           tracked);
  assert_lint(buf, 5);
  snprintf(buf, sizeof buf,
           "%splaybook p \"P\" { segments enterprise  step a \"A\" tracks e1  step b \"B\" tracks x1  "
           "step c \"C\" tracks e1 }\n",
           tracked);
  assert_no_lint(buf, 5);
  /* disjoint by constants and comparisons */
  assert_lint("segment big = account.seats > 100\nsegment tiny = account.seats <= 100\n"
              "milestone t \"T\" { description \"d\" segments tiny  exit count(login) >= 1 }\n"
              "milestone b \"B\" { description \"d\" segments big  exit count(login) >= 1 }\n"
              "playbook p \"P\" { segments big  step a \"A\" tracks b  step b \"B\" tracks t  "
              "step c \"C\" tracks b }\n",
              5);
  assert_lint("segment pro = account.plan in [\"pro\", \"team\"]\nsegment ent = account.plan == \"ent\"\n"
              "milestone t \"T\" { description \"d\" segments ent  exit count(login) >= 1 }\n"
              "milestone b \"B\" { description \"d\" segments pro  exit count(login) >= 1 }\n"
              "playbook p \"P\" { segments pro  step a \"A\" tracks b  step b \"B\" tracks t  "
              "step c \"C\" tracks b }\n",
              5);
  /* never through calls: unknown is not disjoint */
  assert_no_lint("extern fn tier(p: string) -> string from \"lib\"\n"
                 "segment odd = tier(account.plan) == \"x\"\nsegment even = not (tier(account.plan) == \"x\")\n"
                 "milestone t \"T\" { description \"d\" segments odd  exit count(login) >= 1 }\n"
                 "milestone b \"B\" { description \"d\" segments even  exit count(login) >= 1 }\n"
                 "playbook p \"P\" { segments even  step a \"A\" tracks b  step b \"B\" tracks t  "
                 "step c \"C\" tracks b }\n"
                 "milestone z \"Z\" { description \"d\" segments enterprise, smb  exit count(login) >= 1 }\n",
                 5);
  assert_lint("milestone e1 \"E1\" { description \"d\" segments enterprise  exit count(login) >= 1 }\n"
              "milestone s1 \"S1\" { description \"d\" segments smb  start after e1  exit count(login) >= 1 }\n",
              6);
  assert_no_lint("milestone e1 \"E1\" { description \"d\" segments enterprise  exit count(login) >= 1 }\n"
                 "milestone s1 \"S1\" { description \"d\" segments smb, enterprise  start after e1  "
                 "exit count(login) >= 1 }\n",
                 6);
  assert_lint("milestone a \"A\" { description \"d\" segments enterprise, smb  start on login  deadline 7d  "
              "estimate 10d  exit count(login) >= 1 }\n",
              7);
  assert_no_lint("milestone a \"A\" { description \"d\" segments enterprise, smb  start on login  deadline 10d  "
                 "estimate 10d  exit count(login) >= 1 }\n",
                 7);
  assert_lint("milestone a \"A\" { segments enterprise, smb  exit count(login) >= 1 }\n", 8);
  assert_lint("event e { n: int }\nmilestone a \"A\" { description \"d\" segments enterprise, smb  "
              "exit sequence(login, e where true) }\n",
              4);
  assert_lint("event e { n: int }\nmilestone a \"A\" { description \"d\" segments enterprise, smb  "
              "exit count(login) >= 1 }\nplaybook p \"P\" { start on e where false  step a \"A\" tracks a  "
              "step b \"B\" tracks a  step c \"C\" tracks a }\n",
              4);
  /* a step, and a playbook's start, after a milestone that applies to no account */
  const char *never =
      "segment none = account.seats < 0 and account.seats > 0\n"
      "milestone n \"N\" { description \"d\" segments none, enterprise, smb  exit count(login) >= 1 }\n"
      "milestone z \"Z\" { description \"d\" segments none  exit count(login) >= 1 }\n";
  snprintf(buf, sizeof buf,
           "%splaybook p \"P\" { step a \"A\" tracks n  step b \"B\" tracks z  step c \"C\" tracks n }\n",
           never);
  assert_lint(buf, 5);
  snprintf(buf, sizeof buf,
           "%splaybook p \"P\" { start after z  step a \"A\" tracks n  step b \"B\" tracks n  "
           "step c \"C\" tracks n }\n",
           never);
  assert_lint(buf, 6);
}
END_TEST

/* The segment prover, through W006: `then` starts after `first`; it warns
 * exactly when the segments A (of first) and B (of then) provably share no
 * account. */
static const char prover_base[] =
    "account { plan: string = \"\"  seats: int = 0  score: float = 0.0  active: bool = false\n"
    "          joined: time = @2026-01-01 }\n"
    "event login\nfn is_x(p: string) = p == \"x\"\n";

static void prover_case(const char *a, const char *b, bool disjoint, int line) {
  char text[2048];
  snprintf(text, sizeof text,
           "%ssegment a = %s\nsegment b = %s\n"
           "milestone first \"F\" { description \"d\" segments a  exit count(login) >= 1 }\n"
           "milestone then \"T\" { description \"d\" segments b  start after first  exit count(login) >= 2 }\n",
           prover_base, a, b);
  if (disjoint) assert_warning_(text, 6, line);
  else assert_no_warning_(text, 6, line);
}

#define assert_disjoint(a, b) prover_case(a, b, true, __LINE__)
#define assert_not_disjoint(a, b) prover_case(a, b, false, __LINE__)

START_TEST(segment_prover) {
  assert_disjoint("account.plan == \"enterprise\"", "account.plan == \"smb\"");
  assert_disjoint("account.seats > 100", "100 >= account.seats");
  assert_disjoint("account.seats <= 100", "account.seats >= 101");
  assert_disjoint("account.active", "not account.active");
  assert_disjoint("account.active == true", "account.active != true");
  assert_disjoint("account.score > 2.5", "account.score < 1.0");
  assert_disjoint("account.plan in [\"a\", \"b\"]", "not (account.plan in [\"a\", \"b\", \"c\"])");
  assert_disjoint("account.seats >= 1 and account.seats <= 3",
                  "account.seats != 1 and account.seats != 2 and account.seats != 3");
  assert_disjoint("account.plan >= \"m\" and account.plan <= \"m\"", "account.plan != \"m\"");
  assert_disjoint("account.joined < @2026-01-01", "account.joined >= @2026-01-01");
  assert_disjoint("account.seats < 0 and account.seats > 5", "account.seats >= 0");  /* a is empty */
  assert_disjoint("(account.plan == \"a\" or account.plan == \"b\") and account.seats > 9",
                  "account.plan == \"c\" or account.seats < 5");
  assert_not_disjoint("account.plan == \"enterprise\" or account.seats >= 200",
                      "not (account.plan == \"enterprise\")");
  assert_not_disjoint("account.seats >= 1 and account.seats <= 4",
                      "account.seats != 1 and account.seats != 2 and account.seats != 3");
  assert_not_disjoint("account.score >= 1.0 and account.score <= 1.0", "account.score == 1.0");
  assert_not_disjoint("account.seats > 5", "account.seats > 3 + 4");
  assert_not_disjoint("account.plan > \"a\"", "account.plan < \"b\"");
  /* never through calls or arithmetic on fields */
  assert_not_disjoint("is_x(account.plan)", "not is_x(account.plan)");
  assert_not_disjoint("account.seats * 2 > 10", "account.seats * 2 <= 10");
}
END_TEST

START_TEST(lints_only_with_option) {
  checked *c = check_text("let unused = 3\n", false);
  ck_assert_int_eq(c->diags.warnings, 0);
  release(c);
  assert_clean("account { plan: string = \"\" }\nevent login\nsegment ent = account.plan == \"e\"\n"
               "milestone a \"A\" { description \"d\" segments ent  exit count(login) >= 1 }\n"
               "milestone b \"B\" { description \"d\" start after a  exit count(login) >= 2 }\n"
               "milestone c \"C\" { description \"d\" exit completed(b) }\n"
               "playbook p \"P\" { step a \"A\" tracks a  step b \"B\" tracks b  step c \"C\" tracks c }\n");
}
END_TEST

/* ---- imports ----------------------------------------------------------------------------------- */

typedef struct temp_tree {
  char dir[64];
  arena arena;
  diag_list diags;
  msl_program *program;
} temp_tree;

static void write_file(const char *dir, const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  for (char *slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    ck_assert_msg(mkdir(path, 0700) == 0 || errno == EEXIST, "mkdir %s", path);
    *slash = '/';
  }
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_ge(fputs(text, f), 0);
  ck_assert_int_eq(fclose(f), 0);
}

static temp_tree *tree_new(void) {
  temp_tree *t = calloc(1, sizeof *t);
  ck_assert_ptr_nonnull(t);
  strcpy(t->dir, "/tmp/msl-sema-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(t->dir));
  arena_init(&t->arena);
  diag_init(&t->diags, &t->arena);
  return t;
}

/* Loads and checks DIR/main.ms with DIR/stdlib as the stdlib directory. */
static bool tree_check(temp_tree *t) {
  char path[128], stdlib[128];
  snprintf(path, sizeof path, "%s/main.ms", t->dir);
  snprintf(stdlib, sizeof stdlib, "%s/stdlib", t->dir);
  sema_options opts = {.stdlib_dir = stdlib, .lints = true};
  int err = 0;
  t->program = sema_load(&t->arena, path, &opts, &t->diags, &err);
  ck_assert_ptr_nonnull(t->program);
  return sema_check(t->program, &opts, &t->diags);
}

static void tree_free(temp_tree *t) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
  ck_assert_int_eq(system(cmd), 0);
  arena_free(&t->arena);
  free(t);
}

static const char *tree_listing(temp_tree *t) {
  const char *out = "";
  for (const diag *g = t->diags.first; g; g = g->next)
    out = arena_printf(&t->arena, "%s\n  %s:%d %c%03d %s", out, g->loc.src ? g->loc.src->path : "-",
                       g->loc.line, g->kind, g->code, g->message);
  return out;
}

static bool tree_has(temp_tree *t, char kind, int code) {
  for (const diag *g = t->diags.first; g; g = g->next)
    if (g->kind == kind && g->code == code) return true;
  return false;
}

START_TEST(import_relative_and_order) {
  temp_tree *t = tree_new();
  write_file(t->dir, "main.ms",
             "event a\nimport \"lib/util\"\nevent c\n"
             "milestone m \"M\" { description \"d\" exit count(a) + count(b) + count(c) >= 1 and helper() }\n");
  write_file(t->dir, "lib/util.ms", "event b\nfn helper() = true\nlet unused_in_lib = 1\n");
  ck_assert_msg(tree_check(t), "%s", tree_listing(t));
  ck_assert_msg(t->diags.first == NULL, "imported declarations are not linted:%s", tree_listing(t));
  msl_program *p = t->program;
  ck_assert_int_eq(p->modules.len, 2);
  ck_assert_ptr_eq(p->modules.items[1], p->main);   /* imports before importers */
  ck_assert_int_eq(p->events.len, 3);
  const char *order[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    ast_decl *e = p->events.items[i];
    ck_assert_str_eq(e->name.text, order[i]);
    ck_assert_int_eq(e->index, i);
  }
  tree_free(t);
}
END_TEST

START_TEST(import_stdlib_fallback) {
  temp_tree *t = tree_new();
  write_file(t->dir, "main.ms", "import \"std/text\"\nsegment s = shout(account.id) == \"X\"\n");
  write_file(t->dir, "stdlib/std/text.ms", "extern fn shout(s: string) -> string from \"lib\"\n");
  ck_assert_msg(tree_check(t), "%s", tree_listing(t));
  tree_free(t);
  /* a module beside the importer wins over the stdlib's */
  t = tree_new();
  write_file(t->dir, "main.ms", "import \"std/text.ms\"\nsegment s = local() == 1\n");
  write_file(t->dir, "std/text.ms", "fn local() = 1\n");
  write_file(t->dir, "stdlib/std/text.ms", "extern fn shout(s: string) -> string from \"lib\"\n");
  ck_assert_msg(tree_check(t), "%s", tree_listing(t));
  tree_free(t);
}
END_TEST

START_TEST(import_errors) {
  temp_tree *t = tree_new();
  write_file(t->dir, "main.ms", "import \"nowhere\"\n");
  ck_assert(!tree_check(t));
  ck_assert_msg(tree_has(t, 'E', 20), "%s", tree_listing(t));
  ck_assert_int_eq(t->diags.first->loc.line, 1);
  tree_free(t);

  t = tree_new();
  write_file(t->dir, "main.ms", "import \"a\"\n");
  write_file(t->dir, "a.ms", "import \"b\"\n");
  write_file(t->dir, "b.ms", "import \"a\"\n");
  ck_assert(!tree_check(t));
  ck_assert_msg(tree_has(t, 'E', 21), "%s", tree_listing(t));
  ck_assert_int_eq(t->diags.errors, 1);
  ck_assert_msg(strstr(t->diags.first->message, "a.ms -> ") && strstr(t->diags.first->message, "b.ms"),
                "%s", t->diags.first->message);
  tree_free(t);

  t = tree_new();
  write_file(t->dir, "main.ms", "import \"main\"\n");
  ck_assert(!tree_check(t));
  ck_assert_msg(tree_has(t, 'E', 21), "%s", tree_listing(t));
  tree_free(t);

  t = tree_new();
  write_file(t->dir, "main.ms", "import \"lib\"\nevent login\n");
  write_file(t->dir, "lib.ms", "event login\n");
  ck_assert(!tree_check(t));
  ck_assert_msg(tree_has(t, 'E', 22), "%s", tree_listing(t));
  ck_assert_msg(strstr(t->diags.first->message, "lib.ms:1:"), "names the earlier one: %s",
                t->diags.first->message);
  tree_free(t);
}
END_TEST

START_TEST(import_loaded_once) {
  temp_tree *t = tree_new();
  write_file(t->dir, "main.ms", "import \"b\"\nimport \"./c\"\nimport \"b.ms\"\n"
                                "segment s = shared() and fb() and fc()\n");
  write_file(t->dir, "b.ms", "import \"common\"\nfn fb() = shared()\n");
  write_file(t->dir, "c.ms", "import \"common\"\nfn fc() = shared()\n");
  write_file(t->dir, "common.ms", "fn shared() = true\n");
  ck_assert_msg(tree_check(t), "%s", tree_listing(t));
  ck_assert_int_eq(t->program->modules.len, 4);
  ck_assert_int_eq(t->program->fns.len, 3);
  tree_free(t);
}
END_TEST

/* An in-memory main module imports relative to its path. */
START_TEST(import_from_memory) {
  temp_tree *t = tree_new();
  write_file(t->dir, "lib.ms", "let x = 2\n");
  char path[128];
  snprintf(path, sizeof path, "%s/virtual.ms", t->dir);
  const char *text = "import \"lib\"\nlet y = x * 2\n";
  msl_source *src = source_from_string(&t->arena, path, text, strlen(text));
  sema_options opts = {0};
  t->program = sema_load_source(&t->arena, src, &opts, &t->diags);
  ck_assert(sema_check(t->program, &opts, &t->diags));
  ast_decl *y = t->program->lets.items[1];
  ck_assert_int_eq(y->u.let.expr->const_value.u.i, 4);
  tree_free(t);
}
END_TEST

/* An absolute import path; without a stdlib directory only the importer's is searched. */
START_TEST(import_absolute_and_no_stdlib) {
  temp_tree *t = tree_new();
  write_file(t->dir, "lib.ms", "let x = 2\n");
  char text[256], path[128];
  snprintf(text, sizeof text, "import \"%s/lib\"\nimport \"std/text\"\nlet y = x\n", t->dir);
  snprintf(path, sizeof path, "%s/sub/main.ms", t->dir);
  msl_source *src = source_from_string(&t->arena, path, text, strlen(text));
  sema_options opts = {0};
  t->program = sema_load_source(&t->arena, src, &opts, &t->diags);
  ck_assert(!sema_check(t->program, &opts, &t->diags));
  ck_assert_msg(t->diags.errors == 1 && t->diags.first->code == 20 && t->diags.first->loc.line == 2,
                "%s", tree_listing(t));
  ck_assert_int_eq(t->program->modules.len, 2);
  tree_free(t);
}
END_TEST

START_TEST(load_missing_main) {
  arena a;
  arena_init(&a);
  diag_list d;
  diag_init(&d, &a);
  int err = 0;
  sema_options opts = {0};
  ck_assert_ptr_null(sema_load(&a, "/nonexistent/dir/main.ms", &opts, &d, &err));
  ck_assert_int_eq(err, ENOENT);
  arena_free(&a);
}
END_TEST

static Suite *sema_suite(void) {
  Suite *s = suite_create("sema");
  TCase *tc = tcase_create("all");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, spec_example_checks);
  tcase_add_test(tc, names_resolve);
  tcase_add_test(tc, name_errors);
  tcase_add_test(tc, account_id_builtin);
  tcase_add_test(tc, operator_types);
  tcase_add_test(tc, aggregate_types);
  tcase_add_test(tc, windows);
  tcase_add_test(tc, inlined_windows);
  tcase_add_test(tc, inlined_errors_once);
  tcase_add_test(tc, inlining_clones_everything);
  tcase_add_test(tc, inlining_budget);
  tcase_add_test(tc, inlining_substitutes);
  tcase_add_test(tc, calls);
  tcase_add_test(tc, regions);
  tcase_add_test(tc, start_uses);
  tcase_add_test(tc, milestone_references);
  tcase_add_test(tc, clauses);
  tcase_add_test(tc, constant_folding);
  tcase_add_test(tc, constant_errors);
  tcase_add_test(tc, test_blocks);
  tcase_add_test(tc, lints);
  tcase_add_test(tc, segment_prover);
  tcase_add_test(tc, lints_only_with_option);
  tcase_add_test(tc, import_relative_and_order);
  tcase_add_test(tc, import_stdlib_fallback);
  tcase_add_test(tc, import_errors);
  tcase_add_test(tc, import_loaded_once);
  tcase_add_test(tc, import_from_memory);
  tcase_add_test(tc, import_absolute_and_no_stdlib);
  tcase_add_test(tc, load_missing_main);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(sema_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
