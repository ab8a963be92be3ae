/* split.c — one events file parsed by every worker (prefix split_).
 *
 * Without a split, each -j worker reads the whole file and keeps its own
 * accounts' rows, so every worker scans every byte.  With one, the file is
 * cut into ranges of RANGE_BYTES (at line starts, io_line_start), which
 * the workers parse as they come free, each range by one worker, sorting
 * its rows by owner into boxes.  Every worker, as an owner, takes its own
 * accounts' rows from the boxes of every range, in range order, which is
 * file order.  A worker thus sees exactly the rows it would have read
 * itself, in the same order, and results stay byte for byte those of -j 1.
 *
 * Rows stay in their boxes, in the form the VM reads back (worker_row),
 * until the owner's group that holds them is applied: parsing copies each
 * row once, and taking it copies nothing.  Boxes come in a ring of slots,
 * a range each; a slot is parsed into again only once every owner has
 * said (split_keep) that its groups hold no row of the range there.  No
 * worker waits for the others at fixed points: one whose next range is
 * not parsed yet parses a later one while a slot is free, so parsing goes
 * to whoever has time for it, and a worker waits only when every slot
 * holds rows an owner has still to take or apply.
 *
 * A gzipped file cannot be read from an offset: its text is inflated
 * once, by one reader that the workers take in turn, range by range, each
 * inflating the range it is about to parse (RANGE_BYTES more of the text,
 * cut after the last newline, the rest going to the next range), which it
 * then parses from memory.  The inflating is serial, but one worker
 * parses while the other inflates, and no worker reads it all.
 *
 * Each owner checks the ranges as it reaches them: every range parsed
 * without a bad row up to its very end (a range cut inside a quoted CSV
 * field ends in an unterminated one: the cut was not a record boundary)
 * and times never going back across ranges.  Anything else -- a bad row,
 * time going back, an unreadable input, a runtime error in any worker --
 * aborts the split for every worker (RUN_UNSPLIT).  When time going back
 * was all (split_backwards), the run starts over with a split that checks
 * no order (split_open's unordered), whose owners put their rows in order
 * with their sorters, as the ordinary reading does with unsorted input;
 * otherwise it starts over the ordinary way, which reports or handles it
 * as a run without -j would. */
#include "cli/run_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* The bytes of a range; its boxes hold about as much (a row's head, id,
 * values and strings: the benchmark's login rows take 64 bytes for their
 * 45 in the CSV, its undeclared rows 40).  The ring has GROUP_RANGES
 * slots, which the ranges of an owner's group may fill, and SLOTS_AHEAD
 * per worker more, for the ranges parsed ahead of the owners. */
enum { RANGE_BYTES = 1 << 20, SLOTS_AHEAD = 2 };

/* Only a box's parser writes it, and its owner reads it once the slot is
 * parsed; boxes fill cache lines of their own, so that no line goes back
 * and forth between cores. */
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

/* A range's rows, by owner, and what its owners check of it. */
typedef struct split_slot {
  split_box *boxes;        /* [n owners] */
  uint64_t range;          /* the range it holds (while parsed or being parsed) */
  bool parsed;             /* its boxes are filled: owners may take rows */
  bool clean;              /* parsed to its end without a bad row or time going back */
  bool backwards;          /* not clean because time went back (and for no other reason yet) */
  bool any_rows;
  int64_t first_time, last_time;
} split_slot;

/* A worker: as a parser, its own reader of the file; as an owner, where
 * it is in the ranges. */
typedef struct split_part {
  _Alignas(64) io_reader *reader;
  io_schema schema;        /* the run's, filtered by the shard only */
  io_error err;
  uint64_t range;          /* as an owner: the range it takes rows from, */
  uint64_t next;           /* the one it takes next, */
  size_t taken;            /* and where it is in its box */
  bool reading;            /* a range's rows are being taken */
  uint64_t kept;           /* its groups hold no row of a range before this one (split_keep) */
  int64_t prev_last;       /* the latest time of the ranges it took */
  bool prev_any;
  bool past_end, last;     /* its range is after the last one, or the last (begin_range) */
  char *text;              /* a gzipped file: the text of the range it parses */
  size_t text_cap;
} split_part;

