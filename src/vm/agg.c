/* agg.c — aggregate state (prefix agg_): counters, window rings, monotonic
 * deques and distinct sets, updated by UPDATE and read by AGG; sequences,
 * advanced by STEP; and the since-start shadows of the current instant. */
#include "vm/vm_internal.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ring_push(vm_ring *r, vm_entry e) {
  if (r->len == r->cap) {
    uint32_t cap = r->cap ? r->cap * 2 : 4;
    vm_entry *items = util_xalloc(sizeof *items * cap);
    for (uint32_t i = 0; i < r->len; i++) items[i] = *vm_ring_at(r, i);
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
    if (sl->refs && sl->hash == h &&
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
static bool set_add(vm_set *s, value_type t, value_data key, int64_t time, vm_entry *entry) {
  uint64_t h = value_hash(t, key);
  vm_set_slot *sl = set_find(s, t, key, h, false);
  if (sl) {
    if (sl->last_time == time) return false;
    sl->last_time = time;
    sl->refs++;
  } else {
    if ((s->size + s->tombstones + 1) * 4 >= s->cap * 3)
      set_rehash(s, t, s->cap ? (s->size * 4 >= s->cap ? s->cap * 2 : s->cap) : 8);
    uint32_t i = (uint32_t)h & (s->cap - 1);
    while (s->slots[i].refs) i = (i + 1) & (s->cap - 1);
    if (s->slots[i].hash) s->tombstones--;   /* reuse a tombstone */
    sl = &s->slots[i];
    *sl = (vm_set_slot){.hash = h, .key = interp_value_copy(t, key), .refs = 1, .last_time = time};
    s->size++;
  }
  *entry = (vm_entry){.time = time, .v = sl->key, .hash = h};
  return true;
}

/* Drops the reference of a window entry set_add filled. */
static void set_release(vm_set *s, value_type t, const vm_entry *e) {
  vm_set_slot *sl = set_find(s, t, e->v, e->hash, true);
  if (!sl || --sl->refs) return;
  interp_value_free(t, sl->key);
  sl->key = (value_data){0};
  s->size--;
  s->tombstones++;            /* hash stays non-zero: probing goes on past it */
}

static void set_clear(vm_set *s, value_type t) {
  for (uint32_t i = 0; i < s->cap; i++)
    if (s->slots[i].refs) interp_value_free(t, s->slots[i].key);
  free(s->slots);
  memset(s, 0, sizeof *s);
}

/* The value of aggregate g at the evaluation instant; a runtime error when
 * a failed `where` is in scope there or an int sum does not fit. */
bool agg_value(vm_runtime *rt, vm_account *a, uint32_t g, value_data *out) {
  const bc_aggregate *d = &rt->p->aggregates[g];
  vm_agg *s = &a->aggs[g];
  value_data v = {0};
  bool within = d->window == BC_WIN_WITHIN;
  if (s->poison.what && rt->cur_time < s->poison.until) return vm_fail(rt, s->poison.what);
  switch (d->fn) {
    case BC_AGG_COUNT: v.i = s->count; break;
    case BC_AGG_SUM:
    case BC_AGG_AVG:
      if (within && d->arg_type == VALUE_FLOAT && s->sum_dirty) {
        /* recomputed, not adjusted: adding and removing doubles drifts */
        double sum = 0;
        for (uint32_t i = 0; i < s->ring.len; i++) sum += vm_ring_at(&s->ring, i)->v.f;
        s->sum.f = sum;
        s->sum_dirty = false;
      }
      if (d->fn == BC_AGG_SUM) {
        if (d->arg_type == VALUE_FLOAT) v.f = s->sum.f;
        else if (s->sum.i < INT64_MIN || s->sum.i > INT64_MAX)
          return vm_fail(rt, "integer overflow (the sum of the events in scope)");
        else v.i = (int64_t)s->sum.i;
      } else {
        int64_t n = s->count;
        double sum = d->arg_type == VALUE_FLOAT ? s->sum.f : (double)s->sum.i;
        v.f = n ? sum / (double)n : 0.0;
      }
      break;
    case BC_AGG_MIN:
    case BC_AGG_MAX:
      if (within) {
        if (s->ring.len) v = vm_ring_at(&s->ring, 0)->v;
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
    int64_t expiry = vm_sat_add(e.time, d->within_us);
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

static bool better(const bc_aggregate *d, value_data x, value_data y) {   /* x replaces y */
  bool fl = d->arg_type == VALUE_FLOAT;
  if (d->fn == BC_AGG_MIN) return fl ? x.f <= y.f : x.i <= y.i;
  return fl ? x.f >= y.f : x.i >= y.i;
}

void agg_update(vm_runtime *rt, vm_account *a, uint32_t g, const vm_event *ev, value_data v) {
  const bc_aggregate *d = &rt->p->aggregates[g];
  vm_agg *s = &a->aggs[g];
  if (d->window == BC_WIN_SINCE && ev->time < s->since_time) return;
  bool within = d->window == BC_WIN_WITHIN;
  vm_entry *last = within && s->ring.len ? vm_ring_at(&s->ring, s->ring.len - 1) : NULL;
  if (last && last->time != ev->time) last = NULL;   /* only an entry of this time is shared */
  switch (d->fn) {
    case BC_AGG_COUNT:
      if (last) last->n++;
      else if (within) window_push(a, d, s, (vm_entry){.time = ev->time, .v = v, .n = 1});
      s->count++;
      break;
    case BC_AGG_SUM:
    case BC_AGG_AVG:
      if (d->arg_type == VALUE_FLOAT) {
        if (within) s->sum_dirty = true;
        else s->sum.f += v.f;
      } else {
        s->sum.i += v.i;   /* exact: 2^64 rows of 2^63 still fit */
      }
      s->count++;
      if (!within) break;
      int64_t merged;
      if (last && d->arg_type == VALUE_FLOAT) {
        last->v.f += v.f;
        last->n++;
      } else if (last && !__builtin_add_overflow(last->v.i, v.i, &merged)) {
        last->v.i = merged;
        last->n++;
      } else {
        window_push(a, d, s, (vm_entry){.time = ev->time, .v = v, .n = 1});
      }
      break;
    case BC_AGG_MIN:
    case BC_AGG_MAX:
      if (within) {
        /* an entry of this time at least as good leaves with v: v never shows */
        if (last && !better(d, v, last->v)) break;
        while (s->ring.len && better(d, v, vm_ring_at(&s->ring, s->ring.len - 1)->v)) window_pop_back(a, s);
        window_push(a, d, s, (vm_entry){.time = ev->time, .v = v, .n = 1});
      } else if (!s->has_extreme || better(d, v, s->extreme)) {
        s->extreme = v;
        s->has_extreme = true;
      }
      break;
    case BC_AGG_DISTINCT: {
      vm_entry e;
      if (set_add(&s->set, (value_type)d->arg_type, v, ev->time, &e) && within) window_push(a, d, s, e);
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
    vm_agg *s = &a->aggs[g];
    while (s->ring.len && vm_sat_add(vm_ring_at(&s->ring, 0)->time, d->within_us) <= t) {
      vm_entry e = window_pop_front(a, s);
      if (d->fn == BC_AGG_COUNT) s->count -= e.n;
      if (d->fn == BC_AGG_SUM || d->fn == BC_AGG_AVG) {
        s->count -= e.n;
        if (d->arg_type == VALUE_FLOAT) s->sum_dirty = true;
        else s->sum.i -= e.v.i;
      } else if (d->fn == BC_AGG_DISTINCT) {
        set_release(&s->set, (value_type)d->arg_type, &e);
      }
    }
  }
}

void agg_reset(const bc_aggregate *d, vm_agg *s) {
  if (d->fn == BC_AGG_DISTINCT) set_clear(&s->set, (value_type)d->arg_type);   /* the ring's values are the set's */
  free(s->ring.items);
  free(s->poison.what);
  int64_t since = s->since_time;
  memset(s, 0, sizeof *s);
  s->since_time = since;
}

void agg_seq_settle(vm_runtime *rt, vm_account *a, int64_t t) {
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
void agg_shadow_clear(vm_runtime *rt, vm_account *a) {
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
void agg_shadow_feed(vm_runtime *rt, vm_account *a, uint32_t m, uint32_t b, const vm_event *ev) {
  const bc_program *p = rt->p;
  if (a->shadow_err && a->shadow_err[m]) return;
  if (!a->shadow) a->shadow = util_xalloc(sizeof *a->shadow * p->naggregates);
  shadow_swap(rt, a, m);
  bool ok = interp_exec(rt, a, b, ev, NULL);
  shadow_swap(rt, a, m);
  if (ok) return;
  if (!a->shadow_err) a->shadow_err = util_xalloc(sizeof *a->shadow_err * p->nmilestones);
  a->shadow_err[m] = util_xalloc(strlen(rt->error) + 1);
  strcpy(a->shadow_err[m], rt->error);
}
