/* io_cells.c — the cell grammar of SPEC section 7, in one place: times,
 * integers, floats, booleans and durations as they appear in CSV cells,
 * JSON strings and `--as-of`, and the one way times are written back.
 *
 * Every parser takes a (pointer, length) pair, needs no NUL terminator and
 * accepts the whole text or nothing: no leading or trailing white space, no
 * trailing junk. */
#include "io/io_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_SECOND INT64_C(1000000)
#define SECONDS_PER_DAY INT64_C(86400)
#define US_PER_DAY (SECONDS_PER_DAY * US_PER_SECOND)

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil); exact for negative years too. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse: the civil date of a day number. */
static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

static bool is_leap_year(unsigned y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m) {
  static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* n decimal digits at s, as a number; false if any is not a digit. */
static bool fixed_digits(const char *s, int n, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < n; i++) {
    unsigned d = (unsigned)(unsigned char)s[i] - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool io_parse_int(const char *s, size_t len, int64_t *out) {
  size_t i = 0;
  bool negative = false;
  if (len > 0 && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    i = 1;
  }
  if (i == len) return false;
  const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  uint64_t v = 0;
  for (; i < len; i++) {
    unsigned d = (unsigned)(unsigned char)s[i] - '0';
    if (d > 9) return false;
    if (v > (limit - d) / 10) return false;
    v = v * 10 + d;
  }
  if (!negative) *out = (int64_t)v;
  else if (v == (uint64_t)INT64_MAX + 1) *out = INT64_MIN;
  else *out = -(int64_t)v;
  return true;
}

/* The zone after a time of day: nothing (UTC), Z or z right after the
 * seconds, or, after at most one space, UTC (upper case only) or an offset
 * +HH, +HHMM or +HH:MM (or -).  The offset is local time minus UTC. */
static bool parse_zone(const char *s, size_t len, int64_t *offset_seconds) {
  *offset_seconds = 0;
  if (len == 0) return true;
  if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) return true;
  if (s[0] == ' ') {
    s++;
    len--;
  }
  if (len == 3 && memcmp(s, "UTC", 3) == 0) return true;
  if (len < 3 || (s[0] != '+' && s[0] != '-')) return false;
  unsigned hour, minute = 0;
  if (!fixed_digits(s + 1, 2, &hour)) return false;
  if (len == 6) {
    if (s[3] != ':' || !fixed_digits(s + 4, 2, &minute)) return false;
  } else if (len == 5) {
    if (!fixed_digits(s + 3, 2, &minute)) return false;
  } else if (len != 3) {
    return false;
  }
  if (hour > 23 || minute > 59) return false;
  int64_t offset = hour * 3600 + minute * 60;
  *offset_seconds = s[0] == '-' ? -offset : offset;
  return true;
}

/* A date 2026-01-31, or a date, 'T' (or 't', or one space, as databases
 * export), HH:MM:SS, an optional fraction of 1 to 9 digits (truncated to
 * microseconds) and the zone of parse_zone. */
static bool parse_iso_time(io_time_cache *cache, const char *s, size_t len, int64_t *us) {
  int64_t seconds;
  bool plain_utc = len == 20 && s[19] == 'Z';   /* YYYY-MM-DDTHH:MM:SSZ */
  if (cache && cache->valid && memcmp(s, cache->date, 10) == 0) {
    seconds = cache->day_seconds;
  } else {
    unsigned year, month, day;
    if (len < 10 || s[4] != '-' || s[7] != '-') return false;
    if (!fixed_digits(s, 4, &year) || !fixed_digits(s + 5, 2, &month) ||
        !fixed_digits(s + 8, 2, &day))
      return false;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return false;
    seconds = days_from_civil(year, month, day) * SECONDS_PER_DAY;
    if (cache) {
      memcpy(cache->date, s, 10);
      cache->day_seconds = seconds;
      cache->valid = true;
    }
  }
  int64_t fraction_us = 0;
  if (len > 10) {
    unsigned hour, minute, second;
    if (len < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':')
      return false;
    if (!fixed_digits(s + 11, 2, &hour) || !fixed_digits(s + 14, 2, &minute) ||
        !fixed_digits(s + 17, 2, &second))
      return false;
    if (hour > 23 || minute > 59 || second > 59) return false;
    seconds += hour * 3600 + minute * 60 + second;
    size_t i = 19;
    if (i < len && s[i] == '.') {
      size_t start = ++i;
      int64_t scale = US_PER_SECOND;
      while (i < len && (unsigned)(unsigned char)s[i] - '0' <= 9) {
        if (i - start == 9) return false;   /* beyond nanoseconds */
        scale /= 10;                        /* 0 from the seventh digit: truncated */
        fraction_us += (s[i] - '0') * scale;
        i++;
      }
      if (i == start) return false;
    }
    int64_t offset;
    if (!parse_zone(s + i, len - i, &offset)) return false;
    seconds -= offset;
  }
  int64_t t = seconds * US_PER_SECOND + fraction_us;
  if (t < IO_TIME_MIN_US || t > IO_TIME_MAX_US) return false;   /* an offset crossed year 0 or 9999 */
  if (plain_utc && cache && s[10] == 'T') {
    memcpy(cache->minute, s, 17);
    cache->minute_seconds = seconds - (s[17] - '0') * 10 - (s[18] - '0');
    cache->minute_valid = true;
  }
  *us = t;
  return true;
}

bool io_parse_time_parts(io_time_cache *cache, const char *s, size_t len, int64_t *us) {
  if (len >= 10 && s[4] == '-') return parse_iso_time(cache, s, len, us);
  int64_t seconds;
  if (!io_parse_int(s, len, &seconds)) return false;
  /* years 1 to 9999 only: milliseconds given as seconds are refused */
  if (seconds < IO_EPOCH_MIN_SECONDS || seconds > IO_EPOCH_MAX_SECONDS) return false;
  *us = seconds * US_PER_SECOND;
  return true;
}

bool io_parse_time(const char *s, size_t len, int64_t *us) {
  return io_parse_time_cached(NULL, s, len, us);
}

/* [+-] digits [. digits] [e [+-] digits], or [+-] . digits [exponent]:
 * at least one mantissa digit; no hex, no NaN, no infinity. */
static bool is_decimal_number(const char *s, size_t len) {
  size_t i = 0, digits = 0;
  if (i < len && (s[i] == '+' || s[i] == '-')) i++;
  while (i < len && (unsigned)(unsigned char)s[i] - '0' <= 9) i++, digits++;
  if (i < len && s[i] == '.') {
    i++;
    while (i < len && (unsigned)(unsigned char)s[i] - '0' <= 9) i++, digits++;
  }
  if (digits == 0) return false;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    size_t exponent_start = i;
    while (i < len && (unsigned)(unsigned char)s[i] - '0' <= 9) i++;
    if (i == exponent_start) return false;
  }
  return i == len;
}

