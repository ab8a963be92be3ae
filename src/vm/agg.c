/* agg.c — aggregate state (prefix agg_): counters, window rings, monotonic
 * deques and distinct sets, updated by UPDATE and read by AGG; sequences,
 * advanced by STEP; and the since-start shadows of the current instant. */
#include "vm/vm_internal.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most windows hold one entry, or one value, at a time: rings and sets
 * start with room for one, and double.  A set of at most SET_SMALL values
 * is an array, oldest first (vm_small_slot, 16 bytes a value: two thirds
 * of a hashed slot, and no more than two cache lines to scan); one more
 * value makes it a hash table of SET_FIRST_HASHED slots. */
enum { RING_FIRST_CAP = 1, SET_SMALL = 8, SET_FIRST_HASHED = 16 };

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

/* Whether d keeps a ring of entries: a `within` window, but for distinct,
 * whose set is its window. */
static bool has_ring(const bc_aggregate *d) { return d->window == BC_WIN_WITHIN && d->fn != BC_AGG_DISTINCT; }

static bool windowed_set(const bc_aggregate *d) { return d->window == BC_WIN_WITHIN && d->fn == BC_AGG_DISTINCT; }

static bool sums(const bc_aggregate *d) { return d->fn == BC_AGG_SUM || d->fn == BC_AGG_AVG; }

/* A sum's or an average's window entries are vm_entry, the others' vm_point. */
static size_t entry_size(const bc_aggregate *d) { return sums(d) ? sizeof(vm_entry) : sizeof(vm_point); }

static vm_pool *ring_pool(vm_runtime *rt, const bc_aggregate *d) { return sums(d) ? &rt->rings : &rt->points; }

/* Entry i of a ring of entries of size bytes; every kind begins with its time. */
static void *ring_at(const vm_ring *r, uint32_t i, size_t size) {
  return r->items + ((r->head + i) & (r->cap - 1)) * size;
}

static int64_t ring_time(const vm_ring *r, uint32_t i, size_t size) { return *(const int64_t *)ring_at(r, i, size); }

size_t agg_state_size(const bc_aggregate *d) {
  size_t window = has_ring(d) ? sizeof(vm_ring) : d->window == BC_WIN_SINCE ? sizeof(int64_t) : 0;
  return agg_value_size(d) + window;
}

size_t agg_state_align(const bc_aggregate *d) {
  return sums(d) ? _Alignof(vm_sum) : _Alignof(int64_t);
}

int64_t *agg_since(const vm_runtime *rt, const vm_account *a, uint32_t g) { return agg_window(rt, a, g); }

/* Fetches what the next event of a will touch outside its block: the
 * windows' oldest and newest entries, and the distinct sets' slots: the
 * first line, and the oldest value's, which expiry reads. */
void agg_prefetch(const vm_runtime *rt, const vm_account *a) {
  const bc_program *p = rt->p;
  for (uint32_t k = 0; k < rt->noutside; k++) {
    uint32_t g = rt->outside[k];
    const bc_aggregate *d = &p->aggregates[g];
    if (has_ring(d)) {
      const vm_ring *r = agg_window(rt, a, g);
      if (r->len) {
        __builtin_prefetch(ring_at(r, 0, entry_size(d)));
        __builtin_prefetch(ring_at(r, r->len - 1, entry_size(d)));
      }
    }
    if (d->fn == BC_AGG_DISTINCT) {
      const vm_set *s = agg_state(rt, a, g);
      if (s->slots) __builtin_prefetch(s->slots);
      if (s->cap > 4 && s->cap <= SET_SMALL) __builtin_prefetch(s->items + 4);
      if (s->size && s->cap > SET_SMALL) __builtin_prefetch(&s->slots[s->oldest]);
    }
  }
}

/* ---- rings and sets ------------------------------------------------------------------------------ */

static unsigned log2_cap(uint32_t cap) { return (unsigned)__builtin_ctz(cap); }

/* Appends entry e (a vm_entry or a vm_point, as size says). */
static void ring_push(vm_pool *pool, vm_ring *r, const void *e, size_t size) {
  if (r->len == r->cap) {
    uint32_t cap = r->cap ? r->cap * 2 : RING_FIRST_CAP;
    char *items = pool_alloc(pool, log2_cap(cap));
    if (r->cap) {
      /* the full ring's entries before head continue it past the old end */
      memcpy(items, r->items, size * r->cap);
      memcpy(items + size * r->cap, r->items, size * r->head);
      pool_free(pool, r->items, log2_cap(r->cap));
    }
    r->items = items;
    r->cap = cap;
  }
  void *at = ring_at(r, r->len, size);
  if (size == sizeof(vm_entry)) *(vm_entry *)at = *(const vm_entry *)e;
  else *(vm_point *)at = *(const vm_point *)e;
  r->len++;
}

