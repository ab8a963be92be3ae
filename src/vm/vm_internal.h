/* vm_internal.h — what the VM's files share, private to src/vm/ (vm.c,
 * interp.c, agg.c, state.c): the per-account state and the runtime, and
 * the functions each file offers the others.  Users of the VM see vm.h.
 *
 * Three layers, one file each, under the public API (vm.c):
 *  1. the interpreter (interp.c): runs one block over registers;
 *  2. aggregate state (agg.c): counters, window rings, monotonic deques,
 *     distinct sets and sequences, updated by UPDATE / STEP and read by
 *     AGG / SEQ;
 *  3. the milestone machine (state.c): starts, entry, actions, completion,
 *     achievement, control events and playbooks, evaluated at every
 *     instant where a value can change (SPEC 6). */
#ifndef MSL_VM_INTERNAL_H
#define MSL_VM_INTERNAL_H

#include "core/util.h"
#include "vm/vm.h"

#define NO_TIME OUT_NO_TIME   /* the VM's "no time" is the outputs' empty cell */

static inline int64_t vm_sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

/* ---- aggregate state ------------------------------------------------------------------- */

/* An entry of a window: a time, and what the window's events at that
 * time make of it, so that a window holds one entry per time however many
 * rows share it.  A count's holds how many (v.i), a min/max deque's the
 * value (vm_point, 16 bytes); a sum's or an average's their sum and how
 * many (vm_entry, 24 bytes). */
typedef union vm_num {
  int64_t i;
  double f;
} vm_num;

typedef struct vm_point {
  int64_t time;
  vm_num v;
} vm_point;

typedef struct vm_entry {
  int64_t time;
  vm_num v;
  int64_t n;
} vm_entry;

/* A ring of entries of one kind (agg.c entry_size) in time order: windows
 * and monotonic deques.  cap is 0 or a power of two. */
typedef struct vm_ring {
  char *items;
  uint32_t head, len, cap;
} vm_ring;

/* A set of values: distinct counts.  A value is kept in 8 bytes (agg.c
 * key_of: a string as its interned copy's address).  Live values are in
 * order from the oldest last_time to the newest: a `within` window forgets
 * a value when its latest time leaves, so a windowed set is its own
 * window, with no entries beside it.  A set of at most 8 values (cap <= 8,
 * agg.c SET_SMALL) is an array of them in that order (vm_small_slot);
 * a larger one a hash table of vm_set_slot, its live slots linked in a
 * ring in that order: the oldest's older neighbour is the newest. */
#define SET_NONE UINT32_MAX

typedef struct vm_small_slot {
  int64_t key;
  int64_t last_time;
} vm_small_slot;

typedef struct vm_set_slot {
  int64_t key;
  int64_t last_time;       /* when the value was last added */
  uint32_t older;          /* the ring's older neighbour (the oldest's: the newest) */
  uint32_t link;           /* empty, tombstone, or live and its newer neighbour (agg.c) */
} vm_set_slot;

typedef struct vm_set {
  union {
    vm_set_slot *slots;    /* a hash table */
    vm_small_slot *items;  /* a small set: items[0 .. size), oldest first */
  };
  uint32_t cap, size, tombstones;
  uint32_t oldest;         /* a hash table's oldest value, while size > 0 */
} vm_set;

/* Int sums are kept exact, wider than the result: SPEC 6 makes a sum
 * overflow only when the events in scope at an instant where it is read do
 * not fit, whatever the order of rows (gcc and clang have __int128). */
typedef __int128 vm_wide;

/* An aggregate's state holds only what its kind needs (agg_state_size):
 * first its value's part -- a count (int64_t), a vm_sum, a vm_extreme, a
 * vm_set (distinct), or nothing (min/max within a window, whose deque is
 * the ring) -- then its window's part: the ring of a `within` window, the
 * start (int64_t) of a `since` one. */
typedef struct vm_sum {          /* sum, avg */
  union { vm_wide i; double f; } sum;
  int64_t count;
  bool dirty;                    /* float sums over a window are recomputed */
} vm_sum;

typedef struct vm_extreme {      /* min, max without a window */
  value_data v;
  bool has;
} vm_extreme;

