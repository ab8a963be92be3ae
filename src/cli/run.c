/* run.c — `msl run` (prefix run_): the driver.  It opens the outputs,
 * runs the workers (worker.c: each reads the events of its share of the
 * accounts into its own VM) on threads, and writes every account's results
 * in id order.
 *
 * A parallel run reports nothing itself: when a worker meets a bad row, a
 * runtime error or an I/O error, the run is done again by one worker,
 * which stops or goes on exactly as a serial run does, so messages, exit
 * statuses and --rejects never depend on -j.
 *
 * The output directory is created and locked, and every output file opened
 * (as a temporary file), before any input is read; --rejects joins the
 * results' commit (commit.h), so results and rejects appear together or
 * not at all. */
#include "cli/run_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

/* ---- the schema the loaders convert cells to ------------------------------------------- */

static io_field_schema *schema_fields(const bc_program *p, const bc_field *f, uint32_t n, io_field_schema *out) {
  for (uint32_t i = 0; i < n; i++) {
    out[i] = (io_field_schema){.name = bc_str(p, f[i].name), .type = (value_type)f[i].type,
                               .has_default = f[i].has_default};
    if (f[i].has_default) out[i].default_value = p->consts[f[i].default_const].v;
  }
  return out;
}

static void schema_build(run_state *st) {
  const bc_program *p = st->p;
  size_t nfields = p->naccount_fields;
  for (uint32_t e = 0; e < p->nevents; e++) nfields += p->events[e].nfields;
  st->schema_events = util_xalloc((p->nevents ? p->nevents : 1) * sizeof *st->schema_events);
  st->schema_fields = util_xalloc((nfields ? nfields : 1) * sizeof *st->schema_fields);
  io_field_schema *f = st->schema_fields;
  for (uint32_t e = 0; e < p->nevents; e++) {
    st->schema_events[e] = (io_event_schema){.name = bc_str(p, p->events[e].name),
                                             .nfields = (int)p->events[e].nfields,
                                             .fields = schema_fields(p, p->events[e].fields, p->events[e].nfields, f)};
    f += p->events[e].nfields;
  }
  st->schema = (io_schema){.nevents = (int)p->nevents, .events = st->schema_events,
                           .naccount_fields = (int)p->naccount_fields,
                           .account_fields = schema_fields(p, p->account_fields, p->naccount_fields, f)};
}

/* ---- the run ------------------------------------------------------------------------------ */

int run_rejects_failed(run_state *st, int err) {
  fprintf(stderr, "msl: %s: %s\n", st->o->rejects, strerror(err ? err : EIO));
  return EXIT_IO;
}

/* An account and the worker whose runtime holds it, keyed for the sort
 * by its id's first sixteen bytes (big-endian, zero-padded: a memcmp
 * order; ids that share them are compared whole). */
typedef struct run_result {
  uint64_t hi, lo;
  vm_account *account;
  uint32_t worker;         /* its index among the run's workers */
  int8_t done;             /* finish_accounts: 1 formatted, -1 failed, 0 not (yet) */
} run_result;

_Static_assert(sizeof(run_result) == sizeof(worker_slot), "a worker's account table holds its results (list_results)");

static uint64_t id_bytes(const char *p, size_t len, size_t from) {
  unsigned char b[8] = {0};
  if (len > from) memcpy(b, p + from, len - from < 8 ? len - from : 8);
  uint64_t k = 0;
  for (int i = 0; i < 8; i++) k = k << 8 | b[i];
  return k;
}

/* ws: the workers, whose runtimes hold the accounts (qsort_r's context). */
static int result_cmp(const void *x, const void *y, void *ws) {
  const run_result *a = x, *b = y;
  const run_worker *w = ws;
  if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
  if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
  size_t lx, ly;
  const char *px = vm_account_id(w[a->worker].vm, a->account, &lx);
  const char *py = vm_account_id(w[b->worker].vm, b->account, &ly);
  int c = memcmp(px, py, lx < ly ? lx : ly);
  return c ? c : (lx > ly) - (lx < ly);
}

