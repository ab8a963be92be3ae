/* test_native_time.c — the std/time native library (stdlib/native/time.c),
 * called directly after dlopen("stdlib/native/libmsl_time.so") from the
 * repository root, as `make` builds it.
 *
 * Expected values are worked out by hand (weekdays from a calendar); the
 * sampled tests compare with glibc's gmtime/timegm over years 1-9999 and
 * with counting day by day. */
#include <check.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "native_symbol.h"

#define TIME_LIB "stdlib/native/libmsl_time.so"
#define US_PER_SECOND INT64_C(1000000)
#define US_PER_HOUR (3600 * US_PER_SECOND)
#define US_PER_DAY (24 * US_PER_HOUR)

/* The library's functions, loaded once by main before the tests run. */
static struct {
  int64_t (*day_of_week)(int64_t);
  int64_t (*start_of_day)(int64_t);
  int64_t (*start_of_week)(int64_t);
  int64_t (*start_of_month)(int64_t);
  int64_t (*days_between)(int64_t, int64_t);
  int64_t (*business_days_between)(int64_t, int64_t);
} tm_lib;

/* y-m-d hh:mm:ss UTC in microseconds, by timegm (64-bit time_t: year 1 works). */
static int64_t utc(int year, int month, int day, int hour, int minute, int second) {
  struct tm tm = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day,
                  .tm_hour = hour, .tm_min = minute, .tm_sec = second};
  return (int64_t)timegm(&tm) * US_PER_SECOND;
}

static int64_t date(int year, int month, int day) {
  return utc(year, month, day, 0, 0, 0);
}

/* ---- day_of_week ----------------------------------------------------------------- */

START_TEST(test_day_of_week_iso_numbers) {
  ck_assert_int_eq(tm_lib.day_of_week(date(2026, 1, 5)), 1);    /* Monday */
  ck_assert_int_eq(tm_lib.day_of_week(date(2026, 1, 1)), 4);    /* Thursday */
  ck_assert_int_eq(tm_lib.day_of_week(date(2026, 1, 2)), 5);    /* Friday */
  ck_assert_int_eq(tm_lib.day_of_week(date(2026, 1, 3)), 6);    /* Saturday */
  ck_assert_int_eq(tm_lib.day_of_week(date(2026, 1, 4)), 7);    /* Sunday */
  ck_assert_int_eq(tm_lib.day_of_week(utc(2026, 1, 4, 23, 59, 59) + 999999), 7);
  ck_assert_int_eq(tm_lib.day_of_week(0), 4);                   /* 1970-01-01: Thursday */
}
END_TEST

START_TEST(test_day_of_week_leap_years_and_bounds) {
  ck_assert_int_eq(tm_lib.day_of_week(date(2024, 2, 29)), 4);
  ck_assert_int_eq(tm_lib.day_of_week(date(2000, 2, 29)), 2);   /* 2000 is a leap year */
  ck_assert_int_eq(tm_lib.day_of_week(date(1900, 2, 28)), 3);   /* 1900 is not: */
  ck_assert_int_eq(tm_lib.day_of_week(date(1900, 3, 1)), 4);    /* the next day is March 1 */
  ck_assert_int_eq(tm_lib.day_of_week(date(1, 1, 1)), 1);       /* proleptic Gregorian */
  ck_assert_int_eq(tm_lib.day_of_week(date(9999, 12, 31)), 5);
}
END_TEST

START_TEST(test_day_of_week_before_1970) {
  ck_assert_int_eq(tm_lib.day_of_week(-1), 3);                  /* 1969-12-31T23:59:59.999999Z */
  ck_assert_int_eq(tm_lib.day_of_week(-US_PER_DAY), 3);         /* 1969-12-31T00:00:00Z */
  ck_assert_int_eq(tm_lib.day_of_week(-US_PER_DAY - 1), 2);
  ck_assert_int_eq(tm_lib.day_of_week(date(1969, 12, 29)), 1);
  ck_assert_int_eq(tm_lib.day_of_week(date(1969, 12, 28)), 7);
}
END_TEST

/* ---- start_of_day / start_of_week / start_of_month ---------------------------------- */

