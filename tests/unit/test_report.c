/* test_report.c — report.html's parts (io/report*.c, core/sha256.c): the
 * hash its CSP names the script by, the escaping that keeps data inside its
 * data element, the JSON reader of summary.json, the CSV and JSON Lines
 * row reader, and the page's data built from a directory of results, with
 * the tracking rows and summary.json's "tracking" and "by" counts. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sha256.h"
#include "io/report.h"
#include "io/report_internal.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static char *temp_dir(void) {
  char *dir = strdup("/tmp/msl-test-report-XXXXXX");
  ck_assert_ptr_nonnull(dir);
  ck_assert_ptr_nonnull(mkdtemp(dir));
  return dir;
}

/* dir/name with text in it; the path is malloc'd. */
static char *write_file(const char *dir, const char *name, const char *text, size_t len) {
  char *path = malloc(strlen(dir) + strlen(name) + 2);
  ck_assert_ptr_nonnull(path);
  sprintf(path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(text, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
  return path;
}

static char *write_text(const char *dir, const char *name, const char *text) {
  return write_file(dir, name, text, strlen(text));
}

static void remove_dir(char *dir) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  free(dir);
}

/* What report_put_json_string writes for s[0..n). */
static char *escaped(const char *s, size_t n) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ck_assert_ptr_nonnull(f);
  report_put_json_string(f, s, n);
  ck_assert_int_eq(fclose(f), 0);
  return buf;
}

/* ---- sha256 ------------------------------------------------------------------------------------ */

