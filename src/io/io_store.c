/* io_store.c — putting events in order: io_merge streams several sorted
 * files as one time-ordered stream; io_sorter orders anything else by
 * (account, time, arrival), spilling sorted runs to a temporary file when
 * the events outgrow its memory limit.
 *
 * io_merge contract details beyond io.h:
 * - Records with equal times come in the order of the files given, and in
 *   file order within a file.
 * - IO_UNSORTED is reported once: ev then holds the record that went back
 *   in time, and it counts as returned.  From then on (also after
 *   io_merge_rewind) no order is checked, so a caller can rewind and feed
 *   every record to io_sorter.
 * - After IO_BAD_ROW the next call goes on with the next row of that file;
 *   rewinding reads every row again, bad ones included.
 * - "-" (standard input) may be given once.  It, and paths that are pipes
 *   (bash's <(zcat f.gz)), are copied to a temporary spool file as they
 *   are read, so rewinding works for them too.
 *
 * io_sorter keeps each event's file name by pointer (they come from the
 * command line): the names must outlive the sorter. */
#include "io/io_internal.h"

#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

/* ---- a binary min-heap of small integers, ordered by a callback -------------------------- */

typedef bool (*heap_less)(const void *ctx, int a, int b);

typedef struct int_heap {
  int *items;
  int len;
} int_heap;

static void heap_push(int_heap *h, int item, heap_less less, const void *ctx) {
  int i = h->len++;
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (!less(ctx, item, h->items[parent])) break;
    h->items[i] = h->items[parent];
    i = parent;
  }
  h->items[i] = item;
}

static int heap_pop(int_heap *h, heap_less less, const void *ctx) {
  int top = h->items[0];
  int last = h->items[--h->len];
  int i = 0;
  for (;;) {
    int child = 2 * i + 1;
    if (child >= h->len) break;
    if (child + 1 < h->len && less(ctx, h->items[child + 1], h->items[child])) child++;
    if (!less(ctx, h->items[child], last)) break;
    h->items[i] = h->items[child];
    i = child;
  }
  if (h->len > 0) h->items[i] = last;
  return top;
}

/* ---- io_merge ------------------------------------------------------------------------------ */

struct io_merge {
  int n;
  io_reader **readers;
  io_event *current;     /* each reader's next record, while it is in the heap */
  int64_t *last_time;    /* each reader's last record time, for the order check */
  int_heap heap;         /* readers with a record waiting, by (time, file index) */
  int advance;           /* reader whose record was returned last: read it next; -1 none */
  int primed;            /* readers 0..primed-1 have been read once */
  bool unsorted;         /* IO_UNSORTED was reported */
  bool failed;
};

static bool merge_less(const void *ctx, int a, int b) {
  const io_merge *m = ctx;
  int64_t ta = m->current[a].time, tb = m->current[b].time;
  return ta < tb || (ta == tb && a < b);
}

static void merge_restart(io_merge *m) {
  m->heap.len = 0;
  m->advance = -1;
  m->primed = 0;
  m->failed = false;
  for (int i = 0; i < m->n; i++) m->last_time[i] = INT64_MIN;
}

io_merge *io_merge_open(const io_schema *schema, const char *const *paths, int npaths,
                        io_format fmt, io_error *err) {
  io_merge *m = util_xalloc(sizeof *m);
  size_t n = npaths > 0 ? (size_t)npaths : 1;
  m->readers = util_xalloc(n * sizeof *m->readers);
  m->current = util_xalloc(n * sizeof *m->current);
  m->last_time = util_xalloc(n * sizeof *m->last_time);
  m->heap.items = util_xalloc(n * sizeof *m->heap.items);
  const io_options options = {.spool_streams = true};
  bool stdin_seen = false;
  for (int i = 0; i < npaths; i++) {
    if (strcmp(paths[i], "-") == 0) {
      if (stdin_seen) {
        io_set_error(err, paths[i], 0, EINVAL, "standard input given more than once");
        io_merge_close(m);
        return NULL;
      }
      stdin_seen = true;
    }
    m->readers[i] = io_reader_open(schema, paths[i], fmt, false, &options, err);
    if (!m->readers[i]) {
      io_merge_close(m);
      return NULL;
    }
    m->n = i + 1;
  }
  merge_restart(m);
  return m;
}

/* io_merge_next of a single file: its rows as they come, read straight
 * into ev (no heap, no copy), with the same order check; primed marks its
 * end. */
