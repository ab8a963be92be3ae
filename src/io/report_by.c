/* report_by.c — status counts by the value of an account field
 * (report_by.h).
 *
 * A value is counted under its text as a cell would hold it: a string's
 * bytes, `true`/`false`, an int in decimal, a float as the shortest text
 * that reads back the same, a time as milestones.csv writes times, a
 * duration in seconds (up to 6 decimals).  The key is that text as a JSON
 * string, so two values whose texts only differ in bytes that are not
 * valid UTF-8 (both written \ufffd) share one key rather than repeat it. */
#include "io/report_by.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/htable.h"
#include "core/suggest.h"
#include "io/io.h"

typedef struct by_value {
  const char *key;         /* the value's text as a JSON string, quotes included */
  size_t key_len;
  int64_t *counts;         /* [milestone * OUT_ST__COUNT + status] */
  bool applies[];          /* per milestone: some account of this value has a row */
} by_value;

struct report_by {
  const bc_program *p;
  uint32_t field;
  arena mem;               /* keys, values and counts */
  htable by_key;           /* key -> by_value */
  UTIL_VEC(by_value *) values;
  bool sorted;
  UTIL_VEC(char) text;     /* scratch: a value's text, then its key */
};

uint32_t report_by_find_field(const bc_program *p, const char *name, const char **closest) {
  suggest s = {.word = name, .max_distance = suggest_default_distance(name)};
  for (uint32_t i = 0; i < p->naccount_fields; i++) {
    const char *field = bc_str(p, p->account_fields[i].name);
    if (strcmp(field, name) == 0) return i;
    suggest_offer(&s, field);
  }
  *closest = s.best;
  return BC_NONE;
}

report_by *report_by_new(const bc_program *p, uint32_t field) {
  report_by *b = util_xalloc(sizeof *b);
  b->p = p;
  b->field = field;
  arena_init(&b->mem);
  htable_init(&b->by_key, &b->mem);
  return b;
}

static void text_put(void *ctx, const char *s, size_t n) {
  report_by *b = ctx;
  util_xgrow(&b->text.items, &b->text.cap, b->text.len + n, 1, 64);
  memcpy(b->text.items + b->text.len, s, n);
  b->text.len += n;
}

/* The value's text (see the top of the file) into buf; returns its length,
 * or -1 for a string, whose bytes are the value's own. */
static int value_text(value_type type, value_data v, char *buf, size_t len) {
  switch (type) {
    case VALUE_BOOL: return snprintf(buf, len, "%s", v.b ? "true" : "false");
    case VALUE_INT: return snprintf(buf, len, "%" PRId64, v.i);
    case VALUE_FLOAT: {
      int n = 0;
      for (int digits = 1; digits <= 17; digits++) {
        n = snprintf(buf, len, "%.*g", digits, v.f);
        if (strtod(buf, NULL) == v.f) break;
      }
      return n;
    }
    case VALUE_TIME: return io_format_time(v.i, buf);
    case VALUE_DURATION: {
      uint64_t mag = v.i < 0 ? 0 - (uint64_t)v.i : (uint64_t)v.i;
      int n = snprintf(buf, len, "%s%" PRIu64, v.i < 0 ? "-" : "", mag / 1000000);
      unsigned frac = (unsigned)(mag % 1000000);
      if (!frac) return n;
      int digits = 6;
      for (; frac % 10 == 0; frac /= 10) digits--;
      return n + snprintf(buf + n, len - (size_t)n, ".%0*u", digits, frac);
    }
    default: return -1;
  }
}

/* The entry of the value v, made on first sight. */
static by_value *value_entry(report_by *b, value_data v) {
  value_type type = (value_type)b->p->account_fields[b->field].type;
  char buf[64];
  int n = value_text(type, v, buf, sizeof buf);
  const char *s = n < 0 ? v.s.p : buf;
  size_t len = n < 0 ? v.s.len : (size_t)n;
  b->text.len = 0;
  util_json_string(s ? s : "", len, text_put, b);
  by_value *e = htable_get(&b->by_key, b->text.items, b->text.len);
  if (e) return e;
  uint32_t nms = b->p->nmilestones;
  e = arena_alloc(&b->mem, sizeof *e + nms * sizeof e->applies[0]);
  e->key = arena_strndup(&b->mem, b->text.items, b->text.len);
  e->key_len = b->text.len;
  e->counts = arena_alloc(&b->mem, (size_t)nms * OUT_ST__COUNT * sizeof *e->counts);
  htable_put(&b->by_key, e->key, e->key_len, e);
  UTIL_VEC_PUSH(b->values, e, 16);
  b->sorted = false;
  return e;
}

void report_by_add(report_by *b, const value_data *fields, const out_milestone_row *rows, int nrows) {
  by_value *e = value_entry(b, fields[b->field]);
  for (int i = 0; i < nrows; i++) {
    e->applies[rows[i].milestone] = true;
    e->counts[(size_t)rows[i].milestone * OUT_ST__COUNT + rows[i].status]++;
  }
}

static int key_cmp(const void *x, const void *y) {
  const by_value *a = *(by_value *const *)x, *b = *(by_value *const *)y;
  int c = memcmp(a->key, b->key, a->key_len < b->key_len ? a->key_len : b->key_len);
  return c ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

static void put_str(util_put_fn *put, void *ctx, const char *s) { put(ctx, s, strlen(s)); }

void report_by_write(report_by *b, uint32_t mi, const out_status *statuses, int nstatuses, util_put_fn *put,
                     void *ctx) {
  if (!b->sorted && b->values.len) qsort(b->values.items, b->values.len, sizeof *b->values.items, key_cmp);
  b->sorted = true;
  put_str(put, ctx, "      \"by\": {\n        \"field\": ");
  const char *field = bc_str(b->p, b->p->account_fields[b->field].name);
  util_json_string(field, strlen(field), put, ctx);
  put_str(put, ctx, ",\n        \"values\": {");
  bool first = true;
  for (size_t v = 0; v < b->values.len; v++) {
    const by_value *e = b->values.items[v];
    if (!e->applies[mi]) continue;
    put_str(put, ctx, first ? "\n          " : ",\n          ");
    first = false;
    put(ctx, e->key, e->key_len);
    put_str(put, ctx, ": {\n");
    for (int s = 0; s < nstatuses; s++) {
      char line[96];
      int n = snprintf(line, sizeof line, "            \"%s\": %" PRId64 "%s\n", out_status_name(statuses[s]),
                       e->counts[(size_t)mi * OUT_ST__COUNT + statuses[s]], s + 1 < nstatuses ? "," : "");
      put(ctx, line, (size_t)n);
    }
    put_str(put, ctx, "          }");
  }
  put_str(put, ctx, first ? "}\n      }" : "\n        }\n      }");
}

void report_by_free(report_by *b) {
  if (!b) return;
  arena_free(&b->mem);
  free(b->values.items);
  free(b->text.items);
  free(b);
}
