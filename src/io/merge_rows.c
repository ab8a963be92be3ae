/* merge_rows.c — the row files of `msl merge` (merge_internal.h): one
 * file of every shard merged by account id into one, each row copied as
 * its bytes.
 *
 * A shard's file lists its accounts in id byte order, each account's rows
 * together (SPEC 7), and an account is in one shard only, so a k-way merge
 * that takes all the rows of the least account next gives the order one
 * run writes.  The sources sit in a binary heap by their next account id;
 * each reads its file in chunks, a record (a CSV record, quoted line ends
 * included, or a JSON line) at a time, so memory holds one chunk per shard
 * whatever the files' sizes.  The id is the first cell: CSV unquoted, or a
 * JSON string decoded (an id that is not valid UTF-8 was written with
 * \ufffd, so such ids order by that text). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io.h"
#include "io/merge_internal.h"

#define CHUNK ((size_t)1 << 16)
/* The longest row accepted (as report.html's reader: report_internal.h). */
#define MAX_ROW ((size_t)128 << 20)
#define OUT_BUF ((size_t)1 << 20)

typedef struct row_source {
  char *path;
  int fd;
  bool jsonl, eof;
  char *buf;
  size_t cap, pos, end;    /* unread bytes: buf[pos, end) */
  int64_t line;            /* the line the unread bytes start on */
  size_t rec, rec_len;     /* the current record: buf[rec, rec + rec_len), its LF included */
  int64_t rec_line;
  const char *id;          /* its account id: into buf, or id_buf */
  size_t id_len;
  UTIL_VEC(char) id_buf;
} row_source;

typedef struct rows_merge {
  row_source *src;
  int n;
  int *heap;               /* the sources that have a record, least id first */
  int nheap;
  int out_fd;
  const char *out_label;
  char *out;
  size_t out_len;
  int out_err;
  merge_milestone *ms;     /* the milestones file: what summary.json needs of its rows */
  size_t nms, last_ms;
  int col[4];              /* CSV: the columns of milestone, status, started_at, achieved_at */
  char *msg;
  size_t msglen;
} rows_merge;

static merge_status bad_row(rows_merge *m, const row_source *s, const char *what) {
  util_set_msg(m->msg, m->msglen, "%s:%lld: %s", s->path, (long long)s->rec_line, what);
  return MERGE_BAD_INPUT;
}

/* ---- reading records ---------------------------------------------------------------------- */

/* Reads more after the unread bytes (moved to the front; the buffer grows
 * when they fill it).  False on a read error (msg set). */
static bool fill(rows_merge *m, row_source *s) {
  if (s->pos > 0) {
    memmove(s->buf, s->buf + s->pos, s->end - s->pos);
    s->end -= s->pos;
    s->pos = 0;
  }
  if (s->end == s->cap) util_xgrow(&s->buf, &s->cap, s->cap + 1, 1, CHUNK);
  ssize_t got;
  do got = read(s->fd, s->buf + s->end, s->cap - s->end);
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    util_set_msg(m->msg, m->msglen, "cannot read %s: %s", s->path, strerror(errno));
    return false;
  }
  if (got == 0) s->eof = true;
  s->end += (size_t)got;
  return true;
}

/* The length of the record at buf[pos, end), its LF included, or 0 when
 * the unread bytes hold no whole one: a JSON line, or a CSV record, whose
 * quoted cells may hold line ends. */
static size_t record_length(const row_source *s) {
  bool quoted = false;
  for (size_t i = s->pos; i < s->end; i++) {
    char c = s->buf[i];
    if (c == '"' && !s->jsonl) quoted = !quoted;
    else if (c == '\n' && !quoted) return i + 1 - s->pos;
  }
  return 0;
}

/* The account id of the current record: the first CSV cell, unquoted, or
 * the JSON string of `{"account":`, decoded. */
static merge_status record_id(rows_merge *m, row_source *s);

