/* split.c — one events file parsed by every worker (prefix split_).
 *
 * Without a split, each -j worker reads the whole file and keeps its own
 * accounts' rows, so every worker scans every byte.  With one, the file is
 * read in rounds of PART_BYTES per worker: in each round, worker k parses
 * the k-th byte range of the round (cut at line starts, io_line_start) and
 * sorts its rows by owner into boxes; after a barrier, each worker takes
 * its own accounts' rows from the boxes of every range, in range order,
 * which is file order.  A worker thus sees exactly the rows it would have
 * read itself, in the same order, and results stay byte for byte those of
 * -j 1.
 *
 * Rows stay in their boxes, in the form the VM reads back (worker_row),
 * until the owner's group that holds them is applied: parsing copies each
 * row once, and taking it copies nothing.  Boxes come in a ring of sets,
 * one per round, and one barrier per round suffices: a worker that has
 * taken its rows of round r applies its group if it holds rows of
 * GROUP_ROUNDS rounds, before it parses round r + 1, so while any worker
 * parses a round, groups hold rows of the GROUP_ROUNDS rounds before it
 * at most, and the ring holds GROUP_ROUNDS + 1 rounds.  The last worker
 * to reach the barrier checks the round: every range parsed without a bad
 * row up to its very end (a range cut inside a quoted CSV field ends in an
 * unterminated one: the cut was not a record boundary) and times never
 * went back across ranges or rounds.  Anything else -- a bad row, unsorted input, a runtime error in
 * any worker -- aborts the split for every worker (RUN_UNSPLIT), and the
 * run starts over the ordinary way, which reports or handles it as a run
 * without -j would. */
#include "cli/run_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

/* Bytes each worker parses per round: its boxes for a round hold about
 * as much (a row's head, id, values and strings: the benchmark's login
 * rows take 64 bytes for their 45 in the CSV, its undeclared rows 40). */
enum { PART_BYTES = 2 << 20, SETS = GROUP_ROUNDS + 1 };

/* Only a box's parser writes it; its owner keeps its own place in it
 * (split_part.taken), and boxes fill cache lines of their own, so that no
 * line goes back and forth between cores. */
typedef struct split_box {
  _Alignas(64) char *bytes;
  size_t used, cap;
} split_box;

/* A row in a box: this head, then what worker_store_row writes. */
typedef struct box_row {
  int64_t time;
  int32_t type;
  uint32_t hash;           /* the low half of its account's util_account_hash */
  uint32_t id_len;
  uint32_t size;           /* the whole row */
} box_row;

typedef struct split_part {
  io_reader *reader;       /* the file, read in this part's byte ranges */
  io_schema schema;        /* the run's, filtered by the shard only */
  int64_t start, end;      /* its byte range of the round being parsed */
  int64_t first_time, last_time;
  bool any_rows, clean;
  _Alignas(64) int from;   /* as an owner: the range whose box it takes rows from, */
  size_t taken;            /* and where in it */
  bool reading;            /* as an owner: a round's boxes are being taken */
  double share;            /* of each round's bytes it parses (all add up to 1) */
  double arrived_at;       /* when it reached the barrier (seconds) */
  uint64_t round;          /* as an owner: the rounds it has begun to take rows of */
  io_error err;
} split_part;

struct run_split {
  int n;
  const run_state *st;
  int64_t size;            /* of the file */
  int64_t next_start;      /* where the next round begins */
  bool last_round;         /* the round the owners read is the file's last */
  bool aborted;
  int parse_set;           /* the boxes being parsed into, */
  int read_set;            /* and those the owners take rows from */
  double released_at;      /* when the last barrier let the workers go */
  int64_t prev_last;       /* the latest time of the rounds checked */
  bool prev_any;
  split_part *parts;       /* [n] */
  split_box *boxes;        /* [SETS][n ranges][n owners] */
  size_t box_first_cap;    /* PART_BYTES / n, half again: an owner's share of a range (box_add) */
  pthread_mutex_t lock;
  pthread_cond_t turn;
  int arrived;
  uint64_t generation;
};

static split_box *box_at(run_split *s, int set, int range, int owner) {
  return &s->boxes[((size_t)set * (size_t)s->n + (size_t)range) * (size_t)s->n + (size_t)owner];
}

/* ---- rows in boxes -------------------------------------------------------------------- */

