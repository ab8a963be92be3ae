/* test_output.c — the result writers (output.c): CSV and JSON Lines rows,
 * actions, standard output mode, atomic files, summary.json; and the commit, lock and
 * stale-file cleanup beneath them (commit.c). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/commit.h"
#include "io/output.h"

/* 2026-01-01T00:00:00Z in microseconds, and whole days after it. */
#define T0 INT64_C(1767225600000000)
#define DAY INT64_C(86400000000)
#define SEC INT64_C(1000000)
#define NT OUT_NO_TIME

/* ---- a small program, built by hand ----------------------------------------------- */

typedef struct fixture {
  char pool[512];
  bc_action actions[2];
  bc_milestone ms[2];
  bc_step steps[2];
  bc_playbook pb;
  bc_program prog;
  /* string offsets */
  uint32_t s_advocacy, s_handoff;
} fixture;

static uint32_t pool_add(fixture *fx, const char *s) {
  uint32_t off = fx->prog.strings_len;
  size_t n = strlen(s) + 1;
  ck_assert_uint_le(off + n, sizeof fx->pool);
  memcpy(fx->pool + off, s, n);
  fx->prog.strings_len += (uint32_t)n;
  return off;
}

/* milestone 0 "activated": once, display, group, estimate 90000.5 s, a
 * description and csm text, actions connect (owner customer) and build;
 * milestone 1 "active": continuous, no display/group/estimate;
 * playbook 0 "onboarding": steps kick, live. */
static void fixture_init(fixture *fx) {
  memset(fx, 0, sizeof *fx);
  fx->prog.strings = fx->pool;
  pool_add(fx, "");
  fx->actions[0] = (bc_action){.name = pool_add(fx, "connect"), .label = pool_add(fx, "Connect the \"CRM\""),
                                .owner = 2};
  fx->actions[1] = (bc_action){.name = pool_add(fx, "build"), .label = pool_add(fx, "Build, then share"),
                                .owner = 0};
  fx->ms[0] = (bc_milestone){
    .name = pool_add(fx, "activated"), .display = pool_add(fx, "Activated \"now\""),
    .description = pool_add(fx, "The team is set up"), .csm = pool_add(fx, "Call the sponsor"),
    .customer = BC_NONE,
    .group = pool_add(fx, "Activation"), .decl_order = 0, .continuous = 0,
    .estimate_us = 90000 * SEC + 500000,
    .entry_block = BC_NO_BLOCK, .exit_block = BC_NO_BLOCK, .blocked_block = BC_NO_BLOCK,
    .nactions = 2, .actions = fx->actions,
  };
  fx->ms[1] = (bc_milestone){
    .name = pool_add(fx, "active"), .display = BC_NONE, .description = BC_NONE,
    .csm = BC_NONE, .customer = BC_NONE, .group = BC_NONE, .decl_order = 1, .continuous = 1,
    .estimate_us = -1,
    .entry_block = BC_NO_BLOCK, .exit_block = BC_NO_BLOCK, .blocked_block = BC_NO_BLOCK,
  };
  fx->steps[0] = (bc_step){.name = pool_add(fx, "kick"), .label = BC_NONE, .tracks = 0,
                           .is_auto = 1, .when_block = BC_NO_BLOCK};
  fx->steps[1] = (bc_step){.name = pool_add(fx, "live"), .label = BC_NONE, .tracks = 1,
                           .is_auto = 1, .when_block = BC_NO_BLOCK};
  fx->pb = (bc_playbook){.name = pool_add(fx, "onboarding"), .display = pool_add(fx, "Onboarding"),
                         .decl_order = 2, .nsteps = 2, .steps = fx->steps};
  fx->s_advocacy = pool_add(fx, "advocacy_ask");
  fx->s_handoff = pool_add(fx, "handoff");
  fx->prog.nmilestones = 2;
  fx->prog.milestones = fx->ms;
  fx->prog.nplaybooks = 1;
  fx->prog.playbooks = &fx->pb;
}

static out_milestone_row ms_row(uint32_t m, out_status s) {
  return (out_milestone_row){.milestone = m, .status = s, .started_at = NT, .entered_at = NT,
                             .achieved_at = NT, .lost_at = NT, .deadline_at = NT, .on_time = -1};
}

static out_playbook_row pb_row(int32_t step, int64_t entered, int64_t done) {
  return (out_playbook_row){.playbook = 0, .step = step, .step_entered_at = entered, .done_at = done};
}

static const out_counts zero_counts;

/* ---- files and directories ----------------------------------------------------------- */

static char *make_dir(void) {
  char *dir = strdup("/tmp/msl-test-output-XXXXXX");
  ck_assert_ptr_nonnull(dir);
  ck_assert_ptr_nonnull(mkdtemp(dir));
  return dir;
}

static char *slurp_fd(int fd) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  ck_assert_ptr_nonnull(buf);
  for (;;) {
    if (len + 1 == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      ck_assert_ptr_nonnull(buf);
    }
    ssize_t k = read(fd, buf + len, cap - 1 - len);
    ck_assert_int_ge(k, 0);
    if (k == 0) break;
    len += (size_t)k;
  }
  buf[len] = 0;
  return buf;
}

static char *slurp(const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_RDONLY);
  ck_assert_msg(fd >= 0, "cannot open %s", path);
  char *text = slurp_fd(fd);
  close(fd);
  return text;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory's entries, sorted, joined by spaces; temporary files
 * (names starting with '.') appear as ".tmp". */
static void list_dir(const char *dir, char *out, size_t outlen) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  char *names[32];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    ck_assert_int_lt(n, 32);
    names[n++] = strdup(e->d_name[0] == '.' ? ".tmp" : e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], compare_names);
  out[0] = 0;
  for (int i = 0; i < n; i++) {
    if (i) strncat(out, " ", outlen - strlen(out) - 1);
    strncat(out, names[i], outlen - strlen(out) - 1);
    free(names[i]);
  }
}

static void remove_dir(char *dir) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (unlink(path) != 0) {
      char sub[600];
      snprintf(sub, sizeof sub, "%s/x", path);
      unlink(sub);
      rmdir(path);
    }
  }
  closedir(d);
  ck_assert_int_eq(rmdir(dir), 0);
  free(dir);
}

/* Compares whole output texts; on a mismatch shows where (Check cannot
 * carry messages as long as the texts). */
static void assert_text(const char *got, const char *want) {
  size_t i = 0;
  while (got[i] && got[i] == want[i]) i++;
  size_t from = i > 40 ? i - 40 : 0;
  ck_assert_msg(got[i] == want[i], "texts differ at byte %zu:\n got: ...%.120s\nwant: ...%.120s",
                i, got + from, want + from);
}

