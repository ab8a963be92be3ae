/* test_suggest.c — "did you mean" (src/core/suggest.c). */
#include <check.h>
#include <stdlib.h>

#include "core/suggest.h"

START_TEST(distance_counts_edits_and_swaps) {
  ck_assert_uint_eq(suggest_distance("login", "login", 2), 0);
  ck_assert_uint_eq(suggest_distance("lgin", "login", 2), 1);            /* an insertion */
  ck_assert_uint_eq(suggest_distance("logins", "login", 2), 1);          /* a deletion */
  ck_assert_uint_eq(suggest_distance("lagin", "login", 2), 1);           /* a substitution */
  ck_assert_uint_eq(suggest_distance("lgoin", "login", 2), 1);           /* a swap */
  ck_assert_uint_eq(suggest_distance("", "ab", 2), 2);
  ck_assert_uint_gt(suggest_distance("report_created", "login", 2), 2);  /* past the bound */
  ck_assert_uint_gt(suggest_distance("abcdef", "a", 3), 3);              /* lengths alone exceed it */
}
END_TEST

START_TEST(offer_keeps_the_closest_first_seen) {
  suggest s = {.word = "--event", .max_distance = 2};
  suggest_offer(&s, "--as-of");
  suggest_offer(&s, "--events");
  suggest_offer(&s, "--eventz");   /* as close, seen later: not taken */
  ck_assert_str_eq(s.best, "--events");
  ck_assert_uint_eq(s.best_distance, 1);
  suggest none = {.word = "sessions", .max_distance = 2};
  suggest_offer(&none, "login");
  suggest_offer(&none, "sessions");  /* the word itself is no suggestion */
  suggest_offer(&none, NULL);
  ck_assert_ptr_null(none.best);
}
END_TEST

START_TEST(default_distance_shrinks_for_short_words) {
  ck_assert_uint_eq(suggest_default_distance("id"), 1);
  ck_assert_uint_eq(suggest_default_distance("usr"), 1);
  ck_assert_uint_eq(suggest_default_distance("login"), 1);
  ck_assert_uint_eq(suggest_default_distance("report"), 2);
  ck_assert_uint_eq(suggest_default_distance("report_created"), 2);
}
END_TEST

int main(void) {
  Suite *s = suite_create("suggest");
  TCase *tc = tcase_create("suggest");
  tcase_add_test(tc, distance_counts_edits_and_swaps);
  tcase_add_test(tc, offer_keeps_the_closest_first_seen);
  tcase_add_test(tc, default_distance_shrinks_for_short_words);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