/* Adds a row to b: a box is first allocated at half again its expected
 * share of a round (first_cap), which it seldom outgrows. */
static void box_add(split_box *b, size_t first_cap, const io_schema *schema, const io_event *ev, uint32_t hash) {
  size_t size = sizeof(box_row) + worker_row_size(schema, ev);
  util_xgrow(&b->bytes, &b->cap, b->used + size, 1, first_cap);
  char *row = b->bytes + b->used;
  *(box_row *)(void *)row = (box_row){.time = ev->time, .type = ev->type, .hash = hash,
                                      .id_len = ev->account.len, .size = (uint32_t)size};
  worker_store_row(schema, ev, row + sizeof(box_row));
  b->used += size;
}

/* The row at *at in b; moves *at past it. */
static void box_take(const split_box *b, size_t *at, worker_row *row, value_str *id) {
  const char *p = b->bytes + *at;
  const box_row *h = (const box_row *)(const void *)p;
  *at += h->size;
  id->p = p + sizeof *h;
  id->len = h->id_len;
  row->id.hash = h->hash;
  row->id.len = h->id_len;
  row->data = id->p + worker_id_room(h->id_len);
  row->time = h->time;
  row->type = h->type;
}

/* ---- rounds ------------------------------------------------------------------------------- */

/* Cuts the next round into the parts' byte ranges; false on an I/O error. */
static bool plan_round(run_split *s) {
  int64_t start = s->next_start, len = (int64_t)PART_BYTES * s->n;
  int64_t end = start >= s->size || len >= s->size - start ? s->size
                                                           : io_line_start(s->parts[0].reader, start + len, &s->parts[0].err);
  if (end < 0) return false;
  int64_t at = start;
  double share = 0;
  for (int k = 0; k < s->n; k++) {
    int64_t cut = end;
    if (k + 1 < s->n && end > start) {
      share += s->parts[k].share;
      cut = io_line_start(s->parts[0].reader, start + (int64_t)((double)(end - start) * share), &s->parts[0].err);
      if (cut < 0) return false;
      if (cut < at) cut = at;
      if (cut > end) cut = end;
    }
    s->parts[k].start = at;
    s->parts[k].end = cut;
    at = cut;
  }
  s->next_start = end;
  return true;
}

