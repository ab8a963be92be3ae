/* io_internal.h — what the loader files (io_read.c, io_csv.c, io_jsonl.c,
 * io_store.c) share: the chunked byte source, the reader, and the helpers
 * that turn cells into typed values.  Not part of the public API (io.h);
 * unit tests and fuzzers use io_reader_open for small buffers and
 * in-memory input. */
#ifndef MSL_IO_INTERNAL_H
#define MSL_IO_INTERNAL_H

#include <string.h>

#include "io/gunzip.h"
#include "io/io.h"

/* A read buffer of 256 KiB: 1 MiB read no faster (10M events, CSV, JSON
 * Lines and gzip alike), and its 0.8 MB showed in the peak over 1M events. */
#define IO_DEFAULT_BUFFER ((size_t)256 << 10)
#define IO_DEFAULT_MAX_RECORD ((size_t)16 << 20)
/* Zeroed bytes after the unread ones in a source's buffer, always: a
 * scanner loads sixteen bytes at a time without a bounds test, and finds
 * no separator past the data (io_csv.c). */
#define IO_SLACK ((size_t)16)

/* Times the loaders accept: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z,
 * the years the ISO form can write; epoch seconds only from year 1, so that
 * milliseconds given as seconds are refused whatever their sign (SPEC 7). */
#define IO_EPOCH_MIN_SECONDS INT64_C(-62135596800)
#define IO_EPOCH_MAX_SECONDS INT64_C(253402300799)
#define IO_TIME_MIN_US (INT64_C(-62167219200) * 1000000)
#define IO_TIME_MAX_US (IO_EPOCH_MAX_SECONDS * 1000000 + 999999)

/* Control event ids run from IO_EV_ASSIGN (-10) to IO_EV_ADVANCE (-5). */

/* ---- cells (io_cells.c) -------------------------------------------------------
 * Sorted logs repeat the same date row after row, and mostly the same
 * minute: the cache keeps the last date's day number, so only the time of
 * day is parsed again, and the last UTC minute (YYYY-MM-DDTHH:MM:), so
 * that a time of the same minute costs its two digits of seconds. */
typedef struct io_time_cache {
  char date[10];
  bool valid;
  bool minute_valid;
  int64_t day_seconds;
  char minute[17];
  int64_t minute_seconds;
} io_time_cache;

bool io_parse_time_parts(io_time_cache *cache, const char *s, size_t len, int64_t *us);

/* io_parse_time with the cache (NULL: none).  A UTC time of the cached
 * minute is taken here, inline where rows are read; any other goes through
 * io_parse_time_parts, which fills the cache. */
static inline bool io_parse_time_cached(io_time_cache *cache, const char *s, size_t len, int64_t *us) {
  if (cache && cache->minute_valid && len == 20 && s[19] == 'Z' && memcmp(s, cache->minute, 17) == 0) {
    unsigned tens = (unsigned)(unsigned char)s[17] - '0', ones = (unsigned)(unsigned char)s[18] - '0';
    if (tens <= 5 && ones <= 9) {
      *us = (cache->minute_seconds + tens * 10 + ones) * 1000000;   /* the minute's times are all in range */
      return true;
    }
  }
  return io_parse_time_parts(cache, s, len, us);
}

/* The hash of a short name (an event type's, a JSON key's) from its
 * length and its first and last 8 bytes, as its reader loads them: names
 * that differ only in the middle, rare, share a probe sequence. */
static inline uint32_t io_name_mix(size_t len, uint64_t head, uint64_t tail) {
  const uint64_t k = 0x9E3779B97F4A7C15u;
  uint64_t h = ((len * k) ^ head) * k;
  return (uint32_t)(((h ^ tail) * k) >> 32);
}

/* ---- byte source (io_read.c) ------------------------------------------------
 * A window [pos, end) of unread bytes in buf.  io_source_fill keeps those
 * bytes (moving them to the front, growing buf when they fill it) and reads
 * more after them, so a record that spans two reads becomes contiguous. */
