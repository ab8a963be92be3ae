/* test_diag.c — sorting diagnostics and showing their source lines
 * (src/front/diag.c) on sources big enough that the line index and the merge
 * sort matter. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/codes.h"
#include "front/diag.h"
#include "front/parse.h"

static char *render_text(const diag_list *d) {
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  ck_assert_ptr_nonnull(f);
  diag_render_text(f, d, false);
  ck_assert_int_eq(fclose(f), 0);
  return out;
}

/* Sorted by line and column; equal locations keep the order they were reported in. */
START_TEST(sort_is_by_location_and_stable) {
  enum { N = 5000 };
  arena a;
  arena_init(&a);
  diag_list d;
  diag_init(&d, &a);
  msl_source *src = source_from_string(&a, "rules.ms", "x\n", 2);
  for (int i = 0; i < N; i++)   /* lines N..1, two diagnostics per line */
    for (int k = 0; k < 2; k++)
      diag_error(&d, (msl_loc){src, N - i, 1, N - i, 1}, DIAG_E27, "%d", k);
  diag_sort(&d);
  int line = 0, n = 0;
  for (const diag *g = d.first; g; g = g->next, n++) {
    ck_assert_int_eq(g->loc.line, n / 2 + 1);
    ck_assert_str_eq(g->message, n % 2 ? "1" : "0");
    ck_assert_int_ge(g->loc.line, line);
    line = g->loc.line;
  }
  ck_assert_int_eq(n, 2 * N);
  ck_assert_ptr_null(d.last->next);
  ck_assert_int_eq(d.last->loc.line, N);
  arena_free(&a);
}
END_TEST

/* diag_move appends in order, counts errors and warnings, and leaves the
 * source list empty (moving an empty list changes nothing). */
START_TEST(move_appends_and_empties) {
  arena a;
  arena_init(&a);
  diag_list all, one;
  diag_init(&all, &a);
  diag_init(&one, &a);
  msl_source *src = source_from_string(&a, "rules.ms", "x\n", 2);
  diag_error(&all, (msl_loc){src, 1, 1, 1, 1}, DIAG_E27, "first");
  diag_move(&all, &one);
  diag_warning(&one, (msl_loc){src, 1, 1, 1, 1}, DIAG_W1, "second");
  diag_error(&one, (msl_loc){src, 1, 1, 1, 1}, DIAG_E27, "third");
  diag_move(&all, &one);
  ck_assert_int_eq(all.errors, 2);
  ck_assert_int_eq(all.warnings, 1);
  ck_assert_ptr_null(one.first);
  ck_assert_ptr_null(one.last);
  ck_assert_int_eq(one.errors + one.warnings, 0);
  const char *want[] = {"first", "second", "third"};
  int n = 0;
  for (const diag *g = all.first; g; g = g->next, n++) ck_assert_str_eq(g->message, want[n]);
  ck_assert_int_eq(n, 3);
  ck_assert_str_eq(all.last->message, "third");
  arena_free(&a);
}
END_TEST

static bool is_warning_on_line_2(const diag *g, void *ctx) {
  (void)ctx;
  return g->severity == DIAG_WARNING && g->loc.line == 2;
}

START_TEST(drop_if_keeps_counts_and_the_tail) {
  arena a;
  arena_init(&a);
  diag_list d;
  diag_init(&d, &a);
  msl_source *src = source_from_string(&a, "rules.ms", "x\ny\n", 4);
  diag_warning(&d, (msl_loc){src, 2, 1, 2, 1}, DIAG_W2, "dropped first");
  diag_error(&d, (msl_loc){src, 2, 1, 2, 1}, DIAG_E27, "kept error");
  diag_warning(&d, (msl_loc){src, 1, 1, 1, 1}, DIAG_W2, "kept warning");
  diag_warning(&d, (msl_loc){src, 2, 1, 2, 1}, DIAG_W3, "dropped last");
  diag_drop_if(&d, is_warning_on_line_2, NULL);
  ck_assert_int_eq(d.errors, 1);
  ck_assert_int_eq(d.warnings, 1);
  ck_assert_str_eq(d.first->message, "kept error");
  ck_assert_str_eq(d.last->message, "kept warning");
  diag_warning(&d, (msl_loc){src, 1, 1, 1, 1}, DIAG_W2, "appended");
  ck_assert_str_eq(d.first->next->next->message, "appended");
  diag_drop_if(&d, is_warning_on_line_2, NULL);   /* nothing to drop */
  ck_assert_str_eq(d.last->message, "appended");
  diag_list none;
  diag_init(&none, &a);
  diag_drop_if(&none, is_warning_on_line_2, NULL);
  ck_assert_ptr_null(none.first);
  ck_assert_ptr_null(none.last);
  arena_free(&a);
}
END_TEST

/* The line a diagnostic shows is its own, also near the end of a long file,
 * on a last line without a newline, and with a CRLF line end. */
START_TEST(text_shows_the_right_line) {
  arena a;
  arena_init(&a);
  size_t cap = 20000 * 16, len = 0;
  char *text = malloc(cap);
  ck_assert_ptr_nonnull(text);
  for (int i = 1; i < 20000; i++) len += (size_t)snprintf(text + len, cap - len, "let a%d = 1\n", i);
  len += (size_t)snprintf(text + len, cap - len, "let crlf = 2\r\nlet last = 3");
  msl_source *src = source_from_string(&a, "big.ms", text, len);
  free(text);
  ck_assert_int_eq(src->nlines, 20001);
  diag_list d;
  diag_init(&d, &a);
  diag_error(&d, (msl_loc){src, 19999, 5, 19999, 10}, DIAG_E27, "near the end");
  diag_error(&d, (msl_loc){src, 20000, 5, 20000, 8}, DIAG_E27, "crlf");
  diag_error(&d, (msl_loc){src, 20001, 5, 20001, 8}, DIAG_E27, "last");
  diag_error(&d, (msl_loc){src, 20002, 1, 20002, 1}, DIAG_E27, "past the end");
  char *out = render_text(&d);
  ck_assert_msg(strstr(out, "19999 | let a19999 = 1\n") != NULL, "wrong line in:\n%s", out);
  ck_assert_msg(strstr(out, "20000 | let crlf = 2\n") != NULL, "wrong CRLF line in:\n%s", out);
  ck_assert_msg(strstr(out, "20001 | let last = 3\n") != NULL, "wrong last line in:\n%s", out);
  ck_assert_msg(strstr(out, "20002 |") == NULL, "a line past the end shown in:\n%s", out);
  free(out);
  arena_free(&a);
}
END_TEST

static Suite *diag_suite(void) {
  Suite *s = suite_create("diag");
  TCase *tc = tcase_create("diag");
  tcase_add_test(tc, sort_is_by_location_and_stable);
  tcase_add_test(tc, text_shows_the_right_line);
  tcase_add_test(tc, move_appends_and_empties);
  tcase_add_test(tc, drop_if_keeps_counts_and_the_tail);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *r = srunner_create(diag_suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
