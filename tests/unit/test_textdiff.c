/* test_textdiff.c — the line diff and its unified form (src/core/textdiff.c):
 * exact output on the edge cases (GNU diff -u's, checked by hand), a
 * shortest script against a dynamic-programming LCS on random texts, and
 * `patch` applying the output to give the new text. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/textdiff.h"

/* The unified diff of old -> new with labels a/f and b/f. */
static char *unified(const char *old_text, const char *new_text, long max_cost, int context) {
  textdiff d;
  textdiff_compute(&d, old_text, strlen(old_text), new_text, strlen(new_text), max_cost);
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  ck_assert_ptr_nonnull(f);
  ck_assert(textdiff_write_unified(&d, f, "a/f", "b/f", context));
  ck_assert_int_eq(fclose(f), 0);
  ck_assert_int_eq(textdiff_differs(&d), len > 0);
  textdiff_free(&d);
  return out;
}

static void expect_diff(const char *old_text, const char *new_text, const char *hunks) {
  char *got = unified(old_text, new_text, 0, 3);
  if (!hunks) {
    ck_assert_str_eq(got, "");
  } else {
    char *want = NULL;
    ck_assert_int_gt(asprintf(&want, "--- a/f\n+++ b/f\n%s", hunks), 0);
    ck_assert_str_eq(got, want);
    free(want);
  }
  free(got);
}

START_TEST(equal_texts_have_no_diff) {
  expect_diff("", "", NULL);
  expect_diff("a\nb\n", "a\nb\n", NULL);
  expect_diff("a\nb", "a\nb", NULL);
}
END_TEST

START_TEST(changes_at_the_start_and_the_end) {
  expect_diff("b\nc\n", "a\nb\nc\n", "@@ -1,2 +1,3 @@\n+a\n b\n c\n");
  expect_diff("a\nb\nc\n", "b\nc\n", "@@ -1,3 +1,2 @@\n-a\n b\n c\n");
  expect_diff("a\nb\nc\nd\n", "a\nb\nc\n", "@@ -1,4 +1,3 @@\n a\n b\n c\n-d\n");
  expect_diff("a\nb\nc\n", "a\nb\nc\nd\n", "@@ -1,3 +1,4 @@\n a\n b\n c\n+d\n");
  expect_diff("1\n2\n3\n4\n5\n6\n", "1\n2\n3\n4\n5\n6\n7\n", "@@ -4,3 +4,4 @@\n 4\n 5\n 6\n+7\n");
}
END_TEST

START_TEST(empty_files) {
  expect_diff("", "a\n", "@@ -0,0 +1 @@\n+a\n");
  expect_diff("a\n", "", "@@ -1 +0,0 @@\n-a\n");
  expect_diff("", "a\nb\n", "@@ -0,0 +1,2 @@\n+a\n+b\n");
  expect_diff("\n", "", "@@ -1 +0,0 @@\n-\n");
}
END_TEST

