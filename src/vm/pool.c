/* pool.c — the memory a runtime keeps per account (prefixes source_,
 * pool_): its source, from which account blocks and pool chunks are
 * carved, and the pools of window rings and distinct sets.
 *
 * Every account of a run has its own windows and sets, each a block of a
 * power-of-two number of elements that doubles as it fills.  Taking those
 * from malloc cost a call, a header and a copy per growth per account, and
 * scattered them over the heap.  A pool keeps one list of free blocks per
 * size: a block an account outgrows (or empties, at a restart) is the next
 * one another account of that size takes, and new blocks are carved in
 * order from chunks, so a window's entries are a cache miss away and never
 * a page walk.  Blocks of more than POOL_MAX_BLOCK bytes, which few
 * accounts reach, come from malloc, listed so that pool_release frees them:
 * accounts do not give their blocks back one by one (vm_account_free).
 *
 * The source maps regions in huge pages once they are large
 * (util_huge_alloc), and the account blocks and every pool's chunks share
 * them: a huge page is resident whole once touched, and when the blocks
 * and each pool had regions of their own, the last, partly used huge page
 * of each was (4.3 MB of the 48.5 MB peak over the shared benchmark's 1M
 * events). */
#include "vm/vm_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- the source ------------------------------------------------------------------------------ */

/* Regions grow from SOURCE_FIRST (a run of a few accounts maps little, in
 * ordinary pages) to SOURCE_REGION, two huge pages; a larger request has a
 * region of its own. */
enum { SOURCE_FIRST = 64 << 10, SOURCE_REGION = 4 << 20 };

/* A region starts with the link to the one mapped before it, and its size. */
typedef struct source_region {
  struct source_region *older;
  size_t size;
} source_region;

enum { REGION_HEAD = (sizeof(source_region) + 15) & ~(size_t)15 };

static source_region *map_region(vm_source *s, size_t size) {
  source_region *r = util_huge_alloc(size);   /* fresh zero pages */
  r->size = size;
  r->older = s->regions;
  s->regions = r;
  return r;
}

void *source_take(vm_source *s, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (n > s->left) {
    if (REGION_HEAD + n > SOURCE_REGION) return (char *)map_region(s, REGION_HEAD + n) + REGION_HEAD;
    size_t size = SOURCE_FIRST;
    for (const source_region *r = s->regions; r && size < SOURCE_REGION; r = r->older) size *= 2;
    while (size < REGION_HEAD + n) size *= 2;
    source_region *r = map_region(s, size);   /* the old one's tail is left */
    s->next = (char *)r + REGION_HEAD;
    s->left = size - REGION_HEAD;
  }
  void *p = s->next;
  s->next += n;
  s->left -= n;
  return p;
}

void *source_take_some(vm_source *s, size_t need, size_t want, size_t *got) {
  size_t room = s->left & ~(size_t)15;
  *got = room >= need && room < want ? room : want;
  return source_take(s, *got);
}

void source_release(vm_source *s) {
  while (s->regions) {
    source_region *older = s->regions->older;
    util_huge_free(s->regions, s->regions->size);
    s->regions = older;
  }
  *s = (vm_source){0};
}

/* ---- pools ---------------------------------------------------------------------------------- */

/* Chunks are small, so that a pool's unused tail is: the source's regions
 * are what is mapped in huge pages.  A chunk is POOL_CHUNK bytes or the
 * block it is taken for, or less at a region's end, whose bytes it takes
 * rather than leave them. */
enum { POOL_CHUNK = 16 << 10, POOL_MAX_BLOCK = 64 << 10 };

/* What precedes a block from malloc: its neighbours in the pool's list. */
typedef struct pool_big {
  struct pool_big *prev, *next;
} pool_big;

void pool_init(vm_pool *p, size_t elem, vm_source *source) { *p = (vm_pool){.elem = elem, .source = source}; }

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
    p->next = source_take_some(p->source, size, size > POOL_CHUNK ? size : POOL_CHUNK, &p->left);
  }
  b = p->next;            /* from the source: already zero */
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
  while (p->big) {
    pool_big *next = p->big->next;
    free(p->big);
    p->big = next;
  }
  *p = (vm_pool){.elem = p->elem, .source = p->source};
}
