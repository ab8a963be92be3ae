/* merge.h — `msl merge` (merge.c, merge_summary.c, merge_rows.c): the
 * results of `msl run --shard K/N` for K = 1..N combined into exactly what
 * one run over every account writes, byte for byte (docs/cli.md).
 *
 * Every result file lists accounts in id byte order and every account is
 * in one shard, so the row files are a k-way merge by account id,
 * streamed: no file is held in memory.  summary.json is shard 1's with the
 * counts added, the percentages and times to complete recomputed (the
 * latter from the milestone rows), and "shard" null, as a run without
 * --shard writes it; report.html is built from the merged files. */
#ifndef MSL_MERGE_H
#define MSL_MERGE_H

#include <stddef.h>

typedef enum {
  MERGE_OK,
  MERGE_REFUSED,           /* the directories are not the shards of one run (exit status 2) */
  MERGE_BAD_INPUT,         /* a file is not what msl run writes (exit status 3) */
  MERGE_IO,                /* a file cannot be read or written (exit status 4) */
} merge_status;

/* Merges the shard directories dirs[0..n) into out_dir, which exists and
 * which the caller holds the lock of (commit.h).  Every file is written to
 * a temporary name and all are renamed into place together, summary.json
 * last, or none is.  Not MERGE_OK: msg says why. */
merge_status merge_shards(const char *const *dirs, int n, const char *out_dir, char *msg, size_t msglen);

#endif
