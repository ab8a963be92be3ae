/* io.h — event and account loaders (io_csv.c, io_jsonl.c, io_cells.c,
 * io_store.c).
 *
 * Loaders read in large chunks and parse in place: a record's strings point
 * into the reader's buffer and stay valid until the next call on the same
 * reader.  They never hold a whole file in memory.  Cells are converted to
 * the types the program declares (SPEC section 7), with defaults applied. */
#ifndef MSL_IO_H
#define MSL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/value.h"


typedef struct io_field_schema {
  const char *name;
  value_type type;
  bool has_default;
  value_data default_value;   /* strings owned by the schema's owner */
} io_field_schema;

typedef struct io_event_schema {
  const char *name;
  int nfields;
  const io_field_schema *fields;
} io_event_schema;

typedef struct io_schema {
  int nevents;
  const io_event_schema *events;      /* index = event type id */
  int naccount_fields;
  const io_field_schema *account_fields;
  /* Readers return only the rows whose account id keep accepts (a -j
   * worker's or a --shard's share), skipping the others unchecked once
   * their id is known; NULL keeps every row.  keep never sees an empty id:
   * that row is bad before its account is known. */
  bool (*keep)(const void *ctx, value_str id);
  const void *keep_ctx;
  /* Not NULL: an events row keep skips still raises *skipped_latest to its
   * time when its time cell is valid, since every row counts for the
   * default as-of (SPEC 7), also one of another shard. */
  int64_t *skipped_latest;
} io_schema;

typedef enum { IO_FORMAT_AUTO = 0, IO_FORMAT_CSV, IO_FORMAT_JSONL } io_format;

/* Event type ids other than declared ones (>= 0). */
enum {
  IO_EV_UNDECLARED = -1,
  /* control events, in the order SPEC 6 applies them at one instant */
  IO_EV_ASSIGN = -10, IO_EV_RESET, IO_EV_UNBLOCK, IO_EV_BLOCK, IO_EV_COMPLETE, IO_EV_ADVANCE,
};
/* Control event ids run from IO_EV_ASSIGN to IO_EV_ADVANCE, in application order. */
#define IO_IS_CONTROL(type) ((type) >= IO_EV_ASSIGN && (type) <= IO_EV_ADVANCE)

typedef struct io_event {
  value_str account;
  int64_t time;              /* microseconds since 1970-01-01T00:00:00Z */
  int type;                  /* >= 0 declared, or an IO_EV_* constant */
  value_str milestone;          /* control events: the `milestone` cell (len 0 if none) */
  value_str playbook;           /* control events: the `playbook` cell */
  const value_data *values;    /* declared events: one per field, defaults applied */
  const char *file;          /* as given on the command line ("-" for stdin) */
  int64_t line;              /* 1-based line where the record starts */
} io_event;

typedef struct io_account {
  value_str id;
  const value_data *values;    /* one per account field, defaults applied */
  const char *file;
  int64_t line;
} io_account;

/* Why a row was refused, and the row itself for --rejects. */
typedef struct io_error {
  char reason[256];          /* "bad time \"2026-13-01\" in column time" */
  const char *file;
  int64_t line;
  const char *raw;           /* the raw record text (without its final newline) */
  size_t raw_len;
  int io_errno;              /* I/O errors: errno; 0 for bad rows */
  /* Bad rows: the row's account id was read (and keep accepted it), so the
   * row is that account's; false for a row no account owns (ragged, not a
   * JSON object, no valid id), which every reader returns whatever its
   * keep. */
  bool has_account;
} io_error;

typedef enum {
  IO_OK = 1,                 /* a record was returned */
  IO_EOF = 0,
  IO_BAD_ROW = -1,           /* err filled; the reader can go on to the next row */
  IO_FAILED = -2,            /* I/O or decompression error; err filled; stop */
} io_status;

/* ---- cells (io_cells.c): one place for SPEC 7's cell grammar ------------ */

bool io_parse_time(const char *s, size_t len, int64_t *us);     /* ISO 8601, database forms, epoch */
bool io_parse_int(const char *s, size_t len, int64_t *out);
bool io_parse_float(const char *s, size_t len, double *out);     /* no NaN/inf */
bool io_parse_bool(const char *s, size_t len, bool *out);
bool io_parse_duration(const char *s, size_t len, int64_t *us); /* 30d, 90m, or integer seconds */
/* Writes 2026-01-31T09:30:00Z (a 6-digit fraction only when not zero);
 * returns the length; buf needs 32 bytes. */
int io_format_time(int64_t us, char *buf);

/* ---- readers --------------------------------------------------------------- */

typedef struct io_reader io_reader;

/* Opens an events file ("-" = stdin).  Format by extension (.csv, .jsonl,
 * .ndjson, each optionally .gz) unless fmt says otherwise; stdin is CSV
 * unless told.  On failure returns NULL and fills err (exit status 4 for
 * I/O errors; a CSV header without account/time/event, or with a duplicate
 * column, is a bad row at line 1: err->io_errno == 0). */
io_reader *io_events_open(const io_schema *schema, const char *path, io_format fmt, io_error *err);
io_status io_events_next(io_reader *r, io_event *ev, io_error *err);

