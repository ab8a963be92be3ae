/* vm.c — the MSL virtual machine (prefix vm_); see vm.h and docs/bytecode.md.
 *
 * Three layers:
 *  1. the interpreter (vm_exec): runs one block over registers;
 *  2. aggregate state: counters, window rings, monotonic deques and
 *     distinct sets, updated by UPDATE and read by AGG;
 *  3. the milestone machine: starts, entry, actions, completion,
 *     achievement, control events and playbooks, evaluated at every
 *     instant where a value can change (SPEC 6). */
#include "vm/vm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ----------------------------------------------------------------- */

static void *vm_alloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) {
    fputs("msl: out of memory\n", stderr);
    exit(4);
  }
  return p;
}

static void *vm_grow(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fputs("msl: out of memory\n", stderr);
    exit(4);
  }
  return q;
}

static int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

#define NO_TIME INT64_MIN

/* ---- aggregate state ------------------------------------------------------------------- */

/* A value in a window or set: its time, and the value (strings owned).
 * Events at one time share an entry: n of them, v their sum (count, sum,
 * avg), so a window holds one entry per time, however many rows share it. */
typedef struct vm_entry {
  int64_t time;
  io_value v;
  int64_t n;
} vm_entry;

/* A ring of entries in time order: windows and monotonic deques. */
typedef struct vm_ring {
  vm_entry *items;
  uint32_t head, len, cap;
} vm_ring;

static vm_entry *ring_at(vm_ring *r, uint32_t i) { return &r->items[(r->head + i) % r->cap]; }

static void ring_push(vm_ring *r, vm_entry e) {
  if (r->len == r->cap) {
    uint32_t cap = r->cap ? r->cap * 2 : 4;
    vm_entry *items = vm_alloc(sizeof *items * cap);
    for (uint32_t i = 0; i < r->len; i++) items[i] = *ring_at(r, i);
    free(r->items);
    r->items = items;
    r->head = 0;
    r->cap = cap;
  }
  r->items[(r->head + r->len) % r->cap] = e;
  r->len++;
}

static vm_entry ring_pop_front(vm_ring *r) {
  vm_entry e = r->items[r->head];
  r->head = (r->head + 1) % r->cap;
  r->len--;
  return e;
}

static vm_entry ring_pop_back(vm_ring *r) {
  r->len--;
  return *ring_at(r, r->len);
}

/* A hash multiset of values: distinct counts (with the number of window
 * entries holding each value, so expiry knows when a value leaves). */
typedef struct vm_set_slot {
  uint64_t hash;
  io_value key;       /* strings: owned copy */
  uint32_t refs;      /* 0: empty slot */
  int64_t last_time;  /* when the value was last added */
} vm_set_slot;

typedef struct vm_set {
  vm_set_slot *slots;
  uint32_t cap, size, tombstones;
} vm_set;

static uint64_t hash_bytes(const void *p, size_t n) {
  const unsigned char *s = p;
  uint64_t h = 1469598103934665603ull;   /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
  return h | 1;                          /* 0 never a live hash */
}

static uint64_t value_hash(io_type t, io_value v) {
  if (t == IO_STRING) return hash_bytes(v.s.p, v.s.len);
  if (t == IO_FLOAT && v.f == 0) v.f = 0;  /* -0.0 and 0.0 are one value */
  if (t == IO_BOOL) return v.b ? 3 : 5;
  return hash_bytes(&v.i, sizeof v.i);
}

static bool value_eq(io_type t, io_value a, io_value b) {
  switch (t) {
    case IO_STRING: return a.s.len == b.s.len && memcmp(a.s.p, b.s.p, a.s.len) == 0;
    case IO_FLOAT: return a.f == b.f;
    case IO_BOOL: return a.b == b.b;
    default: return a.i == b.i;
  }
}

static io_value value_copy(io_type t, io_value v) {
  if (t == IO_STRING) {
    char *p = vm_alloc(v.s.len + 1);
    memcpy(p, v.s.p, v.s.len);
    v.s.p = p;
  }
  return v;
}

static void value_free(io_type t, io_value v) {
  if (t == IO_STRING) free((char *)v.s.p);
}

static vm_set_slot *set_find(vm_set *s, io_type t, io_value key, uint64_t h) {
  if (!s->cap) return NULL;
  uint32_t mask = s->cap - 1, i = (uint32_t)h & mask;
  for (;;) {
    vm_set_slot *sl = &s->slots[i];
    if (sl->hash == 0) return NULL;
    if (sl->refs && sl->hash == h && value_eq(t, sl->key, key)) return sl;
    i = (i + 1) & mask;
  }
}

static void set_rehash(vm_set *s, io_type t, uint32_t cap) {
  vm_set_slot *old = s->slots;
  uint32_t oldcap = s->cap;
  s->slots = vm_alloc(sizeof *s->slots * cap);
  s->cap = cap;
  s->tombstones = 0;
  for (uint32_t i = 0; i < oldcap; i++) {
    if (!old[i].refs) continue;
    uint32_t j = (uint32_t)old[i].hash & (cap - 1);
    while (s->slots[j].hash) j = (j + 1) & (cap - 1);
    s->slots[j] = old[i];
  }
  (void)t;
  free(old);
}

/* Adds key at time; false when it was already added at that time (a window
 * then needs no second entry for it). */
static bool set_add(vm_set *s, io_type t, io_value key, int64_t time) {
  uint64_t h = value_hash(t, key);
  vm_set_slot *sl = set_find(s, t, key, h);
  if (sl) {
    if (sl->last_time == time) return false;
    sl->last_time = time;
    sl->refs++;
    return true;
  }
  if ((s->size + s->tombstones + 1) * 4 >= s->cap * 3)
    set_rehash(s, t, s->cap ? (s->size * 4 >= s->cap ? s->cap * 2 : s->cap) : 8);
  uint32_t i = (uint32_t)h & (s->cap - 1);
  while (s->slots[i].refs) i = (i + 1) & (s->cap - 1);
  if (s->slots[i].hash) s->tombstones--;   /* reuse a tombstone */
  s->slots[i] = (vm_set_slot){.hash = h, .key = value_copy(t, key), .refs = 1, .last_time = time};
  s->size++;
  return true;
}

static void set_release(vm_set *s, io_type t, io_value key) {
  vm_set_slot *sl = set_find(s, t, key, value_hash(t, key));
  if (!sl || --sl->refs) return;
  value_free(t, sl->key);
  sl->key = (io_value){0};
  s->size--;
  s->tombstones++;            /* hash stays non-zero: probing goes on past it */
}

static void set_clear(vm_set *s, io_type t) {
  for (uint32_t i = 0; i < s->cap; i++)
    if (s->slots[i].refs) value_free(t, s->slots[i].key);
  free(s->slots);
  memset(s, 0, sizeof *s);
}

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
  io_value extreme;        /* min/max without a window */
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
  io_str milestone, playbook;
  const io_value *values;
} vm_event;

/* Control events of an account's current instant, one per kind and target:
 * they take effect together before the instant's criteria (SPEC 6). */
typedef struct vm_control {
  int type;                /* IO_EV_ASSIGN .. IO_EV_ADVANCE */
  bool playbook;
  uint32_t target;
  int64_t count;
} vm_control;

struct vm_account {
  const bc_program *p;
  char *id;
  uint32_t id_len;
  io_value *fields;
  bool *segments;
  vm_agg *aggs;
  vm_seq *seqs;
  vm_ms *ms;
  vm_pb *pb;
  bool has_first_row;
  int64_t first_row;
  int64_t last_instant;
  int64_t timer;           /* cached next_timer: exact while timer_valid */
  bool timer_valid;
  /* The current instant: its ordinary events are applied as they come,
   * its control events wait in `controls` until the instant is finished. */
  int64_t batch_time;
  bool queued;             /* on the runtime's list of accounts with an open instant */
  vm_account *next_queued;
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
  res_signal *signals;
  int nsignals, signals_cap;
  uint32_t signal_seq;
  vm_results results;
};

typedef struct vm_scratch {
  struct vm_scratch *older;  /* filled earlier in the same vm_exec */
  size_t size, used;
  char data[];
} vm_scratch;

struct vm_runtime {
  const bc_program *p;
  ffi_fn *const *externs;
  int64_t ignored_control;
  int64_t instant;          /* the time of the queued accounts' open instant */
  /* since-start aggregates by milestone: since_aggs[since_first[m] ..
   * since_first[m + 1]) */
  uint32_t *since_aggs, *since_first;
  vm_account *queued;
  vm_scratch *scratch;     /* strings returned by externs during one vm_exec */
  char ffi_args[4096];
  /* what is running, for runtime error messages */
  const vm_account *cur_account;
  const io_value *cur_event;
  int64_t cur_time;
  const char *cur_what;
  uint32_t cur_milestone;
};

