/* htable.h — a hash table from byte strings to pointers, in an arena.
 *
 * Name lookups over every declaration of a program (namespaces, string
 * pools) go through it, so that a program with N declarations is checked
 * and compiled in about N steps rather than N * N.  Keys are copied into
 * the arena; like every arena allocation, running out of memory ends the
 * process (arena.h). */
#ifndef MSL_HTABLE_H
#define MSL_HTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

typedef struct htable_slot htable_slot;

typedef struct htable {
  arena *arena;
  htable_slot *slots;   /* open addressing, linear probing; cap a power of 2 */
  size_t cap, len;
} htable;

void htable_init(htable *t, arena *a);
/* The value stored under the key, or NULL. */
void *htable_get(const htable *t, const void *key, size_t len);
/* Stores value (not NULL) under the key unless the key has one already;
 * returns the value the key has now. */
void *htable_put(htable *t, const void *key, size_t len, void *value);

/* Room for n keys in all, so that a table whose size is known grows once. */
void htable_reserve(htable *t, size_t n);

/* The same for NUL-terminated keys. */
void *htable_get_str(const htable *t, const char *key);
void *htable_put_str(htable *t, const char *key, void *value);

#endif
