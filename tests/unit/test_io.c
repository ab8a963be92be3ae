/* test_io.c — the event and account loaders: cell grammar, CSV, JSON
 * Lines, gzip, stdin, chunk boundaries, io_merge and io_sorter. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "core/util.h"
#include "io/io.h"
#include "io/io_internal.h"

#define S(lit) lit, sizeof(lit) - 1
#define SEC INT64_C(1000000)
#define T_2026_01_31 (INT64_C(1769817600) * SEC)

/* ---- a schema for every test ------------------------------------------------------ */

static const io_field_schema login_fields[] = {{"user", VALUE_STRING, false, {0}}};
static const io_field_schema typed_fields[] = {
    {"n", VALUE_INT, false, {0}},
    {"x", VALUE_FLOAT, true, {.f = 1.5}},
    {"ok", VALUE_BOOL, true, {.b = true}},
    {"s", VALUE_STRING, true, {.s = {"dflt", 4}}},
    {"at", VALUE_TIME, true, {.i = 7}},
    {"d", VALUE_DURATION, true, {.i = 86400 * SEC}},
};
static const io_field_schema account_fields[] = {
    {"plan", VALUE_STRING, false, {0}},
    {"seats", VALUE_INT, true, {.i = 0}},
};
enum { LOGIN, TYPED, PING };
static const io_event_schema event_schemas[] = {
    {"login", 1, login_fields},
    {"typed", 6, typed_fields},
    {"ping", 0, NULL},
};
static const io_schema schema = {.nevents = 3, .events = event_schemas, .naccount_fields = 2, .account_fields = account_fields};

/* ---- helpers ------------------------------------------------------------------------ */

static char tmpdir[256];

static void make_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/msl-test-io-XXXXXX", base && *base ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

/* Writes text to tmpdir/name; returns the path (static storage per call site). */
static const char *write_file(const char *name, const char *text, size_t len) {
  static char paths[16][320];
  static int next;
  char *path = paths[next++ % 16];
  snprintf(path, 320, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(text, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
  return path;
}

static const char *write_text(const char *name, const char *text) {
  return write_file(name, text, strlen(text));
}

static const char *write_gz(const char *name, const char *text, size_t len) {
  static char path[320];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  gzFile gz = gzopen(path, "wb");
  ck_assert_ptr_nonnull(gz);
  ck_assert_int_eq(gzwrite(gz, text, (unsigned)len), (int)len);
  ck_assert_int_eq(gzclose(gz), Z_OK);
  return path;
}

static io_reader *open_text(const char *text, size_t len, io_format fmt, bool accounts,
                            size_t buffer_size, size_t max_record, io_error *err) {
  io_options opts = {.buffer_size = buffer_size, .max_record = max_record, .data = text,
                     .data_len = len};
  return io_reader_open(&schema, "mem", fmt, accounts, &opts, err);
}

static io_reader *csv(const char *text, io_error *err) {
  io_reader *r = open_text(text, strlen(text), IO_FORMAT_CSV, false, 0, 0, err);
  ck_assert_msg(r != NULL, "open failed: %s", err->reason);
  return r;
}

static io_reader *jsonl(const char *text, io_error *err) {
  io_reader *r = open_text(text, strlen(text), IO_FORMAT_JSONL, false, 0, 0, err);
  ck_assert_msg(r != NULL, "open failed: %s", err->reason);
  return r;
}

static bool str_is(value_str s, const char *want) {
  return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

#define ck_assert_str(s, want) \
  ck_assert_msg(str_is((s), (want)), "got \"%.*s\", want \"%s\"", (int)(s).len, (s).p, (want))

static void expect_ok(io_reader *r, io_event *ev, io_error *err) {
  int st = io_events_next(r, ev, err);
  ck_assert_msg(st == IO_OK, "status %d: %s (line %lld)", st, err->reason, (long long)err->line);
}

static void expect_bad(io_reader *r, io_event *ev, io_error *err, int64_t line, const char *reason) {
  int st = io_events_next(r, ev, err);
  ck_assert_msg(st == IO_BAD_ROW, "status %d, want a bad row (%s)", st, reason);
  ck_assert_msg(strstr(err->reason, reason) != NULL, "reason \"%s\" lacks \"%s\"", err->reason,
                reason);
  ck_assert_int_eq(err->line, line);
  ck_assert_int_eq(err->io_errno, 0);
  ck_assert_str_eq(err->file, "mem");
}

static void expect_eof(io_reader *r, io_event *ev, io_error *err) {
  int st = io_events_next(r, ev, err);
  ck_assert_msg(st == IO_EOF, "status %d, want EOF (%s)", st, st == IO_BAD_ROW ? err->reason : "");
}

/* Appends one line describing a record (or a bad row) to a growing text,
 * to compare whole readings. */
typedef struct dump {
  char *text;
  size_t len, cap;
} dump;

static void dump_printf(dump *d, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (d->len + (size_t)n + 1 > d->cap) {
    d->cap = (d->len + (size_t)n + 1) * 2;
    d->text = realloc(d->text, d->cap);
    ck_assert_ptr_nonnull(d->text);
  }
  va_start(ap, fmt);
  vsnprintf(d->text + d->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  d->len += (size_t)n;
}

static void dump_bytes(dump *d, const char *p, size_t n) {
  if (d->len + n + 1 > d->cap) {
    d->cap = (d->len + n + 1) * 2;
    d->text = realloc(d->text, d->cap);
    ck_assert_ptr_nonnull(d->text);
  }
  memcpy(d->text + d->len, p, n);
  d->len += n;
  d->text[d->len] = 0;
}

static void dump_event(dump *d, const io_event *ev) {
  dump_printf(d, "%s:%lld %.*s t=%lld type=%d", ev->file, (long long)ev->line, (int)ev->account.len,
              ev->account.p, (long long)ev->time, ev->type);
  if (IO_IS_CONTROL(ev->type))
    dump_printf(d, " ms=%.*s pb=%.*s", (int)ev->milestone.len, ev->milestone.p,
                (int)ev->playbook.len, ev->playbook.p);
  if (ev->type >= 0) {
    const io_event_schema *es = &schema.events[ev->type];
    for (int f = 0; f < es->nfields; f++) {
      const value_data *v = &ev->values[f];
      switch (es->fields[f].type) {
        case VALUE_BOOL: dump_printf(d, " %s", v->b ? "true" : "false"); break;
        case VALUE_FLOAT: dump_printf(d, " %.17g", v->f); break;
        case VALUE_STRING: dump_printf(d, " [%.*s]", (int)v->s.len, v->s.p); break;
        default: dump_printf(d, " %lld", (long long)v->i); break;
      }
    }
  }
  dump_printf(d, "\n");
}

/* Every row's event or bad row (its line, reason and, with_raw, its text). */
static char *dump_reader(io_reader *r, bool with_raw) {
  dump d = {0};
  io_event ev;
  io_error err;
  for (;;) {
    int st = io_events_next(r, &ev, &err);
    if (st == IO_EOF) break;
    if (st == IO_OK) dump_event(&d, &ev);
    else if (st == IO_BAD_ROW && with_raw)
      dump_printf(&d, "BAD %lld %s [%.*s]\n", (long long)err.line, err.reason, (int)err.raw_len,
                  err.raw);
    else if (st == IO_BAD_ROW)
      dump_printf(&d, "BAD %lld %s\n", (long long)err.line, err.reason);
    else
      ck_abort_msg("failed: %s", err.reason);
  }
  dump_printf(&d, "EOF\n");
  return d.text;
}

/* ---- cells: time -------------------------------------------------------------------- */

static int64_t parse_time_ok(const char *s) {
  int64_t us = -12345;
  ck_assert_msg(io_parse_time(s, strlen(s), &us), "rejected time \"%s\"", s);
  return us;
}

static void parse_time_bad(const char *s) {
  int64_t us = -12345;
  ck_assert_msg(!io_parse_time(s, strlen(s), &us), "accepted time \"%s\"", s);
  ck_assert_int_eq(us, -12345);
}

START_TEST(time_iso_forms) {
  ck_assert_int_eq(parse_time_ok("2026-01-31"), T_2026_01_31);
  ck_assert_int_eq(parse_time_ok("2026-01-31T09:30:00Z"), INT64_C(1769851800) * SEC);
  ck_assert_int_eq(parse_time_ok("2026-01-31T09:30:00z"), INT64_C(1769851800) * SEC);
  ck_assert_int_eq(parse_time_ok("2026-01-31t09:30:00Z"), INT64_C(1769851800) * SEC);
  ck_assert_int_eq(parse_time_ok("2026-01-31T09:30:00.5Z"), INT64_C(1769851800) * SEC + 500000);
  ck_assert_int_eq(parse_time_ok("2026-01-31T09:30:00.123456Z"),
                   INT64_C(1769851800) * SEC + 123456);
  ck_assert_int_eq(parse_time_ok("2026-01-31T09:30:00.000001Z"), INT64_C(1769851800) * SEC + 1);
  ck_assert_int_eq(parse_time_ok("2026-01-31T11:30:00+02:00"), INT64_C(1769851800) * SEC);
  ck_assert_int_eq(parse_time_ok("2026-01-31T04:00:00-05:30"), INT64_C(1769851800) * SEC);
  ck_assert_int_eq(parse_time_ok("2026-01-31T09:30:00.25-00:00"),
                   INT64_C(1769851800) * SEC + 250000);
  ck_assert_int_eq(parse_time_ok("2026-01-31T00:30:00+01:00"), T_2026_01_31 - 1800 * SEC);
  ck_assert_int_eq(parse_time_ok("1970-01-01"), 0);
  ck_assert_int_eq(parse_time_ok("1969-12-31T23:59:59Z"), -SEC);
  ck_assert_int_eq(parse_time_ok("0001-01-01"), INT64_C(-62135596800) * SEC);
  ck_assert_int_eq(parse_time_ok("0000-01-01"), INT64_C(-62167219200) * SEC);
  ck_assert_int_eq(parse_time_ok("9999-12-31T23:59:59.999999Z"),
                   INT64_C(253402300799) * SEC + 999999);
}
END_TEST

START_TEST(time_leap_years) {
  ck_assert_int_eq(parse_time_ok("2024-02-29"), INT64_C(1709164800) * SEC);
  ck_assert_int_eq(parse_time_ok("2000-02-29") + 86400 * SEC, parse_time_ok("2000-03-01"));
  ck_assert_int_eq(parse_time_ok("2400-02-29") + 86400 * SEC, parse_time_ok("2400-03-01"));
  parse_time_bad("2023-02-29");
  parse_time_bad("1900-02-29");
  parse_time_bad("2100-02-29");
  ck_assert_int_eq(parse_time_ok("2023-02-28") + 86400 * SEC, parse_time_ok("2023-03-01"));
}
END_TEST

START_TEST(time_epoch_seconds) {
  ck_assert_int_eq(parse_time_ok("0"), 0);
  ck_assert_int_eq(parse_time_ok("1769817600"), T_2026_01_31);
  ck_assert_int_eq(parse_time_ok("+1769817600"), T_2026_01_31);
  ck_assert_int_eq(parse_time_ok("-1"), -SEC);
  ck_assert_int_eq(parse_time_ok("2026"), 2026 * SEC);   /* digits only: epoch seconds */
  ck_assert_int_eq(parse_time_ok("253402300799"), INT64_C(253402300799) * SEC);
  ck_assert_int_eq(parse_time_ok("-62135596800"), INT64_C(-62135596800) * SEC);   /* year 1 */
  parse_time_bad("253402300800");    /* year 10000 */
  parse_time_bad("-62135596801");    /* before year 1 */
  parse_time_bad("-62167219200");    /* year 0 */
  parse_time_bad("1769817600000");   /* milliseconds given as seconds */
  parse_time_bad("+1769817600000");
  parse_time_bad("99999999999999999999");
  parse_time_bad("1769817600.5");    /* CSV epoch seconds are integers */
  parse_time_bad("1e9");
}
END_TEST

/* The forms databases export (SPEC 7): a space for 'T', offsets +HH and
 * +HHMM, one space before an offset or UTC, no offset meaning UTC, and a
 * fraction of up to 9 digits truncated to microseconds. */
START_TEST(time_database_forms) {
  const int64_t t = INT64_C(1769851800) * SEC;   /* 2026-01-31T09:30:00Z */
  ck_assert_int_eq(parse_time_ok("2026-01-02 10:00:00"), INT64_C(1767348000) * SEC);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31T09:30:00"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31t09:30:00"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00Z"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00z"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00+00"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00-00"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 11:30:00+02"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 04:30:00-05"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00.000 +0000"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 11:00:00+0130"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 04:00:00 -0530"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 11:30:00 +02"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31T11:30:00 +02:00"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00.25 UTC"), t + 250000);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00UTC"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31T09:30:00 UTC"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00.1234567"), t + 123456);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00.12345678Z"), t + 123456);
  ck_assert_int_eq(parse_time_ok("2026-01-31 09:30:00.999999999+00"), t + 999999);
  ck_assert_int_eq(parse_time_ok("2026-01-31T09:30:00.000000001Z"), t);
  ck_assert_int_eq(parse_time_ok("2026-01-31 00:30:00+01"), T_2026_01_31 - 1800 * SEC);
  const char *bad[] = {
      "2026-01-31 09:30",               /* seconds are required */
      "2026-01-31 09:30Z", "2026-01-31 09:30 UTC",
      "2026-01-31 09:30:00 Z",          /* no space before Z */
      "2026-01-31 09:30:00 z",
      "2026-01-31 09:30:00 utc", "2026-01-31 09:30:00 Utc", "2026-01-31 09:30:00utc",
      "2026-01-31 09:30:00  +00",       /* one space at most */
      "2026-01-31 09:30:00  UTC", "2026-01-31  09:30:00", "2026-01-31 09:30:00 ",
      "2026-01-31 09:30:00.1234567890",   /* ten fraction digits */
      "2026-01-31 09:30:00.", "2026-01-31 09:30:00. UTC",
      "2026-01-31 09:30:00+0", "2026-01-31 09:30:00+000", "2026-01-31 09:30:00+00000",
      "2026-01-31 09:30:00+00:0", "2026-01-31 09:30:00+0:00", "2026-01-31 09:30:00+24",
      "2026-01-31 09:30:00+2400", "2026-01-31 09:30:00+0160", "2026-01-31 09:30:00+01-00",
      "2026-01-31 09:30:00 +", "2026-01-31 09:30:00+", "2026-01-31 09:30:00 GMT",
      "2026-01-31 09:30:00 UTC+00", "2026-01-31 09:30:00Z+00", "2026-01-31 09:30:00+00Z",
      "2026-01-31 9:30:00", "2026-01-31_09:30:00", "2026-01-31Z", "2026-01-31 UTC",
      "2026-01-31+00", "0000-01-01 00:00:00+01", "9999-12-31 23:59:59 -01",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) parse_time_bad(bad[i]);
}
END_TEST

START_TEST(time_bad_forms) {
  const char *bad[] = {
      "", " ", "x", "2026-13-01", "2026-00-10", "2026-01-00", "2026-01-32", "2026-04-31",
      "2026-1-31", "26-01-31", "2026/01/31", "2026-01-31 ", " 2026-01-31", "2026-01-31T",
      "2026-01-31T09:30Z", "2026-01-31T24:00:00Z", "2026-01-31T23:60:00Z",
      "2026-01-31T23:59:60Z", "2026-01-31T09:30:00.Z", "2026-01-31T09:30:00.1234567890Z",
      "2026-01-31T09:30:00+2:00", "2026-01-31T09:30:00+24:00",
      "2026-01-31T09:30:00+01:60", "2026-01-31T09:30:00ZZ", "2026-01-31T09:30:00Z ",
      "2026-01-31X09:30:00Z", "2026-01-31T09:30:00 Z", "2026-01-31T09:30:00utc",
      "2026-01-31T9:30:00Z", "2026-01-31T09:30:0aZ", "abcd-01-31", "2026-ab-31",
      "2026-01-31T09:30:00+01:00x", "--1", "+", "-", "1 ", " 1", "1.", "0000-01-01T00:00:00+01:00",
      "9999-12-31T23:59:59-01:00",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) parse_time_bad(bad[i]);
  int64_t us;
  ck_assert(!io_parse_time("2026-01-31\0", 11, &us));   /* an embedded NUL */
  ck_assert(io_parse_time("2026-01-31junk", 10, &us));  /* only len bytes count */
  ck_assert_int_eq(us, T_2026_01_31);
}
END_TEST

