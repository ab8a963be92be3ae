/* test_tracking.c — on track, behind or stuck (tracking.c): which rows get
 * tracking, each rule at its boundary (e exactly 1 and 0.25, progress
 * exactly expected - 0.25, an action done exactly at T - estimate/4),
 * precedence, exactness with large numbers, the ratio text; and
 * tracking.csv / tracking.jsonl and summary.json's "tracking" (output.c). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/output.h"
#include "io/tracking.h"

#define T0 INT64_C(1767225600000000)   /* 2026-01-01T00:00:00Z */
#define DAY INT64_C(86400000000)
#define NT OUT_NO_TIME

/* A once-mode milestone started on an event, with an 8-day estimate and
 * `nactions` actions (0 to 4). */
static bc_milestone tracked(uint32_t nactions) {
  return (bc_milestone){.name = 1, .display = BC_NONE, .description = BC_NONE, .csm = BC_NONE,
                        .customer = BC_NONE, .group = BC_NONE, .start_kind = BC_START_ON_EVENT,
                        .estimate_us = 8 * DAY, .entry_block = BC_NO_BLOCK, .exit_block = BC_NO_BLOCK,
                        .blocked_block = BC_NO_BLOCK, .nactions = nactions};
}

/* A row started at T0 with `total` actions, those done at done[0..ndone). */
typedef struct row_fixture {
  out_milestone_row row;
  int64_t done_at[4];
} row_fixture;

static void row_init(row_fixture *f, out_status status, int32_t total, const int64_t *done, int ndone) {
  f->row = (out_milestone_row){.status = status, .started_at = T0, .entered_at = T0, .achieved_at = NT,
                               .lost_at = NT, .deadline_at = NT, .on_time = -1, .actions_total = total,
                               .actions_done = ndone};
  for (int i = 0; i < 4; i++) f->done_at[i] = i < ndone ? done[i] : NT;
  f->row.action_done_at = total ? f->done_at : NULL;
}

/* The state of the row at T, asserting it gets one. */
static tracking_state state_at(const bc_milestone *m, const row_fixture *f, int64_t as_of) {
  tracking_row t;
  ck_assert(tracking_classify(m, &f->row, as_of, &t));
  return t.state;
}

START_TEST(state_names) {
  ck_assert_str_eq(tracking_state_name(TRACKING_ON_TRACK), "on_track");
  ck_assert_str_eq(tracking_state_name(TRACKING_BEHIND), "behind");
  ck_assert_str_eq(tracking_state_name(TRACKING_STUCK), "stuck");
  ck_assert_str_eq(tracking_state_name(TRACKING__COUNT), "invalid");
}
END_TEST

START_TEST(which_milestones_and_rows) {
  bc_milestone m = tracked(0);
  ck_assert(tracking_applies(&m));
  bc_milestone continuous = m, no_estimate = m, zero_estimate = m, unbounded = m;
  continuous.continuous = 1;
  no_estimate.estimate_us = -1;
  zero_estimate.estimate_us = 0;   /* only a hand-made .msc: the compiler refuses it */
  unbounded.start_kind = BC_START_NONE;
  ck_assert(!tracking_applies(&continuous));
  ck_assert(!tracking_applies(&no_estimate));
  ck_assert(!tracking_applies(&zero_estimate));
  ck_assert(!tracking_applies(&unbounded));

  row_fixture f;
  tracking_row t;
  /* every status of a started, not completed milestone gets a row */
  static const out_status started[] = {OUT_ST_IN_PROGRESS, OUT_ST_PENDING, OUT_ST_BLOCKED, OUT_ST_OVERDUE};
  for (int i = 0; i < 4; i++) {
    row_init(&f, started[i], 0, NULL, 0);
    ck_assert(tracking_classify(&m, &f.row, T0 + DAY, &t));
  }
  row_init(&f, OUT_ST_IN_PROGRESS, 0, NULL, 0);
  ck_assert(!tracking_classify(&unbounded, &f.row, T0 + DAY, &t));
  ck_assert(!tracking_classify(&continuous, &f.row, T0 + DAY, &t));
  ck_assert(!tracking_classify(&m, &f.row, NT, &t));        /* no as-of time */
  ck_assert(!tracking_classify(&m, &f.row, T0 - 1, &t));    /* a start after T */
  ck_assert(tracking_classify(&m, &f.row, T0, &t));          /* a start at T: nothing elapsed */
  ck_assert_int_eq(t.state, TRACKING_ON_TRACK);
  ck_assert_int_eq(t.elapsed_us, 0);
  row_init(&f, OUT_ST_COMPLETED, 0, NULL, 0);
  f.row.achieved_at = T0 + DAY;
  ck_assert(!tracking_classify(&m, &f.row, T0 + 2 * DAY, &t));
  row_init(&f, OUT_ST_NOT_STARTED, 0, NULL, 0);
  f.row.started_at = NT;
  ck_assert(!tracking_classify(&m, &f.row, T0 + 2 * DAY, &t));
}
END_TEST