/* Strings an extern returns live in scratch blocks until the next vm_exec
 * starts: registers point into them, so a full block is never moved or
 * freed mid-run; a fresh, larger one is chained in front of it instead. */
static char *scratch_alloc(void *ctx, size_t len) {
  vm_runtime *rt = ctx;
  vm_scratch *cur = rt->scratch;
  if (cur->size - cur->used < len) {
    size_t size = cur->size * 2 > len ? cur->size * 2 : len;
    vm_scratch *nb = malloc(sizeof *nb + size);
    if (!nb) return NULL;
    nb->older = cur;
    nb->size = size;
    nb->used = 0;
    rt->scratch = cur = nb;
  }
  char *p = cur->data + cur->used;
  cur->used += len;
  return p;
}

/* Ends the previous vm_exec's strings: keeps only the newest (largest) block. */
static void scratch_reset(vm_runtime *rt) {
  vm_scratch *old = rt->scratch->older;
  while (old) {
    vm_scratch *next = old->older;
    free(old);
    old = next;
  }
  rt->scratch->older = NULL;
  rt->scratch->used = 0;
}

/* ---- runtime errors ----------------------------------------------------------------------- */

static void fmt_time(int64_t t, char *buf) {
  if (t == NO_TIME) strcpy(buf, "-");
  else io_format_time(t, buf);
}

/* An account id for a message: ids are bytes of known length, and a NUL or
 * another control byte in one is shown as \xNN, not cut or sent raw. */