struct run_split {
  int n;
  bool unordered;          /* rows in any time order: the owners sort them */
  int64_t base, size;      /* the first record's offset, and the file's size */
  io_reader *inflater;     /* a gzipped file's one reader of its text; NULL: a plain file */
  char *carry;             /* the text after the last range's last newline (inflater's turn) */
  size_t carry_len, carry_cap;
  split_part *parts;       /* [n] */
  split_slot *slots;       /* [nslots]: range r in slot r % nslots */
  uint32_t nslots;
  size_t box_first_cap;    /* RANGE_BYTES / n, half again: an owner's share of a range (box_add) */
  /* under lock: */
  pthread_mutex_t lock;
  pthread_cond_t changed;  /* a range parsed or inflated, a slot kept no more, or the split aborted */
  uint64_t nranges;        /* a plain file's is set once, before the workers start (range_start
                              reads it unlocked); a gzipped file's is UINT64_MAX until its text ends */
  uint64_t next_parse;     /* the first range no worker has begun to parse */
  uint64_t inflated;       /* a gzipped file: the ranges whose text is cut (the inflater's turn) */
  bool aborted;
  bool backwards;          /* aborted by an owner because time went back */
};

/* ---- rows in boxes -------------------------------------------------------------------- */

/* Adds a row to b: a box is first allocated at half again its expected
 * share of a range (first_cap), which it seldom outgrows. */