static void ring_pop_front(vm_ring *r) {
  r->head = (r->head + 1) & (r->cap - 1);
  r->len--;
}

static uint64_t value_hash(value_type t, value_data v) {
  if (t == VALUE_STRING) return util_hash(v.s.p, v.s.len) | 1;   /* 0 never a live hash */
  if (t == VALUE_FLOAT && v.f == 0) v.f = 0;  /* -0.0 and 0.0 are one value */
  if (t == VALUE_BOOL) return v.b ? 3 : 5;
  return util_hash(&v.i, sizeof v.i) | 1;
}

/* A set slot keeps a value in 8 bytes: a string as its interned copy's
 * address (two strings are equal exactly when their copies are), any
 * other value as its bits (-0.0 as 0.0), and the set hashes those 8
 * bytes, so a slot needs no hash of its own. */
static int64_t key_of(value_type t, value_data v) {
  if (t == VALUE_STRING) return (int64_t)(intptr_t)v.s.p;
  if (t == VALUE_BOOL) return v.b;
  if (t == VALUE_FLOAT) {
    double f = v.f == 0 ? 0.0 : v.f;
    int64_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
  }
  return v.i;
}

static value_data value_of(value_type t, int64_t key) {
  value_data v = {0};
  if (t == VALUE_STRING) v.s = intern_str((const char *)(intptr_t)key);
  else if (t == VALUE_BOOL) v.b = key != 0;
  else if (t == VALUE_FLOAT) memcpy(&v.f, &key, sizeof v.f);
  else v.i = key;
  return v;
}

static uint32_t key_hash(int64_t key) { return (uint32_t)(((uint64_t)key * 0x9E3779B97F4A7C15u) >> 32); }

/* A slot's link: 0 never used, 1 a tombstone, else live with its newer
 * neighbour in the ring (the newest's: the oldest). */
enum { LINK_EMPTY = 0, LINK_TOMBSTONE = 1, LINK_LIVE = 2 };

static bool slot_live(const vm_set_slot *sl) { return sl->link >= LINK_LIVE; }
static uint32_t slot_newer(const vm_set_slot *sl) { return sl->link - LINK_LIVE; }
static void set_newer(vm_set_slot *sl, uint32_t i) { sl->link = i + LINK_LIVE; }

static bool set_is_small(const vm_set *s) { return s->cap <= SET_SMALL; }

/* Moves a small set's items after i one place down, over it (at most
 * seven: a loop, not a call to memmove). */
static void small_close_gap(vm_set *s, uint32_t i) {
  for (; i + 1 < s->size; i++) s->items[i] = s->items[i + 1];
}

/* The oldest value's place: a small set's first item, a hash table's slot. */
static uint32_t set_oldest(const vm_set *s) { return set_is_small(s) ? 0 : s->oldest; }

static int64_t set_key(const vm_set *s, uint32_t i) { return set_is_small(s) ? s->items[i].key : s->slots[i].key; }

static int64_t set_last_time(const vm_set *s, uint32_t i) {
  return set_is_small(s) ? s->items[i].last_time : s->slots[i].last_time;
}

/* The oldest last_time of the set's values; INT64_MAX when it has none. */
static int64_t set_front(const vm_set *s) { return s->size ? set_last_time(s, set_oldest(s)) : INT64_MAX; }

/* The place (item or live slot) holding key, or SET_NONE.  A NaN equals
 * nothing, itself included, as `==` says. */
static uint32_t set_find(const vm_set *s, value_type t, int64_t key) {
  if (!s->cap || (t == VALUE_FLOAT && value_of(t, key).f != value_of(t, key).f)) return SET_NONE;
  if (set_is_small(s)) {
    for (uint32_t i = 0; i < s->size; i++)
      if (s->items[i].key == key) return i;
    return SET_NONE;
  }
  uint32_t mask = s->cap - 1;
  for (uint32_t i = key_hash(key) & mask;; i = (i + 1) & mask) {
    const vm_set_slot *sl = &s->slots[i];
    if (sl->link == LINK_EMPTY) return SET_NONE;
    if (slot_live(sl) && sl->key == key) return i;
  }
}