static void hex(const uint8_t *d, char *out) {
  for (int i = 0; i < SHA256_DIGEST_LEN; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

START_TEST(sha256_matches_the_fips_vectors) {
  static const struct { const char *in; const char *digest; } cases[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",   /* 56 bytes: the length spills a block */
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  char got[65];
  uint8_t d[SHA256_DIGEST_LEN];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sha256_digest(cases[i].in, strlen(cases[i].in), d);
    hex(d, got);
    ck_assert_str_eq(got, cases[i].digest);
  }
  size_t n = 1000000;
  char *a = malloc(n);
  ck_assert_ptr_nonnull(a);
  memset(a, 'a', n);
  sha256_digest(a, n, d);
  hex(d, got);
  ck_assert_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  free(a);
  char b64[SHA256_BASE64_SIZE];
  sha256_base64("", 0, b64);
  ck_assert_str_eq(b64, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}
END_TEST

/* ---- escaping -------------------------------------------------------------------------------------- */

START_TEST(json_strings_cannot_leave_the_script_element) {
  static const struct { const char *in; size_t len; const char *out; } cases[] = {
    {"</script><script>alert(1)</script>", 34,
     "\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\""},
    {"<img src=x onerror=alert(1)>", 28, "\"\\u003cimg src=x onerror=alert(1)\\u003e\""},
    {"<!-- a & b", 10, "\"\\u003c!-- a \\u0026 b\""},
    {"say \"hi\" \\ now", 14, "\"say \\\"hi\\\" \\\\ now\""},
    {"tab\there\nnul", 12, "\"tab\\u0009here\\u000anul\""},
    {"a\0b", 3, "\"a\\u0000b\""},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
    {"line\xe2\x80\xa8sep\xe2\x80\xa9", 13, "\"line\\u2028sep\\u2029\""},
    {"bad \xff \xc3 \xed\xa0\x80 \xc0\xaf", 14, "\"bad \\ufffd \\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\""},
    {"", 0, "\"\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *got = escaped(cases[i].in, cases[i].len);
    ck_assert_msg(strcmp(got, cases[i].out) == 0, "case %zu: %s", i, got);
    free(got);
  }
}
END_TEST

/* ---- JSON --------------------------------------------------------------------------------------------- */

START_TEST(json_reads_values_and_escapes) {
  arena a;
  arena_init(&a);
  char msg[200];
  const char *text = "{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\\/\"],\n"
                     " \"b\": {}, \"a\": 2, \"lone\": \"\\udc00\"}";
  const report_json *v = report_json_parse(&a, text, strlen(text), msg, sizeof msg);
  ck_assert_msg(v != NULL, "%s", msg);
  ck_assert_int_eq(v->kind, REPORT_JSON_OBJECT);
  ck_assert_uint_eq(v->n, 4);
  const report_json *arr = report_json_get(v, "a");   /* the first of two */
  ck_assert_int_eq(arr->kind, REPORT_JSON_ARRAY);
  ck_assert_uint_eq(arr->n, 6);
  ck_assert_str_eq(arr->items[0]->text, "1");
  ck_assert_str_eq(arr->items[1]->text, "-2.5e3");
  ck_assert_int_eq(arr->items[2]->kind, REPORT_JSON_TRUE);
  ck_assert_str_eq(arr->items[3]->text, "false");
  ck_assert_int_eq(arr->items[4]->kind, REPORT_JSON_NULL);
  ck_assert_str_eq(arr->items[5]->text, "x\xc3\xa9\xf0\x9f\x98\x80\n/");
  ck_assert_int_eq(report_json_get(v, "b")->kind, REPORT_JSON_OBJECT);
  ck_assert_str_eq(report_json_get(v, "lone")->text, "\xef\xbf\xbd");
  ck_assert_ptr_null(report_json_get(v, "c"));
  ck_assert_ptr_null(report_json_get(arr, "a"));
  arena_free(&a);
}
END_TEST

START_TEST(json_errors_name_the_line) {
  static const struct { const char *in; const char *msg; } cases[] = {
    {"{\"a\": 1,}", "line 1: expected a member name"},
    {"[1\n 2]", "line 2: expected `,` or `]`"},
    {"{\"a\" 1}", "line 1: expected `:`"},
    {"{\"a\": 1 \"b\": 2}", "line 1: expected `,` or `}`"},
    {"\"abc", "line 1: a string is not closed"},
    {"\"a\tb\"", "line 1: a control character in a string"},
    {"\"\\x\"", "line 1: a bad escape in a string"},
    {"\"\\u12\"", "line 1: a bad \\u escape in a string"},
    {"01", "line 1: a bad number"},
    {"1.", "line 1: a bad number"},
    {"-", "line 1: a bad number"},
    {"1e+", "line 1: a bad number"},
    {"[", "line 1: a value is missing"},
    {"tru", "line 1: not a JSON value"},
    {"1 2", "line 1: text after the value"},
    {"", "line 1: a value is missing"},
  };
  char msg[200];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    arena a;
    arena_init(&a);
    ck_assert_msg(report_json_parse(&a, cases[i].in, strlen(cases[i].in), msg, sizeof msg) == NULL, "case %zu", i);
    ck_assert_msg(strcmp(msg, cases[i].msg) == 0, "case %zu: %s", i, msg);
    arena_free(&a);
  }
}
END_TEST

START_TEST(json_nesting_is_bounded) {
  char deep[2 * REPORT_JSON_MAX_DEPTH + 3];
  char msg[200];
  for (int depth = REPORT_JSON_MAX_DEPTH; depth <= REPORT_JSON_MAX_DEPTH + 1; depth++) {
    memset(deep, '[', (size_t)depth);
    memset(deep + depth, ']', (size_t)depth);
    arena a;
    arena_init(&a);
    const report_json *v = report_json_parse(&a, deep, 2 * (size_t)depth, msg, sizeof msg);
    if (depth == REPORT_JSON_MAX_DEPTH) {
      ck_assert_msg(v != NULL, "%s", msg);
    } else {
      ck_assert_ptr_null(v);
      ck_assert_str_eq(msg, "line 1: nesting too deep");
    }
    arena_free(&a);
  }
}
END_TEST

/* ---- rows ---------------------------------------------------------------------------------------------- */

static const char *const ms_cols[] = {"account", "milestone", "status"};

static void expect_row(report_rows *r, const char *a, const char *m, const char *s, int64_t line) {
  report_cell c[3];
  char msg[300];
  ck_assert_msg(report_rows_next(r, c, msg, sizeof msg) == 1, "%s", msg);
  const char *want[3] = {a, m, s};
  for (int i = 0; i < 3; i++) {
    ck_assert_uint_eq(c[i].len, strlen(want[i]));
    ck_assert(memcmp(c[i].p, want[i], c[i].len) == 0);
  }
  ck_assert_int_eq(report_rows_line(r), line);
}

START_TEST(csv_rows_by_column_name) {
  char *dir = temp_dir();
  char *path = write_text(dir, "m.csv",
                          "\xef\xbb\xbfstatus,extra,account,milestone\r\n"
                          "completed,x,acme,kickoff\r\n"
                          "\r\n"
                          "\n"
                          "in_progress,\"a,b\",\"glo\"\"bex\",\"two\nlines\"\r\n"
                          "overdue,,\"\",m\n"
                          ",,,\n"
                          "pending,\"q\",z,last");
  char msg[300];
  report_rows *r = report_rows_open(path, false, ms_cols, 3, msg, sizeof msg);
  ck_assert_msg(r != NULL, "%s", msg);
  expect_row(r, "acme", "kickoff", "completed", 2);
  expect_row(r, "glo\"bex", "two\nlines", "in_progress", 5);
  expect_row(r, "", "m", "overdue", 7);
  expect_row(r, "", "", "", 8);
  expect_row(r, "z", "last", "pending", 9);
  report_cell c[3];
  ck_assert_int_eq(report_rows_next(r, c, msg, sizeof msg), 0);
  report_rows_close(r);
  free(path);
  remove_dir(dir);
}
END_TEST

START_TEST(csv_errors_name_file_and_line) {
  static const struct { const char *text; const char *msg; } cases[] = {
    {"account,milestone\nacme,m\n", ":1: the header has no column `status`"},
    {"", ": the file is empty: it has no header row"},
    {"account,milestone,status\nacme,m,completed\nacme,m\n", ":3: 2 cells, but the header has 3"},
    {"account,milestone,status\nacme,m,\"completed\n\nmore", ":2: a quoted cell is not closed"},
    {"account,milestone,status\nacme,m,\"done\"x\n", ":2: a quoted cell must end at a comma or the line's end"},
  };
  char *dir = temp_dir();
  char msg[300];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *path = write_text(dir, "bad.csv", cases[i].text);
    report_rows *r = report_rows_open(path, false, ms_cols, 3, msg, sizeof msg);
    if (r) {
      report_cell c[3];
      int got;
      while ((got = report_rows_next(r, c, msg, sizeof msg)) > 0) continue;
      ck_assert_msg(got == -1, "case %zu: no error", i);
      report_rows_close(r);
    }
    char want[300];
    snprintf(want, sizeof want, "%s%s", path, cases[i].msg);
    ck_assert_msg(strcmp(msg, want) == 0, "case %zu: %s", i, msg);
    free(path);
  }
  ck_assert_ptr_null(report_rows_open("/nonexistent/m.csv", false, ms_cols, 3, msg, sizeof msg));
  ck_assert_str_eq(msg, "cannot read /nonexistent/m.csv: No such file or directory");
  remove_dir(dir);
}
END_TEST

/* A file without line ends is not read into memory whole. */
START_TEST(csv_row_too_long) {
  char *dir = temp_dir();
  char *path = write_text(dir, "long.csv", "account,milestone,status\n");
  FILE *f = fopen(path, "r+");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(ftruncate(fileno(f), (off_t)(REPORT_MAX_ROW + ((size_t)1 << 20))), 0);   /* zeros, no LF */
  fclose(f);
  char msg[300], want[300];
  report_rows *r = report_rows_open(path, false, ms_cols, 3, msg, sizeof msg);
  ck_assert_ptr_nonnull(r);
  report_cell c[3];
  ck_assert_int_eq(report_rows_next(r, c, msg, sizeof msg), -1);
  snprintf(want, sizeof want, "%s:2: a row longer than %zu MiB", path, REPORT_MAX_ROW >> 20);
  ck_assert_str_eq(msg, want);
  report_rows_close(r);
  free(path);
  remove_dir(dir);
}
END_TEST

/* Rows spanning the reader's 1 MiB chunks come out whole. */
/* Rows across the 1 MiB reads: quoted ones (read byte by byte) and plain
 * ones of every length (cut at their commas sixteen bytes at a time), some
 * ending in CR LF, so that rows and their ends fall everywhere in a read
 * and in a sixteen-byte block. */
static void row_cells(size_t i, char *a, char *m, char *s) {
  if (i % 3) {
    sprintf(a, "acct,%06zu", i);
    strcpy(m, "mile\"stone");
  } else {
    sprintf(a, "acct-%06zu", i);
    sprintf(m, "m%.*s", (int)(i % 23), "xxxxxxxxxxxxxxxxxxxxxxx");
  }
  sprintf(s, "status_%zu", i % 7);
}

START_TEST(csv_rows_across_chunks) {
  size_t nrows = 40000;
  size_t cap = 64 + nrows * 64;
  char *text = malloc(cap);
  ck_assert_ptr_nonnull(text);
  size_t len = (size_t)sprintf(text, "account,milestone,status\n");
  for (size_t i = 0; i < nrows; i++) {
    char a[32], m[32], s[32];
    row_cells(i, a, m, s);
    if (i % 3) len += (size_t)sprintf(text + len, "\"%s\",\"mile\"\"stone\",%s\n", a, s);
    else len += (size_t)sprintf(text + len, "%s,%s,%s%s", a, m, s, i % 4 ? "\n" : "\r\n");
  }
  char *dir = temp_dir();
  char *path = write_file(dir, "big.csv", text, len);
  ck_assert_uint_gt(len, (size_t)1 << 20);
  char msg[300];
  report_rows *r = report_rows_open(path, false, ms_cols, 3, msg, sizeof msg);
  ck_assert_ptr_nonnull(r);
  for (size_t i = 0; i < nrows; i++) {
    char a[32], m[32], s[32];
    row_cells(i, a, m, s);
    expect_row(r, a, m, s, (int64_t)i + 2);
  }
  report_cell c[3];
  ck_assert_int_eq(report_rows_next(r, c, msg, sizeof msg), 0);
  report_rows_close(r);
  free(path);
  free(text);
  remove_dir(dir);
}
END_TEST

START_TEST(jsonl_rows_by_key) {
  char *dir = temp_dir();
  char *path = write_text(dir, "m.jsonl",
                          "{\"account\":\"acme\",\"milestone\":\"kickoff\",\"status\":\"completed\",\"progress\":0.5}\r\n"
                          "   \n"
                          "{\"status\":null,\"milestone\":\"m\\u00e9\",\"account\":\"</script>\",\"on_time\":true}\n"
                          "{\"account\":7,\"milestone\":\"m\",\"status\":false}");
  char msg[300];
  report_rows *r = report_rows_open(path, true, ms_cols, 3, msg, sizeof msg);
  ck_assert_ptr_nonnull(r);
  expect_row(r, "acme", "kickoff", "completed", 1);
  expect_row(r, "</script>", "m\xc3\xa9", "", 3);
  expect_row(r, "7", "m", "false", 4);
  report_cell c[3];
  ck_assert_int_eq(report_rows_next(r, c, msg, sizeof msg), 0);
  report_rows_close(r);
  free(path);

  static const struct { const char *text; const char *msg; } cases[] = {
    {"{\"account\":\"a\",\"milestone\":\"m\"}\n", ":1: the row has no `status`"},
    {"\n[1]\n", ":2: a row must be a JSON object"},
    {"{\"account\":\"a\",\"milestone\":\"m\",\"status\":[1]}", ":1: `status` is not a string"},
    {"{\"account\":\"a\",", ":1: not JSON: expected a member name"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    path = write_text(dir, "bad.jsonl", cases[i].text);
    r = report_rows_open(path, true, ms_cols, 3, msg, sizeof msg);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(report_rows_next(r, c, msg, sizeof msg), -1);
    char want[300];
    snprintf(want, sizeof want, "%s%s", path, cases[i].msg);
    ck_assert_msg(strcmp(msg, want) == 0, "case %zu: %s", i, msg);
    report_rows_close(r);
    free(path);
  }
  remove_dir(dir);
}
END_TEST

/* ---- the page -------------------------------------------------------------------------------------------- */

static const char summary_json[] =
  "{\"as_of\": \"2026-01-06T00:00:00Z\", \"rows\": {\"read\": 9},\n"
  " \"milestones\": [\n"
  "  {\"name\": \"kickoff\", \"display\": \"Kick <off>\", \"group\": null, \"applicable\": 3,\n"
  "   \"status\": {\"not_started\": 0, \"completed\": 2, \"blocked\": 0, \"pending\": 0, \"overdue\": 1, \"in_progress\": 0},\n"
  "   \"percent\": {\"not_started\": 0.00, \"completed\": 66.67, \"blocked\": 0.00, \"pending\": 0.00, \"overdue\": 33.33, \"in_progress\": 0.00},\n"
  "   \"time_to_complete\": {\"count\": 2, \"median_s\": 90, \"p90_s\": 120.5}, \"estimate_s\": 100}],\n"
  " \"playbooks\": [{\"name\": \"onb\", \"display\": null, \"applicable\": 2,\n"
  "   \"steps\": {\"kick\": 1, \"done\": 0, \"not_started\": 1}}]}\n";

typedef struct results {
  char *dir;
  report_inputs in;
} results;

static results make_results(const char *summary, const char *ms, const char *pb, const char *sig) {
  results r = {temp_dir(), {0}};
  r.in.summary = write_text(r.dir, "summary.json", summary);
  r.in.milestones = write_text(r.dir, "milestones.csv", ms);
  r.in.playbooks = write_text(r.dir, "playbooks.csv", pb);
  r.in.signals = write_text(r.dir, "signals.csv", sig);
  return r;
}

static void free_results(results *r) {
  free((char *)r->in.tracking);
  free((char *)r->in.summary);
  free((char *)r->in.milestones);
  free((char *)r->in.playbooks);
  free((char *)r->in.signals);
  remove_dir(r->dir);
}

/* The page report_write makes of r, or NULL with msg. */
static char *page_of(const results *r, char *msg, size_t msglen) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ck_assert_ptr_nonnull(f);
  bool ok = report_write(f, &r->in, msg, msglen);
  ck_assert_int_eq(fclose(f), 0);
  if (ok) return buf;
  free(buf);
  return NULL;
}

static const char ms_ok[] =
  "account,milestone,status,started_at\n"
  "</script><script>alert(1)</script>,kickoff,completed,\n"
  "acme,kickoff,overdue,\n"
  "globex,kickoff,completed,\n";
static const char pb_ok[] = "account,playbook,step\nacme,onb,kick\nglobex,onb,\n";
static const char sig_ok[] =
  "account,signal,source,time\nacme,go,kickoff,2026-01-01T00:00:00Z\nacme,go,kickoff,2026-01-02T00:00:00Z\n"
  "globex,go,kickoff,2026-01-02T00:00:00Z\nglobex,<b>,onb,2026-01-02T00:00:00Z\n";

START_TEST(page_carries_the_data) {
  results r = make_results(summary_json, ms_ok, pb_ok, sig_ok);
  char msg[300];
  char *page = page_of(&r, msg, sizeof msg);
  ck_assert_msg(page != NULL, "%s", msg);
  char hash[SHA256_BASE64_SIZE], csp[200];
  sha256_base64(report_page_script, strlen(report_page_script), hash);
  snprintf(csp, sizeof csp, "content=\"default-src 'none'; script-src 'sha256-%s';", hash);
  ck_assert_ptr_nonnull(strstr(page, csp));
  /* ids once, in byte order; the statuses as codes 1 + the summary's index */
  ck_assert_ptr_nonnull(strstr(page, "\"accounts\":3,\"ids\":[\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"
                                     "\\u003c/script\\u003e\",\"acme\",\"globex\"]"));
  ck_assert_ptr_nonnull(strstr(page, "{\"name\":\"kickoff\",\"display\":\"Kick \\u003coff\\u003e\",\"group\":null,"
                                     "\"description\":null,\"applicable\":3,\"estimate_s\":100,"
                                     "\"ttc\":{\"count\":2,\"median_s\":90,\"p90_s\":120.5},"
                                     "\"status\":[[\"not_started\",0,0.00],[\"completed\",2,66.67],"));
  /* no "tracking" and no "by" in summary.json (written before msl had them) */
  ck_assert_ptr_nonnull(strstr(page, "\"w\":1,\"codes\":\"252\",\"tracking\":null,\"tracked\":false,\"by\":null}"));
  ck_assert_ptr_nonnull(strstr(page, "\"steps\":[[\"kick\",1],[\"done\",0],[\"not_started\",1]],\"w\":1,\"codes\":\"013\"}"));
  ck_assert_ptr_nonnull(strstr(page, "\"signals\":[[\"\\u003cb\\u003e\",\"onb\",1,1],[\"go\",\"kickoff\",3,2]]"));
  /* only the page's own elements end */
  size_t scripts = 0;
  for (const char *p = page; (p = strstr(p, "</script>")); p++) scripts++;
  ck_assert_uint_eq(scripts, 2);
  free(page);
  free_results(&r);
}
END_TEST

START_TEST(page_refuses_files_that_disagree) {
  static const struct { const char *ms, *pb, *msg; } cases[] = {
    {"account,milestone,status\nacme,kickoff,completed\n", pb_ok,
     "milestones.csv has 1 rows of milestone `kickoff` in status `completed`, but "},
    {"account,milestone,status\nacme,nope,completed\n", pb_ok, "milestones.csv:2: milestone `nope` is not in summary.json"},
    {"account,milestone,status\nacme,kickoff,achieving\n", pb_ok,
     "milestones.csv:2: status `achieving` is not one of milestone `kickoff` in summary.json"},
    {"account,milestone,status\nacme,kickoff,completed\nacme,kickoff,overdue\n", pb_ok,
     "milestones.csv:3: a second row of account `acme` for milestone `kickoff`"},
    {"account,milestone,status\n,kickoff,completed\n", pb_ok, "milestones.csv:2: the account is empty"},
    {ms_ok, "account,playbook,step\nacme,onb,done\n", "playbooks.csv has 0 rows of playbook `onb` in step `kick`"},
    {ms_ok, "account,playbook,step\nacme,onb,not_started\n", "playbooks.csv:2: step `not_started` is not one of playbook `onb`"},
  };
  char msg[400];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    results r = make_results(summary_json, cases[i].ms, cases[i].pb, sig_ok);
    ck_assert_ptr_null(page_of(&r, msg, sizeof msg));
    ck_assert_msg(strstr(msg, cases[i].msg) != NULL, "case %zu: %s", i, msg);
    free_results(&r);
  }
  static const struct { const char *summary, *msg; } summaries[] = {
    {"[]", "summary.json: not msl's summary: it needs \"milestones\" and \"playbooks\" arrays"},
    {"{\"milestones\": [{\"name\": \"m\"}], \"playbooks\": []}",
     "summary.json: milestone 1 lacks a name, an applicable count or its status counts"},
    {"{\"milestones\": [], \"playbooks\": [{\"name\": \"p\", \"applicable\": 1, \"steps\": {\"a\": 1}}]}",
     "summary.json: playbook 1 lacks a name, an applicable count or its step counts"},
    {"{\"milestones\": [{\"name\": \"m\", \"applicable\": 0, \"status\": {}}, "
     "{\"name\": \"m\", \"applicable\": 0, \"status\": {}}], \"playbooks\": []}",
     "summary.json: milestone `m` appears twice"},
    {"{\"milestones\": [{\"name\": \"m\", \"applicable\": -1, \"status\": {}}], \"playbooks\": []}",
     "summary.json: milestone 1 lacks"},
  };
  for (size_t i = 0; i < sizeof summaries / sizeof summaries[0]; i++) {
    results r = make_results(summaries[i].summary, ms_ok, pb_ok, sig_ok);
    ck_assert_ptr_null(page_of(&r, msg, sizeof msg));
    ck_assert_msg(strstr(msg, summaries[i].msg) != NULL, "summary %zu: %s", i, msg);
    free_results(&r);
  }
}
END_TEST

/* summary_json's kickoff with tracking counts and a "by" split by plan:
 * acme (overdue) is tracked, behind. */
static char *summary_with(const char *tracking, const char *by) {
  static const char head[] =
    "{\"as_of\": null, \"rows\": {}, \"milestones\": [\n"
    "  {\"name\": \"kickoff\", \"display\": null, \"group\": null, \"applicable\": 3,\n"
    "   \"status\": {\"not_started\": 0, \"completed\": 2, \"blocked\": 0, \"pending\": 0, \"overdue\": 1, \"in_progress\": 0},\n"
    "   \"percent\": null, \"time_to_complete\": null, \"estimate_s\": 100";
  static const char tail[] = "}],\n \"playbooks\": [{\"name\": \"onb\", \"display\": null, \"applicable\": 2,\n"
                             "   \"steps\": {\"kick\": 1, \"done\": 0, \"not_started\": 1}}]}\n";
  size_t len = strlen(head) + strlen(tracking) + strlen(by) + strlen(tail) + 40;
  char *text = malloc(len);
  ck_assert_ptr_nonnull(text);
  snprintf(text, len, "%s, \"tracking\": %s%s%s%s", head, tracking, *by ? ", \"by\": " : "", by, tail);
  return text;
}

static const char tracking_ok[] = "{\"on_track\": 0, \"behind\": 1, \"stuck\": 0}";
static const char by_ok[] =
  "{\"field\": \"plan\", \"values\": {\n"
  "  \"<img>\": {\"not_started\": 0, \"completed\": 1, \"blocked\": 0, \"pending\": 0, \"overdue\": 1, \"in_progress\": 0},\n"
  "  \"smb\": {\"not_started\": 0, \"completed\": 1, \"blocked\": 0, \"pending\": 0, \"overdue\": 0, \"in_progress\": 0}}}";
static const char tk_ok[] = "account,milestone,tracking,expected_progress,progress\nacme,kickoff,behind,1,\n";

/* make_results of summary_with(tracking, by), with tracking rows tk unless NULL */
static results make_tracked(const char *tracking, const char *by, const char *tk) {
  char *summary = summary_with(tracking, by);
  results r = make_results(summary, ms_ok, pb_ok, sig_ok);
  free(summary);
  if (tk) r.in.tracking = write_text(r.dir, "tracking.csv", tk);
  return r;
}

START_TEST(page_carries_tracking_and_by) {
  char msg[300];
  results r = make_tracked(tracking_ok, by_ok, tk_ok);
  char *page = page_of(&r, msg, sizeof msg);
  ck_assert_msg(page != NULL, "%s", msg);
  /* ids: </script>..., acme, globex; completed is code 2, overdue 5; acme is
   * behind, the 2nd state: 5 + (6 statuses + 1) x 2 = 19, `j` */
  ck_assert_msg(strstr(page, "\"w\":1,\"codes\":\"2j2\",\"tracking\":[[\"on_track\",0],[\"behind\",1],[\"stuck\",0]],"
                             "\"tracked\":true,\"by\":{\"field\":\"plan\",\"values\":[[\"\\u003cimg\\u003e\","
                             "[0,1,0,0,1,0]],[\"smb\",[0,1,0,0,0,0]]]}}") != NULL, "%s", strstr(page, "\"w\":"));
  free(page);
  free_results(&r);
  /* without tracking rows (a directory older than tracking.csv): the counts, no states in the codes */
  r = make_tracked(tracking_ok, "", NULL);
  page = page_of(&r, msg, sizeof msg);
  ck_assert_msg(page != NULL, "%s", msg);
  ck_assert_ptr_nonnull(strstr(page, "\"codes\":\"252\",\"tracking\":[[\"on_track\",0],[\"behind\",1],[\"stuck\",0]],"
                                     "\"tracked\":false,\"by\":null}"));
  free(page);
  free_results(&r);
  /* a milestone without tracking, and "by" absent */
  r = make_results(summary_json, ms_ok, pb_ok, sig_ok);
  r.in.tracking = write_text(r.dir, "tracking.csv", "account,milestone,tracking\n");
  page = page_of(&r, msg, sizeof msg);
  ck_assert_msg(page != NULL, "%s", msg);
  ck_assert_ptr_nonnull(strstr(page, "\"codes\":\"252\",\"tracking\":null,\"tracked\":false,\"by\":null}"));
  free(page);
  free_results(&r);
}
END_TEST

START_TEST(page_refuses_tracking_and_by_that_disagree) {
  static const struct { const char *tracking, *by, *tk, *msg; } cases[] = {
    {tracking_ok, "", "account,milestone,tracking\n",
     "tracking.csv has 0 rows of milestone `kickoff` in tracking `behind`, but "},
    {tracking_ok, "", "account,milestone,tracking\nacme,nope,behind\n", "tracking.csv:2: milestone `nope` is not in summary.json"},
    {"null", "", tk_ok, "tracking.csv:2: milestone `kickoff` has no tracking counts in summary.json"},
    {tracking_ok, "", "account,milestone,tracking\nacme,kickoff,late\n",
     "tracking.csv:2: tracking `late` is not one of milestone `kickoff` in summary.json"},
    {tracking_ok, "", "account,milestone,tracking\nnobody,kickoff,behind\n",
     "tracking.csv:2: account `nobody` has no row of milestone `kickoff` in the milestone rows"},
    {tracking_ok, "", "account,milestone,tracking\nacme,kickoff,behind\nacme,kickoff,stuck\n",
     "tracking.csv:3: a second row of account `acme` for milestone `kickoff`"},
    {tracking_ok, "", "account,milestone\nacme,kickoff\n", "tracking.csv:1: the header has no column `tracking`"},
    {"[1]", "", tk_ok, "summary.json: milestone `kickoff`: \"tracking\" is neither null nor counts"},
    {tracking_ok, "{\"field\": \"plan\"}", tk_ok,
     "summary.json: milestone `kickoff`: \"by\" is not {\"field\": NAME, \"values\": {VALUE: {STATUS: count}}}"},
    {tracking_ok, "{\"field\": \"plan\", \"values\": {\"a\\n\": {\"completed\": 2}}}", tk_ok,
     "summary.json: milestone `kickoff`: the \"by\" counts of value `a\\x0a` are not those of its statuses"},
    {tracking_ok, "{\"field\": \"plan\", \"values\": {\"a\": {\"not_started\": 0, \"completed\": 1, \"blocked\": 0, "
     "\"pending\": 0, \"overdue\": 1, \"in_progress\": 0}}}", tk_ok,
     "summary.json: milestone `kickoff`: the \"by\" counts of status `completed` add up to 1, but \"status\" counts 2"},
    {tracking_ok, "{\"field\": \"plan\", \"values\": {\"a\": {\"not_started\": 0, \"completed\": 2, \"blocked\": 0, "
     "\"pending\": 0, \"overdue\": 999999999999999999, \"in_progress\": 0}, \"b\": {\"not_started\": 0, \"completed\": 0, "
     "\"blocked\": 0, \"pending\": 0, \"overdue\": 999999999999999999, \"in_progress\": 0}}}", tk_ok,
     "summary.json: milestone `kickoff`: the \"by\" counts of status `overdue` add up to more than 1, but \"status\" counts 1"},
  };
  char msg[400];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    results r = make_tracked(cases[i].tracking, cases[i].by, cases[i].tk);
    ck_assert_ptr_null(page_of(&r, msg, sizeof msg));
    ck_assert_msg(strstr(msg, cases[i].msg) != NULL, "case %zu: %s", i, msg);
    free_results(&r);
  }
}
END_TEST