/* Parses part k of the round into its boxes, one per owner. */
static void parse_part(run_split *s, int k) {
  split_part *p = &s->parts[k];
  for (int o = 0; o < s->n; o++) box_at(s, s->parse_set, k, o)->used = 0;
  p->any_rows = false;
  p->clean = io_reader_range(p->reader, p->start, p->end, &p->err);
  while (p->clean) {
    io_event ev;
    io_status st = io_events_next(p->reader, &ev, &p->err);
    if (st == IO_EOF) break;
    if (st != IO_OK || (p->any_rows && ev.time < p->last_time)) {
      p->clean = false;   /* a bad row, a cut inside a record, or time going back */
      break;
    }
    if (!p->any_rows) p->first_time = ev.time;
    p->any_rows = true;
    p->last_time = ev.time;
    int64_t h = util_account_hash(ev.account.p, ev.account.len);
    box_add(box_at(s, s->parse_set, k, run_worker_of(h, s->n)), s->box_first_cap, &p->schema, &ev, (uint32_t)h);
  }
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Owners' work differs (their accounts differ), parsing can make up for
 * it: a worker that waited at the barrier parses more of the next round,
 * in proportion to its share of the round it spent waiting.  Where the
 * cuts fall changes who parses a row, never who applies it or in which
 * order: the results do not depend on it. */
static void balance_shares(run_split *s, double now) {
  double round = now - s->released_at, total = 0;
  for (int k = 0; k < s->n && round > 0; k++) {
    split_part *p = &s->parts[k];
    p->share *= 1 + (now - p->arrived_at) / round;
    if (p->share < 0.1 / s->n) p->share = 0.1 / s->n;
  }
  for (int k = 0; k < s->n; k++) total += s->parts[k].share;
  for (int k = 0; k < s->n; k++) s->parts[k].share /= total;
  s->released_at = now;
}

/* The last worker at the barrier: checks the round just parsed and plans
 * the next; the owners then read the boxes just filled. */
static void finish_round(run_split *s) {
  balance_shares(s, now_seconds());
  for (int k = 0; k < s->n && !s->aborted; k++) {
    const split_part *p = &s->parts[k];
    if (!p->clean || (p->any_rows && s->prev_any && p->first_time < s->prev_last)) s->aborted = true;
    if (p->any_rows) {
      s->prev_last = p->last_time;
      s->prev_any = true;
    }
  }
  s->last_round = s->next_start >= s->size;
  if (!s->aborted && !s->last_round && !plan_round(s)) s->aborted = true;
  s->read_set = s->parse_set;
  s->parse_set = (s->parse_set + 1) % SETS;
}

/* Waits for every worker to have parsed its part; false when the split
 * is aborted. */
static bool arrive(run_split *s, int k) {
  s->parts[k].arrived_at = now_seconds();
  pthread_mutex_lock(&s->lock);
  uint64_t generation = s->generation;
  if (++s->arrived == s->n) {
    if (!s->aborted) finish_round(s);
    s->arrived = 0;
    s->generation++;
    pthread_cond_broadcast(&s->turn);
  } else {
    while (s->generation == generation && !s->aborted) pthread_cond_wait(&s->turn, &s->lock);
  }
  bool ok = !s->aborted;
  pthread_mutex_unlock(&s->lock);
  return ok;
}

void split_abort(run_split *s) {
  pthread_mutex_lock(&s->lock);
  s->aborted = true;
  pthread_cond_broadcast(&s->turn);
  pthread_mutex_unlock(&s->lock);
}

int split_next(run_split *s, int k, worker_row *row, value_str *id) {
  split_part *p = &s->parts[k];
  if (!p->reading) {
    parse_part(s, k);
    if (!arrive(s, k)) return SPLIT_ABORTED;
    p->reading = true;
    p->round++;
    p->from = 0;
    p->taken = 0;
  }
  for (; p->from < s->n; p->from++, p->taken = 0) {
    const split_box *b = box_at(s, s->read_set, p->from, k);
    if (p->taken < b->used) {
      box_take(b, &p->taken, row, id);
      return IO_OK;
    }
  }
  p->reading = false;
  return s->last_round ? IO_EOF : SPLIT_ROUND;
}

uint64_t split_round(const run_split *s, int k) { return s->parts[k].round; }

/* ---- opening ------------------------------------------------------------------------------ */

/* The shard's rows only: the workers' share is decided by the boxes. */
static bool keeps_shard(const void *ctx, value_str id) {
  const run_options *o = ctx;
  return run_shard_of(util_account_hash(id.p, id.len), o->nshards) == o->shard;
}

run_split *split_open(const run_state *st, run_worker *ws, int n) {
  const run_options *o = st->o;
  if (n < 2 || o->nevents != 1) return NULL;
  run_split *s = util_xalloc(sizeof *s);
  *s = (run_split){.n = n, .st = st};
  s->parts = util_xalloc_lines((size_t)n * sizeof *s->parts);
  s->boxes = util_xalloc_lines((size_t)SETS * (size_t)n * (size_t)n * sizeof *s->boxes);
  s->box_first_cap = 3 * (size_t)PART_BYTES / (2 * (size_t)n) + 4096;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->turn, NULL);
  bool ok = true;
  s->released_at = now_seconds();
  for (int k = 0; k < n && ok; k++) {
    split_part *p = &s->parts[k];
    p->share = 1.0 / n;
    p->schema = st->schema;
    p->schema.keep = o->nshards ? keeps_shard : NULL;
    p->schema.keep_ctx = o;
    p->schema.skipped_latest = o->nshards && !o->has_as_of ? &ws[k].skipped_latest : NULL;
    p->reader = io_events_open(&p->schema, o->events[0], o->input_format, &p->err);
    ok = p->reader && io_events_splittable(p->reader);
  }
  if (ok) {
    s->next_start = io_data_offset(s->parts[0].reader);
    ok = io_file_size(s->parts[0].reader, &s->size) && plan_round(s);
  }
  if (!ok) {   /* the ordinary reading meets and reports what went wrong, if anything */
    split_free(s);
    return NULL;
  }
  return s;
}

void split_free(run_split *s) {
  if (!s) return;
  for (int k = 0; k < s->n; k++) io_close(s->parts[k].reader);
  for (size_t i = 0; i < (size_t)SETS * (size_t)s->n * (size_t)s->n; i++) free(s->boxes[i].bytes);
  free(s->boxes);
  free(s->parts);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->turn);
  free(s);
}
