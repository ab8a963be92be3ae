/* progress.h — the one updating line `msl run` shows on a terminal while
 * it reads (progress.c): rows read, accounts, rows per second, elapsed.
 *
 * Workers publish their counts now and then (progress_publish, a relaxed
 * atomic store, so a worker never waits); a thread of the meter's own sums
 * them four times a second and rewrites the line. */
#ifndef MSL_PROGRESS_H
#define MSL_PROGRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One worker's counts, as the meter reads them. */
typedef struct progress_counts {
  _Atomic int64_t rows;
  _Atomic int64_t accounts;
} progress_counts;

typedef struct progress progress;

/* A meter over n workers' counts, writing to out (a terminal); NULL when
 * its thread cannot start (the run goes on without it). */
progress *progress_start(FILE *out, progress_counts *counts, int n);
/* Stops the thread and writes the line a last time, with the totals and
 * a newline, so it stays.  NULL is ignored. */
void progress_stop(progress *p);

/* How often a worker publishes: every PROGRESS_EVERY rows (a power of 2). */
enum { PROGRESS_EVERY = 4096 };

static inline void progress_publish(progress_counts *c, int64_t rows, int64_t accounts) {
  atomic_store_explicit(&c->rows, rows, memory_order_relaxed);
  atomic_store_explicit(&c->accounts, accounts, memory_order_relaxed);
}

#endif