/* e > 1 is behind; e exactly 1 is not (no actions: on_track or behind only). */
START_TEST(estimate_elapsed_boundary) {
  bc_milestone m = tracked(0);
  row_fixture f;
  row_init(&f, OUT_ST_IN_PROGRESS, 0, NULL, 0);
  ck_assert_int_eq(state_at(&m, &f, T0 + 8 * DAY), TRACKING_ON_TRACK);
  ck_assert_int_eq(state_at(&m, &f, T0 + 8 * DAY + 1), TRACKING_BEHIND);
  ck_assert_int_eq(state_at(&m, &f, T0 + 100 * DAY), TRACKING_BEHIND);
  /* never stuck without actions, however long nothing happens */
  ck_assert_int_eq(state_at(&m, &f, T0 + 7 * DAY), TRACKING_ON_TRACK);

  /* with every action done, still behind past the estimate */
  bc_milestone m2 = tracked(2);
  int64_t done[2] = {T0 + 8 * DAY, T0 + 8 * DAY};
  row_init(&f, OUT_ST_BLOCKED, 2, done, 2);
  ck_assert_int_eq(state_at(&m2, &f, T0 + 8 * DAY), TRACKING_ON_TRACK);
  ck_assert_int_eq(state_at(&m2, &f, T0 + 8 * DAY + 1), TRACKING_BEHIND);
}
END_TEST

/* progress < expected - 0.25 is behind; exactly expected - 0.25 is not. */
START_TEST(progress_boundary) {
  bc_milestone m = tracked(4);
  row_fixture f;
  /* 1 of 4 done (0.25), recently: expected 0.5 at 4 days, 0.25 = 0.5 - 0.25 */
  int64_t done[1] = {T0 + 4 * DAY};
  row_init(&f, OUT_ST_IN_PROGRESS, 4, done, 1);
  ck_assert_int_eq(state_at(&m, &f, T0 + 4 * DAY), TRACKING_ON_TRACK);
  ck_assert_int_eq(state_at(&m, &f, T0 + 4 * DAY + 1), TRACKING_BEHIND);
  /* nothing done: behind as soon as more than a quarter has elapsed */
  row_init(&f, OUT_ST_PENDING, 4, NULL, 0);
  ck_assert_int_eq(state_at(&m, &f, T0 + 2 * DAY + 1), TRACKING_BEHIND);
  /* 3 of 4 done (0.75) is never behind before the estimate is over */
  int64_t three[3] = {T0, T0, T0 + 8 * DAY};
  row_init(&f, OUT_ST_IN_PROGRESS, 4, three, 3);
  ck_assert_int_eq(state_at(&m, &f, T0 + 8 * DAY), TRACKING_ON_TRACK);
}
END_TEST

/* stuck needs e >= 0.25 (exactly 0.25 counts) and no action done in
 * (T - estimate/4, T]; behind comes first. */