static int next_of_one(io_merge *m, io_event *ev, io_error *err) {
  if (m->primed) return IO_EOF;
  io_status st = io_events_next(m->readers[0], ev, err);
  if (st == IO_FAILED) m->failed = true;
  if (st == IO_EOF) m->primed = 1;
  if (st != IO_OK) return st;
  if (!m->unsorted && ev->time < m->last_time[0]) {
    m->unsorted = true;
    return IO_UNSORTED;
  }
  m->last_time[0] = ev->time;
  return IO_OK;
}

int io_merge_next(io_merge *m, io_event *ev, io_error *err) {
  if (m->failed) {
    io_set_error(err, m->n > 0 ? m->readers[0]->path : "-", 0, EIO,
                 "reading stopped after an earlier error");
    return IO_FAILED;
  }
  if (m->n == 1) return next_of_one(m, ev, err);
  /* First read one record from each file, then one from the file whose
   * record was returned last. */
  for (;;) {
    int i = m->advance >= 0 ? m->advance : m->primed < m->n ? m->primed : -1;
    if (i < 0) break;
    io_status st = io_events_next(m->readers[i], &m->current[i], err);
    if (st == IO_BAD_ROW) return IO_BAD_ROW;   /* the same file goes on next time */
    if (st == IO_FAILED) {
      m->failed = true;
      return IO_FAILED;
    }
    if (m->advance >= 0) m->advance = -1;
    else m->primed++;
    if (st == IO_EOF) continue;
    if (!m->unsorted && m->current[i].time < m->last_time[i]) {
      m->unsorted = true;
      *ev = m->current[i];
      m->advance = i;
      return IO_UNSORTED;
    }
    m->last_time[i] = m->current[i].time;
    heap_push(&m->heap, i, merge_less, m);
  }
  if (m->heap.len == 0) return IO_EOF;
  int i = heap_pop(&m->heap, merge_less, m);
  *ev = m->current[i];
  m->advance = i;
  return IO_OK;
}

bool io_merge_rewind(io_merge *m, io_error *err) {
  for (int i = 0; i < m->n; i++) {
    if (!io_reader_rewind(m->readers[i], err)) {
      m->failed = true;
      return false;
    }
  }
  merge_restart(m);
  return true;
}

void io_merge_close(io_merge *m) {
  if (!m) return;
  for (int i = 0; i < m->n; i++) io_close(m->readers[i]);
  free(m->readers);
  free(m->current);
  free(m->last_time);
  free(m->heap.items);
  free(m);
}

/* ---- io_sorter ----------------------------------------------------------------------------- */

/* One event, copied.  The header is followed by the account, milestone
 * and playbook bytes, padding to 8, then one 8-byte slot per field of a
 * declared event (a string's slot holds the offset and length of its
 * bytes, which come after the slots), and padding to 8 again.  Runs in
 * the temporary file are these records back to back. */
/* ---- events' values as bytes: the sorter's records, the split read's boxes --------------- */

size_t io_values_size(const io_schema *schema, const io_event *ev) {
  if (ev->type < 0) return 0;
  const io_event_schema *es = &schema->events[ev->type];
  size_t size = (size_t)es->nfields * 8;
  for (int f = 0; f < es->nfields; f++)
    if (es->fields[f].type == VALUE_STRING) size += ev->values[f].s.len;
  return size;
}

char *io_values_put(const io_schema *schema, const io_event *ev, char *base, size_t at) {
  if (ev->type < 0) return base + at;
  const io_event_schema *es = &schema->events[ev->type];
  char *slot = base + at, *text = slot + (size_t)es->nfields * 8;
  for (int f = 0; f < es->nfields; f++, slot += 8) {
    const value_data *v = &ev->values[f];
    switch (es->fields[f].type) {
      case VALUE_STRING: {
        uint32_t where[2] = {(uint32_t)(text - base), v->s.len};
        memcpy(slot, where, 8);
        if (v->s.len) memcpy(text, v->s.p, v->s.len);
        text += v->s.len;
        break;
      }
      case VALUE_BOOL: {
        int64_t b = v->b;
        memcpy(slot, &b, 8);
        break;
      }
      case VALUE_FLOAT: memcpy(slot, &v->f, 8); break;
      default: memcpy(slot, &v->i, 8); break;
    }
  }
  return text;
}

