/* arena.h — bump allocator for compiler data: everything one compilation
 * creates (tokens' text, AST, types, diagnostics) is freed at once. */
#ifndef MSL_ARENA_H
#define MSL_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct arena {
  arena_block *head;
  size_t block_size;
} arena;

void arena_init(arena *a);
void arena_free(arena *a);
/* Zeroed memory; out of memory ends the process (util_out_of_memory:
 * exit 4), so callers never see NULL. */
void *arena_alloc(arena *a, size_t size);
/* Room for n bytes more in one block, taken now: a known large need is
 * one mapping (huge pages past 2 MiB: util_huge_alloc), not blocks that
 * double up to it, each faulted in a page at a time. */
void arena_reserve(arena *a, size_t n);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A growable array of pointers living in an arena. */
typedef struct ptr_vec {
  void **items;
  int len, cap;
} ptr_vec;

void ptr_vec_push(arena *a, ptr_vec *v, void *item);

#endif
