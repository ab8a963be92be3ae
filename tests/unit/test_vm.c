/* test_vm.c — the compiler and VM, one rule and a tiny log per test: each
 * checks the milestones.csv / signals.csv / playbooks.csv rows a run writes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bc/compile.h"
#include "bc/msc.h"
#include "cli/run.h"
#include "front/sema.h"
#include "bc/verify.h"

static char workdir[256];

static void write_text(const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", workdir, name);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static char *read_text(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", workdir, name);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  char *nl = strchr(buf, '\n');   /* drop the header */
  return nl ? nl + 1 : buf;
}

static bc_program *compile_rules(const char *rules) {
  write_text("rules.ms", rules);
  char path[512];
  snprintf(path, sizeof path, "%s/rules.ms", workdir);
  arena a;
  arena_init(&a);
  diag_list d;
  diag_init(&d, &a);
  sema_options opts = {0};
  int io_err = 0;
  msl_program *p = sema_load(&a, path, &opts, &d, &io_err);
  ck_assert_ptr_nonnull(p);
  bool ok = d.errors == 0 && sema_check(p, &opts, &d);
  if (!ok) {
    diag_render_text(stderr, &d, false);
    ck_abort_msg("rules do not check");
  }
  bc_program *prog = compile_program(p, &d);
  arena_free(&a);
  ck_assert_ptr_nonnull(prog);
  char msg[256];
  ck_assert_msg(verify_program(prog, msg, sizeof msg), "verifier: %s", msg);
  return prog;
}

/* Runs rules over events (a CSV with header) at as_of; returns the exit
 * status, leaving the outputs in workdir. */
static int run_rules(const char *rules, const char *events, const char *as_of) {
  bc_program *p = compile_rules(rules);
  write_text("events.csv", events);
  char ev[512];
  snprintf(ev, sizeof ev, "%s/events.csv", workdir);
  const char *files[] = {ev};
  run_options o = {.events = files, .nevents = 1, .out_dir = workdir};
  if (as_of) {
    o.has_as_of = true;
    ck_assert(io_parse_time(as_of, strlen(as_of), &o.as_of));
  }
  int status = run_program(p, NULL, &o);
  bc_program_free(p);
  return status;
}

static void expect_rows(const char *file, const char *rows) {
  char *got = read_text(file);
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, rows);
}