void io_values_get(const io_schema *schema, int type, const char *base, size_t at, value_data *values) {
  const io_event_schema *es = &schema->events[type];
  const char *slot = base + at;
  for (int f = 0; f < es->nfields; f++, slot += 8) {
    value_data *v = &values[f];
    switch (es->fields[f].type) {
      case VALUE_STRING: {
        uint32_t where[2];
        memcpy(where, slot, 8);
        v->s = (value_str){base + where[0], where[1]};
        break;
      }
      case VALUE_BOOL: {
        int64_t b;
        memcpy(&b, slot, 8);
        v->b = b != 0;
        break;
      }
      case VALUE_FLOAT: memcpy(&v->f, slot, 8); break;
      default: memcpy(&v->i, slot, 8); break;
    }
  }
}

typedef struct sort_rec {
  uint64_t account_hash; /* the first sort key: accounts come out grouped, in hash order */
  int64_t time;
  int64_t line;
  uint64_t seq;          /* arrival order: the last sort key */
  int32_t type;
  uint32_t file;         /* index into io_sorter.files */
  uint32_t account_len, milestone_len, playbook_len;
  uint32_t size;         /* the whole record, a multiple of 8 */
} sort_rec;

/* The record's first keys beside it, so that most compares end without
 * reading the record. */
typedef struct sort_key {
  uint64_t account_hash;
  int64_t time;
  const sort_rec *rec;
} sort_key;

typedef struct sort_block {
  struct sort_block *next;
  size_t used, size;
  alignas(8) char data[];
} sort_block;

typedef struct sort_run {
  uint64_t offset, end;  /* the run's bytes in the temporary file, read so far */
  char *buf;
  size_t cap, pos, len;  /* unread bytes: buf[pos, len) */
  const sort_rec *rec;   /* the record waiting in the merge */
} sort_run;

/* A block and its header fill one huge page (util_huge_alloc): hundreds of
 * megabytes of records cost hundreds of page faults, not a quarter million.
 * A run holds at most SORT_RUN bytes whatever the memory limit: records
 * come back in key order, scattered over the blocks, and a larger run
 * gathered them slower than writing and merging smaller ones (10M shuffled
 * events: runs of 32 to 128 MiB 3.4-3.5 s, 512 MiB 4.9 s, all in memory
 * 6.3 s), its blocks warm in the cache when they are reused. */
enum { SORT_BLOCK = (2 << 20) - 64, SORT_RUN = 64 << 20, RUN_BUFFER_MIN = 4096, RUN_BUFFER_MAX = 1 << 20 };

struct io_sorter {
  const io_schema *schema;
  size_t mem_limit;
  uint64_t seq;
  const char **files;    /* distinct file names, by pointer */
  uint32_t nfiles, last_file;
  size_t files_cap;

  sort_block *blocks, *block;   /* all blocks; the one being filled */
  sort_key *keys, *spare;        /* spare: where sort_keys moves them */
  size_t nkeys, keys_cap, spare_cap, used;
  size_t last_size;              /* the record added last, and its block: io_sorter_drop_last */
  sort_block *last_block;

  int fd;                /* runs; -1 before the first spill */
  char *wbuf;
  size_t wlen;
  uint64_t file_size;
  sort_run *runs;
  int nruns;
  size_t runs_cap;
  int_heap heap;

  bool finished;
  size_t next_key;       /* in memory: the next key to return */
  int advance;           /* runs: the run whose record was returned last */
  value_data *values;
};

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* The order: account hash, time, arrival.  Two accounts whose ids share
 * a 64-bit hash come out interleaved, each in its own time order, which is
 * all the VM needs: accounts are independent. */
