/* agg.c — aggregate state (prefix agg_): counters, window rings, monotonic
 * deques and distinct sets, updated by UPDATE and read by AGG; sequences,
 * advanced by STEP; and the since-start shadows of the current instant. */
#include "vm/vm_internal.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most windows hold one entry, or one value, at a time: rings start with
 * room for one, sets (at most 3/4 full) with two slots, and both double. */
enum { RING_FIRST_CAP = 1, SET_FIRST_CAP = 2 };

/* ---- the parts of an aggregate's state (vm_internal.h) ------------------------------------------ */

size_t agg_value_size(const bc_aggregate *d) {
  switch (d->fn) {
    case BC_AGG_COUNT: return sizeof(int64_t);
    case BC_AGG_SUM:
    case BC_AGG_AVG: return sizeof(vm_sum);
    case BC_AGG_MIN:
    case BC_AGG_MAX: return d->window == BC_WIN_WITHIN ? 0 : sizeof(vm_extreme);
    default: return sizeof(vm_set);
  }
}

size_t agg_state_size(const bc_aggregate *d) {
  size_t window = d->window == BC_WIN_WITHIN ? sizeof(vm_ring) : d->window == BC_WIN_SINCE ? sizeof(int64_t) : 0;
  return agg_value_size(d) + window;
}

size_t agg_state_align(const bc_aggregate *d) {
  return d->fn == BC_AGG_SUM || d->fn == BC_AGG_AVG ? _Alignof(vm_sum) : _Alignof(int64_t);
}

int64_t *agg_since(const vm_runtime *rt, const vm_account *a, uint32_t g) { return agg_window(rt, a, g); }

/* Fetches what the next event of a will touch outside its block: the
 * windows' oldest and newest entries and the distinct sets' slots. */
void agg_prefetch(const vm_runtime *rt, const vm_account *a) {
  const bc_program *p = rt->p;
  for (uint32_t g = 0; g < p->naggregates; g++) {
    const bc_aggregate *d = &p->aggregates[g];
    if (d->window == BC_WIN_WITHIN) {
      const vm_ring *r = agg_window(rt, a, g);
      if (r->len) {
        __builtin_prefetch(&r->items[r->head]);
        __builtin_prefetch(&r->items[(r->head + r->len - 1) & (r->cap - 1)]);
      }
    }
    if (d->fn == BC_AGG_DISTINCT) {
      const vm_set *s = agg_state(rt, a, g);
      if (s->slots) __builtin_prefetch(s->slots);
    }
  }
}

/* ---- rings and sets ------------------------------------------------------------------------------ */

static void ring_push(vm_ring *r, vm_entry e) {
  if (r->len == r->cap) {
    uint32_t cap = r->cap ? r->cap * 2 : RING_FIRST_CAP;
    r->items = util_xrealloc(r->items, sizeof *r->items * cap);
    /* the full ring's entries before head continue it past the old end */
    memcpy(r->items + r->cap, r->items, sizeof *r->items * r->head);
    r->cap = cap;
  }
  *vm_ring_at(r, r->len) = e;
  r->len++;
}

static vm_entry ring_pop_front(vm_ring *r) {
  vm_entry e = r->items[r->head];
  r->head = (r->head + 1) & (r->cap - 1);
  r->len--;
  return e;
}

static vm_entry ring_pop_back(vm_ring *r) {
  r->len--;
  return *vm_ring_at(r, r->len);
}

static uint64_t value_hash(value_type t, value_data v) {
  if (t == VALUE_STRING) return util_hash(v.s.p, v.s.len) | 1;   /* 0 never a live hash */
  if (t == VALUE_FLOAT && v.f == 0) v.f = 0;  /* -0.0 and 0.0 are one value */
  if (t == VALUE_BOOL) return v.b ? 3 : 5;
  return util_hash(&v.i, sizeof v.i) | 1;
}

/* The slot holding key.  same_copy: key is a slot's own copy (from a
 * window entry), so a string matches by its pointer alone. */
static vm_set_slot *set_find(vm_set *s, value_type t, value_data key, uint64_t h, bool same_copy) {
  if (!s->cap) return NULL;
  uint32_t mask = s->cap - 1, i = (uint32_t)h & mask;
  for (;;) {
    vm_set_slot *sl = &s->slots[i];
    if (sl->hash == 0) return NULL;
    if (sl->refs && sl->hash == (uint32_t)h &&
        (same_copy && t == VALUE_STRING ? sl->key.s.p == key.s.p : interp_value_eq(t, sl->key, key)))
      return sl;
    i = (i + 1) & mask;
  }
}

