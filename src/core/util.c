/* util.c — helpers several parts of msl share; see util.h. */
#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* header-only: the hashes inline into their callers, nothing to link */
#define XXH_INLINE_ALL
#include <xxhash.h>

void util_vset_msg(char *msg, size_t msglen, const char *fmt, va_list ap) {
  if (msg && msglen > 0) vsnprintf(msg, msglen, fmt, ap);
}

void util_set_msg(char *msg, size_t msglen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  util_vset_msg(msg, msglen, fmt, ap);
  va_end(ap);
}

_Noreturn void util_out_of_memory(void) {
  fputs("msl: out of memory\n", stderr);
  exit(4);
}

enum { HUGE_PAGE = 2 << 20 };

void *util_xalloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) util_out_of_memory();
  return p;
}

void *util_xalloc_lines(size_t n) {
  if (n > SIZE_MAX - 63) util_out_of_memory();
  n = (n + 63) & ~(size_t)63;   /* aligned_alloc takes a multiple of the alignment */
  void *p = aligned_alloc(64, n ? n : 64);
  if (!p) util_out_of_memory();
  return memset(p, 0, n ? n : 64);
}

void *util_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) util_out_of_memory();
  return q;
}

static size_t huge_round(size_t n) {
  if (n > SIZE_MAX - HUGE_PAGE) util_out_of_memory();
  return (n + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
}

/* Maps one huge page more than asked and trims the ends, so the block
 * starts on a huge page boundary; the advice is only advice (a kernel
 * without transparent huge pages still maps the memory).  Less than a
 * huge page is an ordinary allocation. */
void *util_huge_alloc(size_t n) {
  if (n < HUGE_PAGE) return util_xalloc(n);
  n = huge_round(n);
  char *raw = mmap(NULL, n + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) util_out_of_memory();
  char *p = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
  if (p > raw) munmap(raw, (size_t)(p - raw));
  if (p + n < raw + n + HUGE_PAGE) munmap(p + n, (size_t)(raw + n + HUGE_PAGE - (p + n)));
#ifdef MADV_HUGEPAGE
  madvise(p, n, MADV_HUGEPAGE);
#endif
  return p;
}

void util_huge_free(void *p, size_t n) {
  if (n < HUGE_PAGE) free(p);
  else if (p) munmap(p, huge_round(n));
}

char *util_xstrndup(const char *s, size_t n) {
  char *d = util_xalloc(n + 1);
  memcpy(d, s, n);
  return d;
}

char *util_xrealpath(const char *path) {
  char *real = realpath(path, NULL);
  if (!real && errno == ENOMEM) util_out_of_memory();
  return real;
}

bool util_write_all(int fd, const void *p, size_t n) {
  const char *s = p;
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    s += w;
    n -= (size_t)w;
  }
  return true;
}

bool util_replace_file(const char *path, const char *tag, mode_t mode, util_write_fn *write_fn, void *ctx) {
  size_t n = strlen(path) + strlen(tag) + sizeof "XXXXXX";
  char *tmp = util_xalloc(n);
  snprintf(tmp, n, "%s%sXXXXXX", path, tag);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int e = errno;
    free(tmp);
    errno = e;
    return false;
  }
  fchmod(fd, mode);   /* best effort, as a failed chmod leaves a usable file */
  FILE *f = fdopen(fd, "wb");
  bool ok = f != NULL;
  if (!f) {
    int e = errno;
    close(fd);
    errno = e;
  } else {
    ok = write_fn(f, ctx);
    if (fclose(f) != 0) ok = false;
  }
  if (ok && rename(tmp, path) != 0) ok = false;
  if (!ok) {
    int e = errno;   /* the failure's errno, not the clean-up's */
    unlink(tmp);
    errno = e;
  }
  free(tmp);
  return ok;
}

uint64_t util_hash(const void *p, size_t n) { return XXH3_64bits(p, n); }

int64_t util_account_hash(const void *p, size_t n) { return (int64_t)XXH64(p, n, 42); }