static int compare_recs(const sort_rec *a, const sort_rec *b) {
  if (a->account_hash != b->account_hash) return a->account_hash < b->account_hash ? -1 : 1;
  if (a->time != b->time) return a->time < b->time ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int compare_keys(const void *x, const void *y) {
  const sort_key *a = x, *b = y;
  if (a->account_hash != b->account_hash) return a->account_hash < b->account_hash ? -1 : 1;
  if (a->time != b->time) return a->time < b->time ? -1 : 1;
  return a->rec->seq < b->rec->seq ? -1 : a->rec->seq > b->rec->seq;
}

static bool key_before(const sort_key *a, const sort_key *b) {
  return a->account_hash != b->account_hash ? a->account_hash < b->account_hash : a->time < b->time;
}

/* Sorts the keys (compare_keys' order): a counting pass on the top bits
 * of the account hash spreads them into buckets, in arrival order (a
 * bucket holds one account's rows of the run, mostly), and each bucket is
 * sorted by insertion, which keeps that order among equals; a bucket that
 * a busy account makes large goes to qsort.  With qsort alone, comparisons
 * were a sixth of an unsorted run. */
static void sort_keys(io_sorter *s) {
  enum { INSERTION_MAX = 256 };
  size_t n = s->nkeys;
  if (n < 2) return;
  unsigned bits = 1;
  while (bits < 20 && ((size_t)1 << bits) < n / 16) bits++;
  size_t nbuckets = (size_t)1 << bits;
  size_t *end = util_xalloc(nbuckets * sizeof *end);
  util_xgrow(&s->spare, &s->spare_cap, n, sizeof *s->spare, 1024);
  sort_key *out = s->spare;
  for (size_t i = 0; i < n; i++) end[s->keys[i].account_hash >> (64 - bits)]++;
  for (size_t b = 0, at = 0; b < nbuckets; b++) {
    at += end[b];
    end[b] = at - end[b];   /* the bucket's start, until the scatter moves it to its end */
  }
  for (size_t i = 0; i < n; i++) out[end[s->keys[i].account_hash >> (64 - bits)]++] = s->keys[i];
  for (size_t b = 0, from = 0; b < nbuckets; from = end[b++]) {
    if (end[b] - from > INSERTION_MAX) {
      qsort(out + from, end[b] - from, sizeof *out, compare_keys);
      continue;
    }
    for (size_t i = from + 1; i < end[b]; i++) {
      sort_key k = out[i];
      size_t j = i;
      for (; j > from && key_before(&k, &out[j - 1]); j--) out[j] = out[j - 1];
      out[j] = k;
    }
  }
  free(end);
  s->spare = s->keys;
  s->keys = out;
  size_t cap = s->spare_cap;
  s->spare_cap = s->keys_cap;
  s->keys_cap = cap;
}

io_sorter *io_sorter_new(const io_schema *schema, size_t mem_limit) {
  io_sorter *s = util_xalloc(sizeof *s);
  s->schema = schema;
  s->mem_limit = mem_limit;
  s->fd = -1;
  s->advance = -1;
  int max_fields = 1;
  for (int i = 0; i < schema->nevents; i++)
    if (schema->events[i].nfields > max_fields) max_fields = schema->events[i].nfields;
  s->values = util_xalloc((size_t)max_fields * sizeof *s->values);
  return s;
}

static bool write_failed(io_error *err, int e) {
  io_set_error(err, "temporary file", 0, e, "cannot write sorted events: %s", strerror(e));
  return false;
}

static uint32_t file_index(io_sorter *s, const char *file) {
  if (s->last_file < s->nfiles && s->files[s->last_file] == file) return s->last_file;
  for (uint32_t i = 0; i < s->nfiles; i++)
    if (s->files[i] == file) return s->last_file = i;
  util_xgrow(&s->files, &s->files_cap, (size_t)s->nfiles + 1, sizeof *s->files, 8);
  s->files[s->nfiles] = file;
  return s->last_file = s->nfiles++;
}

static bool flush_run_buffer(io_sorter *s, io_error *err) {
  size_t done = 0;
  while (done < s->wlen) {
    ssize_t w = write(s->fd, s->wbuf + done, s->wlen - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return write_failed(err, errno);
    }
    done += (size_t)w;
  }
  s->file_size += s->wlen;
  s->wlen = 0;
  return true;
}

/* Sorts the events in memory and writes them as one run. */
static bool spill(io_sorter *s, io_error *err) {
  if (s->fd < 0) {
    s->fd = io_temp_fd("sort", err);
    if (s->fd < 0) return false;
    s->wbuf = util_xalloc(RUN_BUFFER_MAX);
  }
  util_xgrow(&s->runs, &s->runs_cap, (size_t)s->nruns + 1, sizeof *s->runs, 16);
  sort_keys(s);
  uint64_t start = s->file_size + s->wlen;
  for (size_t i = 0; i < s->nkeys; i++) {
    const sort_rec *rec = s->keys[i].rec;
    if (s->wlen + rec->size > RUN_BUFFER_MAX && !flush_run_buffer(s, err)) return false;
    if (rec->size > RUN_BUFFER_MAX) {   /* a huge record: write it directly */
      size_t saved = s->wlen;
      char *saved_buf = s->wbuf;
      s->wbuf = (char *)rec;
      s->wlen = rec->size;
      bool ok = flush_run_buffer(s, err);
      s->wbuf = saved_buf;
      s->wlen = saved;
      if (!ok) return false;
      continue;
    }
    memcpy(s->wbuf + s->wlen, rec, rec->size);
    s->wlen += rec->size;
  }
  if (!flush_run_buffer(s, err)) return false;
  s->runs[s->nruns++] = (sort_run){.offset = start, .end = s->file_size};
  for (sort_block *b = s->blocks; b; b = b->next) b->used = 0;
  s->block = s->blocks;
  s->nkeys = 0;
  s->used = 0;
  return true;
}

static void *sorter_alloc(io_sorter *s, size_t size) {
  sort_block *b = s->block;
  while (b && b->size - b->used < size) b = b->next;   /* reused blocks after a spill */
  if (!b) {
    size_t block_size = size > SORT_BLOCK ? size : SORT_BLOCK;
    b = util_huge_alloc(sizeof *b + block_size);
    b->used = 0;
    b->size = block_size;
    b->next = s->blocks;
    s->blocks = b;
  }
  s->block = b;
  void *p = b->data + b->used;
  b->used += size;
  return p;
}

bool io_sorter_add(io_sorter *s, const io_event *ev, io_error *err) {
  if (s->finished) {
    io_set_error(err, ev->file, ev->line, EINVAL, "internal error: an event added after sorting");
    return false;
  }
  /* runs are written before an event is added, not after, so that the
     last one can be taken back */
  if (s->used > (s->mem_limit < SORT_RUN ? s->mem_limit : SORT_RUN) && !spill(s, err)) return false;
  size_t head = align8(sizeof(sort_rec) + ev->account.len + ev->milestone.len + ev->playbook.len);
  size_t size = align8(head + io_values_size(s->schema, ev));
  if (size > UINT32_MAX) {
    io_set_error(err, ev->file, ev->line, EFBIG, "event too large to sort");
    return false;
  }
  uint32_t file = file_index(s, ev->file);
  util_xgrow(&s->keys, &s->keys_cap, s->nkeys + 1, sizeof *s->keys, 1024);
  sort_rec *rec = sorter_alloc(s, size);
  *rec = (sort_rec){.account_hash = util_hash(ev->account.p, ev->account.len),
                    .time = ev->time, .line = ev->line, .seq = s->seq++, .type = ev->type,
                    .file = file, .account_len = ev->account.len,
                    .milestone_len = ev->milestone.len, .playbook_len = ev->playbook.len,
                    .size = (uint32_t)size};
  char *base = (char *)rec, *p = base + sizeof *rec;
  memcpy(p, ev->account.p, ev->account.len);
  p += ev->account.len;
  if (ev->milestone.len) memcpy(p, ev->milestone.p, ev->milestone.len);
  p += ev->milestone.len;
  if (ev->playbook.len) memcpy(p, ev->playbook.p, ev->playbook.len);
  p += ev->playbook.len;
  memset(p, 0, (size_t)(base + head - p));
  char *text = io_values_put(s->schema, ev, base, head);
  memset(text, 0, (size_t)(base + size - text));
  s->keys[s->nkeys++] = (sort_key){rec->account_hash, rec->time, rec};
  s->used += size + 2 * sizeof(sort_key);   /* its key, and room for it in the sort */
  s->last_size = size;
  s->last_block = s->block;
  return true;
}

void io_sorter_drop_last(io_sorter *s) {
  s->nkeys--;
  s->seq--;
  s->used -= s->last_size + 2 * sizeof(sort_key);
  s->last_block->used -= s->last_size;
  s->last_size = 0;
}

static void decode(io_sorter *s, const sort_rec *rec, io_event *ev) {
  const char *base = (const char *)rec, *p = base + sizeof *rec;
  ev->account = (value_str){p, rec->account_len};
  p += rec->account_len;
  ev->milestone = (value_str){p, rec->milestone_len};
  p += rec->milestone_len;
  ev->playbook = (value_str){p, rec->playbook_len};
  p += rec->playbook_len;
  ev->time = rec->time;
  ev->type = rec->type;
  ev->file = s->files[rec->file];
  ev->line = rec->line;
  ev->values = NULL;
  if (rec->type < 0) return;
  io_values_get(s->schema, rec->type, base, align8((size_t)(p - base)), s->values);
  ev->values = s->values;
}

/* Makes the run's next record whole in its buffer; false at its end. */
static bool run_read(io_sorter *s, sort_run *run, io_error *err, bool *failed) {
  *failed = false;
  for (;;) {
    size_t have = run->len - run->pos;
    if (have >= sizeof(sort_rec)) {
      const sort_rec *rec = (const sort_rec *)(run->buf + run->pos);
      if (have >= rec->size) {
        run->rec = rec;
        run->pos += rec->size;
        return true;
      }
    }
    if (run->offset == run->end) {
      if (have == 0) return false;
      io_set_error(err, "temporary file", 0, EIO, "sorted events are truncated");
      *failed = true;
      return false;
    }
    /* keep the partial record, at the front, and read more */
    memmove(run->buf, run->buf + run->pos, have);
    run->pos = 0;
    run->len = have;
    size_t need = have >= sizeof(sort_rec) ? ((const sort_rec *)run->buf)->size : sizeof(sort_rec);
    if (need > run->cap) {
      run->buf = util_xrealloc(run->buf, need);
      run->cap = need;
    }
    size_t want = run->cap - run->len;
    if (want > run->end - run->offset) want = (size_t)(run->end - run->offset);
    ssize_t n = pread(s->fd, run->buf + run->len, want, (off_t)run->offset);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      int e = n < 0 ? errno : EIO;
      io_set_error(err, "temporary file", 0, e, "cannot read sorted events: %s", strerror(e));
      *failed = true;
      return false;
    }
    run->offset += (uint64_t)n;
    run->len += (size_t)n;
  }
}

