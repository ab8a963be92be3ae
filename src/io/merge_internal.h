/* merge_internal.h — what the files of `msl merge` share (merge.h):
 * summary.json as a tree that keeps every value's place in its text
 * (merge_summary.c), and the k-way merge of the row files
 * (merge_rows.c), which hands the milestone rows' times to complete to the
 * summary.  Private to src/io/; unit tests use it too. */
#ifndef MSL_MERGE_INTERNAL_H
#define MSL_MERGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/util.h"
#include "io/merge.h"

/* ---- summary.json as written (merge_summary.c) --------------------------------- */

typedef enum { MJ_NULL, MJ_FALSE, MJ_TRUE, MJ_NUMBER, MJ_STRING, MJ_ARRAY, MJ_OBJECT } merge_json_kind;

/* A JSON value and where it lies in the text it was parsed from: merged
 * output copies the text between values (keys, punctuation, indentation)
 * from one shard's file, so it is laid out exactly as msl run lays it
 * out, and strings are never decoded and encoded again. */
typedef struct merge_json merge_json;
struct merge_json {
  merge_json_kind kind;
  size_t start, end;       /* the value's bytes: text[start, end) */
  size_t n;
  merge_json *items;       /* an array's elements, an object's member values */
  size_t *key_start;       /* an object's member names, quotes included: text[key_start[i], key_end[i]) */
  size_t *key_end;
};

/* Nesting deeper than this is refused (the parser recurses). */
#define MERGE_JSON_MAX_DEPTH 64

/* Parses text[0..len) into a tree in arena a (pointing into text, which
 * must outlive it).  False with msg ("line L: what"). */
bool merge_json_parse(arena *a, const char *text, size_t len, merge_json *out, char *msg, size_t msglen);
/* The member of obj whose name, as written, is the JSON string of key
 * (no escapes), or NULL (also when obj is not an object). */
const merge_json *merge_json_get(const char *text, const merge_json *obj, const char *key);
/* An integer value (no fraction, no exponent) that fits int64_t. */
bool merge_json_int(const char *text, const merge_json *v, int64_t *out);

/* One shard: its directory and summary.json, and what the merge checks. */
typedef struct merge_shard {
  const char *dir;
  char *summary_path;
  char *text;              /* summary.json */
  size_t len;
  merge_json root;
  int64_t index, count;    /* "shard" */
  bool jsonl, history;     /* "format", "history" */
} merge_shard;

/* Reads and parses s->dir's summary.json and what it records of the run
 * ("shard", "format", "history"): MERGE_REFUSED when it records no shard. */
merge_status merge_summary_read(merge_shard *s, arena *a, char *msg, size_t msglen);

/* A milestone's times to complete, gathered from the merged milestone
 * rows: achieved_at - started_at of its completed rows (continuous mode:
 * achieved at least once) that have both times, as output.c counts them. */
typedef struct merge_milestone {
  const char *name;        /* as summary.json writes it, between the quotes */
  size_t name_len;
  bool continuous;
  int64_t *durations_us;
  size_t ndurations, cap;
} merge_milestone;

/* The milestones of shard s's summary.json, in its order (arena a holds
 * them).  MERGE_BAD_INPUT when an entry lacks its name or statuses. */
merge_status merge_summary_milestones(const merge_shard *s, arena *a, merge_milestone **out, size_t *n,
                                      char *msg, size_t msglen);

/* The merged summary.json of shards[0..n) (checked to be the shards of
 * one run) into *out, with the times to complete of ms[0..nms) (their
 * durations get sorted).  MERGE_REFUSED when the shards' summaries differ
 * where one run's shards agree; MERGE_BAD_INPUT when a count is not one,
 * or the rows disagree with it. */
typedef UTIL_VEC(char) merge_text;
merge_status merge_summary_write(const merge_shard *shards, int n, merge_milestone *ms, size_t nms,
                                 merge_text *out, char *msg, size_t msglen);

/* ---- row files (merge_rows.c) ----------------------------------------------------- */

/* Merges file `name` (milestones.csv, ...) of every shard into out_fd by
 * account id, checking that each shard lists its accounts in order and
 * that no account is in two shards.  ms[0..nms) (the milestones file only;
 * NULL otherwise) gets each milestone row's time to complete.  out_label
 * names out_fd in messages. */
merge_status merge_rows_file(const merge_shard *shards, int n, const char *name, int out_fd, const char *out_label,
                             merge_milestone *ms, size_t nms, char *msg, size_t msglen);

#endif