START_TEST(stuck_boundaries) {
  bc_milestone m = tracked(4);
  row_fixture f;
  /* nothing done: at e = 0.25 exactly, progress 0 = 0.25 - 0.25 is not behind, so stuck */
  row_init(&f, OUT_ST_PENDING, 4, NULL, 0);
  ck_assert_int_eq(state_at(&m, &f, T0 + 2 * DAY), TRACKING_STUCK);
  ck_assert_int_eq(state_at(&m, &f, T0 + 2 * DAY - 1), TRACKING_ON_TRACK);   /* e < 0.25 */

  /* 2 of 4 done (0.5), at 4 days expected 0.5: only recency decides; a quarter is 2 days */
  int64_t t = T0 + 4 * DAY;
  int64_t at_edge[2] = {T0, t - 2 * DAY};        /* exactly T - estimate/4: not in the window */
  row_init(&f, OUT_ST_IN_PROGRESS, 4, at_edge, 2);
  ck_assert_int_eq(state_at(&m, &f, t), TRACKING_STUCK);
  int64_t inside[2] = {T0, t - 2 * DAY + 1};
  row_init(&f, OUT_ST_IN_PROGRESS, 4, inside, 2);
  ck_assert_int_eq(state_at(&m, &f, t), TRACKING_ON_TRACK);
  int64_t at_t[2] = {T0, t};                     /* done at T: in the window */
  row_init(&f, OUT_ST_OVERDUE, 4, at_t, 2);
  ck_assert_int_eq(state_at(&m, &f, t), TRACKING_ON_TRACK);
  /* done after T (not possible from a run): ignored */
  int64_t later[2] = {T0, t + 1};
  row_init(&f, OUT_ST_IN_PROGRESS, 4, later, 2);
  tracking_row tr;
  ck_assert(tracking_classify(&m, &f.row, t, &tr));
  ck_assert_int_eq(tr.state, TRACKING_STUCK);
  ck_assert_int_eq(tr.last_done_at, T0);
  ck_assert(!tr.recent_action);

  /* behind and stuck both hold: behind */
  row_init(&f, OUT_ST_IN_PROGRESS, 4, NULL, 0);
  ck_assert_int_eq(state_at(&m, &f, T0 + 3 * DAY), TRACKING_BEHIND);
  ck_assert_int_eq(state_at(&m, &f, T0 + 9 * DAY), TRACKING_BEHIND);
}
END_TEST

/* An estimate whose quarter is not whole microseconds: T - 2.5 is the
 * edge, so T - 2 is inside and T - 3 is not. */
START_TEST(quarter_not_whole) {
  bc_milestone m = tracked(1);
  m.estimate_us = 10;
  row_fixture f;
  int64_t t = T0 + 3;   /* e = 0.3 >= 0.25 */
  int64_t in[1] = {t - 2}, out[1] = {t - 3};
  row_init(&f, OUT_ST_IN_PROGRESS, 2, in, 1);
  m.nactions = 2;
  ck_assert_int_eq(state_at(&m, &f, t), TRACKING_ON_TRACK);
  row_init(&f, OUT_ST_IN_PROGRESS, 2, out, 1);
  ck_assert_int_eq(state_at(&m, &f, t), TRACKING_STUCK);
  /* e = 0.2 (2 of 10): below a quarter, never stuck */
  int64_t old[1] = {T0};
  row_init(&f, OUT_ST_IN_PROGRESS, 2, old, 1);
  ck_assert_int_eq(state_at(&m, &f, T0 + 2), TRACKING_ON_TRACK);
}
END_TEST