bool io_parse_float(const char *s, size_t len, double *out) {
  /* The grammar check rules out everything strtod would accept beyond
   * SPEC's numbers (hex, "nan", "inf", leading space); the bounded copy
   * gives strtod the NUL terminator it needs. */
  char copy[320];
  if (len >= sizeof copy || !is_decimal_number(s, len)) return false;
  memcpy(copy, s, len);
  copy[len] = '\0';
  char *end;
  errno = 0;
  double v = strtod(copy, &end);
  if (end != copy + len) return false;   /* e.g. a locale with another decimal point */
  if (!isfinite(v)) return false;        /* overflow: 1e999 */
  *out = v;                              /* underflow rounds to 0 or a subnormal: fine */
  return true;
}

bool io_parse_bool(const char *s, size_t len, bool *out) {
  if (len == 4 && memcmp(s, "true", 4) == 0) {
    *out = true;
    return true;
  }
  if (len == 5 && memcmp(s, "false", 5) == 0) {
    *out = false;
    return true;
  }
  return false;
}

bool io_parse_duration(const char *s, size_t len, int64_t *us) {
  int64_t unit_us = 0;
  if (len > 0) {
    switch (s[len - 1]) {
      case 's': unit_us = US_PER_SECOND; break;
      case 'm': unit_us = 60 * US_PER_SECOND; break;
      case 'h': unit_us = 3600 * US_PER_SECOND; break;
      case 'd': unit_us = US_PER_DAY; break;
      case 'w': unit_us = 7 * US_PER_DAY; break;
      default: break;
    }
  }
  if (unit_us != 0) {
    len--;
    /* a duration literal has no sign, as in a rule file (-1h is bad) */
    if (len > 0 && (s[0] == '+' || s[0] == '-')) return false;
  } else {
    unit_us = US_PER_SECOND;   /* integer seconds, which may carry a sign */
  }
  int64_t count;
  if (!io_parse_int(s, len, &count)) return false;
  if (count > INT64_MAX / unit_us || count < INT64_MIN / unit_us) return false;
  *us = count * unit_us;
  return true;
}

static char *put_digits(char *p, unsigned value, int width) {
  for (int i = width - 1; i >= 0; i--) {
    p[i] = (char)('0' + value % 10);
    value /= 10;
  }
  return p + width;
}

int io_format_time(int64_t us, char *buf) {
  /* Floor division, so instants before 1970 land on the right day. */
  int64_t days = us / US_PER_DAY, rem = us % US_PER_DAY;
  if (rem < 0) {
    days--;
    rem += US_PER_DAY;
  }
  int64_t year;
  unsigned month, day;
  civil_from_days(days, &year, &month, &day);
  unsigned second_of_day = (unsigned)(rem / US_PER_SECOND);
  unsigned fraction = (unsigned)(rem % US_PER_SECOND);

  char *p = buf;
  if (year < 0) {
    *p++ = '-';
    year = -year;
  }
  if (year > 9999) {   /* only from times the loaders never produce */
    char digits[24];
    int n = 0;
    for (int64_t y = year; y > 0; y /= 10) digits[n++] = (char)('0' + y % 10);
    while (n > 0) *p++ = digits[--n];
  } else {
    p = put_digits(p, (unsigned)year, 4);
  }
  *p++ = '-';
  p = put_digits(p, month, 2);
  *p++ = '-';
  p = put_digits(p, day, 2);
  *p++ = 'T';
  p = put_digits(p, second_of_day / 3600, 2);
  *p++ = ':';
  p = put_digits(p, second_of_day / 60 % 60, 2);
  *p++ = ':';
  p = put_digits(p, second_of_day % 60, 2);
  if (fraction != 0) {
    *p++ = '.';
    p = put_digits(p, fraction, 6);
  }
  *p++ = 'Z';
  *p = '\0';
  return (int)(p - buf);
}