/* Windowed sets (`distinct(x within D)`) use the ring of live values, from
 * the oldest last_time to the newest: a window forgets a value once its
 * latest time has left, so expiry takes values from the oldest end, and a
 * value added again moves to the newest.  A ring, so that the set keeps
 * one end (vm_set.oldest) and finds the other beside it. */
static uint32_t set_newest(const vm_set *s) { return s->slots[s->oldest].older; }

/* Takes live slot i out of the ring (taking the only one leaves it empty). */
static void list_unlink(vm_set *s, uint32_t i) {
  vm_set_slot *sl = &s->slots[i];
  uint32_t newer = slot_newer(sl);
  set_newer(&s->slots[sl->older], newer);
  s->slots[newer].older = sl->older;
  if (s->oldest == i) s->oldest = newer;
}

/* Puts slot i in the ring as its newest value (empty: the set has none). */
static void list_append(vm_set *s, uint32_t i, bool empty) {
  vm_set_slot *sl = &s->slots[i];
  if (empty) {
    sl->older = i;
    set_newer(sl, i);
    s->oldest = i;
    return;
  }
  uint32_t newest = set_newest(s);
  sl->older = newest;
  set_newer(sl, s->oldest);
  set_newer(&s->slots[newest], i);
  s->slots[s->oldest].older = i;
}

static uint32_t set_place(const vm_set *s, int64_t key) {
  uint32_t mask = s->cap - 1, i = key_hash(key) & mask;
  while (slot_live(&s->slots[i])) i = (i + 1) & mask;
  return i;
}

/* Adds key, last added at time, to a hash table with room for it, as its
 * newest value. */
static void set_insert(vm_set *s, int64_t key, int64_t time) {
  uint32_t i = set_place(s, key);
  if (s->slots[i].link == LINK_TOMBSTONE) s->tombstones--;   /* reuse a tombstone */
  s->slots[i] = (vm_set_slot){.key = key, .last_time = time};
  list_append(s, i, s->size == 0);
  s->size++;
}

/* Moves the live values to a hash table of cap slots, oldest first
 * (every set keeps the order: an unwindowed one never reads it). */
static void set_rehash(vm_runtime *rt, vm_set *s, uint32_t cap) {
  vm_set old = *s;
  s->slots = pool_alloc(&rt->sets, log2_cap(cap));
  s->cap = cap;
  s->size = s->tombstones = 0;
  if (set_is_small(&old)) {
    for (uint32_t i = 0; i < old.size; i++) set_insert(s, old.items[i].key, old.items[i].last_time);
    pool_free(&rt->small_sets, old.items, log2_cap(old.cap));
    return;
  }
  for (uint32_t k = 0, i = old.oldest; k < old.size; k++, i = slot_newer(&old.slots[i]))
    set_insert(s, old.slots[i].key, old.slots[i].last_time);
  pool_free(&rt->sets, old.slots, log2_cap(old.cap));
}

/* Small sets fill up to 7/8 of their slots, larger ones 3/4: most hold a
 * handful of values, and a probe through 8 slots stays in three lines. */
static bool fits(uint32_t used, uint32_t cap) { return cap <= 16 ? used * 8 <= cap * 7 : used * 4 <= cap * 3; }

/* The table for one more value: the same size to clear tombstones where
 * that is cheap (a small table) or frees a quarter of it, else doubled. */
static uint32_t rehash_cap(const vm_set *s) {
  uint32_t cap = s->cap;
  if (cap > 16 && s->tombstones < cap / 4) cap *= 2;
  while (!fits(s->size + 1, cap)) cap *= 2;
  return cap;
}

/* Makes room for one more value: a full small set doubles, up to
 * SET_SMALL values, then becomes a hash table. */
static void set_make_room(vm_runtime *rt, vm_set *s) {
  if (!set_is_small(s)) {
    if (!fits(s->size + s->tombstones + 1, s->cap)) set_rehash(rt, s, rehash_cap(s));
  } else if (s->size == s->cap && s->cap < SET_SMALL) {
    uint32_t cap = s->cap ? s->cap * 2 : 1;
    vm_small_slot *items = pool_alloc(&rt->small_sets, log2_cap(cap));
    if (s->size) memcpy(items, s->items, s->size * sizeof *items);
    if (s->cap) pool_free(&rt->small_sets, s->items, log2_cap(s->cap));
    s->items = items;
    s->cap = cap;
  } else if (s->size == s->cap) {
    set_rehash(rt, s, SET_FIRST_HASHED);
  }
}