void util_csv_cell(const char *s, size_t n, util_put_fn *put, void *ctx) {
  /* the bytes that make a cell quoted: one table load per byte */
  static const bool special[256] = {[','] = true, ['"'] = true, ['\r'] = true, ['\n'] = true};
  unsigned char any = 0;
  for (size_t i = 0; i < n; i++) any |= special[(unsigned char)s[i]];
  if (!any) {
    put(ctx, s, n);
    return;
  }
  put(ctx, "\"", 1);
  size_t run = 0;   /* start of the bytes not yet written */
  for (size_t i = 0; i < n; i++)
    if (s[i] == '"') {
      put(ctx, s + run, i + 1 - run);   /* up to and including the quote ... */
      run = i;                          /* ... which is written again: "" */
    }
  put(ctx, s + run, n - run);
  put(ctx, "\"", 1);
}

static void put_file(void *ctx, const char *p, size_t n) {
  if (n) fwrite(p, 1, n, ctx);
}

void util_csv_cell_file(FILE *f, const char *s, size_t n) { util_csv_cell(s, n, put_file, f); }

size_t util_escape(char *dst, size_t cap, const char *s, size_t len, const char *backslashed,
                   size_t max_shown) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (i == max_shown || o + 8 > cap) {   /* room for an escape, "..." and the NUL */
      memcpy(dst + o, "...", 3);
      o += 3;
      break;
    }
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f) {
      dst[o++] = '\\';
      dst[o++] = 'x';
      dst[o++] = hex[c >> 4];
      dst[o++] = hex[c & 15];
    } else {
      if (strchr(backslashed, c)) dst[o++] = '\\';   /* c is not NUL: not the terminator */
      dst[o++] = (char)c;
    }
  }
  dst[o] = '\0';
  return o;
}

void util_xgrow_to(void *items_field, size_t *cap, size_t need, size_t item_size, size_t first_cap) {
  size_t c = *cap ? *cap : (first_cap ? first_cap : 1);
  while (c < need) {
    if (c > SIZE_MAX / 2) util_out_of_memory();   /* no size could hold it */
    c *= 2;
  }
  if (item_size && c > SIZE_MAX / item_size) util_out_of_memory();
  void *items;
  memcpy(&items, items_field, sizeof items);
  void *grown = util_xrealloc(items, item_size ? c * item_size : 1);
  memcpy(items_field, &grown, sizeof grown);
  *cap = c;
}

char *util_real_dir(const char *path) {
  char *real = util_xrealpath(path);
  const char *src = real != NULL ? real : path;
  const char *slash = strrchr(src, '/');
  size_t n = slash != NULL ? (size_t)(slash - src) : 1;
  if (slash != NULL && n == 0) n = 1;   /* a file in / */
  char *dir = util_xstrndup(slash != NULL ? src : ".", n);
  free(real);
  return dir;
}

/* ---- JSON strings ------------------------------------------------------------------------------ */

size_t util_utf8_len(const unsigned char *p, size_t n) {
  unsigned c = p[0];
  size_t len;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
  else return 0;
  if (n < len) return 0;
  unsigned cp = c & (0x7F >> len);
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void util_json_string(const char *s, size_t n, util_put_fn *put, void *ctx) {
  const unsigned char *p = (const unsigned char *)s;
  put(ctx, "\"", 1);
  size_t run = 0;          /* start of the bytes that pass through unchanged */
  size_t i = 0;
  while (i < n) {
    size_t len = util_utf8_len(p + i, n - i);
    if (len == 1 && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\') {
      i++;
      continue;
    }
    if (len > 1) {
      i += len;
      continue;
    }
    put(ctx, s + run, i - run);
    char esc[8];
    if (len == 0) memcpy(esc, "\\ufffd", 7);
    else if (p[i] == '"' || p[i] == '\\') esc[0] = '\\', esc[1] = (char)p[i], esc[2] = 0;
    else snprintf(esc, sizeof esc, "\\u%04x", p[i]);
    put(ctx, esc, strlen(esc));
    i++;
    run = i;
  }
  put(ctx, s + run, n - run);
  put(ctx, "\"", 1);
}

void util_json_string_file(FILE *f, const char *s) {
  if (!s) fputs("null", f);
  else util_json_string(s, strlen(s), put_file, f);
}