START_TEST(test_start_of_day) {
  ck_assert_int_eq(tm_lib.start_of_day(utc(2026, 1, 31, 9, 30, 0)), date(2026, 1, 31));
  ck_assert_int_eq(tm_lib.start_of_day(date(2026, 1, 31)), date(2026, 1, 31));
  ck_assert_int_eq(tm_lib.start_of_day(date(2026, 2, 1) - 1), date(2026, 1, 31));
  ck_assert_int_eq(tm_lib.start_of_day(0), 0);
  /* Before 1970 the day is rounded down, not toward 1970. */
  ck_assert_int_eq(tm_lib.start_of_day(-1), -US_PER_DAY);
  ck_assert_int_eq(tm_lib.start_of_day(-US_PER_DAY), -US_PER_DAY);
  ck_assert_int_eq(tm_lib.start_of_day(-US_PER_DAY - 1), -2 * US_PER_DAY);
  ck_assert_int_eq(tm_lib.start_of_day(utc(1, 1, 1, 12, 0, 0)), date(1, 1, 1));
  ck_assert_int_eq(tm_lib.start_of_day(date(10000, 1, 1) - 1), date(9999, 12, 31));
}
END_TEST

START_TEST(test_start_of_week_is_monday) {
  ck_assert_int_eq(tm_lib.start_of_week(utc(2026, 1, 1, 12, 0, 0)), date(2025, 12, 29));  /* across the year */
  ck_assert_int_eq(tm_lib.start_of_week(date(2026, 1, 5) - 1), date(2025, 12, 29));      /* Sunday's last µs */
  ck_assert_int_eq(tm_lib.start_of_week(date(2026, 1, 5)), date(2026, 1, 5));            /* Monday 00:00 */
  ck_assert_int_eq(tm_lib.start_of_week(utc(2026, 1, 5, 0, 0, 1)), date(2026, 1, 5));
  ck_assert_int_eq(tm_lib.start_of_week(utc(2024, 3, 2, 8, 0, 0)), date(2024, 2, 26));  /* over Feb 29 */
  ck_assert_int_eq(tm_lib.start_of_week(0), date(1969, 12, 29));
  ck_assert_int_eq(tm_lib.start_of_week(-1), date(1969, 12, 29));
  ck_assert_int_eq(tm_lib.start_of_week(date(1969, 12, 29) - 1), date(1969, 12, 22));
  ck_assert_int_eq(tm_lib.start_of_week(date(1, 1, 3)), date(1, 1, 1));
}
END_TEST

START_TEST(test_start_of_month) {
  ck_assert_int_eq(tm_lib.start_of_month(date(2024, 3, 1) - 1), date(2024, 2, 1));   /* Feb 29, 23:59:59.999999 */
  ck_assert_int_eq(tm_lib.start_of_month(date(2024, 3, 1)), date(2024, 3, 1));
  ck_assert_int_eq(tm_lib.start_of_month(date(2023, 3, 1) - 1), date(2023, 2, 1));   /* Feb 28 */
  ck_assert_int_eq(tm_lib.start_of_month(date(2000, 2, 29)), date(2000, 2, 1));
  ck_assert_int_eq(tm_lib.start_of_month(date(1900, 2, 28)), date(1900, 2, 1));
  ck_assert_int_eq(tm_lib.start_of_month(date(1900, 3, 1)), date(1900, 3, 1));
  ck_assert_int_eq(tm_lib.start_of_month(utc(2025, 12, 31, 23, 0, 0)), date(2025, 12, 1));
  ck_assert_int_eq(tm_lib.start_of_month(-1), date(1969, 12, 1));
  ck_assert_int_eq(tm_lib.start_of_month(date(1, 1, 15)), date(1, 1, 1));
  ck_assert_int_eq(tm_lib.start_of_month(date(10000, 1, 1) - 1), date(9999, 12, 1));
}
END_TEST

/* ---- days_between ----------------------------------------------------------------------- */