static unsigned key_byte(const run_result *r, int d) {
  return (unsigned)((d < 8 ? r->lo >> 8 * d : r->hi >> 8 * (d - 8)) & 0xFF);
}

/* Sorts the results by id (spare: room for as many): a radix sort of the
 * keys, a byte at a time from the last (bytes every key shares, such as a
 * common prefix, cost one count), then the ids that share a key, compared
 * whole.  With 100,000 accounts qsort's comparisons were a tenth of
 * writing the results. */
static void sort_results(run_worker *ws, run_result *list, size_t n, run_result *spare) {
  run_result *from = list, *to = spare;
  size_t (*counts)[256] = util_xalloc(16 * sizeof *counts);   /* every byte's, in one pass */
  for (size_t i = 0; i < n; i++)
    for (int d = 0; d < 16; d++) counts[d][key_byte(&list[i], d)]++;
  for (int d = 0; d < 16 && n > 1; d++) {
    size_t *count = counts[d];   /* a pass keeps the keys: the counts stay true */
    if (count[key_byte(&from[0], d)] == n) continue;
    for (size_t b = 0, at = 0; b < 256; b++) {
      size_t c = count[b];
      count[b] = at;
      at += c;
    }
    for (size_t i = 0; i < n; i++) to[count[key_byte(&from[i], d)]++] = from[i];
    run_result *t = from;
    from = to;
    to = t;
  }
  if (from != list) memcpy(list, from, n * sizeof *list);
  free(counts);
  for (size_t i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && list[j].hi == list[i].hi && list[j].lo == list[i].lo;) j++;
    if (j - i > 1) qsort_r(list + i, j - i, sizeof *list, result_cmp, ws);
  }
}

/* Sums the workers' counts: each row was counted by the one worker whose
 * account it names. */
static out_counts total_counts(const run_worker *ws, int n) {
  out_counts c = {0};
  for (int i = 0; i < n; i++) {
    c.read += ws[i].counts.read;
    c.evaluated += ws[i].counts.evaluated;
    c.undeclared += ws[i].counts.undeclared;
    c.rejected += ws[i].counts.rejected;
    c.unknown_accounts += ws[i].counts.unknown_accounts;
    c.ignored_control += vm_ignored_control(ws[i].vm);
  }
  return c;
}

/* The results are written a chunk of RESULT_CHUNK accounts at a time, in
 * id order: each worker finishes its accounts of the chunk on a thread of
 * its own (vm_finish evaluates them up to T, most of what writing costs)
 * and formats their rows in memory (out_rows), and this thread, which
 * finishes the first worker's, appends the chunk's rows to the files in id
 * order.  The threads last the whole run and keep two chunks' rows each,
 * so they finish chunk c + 1 while chunk c is written.  With --history,
 * --report-by or a results callback, which take the accounts in id order,
 * this thread finishes them all. */
enum { RESULT_CHUNK = 4096 };

typedef struct run_finishing run_finishing;

typedef struct run_finisher {
  run_finishing *all;
  int worker;               /* whose accounts it finishes (an index); -1: every one */
  out_rows *rows[2];        /* chunk c's in rows[c % 2]; NULL: no files (a results callback) */
  uint32_t *mine[2];        /* the entries of chunk c it finishes, from its first */
  size_t finished;          /* the chunks it is done with (under all->lock) */
  int status;               /* of its first failure: the entry of it has done -1 */
  char msg[1024];           /* what to print for it; empty: it was printed */
} run_finisher;

struct run_finishing {
  run_state *st;
  run_worker *ws;
  run_result **order;       /* the results in id order */
  size_t n, nchunks;
  int64_t as_of;
  out_rows_lens *lens[2];   /* chunk c's entries' bytes per file, in lens[c % 2] */
  pthread_mutex_t lock;
  pthread_cond_t changed;   /* a chunk finished or written, or the end */
  size_t written;           /* the chunks written */
  bool stop;                /* a failure was met: no chunk more */
};

