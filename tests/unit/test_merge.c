/* test_merge.c — summary.json of `msl merge` (merge_summary.c): the tree
 * that keeps each value's place, its refusals, integers, and the merged
 * file: counts added, percentages and times to complete recomputed, "by"
 * values united in byte order, "shard" null, and a difference between
 * shards refused. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "io/merge_internal.h"

START_TEST(tree_keeps_places) {
  arena a;
  arena_init(&a);
  const char *text = "{\n  \"k\": [1, \"a\\\"b\", null],\n  \"x\": -12\n}\n";
  merge_json root;
  char msg[128];
  ck_assert(merge_json_parse(&a, text, strlen(text), &root, msg, sizeof msg));
  ck_assert_int_eq(root.kind, MJ_OBJECT);
  ck_assert_uint_eq(root.n, 2);
  const merge_json *k = merge_json_get(text, &root, "k");
  ck_assert_int_eq(k->kind, MJ_ARRAY);
  ck_assert_uint_eq(k->n, 3);
  ck_assert_int_eq(strncmp(text + k->items[1].start, "\"a\\\"b\"", k->items[1].end - k->items[1].start), 0);
  ck_assert_uint_eq(k->items[1].end - k->items[1].start, 6);
  int64_t v;
  ck_assert(merge_json_int(text, merge_json_get(text, &root, "x"), &v));
  ck_assert_int_eq(v, -12);
  ck_assert(merge_json_get(text, &root, "y") == NULL);
  arena_free(&a);
}
END_TEST

START_TEST(tree_refuses) {
  static const char *const bad[][2] = {
    {"{\"a\": \"open", "line 1: a string is not closed"},
    {"{\"a\": 1,\n \"b\" 2}", "line 2: expected `:`"},
    {"[1, 2] 3", "line 1: text after the value"},
    {"[01]", "line 1: a bad number"},
    {"{\"a\": nul}", "line 1: not a JSON value"},
    {"\"\\x\"", "line 1: a bad escape in a string"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    arena a;
    arena_init(&a);
    merge_json root;
    char msg[128] = "";
    ck_assert(!merge_json_parse(&a, bad[i][0], strlen(bad[i][0]), &root, msg, sizeof msg));
    ck_assert_str_eq(msg, bad[i][1]);
    arena_free(&a);
  }
  char deep[200];
  memset(deep, '[', sizeof deep);
  arena a;
  arena_init(&a);
  merge_json root;
  char msg[128] = "";
  ck_assert(!merge_json_parse(&a, deep, sizeof deep, &root, msg, sizeof msg));
  ck_assert_str_eq(msg, "line 1: nesting too deep");
  arena_free(&a);
}
END_TEST

START_TEST(integers) {
  arena a;
  arena_init(&a);
  static const char *const texts[] = {"9223372036854775807", "-9223372036854775808", "9223372036854775808",
                                      "1.5", "1e3", "\"1\""};
  static const bool fits[] = {true, true, false, false, false, false};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    merge_json v;
    char msg[64];
    ck_assert(merge_json_parse(&a, texts[i], strlen(texts[i]), &v, msg, sizeof msg));
    int64_t n;
    ck_assert_msg(merge_json_int(texts[i], &v, &n) == fits[i], "%s", texts[i]);
  }
  arena_free(&a);
}
END_TEST

/* A summary as msl run writes it, cut down to what the merge computes. */
static const char *summary(int index, int completed, int in_progress, const char *ttc, const char *by) {
  static char buf[4][2048];
  char *out = buf[index % 4];
  int applicable = completed + in_progress;
  char pc[2][16];
  if (applicable) {
    snprintf(pc[0], sizeof pc[0], "%d.00", completed * 100 / applicable);
    snprintf(pc[1], sizeof pc[1], "%d.00", in_progress * 100 / applicable);
  } else {
    strcpy(pc[0], "null");
    strcpy(pc[1], "null");
  }
  snprintf(out, sizeof buf[0],
           "{\n  \"as_of\": \"2026-01-01T00:00:00Z\",\n  \"shard\": {\n    \"index\": %d,\n    \"count\": 2\n  },\n"
           "  \"rows\": {\n    \"read\": %d\n  },\n  \"milestones\": [\n    {\n      \"name\": \"m\",\n"
           "      \"applicable\": %d,\n      \"status\": {\n        \"completed\": %d,\n        \"in_progress\": %d\n"
           "      },\n      \"percent\": {\n        \"completed\": %s,\n        \"in_progress\": %s\n      },\n"
           "      \"time_to_complete\": %s,\n      \"by\": {\n        \"field\": \"plan\",\n        \"values\": %s\n"
           "      }\n    }\n  ],\n  \"playbooks\": []\n}\n",
           index, 10 * index, applicable, completed, in_progress, pc[0], pc[1], ttc, by);
  return out;
}

static merge_status merge_two(const char *t1, const char *t2, merge_milestone *m, merge_text *out, char *msg) {
  arena a;
  arena_init(&a);
  merge_shard shards[2] = {{.dir = "s1", .summary_path = "s1/summary.json", .text = (char *)t1, .len = strlen(t1)},
                           {.dir = "s2", .summary_path = "s2/summary.json", .text = (char *)t2, .len = strlen(t2)}};
  for (int k = 0; k < 2; k++)
    ck_assert_msg(merge_json_parse(&a, shards[k].text, shards[k].len, &shards[k].root, msg, 256), "%s", msg);
  merge_status st = merge_summary_write(shards, 2, m, 1, out, msg, 256);
  arena_free(&a);
  return st;
}