static bool run_less(const void *ctx, int a, int b) {
  const io_sorter *s = ctx;
  return compare_recs(s->runs[a].rec, s->runs[b].rec) < 0;
}

bool io_sorter_finish(io_sorter *s, io_error *err) {
  if (s->finished) return true;
  if (s->nruns == 0) {
    sort_keys(s);
    s->finished = true;
    return true;
  }
  if (s->nkeys > 0 && !spill(s, err)) return false;
  /* Memory for merging: the record blocks are no longer needed. */
  while (s->blocks) {
    sort_block *next = s->blocks->next;
    util_huge_free(s->blocks, sizeof *s->blocks + s->blocks->size);
    s->blocks = next;
  }
  s->block = NULL;
  free(s->keys);
  free(s->spare);
  s->keys = s->spare = NULL;
  s->nkeys = s->keys_cap = s->spare_cap = 0;
  free(s->wbuf);
  s->wbuf = NULL;
  size_t per_run = s->mem_limit / (size_t)s->nruns;
  if (per_run < RUN_BUFFER_MIN) per_run = RUN_BUFFER_MIN;
  if (per_run > RUN_BUFFER_MAX) per_run = RUN_BUFFER_MAX;
  s->heap.items = util_xalloc((size_t)s->nruns * sizeof *s->heap.items);
  for (int i = 0; i < s->nruns; i++) {
    sort_run *run = &s->runs[i];
    run->buf = util_xalloc(per_run);
    run->cap = per_run;
    bool failed;
    if (run_read(s, run, err, &failed)) heap_push(&s->heap, i, run_less, s);
    else if (failed) return false;
  }
  s->finished = true;
  return true;
}