/* Finishes one account: its results, then each place they go. */
static int finish_account(run_finisher *f, run_result *e, out_rows *rows, out_rows_lens *lens) {
  run_state *st = f->all->st;
  vm_runtime *vm = f->all->ws[e->worker].vm;
  vm_results r;
  if (!vm_finish(vm, e->account, f->all->as_of, &r)) {
    snprintf(f->msg, sizeof f->msg, "%s", vm_error(vm));
    return EXIT_DATA;
  }
  size_t len;
  const char *id = vm_account_id(vm, e->account, &len);
  if (st->by) report_by_add(st->by, vm_account_fields(vm, e->account), r.milestones, r.nmilestones);
  if (st->o->on_results) return st->o->on_results(st->o->results_ctx, vm, e->account, f->all->as_of, &r);
  if (!out_rows_account(rows, id, len, r.milestones, r.nmilestones, r.playbooks, r.nplaybooks, r.signals,
                        r.nsignals, lens, f->msg, sizeof f->msg) ||
      (st->history && !history_out_account(st->history, id, len, r.history, r.nhistory, f->msg, sizeof f->msg)))
    return EXIT_IO;
  return EXIT_OK;
}

/* Finishes f's accounts of chunk c, up to the first that fails.  In id
 * order the accounts are scattered over memory: each one's block is
 * fetched 2 * AHEAD accounts before it is finished, its windows and sets
 * AHEAD accounts before (another worker's accounts are not touched). */
static void finish_chunk(run_finisher *f, size_t c) {
  enum { AHEAD = 4 };
  run_finishing *all = f->all;
  size_t from = c * RESULT_CHUNK, to = all->n - from < RESULT_CHUNK ? all->n : from + RESULT_CHUNK;
  run_result *const *chunk = &all->order[from];
  uint32_t *mine = f->mine[c % 2];
  size_t n = 0;
  for (size_t i = 0; i < to - from; i++)
    if (f->worker < 0 || chunk[i]->worker == (uint32_t)f->worker) mine[n++] = (uint32_t)i;
  for (size_t k = 0; k < n; k++) {
    if (k + 2 * AHEAD < n) {
      const run_result *next = chunk[mine[k + 2 * AHEAD]];
      vm_prefetch_block(all->ws[next->worker].vm, next->account);
    }
    if (k + AHEAD < n) {
      const run_result *next = chunk[mine[k + AHEAD]];
      vm_prefetch(all->ws[next->worker].vm, next->account);
    }
    run_result *e = chunk[mine[k]];
    f->status = finish_account(f, e, f->rows[c % 2], &all->lens[c % 2][mine[k]]);
    e->done = f->status ? -1 : 1;
    if (f->status) break;
  }
}

/* Marks chunk c finished by f. */
static void finished(run_finisher *f, size_t c) {
  pthread_mutex_lock(&f->all->lock);
  f->finished = c + 1;
  pthread_cond_broadcast(&f->all->changed);
  pthread_mutex_unlock(&f->all->lock);
}

/* A finisher's thread: each chunk once its rows' buffers are written out
 * (chunk c - 2's), up to its first failure. */
static void *finisher_thread(void *arg) {
  run_finisher *f = arg;
  run_finishing *all = f->all;
  for (size_t c = 0; c < all->nchunks && !f->status; c++) {
    pthread_mutex_lock(&all->lock);
    while (!all->stop && all->written + 2 <= c) pthread_cond_wait(&all->changed, &all->lock);
    bool stop = all->stop;
    pthread_mutex_unlock(&all->lock);
    if (stop) break;
    finish_chunk(f, c);
    finished(f, c);
  }
  return NULL;
}

/* Writes chunk c, once every finisher is done with it, in id order; a
 * failure is reported as a serial run meets it: the first in id order. */