START_TEST(merged_summary) {
  const char *ttc1 = "{\n        \"count\": 1,\n        \"median_s\": 5,\n        \"p90_s\": 5\n      }";
  const char *ttc2 = "{\n        \"count\": 2,\n        \"median_s\": 1,\n        \"p90_s\": 2.5\n      }";
  const char *by1 = "{\n          \"gold\": {\n            \"completed\": 1,\n            \"in_progress\": 0\n          }\n"
                    "        }";
  const char *by2 = "{\n          \"free\": {\n            \"completed\": 0,\n            \"in_progress\": 1\n          },\n"
                    "          \"gold\": {\n            \"completed\": 2,\n            \"in_progress\": 0\n          }\n"
                    "        }";
  char t1[2048], t2[2048];
  strcpy(t1, summary(1, 1, 0, ttc1, by1));
  strcpy(t2, summary(2, 2, 1, ttc2, by2));
  int64_t durations[3] = {5000000, 2500000, 1000000};
  merge_milestone m = {.name = "m", .name_len = 1, .durations_us = durations, .ndurations = 3, .cap = 3};
  merge_text out = {0};
  char msg[256] = "";
  ck_assert_msg(merge_two(t1, t2, &m, &out, msg) == MERGE_OK, "%s", msg);
  UTIL_VEC_PUSH(out, '\0', 1);
  ck_assert_str_eq(out.items,
      "{\n  \"as_of\": \"2026-01-01T00:00:00Z\",\n  \"shard\": null,\n"
      "  \"rows\": {\n    \"read\": 30\n  },\n  \"milestones\": [\n    {\n      \"name\": \"m\",\n"
      "      \"applicable\": 4,\n      \"status\": {\n        \"completed\": 3,\n        \"in_progress\": 1\n"
      "      },\n      \"percent\": {\n        \"completed\": 75.00,\n        \"in_progress\": 25.00\n      },\n"
      "      \"time_to_complete\": {\n        \"count\": 3,\n        \"median_s\": 2.5,\n        \"p90_s\": 5\n      },\n"
      "      \"by\": {\n        \"field\": \"plan\",\n        \"values\": {\n"
      "          \"free\": {\n            \"completed\": 0,\n            \"in_progress\": 1\n          },\n"
      "          \"gold\": {\n            \"completed\": 3,\n            \"in_progress\": 0\n          }\n"
      "        }\n      }\n    }\n  ],\n  \"playbooks\": []\n}\n");
  free(out.items);
}
END_TEST

START_TEST(percent_of_an_empty_shard) {
  const char *none = "{\n        \"count\": 0,\n        \"median_s\": null,\n        \"p90_s\": null\n      }";
  char t1[2048], t2[2048];
  strcpy(t1, summary(1, 0, 0, none, "{}"));
  strcpy(t2, summary(2, 0, 3, none, "{}"));
  merge_milestone m = {.name = "m", .name_len = 1};
  merge_text out = {0};
  char msg[256] = "";
  ck_assert_msg(merge_two(t1, t2, &m, &out, msg) == MERGE_OK, "%s", msg);
  UTIL_VEC_PUSH(out, '\0', 1);
  ck_assert_msg(strstr(out.items, "\"completed\": 0.00,\n        \"in_progress\": 100.00\n"), "%s", out.items);
  ck_assert_msg(strstr(out.items, "\"median_s\": null,"), "%s", out.items);
  ck_assert_msg(strstr(out.items, "\"values\": {}\n"), "%s", out.items);
  free(out.items);
}
END_TEST

START_TEST(differences_refused) {
  const char *none = "{\n        \"count\": 0,\n        \"median_s\": null,\n        \"p90_s\": null\n      }";
  char t1[2048], t2[2048];
  strcpy(t1, summary(1, 0, 1, none, "{}"));
  strcpy(t2, summary(2, 0, 1, none, "{}"));
  char *plan = strstr(t2, "\"plan\"");
  memcpy(plan, "\"tier\"", 6);
  merge_milestone m = {.name = "m", .name_len = 1};
  merge_text out = {0};
  char msg[256] = "";
  ck_assert_int_eq(merge_two(t1, t2, &m, &out, msg), MERGE_REFUSED);
  ck_assert_str_eq(msg, "s2/summary.json:28: differs from s1/summary.json, where shards of one run agree");
  free(out.items);

  /* times to complete the rows do not have */
  strcpy(t2, summary(2, 0, 1, none, "{}"));
  char *count = strstr(t2, "\"count\": 0");
  count[9] = '1';
  out = (merge_text){0};
  ck_assert_int_eq(merge_two(t1, t2, &m, &out, msg), MERGE_BAD_INPUT);
  ck_assert_str_eq(msg, "milestone m: the shards' milestone rows have 0 times to complete, their summary.json 1");
  free(out.items);

  /* a count that is not one */
  strcpy(t2, summary(2, 0, 1, none, "{}"));
  memcpy(strstr(t2, "\"read\": 20"), "\"read\": -2", 10);
  out = (merge_text){0};
  ck_assert_int_eq(merge_two(t1, t2, &m, &out, msg), MERGE_BAD_INPUT);
  ck_assert_str_eq(msg, "s2/summary.json:8: not a count");
  free(out.items);
}
END_TEST

int main(void) {
  Suite *s = suite_create("merge");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, tree_keeps_places);
  tcase_add_test(tc, tree_refuses);
  tcase_add_test(tc, integers);
  tcase_add_test(tc, merged_summary);
  tcase_add_test(tc, percent_of_an_empty_shard);
  tcase_add_test(tc, differences_refused);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
