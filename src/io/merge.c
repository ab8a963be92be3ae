/* merge.c — `msl merge` (merge.h): the shards checked to be those of one
 * run, then every result file merged into a temporary file of the output
 * directory, and all committed together.
 *
 * The shards of one run have the same rules (program_sha256), as-of time,
 * format and --history, and N, and each K from 1 to N once; anything else
 * is refused before a file is written.  Files are committed in the order a
 * run commits them, summary.json last, and report.html is built from the
 * merged files as a run builds it. */
#include "io/merge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/commit.h"
#include "io/merge_internal.h"
#include "io/report.h"

/* The raw JSON text of a member of s's summary ("as_of": a string or null). */
static const char *member_text(const merge_shard *s, const char *key, int *len) {
  const merge_json *v = merge_json_get(s->text, &s->root, key);
  *len = (int)(v->end - v->start);
  return s->text + v->start;
}

static bool same_member(const merge_shard *a, const merge_shard *b, const char *key) {
  int la, lb;
  const char *ta = member_text(a, key, &la), *tb = member_text(b, key, &lb);
  return la == lb && memcmp(ta, tb, (size_t)la) == 0;
}

/* What a shard must share with the first one. */
static merge_status check_alike(const merge_shard *f, const merge_shard *s, char *msg, size_t msglen) {
  if (s->jsonl != f->jsonl) {
    util_set_msg(msg, msglen, "%s holds %s results and %s %s: run every shard with the same --format", s->dir,
                 s->jsonl ? "jsonl" : "csv", f->dir, f->jsonl ? "jsonl" : "csv");
  } else if (!same_member(s, f, "program_sha256")) {
    util_set_msg(msg, msglen, "%s and %s were run with different rules (program_sha256 differs)", s->dir, f->dir);
  } else if (!same_member(s, f, "as_of")) {
    int ls, lf;
    const char *ts = member_text(s, "as_of", &ls), *tf = member_text(f, "as_of", &lf);
    util_set_msg(msg, msglen, "%s has as-of %.*s and %s %.*s: give every shard the same --as-of", s->dir, ls, ts,
                 f->dir, lf, tf);
  } else if (s->history != f->history) {
    util_set_msg(msg, msglen, "%s was run %s --history and %s %s: run every shard alike", s->dir,
                 s->history ? "with" : "without", f->dir, f->history ? "with" : "without");
  } else if (s->count != f->count) {
    util_set_msg(msg, msglen, "%s is shard %lld/%lld and %s shard %lld/%lld: the shards of one run have one N",
                 s->dir, (long long)s->index, (long long)s->count, f->dir, (long long)f->index, (long long)f->count);
  } else {
    return MERGE_OK;
  }
  return MERGE_REFUSED;
}

static int by_index(const void *x, const void *y) {
  const merge_shard *a = *(const merge_shard *const *)x, *b = *(const merge_shard *const *)y;
  return (a->index > b->index) - (a->index < b->index);
}

/* Every shard alike, and each of 1..N once. */
static merge_status check_shards(const merge_shard *shards, int n, char *msg, size_t msglen) {
  for (int k = 1; k < n; k++) {
    merge_status st = check_alike(&shards[0], &shards[k], msg, msglen);
    if (st) return st;
  }
  const merge_shard **order = util_xalloc((size_t)n * sizeof *order);
  for (int k = 0; k < n; k++) order[k] = &shards[k];
  qsort(order, (size_t)n, sizeof *order, by_index);
  merge_status st = MERGE_OK;
  int64_t want = 1;        /* the least index not yet seen */
  for (int k = 0; k < n && !st; k++) {
    if (k && order[k]->index == order[k - 1]->index) {
      util_set_msg(msg, msglen, "%s and %s are both shard %lld/%lld", order[k - 1]->dir, order[k]->dir,
                   (long long)order[k]->index, (long long)order[k]->count);
      st = MERGE_REFUSED;
    } else if (order[k]->index == want) {
      want++;
    }
  }
  if (!st && want <= shards[0].count) {
    util_set_msg(msg, msglen, "shard %lld/%lld is missing", (long long)want, (long long)shards[0].count);
    st = MERGE_REFUSED;
  }
  free(order);
  return st;
}

/* A file of the merged result: its final path, and its temporary file. */
typedef struct out_file {
  char *path;
  const char *tmp;
  int fd;
} out_file;