static void set_rehash(vm_set *s, value_type t, uint32_t cap) {
  vm_set_slot *old = s->slots;
  uint32_t oldcap = s->cap;
  s->slots = util_xalloc(sizeof *s->slots * cap);
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
 * then needs no second entry for it).  *entry gets the set's copy of key
 * and its hash, for a window entry. */
static bool set_add(vm_intern *in, vm_set *s, value_type t, value_data key, int64_t time, vm_entry *entry) {
  uint64_t h = value_hash(t, key);
  vm_set_slot *sl;
  if (t == VALUE_STRING) {   /* a string no set holds is in none of them */
    const char *copy = intern_find(in, key.s, h);
    sl = copy ? set_find(s, t, (value_data){.s = {copy, key.s.len}}, h, true) : NULL;
  } else {
    sl = set_find(s, t, key, h, false);
  }
  if (sl) {
    if (sl->last_time == time) return false;
    sl->last_time = time;
    sl->refs++;
  } else {
    if ((s->size + s->tombstones + 1) * 4 >= s->cap * 3)
      set_rehash(s, t, s->cap ? (s->size * 4 >= s->cap ? s->cap * 2 : s->cap) : SET_FIRST_CAP);
    uint32_t i = (uint32_t)h & (s->cap - 1);
    while (s->slots[i].refs) i = (i + 1) & (s->cap - 1);
    if (s->slots[i].hash) s->tombstones--;   /* reuse a tombstone */
    sl = &s->slots[i];
    if (t == VALUE_STRING) key.s = intern_take(in, key.s, h);
    *sl = (vm_set_slot){.hash = (uint32_t)h, .key = key, .refs = 1, .last_time = time};
    s->size++;
  }
  *entry = (vm_entry){.time = time, .hash = h};
  if (t == VALUE_STRING) entry->v.s = sl->key.s.p;
  else entry->v.i = sl->key.i;
  return true;
}

/* Drops the reference of a window entry set_add filled. */
static void set_release(vm_intern *in, vm_set *s, value_type t, const vm_entry *e) {
  value_data key = t == VALUE_STRING ? (value_data){.s = {e->v.s, 0}} : (value_data){.i = e->v.i};
  vm_set_slot *sl = set_find(s, t, key, e->hash, true);
  if (!sl || --sl->refs) return;
  if (t == VALUE_STRING) intern_drop(in, sl->key.s, e->hash);
  sl->key = (value_data){0};
  s->size--;
  s->tombstones++;            /* hash stays non-zero: probing goes on past it */
}

/* in NULL: the strings' references are left to the runtime (intern.c). */
static void set_clear(vm_intern *in, vm_set *s, value_type t) {
  if (in && t == VALUE_STRING)
    for (uint32_t i = 0; i < s->cap; i++)
      if (s->slots[i].refs) intern_drop(in, s->slots[i].key.s, value_hash(t, s->slots[i].key));
  free(s->slots);
  memset(s, 0, sizeof *s);
}

/* The number a window entry holds (sum, min, max). */
static value_data entry_value(const vm_entry *e) { return (value_data){.i = e->v.i}; }

/* The value of aggregate g at the evaluation instant; a runtime error when
 * a failed `where` is in scope there or an int sum does not fit. */