START_TEST(time_cache_matches_plain_parse) {
  /* The cached date is only reused for the same ten bytes, the cached
   * minute for the same seventeen. */
  io_time_cache cache = {0};
  const char *times[] = {"2026-01-31T09:30:00Z", "2026-01-31T10:00:00Z", "2026-01-31",
                         "2026-01-31 11:00:00 +0130", "2026-01-31 25:00:00 UTC",
                         "2026-02-01T00:00:01Z", "2026-02-31T00:00:00Z", "2026-02-01T00:00:02Z",
                         "1769817600", "2026-01-31T25:00:00Z",
                         /* the cached minute: only its seconds change, checked as ever */
                         "2026-02-01T00:00:59Z", "2026-02-01T00:00:60Z", "2026-02-01T00:00:6xZ",
                         "2026-02-01T00:00:05z", "2026-02-01T00:00:05+01", "2026-02-01t00:00:07Z",
                         "2026-02-01T00:00:08Z", "2026-02-01T00:01:08Z", "2026-02-01T00:00:09.5Z",
                         "9999-12-31T23:59:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
                         "0001-01-01T00:00:30Z"};
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
    int64_t a = 1, b = 2;
    bool ok_plain = io_parse_time(times[i], strlen(times[i]), &a);
    bool ok_cached = io_parse_time_cached(&cache, times[i], strlen(times[i]), &b);
    ck_assert_int_eq(ok_plain, ok_cached);
    if (ok_plain) ck_assert_int_eq(a, b);
  }
}
END_TEST

/* ---- cells: format ------------------------------------------------------------------ */

static const char *format(int64_t us) {
  static char buf[32];
  int n = io_format_time(us, buf);
  ck_assert_int_eq(n, (int)strlen(buf));
  return buf;
}

START_TEST(time_format) {
  ck_assert_str_eq(format(0), "1970-01-01T00:00:00Z");
  ck_assert_str_eq(format(INT64_C(1769851800) * SEC), "2026-01-31T09:30:00Z");
  ck_assert_str_eq(format(INT64_C(1769851800) * SEC + 500000), "2026-01-31T09:30:00.500000Z");
  ck_assert_str_eq(format(INT64_C(1769851800) * SEC + 1), "2026-01-31T09:30:00.000001Z");
  ck_assert_str_eq(format(-1), "1969-12-31T23:59:59.999999Z");
  ck_assert_str_eq(format(-SEC), "1969-12-31T23:59:59Z");
  ck_assert_str_eq(format(-86400 * SEC), "1969-12-31T00:00:00Z");
  ck_assert_str_eq(format(INT64_C(-62135596800) * SEC), "0001-01-01T00:00:00Z");
  ck_assert_str_eq(format(INT64_C(-62167219200) * SEC), "0000-01-01T00:00:00Z");
  ck_assert_str_eq(format(INT64_C(-62167219200) * SEC - SEC), "-0001-12-31T23:59:59Z");
  ck_assert_str_eq(format(INT64_C(253402300799) * SEC), "9999-12-31T23:59:59Z");
  ck_assert_str_eq(format(INT64_C(253402300800) * SEC), "10000-01-01T00:00:00Z");
  ck_assert_str_eq(format(INT64_C(1709164800) * SEC), "2024-02-29T00:00:00Z");
  /* the extremes do not overflow and fit the 32-byte buffer */
  ck_assert_str_eq(format(INT64_MAX), "294247-01-10T04:00:54.775807Z");
  ck_assert_str_eq(format(INT64_MIN), "-290308-12-21T19:59:05.224192Z");
}
END_TEST

START_TEST(time_format_round_trip) {
  /* Every instant in the accepted range, sampled, reads back the same. */
  uint64_t state = 88172645463325252u;
  const int64_t lo = IO_TIME_MIN_US, span = IO_TIME_MAX_US - IO_TIME_MIN_US;
  for (int i = 0; i < 50000; i++) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    int64_t us = lo + (int64_t)(state % (uint64_t)span);
    if (i % 3 == 0) us -= us % SEC;   /* whole seconds too */
    char buf[32];
    int n = io_format_time(us, buf);
    int64_t back;
    ck_assert_msg(io_parse_time(buf, (size_t)n, &back), "cannot read back %s", buf);
    ck_assert_int_eq(back, us);
  }
  /* the first and last days of every month of a leap and a common year */
  for (int year = 2023; year <= 2024; year++)
    for (int month = 1; month <= 12; month++) {
      char date[32];
      snprintf(date, sizeof date, "%04d-%02d-01", year, month);
      int64_t first = parse_time_ok(date);
      char buf[32];
      io_format_time(first - 1, buf);
      int64_t back;
      ck_assert(io_parse_time(buf, strlen(buf), &back));
      ck_assert_int_eq(back, first - 1);
    }
}
END_TEST

/* ---- cells: numbers, bools, durations --------------------------------------------- */

START_TEST(int_cells) {
  int64_t v;
  struct { const char *s; int64_t want; } good[] = {
      {"0", 0}, {"-0", 0}, {"+7", 7}, {"007", 7}, {"-42", -42},
      {"9223372036854775807", INT64_MAX}, {"-9223372036854775808", INT64_MIN},
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    ck_assert_msg(io_parse_int(good[i].s, strlen(good[i].s), &v), "%s", good[i].s);
    ck_assert_int_eq(v, good[i].want);
  }
  const char *bad[] = {"", "-", "+", "1.0", "1e3", " 1", "1 ", "0x10", "9223372036854775808",
                       "-9223372036854775809", "99999999999999999999", "1_000", "--1", "a"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(!io_parse_int(bad[i], strlen(bad[i]), &v), "accepted %s", bad[i]);
}
END_TEST

START_TEST(float_cells) {
  double v;
  struct { const char *s; double want; } good[] = {
      {"3.5", 3.5}, {"-2", -2.0}, {"1.5e3", 1500.0}, {"1E-2", 0.01}, {".5", 0.5}, {"5.", 5.0},
      {"+1", 1.0}, {"0", 0.0}, {"1e-400", 0.0}, {"2.5e+2", 250.0},
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    ck_assert_msg(io_parse_float(good[i].s, strlen(good[i].s), &v), "%s", good[i].s);
    ck_assert_double_eq(v, good[i].want);
  }
  const char *bad[] = {"", ".", "-", "e5", "1e", "1e+", "1.5.2", " 1", "1 ", "nan", "NaN", "inf",
                       "-inf", "infinity", "0x1p3", "0x10", "1e400", "-1e400", "1,5", "1d", "+-1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(!io_parse_float(bad[i], strlen(bad[i]), &v), "accepted %s", bad[i]);
  /* not NUL-terminated: only len bytes are read */
  ck_assert(io_parse_float("12345", 2, &v));
  ck_assert_double_eq(v, 12.0);
  /* a very long number is refused, not overrun */
  char long_number[400];
  memset(long_number, '1', sizeof long_number);
  ck_assert(!io_parse_float(long_number, sizeof long_number, &v));
}
END_TEST

START_TEST(bool_cells) {
  bool b = false;
  ck_assert(io_parse_bool(S("true"), &b));
  ck_assert(b);
  ck_assert(io_parse_bool(S("false"), &b));
  ck_assert(!b);
  const char *bad[] = {"", "True", "FALSE", "1", "0", "yes", "t", "true ", "truex"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(!io_parse_bool(bad[i], strlen(bad[i]), &b), "accepted %s", bad[i]);
}
END_TEST

START_TEST(duration_cells) {
  int64_t v;
  struct { const char *s; int64_t want; } good[] = {
      {"30d", 30 * 86400 * SEC}, {"90m", 90 * 60 * SEC}, {"2w", 14 * 86400 * SEC},
      {"45s", 45 * SEC}, {"3h", 3 * 3600 * SEC}, {"120", 120 * SEC}, {"0", 0}, {"0s", 0},
      {"-3600", -3600 * SEC}, {"+3600", 3600 * SEC},   /* integer seconds may carry a sign */
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    ck_assert_msg(io_parse_duration(good[i].s, strlen(good[i].s), &v), "%s", good[i].s);
    ck_assert_int_eq(v, good[i].want);
  }
  const char *bad[] = {"", "d", "5x", "1.5d", "5 d", " 5d", "5dd", "99999999999999d",
                       "9223372036855", "-", "5D", "1e3", "-1h", "+1h", "-5d", "-0s", "+",
                       "s", "-s", "1h ", "- 1h"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(!io_parse_duration(bad[i], strlen(bad[i]), &v), "accepted %s", bad[i]);
}
END_TEST

/* ---- CSV ------------------------------------------------------------------------------ */

START_TEST(csv_typed_fields_any_column_order) {
  io_error err;
  io_event ev;
  io_reader *r = csv("d,s,event,n,time,x,account,ok,at,extra\n"
                     "2w,hello,typed,-42,2026-01-31,2.5,acme,false,2026-01-31T09:30:00Z,zzz\n"
                     ",,typed,7,1769817600,,beta,,,\n",
                     &err);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "acme");
  ck_assert_int_eq(ev.time, T_2026_01_31);
  ck_assert_int_eq(ev.type, TYPED);
  ck_assert_int_eq(ev.line, 2);
  ck_assert_str_eq(ev.file, "mem");
  ck_assert_int_eq(ev.values[0].i, -42);
  ck_assert_double_eq(ev.values[1].f, 2.5);
  ck_assert(!ev.values[2].b);
  ck_assert_str(ev.values[3].s, "hello");
  ck_assert_int_eq(ev.values[4].i, INT64_C(1769851800) * SEC);
  ck_assert_int_eq(ev.values[5].i, 14 * 86400 * SEC);
  ck_assert_int_eq(ev.milestone.len, 0);
  /* empty cells take the defaults */
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "beta");
  ck_assert_int_eq(ev.line, 3);
  ck_assert_int_eq(ev.values[0].i, 7);
  ck_assert_double_eq(ev.values[1].f, 1.5);
  ck_assert(ev.values[2].b);
  ck_assert_str(ev.values[3].s, "dflt");
  ck_assert_int_eq(ev.values[4].i, 7);
  ck_assert_int_eq(ev.values[5].i, 86400 * SEC);
  expect_eof(r, &ev, &err);
  expect_eof(r, &ev, &err);   /* EOF stays EOF */
  io_close(r);
}
END_TEST

START_TEST(csv_missing_columns_use_defaults_or_fail) {
  io_error err;
  io_event ev;
  /* no column for n (required) nor for the optional ones */
  io_reader *r = csv("account,time,event\n"
                     "a,2026-01-31,typed\n"
                     "a,2026-01-31,ping\n"
                     "a,2026-01-31,login\n",
                     &err);
  expect_bad(r, &ev, &err, 2, "missing value for required column n");
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, PING);
  expect_bad(r, &ev, &err, 4, "missing value for required column user");
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(csv_wrong_types_name_column_and_value) {
  io_error err;
  io_event ev;
  io_reader *r = csv("account,time,event,n,x,ok,at,d\n"
                     "a,2026-01-31,typed,abc,,,,\n"
                     "a,2026-01-31,typed,1,nan,,,\n"
                     "a,2026-01-31,typed,1,,yes,,\n"
                     "a,2026-01-31,typed,1,,,2026-02-30,\n"
                     "a,2026-01-31,typed,1,,,,5x\n"
                     "a,2026-01-31,typed,\"1\",\"2\",\"true\",\"0\",\"1d\"\n",
                     &err);
  expect_bad(r, &ev, &err, 2, "bad int \"abc\" in column n");
  expect_bad(r, &ev, &err, 3, "bad float \"nan\" in column x");
  expect_bad(r, &ev, &err, 4, "bad bool \"yes\" in column ok");
  expect_bad(r, &ev, &err, 5, "bad time \"2026-02-30\" in column at");
  expect_bad(r, &ev, &err, 6, "bad duration \"5x\" in column d");
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.values[0].i, 1);
  ck_assert_double_eq(ev.values[1].f, 2.0);
  ck_assert(ev.values[2].b);
  ck_assert_int_eq(ev.values[4].i, 0);
  ck_assert_int_eq(ev.values[5].i, 86400 * SEC);
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(reasons_quote_and_shorten_values) {
  io_error err;
  io_event ev;
  dump d = {0};
  dump_printf(&d, "account,time,event,n\na,0,typed,");
  for (int i = 0; i < 100; i++) dump_printf(&d, "%d", i % 10);
  dump_printf(&d, "\na,0,typed,\"q\"\"\\\x01\x7f\"\na,0,typed,");
  for (int i = 0; i < 100; i++) dump_printf(&d, "\x02");
  dump_printf(&d, "\n");
  io_reader *r = csv(d.text, &err);
  expect_bad(r, &ev, &err, 2,
             "bad int \"012345678901234567890123456789012345678901234567890123456789...\" in column n");
  expect_bad(r, &ev, &err, 3, "bad int \"q\\\"\\\\\\x01\\x7f\" in column n");
  int st = io_events_next(r, &ev, &err);
  ck_assert_int_eq(st, IO_BAD_ROW);
  ck_assert_msg(strstr(err.reason, "\\x02\\x02...\" in column n") != NULL, "%s", err.reason);
  ck_assert_int_lt(strlen(err.reason), sizeof err.reason - 1);
  expect_eof(r, &ev, &err);
  io_close(r);
  free(d.text);
}
END_TEST

START_TEST(csv_bad_rows_carry_raw_text) {
  io_error err;
  io_event ev;
  io_reader *r = csv("account,time,event,user\r\n"
                     "a,yesterday,login,u\r\n"
                     ",2026-01-31,login,u\r\n"
                     "a,,login,u\n"
                     "a,2026-01-31,,u\n"
                     "a,2026-01-31,login,u\n",
                     &err);
  expect_bad(r, &ev, &err, 2, "bad time \"yesterday\" in column time");
  ck_assert_int_eq(err.raw_len, strlen("a,yesterday,login,u"));
  ck_assert(memcmp(err.raw, "a,yesterday,login,u", err.raw_len) == 0);
  expect_bad(r, &ev, &err, 3, "empty account id");
  ck_assert_int_eq(err.raw_len, strlen(",2026-01-31,login,u"));
  expect_bad(r, &ev, &err, 4, "missing time");
  expect_bad(r, &ev, &err, 5, "missing event name");
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.line, 6);
  ck_assert_str(ev.values[0].s, "u");
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(csv_quoting) {
  io_error err;
  io_event ev;
  io_reader *r = csv("account,time,event,user\n"
                     "\"a,b\",2026-01-31,login,\"say \"\"hi\"\"\"\n"
                     "a,2026-01-31,login,\"two\nlines\"\n"
                     "\"x\",\"2026-01-31\",\"login\",\"\"\"\"\n"
                     "b,2026-01-31,login,\"multi\r\n\r\nline\",\n"
                     "c,2026-01-31,login,q\"uote\n"
                     "d,2026-01-31,login,\"\"\n"
                     "e,2026-01-31,login,\"x\"y\n"
                     "f,2026-01-31,login,last\n",
                     &err);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "a,b");
  ck_assert_str(ev.values[0].s, "say \"hi\"");
  ck_assert_int_eq(ev.line, 2);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "two\nlines");
  ck_assert_int_eq(ev.line, 3);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "x");
  ck_assert_str(ev.values[0].s, "\"");
  ck_assert_int_eq(ev.line, 5);
  /* a ragged row that spans lines 6-8 */
  expect_bad(r, &ev, &err, 6, "the row has 5 cells, the header has 4");
  ck_assert_int_eq(err.raw_len, strlen("b,2026-01-31,login,\"multi\r\n\r\nline\","));
  /* a quote inside an unquoted cell is an ordinary character */
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "q\"uote");
  ck_assert_int_eq(ev.line, 9);
  /* "" is an empty cell: a missing value for a required field */
  expect_bad(r, &ev, &err, 10, "missing value for required column user");
  expect_bad(r, &ev, &err, 11, "text after the closing quote of cell 4");
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "f");
  ck_assert_int_eq(ev.line, 12);
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(csv_blank_lines_crlf_bom_no_final_newline) {
  io_error err;
  io_event ev;
  io_reader *r = csv("\xEF\xBB\xBF\r\n\naccount,time,event,user\r\n\r\n"
                     "a,2026-01-31,login,u1\r\n\n\n"
                     "b,2026-01-31,login,u2",
                     &err);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "a");
  ck_assert_str(ev.values[0].s, "u1");
  ck_assert_int_eq(ev.line, 5);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "b");
  ck_assert_str(ev.values[0].s, "u2");
  ck_assert_int_eq(ev.line, 8);
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(csv_ragged_rows) {
  io_error err;
  io_event ev;
  io_reader *r = csv("account,time,event,user\n"
                     "a,2026-01-31,login\n"
                     "a,2026-01-31,login,u,extra\n"
                     "a,2026-01-31,login,u,\n"
                     "a\n"
                     "a,2026-01-31,login,u\n",
                     &err);
  expect_bad(r, &ev, &err, 2, "the row has 3 cells, the header has 4");
  expect_bad(r, &ev, &err, 3, "the row has 5 cells, the header has 4");
  expect_bad(r, &ev, &err, 4, "the row has 5 cells, the header has 4");
  expect_bad(r, &ev, &err, 5, "the row has 1 cells, the header has 4");
  expect_ok(r, &ev, &err);
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(csv_unterminated_quote) {
  io_error err;
  io_event ev;
  io_reader *r = csv("account,time,event,user\n"
                     "a,2026-01-31,login,u\n"
                     "a,2026-01-31,login,\"open\nb,2026-01-31,login,u\n",
                     &err);
  expect_ok(r, &ev, &err);
  expect_bad(r, &ev, &err, 3, "unterminated quoted field");
  ck_assert_int_eq(err.raw_len, strlen("a,2026-01-31,login,\"open\nb,2026-01-31,login,u\n"));
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(csv_header_errors) {
  io_error err;
  const char *cases[][2] = {
      {"account,time,event,user,user\n", "duplicate column \"user\""},
      {"account,time,account,event\n", "duplicate column \"account\""},
      {"time,event,user\na,b,c\n", "missing column \"account\""},
      {"account,event\n", "missing column \"time\""},
      {"account,time\n", "missing column \"event\""},
      {"\n\naccount,time,\"ev\"x\n", "text after the closing quote"},
      {"account,time,\"event\n", "unterminated quoted field"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memset(&err, 0, sizeof err);
    io_reader *r = open_text(cases[i][0], strlen(cases[i][0]), IO_FORMAT_CSV, false, 0, 0, &err);
    ck_assert_msg(r == NULL, "opened %s", cases[i][0]);
    ck_assert_msg(strstr(err.reason, cases[i][1]) != NULL, "reason \"%s\"", err.reason);
    ck_assert_int_eq(err.io_errno, 0);
    ck_assert_int_eq(err.line, i == 5 ? 3 : 1);
    ck_assert_ptr_null(err.raw);
    ck_assert_str_eq(err.file, "mem");
  }
  /* empty header names are ignored, even two of them */
  io_event ev;
  io_reader *r = csv("account,,time,,event\na,x,2026-01-31,y,ping\n", &err);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, PING);
  io_close(r);
}
END_TEST

START_TEST(csv_empty_input) {
  io_error err;
  io_event ev;
  const char *inputs[] = {"", "\n\n\r\n", "account,time,event\n", "\xEF\xBB\xBF"};
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    io_reader *r = csv(inputs[i], &err);
    expect_eof(r, &ev, &err);
    io_close(r);
  }
}
END_TEST

START_TEST(csv_undeclared_and_control_events) {
  io_error err;
  io_event ev;
  io_reader *r = csv("account,time,event,milestone,playbook,user\n"
                     "a,2026-01-31,page_view,,,\n"
                     "a,not-a-time,page_view,,,\n"
                     "a,2026-01-31,ms.assign,kickoff,,\n"
                     "a,2026-01-31,ms.reset,kickoff,,\n"
                     "a,2026-01-31,ms.unblock,kickoff,,\n"
                     "a,2026-01-31,ms.block,kickoff,,\n"
                     "a,2026-01-31,ms.complete,first_report,,\n"
                     "a,2026-01-31,ms.advance,,onboarding,\n"
                     "a,2026-01-31,ms.bogus,kickoff,,\n"
                     "a,2026-01-31,Login,,,u\n"
                     "a,2026-01-31,login,kickoff,pb,u\n",
                     &err);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, IO_EV_UNDECLARED);
  ck_assert_ptr_null(ev.values);
  expect_bad(r, &ev, &err, 3, "bad time \"not-a-time\" in column time");
  static const int control[] = {IO_EV_ASSIGN, IO_EV_RESET, IO_EV_UNBLOCK, IO_EV_BLOCK,
                                IO_EV_COMPLETE};
  for (int i = 0; i < 5; i++) {
    expect_ok(r, &ev, &err);
    ck_assert_int_eq(ev.type, control[i]);
    ck_assert_int_eq(ev.type - IO_EV_ASSIGN, i);
    ck_assert_str(ev.milestone, i == 4 ? "first_report" : "kickoff");
    ck_assert_int_eq(ev.playbook.len, 0);
    ck_assert_ptr_null(ev.values);
  }
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, IO_EV_ADVANCE);
  ck_assert_int_eq(ev.type - IO_EV_ASSIGN, 5);
  ck_assert_str(ev.playbook, "onboarding");
  ck_assert_int_eq(ev.milestone.len, 0);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, IO_EV_UNDECLARED);   /* unknown ms.* */
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, IO_EV_UNDECLARED);   /* names are case-sensitive */
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, LOGIN);
  ck_assert_int_eq(ev.milestone.len, 0);         /* only control events carry them */
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(csv_control_events_without_columns) {
  io_error err;
  io_event ev;
  io_reader *r = csv("account,time,event\na,2026-01-31,ms.complete\n", &err);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, IO_EV_COMPLETE);
  ck_assert_int_eq(ev.milestone.len, 0);
  ck_assert_int_eq(ev.playbook.len, 0);
  io_close(r);
}
END_TEST

