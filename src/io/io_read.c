/* io_read.c — opening event and account files: the chunked byte source
 * (plain files, stdin with an optional spool copy, gzip, memory), format
 * detection, the event-name table, and the helpers every format shares.
 * The formats themselves live in io_csv.c and io_jsonl.c. */
#include "io/io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

/* ---- errors ------------------------------------------------------------------------ */

void io_set_error(io_error *err, const char *file, int64_t line, int errnum,
                  const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->reason, sizeof err->reason, fmt, ap);
  va_end(ap);
  err->file = file;
  err->line = line;
  err->raw = NULL;
  err->raw_len = 0;
  err->io_errno = errnum;
  err->has_account = false;
}

io_status io_bad_row(io_reader *r, io_error *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->reason, sizeof err->reason, fmt, ap);
  va_end(ap);
  err->file = r->path;
  err->line = r->record_line;
  err->raw = r->src.buf + r->record_start;
  err->raw_len = r->record_len;
  err->io_errno = 0;
  err->has_account = r->has_account;
  return IO_BAD_ROW;
}

const char *io_quote(char *dst, size_t cap, const char *s, size_t len) {
  enum { SHOWN = 60 };
  size_t o = 0;
  dst[o++] = '"';
  o += util_escape(dst + o, cap - 2, s, len, "\"\\", SHOWN);   /* room for the closing quote */
  dst[o++] = '"';
  dst[o] = '\0';
  return dst;
}

bool io_cell_value(io_time_cache *cache, value_type type, const char *s, size_t len,
                   value_data *out) {
  switch (type) {
    case VALUE_NONE: break;   /* schemas never hold it */
    case VALUE_BOOL: return io_parse_bool(s, len, &out->b);
    case VALUE_INT: return io_parse_int(s, len, &out->i);
    case VALUE_FLOAT: return io_parse_float(s, len, &out->f);
    case VALUE_TIME: return io_parse_time_cached(cache, s, len, &out->i);
    case VALUE_DURATION: return io_parse_duration(s, len, &out->i);
    case VALUE_STRING:
      out->s.p = s;
      out->s.len = (uint32_t)len;   /* records are at most max_record bytes */
      return true;
  }
  return false;
}

void io_reserve_scratch(io_reader *r, size_t n) {
  util_xgrow(&r->scratch, &r->scratch_cap, n, 1, 4096);
}

/* ---- temporary files ------------------------------------------------------------- */

int io_temp_fd(const char *purpose, io_error *err) {
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/msl-%s-XXXXXX", dir, purpose) >= (int)sizeof path) {
    io_set_error(err, dir, 0, ENAMETOOLONG, "temporary directory name too long");
    return -1;
  }
  int fd = mkostemp(path, O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    io_set_error(err, dir, 0, e, "cannot create a temporary file in %s: %s", dir, strerror(e));
    return -1;
  }
  unlink(path);   /* the file lives as long as the descriptor */
  return fd;
}

/* ---- byte source ------------------------------------------------------------------- */

/* One read into buf[end, cap - IO_SLACK): > 0 bytes, 0 at end of input,
 * -1 on error. */
static long source_read(io_reader *r, io_error *err) {
  io_source *s = &r->src;
  size_t room = s->cap - IO_SLACK - s->end;
  char *dst = s->buf + s->end;
  if (s->mem) {
    size_t n = s->mem_len - s->mem_pos;
    if (n > room) n = room;
    memcpy(dst, s->mem + s->mem_pos, n);
    s->mem_pos += n;
    return (long)n;
  }
  if (s->gz) {
    int e = 0;
    const char *msg = NULL;
    long n = gunzip_read(s->gz, dst, room, &e, &msg);
    if (n < 0) io_set_error(err, r->path, 0, e, "cannot read: %s", msg ? msg : strerror(e));
    return n;
  }
  if (s->left >= 0 && room > (uint64_t)s->left) room = (size_t)s->left;
  for (;;) {
    ssize_t n = room ? read(s->fd, dst, room) : 0;
    if (n >= 0) {
      s->offset += n;
      if (s->left >= 0) s->left -= n;
      if (n > 0 && s->spool_fd >= 0 && !util_write_all(s->spool_fd, dst, (size_t)n)) {
        int e = errno;
        io_set_error(err, r->path, 0, e, "cannot keep a copy of the input: %s", strerror(e));
        return -1;
      }
      return (long)n;
    }
    if (errno != EINTR) {
      int e = errno;
      io_set_error(err, r->path, 0, e, "cannot read: %s", strerror(e));
      return -1;
    }
  }
}

