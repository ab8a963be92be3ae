/* io_csv.c — RFC 4180 CSV events and accounts, parsed in place.
 *
 * A record without quotes is found and split into cells in one pass,
 * sixteen bytes at a time; one with quotes is found by a byte-wise scan
 * (a quoted field may hold newlines), then split.  Cells point into the
 * read buffer; only cells with "" escapes are copied, into the reader's
 * scratch buffer, so the raw record stays intact for --rejects.  The
 * header is read once: every event type gets its field -> column map
 * then, so a row costs one lookup per field.
 *
 * Decisions beyond SPEC 7: a quote inside an unquoted cell is an ordinary
 * character (as Python's csv reads it); text after a closing quote is a
 * bad row; CR LF and LF both end records; a UTF-8 BOM is skipped; an empty
 * file (not even a header) has no rows; header names are matched exactly;
 * empty header names are allowed (their cells are ignored).  A quoted
 * empty cell ("") is empty, so it is a missing value like an empty one. */
#include "io/io_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Scanner states for a record with quotes; SCAN_FAST means no quote seen
 * yet, so the record simply ends at the next newline. */
enum { SCAN_FAST, SCAN_FIELD_START, SCAN_UNQUOTED, SCAN_QUOTED, SCAN_QUOTE_IN_QUOTED };

static const value_str empty_cell = {"", 0};

static void reset_scan(io_reader *r) {
  r->scan_state = SCAN_FAST;
  r->scan_off = 0;
  r->scan_newlines = 0;
}

/* Room for cells[0..n]. */
static void grow_cells(io_reader *r, int n) {
  util_xgrow(&r->cells, &r->cells_cap, (size_t)n + 1, sizeof *r->cells, 16);
}

enum { PLAIN_FOUND, PLAIN_QUOTE, PLAIN_MORE, PLAIN_FULL };

/* Finds the record at p (avail bytes, then IO_SLACK zeroes) and splits
 * it at its commas into r->cells, in one pass, sixteen bytes at a time
 * (at most cells_cap are kept and r->ncells counts them all; when grow,
 * for the header, PLAIN_FULL asks for more room first).  PLAIN_FOUND:
 * *len is the record without its newline (the data's end at eof), its
 * last cell without a CR before it; PLAIN_QUOTE: the record has a quote;
 * PLAIN_MORE: the buffer holds no newline. */
static int scan_plain(io_reader *r, const char *p, size_t avail, bool eof, bool grow, size_t *len) {
  value_str *cells = r->cells;
  size_t cap = r->cells_cap, start = 0;
  int n = 0;   /* at most max_record + 1 cells: no overflow */
  for (size_t i = 0; i < avail; i += 16) {
    unsigned comma, quote, newline;
    util_csv_marks(p + i, &comma, &quote, &newline);
    unsigned mine = newline ? (newline & -newline) - 1 : 0xFFFFu;   /* the record's bytes here */
    if (quote & mine) return PLAIN_QUOTE;
    for (comma &= mine; comma; comma &= comma - 1) {
      size_t at = i + (unsigned)__builtin_ctz(comma);
      if ((size_t)n < cap) cells[n] = (value_str){p + start, (uint32_t)(at - start)};
      else if (grow) return PLAIN_FULL;
      n++;
      start = at + 1;
    }
    if (newline || (eof && i + 16 >= avail)) {
      size_t end = newline ? i + (unsigned)__builtin_ctz(newline) : avail;
      *len = end;
      if (end > start && p[end - 1] == '\r') end--;
      if ((size_t)n < cap) cells[n] = (value_str){p + start, (uint32_t)(end - start)};
      else if (grow) return PLAIN_FULL;
      r->ncells = n + 1;
      return PLAIN_FOUND;
    }
  }
  return PLAIN_MORE;
}

/* Looks for the end of the record starting at src.pos, resuming where the
 * last call stopped.  True when found: *len is the record without its
 * newline, *consumed includes it.  In SCAN_FAST state (no quote seen) the
 * record is split into cells as it is found; a quote goes on byte by byte
 * in SCAN_FIELD_START state, and the record is split once found. */