static int write_chunk(run_finishing *all, run_finisher *fs, int nf, out_writer *w, size_t c) {
  pthread_mutex_lock(&all->lock);
  for (int k = 1; k < nf; k++)
    while (fs[k].finished <= c) pthread_cond_wait(&all->changed, &all->lock);   /* one that fails finishes its chunk */
  pthread_mutex_unlock(&all->lock);
  size_t from = c * RESULT_CHUNK, to = all->n - from < RESULT_CHUNK ? all->n : from + RESULT_CHUNK;
  for (size_t i = from; i < to; i++) {
    const run_result *e = all->order[i];
    run_finisher *f = &fs[nf > 1 ? e->worker : 0];
    char msg[1024];
    if (e->done < 0) {
      if (f->msg[0]) fprintf(stderr, "msl: %s\n", f->msg);
      return f->status;
    }
    if (w && !out_write_rows(w, f->rows[c % 2], &all->lens[c % 2][i - from], msg, sizeof msg)) {
      fprintf(stderr, "msl: %s\n", msg);
      return EXIT_IO;
    }
  }
  for (int k = 0; k < nf && fs[k].rows[c % 2]; k++) out_rows_rewind(fs[k].rows[c % 2]);
  return EXIT_OK;
}

/* Finishes the accounts of order (in id order) and writes their rows: each
 * worker's on a thread of its own, or all on this one (nf 1). */
static int finish_accounts(run_state *st, out_writer *w, run_result **order, size_t n, run_worker *ws, int nf,
                           int64_t as_of) {
  run_finishing all = {.st = st, .ws = ws, .order = order, .n = n, .nchunks = (n + RESULT_CHUNK - 1) / RESULT_CHUNK,
                       .as_of = as_of};
  pthread_mutex_init(&all.lock, NULL);
  pthread_cond_init(&all.changed, NULL);
  for (int b = 0; b < 2; b++) all.lens[b] = util_xalloc(RESULT_CHUNK * sizeof *all.lens[b]);
  run_finisher *fs = util_xalloc((size_t)nf * sizeof *fs);
  pthread_t *threads = util_xalloc((size_t)nf * sizeof *threads);
  bool *started = util_xalloc((size_t)nf * sizeof *started);
  for (int k = 0; k < nf; k++) {
    fs[k] = (run_finisher){.all = &all, .worker = nf > 1 ? k : -1};
    for (int b = 0; b < 2; b++) {
      fs[k].rows[b] = w ? out_rows_new(w) : NULL;
      fs[k].mine[b] = util_xalloc(RESULT_CHUNK * sizeof *fs[k].mine[b]);
    }
  }
  for (int k = 1; k < nf; k++) started[k] = pthread_create(&threads[k], NULL, finisher_thread, &fs[k]) == 0;
  int status = EXIT_OK;
  for (size_t c = 0; c < all.nchunks && !status; c++) {
    if (!fs[0].status) finish_chunk(&fs[0], c);
    for (int k = 1; k < nf; k++)
      if (!started[k]) {   /* a thread the system refused */
        if (!fs[k].status) finish_chunk(&fs[k], c);
        finished(&fs[k], c);
      }
    status = write_chunk(&all, fs, nf, w, c);
    pthread_mutex_lock(&all.lock);
    all.written = c + 1;
    all.stop = status != EXIT_OK;
    pthread_cond_broadcast(&all.changed);
    pthread_mutex_unlock(&all.lock);
  }
  for (int k = 1; k < nf; k++)
    if (started[k]) pthread_join(threads[k], NULL);
  for (int k = 0; k < nf; k++)
    for (int b = 0; b < 2; b++) {
      out_rows_free(w, fs[k].rows[b]);
      free(fs[k].mine[b]);
    }
  for (int b = 0; b < 2; b++) free(all.lens[b]);
  free(started);
  free(threads);
  free(fs);
  pthread_cond_destroy(&all.changed);
  pthread_mutex_destroy(&all.lock);
  return status;
}

/* Worker i's accounts as results sorted by id, in its account table's own
 * memory (worker_take_table): each slot is read before the entry that
 * takes its place is written, and the table, at most half full, has room
 * for the list and the sort's spare half. */