/* Makes the next record current: MERGE_OK with s->rec_len 0 at the end. */
static merge_status next_record(rows_merge *m, row_source *s) {
  for (size_t i = s->rec; i < s->rec + s->rec_len; i++) s->line += s->buf[i] == '\n';
  s->rec_len = 0;
  size_t len;
  while ((len = record_length(s)) == 0) {
    if (s->eof) {
      if (s->pos == s->end) return MERGE_OK;
      s->rec_line = s->line;
      return bad_row(m, s, "the last row has no line end");
    }
    if (s->end - s->pos >= MAX_ROW) {
      s->rec_line = s->line;
      return bad_row(m, s, "a row longer than 128 MiB");
    }
    if (!fill(m, s)) return MERGE_IO;
  }
  s->rec = s->pos;
  s->rec_len = len;
  s->rec_line = s->line;
  s->pos += len;
  return record_id(m, s);
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static long hex4(const char *p, const char *end) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int d = p + i < end ? hex_value(p[i]) : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

static void push_utf8(row_source *s, unsigned long cp) {
  char o[4];
  int n;
  if (cp < 0x80) {
    o[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    o[0] = (char)(0xC0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  for (int i = 0; i < n; i++) UTIL_VEC_PUSH(s->id_buf, o[i], 64);
}

/* Decodes the JSON string at p (its opening quote) into s->id_buf; the
 * end of the string, or NULL when it is not one. */
static const char *decode_json_id(row_source *s, const char *p, const char *end) {
  s->id_buf.len = 0;
  for (p++; p < end && *p != '"'; p++) {
    if (*p != '\\') {
      UTIL_VEC_PUSH(s->id_buf, *p, 64);
      continue;
    }
    if (++p >= end) return NULL;
    const char *simple = strchr("\"\\/bfnrt", *p);
    if (*p && simple) {
      UTIL_VEC_PUSH(s->id_buf, "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"], 64);
      continue;
    }
    long cp = *p == 'u' ? hex4(p + 1, end) : -1;
    if (cp < 0) return NULL;
    p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF && end - p > 6 && p[1] == '\\' && p[2] == 'u') {
      long lo = hex4(p + 3, end);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        p += 6;
      }
    }
    push_utf8(s, (unsigned long)(cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp));
  }
  return p < end ? p + 1 : NULL;
}

static merge_status record_id(rows_merge *m, row_source *s) {
  const char *p = s->buf + s->rec, *end = p + s->rec_len - 1;
  if (s->jsonl) {
    static const char head[] = "{\"account\":";
    size_t hl = sizeof head - 1;
    if (end - p <= (ptrdiff_t)hl || memcmp(p, head, hl) != 0 || p[hl] != '"' || !decode_json_id(s, p + hl, end))
      return bad_row(m, s, "a row that does not begin with its account");
    s->id = s->id_buf.items;
    s->id_len = s->id_buf.len;
    return MERGE_OK;
  }
  if (p < end && *p == '"') {
    s->id_buf.len = 0;
    for (p++; p < end; p++) {
      if (*p == '"' && !(p + 1 < end && p[1] == '"')) break;
      UTIL_VEC_PUSH(s->id_buf, *p, 64);
      p += *p == '"';
    }
    s->id = s->id_buf.items;
    s->id_len = s->id_buf.len;
  } else {
    const char *q = p;
    while (q < end && *q != ',') q++;
    s->id = p;
    s->id_len = (size_t)(q - p);
  }
  return s->id_len ? MERGE_OK : bad_row(m, s, "a row without its account");
}

/* ---- the cells a milestone row's time to complete needs ------------------------------------- */

/* Cell i of the CSV record at p (its quotes, if any, taken off). */
static bool csv_cell(const char *p, const char *end, int want, const char **cell, size_t *len) {
  for (int i = 0;; i++) {
    const char *start = p;
    bool quoted = p < end && *p == '"';
    if (quoted) {
      for (p++; p < end && !(*p == '"' && !(p + 1 < end && p[1] == '"')); p += *p == '"' ? 2 : 1) {}
      p++;
    } else {
      while (p < end && *p != ',') p++;
    }
    if (i == want) {
      *cell = start + quoted;
      *len = (size_t)(p - start) - (quoted ? 2 : 0);
      return p <= end;
    }
    if (p >= end) return false;
    p++;   /* the comma */
  }
}

/* Value of key `key` in the flat JSON object of the record: a string's
 * text between its quotes (no escapes: names and times have none), or
 * len 0 for null. */
static bool json_cell(const char *p, const char *end, const char *key, const char **cell, size_t *len) {
  size_t kl = strlen(key);
  for (const char *q = p; q + kl + 3 < end; q++) {
    if (*q != '"' || memcmp(q + 1, key, kl) != 0 || q[kl + 1] != '"' || q[kl + 2] != ':' ||
        (q[-1] != ',' && q[-1] != '{'))
      continue;
    q += kl + 3;
    if (end - q >= 4 && memcmp(q, "null", 4) == 0) {
      *cell = q;
      *len = 0;
      return true;
    }
    if (*q != '"') return false;
    const char *close = memchr(q + 1, '"', (size_t)(end - q - 1));
    if (!close) return false;
    *cell = q + 1;
    *len = (size_t)(close - q - 1);
    return true;
  }
  return false;
}

static merge_milestone *find_milestone(rows_merge *m, const char *name, size_t len) {
  for (size_t k = 0; k < m->nms; k++) {
    size_t i = (m->last_ms + k) % m->nms;   /* rows come in declaration order: try the next first */
    if (m->ms[i].name_len == len && memcmp(m->ms[i].name, name, len) == 0) {
      m->last_ms = i + 1;
      return &m->ms[i];
    }
  }
  return NULL;
}

static merge_status count_milestone_row(rows_merge *m, const row_source *s) {
  static const char *const keys[4] = {"milestone", "status", "started_at", "achieved_at"};
  const char *p = s->buf + s->rec, *end = p + s->rec_len - 1;
  const char *cell[4];
  size_t len[4];
  for (int i = 0; i < 4; i++)
    if (!(s->jsonl ? json_cell(p, end, keys[i], &cell[i], &len[i]) : csv_cell(p, end, m->col[i], &cell[i], &len[i])))
      return bad_row(m, s, "a milestone row without its milestone, status or times");
  merge_milestone *ms = find_milestone(m, cell[0], len[0]);
  if (!ms) return bad_row(m, s, "a milestone that summary.json does not list");
  bool done = ms->continuous ? len[3] > 0 : len[1] == 9 && memcmp(cell[1], "completed", 9) == 0;
  if (!done || len[2] == 0 || len[3] == 0) return MERGE_OK;
  int64_t started, achieved, d;
  if (!io_parse_time(cell[2], len[2], &started) || !io_parse_time(cell[3], len[3], &achieved) ||
      __builtin_sub_overflow(achieved, started, &d))
    return bad_row(m, s, "a bad started_at or achieved_at");
  util_xgrow(&ms->durations_us, &ms->cap, ms->ndurations + 1, sizeof *ms->durations_us, 64);
  ms->durations_us[ms->ndurations++] = d;
  return MERGE_OK;
}

/* ---- writing ------------------------------------------------------------------------------ */

static void flush_out(rows_merge *m) {
  if (!m->out_err && m->out_len && !util_write_all(m->out_fd, m->out, m->out_len)) m->out_err = errno;
  m->out_len = 0;
}

static void put(rows_merge *m, const char *p, size_t n) {
  if (m->out_len + n > OUT_BUF) flush_out(m);
  if (n > OUT_BUF) {
    if (!m->out_err && !util_write_all(m->out_fd, p, n)) m->out_err = errno;
    return;
  }
  memcpy(m->out + m->out_len, p, n);
  m->out_len += n;
}

/* ---- the heap of sources ------------------------------------------------------------------ */

static int id_cmp(const row_source *a, const row_source *b) {
  int c = memcmp(a->id, b->id, a->id_len < b->id_len ? a->id_len : b->id_len);
  return c ? c : (a->id_len > b->id_len) - (a->id_len < b->id_len);
}

static void sift_down(rows_merge *m, int i) {
  for (;;) {
    int least = i, l = 2 * i + 1, r = l + 1;
    if (l < m->nheap && id_cmp(&m->src[m->heap[l]], &m->src[m->heap[least]]) < 0) least = l;
    if (r < m->nheap && id_cmp(&m->src[m->heap[r]], &m->src[m->heap[least]]) < 0) least = r;
    if (least == i) return;
    int t = m->heap[i];
    m->heap[i] = m->heap[least];
    m->heap[least] = t;
    i = least;
  }
}

/* Copies every row of the least account, from the one shard that has it. */
static merge_status take_account(rows_merge *m, merge_text *last, int *last_src) {
  row_source *s = &m->src[m->heap[0]];
  if (*last_src >= 0) {
    int c = memcmp(s->id, last->items, s->id_len < last->len ? s->id_len : last->len);
    if (c == 0 && s->id_len == last->len) {
      util_set_msg(m->msg, m->msglen, "%s:%lld: account %.*s%s is also in %s: the shards overlap", s->path,
                   (long long)s->rec_line, s->id_len > 200 ? 200 : (int)s->id_len, s->id,
                   s->id_len > 200 ? "..." : "", m->src[*last_src].path);
      return MERGE_REFUSED;
    }
  }
  last->len = 0;
  for (size_t i = 0; i < s->id_len; i++) UTIL_VEC_PUSH(*last, s->id[i], 64);
  *last_src = m->heap[0];
  for (;;) {
    put(m, s->buf + s->rec, s->rec_len);
    merge_status st = m->ms ? count_milestone_row(m, s) : MERGE_OK;
    if (!st) st = next_record(m, s);
    if (st) return st;
    if (!s->rec_len) {
      m->heap[0] = m->heap[--m->nheap];
      break;
    }
    int c = memcmp(s->id, last->items, s->id_len < last->len ? s->id_len : last->len);
    if (c == 0) c = (s->id_len > last->len) - (s->id_len < last->len);
    if (c < 0) return bad_row(m, s, "the accounts are not in id order");
    if (c > 0) break;
  }
  sift_down(m, 0);
  return MERGE_OK;
}

/* ---- a file ----------------------------------------------------------------------------------- */

/* Opens shard k's file and reads its header (CSV) and first record. */
static merge_status open_source(rows_merge *m, const merge_shard *sh, const char *name, row_source *s) {
  size_t dl = strlen(sh->dir);
  size_t len = dl + strlen(name) + 2;
  s->path = util_xalloc(len);
  snprintf(s->path, len, "%s%s%s", sh->dir, dl && sh->dir[dl - 1] == '/' ? "" : "/", name);
  s->jsonl = sh->jsonl;
  s->line = 1;
  s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
  if (s->fd < 0) {
    util_set_msg(m->msg, m->msglen, "cannot read %s: %s", s->path, strerror(errno));
    return MERGE_IO;
  }
  merge_status st = next_record(m, s);
  if (st || s->jsonl) return st;
  if (!s->rec_len) {
    util_set_msg(m->msg, m->msglen, "%s: the file is empty: it has no header row", s->path);
    return MERGE_BAD_INPUT;
  }
  return MERGE_OK;
}

/* The CSV header: the same in every shard, written once; the milestones
 * file's columns found. */
static merge_status take_header(rows_merge *m) {
  const row_source *first = &m->src[0];
  for (int k = 1; k < m->n; k++) {
    const row_source *s = &m->src[k];
    if (s->rec_len != first->rec_len || memcmp(s->buf + s->rec, first->buf + first->rec, s->rec_len) != 0) {
      util_set_msg(m->msg, m->msglen, "%s:1: the header differs from %s's", s->path, first->path);
      return MERGE_REFUSED;
    }
  }
  put(m, first->buf + first->rec, first->rec_len);
  static const char *const names[4] = {"milestone", "status", "started_at", "achieved_at"};
  const char *p = first->buf + first->rec, *end = p + first->rec_len - 1;
  for (int i = 0; m->ms && i < 4; i++) {
    m->col[i] = -1;
    const char *cell;
    size_t len;
    for (int c = 0; m->col[i] < 0 && csv_cell(p, end, c, &cell, &len); c++)
      if (len == strlen(names[i]) && memcmp(cell, names[i], len) == 0) m->col[i] = c;
    if (m->col[i] < 0) {
      util_set_msg(m->msg, m->msglen, "%s:1: the header has no column `%s`", first->path, names[i]);
      return MERGE_BAD_INPUT;
    }
  }
  return MERGE_OK;
}

merge_status merge_rows_file(const merge_shard *shards, int n, const char *name, int out_fd, const char *out_label,
                             merge_milestone *ms, size_t nms, char *msg, size_t msglen) {
  rows_merge m = {.n = n, .out_fd = out_fd, .out_label = out_label, .ms = ms, .nms = nms, .msg = msg,
                  .msglen = msglen};
  m.src = util_xalloc((size_t)n * sizeof *m.src);
  m.heap = util_xalloc((size_t)n * sizeof *m.heap);
  m.out = util_xalloc(OUT_BUF);
  for (int k = 0; k < n; k++) m.src[k].fd = -1;
  merge_status st = MERGE_OK;
  for (int k = 0; k < n && !st; k++) st = open_source(&m, &shards[k], name, &m.src[k]);
  if (!st && !shards[0].jsonl) {
    st = take_header(&m);
    for (int k = 0; k < n && !st; k++) st = next_record(&m, &m.src[k]);
  }
  for (int k = 0; k < n && !st; k++)
    if (m.src[k].rec_len) m.heap[m.nheap++] = k;
  for (int i = m.nheap / 2; i-- > 0;) sift_down(&m, i);
  merge_text last = {0};   /* the account last taken */
  int last_src = -1;
  while (!st && m.nheap) st = take_account(&m, &last, &last_src);
  flush_out(&m);
  if (!st && m.out_err) {
    util_set_msg(msg, msglen, "cannot write %s: %s", out_label, strerror(m.out_err));
    st = MERGE_IO;
  }
  for (int k = 0; k < n; k++) {
    if (m.src[k].fd >= 0) close(m.src[k].fd);
    free(m.src[k].path);
    free(m.src[k].buf);
    free(m.src[k].id_buf.items);
  }
  free(last.items);
  free(m.src);
  free(m.heap);
  free(m.out);
  return st;
}
