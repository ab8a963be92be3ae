/* test_pool.c — a runtime's source and its pools of window rings and
 * distinct sets (src/vm/pool.c): the source's zeroed, aligned pieces that
 * never overlap, in regions that grow and a region of its own for a large
 * one; the pools' zeroed blocks of 2^k elements, a freed block the next
 * one of its size, blocks past the pooled sizes from malloc. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_internal.h"

static bool all_zero(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i]) return false;
  return true;
}

/* Pieces of many sizes, two larger than a region: zeroed, 16-byte
 * aligned, each apart from the others; a large one has a region of its
 * own, and the next small piece follows the one before it.  The regions
 * are unmapped at the end (ASan would see a leak). */
START_TEST(source_pieces_are_zeroed_aligned_and_apart) {
  vm_source source = {0};
  char *a = source_take(&source, 20);
  char *large = source_take(&source, (size_t)5 << 20);
  char *b = source_take(&source, 20);
  ck_assert_ptr_eq(b, a + 32);
  ck_assert(all_zero(large, (size_t)5 << 20));
  enum { N = 2000 };
  static char *piece[N];
  static size_t size[N];
  for (int i = 0; i < N; i++) {
    size[i] = i == 700 ? (size_t)9 << 20 : (size_t)(i % 97) * 37 + 1;
    piece[i] = source_take(&source, size[i]);
    ck_assert_uint_eq((uintptr_t)piece[i] % 16, 0);
    ck_assert(all_zero(piece[i], size[i]));
    memset(piece[i], i % 251 + 1, size[i]);
  }
  for (int i = 0; i < N; i++) {   /* nothing written later overlapped it */
    ck_assert_int_eq((unsigned char)piece[i][0], i % 251 + 1);
    ck_assert_int_eq((unsigned char)piece[i][size[i] - 1], i % 251 + 1);
  }
  source_release(&source);
  ck_assert_ptr_null(source.regions);
}
END_TEST

/* A request for some bytes takes the rest of the region when what it needs
 * fits there, and a new region's worth when not. */
START_TEST(source_take_some_takes_a_region_rest) {
  vm_source source = {0};
  char *first = source_take(&source, 16);   /* the first region: 64 KiB */
  size_t rest = source.left, got;
  char *p = source_take_some(&source, 1024, (size_t)1 << 20, &got);
  ck_assert_ptr_eq(p, first + 16);
  ck_assert_uint_eq(got, rest);
  ck_assert_uint_eq(source.left, 0);
  char *q = source_take_some(&source, 1024, 4096, &got);   /* nothing left: a new region */
  ck_assert_uint_eq(got, 4096);
  ck_assert(all_zero(q, 4096));
  char *r = source_take_some(&source, 64, 4096, &got);      /* room for all it wants */
  ck_assert_ptr_eq(r, q + 4096);
  ck_assert_uint_eq(got, 4096);
  source_release(&source);
}
END_TEST

START_TEST(blocks_are_zeroed_and_reused_by_size) {
  vm_source source = {0};
  vm_pool pool;
  pool_init(&pool, 24, &source);
  char *a = pool_alloc(&pool, 3);   /* 8 elements: 192 bytes */
  char *b = pool_alloc(&pool, 3);
  ck_assert_ptr_ne(a, b);
  ck_assert(all_zero(a, 192) && all_zero(b, 192));
  ck_assert_uint_eq((uintptr_t)a % 8, 0);
  ck_assert(b >= a + 192 || a >= b + 192);   /* blocks never overlap */
  memset(a, 0xab, 192);
  pool_free(&pool, a, 3);
  char *c = pool_alloc(&pool, 2);   /* another size: not a's block */
  ck_assert_ptr_ne(c, a);
  char *d = pool_alloc(&pool, 3);   /* the freed block of that size, zeroed again */
  ck_assert_ptr_eq(d, a);
  ck_assert(all_zero(d, 192));
  pool_free(&pool, NULL, 3);        /* nothing */
  pool_release(&pool);
  ck_assert_ptr_null(pool.big);
  ck_assert_uint_eq(pool.elem, 24);   /* ready for use again */
  ck_assert_ptr_eq(pool.source, &source);
  source_release(&source);
}
END_TEST

START_TEST(large_blocks_and_many_chunks) {
  vm_source source = {0};
  vm_pool pool;
  pool_init(&pool, 32, &source);
  /* past the pooled sizes (64 KiB): malloc's, freed to it (ASan sees a leak or a bad free) */
  char *big = pool_alloc(&pool, 12);
  ck_assert(all_zero(big, (size_t)32 << 12));
  big[((size_t)32 << 12) - 1] = 1;
  pool_free(&pool, big, 12);
  /* 300 blocks of 64 KiB take many chunks and regions; all distinct */
  enum { N = 300 };
  char **blocks = malloc(N * sizeof *blocks);
  for (int i = 0; i < N; i++) {
    blocks[i] = pool_alloc(&pool, 11);
    ck_assert(all_zero(blocks[i], (size_t)32 << 11));
    memset(blocks[i], i + 1, (size_t)32 << 11);
  }
  for (int i = 0; i < N; i++) ck_assert_int_eq((unsigned char)blocks[i][((size_t)32 << 11) - 1], (unsigned char)(i + 1));
  for (int i = 0; i < N; i++) pool_free(&pool, blocks[i], 11);
  for (int i = N; i-- > 0;) ck_assert_ptr_eq(pool_alloc(&pool, 11), blocks[i]);   /* last freed, first taken */
  free(blocks);
  pool_release(&pool);
  source_release(&source);
}
END_TEST

START_TEST(huge_allocations_are_zeroed_and_aligned) {
  size_t sizes[] = {1, 4096, (size_t)2 << 20, ((size_t)5 << 20) + 17};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    char *p = util_huge_alloc(sizes[i]);
    ck_assert(all_zero(p, sizes[i]));
    if (sizes[i] >= (size_t)2 << 20) ck_assert_uint_eq((uintptr_t)p % ((size_t)2 << 20), 0);
    p[sizes[i] - 1] = 1;
    util_huge_free(p, sizes[i]);
  }
  util_huge_free(NULL, (size_t)4 << 20);
  util_huge_free(NULL, 64);
}
END_TEST

int main(void) {
  Suite *s = suite_create("pool");
  TCase *tc = tcase_create("blocks");
  tcase_add_test(tc, source_pieces_are_zeroed_aligned_and_apart);
  tcase_add_test(tc, source_take_some_takes_a_region_rest);
  tcase_add_test(tc, blocks_are_zeroed_and_reused_by_size);
  tcase_add_test(tc, large_blocks_and_many_chunks);
  tcase_add_test(tc, huge_allocations_are_zeroed_and_aligned);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