/* Runs one account's rows through a writer to dir and finishes it. */
static void write_one(const bc_program *prog, const char *dir, out_format fmt, const char *id,
                      const out_milestone_row *ms, int nms, const out_playbook_row *pbs, int npbs,
                      const out_signal *sigs, int nsigs) {
  char msg[256] = "";
  out_writer *w = out_open(prog, dir, fmt, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  ck_assert_msg(out_account(w, id, strlen(id), ms, nms, pbs, npbs, sigs, nsigs, msg, sizeof msg), "%s", msg);
  ck_assert_msg(out_finish(w, T0, &zero_counts, msg, sizeof msg), "%s", msg);
}

/* ---- tests ---------------------------------------------------------------------------- */

START_TEST(status_names) {
  ck_assert_str_eq(out_status_name(OUT_ST_NOT_STARTED), "not_started");
  ck_assert_str_eq(out_status_name(OUT_ST_PENDING), "pending");
  ck_assert_str_eq(out_status_name(OUT_ST_IN_PROGRESS), "in_progress");
  ck_assert_str_eq(out_status_name(OUT_ST_COMPLETED), "completed");
  ck_assert_str_eq(out_status_name(OUT_ST_OVERDUE), "overdue");
  ck_assert_str_eq(out_status_name(OUT_ST_BLOCKED), "blocked");
  ck_assert_str_eq(out_status_name(OUT_ST_ACHIEVING), "achieving");
  ck_assert_str_eq(out_status_name(OUT_ST_NOT_ACHIEVING), "not_achieving");
  ck_assert_str_eq(out_status_name(OUT_ST_NEVER_ACHIEVED), "never_achieved");
  ck_assert_str_eq(out_status_name(OUT_ST__COUNT), "invalid");
}
END_TEST

START_TEST(csv_quoting_times_and_empty_cells) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);

  out_milestone_row a[2] = {ms_row(0, OUT_ST_COMPLETED), ms_row(1, OUT_ST_ACHIEVING)};
  a[0].started_at = T0;
  a[0].achieved_at = T0 + 30 * DAY + 9 * 3600 * SEC + 30 * 60 * SEC + 1;   /* one microsecond */
  a[0].deadline_at = T0 + 31 * DAY;
  a[0].on_time = 1;
  a[0].actions_done = 2;
  a[0].actions_total = 3;
  a[1].achieved_at = T0 + DAY + 250000;
  out_milestone_row b[1] = {ms_row(0, OUT_ST_OVERDUE)};
  b[0].on_time = 0;
  b[0].actions_total = 4;
  const char *ids[] = {"a,b", "say \"hi\"", "line\nbreak", "cr\rx", " spaced ", "\"", "plain"};
  ck_assert(out_account(w, ids[0], strlen(ids[0]), a, 2, NULL, 0, NULL, 0, msg, sizeof msg));
  for (int i = 1; i < 7; i++)
    ck_assert_msg(out_account(w, ids[i], strlen(ids[i]), b, 1, NULL, 0, NULL, 0, msg, sizeof msg), "%s", msg);
  ck_assert_msg(out_finish(w, T0, &zero_counts, msg, sizeof msg), "%s", msg);

  char *text = slurp(dir, "milestones.csv");
  assert_text(text,
      "account,milestone,status,started_at,entered_at,achieved_at,lost_at,deadline_at,on_time,progress\n"
      "\"a,b\",activated,completed,2026-01-01T00:00:00Z,,2026-01-31T09:30:00.000001Z,,2026-02-01T00:00:00Z,true,0.6667\n"
      "\"a,b\",active,achieving,,,2026-01-02T00:00:00.250000Z,,,,\n"
      "\"say \"\"hi\"\"\",activated,overdue,,,,,,false,0\n"
      "\"line\nbreak\",activated,overdue,,,,,,false,0\n"
      "\"cr\rx\",activated,overdue,,,,,,false,0\n"
      " spaced ,activated,overdue,,,,,,false,0\n"
      "\"\"\"\",activated,overdue,,,,,,false,0\n"
      "plain,activated,overdue,,,,,,false,0\n");
  free(text);
  remove_dir(dir);
}
END_TEST

/* A name the compiler never makes (a hand-made .msc): escaped as any text. */
START_TEST(names_not_identifiers_escaped) {
  for (int f = 0; f < 2; f++) {
    fixture fx;
    fixture_init(&fx);
    fx.ms[0].name = pool_add(&fx, f ? "say \"hi\"" : "a,b");
    char *dir = make_dir();
    out_milestone_row a[1] = {ms_row(0, OUT_ST_IN_PROGRESS)};
    write_one(&fx.prog, dir, f ? OUT_JSONL : OUT_CSV, "x", a, 1, NULL, 0, NULL, 0);
    char *text = slurp(dir, f ? "milestones.jsonl" : "milestones.csv");
    const char *want = f ? "{\"account\":\"x\",\"milestone\":\"say \\\"hi\\\"\",\"status\":\"in_progress\""
                         : "\nx,\"a,b\",in_progress,";
    ck_assert_msg(strstr(text, want), "no %s in:\n%s", want, text);
    free(text);
    remove_dir(dir);
  }
}
END_TEST

