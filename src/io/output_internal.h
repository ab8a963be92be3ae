/* output_internal.h — what the result writers share (output.h): the
 * buffered files, the counts summary.json reports, and the writer, whose
 * rows output.c writes and whose summary.json output_summary.c writes.
 * Private to src/io/. */
#ifndef MSL_OUTPUT_INTERNAL_H
#define MSL_OUTPUT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/output.h"
#include "io/tracking.h"

typedef struct out_file {
  int fd;                  /* -1 once closed, or in memory */
  bool grows;              /* in memory (out_rows_new): the buffer grows, nothing is written */
  const char *tmp_path;    /* owned by the commit set; NULL for standard output */
  char *final_path;        /* NULL for standard output */
  char *buf;
  size_t len, cap;
  int err;                 /* errno of the first failed write; then nothing more is written */
} out_file;

/* Buffered writes; a failed write() is remembered in the file's err. */
void out_put(out_file *f, const char *p, size_t n);
void out_put_str(out_file *f, const char *s);
void out_put_char(out_file *f, char c);
void out_put_i64(out_file *f, int64_t v);
void out_put_bytes(void *f, const char *p, size_t n);   /* f: an out_file */
/* A JSON string (util_json_string: valid UTF-8 kept, bad bytes as \ufffd). */
void out_put_json_string(out_file *f, const char *s, size_t n);

/* The files of --out, in the order they are committed, all or none
 * (commit.h): summary.json, the file a pipeline waits for and so the mark
 * of a complete result, last; report.html (built from the others) before it. */
enum { F_MILESTONES, F_PLAYBOOKS, F_SIGNALS, F_ACTIONS, F_TRACKING, F_REPORT, F_SUMMARY, F__COUNT };
enum { F__ROWS = F_TRACKING + 1 };   /* the files of rows, which out_rows formats */
_Static_assert(F__ROWS == OUT_ROW_FILES, "out_rows_lens has a length per file of rows");

typedef struct ms_stats {
  int64_t applicable;
  int64_t status_count[OUT_ST__COUNT];
  int64_t *durations_us;   /* time to complete of each qualifying row */
  size_t ndurations, cap;
  int64_t *actions_done;   /* per action: accounts where it is done */
  int64_t tracking[TRACKING__COUNT];   /* tracking.csv rows by state */
} ms_stats;

typedef struct pb_stats {
  int64_t applicable;
  int64_t *step_count;     /* per step, then done, then not started */
} pb_stats;

/* Where an account's rows go, and what summary.json counts of them: the
 * writer's own files (out_account), or a thread's memory (out_rows_new). */
struct out_rows {
  const out_writer *w;     /* the program, the format, T */
  out_file *files;         /* the F__ROWS files of rows */
  ms_stats *ms;            /* NULL with standard output (no summary) */
  pb_stats *pb;
  out_file mem[F__ROWS];   /* out_rows_new's files, in memory */
  size_t taken[F__ROWS];   /* of mem: the bytes out_write_rows has taken */
};

/* A cell of a row.  RAW: a number or boolean; PLAIN: a string that no
 * format escapes (a time, a name), written as it is, in quotes in JSON */
typedef struct out_cell {
  enum { CELL_EMPTY, CELL_TEXT, CELL_PLAIN, CELL_RAW } kind;
  const char *p;
  size_t len;
} out_cell;

struct out_writer {
  const bc_program *prog;
  out_format fmt;
  bool to_stdout;
  out_file files[F__COUNT];  /* only F_MILESTONES when to_stdout */
  out_cell *ms_names;        /* each milestone's name cell (name_cell) */
  ms_stats *ms;              /* NULL when to_stdout (no summary) */
  pb_stats *pb;
  out_rows rows;             /* out_account's: into files, counted in ms and pb */
  commit_set *commit;        /* what out_finish commits; NULL: nothing */
  bool owns_commit;
  int64_t as_of;             /* T for tracking.csv (out_set_as_of); OUT_NO_TIME: not set */
  report_by *by;             /* --report-by counts, the caller's; NULL: none */
  bool has_run;              /* out_set_run was called: summary.json records run */
  out_run_info run;
};

/* The statuses of each mode, in the order of the SPEC 6 table. */
#define OUT_MODE_NSTATUSES 6
const out_status *out_mode_statuses(const bc_milestone *m);

extern const char *const out_owner_names[];   /* bc_action.owner: NULL, "csm", "customer" */

/* Writes summary.json into w's file of it (output_summary.c). */
void out_write_summary(out_writer *w, int64_t as_of, const out_counts *counts);

#endif