START_TEST(csv_many_event_types) {
  /* A schema with many types exercises the name table's probing. */
  enum { N = 300 };
  static char names[N][24];
  static io_event_schema types[N];
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "event_%03d", i);
    types[i] = (io_event_schema){names[i], 0, NULL};
  }
  io_schema big = {.nevents = N, .events = types};
  dump d = {0};
  dump_printf(&d, "account,time,event\n");
  for (int i = N - 1; i >= 0; i--) dump_printf(&d, "a,%d,event_%03d\na,%d,event_%03dx\n", i, i, i, i);
  io_options opts = {.data = d.text, .data_len = d.len};
  io_error err;
  io_reader *r = io_reader_open(&big, "mem", IO_FORMAT_CSV, false, &opts, &err);
  ck_assert_ptr_nonnull(r);
  io_event ev;
  for (int i = N - 1; i >= 0; i--) {
    expect_ok(r, &ev, &err);
    ck_assert_int_eq(ev.type, i);
    ck_assert_int_eq(ev.time, i * SEC);
    expect_ok(r, &ev, &err);
    ck_assert_int_eq(ev.type, IO_EV_UNDECLARED);
  }
  expect_eof(r, &ev, &err);
  io_close(r);
  free(d.text);
}
END_TEST

START_TEST(csv_accounts) {
  io_error err;
  io_account acct;
  const char *text = "seats,id,plan\n"
                     "10,acme,enterprise\n"
                     ",beta,smb\n"
                     "5,,smb\n"
                     "x,gamma,smb\n"
                     "3,acme,smb\n"
                     "3,delta,\n"
                     "3,delta,smb\n";
  io_reader *r = open_text(text, strlen(text), IO_FORMAT_CSV, true, 0, 0, &err);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_OK);
  ck_assert_str(acct.id, "acme");
  ck_assert_str(acct.values[0].s, "enterprise");
  ck_assert_int_eq(acct.values[1].i, 10);
  ck_assert_int_eq(acct.line, 2);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_OK);
  ck_assert_str(acct.id, "beta");
  ck_assert_int_eq(acct.values[1].i, 0);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_BAD_ROW);
  ck_assert_str_eq(err.reason, "empty account id");
  ck_assert_int_eq(err.line, 4);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_BAD_ROW);
  ck_assert_str_eq(err.reason, "bad int \"x\" in column seats");
  /* a duplicate id is its caller's to find (the run's account table):
     io_bad_row makes the row just read a bad row, with its line and text */
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_OK);
  ck_assert_str(acct.id, "acme");
  ck_assert_int_eq(acct.line, 6);
  ck_assert_int_eq(io_bad_row(r, &err, "duplicate account id %s", "acme"), IO_BAD_ROW);
  ck_assert_str_eq(err.reason, "duplicate account id acme");
  ck_assert_int_eq(err.line, 6);
  ck_assert(err.has_account);
  ck_assert_int_eq(err.io_errno, 0);
  ck_assert_int_eq((int)err.raw_len, 10);
  ck_assert(memcmp(err.raw, "3,acme,smb", 10) == 0);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_BAD_ROW);
  ck_assert_str_eq(err.reason, "missing value for required column plan");
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_OK);
  ck_assert_str(acct.id, "delta");
  ck_assert_int_eq(acct.line, 8);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_EOF);
  /* the wrong reader kind is refused */
  io_event ev;
  ck_assert_int_eq(io_events_next(r, &ev, &err), IO_FAILED);
  io_close(r);

  r = open_text("plan,seats\nx,1\n", 15, IO_FORMAT_CSV, true, 0, 0, &err);
  ck_assert_ptr_null(r);
  ck_assert_str_eq(err.reason, "missing column \"id\" in the header");
  r = csv("account,time,event\n", &err);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_FAILED);
  io_close(r);
}
END_TEST

/* A mix of everything the CSV reader handles, for chunk-boundary tests. */
static const char tricky_csv[] =
    "\xEF\xBB\xBF" "account,time,event,user,n,s,milestone\r\n"
    "a,2026-01-31T09:30:00Z,login,u1,,,\r\n"
    "\n"
    "\"b,1\",2026-01-31T09:30:00.25Z,typed,,\"-3\",\"x\"\"y\nz\",\n"
    "c,bad,login,u,,,\n"
    "d,2026-02-01,ms.complete,,,,\"m1\"\n"
    "e,1769817600,login,\"\",,,\n"
    "f,2026-02-01,login,\"u\"v,,,\n"
    "g,2026-02-02,login,\"\"\"\",,,\n"
    "h,2026-02-02,nosuch,,,,\n"
    "ragged,2026-02-02,login\n"
    "i,2026-02-03,login,\"a\r\nb\",,,\r\n"
    "j,2026-02-03,typed,,9223372036854775808,,\n"
    "k,2026-02-04,login,end,,,";

START_TEST(csv_chunk_boundaries) {
  io_error err;
  io_reader *r = open_text(tricky_csv, sizeof tricky_csv - 1, IO_FORMAT_CSV, false, 0, 0, &err);
  ck_assert_ptr_nonnull(r);
  char *want = dump_reader(r, true);
  io_close(r);
  ck_assert_msg(strstr(want, "mem:4 b,1 t=1769851800250000 type=1 -3 1.5 true [x\"y\nz]") != NULL,
                "%s", want);
  ck_assert_msg(strstr(want, "BAD 6 bad time \"bad\" in column time [c,bad,login,u,,,]\n") != NULL,
                "%s", want);
  ck_assert_msg(strstr(want, "mem:7 d t=1769904000000000 type=-6 ms=m1 pb=\n") != NULL, "%s", want);
  ck_assert_msg(strstr(want, "BAD 8 missing value for required column user") != NULL, "%s", want);
  ck_assert_msg(strstr(want, "BAD 9 text after the closing quote of cell 4") != NULL, "%s", want);
  ck_assert_msg(strstr(want, "mem:10 g t=1769990400000000 type=0 [\"]") != NULL, "%s", want);
  ck_assert_msg(strstr(want, "mem:11 h t=1769990400000000 type=-1\n") != NULL, "%s", want);
  ck_assert_msg(strstr(want, "BAD 12 the row has 3 cells, the header has 7") != NULL, "%s", want);
  ck_assert_msg(strstr(want, "mem:13 i t=1770076800000000 type=0 [a\r\nb]") != NULL, "%s", want);
  ck_assert_msg(strstr(want, "BAD 15 bad int \"9223372036854775808\" in column n") != NULL, "%s",
                want);
  ck_assert_msg(strstr(want, "mem:16 k t=1770163200000000 type=0 [end]\nEOF") != NULL, "%s", want);
  for (size_t size = 1; size <= 96; size++) {
    r = open_text(tricky_csv, sizeof tricky_csv - 1, IO_FORMAT_CSV, false, size, 0, &err);
    ck_assert_ptr_nonnull(r);
    char *got = dump_reader(r, true);
    io_close(r);
    ck_assert_msg(strcmp(got, want) == 0, "buffer %zu:\n%s\nwant:\n%s", size, got, want);
    free(got);
  }
  /* and through a real file */
  const char *path = write_file("tricky.csv", tricky_csv, sizeof tricky_csv - 1);
  io_options opts = {.buffer_size = 7};
  r = io_reader_open(&schema, path, IO_FORMAT_AUTO, false, &opts, &err);
  ck_assert_ptr_nonnull(r);
  char *got = dump_reader(r, true);
  io_close(r);
  /* same records, but named by the path */
  ck_assert_ptr_nonnull(strstr(got, "tricky.csv:16 k t=1770163200000000 type=0 [end]"));
  free(got);
  free(want);
}
END_TEST

/* The one-pass scanner (sixteen bytes at a time) and the byte-wise one
 * for records with quotes read the same rows alike: random rows, with
 * cells of every length (commas, CRs and newlines on either side of each
 * sixteen-byte block), written plain and with every cell quoted, read
 * through buffers of many sizes. */
static uint64_t next_random(uint64_t *state) {
  *state = *state * 6364136223846793005u + 1442695040888963407u;
  return *state >> 33;
}

static void random_csv(dump forms[2], uint64_t seed) {
  static const char *const events[] = {"login", "typed", "ping", "other", ""};
  static const char *const times[] = {"2026-01-31T09:30:00Z", "1769817600", "", "2026-02-30"};
  static const char *const ints[] = {"", "7", "-12", "x", "123456789012"};
  for (int f = 0; f < 2; f++) {
    uint64_t state = seed;
    dump *d = &forms[f];
    dump_printf(d, "account,time,event,user,n,x,ok,s,at,d\n");
    for (int line = 0; line < 400; line++) {
      if (next_random(&state) % 23 == 0) {   /* a blank line, LF or CR LF */
        dump_printf(d, next_random(&state) % 2 ? "\n" : "\r\n");
        continue;
      }
      char account[32], user[40], s[40];
      snprintf(account, sizeof account, "acct%.*s%d", (int)(next_random(&state) % 17), "xxxxxxxxxxxxxxxxx", line % 9);
      size_t ulen = next_random(&state) % 34, slen = next_random(&state) % 20;
      for (size_t k = 0; k < ulen; k++) user[k] = "abc d-_;:"[next_random(&state) % 9];
      user[ulen] = 0;
      for (size_t k = 0; k < slen; k++) s[k] = "xyz\t"[next_random(&state) % 4];
      s[slen] = 0;
      const char *cells[10] = {account, times[next_random(&state) % 4], events[next_random(&state) % 5], user,
                               ints[next_random(&state) % 5], next_random(&state) % 2 ? "2.5" : "",
                               next_random(&state) % 2 ? "false" : "", s, "", next_random(&state) % 2 ? "2h" : ""};
      int ncells = next_random(&state) % 29 == 0 ? (int)(next_random(&state) % 12) + 1 : 10;   /* ragged rows */
      for (int c = 0; c < ncells; c++) {
        if (c) dump_printf(d, ",");
        dump_printf(d, f == 1 ? "\"%s\"" : "%s", c < 10 ? cells[c] : "extra");
      }
      bool last = line == 399 && seed % 2;   /* the last line without its newline */
      if (!last) dump_printf(d, next_random(&state) % 5 == 0 ? "\r\n" : "\n");
    }
  }
}

