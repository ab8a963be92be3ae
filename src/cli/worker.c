/* worker.c — one worker of `msl run` (prefix worker_): the accounts whose
 * XXH64 hash selects it (of the run's shard, with --shard), read from
 * every events file (the readers skip the other workers' and shards' rows
 * once their id is known), fed to its own VM runtime.
 *
 * Input is read once when every events file is in time order (the fast
 * path: the VM sees one merged, time-ordered stream).  The first record that
 * goes back in time switches to the slow path: the input is read again into
 * io_sorter, which orders it by account and time, spilling to temporary
 * files when it outgrows its memory; the VM then runs over that order.
 * Results never depend on which path ran, nor on how many workers ran. */
#include "cli/run_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/htable.h"
#include "core/util.h"

/* ---- accounts by id ------------------------------------------------------------------- */

/* The hash the account table files id under: SPEC 7's (XXH64) when the
 * worker shares the accounts with others (a split read hands over its low
 * half), else XXH3, which is faster on short ids and has no partition to
 * agree with. */
static uint64_t account_hash(const run_worker *w, value_str id) {
  if (w->count == 1 && !w->st->o->nshards) return util_hash(id.p, id.len);
  return (uint64_t)util_account_hash(id.p, id.len);
}

/* Out of line: the common id fits the slot's head, and the probe loop
 * stays a leaf function. */
static __attribute__((noinline)) bool long_id_is(const run_worker *t, const worker_slot *s, value_str id) {
  size_t len;
  const char *p = vm_account_id(t->vm, s->account, &len);
  return memcmp(p, id.p, len) == 0;
}

static bool slot_holds(const run_worker *t, const worker_slot *s, value_str id, uint64_t h) {
  if (s->tag != (uint32_t)h || s->len != id.len) return false;
  if (id.len <= WORKER_ID_HEAD) return util_same_bytes(s->head, id.p, id.len);
  return long_id_is(t, s, id);
}

/* The slot for id: holding its account, or empty where it would go. */
static worker_slot *accounts_find(const run_worker *t, value_str id, uint64_t h) {
  size_t j = h & (t->cap - 1);
  while (t->slots[j].account && !slot_holds(t, &t->slots[j], id, h)) j = (j + 1) & (t->cap - 1);
  return &t->slots[j];
}

static void accounts_grow(run_worker *t) {
  size_t cap = t->cap ? t->cap * 2 : 1024;
  worker_slot *slots = util_huge_alloc(cap * sizeof *slots);
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->slots[i].account) continue;
    size_t j = t->slots[i].tag & (cap - 1);
    while (slots[j].account) j = (j + 1) & (cap - 1);
    slots[j] = t->slots[i];
  }
  util_huge_free(t->slots, t->cap * sizeof *slots);
  t->slots = slots;
  t->cap = cap;
}

/* The slot holding id's account; NULL when there is none. */
static const worker_slot *accounts_get(const run_worker *t, value_str id, uint64_t h) {
  if (!t->cap) return NULL;
  const worker_slot *s = accounts_find(t, id, h);
  return s->account ? s : NULL;
}

/* The slot for id, with room for one more account: holding id's account,
 * or empty where it would go (accounts_fill), so that a new account costs
 * one probe. */
static worker_slot *accounts_slot(run_worker *t, value_str id, uint64_t h) {
  if ((t->naccounts + 1) * 2 > t->cap) accounts_grow(t);
  return accounts_find(t, id, h);
}

/* Files account a, of id and hash h, in s: the empty slot accounts_slot
 * gave for id. */
static const worker_slot *accounts_fill(run_worker *t, worker_slot *s, vm_account *a, value_str id, uint64_t h) {
  *s = (worker_slot){.tag = (uint32_t)h, .account = a, .len = id.len, .ordinal = (uint32_t)t->naccounts};
  memcpy(s->head, id.p, id.len < WORKER_ID_HEAD ? id.len : WORKER_ID_HEAD);
  t->naccounts++;
  return s;
}

worker_slot *worker_take_table(run_worker *w, size_t *cap) {
  worker_slot *slots = w->slots;
  *cap = w->cap;
  w->slots = NULL;
  w->cap = 0;
  return slots;
}