static run_result *list_results(run_worker *ws, int i, size_t *n, size_t *bytes) {
  size_t cap;
  worker_slot *slots = worker_take_table(&ws[i], &cap);
  run_result *list = (run_result *)(void *)slots;
  *n = 0;
  *bytes = cap * sizeof *slots;
  if (!cap) return list;   /* a worker that made no account has no table */
  for (size_t k = 0; k < cap; k++) {
    if (!slots[k].account) continue;
    worker_slot slot = slots[k];
    /* the slot's copy of a short id: no trip to each account's block */
    size_t len = slot.len;
    const char *id = len <= WORKER_ID_HEAD ? slot.head : vm_account_id(ws[i].vm, slot.account, &len);
    list[(*n)++] = (run_result){id_bytes(id, len, 0), id_bytes(id, len, 8), slot.account, (uint32_t)i, 0};
  }
  sort_results(ws, list, *n, list + *n);
  return list;
}

/* Merges the workers' sorted lists into order (their entries in id order). */
static void merge_results(run_worker *ws, run_result **lists, const size_t *sizes, int nworkers, run_result **order) {
  size_t *at = util_xalloc((size_t)nworkers * sizeof *at);
  for (size_t o = 0;; o++) {
    int best = -1;
    for (int i = 0; i < nworkers; i++)
      if (at[i] < sizes[i] && (best < 0 || result_cmp(&lists[i][at[i]], &lists[best][at[best]], ws) < 0)) best = i;
    if (best < 0) break;
    order[o] = &lists[best][at[best]++];
  }
  free(at);
}

static int write_results(run_state *st, run_worker *ws, int nworkers, int64_t as_of) {
  run_result **lists = util_xalloc((size_t)nworkers * sizeof *lists);
  size_t *sizes = util_xalloc((size_t)nworkers * sizeof *sizes), *bytes = util_xalloc((size_t)nworkers * sizeof *bytes);
  size_t n = 0;
  for (int i = 0; i < nworkers; i++) {
    lists[i] = list_results(ws, i, &sizes[i], &bytes[i]);
    n += sizes[i];
  }
  run_result **order = util_xalloc((n ? n : 1) * sizeof *order);
  merge_results(ws, lists, sizes, nworkers, order);
  out_writer *w = st->writer;
  st->writer = NULL;       /* out_finish or out_abort releases it */
  if (w) out_set_as_of(w, as_of);
  bool in_order = st->by || st->history || st->o->on_results;   /* each takes the accounts in id order */
  int status = finish_accounts(st, w, order, n, ws, in_order ? 1 : nworkers, as_of);
  free(order);
  for (int i = 0; i < nworkers; i++) {   /* the accounts' blocks go with their runtime (worker_free) */
    for (size_t k = 0; k < sizes[i]; k++) vm_account_free(ws[i].vm, lists[i][k].account);
    util_huge_free(lists[i], bytes[i]);
  }
  free(bytes);
  free(sizes);
  free(lists);
  if (st->o->on_results) return status;   /* no output was opened */
  out_counts counts = total_counts(ws, nworkers);
  /* the accounts are written: their memory goes before report.html is built */
  for (int i = 0; i < nworkers; i++) worker_free(&ws[i]);
  history_out *history = st->history;
  st->history = NULL;      /* closed (before the commit) or freed here */
  char msg[1024];
  if (history && status) {
    history_out_free(history);
  } else if (history && !history_out_close(history, msg, sizeof msg)) {
    fprintf(stderr, "msl: %s\n", msg);
    status = EXIT_IO;
  }
  if (status) {
    out_abort(w);
  } else if (!out_finish(w, as_of, &counts, msg, sizeof msg)) {   /* releases w either way */
    fprintf(stderr, "msl: %s\n", msg);
    status = EXIT_IO;
  }
  return status;
}

/* ---- the workers ------------------------------------------------------------------------------ */

static void *worker_thread(void *w) {
  worker_run(w);
  return NULL;
}

/* How many workers: -j, or one per core; one when an input is not a
 * regular file (standard input, a pipe, a device), which only one reader
 * can read. */