START_TEST(progress_rounding) {
  static const struct { int32_t done, total; const char *text; } cases[] = {
    {1, 3, "0.3333"}, {2, 3, "0.6667"}, {1, 8, "0.125"}, {5, 5, "1"}, {0, 4, "0"},
    {1, 2, "0.5"}, {1, 16, "0.0625"},
    /* exact ties at the 5th decimal go away from zero (printf would give 0.0312) */
    {1, 32, "0.0313"}, {3, 32, "0.0938"}, {5, 32, "0.1563"}, {1, 20000, "0.0001"},
    {19999, 20000, "1"}, {1, 20001, "0"}, {9999, 10000, "0.9999"}, {7, 7, "1"},
    {0, 0, ""},
  };
  int n = (int)(sizeof cases / sizeof cases[0]);
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  for (int i = 0; i < n; i++) {
    out_milestone_row r = ms_row(0, OUT_ST_IN_PROGRESS);
    r.actions_done = cases[i].done;
    r.actions_total = cases[i].total;
    char id[16];
    snprintf(id, sizeof id, "a%02d", i);
    ck_assert(out_account(w, id, strlen(id), &r, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  }
  ck_assert(out_finish(w, T0, &zero_counts, msg, sizeof msg));
  char *text = slurp(dir, "milestones.csv");
  char *line = strchr(text, '\n') + 1;
  for (int i = 0; i < n; i++) {
    char want[64];
    snprintf(want, sizeof want, "a%02d,activated,in_progress,,,,,,,%s\n", i, cases[i].text);
    ck_assert_msg(strncmp(line, want, strlen(want)) == 0, "%d/%d: want %s", cases[i].done, cases[i].total, want);
    line += strlen(want);
  }
  ck_assert_str_eq(line, "");
  free(text);
  remove_dir(dir);
}
END_TEST

START_TEST(playbooks_and_signals_csv) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  out_playbook_row p1 = pb_row(-1, NT, NT), p2 = pb_row(0, NT, NT), p3 = pb_row(1, T0 + DAY, NT),
                   p4 = pb_row(2, T0 + 2 * DAY, T0 + 2 * DAY);
  out_signal sigs[2] = {
    {.time = T0 + DAY, .signal = fx.s_advocacy, .source_order = 0, .source = fx.ms[0].name, .seq = 0},
    {.time = T0 + 2 * DAY, .signal = fx.s_handoff, .source_order = 2, .source = fx.pb.name, .seq = 1},
  };
  ck_assert(out_account(w, "a", 1, NULL, 0, &p1, 1, NULL, 0, msg, sizeof msg));
  ck_assert(out_account(w, "b", 1, NULL, 0, &p2, 1, NULL, 0, msg, sizeof msg));
  ck_assert(out_account(w, "c", 1, NULL, 0, &p3, 1, sigs, 1, msg, sizeof msg));
  ck_assert(out_account(w, "d,e", 3, NULL, 0, &p4, 1, sigs, 2, msg, sizeof msg));
  ck_assert(out_finish(w, T0, &zero_counts, msg, sizeof msg));

  char *text = slurp(dir, "playbooks.csv");
  assert_text(text,
      "account,playbook,step,step_entered_at,done_at\n"
      "a,onboarding,,,\n"
      "b,onboarding,kick,,\n"
      "c,onboarding,live,2026-01-02T00:00:00Z,\n"
      "\"d,e\",onboarding,done,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z\n");
  free(text);
  text = slurp(dir, "signals.csv");
  assert_text(text,
      "account,signal,source,time\n"
      "c,advocacy_ask,activated,2026-01-02T00:00:00Z\n"
      "\"d,e\",advocacy_ask,activated,2026-01-02T00:00:00Z\n"
      "\"d,e\",handoff,onboarding,2026-01-03T00:00:00Z\n");
  free(text);
  remove_dir(dir);
}
END_TEST

START_TEST(headers_without_rows) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  ck_assert(out_finish(w, T0, &zero_counts, msg, sizeof msg));
  char *text = slurp(dir, "milestones.csv");
  assert_text(text, "account,milestone,status,started_at,entered_at,achieved_at,lost_at,deadline_at,on_time,progress\n");
  free(text);
  text = slurp(dir, "playbooks.csv");
  assert_text(text, "account,playbook,step,step_entered_at,done_at\n");
  free(text);
  text = slurp(dir, "signals.csv");
  assert_text(text, "account,signal,source,time\n");
  free(text);
  text = slurp(dir, "actions.csv");
  assert_text(text, "account,milestone,action,owner,done_at\n");
  free(text);
  remove_dir(dir);
}
END_TEST

/* actions.csv / actions.jsonl: a row per action of each milestone row, in
 * row order; done_at empty when not done or not started (no done times). */
START_TEST(actions_rows) {
  fixture fx;
  fixture_init(&fx);
  static const out_format formats[] = {OUT_CSV, OUT_JSONL};
  static const char *const names[] = {"actions.csv", "actions.jsonl"};
  static const char *const want[] = {
      "account,milestone,action,owner,done_at\n"
      "\"a,1\",activated,connect,customer,2026-01-02T00:00:00Z\n"
      "\"a,1\",activated,build,,\n"
      "b,activated,connect,customer,\n"
      "b,activated,build,,\n",
      "{\"account\":\"a,1\",\"milestone\":\"activated\",\"action\":\"connect\",\"owner\":\"customer\","
      "\"done_at\":\"2026-01-02T00:00:00Z\"}\n"
      "{\"account\":\"a,1\",\"milestone\":\"activated\",\"action\":\"build\",\"owner\":null,"
      "\"done_at\":null}\n"
      "{\"account\":\"b\",\"milestone\":\"activated\",\"action\":\"connect\",\"owner\":\"customer\","
      "\"done_at\":null}\n"
      "{\"account\":\"b\",\"milestone\":\"activated\",\"action\":\"build\",\"owner\":null,"
      "\"done_at\":null}\n",
  };
  for (int f = 0; f < 2; f++) {
    char *dir = make_dir();
    char msg[256] = "";
    out_writer *w = out_open(&fx.prog, dir, formats[f], NULL, msg, sizeof msg);
    ck_assert_msg(w != NULL, "%s", msg);
    int64_t done_a[2] = {T0 + DAY, NT};
    out_milestone_row a[2] = {ms_row(0, OUT_ST_IN_PROGRESS), ms_row(1, OUT_ST_NEVER_ACHIEVED)};
    a[0].started_at = T0;
    a[0].actions_done = 1;
    a[0].actions_total = 2;
    a[0].action_done_at = done_a;
    out_milestone_row b = ms_row(0, OUT_ST_NOT_STARTED);   /* no done times */
    b.actions_total = 2;
    ck_assert(out_account(w, "a,1", 3, a, 2, NULL, 0, NULL, 0, msg, sizeof msg));
    ck_assert(out_account(w, "b", 1, &b, 1, NULL, 0, NULL, 0, msg, sizeof msg));
    ck_assert_msg(out_finish(w, T0 + 5 * DAY, &zero_counts, msg, sizeof msg), "%s", msg);
    char *text = slurp(dir, names[f]);
    assert_text(text, want[f]);
    free(text);
    text = slurp(dir, "summary.json");
    ck_assert_msg(strstr(text, "\"name\": \"connect\",\n          \"label\": \"Connect the \\\"CRM\\\"\",\n"
                               "          \"owner\": \"customer\",\n          \"done\": 1\n"), "%s", text);
    free(text);
    remove_dir(dir);
  }
}
END_TEST

