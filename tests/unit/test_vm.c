/* test_vm.c — the compiler and VM where one line of test_vm_rules.c does not
 * fit: several output files, several runs of one rule, an .msc round trip. */
#include "bc/msc.h"
#include "bc/verify.h"
#include "vm_harness.h"

/* Runs rules over events (a CSV with header) at as_of; returns the exit
 * status, leaving the outputs in workdir. */
static int run_rules(const char *rules, const char *events, const char *as_of) {
  return run_compiled(compile_rules("", rules), events, "", as_of);
}

static void expect_rows(const char *file, const char *rows) {
  char *got = read_rows(file);
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, rows);
}

#define EV_LOGIN "account,time,event,user\n"

START_TEST(equal_times_apply_together) {
  /* three logins at one instant: the count reaches 3 at that instant */
  ck_assert_int_eq(run_rules("event login { user: string }\n"
                             "milestone m \"M\" { exit count(login) >= 3 on achieved emit \"three\" }\n",
                             EV_LOGIN "a,2026-01-01,login,x\na,2026-01-01,login,y\na,2026-01-01,login,z\n", NULL), 0);
  expect_rows("milestones.csv", "a,m,completed,,,2026-01-01T00:00:00Z,,,,\n");
  expect_rows("signals.csv", "a,three,m,2026-01-01T00:00:00Z\n");
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
  bc_program *p = compile_rules("", "event login { user: string }\nlet w = 7d\n"
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

/* A windowed distinct set lists its values by last time: v0..v19 arrive a
 * minute apart (the set grows and rehashes on the way), v0 comes again at
 * 00:30, so v1 is the first to leave (01:01, not 01:00) and v0 the last
 * (01:30). */
START_TEST(distinct_window_forgets_values_by_their_last_time) {
  char events[4096] = "account,time,event,user\n";
  for (int i = 0; i < 20; i++)
    snprintf(events + strlen(events), sizeof events - strlen(events), "a,2026-01-01T00:%02d:00Z,login,v%d\n", i, i);
  strcat(events, "a,2026-01-01T00:30:00Z,login,v0\n");
  ck_assert_int_eq(run_rules("event login { user: string }\n"
                             "milestone all \"All\" { mode continuous exit distinct(login.user within 1h) >= 20 }\n"
                             "milestone any \"Any\" { mode continuous exit distinct(login.user within 1h) >= 1 }\n",
                             events, "2026-01-02T00:00:00Z"), 0);
  expect_rows("milestones.csv",
              "a,all,not_achieving,,,2026-01-01T00:19:00Z,2026-01-01T01:01:00Z,,,\n"
              "a,any,not_achieving,,,2026-01-01T00:00:00Z,2026-01-01T01:30:00Z,,,\n");
}
END_TEST

/* Values leave and come back many times (tombstones, rehashes at one size,
 * then growth): at every hour four users are in the window, until the end. */
START_TEST(distinct_window_survives_churn) {
  char *events = malloc(1 << 16);
  strcpy(events, "account,time,event,user\n");
  for (int h = 0; h < 200; h++)
    for (int k = 0; k < 4; k++)
      snprintf(events + strlen(events), (1 << 16) - strlen(events), "a,2026-01-%02dT%02d:%02d:00Z,login,u%d\n",
               1 + h / 24, h % 24, k, (h * 4 + k) % 37);
  ck_assert_int_eq(run_rules("event login { user: string }\n"
                             "milestone four \"Four\" { mode continuous exit distinct(login.user within 1h) >= 4 }\n",
                             events, "2026-01-10T00:00:00Z"), 0);
  free(events);
  /* the last hour's four users arrive at 07:00..07:03 on day 9; the first leaves at 08:00 */
  expect_rows("milestones.csv", "a,four,not_achieving,,,2026-01-01T00:03:00Z,2026-01-09T08:00:00Z,,,\n");
}
END_TEST

/* Sets of up to 8 values are arrays in the order of their values' last
 * times, larger ones hash tables that list them.  Account a's u1 comes
 * again at 00:10 and moves behind u2, so u2 leaves at 01:02 and `two` is
 * lost then (not at 01:10, with u2 held behind u1).  Account b's v3 comes
 * again at 00:10, while its set is full at 8, and v8 makes it a table:
 * the order holds through that, so v7 leaves before v3 and `two` is lost
 * at 01:10 (not 01:07), `nine` at 01:00. */
START_TEST(distinct_small_sets_keep_last_time_order) {
  ck_assert_int_eq(run_rules("event login { user: string }\n"
                             "milestone two \"Two\" { mode continuous exit distinct(login.user within 1h) >= 2 }\n"
                             "milestone nine \"Nine\" { mode continuous exit distinct(login.user within 1h) >= 9 }\n",
                             "account,time,event,user\n"
                             "a,2026-01-01T00:00:00Z,login,u0\na,2026-01-01T00:01:00Z,login,u1\n"
                             "a,2026-01-01T00:02:00Z,login,u2\na,2026-01-01T00:10:00Z,login,u1\n"
                             "b,2026-01-01T00:00:00Z,login,v0\nb,2026-01-01T00:01:00Z,login,v1\n"
                             "b,2026-01-01T00:02:00Z,login,v2\nb,2026-01-01T00:03:00Z,login,v3\n"
                             "b,2026-01-01T00:04:00Z,login,v4\nb,2026-01-01T00:05:00Z,login,v5\n"
                             "b,2026-01-01T00:06:00Z,login,v6\nb,2026-01-01T00:07:00Z,login,v7\n"
                             "b,2026-01-01T00:10:00Z,login,v3\nb,2026-01-01T00:11:00Z,login,v8\n",
                             "2026-01-02T00:00:00Z"), 0);
  expect_rows("milestones.csv",
              "a,two,not_achieving,,,2026-01-01T00:01:00Z,2026-01-01T01:02:00Z,,,\n"
              "a,nine,never_achieved,,,,,,,\n"
              "b,two,not_achieving,,,2026-01-01T00:01:00Z,2026-01-01T01:10:00Z,,,\n"
              "b,nine,not_achieving,,,2026-01-01T00:11:00Z,2026-01-01T01:00:00Z,,,\n");
}
END_TEST

/* -0.0 and 0.0 are one value (as `==` says); 1.5 is another. */
START_TEST(distinct_floats_zero_is_one_value) {
  ck_assert_int_eq(run_rules("event s { f: float }\n"
                             "milestone two \"Two\" { exit distinct(s.f) >= 2 }\n",
                             "account,time,event,f\na,2026-01-01,s,0.0\na,2026-01-02,s,-0.0\na,2026-01-03,s,1.5\n",
                             NULL), 0);
  expect_rows("milestones.csv", "a,two,completed,,,2026-01-03T00:00:00Z,,,,\n");
}
END_TEST

/* Expiries of a window only a completed milestone reads are not evaluated,
 * yet the continuous milestone's loss is exact: `weekly` completes on
 * 01-05, `team` loses u1 (last seen 01-02) on 02-01, though u0 came back
 * on 01-20. */
START_TEST(expiries_of_completed_milestones_change_nothing) {
  ck_assert_int_eq(run_rules("event login { user: string }\n"
                             "milestone weekly \"Weekly\" { exit count(login within 7d) >= 5 }\n"
                             "milestone team \"Team\" { mode continuous exit distinct(login.user within 30d) >= 3 }\n",
                             "account,time,event,user\na,2026-01-01,login,u0\na,2026-01-02,login,u1\n"
                             "a,2026-01-03,login,u2\na,2026-01-04,login,u0\na,2026-01-05,login,u0\n"
                             "a,2026-01-20,login,u0\n",
                             "2026-03-01T00:00:00Z"), 0);
  expect_rows("milestones.csv",
              "a,weekly,completed,,,2026-01-05T00:00:00Z,,,,\n"
              "a,team,not_achieving,,,2026-01-03T00:00:00Z,2026-02-01T00:00:00Z,,,\n");
}
END_TEST

/* The days (MM-DD) at which milestone 0's exit was evaluated, into ctx (DAYS_SIZE bytes). */
enum { DAYS_SIZE = 256 };
static void note_exit(void *ctx, const vm_account *a, uint32_t m, vm_criterion kind, uint32_t action, int64_t t,
                      bool value) {
  (void)a, (void)action, (void)value;
  if (m != 0 || kind != VM_CRIT_EXIT) return;
  char when[40], *days = ctx;
  io_format_time(t, when);
  size_t used = strlen(days);
  snprintf(days + used, DAYS_SIZE - used, "%s%.5s", used ? " " : "", when + 5);
}

/* An instant where only windows lost entries is evaluated only when an
 * expiry can change a milestone there.  `up` (count >= 3: a falling count
 * cannot make it true) is not evaluated for the expiries of 01-02 and
 * 01-05 (its window's), only at its events, at T, and on 01-03, where
 * `quiet` (count < 1: a falling count can) is evaluated and completes,
 * and `up`'s window changed since its last evaluation. */
START_TEST(expiries_evaluate_what_a_falling_count_can_raise) {
  char days[DAYS_SIZE] = "";
  vm_observer o = {.criterion = note_exit, .ctx = days};
  bc_program *p = compile_rules("", "event login\n"
                                    "milestone up \"Up\" { exit count(login within 1d) >= 3 }\n"
                                    "milestone quiet \"Quiet\" { entry count(login) >= 1  exit count(login within 2d) < 1 }\n");
  ck_assert_int_eq(run_observed(p, "account,time,event\n", "a,2026-01-01,login\na,2026-01-04,login\n",
                                "2026-01-06T00:00:00Z", &o), 0);
  ck_assert_str_eq(days, "01-01 01-03 01-04 01-06");
  expect_rows("milestones.csv", "a,up,in_progress,,,,,,,\n"
                                "a,quiet,completed,,2026-01-01T00:00:00Z,2026-01-03T00:00:00Z,,,,\n");
}
END_TEST

/* An expiry that makes code run for the first time is evaluated when that
 * code can fail: the `or` below reaches the division once a's login has
 * left the window, on 01-08, when count(b) is still 0 (SPEC 6: the run
 * stops at that runtime error, as the reference evaluator does). */
START_TEST(expiries_evaluate_code_a_falling_count_runs_first) {
  ck_assert_int_eq(run_rules("event a\nevent b\nevent c\n"
                             "milestone m \"M\" { exit (count(a within 7d) >= 1 or 10 / count(b) > 0) and count(c) >= 1 }\n",
                             "account,time,event\nx,2026-01-01,a\nx,2026-01-09,b\nx,2026-01-10,c\n",
                             "2026-01-11T00:00:00Z"), 3);
}
END_TEST

static uint32_t add_const(bc_program *p, value_type type, value_data v) {
  bc_const *grown = realloc(p->consts, sizeof *p->consts * (p->nconsts + 1));
  ck_assert_ptr_nonnull(grown);
  p->consts = grown;
  p->consts[p->nconsts] = (bc_const){.type = (uint8_t)type, .v = v};
  return p->nconsts++;
}

/* Jumps that do not nest, as a .msc file not made by the compiler may
 * hold (the verifier allows any forward jump): `not (1 <= count(x within
 * 7d))` written with two crossing jumps is read as able to turn true at an
 * expiry, and turns true there, on 01-08, not at T. */
START_TEST(expiries_evaluate_blocks_whose_jumps_cross) {
  bc_program *p = compile_rules("", "event x\nmilestone m \"M\" { exit count(x within 7d) >= 1 }\n");
  uint32_t k1 = add_const(p, VALUE_INT, (value_data){.i = 1});
  uint32_t kf = add_const(p, VALUE_BOOL, (value_data){.b = false}), kt = add_const(p, VALUE_BOOL, (value_data){.b = true});
  const bc_insn code[] = {
    {BC_AGG, 1, 0, 0, 0},   {BC_LOADK, 0, (uint16_t)k1, 0, 0}, {BC_LEI, 0, 0, 1, 0}, {BC_JMPF, 0, 0, 0, 6},
    {BC_LOADK, 0, (uint16_t)kf, 0, 0}, {BC_JMPF, 0, 0, 0, 7}, {BC_LOADK, 0, (uint16_t)kt, 0, 0}, {BC_RET, 0, 0, 0, 0},
  };
  uint32_t n = sizeof code / sizeof code[0];
  bc_insn *grown = realloc(p->code, sizeof *p->code * (p->ncode + n));
  ck_assert_ptr_nonnull(grown);
  p->code = grown;
  memcpy(p->code + p->ncode, code, sizeof code);
  bc_block *exit = &p->blocks[p->milestones[0].exit_block];
  *exit = (bc_block){.start = p->ncode, .len = n, .nregs = 2, .type = exit->type, .milestone = exit->milestone};
  p->ncode += n;
  char msg[512];
  ck_assert_msg(verify_program(p, msg, sizeof msg), "%s", msg);
  ck_assert_int_eq(run_compiled(p, "account,time,event\n", "a,2026-01-01,x\n", "2026-01-10T00:00:00Z"), 0);
  expect_rows("milestones.csv", "a,m,completed,,,2026-01-08T00:00:00Z,,,,\n");
}
END_TEST

/* A criterion that compares an aggregate with a constant (interp.c reads
 * it without the interpreter) gives what the interpreter gives, for each
 * comparison and either order of its operands. */
START_TEST(aggregate_constant_comparisons) {
  ck_assert_int_eq(run_rules("event login\n"
                             "milestone eq \"Eq\" { exit count(login) == 2 }\n"
                             "milestone ne \"Ne\" { exit count(login) != 1 }\n"
                             "milestone lt \"Lt\" { exit count(login) < 3 }\n"
                             "milestone le \"Le\" { exit count(login) <= 0 }\n"
                             "milestone keq \"KEq\" { exit 2 == count(login) }\n"
                             "milestone kne \"KNe\" { exit 1 != count(login) }\n"
                             "milestone klt \"KLt\" { exit 2 < count(login) }\n"
                             "milestone kle \"KLe\" { exit 3 <= count(login) }\n",
                             "account,time,event\na,2026-01-01,login\na,2026-01-02,login\na,2026-01-03,login\n",
                             NULL), 0);
  expect_rows("milestones.csv", "a,eq,completed,,,2026-01-02T00:00:00Z,,,,\n"
                                "a,ne,completed,,,2026-01-02T00:00:00Z,,,,\n"
                                "a,lt,completed,,,2026-01-01T00:00:00Z,,,,\n"
                                "a,le,in_progress,,,,,,,\n"
                                "a,keq,completed,,,2026-01-02T00:00:00Z,,,,\n"
                                "a,kne,completed,,,2026-01-02T00:00:00Z,,,,\n"
                                "a,klt,completed,,,2026-01-03T00:00:00Z,,,,\n"
                                "a,kle,completed,,,2026-01-03T00:00:00Z,,,,\n");
}
END_TEST

static Suite *vm_suite(void) {
  Suite *s = suite_create("vm");
  TCase *tc = tcase_create("runs");
  tcase_add_checked_fixture(tc, vm_setup, vm_teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, equal_times_apply_together);
  tcase_add_test(tc, where_error_fails_only_when_read);
  tcase_add_test(tc, sum_overflows_only_when_read_out_of_range);
  tcase_add_test(tc, control_reset_bounded);
  tcase_add_test(tc, playbook_moves_on_auto_steps);
  tcase_add_test(tc, msc_round_trip_runs_the_same);
  tcase_add_test(tc, distinct_window_forgets_values_by_their_last_time);
  tcase_add_test(tc, distinct_window_survives_churn);
  tcase_add_test(tc, distinct_small_sets_keep_last_time_order);
  tcase_add_test(tc, distinct_floats_zero_is_one_value);
  tcase_add_test(tc, expiries_of_completed_milestones_change_nothing);
  tcase_add_test(tc, expiries_evaluate_what_a_falling_count_can_raise);
  tcase_add_test(tc, aggregate_constant_comparisons);
  tcase_add_test(tc, expiries_evaluate_code_a_falling_count_runs_first);
  tcase_add_test(tc, expiries_evaluate_blocks_whose_jumps_cross);
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