static int worker_count(const run_options *o) {
  long n = o->jobs > 0 ? o->jobs : sysconf(_SC_NPROCESSORS_ONLN);
  for (int i = 0; i < o->nevents; i++) {
    struct stat sb;
    if (strcmp(o->events[i], "-") == 0 || stat(o->events[i], &sb) != 0 || !S_ISREG(sb.st_mode)) n = 1;
  }
  if (n < 1) n = 1;
  return n > RUN_MAX_JOBS ? RUN_MAX_JOBS : (int)n;
}

static void workers_free(run_worker *ws, int n) {
  for (int i = 0; i < n; i++) worker_free(&ws[i]);
  free(ws);
}

static run_worker *new_workers(run_state *st, int n) {
  run_worker *ws = util_xalloc_lines((size_t)n * sizeof *ws);
  for (int i = 0; i < n; i++) worker_init(&ws[i], st, i, n);
  return ws;
}

/* Runs n workers on threads (the first on this one); returns their
 * failure, RUN_UNSPLIT only when no worker met anything else. */
static int start_workers(run_worker *ws, int n, run_split *split) {
  pthread_t *threads = util_xalloc((size_t)n * sizeof *threads);
  int started = 1;
  for (int i = 0; i < n; i++) ws[i].split = split;
  for (; started < n; started++)
    if (pthread_create(&threads[started], NULL, worker_thread, &ws[started]) != 0) break;
  if (split && started < n) split_abort(split);   /* a split needs every worker at once */
  worker_run(&ws[0]);
  for (int i = 1; i < started; i++) pthread_join(threads[i], NULL);
  for (int i = started; i < n; i++) worker_run(&ws[i]);   /* threads the system refused */
  free(threads);
  int status = EXIT_OK;
  for (int i = 0; i < n; i++) {
    if (ws[i].status && ws[i].status != RUN_UNSPLIT) return ws[i].status;
    if (ws[i].status) status = RUN_UNSPLIT;
  }
  return status;
}

/* Runs n workers, each parsing a share of one events file when it can be
 * split (split.c), else each reading the whole input.  NULL when one of
 * them failed: the run is then done serially. */
static run_worker *run_parallel(run_state *st, int n) {
#ifdef M_MMAP_THRESHOLD
  /* The workers' threads allocate from arenas of their own, so the thread
     that writes the results and report.html after them has little freed
     memory to reuse, and glibc maps and unmaps (and the kernel zeroes) each
     big block afresh: at its largest threshold (32 MiB) blocks come from
     the heap and freed ones stay there (10M events at -j 2, alternating
     runs: 1.115 -> 1.079 s, 1.1 MB more at the peak; docs/decisions.md). */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
  run_worker *ws = new_workers(st, n);
  run_split *split = split_open(st, ws, n, false);
  int status = split ? start_workers(ws, n, split) : RUN_UNSPLIT;
  if (status == RUN_UNSPLIT && split && split_backwards(split)) {   /* unsorted: split again, sorting */
    split_free(split);
    workers_free(ws, n);
    ws = new_workers(st, n);
    split = split_open(st, ws, n, true);
    status = split ? start_workers(ws, n, split) : RUN_UNSPLIT;
  }
  if (getenv("MSL_TRACE") && *getenv("MSL_TRACE"))   /* docs/cli.md: how a run read its input */
    fprintf(stderr, "msl: trace: %d workers: %s\n", n,
            !split                  ? "each reads the whole input"
            : status == RUN_UNSPLIT ? "the split read stopped (a bad row, a cut inside a quoted field, an "
                                      "unreadable input or a runtime error); each reads the whole input"
            : status                ? "a worker stopped; one worker reads the input"
            : split_unordered(split) ? "each parsed its share of the events file, which is not in time order"
                                    : "each parsed its share of the events file");
  split_free(split);
  if (status == RUN_UNSPLIT) {
    if (split) {
      workers_free(ws, n);
      ws = new_workers(st, n);
    }
    status = start_workers(ws, n, NULL);
  }
  if (!status) return ws;
  workers_free(ws, n);
  return NULL;
}

/* ---- the output directory and --rejects (SPEC 7) ------------------------------------------- */

static char *parent_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return util_xstrndup(".", 1);
  if (slash == path) return util_xstrndup("/", 1);
  return util_xstrndup(path, (size_t)(slash - path));
}