bool agg_value(vm_runtime *rt, vm_account *a, uint32_t g, value_data *out) {
  const bc_aggregate *d = &rt->p->aggregates[g];
  char *s = agg_state(rt, a, g);
  value_data v = {0};
  bool within = d->window == BC_WIN_WITHIN;
  const vm_poison *z = vm_poison_of(a, g);
  if (z && rt->cur_time < z->until) return vm_fail(rt, z->what);
  switch (d->fn) {
    case BC_AGG_COUNT: v.i = *(int64_t *)s; break;
    case BC_AGG_SUM:
    case BC_AGG_AVG: {
      vm_sum *sum = (vm_sum *)s;
      if (within && d->arg_type == VALUE_FLOAT && sum->dirty) {
        /* recomputed, not adjusted: adding and removing doubles drifts */
        vm_ring *ring = agg_window(rt, a, g);
        double f = 0;
        for (uint32_t i = 0; i < ring->len; i++) f += vm_ring_at(ring, i)->v.f;
        sum->sum.f = f;
        sum->dirty = false;
      }
      if (d->fn == BC_AGG_SUM) {
        if (d->arg_type == VALUE_FLOAT) v.f = sum->sum.f;
        else if (sum->sum.i < INT64_MIN || sum->sum.i > INT64_MAX)
          return vm_fail(rt, "integer overflow (the sum of the events in scope)");
        else v.i = (int64_t)sum->sum.i;
      } else {
        int64_t n = sum->count;
        double f = d->arg_type == VALUE_FLOAT ? sum->sum.f : (double)sum->sum.i;
        v.f = n ? f / (double)n : 0.0;
      }
      break;
    }
    case BC_AGG_MIN:
    case BC_AGG_MAX:
      if (within) {
        vm_ring *ring = agg_window(rt, a, g);
        if (ring->len) v = entry_value(vm_ring_at(ring, 0));
      } else if (((vm_extreme *)s)->has) {
        v = ((vm_extreme *)s)->v;
      }
      break;
    case BC_AGG_DISTINCT: v.i = ((vm_set *)s)->size; break;
  }
  *out = v;
  return true;
}

/* Window rings change only through these three, which keep the account's
 * cached next timer exact: a window's timer is its front's expiry, so a new
 * front lowers the cache and a front that goes (expired, or dropped from
 * the back of a min/max deque) invalidates it. */
static void window_push(vm_account *a, const bc_aggregate *d, vm_ring *ring, vm_entry e) {
  if (!ring->len && a->timer_valid) {
    int64_t expiry = vm_sat_add(e.time, d->within_us);
    if (expiry < a->timer) a->timer = expiry;
  }
  ring_push(ring, e);
}

static void window_pop_back(vm_account *a, vm_ring *ring) {
  ring_pop_back(ring);
  if (!ring->len) a->timer_valid = false;
}

static vm_entry window_pop_front(vm_account *a, vm_ring *ring) {
  a->timer_valid = false;
  return ring_pop_front(ring);
}

static bool better(const bc_aggregate *d, value_data x, value_data y) {   /* x replaces y */
  bool fl = d->arg_type == VALUE_FLOAT;
  if (d->fn == BC_AGG_MIN) return fl ? x.f <= y.f : x.i <= y.i;
  return fl ? x.f >= y.f : x.i >= y.i;
}

static void sum_update(vm_account *a, const bc_aggregate *d, vm_sum *sum, vm_ring *ring, vm_entry *last,
                       const vm_event *ev, value_data v) {
  if (d->arg_type == VALUE_FLOAT) {
    if (ring) sum->dirty = true;
    else sum->sum.f += v.f;
  } else {
    sum->sum.i += v.i;   /* exact: 2^64 rows of 2^63 still fit */
  }
  sum->count++;
  if (!ring) return;
  int64_t merged;
  if (last && d->arg_type == VALUE_FLOAT) {
    last->v.f += v.f;
    last->n++;
  } else if (last && !__builtin_add_overflow(last->v.i, v.i, &merged)) {
    last->v.i = merged;
    last->n++;
  } else {
    window_push(a, d, ring, (vm_entry){.time = ev->time, .v.i = v.i, .n = 1});
  }
}

void agg_update(vm_runtime *rt, vm_account *a, uint32_t g, const vm_event *ev, value_data v) {
  const bc_aggregate *d = &rt->p->aggregates[g];
  char *s = agg_state(rt, a, g);
  if (d->window == BC_WIN_SINCE && ev->time < *agg_since(rt, a, g)) return;
  vm_ring *ring = d->window == BC_WIN_WITHIN ? agg_window(rt, a, g) : NULL;
  vm_entry *last = ring && ring->len ? vm_ring_at(ring, ring->len - 1) : NULL;
  if (last && last->time != ev->time) last = NULL;   /* only an entry of this time is shared */
  switch (d->fn) {
    case BC_AGG_COUNT:
      if (last) last->n++;
      else if (ring) window_push(a, d, ring, (vm_entry){.time = ev->time, .n = 1});
      ++*(int64_t *)s;
      break;
    case BC_AGG_SUM:
    case BC_AGG_AVG: sum_update(a, d, (vm_sum *)s, ring, last, ev, v); break;
    case BC_AGG_MIN:
    case BC_AGG_MAX:
      if (ring) {
        /* an entry of this time at least as good leaves with v: v never shows */
        if (last && !better(d, v, entry_value(last))) break;
        while (ring->len && better(d, v, entry_value(vm_ring_at(ring, ring->len - 1)))) window_pop_back(a, ring);
        window_push(a, d, ring, (vm_entry){.time = ev->time, .v.i = v.i, .n = 1});
      } else {
        vm_extreme *x = (vm_extreme *)s;
        if (!x->has || better(d, v, x->v)) {
          x->v = v;
          x->has = true;
        }
      }
      break;
    case BC_AGG_DISTINCT: {
      vm_entry e;
      bool added = set_add(&rt->intern, (vm_set *)s, (value_type)d->arg_type, v, ev->time, &e);
      if (added && ring) window_push(a, d, ring, e);
      break;
    }
  }
}

