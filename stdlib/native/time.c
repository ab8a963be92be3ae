/* time.c — the native side of std/time (libmsl_time.so), called through
 * libffi by `extern fn` declarations in stdlib/std/time.ms.
 *
 * Each exported symbol is named exactly as its MSL function, and listed in
 * TIME_TABLE below: only what the table lists may be called without
 * --allow-ffi, and only as it says (SPEC 4).  A time is int64_t
 * microseconds since 1970-01-01T00:00:00Z, read in UTC on the proleptic
 * Gregorian calendar (the one io_format_time prints), with no leap seconds:
 * every day is 86,400 s.
 *
 * Every function is total: any int64_t, not only the years 1-9999 that
 * input times are limited to, gives a result without overflow.  Division
 * rounds toward minus infinity, so a time before 1970 lands on its own day.
 * The one result an int64_t cannot hold is the start of the day, week or
 * month that holds INT64_MIN (in the year -290308, 290,309 BC), which began
 * before INT64_MIN: those functions give INT64_MIN there. */
#include <stdint.h>

#include "native_table.h"

#pragma GCC visibility push(hidden)

/* The table this library publishes (SPEC 4): every function MSL may call
 * without --allow-ffi, with its MSL parameter and result types
 * (native_table.h). */
#define TIME_TABLE(F)                                 \
  F(day_of_week, int, 1, (time))                      \
  F(start_of_day, time, 1, (time))                    \
  F(start_of_week, time, 1, (time))                   \
  F(start_of_month, time, 1, (time))                  \
  F(days_between, int, 2, (time, time))               \
  F(business_days_between, int, 2, (time, time))

MSL_NATIVE_TABLE(TIME_TABLE)

#define US_PER_DAY INT64_C(86400000000)

/* a / b rounded toward minus infinity; b > 0. */
static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return a % b < 0 ? q - 1 : q;
}

/* a - b * floor_div(a, b), in [0, b); b > 0. */
static int64_t floor_mod(int64_t a, int64_t b) {
  int64_t r = a % b;
  return r < 0 ? r + b : r;
}

/* The day t falls on, counted from 1970-01-01 (day 0); within +-106,751,992. */
static int64_t day_of(int64_t t) {
  return floor_div(t, US_PER_DAY);
}

/* The time day begins, or INT64_MIN for a day that begins before it. */
static int64_t day_start(int64_t day) {
  return day < INT64_MIN / US_PER_DAY ? INT64_MIN : day * US_PER_DAY;
}

/* ISO weekday of day: Monday 1 .. Sunday 7; 1970-01-01 was a Thursday. */
static int64_t iso_weekday(int64_t day) {
  return floor_mod(day + 3, 7) + 1;
}

/* The day of the month (1-31) of day, by Howard Hinnant's civil_from_days:
 * counted in 400-year eras from 0000-03-01, so that the leap day ends a year. */
static int64_t day_of_month(int64_t day) {
  int64_t z = day + 719468;                  /* days since 0000-03-01 */
  int64_t era = floor_div(z, 146097);        /* 146,097 days in 400 years */
  int64_t doe = z - era * 146097;            /* day of the era, [0, 146096] */
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;   /* [0, 399] */
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  /* from March 1 */
  int64_t mp = (5 * doy + 2) / 153;          /* month from March, [0, 11] */
  return doy - (153 * mp + 2) / 5 + 1;
}

/* Monday-Friday days from 1969-12-29 (a Monday) up to day, not counting
 * day itself; negative before it.  The difference of two of these counts
 * the weekdays between them. */
static int64_t weekdays_before(int64_t day) {
  int64_t from_monday = day + 3;
  int64_t into_week = floor_mod(from_monday, 7);   /* 0 Monday .. 6 Sunday */
  return 5 * floor_div(from_monday, 7) + (into_week < 5 ? into_week : 5);
}

/* ISO day of the week: Monday 1 .. Sunday 7. */
MSL_EXPORT int64_t day_of_week(int64_t t) {
  return iso_weekday(day_of(t));
}

/* 00:00:00 of t's day. */
MSL_EXPORT int64_t start_of_day(int64_t t) {
  return day_start(day_of(t));
}

/* Monday 00:00:00 of t's ISO week. */
MSL_EXPORT int64_t start_of_week(int64_t t) {
  int64_t day = day_of(t);
  return day_start(day - (iso_weekday(day) - 1));
}

/* 00:00:00 of the first day of t's month. */
MSL_EXPORT int64_t start_of_month(int64_t t) {
  int64_t day = day_of(t);
  return day_start(day - (day_of_month(day) - 1));
}

/* Whole days (86,400 s) from a to b: (b - a) / 1d, truncated toward zero,
 * negative when b is before a.  b - a itself may not fit in an int64_t, so
 * the days and the remainders within a day are subtracted apart. */
MSL_EXPORT int64_t days_between(int64_t a, int64_t b) {
  int64_t days = day_of(b) - day_of(a);
  int64_t rest = floor_mod(b, US_PER_DAY) - floor_mod(a, US_PER_DAY);   /* within +-1d */
  if (days > 0 && rest < 0)
    return days - 1;
  if (days < 0 && rest > 0)
    return days + 1;
  return days;
}

/* Monday-Friday days d with day(a) <= d < day(b); when b's day is before
 * a's, minus those with day(b) <= d < day(a).  Times of day do not matter. */
MSL_EXPORT int64_t business_days_between(int64_t a, int64_t b) {
  return weekdays_before(day_of(b)) - weekdays_before(day_of(a));
}

#pragma GCC visibility pop
