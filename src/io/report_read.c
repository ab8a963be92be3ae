/* report_read.c — what report.html is built from, read back from disk
 * (report_internal.h): summary.json as a JSON tree, and the rows of the
 * CSV (RFC 4180) or JSON Lines result files, by column name, in chunks.
 *
 * The files are msl's own, but a report may be built again later from a
 * directory anyone could have edited, so nothing is trusted: every syntax
 * error is reported with its line, nesting is bounded, and a row longer
 * than REPORT_MAX_ROW is refused rather than read into memory. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "io/report_internal.h"

/* ---- JSON ------------------------------------------------------------------------------- */

typedef struct json_parser {
  arena *a;
  const char *start, *p, *end;
  int depth;
  char *msg;
  size_t msglen;
} json_parser;

static void *json_fail(json_parser *j, const char *what) {
  int64_t line = 1;
  for (const char *q = j->start; q < j->p && q < j->end; q++) line += *q == '\n';
  util_set_msg(j->msg, j->msglen, "line %lld: %s", (long long)line, what);
  return NULL;
}

static void skip_space(json_parser *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static report_json *json_node(json_parser *j, report_json_kind kind, const char *text, size_t len) {
  report_json *v = arena_alloc(j->a, sizeof *v);
  v->kind = kind;
  v->text = text;
  v->len = len;
  return v;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The 4 hex digits at p (p + 4 <= end), or -1. */
static long hex4(const char *p) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int d = hex_digit(p[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

static size_t put_utf8(char *o, unsigned long cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | cp >> 18);
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A \u escape at j->p (after the `u`), a surrogate pair taken whole; a
 * lone surrogate becomes U+FFFD.  The code point, or -1. */
static long unicode_escape(json_parser *j) {
  if (j->end - j->p < 4) return -1;
  long cp = hex4(j->p);
  if (cp < 0) return -1;
  j->p += 4;
  if (cp >= 0xD800 && cp <= 0xDBFF && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
    long lo = hex4(j->p + 2);
    if (lo >= 0xDC00 && lo <= 0xDFFF) {
      j->p += 6;
      return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
  }
  return cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp;
}

/* A string at j->p (its opening quote), decoded into the arena: the
 * decoded text is never longer than the escaped one. */
static bool json_string(json_parser *j, const char **out, size_t *out_len) {
  const char *q = ++j->p;
  while (q < j->end && *q != '"') q += *q == '\\' ? 2 : 1;
  if (q >= j->end) return json_fail(j, "a string is not closed"), false;
  char *o = arena_alloc(j->a, (size_t)(q - j->p) + 1);
  size_t n = 0;
  while (*j->p != '"') {
    unsigned char c = (unsigned char)*j->p;
    if (c < 0x20) return json_fail(j, "a control character in a string"), false;
    if (c != '\\') {
      o[n++] = (char)c;
      j->p++;
      continue;
    }
    char e = j->p[1];
    j->p += 2;
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e && simple) {
      o[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
    } else if (e == 'u') {
      long cp = unicode_escape(j);
      if (cp < 0) return json_fail(j, "a bad \\u escape in a string"), false;
      n += put_utf8(o + n, (unsigned long)cp);
    } else {
      return json_fail(j, "a bad escape in a string"), false;
    }
  }
  j->p++;
  *out = o;
  *out_len = n;
  return true;
}

static size_t digits(const char *p, const char *end) {
  size_t n = 0;
  while (p + n < end && p[n] >= '0' && p[n] <= '9') n++;
  return n;
}

static report_json *json_number(json_parser *j) {
  const char *s = j->p, *p = s;
  if (p < j->end && *p == '-') p++;
  size_t n = digits(p, j->end);
  if (n == 0 || (n > 1 && *p == '0')) return json_fail(j, "a bad number");
  p += n;
  if (p < j->end && *p == '.') {
    if ((n = digits(++p, j->end)) == 0) return json_fail(j, "a bad number");
    p += n;
  }
  if (p < j->end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < j->end && (*p == '+' || *p == '-')) p++;
    if ((n = digits(p, j->end)) == 0) return json_fail(j, "a bad number");
    p += n;
  }
  j->p = p;
  /* a copy: the tree outlives the text */
  return json_node(j, REPORT_JSON_NUMBER, arena_strndup(j->a, s, (size_t)(p - s)), (size_t)(p - s));
}

static report_json *json_value(json_parser *j);

/* An array or object at j->p: its members collected in growable arrays,
 * then copied into the arena. */
static report_json *json_container(json_parser *j, bool object) {
  if (++j->depth > REPORT_JSON_MAX_DEPTH) return json_fail(j, "nesting too deep");
  char close = object ? '}' : ']';
  UTIL_VEC(report_json *) items = {0};
  UTIL_VEC(const char *) keys = {0};
  UTIL_VEC(size_t) key_lens = {0};
  report_json *result = NULL;
  j->p++;
  skip_space(j);
  bool first = true;
  for (;;) {
    if (j->p < j->end && *j->p == close) break;
    if (!first) {
      if (j->p >= j->end || *j->p != ',') {
        json_fail(j, object ? "expected `,` or `}`" : "expected `,` or `]`");
        goto out;
      }
      j->p++;
      skip_space(j);
    }
    if (object) {
      const char *k;
      size_t klen;
      if (j->p >= j->end || *j->p != '"') {
        json_fail(j, "expected a member name");
        goto out;
      }
      if (!json_string(j, &k, &klen)) goto out;
      skip_space(j);
      if (j->p >= j->end || *j->p != ':') {
        json_fail(j, "expected `:`");
        goto out;
      }
      j->p++;
      UTIL_VEC_PUSH(keys, k, 8);
      UTIL_VEC_PUSH(key_lens, klen, 8);
    }
    report_json *v = json_value(j);
    if (!v) goto out;
    UTIL_VEC_PUSH(items, v, 8);
    skip_space(j);
    first = false;
  }
  j->p++;
  result = json_node(j, object ? REPORT_JSON_OBJECT : REPORT_JSON_ARRAY, "", 0);
  result->n = items.len;
  result->items = arena_alloc(j->a, items.len * sizeof *result->items + 1);
  if (items.len) memcpy(result->items, items.items, items.len * sizeof *result->items);
  if (object) {
    result->keys = arena_alloc(j->a, keys.len * sizeof *result->keys + 1);
    result->key_lens = arena_alloc(j->a, keys.len * sizeof *result->key_lens + 1);
    if (keys.len) {
      memcpy(result->keys, keys.items, keys.len * sizeof *result->keys);
      memcpy(result->key_lens, key_lens.items, keys.len * sizeof *result->key_lens);
    }
  }
  j->depth--;
out:
  free(items.items);
  free(keys.items);
  free(key_lens.items);
  return result;
}

static bool literal(json_parser *j, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return false;
  j->p += n;
  return true;
}

static report_json *json_value(json_parser *j) {
  skip_space(j);
  if (j->p >= j->end) return json_fail(j, "a value is missing");
  char c = *j->p;
  if (c == '{' || c == '[') return json_container(j, c == '{');
  if (c == '"') {
    const char *s;
    size_t n;
    return json_string(j, &s, &n) ? json_node(j, REPORT_JSON_STRING, s, n) : NULL;
  }
  if (c == '-' || (c >= '0' && c <= '9')) return json_number(j);
  if (literal(j, "true")) return json_node(j, REPORT_JSON_TRUE, "true", 4);
  if (literal(j, "false")) return json_node(j, REPORT_JSON_FALSE, "false", 5);
  if (literal(j, "null")) return json_node(j, REPORT_JSON_NULL, "", 0);
  return json_fail(j, "not a JSON value");
}

report_json *report_json_parse(arena *a, const char *text, size_t len, char *msg, size_t msglen) {
  json_parser j = {a, text, text, text + len, 0, msg, msglen};
  report_json *v = json_value(&j);
  if (!v) return NULL;
  skip_space(&j);
  if (j.p != j.end) return json_fail(&j, "text after the value");
  return v;
}

const report_json *report_json_get(const report_json *obj, const char *key) {
  if (!obj || obj->kind != REPORT_JSON_OBJECT) return NULL;
  size_t n = strlen(key);
  for (size_t i = 0; i < obj->n; i++)
    if (obj->key_lens[i] == n && memcmp(obj->keys[i], key, n) == 0) return obj->items[i];
  return NULL;
}

/* ---- rows ------------------------------------------------------------------------------------ */

#define READ_CHUNK ((size_t)1 << 20)

struct report_rows {
  FILE *f;
  char *path;
  bool jsonl;
  const char *const *columns;
  int ncols;
  int *col_of;             /* CSV: the file's column of each wanted one */
  int file_cols;           /* CSV: the header's number of cells */
  char *buf;               /* READ_CHUNK bytes read ahead, then 16 zeroes */
  size_t pos, end;
  bool eof, at_start;
  int64_t line, row_line;  /* the line of the next byte; where the row started */
  UTIL_VEC(char) text;     /* the row's bytes: CSV cells unquoted, each then a separator; or a JSON line */
  UTIL_VEC(size_t) cell_start;   /* CSV: where each cell starts in text, one byte after the
                                     previous one's end (a separator); one more ends the last */
  arena row_arena;         /* JSON Lines: the tree of the current row */
};

static int rows_fail(report_rows *r, char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int rows_fail(report_rows *r, char *msg, size_t msglen, const char *fmt, ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  util_vset_msg(what, sizeof what, fmt, ap);
  va_end(ap);
  util_set_msg(msg, msglen, "%s:%lld: %s", r->path, (long long)r->row_line, what);
  return -1;
}

/* The next byte, or -1 at the end, or -2 on a read error. */
static int next_byte(report_rows *r) {
  if (r->pos == r->end) {
    if (r->eof) return -1;
    size_t n = fread(r->buf, 1, READ_CHUNK, r->f);
    memset(r->buf + n, 0, 16);   /* csv_plain_record scans 16 bytes at a time */
    if (n == 0) {
      if (ferror(r->f)) return -2;
      r->eof = true;
      return -1;
    }
    r->pos = 0;
    r->end = n;
  }
  return (unsigned char)r->buf[r->pos++];
}

/* Takes back the byte next_byte just returned (always in the buffer). */
static void unread_byte(report_rows *r) { r->pos--; }

static int read_error(report_rows *r, char *msg, size_t msglen) {
  util_set_msg(msg, msglen, "cannot read %s: %s", r->path, strerror(errno ? errno : EIO));
  return -1;
}

static bool append_byte(report_rows *r, int c) {
  if (r->text.len >= REPORT_MAX_ROW) return false;
  UTIL_VEC_PUSH(r->text, (char)c, 256);
  return true;
}

/* Appends the run of ordinary bytes of an unquoted cell that starts at
 * the read position (up to a comma, CR or LF, or the buffer's end) at
 * once; false past REPORT_MAX_ROW. */
static bool append_plain_run(report_rows *r) {
  size_t i = r->pos;
  while (i < r->end && r->buf[i] != ',' && r->buf[i] != '\n' && r->buf[i] != '\r') i++;
  size_t n = i - r->pos;
  if (!n) return true;
  if (r->text.len + n > REPORT_MAX_ROW) return false;
  util_xgrow(&r->text.items, &r->text.cap, r->text.len + n, 1, 256);
  memcpy(r->text.items + r->text.len, r->buf + r->pos, n);
  r->text.len += n;
  r->pos = i;
  return true;
}

/* Skips a UTF-8 byte-order mark at the start of the file. */
static void skip_bom(report_rows *r) {
  r->at_start = false;
  int c = next_byte(r);
  if (c < 0) return;
  if (c == 0xEF && r->end - r->pos >= 2 && (unsigned char)r->buf[r->pos] == 0xBB &&
      (unsigned char)r->buf[r->pos + 1] == 0xBF)
    r->pos += 2;
  else
    unread_byte(r);
}

enum { CSV_FIELD_START, CSV_UNQUOTED, CSV_QUOTED, CSV_QUOTE_IN_QUOTED };

/* Ends the record's last cell; an unquoted one loses the CR of a CRLF. */
static void csv_end_record(report_rows *r, bool unquoted) {
  size_t start = r->cell_start.items[r->cell_start.len - 1];
  if (unquoted && r->text.len > start && r->text.items[r->text.len - 1] == '\r') r->text.len--;
  UTIL_VEC_PUSH(r->cell_start, r->text.len + 1, 16);   /* as if a separator followed */
}

/* Cell k of the record: from its start to the separator before the next. */
static report_cell cell_at(const report_rows *r, size_t k) {
  size_t s = r->cell_start.items[k], e = r->cell_start.items[k + 1] - 1;
  return (report_cell){r->text.items + s, e - s};
}

/* The common record, whole in the buffer, without quotes and not blank,
 * taken at once (what the byte-wise reader below makes of it): its bytes
 * copied, commas and all, and cut at the commas, found sixteen bytes at a
 * time.  false when the record is not such a one. */
static bool csv_plain_record(report_rows *r) {
  const char *p = r->buf + r->pos;
  size_t avail = r->end - r->pos;
  r->cell_start.len = 0;
  UTIL_VEC_PUSH(r->cell_start, 0, 16);
  for (size_t i = 0; i < avail && i <= REPORT_MAX_ROW; i += 16) {
    unsigned comma, quote, newline;
    util_csv_marks(p + i, &comma, &quote, &newline);
    unsigned mine = newline ? (newline & -newline) - 1 : 0xFFFFu;   /* the record's bytes here */
    if (quote & mine) return false;
    for (comma &= mine; comma; comma &= comma - 1)
      UTIL_VEC_PUSH(r->cell_start, i + (unsigned)__builtin_ctz(comma) + 1, 16);
    if (!newline) continue;
    size_t len = i + (unsigned)__builtin_ctz(newline);
    if (len < 2 || len > REPORT_MAX_ROW) return false;
    util_xgrow(&r->text.items, &r->text.cap, len, 1, 256);
    memcpy(r->text.items, p, len);
    r->text.len = len;
    csv_end_record(r, true);
    r->row_line = r->line++;
    r->pos += len + 1;
    return true;
  }
  return false;
}

/* Reads one CSV record into text and cell_start, skipping blank lines:
 * 1, 0 at the end, -1 with msg. */
static int csv_record(report_rows *r, char *msg, size_t msglen) {
  if (r->at_start) skip_bom(r);
  if (csv_plain_record(r)) return 1;
  int st = CSV_FIELD_START;
  bool blank = true;       /* nothing but an optional CR yet */
  r->text.len = r->cell_start.len = 0;
  UTIL_VEC_PUSH(r->cell_start, 0, 16);
  r->row_line = r->line;
  for (;;) {
    int c = next_byte(r);
    if (c == -2) return read_error(r, msg, msglen);
    if (c == -1) {
      if (st == CSV_QUOTED) return rows_fail(r, msg, msglen, "a quoted cell is not closed");
      if (blank) return 0;
      csv_end_record(r, st != CSV_QUOTE_IN_QUOTED);
      return 1;
    }
    if (st == CSV_FIELD_START) {
      if (c == '"') {
        st = CSV_QUOTED;
        blank = false;
        continue;
      }
      st = CSV_UNQUOTED;
    }
    if (st == CSV_UNQUOTED || st == CSV_QUOTE_IN_QUOTED) {
      if (c == ',') {
        if (!append_byte(r, ',')) return rows_fail(r, msg, msglen, "a row longer than %zu MiB", REPORT_MAX_ROW >> 20);
        UTIL_VEC_PUSH(r->cell_start, r->text.len, 16);
        st = CSV_FIELD_START;
        blank = false;
        continue;
      }
      if (c == '\n') {
        r->line++;
        if (blank) {       /* a blank line: no record */
          r->text.len = 0;
          r->row_line = r->line;
          st = CSV_FIELD_START;
          continue;
        }
        csv_end_record(r, st == CSV_UNQUOTED);
        return 1;
      }
      if (st == CSV_QUOTE_IN_QUOTED) {
        if (c == '"') {
          st = CSV_QUOTED;
        } else if (c == '\r') {
          int d = next_byte(r);
          if (d >= 0) unread_byte(r);
          if (d != '\n') return rows_fail(r, msg, msglen, "a quoted cell must end at a comma or the line's end");
          continue;
        } else {
          return rows_fail(r, msg, msglen, "a quoted cell must end at a comma or the line's end");
        }
      } else if (c != '\r' || r->text.len > r->cell_start.items[r->cell_start.len - 1]) {
        blank = false;
      }
    } else if (c == '"') {   /* CSV_QUOTED */
      st = CSV_QUOTE_IN_QUOTED;
      continue;
    } else if (c == '\n') {
      r->line++;
    }
    if (!append_byte(r, c)) return rows_fail(r, msg, msglen, "a row longer than %zu MiB", REPORT_MAX_ROW >> 20);
    /* the rest of an unquoted cell's ordinary bytes in one go: the byte
       just taken was one, so the record is not blank */
    if (st == CSV_UNQUOTED && c != '\r' && !append_plain_run(r))
      return rows_fail(r, msg, msglen, "a row longer than %zu MiB", REPORT_MAX_ROW >> 20);
  }
}

/* Reads one line (without its LF and a CR before it) that holds more
 * than white space: 1, 0 at the end, -1 with msg. */
static int json_line(report_rows *r, char *msg, size_t msglen) {
  if (r->at_start) skip_bom(r);
  for (;;) {
    r->text.len = 0;
    r->row_line = r->line;
    int c;
    while ((c = next_byte(r)) >= 0 && c != '\n')
      if (!append_byte(r, c)) return rows_fail(r, msg, msglen, "a row longer than %zu MiB", REPORT_MAX_ROW >> 20);
    if (c == -2) return read_error(r, msg, msglen);
    if (c == '\n') r->line++;
    if (r->text.len && r->text.items[r->text.len - 1] == '\r') r->text.len--;
    for (size_t i = 0; i < r->text.len; i++)
      if (!strchr(" \t\r", r->text.items[i])) return 1;
    if (c == -1) return 0;
  }
}

report_rows *report_rows_open(const char *path, bool jsonl, const char *const *columns, int ncols,
                              char *msg, size_t msglen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    util_set_msg(msg, msglen, "cannot read %s: %s", path, strerror(errno));
    return NULL;
  }
  report_rows *r = util_xalloc(sizeof *r);
  r->f = f;
  r->path = util_xstrndup(path, strlen(path));
  r->jsonl = jsonl;
  r->columns = columns;
  r->ncols = ncols;
  r->buf = util_xalloc(READ_CHUNK + 16);
  r->line = r->row_line = 1;
  r->at_start = true;
  arena_init(&r->row_arena);
  if (jsonl) return r;

  int got = csv_record(r, msg, msglen);
  if (got <= 0) {
    if (got == 0) util_set_msg(msg, msglen, "%s: the file is empty: it has no header row", path);
    report_rows_close(r);
    return NULL;
  }
  r->file_cols = (int)r->cell_start.len - 1;
  r->col_of = util_xalloc((size_t)ncols * sizeof *r->col_of);
  for (int i = 0; i < ncols; i++) {
    r->col_of[i] = -1;
    size_t n = strlen(columns[i]);
    for (int k = r->file_cols; k-- > 0;) {
      report_cell c = cell_at(r, (size_t)k);
      if (c.len == n && memcmp(c.p, columns[i], n) == 0) r->col_of[i] = k;
    }
    if (r->col_of[i] < 0) {
      util_set_msg(msg, msglen, "%s:1: the header has no column `%s`", path, columns[i]);
      report_rows_close(r);
      return NULL;
    }
  }
  return r;
}

static int json_row(report_rows *r, report_cell *cells, char *msg, size_t msglen) {
  int got = json_line(r, msg, msglen);
  if (got <= 0) return got;
  arena_free(&r->row_arena);
  arena_init(&r->row_arena);
  char what[200];
  const report_json *obj = report_json_parse(&r->row_arena, r->text.items, r->text.len, what, sizeof what);
  if (!obj) return rows_fail(r, msg, msglen, "not JSON: %s", what + (strncmp(what, "line 1: ", 8) ? 0 : 8));
  if (obj->kind != REPORT_JSON_OBJECT) return rows_fail(r, msg, msglen, "a row must be a JSON object");
  for (int i = 0; i < r->ncols; i++) {
    const report_json *v = report_json_get(obj, r->columns[i]);
    if (!v) return rows_fail(r, msg, msglen, "the row has no `%s`", r->columns[i]);
    if (v->kind == REPORT_JSON_ARRAY || v->kind == REPORT_JSON_OBJECT)
      return rows_fail(r, msg, msglen, "`%s` is not a string", r->columns[i]);
    cells[i] = (report_cell){v->text, v->len};
  }
  return 1;
}

int report_rows_next(report_rows *r, report_cell *cells, char *msg, size_t msglen) {
  if (r->jsonl) return json_row(r, cells, msg, msglen);
  int got = csv_record(r, msg, msglen);
  if (got <= 0) return got;
  int n = (int)r->cell_start.len - 1;
  if (n != r->file_cols) return rows_fail(r, msg, msglen, "%d cells, but the header has %d", n, r->file_cols);
  for (int i = 0; i < r->ncols; i++) cells[i] = cell_at(r, (size_t)r->col_of[i]);
  return 1;
}

int64_t report_rows_line(const report_rows *r) { return r->row_line; }

void report_rows_close(report_rows *r) {
  if (!r) return;
  fclose(r->f);   /* read only: nothing to lose */
  arena_free(&r->row_arena);
  free(r->path);
  free(r->buf);
  free(r->col_of);
  free(r->text.items);
  free(r->cell_start.items);
  free(r);
}