/* --rejects goes to a temporary file: beside it, committed with the
 * results, or, when it is a device or FIFO (which cannot be replaced), an
 * unnamed one copied there at the end.  A symbolic link to a regular file
 * (not the link) is replaced; one that cannot be resolved to a path, such
 * as /dev/stderr for a deleted file, is written through like a device. */
static int rejects_open(run_state *st, char **resolved) {
  const char *path = st->o->rejects;
  struct stat link, sb;
  bool is_link = lstat(path, &link) == 0 && S_ISLNK(link.st_mode);
  bool exists = stat(path, &sb) == 0;
  int fd;
  if (exists && S_ISDIR(sb.st_mode)) {
    fprintf(stderr, "msl: --rejects %s: is a directory\n", path);
    return EXIT_IO;
  }
  if (exists && is_link && S_ISREG(sb.st_mode) && (*resolved = util_xrealpath(path))) path = *resolved;
  if (exists && (!S_ISREG(sb.st_mode) || (is_link && !*resolved))) {
    st->rejects_is_stream = true;
    if (!(st->rejects = tmpfile())) return run_rejects_failed(st, errno);
  } else {
    char *dir = parent_dir(path);
    bool cleaned = commit_clean_stale(dir, st->msg, sizeof st->msg);
    free(dir);
    if (!cleaned || (fd = commit_add(st->commit, path, NULL, st->msg, sizeof st->msg)) < 0) {
      fprintf(stderr, "msl: --rejects %s: %s\n", path, st->msg);
      return EXIT_IO;
    }
    if (!(st->rejects = fdopen(fd, "w+"))) {
      close(fd);
      return run_rejects_failed(st, errno);
    }
  }
  if (fputs("file,line,reason,row\n", st->rejects) < 0) return run_rejects_failed(st, errno);
  return EXIT_OK;
}

/* Copies the finished rejects to the device or FIFO --rejects names. */
static int rejects_copy_to_stream(run_state *st) {
  int in = fileno(st->rejects);
  if (lseek(in, 0, SEEK_SET) != 0) return run_rejects_failed(st, errno);
  struct stat sb;
  bool regular = stat(st->o->rejects, &sb) == 0 && S_ISREG(sb.st_mode);
  int out = open(st->o->rejects, O_WRONLY | O_CLOEXEC | (regular ? O_TRUNC : 0));
  if (out < 0) return run_rejects_failed(st, errno);
  char buf[1 << 16];
  int err = 0;
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) err = errno;
      break;
    }
    for (ssize_t off = 0; off < n && !err;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) err = errno;
      else off += w;
    }
    if (err) break;
  }
  if (close(out) != 0 && !err) err = errno;
  return err ? run_rejects_failed(st, err) : EXIT_OK;
}

/* Completes --rejects before any result is committed: every byte written
 * and synced, or the run fails (exit 4). */
static int rejects_finish(run_state *st) {
  int status = EXIT_OK;
  if (fflush(st->rejects) != 0 || ferror(st->rejects)) status = run_rejects_failed(st, errno);
  else if (st->rejects_is_stream) status = rejects_copy_to_stream(st);
  else if (fsync(fileno(st->rejects)) != 0) status = run_rejects_failed(st, errno);
  if (fclose(st->rejects) != 0 && !status) status = run_rejects_failed(st, errno);
  st->rejects = NULL;
  return status;
}

/* Creates and locks --out, then opens every output file, before any input
 * is read: a second run into the same directory fails here, at once. */