START_TEST(jsonl_rows) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  out_milestone_row ms[2] = {ms_row(0, OUT_ST_COMPLETED), ms_row(1, OUT_ST_NEVER_ACHIEVED)};
  ms[0].started_at = T0;
  ms[0].achieved_at = T0 + DAY + 5;
  ms[0].deadline_at = T0 + 7 * DAY;
  ms[0].on_time = 1;
  ms[0].actions_done = 1;
  ms[0].actions_total = 2;
  ms[1].on_time = 0;
  out_playbook_row pb = pb_row(-1, NT, NT);
  out_signal sig = {.time = T0, .signal = fx.s_advocacy, .source = fx.ms[0].name};
  /* quote, backslash, a control character, valid UTF-8 (é), a stray byte */
  write_one(&fx.prog, dir, OUT_JSONL, "q\"\\\x01\t\xc3\xa9\xff", ms, 2, &pb, 1, &sig, 1);

  char names[256];
  list_dir(dir, names, sizeof names);
  ck_assert_str_eq(names, "actions.jsonl milestones.jsonl playbooks.jsonl report.html signals.jsonl summary.json tracking.jsonl");
  char *text = slurp(dir, "milestones.jsonl");
  assert_text(text,
      "{\"account\":\"q\\\"\\\\\\u0001\\u0009\xc3\xa9\\ufffd\",\"milestone\":\"activated\",\"status\":\"completed\","
      "\"started_at\":\"2026-01-01T00:00:00Z\",\"entered_at\":null,"
      "\"achieved_at\":\"2026-01-02T00:00:00.000005Z\",\"lost_at\":null,"
      "\"deadline_at\":\"2026-01-08T00:00:00Z\",\"on_time\":true,\"progress\":0.5}\n"
      "{\"account\":\"q\\\"\\\\\\u0001\\u0009\xc3\xa9\\ufffd\",\"milestone\":\"active\",\"status\":\"never_achieved\","
      "\"started_at\":null,\"entered_at\":null,\"achieved_at\":null,\"lost_at\":null,"
      "\"deadline_at\":null,\"on_time\":false,\"progress\":null}\n");
  free(text);
  text = slurp(dir, "playbooks.jsonl");
  assert_text(text,
      "{\"account\":\"q\\\"\\\\\\u0001\\u0009\xc3\xa9\\ufffd\",\"playbook\":\"onboarding\",\"step\":null,"
      "\"step_entered_at\":null,\"done_at\":null}\n");
  free(text);
  text = slurp(dir, "signals.jsonl");
  assert_text(text,
      "{\"account\":\"q\\\"\\\\\\u0001\\u0009\xc3\xa9\\ufffd\",\"signal\":\"advocacy_ask\",\"source\":\"activated\","
      "\"time\":\"2026-01-01T00:00:00Z\"}\n");
  free(text);
  remove_dir(dir);
}
END_TEST

START_TEST(jsonl_invalid_utf8_forms) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  out_milestone_row r = ms_row(1, OUT_ST_NOT_STARTED);
  /* overlong '/', a surrogate, a truncated 3-byte form, U+10FFFF (valid), > U+10FFFF */
  write_one(&fx.prog, dir, OUT_JSONL, "\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xf4\x8f\xbf\xbf|\xf4\x90\x80\x80", &r, 1,
            NULL, 0, NULL, 0);
  char *text = slurp(dir, "milestones.jsonl");
  const char *want_prefix =
      "{\"account\":\"\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd|\xf4\x8f\xbf\xbf|"
      "\\ufffd\\ufffd\\ufffd\\ufffd\",\"milestone\":\"active\"";
  ck_assert_msg(strncmp(text, want_prefix, strlen(want_prefix)) == 0, "got %s", text);
  free(text);
  remove_dir(dir);
}
END_TEST

/* Runs a writer with standard output redirected to fd; returns out_finish's result. */
static bool run_to_stdout(const bc_program *prog, out_format fmt, int fd, char *msg, size_t msglen) {
  fflush(stdout);
  int saved = dup(STDOUT_FILENO);
  ck_assert_int_ge(saved, 0);
  ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
  out_writer *w = out_open(prog, NULL, fmt, NULL, msg, msglen);
  bool ok = w != NULL;
  out_milestone_row r = ms_row(0, OUT_ST_PENDING);
  r.started_at = T0;
  out_playbook_row pb = pb_row(0, NT, NT);
  out_signal sig = {.time = T0, .signal = 1, .source = 1};
  if (ok) ok = out_account(w, "x,y", 3, &r, 1, &pb, 1, &sig, 1, msg, msglen);
  if (ok) ok = out_finish(w, T0, &zero_counts, msg, msglen);
  else if (w) out_abort(w);
  ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
  close(saved);
  return ok;
}

START_TEST(stdout_mode) {
  fixture fx;
  fixture_init(&fx);
  char path[] = "/tmp/msl-test-stdout-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  char msg[256] = "";
  ck_assert_msg(run_to_stdout(&fx.prog, OUT_CSV, fd, msg, sizeof msg), "%s", msg);
  ck_assert_msg(run_to_stdout(&fx.prog, OUT_JSONL, fd, msg, sizeof msg), "%s", msg);
  ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
  char *text = slurp_fd(fd);
  /* milestones only: no playbooks, signals or summary */
  assert_text(text,
      "account,milestone,status,started_at,entered_at,achieved_at,lost_at,deadline_at,on_time,progress\n"
      "\"x,y\",activated,pending,2026-01-01T00:00:00Z,,,,,,\n"
      "{\"account\":\"x,y\",\"milestone\":\"activated\",\"status\":\"pending\","
      "\"started_at\":\"2026-01-01T00:00:00Z\",\"entered_at\":null,\"achieved_at\":null,"
      "\"lost_at\":null,\"deadline_at\":null,\"on_time\":null,\"progress\":null}\n");
  free(text);
  close(fd);
  unlink(path);
}
END_TEST

START_TEST(stdout_broken_pipe) {
  fixture fx;
  fixture_init(&fx);
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  close(p[0]);
  char msg[256] = "";
  bool ok = run_to_stdout(&fx.prog, OUT_CSV, p[1], msg, sizeof msg);
  close(p[1]);
  signal(SIGPIPE, old);
  ck_assert(!ok);
  char want[128];
  snprintf(want, sizeof want, "cannot write standard output: %s", strerror(EPIPE));
  ck_assert_str_eq(msg, want);
}
END_TEST

START_TEST(stdout_full_device) {
  fixture fx;
  fixture_init(&fx);
  int fd = open("/dev/full", O_WRONLY);
  if (fd < 0) return;   /* no /dev/full here: nothing to test */
  char msg[256] = "";
  bool ok = run_to_stdout(&fx.prog, OUT_CSV, fd, msg, sizeof msg);
  close(fd);
  ck_assert(!ok);
  char want[128];
  snprintf(want, sizeof want, "cannot write standard output: %s", strerror(ENOSPC));
  ck_assert_str_eq(msg, want);
}
END_TEST