static const char *shown_id(const vm_account *a, char *buf, size_t cap) {
  static const char hex[] = "0123456789abcdef";
  if (!a) return "?";
  size_t o = 0;
  for (uint32_t i = 0; i < a->id_len; i++) {
    if (o + 8 > cap) {   /* room for an escape, "..." and the NUL */
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    unsigned char c = (unsigned char)a->id[i];
    if (c < 0x20 || c == 0x7f) {
      buf[o++] = '\\';
      buf[o++] = 'x';
      buf[o++] = hex[c >> 4];
      buf[o++] = hex[c & 15];
    } else {
      buf[o++] = (char)c;
    }
  }
  buf[o] = '\0';
  return buf;
}

static bool vm_fail(vm_runtime *rt, char *msg, size_t msglen, const char *what) {
  const bc_program *p = rt->p;
  char when[40], id[128];
  fmt_time(rt->cur_time, when);
  const char *acct = shown_id(rt->cur_account, id, sizeof id);
  if (rt->cur_milestone != BC_NONE)
    snprintf(msg, msglen, "runtime error: %s in %s of milestone `%s` for account `%s` at %s", what,
             rt->cur_what ? rt->cur_what : "a criterion", bc_str(p, p->milestones[rt->cur_milestone].name),
             acct, when);
  else
    snprintf(msg, msglen, "runtime error: %s in %s for account `%s` at %s", what,
             rt->cur_what ? rt->cur_what : "an expression", acct, when);
  return false;
}

/* ---- the interpreter ------------------------------------------------------------------------ */

static bool agg_value(vm_runtime *rt, vm_account *a, uint32_t g, io_value *out, char *msg, size_t msglen);
static bool ms_completed(const vm_account *a, const bc_program *p, uint32_t m);
static void update_agg(vm_runtime *rt, vm_account *a, uint32_t g, const vm_event *ev, io_value v);
static void start_playbook(vm_runtime *rt, vm_account *a, uint32_t pi, int64_t t, bool unbounded);
static const bc_insn *snippet_failed(vm_runtime *rt, vm_account *a, const vm_event *ev, const bc_insn *ip,
                                     const bc_insn *end, const char *why, char *msg, size_t msglen);

/* Runs block b; value blocks leave their result in *result.  ev: the event
 * being applied (update blocks). */
static bool vm_exec(vm_runtime *rt, vm_account *a, uint32_t b, const vm_event *ev, io_value *result,
                    char *msg, size_t msglen) {
  const bc_program *p = rt->p;
  const bc_block *blk = &p->blocks[b];
  const bc_insn *code = p->code + blk->start;
  const bc_insn *ip = code;
  io_value R[256];
/* A runtime error fails a value block; in an update block (ev set) it only
 * poisons what the failing snippet feeds, and the block goes on after it. */
#define FAIL(why)                                                                   \
  {                                                                                 \
    if (!ev) return vm_fail(rt, msg, msglen, (why));                               \
    if (!(ip = snippet_failed(rt, a, ev, ip, code + blk->len, (why), msg, msglen))) \
      return false;                                                                 \
    NEXT();                                                                         \
  }
  scratch_reset(rt);

#if defined(__GNUC__)
#define MSL_OP_LABEL(name, ...) &&do_##name,
  static const void *const dispatch[BC__COUNT] = {MSL_OPCODES(MSL_OP_LABEL)};
#undef MSL_OP_LABEL
#define NEXT() goto *dispatch[(ip++)->op]
#define CASE(name) do_##name:
  const bc_insn *in;
#define I (in = ip - 1)
  NEXT();
#else
#define NEXT() break
#define CASE(name) case BC_##name:
  const bc_insn *in;
#define I (in)
  for (;;) switch ((in = ip++)->op) {
#endif

  CASE(RET) { I; *result = R[in->a]; return true; }
  CASE(END) { return true; }
  CASE(LOADK) { I; R[in->a] = p->consts[in->b].v; NEXT(); }
  CASE(MOVE) { I; R[in->a] = R[in->b]; NEXT(); }
  CASE(FIELD) { I; R[in->a] = ev->values[in->b]; NEXT(); }
  CASE(ACCT) {
    I;
    if (in->b == BC_ACCOUNT_ID) R[in->a].s = (io_str){a->id, a->id_len};
    else R[in->a] = a->fields[in->b];
    NEXT();
  }
  CASE(AGG) {
    I;
    if (!agg_value(rt, a, in->b, &R[in->a], msg, msglen)) return false;
    NEXT();
  }
  CASE(SEQ) {
    I;
    if (a->seqs[in->b].poison.what) return vm_fail(rt, msg, msglen, a->seqs[in->b].poison.what);
    R[in->a].b = a->seqs[in->b].done;
    NEXT();
  }
  CASE(START) { I; R[in->a].i = a->ms[in->b].start; NEXT(); }
  CASE(COMPLETED) { I; R[in->a].b = ms_completed(a, p, in->b); NEXT(); }
  CASE(ACHIEVING) { I; R[in->a].b = a->ms[in->b].applies && a->ms[in->b].achieving; NEXT(); }
  CASE(NOT) { I; R[in->a].b = !R[in->b].b; NEXT(); }
  CASE(NEGI) {
    I;
    if (R[in->b].i == INT64_MIN) FAIL("integer overflow");
    R[in->a].i = -R[in->b].i;
    NEXT();
  }
  CASE(NEGF) { I; R[in->a].f = -R[in->b].f; NEXT(); }
  CASE(I2F) { I; R[in->a].f = (double)R[in->b].i; NEXT(); }
  CASE(ADDI) {
    I;
    if (__builtin_add_overflow(R[in->b].i, R[in->c].i, &R[in->a].i)) FAIL("integer overflow");
    NEXT();
  }
  CASE(SUBI) {
    I;
    if (__builtin_sub_overflow(R[in->b].i, R[in->c].i, &R[in->a].i)) FAIL("integer overflow");
    NEXT();
  }
  CASE(MULI) {
    I;
    if (__builtin_mul_overflow(R[in->b].i, R[in->c].i, &R[in->a].i)) FAIL("integer overflow");
    NEXT();
  }
  CASE(DIVI) {
    I;
    if (R[in->c].i == 0) FAIL("integer division by zero");
    if (R[in->b].i == INT64_MIN && R[in->c].i == -1) FAIL("integer overflow");
    R[in->a].i = R[in->b].i / R[in->c].i;
    NEXT();
  }
  CASE(MODI) {
    I;
    if (R[in->c].i == 0) FAIL("integer division by zero");
    R[in->a].i = R[in->c].i == -1 ? 0 : R[in->b].i % R[in->c].i;
    NEXT();
  }
  CASE(ADDF) { I; R[in->a].f = R[in->b].f + R[in->c].f; NEXT(); }
  CASE(SUBF) { I; R[in->a].f = R[in->b].f - R[in->c].f; NEXT(); }
  CASE(MULF) { I; R[in->a].f = R[in->b].f * R[in->c].f; NEXT(); }
  CASE(DIVF) { I; R[in->a].f = R[in->b].f / R[in->c].f; NEXT(); }
  CASE(EQI) { I; R[in->a].b = R[in->b].i == R[in->c].i; NEXT(); }
  CASE(NEI) { I; R[in->a].b = R[in->b].i != R[in->c].i; NEXT(); }
  CASE(LTI) { I; R[in->a].b = R[in->b].i < R[in->c].i; NEXT(); }
  CASE(LEI) { I; R[in->a].b = R[in->b].i <= R[in->c].i; NEXT(); }
  CASE(EQF) { I; R[in->a].b = R[in->b].f == R[in->c].f; NEXT(); }
  CASE(NEF) { I; R[in->a].b = R[in->b].f != R[in->c].f; NEXT(); }
  CASE(LTF) { I; R[in->a].b = R[in->b].f < R[in->c].f; NEXT(); }
  CASE(LEF) { I; R[in->a].b = R[in->b].f <= R[in->c].f; NEXT(); }
  CASE(EQB) { I; R[in->a].b = R[in->b].b == R[in->c].b; NEXT(); }
  CASE(NEB) { I; R[in->a].b = R[in->b].b != R[in->c].b; NEXT(); }
  CASE(EQS) { I; R[in->a].b = value_eq(IO_STRING, R[in->b], R[in->c]); NEXT(); }
  CASE(NES) { I; R[in->a].b = !value_eq(IO_STRING, R[in->b], R[in->c]); NEXT(); }
  CASE(LTS) {
    I;
    io_str x = R[in->b].s, y = R[in->c].s;
    int c = memcmp(x.p, y.p, x.len < y.len ? x.len : y.len);
    R[in->a].b = c < 0 || (c == 0 && x.len < y.len);
    NEXT();
  }
  CASE(LES) {
    I;
    io_str x = R[in->b].s, y = R[in->c].s;
    int c = memcmp(x.p, y.p, x.len < y.len ? x.len : y.len);
    R[in->a].b = c < 0 || (c == 0 && x.len <= y.len);
    NEXT();
  }
  CASE(INI) {
    I;
    bool found = false;
    for (int k = 0; k < in->d && !found; k++) found = p->consts[in->c + k].v.i == R[in->b].i;
    R[in->a].b = found;
    NEXT();
  }
  CASE(INF) {
    I;
    bool found = false;
    for (int k = 0; k < in->d && !found; k++) found = p->consts[in->c + k].v.f == R[in->b].f;
    R[in->a].b = found;
    NEXT();
  }
  CASE(INS) {
    I;
    bool found = false;
    for (int k = 0; k < in->d && !found; k++) found = value_eq(IO_STRING, p->consts[in->c + k].v, R[in->b]);
    R[in->a].b = found;
    NEXT();
  }
  CASE(INB) {
    I;
    bool found = false;
    for (int k = 0; k < in->d && !found; k++) found = p->consts[in->c + k].v.b == R[in->b].b;
    R[in->a].b = found;
    NEXT();
  }
  CASE(JMP) { I; ip = code + in->d; NEXT(); }
  CASE(JMPF) { I; if (!R[in->a].b) ip = code + in->d; NEXT(); }
  CASE(JMPT) { I; if (R[in->a].b) ip = code + in->d; NEXT(); }
  CASE(CALL) {
    I;
    ffi_fn *f = rt->externs ? rt->externs[in->b] : NULL;
    if (!f) FAIL("call of an extern fn that is not bound");
    ffi_mem mem = {rt->ffi_args, sizeof rt->ffi_args, scratch_alloc, rt};
    char why[256];
    io_value ret;
    if (!ffi_invoke(f, &R[in->c], &ret, &mem, why, sizeof why)) FAIL(why);
    R[in->a] = ret;
    NEXT();
  }
  CASE(UPDATE) {
    I;
    update_agg(rt, a, in->b, ev, R[in->c]);
    NEXT();
  }
  CASE(STEP) {
    I;
    vm_seq *s = &a->seqs[in->b];
    s->matched[in->c] = 1;
    s->any_matched = true;
    NEXT();
  }
  CASE(STARTON) {
    I;
    vm_ms *m = &a->ms[in->b];
    if (m->applies && !m->started) {
      m->started = true;
      m->start = ev->time;
      m->start_timer = false;
      m->since_ready = false;
    }
    NEXT();
  }
  CASE(STARTONP) {
    I;
    vm_pb *pb = &a->pb[in->b];
    if (pb->applies && !pb->started) start_playbook(rt, a, in->b, ev->time, false);
    NEXT();
  }
#if !defined(__GNUC__)
  default: return vm_fail(rt, msg, msglen, "invalid instruction");
  }
#endif
#undef NEXT
#undef CASE
#undef I
#undef FAIL
}

/* Evaluates a value block to a bool / time for the milestone machine. */
static bool eval_bool(vm_runtime *rt, vm_account *a, uint32_t b, const char *what, uint32_t m,
                      bool *out, char *msg, size_t msglen) {
  rt->cur_what = what;
  rt->cur_milestone = m;
  io_value r;
  if (!vm_exec(rt, a, b, NULL, &r, msg, msglen)) return false;
  *out = r.b;
  return true;
}

static bool eval_time(vm_runtime *rt, vm_account *a, uint32_t b, const char *what, uint32_t m,
                      int64_t *out, char *msg, size_t msglen) {
  rt->cur_what = what;
  rt->cur_milestone = m;
  io_value r;
  if (!vm_exec(rt, a, b, NULL, &r, msg, msglen)) return false;
  *out = r.i;
  return true;
}

/* ---- aggregates ---------------------------------------------------------------------------- */

/* The value of aggregate g at the evaluation instant; a runtime error when
 * a failed `where` is in scope there or an int sum does not fit. */
static bool agg_value(vm_runtime *rt, vm_account *a, uint32_t g, io_value *out, char *msg, size_t msglen) {
  const bc_aggregate *d = &rt->p->aggregates[g];
  vm_agg *s = &a->aggs[g];
  io_value v = {0};
  bool within = d->window == BC_WIN_WITHIN;
  if (s->poison.what && rt->cur_time < s->poison.until) return vm_fail(rt, msg, msglen, s->poison.what);
  switch (d->fn) {
    case BC_AGG_COUNT: v.i = s->count; break;
    case BC_AGG_SUM:
    case BC_AGG_AVG:
      if (within && d->arg_type == IO_FLOAT && s->sum_dirty) {
        /* recomputed, not adjusted: adding and removing doubles drifts */
        double sum = 0;
        for (uint32_t i = 0; i < s->ring.len; i++) sum += ring_at(&s->ring, i)->v.f;
        s->sum.f = sum;
        s->sum_dirty = false;
      }
      if (d->fn == BC_AGG_SUM) {
        if (d->arg_type == IO_FLOAT) v.f = s->sum.f;
        else if (s->sum.i < INT64_MIN || s->sum.i > INT64_MAX)
          return vm_fail(rt, msg, msglen, "integer overflow (the sum of the events in scope)");
        else v.i = (int64_t)s->sum.i;
      } else {
        int64_t n = s->count;
        double sum = d->arg_type == IO_FLOAT ? s->sum.f : (double)s->sum.i;
        v.f = n ? sum / (double)n : 0.0;
      }
      break;
    case BC_AGG_MIN:
    case BC_AGG_MAX:
      if (within) {
        if (s->ring.len) v = ring_at(&s->ring, 0)->v;
      } else if (s->has_extreme) v = s->extreme;
      break;
    case BC_AGG_DISTINCT: v.i = s->set.size; break;
  }
  *out = v;
  return true;
}

/* Window rings change only through these three, which keep the account's
 * cached next timer exact: a window's timer is its front's expiry, so a new
 * front lowers the cache and a front that goes (expired, or dropped from
 * the back of a min/max deque) invalidates it. */
static void window_push(vm_account *a, const bc_aggregate *d, vm_agg *s, vm_entry e) {
  if (!s->ring.len && a->timer_valid) {
    int64_t expiry = sat_add(e.time, d->within_us);
    if (expiry < a->timer) a->timer = expiry;
  }
  ring_push(&s->ring, e);
}

static void window_pop_back(vm_account *a, vm_agg *s) {
  ring_pop_back(&s->ring);
  if (!s->ring.len) a->timer_valid = false;
}

static vm_entry window_pop_front(vm_account *a, vm_agg *s) {
  a->timer_valid = false;
  return ring_pop_front(&s->ring);
}

static bool better(const bc_aggregate *d, io_value x, io_value y) {   /* x replaces y */
  bool fl = d->arg_type == IO_FLOAT;
  if (d->fn == BC_AGG_MIN) return fl ? x.f <= y.f : x.i <= y.i;
  return fl ? x.f >= y.f : x.i >= y.i;
}

static void update_agg(vm_runtime *rt, vm_account *a, uint32_t g, const vm_event *ev, io_value v) {
  const bc_aggregate *d = &rt->p->aggregates[g];
  vm_agg *s = &a->aggs[g];
  if (d->window == BC_WIN_SINCE && ev->time < s->since_time) return;
  bool within = d->window == BC_WIN_WITHIN;
  vm_entry *last = within && s->ring.len ? ring_at(&s->ring, s->ring.len - 1) : NULL;
  if (last && last->time != ev->time) last = NULL;   /* only an entry of this time is shared */
  switch (d->fn) {
    case BC_AGG_COUNT:
      if (last) last->n++;
      else if (within) window_push(a, d, s, (vm_entry){ev->time, v, 1});
      s->count++;
      break;
    case BC_AGG_SUM:
    case BC_AGG_AVG:
      if (d->arg_type == IO_FLOAT) {
        if (within) s->sum_dirty = true;
        else s->sum.f += v.f;
      } else {
        s->sum.i += v.i;   /* exact: 2^64 rows of 2^63 still fit */
      }
      s->count++;
      if (!within) break;
      int64_t merged;
      if (last && d->arg_type == IO_FLOAT) {
        last->v.f += v.f;
        last->n++;
      } else if (last && !__builtin_add_overflow(last->v.i, v.i, &merged)) {
        last->v.i = merged;
        last->n++;
      } else {
        window_push(a, d, s, (vm_entry){ev->time, v, 1});
      }
      break;
    case BC_AGG_MIN:
    case BC_AGG_MAX:
      if (within) {
        /* an entry of this time at least as good leaves with v: v never shows */
        if (last && !better(d, v, last->v)) break;
        while (s->ring.len && better(d, v, ring_at(&s->ring, s->ring.len - 1)->v)) window_pop_back(a, s);
        window_push(a, d, s, (vm_entry){ev->time, v, 1});
      } else if (!s->has_extreme || better(d, v, s->extreme)) {
        s->extreme = v;
        s->has_extreme = true;
      }
      break;
    case BC_AGG_DISTINCT:
      if (set_add(&s->set, (io_type)d->arg_type, v, ev->time) && within)
        window_push(a, d, s, (vm_entry){ev->time, value_copy((io_type)d->arg_type, v), 1});
      break;
  }
}

static void poison_set(vm_poison *z, const char *why, int64_t event_time, int64_t until) {
  char when[40];
  fmt_time(event_time, when);
  size_t n = strlen(why) + strlen(when) + 64;
  char *what = vm_alloc(n);
  snprintf(what, n, "%s (a `where` filter, on the event at %s)", why, when);
  free(z->what);
  z->what = what;
  z->until = until;
}

/* A `start on` filter failed on an event of a's current instant, for a
 * target not started before it: whether that matters is known when the
 * instant is finished (settle_start_errors). */
static void hold_start_error(vm_runtime *rt, vm_account *a, const char *why) {
  if (a->start_error) return;
  char msg[1024];
  vm_fail(rt, msg, sizeof msg, why);
  a->start_error = vm_alloc(strlen(msg) + 1);
  strcpy(a->start_error, msg);
}

/* A runtime error at ip in an update block, while applying ev: the snippet
 * it belongs to ends at its first effect instruction (docs/bytecode.md).
 * The effect's target is poisoned -- an aggregate only when ev is in its
 * scope -- and execution resumes after it.  A `start on` filter is
 * evaluated for its start: it fails the run when the milestone or playbook
 * applies and had not started before ev's instant.  NULL with msg set when
 * the run fails. */
static const bc_insn *snippet_failed(vm_runtime *rt, vm_account *a, const vm_event *ev, const bc_insn *ip,
                                     const bc_insn *end, const char *why, char *msg, size_t msglen) {
  const bc_program *p = rt->p;
  for (; ip < end; ip++) {
    switch (ip->op) {
      case BC_UPDATE: {
        const bc_aggregate *d = &p->aggregates[ip->b];
        vm_agg *s = &a->aggs[ip->b];
        if (d->window == BC_WIN_SINCE && ev->time < s->since_time) return ip + 1;
        poison_set(&s->poison, why, ev->time,
                   d->window == BC_WIN_WITHIN ? sat_add(ev->time, d->within_us) : INT64_MAX);
        return ip + 1;
      }
      case BC_STEP: {
        vm_poison *z = &a->seqs[ip->b].poison;
        if (!z->what) poison_set(z, why, ev->time, INT64_MAX);
        return ip + 1;
      }
      case BC_STARTON: {
        vm_ms *m = &a->ms[ip->b];
        if (!m->applies || (m->started && m->start <= ev->time)) return ip + 1;
        m->start_on_failed = true;
        rt->cur_milestone = ip->b;
        rt->cur_what = "the `start on` filter";
        hold_start_error(rt, a, why);
        return ip + 1;
      }
      case BC_STARTONP: {
        vm_pb *pb = &a->pb[ip->b];
        if (!pb->applies || (pb->started && pb->started_at <= ev->time)) return ip + 1;
        pb->start_on_failed = true;
        rt->cur_milestone = BC_NONE;
        rt->cur_what = "a playbook's `start on` filter";
        hold_start_error(rt, a, why);
        return ip + 1;
      }
      default: break;
    }
  }
  vm_fail(rt, msg, msglen, why);   /* no snippet structure (a foreign .msc): fail */
  return NULL;
}

/* Drops window entries that have left (t - D, t]. */
static void expire_windows(vm_runtime *rt, vm_account *a, int64_t t) {
  const bc_program *p = rt->p;
  for (uint32_t g = 0; g < p->naggregates; g++) {
    const bc_aggregate *d = &p->aggregates[g];
    if (d->window != BC_WIN_WITHIN) continue;
    vm_agg *s = &a->aggs[g];
    while (s->ring.len && sat_add(ring_at(&s->ring, 0)->time, d->within_us) <= t) {
      vm_entry e = window_pop_front(a, s);
      if (d->fn == BC_AGG_COUNT) s->count -= e.n;
      if (d->fn == BC_AGG_SUM || d->fn == BC_AGG_AVG) {
        s->count -= e.n;
        if (d->arg_type == IO_FLOAT) s->sum_dirty = true;
        else s->sum.i -= e.v.i;
      } else if (d->fn == BC_AGG_DISTINCT) {
        set_release(&s->set, (io_type)d->arg_type, e.v);
        value_free((io_type)d->arg_type, e.v);
      }
    }
  }
}

static void agg_reset(const bc_aggregate *d, vm_agg *s) {
  if (d->fn == BC_AGG_DISTINCT) {
    for (uint32_t i = 0; i < s->ring.len; i++) value_free((io_type)d->arg_type, ring_at(&s->ring, i)->v);
    set_clear(&s->set, (io_type)d->arg_type);
  }
  free(s->ring.items);
  free(s->poison.what);
  int64_t since = s->since_time;
  memset(s, 0, sizeof *s);
  s->since_time = since;
}

/* ---- milestones ---------------------------------------------------------------------------- */

static bool ms_completed(const vm_account *a, const bc_program *p, uint32_t m) {
  const vm_ms *s = &a->ms[m];
  if (!s->applies) return false;
  return p->milestones[m].continuous ? s->achieved : s->completed;
}

static void add_signal(vm_runtime *rt, vm_account *a, int64_t t, uint32_t signal, uint32_t order,
                       uint32_t source) {
  (void)rt;
  if (a->nsignals == a->signals_cap) {
    a->signals_cap = a->signals_cap ? a->signals_cap * 2 : 4;
    a->signals = vm_grow(a->signals, sizeof *a->signals * (size_t)a->signals_cap);
  }
  a->signals[a->nsignals++] = (res_signal){t, signal, order, source, a->signal_seq++};
}

static void ms_emit(vm_runtime *rt, vm_account *a, uint32_t m, int64_t t) {
  const bc_milestone *d = &rt->p->milestones[m];
  for (uint32_t i = 0; i < d->nemits; i++) add_signal(rt, a, t, d->emits[i], d->decl_order, d->name);
}

static void ms_complete(vm_runtime *rt, vm_account *a, uint32_t m, int64_t t) {
  vm_ms *s = &a->ms[m];
  s->completed = true;
  s->completed_at = t;
  if (!s->ever_completed) s->first_completed_at = t;
  s->ever_completed = true;
  ms_emit(rt, a, m, t);
}

/* Restarts milestone m at t (ms.reset): everything but blocks and the
 * memory of earlier completions is cleared. */
static void ms_reset(vm_runtime *rt, vm_account *a, uint32_t m, int64_t t) {
  const bc_milestone *d = &rt->p->milestones[m];
  vm_ms *s = &a->ms[m];
  s->started = true;
  s->start = t;
  if (s->start_timer) a->timer_valid = false;   /* its pending `start at` goes */
  s->start_timer = false;
  s->since_ready = false;
  s->entered = false;
  s->entered_at = NO_TIME;
  s->actions_done = 0;
  for (uint32_t i = 0; i < d->nactions; i++) s->action_done_at[i] = NO_TIME;
  s->completed = false;
  s->completed_at = NO_TIME;
  s->achieving = false;
  s->achieved = false;
  s->achieved_at = NO_TIME;
  s->lost_at = NO_TIME;
}

/* Since-start aggregates of m restart with m's start: cleared, then given
 * what the events of the current instant alone make of them (an event at
 * the start instant counts), which the shadow has kept. */
static bool ms_prime_since(vm_runtime *rt, vm_account *a, uint32_t m, int64_t t, char *msg, size_t msglen) {
  const bc_program *p = rt->p;
  vm_ms *s = &a->ms[m];
  s->since_ready = true;
  bool take = a->queued && a->batch_time == t && a->shadow;
  if (take && a->shadow_err && a->shadow_err[m]) {
    snprintf(msg, msglen, "%s", a->shadow_err[m]);
    return false;
  }
  for (uint32_t k = rt->since_first[m]; k < rt->since_first[m + 1]; k++) {
    uint32_t g = rt->since_aggs[k];
    agg_reset(&p->aggregates[g], &a->aggs[g]);
    if (!take) continue;
    a->aggs[g] = a->shadow[g];
    memset(&a->shadow[g], 0, sizeof a->shadow[g]);
  }
  return true;
}

static bool first_row_reached(const vm_account *a, int64_t t) { return a->has_first_row && t >= a->first_row; }

static bool ms_evaluate(vm_runtime *rt, vm_account *a, uint32_t m, int64_t t, char *msg, size_t msglen) {
  const bc_milestone *d = &rt->p->milestones[m];
  vm_ms *s = &a->ms[m];
  if (!s->applies) return true;
  if (!s->started) {
    if (d->start_kind == BC_START_NONE && first_row_reached(a, t)) {
      s->started = true;
      s->start = NO_TIME;
    } else if (d->start_kind == BC_START_AFTER && a->ms[d->start_after].ever_completed) {
      s->started = true;
      s->start = a->ms[d->start_after].first_completed_at;
      s->since_ready = false;
    }
  }
  if (s->complete_pending) {
    /* SPEC 6: an `ms.complete` at or after the start completes M */
    s->complete_pending = false;
    if (!s->started || (s->start != NO_TIME && s->start > t)) rt->ignored_control++;
    else if (!s->completed) ms_complete(rt, a, m, t);
  }
  if (!s->started) return true;
  /* an unbounded `since start` means every event: primed at the first row */
  if (!s->since_ready && !ms_prime_since(rt, a, m, t, msg, msglen)) return false;
  if (!s->entered) {
    bool holds = true;
    if (d->entry_block != BC_NO_BLOCK && !eval_bool(rt, a, d->entry_block, "entry", m, &holds, msg, msglen))
      return false;
    if (!holds) return true;
    s->entered = true;
    s->entered_at = d->entry_block == BC_NO_BLOCK ? s->start : t;
  }
  for (uint32_t i = 0; i < d->nactions; i++) {
    if (s->action_done_at[i] != NO_TIME) continue;
    bool done;
    if (!eval_bool(rt, a, d->actions[i].done_block, "an action", m, &done, msg, msglen)) return false;
    if (done) {
      s->action_done_at[i] = t;
      s->actions_done++;
    }
  }
  if (!d->continuous) {
    if (s->completed) return true;
    bool holds = false;
    if (d->exit_block != BC_NO_BLOCK) {
      if (!eval_bool(rt, a, d->exit_block, "exit", m, &holds, msg, msglen)) return false;
    } else if (d->nactions) holds = s->actions_done == (int32_t)d->nactions;
    if (holds) ms_complete(rt, a, m, t);
    return true;
  }
  /* continuous: actions only give progress; without `exit` it never holds */
  bool holds = false;
  if (d->exit_block != BC_NO_BLOCK && !eval_bool(rt, a, d->exit_block, "exit", m, &holds, msg, msglen))
    return false;
  if (holds && !s->achieving) {
    s->achieving = true;
    s->lost_at = NO_TIME;
    if (!s->achieved) {
      s->achieved = true;
      s->achieved_at = t;
    }
    if (!s->ever_completed) s->first_completed_at = t;
    s->ever_completed = true;
    ms_emit(rt, a, m, t);
  } else if (!holds && s->achieving) {
    s->achieving = false;
    s->lost_at = t;
  }
  return true;
}

/* ---- playbooks ---------------------------------------------------------------------------------- */

static int32_t next_step(const vm_pb *s, const bc_playbook *d, int32_t from) {
  int32_t k = from;
  while (k < (int32_t)d->nsteps && !s->step_applies[k]) k++;
  return k;
}

static void pb_enter(vm_runtime *rt, vm_account *a, uint32_t pi, int32_t k, int64_t t) {
  const bc_playbook *d = &rt->p->playbooks[pi];
  vm_pb *s = &a->pb[pi];
  s->step = k;
  s->step_entered_at = t;
  if (k >= (int32_t)d->nsteps) {
    s->done = true;
    s->done_at = t;
    for (uint32_t i = 0; i < d->nemits; i++) add_signal(rt, a, t, d->emits[i], d->decl_order, d->name);
  }
}

static void start_playbook(vm_runtime *rt, vm_account *a, uint32_t pi, int64_t t, bool unbounded) {
  vm_pb *s = &a->pb[pi];
  s->started = true;
  s->started_at = t;
  s->unbounded = unbounded;
  if (s->start_timer) a->timer_valid = false;
  s->start_timer = false;
  pb_enter(rt, a, pi, next_step(s, &rt->p->playbooks[pi], 0), t);
  s->on_first_step = true;
}

static bool step_met(const vm_runtime *rt, const vm_account *a, const vm_pb *s, uint32_t m, int64_t t) {
  const vm_ms *ms = &a->ms[m];
  if (!ms->applies) return false;
  if (!rt->p->milestones[m].continuous) return ms->completed;
  return ms->achieving || (s->step_entered_at == t && ms->achieved);
}

static void pb_evaluate(vm_runtime *rt, vm_account *a, uint32_t pi, int64_t t) {
  const bc_playbook *d = &rt->p->playbooks[pi];
  vm_pb *s = &a->pb[pi];
  if (!s->applies) return;
  if (!s->started) {
    if (d->start_kind == BC_START_NONE && first_row_reached(a, t)) start_playbook(rt, a, pi, t, true);
    else if (d->start_kind == BC_START_AFTER && a->ms[d->start_after].ever_completed)
      start_playbook(rt, a, pi, t, false);
  }
  if (!s->started || s->done) {
    rt->ignored_control += s->pending_advances;   /* before the start or after done */
    s->pending_advances = 0;
    return;
  }
  for (; s->pending_advances > 0 && !s->done; s->pending_advances--) {
    pb_enter(rt, a, pi, next_step(s, d, s->step + 1), t);
    s->on_first_step = false;
  }
  rt->ignored_control += s->pending_advances;
  s->pending_advances = 0;
  while (!s->done && d->steps[s->step].is_auto && step_met(rt, a, s, d->steps[s->step].tracks, t)) {
    pb_enter(rt, a, pi, next_step(s, d, s->step + 1), t);
    s->on_first_step = false;
  }
}

/* ---- control events ---------------------------------------------------------------------------- */

static uint32_t find_name(const bc_program *p, io_str name, bool playbook) {
  uint32_t n = playbook ? p->nplaybooks : p->nmilestones;
  for (uint32_t i = 0; i < n; i++) {
    const char *s = bc_str(p, playbook ? p->playbooks[i].name : p->milestones[i].name);
    if (strlen(s) == name.len && memcmp(s, name.p, name.len) == 0) return i;
  }
  return BC_NONE;
}

static void apply_control(vm_runtime *rt, vm_account *a, const vm_event *ev) {
  const bc_program *p = rt->p;
  bool has_m = ev->milestone.len > 0, has_p = ev->playbook.len > 0;
  int64_t t = ev->time;
  if (has_m == has_p) {
    rt->ignored_control++;
    return;
  }
  uint32_t target = find_name(p, has_m ? ev->milestone : ev->playbook, has_p);
  if (target == BC_NONE) {
    rt->ignored_control++;
    return;
  }
  if (ev->type == IO_EV_ASSIGN) {
    uint8_t kind = has_m ? p->milestones[target].start_kind : p->playbooks[target].start_kind;
    if (kind != BC_START_ON_ASSIGNMENT) {
      rt->ignored_control++;
      return;
    }
    if (has_m) {
      vm_ms *s = &a->ms[target];
      if (s->applies && !s->started) {
        s->started = true;
        s->start = t;
        s->since_ready = false;
      }
    } else if (a->pb[target].applies && !a->pb[target].started) {
      start_playbook(rt, a, target, t, false);
    }
    return;
  }
  if (ev->type == IO_EV_ADVANCE) {
    if (!has_p) rt->ignored_control++;
    else if (a->pb[target].applies) a->pb[target].pending_advances++;
    return;
  }
  if (!has_m) {
    rt->ignored_control++;
    return;
  }
  vm_ms *s = &a->ms[target];
  switch (ev->type) {
    case IO_EV_RESET:
      if (s->applies) ms_reset(rt, a, target, t);
      break;
    case IO_EV_UNBLOCK: s->blocked_by_control = false; break;
    case IO_EV_BLOCK: s->blocked_by_control = true; break;
    case IO_EV_COMPLETE:
      /* a start at this very instant (`start at`, `on`, `after`, the first
         row) is only known when the milestone is evaluated: ms_evaluate
         decides, before any criterion of the instant */
      if (p->milestones[target].continuous || !s->applies) rt->ignored_control++;
      else s->complete_pending = true;
      break;
    default: break;
  }
}

/* ---- instants ------------------------------------------------------------------------------------ */

/* The next instant after the last one where a value changes by itself. */
static int64_t next_timer(const vm_runtime *rt, vm_account *a) {
  if (a->timer_valid) return a->timer;
  const bc_program *p = rt->p;
  int64_t next = INT64_MAX;
  for (uint32_t g = 0; g < p->naggregates; g++) {
    const bc_aggregate *d = &p->aggregates[g];
    if (d->window != BC_WIN_WITHIN || !a->aggs[g].ring.len) continue;
    int64_t e = sat_add(ring_at(&a->aggs[g].ring, 0)->time, d->within_us);
    if (e < next) next = e;
  }
  for (uint32_t m = 0; m < p->nmilestones; m++)
    if (a->ms[m].start_timer && a->ms[m].start_at < next) next = a->ms[m].start_at;
  for (uint32_t i = 0; i < p->nplaybooks; i++)
    if (a->pb[i].start_timer && a->pb[i].start_at < next) next = a->pb[i].start_at;
  a->timer = next;
  a->timer_valid = true;
  return next;
}

/* Evaluates every milestone and playbook of a at instant t (the batch at t,
 * if any, has been applied). */
static bool evaluate(vm_runtime *rt, vm_account *a, int64_t t, char *msg, size_t msglen) {
  const bc_program *p = rt->p;
  rt->cur_time = t;
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    vm_ms *s = &a->ms[m];
    if (s->start_timer && s->start_at <= t) {
      s->start_timer = false;
      a->timer_valid = false;
      if (!s->started) {
        s->started = true;
        s->start = s->start_at;
        s->since_ready = false;
      }
    }
  }
  for (uint32_t i = 0; i < p->nplaybooks; i++)
    if (a->pb[i].start_timer && a->pb[i].start_at <= t) start_playbook(rt, a, i, a->pb[i].start_at, false);
  for (uint32_t k = 0; k < p->nmilestones; k++)
    if (!ms_evaluate(rt, a, p->eval_order[k], t, msg, msglen)) return false;
  for (uint32_t i = 0; i < p->nplaybooks; i++) pb_evaluate(rt, a, i, t);
  a->last_instant = t;
  return true;
}

