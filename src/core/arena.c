/* arena.c — bump allocator; see arena.h. */
#include "core/arena.h"

#include "core/util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
  arena_block *next;
  size_t used, size;
  max_align_t data[];
};

/* Blocks double from 64 KiB up to a huge page each (util_huge_alloc): an
 * arena that holds a model of every account of a run (report.c) then
 * costs a few page faults rather than one per 4 KiB, and a small one maps
 * little. */
enum { ARENA_FIRST_BLOCK = 64 << 10, ARENA_LAST_BLOCK = (2 << 20) - sizeof(arena_block) };

void arena_init(arena *a) {
  a->head = NULL;
  a->block_size = ARENA_FIRST_BLOCK;
}

void arena_free(arena *a) {
  arena_block *b = a->head;
  while (b) {
    arena_block *next = b->next;
    util_huge_free(b, sizeof(arena_block) + b->size);
    b = next;
  }
  a->head = NULL;
}

/* A new head block of cap bytes; the old head's room is left unused. */
static arena_block *new_block(arena *a, size_t cap) {
  arena_block *b = util_huge_alloc(sizeof(arena_block) + cap);
  b->size = cap;
  b->used = 0;
  b->next = a->head;
  a->head = b;
  return b;
}

void arena_reserve(arena *a, size_t n) {
  if (!a->head || a->head->size - a->head->used < n) new_block(a, n);
}

void *arena_alloc(arena *a, size_t size) {
  size_t align = sizeof(max_align_t);
  size = (size + align - 1) & ~(align - 1);
  if (size == 0) size = align;
  arena_block *b = a->head;
  if (!b || b->size - b->used < size) {
    b = new_block(a, size > a->block_size ? size : a->block_size);
    if (a->block_size < ARENA_LAST_BLOCK)
      a->block_size = a->block_size * 2 < ARENA_LAST_BLOCK ? a->block_size * 2 : ARENA_LAST_BLOCK;
  }
  void *p = (char *)b->data + b->used;   /* zero: blocks come zeroed (util_huge_alloc) and are never reused */
  b->used += size;
  return p;
}

char *arena_strndup(arena *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  char *p = arena_alloc(a, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

void ptr_vec_push(arena *a, ptr_vec *v, void *item) {
  if (v->len == v->cap) {
    int cap = v->cap ? v->cap * 2 : 8;
    void **items = arena_alloc(a, sizeof(void *) * (size_t)cap);
    if (v->len) memcpy(items, v->items, sizeof(void *) * (size_t)v->len);
    v->items = items;
    v->cap = cap;
  }
  v->items[v->len++] = item;
}