START_TEST(no_newline_at_the_end) {
  expect_diff("a\nb", "a\nb\n", "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
  expect_diff("a\nb\n", "a\nb", "@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n");
  expect_diff("x", "y", "@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n");
  expect_diff("", "x", "@@ -0,0 +1 @@\n+x\n\\ No newline at end of file\n");
}
END_TEST

/* "1\n" .. "20\n" with line `a` (and `b`, when not 0) replaced. */
static char *numbers(int a, int b) {
  char *s = malloc(200);
  ck_assert_ptr_nonnull(s);
  s[0] = '\0';
  for (int i = 1; i <= 20; i++) {
    char line[16];
    if (i == a || i == b) snprintf(line, sizeof line, "x%d\n", i);
    else snprintf(line, sizeof line, "%d\n", i);
    strcat(s, line);
  }
  return s;
}

START_TEST(hunks_merge_when_their_context_touches) {
  char *base = numbers(0, 0), *apart = numbers(5, 13), *close = numbers(5, 12);
  /* seven unchanged lines between: two hunks */
  expect_diff(base, apart,
              "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+x5\n 6\n 7\n 8\n"
              "@@ -10,7 +10,7 @@\n 10\n 11\n 12\n-13\n+x13\n 14\n 15\n 16\n");
  /* six: one */
  expect_diff(base, close,
              "@@ -2,14 +2,14 @@\n 2\n 3\n 4\n-5\n+x5\n 6\n 7\n 8\n 9\n 10\n 11\n-12\n+x12\n 13\n 14\n 15\n");
  char *zero = unified(base, close, 0, 0);
  ck_assert_str_eq(zero, "--- a/f\n+++ b/f\n@@ -5 +5 @@\n-5\n+x5\n@@ -12 +12 @@\n-12\n+x12\n");
  free(zero);
  free(base);
  free(apart);
  free(close);
}
END_TEST

/* ---- random texts ------------------------------------------------------------------------ */

static uint64_t next_random(uint64_t *state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

/* Up to max_lines lines of a few letters (so that lines repeat), the last
 * one sometimes without its newline. */
static char *random_text(uint64_t *state, int max_lines) {
  int n = (int)(next_random(state) % (uint64_t)(max_lines + 1));
  char *s = malloc((size_t)n * 2 + 1);
  ck_assert_ptr_nonnull(s);
  for (int i = 0; i < n; i++) {
    s[2 * i] = (char)('a' + next_random(state) % 4);
    s[2 * i + 1] = '\n';
  }
  size_t len = (size_t)n * 2;
  if (n && next_random(state) % 4 == 0) len--;
  s[len] = '\0';
  return s;
}

/* The length of a longest common subsequence of lines, by the quadratic table. */
static size_t lcs_length(const textdiff *d) {
  const textdiff_side *a = &d->old, *b = &d->new;
  size_t *row = calloc((b->nlines + 1) * (a->nlines + 1), sizeof *row);
  ck_assert_ptr_nonnull(row);
  size_t w = b->nlines + 1;
  for (size_t i = 1; i <= a->nlines; i++)
    for (size_t j = 1; j <= b->nlines; j++) {
      size_t la = a->starts[i] - a->starts[i - 1], lb = b->starts[j] - b->starts[j - 1];
      bool same = la == lb && memcmp(a->text + a->starts[i - 1], b->text + b->starts[j - 1], la) == 0;
      size_t up = row[(i - 1) * w + j], left = row[i * w + j - 1];
      row[i * w + j] = same ? row[(i - 1) * w + j - 1] + 1 : up > left ? up : left;
    }
  size_t n = row[a->nlines * w + b->nlines];
  free(row);
  return n;
}

/* The unchanged lines of both sides pair up, equal, in order; returns how many. */
static size_t check_pairs(const textdiff *d) {
  const textdiff_side *a = &d->old, *b = &d->new;
  size_t i = 0, j = 0, pairs = 0;
  for (;;) {
    while (i < a->nlines && a->changed[i]) i++;
    while (j < b->nlines && b->changed[j]) j++;
    if (i == a->nlines || j == b->nlines) break;
    size_t la = a->starts[i + 1] - a->starts[i], lb = b->starts[j + 1] - b->starts[j];
    ck_assert(la == lb && memcmp(a->text + a->starts[i], b->text + b->starts[j], la) == 0);
    i++, j++, pairs++;
  }
  while (i < a->nlines) ck_assert(a->changed[i++]);
  while (j < b->nlines) ck_assert(b->changed[j++]);
  return pairs;
}

START_TEST(scripts_are_shortest_and_consistent) {
  uint64_t state = 0x9e3779b97f4a7c15u;
  for (int round = 0; round < 3000; round++) {
    char *a = random_text(&state, 14), *b = random_text(&state, 14);
    textdiff d;
    textdiff_compute(&d, a, strlen(a), b, strlen(b), 0);
    ck_assert_uint_eq(check_pairs(&d), lcs_length(&d));
    textdiff_free(&d);
    /* a cost bound of 1 cuts nearly every split: consistent, maybe longer */
    textdiff_compute(&d, a, strlen(a), b, strlen(b), 1);
    check_pairs(&d);
    textdiff_free(&d);
    free(a);
    free(b);
  }
}
END_TEST

START_TEST(reordered_lines_past_the_cost_bound) {
  /* 3000 distinct lines against them reversed: each line matches one on
   * the other side, so only the cut keeps this fast */
  size_t n = 3000;
  char *a = malloc(n * 8 + 1), *b = malloc(n * 8 + 1);
  ck_assert(a && b);
  size_t la = 0, lb = 0;
  for (size_t i = 0; i < n; i++) {
    la += (size_t)sprintf(a + la, "%06zu\n", i);
    lb += (size_t)sprintf(b + lb, "%06zu\n", n - 1 - i);
  }
  textdiff d;
  textdiff_compute(&d, a, la, b, lb, 64);
  ck_assert_uint_ge(check_pairs(&d), 1);
  textdiff_free(&d);
  free(a);
  free(b);
}
END_TEST

/* ---- patch applies the output --------------------------------------------------------------- */

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
  ck_assert_int_eq(fclose(f), 0);
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  char *s = calloc(1, 4096);
  ck_assert_ptr_nonnull(s);
  size_t n = fread(s, 1, 4095, f);
  ck_assert(!ferror(f));
  s[n] = '\0';
  fclose(f);
  return s;
}

/* `patch -p1` (no fuzz) turns old into new with the diff of the two. */
static void expect_patch_applies(const char *dir, const char *old_text, const char *new_text, long max_cost) {
  char path[512], diff_path[512], cmd[1400];
  snprintf(path, sizeof path, "%s/f", dir);
  snprintf(diff_path, sizeof diff_path, "%s/f.diff", dir);
  write_text(path, old_text);
  char *diff = unified(old_text, new_text, max_cost, 3);
  write_text(diff_path, diff);
  free(diff);
  snprintf(cmd, sizeof cmd, "patch --batch --quiet --fuzz=0 --no-backup-if-mismatch -p1 -d '%s' -i '%s' >/dev/null 2>&1",
           dir, diff_path);
  int status = system(cmd);
  ck_assert_msg(status == 0, "patch failed on %s", diff_path);
  char *got = read_text(path);
  ck_assert_str_eq(got, new_text);
  free(got);
}

START_TEST(patch_applies_the_diff) {
  char dir[] = "/tmp/msl-textdiff-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  static const char *const pairs[][2] = {
      {"", "a\n"},          {"b\nc\n", "a\nb\nc\n"}, {"a\nb\nc\n", "a\nb\n"}, {"a\nb", "a\nb\n"},
      {"a\nb\n", "a\nb"},   {"x", "y"},              {"a\n", "a\nb"},         {"1\n2\n3\n4\n5\n6\n7\n8\n9\n", "0\n1\n2\n3\n5\n6\n7\n8\n9\n10\n"},
  };
  for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) expect_patch_applies(dir, pairs[i][0], pairs[i][1], 0);
  uint64_t state = 12345;
  for (int round = 0; round < 150; round++) {
    char *a = random_text(&state, 30), *b = random_text(&state, 30);
    expect_patch_applies(dir, a, b, round % 2 ? 1 : 0);
    free(a);
    free(b);
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("textdiff");
  TCase *tc = tcase_create("textdiff");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, equal_texts_have_no_diff);
  tcase_add_test(tc, changes_at_the_start_and_the_end);
  tcase_add_test(tc, empty_files);
  tcase_add_test(tc, no_newline_at_the_end);
  tcase_add_test(tc, hunks_merge_when_their_context_touches);
  tcase_add_test(tc, scripts_are_shortest_and_consistent);
  tcase_add_test(tc, reordered_lines_past_the_cost_bound);
  tcase_add_test(tc, patch_applies_the_diff);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