START_TEST(page_to_a_descriptor) {
  results r = make_results(summary_json, ms_ok, pb_ok, sig_ok);
  char path[512], msg[300];
  snprintf(path, sizeof path, "%s/report.html", r.dir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  int fd = dup(fileno(f));
  fclose(f);
  ck_assert_msg(report_write_fd(fd, path, &r.in, msg, sizeof msg), "%s", msg);
  f = fopen(path, "r");
  char head[16] = {0};
  ck_assert_uint_eq(fread(head, 1, 15, f), 15);
  fclose(f);
  ck_assert_str_eq(head, "<!DOCTYPE html>");
  /* a write error names the page */
  fd = open("/dev/full", O_WRONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert(!report_write_fd(fd, "out/report.html", &r.in, msg, sizeof msg));
  ck_assert_str_eq(msg, "cannot write out/report.html: No space left on device");
  /* a failure still closes the descriptor */
  f = fopen(path, "w");
  fd = dup(fileno(f));
  fclose(f);
  r.in.jsonl = true;
  ck_assert(!report_write_fd(fd, path, &r.in, msg, sizeof msg));
  ck_assert_int_eq(close(fd), -1);
  free_results(&r);
}
END_TEST

static Suite *report_suite(void) {
  Suite *s = suite_create("report");
  TCase *tc = tcase_create("report");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, sha256_matches_the_fips_vectors);
  tcase_add_test(tc, json_strings_cannot_leave_the_script_element);
  tcase_add_test(tc, json_reads_values_and_escapes);
  tcase_add_test(tc, json_errors_name_the_line);
  tcase_add_test(tc, json_nesting_is_bounded);
  tcase_add_test(tc, csv_rows_by_column_name);
  tcase_add_test(tc, csv_errors_name_file_and_line);
  tcase_add_test(tc, csv_row_too_long);
  tcase_add_test(tc, csv_rows_across_chunks);
  tcase_add_test(tc, jsonl_rows_by_key);
  tcase_add_test(tc, page_carries_the_data);
  tcase_add_test(tc, page_refuses_files_that_disagree);
  tcase_add_test(tc, page_carries_tracking_and_by);
  tcase_add_test(tc, page_refuses_tracking_and_by_that_disagree);
  tcase_add_test(tc, page_to_a_descriptor);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *r = srunner_create(report_suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