/* Evaluates the instants strictly before `until` (or up to and including
 * it, when inclusive) where a timer fires. */
static bool run_timers(vm_runtime *rt, vm_account *a, int64_t until, bool inclusive, char *msg, size_t msglen) {
  for (;;) {
    int64_t t = next_timer(rt, a);
    if (t == INT64_MAX || (inclusive ? t > until : t >= until)) return true;
    /* evaluating at t fires every timer <= t, so the next one is later */
    if (t <= a->last_instant) t = a->last_instant;
    rt->cur_account = a;
    rt->cur_time = t;
    expire_windows(rt, a, t);
    if (!evaluate(rt, a, t, msg, msglen)) return false;
    if (next_timer(rt, a) <= t) return true;
  }
}

static void seq_settle(vm_runtime *rt, vm_account *a, int64_t t) {
  const bc_program *p = rt->p;
  for (uint32_t i = 0; i < p->nsequences; i++) {
    vm_seq *s = &a->seqs[i];
    if (!s->any_matched) continue;
    uint32_t n = p->sequences[i].nsteps;
    int64_t within = p->sequences[i].within_us;
    /* downwards, so step k extends chains that ended before this instant */
    for (uint32_t k = n; k-- > 0;) {
      if (!s->matched[k]) continue;
      s->matched[k] = 0;
      int64_t first = k == 0 ? t : s->best[k - 1];
      if (first == NO_TIME) continue;
      if (first > s->best[k]) s->best[k] = first;
      if (k == n - 1 && (within == 0 || t - first < within)) s->done = true;
    }
    s->any_matched = false;
  }
}

