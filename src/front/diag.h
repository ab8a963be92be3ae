/* diag.h — source files, locations and diagnostics.
 *
 * Every phase reports problems through a diag_list: an error or warning with
 * a stable code (E001.., W001..), a source span and a message.  Rendering
 * (text with caret, JSON, SARIF 2.1.0) happens once, in the CLI, so phases
 * never print. */
#ifndef MSL_DIAG_H
#define MSL_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/arena.h"

/* One loaded source file; text is NUL-terminated and owned by the arena. */
typedef struct msl_source {
  const char *path;    /* as given by the user, or resolved import path */
  const char *text;
  size_t len;
  /* Where each line starts (line_starts[0] == 0), so that showing a
   * diagnostic's line does not rescan the file; NULL when not computed
   * (diag.c then scans). */
  const size_t *line_starts;
  int nlines;
} msl_source;

/* Fills in src->line_starts from its text, in arena a. */
void source_index_lines(arena *a, msl_source *src);

/* A span in a source: 1-based line and column (columns count bytes);
 * end is inclusive of the last character.  src may be NULL for
 * diagnostics about the command line or a whole file. */
typedef struct msl_loc {
  const msl_source *src;
  int line, col;
  int end_line, end_col;
} msl_loc;

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } diag_severity;

typedef struct diag {
  diag_severity severity;
  char kind;             /* 'E' or 'W' */
  int code;              /* E012 -> 12 */
  msl_loc loc;
  const char *message;
  struct diag *next;
} diag;

typedef struct diag_list {
  arena *arena;
  diag *first, *last;
  int errors, warnings;
} diag_list;

void diag_init(diag_list *d, arena *a);
void diag_error(diag_list *d, msl_loc loc, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_warning(diag_list *d, msl_loc loc, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sorts diagnostics by file, line, column (stable), for deterministic output. */
void diag_sort(diag_list *d);
/* Turns every warning into an error (-Werror). */
void diag_promote_warnings(diag_list *d);
/* Removes from d every diagnostic for which drop returns true. */
void diag_drop_if(diag_list *d, bool (*drop)(const diag *g, void *ctx), void *ctx);
/* Moves every diagnostic of from (same arena) to the end of to. */
void diag_move(diag_list *to, diag_list *from);

msl_loc loc_span(msl_loc from, msl_loc to);

typedef enum { DIAG_FORMAT_TEXT, DIAG_FORMAT_JSON, DIAG_FORMAT_SARIF } diag_format;

/* text: "file:line:col: error[E012]: message", the source line, a caret
 * line; colour only when color is true. */
void diag_render_text(FILE *out, const diag_list *d, bool color);
void diag_render_json(FILE *out, const diag_list *d);
/* SARIF 2.1.0 log with one run; rules are the codes that occur. */
void diag_render_sarif(FILE *out, const diag_list *d, const char *tool_version);

/* The one-line title of a code, for SARIF rule descriptions; NULL if none. */
const char *diag_code_title(char kind, int code);

#endif
