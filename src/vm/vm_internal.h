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

#define NO_TIME INT64_MIN

static inline int64_t vm_sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

/* ---- aggregate state ------------------------------------------------------------------- */

/* A value in a window: its time and the value.  Events at one time share
 * an entry: n of them, v their sum (count, sum, avg), so a window holds one
 * entry per time, however many rows share it.  A distinct window's entry
 * holds its distinct set's copy of the value (a string is stored once, by
 * the set) and the value's hash, so expiry finds the slot without hashing. */
typedef struct vm_entry {
  int64_t time;
  value_data v;
  union {
    int64_t n;
    uint64_t hash;         /* distinct */
  };
} vm_entry;

/* A ring of entries in time order: windows and monotonic deques. */
typedef struct vm_ring {
  vm_entry *items;
  uint32_t head, len, cap;
} vm_ring;

static inline vm_entry *vm_ring_at(vm_ring *r, uint32_t i) { return &r->items[(r->head + i) % r->cap]; }

/* A hash multiset of values: distinct counts (with the number of window
 * entries holding each value, so expiry knows when a value leaves). */
typedef struct vm_set_slot {
  uint64_t hash;
  value_data key;       /* strings: owned copy */
  uint32_t refs;      /* 0: empty slot */
  int64_t last_time;  /* when the value was last added */
} vm_set_slot;

typedef struct vm_set {
  vm_set_slot *slots;
  uint32_t cap, size, tombstones;
} vm_set;

/* Int sums are kept exact, wider than the result: SPEC 6 makes a sum
 * overflow only when the events in scope at an instant where it is read do
 * not fit, whatever the order of rows (gcc and clang have __int128). */
typedef __int128 vm_wide;

/* A runtime error in a `where` filter does not stop the run where it
 * happens: it poisons what the filter feeds, and reading that aggregate or
 * sequence from a criterion that is evaluated raises it (SPEC 6). */
typedef struct vm_poison {
  char *what;              /* the error, owned; NULL: not poisoned */
  int64_t until;           /* aggregates: poisoned at instants before this
                              (the failing event's window expiry; INT64_MAX
                              when it never leaves the scope) */
} vm_poison;

typedef struct vm_agg {
  int64_t count;
  union { vm_wide i; double f; } sum;
  value_data extreme;        /* min/max without a window */
  bool has_extreme;
  bool sum_dirty;          /* float sums over a window are recomputed */
  int64_t since_time;      /* BC_WIN_SINCE: the window's start */
  vm_ring ring;            /* within: entries in the window; min/max: a monotonic deque */
  vm_set set;              /* distinct */
  vm_poison poison;
} vm_agg;

typedef struct vm_seq {
  int64_t *best;           /* best[k]: latest first time of a chain through step k */
  uint8_t *matched;        /* steps matched at the current instant */
  bool any_matched, done;
  vm_poison poison;        /* a step's `where` failed (events never leave a sequence's scope) */
} vm_seq;

/* ---- milestone and playbook state --------------------------------------------------------- */

typedef struct vm_ms {
  bool applies;
  bool started;
  int64_t start;           /* NO_TIME while unbounded */
  bool start_timer;        /* `start at` not yet reached */
  int64_t start_at;
  int64_t deadline_at;     /* `deadline at`: computed once */
  bool since_ready;        /* since-start aggregates hold this start's events */
  bool entered;
  int64_t entered_at;      /* NO_TIME: entered with an unbounded start, no entry */
  int32_t actions_done;
  int64_t *action_done_at; /* NO_TIME: not done */
  bool completed;          /* once: completed since the last reset */
  int64_t completed_at;
  bool ever_completed;     /* the first completion ever, for `start after` */
  int64_t first_completed_at;
  bool achieving;          /* continuous */
  bool achieved;           /* continuous: achieved since the last reset */
  int64_t achieved_at, lost_at;
  bool blocked_by_control;
  bool complete_pending;   /* an `ms.complete` at this instant, applied once the start is known */
  bool start_on_failed;    /* a `start on` filter failed at this instant (see start_errors) */
} vm_ms;