START_TEST(csv_plain_and_quoted_random) {
  for (uint64_t seed = 1; seed <= 6; seed++) {
    dump forms[2] = {{0}, {0}};
    random_csv(forms, seed);
    io_error err;
    io_reader *r = open_text(forms[0].text, forms[0].len, IO_FORMAT_CSV, false, 0, 0, &err);
    ck_assert_ptr_nonnull(r);
    char *want = dump_reader(r, false);   /* the raw text differs */
    io_close(r);
    ck_assert_msg(strstr(want, "type=0 [") != NULL && strstr(want, "BAD ") != NULL, "%s", want);
    static const size_t sizes[] = {0, 1, 5, 15, 16, 17, 31, 33, 64, 100};
    for (int f = 0; f < 2; f++)
      for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        r = open_text(forms[f].text, forms[f].len, IO_FORMAT_CSV, false, sizes[k], 0, &err);
        ck_assert_ptr_nonnull(r);
        char *got = dump_reader(r, false);
        io_close(r);
        ck_assert_msg(strcmp(got, want) == 0, "seed %llu, %s, buffer %zu:\n%s\nwant:\n%s", (unsigned long long)seed,
                      f ? "quoted" : "plain", sizes[k], got, want);
        free(got);
      }
    free(want);
    free(forms[0].text);
    free(forms[1].text);
  }
}
END_TEST

START_TEST(csv_large_input_spans_reads) {
  /* 1.5 MB through the default 1 MiB buffer: records cross refills. */
  dump d = {0};
  dump_printf(&d, "account,time,event,user\n");
  for (int i = 0; i < 60000; i++)
    dump_printf(&d, i % 1000 == 999 ? "acct%d,%d,login,\"user\n%d\"\n" : "acct%d,%d,login,user%d\n",
                i % 977, 1700000000 + i, i);
  const char *path = write_file("large.csv", d.text, d.len);
  io_error err;
  io_reader *r = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  io_event ev;
  int64_t line = 2;
  for (int i = 0; i < 60000; i++) {
    expect_ok(r, &ev, &err);
    char want[64];
    snprintf(want, sizeof want, i % 1000 == 999 ? "user\n%d" : "user%d", i);
    ck_assert_str(ev.values[0].s, want);
    ck_assert_int_eq(ev.time, (1700000000 + i) * SEC);
    ck_assert_int_eq(ev.line, line);
    line += i % 1000 == 999 ? 2 : 1;
  }
  expect_eof(r, &ev, &err);
  io_close(r);
  free(d.text);
}
END_TEST

START_TEST(csv_record_too_long) {
  io_error err;
  io_event ev;
  const char *text = "account,time,event,user\n"
                     "a,2026-01-31,login,short\n"
                     "b,2026-01-31,login,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
                     "c,2026-01-31,login,\"quoted\n,still,quoted\n"
                     "more quoted text that makes the record long, and longer\n\"\n"
                     "d,2026-01-31,login,after\n"
                     "e,2026-01-31,login,\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
  for (size_t size = 4; size <= 64; size += 20) {
    io_reader *r = open_text(text, strlen(text), IO_FORMAT_CSV, false, size, 48, &err);
    ck_assert_ptr_nonnull(r);
    expect_ok(r, &ev, &err);
    ck_assert_str(ev.values[0].s, "short");
    expect_bad(r, &ev, &err, 3, "record longer than 48 bytes");
    ck_assert_uint_ge(err.raw_len, 48);
    ck_assert(memcmp(err.raw, "b,2026", 6) == 0);
    expect_bad(r, &ev, &err, 4, "record longer than 48 bytes");
    expect_ok(r, &ev, &err);
    ck_assert_str(ev.account, "d");
    ck_assert_int_eq(ev.line, 8);
    expect_bad(r, &ev, &err, 9, "record longer than 48 bytes");
    expect_eof(r, &ev, &err);
    io_close(r);
  }
}
END_TEST

/* ---- files, gzip, stdin, errors -------------------------------------------------------- */

START_TEST(gzip_csv_and_jsonl) {
  const char text[] = "account,time,event,user\na,2026-01-31,login,u1\nb,2026-02-01,login,u2\n";
  const char *path = write_gz("events.csv.gz", text, sizeof text - 1);
  io_error err;
  io_event ev;
  io_reader *r = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
  ck_assert_msg(r != NULL, "%s", err.reason);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "u1");
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "u2");
  ck_assert_int_eq(ev.line, 3);
  ck_assert_int_eq(io_events_next(r, &ev, &err), IO_EOF);
  io_close(r);

  const char lines[] = "{\"account\":\"a\",\"time\":\"2026-01-31\",\"event\":\"login\",\"user\":\"j\"}\n";
  path = write_gz("EVENTS.NDJSON.GZ", lines, sizeof lines - 1);
  r = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(io_events_next(r, &ev, &err), IO_OK);
  ck_assert_str(ev.values[0].s, "j");
  ck_assert_int_eq(ev.time, T_2026_01_31);
  io_close(r);

  /* a large compressed file crosses many reads */
  dump d = {0};
  dump_printf(&d, "account,time,event,user\n");
  for (int i = 0; i < 100000; i++) dump_printf(&d, "a%d,%d,login,u%d\n", i % 100, i, i);
  path = write_gz("big.csv.gz", d.text, d.len);
  r = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  for (int i = 0; i < 100000; i++) {
    expect_ok(r, &ev, &err);
    ck_assert_int_eq(ev.time, i * SEC);
  }
  ck_assert_int_eq(io_events_next(r, &ev, &err), IO_EOF);
  io_close(r);
  free(d.text);
}
END_TEST

/* A gzipped file read as -j does (split.c): one reader pulls the text
 * after the header (after a JSON Lines file's byte order mark), and
 * another, opened on the same file, parses pieces of it from memory. */
START_TEST(gzip_text_pulled_and_parsed_in_pieces) {
  const char text[] = "account,time,event,user\na,2026-01-31,login,u1\nb,2026-02-01,login,u2\n";
  const char *path = write_gz("pieces.csv.gz", text, sizeof text - 1);
  io_error err;
  io_event ev;
  io_reader *inflater = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
  io_reader *r = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(inflater);
  ck_assert_ptr_nonnull(r);
  ck_assert(io_events_inflatable(inflater));
  ck_assert(!io_events_splittable(inflater));
  char got[256];
  size_t len = 0;
  long n;
  while ((n = io_reader_pull(inflater, got + len, 5, &err)) > 0) len += (size_t)n;   /* small pulls */
  ck_assert_int_eq(n, 0);
  ck_assert_int_eq(len, strlen("a,2026-01-31,login,u1\nb,2026-02-01,login,u2\n"));
  ck_assert(memcmp(got, "a,2026-01-31,login,u1\nb,2026-02-01,login,u2\n", len) == 0);
  io_reader_text(r, got + 22, len - 22);   /* the second row alone */
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "u2");
  ck_assert_int_eq(io_events_next(r, &ev, &err), IO_EOF);
  io_reader_text(r, got, 22);   /* then the first */
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "u1");
  ck_assert_int_eq(io_events_next(r, &ev, &err), IO_EOF);
  io_close(r);
  io_close(inflater);

  const char lines[] = "\xEF\xBB\xBF{\"account\":\"a\",\"time\":\"2026-01-31\",\"event\":\"login\",\"user\":\"j\"}\n";
  inflater = io_events_open(&schema, write_gz("bom.jsonl.gz", lines, sizeof lines - 1), IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(inflater);
  n = io_reader_pull(inflater, got, sizeof got, &err);
  ck_assert_int_eq(n, (long)(sizeof lines - 1 - 3));
  ck_assert_int_eq(got[0], '{');
  io_close(inflater);

  /* a plain file is cut into byte ranges instead */
  r = io_events_open(&schema, write_file("plain.csv", text, sizeof text - 1), IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  ck_assert(!io_events_inflatable(r));
  ck_assert(io_events_splittable(r));
  io_close(r);
}
END_TEST

START_TEST(gzip_truncated_is_an_io_error) {
  dump d = {0};
  dump_printf(&d, "account,time,event,user\n");
  for (int i = 0; i < 50000; i++) dump_printf(&d, "a%d,%d,login,u%d\n", i % 100, i, i * 7919);
  const char *path = write_gz("cut.csv.gz", d.text, d.len);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
  io_error err;
  io_event ev;
  io_reader *r = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  int status;
  long rows = 0;
  while ((status = io_events_next(r, &ev, &err)) == IO_OK) rows++;
  ck_assert_int_eq(status, IO_FAILED);
  ck_assert_int_ne(err.io_errno, 0);
  ck_assert_ptr_nonnull(strstr(err.reason, "cannot read"));
  ck_assert_int_gt(rows, 0);
  ck_assert_int_lt(rows, 50000);
  io_close(r);

  /* garbage after a gzip header */
  path = write_file("junk.csv.gz", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-garbage", 25);
  r = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_null(r);
  ck_assert_int_ne(err.io_errno, 0);
  free(d.text);
}
END_TEST

/* The bytes of a file write_gz wrote, appended to *d. */
static void append_file(dump *d, const char *path) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) dump_bytes(d, buf, n);
  fclose(f);
}

/* Every row's user, joined by spaces; the status after the last row. */
static int users_of(const char *path, char *out, size_t cap, io_error *err) {
  io_reader *r = io_events_open(&schema, path, IO_FORMAT_AUTO, err);
  if (!r) return IO_FAILED;
  io_event ev;
  int status;
  out[0] = 0;
  while ((status = io_events_next(r, &ev, err)) == IO_OK)
    snprintf(out + strlen(out), cap - strlen(out), "%s%.*s", out[0] ? " " : "", (int)ev.values[0].s.len,
             ev.values[0].s.p);
  io_close(r);
  return status;
}

/* As gzip and zlib's gzread read them: members one after the other,
 * bytes after a member that start no other one ignored, a file that is
 * not gzip as it is; a wrong checksum is an error; a rewind reads the
 * file again from its start. */
