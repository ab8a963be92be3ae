/* text.c — the native side of std/text (libmsl_text.so), called through
 * libffi by `extern fn` declarations in stdlib/std/text.ms.
 *
 * Each exported symbol is named exactly as its MSL function, and listed in
 * TEXT_TABLE below: only what the table lists may be called without
 * --allow-ffi, and only as it says (SPEC 4).  Arguments are
 * NUL-terminated UTF-8.  Case mapping is ASCII only: bytes >= 0x80 pass
 * through unchanged, so multi-byte characters are never split or altered.
 *
 * Returned strings: the extern ABI (SPEC 4) leaves a returned const char *
 * owned by the library, and the caller copies it at once.  So each function
 * that builds a string keeps it in a buffer of its own, per thread, valid
 * until that function is called again on the same thread.  This is the one
 * place static storage is right: the ABI has no other owner for the memory.
 * The per-thread buffers hang off a pthread key rather than _Thread_local
 * variables because a key frees them when the thread exits; the key itself
 * is created when the library loads and deleted when it unloads (freeing the
 * unloading thread's buffers).  When a buffer cannot grow (out of memory)
 * the function returns NULL, which MSL reads as "". */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "native_table.h"

#pragma GCC visibility push(hidden)

/* The table this library publishes (SPEC 4): every function MSL may call
 * without --allow-ffi, with its MSL parameter and result types
 * (native_table.h). */
#define TEXT_TABLE(F)                          \
  F(lower, string, 1, (string))                \
  F(upper, string, 1, (string))                \
  F(contains, bool, 2, (string, string))       \
  F(starts_with, bool, 2, (string, string))    \
  F(ends_with, bool, 2, (string, string))      \
  F(email_domain, string, 1, (string))         \
  F(length, int, 1, (string))                  \
  F(trim, string, 1, (string))

MSL_NATIVE_TABLE(TEXT_TABLE)

typedef struct text_buffer {
  char *data;
  size_t cap;
} text_buffer;

/* One thread's results, one buffer per function returning a string. */
typedef struct text_results {
  text_buffer lower, upper, email_domain, trim;
} text_results;

static pthread_key_t results_key;   /* written once, while the library loads */
static bool results_key_created;

static void free_results(void *p) {
  text_results *r = p;
  if (r == NULL)
    return;
  free(r->lower.data);
  free(r->upper.data);
  free(r->email_domain.data);
  free(r->trim.data);
  free(r);
}

__attribute__((constructor)) static void create_results_key(void) {
  results_key_created = pthread_key_create(&results_key, free_results) == 0;
}

__attribute__((destructor)) static void delete_results_key(void) {
  if (!results_key_created)
    return;
  free_results(pthread_getspecific(results_key));
  pthread_setspecific(results_key, NULL);
  pthread_key_delete(results_key);
}

/* The calling thread's results; NULL when out of memory. */
static text_results *thread_results(void) {
  if (!results_key_created)
    return NULL;
  text_results *r = pthread_getspecific(results_key);
  if (r == NULL) {
    r = calloc(1, sizeof *r);
    if (r == NULL || pthread_setspecific(results_key, r) != 0) {
      free(r);
      return NULL;
    }
  }
  return r;
}

/* Room for len bytes and a NUL in b; NULL when out of memory. */
static char *reserve(text_buffer *b, size_t len) {
  if (len >= b->cap) {
    size_t cap = b->cap > 0 ? b->cap : 64;
    while (cap <= len) {
      if (cap > SIZE_MAX / 2)
        return NULL;
      cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (data == NULL)
      return NULL;
    b->data = data;
    b->cap = cap;
  }
  return b->data;
}

static char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* s mapped byte by byte into b, NUL-terminated. */
static const char *map_into(text_buffer *b, const char *s, char (*map)(char)) {
  size_t len = strlen(s);
  char *out = reserve(b, len);
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < len; i++)
    out[i] = map(s[i]);
  out[len] = '\0';
  return out;
}

/* s with ASCII A-Z mapped to a-z. */
MSL_EXPORT const char *lower(const char *s) {
  text_results *r = thread_results();
  return r != NULL ? map_into(&r->lower, s, ascii_lower) : NULL;
}

/* s with ASCII a-z mapped to A-Z. */
MSL_EXPORT const char *upper(const char *s) {
  text_results *r = thread_results();
  return r != NULL ? map_into(&r->upper, s, ascii_upper) : NULL;
}

/* Whether part occurs in s (bytewise; the empty part occurs everywhere). */
MSL_EXPORT bool contains(const char *s, const char *part) {
  return strstr(s, part) != NULL;
}

MSL_EXPORT bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

MSL_EXPORT bool ends_with(const char *s, const char *suffix) {
  size_t len = strlen(s), suffix_len = strlen(suffix);
  return suffix_len <= len && memcmp(s + len - suffix_len, suffix, suffix_len) == 0;
}

/* The lower-cased text after the last '@'; "" when there is none.  The last
 * one, because a quoted local part may itself hold '@'. */
MSL_EXPORT const char *email_domain(const char *s) {
  const char *at = strrchr(s, '@');
  if (at == NULL)
    return "";
  text_results *r = thread_results();
  return r != NULL ? map_into(&r->email_domain, at + 1, ascii_lower) : NULL;
}

/* The number of characters: UTF-8 code points, counted as the bytes that
 * do not continue a character (continuation bytes are 10xxxxxx). */
MSL_EXPORT int64_t length(const char *s) {
  int64_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
    if ((*p & 0xC0) != 0x80)
      n++;
  return n;
}

/* s without ASCII white space (space, \t, \n, \r, \v, \f) at either end. */
MSL_EXPORT const char *trim(const char *s) {
  size_t len = strlen(s), first = 0;
  while (first < len && ascii_space(s[first]))
    first++;
  while (len > first && ascii_space(s[len - 1]))
    len--;
  text_results *r = thread_results();
  char *out = r != NULL ? reserve(&r->trim, len - first) : NULL;
  if (out == NULL)
    return NULL;
  memcpy(out, s + first, len - first);
  out[len - first] = '\0';
  return out;
}

#pragma GCC visibility pop