typedef struct io_source {
  int fd;                  /* plain file, stdin, pipe, or the spool; -1 for gz/memory */
  gunzip *gz;              /* a .gz file */
  const char *mem;         /* in-memory input (tests, fuzzers) */
  size_t mem_len, mem_pos;
  bool is_stdin;
  int spool_fd;            /* stdin, pipes: a temporary copy of all read; -1 if none */
  bool eof;
  char *buf;
  size_t cap, pos, end;
  int64_t offset;          /* the file offset of buf[end] (plain files) */
  int64_t left;            /* a byte range (io_reader_range): bytes still to read; -1: to the end */
} io_source;

/* ---- options for io_reader_open ------------------------------------------------ */
typedef struct io_options {
  size_t buffer_size;      /* initial read buffer; 0 = IO_DEFAULT_BUFFER */
  size_t max_record;       /* longest record accepted; 0 = IO_DEFAULT_MAX_RECORD */
  bool spool_streams;      /* copy stdin and pipes as read, so io_reader_rewind works */
  const char *data;        /* non-NULL: read these bytes; path only names them */
  size_t data_len;
} io_options;

/* ---- JSON Lines state -------------------------------------------------------------- */
typedef enum {
  JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_OBJECT, JSON_ARRAY,
} json_kind;

typedef struct json_member {
  value_str text;             /* string: decoded; number: its text; others: empty */
  uint8_t kind;            /* json_kind */
  uint8_t nested;          /* 1: from the "properties" object */
} json_member;

/* A key rows are read for (io_jsonl.c): the account id, time, event,
 * control names or a field, with its member on the line being read. */
typedef struct json_key {
  const char *name;
  uint32_t len;
  uint64_t head;           /* the name's first 8 bytes, zero-padded: most keys compare in one go */
  uint64_t line;           /* its member is the current line's when this is io_reader.key_line */
  json_member member;
} json_key;

/* The key a flat line had at one member place, so that the next line,
 * whose keys mostly come in the same order, finds each with a compare
 * rather than a hash and a probe: its head and length, and its index
 * (-1: a key no row reads, remembered only when its head holds it all;
 * -2: none yet). */
enum { IO_KEY_GUESSES = 16 };

typedef struct json_key_guess {
  uint64_t head;
  uint32_t len;
  int32_t key;
} json_key_guess;

/* ---- the reader ---------------------------------------------------------------------- */
typedef struct io_name_slot {
  const char *name;        /* NULL: empty slot */
  uint32_t len;
  int type;
} io_name_slot;

struct io_reader {
  io_source src;
  const io_schema *schema;
  const char *path;        /* as given ("-" for stdin) */
  io_format format;
  bool accounts;           /* an accounts file, not events */
  size_t max_record;
  int64_t line;            /* physical line of the next unread byte */
  int64_t record_line;     /* where the current record starts */
  size_t record_len;       /* raw record (for err->raw), at src.buf + record_start */
  size_t record_start;
  bool skipping;           /* discarding the rest of an over-long record */
  bool has_account;        /* the current record's account id is read and kept (io_error.has_account) */
  bool at_start;           /* nothing read yet: a UTF-8 BOM is skipped */

  /* event type names (declared and ms.*), open addressing */
  io_name_slot *names;
  uint32_t names_mask;

  /* Fields of all event types, then the account fields, in one layout:
   * field_start[type] (accounts: [nevents]) + field number. */
  int *field_start;

  io_time_cache time_cache;
  value_data *values;        /* one record's typed values */
  int max_fields;
  char *scratch;           /* unescaped text of one record: >= record length */
  size_t scratch_cap;

  /* CSV */
  int ncols;
  value_str *cells;           /* ncols cells of the current record */
  int ncells;              /* cells the record had (may differ from ncols) */
  size_t cells_cap;
  int col_account, col_time, col_event, col_milestone, col_playbook, col_id;
  int *field_cols;         /* field_start layout -> column, or -1 */
  int scan_state;          /* resumable scan of a record with quotes */
  size_t scan_off;
  int64_t scan_newlines;
  bool skip_in_quotes;

