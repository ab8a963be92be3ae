/* run.h — `msl run`: read the logs, drive the VM, write the results. */
#ifndef MSL_RUN_H
#define MSL_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "bc/bc.h"
#include "io/io.h"
#include "io/output.h"
#include "vm/native.h"
#include "vm/vm.h"

typedef struct run_options {
  const char *const *events;   /* events files; "-" is standard input */
  int nevents;
  const char *accounts;        /* NULL: accounts come from the events */
  bool has_as_of;
  int64_t as_of;
  const char *out_dir;         /* NULL: milestones to standard output */
  out_format format;
  io_format input_format;
  const char *rejects;         /* NULL: a bad row stops the run */
  bool history;                /* --history: history.csv too (needs out_dir) */
  size_t sort_memory;          /* bytes the unsorted path may hold before spilling */
  int jobs;                    /* -j: workers; 0: one per core */
  int64_t shard, nshards;      /* --shard K/N: only the accounts of shard K (run_shard_of); N 0: all */
  bool progress;               /* a progress line on stderr (a terminal) while reading */
  bool has_report_by;          /* --report-by: summary.json splits status counts by */
  uint32_t report_by_field;    /* this account field (report_by_find_field) */
  /* For `msl explain`, NULL for `msl run`: only the account whose id is
   * *only is evaluated (every row still counts for the default as-of, and
   * is read and checked as a run reads it); each account's results go to
   * on_results, right after vm_finish, instead of to any output (none is
   * opened); observer watches every worker's VM.  on_results returns an
   * exit status: not EXIT_OK ends the run with it. */
  const value_str *only;
  int (*on_results)(void *ctx, vm_runtime *vm, vm_account *a, int64_t as_of, const vm_results *r);
  void *results_ctx;
  const vm_observer *observer;
} run_options;

/* The most workers -j may ask for. */
enum { RUN_MAX_JOBS = 256 };

/* Exit statuses of SPEC 7. */
enum { EXIT_OK = 0, EXIT_RULES = 1, EXIT_USAGE = 2, EXIT_DATA = 3, EXIT_IO = 4 };

/* The shard (1 to nshards) of an account whose SPEC 7 hash is h
 * (util_account_hash): pmod(h, nshards) + 1, as Spark SQL's
 * pmod(xxhash64(account), N) + 1. */
static inline int64_t run_shard_of(int64_t h, int64_t nshards) {
  int64_t m = h % nshards;
  return (m < 0 ? m + nshards : m) + 1;
}

/* Evaluates every account and writes the results; returns the exit status.
 * Messages go to standard error. */
int run_program(const bc_program *p, native_fn *const *externs, const run_options *o);

#endif