static int open_outputs(run_state *st) {
  const run_options *o = st->o;
  if (o->out_dir && (!commit_make_dirs(o->out_dir, st->msg, sizeof st->msg) ||
                     (st->lock_fd = commit_lock_dir(o->out_dir, st->msg, sizeof st->msg)) < 0)) {
    fprintf(stderr, "msl: --out %s: %s\n", o->out_dir, st->msg);
    return EXIT_IO;
  }
  st->commit = commit_new();
  int status = o->rejects ? rejects_open(st, &st->rejects_resolved) : EXIT_OK;
  /* before out_open: the commit renames in order, summary.json last */
  if (!status && o->history &&
      !(st->history = history_out_open(st->p, o->out_dir, o->format, st->commit, st->msg, sizeof st->msg))) {
    fprintf(stderr, "msl: %s\n", st->msg);
    status = EXIT_IO;
  }
  if (!status && !(st->writer = out_open(st->p, o->out_dir, o->format, st->commit, st->msg, sizeof st->msg))) {
    fprintf(stderr, "msl: %s\n", st->msg);
    status = EXIT_IO;
  }
  if (!status && o->has_report_by) {
    st->by = report_by_new(st->p, o->report_by_field);
    out_set_report_by(st->writer, st->by);
  }
  out_run_info run = {.shard = o->shard, .nshards = o->nshards, .history = o->history};
  if (!status && o->out_dir && !msc_sha256(st->p, run.program_sha256, st->msg, sizeof st->msg)) {
    fprintf(stderr, "msl: %s\n", st->msg);
    status = EXIT_RULES;
  }
  if (!status && o->out_dir) out_set_run(st->writer, &run);
  return status;
}

int run_program(const bc_program *p, native_fn *const *externs, const run_options *o) {
  run_state st = {.p = p, .o = o, .externs = externs, .lock_fd = -1};
  schema_build(&st);
  int status = EXIT_OK;
  if (!o->accounts)
    for (uint32_t i = 0; i < p->naccount_fields; i++)
      if (!p->account_fields[i].has_default) {
        fprintf(stderr,
                "msl: account field `%s` has no default, so accounts need values for it: give --accounts FILE\n",
                bc_str(p, p->account_fields[i].name));
        status = EXIT_USAGE;
        break;
      }
  if (!status && !o->on_results) status = open_outputs(&st);
  int nworkers = worker_count(o);
  run_worker *ws = NULL;
  progress *meter = NULL;
  if (!status && o->progress) {
    st.progress = util_xalloc((size_t)nworkers * sizeof *st.progress);
    meter = progress_start(stderr, st.progress, nworkers);
  }
  if (!status && nworkers > 1) ws = run_parallel(&st, nworkers);
  if (!status && !ws) {
    for (int i = 1; st.progress && i < nworkers; i++) progress_publish(&st.progress[i], 0, 0);
    nworkers = 1;
    ws = util_xalloc_lines(sizeof *ws);   /* run_worker is cache-line aligned */
    worker_init(&ws[0], &st, 0, 1);
    status = worker_run(&ws[0]);
  }
  progress_stop(meter);
  free(st.progress);
  st.progress = NULL;
  bool any_row = false;
  int64_t latest = 0;
  for (int i = 0; ws && i < nworkers; i++) {
    if (ws[i].any_row && (!any_row || ws[i].latest > latest)) {
      latest = ws[i].latest;
      any_row = true;
    }
    /* --shard without --as-of: T is the whole input's, other shards' rows too */
    if (ws[i].skipped_latest != INT64_MIN && (!any_row || ws[i].skipped_latest > latest)) {
      latest = ws[i].skipped_latest;
      any_row = true;
    }
  }
  if (!status && !o->has_as_of && !any_row) {
    fputs("msl: the events hold no rows, so there is no default as-of time: give --as-of\n", stderr);
    status = EXIT_USAGE;
  }
  if (!status && st.rejects) status = rejects_finish(&st);
  if (!status) status = write_results(&st, ws, nworkers, o->has_as_of ? o->as_of : latest);
  if (st.rejects) fclose(st.rejects);   /* a failed run: its temporary file goes with the commit set */
  out_abort(st.writer);
  report_by_free(st.by);
  history_out_free(st.history);
  commit_free(st.commit);
  free(st.rejects_resolved);
  if (st.lock_fd >= 0) close(st.lock_fd);   /* releases the lock; the lock file stays */
  if (ws) workers_free(ws, nworkers);
  free(st.schema_events);
  free(st.schema_fields);
  return status;
}