void agg_poison(vm_poison *z, const char *why, int64_t event_time, int64_t until) {
  char when[40];
  vm_fmt_time(event_time, when);
  size_t n = strlen(why) + strlen(when) + 64;
  char *what = util_xalloc(n);
  snprintf(what, n, "%s (a `where` filter, on the event at %s)", why, when);
  free(z->what);
  z->what = what;
  z->until = until;
}

/* Drops window entries that have left (t - D, t]. */
void agg_expire_windows(vm_runtime *rt, vm_account *a, int64_t t) {
  const bc_program *p = rt->p;
  if (a->timer_valid && a->timer > t) return;   /* no window's front expires by t */
  for (uint32_t g = 0; g < p->naggregates; g++) {
    const bc_aggregate *d = &p->aggregates[g];
    if (d->window != BC_WIN_WITHIN) continue;
    char *s = agg_state(rt, a, g);
    vm_ring *ring = agg_window(rt, a, g);
    while (ring->len && vm_sat_add(vm_ring_at(ring, 0)->time, d->within_us) <= t) {
      vm_entry e = window_pop_front(a, ring);
      if (d->fn == BC_AGG_COUNT) *(int64_t *)s -= e.n;
      if (d->fn == BC_AGG_SUM || d->fn == BC_AGG_AVG) {
        vm_sum *sum = (vm_sum *)s;
        sum->count -= e.n;
        if (d->arg_type == VALUE_FLOAT) sum->dirty = true;
        else sum->sum.i -= e.v.i;
      } else if (d->fn == BC_AGG_DISTINCT) {
        set_release(&rt->intern, (vm_set *)s, (value_type)d->arg_type, &e);
      }
    }
  }
}

int64_t agg_next_expiry(const vm_runtime *rt, const vm_account *a) {
  const bc_program *p = rt->p;
  int64_t next = INT64_MAX;
  for (uint32_t g = 0; g < p->naggregates; g++) {
    const bc_aggregate *d = &p->aggregates[g];
    if (d->window != BC_WIN_WITHIN) continue;
    vm_ring *ring = agg_window(rt, a, g);
    if (!ring->len) continue;
    int64_t e = vm_sat_add(vm_ring_at(ring, 0)->time, d->within_us);
    if (e < next) next = e;
  }
  return next;
}

void agg_reset(vm_intern *in, const bc_aggregate *d, void *s) {
  if (d->fn == BC_AGG_DISTINCT) set_clear(in, s, (value_type)d->arg_type);   /* the ring's values are the set's */
  size_t n = agg_value_size(d);
  if (d->window == BC_WIN_WITHIN) {
    free(((vm_ring *)((char *)s + n))->items);
    n += sizeof(vm_ring);
  }
  memset(s, 0, n);
}

void agg_seq_settle(vm_runtime *rt, vm_account *a, int64_t t) {
  const bc_program *p = rt->p;
  for (uint32_t i = 0; i < p->nsequences; i++) {
    vm_seq *s = vm_seq_at(rt, a, i);
    if (!s->any_matched) continue;
    int64_t *best = vm_seq_best(rt, a, i);
    uint8_t *matched = vm_seq_matched(rt, a, i);
    uint32_t n = p->sequences[i].nsteps;
    int64_t within = p->sequences[i].within_us;
    /* downwards, so step k extends chains that ended before this instant */
    for (uint32_t k = n; k-- > 0;) {
      if (!matched[k]) continue;
      matched[k] = 0;
      int64_t first = k == 0 ? t : best[k - 1];
      if (first == NO_TIME) continue;
      if (first > best[k]) best[k] = first;
      if (k == n - 1 && (within == 0 || t - first < within)) s->done = true;
    }
    s->any_matched = false;
  }
}