io_status io_sorter_next(io_sorter *s, io_event *ev, io_error *err) {
  if (!s->finished) {
    io_set_error(err, "temporary file", 0, EINVAL,
                 "internal error: io_sorter_next before io_sorter_finish");
    return IO_FAILED;
  }
  if (s->nruns == 0) {
    if (s->next_key == s->nkeys) return IO_EOF;
    decode(s, s->keys[s->next_key++].rec, ev);
    return IO_OK;
  }
  if (s->advance >= 0) {
    bool failed;
    if (run_read(s, &s->runs[s->advance], err, &failed)) heap_push(&s->heap, s->advance, run_less, s);
    else if (failed) return IO_FAILED;
    s->advance = -1;
  }
  if (s->heap.len == 0) return IO_EOF;
  int i = heap_pop(&s->heap, run_less, s);
  decode(s, s->runs[i].rec, ev);
  s->advance = i;
  return IO_OK;
}

void io_sorter_free(io_sorter *s) {
  if (!s) return;
  while (s->blocks) {
    sort_block *next = s->blocks->next;
    util_huge_free(s->blocks, sizeof *s->blocks + s->blocks->size);
    s->blocks = next;
  }
  for (int i = 0; i < s->nruns; i++) free(s->runs[i].buf);
  free(s->runs);
  free(s->heap.items);
  free(s->keys);
  free(s->spare);
  free(s->wbuf);
  free(s->files);
  free(s->values);
  if (s->fd >= 0) close(s->fd);
  free(s);
}