/* Accounts file: column `id` plus the account fields. */
io_reader *io_accounts_open(const io_schema *schema, const char *path, io_format fmt, io_error *err);
/* The next row of the accounts file.  A duplicate id is not the reader's
 * to find (its caller's account table does: io_bad_row). */
io_status io_accounts_next(io_reader *r, io_account *acct, io_error *err);
/* Makes the record r returned last a bad row, for what only its caller
 * sees (an accounts file's duplicate id): err as io_*_next fills it. */
io_status io_bad_row(io_reader *r, io_error *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes s as a quoted, escaped, shortened text for messages. */
const char *io_quote(char *dst, size_t cap, const char *s, size_t len);

void io_close(io_reader *r);

/* ---- byte ranges: one file parsed by several workers ------------------------
 *
 * A plain events file can be read in byte ranges, each by its own reader
 * (opened on the same path), so that every worker parses a share of the
 * bytes.  A range starts at a record boundary and ends at one: a range
 * that ends inside a record (a quoted newline, say) makes its reader
 * return a bad row at its end, which the caller takes as "not split here". */

/* Whether r (an events reader) reads a regular, uncompressed file. */
bool io_events_splittable(const io_reader *r);
/* The size of r's file; false when fstat fails. */
bool io_file_size(const io_reader *r, int64_t *size);
/* The file offset of the first record r has not read (after the header). */
int64_t io_data_offset(const io_reader *r);
/* The offset just after the first newline at or after off, or the file's
 * size; -1 on an I/O error (err filled). */
int64_t io_line_start(io_reader *r, int64_t off, io_error *err);
/* Makes r read the records of bytes [start, end) of its file. */
bool io_reader_range(io_reader *r, int64_t start, int64_t end, io_error *err);

/* A gzipped events file is inflated once, by one reader, whose text after
 * the header is cut into ranges at newlines; each range is parsed from
 * memory by a worker's reader opened on the same path. */

/* Whether r (an events reader) reads a gzipped file (named by a path:
 * whether it is a regular file is the caller's to check). */
bool io_events_inflatable(const io_reader *r);
/* Up to cap bytes of r's text after what it has parsed (the header):
 * > 0 bytes, 0 at the end, -1 on an error (err filled). */
long io_reader_pull(io_reader *r, char *dst, size_t cap, io_error *err);
/* Makes r read the records of text[0, len), which must stay put while r
 * reads them: a range of r's file's text, not at its start. */
void io_reader_text(io_reader *r, const char *text, size_t len);

/* ---- events' values as bytes (io_store.c) ------------------------------------
 *
 * A declared event's values as 8-byte cells, one per field (a string: its
 * offset from a base and its length; a bool as 0 or 1), then the strings'
 * bytes: how the sorter's records and the -j split read's boxes carry
 * events.  A control event has no values (0 bytes). */
size_t io_values_size(const io_schema *schema, const io_event *ev);
/* Writes ev's values at base + at (8-byte aligned; room for
 * io_values_size); returns the end of what it wrote. */
char *io_values_put(const io_schema *schema, const io_event *ev, char *base, size_t at);
/* Reads the values of an event of type type (>= 0) written at base + at. */
void io_values_get(const io_schema *schema, int type, const char *base, size_t at, value_data *values);

/* ---- ordering (io_store.c) ----------------------------------------------------
 *
 * io_merge yields the events of several files in non-decreasing time order
 * (a k-way merge) while every file is itself sorted; the first record that
 * goes back in time in its file makes it return IO_UNSORTED, and the caller
 * switches to io_sorter.  Reading stdin keeps a spool copy so the input can
 * be read again. */
#define IO_UNSORTED (-3)

typedef struct io_merge io_merge;
io_merge *io_merge_open(const io_schema *schema, const char *const *paths, int npaths,
                        io_format fmt, io_error *err);
/* IO_OK, IO_EOF, IO_BAD_ROW (go on or stop: the caller decides), IO_FAILED,
 * or IO_UNSORTED.  The returned record stays valid until the next call. */
int io_merge_next(io_merge *m, io_event *ev, io_error *err);
/* Starts again from the first row of every file (stdin: from its spool). */
bool io_merge_rewind(io_merge *m, io_error *err);
void io_merge_close(io_merge *m);

/* io_sorter collects copies of events, sorts them by (account id's hash
 * (util_hash), time, arrival order) and hands them back: each account's
 * events in time order, accounts one after another (two whose ids share a
 * hash interleaved by time); beyond mem_limit bytes, or 64 MiB, it writes
 * sorted runs to temporary files and merges them. */
typedef struct io_sorter io_sorter;
io_sorter *io_sorter_new(const io_schema *schema, size_t mem_limit);
bool io_sorter_add(io_sorter *s, const io_event *ev, io_error *err);
/* Takes back the event io_sorter_add added last (and nothing since). */
void io_sorter_drop_last(io_sorter *s);
bool io_sorter_finish(io_sorter *s, io_error *err);
io_status io_sorter_next(io_sorter *s, io_event *ev, io_error *err);
void io_sorter_free(io_sorter *s);

#endif