START_TEST(atomic_finish) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  mode_t old_mask = umask(027);
  char msg[256] = "", names[256];
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  out_milestone_row r = ms_row(0, OUT_ST_IN_PROGRESS);
  ck_assert(out_account(w, "a", 1, &r, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  list_dir(dir, names, sizeof names);
  ck_assert_str_eq(names, ".tmp .tmp .tmp .tmp .tmp .tmp .tmp");   /* nothing visible before the end */
  ck_assert(out_finish(w, T0, &zero_counts, msg, sizeof msg));
  list_dir(dir, names, sizeof names);
  ck_assert_str_eq(names, "actions.csv milestones.csv playbooks.csv report.html signals.csv summary.json tracking.csv");
  /* the mode creat() would give under the umask, not mkstemp's 0600 */
  char path[512];
  snprintf(path, sizeof path, "%s/milestones.csv", dir);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0640);
  umask(old_mask);
  remove_dir(dir);
}
END_TEST

START_TEST(abort_leaves_nothing) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "", names[256];
  out_writer *w = out_open(&fx.prog, dir, OUT_JSONL, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  out_milestone_row r = ms_row(0, OUT_ST_IN_PROGRESS);
  ck_assert(out_account(w, "a", 1, &r, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  out_abort(w);
  out_abort(NULL);
  list_dir(dir, names, sizeof names);
  ck_assert_str_eq(names, "");
  remove_dir(dir);
}
END_TEST

START_TEST(open_fails_without_directory) {
  fixture fx;
  fixture_init(&fx);
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, "/nonexistent-msl-dir/out", OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_ptr_null(w);
  char want[256];
  snprintf(want, sizeof want, "cannot create a file in /nonexistent-msl-dir/out: %s", strerror(ENOENT));
  ck_assert_str_eq(msg, want);
}
END_TEST

START_TEST(directory_in_the_way_fails_before_any_rename) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  out_milestone_row r = ms_row(0, OUT_ST_COMPLETED);
  write_one(&fx.prog, dir, OUT_CSV, "previous", &r, 1, NULL, 0, NULL, 0);
  char *before = slurp(dir, "milestones.csv");
  /* signals.csv is now a non-empty directory: the commit must refuse it
   * before it moves anything */
  char path[512], names[256], msg[256] = "";
  snprintf(path, sizeof path, "%s/signals.csv", dir);
  ck_assert_int_eq(unlink(path), 0);
  ck_assert_int_eq(mkdir(path, 0755), 0);
  snprintf(path, sizeof path, "%s/signals.csv/x", dir);
  int fd = open(path, O_WRONLY | O_CREAT, 0644);
  ck_assert_int_ge(fd, 0);
  close(fd);
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  ck_assert(out_account(w, "next", 4, &r, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  ck_assert(!out_finish(w, T0, &zero_counts, msg, sizeof msg));
  ck_assert_msg(strstr(msg, "cannot replace") && strstr(msg, "signals.csv: it is a directory"), "%s", msg);
  list_dir(dir, names, sizeof names);
  ck_assert_str_eq(names, "actions.csv milestones.csv playbooks.csv report.html signals.csv summary.json tracking.csv");   /* no temporaries */
  char *after = slurp(dir, "milestones.csv");
  ck_assert_str_eq(after, before);
  free(before);
  free(after);
  remove_dir(dir);
}
END_TEST

/* Writes text to a new temporary file of the set for dir/name. */
static const char *add_with_text(commit_set *c, const char *dir, const char *name, const char *text) {
  char path[512], msg[256] = "";
  const char *tmp = NULL;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = commit_add(c, path, &tmp, msg, sizeof msg);
  ck_assert_msg(fd >= 0, "%s", msg);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  ck_assert_int_eq(close(fd), 0);
  return tmp;
}

static void write_text(const char *dir, const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

START_TEST(failed_step_restores_previous_files) {
  char *dir = make_dir();
  write_text(dir, "a.csv", "old a\n");
  write_text(dir, "b.csv", "old b\n");
  commit_set *c = commit_new();
  ck_assert_ptr_nonnull(c);
  add_with_text(c, dir, "a.csv", "new a\n");
  add_with_text(c, dir, "new.csv", "new file\n");
  const char *tmp_b = add_with_text(c, dir, "b.csv", "new b\n");
  /* b's temporary file vanishes: its rename, after a.csv and new.csv are
   * in place and the old files are backups, fails */
  ck_assert_int_eq(unlink(tmp_b), 0);
  char msg[512] = "", names[256];
  ck_assert(!commit_all(c, msg, sizeof msg));
  ck_assert_msg(strstr(msg, "cannot rename") && strstr(msg, "b.csv"), "%s", msg);
  commit_free(c);
  list_dir(dir, names, sizeof names);
  ck_assert_str_eq(names, "a.csv b.csv");   /* no new.csv, no backups or temporaries */
  char *a = slurp(dir, "a.csv"), *b = slurp(dir, "b.csv");
  ck_assert_str_eq(a, "old a\n");
  ck_assert_str_eq(b, "old b\n");
  free(a);
  free(b);
  remove_dir(dir);
}
END_TEST

/* A process id that no longer exists. */
static pid_t dead_pid(void) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) _exit(0);
  ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
  return pid;
}

START_TEST(stale_files_of_dead_runs) {
  char *dir = make_dir();
  char name[128], names[256], msg[256] = "";
  pid_t interrupted = dead_pid(), finished = dead_pid();
  /* a run killed mid-commit: x.csv moved aside, the new one not yet in */
  snprintf(name, sizeof name, ".msl-bak-%ld-x.csv", (long)interrupted);
  write_text(dir, name, "old x\n");
  write_text(dir, "y.csv", "new y\n");
  snprintf(name, sizeof name, ".msl-bak-%ld-y.csv", (long)interrupted);
  write_text(dir, name, "old y\n");
  /* a run killed after its commit, before removing its backup */
  write_text(dir, "z.csv", "new z\n");
  snprintf(name, sizeof name, ".msl-bak-%ld-z.csv", (long)finished);
  write_text(dir, name, "old z\n");
  snprintf(name, sizeof name, ".msl-tmp-%ld-z.csv-abcdef", (long)finished);
  write_text(dir, name, "partial");
  /* this process's own temporary file stays */
  snprintf(name, sizeof name, ".msl-tmp-%ld-w.csv-abcdef", (long)getpid());
  write_text(dir, name, "mine");
  ck_assert_msg(commit_clean_stale(dir, msg, sizeof msg), "%s", msg);
  list_dir(dir, names, sizeof names);
  ck_assert_str_eq(names, ".tmp x.csv y.csv z.csv");
  char *x = slurp(dir, "x.csv"), *y = slurp(dir, "y.csv"), *z = slurp(dir, "z.csv");
  ck_assert_str_eq(x, "old x\n");
  ck_assert_str_eq(y, "old y\n");
  ck_assert_str_eq(z, "new z\n");
  free(x);
  free(y);
  free(z);
  remove_dir(dir);
}
END_TEST

START_TEST(lock_is_exclusive) {
  char *dir = make_dir();
  char msg[512] = "";
  int first = commit_lock_dir(dir, msg, sizeof msg);
  ck_assert_msg(first >= 0, "%s", msg);
  ck_assert_int_eq(commit_lock_dir(dir, msg, sizeof msg), -1);
  ck_assert_msg(strstr(msg, "another run holds the lock") && strstr(msg, ".msl.lock"), "%s", msg);
  close(first);
  int again = commit_lock_dir(dir, msg, sizeof msg);
  ck_assert_msg(again >= 0, "%s", msg);
  close(again);
  remove_dir(dir);
}
END_TEST

START_TEST(make_dirs_with_parents) {
  char *dir = make_dir();
  char path[512], msg[256] = "";
  snprintf(path, sizeof path, "%s/a/b/c/", dir);
  ck_assert_msg(commit_make_dirs(path, msg, sizeof msg), "%s", msg);
  ck_assert_msg(commit_make_dirs(path, msg, sizeof msg), "%s", msg);   /* existing: fine */
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  write_text(dir, "file", "x");
  snprintf(path, sizeof path, "%s/file/sub", dir);
  ck_assert(!commit_make_dirs(path, msg, sizeof msg));
  ck_assert_msg(strstr(msg, "is not a directory"), "%s", msg);
  snprintf(path, sizeof path, "%s/a/b/c", dir);
  ck_assert_int_eq(rmdir(path), 0);
  snprintf(path, sizeof path, "%s/a/b", dir);
  ck_assert_int_eq(rmdir(path), 0);
  snprintf(path, sizeof path, "%s/a", dir);
  ck_assert_int_eq(rmdir(path), 0);
  remove_dir(dir);
}
END_TEST

START_TEST(invalid_rows_refused) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  out_milestone_row wrong_mode = ms_row(0, OUT_ST_ACHIEVING);         /* a continuous status, once milestone */
  out_milestone_row no_such = ms_row(2, OUT_ST_PENDING);
  out_milestone_row too_many = ms_row(0, OUT_ST_PENDING);
  too_many.actions_done = 3;
  too_many.actions_total = 2;
  out_playbook_row past_done = pb_row(3, NT, NT);
  out_signal bad_sig = {.time = T0, .signal = 100000, .source = 1};
  ck_assert(!out_account(w, "a", 1, &wrong_mode, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  ck_assert_str_eq(msg, "internal error: invalid milestone result row 0");
  ck_assert(!out_account(w, "a", 1, &no_such, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  ck_assert(!out_account(w, "a", 1, &too_many, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  ck_assert(!out_account(w, "a", 1, NULL, 0, &past_done, 1, NULL, 0, msg, sizeof msg));
  ck_assert_str_eq(msg, "internal error: invalid playbook result row 0");
  ck_assert(!out_account(w, "a", 1, NULL, 0, NULL, 0, &bad_sig, 1, msg, sizeof msg));
  ck_assert_str_eq(msg, "internal error: invalid signal 0");
  out_abort(w);
  remove_dir(dir);
}
END_TEST

START_TEST(summary_exact) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);

  /* a: completed after 1.5 days; continuous achieved without a start (not counted) */
  out_milestone_row a[2] = {ms_row(0, OUT_ST_COMPLETED), ms_row(1, OUT_ST_ACHIEVING)};
  a[0].started_at = T0;
  a[0].achieved_at = T0 + DAY + DAY / 2;
  int64_t done_a[2] = {T0 + DAY, T0 + DAY};
  a[0].action_done_at = done_a;
  a[0].actions_done = a[0].actions_total = 2;
  a[1].achieved_at = T0 + DAY;
  out_playbook_row pa = pb_row(1, T0 + 2 * DAY, NT);
  /* b: in progress; continuous achieved 2 days after its start, since lost */
  out_milestone_row b[2] = {ms_row(0, OUT_ST_IN_PROGRESS), ms_row(1, OUT_ST_NOT_ACHIEVING)};
  b[0].started_at = T0;
  b[0].actions_done = 1;
  b[0].actions_total = 2;
  int64_t done_b[2] = {T0 + DAY, NT};
  b[0].action_done_at = done_b;
  b[1].started_at = T0;
  b[1].achieved_at = T0 + 2 * DAY;
  b[1].lost_at = T0 + 3 * DAY;
  out_playbook_row pbb = pb_row(-1, NT, NT);
  /* c: completed a quarter second after its start */
  out_milestone_row c[2] = {ms_row(0, OUT_ST_COMPLETED), ms_row(1, OUT_ST_NEVER_ACHIEVED)};
  c[0].started_at = T0 + DAY;
  c[0].achieved_at = T0 + DAY + 250000;
  out_playbook_row pc = pb_row(2, T0 + 4 * DAY, T0 + 4 * DAY);
  ck_assert(out_account(w, "a", 1, a, 2, &pa, 1, NULL, 0, msg, sizeof msg));
  ck_assert(out_account(w, "b", 1, b, 2, &pbb, 1, NULL, 0, msg, sizeof msg));
  ck_assert(out_account(w, "c", 1, c, 2, &pc, 1, NULL, 0, msg, sizeof msg));
  out_counts counts = {.read = 10, .evaluated = 8, .undeclared = 1, .rejected = 1,
                       .unknown_accounts = 0, .ignored_control = 0};
  ck_assert_msg(out_finish(w, T0 + 5 * DAY, &counts, msg, sizeof msg), "%s", msg);

  char *text = slurp(dir, "summary.json");
  assert_text(text,
      "{\n"
      "  \"as_of\": \"2026-01-06T00:00:00Z\",\n"
      "  \"rows\": {\n"
      "    \"read\": 10,\n"
      "    \"evaluated\": 8,\n"
      "    \"undeclared\": 1,\n"
      "    \"rejected\": 1,\n"
      "    \"unknown_accounts\": 0,\n"
      "    \"ignored_control\": 0\n"
      "  },\n"
      "  \"milestones\": [\n"
      "    {\n"
      "      \"name\": \"activated\",\n"
      "      \"display\": \"Activated \\\"now\\\"\",\n"
      "      \"group\": \"Activation\",\n"
      "      \"applicable\": 3,\n"
      "      \"status\": {\n"
      "        \"not_started\": 0,\n"
      "        \"completed\": 2,\n"
      "        \"blocked\": 0,\n"
      "        \"pending\": 0,\n"
      "        \"overdue\": 0,\n"
      "        \"in_progress\": 1\n"
      "      },\n"
      "      \"percent\": {\n"
      "        \"not_started\": 0.00,\n"
      "        \"completed\": 66.67,\n"
      "        \"blocked\": 0.00,\n"
      "        \"pending\": 0.00,\n"
      "        \"overdue\": 0.00,\n"
      "        \"in_progress\": 33.33\n"
      "      },\n"
      "      \"time_to_complete\": {\n"
      "        \"count\": 2,\n"
      "        \"median_s\": 0.25,\n"
      "        \"p90_s\": 129600\n"
      "      },\n"
      "      \"estimate_s\": 90000.5,\n"
      "      \"description\": \"The team is set up\",\n"
      "      \"csm\": \"Call the sponsor\",\n"
      "      \"customer\": null,\n"
      "      \"actions\": [\n"
      "        {\n"
      "          \"name\": \"connect\",\n"
      "          \"label\": \"Connect the \\\"CRM\\\"\",\n"
      "          \"owner\": \"customer\",\n"
      "          \"done\": 2\n"
      "        },\n"
      "        {\n"
      "          \"name\": \"build\",\n"
      "          \"label\": \"Build, then share\",\n"
      "          \"owner\": null,\n"
      "          \"done\": 1\n"
      "        }\n"
      "      ],\n"
      "      \"tracking\": null\n"
      "    },\n"
      "    {\n"
      "      \"name\": \"active\",\n"
      "      \"display\": null,\n"
      "      \"group\": null,\n"
      "      \"applicable\": 3,\n"
      "      \"status\": {\n"
      "        \"not_started\": 0,\n"
      "        \"achieving\": 1,\n"
      "        \"blocked\": 0,\n"
      "        \"pending\": 0,\n"
      "        \"not_achieving\": 1,\n"
      "        \"never_achieved\": 1\n"
      "      },\n"
      "      \"percent\": {\n"
      "        \"not_started\": 0.00,\n"
      "        \"achieving\": 33.33,\n"
      "        \"blocked\": 0.00,\n"
      "        \"pending\": 0.00,\n"
      "        \"not_achieving\": 33.33,\n"
      "        \"never_achieved\": 33.33\n"
      "      },\n"
      "      \"time_to_complete\": {\n"
      "        \"count\": 1,\n"
      "        \"median_s\": 172800,\n"
      "        \"p90_s\": 172800\n"
      "      },\n"
      "      \"estimate_s\": null,\n"
      "      \"description\": null,\n"
      "      \"csm\": null,\n"
      "      \"customer\": null,\n"
      "      \"actions\": [],\n"
      "      \"tracking\": null\n"
      "    }\n"
      "  ],\n"
      "  \"playbooks\": [\n"
      "    {\n"
      "      \"name\": \"onboarding\",\n"
      "      \"display\": \"Onboarding\",\n"
      "      \"applicable\": 3,\n"
      "      \"steps\": {\n"
      "        \"kick\": 0,\n"
      "        \"live\": 1,\n"
      "        \"done\": 1,\n"
      "        \"not_started\": 1\n"
      "      }\n"
      "    }\n"
      "  ]\n"
      "}\n");
  free(text);
  remove_dir(dir);
}
END_TEST

START_TEST(summary_without_rows) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  ck_assert(out_finish(w, OUT_NO_TIME, &zero_counts, msg, sizeof msg));
  char *text = slurp(dir, "summary.json");
  ck_assert_msg(strncmp(text, "{\n  \"as_of\": null,\n", 19) == 0, "%s", text);
  ck_assert_msg(strstr(text,
      "      \"applicable\": 0,\n"
      "      \"status\": {\n"
      "        \"not_started\": 0,\n"), "%s", text);
  ck_assert_msg(strstr(text,
      "      \"percent\": {\n"
      "        \"not_started\": null,\n"
      "        \"completed\": null,\n"), "%s", text);
  ck_assert_msg(strstr(text,
      "      \"time_to_complete\": {\n"
      "        \"count\": 0,\n"
      "        \"median_s\": null,\n"
      "        \"p90_s\": null\n"
      "      },\n"), "%s", text);
  free(text);
  remove_dir(dir);

  /* a program without milestones or playbooks */
  bc_program empty = {.strings = fx.pool, .strings_len = 1};
  dir = make_dir();
  w = out_open(&empty, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  ck_assert(out_finish(w, T0, &zero_counts, msg, sizeof msg));
  text = slurp(dir, "summary.json");
  ck_assert_msg(strstr(text, "  },\n  \"milestones\": [],\n  \"playbooks\": []\n}\n"), "%s", text);
  free(text);
  remove_dir(dir);
}
END_TEST

/* Times to complete of `n` once-mode rows (seconds, in the given order);
 * returns the summary's time_to_complete object for milestone 0. */
static char *time_to_complete(const int64_t *us, int n) {
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  for (int i = 0; i < n; i++) {
    out_milestone_row r = ms_row(0, OUT_ST_COMPLETED);
    r.started_at = T0 + i * DAY;
    r.achieved_at = r.started_at + us[i];
    char id[16];
    snprintf(id, sizeof id, "a%03d", i);
    ck_assert(out_account(w, id, strlen(id), &r, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  }
  /* completed without a bounded start, and not completed: both left out */
  out_milestone_row unbounded = ms_row(0, OUT_ST_COMPLETED);
  unbounded.achieved_at = T0;
  out_milestone_row open_row = ms_row(0, OUT_ST_OVERDUE);
  open_row.started_at = T0;
  ck_assert(out_account(w, "y", 1, &unbounded, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  ck_assert(out_account(w, "z", 1, &open_row, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  ck_assert(out_finish(w, T0, &zero_counts, msg, sizeof msg));
  char *text = slurp(dir, "summary.json");
  remove_dir(dir);
  char *start = strstr(text, "\"time_to_complete\": ");
  ck_assert_ptr_nonnull(start);
  char *end = strchr(start, '}');
  char *obj = strndup(start, (size_t)(end - start + 1));
  free(text);
  return obj;
}

START_TEST(percentiles_nearest_rank) {
  /* 1..10 s, shuffled: rank ceil(0.5*10) = 5, ceil(0.9*10) = 9 */
  int64_t ten[10] = {7, 3, 10, 1, 9, 5, 2, 8, 6, 4};
  for (int i = 0; i < 10; i++) ten[i] *= SEC;
  char *obj = time_to_complete(ten, 10);
  assert_text(obj, "\"time_to_complete\": {\n        \"count\": 10,\n"
                        "        \"median_s\": 5,\n        \"p90_s\": 9\n      }");
  free(obj);
  /* 3 values: ranks 2 and 3; microsecond fractions kept, zeros trimmed */
  int64_t three[3] = {3 * SEC + 120000, 1 * SEC + 1, 2 * SEC + 500000};
  obj = time_to_complete(three, 3);
  assert_text(obj, "\"time_to_complete\": {\n        \"count\": 3,\n"
                        "        \"median_s\": 2.5,\n        \"p90_s\": 3.12\n      }");
  free(obj);
  /* 11 values 0..10 s: median rank 6 (5 s), p90 rank ceil(9.9) = 10 (9 s) */
  int64_t eleven[11];
  for (int i = 0; i < 11; i++) eleven[i] = (10 - i) * SEC;
  obj = time_to_complete(eleven, 11);
  assert_text(obj, "\"time_to_complete\": {\n        \"count\": 11,\n"
                        "        \"median_s\": 5,\n        \"p90_s\": 9\n      }");
  free(obj);
  /* 6 values: p90 rank ceil(5.4) = 6, not the rounded 5 */
  int64_t six[6] = {6 * SEC, 5 * SEC, 4 * SEC, 3 * SEC, 2 * SEC, 1 * SEC};
  obj = time_to_complete(six, 6);
  assert_text(obj, "\"time_to_complete\": {\n        \"count\": 6,\n"
                   "        \"median_s\": 3,\n        \"p90_s\": 6\n      }");
  free(obj);
  /* one value: both percentiles are it; a microsecond shows all 6 decimals */
  int64_t one[1] = {1};
  obj = time_to_complete(one, 1);
  assert_text(obj, "\"time_to_complete\": {\n        \"count\": 1,\n"
                        "        \"median_s\": 0.000001,\n        \"p90_s\": 0.000001\n      }");
  free(obj);
}
END_TEST

START_TEST(percent_rounding) {
  /* 1 of 32 completed: 3.125 % -> 3.13, 31 of 32: 96.875 % -> 96.88 (half away from zero) */
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  for (int i = 0; i < 32; i++) {
    out_milestone_row r = ms_row(0, i == 0 ? OUT_ST_COMPLETED : OUT_ST_IN_PROGRESS);
    char id[16];
    snprintf(id, sizeof id, "a%02d", i);
    ck_assert(out_account(w, id, strlen(id), &r, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  }
  ck_assert(out_finish(w, T0, &zero_counts, msg, sizeof msg));
  char *text = slurp(dir, "summary.json");
  ck_assert_msg(strstr(text,
      "      \"percent\": {\n"
      "        \"not_started\": 0.00,\n"
      "        \"completed\": 3.13,\n"
      "        \"blocked\": 0.00,\n"
      "        \"pending\": 0.00,\n"
      "        \"overdue\": 0.00,\n"
      "        \"in_progress\": 96.88\n"
      "      },\n"), "%s", text);
  ck_assert_msg(strstr(text, "        \"completed\": 1,\n"), "%s", text);
  free(text);
  remove_dir(dir);
}
END_TEST

START_TEST(large_output_crosses_buffer) {
  /* more than the 1 MiB write buffer, including a field longer than it */
  fixture fx;
  fixture_init(&fx);
  char *dir = make_dir();
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  size_t big = (size_t)3 << 20;
  char *id = malloc(big);
  ck_assert_ptr_nonnull(id);
  memset(id, 'x', big);
  out_milestone_row r = ms_row(1, OUT_ST_NOT_STARTED);
  ck_assert(out_account(w, id, big, &r, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  int rows = 40000;   /* accounts y00000 .. y39999, each id once (report.html refuses repeats) */
  for (int i = 0; i < rows; i++) {
    char yid[16];
    snprintf(yid, sizeof yid, "y%05d", i);
    ck_assert(out_account(w, yid, 6, &r, 1, NULL, 0, NULL, 0, msg, sizeof msg));
  }
  ck_assert_msg(out_finish(w, T0, &zero_counts, msg, sizeof msg), "%s", msg);
  char *text = slurp(dir, "milestones.csv");
  const char *header = "account,milestone,status,started_at,entered_at,achieved_at,lost_at,deadline_at,on_time,progress\n";
  const char *tail = ",active,not_started,,,,,,,\n";
  size_t want = strlen(header) + big + strlen(tail) + (size_t)rows * (6 + strlen(tail));
  ck_assert_uint_eq(strlen(text), want);
  ck_assert(memcmp(text + strlen(header), id, big) == 0);
  ck_assert_str_eq(text + want - 6 - strlen(tail), "y39999,active,not_started,,,,,,,\n");
  free(text);
  free(id);
  remove_dir(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("output");
  TCase *tc = tcase_create("output");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, status_names);
  tcase_add_test(tc, csv_quoting_times_and_empty_cells);
  tcase_add_test(tc, names_not_identifiers_escaped);
  tcase_add_test(tc, progress_rounding);
  tcase_add_test(tc, playbooks_and_signals_csv);
  tcase_add_test(tc, headers_without_rows);
  tcase_add_test(tc, jsonl_rows);
  tcase_add_test(tc, jsonl_invalid_utf8_forms);
  tcase_add_test(tc, stdout_mode);
  tcase_add_test(tc, stdout_broken_pipe);
  tcase_add_test(tc, stdout_full_device);
  tcase_add_test(tc, atomic_finish);
  tcase_add_test(tc, abort_leaves_nothing);
  tcase_add_test(tc, open_fails_without_directory);
  tcase_add_test(tc, directory_in_the_way_fails_before_any_rename);
  tcase_add_test(tc, failed_step_restores_previous_files);
  tcase_add_test(tc, stale_files_of_dead_runs);
  tcase_add_test(tc, lock_is_exclusive);
  tcase_add_test(tc, make_dirs_with_parents);
  tcase_add_test(tc, invalid_rows_refused);
  tcase_add_test(tc, summary_exact);
  tcase_add_test(tc, actions_rows);
  tcase_add_test(tc, summary_without_rows);
  tcase_add_test(tc, percentiles_nearest_rank);
  tcase_add_test(tc, percent_rounding);
  tcase_add_test(tc, large_output_crosses_buffer);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