typedef struct vm_pb {
  bool applies;
  bool started;
  bool unbounded;
  bool start_timer;
  int64_t start_at;
  uint8_t *step_applies;
  int32_t step;            /* current step; nsteps when done */
  bool on_first_step;      /* entered by the start, not moved since */
  int64_t step_entered_at;
  bool done;
  int64_t done_at;
  int32_t pending_advances;
  int64_t started_at;
  bool start_on_failed;    /* as for milestones */
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

/* An account's state is one block, cache-line aligned, laid out once per
 * program and carved from the runtime's slabs: the vm_account header, the id bytes (compared on every
 * lookup), then each array below at these offsets.  No part is allocated
 * or freed alone. */
typedef struct vm_layout {
  size_t fields, segments, aggs, seqs, seq_best, seq_matched, ms, ms_done, pb, pb_steps;
  size_t size;             /* without the id */
} vm_layout;

struct vm_account {
  /* What every event reads first, in the block's first cache line. */
  const bc_program *p;
  vm_agg *aggs;
  vm_ms *ms;
  int64_t last_instant;
  /* The current instant: its ordinary events are applied as they come,
   * its control events wait in `controls` until the instant is finished. */
  int64_t batch_time;
  int64_t timer;           /* cached next_timer: exact while timer_valid */
  vm_account *next_queued;
  uint32_t id_len;
  bool queued;             /* on the runtime's list of accounts with an open instant */
  bool timer_valid;
  bool has_first_row;
  bool compacted;          /* vm_account_compact released what the parts own */
  /* the rest */
  char *id;
  value_data *fields;
  bool *segments;
  vm_seq *seqs;
  vm_pb *pb;
  int64_t first_row;
  vm_control *controls;
  uint32_t ncontrols, controls_cap;
  /* since-start aggregates fed only the current instant's events, for a
   * milestone that (re)starts at it (shadow[g] for such a g), and the first
   * runtime error each milestone's shadow met (NULL: none) */
  vm_agg *shadow;
  char **shadow_err;
  /* The first `start on` filter that failed at the current instant: it
   * fails the run only if no other event of the instant starts its target */
  char *start_error;
  /* results */
  out_signal *signals;
  int nsignals, signals_cap;
  uint32_t signal_seq;
};

typedef struct vm_slab {
  struct vm_slab *older;
} vm_slab;

typedef struct vm_scratch {
  struct vm_scratch *older;  /* filled earlier in the same interp_exec */
  size_t size, used;
  char data[];
} vm_scratch;

struct vm_runtime {
  const bc_program *p;
  native_fn *const *externs;
  vm_layout layout;
  vm_slab *slabs;          /* the account blocks (slab_alloc in vm.c) */
  char *slab_next;
  size_t slab_left;
  /* vm_finish's rows, reused from account to account */
  out_milestone_row *result_milestones;
  out_playbook_row *result_playbooks;
  int64_t ignored_control;
  int64_t instant;          /* the time of the queued accounts' open instant */
  /* since-start aggregates by milestone: since_aggs[since_first[m] ..
   * since_first[m + 1]) */
  uint32_t *since_aggs, *since_first;
  vm_account *queued;
  vm_scratch *scratch;     /* strings returned by externs during one interp_exec */
  char ffi_args[4096];
  /* what is running, for runtime error messages */
  const vm_account *cur_account;
  const value_data *cur_event;
  int64_t cur_time;
  const char *cur_what;
  uint32_t cur_milestone;
  char error[1024];         /* the last runtime error (vm_error) */
};

/* ---- vm.c: runtime errors ------------------------------------------------ */

/* A time for a message; NO_TIME is shown as "-". buf: 40 bytes. */
void vm_fmt_time(int64_t t, char *buf);
/* Formats runtime error `what` at what rt is running into rt->error; false. */
bool vm_fail(vm_runtime *rt, const char *what);

/* ---- interp.c: the interpreter ------------------------------------------------------------ */

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
/* Strings are copied (owned by the copy) and freed; other values are plain. */
value_data interp_value_copy(value_type t, value_data v);
void interp_value_free(value_type t, value_data v);

/* ---- agg.c: aggregates, sequences and since-start shadows ------------------------------------ */

bool agg_value(vm_runtime *rt, vm_account *a, uint32_t g, value_data *out);
void agg_update(vm_runtime *rt, vm_account *a, uint32_t g, const vm_event *ev, value_data v);
/* Poisons z with error `why` of a `where` filter on the event at event_time. */
void agg_poison(vm_poison *z, const char *why, int64_t event_time, int64_t until);
void agg_expire_windows(vm_runtime *rt, vm_account *a, int64_t t);
void agg_reset(const bc_aggregate *d, vm_agg *s);
/* Extends the sequences with the steps matched at instant t. */
void agg_seq_settle(vm_runtime *rt, vm_account *a, int64_t t);
void agg_shadow_clear(vm_runtime *rt, vm_account *a);
void agg_shadow_feed(vm_runtime *rt, vm_account *a, uint32_t m, uint32_t b, const vm_event *ev);

/* ---- state.c: the milestone and playbook machine ---------------------------------------------- */

bool state_ms_completed(const vm_account *a, const bc_program *p, uint32_t m);
void state_start_playbook(vm_runtime *rt, vm_account *a, uint32_t pi, int64_t t, bool unbounded);
bool state_evaluate(vm_runtime *rt, vm_account *a, int64_t t);
bool state_run_timers(vm_runtime *rt, vm_account *a, int64_t until, bool inclusive);
bool state_begin_instant(vm_runtime *rt, vm_account *a, int64_t t);
bool state_apply_event(vm_runtime *rt, vm_account *a, const io_event *in);
void state_queue_control(vm_runtime *rt, vm_account *a, const io_event *in);
bool state_finish_instant(vm_runtime *rt, vm_account *a);

#endif
