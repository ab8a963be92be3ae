/* io_fuzz.h — shared by fuzz_csv.c and fuzz_jsonl.c: a schema with every
 * field type, and a reading of the whole input that is hashed so that two
 * readings through different buffer sizes can be compared.  Besides the
 * sanitizers' checks, a target aborts when
 * - the readings differ (a record split across reads parsed differently),
 * - a reader returns more records than the input has lines (a hang),
 * - a time it accepted does not survive io_format_time and back. */
#ifndef MSL_IO_FUZZ_H
#define MSL_IO_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_internal.h"

static const io_field_schema fuzz_login_fields[] = {{"user", VALUE_STRING, false, {0}}};
static const io_field_schema fuzz_typed_fields[] = {
    {"n", VALUE_INT, false, {0}},
    {"x", VALUE_FLOAT, true, {.f = 1.5}},
    {"ok", VALUE_BOOL, true, {.b = true}},
    {"s", VALUE_STRING, true, {.s = {"dflt", 4}}},
    {"at", VALUE_TIME, true, {.i = 0}},
    {"d", VALUE_DURATION, false, {0}},
};
static const io_field_schema fuzz_account_fields[] = {
    {"plan", VALUE_STRING, false, {0}},
    {"seats", VALUE_INT, true, {.i = 0}},
    {"kickoff", VALUE_TIME, true, {.i = 0}},
};
static const io_event_schema fuzz_events[] = {
    {"login", 1, fuzz_login_fields},
    {"typed", 6, fuzz_typed_fields},
    {"ping", 0, NULL},
};
static const io_schema fuzz_schema = {3, fuzz_events, 3, fuzz_account_fields};

static uint64_t fuzz_mix(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211u;
  return h;
}

static void fuzz_check_time(int64_t us) {
  char buf[32];
  int n = io_format_time(us, buf);
  int64_t back;
  if (!io_parse_time(buf, (size_t)n, &back) || back != us) abort();
}

static uint64_t fuzz_values(uint64_t h, const io_field_schema *fields, int n, const value_data *v) {
  for (int f = 0; f < n; f++) {
    switch (fields[f].type) {
      case VALUE_STRING:
        h = fuzz_mix(h, &v[f].s.len, sizeof v[f].s.len);
        h = fuzz_mix(h, v[f].s.p, v[f].s.len);
        break;
      case VALUE_BOOL: h = fuzz_mix(h, &v[f].b, sizeof v[f].b); break;
      case VALUE_FLOAT: h = fuzz_mix(h, &v[f].f, sizeof v[f].f); break;
      case VALUE_TIME: fuzz_check_time(v[f].i); /* fall through */
      default: h = fuzz_mix(h, &v[f].i, sizeof v[f].i); break;
    }
  }
  return h;
}

/* Reads everything; returns a hash of all records and errors. */
static uint64_t fuzz_read(const uint8_t *data, size_t size, io_format fmt, bool accounts,
                          size_t buffer_size, size_t max_record) {
  io_options opts = {.buffer_size = buffer_size, .max_record = max_record,
                     .data = (const char *)data, .data_len = size};
  io_error err;
  uint64_t h = 14695981039346656037u;
  io_reader *r = io_reader_open(&fuzz_schema, "fuzz", fmt, accounts, &opts, &err);
  if (!r) {
    h = fuzz_mix(h, err.reason, strlen(err.reason));
    return fuzz_mix(h, &err.line, sizeof err.line);
  }
  size_t lines = 1;
  for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
  for (size_t n = 0;; n++) {
    if (n > lines) abort();   /* more records than lines: the reader is stuck */
    io_event ev;
    io_account acct;
    int st = accounts ? io_accounts_next(r, &acct, &err) : io_events_next(r, &ev, &err);
    h = fuzz_mix(h, &st, sizeof st);
    if (st == IO_EOF || st == IO_FAILED) break;
    if (st == IO_BAD_ROW) {
      h = fuzz_mix(h, err.reason, strlen(err.reason));
      h = fuzz_mix(h, &err.line, sizeof err.line);
      /* an over-long record's raw text is what the buffer held */
      if (strncmp(err.reason, "record longer", 13) != 0) h = fuzz_mix(h, err.raw, err.raw_len);
      continue;
    }
    if (accounts) {
      if (acct.id.len == 0) abort();
      h = fuzz_mix(h, acct.id.p, acct.id.len);
      h = fuzz_mix(h, &acct.line, sizeof acct.line);
      h = fuzz_values(h, fuzz_schema.account_fields, fuzz_schema.naccount_fields, acct.values);
      continue;
    }
    if (ev.account.len == 0) abort();
    fuzz_check_time(ev.time);
    h = fuzz_mix(h, ev.account.p, ev.account.len);
    h = fuzz_mix(h, &ev.time, sizeof ev.time);
    h = fuzz_mix(h, &ev.type, sizeof ev.type);
    h = fuzz_mix(h, &ev.line, sizeof ev.line);
    h = fuzz_mix(h, ev.milestone.p, ev.milestone.len);
    h = fuzz_mix(h, ev.playbook.p, ev.playbook.len);
    if (ev.type >= 0)
      h = fuzz_values(h, fuzz_events[ev.type].fields, fuzz_events[ev.type].nfields, ev.values);
  }
  io_close(r);
  return h;
}

/* Reads the input as events and as accounts, once with a buffer larger
 * than any fuzz input and once with a tiny one; the readings must agree. */
static int fuzz_one(const uint8_t *data, size_t size, io_format fmt) {
  size_t tiny = 1 + (size > 0 ? data[0] % 13 : 0);
  size_t max_record = size > 0 && (data[size - 1] & 1) ? 80 : 0;
  for (int accounts = 0; accounts <= 1; accounts++) {
    uint64_t a = fuzz_read(data, size, fmt, accounts, 1 << 16, max_record);
    uint64_t b = fuzz_read(data, size, fmt, accounts, tiny, max_record);
    if (a != b) abort();
  }
  return 0;
}

#endif