/* No unread bytes, and not at the end: the slack after them zeroed, as
 * io_source_fill leaves it. */
static void source_empty(io_source *s) {
  s->pos = s->end = 0;
  s->eof = false;
  memset(s->buf, 0, IO_SLACK);
}

long io_source_fill(io_reader *r, io_error *err) {
  io_source *s = &r->src;
  if (s->eof) return 0;
  if (s->pos > 0) {
    memmove(s->buf, s->buf + s->pos, s->end - s->pos);
    s->end -= s->pos;
    s->pos = 0;
  }
  util_xgrow(&s->buf, &s->cap, s->end + 1 + IO_SLACK, 1, 1);   /* full: twice the room */
  long n = source_read(r, err);
  if (n == 0) s->eof = true;
  if (n > 0) s->end += (size_t)n;
  memset(s->buf + s->end, 0, IO_SLACK);
  return n;
}

/* ---- event names ---------------------------------------------------------------------- */

static const struct {
  const char *name;
  int type;
} control_events[] = {
    {"ms.assign", IO_EV_ASSIGN},   {"ms.reset", IO_EV_RESET},
    {"ms.unblock", IO_EV_UNBLOCK}, {"ms.block", IO_EV_BLOCK},
    {"ms.complete", IO_EV_COMPLETE}, {"ms.advance", IO_EV_ADVANCE},
};
enum { NCONTROL = sizeof control_events / sizeof control_events[0] };

/* Event names are short and this runs per row: the length and the first
 * and last eight bytes decide (other names with those in common only
 * cost a probe). */
static uint32_t name_hash(const char *s, size_t len) {
  uint64_t head = 0, tail = 0;
  if (len >= 8) {
    memcpy(&head, s, 8);
    memcpy(&tail, s + len - 8, 8);
  } else {
    for (size_t i = 0; i < len; i++) head |= (uint64_t)(unsigned char)s[i] << (8 * i);
  }
  return io_name_mix(len, head, tail);
}

static void insert_name(io_reader *r, const char *name, int type) {
  uint32_t len = (uint32_t)strlen(name);
  for (uint32_t i = name_hash(name, len) & r->names_mask;; i = (i + 1) & r->names_mask) {
    io_name_slot *slot = &r->names[i];
    if (!slot->name) {
      slot->name = name;
      slot->len = len;
      slot->type = type;
      return;
    }
    if (slot->len == len && memcmp(slot->name, name, len) == 0) return;   /* first wins */
  }
}

static void build_names(io_reader *r) {
  uint32_t cap = 16;
  while (cap < 2u * (uint32_t)(r->schema->nevents + NCONTROL)) cap *= 2;
  r->names = util_xalloc(cap * sizeof *r->names);
  r->names_mask = cap - 1;
  for (int i = 0; i < r->schema->nevents; i++) insert_name(r, r->schema->events[i].name, i);
  for (int i = 0; i < NCONTROL; i++) insert_name(r, control_events[i].name, control_events[i].type);
}

/* Logs interleave event types row by row: a check of the last name
 * looked up first was a branch mispredicted on most rows. */
static int lookup_event(io_reader *r, const char *name, size_t len) {
  for (uint32_t i = name_hash(name, len) & r->names_mask;; i = (i + 1) & r->names_mask) {
    const io_name_slot *slot = &r->names[i];
    if (!slot->name) return IO_EV_UNDECLARED;   /* unknown ms.* names too */
    if (slot->len == len && util_same_bytes(slot->name, name, len)) return slot->type;
  }
}

bool io_skip_bom(io_reader *r, io_error *err) {
  io_source *s = &r->src;
  while (s->end - s->pos < 3 && !s->eof)
    if (io_source_fill(r, err) < 0) return false;
  if (s->end - s->pos >= 3 && memcmp(s->buf + s->pos, "\xEF\xBB\xBF", 3) == 0) s->pos += 3;
  r->at_start = false;
  return true;
}