/* Swaps m's since-start aggregates with their shadows. */
static void shadow_swap(vm_runtime *rt, vm_account *a, uint32_t m) {
  for (uint32_t k = rt->since_first[m]; k < rt->since_first[m + 1]; k++) {
    uint32_t g = rt->since_aggs[k];
    vm_agg x = a->aggs[g];
    a->aggs[g] = a->shadow[g];
    a->shadow[g] = x;
  }
}

/* Empties the shadows, for a new instant (or for good: the account ends). */
static void shadow_clear(vm_runtime *rt, vm_account *a) {
  const bc_program *p = rt->p;
  if (a->shadow)
    for (uint32_t k = 0; k < rt->since_first[p->nmilestones]; k++) {
      uint32_t g = rt->since_aggs[k];
      agg_reset(&p->aggregates[g], &a->shadow[g]);
    }
  if (a->shadow_err)
    for (uint32_t m = 0; m < p->nmilestones; m++) {
      free(a->shadow_err[m]);
      a->shadow_err[m] = NULL;
    }
}

/* Feeds ev to m's shadow through m's since-start update block b.  A runtime
 * error is kept, not raised: it matters only if m (re)starts at this
 * instant, where replaying the instant's events would have met it. */
static void shadow_feed(vm_runtime *rt, vm_account *a, uint32_t m, uint32_t b, const vm_event *ev) {
  const bc_program *p = rt->p;
  if (a->shadow_err && a->shadow_err[m]) return;
  if (!a->shadow) a->shadow = vm_alloc(sizeof *a->shadow * p->naggregates);
  char why[1024];
  shadow_swap(rt, a, m);
  bool ok = vm_exec(rt, a, b, ev, NULL, why, sizeof why);
  shadow_swap(rt, a, m);
  if (ok) return;
  if (!a->shadow_err) a->shadow_err = vm_alloc(sizeof *a->shadow_err * p->nmilestones);
  a->shadow_err[m] = vm_alloc(strlen(why) + 1);
  strcpy(a->shadow_err[m], why);
}

