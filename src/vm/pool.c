/* pool.c — the memory of window rings and distinct sets (prefix pool_).
 *
 * Every account of a run has its own windows and sets, each a block of a
 * power-of-two number of elements that doubles as it fills.  Taking those
 * from malloc cost a call, a header and a copy per growth per account, and
 * scattered them over the heap.  A pool keeps one list of free blocks per
 * size: a block an account outgrows (or empties, at a restart) is the next
 * one another account of that size takes, and new blocks are carved in
 * order from chunks mapped for huge pages (util_huge_alloc), so a window's
 * entries are a cache miss away and never a page walk.  Blocks of more
 * than POOL_MAX_BLOCK bytes, which few accounts reach, come from malloc,
 * listed so that pool_release frees them with the chunks: accounts do not
 * give their blocks back one by one (vm_account_free). */
#include "vm/vm_internal.h"

#include <stdlib.h>
#include <string.h>

/* Chunks grow from 128 KiB (a small run maps little) to POOL_CHUNK, a huge
 * page; a chunk always has room for the largest pooled block. */
enum { POOL_FIRST_CHUNK = 128 << 10, POOL_CHUNK = 2 << 20, POOL_MAX_BLOCK = 64 << 10 };

/* A chunk starts with the link to the one carved before it, and its size. */
typedef struct pool_chunk {
  struct pool_chunk *older;
  size_t size;
} pool_chunk;

/* What precedes a block from malloc: its neighbours in the pool's list. */
typedef struct pool_big {
  struct pool_big *prev, *next;
} pool_big;

void pool_init(vm_pool *p, size_t elem) { *p = (vm_pool){.elem = elem}; }

static bool pooled(const vm_pool *p, unsigned k) {
  return k < VM_POOL_CLASSES && (p->elem << k) <= POOL_MAX_BLOCK;
}

void *pool_alloc(vm_pool *p, unsigned k) {
  size_t size = p->elem << k;
  if (!pooled(p, k)) {
    pool_big *h = util_xalloc(sizeof *h + size);   /* zeroed, 16-byte aligned after the link */
    h->next = p->big;
    if (h->next) h->next->prev = h;
    p->big = h;
    return h + 1;
  }
  void *b = p->free[k];
  if (b) {
    memcpy(&p->free[k], b, sizeof(void *));
    memset(b, 0, size);
    return b;
  }
  if (size > p->left) {   /* the old chunk's tail, smaller than a block, is left */
    size_t n = p->chunks && p->chunks->size < POOL_CHUNK ? p->chunks->size * 2 : POOL_FIRST_CHUNK;
    if (p->chunks && p->chunks->size >= POOL_CHUNK) n = POOL_CHUNK;
    pool_chunk *c = util_huge_alloc(n);
    c->older = p->chunks;
    c->size = n;
    p->chunks = c;
    p->next = (char *)(c + 1);   /* 8-byte aligned, as the elements need */
    p->left = n - sizeof *c;
  }
  b = p->next;            /* fresh mapped memory: already zero */
  p->next += size;
  p->left -= size;
  return b;
}

void pool_free(vm_pool *p, void *b, unsigned k) {
  if (!b) return;
  if (!pooled(p, k)) {
    pool_big *h = (pool_big *)b - 1;
    if (h->prev) h->prev->next = h->next;
    else p->big = h->next;
    if (h->next) h->next->prev = h->prev;
    free(h);
    return;
  }
  memcpy(b, &p->free[k], sizeof(void *));
  p->free[k] = b;
}

void pool_release(vm_pool *p) {
  while (p->chunks) {
    pool_chunk *older = p->chunks->older;
    util_huge_free(p->chunks, p->chunks->size);
    p->chunks = older;
  }
  while (p->big) {
    pool_big *next = p->big->next;
    free(p->big);
    p->big = next;
  }
  *p = (vm_pool){.elem = p->elem};
}