int io_event_begin(io_reader *r, io_event *ev, value_str name) {
  ev->type = lookup_event(r, name.p, name.len);
  /* each from the constant: `a = b = c` read back what it had just
     stored, in one wider load, which waited for the stores to land */
  ev->milestone = (value_str){"", 0};
  ev->playbook = (value_str){"", 0};
  ev->values = NULL;
  return ev->type;
}

/* ---- fields ------------------------------------------------------------------------------ */

int io_layout_fields(const io_schema *schema, int e, const io_field_schema **fields) {
  if (e < schema->nevents) {
    *fields = schema->events[e].fields;
    return schema->events[e].nfields;
  }
  *fields = schema->account_fields;
  return schema->naccount_fields;
}

static void build_field_layout(io_reader *r) {
  const io_schema *schema = r->schema;
  const io_field_schema *fields;
  r->field_start = util_xalloc(((size_t)schema->nevents + 1) * sizeof *r->field_start);
  int total = 0;
  for (int e = 0; e <= schema->nevents; e++) {
    r->field_start[e] = total;
    total += io_layout_fields(schema, e, &fields);
  }
}

/* ---- opening ------------------------------------------------------------------------------ */

static bool has_suffix(const char *s, size_t *len, const char *suffix) {
  size_t n = strlen(suffix);
  if (*len < n || strncasecmp(s + *len - n, suffix, n) != 0) return false;
  *len -= n;
  return true;
}

/* The format an extension names (IO_FORMAT_AUTO: none), and whether the
 * file is gzip-compressed. */
static io_format format_of_path(const char *path, bool *gz) {
  size_t len = strlen(path);
  *gz = has_suffix(path, &len, ".gz");
  if (has_suffix(path, &len, ".csv")) return IO_FORMAT_CSV;
  if (has_suffix(path, &len, ".jsonl") || has_suffix(path, &len, ".ndjson")) return IO_FORMAT_JSONL;
  return IO_FORMAT_AUTO;
}

/* A file without a known extension: JSON Lines if its first character
 * (after a BOM and white space) is '{', CSV otherwise. */
static io_format sniff_format(io_reader *r, io_error *err, bool *failed) {
  io_source *s = &r->src;
  for (;;) {
    size_t i = s->pos;
    if (s->end - i >= 3 && memcmp(s->buf + i, "\xEF\xBB\xBF", 3) == 0) i += 3;
    while (i < s->end && (s->buf[i] == ' ' || s->buf[i] == '\t' || s->buf[i] == '\r' ||
                          s->buf[i] == '\n'))
      i++;
    if (i < s->end && (s->end - s->pos >= 3 || s->eof))
      return s->buf[i] == '{' ? IO_FORMAT_JSONL : IO_FORMAT_CSV;
    if (s->eof || s->end - s->pos >= 4096) return IO_FORMAT_CSV;   /* empty, or only space */
    if (io_source_fill(r, err) < 0) {
      *failed = true;
      return IO_FORMAT_CSV;
    }
  }
}

static bool open_source(io_reader *r, const char *path, bool gz, const io_options *opts,
                        io_error *err) {
  io_source *s = &r->src;
  s->fd = -1;
  s->spool_fd = -1;
  s->left = -1;
  if (opts->data) {
    s->mem = opts->data;
    s->mem_len = opts->data_len;
  } else if (strcmp(path, "-") == 0) {
    s->fd = STDIN_FILENO;
    s->is_stdin = true;
    if (opts->spool_streams) {   /* even a redirected file: its offset need not be 0 */
      s->spool_fd = io_temp_fd("stdin", err);
      if (s->spool_fd < 0) return false;
    }
  } else if (gz) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      io_set_error(err, path, 0, e, "cannot open: %s", strerror(e));
      return false;
    }
    s->gz = gunzip_open(fd);
  } else {
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
      int e = errno;
      io_set_error(err, path, 0, e, "cannot open: %s", strerror(e));
      return false;
    }
    posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    /* A pipe named by a path, such as bash's <(zcat ...), cannot seek. */
    if (opts->spool_streams && lseek(s->fd, 0, SEEK_CUR) < 0) {
      s->spool_fd = io_temp_fd("stream", err);
      if (s->spool_fd < 0) return false;
    }
  }
  s->cap = (opts->buffer_size ? opts->buffer_size : IO_DEFAULT_BUFFER) + IO_SLACK;
  s->buf = util_xalloc(s->cap);
  return true;
}

