/* run_internal.h — what run.c (the driver: outputs, --rejects, threads,
 * results) and worker.c (one worker's share of the accounts: reading,
 * the VM) share.  Private to src/cli/. */
#ifndef MSL_RUN_INTERNAL_H
#define MSL_RUN_INTERNAL_H

#include <stdio.h>

#include "cli/progress.h"
#include "cli/run.h"
#include "io/commit.h"
#include "io/history_out.h"
#include "io/report_by.h"
#include "vm/vm.h"

/* A worker's status when it met something a parallel run does not report
 * itself (a bad row, a runtime error, an I/O error): the run is done again
 * by one worker, which reports it exactly as a serial run does.
 * RUN_UNGROUPED: a runtime error while rows were applied by account; the
 * worker starts over feeding them in time order (worker.c).  RUN_EAGER:
 * anything that failed while unsorted input was sorted with its accounts
 * looked up afterwards; the worker starts over looking each row's account
 * up as it reads it, which meets first what file order meets first. */
enum { RUN_SERIAL = -1, RUN_UNGROUPED = -2, RUN_UNSPLIT = -3, RUN_EAGER = -4 };

/* split_next's statuses besides io_status's (split.c): the split read
 * was aborted (the workers start over, each reading the whole file:
 * RUN_UNSPLIT), or a range's rows are all taken. */
enum { SPLIT_ABORTED = -10, SPLIT_RANGE = -11 };

typedef struct run_split run_split;

typedef struct run_state {
  const bc_program *p;
  const run_options *o;
  native_fn *const *externs;
  io_schema schema;        /* the program's; workers copy it with their filter */
  io_event_schema *schema_events;
  io_field_schema *schema_fields;
  int lock_fd;             /* the lock on --out, or -1 */
  commit_set *commit;      /* the results' and --rejects' temporary files */
  out_writer *writer;
  report_by *by;           /* --report-by counts; NULL without */
  history_out *history;    /* --history's file; NULL without it */
  FILE *rejects;           /* a temporary file; NULL without --rejects */
  bool rejects_is_stream;  /* --rejects is a device or FIFO: copied there at the end */
  char *rejects_resolved;  /* the file a symbolic link --rejects names, or NULL */
  progress_counts *progress;     /* one per worker, or NULL without a progress line */
  char msg[1024];
} run_state;

/* ---- worker.c -------------------------------------------------------------------------- */

/* The worker (of n in this process) of an account whose SPEC 7 hash is h:
 * the high half scaled to [0, n) (docs/cli.md), other bits than the
 * shard's; by a multiply and a shift, not a division, which split.c's
 * parse waited on for every row. */
static inline int run_worker_of(int64_t h, int n) {
  return (int)((((uint64_t)h >> 32) * (uint32_t)n) >> 32);
}

/* Accounts by id: open addressing, at most half full, in huge pages
 * (util_huge_alloc).  A slot keeps the low half of the id's hash (its
 * place in any table up to 2^32 slots), its length and first bytes beside
 * the account, so finding an account costs one
 * cache miss for the slot and none for the account's id unless the id is
 * long. */
enum { WORKER_ID_HEAD = 12 };

typedef struct worker_slot {
  uint32_t tag;            /* the hash's low half */
  uint32_t ordinal;        /* the account's number in this worker, from 0 */
  vm_account *account;     /* NULL: empty */
  uint32_t len;
  char head[WORKER_ID_HEAD];
} worker_slot;

/* A time-ordered row kept in memory to be applied account by account:
 * in a group's own bytes (worker.c) or in a split read's box (split.c),
 * in one form, which worker_store_row writes: the account id, then, 8-byte
 * aligned at data, the values in 8 bytes each (worker.c row_value: a
 * string as its offset from data and its length), then the strings.  Until its account is
 * looked up (group_resolve) the row holds the low half of the id's hash
 * (all the account table uses) and its length, the id being at data -
 * worker_id_room(len); then the account.  A group's own rows keep no id
 * of LOOKUP_ID bytes or fewer: it waits among the group's pending ids,
 * read once, RESOLVE_AHEAD rows on, by the lookup. */
typedef struct worker_row {
  union {
    struct {
      uint32_t hash, len;
    } id;
    vm_account *account;   /* NULL: not for the VM */
  };
  const char *data;
  int64_t time;
  int32_t type;
  uint32_t ordinal;        /* its account's, once looked up */
} worker_row;

static inline size_t worker_id_room(size_t len) { return (len + 7) & ~(size_t)7; }

/* The bytes worker_store_row writes for ev: its id (with_id), values and
 * strings. */
size_t worker_row_size(const io_schema *schema, const io_event *ev, bool with_id);
/* Writes ev's id (with_id), values and strings at bytes (worker_row_size
 * of them, 8-byte aligned) and returns where its values begin
 * (worker_row.data). */
const char *worker_store_row(const io_schema *schema, const io_event *ev, bool with_id, char *bytes);

/* An id this long or shorter is copied inline where its lookup waits
 * (worker_group.pending, worker_lookup). */
enum { LOOKUP_ID = 52 };
/* Rows whose ids wait in a group: more than the RESOLVE_AHEAD rows
 * (worker.c) a lookup lags behind. */
enum { PENDING_IDS = 32 };