START_TEST(gzip_members_trailing_bytes_and_plain) {
  const char head[] = "account,time,event,user\na,2026-01-31,login,u1\n";
  const char more[] = "b,2026-02-01,login,u2\n";
  dump two = {0};
  append_file(&two, write_gz("one.gz", head, sizeof head - 1));
  append_file(&two, write_gz("two.gz", more, sizeof more - 1));
  char users[256];
  io_error err;
  ck_assert_int_eq(users_of(write_file("two.csv.gz", two.text, two.len), users, sizeof users, &err), IO_EOF);
  ck_assert_str_eq(users, "u1 u2");

  dump trailing = {0};
  append_file(&trailing, write_gz("one.gz", head, sizeof head - 1));
  dump_bytes(&trailing, "c,2026-02-02,login,u3\n", 22);
  ck_assert_int_eq(users_of(write_file("trailing.csv.gz", trailing.text, trailing.len), users, sizeof users, &err),
                   IO_EOF);
  ck_assert_str_eq(users, "u1");

  const char plain[] = "account,time,event,user\na,2026-01-31,login,u9\n";
  ck_assert_int_eq(users_of(write_file("plain.csv.gz", plain, sizeof plain - 1), users, sizeof users, &err), IO_EOF);
  ck_assert_str_eq(users, "u9");

  dump bad = {0};
  append_file(&bad, write_gz("one.gz", head, sizeof head - 1));
  bad.text[bad.len - 8] ^= 1;   /* the trailer's CRC-32 */
  ck_assert_int_eq(users_of(write_file("crc.csv.gz", bad.text, bad.len), users, sizeof users, &err), IO_FAILED);
  ck_assert_ptr_nonnull(strstr(err.reason, "cannot read"));
  bad.text[bad.len - 8] ^= 1;
  bad.text[3] |= 0x20;   /* a reserved header flag (RFC 1952: refused) */
  ck_assert_int_eq(users_of(write_file("flags.csv.gz", bad.text, bad.len), users, sizeof users, &err), IO_FAILED);
  ck_assert_ptr_nonnull(strstr(err.reason, "unknown header flags"));

  io_reader *r = io_events_open(&schema, write_file("again.csv.gz", two.text, two.len), IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  io_event ev;
  for (int pass = 0; pass < 2; pass++) {
    expect_ok(r, &ev, &err);
    ck_assert_str(ev.values[0].s, "u1");
    expect_ok(r, &ev, &err);
    ck_assert_str(ev.values[0].s, "u2");
    ck_assert_int_eq(io_events_next(r, &ev, &err), IO_EOF);
    ck_assert(io_reader_rewind(r, &err));
  }
  io_close(r);
  free(two.text);
  free(trailing.text);
  free(bad.text);
}
END_TEST

START_TEST(open_errors) {
  io_error err;
  char path[320];
  snprintf(path, sizeof path, "%s/no-such-file.csv", tmpdir);
  ck_assert_ptr_null(io_events_open(&schema, path, IO_FORMAT_AUTO, &err));
  ck_assert_int_eq(err.io_errno, ENOENT);
  ck_assert_str_eq(err.file, path);
  snprintf(path, sizeof path, "%s/no-such-file.csv.gz", tmpdir);
  ck_assert_ptr_null(io_accounts_open(&schema, path, IO_FORMAT_AUTO, &err));
  ck_assert_int_eq(err.io_errno, ENOENT);
  /* a directory opens but cannot be read */
  ck_assert_ptr_null(io_events_open(&schema, tmpdir, IO_FORMAT_CSV, &err));
  ck_assert_int_eq(err.io_errno, EISDIR);
  ck_assert_ptr_nonnull(strstr(err.reason, "cannot read"));
  io_reader *r = io_events_open(&schema, tmpdir, IO_FORMAT_JSONL, &err);
  ck_assert_ptr_nonnull(r);   /* JSON Lines has no header to read at open */
  io_event ev;
  ck_assert_int_eq(io_events_next(r, &ev, &err), IO_FAILED);
  ck_assert_int_eq(err.io_errno, EISDIR);
  io_close(r);
}
END_TEST

START_TEST(format_by_extension_and_content) {
  const char csv_text[] = "account,time,event,user\na,2026-01-31,login,u\n";
  const char json_text[] = "\n  {\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"v\"}\n";
  const char *names[] = {"a.CSV", "b.txt", "c", "d.jsonl", "e.log", "f.ndjson"};
  const bool is_json[] = {false, false, false, true, true, true};
  for (int i = 0; i < 6; i++) {
    const char *path = is_json[i] ? write_file(names[i], json_text, sizeof json_text - 1)
                                  : write_file(names[i], csv_text, sizeof csv_text - 1);
    io_error err;
    io_event ev;
    io_reader *r = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
    ck_assert_msg(r != NULL, "%s: %s", names[i], err.reason);
    expect_ok(r, &ev, &err);
    ck_assert_str(ev.values[0].s, is_json[i] ? "v" : "u");
    io_close(r);
  }
  /* an explicit format wins over the extension */
  const char *path = write_file("g.csv", json_text, sizeof json_text - 1);
  io_error err;
  io_event ev;
  io_reader *r = io_events_open(&schema, path, IO_FORMAT_JSONL, &err);
  ck_assert_ptr_nonnull(r);
  expect_ok(r, &ev, &err);
  io_close(r);
  /* an empty file without extension is an empty CSV */
  path = write_text("empty", "");
  r = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

/* Replaces standard input by a pipe that a child process fills with text;
 * returns the saved standard input. */
static int stdin_from(const char *text) {
  int saved = dup(STDIN_FILENO), fds[2];
  ck_assert_int_ge(saved, 0);
  ck_assert_int_eq(pipe(fds), 0);
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    close(fds[0]);
    size_t len = strlen(text), done = 0;
    while (done < len) {
      ssize_t n = write(fds[1], text + done, len - done);
      if (n <= 0) _exit(1);
      done += (size_t)n;
    }
    _exit(0);
  }
  close(fds[1]);
  ck_assert_int_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
  close(fds[0]);
  return saved;
}

static void restore_stdin(int saved) {
  ck_assert_int_eq(dup2(saved, STDIN_FILENO), STDIN_FILENO);
  close(saved);
  int status;
  while (wait(&status) > 0) ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(stdin_is_csv_unless_told) {
  int saved = stdin_from("account,time,event,user\na,2026-01-31,login,u\n");
  io_error err;
  io_event ev;
  io_reader *r = io_events_open(&schema, "-", IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  expect_ok(r, &ev, &err);
  ck_assert_str_eq(ev.file, "-");
  ck_assert_str(ev.values[0].s, "u");
  ck_assert_int_eq(io_events_next(r, &ev, &err), IO_EOF);
  /* without a spool, stdin cannot be read again */
  ck_assert(!io_reader_rewind(r, &err));
  ck_assert_int_eq(err.io_errno, ESPIPE);
  io_close(r);
  restore_stdin(saved);

  saved = stdin_from("{\"account\":\"a\",\"time\":0,\"event\":\"ping\"}\n");
  r = io_events_open(&schema, "-", IO_FORMAT_JSONL, &err);
  ck_assert_ptr_nonnull(r);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, PING);
  io_close(r);
  restore_stdin(saved);
}
END_TEST

/* ---- JSON Lines ------------------------------------------------------------------------- */

START_TEST(jsonl_typed_fields) {
  io_error err;
  io_event ev;
  io_reader *r = jsonl(
      "{\"account\":\"acme\",\"time\":\"2026-01-31\",\"event\":\"typed\",\"n\":-42,\"x\":2.5,"
      "\"ok\":false,\"s\":\"hi\",\"at\":\"2026-01-31T09:30:00Z\",\"d\":\"2w\"}\n"
      "{\"event\":\"typed\",\"account\":\"b\",\"time\":1769817600,\"n\":\"7\",\"x\":\"1e2\","
      "\"at\":1769817600.5,\"d\":90}\n"
      " { \"account\" : \"c\" , \"time\" : 0 , \"event\" : \"typed\" , \"n\" : 3.0 , \"x\" : 4 ,"
      " \"s\" : null , \"at\" : null , \"d\" : 0.25 } \r\n"
      "{\"account\":\"d\",\"time\":-1.5,\"event\":\"typed\",\"n\":1e2,\"at\":1.0000005,"
      "\"d\":1e-6}\n",
      &err);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "acme");
  ck_assert_int_eq(ev.time, T_2026_01_31);
  ck_assert_int_eq(ev.type, TYPED);
  ck_assert_int_eq(ev.values[0].i, -42);
  ck_assert_double_eq(ev.values[1].f, 2.5);
  ck_assert(!ev.values[2].b);
  ck_assert_str(ev.values[3].s, "hi");
  ck_assert_int_eq(ev.values[4].i, INT64_C(1769851800) * SEC);
  ck_assert_int_eq(ev.values[5].i, 14 * 86400 * SEC);
  ck_assert_int_eq(ev.line, 1);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.time, T_2026_01_31);
  ck_assert_int_eq(ev.values[0].i, 7);
  ck_assert_double_eq(ev.values[1].f, 100.0);
  ck_assert(ev.values[2].b);              /* default */
  ck_assert_str(ev.values[3].s, "dflt");  /* default */
  ck_assert_int_eq(ev.values[4].i, T_2026_01_31 + 500000);
  ck_assert_int_eq(ev.values[5].i, 90 * SEC);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.time, 0);
  ck_assert_int_eq(ev.values[0].i, 3);
  ck_assert_double_eq(ev.values[1].f, 4.0);
  ck_assert_str(ev.values[3].s, "dflt");  /* null = missing */
  ck_assert_int_eq(ev.values[4].i, 7);
  ck_assert_int_eq(ev.values[5].i, 250000);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.time, -1500000);
  ck_assert_int_eq(ev.values[0].i, 100);
  ck_assert_int_eq(ev.values[4].i, 1000001);   /* the seventh decimal rounds */
  ck_assert_int_eq(ev.values[5].i, 1);
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(jsonl_values_must_fit) {
  io_error err;
  io_event ev;
  io_reader *r = jsonl(
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":1.5}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":true}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":\"x\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":1e30}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":99999999999999999999}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":1,\"ok\":\"true\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":1,\"s\":5}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":1,\"x\":[1]}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":1,\"at\":{}}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":1,\"at\":1e20}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":1,\"d\":\"soon\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":\"\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":null}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"typed\",\"n\":1,\"x\":\"NaN\"}\n",
      &err);
  expect_bad(r, &ev, &err, 1, "bad int 1.5 in key n");
  expect_bad(r, &ev, &err, 2, "bad int true in key n");
  expect_bad(r, &ev, &err, 3, "bad int \"x\" in key n");
  expect_bad(r, &ev, &err, 4, "bad int 1e30 in key n");
  expect_bad(r, &ev, &err, 5, "bad int 99999999999999999999 in key n");
  expect_bad(r, &ev, &err, 6, "bad bool \"true\" in key ok");
  expect_bad(r, &ev, &err, 7, "bad string 5 in key s");
  expect_bad(r, &ev, &err, 8, "bad float an array in key x");
  expect_bad(r, &ev, &err, 9, "bad time an object in key at");
  expect_bad(r, &ev, &err, 10, "bad time 1e20 in key at");
  expect_bad(r, &ev, &err, 11, "bad duration \"soon\" in key d");
  expect_bad(r, &ev, &err, 12, "bad int \"\" in key n");
  expect_bad(r, &ev, &err, 13, "missing value for required key n");
  expect_bad(r, &ev, &err, 14, "missing value for required key n");
  expect_bad(r, &ev, &err, 15, "bad float \"NaN\" in key x");
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(jsonl_account_time_event_keys) {
  io_error err;
  io_event ev;
  io_reader *r = jsonl("{\"account\":42,\"time\":0,\"event\":\"ping\"}\n"
                       "{\"account\":4.2,\"time\":0,\"event\":\"ping\"}\n"
                       "{\"account\":\"\",\"time\":0,\"event\":\"ping\"}\n"
                       "{\"time\":0,\"event\":\"ping\"}\n"
                       "{\"account\":null,\"time\":0,\"event\":\"ping\"}\n"
                       "{\"account\":\"a\",\"event\":\"ping\"}\n"
                       "{\"account\":\"a\",\"time\":\"2026-13-01\",\"event\":\"ping\"}\n"
                       "{\"account\":\"a\",\"time\":true,\"event\":\"ping\"}\n"
                       "{\"account\":\"a\",\"time\":1e12,\"event\":\"ping\"}\n"
                       "{\"account\":\"a\",\"time\":0}\n"
                       "{\"account\":\"a\",\"time\":0,\"event\":\"\"}\n"
                       "{\"account\":\"a\",\"time\":0,\"event\":7}\n"
                       "{\"account\":\"a\",\"time\":\"bad\",\"event\":\"unknown\"}\n"
                       "{\"account\":\"a\",\"time\":1.5e3,\"event\":\"unknown\"}\n"
                       "{\"account\":[],\"time\":0,\"event\":\"ping\"}\n",
                       &err);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "42");
  expect_bad(r, &ev, &err, 2, "bad account id 4.2 in key account");
  expect_bad(r, &ev, &err, 3, "empty account id");
  expect_bad(r, &ev, &err, 4, "missing account id (key account)");
  expect_bad(r, &ev, &err, 5, "missing account id");
  expect_bad(r, &ev, &err, 6, "missing time");
  expect_bad(r, &ev, &err, 7, "bad time \"2026-13-01\" in key time");
  expect_bad(r, &ev, &err, 8, "bad time true in key time");
  expect_bad(r, &ev, &err, 9, "bad time 1e12 in key time");   /* past year 9999 */
  expect_bad(r, &ev, &err, 10, "missing event name");
  expect_bad(r, &ev, &err, 11, "missing event name");
  expect_bad(r, &ev, &err, 12, "bad event name 7");
  expect_bad(r, &ev, &err, 13, "bad time \"bad\"");   /* whatever the event type */
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, IO_EV_UNDECLARED);
  ck_assert_int_eq(ev.time, 1500 * SEC);
  expect_bad(r, &ev, &err, 15, "bad account id an array");
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(jsonl_properties_merge) {
  io_error err;
  io_event ev;
  io_reader *r = jsonl(
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"properties\":{\"user\":\"inner\"}}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"top\","
      "\"properties\":{\"user\":\"inner\"}}\n"
      "{\"properties\":{\"user\":\"inner\"},\"user\":\"top\",\"account\":\"a\",\"time\":0,"
      "\"event\":\"login\"}\n"
      "{\"properties\":{\"account\":\"p\",\"time\":\"2026-01-31\",\"event\":\"login\","
      "\"user\":\"u\",\"properties\":{\"user\":\"deeper\"}}}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"first\",\"user\":\"last\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":null,"
      "\"properties\":{\"user\":\"inner\"}}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"ms.complete\",\"properties\":{\"milestone\":"
      "\"kickoff\",\"playbook\":\"onboarding\"}}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"ms.block\",\"milestone\":5}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"properties\":null,\"user\":\"x\"}\n",
      &err);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "inner");
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "top");
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "top");
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "p");
  ck_assert_int_eq(ev.time, T_2026_01_31);
  ck_assert_str(ev.values[0].s, "u");
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "last");
  /* a top-level null still wins: the value is missing */
  expect_bad(r, &ev, &err, 6, "missing value for required key user");
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, IO_EV_COMPLETE);
  ck_assert_str(ev.milestone, "kickoff");
  ck_assert_str(ev.playbook, "onboarding");
  expect_bad(r, &ev, &err, 8, "bad milestone name 5");
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "x");
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

/* JSON time strings take the cell forms (one parser); epoch numbers only
 * years 1 to 9999. */
START_TEST(jsonl_time_forms) {
  io_error err;
  io_event ev;
  io_reader *r = jsonl("{\"account\":\"a\",\"time\":\"2026-01-31 09:30:00.25 UTC\",\"event\":\"ping\"}\n"
                       "{\"account\":\"a\",\"time\":\"2026-01-31 11:30:00 +0200\",\"event\":\"ping\"}\n"
                       "{\"account\":\"a\",\"time\":\"2026-01-31 09:30:00\",\"event\":\"ping\"}\n"
                       "{\"account\":\"a\",\"time\":-62135596800,\"event\":\"ping\"}\n"
                       "{\"account\":\"a\",\"time\":-62135596801,\"event\":\"ping\"}\n"
                       "{\"account\":\"a\",\"time\":\"2026-01-31 09:30:00 Z\",\"event\":\"ping\"}\n",
                       &err);
  const int64_t t = INT64_C(1769851800) * SEC;
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.time, t + 250000);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.time, t);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.time, t);
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.time, INT64_C(-62135596800) * SEC);
  expect_bad(r, &ev, &err, 5, "bad time -62135596801 in key time");   /* before year 1 */
  expect_bad(r, &ev, &err, 6, "bad time \"2026-01-31 09:30:00 Z\" in key time");
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(jsonl_string_escapes) {
  io_error err;
  io_event ev;
  io_reader *r = jsonl(
      "{\"account\":\"a\\\"b\",\"time\":0,\"event\":\"login\",\"user\":"
      "\"\\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\u20AC \\ud83d\\ude00 \\u0041\"}\n"
      "{\"acc\\u006Funt\":\"k\",\"time\":0,\"event\":\"log\\u0069n\",\"user\":\"\\u0000\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"\\ud800\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"\\udc00\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"\\ud800\\u0041\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"\\u12G4\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"\\x41\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"tab\there\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"\\u00\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"caf\xc3\xa9\"}\n",
      &err);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "a\"b");
  ck_assert_str(ev.values[0].s,
                "\\ / \b\f\n\r\t \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 A");
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "k");
  ck_assert_int_eq(ev.type, LOGIN);
  ck_assert_int_eq(ev.values[0].s.len, 1);
  ck_assert_int_eq(ev.values[0].s.p[0], 0);
  expect_bad(r, &ev, &err, 3, "lone high surrogate");
  expect_bad(r, &ev, &err, 4, "lone low surrogate");
  expect_bad(r, &ev, &err, 5, "lone high surrogate");
  expect_bad(r, &ev, &err, 6, "bad \\u escape");
  expect_bad(r, &ev, &err, 7, "bad escape in a string");
  expect_bad(r, &ev, &err, 8, "control character in a string");
  expect_bad(r, &ev, &err, 9, "bad \\u escape");
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "caf\xc3\xa9");
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

START_TEST(jsonl_malformed) {
  const char *lines[] = {
      "[1,2]", "\"just a string\"", "42", "{", "{\"account\"", "{\"account\":}", "{\"a\" 1}",
      "{\"a\":1,}", "{\"a\":1 \"b\":2}", "{\"a\":1}}", "{\"a\":1} x", "{a:1}", "{'a':1}",
      "{\"a\":tru}", "{\"a\":nul}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":.5}",
      "{\"a\":1e}", "{\"a\":+1}", "{\"a\":\"unterminated}", "{\"a\":[1,2}", "{\"a\":{\"b\"}}",
      "{\"a\":[1,]}", "{\"a\":NaN}", "{\"a\":\"x\\", "{\"a\":[}", "{\"a\":{\"b\":1,}}",
      /* compact lines, which the one-pass reader (parse_flat) meets first */
      "{\"a\":1,\"b\"}", "{\"a\":\"b\"\"c\":1}", "{\"a\":truex}", "{\"a\":\"\x01\"}", "{\"a\":\"b\",}",
      "{\"a\":1,\"b\":2,}", "{\"a\":\"b\"", "{\"a\":\"b\"}{", "{\"a\\\":1}", "{\"\":}",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    io_error err;
    io_event ev;
    io_reader *r = jsonl(lines[i], &err);
    int st = io_events_next(r, &ev, &err);
    ck_assert_msg(st == IO_BAD_ROW, "accepted %s", lines[i]);
    ck_assert_msg(strstr(err.reason, "malformed JSON at byte ") != NULL, "%s: %s", lines[i],
                  err.reason);
    ck_assert_int_eq(err.raw_len, strlen(lines[i]));
    expect_eof(r, &ev, &err);
    io_close(r);
  }
}
END_TEST

/* A compact line is read in one pass; the same line with spaces, an
 * escape or "properties" by the general parser: the same event either way,
 * the last of equal keys winning. */
