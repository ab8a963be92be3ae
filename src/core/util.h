/* util.h — the small helpers several parts of msl need alike: a message
 * into a caller's buffer, the out-of-memory policy, a whole write to a
 * descriptor, replacing a file through a temporary one, the hashes, a
 * CSV cell, bytes escaped for a message, and a growable array (util.c). */
#ifndef MSL_UTIL_H
#define MSL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* printf into msg (msglen bytes, always terminated); nothing when msg is
 * NULL or msglen is 0, so callers may pass either for "no message". */
void util_set_msg(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same for a function that takes the arguments itself. */
void util_vset_msg(char *msg, size_t msglen, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* Out of memory ends the process: "msl: out of memory" on stderr and exit
 * status 4 (docs/cli.md).  This is the one policy of every layer, as in
 * Lua's default allocator path: no function returns NULL or false for
 * out of memory, so no caller carries an error path that never runs in
 * practice.  util_xalloc zeroes; util_xrealloc(NULL, n) allocates. */
_Noreturn void util_out_of_memory(void);
void *util_xalloc(size_t n);
/* Zeroed, and aligned to a cache line: for what threads write apart, so
 * that no line goes back and forth between cores.  Released with free. */
void *util_xalloc_lines(size_t n);
void *util_xrealloc(void *p, size_t n);
char *util_xstrndup(const char *s, size_t n);
/* Zeroed memory for a large table that is read at random (account blocks,
 * window pools, the account index): from 2 MiB on, mapped on its own, 2 MiB
 * aligned and advised to the kernel for huge pages, so a random read over
 * tens of megabytes costs a cache miss and not a page walk as well.
 * Released with util_huge_free and the same n. */
void *util_huge_alloc(size_t n);
void util_huge_free(void *p, size_t n);
/* realpath(path, NULL) under the same policy: NULL, with errno set, only
 * when path does not resolve. */
char *util_xrealpath(const char *path);
/* The real directory of the file at path (malloc'd): where a file's
 * relative references resolve ("." for a bare name, "/" for a file in /). */
char *util_real_dir(const char *path);

/* Writes all n bytes to fd, retrying short writes and EINTR.  False with
 * errno set by the failing write. */
bool util_write_all(int fd, const void *p, size_t n);

/* Writes a new path: write_fn fills a temporary file beside it (path, then
 * tag, then six random characters) whose mode is set to mode, and only when
 * write_fn, the writes and the close all succeed is it renamed onto path, so
 * path is either whole and new or untouched.  False with errno set by the
 * step that failed (the temporary file is then removed). */
typedef bool util_write_fn(FILE *f, void *ctx);
bool util_replace_file(const char *path, const char *tag, mode_t mode, util_write_fn *write_fn, void *ctx);

/* The hash of in-memory tables (XXH3, 64 bits, from libxxhash): fast on
 * short keys such as ids and names, and on long strings. */
uint64_t util_hash(const void *p, size_t n);
/* Whether the first and the last w bytes (w: 4 or 8, at most n) of x and y
 * are the same: all n bytes when n <= 2 * w, the words overlapping. */
static inline bool util_same_ends(const unsigned char *x, const unsigned char *y, size_t n, size_t w) {
  uint64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  memcpy(&x0, x, w);
  memcpy(&y0, y, w);
  memcpy(&x1, x + n - w, w);
  memcpy(&y1, y + n - w, w);
  return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

/* Whether a[0..n) equals b[0..n), for the short keys of the hot tables
 * (account ids, user names), where calling memcmp costs more than
 * comparing: two words up to 16 bytes, a loop below 4. */
static inline bool util_same_bytes(const void *a, const void *b, size_t n) {
  if (n > 16) return memcmp(a, b, n) == 0;
  const unsigned char *x = a, *y = b;
  if (n >= 8) return util_same_ends(x, y, n, 8);
  if (n >= 4) return util_same_ends(x, y, n, 4);
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return false;
  return true;
}

/* SPEC 7's account partition hash: XXH64 of the id bytes with seed 42,
 * read as signed -- Spark SQL's xxhash64(account).  Shards take
 * pmod(h, N); the account table and -j workers use other bits of it. */
int64_t util_account_hash(const void *p, size_t n);

/* The commas, quotes and newlines of the sixteen bytes at p, a bit each
 * (bit k: byte k): what a CSV scanner looks for, sixteen bytes at a time. */
static inline void util_csv_marks(const char *p, unsigned *comma, unsigned *quote, unsigned *newline) {
#ifdef __SSE2__
  __m128i v = _mm_loadu_si128((const __m128i *)p);
  *comma = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')));
  *quote = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
  *newline = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
#else
  *comma = *quote = *newline = 0;
  for (unsigned k = 0; k < 16; k++) {
    *comma |= (unsigned)(p[k] == ',') << k;
    *quote |= (unsigned)(p[k] == '"') << k;
    *newline |= (unsigned)(p[k] == '\n') << k;
  }
#endif
}

/* One CSV cell as RFC 4180 writes it: as it is, or in double quotes (with
 * each quote doubled) when it holds a comma, a quote, CR or LF.  put
 * receives the bytes in runs. */
typedef void util_put_fn(void *ctx, const char *p, size_t n);
void util_csv_cell(const char *s, size_t n, util_put_fn *put, void *ctx);
/* The same to a stdio stream; errors are left in ferror(f). */
void util_csv_cell_file(FILE *f, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at p (n >= 1 bytes there): 1 to 4,
 * or 0 when it is not one (bad lead byte, bad continuation, overlong form,
 * surrogate, above U+10FFFF). */
size_t util_utf8_len(const unsigned char *p, size_t n);

/* s[0..n) as a JSON string, quotes included: `"` and `\` backslashed,
 * control bytes as \u00XX, valid UTF-8 as it is, and each byte that is
 * not part of valid UTF-8 as \ufffd, so the output is always valid JSON.
 * put receives the bytes in runs. */
void util_json_string(const char *s, size_t n, util_put_fn *put, void *ctx);
/* The same to a stdio stream (NULL writes null); errors are left in ferror(f). */
void util_json_string_file(FILE *f, const char *s);

/* Writes s[0..len) into dst (cap bytes, NUL included) for a message, and
 * returns how many bytes it wrote before the NUL: a control byte (below
 * 0x20, or 0x7f) as \xNN, a byte of backslashed as a backslash and itself,
 * and "..." for the rest once max_shown bytes of s are shown or dst has no
 * room for another escape and the "..." (so cap must be at least 4). */
size_t util_escape(char *dst, size_t cap, const char *s, size_t len, const char *backslashed,
                   size_t max_shown);

/* A growable array: items[0..len) in cap allocated slots.  A zeroed one is
 * empty; free(v.items) releases it. */
#define UTIL_VEC(T) \
  struct {          \
    T *items;       \
    size_t len, cap; \
  }

/* Makes room for at least need items in the array whose pointer (any T *)
 * is at items_field and whose capacity is *cap: the capacity doubles from
 * first_cap until it suffices.  A size that would overflow is out of memory
 * too.  (The pointer is passed by address as void * and copied with memcpy,
 * so no T ** is ever read as a void **.)  The test is inline: hot loops
 * call it per item. */
void util_xgrow_to(void *items_field, size_t *cap, size_t need, size_t item_size, size_t first_cap);
static inline void util_xgrow(void *items_field, size_t *cap, size_t need, size_t item_size, size_t first_cap) {
  if (need > *cap) util_xgrow_to(items_field, cap, need, item_size, first_cap);
}

/* Appends x to a UTIL_VEC. */
#define UTIL_VEC_PUSH(v, x, first_cap)                                               \
  do {                                                                               \
    if ((v).len >= (v).cap)                                                          \
      util_xgrow(&(v).items, &(v).cap, (v).len + 1, sizeof *(v).items, (first_cap)); \
    (v).items[(v).len++] = (x);                                                      \
  } while (0)

#endif