START_TEST(test_days_between_truncates_toward_zero) {
  int64_t t = utc(2026, 1, 1, 9, 0, 0);
  ck_assert_int_eq(tm_lib.days_between(t, t), 0);
  ck_assert_int_eq(tm_lib.days_between(t, t + US_PER_DAY - 1), 0);
  ck_assert_int_eq(tm_lib.days_between(t, t + US_PER_DAY), 1);
  ck_assert_int_eq(tm_lib.days_between(date(2026, 1, 1), utc(2026, 1, 3, 23, 0, 0)), 2);
  ck_assert_int_eq(tm_lib.days_between(utc(2026, 1, 3, 23, 0, 0), date(2026, 1, 1)), -2);
  ck_assert_int_eq(tm_lib.days_between(t + US_PER_DAY - 1, t), 0);
  ck_assert_int_eq(tm_lib.days_between(t + US_PER_DAY, t), -1);
  /* Whole 24-hour periods, not calendar days: 23:00 to 01:00 the next day is 0. */
  ck_assert_int_eq(tm_lib.days_between(utc(2026, 1, 1, 23, 0, 0), utc(2026, 1, 2, 1, 0, 0)), 0);
}
END_TEST

START_TEST(test_days_between_leap_years_and_before_1970) {
  ck_assert_int_eq(tm_lib.days_between(date(2024, 2, 28), date(2024, 3, 1)), 2);
  ck_assert_int_eq(tm_lib.days_between(date(2023, 2, 28), date(2023, 3, 1)), 1);
  ck_assert_int_eq(tm_lib.days_between(date(2024, 1, 1), date(2025, 1, 1)), 366);
  ck_assert_int_eq(tm_lib.days_between(date(1900, 1, 1), date(1901, 1, 1)), 365);
  ck_assert_int_eq(tm_lib.days_between(utc(1969, 12, 31, 12, 0, 0), utc(1970, 1, 1, 11, 59, 59)), 0);
  ck_assert_int_eq(tm_lib.days_between(utc(1969, 12, 31, 12, 0, 0), utc(1970, 1, 1, 12, 0, 0)), 1);
  ck_assert_int_eq(tm_lib.days_between(utc(1970, 1, 1, 12, 0, 0), utc(1969, 12, 31, 12, 0, 0)), -1);
  ck_assert_int_eq(tm_lib.days_between(utc(1969, 12, 31, 23, 0, 0), utc(1970, 1, 1, 1, 0, 0)), 0);
  ck_assert_int_eq(tm_lib.days_between(utc(1970, 1, 1, 1, 0, 0), utc(1969, 12, 31, 23, 0, 0)), 0);
  ck_assert_int_eq(tm_lib.days_between(-2 * US_PER_DAY - 1, -1), 2);
  ck_assert_int_eq(tm_lib.days_between(date(1, 1, 1), date(9999, 12, 31)), 3652058);
  ck_assert_int_eq(tm_lib.days_between(date(9999, 12, 31), date(1, 1, 1)), -3652058);
}
END_TEST

/* ---- business_days_between ------------------------------------------------------------- */

START_TEST(test_business_days_between) {
  int64_t mon = date(2026, 1, 5), fri = date(2026, 1, 9), sat = date(2026, 1, 10);
  ck_assert_int_eq(tm_lib.business_days_between(mon, mon), 0);
  ck_assert_int_eq(tm_lib.business_days_between(mon, utc(2026, 1, 5, 23, 59, 59)), 0);
  ck_assert_int_eq(tm_lib.business_days_between(utc(2026, 1, 5, 23, 0, 0), utc(2026, 1, 6, 1, 0, 0)), 1);
  ck_assert_int_eq(tm_lib.business_days_between(mon, fri), 4);                     /* Mon-Thu */
  ck_assert_int_eq(tm_lib.business_days_between(mon, date(2026, 1, 12)), 5);      /* a week */
  ck_assert_int_eq(tm_lib.business_days_between(fri, date(2026, 1, 12)), 1);      /* Friday only */
  ck_assert_int_eq(tm_lib.business_days_between(fri, sat), 1);
  ck_assert_int_eq(tm_lib.business_days_between(sat, date(2026, 1, 11)), 0);      /* Sat-Sun */
  ck_assert_int_eq(tm_lib.business_days_between(sat, date(2026, 1, 12)), 0);      /* Sat, Sun */
  ck_assert_int_eq(tm_lib.business_days_between(sat, date(2026, 1, 13)), 1);      /* Monday */
  ck_assert_int_eq(tm_lib.business_days_between(date(2026, 1, 1), date(2027, 1, 1)), 261);
}
END_TEST

