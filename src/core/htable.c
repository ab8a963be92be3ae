/* htable.c — hash table from byte strings to pointers; see htable.h. */
#include "core/htable.h"

#include <string.h>

#include "core/util.h"

struct htable_slot {
  const void *key;      /* NULL: empty */
  size_t len;
  uint64_t hash;
  void *value;
};

void htable_init(htable *t, arena *a) {
  memset(t, 0, sizeof *t);
  t->arena = a;
}

static htable_slot *find_slot(htable_slot *slots, size_t cap, const void *key, size_t len,
                              uint64_t hash) {
  size_t i = (size_t)hash & (cap - 1);
  while (slots[i].key &&
         !(slots[i].hash == hash && slots[i].len == len && memcmp(slots[i].key, key, len) == 0))
    i = (i + 1) & (cap - 1);
  return &slots[i];
}

void *htable_get(const htable *t, const void *key, size_t len) {
  if (!t->cap) return NULL;
  htable_slot *s = find_slot(t->slots, t->cap, key, len, util_hash(key, len));
  return s->key ? s->value : NULL;
}

/* Moves the keys to a table of cap slots; the old slots stay in the arena
 * (with doubling, at most as much again as the final table). */
static void rehash(htable *t, size_t cap) {
  htable_slot *slots = arena_alloc(t->arena, sizeof *slots * cap);
  for (size_t i = 0; i < t->cap; i++) {
    htable_slot *old = &t->slots[i];
    if (old->key) *find_slot(slots, cap, old->key, old->len, old->hash) = *old;
  }
  t->slots = slots;
  t->cap = cap;
}

void htable_reserve(htable *t, size_t n) {
  size_t cap = t->cap ? t->cap : 16;
  while (n * 2 > cap) cap *= 2;
  if (cap > t->cap) rehash(t, cap);
}

void *htable_put(htable *t, const void *key, size_t len, void *value) {
  if ((t->len + 1) * 2 > t->cap) rehash(t, t->cap ? t->cap * 2 : 16);  /* at most half full: probes stay short */
  uint64_t hash = util_hash(key, len);
  htable_slot *s = find_slot(t->slots, t->cap, key, len, hash);
  if (s->key) return s->value;
  /* an empty key still needs a non-NULL pointer to mark the slot used */
  char *copy = arena_alloc(t->arena, len + 1);
  memcpy(copy, key, len);
  *s = (htable_slot){.key = copy, .len = len, .hash = hash, .value = value};
  t->len++;
  return value;
}

void *htable_get_str(const htable *t, const char *key) { return htable_get(t, key, strlen(key)); }

void *htable_put_str(htable *t, const char *key, void *value) {
  return htable_put(t, key, strlen(key), value);
}