/* Opens instant t for a: evaluates the timers before it and drops what
 * left the windows, so the instant's events can be applied as they come. */
static bool begin_instant(vm_runtime *rt, vm_account *a, int64_t t, char *msg, size_t msglen) {
  rt->cur_account = a;
  if (!run_timers(rt, a, t, false, msg, msglen)) return false;
  rt->cur_time = t;
  if (!a->has_first_row) {
    a->has_first_row = true;
    a->first_row = t;
  }
  expire_windows(rt, a, t);
  shadow_clear(rt, a);
  a->queued = true;
  a->batch_time = t;
  a->next_queued = rt->queued;
  rt->queued = a;
  return true;
}

/* Applies an ordinary event of a's open instant. */
static bool apply_event(vm_runtime *rt, vm_account *a, const io_event *in, char *msg, size_t msglen) {
  const bc_program *p = rt->p;
  vm_event ev = {.type = in->type, .time = in->time, .values = in->values};
  int64_t t = in->time;
  rt->cur_account = a;
  rt->cur_time = t;
  uint32_t b = p->update_blocks[(uint32_t)ev.type];
  rt->cur_milestone = BC_NONE;
  rt->cur_what = "a `where` filter";
  if (b != BC_NO_BLOCK && !vm_exec(rt, a, b, &ev, NULL, msg, msglen)) return false;
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    uint32_t sb = p->update_blocks[(size_t)(m + 1) * p->nevents + (uint32_t)ev.type];
    if (sb == BC_NO_BLOCK) continue;
    const vm_ms *s = &a->ms[m];
    rt->cur_milestone = m;
    rt->cur_what = "a `where` filter";
    if (s->since_ready && s->started && (s->start == NO_TIME || s->start <= t) &&
        !vm_exec(rt, a, sb, &ev, NULL, msg, msglen))
      return false;
    shadow_feed(rt, a, m, sb, &ev);
  }
  return true;
}