/* A runtime error in a `where` filter does not stop the run where it
 * happens: it poisons what the filter feeds, and reading that aggregate or
 * sequence from a criterion that is evaluated raises it (SPEC 6). */
typedef struct vm_poison {
  char *what;              /* the error, owned; NULL: not poisoned */
  int64_t until;           /* aggregates: poisoned at instants before this
                              (the failing event's window expiry; INT64_MAX
                              when it never leaves the scope) */
} vm_poison;

/* A sequence's best[] and matched[] arrays are laid out after the
 * sequences (vm_seq_best, vm_seq_matched). */
typedef struct vm_seq {
  bool any_matched, done;
} vm_seq;

/* Where a runtime's account blocks and pools are carved (pool.c): regions
 * mapped in huge pages once they are large, which hold everything a
 * runtime keeps per account. */
typedef struct vm_source {
  struct source_region *regions;
  char *next;
  size_t left;
} vm_source;

/* n zeroed bytes, 16-byte aligned, which live until source_release. */
void *source_take(vm_source *s, size_t n);
/* As source_take, at least need bytes and at most want (*got of them): the
 * rest of the region being carved, if need fits there. */
void *source_take_some(vm_source *s, size_t need, size_t want, size_t *got);
/* Unmaps every region. */
void source_release(vm_source *s);

/* Blocks of 2^k elements of one size, for the window rings and the
 * distinct sets of every account (pool.c): what one account outgrows or
 * releases, another reuses. */
enum { VM_POOL_CLASSES = 16 };

typedef struct vm_pool {
  size_t elem;                   /* bytes of an element */
  void *free[VM_POOL_CLASSES];   /* free blocks of 2^k elements, linked through their first word */
  vm_source *source;             /* where chunks are carved, blocks from them */
  struct pool_big *big;          /* blocks too large to pool, from malloc */
  char *next;
  size_t left;
} vm_pool;

void pool_init(vm_pool *p, size_t elem, vm_source *source);
/* A zeroed block of 2^k elements. */
void *pool_alloc(vm_pool *p, unsigned k);
/* Gives back block b of 2^k elements (NULL: nothing). */
void pool_free(vm_pool *p, void *b, unsigned k);
/* Frees the blocks from malloc; the pooled ones go with their source. */
void pool_release(vm_pool *p);

/* ---- milestone and playbook state --------------------------------------------------------- */

/* What every milestone has; the times only some have are planned beside
 * (vm_ms_time), so that an account's block holds no time its milestones
 * never take: the shared benchmark's three milestones take 80 bytes. */
typedef struct vm_ms {
  int64_t start;           /* NO_TIME while unbounded */
  /* once-mode milestones complete, continuous ones achieve: never both */
  union {
    int64_t completed_at;
    int64_t achieved_at;
  };
  int32_t actions_done;
  bool applies : 1;
  bool started : 1;
  bool start_timer : 1;    /* `start at` (vm_ms_start_at) not yet reached */
  bool since_ready : 1;    /* since-start aggregates hold this start's events */
  bool entered : 1;
  bool completed : 1;      /* once: completed since the last reset */
  bool ever_completed : 1; /* the first completion ever, for `start after` */
  bool achieving : 1;      /* continuous */
  bool achieved : 1;       /* continuous: achieved since the last reset */
  bool blocked_by_control : 1;
  bool complete_pending : 1; /* an `ms.complete` at this instant, applied once the start is known */
  bool start_on_failed : 1;  /* a `start on` filter failed at this instant (see start_error) */
  bool blocked_at_end : 1;   /* `blocked when` at T, set by vm_finish */
} vm_ms;

_Static_assert(sizeof(vm_ms) == 24, "a milestone's state is three words");

/* Milestone m's times that only some milestones have, in this order: its
 * `start at` time, its `deadline at` time (computed once), when it was
 * last lost (continuous), when it was first completed or achieved (the
 * milestone a `start after` names), when its entry criterion held (one
 * without entry is entered at its start: vm_ms.start, which stays while
 * it is entered), then its actions' done times (NO_TIME: not done).
 * vm_layout.ms_time_at[m][kind] is where each kind it has begins among
 * them. */