/* Products beyond 64 bits stay exact. */
START_TEST(large_numbers) {
  bc_milestone m = tracked(0);
  m.estimate_us = INT64_C(1) << 61;
  row_fixture f;
  row_init(&f, OUT_ST_IN_PROGRESS, 0, NULL, 0);
  f.row.started_at = -(INT64_C(1) << 61);
  ck_assert_int_eq(state_at(&m, &f, 0), TRACKING_ON_TRACK);       /* e exactly 1 */
  ck_assert_int_eq(state_at(&m, &f, 1), TRACKING_BEHIND);

  /* 2^31 - 1 actions at e = 1/2: 2^29 done is just above a quarter of
   * them, so not behind; one fewer is just below */
  m.nactions = 1;   /* classify reads the row's counts; action_done_at is NULL */
  f.row.started_at = 0;
  f.row.actions_total = INT32_MAX;
  f.row.action_done_at = NULL;
  f.row.actions_done = (INT32_MAX / 4) + 1;   /* total/4 + 1/4 */
  tracking_row t;
  ck_assert(tracking_classify(&m, &f.row, m.estimate_us / 2, &t));
  ck_assert_int_ne(t.state, TRACKING_BEHIND);
  f.row.actions_done = INT32_MAX / 4;          /* total/4 - 3/4 */
  ck_assert(tracking_classify(&m, &f.row, m.estimate_us / 2, &t));
  ck_assert_int_eq(t.state, TRACKING_BEHIND);
}
END_TEST

START_TEST(ratio_text) {
  char buf[TRACKING_TEXT_SIZE];
  struct { int64_t num, den; const char *want; } cases[] = {
    {0, 5, "0"}, {5, 5, "1"}, {1, 2, "0.5"}, {1, 3, "0.3333"}, {2, 3, "0.6667"},
    {1, 32, "0.0313"},                 /* half away from zero, exactly */
    {1, 20000, "0.0001"}, {1, 20001, "0"}, {3, 4, "0.75"}, {9999, 10000, "0.9999"},
    {99995, 100000, "1"}, {INT64_MAX / 2, INT64_MAX, "0.5"}, {INT64_MAX, INT64_MAX, "1"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int n = tracking_format_ratio(cases[i].num, cases[i].den, buf);
    ck_assert_str_eq(buf, cases[i].want);
    ck_assert_int_eq(n, (int)strlen(cases[i].want));
  }
  tracking_row t = {.elapsed_us = 3 * DAY, .estimate_us = 8 * DAY, .done = 1, .total = 3};
  tracking_expected_text(&t, buf);
  ck_assert_str_eq(buf, "0.375");
  tracking_progress_text(&t, buf);
  ck_assert_str_eq(buf, "0.3333");
  t.elapsed_us = 20 * DAY;               /* expected progress stops at 1 */
  tracking_expected_text(&t, buf);
  ck_assert_str_eq(buf, "1");
}
END_TEST

/* ---- the outputs ----------------------------------------------------------------------- */

static char *slurp(const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "%s", path);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return strdup(buf);
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  char path[512];
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  closedir(d);
  rmdir(dir);
}

/* Milestone 0 "setup" (tracked, 2 actions), 1 "plain" (tracked, none),
 * 2 "loose" (no start clause: never tracked). */
typedef struct prog_fixture {
  bc_action actions[2];
  bc_milestone ms[3];
  bc_program prog;
} prog_fixture;

static const char pool[] = "\0setup\0plain\0loose\0a\0b";

static void prog_init(prog_fixture *p) {
  memset(p, 0, sizeof *p);
  p->actions[0] = (bc_action){.name = 19, .label = 19};
  p->actions[1] = (bc_action){.name = 21, .label = 21};
  p->ms[0] = tracked(2);
  p->ms[0].actions = p->actions;
  p->ms[1] = tracked(0);
  p->ms[1].name = 7;
  p->ms[2] = tracked(0);
  p->ms[2].name = 13;
  p->ms[2].start_kind = BC_START_NONE;
  p->prog = (bc_program){.strings = (char *)pool, .strings_len = sizeof pool, .nmilestones = 3,
                         .milestones = p->ms};
}

