/* report_internal.h — what the report's files share (report.h): the JSON
 * tree summary.json is read into, the row reader of the CSV and JSON Lines
 * result files (report_read.c), and the page's style and script
 * (report_page.c).  Unit tests use it too. */
#ifndef MSL_REPORT_INTERNAL_H
#define MSL_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"

/* ---- JSON (report_read.c) ------------------------------------------------------- */

typedef enum {
  REPORT_JSON_NULL, REPORT_JSON_FALSE, REPORT_JSON_TRUE, REPORT_JSON_NUMBER, REPORT_JSON_STRING,
  REPORT_JSON_ARRAY, REPORT_JSON_OBJECT,
} report_json_kind;

typedef struct report_json report_json;
struct report_json {
  report_json_kind kind;
  const char *text;        /* a string decoded (UTF-8, may hold NUL), a number as written,
                              "true" or "false"; "" for null, arrays and objects */
  size_t len;
  report_json **items;     /* an array's elements, an object's member values */
  const char **keys;       /* an object's member names, decoded */
  size_t *key_lens;
  size_t n;
};

/* Nesting deeper than this is refused (the parser recurses). */
#define REPORT_JSON_MAX_DEPTH 64

/* Parses one JSON value (RFC 8259) filling text[0..len), white space around
 * it allowed, into a tree in arena a (which holds every text of it, NUL
 * terminated: the tree does not point into text).  NULL with msg ("line L: what") when
 * the text is not JSON. */
report_json *report_json_parse(arena *a, const char *text, size_t len, char *msg, size_t msglen);
/* An object's member (the first of that name), or NULL (also for a non-object). */
const report_json *report_json_get(const report_json *obj, const char *key);

/* ---- result rows (report_read.c) -------------------------------------------------- */

typedef struct report_cell {
  const char *p;           /* valid until the next report_rows_next */
  size_t len;              /* 0 for an empty CSV cell and a JSON null */
} report_cell;

typedef struct report_rows report_rows;

/* Opens a result file whose rows are read by column name: the CSV header
 * (or each JSON Lines object) must have every one of the ncols columns;
 * others are ignored.  NULL with msg when the file cannot be read or lacks
 * a column. */
report_rows *report_rows_open(const char *path, bool jsonl, const char *const *columns, int ncols,
                              char *msg, size_t msglen);
/* The next row's cells, in the order of columns: 1, or 0 at the end, or
 * -1 with msg ("path:line: what"). */
int report_rows_next(report_rows *r, report_cell *cells, char *msg, size_t msglen);
/* The line the last row started on. */
int64_t report_rows_line(const report_rows *r);
void report_rows_close(report_rows *r);

/* The longest row accepted.  msl writes none so long: an input record, and
 * so an account id, is at most 16 MiB, and a row holds one id, quoted or
 * JSON-escaped (at most 6 bytes for 1).  A file without line ends is not
 * read into memory whole. */
#define REPORT_MAX_ROW ((size_t)128 << 20)

/* ---- the page's data (report.c) ---------------------------------------------------------- */

/* s[0..n) as a JSON string that is safe inside an HTML <script> element:
 * besides `"`, `\` and control characters, `<`, `>`, `&` and U+2028/U+2029
 * are escaped (\u003c ...), so no text can end the element or open a
 * comment; a byte that is not valid UTF-8 becomes \ufffd. */
void report_put_json_string(FILE *out, const char *s, size_t n);

/* ---- the page's assets (report_page.c) --------------------------------------------- */

extern const char report_page_style[];
extern const char report_page_script[];

#endif