typedef enum vm_ms_time {
  VM_MS_START_AT,
  VM_MS_DEADLINE_AT,
  VM_MS_LOST_AT,
  VM_MS_FIRST_DONE_AT,
  VM_MS_ENTERED_AT,
  VM_MS_DONE_AT,
  VM_MS_NTIMES
} vm_ms_time;

typedef struct vm_pb {
  int64_t start_at;
  int64_t step_entered_at;
  int64_t done_at;
  int64_t started_at;
  int32_t step;            /* current step; nsteps when done */
  int32_t pending_advances;
  bool applies : 1;
  bool started : 1;
  bool unbounded : 1;
  bool start_timer : 1;
  bool on_first_step : 1;  /* entered by the start, not moved since */
  bool done : 1;
  bool start_on_failed : 1; /* as for milestones */
} vm_pb;

/* The event being applied: an ordinary one borrows the reader's values for
 * the call; a control event names its target by the program's own name. */
typedef struct vm_event {
  int type;
  int64_t time;
  value_str milestone, playbook;
  const value_data *values;
} vm_event;

/* Control events of an account's current instant, one per kind and target:
 * they take effect together before the instant's criteria (SPEC 6). */
typedef struct vm_control {
  int type;                /* IO_EV_ASSIGN .. IO_EV_ADVANCE */
  bool playbook;
  uint32_t target;
  int64_t count;
} vm_control;

/* An account is one allocation, 16-byte aligned: the vm_account header,
 * then its state at these offsets, planned once per program, then its id
 * (at VM_HEADER_SIZE + vm_layout.size); what few accounts need hangs off
 * the header (vm_extra).  The aggregates' states come first, each after the one
 * before (agg_state_size, agg_state_align), then the account fields. */
typedef struct vm_agg_slot {
  uint32_t state;
  uint32_t window;         /* its window's part: state + agg_value_size */
  uint32_t shadow;         /* since-start: its shadow's state in vm_extra.shadow */
} vm_agg_slot;

typedef struct vm_layout {
  vm_agg_slot *agg;        /* [naggregates]: each aggregate's state */
  uint32_t *first_step;    /* [nsequences]: a sequence's first index in seq_best, seq_matched */
  uint32_t *first_time;    /* [nmilestones + 1]: a milestone's first index in ms_times */
  uint8_t (*ms_time_at)[VM_MS_NTIMES];   /* [nmilestones]: vm_ms_time's places from there */
  uint32_t *first_pb_step; /* [nplaybooks]: a playbook's first index in pb_steps */
  size_t shadow_size;      /* the since-start aggregates' shadows */
  size_t fields, seqs, seq_best, seq_matched, ms, ms_times, pb, pb_steps;
  size_t changed;          /* a bit per aggregate, then per sequence: its value changed at the open instant */
  size_t size;
} vm_layout;

/* What few accounts need, allocated on first use (vm_extra_of). */
typedef struct vm_extra {
  /* `where` failures: [naggregates + nsequences], aggregates' first */
  vm_poison *poison;
  /* since-start aggregates fed only the current instant's events, for a
   * milestone that (re)starts at it (their states at vm_agg_slot.shadow,
   * and their poison when the account has any), and the first runtime
   * error each milestone's shadow met (NULL: none) */
  char *shadow;
  vm_poison *shadow_poison;  /* [naggregates] */
  char **shadow_err;
  /* The first `start on` filter that failed at the current instant: it
   * fails the run only if no other event of the instant starts its target */
  char *start_error;
  /* the current instant's control events, applied when it is finished */
  vm_control *controls;
  uint32_t ncontrols, controls_cap;
  /* results */
  out_signal *signals;
  int nsignals, signals_cap;
  uint32_t signal_seq;
  /* --history (history.c): each milestone's, then each playbook's, last
   * recorded state, and the account's rows */
  struct vm_hist_item *hist_items;
  history_out_row *hist_rows;
  uint32_t nhist_rows, hist_rows_cap;
} vm_extra;

