/* output.h — what an evaluation produces per account, and the writers of
 * milestones.csv, playbooks.csv, signals.csv, actions.csv, tracking.csv and
 * summary.json (output.c). */
#ifndef MSL_OUTPUT_H
#define MSL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "bc/bc.h"
#include "bc/msc.h"

#define OUT_NO_TIME INT64_MIN     /* an empty time cell */

typedef enum {
  OUT_ST_NOT_STARTED, OUT_ST_PENDING, OUT_ST_IN_PROGRESS, OUT_ST_COMPLETED, OUT_ST_OVERDUE, OUT_ST_BLOCKED,
  OUT_ST_ACHIEVING, OUT_ST_NOT_ACHIEVING, OUT_ST_NEVER_ACHIEVED,
  OUT_ST__COUNT
} out_status;

const char *out_status_name(out_status s);     /* "not_started", ... */

typedef struct out_milestone_row {
  uint32_t milestone;                          /* index in the program */
  out_status status;
  int64_t started_at, entered_at, achieved_at, lost_at, deadline_at;  /* OUT_NO_TIME: empty */
  int8_t on_time;                              /* -1 empty, 0 false, 1 true */
  int32_t actions_done, actions_total;         /* total 0: progress empty */
  /* per action, in declaration order: when it was done in the current
   * start epoch (OUT_NO_TIME: not done); NULL when not started */
  const int64_t *action_done_at;
} out_milestone_row;

typedef struct out_playbook_row {
  uint32_t playbook;
  int32_t step;            /* step index; -1 before the start; nsteps: done */
  int64_t step_entered_at, done_at;            /* OUT_NO_TIME: empty */
} out_playbook_row;

typedef struct out_signal {
  int64_t time;
  uint32_t signal;         /* string pool offset of the signal name */
  uint32_t source_order;   /* decl_order of the source milestone/playbook */
  uint32_t source;         /* string pool offset of the source's name */
  uint32_t clause;         /* the clause's index among the source's `on ... emit` clauses */
  uint32_t seq;            /* emission order, the last tie-break */
} out_signal;

typedef struct out_counts {
  int64_t read;            /* event rows read (all files) */
  int64_t evaluated;       /* rows applied to an account's evaluation */
  int64_t undeclared;      /* rows of event types the program does not declare */
  int64_t rejected;        /* bad rows written to --rejects */
  int64_t unknown_accounts;/* rows of accounts absent from --accounts */
  int64_t ignored_control; /* control events that named nothing valid */
} out_counts;

typedef enum { OUT_CSV, OUT_JSONL } out_format;

typedef struct out_writer out_writer;

typedef struct commit_set commit_set;   /* commit.h */

/* dir NULL: milestones go to standard output and nothing else is written.
 * Otherwise every file is written to a temporary name in dir (joining
 * commit, or a set of the writer's own when commit is NULL) and renamed
 * into place by out_finish, so a failed run leaves no half result.
 * On failure returns NULL with msg set (exit status 4). */
out_writer *out_open(const bc_program *prog, const char *dir, out_format fmt, commit_set *commit,
                     char *msg, size_t msglen);
/* The as-of time T, which tracking.csv's rows need (tracking.h): set it
 * before the first out_account. */
void out_set_as_of(out_writer *w, int64_t as_of);
/* --report-by: summary.json's milestone entries get report_by_write's
 * "by" from these counts, which the caller fills and frees after
 * out_finish (report_by.h). */
typedef struct report_by report_by;
void out_set_report_by(out_writer *w, report_by *by);
/* What summary.json records of the run, after "as_of", so that `msl
 * merge` can check that shards belong together (docs/cli.md): "shard"
 * ({"index", "count"}, or null), "format", "history" and "program_sha256".
 * Without out_set_run none of them is written. */
typedef struct out_run_info {
  int64_t shard, nshards;       /* --shard K/N; nshards 0: not a shard */
  bool history;                 /* history.csv (--history) is among the results */
  char program_sha256[MSC_SHA256_HEX_SIZE];   /* msc_sha256 of the program */
} out_run_info;
void out_set_run(out_writer *w, const out_run_info *run);
/* One account's rows; call in account-id byte order.  Signals must already
 * be sorted (time, source_order, clause, seq). */
bool out_account(out_writer *w, const char *id, size_t id_len,
                 const out_milestone_row *ms, int nms,
                 const out_playbook_row *pbs, int npbs,
                 const out_signal *sigs, int nsigs, char *msg, size_t msglen);
/* Rows formatted by threads: each formats its accounts into an out_rows
 * of its own, in memory, and one thread appends them to the files in
 * account-id order with out_write_rows, an account at a time, taking the
 * bytes out_rows_account said each file got.  out_rows_new needs the
 * as-of time set; out_rows_rewind empties it once its rows are written;
 * out_rows_free adds its counts to the writer's, for summary.json. */
typedef struct out_rows out_rows;
#define OUT_ROW_FILES 5
typedef struct out_rows_lens {
  size_t len[OUT_ROW_FILES];
} out_rows_lens;
out_rows *out_rows_new(const out_writer *w);
bool out_rows_account(out_rows *rows, const char *id, size_t id_len, const out_milestone_row *ms, int nms,
                      const out_playbook_row *pbs, int npbs, const out_signal *sigs, int nsigs,
                      out_rows_lens *lens, char *msg, size_t msglen);
bool out_write_rows(out_writer *w, out_rows *rows, const out_rows_lens *lens, char *msg, size_t msglen);
void out_rows_rewind(out_rows *rows);
void out_rows_free(out_writer *w, out_rows *rows);   /* NULL is ignored */
/* Writes summary.json and commits: every file of the commit set (the
 * results, and what the caller added, e.g. --rejects; with standard output,
 * after it is flushed) is renamed into place, all or none (commit_all).
 * Always releases the writer, also on failure: do not call out_abort after
 * it.  A commit set of the caller's stays the caller's to free. */
bool out_finish(out_writer *w, int64_t as_of, const out_counts *counts, char *msg, size_t msglen);
/* Removes the temporary files and releases the writer (error paths); NULL is ignored. */
void out_abort(out_writer *w);

/* The numbers summary.json writes (buf: 32 bytes; returns the length).
 * factor*num/den (den > 0, num >= 0) rounded half away from zero to
 * `decimals` places (at most 6), exactly; trim drops trailing zeros of the
 * fraction, and the point when nothing is left. */
int out_format_ratio(int64_t num, int64_t den, int64_t factor, int decimals, bool trim, char *buf);
/* Microseconds as seconds: up to 6 decimals, trailing zeros removed (1500000 -> 1.5). */
int out_format_seconds(int64_t us, char *buf);
/* The value at nearest rank ceil(pct/100 * n), 1-based, of n > 0 sorted values. */
int64_t out_nearest_rank(const int64_t *sorted, size_t n, unsigned pct);

#endif
