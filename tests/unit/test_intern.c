/* test_intern.c — the runtime's interned strings (src/vm/intern.c): one copy
 * per value, counted references, the last one frees it, and a table that
 * stays right through growth and many removals. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_internal.h"

/* Any hash works for the table; a poor one (every value collides) tests
 * the probing. */
static uint64_t weak_hash(value_str s) { return 1 + (s.len ? (uint64_t)(unsigned char)s.p[0] % 3 : 0); }

static value_str str(const char *s) { return (value_str){s, (uint32_t)strlen(s)}; }

START_TEST(one_copy_per_value) {
  vm_intern t = {0};
  char a[] = "u1", b[] = "u1";
  value_str x = intern_take(&t, str(a), weak_hash(str(a)));
  value_str y = intern_take(&t, str(b), weak_hash(str(b)));
  ck_assert_ptr_eq(x.p, y.p);             /* equal values share one copy */
  ck_assert_ptr_ne(x.p, a);               /* a copy, not the caller's bytes */
  ck_assert_uint_eq(x.len, 2);
  ck_assert_ptr_eq(intern_find(&t, str("u1"), weak_hash(str("u1"))), x.p);
  ck_assert_ptr_null(intern_find(&t, str("u2"), weak_hash(str("u2"))));
  value_str e = intern_take(&t, str(""), weak_hash(str("")));
  ck_assert_uint_eq(e.len, 0);
  ck_assert_ptr_eq(intern_find(&t, str(""), weak_hash(str(""))), e.p);
  intern_free(&t);
}
END_TEST

START_TEST(the_last_reference_frees) {
  vm_intern t = {0};
  value_str x = intern_take(&t, str("ann"), weak_hash(str("ann")));
  intern_take(&t, str("ann"), weak_hash(str("ann")));
  intern_drop(&t, x, weak_hash(x));
  ck_assert_ptr_eq(intern_find(&t, str("ann"), weak_hash(str("ann"))), x.p);   /* one reference left */
  intern_drop(&t, x, weak_hash(x));
  ck_assert_ptr_null(intern_find(&t, str("ann"), weak_hash(str("ann"))));
  ck_assert_uint_eq(t.size, 0);
  intern_free(&t);
}
END_TEST

/* Thousands of values taken and dropped in waves, all colliding in three
 * hashes: every live value is found, every dropped one is not. */
START_TEST(survives_growth_and_tombstones) {
  enum { N = 3000 };
  vm_intern t = {0};
  static char names[N][16];
  value_str held[N];
  for (int wave = 0; wave < 3; wave++) {
    for (int i = 0; i < N; i++) {
      snprintf(names[i], sizeof names[i], "%d-%d", i % 7, i);
      held[i] = intern_take(&t, str(names[i]), weak_hash(str(names[i])));
    }
    for (int i = 0; i < N; i += 2) intern_drop(&t, held[i], weak_hash(held[i]));
    for (int i = 0; i < N; i++) {
      const char *found = intern_find(&t, str(names[i]), weak_hash(str(names[i])));
      if (i % 2) ck_assert_ptr_eq(found, held[i].p);
      else ck_assert_ptr_null(found);
    }
    for (int i = 1; i < N; i += 2) intern_drop(&t, held[i], weak_hash(held[i]));
    ck_assert_uint_eq(t.size, 0);
  }
  intern_free(&t);
}
END_TEST

static Suite *intern_suite(void) {
  Suite *s = suite_create("intern");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, one_copy_per_value);
  tcase_add_test(tc, the_last_reference_frees);
  tcase_add_test(tc, survives_growth_and_tombstones);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *r = srunner_create(intern_suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
