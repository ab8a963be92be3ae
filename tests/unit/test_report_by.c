/* test_report_by.c — `--report-by` counts (report_by.c): finding the
 * field with "did you mean", each type's value text, values that share a
 * JSON key, byte order, milestones a value has no row of, and the "by"
 * member in summary.json (output.c). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/output.h"
#include "io/report_by.h"

#define T0 INT64_C(1767225600000000)   /* 2026-01-01T00:00:00Z */

/* Account fields plan (string), seats (int), score (float), since (time),
 * trial (duration), vip (bool); milestones m0 (once) and m1 (continuous). */
static const char pool[] = "\0plan\0seats\0score\0since\0trial\0vip\0m0\0m1";

typedef struct fixture {
  bc_field fields[6];
  bc_milestone ms[2];
  bc_program prog;
} fixture;

static void fixture_init(fixture *fx) {
  memset(fx, 0, sizeof *fx);
  static const uint32_t names[6] = {1, 6, 12, 18, 24, 30};
  static const value_type types[6] = {VALUE_STRING, VALUE_INT, VALUE_FLOAT, VALUE_TIME, VALUE_DURATION, VALUE_BOOL};
  for (int i = 0; i < 6; i++) fx->fields[i] = (bc_field){.name = names[i], .type = (uint8_t)types[i]};
  fx->ms[0] = (bc_milestone){.name = 34, .display = BC_NONE, .group = BC_NONE, .description = BC_NONE,
                             .csm = BC_NONE, .customer = BC_NONE, .estimate_us = -1,
                             .entry_block = BC_NO_BLOCK, .exit_block = BC_NO_BLOCK, .blocked_block = BC_NO_BLOCK};
  fx->ms[1] = fx->ms[0];
  fx->ms[1].name = 37;
  fx->ms[1].continuous = 1;
  fx->prog = (bc_program){.strings = (char *)pool, .strings_len = sizeof pool, .naccount_fields = 6,
                          .account_fields = fx->fields, .nmilestones = 2, .milestones = fx->ms};
}

typedef struct text_buf {
  char data[8192];
  size_t len;
} text_buf;

static void buf_put(void *ctx, const char *p, size_t n) {
  text_buf *b = ctx;
  ck_assert_uint_lt(b->len + n, sizeof b->data);
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
}

static out_milestone_row row(uint32_t m, out_status s) {
  return (out_milestone_row){.milestone = m, .status = s, .started_at = OUT_NO_TIME};
}

START_TEST(find_field) {
  fixture fx;
  fixture_init(&fx);
  const char *closest = "unset";
  ck_assert_uint_eq(report_by_find_field(&fx.prog, "plan", &closest), 0);
  ck_assert_uint_eq(report_by_find_field(&fx.prog, "vip", &closest), 5);
  ck_assert_uint_eq(report_by_find_field(&fx.prog, "plna", &closest), BC_NONE);
  ck_assert_str_eq(closest, "plan");
  ck_assert_uint_eq(report_by_find_field(&fx.prog, "id", &closest), BC_NONE);   /* not a declared field */
  ck_assert_ptr_null(closest);
  ck_assert_uint_eq(report_by_find_field(&fx.prog, "region", &closest), BC_NONE);
  ck_assert_ptr_null(closest);
}
END_TEST

/* The "by" text of milestone mi, for accounts whose field `field` has
 * values[i] and rows rows[i]. */
static void by_text(const fixture *fx, uint32_t field, const value_data *values, int n, out_status status0,
                    uint32_t mi, text_buf *out) {
  report_by *b = report_by_new(&fx->prog, field);
  value_data fields[6] = {{0}};
  for (int i = 0; i < n; i++) {
    fields[field] = values[i];
    out_milestone_row r = row(0, status0);
    report_by_add(b, fields, &r, 1);
  }
  static const out_status once[] = {OUT_ST_NOT_STARTED, OUT_ST_COMPLETED};
  out->len = 0;
  out->data[0] = 0;
  report_by_write(b, mi, once, 2, buf_put, out);
  report_by_free(b);
}