START_TEST(test_business_days_between_backwards_is_negative) {
  int64_t mon = date(2026, 1, 5), fri = date(2026, 1, 9);
  ck_assert_int_eq(tm_lib.business_days_between(fri, mon), -4);
  ck_assert_int_eq(tm_lib.business_days_between(date(2026, 1, 12), fri), -1);
  ck_assert_int_eq(tm_lib.business_days_between(date(2026, 1, 12), date(2026, 1, 10)), 0);
  ck_assert_int_eq(tm_lib.business_days_between(utc(2026, 1, 6, 1, 0, 0), utc(2026, 1, 5, 23, 0, 0)), -1);
}
END_TEST

START_TEST(test_business_days_between_across_boundaries) {
  ck_assert_int_eq(tm_lib.business_days_between(date(2025, 12, 29), date(2026, 1, 5)), 5);   /* new year */
  ck_assert_int_eq(tm_lib.business_days_between(date(2024, 2, 26), date(2024, 3, 4)), 5);    /* Feb 29 */
  ck_assert_int_eq(tm_lib.business_days_between(date(2024, 2, 29), date(2024, 3, 1)), 1);
  ck_assert_int_eq(tm_lib.business_days_between(date(1969, 12, 29), date(1970, 1, 5)), 5);   /* 1970 */
  ck_assert_int_eq(tm_lib.business_days_between(date(1969, 12, 26), date(1969, 12, 29)), 1); /* Fri-Mon */
  ck_assert_int_eq(tm_lib.business_days_between(-1, 0), 1);   /* Wednesday 1969-12-31 */
  ck_assert_int_eq(tm_lib.business_days_between(0, -1), -1);
}
END_TEST

/* Every pair of days within five weeks of a few starting days, against
 * counting day by day (weekday from day_of_week, checked above). */
START_TEST(test_business_days_between_against_counting) {
  const int64_t bases[] = {date(2026, 1, 1), date(1969, 12, 20), date(1, 1, 1), date(9999, 11, 20)};
  for (size_t b = 0; b < sizeof bases / sizeof *bases; b++)
    for (int64_t i = 0; i < 35; i++)
      for (int64_t j = 0; j < 35; j++) {
        int64_t a = bases[b] + i * US_PER_DAY + 7 * US_PER_HOUR;
        int64_t z = bases[b] + j * US_PER_DAY + 13 * US_PER_HOUR;
        int64_t count = 0;
        for (int64_t d = i < j ? i : j; d < (i < j ? j : i); d++)
          if (tm_lib.day_of_week(bases[b] + d * US_PER_DAY) <= 5)
            count++;
        ck_assert_int_eq(tm_lib.business_days_between(a, z), (i <= j ? count : -count));
      }
}
END_TEST

/* ---- against gmtime, and the ends of int64_t ------------------------------------------- */

/* Deterministic samples over years 1-9999, against gmtime_r and timegm. */
START_TEST(test_agrees_with_gmtime_over_years_1_to_9999) {
  const int64_t first = date(1, 1, 1), last = date(10000, 1, 1) - 1;
  uint64_t state = 0x9E3779B97F4A7C15u;
  for (int n = 0; n < 200000; n++) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;   /* xorshift64 */
    int64_t t = first + (int64_t)(state % (uint64_t)(last - first + 1));
    time_t secs = (time_t)((t - (t % US_PER_SECOND + US_PER_SECOND) % US_PER_SECOND) / US_PER_SECOND);
    struct tm tm;
    ck_assert_ptr_nonnull(gmtime_r(&secs, &tm));
    ck_assert_int_eq(tm_lib.day_of_week(t), (tm.tm_wday == 0 ? 7 : tm.tm_wday));
    int64_t day = date(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    ck_assert_int_eq(tm_lib.start_of_day(t), day);
    ck_assert_int_eq(tm_lib.start_of_month(t), date(tm.tm_year + 1900, tm.tm_mon + 1, 1));
    ck_assert_int_eq(tm_lib.start_of_week(t), day - (tm.tm_wday == 0 ? 6 : tm.tm_wday - 1) * US_PER_DAY);
    ck_assert_int_eq(tm_lib.days_between(first, t), (t - first) / US_PER_DAY);
    ck_assert_int_eq(tm_lib.days_between(t, first), (first - t) / US_PER_DAY);
  }
}
END_TEST