/* ---- since-start shadows ---------------------------------------------------------------------- */

static void swap_bytes(char *x, char *y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = x[i];
    x[i] = y[i];
    y[i] = c;
  }
}

/* Swaps m's since-start aggregates with their shadows, poison included (a
 * shadow is poisoned only while swapped in, so while the account has no
 * poison array the shadows have no poison either). */
static void shadow_swap(vm_runtime *rt, vm_account *a, uint32_t m) {
  vm_extra *x = a->extra;
  if (x->poison && !x->shadow_poison) x->shadow_poison = util_xalloc(sizeof *x->shadow_poison * rt->p->naggregates);
  for (uint32_t k = rt->since_first[m]; k < rt->since_first[m + 1]; k++) {
    uint32_t g = rt->since_aggs[k];
    const vm_agg_slot *at = &rt->layout.agg[g];
    swap_bytes(vm_state(a) + at->state, x->shadow + at->shadow, agg_state_size(&rt->p->aggregates[g]));
    if (!x->poison) continue;
    vm_poison z = x->poison[g];
    x->poison[g] = x->shadow_poison[g];
    x->shadow_poison[g] = z;
  }
}

/* Empties the shadows, for a new instant. */
void agg_shadow_clear(vm_runtime *rt, vm_account *a) {
  const bc_program *p = rt->p;
  vm_extra *x = a->extra;
  if (!x) return;
  if (x->shadow)
    for (uint32_t k = 0; k < rt->since_first[p->nmilestones]; k++) {
      uint32_t g = rt->since_aggs[k];
      agg_reset(&rt->intern, &p->aggregates[g], x->shadow + rt->layout.agg[g].shadow);
      if (!x->shadow_poison) continue;
      free(x->shadow_poison[g].what);
      x->shadow_poison[g] = (vm_poison){0};
    }
  if (x->shadow_err)
    for (uint32_t m = 0; m < p->nmilestones; m++) {
      free(x->shadow_err[m]);
      x->shadow_err[m] = NULL;
    }
}

/* Feeds ev to m's shadow through m's since-start update block b.  A runtime
 * error is kept, not raised: it matters only if m (re)starts at this
 * instant, where replaying the instant's events would have met it. */
void agg_shadow_feed(vm_runtime *rt, vm_account *a, uint32_t m, uint32_t b, const vm_event *ev) {
  const bc_program *p = rt->p;
  vm_extra *x = vm_extra_of(a);
  if (x->shadow_err && x->shadow_err[m]) return;
  if (!x->shadow) x->shadow = util_xalloc(rt->layout.shadow_size);
  shadow_swap(rt, a, m);
  bool ok = interp_exec(rt, a, b, ev, NULL);
  shadow_swap(rt, a, m);
  if (ok) return;
  if (!x->shadow_err) x->shadow_err = util_xalloc(sizeof *x->shadow_err * p->nmilestones);
  x->shadow_err[m] = util_xalloc(strlen(rt->error) + 1);
  strcpy(x->shadow_err[m], rt->error);
}

void agg_since_restart(vm_runtime *rt, vm_account *a, uint32_t m, bool from_shadow) {
  vm_extra *x = a->extra;
  for (uint32_t k = rt->since_first[m]; k < rt->since_first[m + 1]; k++) {
    uint32_t g = rt->since_aggs[k];
    const bc_aggregate *d = &rt->p->aggregates[g];
    char *state = agg_state(rt, a, g);
    size_t n = agg_state_size(d);
    agg_reset(&rt->intern, d, state);
    if (x && x->poison) {
      free(x->poison[g].what);
      x->poison[g] = (vm_poison){0};
    }
    if (!from_shadow) continue;
    char *shadow = x->shadow + rt->layout.agg[g].shadow;
    memcpy(state, shadow, n);
    memset(shadow, 0, n);
    if (x->shadow_poison && x->shadow_poison[g].what) {
      *vm_poison_at(a, g) = x->shadow_poison[g];
      x->shadow_poison[g] = (vm_poison){0};
    }
  }
}