/* Keeps a control event of a's open instant for finish_instant; one that
 * names nothing valid is counted as ignored at once. */
static void queue_control(vm_runtime *rt, vm_account *a, const io_event *in) {
  bool has_m = in->milestone.len > 0, has_p = in->playbook.len > 0;
  uint32_t target = has_m == has_p ? BC_NONE : find_name(rt->p, has_m ? in->milestone : in->playbook, has_p);
  if (target == BC_NONE) {
    rt->ignored_control++;
    return;
  }
  for (uint32_t i = 0; i < a->ncontrols; i++) {
    vm_control *c = &a->controls[i];
    if (c->type == in->type && c->playbook == has_p && c->target == target) {
      c->count++;
      return;
    }
  }
  if (a->ncontrols == a->controls_cap) {
    a->controls_cap = a->controls_cap ? a->controls_cap * 2 : 4;
    a->controls = vm_grow(a->controls, sizeof *a->controls * a->controls_cap);
  }
  a->controls[a->ncontrols++] = (vm_control){in->type, has_p, target, 1};
}

/* A `start on` filter that failed at t matters only when no event of the
 * instant matched it (nor a reset started the target there): then the
 * start is unknown, and the run stops.  Row order never decides. */
static bool settle_start_errors(vm_runtime *rt, vm_account *a, int64_t t, char *msg, size_t msglen) {
  const bc_program *p = rt->p;
  bool failed = false;
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    vm_ms *s = &a->ms[m];
    if (s->start_on_failed && !(s->started && s->start == t)) failed = true;
    s->start_on_failed = false;
  }
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    vm_pb *s = &a->pb[i];
    if (s->start_on_failed && !(s->started && s->started_at == t)) failed = true;
    s->start_on_failed = false;
  }
  if (failed) snprintf(msg, msglen, "%s", a->start_error);
  free(a->start_error);
  a->start_error = NULL;
  return !failed;
}

/* Finishes a's open instant: its control events in SPEC 6's order, then
 * the criteria. */
static bool finish_instant(vm_runtime *rt, vm_account *a, char *msg, size_t msglen) {
  const bc_program *p = rt->p;
  int64_t t = a->batch_time;
  rt->cur_account = a;
  rt->cur_time = t;
  for (int kind = IO_EV_ASSIGN; kind <= IO_EV_ADVANCE; kind++)
    for (uint32_t i = 0; i < a->ncontrols; i++) {
      const vm_control *c = &a->controls[i];
      if (c->type != kind) continue;
      const char *name = bc_str(p, c->playbook ? p->playbooks[c->target].name : p->milestones[c->target].name);
      io_str target = {name, (uint32_t)strlen(name)}, none = {"", 0};
      vm_event ev = {.type = kind, .time = t, .milestone = c->playbook ? none : target,
                     .playbook = c->playbook ? target : none};
      for (int64_t n = 0; n < c->count; n++) apply_control(rt, a, &ev);
    }
  a->ncontrols = 0;
  if (a->start_error && !settle_start_errors(rt, a, t, msg, msglen)) return false;
  seq_settle(rt, a, t);
  return evaluate(rt, a, t, msg, msglen);
}

bool vm_flush(vm_runtime *rt, char *msg, size_t msglen) {
  vm_account *a = rt->queued;
  bool ok = true;
  while (a) {
    vm_account *next = a->next_queued;
    if (ok) ok = finish_instant(rt, a, msg, msglen);
    a->ncontrols = 0;
    a->queued = false;
    a->next_queued = NULL;
    a = next;
  }
  rt->queued = NULL;
  return ok;
}

int vm_push(vm_runtime *rt, vm_account *a, const io_event *in, char *msg, size_t msglen) {
  if (in->time < a->last_instant || (a->queued && in->time < a->batch_time)) return VM_UNSORTED;
  if (rt->queued && in->time != rt->instant && !vm_flush(rt, msg, msglen)) return VM_ERROR;
  rt->instant = in->time;
  if (!a->queued && !begin_instant(rt, a, in->time, msg, msglen)) return VM_ERROR;
  if (in->type < 0) {
    queue_control(rt, a, in);
    return VM_OK;
  }
  return apply_event(rt, a, in, msg, msglen) ? VM_OK : VM_ERROR;
}

/* ---- accounts ------------------------------------------------------------------------------------- */

vm_runtime *vm_runtime_new(const bc_program *p, ffi_fn *const *externs) {
  vm_runtime *rt = vm_alloc(sizeof *rt);
  rt->p = p;
  rt->externs = externs;
  rt->scratch = vm_alloc(sizeof *rt->scratch + 4096);
  rt->scratch->size = 4096;
  rt->cur_milestone = BC_NONE;
  /* since-start aggregates grouped by milestone (a counting sort: linear) */
  rt->since_first = vm_alloc(sizeof *rt->since_first * (p->nmilestones + 1));
  rt->since_aggs = vm_alloc(sizeof *rt->since_aggs * (p->naggregates ? p->naggregates : 1));
  for (uint32_t g = 0; g < p->naggregates; g++)
    if (p->aggregates[g].window == BC_WIN_SINCE_START) rt->since_first[p->aggregates[g].milestone]++;
  uint32_t n = 0;
  for (uint32_t m = 0; m <= p->nmilestones; m++) {
    uint32_t count = m < p->nmilestones ? rt->since_first[m] : 0;
    rt->since_first[m] = n;
    n += count;
  }
  for (uint32_t g = 0; g < p->naggregates; g++)   /* since_first[m] moves to m + 1's start */
    if (p->aggregates[g].window == BC_WIN_SINCE_START) rt->since_aggs[rt->since_first[p->aggregates[g].milestone]++] = g;
  for (uint32_t m = p->nmilestones; m > 0; m--) rt->since_first[m] = rt->since_first[m - 1];
  rt->since_first[0] = 0;
  return rt;
}

void vm_runtime_free(vm_runtime *rt) {
  if (!rt) return;
  free(rt->since_first);
  free(rt->since_aggs);
  scratch_reset(rt);
  free(rt->scratch);
  free(rt);
}

int64_t vm_ignored_control(const vm_runtime *rt) { return rt->ignored_control; }

const char *vm_account_id(const vm_account *a, size_t *len) {
  *len = a->id_len;
  return a->id;
}

vm_account *vm_account_new(vm_runtime *rt, io_str id, const io_value *fields, char *msg, size_t msglen) {
  const bc_program *p = rt->p;
  vm_account *a = vm_alloc(sizeof *a);
  a->p = p;
  a->id = vm_alloc(id.len + 1);
  memcpy(a->id, id.p, id.len);
  a->id_len = id.len;
  a->last_instant = INT64_MIN;
  a->fields = vm_alloc(sizeof *a->fields * (p->naccount_fields ? p->naccount_fields : 1));
  for (uint32_t i = 0; i < p->naccount_fields; i++) {
    const bc_field *f = &p->account_fields[i];
    io_value v = fields ? fields[i] : p->consts[f->default_const].v;
    a->fields[i] = value_copy((io_type)f->type, v);
  }
  a->segments = vm_alloc(sizeof *a->segments * (p->nsegments ? p->nsegments : 1));
  a->aggs = vm_alloc(sizeof *a->aggs * (p->naggregates ? p->naggregates : 1));
  a->seqs = vm_alloc(sizeof *a->seqs * (p->nsequences ? p->nsequences : 1));
  for (uint32_t i = 0; i < p->nsequences; i++) {
    uint32_t n = p->sequences[i].nsteps;
    a->seqs[i].best = vm_alloc(sizeof(int64_t) * (n ? n : 1));
    a->seqs[i].matched = vm_alloc(n ? n : 1);
    for (uint32_t k = 0; k < n; k++) a->seqs[i].best[k] = NO_TIME;
  }
  a->ms = vm_alloc(sizeof *a->ms * (p->nmilestones ? p->nmilestones : 1));
  a->pb = vm_alloc(sizeof *a->pb * (p->nplaybooks ? p->nplaybooks : 1));
  rt->cur_account = a;
  rt->cur_time = NO_TIME;
  bool ok = true;
  for (uint32_t i = 0; i < p->nsegments && ok; i++)
    ok = eval_bool(rt, a, p->segment_blocks[i], "a segment", BC_NONE, &a->segments[i], msg, msglen);
  for (uint32_t g = 0; g < p->naggregates && ok; g++)
    if (p->aggregates[g].window == BC_WIN_SINCE)
      ok = eval_time(rt, a, p->aggregates[g].since_block, "a `since` time", p->aggregates[g].owner,
                     &a->aggs[g].since_time, msg, msglen);
  for (uint32_t m = 0; m < p->nmilestones && ok; m++) {
    const bc_milestone *d = &p->milestones[m];
    vm_ms *s = &a->ms[m];
    s->applies = d->nsegments == 0;
    for (uint32_t k = 0; k < d->nsegments; k++) s->applies |= a->segments[d->segments[k]];
    s->start = s->entered_at = s->completed_at = s->achieved_at = s->lost_at = s->deadline_at = NO_TIME;
    s->action_done_at = vm_alloc(sizeof(int64_t) * (d->nactions ? d->nactions : 1));
    for (uint32_t k = 0; k < d->nactions; k++) s->action_done_at[k] = NO_TIME;
    if (!s->applies) continue;
    if (d->start_kind == BC_START_AT) {
      ok = eval_time(rt, a, d->start_block, "the start", m, &s->start_at, msg, msglen);
      s->start_timer = ok;
    }
    if (ok && d->deadline_kind == BC_DEADLINE_AT)
      ok = eval_time(rt, a, d->deadline_block, "the deadline", m, &s->deadline_at, msg, msglen);
  }
  for (uint32_t i = 0; i < p->nplaybooks && ok; i++) {
    const bc_playbook *d = &p->playbooks[i];
    vm_pb *s = &a->pb[i];
    s->applies = d->nsegments == 0;
    for (uint32_t k = 0; k < d->nsegments; k++) s->applies |= a->segments[d->segments[k]];
    s->step = -1;
    s->step_entered_at = s->done_at = NO_TIME;
    s->step_applies = vm_alloc(d->nsteps ? d->nsteps : 1);
    for (uint32_t k = 0; k < d->nsteps && ok; k++) {
      bool w = true;
      if (d->steps[k].when_block != BC_NO_BLOCK)
        ok = eval_bool(rt, a, d->steps[k].when_block, "a step's `when`", BC_NONE, &w, msg, msglen);
      s->step_applies[k] = w;
    }
    if (ok && s->applies && d->start_kind == BC_START_AT) {
      ok = eval_time(rt, a, d->start_block, "the playbook start", BC_NONE, &s->start_at, msg, msglen);
      s->start_timer = ok;
    }
  }
  if (!ok) {
    vm_account_free(a);
    return NULL;
  }
  return a;
}