static void box_add(split_box *b, size_t first_cap, const io_schema *schema, const io_event *ev, uint32_t hash) {
  size_t size = sizeof(box_row) + worker_row_size(schema, ev, true);
  util_xgrow(&b->bytes, &b->cap, b->used + size, 1, first_cap);
  char *row = b->bytes + b->used;
  *(box_row *)(void *)row = (box_row){.time = ev->time, .type = ev->type, .hash = hash,
                                      .id_len = ev->account.len, .size = (uint32_t)size};
  worker_store_row(schema, ev, true, row + sizeof(box_row));
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

/* ---- ranges ------------------------------------------------------------------------------- */

/* Where range r begins: the first line start at or after its nominal
 * offset, so that the ranges' cuts do not depend on who computes them
 * (-1 on an I/O error). */
static int64_t range_start(const run_split *s, split_part *p, uint64_t r) {
  if (r == 0) return s->base;
  if (r >= s->nranges) return s->size;
  return io_line_start(p->reader, s->base + (int64_t)r * RANGE_BYTES, &p->err);
}

/* The longest text a range of a gzipped file may take to reach a
 * newline: past it, the split stops and the ordinary reader reports the
 * over-long record. */
#define TEXT_MAX ((size_t)64 << 20)

/* In the inflater's turn, cuts the next range's text into part p's
 * buffer: the carry, then RANGE_BYTES more of the inflated text, up to its
 * last newline (the rest is carried to the next range); all that is left
 * at the end of the input.  1 when the input ended with it, 0 when not,
 * -1 on an error (a read error, or no newline within TEXT_MAX). */
static int cut_text(run_split *s, split_part *p, size_t *len) {
  size_t have = s->carry_len, want = s->carry_len + RANGE_BYTES;
  size_t searched = have;   /* the carry holds no newline, nor do the bytes searched since */
  util_xgrow(&p->text, &p->text_cap, want, 1, want);
  if (have) memcpy(p->text, s->carry, have);
  for (;;) {
    while (have < want) {
      long n = io_reader_pull(s->inflater, p->text + have, want - have, &p->err);
      if (n < 0) return -1;
      if (n == 0) {
        *len = have;
        s->carry_len = 0;
        return 1;
      }
      have += (size_t)n;
    }
    size_t cut = have;
    while (cut > searched && p->text[cut - 1] != '\n') cut--;
    if (cut > searched) {
      s->carry_len = have - cut;
      util_xgrow(&s->carry, &s->carry_cap, s->carry_len, 1, RANGE_BYTES);
      if (s->carry_len) memcpy(s->carry, p->text + cut, s->carry_len);   /* none yet: NULL */
      *len = cut;
      return 0;
    }
    if (want >= TEXT_MAX) return -1;
    searched = have;
    want += RANGE_BYTES;   /* a line longer than the range */
    util_xgrow(&p->text, &p->text_cap, want, 1, want);
  }
}

/* Parses range r into slot t with worker k's reader, a box per owner: from
 * the file, or from the text of a gzipped file's range (text_len bytes of
 * the part's text; text_ok false: it could not be cut).  What it checks is
 * kept here until the end: slots share cache lines, and a store per row to
 * one that another core's parser writes too made each row wait for the
 * line. */
static void parse_range(run_split *s, int k, uint64_t r, split_slot *t, bool text_ok, size_t text_len) {
  split_part *p = &s->parts[k];
  split_box *boxes = t->boxes;
  for (int o = 0; o < s->n; o++) boxes[o].used = 0;
  bool any_rows = false, backwards = false;
  int64_t first_time = 0, last_time = 0;
  bool clean = text_ok;
  if (s->inflater && text_ok) {
    io_reader_text(p->reader, p->text, text_len);
  } else if (!s->inflater) {
    int64_t start = range_start(s, p, r), end = range_start(s, p, r + 1);
    clean = start >= 0 && end >= 0 && io_reader_range(p->reader, start, end, &p->err);
  }
  while (clean) {
    io_event ev;
    io_status st = io_events_next(p->reader, &ev, &p->err);
    if (st == IO_EOF) break;
    if (st != IO_OK || (any_rows && ev.time < last_time && !s->unordered)) {
      clean = false;   /* a bad row, a cut inside a record, or time going back */
      backwards = st == IO_OK;
      break;
    }
    if (!any_rows) first_time = ev.time;
    any_rows = true;
    last_time = ev.time;
    int64_t h = util_account_hash(ev.account.p, ev.account.len);
    box_add(&boxes[run_worker_of(h, s->n)], s->box_first_cap, &p->schema, &ev, (uint32_t)h);
  }
  t->clean = clean;
  t->backwards = backwards;
  t->any_rows = any_rows;
  t->first_time = first_time;
  t->last_time = last_time;
}

/* The first range some owner's groups may still hold rows of: the slots
 * of the ranges before it are free. */
static uint64_t first_kept(const run_split *s) {
  uint64_t first = s->parts[0].kept;
  for (int k = 1; k < s->n; k++)
    if (s->parts[k].kept < first) first = s->parts[k].kept;
  return first;
}

/* Waits until worker k's next range is parsed, parsing others meanwhile
 * when a slot is free; false when the split is aborted.  Called and
 * returns with the lock held. */
static bool await_range(run_split *s, int k) {
  uint64_t want = s->parts[k].next;
  for (;;) {
    if (s->aborted) return false;
    if (want >= s->nranges) return true;
    const split_slot *t = &s->slots[want % s->nslots];
    if (t->range == want && t->parsed) return true;
    if (s->next_parse < s->nranges && s->next_parse < first_kept(s) + s->nslots) {
      uint64_t r = s->next_parse++;
      split_slot *u = &s->slots[r % s->nslots];
      u->range = r;
      u->parsed = false;
      int cut = 0;
      size_t text_len = 0;
      if (s->inflater) {   /* wait for r's turn to inflate, unless the text ends before r */
        while (!s->aborted && s->inflated < r && r < s->nranges) pthread_cond_wait(&s->changed, &s->lock);
        if (s->aborted) return false;
        if (r >= s->nranges) continue;   /* claimed past the end: nobody takes it */
        pthread_mutex_unlock(&s->lock);
        cut = cut_text(s, &s->parts[k], &text_len);
        pthread_mutex_lock(&s->lock);
        s->inflated = r + 1;
        if (cut != 0) s->nranges = r + 1;   /* the end, or no further: an error stops the split here */
        pthread_cond_broadcast(&s->changed);
      }
      pthread_mutex_unlock(&s->lock);
      parse_range(s, k, r, u, cut >= 0, text_len);
      pthread_mutex_lock(&s->lock);
      u->parsed = true;
      pthread_cond_broadcast(&s->changed);
    } else {
      pthread_cond_wait(&s->changed, &s->lock);
    }
  }
}

static void abort_locked(run_split *s) {
  s->aborted = true;
  pthread_cond_broadcast(&s->changed);
}

void split_abort(run_split *s) {
  pthread_mutex_lock(&s->lock);
  abort_locked(s);
  pthread_mutex_unlock(&s->lock);
}

/* Begins worker k's next range: parsed, clean, and not earlier than the
 * ranges before it; false when the split is aborted. */
static bool begin_range(run_split *s, int k) {
  split_part *p = &s->parts[k];
  pthread_mutex_lock(&s->lock);
  bool ok = await_range(s, k);
  if (ok && p->next < s->nranges) {
    const split_slot *t = &s->slots[p->next % s->nslots];
    bool back = t->any_rows && p->prev_any && t->first_time < p->prev_last && !s->unordered;
    if (!t->clean || back) {
      if (!s->aborted) s->backwards = t->clean || t->backwards;   /* the first reason is the one */
      abort_locked(s);
      ok = false;
    } else if (t->any_rows) {
      p->prev_last = t->last_time;
      p->prev_any = true;
    }
  }
  /* a gzipped file's last range may be known only once the next is claimed */
  p->past_end = p->next >= s->nranges;
  p->last = p->next + 1 >= s->nranges;
  pthread_mutex_unlock(&s->lock);
  p->range = p->next++;
  p->taken = 0;
  p->reading = true;
  return ok;
}

int split_next(run_split *s, int k, worker_row *row, value_str *id) {
  split_part *p = &s->parts[k];
  if (!p->reading && !begin_range(s, k)) return SPLIT_ABORTED;
  if (p->past_end) return IO_EOF;
  const split_box *b = &s->slots[p->range % s->nslots].boxes[k];
  if (p->taken < b->used) {
    box_take(b, &p->taken, row, id);
    return IO_OK;
  }
  p->reading = false;
  return p->last ? IO_EOF : SPLIT_RANGE;
}

uint64_t split_range(const run_split *s, int k) { return s->parts[k].range; }

bool split_unordered(const run_split *s) { return s->unordered; }

bool split_backwards(run_split *s) {
  pthread_mutex_lock(&s->lock);
  bool backwards = s->backwards;
  pthread_mutex_unlock(&s->lock);
  return backwards;
}

void split_keep(run_split *s, int k, uint64_t first) {
  split_part *p = &s->parts[k];
  if (first <= p->kept) return;
  pthread_mutex_lock(&s->lock);
  p->kept = first;
  pthread_cond_broadcast(&s->changed);
  pthread_mutex_unlock(&s->lock);
}

/* ---- opening ------------------------------------------------------------------------------ */

/* The shard's rows only: the workers' share is decided by the boxes. */
static bool keeps_shard(const void *ctx, value_str id) {
  const run_options *o = ctx;
  return run_shard_of(util_account_hash(id.p, id.len), o->nshards) == o->shard;
}

run_split *split_open(const run_state *st, run_worker *ws, int n, bool unordered) {
  const run_options *o = st->o;
  if (n < 2 || o->nevents != 1) return NULL;
  run_split *s = util_xalloc(sizeof *s);
  *s = (run_split){.n = n, .unordered = unordered, .nslots = GROUP_RANGES + SLOTS_AHEAD * (uint32_t)n};
  s->parts = util_xalloc_lines((size_t)n * sizeof *s->parts);
  s->slots = util_xalloc(s->nslots * sizeof *s->slots);
  for (uint32_t i = 0; i < s->nslots; i++) s->slots[i].boxes = util_xalloc_lines((size_t)n * sizeof(split_box));
  s->box_first_cap = 3 * (size_t)RANGE_BYTES / (2 * (size_t)n) + 4096;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->changed, NULL);
  bool ok = true;
  for (int k = 0; k < n && ok; k++) {
    split_part *p = &s->parts[k];
    p->schema = st->schema;
    p->schema.keep = o->nshards ? keeps_shard : NULL;
    p->schema.keep_ctx = o;
    p->schema.skipped_latest = o->nshards && !o->has_as_of ? &ws[k].skipped_latest : NULL;
    p->reader = io_events_open(&p->schema, o->events[0], o->input_format, &p->err);
    ok = p->reader && (io_events_splittable(p->reader) || io_events_inflatable(p->reader));
  }
  if (ok && io_events_inflatable(s->parts[0].reader)) {   /* its own reader, past the header */
    s->inflater = io_events_open(&s->parts[0].schema, o->events[0], o->input_format, &s->parts[0].err);
    ok = s->inflater != NULL;
    s->nranges = UINT64_MAX;
  } else if (ok) {
    s->base = io_data_offset(s->parts[0].reader);
    ok = io_file_size(s->parts[0].reader, &s->size);
    /* at least one range, so that every worker meets the end of the file */
    s->nranges = s->size > s->base ? (uint64_t)((s->size - s->base + RANGE_BYTES - 1) / RANGE_BYTES) : 1;
  }
  if (!ok) {   /* the ordinary reading meets and reports what went wrong, if anything */
    split_free(s);
    return NULL;
  }
  return s;
}

void split_free(run_split *s) {
  if (!s) return;
  for (int k = 0; k < s->n; k++) {
    io_close(s->parts[k].reader);
    free(s->parts[k].text);
  }
  io_close(s->inflater);
  free(s->carry);
  for (uint32_t i = 0; i < s->nslots; i++) {
    for (int o = 0; o < s->n && s->slots[i].boxes; o++) free(s->slots[i].boxes[o].bytes);
    free(s->slots[i].boxes);
  }
  free(s->slots);
  free(s->parts);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->changed);
  free(s);
}