START_TEST(tracking_files_and_summary) {
  static const out_format formats[] = {OUT_CSV, OUT_JSONL};
  static const char *const names[] = {"tracking.csv", "tracking.jsonl"};
  static const char *const want[] = {
      "account,milestone,tracking,expected_progress,progress\n"
      "a,setup,stuck,0.375,0.5\n"
      "a,plain,on_track,0.375,\n"
      "b,setup,behind,1,1\n",
      "{\"account\":\"a\",\"milestone\":\"setup\",\"tracking\":\"stuck\",\"expected_progress\":0.375,"
      "\"progress\":0.5}\n"
      "{\"account\":\"a\",\"milestone\":\"plain\",\"tracking\":\"on_track\",\"expected_progress\":0.375,"
      "\"progress\":null}\n"
      "{\"account\":\"b\",\"milestone\":\"setup\",\"tracking\":\"behind\",\"expected_progress\":1,"
      "\"progress\":1}\n",
  };
  prog_fixture p;
  prog_init(&p);
  int64_t as_of = T0 + 3 * DAY;
  for (int f = 0; f < 2; f++) {
    char dir[] = "/tmp/msl-test-tracking-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char msg[256] = "";
    out_writer *w = out_open(&p.prog, dir, formats[f], NULL, msg, sizeof msg);
    ck_assert_msg(w != NULL, "%s", msg);
    /* a: setup 1 of 2 done on the first day (stuck at 3 of 8 days);
     *    plain on track; loose started but never tracked */
    row_fixture a[3];
    int64_t done_a[1] = {T0};
    row_init(&a[0], OUT_ST_IN_PROGRESS, 2, done_a, 1);
    row_init(&a[1], OUT_ST_PENDING, 0, NULL, 0);
    row_init(&a[2], OUT_ST_IN_PROGRESS, 0, NULL, 0);
    a[1].row.milestone = 1;
    a[2].row.milestone = 2;
    out_milestone_row ra[3] = {a[0].row, a[1].row, a[2].row};
    /* without the as-of time, a tracked row is refused */
    ck_assert(!out_account(w, "a", 1, ra, 3, NULL, 0, NULL, 0, msg, sizeof msg));
    ck_assert_str_eq(msg, "internal error: tracking row 0 without the as-of time");
    out_set_as_of(w, as_of);
    ck_assert_msg(out_account(w, "a", 1, ra, 3, NULL, 0, NULL, 0, msg, sizeof msg), "%s", msg);
    /* b: setup started 9 days before T, every action done, still not completed:
     * behind; plain completed: no row */
    row_fixture b[2];
    int64_t done_b[2] = {T0, T0};
    row_init(&b[0], OUT_ST_BLOCKED, 2, done_b, 2);
    b[0].row.started_at = as_of - 9 * DAY;
    row_init(&b[1], OUT_ST_COMPLETED, 0, NULL, 0);
    b[1].row.milestone = 1;
    b[1].row.achieved_at = T0 + DAY;
    out_milestone_row rb[2] = {b[0].row, b[1].row};
    ck_assert_msg(out_account(w, "b", 1, rb, 2, NULL, 0, NULL, 0, msg, sizeof msg), "%s", msg);
    ck_assert_msg(out_finish(w, as_of, &(out_counts){0}, msg, sizeof msg), "%s", msg);

    char *text = slurp(dir, names[f]);
    ck_assert_str_eq(text, want[f]);
    free(text);
    text = slurp(dir, "summary.json");
    const char *setup = strstr(text, "\"tracking\": {\n        \"on_track\": 0,\n        \"behind\": 1,\n"
                                     "        \"stuck\": 1\n      }\n");
    ck_assert_msg(setup != NULL, "%s", text);
    ck_assert_msg(strstr(setup + 1, "\"tracking\": {\n        \"on_track\": 1,\n        \"behind\": 0,\n"
                                    "        \"stuck\": 0\n      }\n"), "%s", text);
    ck_assert_msg(strstr(text, "\"tracking\": null\n    }\n  ],\n"), "%s", text);   /* loose */
    free(text);
    remove_dir(dir);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("tracking");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, state_names);
  tcase_add_test(tc, which_milestones_and_rows);
  tcase_add_test(tc, estimate_elapsed_boundary);
  tcase_add_test(tc, progress_boundary);
  tcase_add_test(tc, stuck_boundaries);
  tcase_add_test(tc, quarter_not_whole);
  tcase_add_test(tc, large_numbers);
  tcase_add_test(tc, ratio_text);
  tcase_add_test(tc, tracking_files_and_summary);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