struct vm_account {
  /* What every event reads first.  It holds nothing every account of a
   * runtime shares (the runtime, the id's offset): those are the
   * caller's, and each of 100,000 accounts' blocks is 16 bytes smaller. */
  int64_t last_instant;
  int64_t timer;           /* cached next_timer: exact while timer_valid */
  int64_t expiry;          /* the earliest expiry of a window's front, quiet ones too: the
                              first instant agg_expire_windows has work; exact while timer_valid */
  int64_t first_row;
  vm_extra *extra;         /* NULL until needed */
  uint32_t id_len;
  bool queued;             /* on the runtime's list of accounts with an open instant */
  bool timer_valid;
  bool has_first_row;
  bool full_eval;          /* the open instant changed more than values (a start, a
                              control event, a `where` error): evaluate every milestone */
};

/* The state starts after the header, 16-byte aligned (for vm_wide). */
enum { VM_HEADER_SIZE = 48 };
_Static_assert(sizeof(vm_account) <= VM_HEADER_SIZE, "the account header fits its room");

static inline char *vm_state(const vm_account *a) { return (char *)a + VM_HEADER_SIZE; }

typedef struct vm_scratch {
  struct vm_scratch *older;  /* filled earlier in the same interp_exec */
  size_t size, used;
  char data[];
} vm_scratch;

/* Interned strings (intern.c): hash 0 is an empty slot; a slot with a
 * hash and no copy is a tombstone. */
typedef struct vm_istr vm_istr;
typedef struct vm_intern_slot {
  uint64_t hash;
  vm_istr *s;
} vm_intern_slot;

typedef struct vm_intern {
  vm_intern_slot *slots;
  uint32_t cap, size, tombstones;
} vm_intern;

struct vm_runtime {
  const bc_program *p;
  native_fn *const *externs;
  vm_layout layout;
  vm_source source;        /* the account blocks, and the pools' chunks */
  vm_intern intern;        /* the distinct sets' strings */
  vm_pool rings, points;   /* the windows' entries: vm_entry, vm_point */
  vm_pool sets, small_sets;   /* the distinct sets' slots */
  /* vm_finish's rows, reused from account to account */
  out_milestone_row *result_milestones;
  out_playbook_row *result_playbooks;
  int64_t ignored_control;
  /* The accounts with an open instant, all at `instant`: their ordinary
   * events are applied as they come, their control events wait until the
   * instant is finished (vm_flush). */
  int64_t instant;
  vm_account **queue;
  uint32_t nqueued, queue_cap;
  /* since-start aggregates by milestone: since_aggs[since_first[m] ..
   * since_first[m + 1]) */
  uint32_t *since_aggs, *since_first;
  /* Which milestones' criteria read each input (aggregate g, sequence
   * naggregates + i): a bit each in readers[i * due_words ..], so that an
   * instant evaluates only milestones whose inputs changed
   * (state_evaluate); due: those milestones at the instant at hand
   * (state_due); read_elsewhere: a bit per input, laid out as the
   * account's changed bits (changed_bytes of them), set when a block
   * outside the criteria reads it (a playbook step's condition, say). */
  uint64_t *readers, *due;
  uint32_t due_words, changed_bytes;
  uint8_t *read_elsewhere;
  /* Per milestone: whether an instant where only windows lost entries can
   * change it (vm.c expiry_can_change, which leaves out `blocked when`,
   * read only at T unless history is on); one it cannot change is not
   * evaluated there (state.c changes_matter). */
  bool *expiry_changes;
  /* Per aggregate: a `within` window whose expiries no evaluation can see
   * (vm.c plan_quiet: every milestone reading it is one an expiry cannot
   * change, and no other block reads it).  Its entries leave when an
   * instant comes anyway; its fronts make no instant of their own. */
  bool *quiet;
  /* The aggregates that the per-instant loops visit: those with a `within`
   * window (expiry, timers), and those a next event touches outside the
   * account's block (prefetch: rings and distinct sets). */
  uint32_t *windowed, nwindowed;
  uint32_t *outside, noutside;
  bool *segments;          /* the new account's, while vm_account_new decides what applies */
  vm_scratch *scratch;     /* strings returned by externs during one interp_exec */
  struct vm_compare *compares;   /* per block (interp_plan) */
  char ffi_args[4096];
  /* what is running, for runtime error messages */
  const vm_account *cur_account;
  const value_data *cur_event;
  int64_t cur_time;
  const char *cur_what;
  uint32_t cur_milestone;
  char error[1024];         /* the last runtime error (vm_error) */
  const vm_observer *observer;   /* NULL: none (vm_set_observer) */
  bool history;            /* record each account's history (vm_set_history) */
  bool start_ats;          /* a milestone or playbook starts `at` a time: timers to watch */
};