static void accounts_free(run_worker *t) {
  for (size_t i = 0; i < t->cap; i++) vm_account_free(t->vm, t->slots[i].account);
  util_huge_free(t->slots, t->cap * sizeof *t->slots);
  t->slots = NULL;
  t->cap = t->naccounts = 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

/* A runtime error: reported (exit 3) by a worker that runs alone. */
static int runtime_failure(const run_worker *w) {
  if (w->parallel) return RUN_SERIAL;
  if (w->deferring) return RUN_EAGER;
  if (w->grouped) return RUN_UNGROUPED;
  fprintf(stderr, "msl: %s\n", vm_error(w->vm));
  return EXIT_DATA;
}

/* Whether this run reports a bad row: a row no account owns (a ragged
 * one, say) is shard 1's, so that every bad row counts in one shard. */
static bool owns_bad_row(const run_worker *w, const io_error *err) {
  return err->has_account || w->st->o->shard <= 1;
}

/* A bad row: to --rejects (file,line,reason,row) or the end of the run.  A
 * row --rejects cannot take (a full disk) ends the run: the count in
 * summary.json must be what the file holds. */
static int bad_row(run_worker *w, const io_error *err) {
  run_state *st = w->st;
  if (w->parallel) return RUN_SERIAL;
  if (!st->rejects) {
    if (w->deferring) return RUN_EAGER;
    fprintf(stderr, "msl: %s:%lld: %s\n", err->file ? err->file : "-", (long long)err->line, err->reason);
    return EXIT_DATA;
  }
  errno = 0;
  util_csv_cell_file(st->rejects, err->file ? err->file : "-", strlen(err->file ? err->file : "-"));
  fprintf(st->rejects, ",%lld,", (long long)err->line);
  util_csv_cell_file(st->rejects, err->reason, strlen(err->reason));
  fputc(',', st->rejects);
  util_csv_cell_file(st->rejects, err->raw ? err->raw : "", err->raw ? err->raw_len : 0);
  fputc('\n', st->rejects);
  if (ferror(st->rejects)) return w->deferring ? RUN_EAGER : run_rejects_failed(st, errno);
  w->counts.rejected++;
  return EXIT_OK;
}

static int io_failure(const run_worker *w, const io_error *err) {
  if (w->parallel) return RUN_SERIAL;
  if (w->deferring) return RUN_EAGER;
  if (err->io_errno)
    fprintf(stderr, "msl: %s: %s\n", err->file ? err->file : "-", strerror(err->io_errno));
  else
    fprintf(stderr, "msl: %s:%lld: %s\n", err->file ? err->file : "-", (long long)err->line, err->reason);
  return err->io_errno ? EXIT_IO : EXIT_DATA;
}

/* Whether the run evaluates the account with this id: all but for
 * `msl explain`, which evaluates one. */
static bool keeps_account(const run_options *o, value_str id) {
  return !o->only || (id.len == o->only->len && memcmp(id.p, o->only->p, id.len) == 0);
}

/* A duplicate id in the accounts file is a bad row (SPEC 7) that names
 * the line where the id was first accepted.  The worker's own table finds
 * it, with lines[ordinal] holding each account's line while the file is
 * read; `msl explain` keeps one account, so it files the other ids in a
 * table of their own (others). */
static io_status duplicate_id(io_reader *r, const io_account *acct, int64_t first, io_error *err) {
  char quoted[128];
  return io_bad_row(r, err, "duplicate account id %s (first on line %lld)",
                    io_quote(quoted, sizeof quoted, acct->id.p, acct->id.len), (long long)first);
}

static int load_accounts(run_worker *w) {
  const run_options *o = w->st->o;
  io_error err = {0};
  io_reader *r = io_accounts_open(&w->schema, o->accounts, o->input_format, &err);
  if (!r) return io_failure(w, &err);
  int status = EXIT_OK;
  int64_t *lines = NULL;
  size_t lines_cap = 0;
  arena names;
  arena_init(&names);
  htable others;
  htable_init(&others, &names);
  for (;;) {
    io_account acct;
    io_status s = io_accounts_next(r, &acct, &err);
    if (s == IO_EOF) break;
    if (s == IO_FAILED) {
      status = io_failure(w, &err);
      break;
    }
    if (s == IO_OK && keeps_account(o, acct.id)) {
      uint64_t h = account_hash(w, acct.id);
      worker_slot *slot = accounts_slot(w, acct.id, h);
      if (slot->account) {
        s = duplicate_id(r, &acct, lines[slot->ordinal], &err);
      } else {
        vm_account *a = vm_account_new(w->vm, acct.id, acct.values);
        if (!a) {
          status = runtime_failure(w);
          break;
        }
        accounts_fill(w, slot, a, acct.id, h);
        util_xgrow(&lines, &lines_cap, (size_t)slot->ordinal + 1, sizeof *lines, 1024);
        lines[slot->ordinal] = acct.line;
      }
    } else if (s == IO_OK) {
      void *line = (void *)(intptr_t)acct.line;   /* from 1: never NULL */
      void *seen = htable_put(&others, acct.id.p, acct.id.len, line);
      if (seen != line) s = duplicate_id(r, &acct, (int64_t)(intptr_t)seen, &err);
    }
    if (s == IO_BAD_ROW && owns_bad_row(w, &err) && (status = bad_row(w, &err))) break;
  }
  free(lines);
  arena_free(&names);
  io_close(r);
  return status;
}

/* The slot of the account an event row belongs to; NULL when it is not
 * evaluated. */
static int account_for(run_worker *w, value_str id, uint64_t h, const worker_slot **out) {
  if (w->st->o->accounts || !keeps_account(w->st->o, id)) {   /* --accounts: exactly its accounts */
    *out = accounts_get(w, id, h);
    return EXIT_OK;
  }
  worker_slot *slot = accounts_slot(w, id, h);
  *out = NULL;
  if (!slot->account) {
    vm_account *a = vm_account_new(w->vm, id, NULL);
    if (!a) return runtime_failure(w);
    accounts_fill(w, slot, a, id, h);
  }
  *out = slot;
  return EXIT_OK;
}

/* Counts a valid row read: its time (the default as-of) and the progress line. */
static void count_row(run_worker *w, int64_t time) {
  w->counts.read++;
  if (w->progress && (w->counts.read & (PROGRESS_EVERY - 1)) == 0)
    progress_publish(w->progress, w->counts.read, (int64_t)w->naccounts);
  if (!w->any_row || time > w->latest) w->latest = time;
  w->any_row = true;
}

/* Counts a row of the account in *slot (NULL: none is evaluated) by what
 * becomes of it; *slot stays only when the VM should see the row. */
static void admit_row(run_worker *w, int64_t time, int type, const worker_slot **slot) {
  if (!*slot) {
    w->counts.unknown_accounts++;
  } else if (type == IO_EV_UNDECLARED) {
    w->counts.undeclared++;
    *slot = NULL;
  } else if (w->st->o->has_as_of && time > w->st->o->as_of) {
    *slot = NULL;      /* after T: ignored */
  }
}

/* Counts a valid row of account id (hash h); says whether the VM should
 * see it (*slot: its account's slot, or NULL). */
static int take_row(run_worker *w, value_str id, uint64_t h, int64_t time, int type, const worker_slot **slot) {
  count_row(w, time);
  int status = account_for(w, id, h, slot);
  if (!status) admit_row(w, time, type, slot);
  return status;
}

/* An undeclared row of account id (hash h), counted as read: its account
 * is made or found, and the row counted by what becomes of it. */
static int take_undeclared(run_worker *w, value_str id, uint64_t h) {
  const worker_slot *slot;
  int status = account_for(w, id, h, &slot);
  if (!status) admit_row(w, 0, IO_EV_UNDECLARED, &slot);
  return status;
}

/* Takes the oldest deferred undeclared row (defer_lookup). */
static int take_lookup(run_worker *w) {
  worker_lookup *l = &w->lookups[w->lookup_next];
  w->lookup_next = (w->lookup_next + 1) % LOOKUP_AHEAD;
  w->nlookups--;
  return take_undeclared(w, (value_str){l->id, l->len}, l->hash);
}

/* An undeclared row (id hash h), already counted as read: its account is
 * made or found LOOKUP_AHEAD rows later (a long id: now). */
static int defer_lookup(run_worker *w, value_str id, uint64_t h) {
  if (id.len > LOOKUP_ID) return take_undeclared(w, id, h);
  int status = w->nlookups == LOOKUP_AHEAD ? take_lookup(w) : EXIT_OK;
  worker_lookup *l = &w->lookups[(w->lookup_next + w->nlookups) % LOOKUP_AHEAD];
  l->hash = h;
  l->len = id.len;
  memcpy(l->id, id.p, id.len);
  w->nlookups++;
  if (w->cap) __builtin_prefetch(&w->slots[h & (w->cap - 1)]);
  return status;
}

/* Pushes a row of the sorted slow path. */
static int push(run_worker *w, vm_account *a, const io_event *ev) {
  int r = vm_push(w->vm, a, ev);
  if (r == VM_UNSORTED) {
    if (w->parallel) return RUN_SERIAL;
    fputs("msl: internal error: events out of order\n", stderr);
    return EXIT_DATA;
  }
  if (r != VM_OK) return runtime_failure(w);
  w->counts.evaluated++;
  return EXIT_OK;
}

/* ---- time-sorted rows, applied account by account ----------------------------------- */

/* A group is applied once it holds group_limit rows (at most GROUP_ROWS)
 * or its bytes are full, or in a split read, once it holds rows of
 * GROUP_RANGES ranges; a row's account is looked up RESOLVE_AHEAD rows
 * after its slot was fetched. */
enum { GROUP_ROWS = 1 << 18, GROUP_BYTES = 16 << 20, RESOLVE_AHEAD = 16 };
_Static_assert(PENDING_IDS > RESOLVE_AHEAD + 1, "a row's pending id stays until its lookup");

/* A group holds at most a GROUP_SHARE-th of the rows read so far, between
 * GROUP_MIN_ROWS and GROUP_ROWS rows: it pays off only once accounts have
 * several rows in one group, which takes a long input, while its memory
 * (about 90 bytes a row, all touched) was a third of the peak RSS of a run
 * over 1M events (67 MB at 2^18 rows, 55.5 MB at 2^16: a group of 2^16
 * rows ran as fast there, and 6.6% slower over 10M events). */
enum { GROUP_MIN_ROWS = 1 << 15, GROUP_SHARE = 16 };

static uint32_t group_limit(const run_worker *w) {
  if (w->split) return GROUP_ROWS;   /* its ranges bound it (GROUP_RANGES), and its boxes hold the rows' data */
  uint32_t limit = GROUP_MIN_ROWS;
  while (limit < GROUP_ROWS && (uint64_t)limit * GROUP_SHARE < (uint64_t)w->counts.read) limit <<= 1;
  return limit;
}

/* How many values a row carries: a declared event's fields, a control
 * event's milestone and playbook names, none for an undeclared event
 * (only counted, it stays out of groups, but a split read's box carries
 * it). */
static int row_nvalues(const io_schema *schema, int type) {
  return type >= 0 ? schema->events[type].nfields : IO_IS_CONTROL(type) ? 2 : 0;
}

/* ev's values as a row carries them (names: room for a control event's). */
static int row_values(const io_schema *schema, const io_event *ev, value_data names[2], const value_data **src) {
  *src = ev->values;
  if (ev->type < 0) {
    names[0].s = ev->milestone;
    names[1].s = ev->playbook;
    *src = names;
  }
  return row_nvalues(schema, ev->type);
}

static bool row_is_string(const io_schema *schema, int type, int i) {
  return type < 0 || schema->events[type].fields[i].type == VALUE_STRING;
}

/* A row keeps each value in 8 bytes, not a value_data's 16: a string as
 * its bytes' offset from the row's data (low half; a record is under 4
 * GiB, as a string's length is) and its length (high half), any other
 * value as its bits. */
typedef uint64_t row_value;

size_t worker_row_size(const io_schema *schema, const io_event *ev, bool with_id) {
  value_data names[2];
  const value_data *src;
  int n = row_values(schema, ev, names, &src);
  size_t need = (with_id ? worker_id_room(ev->account.len) : 0) + (size_t)n * sizeof(row_value);
  for (int i = 0; i < n; i++)
    if (row_is_string(schema, ev->type, i)) need += src[i].s.len;
  return worker_id_room(need);
}

const char *worker_store_row(const io_schema *schema, const io_event *ev, bool with_id, char *bytes) {
  value_data names[2];
  const value_data *src;
  int n = row_values(schema, ev, names, &src);
  if (with_id) memcpy(bytes, ev->account.p, ev->account.len);
  char *data = bytes + (with_id ? worker_id_room(ev->account.len) : 0);
  row_value *dst = (row_value *)(void *)data;
  size_t str = (size_t)n * sizeof(row_value);
  for (int i = 0; i < n; i++) {
    if (!row_is_string(schema, ev->type, i)) {
      memcpy(&dst[i], &src[i], sizeof dst[i]);   /* an int, float, bool or time: its first 8 bytes */
      continue;
    }
    if (src[i].s.len) memcpy(data + str, src[i].s.p, src[i].s.len);
    dst[i] = (row_value)src[i].s.len << 32 | str;
    str += src[i].s.len;
  }
  return data;
}

/* Whether the group must be applied before a row of need bytes is added
 * (need: 0 for a row a split read's box holds). */
static bool group_full(const worker_group *g, size_t need) {
  return g->nrows >= g->limit || (g->nrows && g->used + need > g->bytes_cap);
}

/* Adds a row to the group; its account is looked up later
 * (group_resolve), once the slot, fetched here, has had time to arrive. */
static void group_add(run_worker *w, const worker_row *row) {
  worker_group *g = &w->group;
  if (!g->rows) g->rows = util_huge_alloc(GROUP_ROWS * sizeof *g->rows);   /* group_full: never more */
  if (w->cap) __builtin_prefetch(&w->slots[row->id.hash & (w->cap - 1)]);
  g->rows[g->nrows++] = *row;
  g->time = row->time;
}

/* Copies ev (need bytes: worker_row_size, with its id only if it is longer
 * than LOOKUP_ID) into the group's bytes, which group_full left room for,
 * and a shorter id among the pending ones.  They are allocated whole at first, so rows
 * can point into them: their pages are touched only as rows come, and no
 * doubling copies them (both showed in the peak RSS). */
static void group_copy(run_worker *w, const io_event *ev, uint32_t h, size_t need) {
  worker_group *g = &w->group;
  if (!g->bytes || g->used + need > g->bytes_cap) {   /* empty (group_full): nothing points into it yet */
    free(g->bytes);
    g->bytes_cap = need > GROUP_BYTES ? need : GROUP_BYTES;
    g->bytes = util_xalloc(g->bytes_cap);
  }
  worker_row row = {.id = {.hash = h, .len = ev->account.len}, .time = ev->time, .type = ev->type};
  bool with_id = ev->account.len > LOOKUP_ID;
  if (!with_id) memcpy(g->pending[g->nrows % PENDING_IDS], ev->account.p, ev->account.len);
  row.data = worker_store_row(&w->schema, ev, with_id, g->bytes + g->used);
  g->used += need;
  group_add(w, &row);
}

/* Takes rows [g->resolved, upto) as take_row takes a row it reads: the
 * counts, the account (found or made), and whether the VM sees the row
 * (its account; NULL: not). */
static int group_resolve(run_worker *w, uint32_t upto) {
  worker_group *g = &w->group;
  for (; g->resolved < upto; g->resolved++) {
    worker_row *row = &g->rows[g->resolved];
    const worker_slot *slot;
    value_str id = {g->pending[g->resolved % PENDING_IDS], row->id.len};
    if (w->split || id.len > LOOKUP_ID) id.p = row->data - worker_id_room(id.len);   /* in a box, or long */
    int status = take_row(w, id, row->id.hash, row->time, row->type, &slot);
    if (status) return status;
    row->account = slot ? slot->account : NULL;   /* the id's place is the account's now */
    if (slot) row->ordinal = slot->ordinal;
  }
  return EXIT_OK;
}

/* The event row holds, for account id: its values are put in the group's
 * values, their strings pointing into the row's data. */
static void row_as_event(run_worker *w, const worker_row *row, value_str id, io_event *ev) {
  value_data *vals = w->group.values;
  const row_value *stored = (const row_value *)(const void *)row->data;
  int n = row_nvalues(&w->schema, row->type);
  for (int i = 0; i < n; i++) {
    if (row_is_string(&w->schema, row->type, i))
      vals[i].s = (value_str){row->data + (uint32_t)stored[i], (uint32_t)(stored[i] >> 32)};
    else
      memcpy(&vals[i], &stored[i], sizeof stored[i]);
  }
  /* set field by field (no zeroing of the rest) */
  ev->account = id;
  ev->time = row->time;
  ev->type = row->type;
  ev->file = NULL;
  ev->line = 0;
  ev->values = row->type >= 0 ? vals : NULL;
  ev->milestone = IO_IS_CONTROL(row->type) ? vals[0].s : (value_str){"", 0};   /* not `a = b = c`: see */
  ev->playbook = IO_IS_CONTROL(row->type) ? vals[1].s : (value_str){"", 0};    /* io_event_begin */
}

/* Pushes row r of the group; false on a runtime error. */
static bool group_push(run_worker *w, uint32_t r) {
  const worker_row *row = &w->group.rows[r];
  if (!row->account) return true;   /* counted, not for the VM */
  io_event ev;   /* what the VM reads of it: not the id */
  row_as_event(w, row, (value_str){row->data, 0}, &ev);
  if (vm_push(w->vm, row->account, &ev) != VM_OK) return false;
  w->counts.evaluated++;
  return true;
}

/* Orders rows [from, to) of the group account by account into g->order
 * (each entry: the account's ordinal, then the row in the low 32 bits): a
 * stable radix sort by ordinal, ORDER_BITS at a time, so each account's
 * rows keep their time order and accounts come in the order they were
 * made, which is the order of their blocks in memory.  Its passes read and
 * write in sequence; counting rows per ordinal in a table missed the cache
 * on most rows. */
enum { ORDER_BITS = 11 };
static uint32_t group_order(worker_group *g, uint32_t from, uint32_t to, size_t naccounts) {
  util_xgrow(&g->order, &g->order_cap, 2 * (size_t)(to - from), sizeof *g->order, 1024);
  uint64_t *src = g->order, *dst = g->order + (to - from);   /* the second half: room to sort */
  uint32_t n = 0;
  for (uint32_t r = from; r < to; r++)
    if (g->rows[r].account) src[n++] = (uint64_t)g->rows[r].ordinal << 32 | r;
  for (unsigned shift = 32; shift < 64 && naccounts > (size_t)1 << (shift - 32); shift += ORDER_BITS) {
    uint32_t count[1 << ORDER_BITS] = {0};
    for (uint32_t i = 0; i < n; i++) count[src[i] >> shift & ((1u << ORDER_BITS) - 1)]++;
    for (uint32_t b = 0, at = 0; b < 1u << ORDER_BITS; b++) {
      uint32_t c = count[b];
      count[b] = at;
      at += c;
    }
    for (uint32_t i = 0; i < n; i++) dst[count[src[i] >> shift & ((1u << ORDER_BITS) - 1)]++] = src[i];
    uint64_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != g->order) memcpy(g->order, src, n * sizeof *src);
  return n;
}

/* Pushes the group's rows, account by account, and empties it.  An
 * instant that does not fit in one group (cut: the next row has the group's
 * last time) is kept whole: its rows are pushed last, in arrival order, so
 * its accounts stay queued at that time, and the next group pushes its rows
 * of that instant first.  On a runtime error (RUN_UNGROUPED; RUN_SERIAL in
 * a parallel run) the run starts over without grouping, so that the error
 * is the one time order meets first.  The rows, their values and their
 * accounts are fetched ahead of use, in account order they are scattered
 * over the group: the row 3 * AHEAD rows ahead, its values and account 2 *
 * AHEAD, its windows and sets AHEAD (4 beat 2, 3, 6, 8 and 16 on the
 * shared benchmark's 10M events, by 4% over 8). */
static int group_apply(run_worker *w, bool cut) {
  enum { AHEAD = 4 };
  worker_group *g = &w->group;
  int status = group_resolve(w, g->nrows);
  if (status) return status;
  bool ok = true;
  uint32_t head = 0, tail = g->nrows;   /* rows of the open instants: [0, head) and [tail, nrows) */
  if (g->carry)
    while (head < g->nrows && g->rows[head].time == g->carry_time) head++;
  if (cut)
    while (tail > head && g->rows[tail - 1].time == g->time) tail--;
  uint32_t n = group_order(g, head, tail, w->naccounts);
  const uint64_t *order = g->order;   /* the row of entry k: (uint32_t)order[k] */
  for (uint32_t r = 0; ok && r < head; r++) ok = group_push(w, r);
  for (uint32_t k = 0; ok && k < n; k++) {
    if (k + 3 * AHEAD < n) __builtin_prefetch(&g->rows[(uint32_t)order[k + 3 * AHEAD]]);
    if (k + 2 * AHEAD < n) {
      const worker_row *next = &g->rows[(uint32_t)order[k + 2 * AHEAD]];
      __builtin_prefetch(next->data);
      vm_prefetch_block(w->vm, next->account);
    }
    if (k + AHEAD < n) vm_prefetch(w->vm, g->rows[(uint32_t)order[k + AHEAD]].account);
    ok = group_push(w, (uint32_t)order[k]);
  }
  for (uint32_t r = tail; ok && r < g->nrows; r++) ok = group_push(w, r);
  g->carry = cut;
  g->carry_time = g->time;
  g->nrows = g->resolved = 0;
  g->used = 0;
  g->open = false;
  g->limit = group_limit(w);
  return ok ? EXIT_OK : RUN_UNGROUPED;
}

static void group_free(worker_group *g) {
  free(g->values);
  util_huge_free(g->rows, GROUP_ROWS * sizeof *g->rows);
  free(g->bytes);
  free(g->order);
  memset(g, 0, sizeof *g);
}

/* Finds the first bad row in the order SPEC 7 names (files in the order
 * given), for a run that met one while merging. */
static void report_first_bad_row(run_worker *w) {
  const run_options *o = w->st->o;
  for (int i = 0; i < o->nevents; i++) {
    io_error err = {0};
    io_reader *r = io_events_open(&w->schema, o->events[i], o->input_format, &err);
    if (!r) {
      io_failure(w, &err);
      return;
    }
    for (;;) {
      io_event ev;
      io_status s = io_events_next(r, &ev, &err);
      if (s == IO_OK || (s == IO_BAD_ROW && !owns_bad_row(w, &err))) continue;
      if (s != IO_EOF) {
        io_failure(w, &err);
        io_close(r);
        return;
      }
      break;
    }
    io_close(r);
  }
}

/* Reads every event; streams into the VM while the input is in time order,
 * else feeds the sorter.  *unsorted says which happened.  A runtime error
 * while streaming is held until the input is known to be sorted: an
 * earlier row further on can make it one the SPEC never evaluates (the
 * slow path then starts over), so until the end only order is checked. */
static int read_events(run_worker *w, io_merge *m, io_sorter *sorter, bool *unsorted) {
  bool held_error = false;
  io_error err = {0};   /* set by whatever fails: zeroing its 300 bytes per row showed in profiles */
  for (;;) {
    io_event ev;
    worker_row row;   /* a split read's row, and its id */
    value_str id;
    int s = w->split ? split_next(w->split, w->index, &row, &id) : io_merge_next(m, &ev, &err);
    if (s == SPLIT_ABORTED) return RUN_UNSPLIT;
    if (s == SPLIT_RANGE && sorter) {   /* the sorter has copied the range's rows */
      split_keep(w->split, w->index, split_range(w->split, w->index) + 1);
      continue;
    }
    if (s == IO_OK && w->split && sorter) row_as_event(w, &row, id, &ev);
    if (s == SPLIT_RANGE) {   /* the next range is not taken: the group's last instant may go on there */
      worker_group *g = &w->group;
      uint64_t range = split_range(w->split, w->index);
      int status = EXIT_OK;
      if (g->open && !g->nrows) g->open = false;   /* only undeclared rows: nothing to apply */
      if (g->open && range + 1 - g->range >= GROUP_RANGES) status = group_apply(w, true);
      if (status) return status;
      split_keep(w->split, w->index, g->open ? g->range : range + 1);
      continue;
    }
    if (held_error) {
      if (s == IO_UNSORTED) {
        *unsorted = true;
        return EXIT_OK;
      }
      if (s == IO_FAILED) return io_failure(w, &err);
      if (s != IO_EOF) continue;
      return runtime_failure(w);
    }
    /* what a row read earlier meets comes first: its account's creation */
    int status = EXIT_OK;
    while (s != IO_OK && !status && w->nlookups) status = take_lookup(w);
    if (!status && w->grouped && s != IO_OK) status = group_resolve(w, w->group.nrows);
    if (status) return status;
    if (s == IO_EOF) return w->grouped ? group_apply(w, false) : EXIT_OK;
    if (s == IO_FAILED) return io_failure(w, &err);
    if (s == IO_BAD_ROW && !owns_bad_row(w, &err)) continue;
    if (s == IO_BAD_ROW) {
      if (w->parallel) return RUN_SERIAL;
      if (!w->st->rejects) {
        if (w->deferring) return RUN_EAGER;
        if (w->st->o->nevents > 1) report_first_bad_row(w);
        else bad_row(w, &err);
        return EXIT_DATA;
      }
      if ((status = bad_row(w, &err))) return status;
      continue;
    }
    if (s == IO_UNSORTED && !sorter) {
      *unsorted = true;
      return EXIT_OK;
    }
    if (w->grouped) {
      worker_group *g = &w->group;
      size_t need = 0;   /* the bytes a row read here takes in the group's (none: a split read's) */
      if (!w->split) {
        row = (worker_row){.id = {.hash = (uint32_t)account_hash(w, ev.account), .len = ev.account.len},
                           .time = ev.time, .type = ev.type};
        id = ev.account;
        if (ev.type != IO_EV_UNDECLARED) need = worker_row_size(&w->schema, &ev, ev.account.len > LOOKUP_ID);
      }
      if (group_full(g, need) && (status = group_apply(w, row.time == g->time))) return status;
      if (w->split && !g->open) g->range = split_range(w->split, w->index);
      g->open = true;
      if (row.type == IO_EV_UNDECLARED) {
        /* only counted: such rows stay out of the group (more than half of
           some exports' rows), their accounts made or found a few rows on */
        count_row(w, row.time);
        if ((status = defer_lookup(w, id, row.id.hash))) return status;
        continue;
      }
      if (w->split) group_add(w, &row);
      else group_copy(w, &ev, row.id.hash, need);
      if (g->nrows > RESOLVE_AHEAD && (status = group_resolve(w, g->nrows - RESOLVE_AHEAD))) return status;
      continue;
    }
    /* Unsorted input: a declared event goes to the sorter, and its account
       is looked up when the sorter gives it back, once for all the
       account's rows (a lookup per row here missed the cache on most rows:
       15% of a run over 10M shuffled events). */
    if (sorter && w->deferring) {
      count_row(w, ev.time);
      if (ev.type == IO_EV_UNDECLARED) {
        uint64_t h = w->split ? row.id.hash : account_hash(w, ev.account);   /* a split read hashed it */
        if ((status = defer_lookup(w, ev.account, h))) return status;
      } else if (!io_sorter_add(sorter, &ev, &err)) {
        return io_failure(w, &err);
      }
      continue;
    }
    /* Else each row's account now: a declared event is copied to the
       sorter while its slot is fetched, and taken back when its account is
       not run. */
    uint64_t h = account_hash(w, ev.account);
    bool staged = sorter && ev.type != IO_EV_UNDECLARED;
    if (staged) {
      if (w->cap) __builtin_prefetch(&w->slots[h & (w->cap - 1)]);
      if (!io_sorter_add(sorter, &ev, &err)) return io_failure(w, &err);
    }
    const worker_slot *slot;
    if ((status = take_row(w, ev.account, h, ev.time, ev.type, &slot))) return status;
    if (staged && !slot) io_sorter_drop_last(sorter);
    if (!slot || sorter) continue;
    vm_account *a = slot->account;
    int r = vm_push(w->vm, a, &ev);
    if (r == VM_UNSORTED) {
      *unsorted = true;
      return EXIT_OK;
    }
    if (r != VM_OK) held_error = true;
    else w->counts.evaluated++;
  }
}

/* Starts the worker over from the first row: a fresh VM, no accounts, no
 * counts (--rejects too, when it writes to it). */
static int worker_restart(run_worker *w, io_merge *m) {
  run_state *st = w->st;
  accounts_free(w);
  vm_runtime_free(w->vm);
  w->vm = vm_runtime_new(st->p, st->externs);
  vm_set_observer(w->vm, st->o->observer);
  vm_set_history(w->vm, st->o->history);
  memset(&w->counts, 0, sizeof w->counts);
  w->any_row = false;
  w->group.nrows = w->group.resolved = 0;
  w->group.limit = group_limit(w);
  w->group.used = 0;
  w->group.open = false;
  w->group.carry = false;
  w->nlookups = 0;
  if (st->rejects && !w->parallel) {   /* only a worker that runs alone writes to it */
    rewind(st->rejects);
    if (ftruncate(fileno(st->rejects), 0) != 0 || fputs("file,line,reason,row\n", st->rejects) < 0)
      return run_rejects_failed(st, errno);
  }
  int status = st->o->accounts ? load_accounts(w) : EXIT_OK;
  io_error err = {0};
  if (!status && !io_merge_rewind(m, &err)) status = io_failure(w, &err);
  return status;
}

/* Reads the events as if they were in time order (grouped or not) and
 * finishes the last instants; *unsorted when they are not. */
static int read_sorted(run_worker *w, io_merge *m, bool *unsorted) {
  int status = read_events(w, m, NULL, unsorted);
  if (!status && !*unsorted && !vm_flush(w->vm)) status = runtime_failure(w);
  return status;
}

/* The slow path: every row again from the first (m rewound; NULL: the
 * rows of an unordered split, for a new worker), through the sorter, and
 * the VM over the sorter's order.  The sorter gives an account's rows one
 * after another: the last row's account id (a copy) and slot serve the
 * rows after it. */
static int read_unsorted(run_worker *w, io_merge *m) {
  const run_options *o = w->st->o;
  io_error err = {0};
  bool unsorted = false;
  int status = m ? worker_restart(w, m) : EXIT_OK;   /* a split read's worker is new */
  io_sorter *sorter = NULL;
  if (!status) {
    size_t limit = o->sort_memory ? o->sort_memory : (size_t)512 << 20;
    sorter = io_sorter_new(&w->schema, limit / (size_t)w->count);
    status = read_events(w, m, sorter, &unsorted);
  }
  if (!status && !io_sorter_finish(sorter, &err)) status = io_failure(w, &err);
  const worker_slot *last = NULL;
  char *last_id = NULL;
  size_t last_len = 0, last_cap = 0;
  bool any = false;
  while (!status) {
    io_event ev;
    io_status s = io_sorter_next(sorter, &ev, &err);
    if (s == IO_EOF) break;
    if (s != IO_OK) {
      status = io_failure(w, &err);
      break;
    }
    if (!any || last_len != ev.account.len || !util_same_bytes(last_id, ev.account.p, last_len)) {
      uint64_t h = account_hash(w, ev.account);
      if (!w->deferring) last = accounts_get(w, ev.account, h);   /* made, and the row counted, when read */
      else if ((status = account_for(w, ev.account, h, &last))) break;
      util_xgrow(&last_id, &last_cap, ev.account.len + 1, 1, 64);
      memcpy(last_id, ev.account.p, ev.account.len);
      last_len = ev.account.len;
      any = true;
    }
    const worker_slot *slot = last;
    if (w->deferring) admit_row(w, ev.time, ev.type, &slot);
    if (slot) status = push(w, slot->account, &ev);
  }
  free(last_id);
  io_sorter_free(sorter);
  if (!status && !vm_flush(w->vm)) status = runtime_failure(w);
  return status;
}

/* Reads the worker's rows of a split file (split.c): time-sorted and
 * grouped, or any order through the sorter (an unordered split, whose
 * accounts are looked up once sorted), or the split is aborted and the
 * run starts over unsplit. */
static int run_split_events(run_worker *w) {
  if (split_unordered(w->split)) {
    w->deferring = true;
    int status = read_unsorted(w, NULL);
    w->deferring = false;
    return status == RUN_EAGER ? RUN_UNSPLIT : status;
  }
  bool unsorted = false;
  w->grouped = true;
  w->group.limit = group_limit(w);
  int status = read_sorted(w, NULL, &unsorted);
  return status == RUN_UNGROUPED || unsorted ? RUN_UNSPLIT : status;
}

static int run_events(run_worker *w) {
  if (w->split) return run_split_events(w);
  const run_options *o = w->st->o;
  io_error err = {0};
  io_merge *m = io_merge_open(&w->schema, o->events, o->nevents, o->input_format, &err);
  if (!m) return io_failure(w, &err);
  bool unsorted = false;
  w->grouped = true;
  int status = read_sorted(w, m, &unsorted);
  if (status == RUN_UNGROUPED) {
    w->grouped = false;
    status = worker_restart(w, m);
    if (!status) status = read_sorted(w, m, &unsorted);
  }
  if (!status && unsorted) {
    /* the slow path: start over from the first row, ordered by the sorter,
       looking accounts up once sorted; should anything fail, once more,
       looking each row's account up as it is read, so that the failure
       reported is the one file order meets first */
    w->grouped = false;
    w->deferring = true;
    status = read_unsorted(w, m);
    w->deferring = false;
    if (status == RUN_EAGER) status = read_unsorted(w, m);
  }
  io_merge_close(m);
  return status;
}

/* ---- the worker ------------------------------------------------------------------------------ */

/* Workers inside one process split accounts by the high half of SPEC 7's
 * hash; shards (--shard K/N) take pmod of the whole of it. */
static bool keeps(const void *ctx, value_str id) {
  const run_worker *w = ctx;
  const run_options *o = w->st->o;
  int64_t h = util_account_hash(id.p, id.len);
  if (o->nshards && run_shard_of(h, o->nshards) != o->shard) return false;
  return w->count == 1 || run_worker_of(h, w->count) == w->index;
}

void worker_init(run_worker *w, run_state *st, int index, int count) {
  *w = (run_worker){.st = st, .index = index, .count = count, .parallel = count > 1, .schema = st->schema};
  int most = 2;   /* a control event's two names */
  for (int e = 0; e < st->schema.nevents; e++)
    if (st->schema.events[e].nfields > most) most = st->schema.events[e].nfields;
  w->group.values = util_xalloc_lines((size_t)most * sizeof *w->group.values);   /* written for every row */
  w->group.limit = group_limit(w);
  if (count > 1 || st->o->nshards) {
    w->schema.keep = keeps;
    w->schema.keep_ctx = w;
  }
  w->skipped_latest = INT64_MIN;
  if (st->o->nshards && !st->o->has_as_of) w->schema.skipped_latest = &w->skipped_latest;
  w->vm = vm_runtime_new(st->p, st->externs);
  vm_set_observer(w->vm, st->o->observer);
  if (st->progress) {
    w->progress = &st->progress[index];
    progress_publish(w->progress, 0, 0);
  }
  vm_set_history(w->vm, st->o->history);
}

int worker_run(run_worker *w) {
  int status = w->st->o->accounts ? load_accounts(w) : EXIT_OK;
  if (!status) status = run_events(w);
  if (status && w->split) split_abort(w->split);   /* the others must not wait for this one */
  group_free(&w->group);   /* read: the rows' buffers are not needed again */
  if (w->progress) progress_publish(w->progress, w->counts.read, (int64_t)w->naccounts);
  return w->status = status;
}

void worker_free(run_worker *w) {
  accounts_free(w);
  group_free(&w->group);
  vm_runtime_free(w->vm);
  w->vm = NULL;
}