/* Adds value v at time (the latest time the set has seen).  Says how the
 * set's oldest time changed, for the account's timer. */
typedef enum { FRONT_SAME, FRONT_FIRST, FRONT_LATER } set_front_change;

static set_front_change front_change(int64_t before, int64_t after) {
  return before == after ? FRONT_SAME : before == INT64_MAX ? FRONT_FIRST : FRONT_LATER;
}

static set_front_change set_add(vm_runtime *rt, vm_set *s, value_type t, value_data v, int64_t time) {
  vm_intern *in = &rt->intern;
  uint64_t h = 0;
  uint32_t i = SET_NONE;
  if (t == VALUE_STRING) {   /* a string no set holds is in none of them */
    h = value_hash(t, v);
    const char *copy = intern_find(in, v.s, h);
    if (copy) i = set_find(s, t, key_of(t, (value_data){.s = {copy, v.s.len}}));
  } else {
    i = set_find(s, t, key_of(t, v));
  }
  int64_t front = set_front(s);
  if (i != SET_NONE && set_is_small(s)) {   /* the value moves to the newest end */
    int64_t key = s->items[i].key;
    small_close_gap(s, i);
    s->items[s->size - 1] = (vm_small_slot){key, time};
  } else if (i != SET_NONE) {
    s->slots[i].last_time = time;
    if (set_newest(s) != i) {   /* then another value stays in the ring */
      list_unlink(s, i);
      list_append(s, i, false);
    }
  } else {
    set_make_room(rt, s);
    if (t == VALUE_STRING) v.s = intern_take(in, v.s, h);
    if (set_is_small(s)) s->items[s->size++] = (vm_small_slot){key_of(t, v), time};
    else set_insert(s, key_of(t, v), time);
  }
  return front_change(front, set_front(s));
}

/* Drops the interned copy of the string a set's key holds. */
static void drop_key(vm_runtime *rt, value_type t, int64_t key) {
  if (t != VALUE_STRING) return;
  value_data v = value_of(t, key);
  intern_drop(&rt->intern, v.s, value_hash(t, v));
}

/* Removes the set's oldest value. */
static void set_remove_oldest(vm_runtime *rt, vm_set *s, value_type t) {
  uint32_t i = set_oldest(s);
  drop_key(rt, t, set_key(s, i));
  if (set_is_small(s)) {
    small_close_gap(s, 0);
    s->size--;
    return;
  }
  s->size--;
  list_unlink(s, i);
  s->slots[i].link = LINK_TOMBSTONE;   /* probing goes on past it */
  s->tombstones++;
}

static void set_clear(vm_runtime *rt, vm_set *s, value_type t) {
  if (set_is_small(s)) {
    for (uint32_t i = 0; i < s->size; i++) drop_key(rt, t, s->items[i].key);
    if (s->cap) pool_free(&rt->small_sets, s->items, log2_cap(s->cap));
  } else {
    for (uint32_t i = 0; i < s->cap; i++)
      if (slot_live(&s->slots[i])) drop_key(rt, t, s->slots[i].key);
    pool_free(&rt->sets, s->slots, log2_cap(s->cap));
  }
  memset(s, 0, sizeof *s);
}

/* The value a min/max deque's entry holds. */
static value_data point_value(const vm_point *e) { return (value_data){.i = e->v.i}; }

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
        for (uint32_t i = 0; i < ring->len; i++) f += ((vm_entry *)ring_at(ring, i, sizeof(vm_entry)))->v.f;
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
        if (ring->len) v = point_value(ring_at(ring, 0, sizeof(vm_point)));
      } else if (((vm_extreme *)s)->has) {
        v = ((vm_extreme *)s)->v;
      }
      break;
    case BC_AGG_DISTINCT: v.i = ((vm_set *)s)->size; break;
  }
  *out = v;
  return true;
}

/* A window of d gained a front that expires at `expiry` (it had none, or
 * a distinct set's first value): the account's cached timers go down to
 * it, the next timer only for a window that is not quiet. */
static void front_added(const vm_runtime *rt, vm_account *a, const bc_aggregate *d, int64_t expiry) {
  if (!a->timer_valid) return;
  if (expiry < a->expiry) a->expiry = expiry;
  if (expiry < a->timer && !rt->quiet[d - rt->p->aggregates]) a->timer = expiry;
}