io_reader *io_reader_open(const io_schema *schema, const char *path, io_format fmt,
                          bool accounts, const io_options *opts, io_error *err) {
  static const io_options defaults = {0};
  if (!opts) opts = &defaults;
  io_reader *r = util_xalloc(sizeof *r);
  r->schema = schema;
  r->path = path;
  r->accounts = accounts;
  r->max_record = opts->max_record ? opts->max_record : IO_DEFAULT_MAX_RECORD;
  r->line = 1;
  r->at_start = true;
  bool gz;
  io_format by_extension = format_of_path(path, &gz);
  if (!open_source(r, path, gz, opts, err)) goto fail;
  if (fmt == IO_FORMAT_AUTO) fmt = by_extension;
  if (fmt == IO_FORMAT_AUTO) {
    bool failed = false;
    fmt = r->src.is_stdin ? IO_FORMAT_CSV : sniff_format(r, err, &failed);
    if (failed) goto fail;
  }
  r->format = fmt;

  r->max_fields = schema->naccount_fields;
  for (int i = 0; i < schema->nevents; i++)
    if (schema->events[i].nfields > r->max_fields) r->max_fields = schema->events[i].nfields;
  r->values = util_xalloc(((size_t)r->max_fields + 1) * sizeof *r->values);
  build_names(r);
  build_field_layout(r);
  if (fmt == IO_FORMAT_CSV && !io_csv_begin(r, true, err)) goto fail;
  if (fmt == IO_FORMAT_JSONL) io_jsonl_begin(r);
  return r;
fail:
  io_close(r);
  return NULL;
}

io_reader *io_events_open(const io_schema *schema, const char *path, io_format fmt,
                          io_error *err) {
  return io_reader_open(schema, path, fmt, false, NULL, err);
}

io_reader *io_accounts_open(const io_schema *schema, const char *path, io_format fmt,
                            io_error *err) {
  return io_reader_open(schema, path, fmt, true, NULL, err);
}

/* Standard input and pipes cannot be read twice: rewinding first copies
 * the rest of them into the spool, then reads the spool from its start. */
static bool rewind_source(io_reader *r, io_error *err) {
  io_source *s = &r->src;
  if (s->mem) {
    s->mem_pos = 0;
  } else if (s->gz) {
    int e;
    if (!gunzip_rewind(s->gz, &e)) {
      io_set_error(err, r->path, 0, e, "cannot read again: %s", strerror(e));
      return false;
    }
  } else if (s->spool_fd >= 0) {
    s->end = s->pos = 0;
    while (!s->eof) {
      s->end = 0;   /* the data is already in the spool */
      if (io_source_fill(r, err) < 0) return false;
    }
    if (!s->is_stdin) close(s->fd);
    s->fd = s->spool_fd;
    s->spool_fd = -1;
    s->is_stdin = false;
  } else if (s->is_stdin) {
    io_set_error(err, r->path, 0, ESPIPE, "standard input cannot be read twice");
    return false;
  }
  s->offset = 0;
  s->left = -1;
  if (s->fd >= 0 && lseek(s->fd, 0, SEEK_SET) < 0) {
    int e = errno;
    io_set_error(err, r->path, 0, e, "cannot read again: %s", strerror(e));
    return false;
  }
  source_empty(s);
  return true;
}

bool io_reader_rewind(io_reader *r, io_error *err) {
  if (!rewind_source(r, err)) return false;
  r->line = 1;
  r->at_start = true;
  r->skipping = false;
  r->scan_state = 0;
  r->scan_off = 0;
  r->scan_newlines = 0;
  return r->format != IO_FORMAT_CSV || io_csv_begin(r, false, err);
}

/* ---- byte ranges --------------------------------------------------------------------------- */

bool io_events_splittable(const io_reader *r) {
  const io_source *s = &r->src;
  struct stat st;
  return !r->accounts && s->fd >= 0 && !s->is_stdin && s->spool_fd < 0 && !s->gz && !s->mem &&
         fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
}