  /* JSON Lines */
  json_key *keys;          /* the fixed ones (io_jsonl.c), then the fields' */
  int nkeys;
  uint32_t *key_slots;     /* open addressing by name: a key's index + 1; 0 empty */
  uint32_t key_mask;
  uint32_t *field_key;     /* field_start layout -> its key */
  json_key_guess key_guess[IO_KEY_GUESSES];   /* by member place: the key met there last (parse_flat) */
  uint64_t key_line;       /* advanced for every parse of a line */
  uint64_t *quotes;        /* bit i: byte i of the line's members is a quote (parse_flat) */
  size_t quotes_cap;
};

/* io_read.c */
io_reader *io_reader_open(const io_schema *schema, const char *path, io_format fmt,
                          bool accounts, const io_options *opts, io_error *err);
bool io_reader_rewind(io_reader *r, io_error *err);
/* Reads more input after the unread bytes; > 0 bytes read, 0 at end of
 * input, -1 on error (err filled).  Pointers into buf become invalid. */
long io_source_fill(io_reader *r, io_error *err);
/* A temporary file in $TMPDIR (default /tmp), already unlinked; -1 on error. */
int io_temp_fd(const char *purpose, io_error *err);

void io_set_error(io_error *err, const char *file, int64_t line, int errnum,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Skips a UTF-8 byte order mark at the start of the input (SPEC 7);
 * false on an I/O error (err filled). */
bool io_skip_bom(io_reader *r, io_error *err);
/* Starts ev as an event named name: its type (declared, control, or
 * IO_EV_UNDECLARED), no values and no control target yet; returns the type. */
int io_event_begin(io_reader *r, io_event *ev, value_str name);
/* The fields of entry e of the reader's field layout (field_start): event
 * type e's, or the account's for e == nevents; returns how many. */
int io_layout_fields(const io_schema *schema, int e, const io_field_schema **fields);
/* Converts a CSV cell (or a JSON string) to the field's type. */
bool io_cell_value(io_time_cache *cache, value_type type, const char *s, size_t len, value_data *out);
/* Finishes an accounts row whose id and fields are read: a duplicate id is a
 * bad row naming the first line that had it (a rejected row claims no id). */
/* Makes r->scratch at least n bytes. */
void io_reserve_scratch(io_reader *r, size_t n);

/* io_csv.c */
bool io_csv_begin(io_reader *r, bool build_maps, io_error *err);
io_status io_csv_next_event(io_reader *r, io_event *ev, io_error *err);
io_status io_csv_next_account(io_reader *r, io_account *acct, io_error *err);
void io_csv_free(io_reader *r);

/* io_jsonl.c */
void io_jsonl_begin(io_reader *r);
io_status io_jsonl_next_event(io_reader *r, io_event *ev, io_error *err);
io_status io_jsonl_next_account(io_reader *r, io_account *acct, io_error *err);

/* Whether the reader returns a row of account id (io_schema.keep). */
static inline bool io_keeps(const io_reader *r, value_str id) {
  return !r->schema->keep || r->schema->keep(r->schema->keep_ctx, id);
}

/* Whether an events reader wants io_note_skipped for the rows it skips. */
static inline bool io_notes_skipped(const io_reader *r) { return r->schema->skipped_latest != NULL; }

/* Whether a skipped row at time could raise io_schema.skipped_latest. */
static inline bool io_skipped_is_later(const io_reader *r, int64_t time) {
  return time > *r->schema->skipped_latest;
}

/* A skipped events row that is valid (io_schema.skipped_latest). */
static inline void io_note_skipped(const io_reader *r, int64_t time) {
  if (time > *r->schema->skipped_latest) *r->schema->skipped_latest = time;
}

#endif