/* A split read's group holds rows of at most this many of its ranges
 * (split.c: RANGE_BYTES each): it is applied once the last of them is
 * taken, and split.c keeps that many ranges' boxes, and more, for the
 * ranges parsed ahead.  On the shared benchmark a range holds about 10k
 * declared rows, so at -j 2 a group holds 0.8 rows per account (-j 1's
 * groups of 2^18 rows hold 2.6).  16 ranges ran 10M events at -j 2 in
 * 1.13 s instead of 1.17 (alternating runs), but the ring of boxes grew
 * by 8 MiB of input, 2.6 times that once parsed: 15 MB more at that peak,
 * and a million rows of one instant (tests/e2e/vm_memory.sh) went past
 * their bound under AddressSanitizer. */
enum { GROUP_RANGES = 8 };

/* Rows of time-sorted input read ahead and applied account by account, so
 * an account's state is loaded once for all its rows of the group instead
 * of once per row (accounts are independent; each keeps its time order). */
typedef struct worker_group {
  worker_row *rows;        /* room for GROUP_ROWS (worker.c) */
  uint32_t nrows;
  uint32_t limit;          /* the rows it may hold (worker.c group_limit) */
  uint32_t resolved;       /* rows before it have their accounts (group_resolve) */
  char *bytes;             /* the rows' data, unless a split read's boxes hold it:
                              allocated whole, never moved while rows point into it */
  size_t used, bytes_cap;
  value_data *values;      /* a row's values as the VM reads them (the most any row has) */
  bool open;               /* a row was read since the last group was applied */
  uint64_t range;          /* a split read's: the range of its first row (split_range) */
  uint64_t *order;         /* the rows, account by account (group_order), and room to sort them */
  size_t order_cap;
  int64_t time;            /* the time of the last row */
  bool carry;              /* the last group was cut inside the instant at carry_time */
  int64_t carry_time;
  char pending[PENDING_IDS][LOOKUP_ID];   /* row r's id, if short, at [r % PENDING_IDS] until looked up */
} worker_group;

/* An undeclared row whose account is looked up a few rows after it was
 * read, once its slot, prefetched then, has arrived (worker.c
 * defer_lookup): such rows are only counted, and they are half of some
 * exports. */
enum { LOOKUP_AHEAD = 8 };

typedef struct worker_lookup {
  uint64_t hash;
  uint32_t len;
  char id[LOOKUP_ID];
} worker_lookup;

/* One worker: the accounts whose hash selects it (all of them when it runs
 * alone), with their own VM runtime.  Workers share only read-only data. */
typedef struct run_worker {
  _Alignas(64) run_state *st;   /* each worker on cache lines of its own (util_xalloc_lines) */
  int index, count;        /* this is worker index of count */
  bool parallel;           /* a failure is RUN_SERIAL, with nothing printed */
  bool deferring;          /* unsorted input's accounts are looked up once sorted:
                              a failure is RUN_EAGER, with nothing printed */
  io_schema schema;
  vm_runtime *vm;
  worker_slot *slots;
  size_t cap, naccounts;
  out_counts counts;       /* the rows of this worker's accounts */
  int64_t latest;          /* latest time of any of them, for the default as-of */
  bool any_row;
  int64_t skipped_latest;  /* --shard without --as-of: of the rows it skips too (INT64_MIN: none) */
  bool grouped;            /* time-sorted rows go through group */
  progress_counts *progress;   /* where it publishes its counts, or NULL */
  worker_group group;
  worker_lookup lookups[LOOKUP_AHEAD];   /* a ring: the oldest at lookup_next */
  uint32_t nlookups, lookup_next;
  run_split *split;        /* the file is parsed by every worker (split.c); NULL: read whole */
  int status;
} run_worker;

void worker_init(run_worker *w, run_state *st, int index, int count);
/* Loads --accounts and reads every events file: the worker's whole run up
 * to the results.  Sets and returns w->status. */
int worker_run(run_worker *w);
/* Releases the worker's accounts and runtime; its counts stay, and a
 * second call does nothing. */
void worker_free(run_worker *w);
/* Hands the account table's memory over (cap slots: run.c lists the
 * results in it); the caller frees the accounts (vm_account_free) and it
 * (util_huge_free).  naccounts stays. */
worker_slot *worker_take_table(run_worker *w, size_t *cap);

/* ---- split.c ------------------------------------------------------------------------------ */

/* A split read of the run's one events file by workers ws[0..n), or NULL
 * when it cannot be split (several files, standard input, an unreadable
 * file: the ordinary reading takes it).  unordered: the rows may come in
 * any time order (the owners sort them); else the split stops at the
 * first that goes back. */
run_split *split_open(const run_state *st, run_worker *ws, int n, bool unordered);
bool split_unordered(const run_split *s);
/* Whether the split stopped because time went back, and for no other
 * reason met first (call it once the workers are done). */
bool split_backwards(run_split *s);
/* Worker k's next row, in file order: IO_OK (*row: its time, type, data
 * and its id's hash and length; *id: the id; both valid until worker k
 * says, by split_keep, that its groups hold no row of that range),
 * SPLIT_RANGE once its rows of a range are all taken, IO_EOF, or
 * SPLIT_ABORTED.  It may parse ranges, or wait for others to. */
int split_next(run_split *s, int k, worker_row *row, value_str *id);
/* The range worker k is taking rows from (its last row's): ranges are
 * numbered from 0 in file order, the same for every worker. */
uint64_t split_range(const run_split *s, int k);
/* Worker k's groups hold no row of a range before first: their slots may
 * be parsed into again. */
void split_keep(run_split *s, int k, uint64_t first);
/* Stops the split for every worker: one that stops early calls it, so
 * that no other waits for it. */
void split_abort(run_split *s);
void split_free(run_split *s);

/* ---- run.c ------------------------------------------------------------------------------- */

/* Reports a failed write to --rejects; EXIT_IO. */
int run_rejects_failed(run_state *st, int err);

#endif
