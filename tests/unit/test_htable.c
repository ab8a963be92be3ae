/* test_htable.c — the hash table behind name lookups (src/core/htable.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/htable.h"

START_TEST(get_finds_what_put_stored) {
  arena a;
  arena_init(&a);
  htable t;
  htable_init(&t, &a);
  int x = 1, y = 2;
  ck_assert_ptr_null(htable_get_str(&t, "login"));
  ck_assert_ptr_eq(htable_put_str(&t, "login", &x), &x);
  ck_assert_ptr_eq(htable_put_str(&t, "logout", &y), &y);
  ck_assert_ptr_eq(htable_get_str(&t, "login"), &x);
  ck_assert_ptr_eq(htable_get_str(&t, "logout"), &y);
  ck_assert_ptr_null(htable_get_str(&t, "log"));
  arena_free(&a);
}
END_TEST

START_TEST(put_keeps_the_first_value) {
  arena a;
  arena_init(&a);
  htable t;
  htable_init(&t, &a);
  int first = 1, second = 2;
  htable_put_str(&t, "kickoff", &first);
  ck_assert_ptr_eq(htable_put_str(&t, "kickoff", &second), &first);
  ck_assert_ptr_eq(htable_get_str(&t, "kickoff"), &first);
  ck_assert_uint_eq(t.len, 1);
  arena_free(&a);
}
END_TEST

/* Keys are copied: the caller's buffer may change or go away. */
START_TEST(keys_are_copied) {
  arena a;
  arena_init(&a);
  htable t;
  htable_init(&t, &a);
  int x = 1;
  char key[16] = "segment";
  htable_put_str(&t, key, &x);
  strcpy(key, "milestone");
  ck_assert_ptr_eq(htable_get_str(&t, "segment"), &x);
  ck_assert_ptr_null(htable_get_str(&t, "milestone"));
  arena_free(&a);
}
END_TEST

/* Byte keys: an empty key, and keys that differ only after a NUL. */
START_TEST(byte_keys) {
  arena a;
  arena_init(&a);
  htable t;
  htable_init(&t, &a);
  int e = 0, k1 = 1, k2 = 2;
  htable_put(&t, "", 0, &e);
  htable_put(&t, "a\0b", 3, &k1);
  htable_put(&t, "a\0c", 3, &k2);
  ck_assert_ptr_eq(htable_get(&t, "", 0), &e);
  ck_assert_ptr_eq(htable_get(&t, "a\0b", 3), &k1);
  ck_assert_ptr_eq(htable_get(&t, "a\0c", 3), &k2);
  ck_assert_ptr_null(htable_get(&t, "a", 1));
  arena_free(&a);
}
END_TEST

/* Growing keeps every entry. */
START_TEST(many_keys) {
  enum { N = 100000 };
  arena a;
  arena_init(&a);
  htable t;
  htable_init(&t, &a);
  int *values = malloc(sizeof *values * N);
  ck_assert_ptr_nonnull(values);
  char key[32];
  for (int i = 0; i < N; i++) {
    values[i] = i;
    snprintf(key, sizeof key, "m%d", i);
    ck_assert_ptr_eq(htable_put_str(&t, key, &values[i]), &values[i]);
  }
  ck_assert_uint_eq(t.len, N);
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "m%d", i);
    int *v = htable_get_str(&t, key);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(*v, i);
  }
  ck_assert_ptr_null(htable_get_str(&t, "m100000"));
  free(values);
  arena_free(&a);
}
END_TEST

static Suite *htable_suite(void) {
  Suite *s = suite_create("htable");
  TCase *tc = tcase_create("htable");
  tcase_add_test(tc, get_finds_what_put_stored);
  tcase_add_test(tc, put_keeps_the_first_value);
  tcase_add_test(tc, keys_are_copied);
  tcase_add_test(tc, byte_keys);
  tcase_add_test(tc, many_keys);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *r = srunner_create(htable_suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