/* The value keys of a "by" text, in order, separated by spaces. */
static void keys_of(const char *text, char *keys, size_t cap) {
  keys[0] = 0;
  for (const char *p = strstr(text, "\"values\": {"); (p = strstr(p, "\n          \"")); ) {
    p += 11;
    const char *end = strstr(p, ": {");
    size_t len = strlen(keys);
    snprintf(keys + len, cap - len, "%s%.*s", len ? " " : "", (int)(end - p), p);
  }
}

START_TEST(value_texts) {
  fixture fx;
  fixture_init(&fx);
  text_buf out;
  char keys[512];

  value_data ints[3] = {{.i = -3}, {.i = 12}, {.i = 12}};
  by_text(&fx, 1, ints, 3, OUT_ST_COMPLETED, 0, &out);
  keys_of(out.data, keys, sizeof keys);
  ck_assert_str_eq(keys, "\"-3\" \"12\"");

  value_data floats[4] = {{.f = 0.1}, {.f = 2.0}, {.f = 1e21}, {.f = -0.5}};
  by_text(&fx, 2, floats, 4, OUT_ST_COMPLETED, 0, &out);
  keys_of(out.data, keys, sizeof keys);
  ck_assert_str_eq(keys, "\"-0.5\" \"0.1\" \"1e+21\" \"2\"");

  value_data times[2] = {{.i = T0}, {.i = T0 + 250000}};
  by_text(&fx, 3, times, 2, OUT_ST_COMPLETED, 0, &out);
  keys_of(out.data, keys, sizeof keys);
  ck_assert_str_eq(keys, "\"2026-01-01T00:00:00.250000Z\" \"2026-01-01T00:00:00Z\"");

  value_data durations[3] = {{.i = 86400 * INT64_C(1000000)}, {.i = 1500000}, {.i = -2000000}};
  by_text(&fx, 4, durations, 3, OUT_ST_COMPLETED, 0, &out);
  keys_of(out.data, keys, sizeof keys);
  ck_assert_str_eq(keys, "\"-2\" \"1.5\" \"86400\"");

  value_data bools[2] = {{.b = true}, {.b = false}};
  by_text(&fx, 5, bools, 2, OUT_ST_COMPLETED, 0, &out);
  keys_of(out.data, keys, sizeof keys);
  ck_assert_str_eq(keys, "\"false\" \"true\"");
}
END_TEST

/* Strings: byte order of the JSON text; an empty string is a value; bytes
 * that are not UTF-8 become \ufffd, and values that then read the same
 * share one key (their counts add up). */
START_TEST(string_values_and_shared_keys) {
  fixture fx;
  fixture_init(&fx);
  text_buf out;
  value_data v[6] = {
    {.s = {"smb", 3}}, {.s = {"enterprise", 10}}, {.s = {"", 0}},
    {.s = {"x\xff", 2}}, {.s = {"x\xfe", 2}}, {.s = {"say \"hi\"", 8}},
  };
  by_text(&fx, 0, v, 6, OUT_ST_COMPLETED, 0, &out);
  ck_assert_str_eq(out.data,
      "      \"by\": {\n"
      "        \"field\": \"plan\",\n"
      "        \"values\": {\n"
      "          \"\": {\n"
      "            \"not_started\": 0,\n"
      "            \"completed\": 1\n"
      "          },\n"
      "          \"enterprise\": {\n"
      "            \"not_started\": 0,\n"
      "            \"completed\": 1\n"
      "          },\n"
      "          \"say \\\"hi\\\"\": {\n"
      "            \"not_started\": 0,\n"
      "            \"completed\": 1\n"
      "          },\n"
      "          \"smb\": {\n"
      "            \"not_started\": 0,\n"
      "            \"completed\": 1\n"
      "          },\n"
      "          \"x\\ufffd\": {\n"
      "            \"not_started\": 0,\n"
      "            \"completed\": 2\n"
      "          }\n"
      "        }\n"
      "      }");
}
END_TEST

/* A value appears under a milestone only when one of its accounts has a
 * row of it; none: an empty object. */