static inline __attribute__((always_inline)) bool find_record_end(io_reader *r, bool grow, size_t *len,
                                                                   size_t *consumed) {
  const char *p = r->src.buf + r->src.pos;
  size_t avail = r->src.end - r->src.pos;
  size_t i = r->scan_off;
  if (r->scan_state == SCAN_FAST) {
    int found;
    while ((found = scan_plain(r, p, avail, r->src.eof, grow, len)) == PLAIN_FULL) grow_cells(r, (int)r->cells_cap);
    if (found == PLAIN_MORE) {
      r->scan_off = avail;
      return false;
    }
    if (found == PLAIN_FOUND) {
      *consumed = *len < avail ? *len + 1 : avail;
      return true;
    }
    r->scan_state = SCAN_FIELD_START;
    i = 0;
  }
  int state = r->scan_state;
  for (; i < avail; i++) {
    char c = p[i];
    switch (state) {
      case SCAN_FIELD_START:
        if (c == '"') state = SCAN_QUOTED;
        else if (c == '\n') goto end;
        else if (c != ',') state = SCAN_UNQUOTED;
        break;
      case SCAN_UNQUOTED:
        if (c == ',') state = SCAN_FIELD_START;
        else if (c == '\n') goto end;
        break;
      case SCAN_QUOTED:
        if (c == '"') state = SCAN_QUOTE_IN_QUOTED;
        else if (c == '\n') r->scan_newlines++;
        break;
      case SCAN_QUOTE_IN_QUOTED:
        if (c == '"') state = SCAN_QUOTED;
        else if (c == ',') state = SCAN_FIELD_START;
        else if (c == '\n') goto end;
        else state = SCAN_UNQUOTED;   /* text after a closing quote: reported when split */
        break;
    }
  }
  r->scan_state = state;
  r->scan_off = avail;
  return false;
end:
  r->scan_state = state;   /* not SCAN_QUOTED: the newline ended the record */
  *len = i;
  *consumed = i + 1;
  return true;
}

/* Splits the current record into r->cells (at most r->ncols of them unless
 * growing, for the header); r->ncells counts them all. */
static io_status split_cells(io_reader *r, bool grow, io_error *err) {
  const char *p = r->src.buf + r->record_start;
  size_t len = r->record_len, i = 0;
  char *out = NULL;   /* next free byte of scratch, once a cell needs it */
  int n = 0;
  for (;;) {
    value_str cell;
    size_t next;   /* where the next cell starts; > len after the last one */
    if (i < len && p[i] == '"') {
      size_t j = i + 1;
      const char *quote;
      bool escaped = false;
      for (;;) {
        quote = memchr(p + j, '"', len - j);
        if (!quote) return io_bad_row(r, err, "unterminated quoted field");
        size_t q = (size_t)(quote - p);
        if (q + 1 < len && p[q + 1] == '"') {
          escaped = true;
          j = q + 2;
          continue;
        }
        break;
      }
      size_t close = (size_t)(quote - p);
      if (escaped) {
        if (!out) {
          io_reserve_scratch(r, len);
          out = r->scratch;
        }
        char *start = out;
        for (size_t k = i + 1; k < close; k++) {
          *out++ = p[k];
          if (p[k] == '"') k++;   /* "" stands for one quote */
        }
        cell.p = start;
        cell.len = (uint32_t)(out - start);
      } else {
        cell.p = p + i + 1;
        cell.len = (uint32_t)(close - i - 1);
      }
      if (close + 1 < len && p[close + 1] != ',')
        return io_bad_row(r, err, "text after the closing quote of cell %d", n + 1);
      next = close + 2;
    } else {
      const char *comma = memchr(p + i, ',', len - i);
      size_t stop = comma ? (size_t)(comma - p) : len;
      cell.p = p + i;
      cell.len = (uint32_t)(stop - i);
      next = stop + 1;
    }
    if (grow) grow_cells(r, n);
    if ((size_t)n < r->cells_cap) r->cells[n] = cell;
    n++;   /* at most max_record + 1 cells: no overflow */
    if (next > len) break;
    i = next;
  }
  r->ncells = n;
  return IO_OK;
}

static io_status too_long(io_reader *r, io_error *err) {
  return io_bad_row(r, err, "record longer than %zu bytes (an unbalanced quote?)", r->max_record);
}