START_TEST(jsonl_compact_and_general_alike) {
  const char *lines[] = {
      "{\"account\":\"acme\",\"user\":\"x\",\"time\":\"2026-01-31\",\"event\":\"login\",\"user\":\"ann\"}",
      "{ \"account\":\"acme\",\"user\":\"x\",\"time\":\"2026-01-31\",\"event\":\"login\",\"user\":\"ann\"}",
      "{\"account\":\"acme\",\"user\":\"x\",\"time\":\"2026-01-31\",\"event\":\"login\",\"user\":\"a\\u006en\"}",
      "{\"account\":\"acme\",\"user\":\"x\",\"time\":\"2026-01-31\",\"event\":\"login\",\"properties\":{\"user\":\"y\"},"
      "\"user\":\"ann\"}",
      "{\"account\":\"acme\",\"n\":-0.5e3,\"ok\":true,\"no\":false,\"z\":null,\"time\":\"2026-01-31\",\"event\":\"login\","
      "\"user\":\"ann\"}",
      /* containers whose strings have escapes */
      "{\"account\":\"acme\",\"tags\":[\"a\\\"b\",{\"k\\n\":\"\\u00e9\"}],\"time\":\"2026-01-31\",\"event\":\"login\","
      "\"o\":{\"q\":\"\\t\"},\"user\":\"ann\"}",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    io_error err;
    io_event ev;
    io_reader *r = jsonl(lines[i], &err);
    expect_ok(r, &ev, &err);
    ck_assert_str(ev.account, "acme");
    ck_assert_int_eq(ev.time, T_2026_01_31);
    ck_assert_int_eq(ev.type, LOGIN);
    ck_assert_msg(str_is(ev.values[0].s, "ann"), "line %zu: user \"%.*s\"", i, (int)ev.values[0].s.len,
                  ev.values[0].s.p);
    expect_eof(r, &ev, &err);
    io_close(r);
  }
}
END_TEST

/* Random well-formed objects, written compact (the one-pass reader takes
 * most) and with spaces (the general parser takes all): every row reads
 * the same, an event or the same reason it is bad. */
static void random_member(dump *d, uint64_t *state, const char *sp, int depth) {
  static const char *const keys[] = {"account", "time", "event", "user", "n", "x", "ok", "s", "at", "d", "other",
                                     "properties"};
  static const char *const strings[] = {"a1", "ann", "2026-01-31", "2026-01-31T09:30:00Z", "login", "typed",
                                        "ping", "nope", "caf\\u00e9", "q\\\"x", "", "7", "2w", "b\\\\s",
                                        /* longer than a 64-byte word of the one-pass reader's quote marks */
                                        "a string that runs on past sixty-four bytes, so that its quotes fall in two words"};
  static const char *const numbers[] = {"0", "-1", "42", "2.5", "1e2", "1769817600", "-0.5e3", "90"};
  *state = *state * 6364136223846793005u + 1442695040888963407u;
  unsigned r = (unsigned)(*state >> 33);
  const char *key = keys[r % 12];
  if (depth > 0 && strcmp(key, "properties") == 0) key = "other";
  dump_printf(d, "\"%s\"%s:%s", key, sp, sp);
  if (strcmp(key, "properties") == 0) {
    dump_printf(d, "{");
    for (unsigned k = 0, n = (r >> 4) % 3; k < n; k++) {
      if (k) dump_printf(d, "%s,%s", sp, sp);
      random_member(d, state, sp, depth + 1);
    }
    dump_printf(d, "}");
    return;
  }
  switch ((r >> 8) % 8) {
    case 0: case 1: case 2: dump_printf(d, "\"%s\"", strings[(r >> 12) % 15]); break;
    case 3: case 4: dump_printf(d, "%s", numbers[(r >> 12) % 8]); break;
    case 5: dump_printf(d, "%s", (r >> 12) % 3 == 0 ? "true" : (r >> 12) % 3 == 1 ? "false" : "null"); break;
    case 6: dump_printf(d, "[1,%s\"x\"]", sp); break;
    default: dump_printf(d, "{\"a\":%s{}}", sp); break;
  }
}

START_TEST(jsonl_compact_and_spaced_random) {
  dump forms[2] = {{0}, {0}};
  for (int f = 0; f < 2; f++) {
    uint64_t state = 2026;
    const char *sp = f ? " " : "";
    static const char *const events[] = {"login", "typed", "ping", "other"};
    for (int line = 0; line < 3000; line++) {
      /* an account, a time and an event, then members of any key */
      dump_printf(&forms[f], "{\"account\":%s\"a%d\",%s\"time\":%s%s,%s\"event\":%s\"%s\"", sp, line % 7, sp, sp,
                  line % 3 ? "\"2026-01-31T09:30:00Z\"" : "1769817600", sp, sp, events[line % 4]);
      for (int k = 0, n = line % 6; k < n; k++) {
        dump_printf(&forms[f], "%s,%s", sp, sp);
        random_member(&forms[f], &state, sp, 0);
      }
      dump_printf(&forms[f], "}\n");
    }
  }
  io_error err[2];
  io_reader *r[2];
  for (int f = 0; f < 2; f++) r[f] = jsonl(forms[f].text, &err[f]);
  int ok = 0;
  for (int row = 0;; row++) {
    io_event ev[2];
    int st[2];
    dump got[2] = {{0}, {0}};
    for (int f = 0; f < 2; f++) {
      st[f] = io_events_next(r[f], &ev[f], &err[f]);
      if (st[f] == IO_OK) dump_event(&got[f], &ev[f]);
      else if (st[f] == IO_BAD_ROW) dump_printf(&got[f], "BAD %lld %s", (long long)err[f].line, err[f].reason);
      else dump_printf(&got[f], "status %d", st[f]);
    }
    ck_assert_msg(strcmp(got[0].text, got[1].text) == 0, "row %d:\ncompact: %s\n spaced: %s", row, got[0].text,
                  got[1].text);
    ok += st[0] == IO_OK;
    free(got[0].text);
    free(got[1].text);
    if (st[0] != IO_OK && st[0] != IO_BAD_ROW) break;
  }
  ck_assert_int_gt(ok, 100);   /* events, not only bad rows */
  for (int f = 0; f < 2; f++) {
    io_close(r[f]);
    free(forms[f].text);
  }
}
END_TEST

/* The one-pass reader guesses each member's key from the key the line
 * before had at its place: keys that share their first 8 bytes, keys no
 * row reads, and keys that move from line to line are each still found
 * (on lines ending in LF and in CRLF). */
START_TEST(jsonl_keys_moving_between_places) {
  static const io_field_schema seen_fields[] = {
      {"workspace_name", VALUE_STRING, true, {.s = {"none", 4}}},
      {"workspace_seats", VALUE_INT, true, {.i = -1}},
      {"u", VALUE_STRING, true, {.s = {"-", 1}}},
  };
  static const io_event_schema seen_events[] = {{"seen", 3, seen_fields}};
  static const io_schema seen = {.nevents = 1, .events = seen_events};
  static const char text[] =
      "{\"account\":\"a\",\"time\":0,\"event\":\"seen\",\"workspace_name\":\"w1\",\"workspace_seats\":3}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"seen\",\"workspace_seats\":4,\"workspace_name\":\"w2\"}\r\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"seen\",\"workspace_other\":\"x\",\"workspace_name\":\"w3\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"seen\",\"workspace_seats\":5,\"workspace_other\":\"y\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"seen\",\"uu\":\"no\",\"u\":\"yes\"}\n"
      "{\"account\":\"a\",\"time\":0,\"event\":\"seen\",\"u\":\"u6\",\"uu\":\"no\"}\r\n"
      "{\"event\":\"seen\",\"time\":0,\"account\":\"b\",\"u\":\"u7\"}\n";
  static const struct {
    const char *account, *name, *u;
    int64_t seats;
  } want[] = {{"a", "w1", "-", 3}, {"a", "w2", "-", 4},    {"a", "w3", "-", -1}, {"a", "none", "-", 5},
              {"a", "none", "yes", -1}, {"a", "none", "u6", -1}, {"b", "none", "u7", -1}};
  io_options opts = {.data = text, .data_len = sizeof text - 1};
  io_error err;
  io_reader *r = io_reader_open(&seen, "mem", IO_FORMAT_JSONL, false, &opts, &err);
  ck_assert_ptr_nonnull(r);
  io_event ev;
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    expect_ok(r, &ev, &err);
    ck_assert_msg(str_is(ev.account, want[i].account), "line %zu: account", i + 1);
    ck_assert_msg(str_is(ev.values[0].s, want[i].name), "line %zu: workspace_name \"%.*s\"", i + 1,
                  (int)ev.values[0].s.len, ev.values[0].s.p);
    ck_assert_msg(ev.values[1].i == want[i].seats, "line %zu: workspace_seats %lld", i + 1,
                  (long long)ev.values[1].i);
    ck_assert_msg(str_is(ev.values[2].s, want[i].u), "line %zu: u", i + 1);
    ck_assert_int_eq(ev.line, (int64_t)i + 1);
  }
  expect_eof(r, &ev, &err);
  io_close(r);
}
END_TEST

/* A plain line longer than the one-pass reader marks as it finds the
 * line's end (64 KiB) is read by the line reader, as any other. */
START_TEST(jsonl_long_plain_line) {
  dump d = {0};
  dump_printf(&d, "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"");
  for (int i = 0; i < 100000; i++) dump_printf(&d, "%c", 'a' + i % 26);
  dump_printf(&d, "\"}\n{\"account\":\"b\",\"time\":0,\"event\":\"login\",\"user\":\"u\"}\n");
  io_error err;
  io_event ev;
  io_reader *r = jsonl(d.text, &err);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "a");
  ck_assert_uint_eq(ev.values[0].s.len, 100000);
  ck_assert(memcmp(ev.values[0].s.p + 99970, "abcdefghijklmnopqrstuvwxyz", 26) == 0);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.account, "b");
  ck_assert_str(ev.values[0].s, "u");
  ck_assert_int_eq(ev.line, 2);
  expect_eof(r, &ev, &err);
  io_close(r);
  free(d.text);
}
END_TEST

START_TEST(jsonl_nesting_blank_lines_and_depth) {
  io_error err;
  io_event ev;
  dump d = {0};
  dump_printf(&d, "\n   \n\t\r\n");
  dump_printf(&d, "{\"account\":\"a\",\"time\":0,\"event\":\"login\",\"user\":\"u\","
                  "\"ctx\":{\"a\":[1,{\"b\":[true,false,null,\"s\",-1.5e-3]},[]],\"c\":{}}}\n");
  dump_printf(&d, "{\"account\":\"a\",\"time\":0,\"event\":\"ping\",\"deep\":");
  for (int i = 0; i < 10000; i++) dump_printf(&d, "[");
  for (int i = 0; i < 10000; i++) dump_printf(&d, "]");
  dump_printf(&d, "}\n");
  dump_printf(&d, "{\"account\":\"a\",\"time\":0,\"event\":\"ping\",\"ok\":");
  for (int i = 0; i < 60; i++) dump_printf(&d, "{\"k\":");
  dump_printf(&d, "1");
  for (int i = 0; i < 60; i++) dump_printf(&d, "}");
  dump_printf(&d, "}\n\n");
  io_reader *r = jsonl(d.text, &err);
  expect_ok(r, &ev, &err);
  ck_assert_str(ev.values[0].s, "u");
  ck_assert_int_eq(ev.line, 4);
  expect_bad(r, &ev, &err, 5, "nesting too deep");
  expect_ok(r, &ev, &err);
  ck_assert_int_eq(ev.type, PING);
  ck_assert_int_eq(ev.line, 6);
  expect_eof(r, &ev, &err);
  io_close(r);
  free(d.text);
}
END_TEST

static const char tricky_jsonl[] =
    "\xEF\xBB\xBF{\"account\":\"a\",\"time\":\"2026-01-31T09:30:00Z\",\"event\":\"login\",\"user\":\"u1\"}\r\n"
    "\n"
    "{\"account\":\"b\",\"time\":1769817600.25,\"event\":\"typed\",\"n\":\"-3\",\"s\":\"x\\\"y\\nz\"}\n"
    "{\"account\":\"c\",\"time\":\"bad\",\"event\":\"login\",\"user\":\"u\"}\n"
    "{\"account\":\"d\",\"time\":0,\"event\":\"ms.complete\",\"properties\":{\"milestone\":\"m1\"}}\n"
    "not json\n"
    "{\"account\":\"e\",\"time\":0,\"event\":\"login\",\"user\":\"\\ud83d\\ude00\"}\n"
    "{\"account\":\"k\",\"time\":0,\"event\":\"login\",\"user\":\"end\"}";

START_TEST(jsonl_chunk_boundaries) {
  io_error err;
  io_reader *r = open_text(tricky_jsonl, sizeof tricky_jsonl - 1, IO_FORMAT_JSONL, false, 0, 0, &err);
  ck_assert_ptr_nonnull(r);
  char *want = dump_reader(r, true);
  io_close(r);
  ck_assert_msg(strstr(want, "mem:3 b t=1769817600250000 type=1 -3 1.5 true [x\"y\nz]") != NULL,
                "%s", want);
  ck_assert_msg(strstr(want, "mem:5 d t=0 type=-6 ms=m1 pb=") != NULL, "%s", want);
  ck_assert_msg(strstr(want, "BAD 6 malformed JSON at byte 1: expected a JSON object [not json]") != NULL,
                "%s", want);
  ck_assert_msg(strstr(want, "mem:8 k t=0 type=0 [end]\nEOF") != NULL, "%s", want);
  for (size_t size = 1; size <= 96; size++) {
    r = open_text(tricky_jsonl, sizeof tricky_jsonl - 1, IO_FORMAT_JSONL, false, size, 0, &err);
    ck_assert_ptr_nonnull(r);
    char *got = dump_reader(r, true);
    io_close(r);
    ck_assert_msg(strcmp(got, want) == 0, "buffer %zu:\n%s\nwant:\n%s", size, got, want);
    free(got);
  }
  /* an over-long line is a bad row and reading goes on after it */
  r = open_text(tricky_jsonl, sizeof tricky_jsonl - 1, IO_FORMAT_JSONL, false, 8, 70, &err);
  char *got = dump_reader(r, true);
  io_close(r);
  ck_assert_msg(strstr(got, "BAD 1 record longer than 70 bytes") != NULL, "%s", got);
  ck_assert_msg(strstr(got, "BAD 3 record longer than 70 bytes") != NULL, "%s", got);
  ck_assert_msg(strstr(got, "mem:4") == NULL, "%s", got);   /* line 4 is a bad time */
  ck_assert_msg(strstr(got, "BAD 4 bad time") != NULL, "%s", got);
  ck_assert_msg(strstr(got, "mem:8 k t=0 type=0 [end]\nEOF") != NULL, "%s", got);
  free(got);
  free(want);
}
END_TEST

START_TEST(jsonl_accounts) {
  const char *text = "{\"id\":\"acme\",\"plan\":\"enterprise\",\"seats\":10}\n"
                     "{\"id\":7,\"properties\":{\"plan\":\"smb\"}}\n"
                     "{\"id\":\"acme\",\"plan\":\"smb\"}\n"
                     "{\"plan\":\"smb\"}\n"
                     "{\"id\":\"x\",\"plan\":\"smb\",\"seats\":\"many\"}\n";
  io_error err;
  io_account acct;
  io_reader *r = open_text(text, strlen(text), IO_FORMAT_JSONL, true, 0, 0, &err);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_OK);
  ck_assert_str(acct.id, "acme");
  ck_assert_str(acct.values[0].s, "enterprise");
  ck_assert_int_eq(acct.values[1].i, 10);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_OK);
  ck_assert_str(acct.id, "7");
  ck_assert_str(acct.values[0].s, "smb");
  ck_assert_int_eq(acct.values[1].i, 0);
  ck_assert_int_eq(acct.line, 2);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_OK);   /* a duplicate: the caller's to find */
  ck_assert_str(acct.id, "acme");
  ck_assert_str(acct.values[0].s, "smb");
  ck_assert_int_eq(acct.line, 3);
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_BAD_ROW);
  ck_assert_str_eq(err.reason, "missing account id (key id)");
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_BAD_ROW);
  ck_assert_str_eq(err.reason, "bad int \"many\" in key seats");
  ck_assert_int_eq(io_accounts_next(r, &acct, &err), IO_EOF);
  io_close(r);
}
END_TEST