/* Evaluates criterion block b of milestone m (interp_eval_bool) and tells
 * the observer, if any, what it gave. */
bool state_eval_criterion(vm_runtime *rt, vm_account *a, uint32_t b, vm_criterion kind, uint32_t action,
                          uint32_t m, bool *out);

/* The parts of a's block, at the runtime's layout. */
static inline char *vm_id(const vm_runtime *rt, const vm_account *a) { return vm_state(a) + rt->layout.size; }
static inline value_data *vm_fields(const vm_runtime *rt, const vm_account *a) {
  return (value_data *)(vm_state(a) + rt->layout.fields);
}
static inline vm_ms *vm_ms_at(const vm_runtime *rt, const vm_account *a, uint32_t m) {
  return (vm_ms *)(vm_state(a) + rt->layout.ms) + m;
}
/* Whether milestone m has a time of this kind (before VM_MS_DONE_AT). */
static inline bool vm_ms_has_time(const vm_runtime *rt, uint32_t m, vm_ms_time kind) {
  return rt->layout.ms_time_at[m][kind + 1] > rt->layout.ms_time_at[m][kind];
}
/* Milestone m's time of one kind (vm_ms_time), which it must have. */
static inline int64_t *vm_ms_time_of(const vm_runtime *rt, const vm_account *a, uint32_t m, vm_ms_time kind) {
  return (int64_t *)(vm_state(a) + rt->layout.ms_times) + rt->layout.first_time[m] + rt->layout.ms_time_at[m][kind];
}
static inline int64_t *vm_ms_start_at(const vm_runtime *rt, const vm_account *a, uint32_t m) {
  return vm_ms_time_of(rt, a, m, VM_MS_START_AT);
}
static inline int64_t *vm_ms_deadline_at(const vm_runtime *rt, const vm_account *a, uint32_t m) {
  return vm_ms_time_of(rt, a, m, VM_MS_DEADLINE_AT);
}
static inline int64_t *vm_ms_lost_at(const vm_runtime *rt, const vm_account *a, uint32_t m) {
  return vm_ms_time_of(rt, a, m, VM_MS_LOST_AT);
}
static inline int64_t *vm_ms_first_done_at(const vm_runtime *rt, const vm_account *a, uint32_t m) {
  return vm_ms_time_of(rt, a, m, VM_MS_FIRST_DONE_AT);
}
static inline int64_t *vm_ms_entered_at(const vm_runtime *rt, const vm_account *a, uint32_t m) {
  return vm_ms_time_of(rt, a, m, VM_MS_ENTERED_AT);
}
static inline int64_t *vm_ms_done_at(const vm_runtime *rt, const vm_account *a, uint32_t m) {
  return vm_ms_time_of(rt, a, m, VM_MS_DONE_AT);
}
static inline vm_pb *vm_pb_at(const vm_runtime *rt, const vm_account *a, uint32_t i) {
  return (vm_pb *)(vm_state(a) + rt->layout.pb) + i;
}
/* Whether each step of playbook i applies to the account (its `when`). */
static inline uint8_t *vm_pb_step_applies(const vm_runtime *rt, const vm_account *a, uint32_t i) {
  return (uint8_t *)(vm_state(a) + rt->layout.pb_steps) + rt->layout.first_pb_step[i];
}
static inline vm_seq *vm_seq_at(const vm_runtime *rt, const vm_account *a, uint32_t i) {
  return (vm_seq *)(vm_state(a) + rt->layout.seqs) + i;
}
/* best[k]: the latest first time of a chain of sequence i through step k. */
static inline int64_t *vm_seq_best(const vm_runtime *rt, const vm_account *a, uint32_t i) {
  return (int64_t *)(vm_state(a) + rt->layout.seq_best) + rt->layout.first_step[i];
}
/* The steps of sequence i matched at the current instant. */
static inline uint8_t *vm_seq_matched(const vm_runtime *rt, const vm_account *a, uint32_t i) {
  return (uint8_t *)(vm_state(a) + rt->layout.seq_matched) + rt->layout.first_step[i];
}
static inline void *agg_state(const vm_runtime *rt, const vm_account *a, uint32_t g) {
  return vm_state(a) + rt->layout.agg[g].state;
}
/* The window's part of g's state: a vm_ring (`within`) or an int64_t (`since`). */
static inline void *agg_window(const vm_runtime *rt, const vm_account *a, uint32_t g) {
  return vm_state(a) + rt->layout.agg[g].window;
}
/* The poison of aggregate i, or of sequence i - naggregates; NULL when
 * the account has none. */