/* Window rings change only through these three, which keep the account's
 * cached timers exact: a window's timer is its front's expiry, so a new
 * front lowers the cache and a front that goes (expired, or dropped from
 * the back of a min/max deque) invalidates it. */
static void window_push(vm_runtime *rt, vm_account *a, const bc_aggregate *d, vm_ring *ring, int64_t time,
                        const void *e) {
  if (!ring->len) front_added(rt, a, d, vm_sat_add(time, d->within_us));
  ring_push(ring_pool(rt, d), ring, e, entry_size(d));
}

static void window_pop_back(vm_account *a, vm_ring *ring) {
  ring->len--;
  if (!ring->len) a->timer_valid = false;
}

static void window_pop_front(vm_account *a, vm_ring *ring) {
  a->timer_valid = false;
  ring_pop_front(ring);
}

static bool better(const bc_aggregate *d, value_data x, value_data y) {   /* x replaces y */
  bool fl = d->arg_type == VALUE_FLOAT;
  if (d->fn == BC_AGG_MIN) return fl ? x.f <= y.f : x.i <= y.i;
  return fl ? x.f >= y.f : x.i >= y.i;
}

static void sum_update(vm_runtime *rt, vm_account *a, const bc_aggregate *d, vm_sum *sum, vm_ring *ring,
                       vm_entry *last, const vm_event *ev, value_data v) {
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
    vm_entry e = {.time = ev->time, .v.i = v.i, .n = 1};
    window_push(rt, a, d, ring, ev->time, &e);
  }
}