/* ---- io_merge -------------------------------------------------------------------------------- */

static char *dump_merge(io_merge *m, int *unsorted_at) {
  dump d = {0};
  io_event ev;
  io_error err;
  for (int n = 0;; n++) {
    int st = io_merge_next(m, &ev, &err);
    if (st == IO_EOF) break;
    if (st == IO_OK) {
      dump_event(&d, &ev);
    } else if (st == IO_UNSORTED) {
      if (unsorted_at) *unsorted_at = n;
      dump_printf(&d, "UNSORTED ");
      dump_event(&d, &ev);
    } else if (st == IO_BAD_ROW) {
      dump_printf(&d, "BAD %s:%lld %s\n", err.file, (long long)err.line, err.reason);
    } else {
      ck_abort_msg("failed: %s", err.reason);
    }
  }
  return d.text;
}

START_TEST(merge_orders_sorted_files) {
  const char *a = write_text("a.csv",
                             "account,time,event,user\n"
                             "x,10,login,a1\n"
                             "y,20,login,a2\n"
                             "y,20,login,a3\n"
                             "x,40,login,a4\n");
  const char *b = write_text("b.jsonl",
                             "{\"account\":\"z\",\"time\":5,\"event\":\"ping\"}\n"
                             "{\"account\":\"z\",\"time\":20,\"event\":\"login\",\"user\":\"b1\"}\n"
                             "{\"account\":\"z\",\"time\":\"x\",\"event\":\"ping\"}\n"
                             "{\"account\":\"z\",\"time\":50,\"event\":\"login\",\"user\":\"b2\"}\n");
  const char *c = write_text("c.csv", "account,time,event\n");
  const char *paths[] = {a, b, c};
  io_error err;
  io_merge *m = io_merge_open(&schema, paths, 3, IO_FORMAT_AUTO, &err);
  ck_assert_msg(m != NULL, "%s", err.reason);
  int unsorted_at = -1;
  char *got = dump_merge(m, &unsorted_at);
  ck_assert_int_eq(unsorted_at, -1);
  char want[2048];
  snprintf(want, sizeof want,
           "%s:1 z t=5000000 type=2\n"
           "%s:2 x t=10000000 type=0 [a1]\n"
           "%s:3 y t=20000000 type=0 [a2]\n"
           "%s:4 y t=20000000 type=0 [a3]\n"
           "%s:2 z t=20000000 type=0 [b1]\n"
           "BAD %s:3 bad time \"x\" in key time\n"
           "%s:5 x t=40000000 type=0 [a4]\n"
           "%s:4 z t=50000000 type=0 [b2]\n",
           b, a, a, a, b, b, a, b);
  ck_assert_str_eq(got, want);
  free(got);
  /* rewinding gives the same again */
  ck_assert(io_merge_rewind(m, &err));
  got = dump_merge(m, NULL);
  ck_assert_str_eq(got, want);
  free(got);
  io_merge_close(m);
}
END_TEST

START_TEST(merge_detects_unsorted_input) {
  const char *a = write_text("u1.csv",
                             "account,time,event\n"
                             "x,10,ping\n"
                             "x,30,ping\n"
                             "x,20,ping\n"
                             "x,40,ping\n");
  const char *b = write_text("u2.csv", "account,time,event\ny,25,ping\ny,25,ping\n");
  const char *paths[] = {a, b};
  io_error err;
  io_merge *m = io_merge_open(&schema, paths, 2, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(m);
  io_event ev;
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_OK);
  ck_assert_int_eq(ev.time, 10 * SEC);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_OK);
  ck_assert_int_eq(ev.time, 25 * SEC);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_OK);
  ck_assert_int_eq(ev.time, 25 * SEC);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_OK);
  ck_assert_int_eq(ev.time, 30 * SEC);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_UNSORTED);
  ck_assert_int_eq(ev.time, 20 * SEC);
  ck_assert_int_eq(ev.line, 4);
  ck_assert_str_eq(ev.file, a);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_OK);
  ck_assert_int_eq(ev.time, 40 * SEC);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_EOF);
  /* after a rewind every record comes back, with no more order checks */
  ck_assert(io_merge_rewind(m, &err));
  int n = 0, st;
  while ((st = io_merge_next(m, &ev, &err)) == IO_OK) n++;
  ck_assert_int_eq(st, IO_EOF);
  ck_assert_int_eq(n, 6);
  io_merge_close(m);
}
END_TEST

START_TEST(merge_reads_stdin_twice) {
  dump d = {0};
  dump_printf(&d, "account,time,event,user\n");
  for (int i = 0; i < 1000; i++) dump_printf(&d, "a%d,%d,login,u%d\n", i % 7, 1000 - i / 10, i);
  int saved = stdin_from(d.text);
  const char *f = write_text("s.csv", "account,time,event\nq,500,ping\n");
  const char *paths[] = {"-", f};
  io_error err;
  io_merge *m = io_merge_open(&schema, paths, 2, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(m);
  int unsorted_at = -1;
  char *first = dump_merge(m, &unsorted_at);
  ck_assert_int_eq(unsorted_at, 11);   /* stdin row 12 goes back in time */
  ck_assert(io_merge_rewind(m, &err));
  char *second = dump_merge(m, NULL);
  ck_assert(io_merge_rewind(m, &err));   /* a second rewind reads the spool again */
  char *third = dump_merge(m, NULL);
  ck_assert_str_eq(second, third);
  /* the spool holds all of stdin: every row once */
  int rows = 0;
  for (const char *p = second; (p = strstr(p, "-:")); p++) rows++;
  ck_assert_int_eq(rows, 1000);
  ck_assert_ptr_nonnull(strstr(second, "-:1001 a5 t=901000000 type=0 [u999]"));
  ck_assert_ptr_nonnull(strstr(second, "s.csv:2 q t=500000000 type=2"));
  io_merge_close(m);
  restore_stdin(saved);
  free(first);
  free(second);
  free(third);
  free(d.text);
}
END_TEST

START_TEST(merge_rewinds_stdin_read_partly) {
  /* Rewinding before stdin's end copies the rest into the spool first. */
  dump d = {0};
  dump_printf(&d, "account,time,event\n");
  for (int i = 0; i < 100000; i++) dump_printf(&d, "a,%d,ping\n", i);   /* > the 1 MiB buffer */
  int saved = stdin_from(d.text);
  const char *paths[] = {"-"};
  io_error err;
  io_merge *m = io_merge_open(&schema, paths, 1, IO_FORMAT_CSV, &err);
  ck_assert_ptr_nonnull(m);
  io_event ev;
  for (int i = 0; i < 3; i++) ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_OK);
  ck_assert(io_merge_rewind(m, &err));
  int n = 0, st;
  int64_t last = -1;
  while ((st = io_merge_next(m, &ev, &err)) == IO_OK) {
    ck_assert_int_eq(ev.time, n * SEC);
    last = ev.line;
    n++;
  }
  ck_assert_int_eq(st, IO_EOF);
  ck_assert_int_eq(n, 100000);
  ck_assert_int_eq(last, 100001);
  io_merge_close(m);
  restore_stdin(saved);
  free(d.text);
}
END_TEST

START_TEST(merge_rewinds_a_named_pipe) {
  /* bash's <(zcat f.gz) is a path that cannot seek: it is spooled like stdin. */
  char fifo[320];
  snprintf(fifo, sizeof fifo, "%s/events.csv", tmpdir);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  const char text[] = "account,time,event,user\na,20,login,x\nb,10,login,y\n";
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    int fd = open(fifo, O_WRONLY);
    _exit(fd >= 0 && write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1) ? 0 : 1);
  }
  const char *paths[] = {fifo};
  io_error err;
  io_event ev;
  io_merge *m = io_merge_open(&schema, paths, 1, IO_FORMAT_AUTO, &err);
  ck_assert_msg(m != NULL, "%s", err.reason);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_OK);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_UNSORTED);
  ck_assert_str(ev.values[0].s, "y");
  ck_assert_msg(io_merge_rewind(m, &err), "%s", err.reason);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_OK);
  ck_assert_str(ev.values[0].s, "x");
  ck_assert_int_eq(ev.line, 2);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_OK);
  ck_assert_str(ev.values[0].s, "y");
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_EOF);
  io_merge_close(m);
  int status;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(merge_open_errors) {
  io_error err;
  const char *twice[] = {"-", "-"};
  ck_assert_ptr_null(io_merge_open(&schema, twice, 2, IO_FORMAT_AUTO, &err));
  ck_assert_int_eq(err.io_errno, EINVAL);
  char missing[320];
  snprintf(missing, sizeof missing, "%s/missing.csv", tmpdir);
  const char *ok = write_text("ok.csv", "account,time,event\n");
  const char *paths[] = {ok, missing};
  ck_assert_ptr_null(io_merge_open(&schema, paths, 2, IO_FORMAT_AUTO, &err));
  ck_assert_int_eq(err.io_errno, ENOENT);
  const char *bad = write_text("dup.csv", "account,time,event,time\n");
  const char *paths2[] = {bad};
  ck_assert_ptr_null(io_merge_open(&schema, paths2, 1, IO_FORMAT_AUTO, &err));
  ck_assert_int_eq(err.io_errno, 0);
  ck_assert_int_eq(err.line, 1);
  /* stdin needs a spool file in $TMPDIR */
  char *saved = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
  char no_dir[320];
  snprintf(no_dir, sizeof no_dir, "%s/no/such/dir", tmpdir);
  setenv("TMPDIR", no_dir, 1);
  const char *from_stdin[] = {"-"};
  io_merge *m = io_merge_open(&schema, from_stdin, 1, IO_FORMAT_CSV, &err);
  if (saved) setenv("TMPDIR", saved, 1);
  else unsetenv("TMPDIR");
  free(saved);
  ck_assert_ptr_null(m);
  ck_assert_int_eq(err.io_errno, ENOENT);
  /* no files: nothing to read */
  m = io_merge_open(&schema, NULL, 0, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(m);
  io_event ev;
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_EOF);
  io_merge_close(m);
  /* an I/O error stops the merge for good */
  const char *paths3[] = {tmpdir};
  m = io_merge_open(&schema, paths3, 1, IO_FORMAT_JSONL, &err);
  ck_assert_ptr_nonnull(m);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_FAILED);
  ck_assert_int_eq(err.io_errno, EISDIR);
  ck_assert_int_eq(io_merge_next(m, &ev, &err), IO_FAILED);
  io_merge_close(m);
}
END_TEST

/* ---- io_sorter --------------------------------------------------------------------------------- */

typedef struct sample {
  char account[16];
  int64_t time;
  int type;
  char text[24];
  int64_t n;
  int order;
} sample;

/* The sorter's order: accounts by the hash of their ids (ties by their
 * bytes), then time, then arrival. */
static int compare_ids(const char *a, const char *b) {
  uint64_t ha = util_hash(a, strlen(a)), hb = util_hash(b, strlen(b));
  if (ha != hb) return ha < hb ? -1 : 1;
  return strcmp(a, b);
}

static int compare_samples(const void *x, const void *y) {
  const sample *a = x, *b = y;
  int c = compare_ids(a->account, b->account);
  if (c) return c;
  if (a->time != b->time) return a->time < b->time ? -1 : 1;
  return a->order - b->order;
}

/* Adds count events (every drop_every-th taken back at once, when not 0)
 * and checks that the sorter gives the others back in its order. */
static void sorter_round_trip(size_t mem_limit, int count, int drop_every) {
  sample *samples = calloc((size_t)count, sizeof *samples);
  ck_assert_ptr_nonnull(samples);
  io_sorter *s = io_sorter_new(&schema, mem_limit);
  ck_assert_ptr_nonnull(s);
  io_error err;
  uint64_t state = 12345;
  static const char *const files[] = {"one.csv", "two.csv"};
  for (int i = 0; i < count; i++) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    sample *x = &samples[i];
    snprintf(x->account, sizeof x->account, i % 11 == 0 ? "acct-long-%02d" : "a%d",
             (int)(state >> 40) % 37);
    x->time = (int64_t)(state >> 50) % 50 - 10;
    x->type = (int)(state >> 33) % 4;   /* login, typed, ping, or ms.complete */
    snprintf(x->text, sizeof x->text, "t%d", i);
    x->n = i * 3 - 7;
    x->order = i;
    value_data values[6] = {0};
    io_event ev = {.account = {x->account, (uint32_t)strlen(x->account)},
                   .time = x->time,
                   .file = files[i % 2],
                   .line = i + 2,
                   .milestone = {"", 0},
                   .playbook = {"", 0}};
    if (x->type == 0) {
      ev.type = LOGIN;
      values[0].s = (value_str){x->text, (uint32_t)strlen(x->text)};
    } else if (x->type == 1) {
      ev.type = TYPED;
      values[0].i = x->n;
      values[1].f = x->n / 4.0;
      values[2].b = i % 2;
      values[3].s = (value_str){x->text, (uint32_t)strlen(x->text)};
      values[4].i = -x->n;
      values[5].i = x->n * 1000;
    } else if (x->type == 2) {
      ev.type = PING;
    } else {
      ev.type = IO_EV_COMPLETE;
      ev.milestone = (value_str){x->text, (uint32_t)strlen(x->text)};
      ev.playbook = (value_str){"pb", 2};
    }
    ev.values = ev.type >= 0 ? values : NULL;
    ck_assert_msg(io_sorter_add(s, &ev, &err), "%s", err.reason);
    if (drop_every && i % drop_every == 0) {
      io_sorter_drop_last(s);
      x->order = -1;
    }
  }
  int kept = 0;
  for (int i = 0; i < count; i++)
    if (samples[i].order >= 0) samples[kept++] = samples[i];
  count = kept;
  ck_assert(io_sorter_finish(s, &err));
  qsort(samples, (size_t)count, sizeof *samples, compare_samples);
  io_event ev;
  for (int i = 0; i < count; i++) {
    const sample *x = &samples[i];
    ck_assert_int_eq(io_sorter_next(s, &ev, &err), IO_OK);
    ck_assert_str(ev.account, x->account);
    ck_assert_int_eq(ev.time, x->time);
    ck_assert_int_eq(ev.line, x->order + 2);
    ck_assert_str_eq(ev.file, files[x->order % 2]);
    switch (x->type) {
      case 0:
        ck_assert_int_eq(ev.type, LOGIN);
        ck_assert_str(ev.values[0].s, x->text);
        break;
      case 1:
        ck_assert_int_eq(ev.type, TYPED);
        ck_assert_int_eq(ev.values[0].i, x->n);
        ck_assert_double_eq(ev.values[1].f, x->n / 4.0);
        ck_assert_int_eq(ev.values[2].b, x->order % 2);
        ck_assert_str(ev.values[3].s, x->text);
        ck_assert_int_eq(ev.values[4].i, -x->n);
        ck_assert_int_eq(ev.values[5].i, x->n * 1000);
        break;
      case 2:
        ck_assert_int_eq(ev.type, PING);
        break;
      default:
        ck_assert_int_eq(ev.type, IO_EV_COMPLETE);
        ck_assert_str(ev.milestone, x->text);
        ck_assert_str(ev.playbook, "pb");
        ck_assert_ptr_null(ev.values);
    }
  }
  ck_assert_int_eq(io_sorter_next(s, &ev, &err), IO_EOF);
  ck_assert_int_eq(io_sorter_next(s, &ev, &err), IO_EOF);
  io_sorter_free(s);
  free(samples);
}

START_TEST(sorter_in_memory) { sorter_round_trip((size_t)1 << 30, 20000, 0); }
END_TEST

START_TEST(sorter_spills_runs) {
  sorter_round_trip(4096, 20000, 0);   /* hundreds of runs */
  sorter_round_trip(1, 300, 0);        /* one event per run */
  sorter_round_trip(200000, 20000, 0); /* a few large runs */
}
END_TEST