/* Reads the next non-blank record and splits it into cells. */
static io_status read_record(io_reader *r, bool grow, io_error *err) {
  io_source *s = &r->src;
  if (r->at_start && !io_skip_bom(r, err)) return IO_FAILED;
  for (;;) {
    size_t len, consumed;
    if (!find_record_end(r, grow, &len, &consumed)) {
      size_t avail = s->end - s->pos;
      if (s->eof) {
        if (r->skipping) {   /* the over-long record ran to the end */
          s->pos = s->end;
          r->skipping = false;
          reset_scan(r);
          continue;
        }
        if (avail == 0) return IO_EOF;
        len = consumed = avail;   /* the last line has no newline */
      } else {
        if (r->skipping) {
          s->pos = s->end;   /* discard what was scanned; the scan state carries on */
          r->scan_off = 0;
        } else if (avail > r->max_record + 1) {   /* + 1: a CR before the newline */
          r->record_start = s->pos;
          r->record_len = avail;
          r->record_line = r->line;
          r->skipping = true;
          if (r->scan_state == SCAN_FAST) {
            /* Skipping follows quotes: scan what was read so far for them. */
            r->scan_state = SCAN_FIELD_START;
            r->scan_off = 0;
            size_t unused_len, unused_consumed;
            find_record_end(r, grow, &unused_len, &unused_consumed);   /* no newline: not found */
          }
          return too_long(r, err);
        }
        if (io_source_fill(r, err) < 0) return IO_FAILED;
        continue;
      }
    }
    if (r->skipping) {
      r->skipping = false;
      r->line += 1 + r->scan_newlines;
      s->pos += consumed;
      reset_scan(r);
      continue;
    }
    const char *p = s->buf + s->pos;
    if (len > 0 && p[len - 1] == '\r') len--;
    r->record_start = s->pos;
    r->record_line = r->line;
    r->record_len = len;
    bool quoted = r->scan_state != SCAN_FAST;
    bool unterminated = r->scan_state == SCAN_QUOTED;
    r->line += 1 + r->scan_newlines;
    s->pos += consumed;
    reset_scan(r);
    if (len == 0) continue;   /* blank line */
    if (len > r->max_record) return too_long(r, err);   /* the same whatever the buffer held */
    if (!quoted) return IO_OK;
    if (unterminated) return io_bad_row(r, err, "unterminated quoted field");
    return split_cells(r, grow, err);
  }
}

/* ---- header ---------------------------------------------------------------------------- */

typedef struct named_column {
  value_str name;
  int index;
} named_column;

static int compare_names(value_str a, value_str b) {
  size_t n = a.len < b.len ? a.len : b.len;
  int c = memcmp(a.p, b.p, n);
  return c ? c : (a.len > b.len) - (a.len < b.len);
}

static int compare_columns(const void *a, const void *b) {
  const named_column *x = a, *y = b;
  int c = compare_names(x->name, y->name);
  return c ? c : x->index - y->index;
}

/* The column named name in sorted, or -1. */
static int find_column(const named_column *sorted, int n, const char *name) {
  value_str key = {name, (uint32_t)strlen(name)};
  int lo = 0, hi = n;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    int c = compare_names(sorted[mid].name, key);
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && compare_names(sorted[lo].name, key) == 0 ? sorted[lo].index : -1;
}

/* A header problem: a bad row at the header's line, without raw text (the
 * reader and its buffer are freed when opening fails). */
static bool header_error(io_reader *r, io_error *err, const char *what, value_str name) {
  char quoted[128];
  io_set_error(err, r->path, r->record_line, 0, "%s %s in the header", what,
               io_quote(quoted, sizeof quoted, name.p, name.len));
  return false;
}

static bool build_column_maps(io_reader *r, io_error *err) {
  const io_schema *schema = r->schema;
  int n = r->ncols;
  named_column *sorted = util_xalloc((size_t)n * sizeof *sorted);
  for (int i = 0; i < n; i++) sorted[i] = (named_column){r->cells[i], i};
  qsort(sorted, (size_t)n, sizeof *sorted, compare_columns);
  for (int i = 1; i < n; i++) {
    if (sorted[i].name.len > 0 && compare_names(sorted[i - 1].name, sorted[i].name) == 0) {
      header_error(r, err, "duplicate column", sorted[i].name);
      free(sorted);
      return false;
    }
  }
  static const char *const event_columns[] = {"account", "time", "event"};
  if (r->accounts) {
    r->col_id = find_column(sorted, n, "id");
    if (r->col_id < 0) {
      free(sorted);
      return header_error(r, err, "missing column", (value_str){"id", 2});
    }
  } else {
    int *required[] = {&r->col_account, &r->col_time, &r->col_event};
    for (int k = 0; k < 3; k++) {
      *required[k] = find_column(sorted, n, event_columns[k]);
      if (*required[k] < 0) {
        free(sorted);
        return header_error(r, err, "missing column",
                            (value_str){event_columns[k], (uint32_t)strlen(event_columns[k])});
      }
    }
    r->col_milestone = find_column(sorted, n, "milestone");
    r->col_playbook = find_column(sorted, n, "playbook");
  }

  int total = r->field_start[schema->nevents] + schema->naccount_fields;
  r->field_cols = util_xalloc(((size_t)total + 1) * sizeof *r->field_cols);
  for (int e = 0; e <= schema->nevents; e++) {
    const io_field_schema *fields;
    for (int f = 0, nfields = io_layout_fields(schema, e, &fields); f < nfields; f++)
      r->field_cols[r->field_start[e] + f] = find_column(sorted, n, fields[f].name);
  }
  free(sorted);
  return true;
}

bool io_csv_begin(io_reader *r, bool build_maps, io_error *err) {
  io_status st = read_record(r, true, err);
  if (st == IO_EOF) {
    r->ncols = 0;   /* an empty file: no header, no rows */
    return true;
  }
  if (st == IO_BAD_ROW) {
    err->raw = NULL;   /* it points into a buffer that opening failure frees */
    err->raw_len = 0;
    return false;
  }
  if (st != IO_OK) return false;
  r->ncols = r->ncells;
  return !build_maps || build_column_maps(r, err);
}