void agg_update(vm_runtime *rt, vm_account *a, uint32_t g, const vm_event *ev, value_data v) {
  const bc_aggregate *d = &rt->p->aggregates[g];
  char *s = agg_state(rt, a, g);
  if (d->window == BC_WIN_SINCE && ev->time < *agg_since(rt, a, g)) return;
  /* a distinct count changes only with a new value; the rest, assume it does */
  if (d->fn != BC_AGG_DISTINCT) vm_mark_changed(rt, a, g);
  vm_ring *ring = has_ring(d) ? agg_window(rt, a, g) : NULL;
  size_t size = entry_size(d);
  void *last = ring && ring->len ? ring_at(ring, ring->len - 1, size) : NULL;
  if (last && *(int64_t *)last != ev->time) last = NULL;   /* only an entry of this time is shared */
  switch (d->fn) {
    case BC_AGG_COUNT:
      if (last) {
        ((vm_point *)last)->v.i++;
      } else if (ring) {
        vm_point e = {.time = ev->time, .v.i = 1};
        window_push(rt, a, d, ring, ev->time, &e);
      }
      ++*(int64_t *)s;
      break;
    case BC_AGG_SUM:
    case BC_AGG_AVG: sum_update(rt, a, d, (vm_sum *)s, ring, last, ev, v); break;
    case BC_AGG_MIN:
    case BC_AGG_MAX:
      if (ring) {
        /* an entry of this time at least as good leaves with v: v never shows */
        if (last && !better(d, v, point_value(last))) break;
        while (ring->len && better(d, v, point_value(ring_at(ring, ring->len - 1, size)))) window_pop_back(a, ring);
        vm_point e = {.time = ev->time, .v.i = v.i};
        window_push(rt, a, d, ring, ev->time, &e);
      } else {
        vm_extreme *x = (vm_extreme *)s;
        if (!x->has || better(d, v, x->v)) {
          x->v = v;
          x->has = true;
        }
      }
      break;
    case BC_AGG_DISTINCT: {
      /* the window's front: a first one lowers the timer, a later one (the
       * oldest value added again) invalidates it, as for rings */
      uint32_t size = ((vm_set *)s)->size;
      set_front_change c = set_add(rt, (vm_set *)s, (value_type)d->arg_type, v, ev->time);
      if (((vm_set *)s)->size != size) vm_mark_changed(rt, a, g);
      if (!windowed_set(d) || c == FRONT_SAME) break;
      if (c == FRONT_LATER) a->timer_valid = false;
      else front_added(rt, a, d, vm_sat_add(ev->time, d->within_us));
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

static int64_t ring_front(const vm_ring *ring, size_t size) {
  return ring->len ? ring_time(ring, 0, size) : INT64_MAX;
}

/* When a window of d whose oldest entry is at `front` loses it;
 * INT64_MAX for an empty window (front INT64_MAX). */
static int64_t front_expiry(const bc_aggregate *d, int64_t front) {
  return front == INT64_MAX ? INT64_MAX : vm_sat_add(front, d->within_us);
}

/* Drops from each window what left it by t; true when any window lost
 * entries.  Their fronts are then at hand: the account's cached timers
 * are made exact again in the same pass (as next_timer would), unless a
 * `start at` takes part in them. */
bool agg_expire_windows(vm_runtime *rt, vm_account *a, int64_t t) {
  const bc_program *p = rt->p;
  if (a->timer_valid && a->expiry > t) return false;   /* no window's front expires by t */
  bool changed = false;
  int64_t next = INT64_MAX, all = INT64_MAX;
  for (uint32_t k = 0; k < rt->nwindowed; k++) {
    uint32_t g = rt->windowed[k];
    const bc_aggregate *d = &p->aggregates[g];
    char *s = agg_state(rt, a, g);
    bool expired = false;
    int64_t front;
    if (windowed_set(d)) {
      vm_set *set = (vm_set *)s;
      while (set->size && vm_sat_add(set_front(set), d->within_us) <= t) {
        set_remove_oldest(rt, set, (value_type)d->arg_type);
        a->timer_valid = false;
        expired = true;
      }
      front = set_front(set);
    } else {
      vm_ring *ring = agg_window(rt, a, g);
      size_t size = entry_size(d);
      while (ring->len && vm_sat_add(ring_time(ring, 0, size), d->within_us) <= t) {
        void *e = ring_at(ring, 0, size);
        expired = true;
        if (d->fn == BC_AGG_COUNT) *(int64_t *)s -= ((vm_point *)e)->v.i;
        if (sums(d)) {
          vm_sum *sum = (vm_sum *)s;
          sum->count -= ((vm_entry *)e)->n;
          if (d->arg_type == VALUE_FLOAT) sum->dirty = true;
          else sum->sum.i -= ((vm_entry *)e)->v.i;
        }
        window_pop_front(a, ring);
      }
      front = ring_front(ring, size);
    }
    if (expired) vm_mark_changed(rt, a, g);
    changed = changed || expired;
    int64_t e = front_expiry(d, front);   /* after what left */
    if (e < all) all = e;
    if (e < next && !rt->quiet[g]) next = e;
  }
  if (!a->timer_valid && !rt->start_ats) {
    a->timer = next;
    a->expiry = all;
    a->timer_valid = true;
  }
  return changed;
}

int64_t agg_next_expiry(const vm_runtime *rt, const vm_account *a, int64_t *all) {
  const bc_program *p = rt->p;
  int64_t next = INT64_MAX;
  *all = INT64_MAX;
  for (uint32_t k = 0; k < rt->nwindowed; k++) {
    uint32_t g = rt->windowed[k];
    const bc_aggregate *d = &p->aggregates[g];
    int64_t front =
        windowed_set(d) ? set_front(agg_state(rt, a, g)) : ring_front(agg_window(rt, a, g), entry_size(d));
    int64_t e = front_expiry(d, front);
    if (e < *all) *all = e;
    if (e < next && !rt->quiet[g]) next = e;
  }
  return next;
}

void agg_reset(vm_runtime *rt, const bc_aggregate *d, void *s) {
  if (d->fn == BC_AGG_DISTINCT) set_clear(rt, s, (value_type)d->arg_type);
  size_t n = agg_value_size(d);
  if (has_ring(d)) {
    vm_ring *ring = (vm_ring *)((char *)s + n);
    if (ring->cap) pool_free(ring_pool(rt, d), ring->items, log2_cap(ring->cap));
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
      if (k == n - 1 && (within == 0 || t - first < within) && !s->done) {
        s->done = true;
        vm_mark_changed(rt, a, p->naggregates + i);
      }
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
      agg_reset(rt, &p->aggregates[g], x->shadow + rt->layout.agg[g].shadow);
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
    agg_reset(rt, d, state);
    vm_mark_changed(rt, a, g);
    if (x && x->poison) {
      free(x->poison[g].what);
      x->poison[g] = (vm_poison){0};
    }
    if (!from_shadow) continue;
    char *shadow = x->shadow + rt->layout.agg[g].shadow;
    memcpy(state, shadow, n);
    memset(shadow, 0, n);
    if (x->shadow_poison && x->shadow_poison[g].what) {
      *vm_poison_at(rt, a, g) = x->shadow_poison[g];
      x->shadow_poison[g] = (vm_poison){0};
    }
  }
}