bool io_file_size(const io_reader *r, int64_t *size) {
  struct stat st;
  if (fstat(r->src.fd, &st) != 0) return false;
  *size = st.st_size;
  return true;
}

int64_t io_data_offset(const io_reader *r) { return r->src.offset - (int64_t)(r->src.end - r->src.pos); }

int64_t io_line_start(io_reader *r, int64_t off, io_error *err) {
  char window[64 << 10];
  for (;;) {
    ssize_t n = pread(r->src.fd, window, sizeof window, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      io_set_error(err, r->path, 0, e, "cannot read: %s", strerror(e));
      return -1;
    }
    if (n == 0) return off;   /* the end of the file */
    const char *nl = memchr(window, '\n', (size_t)n);
    if (nl) return off + (nl - window) + 1;
    off += n;
  }
}

/* r reads a range afresh: nothing buffered or half scanned (a BOM is
 * skipped only at the file's start). */
static void restart(io_reader *r, bool at_start) {
  source_empty(&r->src);
  r->at_start = at_start;
  r->skipping = false;
  r->scan_state = 0;
  r->scan_off = 0;
  r->scan_newlines = 0;
}

bool io_reader_range(io_reader *r, int64_t start, int64_t end, io_error *err) {
  io_source *s = &r->src;
  if (lseek(s->fd, start, SEEK_SET) < 0) {
    int e = errno;
    io_set_error(err, r->path, 0, e, "cannot read: %s", strerror(e));
    return false;
  }
  restart(r, start == 0);
  s->offset = start;
  s->left = end - start;
  return true;
}

bool io_events_inflatable(const io_reader *r) { return !r->accounts && r->src.gz && !r->src.mem; }

long io_reader_pull(io_reader *r, char *dst, size_t cap, io_error *err) {
  io_source *s = &r->src;
  if (r->at_start && !io_skip_bom(r, err)) return -1;   /* JSON Lines: no header has skipped it */
  if (s->pos < s->end) {   /* read ahead of the header first */
    size_t n = s->end - s->pos < cap ? s->end - s->pos : cap;
    memcpy(dst, s->buf + s->pos, n);
    s->pos += n;
    return (long)n;
  }
  if (s->eof) return 0;
  int e = 0;
  const char *msg = NULL;
  long n = gunzip_read(s->gz, dst, cap, &e, &msg);
  if (n < 0) io_set_error(err, r->path, 0, e, "cannot read: %s", msg ? msg : strerror(e));
  if (n == 0) s->eof = true;
  return n;
}

void io_reader_text(io_reader *r, const char *text, size_t len) {
  io_source *s = &r->src;
  s->mem = text;
  s->mem_len = len;
  s->mem_pos = 0;
  restart(r, false);
}

/* ---- reading ------------------------------------------------------------------------------- */

io_status io_events_next(io_reader *r, io_event *ev, io_error *err) {
  if (r->accounts) {
    io_set_error(err, r->path, 0, EINVAL, "internal error: an accounts file read as events");
    return IO_FAILED;
  }
  return r->format == IO_FORMAT_JSONL ? io_jsonl_next_event(r, ev, err)
                                      : io_csv_next_event(r, ev, err);
}

io_status io_accounts_next(io_reader *r, io_account *acct, io_error *err) {
  if (!r->accounts) {
    io_set_error(err, r->path, 0, EINVAL, "internal error: an events file read as accounts");
    return IO_FAILED;
  }
  return r->format == IO_FORMAT_JSONL ? io_jsonl_next_account(r, acct, err)
                                      : io_csv_next_account(r, acct, err);
}

void io_close(io_reader *r) {
  if (!r) return;
  io_source *s = &r->src;
  gunzip_close(s->gz);
  if (s->fd >= 0 && !s->is_stdin) close(s->fd);
  if (s->spool_fd >= 0) close(s->spool_fd);
  free(s->buf);
  free(r->names);
  free(r->values);
  free(r->field_start);
  free(r->scratch);
  io_csv_free(r);
  free(r->keys);
  free(r->key_slots);
  free(r->field_key);
  free(r->quotes);
  free(r);
}