void io_csv_free(io_reader *r) {
  free(r->cells);
  free(r->field_cols);
}

/* ---- rows ---------------------------------------------------------------------------------- */

static io_status read_row(io_reader *r, io_error *err) {
  if (r->ncols == 0) return IO_EOF;
  io_status st = read_record(r, false, err);
  if (st != IO_OK) return st;
  if (r->ncells != r->ncols)
    return io_bad_row(r, err, "the row has %d cells, the header has %d", r->ncells, r->ncols);
  return IO_OK;
}

static io_status convert_fields(io_reader *r, const io_field_schema *fields, int nfields,
                                const int *cols, io_error *err) {
  for (int f = 0; f < nfields; f++) {
    const io_field_schema *field = &fields[f];
    value_str cell = cols[f] >= 0 ? r->cells[cols[f]] : empty_cell;
    if (cell.len == 0) {
      if (!field->has_default)
        return io_bad_row(r, err, "missing value for required column %s", field->name);
      r->values[f] = field->default_value;
    } else if (!io_cell_value(&r->time_cache, field->type, cell.p, cell.len, &r->values[f])) {
      char quoted[128];
      return io_bad_row(r, err, "bad %s %s in column %s", value_type_name(field->type),
                        io_quote(quoted, sizeof quoted, cell.p, cell.len), field->name);
    }
  }
  return IO_OK;
}

/* The event of the current row: its account, time, type and values, or
 * why the row is bad. */
static io_status row_event(io_reader *r, io_event *ev, io_error *err) {
  const value_str *cells = r->cells;
  ev->file = r->path;
  ev->line = r->record_line;
  ev->account = cells[r->col_account];
  value_str time = cells[r->col_time];
  if (time.len == 0) return io_bad_row(r, err, "missing time");
  if (!io_parse_time_cached(&r->time_cache, time.p, time.len, &ev->time)) {
    char quoted[128];
    return io_bad_row(r, err, "bad time %s in column time",
                      io_quote(quoted, sizeof quoted, time.p, time.len));
  }
  value_str name = cells[r->col_event];
  if (name.len == 0) return io_bad_row(r, err, "missing event name");
  int type = io_event_begin(r, ev, name);
  if (type >= 0) {
    const io_event_schema *es = &r->schema->events[type];
    io_status st = convert_fields(r, es->fields, es->nfields, r->field_cols + r->field_start[type], err);
    if (st != IO_OK) return st;
    ev->values = r->values;
  } else if (IO_IS_CONTROL(type)) {
    if (r->col_milestone >= 0) ev->milestone = cells[r->col_milestone];
    if (r->col_playbook >= 0) ev->playbook = cells[r->col_playbook];
  }
  return IO_OK;
}

/* Whether the current row is returned (io_keeps).  A skipped one raises
 * io_schema.skipped_latest, when the schema asks, if it is a valid row:
 * only one later than that is checked whole. */
static bool keeps_event(io_reader *r) {
  if (io_keeps(r, r->cells[r->col_account])) return true;
  value_str time = r->cells[r->col_time];
  int64_t t;
  io_event ev;
  io_error err;
  if (io_notes_skipped(r) && time.len && io_parse_time_cached(&r->time_cache, time.p, time.len, &t) &&
      io_skipped_is_later(r, t) && row_event(r, &ev, &err) == IO_OK)
    io_note_skipped(r, t);
  return false;
}

io_status io_csv_next_event(io_reader *r, io_event *ev, io_error *err) {
  io_status st;
  r->has_account = false;
  do {
    if ((st = read_row(r, err)) != IO_OK) return st;
    if (r->cells[r->col_account].len == 0) return io_bad_row(r, err, "empty account id");
  } while (!keeps_event(r));
  r->has_account = true;
  return row_event(r, ev, err);
}

io_status io_csv_next_account(io_reader *r, io_account *acct, io_error *err) {
  io_status st;
  r->has_account = false;
  do {
    if ((st = read_row(r, err)) != IO_OK) return st;
    if (r->cells[r->col_id].len == 0) return io_bad_row(r, err, "empty account id");
  } while (!io_keeps(r, r->cells[r->col_id]));
  r->has_account = true;
  acct->file = r->path;
  acct->line = r->record_line;
  acct->id = r->cells[r->col_id];
  const io_schema *schema = r->schema;
  st = convert_fields(r, schema->account_fields, schema->naccount_fields,
                      r->field_cols + r->field_start[schema->nevents], err);
  if (st != IO_OK) return st;
  acct->values = r->values;
  return IO_OK;
}