/* Any int64_t gives the exact result, without overflow; only a start that
 * lies before INT64_MIN is INT64_MIN.  (The library is never instrumented,
 * so the sanitizers cannot see an overflow in it: exact values show there
 * was none.) */
START_TEST(test_the_ends_of_int64) {
  const int64_t day_min = -106751992, day_max = 106751991;   /* floor(INT64_MIN / 1d), ... */
  ck_assert_int_eq(tm_lib.day_of_week(INT64_MIN), 7);
  ck_assert_int_eq(tm_lib.day_of_week(INT64_MAX), 7);
  /* The day, week and month holding INT64_MIN began before it. */
  ck_assert_int_eq(tm_lib.start_of_day(INT64_MIN), INT64_MIN);
  ck_assert_int_eq(tm_lib.start_of_week(INT64_MIN), INT64_MIN);
  ck_assert_int_eq(tm_lib.start_of_month(INT64_MIN), INT64_MIN);
  ck_assert_int_eq(tm_lib.start_of_day((day_min + 1) * US_PER_DAY), (day_min + 1) * US_PER_DAY);
  ck_assert_int_eq(tm_lib.start_of_day((day_min + 1) * US_PER_DAY - 1), INT64_MIN);
  ck_assert_int_eq(tm_lib.start_of_day(INT64_MAX), day_max * US_PER_DAY);
  ck_assert_int_eq(tm_lib.start_of_week(INT64_MAX), INT64_C(9223371504000000000));
  ck_assert_int_eq(tm_lib.start_of_month(INT64_MAX), INT64_C(9223371244800000000));   /* 294247-01-01 */
  ck_assert_int_eq(tm_lib.days_between(INT64_MIN, INT64_MAX), 213503982);
  ck_assert_int_eq(tm_lib.days_between(INT64_MAX, INT64_MIN), -213503982);
  ck_assert_int_eq(tm_lib.days_between(INT64_MIN, INT64_MIN + 1), 0);
  ck_assert_int_eq(tm_lib.business_days_between(INT64_MIN, INT64_MAX), 152502845);
  ck_assert_int_eq(tm_lib.business_days_between(INT64_MAX, INT64_MIN), -152502845);
}
END_TEST

int main(void) {
  void *lib = dlopen(TIME_LIB, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "test_native_time: %s (run from the repository root after make)\n",
            dlerror());
    return EXIT_FAILURE;
  }
  if (!load_symbol(lib, "day_of_week", &tm_lib.day_of_week) ||
      !load_symbol(lib, "start_of_day", &tm_lib.start_of_day) ||
      !load_symbol(lib, "start_of_week", &tm_lib.start_of_week) ||
      !load_symbol(lib, "start_of_month", &tm_lib.start_of_month) ||
      !load_symbol(lib, "days_between", &tm_lib.days_between) ||
      !load_symbol(lib, "business_days_between", &tm_lib.business_days_between)) {
    dlclose(lib);
    return EXIT_FAILURE;
  }

  Suite *s = suite_create("native_time");
  TCase *tc = tcase_create("time");
  tcase_add_test(tc, test_day_of_week_iso_numbers);
  tcase_add_test(tc, test_day_of_week_leap_years_and_bounds);
  tcase_add_test(tc, test_day_of_week_before_1970);
  tcase_add_test(tc, test_start_of_day);
  tcase_add_test(tc, test_start_of_week_is_monday);
  tcase_add_test(tc, test_start_of_month);
  tcase_add_test(tc, test_days_between_truncates_toward_zero);
  tcase_add_test(tc, test_days_between_leap_years_and_before_1970);
  tcase_add_test(tc, test_business_days_between);
  tcase_add_test(tc, test_business_days_between_backwards_is_negative);
  tcase_add_test(tc, test_business_days_between_across_boundaries);
  tcase_add_test(tc, test_business_days_between_against_counting);
  tcase_add_test(tc, test_agrees_with_gmtime_over_years_1_to_9999);
  tcase_add_test(tc, test_the_ends_of_int64);
  suite_add_tcase(s, tc);

  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  dlclose(lib);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