START_TEST(values_per_milestone) {
  fixture fx;
  fixture_init(&fx);
  report_by *b = report_by_new(&fx.prog, 0);
  value_data fields[6] = {{0}};
  fields[0].s = (value_str){"a", 1};
  out_milestone_row both[2] = {row(0, OUT_ST_NOT_STARTED), row(1, OUT_ST_ACHIEVING)};
  report_by_add(b, fields, both, 2);
  fields[0].s = (value_str){"b", 1};
  report_by_add(b, fields, both, 1);
  report_by_add(b, fields, both, 1);
  fields[0].s = (value_str){"c", 1};
  report_by_add(b, fields, NULL, 0);   /* no applicable milestone */
  static const out_status once[] = {OUT_ST_NOT_STARTED, OUT_ST_COMPLETED};
  static const out_status cont[] = {OUT_ST_ACHIEVING};
  text_buf out = {.len = 0};
  report_by_write(b, 0, once, 2, buf_put, &out);
  char keys[128];
  keys_of(out.data, keys, sizeof keys);
  ck_assert_str_eq(keys, "\"a\" \"b\"");
  ck_assert_msg(strstr(out.data, "\"b\": {\n            \"not_started\": 2,\n"), "%s", out.data);
  out.len = 0;
  report_by_write(b, 1, cont, 1, buf_put, &out);
  ck_assert_str_eq(out.data,
      "      \"by\": {\n"
      "        \"field\": \"plan\",\n"
      "        \"values\": {\n"
      "          \"a\": {\n"
      "            \"achieving\": 1\n"
      "          }\n"
      "        }\n"
      "      }");
  report_by_free(b);

  b = report_by_new(&fx.prog, 5);
  out.len = 0;
  report_by_write(b, 0, once, 2, buf_put, &out);
  ck_assert_str_eq(out.data, "      \"by\": {\n        \"field\": \"vip\",\n        \"values\": {}\n      }");
  report_by_free(b);
}
END_TEST

/* summary.json: "by" comes after "tracking" in each milestone entry. */
START_TEST(in_summary) {
  fixture fx;
  fixture_init(&fx);
  char dir[] = "/tmp/msl-test-report-by-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char msg[256] = "";
  out_writer *w = out_open(&fx.prog, dir, OUT_CSV, NULL, msg, sizeof msg);
  ck_assert_msg(w != NULL, "%s", msg);
  report_by *b = report_by_new(&fx.prog, 0);
  out_set_report_by(w, b);
  out_set_as_of(w, T0);
  value_data fields[6] = {{0}};
  fields[0].s = (value_str){"smb", 3};
  out_milestone_row r[2] = {row(0, OUT_ST_NOT_STARTED), row(1, OUT_ST_NOT_STARTED)};
  r[0].started_at = r[0].entered_at = r[0].achieved_at = r[0].lost_at = r[0].deadline_at = OUT_NO_TIME;
  r[1] = r[0];
  r[1].milestone = 1;
  r[0].on_time = r[1].on_time = -1;
  report_by_add(b, fields, r, 2);
  ck_assert_msg(out_account(w, "a", 1, r, 2, NULL, 0, NULL, 0, msg, sizeof msg), "%s", msg);
  ck_assert_msg(out_finish(w, T0, &(out_counts){0}, msg, sizeof msg), "%s", msg);
  report_by_free(b);

  char path[512];
  snprintf(path, sizeof path, "%s/summary.json", dir);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  static char text[1 << 14];
  text[fread(text, 1, sizeof text - 1, f)] = 0;
  fclose(f);
  ck_assert_msg(strstr(text,
      "      \"tracking\": null,\n"
      "      \"by\": {\n"
      "        \"field\": \"plan\",\n"
      "        \"values\": {\n"
      "          \"smb\": {\n"
      "            \"not_started\": 1,\n"
      "            \"achieving\": 0,\n"), "%s", text);   /* m1: continuous statuses */
  DIR *d = opendir(dir);
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  closedir(d);
  rmdir(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("report_by");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, find_field);
  tcase_add_test(tc, value_texts);
  tcase_add_test(tc, string_values_and_shared_keys);
  tcase_add_test(tc, values_per_milestone);
  tcase_add_test(tc, in_summary);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
