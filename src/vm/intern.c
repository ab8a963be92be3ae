/* intern.c — one copy per runtime of each string a distinct set holds
 * (prefix intern_).  Every account's sets share it: a value such as a user
 * name is stored once, not once per account and window, and two set keys
 * are equal exactly when their pointers are, so a set compares pointers,
 * never bytes.  Copies are counted (one reference per set slot) and freed
 * with their last one; vm_account_free, which runs after an account's
 * last use, leaves its references to intern_free. */
#include "vm/vm_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct vm_istr {
  uint32_t refs, len;
  char bytes[];
} vm_istr;

static vm_istr *istr_of(const char *p) { return (vm_istr *)(void *)(p - offsetof(vm_istr, bytes)); }

/* The slot of s (hash h): holding its copy, or the empty slot where it
 * would go.  Tombstones (hash kept, no copy) are probed past. */
static vm_intern_slot *find(const vm_intern *t, value_str s, uint64_t h) {
  uint32_t mask = t->cap - 1, i = (uint32_t)h & mask;
  for (;;) {
    vm_intern_slot *sl = &t->slots[i];
    if (sl->hash == 0) return sl;
    if (sl->hash == h && sl->s && sl->s->len == s.len && util_same_bytes(sl->s->bytes, s.p, s.len)) return sl;
    i = (i + 1) & mask;
  }
}

static void rehash(vm_intern *t, uint32_t cap) {
  vm_intern_slot *old = t->slots;
  uint32_t oldcap = t->cap;
  t->slots = util_xalloc(sizeof *t->slots * cap);
  t->cap = cap;
  t->tombstones = 0;
  for (uint32_t i = 0; i < oldcap; i++) {
    if (!old[i].s) continue;
    uint32_t j = (uint32_t)old[i].hash & (cap - 1);
    while (t->slots[j].hash) j = (j + 1) & (cap - 1);
    t->slots[j] = old[i];
  }
  free(old);
}

const char *intern_find(const vm_intern *t, value_str s, uint64_t h) {
  if (!t->cap) return NULL;
  const vm_intern_slot *sl = find(t, s, h);
  return sl->s ? sl->s->bytes : NULL;
}

value_str intern_take(vm_intern *t, value_str s, uint64_t h) {
  if ((t->size + t->tombstones + 1) * 4 >= t->cap * 3)
    rehash(t, t->cap ? (t->size * 2 >= t->cap ? t->cap * 2 : t->cap) : 64);
  vm_intern_slot *sl = find(t, s, h);
  if (!sl->s) {
    sl->s = util_xalloc(sizeof *sl->s + s.len + 1);
    sl->s->len = s.len;
    if (s.len) memcpy(sl->s->bytes, s.p, s.len);
    sl->hash = h;
    t->size++;
  }
  sl->s->refs++;
  return (value_str){sl->s->bytes, s.len};
}

value_str intern_str(const char *copy) { return (value_str){copy, istr_of(copy)->len}; }

void intern_drop(vm_intern *t, value_str s, uint64_t h) {
  vm_istr *is = istr_of(s.p);
  if (--is->refs) return;
  vm_intern_slot *sl = find(t, s, h);
  free(sl->s);
  sl->s = NULL;   /* the hash stays: a tombstone */
  t->size--;
  t->tombstones++;
}

void intern_free(vm_intern *t) {
  for (uint32_t i = 0; i < t->cap; i++) free(t->slots[i].s);
  free(t->slots);
  memset(t, 0, sizeof *t);
}