/* Events taken back as soon as they are added (a run's account turned out
 * not to be run) are never given back, in memory and across runs. */
START_TEST(sorter_drops_the_last_event) {
  sorter_round_trip((size_t)1 << 30, 5000, 3);
  sorter_round_trip(4096, 5000, 2);
  sorter_round_trip(1, 300, 2);   /* a run after each event kept */
}
END_TEST

START_TEST(sorter_big_records_and_empty) {
  io_error err;
  io_event ev;
  io_sorter *s = io_sorter_new(&schema, 1 << 16);
  ck_assert(io_sorter_finish(s, &err));
  ck_assert_int_eq(io_sorter_next(s, &ev, &err), IO_EOF);
  io_sorter_free(s);

  /* strings larger than the run buffers */
  s = io_sorter_new(&schema, 1 << 14);
  size_t big = 3 << 20;
  char *text = malloc(big);
  ck_assert_ptr_nonnull(text);
  for (int i = 0; i < 4; i++) {
    memset(text, 'a' + i, big);
    value_data value = {.s = {text, (uint32_t)(big - (size_t)i)}};
    io_event add = {.account = {"z", 1}, .time = 10 - i, .type = LOGIN, .values = &value,
                    .file = "f", .line = i, .milestone = {"", 0}, .playbook = {"", 0}};
    ck_assert(io_sorter_add(s, &add, &err));
    io_event small = {.account = {"b", 1}, .time = i, .type = PING, .file = "f", .line = 100 + i,
                      .milestone = {"", 0}, .playbook = {"", 0}};
    ck_assert(io_sorter_add(s, &small, &err));
  }
  ck_assert(io_sorter_finish(s, &err));
  ck_assert(io_sorter_finish(s, &err));   /* finishing twice is harmless */
  for (int pass = 0; pass < 2; pass++) {
    if ((pass == 0) == (compare_ids("b", "z") < 0)) {
      for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(io_sorter_next(s, &ev, &err), IO_OK);
        ck_assert_str(ev.account, "b");
        ck_assert_int_eq(ev.line, 100 + i);
      }
      continue;
    }
    for (int i = 3; i >= 0; i--) {
      ck_assert_int_eq(io_sorter_next(s, &ev, &err), IO_OK);
      ck_assert_str(ev.account, "z");
      ck_assert_int_eq(ev.time, 10 - i);
      ck_assert_int_eq(ev.values[0].s.len, big - (size_t)i);
      ck_assert_int_eq(ev.values[0].s.p[0], 'a' + i);
      ck_assert_int_eq(ev.values[0].s.p[big - (size_t)i - 1], 'a' + i);
    }
  }
  ck_assert_int_eq(io_sorter_next(s, &ev, &err), IO_EOF);
  io_sorter_free(s);
  free(text);
}
END_TEST

START_TEST(sorter_misuse_and_spill_errors) {
  io_error err;
  io_event ev = {.account = {"a", 1}, .type = PING, .file = "f", .milestone = {"", 0},
                 .playbook = {"", 0}};
  io_sorter *s = io_sorter_new(&schema, 1 << 20);
  ck_assert_int_eq(io_sorter_next(s, &ev, &err), IO_FAILED);
  ck_assert(io_sorter_add(s, &ev, &err));
  ck_assert(io_sorter_finish(s, &err));
  ck_assert(!io_sorter_add(s, &ev, &err));
  ck_assert_int_eq(err.io_errno, EINVAL);
  io_sorter_free(s);

  /* a temporary directory that does not exist: the first spill fails (it
   * comes with the second event, which finds the first over the limit) */
  char *saved = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
  char missing[320];
  snprintf(missing, sizeof missing, "%s/no/such/dir", tmpdir);
  setenv("TMPDIR", missing, 1);
  s = io_sorter_new(&schema, 0);
  ck_assert(io_sorter_add(s, &ev, &err));
  bool ok = io_sorter_add(s, &ev, &err);
  if (saved) setenv("TMPDIR", saved, 1);
  else unsetenv("TMPDIR");
  free(saved);
  ck_assert(!ok);
  ck_assert_int_eq(err.io_errno, ENOENT);
  ck_assert_ptr_nonnull(strstr(err.reason, "cannot create a temporary file"));
  io_sorter_free(s);
}
END_TEST

START_TEST(merge_then_sort_unsorted_input) {
  /* What the CLI does with unsorted input: merge until IO_UNSORTED, rewind,
   * feed everything to the sorter. */
  const char *a = write_text("m1.csv", "account,time,event,user\nb,3,login,x\na,1,login,y\n");
  const char *b = write_text("m2.csv", "account,time,event,user\na,2,login,z\n");
  const char *paths[] = {a, b};
  io_error err;
  io_event ev;
  io_merge *m = io_merge_open(&schema, paths, 2, IO_FORMAT_AUTO, &err);
  int st;
  while ((st = io_merge_next(m, &ev, &err)) == IO_OK) continue;
  ck_assert_int_eq(st, IO_UNSORTED);
  ck_assert(io_merge_rewind(m, &err));
  io_sorter *s = io_sorter_new(&schema, 64);
  while ((st = io_merge_next(m, &ev, &err)) == IO_OK) ck_assert(io_sorter_add(s, &ev, &err));
  ck_assert_int_eq(st, IO_EOF);
  io_merge_close(m);   /* the sorter holds copies */
  ck_assert(io_sorter_finish(s, &err));
  const char *a_first[][2] = {{"a", "y"}, {"a", "z"}, {"b", "x"}};
  const char *b_first[][2] = {{"b", "x"}, {"a", "y"}, {"a", "z"}};
  const char *(*want)[2] = compare_ids("a", "b") < 0 ? a_first : b_first;
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(io_sorter_next(s, &ev, &err), IO_OK);
    ck_assert_str(ev.account, want[i][0]);
    ck_assert_str(ev.values[0].s, want[i][1]);
  }
  ck_assert_int_eq(io_sorter_next(s, &ev, &err), IO_EOF);
  io_sorter_free(s);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------------------ */

/* ---- byte ranges (io_reader_range) ------------------------------------------------------- */

/* The records of r as "account time type [user]" lines, then "BAD reason"
 * for a bad row (which ends the reading) or "EOF". */
static char *range_records(io_reader *r) {
  dump d = {0};
  io_event ev;
  io_error err;
  for (;;) {
    int st = io_events_next(r, &ev, &err);
    if (st == IO_EOF) break;
    if (st != IO_OK) {
      dump_printf(&d, "BAD %s\n", err.reason);
      return d.text;
    }
    dump_printf(&d, "%.*s %lld %d", (int)ev.account.len, ev.account.p, (long long)ev.time, ev.type);
    if (ev.type == LOGIN) dump_printf(&d, " [%.*s]", (int)ev.values[0].s.len, ev.values[0].s.p);
    dump_printf(&d, "\n");
  }
  dump_printf(&d, "EOF\n");
  return d.text;
}

static char *read_range(io_reader *r, int64_t start, int64_t end) {
  io_error err;
  ck_assert(io_reader_range(r, start, end, &err));
  return range_records(r);
}

START_TEST(ranges_cut_at_line_starts) {
  static const char text[] = "account,time,event,user\n"
                             "a,2026-01-01,login,\"x,\"\"y\"\"\"\n"
                             "b,2026-01-02,login,\"two\nlines\"\n"
                             "\n"
                             "c,2026-01-03,ping,";
  const char *path = write_file("ranges.csv", text, sizeof text - 1);
  io_error err;
  io_reader *r = io_events_open(&schema, path, IO_FORMAT_CSV, &err);
  ck_assert_ptr_nonnull(r);
  ck_assert(io_events_splittable(r));
  int64_t size, start = io_data_offset(r);
  ck_assert(io_file_size(r, &size));
  ck_assert_int_eq(size, sizeof text - 1);
  ck_assert_int_eq(start, (int64_t)strlen("account,time,event,user\n"));
  char *whole = read_range(r, start, size);
  ck_assert_str_eq(whole, "a 1767225600000000 0 [x,\"y\"]\nb 1767312000000000 0 [two\nlines]\n"
                          "c 1767398400000000 2\nEOF\n");
  /* a cut at a record boundary: the two ranges read the whole */
  int64_t cut = io_line_start(r, start + 3, &err);
  ck_assert_int_eq(cut, (int64_t)(strstr(text, "b,") - text));
  char *first = read_range(r, start, cut), *second = read_range(r, cut, size);
  ck_assert_str_eq(first, "a 1767225600000000 0 [x,\"y\"]\nEOF\n");
  ck_assert_str_eq(second, "b 1767312000000000 0 [two\nlines]\nc 1767398400000000 2\nEOF\n");
  /* a cut inside a quoted field: the range before it ends unterminated */
  int64_t inside = io_line_start(r, (int64_t)(strstr(text, "two") - text), &err);
  ck_assert_int_eq(inside, (int64_t)(strstr(text, "lines") - text));
  char *broken = read_range(r, cut, inside);
  ck_assert_str_eq(broken, "BAD unterminated quoted field\n");
  /* past the last newline: the end of the file */
  ck_assert_int_eq(io_line_start(r, size - 3, &err), size);
  ck_assert_int_eq(io_line_start(r, size, &err), size);
  char *empty = read_range(r, size, size);
  ck_assert_str_eq(empty, "EOF\n");
  free(whole);
  free(first);
  free(second);
  free(broken);
  free(empty);
  io_close(r);
}
END_TEST

START_TEST(ranges_of_json_lines_and_unsplittable_inputs) {
  static const char text[] = "\xef\xbb\xbf{\"account\":\"a\",\"time\":\"2026-01-01\",\"event\":\"ping\"}\n"
                             "{\"account\":\"b\",\"time\":\"2026-01-02\",\"event\":\"ping\"}\n";
  const char *path = write_file("ranges.jsonl", text, sizeof text - 1);
  io_error err;
  io_reader *r = io_events_open(&schema, path, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  ck_assert(io_events_splittable(r));
  ck_assert_int_eq(io_data_offset(r), 0);
  int64_t cut = io_line_start(r, 5, &err);
  char *first = read_range(r, 0, cut), *second = read_range(r, cut, sizeof text - 1);
  ck_assert_str_eq(first, "a 1767225600000000 2\nEOF\n");   /* the byte order mark skipped */
  ck_assert_str_eq(second, "b 1767312000000000 2\nEOF\n");
  free(first);
  free(second);
  io_close(r);
  const char *gz = write_gz("ranges.csv.gz", "account,time,event\na,2026-01-01,ping\n", 37);
  r = io_events_open(&schema, gz, IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  ck_assert(!io_events_splittable(r));   /* compressed: read whole */
  io_close(r);
  r = io_accounts_open(&schema, write_text("accts.csv", "id,plan\na,pro\n"), IO_FORMAT_AUTO, &err);
  ck_assert_ptr_nonnull(r);
  ck_assert(!io_events_splittable(r));   /* accounts are read whole */
  io_close(r);
}
END_TEST

static Suite *io_suite(void) {
  Suite *s = suite_create("io");
  TCase *cells = tcase_create("cells");
  tcase_add_test(cells, time_iso_forms);
  tcase_add_test(cells, time_leap_years);
  tcase_add_test(cells, time_epoch_seconds);
  tcase_add_test(cells, time_database_forms);
  tcase_add_test(cells, time_bad_forms);
  tcase_add_test(cells, time_cache_matches_plain_parse);
  tcase_add_test(cells, time_format);
  tcase_add_test(cells, time_format_round_trip);
  tcase_add_test(cells, int_cells);
  tcase_add_test(cells, float_cells);
  tcase_add_test(cells, bool_cells);
  tcase_add_test(cells, duration_cells);
  suite_add_tcase(s, cells);

  TCase *csv_case = tcase_create("csv");
  tcase_add_checked_fixture(csv_case, make_tmpdir, remove_tmpdir);
  tcase_add_test(csv_case, csv_typed_fields_any_column_order);
  tcase_add_test(csv_case, csv_missing_columns_use_defaults_or_fail);
  tcase_add_test(csv_case, csv_wrong_types_name_column_and_value);
  tcase_add_test(csv_case, csv_bad_rows_carry_raw_text);
  tcase_add_test(csv_case, reasons_quote_and_shorten_values);
  tcase_add_test(csv_case, csv_quoting);
  tcase_add_test(csv_case, csv_blank_lines_crlf_bom_no_final_newline);
  tcase_add_test(csv_case, csv_ragged_rows);
  tcase_add_test(csv_case, csv_unterminated_quote);
  tcase_add_test(csv_case, csv_header_errors);
  tcase_add_test(csv_case, csv_empty_input);
  tcase_add_test(csv_case, csv_undeclared_and_control_events);
  tcase_add_test(csv_case, csv_control_events_without_columns);
  tcase_add_test(csv_case, csv_many_event_types);
  tcase_add_test(csv_case, csv_accounts);
  tcase_add_test(csv_case, csv_chunk_boundaries);
  tcase_add_test(csv_case, csv_plain_and_quoted_random);
  tcase_add_test(csv_case, csv_large_input_spans_reads);
  tcase_add_test(csv_case, csv_record_too_long);
  suite_add_tcase(s, csv_case);

  TCase *files = tcase_create("files");
  tcase_add_checked_fixture(files, make_tmpdir, remove_tmpdir);
  tcase_set_timeout(files, 60);
  tcase_add_test(files, gzip_csv_and_jsonl);
  tcase_add_test(files, gzip_text_pulled_and_parsed_in_pieces);
  tcase_add_test(files, gzip_truncated_is_an_io_error);
  tcase_add_test(files, gzip_members_trailing_bytes_and_plain);
  tcase_add_test(files, open_errors);
  tcase_add_test(files, format_by_extension_and_content);
  tcase_add_test(files, stdin_is_csv_unless_told);
  suite_add_tcase(s, files);

  TCase *json = tcase_create("jsonl");
  tcase_add_test(json, jsonl_typed_fields);
  tcase_add_test(json, jsonl_values_must_fit);
  tcase_add_test(json, jsonl_account_time_event_keys);
  tcase_add_test(json, jsonl_properties_merge);
  tcase_add_test(json, jsonl_time_forms);
  tcase_add_test(json, jsonl_string_escapes);
  tcase_add_test(json, jsonl_malformed);
  tcase_add_test(json, jsonl_compact_and_general_alike);
  tcase_add_test(json, jsonl_compact_and_spaced_random);
  tcase_add_test(json, jsonl_keys_moving_between_places);
  tcase_add_test(json, jsonl_long_plain_line);
  tcase_add_test(json, jsonl_nesting_blank_lines_and_depth);
  tcase_add_test(json, jsonl_chunk_boundaries);
  tcase_add_test(json, jsonl_accounts);
  suite_add_tcase(s, json);

  TCase *order = tcase_create("order");
  tcase_add_checked_fixture(order, make_tmpdir, remove_tmpdir);
  tcase_set_timeout(order, 60);
  tcase_add_test(order, merge_orders_sorted_files);
  tcase_add_test(order, merge_detects_unsorted_input);
  tcase_add_test(order, merge_reads_stdin_twice);
  tcase_add_test(order, merge_rewinds_stdin_read_partly);
  tcase_add_test(order, merge_rewinds_a_named_pipe);
  tcase_add_test(order, merge_open_errors);
  tcase_add_test(order, sorter_in_memory);
  tcase_add_test(order, sorter_spills_runs);
  tcase_add_test(order, sorter_drops_the_last_event);
  tcase_add_test(order, sorter_big_records_and_empty);
  tcase_add_test(order, sorter_misuse_and_spill_errors);
  tcase_add_test(order, merge_then_sort_unsorted_input);
  tcase_add_test(order, ranges_cut_at_line_starts);
  tcase_add_test(order, ranges_of_json_lines_and_unsplittable_inputs);
  suite_add_tcase(s, order);
  return s;
}

int main(void) {
  SRunner *runner = srunner_create(io_suite());
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