static merge_status open_out(commit_set *c, const char *dir, const char *name, out_file *f, char *msg,
                             size_t msglen) {
  size_t dl = strlen(dir), len = dl + strlen(name) + 2;
  f->path = util_xalloc(len);
  snprintf(f->path, len, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
  f->fd = commit_add(c, f->path, &f->tmp, msg, msglen);
  return f->fd < 0 ? MERGE_IO : MERGE_OK;
}

/* Syncs and closes a finished temporary file. */
static merge_status close_out(out_file *f, char *msg, size_t msglen) {
  int err = fsync(f->fd) != 0 ? errno : 0;
  if (close(f->fd) != 0 && !err) err = errno;
  f->fd = -1;
  if (!err) return MERGE_OK;
  util_set_msg(msg, msglen, "cannot write %s: %s", f->path, strerror(err));
  return MERGE_IO;
}

/* The row files, in the order a run commits them: history first (opened
 * before the others), milestones, playbooks, signals, actions, tracking. */
enum { ROWS_HISTORY, ROWS_MILESTONES, ROWS_PLAYBOOKS, ROWS_SIGNALS, ROWS_ACTIONS, ROWS_TRACKING, ROWS__COUNT };
static const char *const row_files[ROWS__COUNT] = {"history", "milestones", "playbooks", "signals", "actions",
                                                   "tracking"};

static merge_status merge_files(const merge_shard *shards, int n, const char *out_dir, commit_set *c,
                                out_file *files, merge_milestone *ms, size_t nms, char *msg, size_t msglen) {
  merge_status st = MERGE_OK;
  for (int i = 0; i < ROWS__COUNT && !st; i++) {
    if (i == ROWS_HISTORY && !shards[0].history) continue;
    char name[32];
    snprintf(name, sizeof name, "%s.%s", row_files[i], shards[0].jsonl ? "jsonl" : "csv");
    st = open_out(c, out_dir, name, &files[i], msg, msglen);
    if (!st)
      st = merge_rows_file(shards, n, name, files[i].fd, files[i].path, i == ROWS_MILESTONES ? ms : NULL,
                           i == ROWS_MILESTONES ? nms : 0, msg, msglen);
    if (!st) st = close_out(&files[i], msg, msglen);
  }
  out_file report = {.fd = -1}, summary = {.fd = -1};
  if (!st) st = open_out(c, out_dir, REPORT_FILE_NAME, &report, msg, msglen);
  if (!st) st = open_out(c, out_dir, "summary.json", &summary, msg, msglen);
  merge_text text = {0};
  if (!st) st = merge_summary_write(shards, n, ms, nms, &text, msg, msglen);
  if (!st && !util_write_all(summary.fd, text.items, text.len)) {
    util_set_msg(msg, msglen, "cannot write %s: %s", summary.path, strerror(errno));
    st = MERGE_IO;
  }
  if (!st) st = close_out(&summary, msg, msglen);
  if (!st) {
    report_inputs in = {.summary = summary.tmp, .milestones = files[ROWS_MILESTONES].tmp,
                        .playbooks = files[ROWS_PLAYBOOKS].tmp, .signals = files[ROWS_SIGNALS].tmp,
                        .jsonl = shards[0].jsonl, .tracking = files[ROWS_TRACKING].tmp};
    if (!report_write_fd(report.fd, report.path, &in, msg, msglen)) st = MERGE_BAD_INPUT;
    report.fd = -1;        /* report_write_fd closed it */
  }
  if (!st && !commit_all(c, msg, msglen)) st = MERGE_IO;
  free(text.items);
  out_file *all[] = {&report, &summary};
  for (int i = 0; i < 2; i++) {
    if (all[i]->fd >= 0) close(all[i]->fd);
    free(all[i]->path);
  }
  return st;
}

merge_status merge_shards(const char *const *dirs, int n, const char *out_dir, char *msg, size_t msglen) {
  arena a;
  arena_init(&a);
  merge_shard *shards = util_xalloc((size_t)n * sizeof *shards);
  merge_status st = MERGE_OK;
  for (int k = 0; k < n && !st; k++) {
    shards[k].dir = dirs[k];
    st = merge_summary_read(&shards[k], &a, msg, msglen);
  }
  if (!st) st = check_shards(shards, n, msg, msglen);
  merge_milestone *ms = NULL;
  size_t nms = 0;
  if (!st) st = merge_summary_milestones(&shards[0], &a, &ms, &nms, msg, msglen);
  out_file files[ROWS__COUNT] = {{0}};
  for (int i = 0; i < ROWS__COUNT; i++) files[i].fd = -1;
  commit_set *c = commit_new();
  if (!st) st = merge_files(shards, n, out_dir, c, files, ms, nms, msg, msglen);
  commit_free(c);          /* removes the temporary files when nothing was committed */
  for (int i = 0; i < ROWS__COUNT; i++) {
    if (files[i].fd >= 0) close(files[i].fd);
    free(files[i].path);
  }
  for (size_t i = 0; i < nms; i++) free(ms[i].durations_us);
  for (int k = 0; k < n; k++) free(shards[k].text);
  free(shards);
  arena_free(&a);
  return st;
}