static int signal_cmp(const void *x, const void *y) {
  const res_signal *a = x, *b = y;
  if (a->time != b->time) return a->time < b->time ? -1 : 1;
  if (a->source_order != b->source_order) return a->source_order < b->source_order ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int8_t on_time(int64_t achieved, int64_t deadline, int64_t as_of) {
  if (deadline == NO_TIME) return -1;
  if (achieved != NO_TIME) return achieved <= deadline ? 1 : 0;
  return as_of > deadline ? 0 : -1;
}

bool vm_finish(vm_runtime *rt, vm_account *a, int64_t as_of, vm_results *out, char *msg, size_t msglen) {
  const bc_program *p = rt->p;
  rt->cur_account = a;
  if (!a->has_first_row) {
    a->has_first_row = true;
    a->first_row = as_of;
  }
  if (!run_timers(rt, a, as_of, true, msg, msglen)) return false;
  rt->cur_time = as_of;
  expire_windows(rt, a, as_of);
  if (!evaluate(rt, a, as_of, msg, msglen)) return false;

  vm_results *r = &a->results;
  r->milestones = vm_alloc(sizeof *r->milestones * (p->nmilestones ? p->nmilestones : 1));
  r->playbooks = vm_alloc(sizeof *r->playbooks * (p->nplaybooks ? p->nplaybooks : 1));
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    const bc_milestone *d = &p->milestones[m];
    const vm_ms *s = &a->ms[m];
    if (!s->applies) continue;
    res_milestone_row row = {.milestone = m, .started_at = NO_TIME, .entered_at = NO_TIME,
                             .achieved_at = NO_TIME, .lost_at = NO_TIME, .deadline_at = NO_TIME,
                             .on_time = -1, .actions_total = (int32_t)d->nactions,
                             .actions_done = s->started ? s->actions_done : 0};
    if (!s->started) {
      row.status = ST_NOT_STARTED;
    } else {
      row.started_at = s->start;
      row.entered_at = s->entered ? s->entered_at : NO_TIME;
      int64_t deadline = NO_TIME;
      if (d->deadline_kind == BC_DEADLINE_AFTER && s->start != NO_TIME) deadline = sat_add(s->start, d->deadline_us);
      else if (d->deadline_kind == BC_DEADLINE_AT) deadline = s->deadline_at;
      row.deadline_at = deadline;
      /* SPEC 6: `blocked when` is evaluated where a status needs it -- a
       * started, not completed once-mode milestone or a started continuous
       * one, at T -- even when `ms.block` or achieving decides the status */
      bool blocked = false;
      if ((d->continuous || !s->completed) && d->blocked_block != BC_NO_BLOCK &&
          !eval_bool(rt, a, d->blocked_block, "blocked when", m, &blocked, msg, msglen))
        return false;
      blocked = blocked || s->blocked_by_control;
      if (!d->continuous) {
        row.achieved_at = s->completed ? s->completed_at : NO_TIME;
        row.on_time = on_time(row.achieved_at, deadline, as_of);
        if (s->completed) row.status = ST_COMPLETED;
        else if (blocked) row.status = ST_BLOCKED;
        else if (!s->entered) row.status = ST_PENDING;
        else if (deadline != NO_TIME && deadline < as_of) row.status = ST_OVERDUE;
        else row.status = ST_IN_PROGRESS;
      } else {
        row.achieved_at = s->achieved ? s->achieved_at : NO_TIME;
        row.lost_at = s->achieving ? NO_TIME : s->lost_at;
        row.on_time = on_time(row.achieved_at, deadline, as_of);
        if (s->entered && s->achieving) row.status = ST_ACHIEVING;
        else if (blocked) row.status = ST_BLOCKED;
        else if (!s->entered) row.status = ST_PENDING;
        else if (s->achieved) row.status = ST_NOT_ACHIEVING;
        else row.status = ST_NEVER_ACHIEVED;
      }
    }
    r->milestones[r->nmilestones++] = row;
  }
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    const vm_pb *s = &a->pb[i];
    if (!s->applies) continue;
    res_playbook_row row = {.playbook = i, .step = s->started ? s->step : -1,
                            .step_entered_at = NO_TIME, .done_at = s->done ? s->done_at : NO_TIME};
    if (s->started && !(s->unbounded && s->on_first_step && !s->done)) row.step_entered_at = s->step_entered_at;
    r->playbooks[r->nplaybooks++] = row;
  }
  if (a->nsignals) qsort(a->signals, (size_t)a->nsignals, sizeof *a->signals, signal_cmp);
  r->signals = a->signals;
  r->nsignals = a->nsignals;
  *out = *r;
  return true;
}

void vm_account_compact(vm_account *a) {
  const bc_program *p = a->p;
  if (a->shadow) {
    for (uint32_t g = 0; g < p->naggregates; g++) agg_reset(&p->aggregates[g], &a->shadow[g]);
    free(a->shadow);
    a->shadow = NULL;
  }
  if (a->shadow_err) {
    for (uint32_t m = 0; m < p->nmilestones; m++) free(a->shadow_err[m]);
    free(a->shadow_err);
    a->shadow_err = NULL;
  }
  free(a->start_error);
  a->start_error = NULL;
  free(a->controls);
  a->controls = NULL;
  a->ncontrols = a->controls_cap = 0;
  if (a->aggs) {
    for (uint32_t g = 0; g < p->naggregates; g++) agg_reset(&p->aggregates[g], &a->aggs[g]);
    free(a->aggs);
    a->aggs = NULL;
  }
  if (a->seqs) {
    for (uint32_t i = 0; i < p->nsequences; i++) {
      free(a->seqs[i].best);
      free(a->seqs[i].matched);
      free(a->seqs[i].poison.what);
    }
    free(a->seqs);
    a->seqs = NULL;
  }
  if (a->ms) {
    for (uint32_t m = 0; m < p->nmilestones; m++) free(a->ms[m].action_done_at);
    free(a->ms);
    a->ms = NULL;
  }
  if (a->pb) {
    for (uint32_t i = 0; i < p->nplaybooks; i++) free(a->pb[i].step_applies);
    free(a->pb);
    a->pb = NULL;
  }
  if (a->fields) {
    for (uint32_t i = 0; i < p->naccount_fields; i++) value_free((io_type)p->account_fields[i].type, a->fields[i]);
    free(a->fields);
    a->fields = NULL;
  }
  free(a->segments);
  a->segments = NULL;
}

void vm_account_free(vm_account *a) {
  if (!a) return;
  vm_account_compact(a);
  free(a->id);
  free(a->signals);
  free(a->results.milestones);
  free(a->results.playbooks);
  free(a);
}