static inline const vm_poison *vm_poison_of(const vm_account *a, uint32_t i) {
  return a->extra && a->extra->poison && a->extra->poison[i].what ? &a->extra->poison[i] : NULL;
}

/* Marks aggregate g (or sequence naggregates + i) as changed at a's open
 * instant. */
static inline void vm_mark_changed(const vm_runtime *rt, vm_account *a, uint32_t i) {
  uint8_t *bits = (uint8_t *)(vm_state(a) + rt->layout.changed);
  bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* ---- vm.c: runtime errors, an account's rare parts ------------------------------------------------ */

/* A time for a message; NO_TIME is shown as "-". buf: 40 bytes. */
void vm_fmt_time(int64_t t, char *buf);
/* Formats runtime error `what` at what rt is running into rt->error; false. */
bool vm_fail(vm_runtime *rt, const char *what);
/* a's extra parts, allocated (zeroed) on first use. */
vm_extra *vm_extra_of(vm_account *a);
/* The poison of aggregate i, or of sequence i - naggregates, allocated on
 * first use. */
vm_poison *vm_poison_at(const vm_runtime *rt, vm_account *a, uint32_t i);

/* ---- interp.c: the interpreter ------------------------------------------------------------ */

/* A value block that only compares an aggregate with an int constant, as
 * the compiler writes `count(x) >= 5` (AGG, LOADK, LTI/LEI/EQI/NEI, RET,
 * the first two in either order): interp_eval_bool reads the aggregate
 * and compares, without setting up the interpreter -- most criteria are
 * such blocks, evaluated at most instants. */
typedef struct vm_compare {
  uint32_t agg;            /* BC_NONE: the block is not one */
  uint8_t op;              /* BC_LTI, BC_LEI, BC_EQI or BC_NEI */
  bool agg_first;          /* `agg op k`; else `k op agg` */
  int64_t k;
} vm_compare;

/* rt->compares: each block's vm_compare (freed with the runtime). */
void interp_plan(vm_runtime *rt);

/* Runs block b; value blocks leave their result in *result.  ev: the event
 * being applied (update blocks). */
bool interp_exec(vm_runtime *rt, vm_account *a, uint32_t b, const vm_event *ev, value_data *result);
/* Evaluates a value block to a bool / time for the milestone machine. */
bool interp_eval_bool(vm_runtime *rt, vm_account *a, uint32_t b, const char *what, uint32_t m,
                      bool *out);
bool interp_eval_time(vm_runtime *rt, vm_account *a, uint32_t b, const char *what, uint32_t m,
                      int64_t *out);
/* Frees every scratch block but the newest (after the last interp_exec). */
void interp_scratch_reset(vm_runtime *rt);
bool interp_value_eq(value_type t, value_data a, value_data b);

/* ---- agg.c: aggregates, sequences and since-start shadows ------------------------------------ */

bool agg_value(vm_runtime *rt, vm_account *a, uint32_t g, value_data *out);
void agg_update(vm_runtime *rt, vm_account *a, uint32_t g, const vm_event *ev, value_data v);
/* Poisons z with error `why` of a `where` filter on the event at event_time. */
void agg_poison(vm_poison *z, const char *why, int64_t event_time, int64_t until);
/* Drops window entries that have left (t - D, t], marking their
 * aggregates changed (vm_mark_changed); says whether any left. */
bool agg_expire_windows(vm_runtime *rt, vm_account *a, int64_t t);
/* The earliest expiry of a window's front but quiet ones (rt->quiet), and
 * in *all of any window's; INT64_MAX when none is due. */
int64_t agg_next_expiry(const vm_runtime *rt, const vm_account *a, int64_t *all);
/* The size and alignment of d's state, and of its value's part, which its
 * window's part follows, for the layout. */
/* ---- intern.c: the distinct sets' strings ------------------------------------------------------ */

/* The interned copy of s (hash h: value_hash's), or NULL when none. */
const char *intern_find(const vm_intern *t, value_str s, uint64_t h);
/* A reference to s's interned copy, made when new. */
value_str intern_take(vm_intern *t, value_str s, uint64_t h);
/* An interned copy, with its length. */
value_str intern_str(const char *copy);
/* Drops a reference to an interned copy; the last one frees it. */
void intern_drop(vm_intern *t, value_str s, uint64_t h);
void intern_free(vm_intern *t);

void agg_prefetch(const vm_runtime *rt, const vm_account *a);
size_t agg_state_size(const bc_aggregate *d);
size_t agg_value_size(const bc_aggregate *d);
size_t agg_state_align(const bc_aggregate *d);
/* The start of a `since` window (BC_WIN_SINCE), in its state. */
int64_t *agg_since(const vm_runtime *rt, const vm_account *a, uint32_t g);
/* Empties aggregate state s of d, its blocks back to rt's pools. */
void agg_reset(vm_runtime *rt, const bc_aggregate *d, void *s);
/* Restarts m's since-start aggregates empty, or, from_shadow, with what
 * their shadows made of the current instant's events. */
void agg_since_restart(vm_runtime *rt, vm_account *a, uint32_t m, bool from_shadow);
/* Extends the sequences with the steps matched at instant t. */
void agg_seq_settle(vm_runtime *rt, vm_account *a, int64_t t);
void agg_shadow_clear(vm_runtime *rt, vm_account *a);
void agg_shadow_feed(vm_runtime *rt, vm_account *a, uint32_t m, uint32_t b, const vm_event *ev);

/* ---- state.c: the milestone and playbook machine ---------------------------------------------- */

bool state_ms_completed(const vm_runtime *rt, const vm_account *a, uint32_t m);
/* The deadline of m's current start epoch; NO_TIME when it has none. */
int64_t state_ms_deadline(const vm_runtime *rt, const vm_account *a, uint32_t m);
/* Whether m's status needs `blocked when` now (SPEC 6 Edge rules: an
 * applicable, started, not completed once-mode milestone or a started
 * continuous one that has the clause). */
bool state_ms_needs_blocked(const vm_runtime *rt, const vm_account *a, uint32_t m);
/* m's status in SPEC 6's table at as_of, the account evaluated up to it;
 * blocked_when: what `blocked when` gives there (false where it is not
 * needed). */
out_status state_ms_status(const vm_runtime *rt, const vm_account *a, uint32_t m, int64_t as_of, bool blocked_when);
/* The overdue signals of every milestone's current start epoch, once the
 * account is evaluated up to T = as_of (vm_finish). */
void state_finish_overdue(vm_runtime *rt, vm_account *a, int64_t as_of);
void state_start_playbook(vm_runtime *rt, vm_account *a, uint32_t pi, int64_t t, bool unbounded);
/* Evaluates a's milestones and playbooks at t; selective: only the
 * milestones whose inputs changed at the instant (see state.c). */
bool state_evaluate(vm_runtime *rt, vm_account *a, int64_t t, bool selective);
bool state_run_timers(vm_runtime *rt, vm_account *a, int64_t until, bool inclusive);
bool state_begin_instant(vm_runtime *rt, vm_account *a, int64_t t);
bool state_apply_event(vm_runtime *rt, vm_account *a, const io_event *in);
void state_queue_control(vm_runtime *rt, vm_account *a, const io_event *in);
bool state_finish_instant(vm_runtime *rt, vm_account *a);

/* ---- history.c: --history ------------------------------------------------------------------ */

/* Records what changed for a at instant t (end of state_evaluate): each
 * milestone's status and each playbook's step, as an as-of-t run reports
 * them, and the overdue changes that time brought since the last instant. */
void history_record(vm_runtime *rt, vm_account *a, int64_t t);
/* a's rows, in time then declaration order, one per item and instant
 * (vm_finish, once the account is evaluated up to T); returns how many. */
int history_finish(vm_account *a, const history_out_row **rows);
/* Releases what x holds for the history. */
void history_free(vm_extra *x);

#endif