static void setup(void) {
  snprintf(workdir, sizeof workdir, "/tmp/msl-test-vm-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(workdir));
}

static void teardown(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
  ck_assert_int_eq(system(cmd), 0);
}

#define EV_LOGIN "account,time,event,user\n"

START_TEST(window_expiry_is_exact) {
  /* e + D is the instant e leaves `within D`: lost_at is that instant */
  ck_assert_int_eq(run_rules("event login { user: string }\n"
                             "milestone m \"M\" { mode continuous exit count(login within 1d) >= 1 }\n",
                             EV_LOGIN "a,2026-01-01T10:00:00.5Z,login,x\n", "2026-01-05"), 0);
  expect_rows("milestones.csv", "a,m,not_achieving,,,2026-01-01T10:00:00.500000Z,2026-01-02T10:00:00.500000Z,,,\n");
}
END_TEST

START_TEST(equal_times_apply_together) {
  /* three logins at one instant: the count reaches 3 at that instant */
  ck_assert_int_eq(run_rules("event login { user: string }\n"
                             "milestone m \"M\" { exit count(login) >= 3 on achieved emit \"three\" }\n",
                             EV_LOGIN "a,2026-01-01,login,x\na,2026-01-01,login,y\na,2026-01-01,login,z\n", NULL), 0);
  expect_rows("milestones.csv", "a,m,completed,,,2026-01-01T00:00:00Z,,,,\n");
  expect_rows("signals.csv", "a,three,m,2026-01-01T00:00:00Z\n");
}
END_TEST

START_TEST(distinct_in_window_forgets_expired_values) {
  ck_assert_int_eq(run_rules("event login { user: string }\n"
                             "milestone m \"M\" { mode continuous exit distinct(login.user within 2d) >= 2 }\n",
                             EV_LOGIN "a,2026-01-01,login,x\na,2026-01-02,login,x\na,2026-01-02,login,y\n"
                                      "a,2026-01-03,login,y\n", "2026-01-10"), 0);
  /* x last seen on 01-02: it leaves at 01-04, y at 01-05 */
  expect_rows("milestones.csv", "a,m,not_achieving,,,2026-01-02T00:00:00Z,2026-01-04T00:00:00Z,,,\n");
}
END_TEST

START_TEST(min_max_in_window) {
  ck_assert_int_eq(run_rules("event score { v: int }\n"
                             "milestone hi \"Hi\" { mode continuous exit max(score.v within 2d) >= 10 }\n"
                             "milestone lo \"Lo\" { mode continuous exit min(score.v within 2d) >= 5 }\n",
                             "account,time,event,v\na,2026-01-01,score,12\na,2026-01-02,score,3\n"
                             "a,2026-01-03,score,7\n", "2026-01-10"), 0);
  expect_rows("milestones.csv",
              "a,hi,not_achieving,,,2026-01-01T00:00:00Z,2026-01-03T00:00:00Z,,,\n"
              /* 3 leaves on 01-04 (min back to 7), 7 leaves on 01-05 (empty: 0) */
              "a,lo,not_achieving,,,2026-01-01T00:00:00Z,2026-01-05T00:00:00Z,,,\n");
}
END_TEST

START_TEST(dominated_window_front_keeps_expiries) {
  /* the 10 drops the 5 from the max deque's front: the 10's expiry, and
     the login window's, are still evaluation instants */
  ck_assert_int_eq(run_rules("event s { v: int }\nevent login\n"
                             "milestone hi \"Hi\" { mode continuous exit max(s.v within 1d) >= 8 }\n"
                             "milestone act \"Act\" { mode continuous exit count(login within 2h) >= 1 }\n",
                             "account,time,event,v\na,2026-01-01T10:00:00Z,s,5\na,2026-01-01T12:00:00Z,s,10\n"
                             "a,2026-01-02T11:00:00Z,login,\n", "2026-01-04"), 0);
  expect_rows("milestones.csv", "a,hi,not_achieving,,,2026-01-01T12:00:00Z,2026-01-02T12:00:00Z,,,\n"
                                "a,act,not_achieving,,,2026-01-02T11:00:00Z,2026-01-02T13:00:00Z,,,\n");
}
END_TEST

START_TEST(float_sum_and_avg) {
  ck_assert_int_eq(run_rules("event pay { amount: float }\n"
                             "milestone s \"S\" { exit sum(pay.amount) >= 0.3 }\n"
                             "milestone v \"V\" { exit avg(pay.amount within 1d) > 0.15 }\n",
                             "account,time,event,amount\na,2026-01-01,pay,0.1\na,2026-01-02,pay,0.2\n", NULL), 0);
  expect_rows("milestones.csv", "a,s,completed,,,2026-01-02T00:00:00Z,,,,\na,v,completed,,,2026-01-02T00:00:00Z,,,,\n");
}
END_TEST

START_TEST(sequence_needs_strictly_increasing_times) {
  ck_assert_int_eq(run_rules("event a\nevent b\n"
                             "milestone m \"M\" { exit sequence(a, b) }\n",
                             "account,time,event\nx,2026-01-01,a\nx,2026-01-01,b\n"
                             "y,2026-01-01,a\ny,2026-01-02,b\n", NULL), 0);
  expect_rows("milestones.csv", "x,m,in_progress,,,,,,,\ny,m,completed,,,2026-01-02T00:00:00Z,,,,\n");
}
END_TEST

START_TEST(sequence_within_uses_latest_first_event) {
  /* a at 01-01 and 01-05, b at 01-06: the chain from 01-05 fits in 2d */
  ck_assert_int_eq(run_rules("event a\nevent b\n"
                             "milestone m \"M\" { exit sequence(a, b within 2d) }\n",
                             "account,time,event\nx,2026-01-01,a\nx,2026-01-05,a\nx,2026-01-06,b\n"
                             "y,2026-01-01,a\ny,2026-01-03,b\n", NULL), 0);
  expect_rows("milestones.csv", "x,m,completed,,,2026-01-06T00:00:00Z,,,,\ny,m,in_progress,,,,,,,\n");
}
END_TEST

START_TEST(since_start_counts_the_starting_event) {
  ck_assert_int_eq(run_rules("event signup\nevent login\n"
                             "milestone m \"M\" { start on signup exit count(signup since start) >= 1 }\n",
                             "account,time,event\na,2026-01-01,login\na,2026-01-02,signup\n", NULL), 0);
  expect_rows("milestones.csv", "a,m,completed,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,,,,\n");
}
END_TEST

START_TEST(start_after_and_deadline) {
  ck_assert_int_eq(run_rules("event a\nevent b\n"
                             "milestone first \"First\" { exit count(a) >= 1 }\n"
                             "milestone second \"Second\" { start after first deadline 2d exit count(b since start) >= 1 }\n",
                             "account,time,event\nx,2026-01-01,a\nx,2026-01-04,b\n"
                             "y,2026-01-01,a\ny,2026-01-02,b\n", "2026-01-05"), 0);
  expect_rows("milestones.csv",
              "x,first,completed,,,2026-01-01T00:00:00Z,,,,\n"
              "x,second,completed,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-04T00:00:00Z,,2026-01-03T00:00:00Z,false,\n"
              "y,first,completed,,,2026-01-01T00:00:00Z,,,,\n"
              "y,second,completed,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,2026-01-03T00:00:00Z,true,\n");
}
END_TEST

START_TEST(actions_give_progress) {
  ck_assert_int_eq(run_rules("event a\nevent b\nevent c\n"
                             "milestone m \"M\" {\n"
                             "  action one \"One\" done when count(a) >= 1\n"
                             "  action two \"Two\" done when count(b) >= 1\n"
                             "  action three \"Three\" done when count(c) >= 1\n}\n",
                             "account,time,event\nx,2026-01-01,a\nx,2026-01-02,b\n", NULL), 0);
  expect_rows("milestones.csv", "x,m,in_progress,,,,,,,0.6667\n");
}
END_TEST

START_TEST(division_by_zero_stops_the_run) {
  ck_assert_int_eq(run_rules("event a\nevent b\n"
                             "milestone ratio \"Ratio\" { exit count(a) / count(b) >= 2 }\n",
                             "account,time,event\nacme,2026-01-01,a\n", NULL), EXIT_DATA);
  ck_assert_ptr_null(read_text("milestones.csv"));
}
END_TEST

START_TEST(overflow_stops_the_run) {
  ck_assert_int_eq(run_rules("event a { n: int }\n"
                             "milestone big \"Big\" { exit sum(a.n) * 2 > 0 }\n",
                             "account,time,event,n\nacme,2026-01-01,a,9223372036854775807\n", NULL), EXIT_DATA);
}
END_TEST

START_TEST(where_error_fails_only_when_read) {
  /* the filter divides by zero on the second row; `exit` reads the count
     only after a `go`, and only while that row is within 2d */
  const char *rules = "event a { n: int }\nevent go\n"
                      "milestone m \"M\" { exit count(go) >= 1 and count(a where 10 / n > 1 within 2d) >= 1 }\n";
  ck_assert_int_eq(run_rules(rules, "account,time,event,n\nx,2026-01-01,a,5\nx,2026-01-02,a,0\n", NULL), 0);
  expect_rows("milestones.csv", "x,m,in_progress,,,,,,,\n");
  ck_assert_int_eq(run_rules(rules, "account,time,event,n\nx,2026-01-01,a,5\nx,2026-01-02,a,0\nx,2026-01-05,go,\n", NULL), 0);
  expect_rows("milestones.csv", "x,m,in_progress,,,,,,,\n");
  ck_assert_int_eq(run_rules(rules, "account,time,event,n\nx,2026-01-01,a,5\nx,2026-01-02,a,0\nx,2026-01-03,go,\n", NULL),
                   EXIT_DATA);
}
END_TEST

START_TEST(sum_overflows_only_when_read_out_of_range) {
  /* MAX + MAX - MAX at one instant, in any order, is MAX: it fits */
  const char *rules = "event a { n: int }\nmilestone m \"M\" { exit sum(a.n within 1d) == 9223372036854775807 }\n";
  ck_assert_int_eq(run_rules(rules, "account,time,event,n\nx,2026-01-01,a,9223372036854775807\n"
                                    "x,2026-01-01,a,9223372036854775807\nx,2026-01-01,a,-9223372036854775807\n", NULL), 0);
  expect_rows("milestones.csv", "x,m,completed,,,2026-01-01T00:00:00Z,,,,\n");
  /* a latched milestone no longer reads its sum */
  ck_assert_int_eq(run_rules(rules, "account,time,event,n\nx,2026-01-01,a,9223372036854775807\n"
                                    "x,2026-01-01T12:00:00Z,a,1\n", NULL), 0);
  ck_assert_int_eq(run_rules("event a { n: int }\nmilestone m \"M\" { exit sum(a.n) < 0 }\n",
                             "account,time,event,n\nx,2026-01-01,a,9223372036854775807\nx,2026-01-02,a,1\n", NULL),
                   EXIT_DATA);
}
END_TEST

START_TEST(complete_at_the_start_instant) {
  ck_assert_int_eq(run_rules("event login\nmilestone m \"M\" { start at @2026-01-02 exit count(login) >= 9 }\n",
                             "account,time,event,milestone\nx,2026-01-02,ms.complete,m\n", NULL), 0);
  expect_rows("milestones.csv", "x,m,completed,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,,,,\n");
}
END_TEST

START_TEST(control_reset_bounded) {
  ck_assert_int_eq(run_rules("event login\n"
                             "milestone two \"Two\" { start at @2026-01-01 exit count(login since start) >= 2\n"
                             "  on achieved emit \"s\" }\n",
                             "account,time,event,milestone\na,2026-01-01,login,\na,2026-01-02,login,\n"
                             "a,2026-01-03,ms.reset,two\na,2026-01-03,login,\na,2026-01-04,login,\n", NULL), 0);
  expect_rows("milestones.csv", "a,two,completed,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z,2026-01-04T00:00:00Z,,,,\n");
  expect_rows("signals.csv", "a,s,two,2026-01-02T00:00:00Z\na,s,two,2026-01-04T00:00:00Z\n");
}
END_TEST

START_TEST(playbook_moves_on_auto_steps) {
  ck_assert_int_eq(run_rules("event a\nevent b\nevent c\n"
                             "milestone m1 \"M1\" { exit count(a) >= 1 }\n"
                             "milestone m2 \"M2\" { exit count(b) >= 1 }\n"
                             "milestone m3 \"M3\" { exit count(c) >= 1 }\n"
                             "playbook p \"P\" { start at @2026-01-01 step s1 \"S1\" tracks m1 auto\n"
                             "  step s2 \"S2\" tracks m2 auto step s3 \"S3\" tracks m3 auto on complete emit \"done\" }\n",
                             "account,time,event\nx,2025-12-01,b\nx,2026-01-02,a\nx,2026-01-03,c\n", NULL), 0);
  expect_rows("playbooks.csv", "x,p,done,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z\n");
  expect_rows("signals.csv", "x,done,p,2026-01-03T00:00:00Z\n");
}
END_TEST

START_TEST(msc_round_trip_runs_the_same) {
  bc_program *p = compile_rules("event login { user: string }\nlet w = 7d\n"
                                "milestone m \"M\" { mode continuous exit distinct(login.user within w) >= 2 }\n");
  char path[512];
  snprintf(path, sizeof path, "%s/p.msc", workdir);
  FILE *f = fopen(path, "wb");
  char msg[256];
  ck_assert(msc_write(p, f, msg, sizeof msg));
  fclose(f);
  int io_err = 0;
  bc_program *q = msc_load_file(path, &io_err, msg, sizeof msg);
  ck_assert_msg(q != NULL, "%s", msg);
  ck_assert_uint_eq(q->ncode, p->ncode);
  ck_assert_int_eq(memcmp(q->code, p->code, sizeof *p->code * p->ncode), 0);
  bc_program_free(p);
  bc_program_free(q);
}
END_TEST

static Suite *vm_suite(void) {
  Suite *s = suite_create("vm");
  TCase *tc = tcase_create("runs");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, window_expiry_is_exact);
  tcase_add_test(tc, equal_times_apply_together);
  tcase_add_test(tc, distinct_in_window_forgets_expired_values);
  tcase_add_test(tc, min_max_in_window);
  tcase_add_test(tc, dominated_window_front_keeps_expiries);
  tcase_add_test(tc, float_sum_and_avg);
  tcase_add_test(tc, sequence_needs_strictly_increasing_times);
  tcase_add_test(tc, sequence_within_uses_latest_first_event);
  tcase_add_test(tc, since_start_counts_the_starting_event);
  tcase_add_test(tc, start_after_and_deadline);
  tcase_add_test(tc, actions_give_progress);
  tcase_add_test(tc, division_by_zero_stops_the_run);
  tcase_add_test(tc, overflow_stops_the_run);
  tcase_add_test(tc, where_error_fails_only_when_read);
  tcase_add_test(tc, sum_overflows_only_when_read_out_of_range);
  tcase_add_test(tc, complete_at_the_start_instant);
  tcase_add_test(tc, control_reset_bounded);
  tcase_add_test(tc, playbook_moves_on_auto_steps);
  tcase_add_test(tc, msc_round_trip_runs_the_same);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *r = srunner_create(vm_suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
