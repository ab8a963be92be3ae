/* test_native_text.c — the std/text native library (stdlib/native/text.c),
 * called directly after dlopen("stdlib/native/libmsl_text.so") from the
 * repository root, as `make` builds it. */
#include <check.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native_symbol.h"

#define TEXT_LIB "stdlib/native/libmsl_text.so"

/* The library's functions, loaded once by main before the tests run. */
static struct {
  const char *(*lower)(const char *);
  const char *(*upper)(const char *);
  bool (*contains)(const char *, const char *);
  bool (*starts_with)(const char *, const char *);
  bool (*ends_with)(const char *, const char *);
  const char *(*email_domain)(const char *);
  int64_t (*length)(const char *);
  const char *(*trim)(const char *);
} text;

/* ---- case ------------------------------------------------------------------------ */

START_TEST(test_lower_upper_ascii_only) {
  ck_assert_str_eq(text.lower("ACME Corp-42"), "acme corp-42");
  ck_assert_str_eq(text.upper("emea-1 west"), "EMEA-1 WEST");
  ck_assert_str_eq(text.lower(""), "");
  ck_assert_str_eq(text.upper(""), "");
  /* Bytes >= 0x80 are left as they are: É stays É, ß stays ß. */
  ck_assert_str_eq(text.lower("\xC3\x89" "COLE"), "\xC3\x89" "cole");
  ck_assert_str_eq(text.upper("stra\xC3\x9F" "e"), "STRA\xC3\x9F" "E");
  ck_assert_str_eq(text.lower("@[`{"), "@[`{");   /* neighbours of A-Z and a-z */
  ck_assert_str_eq(text.upper("@[`{"), "@[`{");
}
END_TEST

START_TEST(test_results_have_a_buffer_per_function) {
  const char *lowered = text.lower("ABC");
  const char *uppered = text.upper("def");
  const char *trimmed = text.trim(" ghi ");
  const char *domain = text.email_domain("x@JKL.io");
  ck_assert_str_eq(lowered, "abc");
  ck_assert_str_eq(uppered, "DEF");
  ck_assert_str_eq(trimmed, "ghi");
  ck_assert_str_eq(domain, "jkl.io");
}
END_TEST

START_TEST(test_long_strings_grow_the_buffer) {
  size_t n = 100000;
  char *s = malloc(n + 1);
  ck_assert_ptr_nonnull(s);
  for (size_t i = 0; i < n; i++)
    s[i] = (char)('A' + i % 26);
  s[n] = '\0';
  const char *out = text.lower(s);
  ck_assert_uint_eq(strlen(out), n);
  for (size_t i = 0; i < n; i++)
    ck_assert_int_eq(out[i], 'a' + (int)(i % 26));
  ck_assert_str_eq(text.lower("SHORT AGAIN"), "short again");
  free(s);
}
END_TEST

/* ---- search ---------------------------------------------------------------------- */

START_TEST(test_contains) {
  ck_assert(text.contains("pro-annual", "annual"));
  ck_assert(text.contains("pro-annual", "pro-annual"));
  ck_assert(text.contains("pro", ""));
  ck_assert(text.contains("", ""));
  ck_assert(!text.contains("", "a"));
  ck_assert(!text.contains("pro", "pro-annual"));
  ck_assert(!text.contains("ACME", "acme"));   /* case-sensitive */
}
END_TEST

START_TEST(test_starts_with_ends_with) {
  ck_assert(text.starts_with("eu-west-1", "eu-"));
  ck_assert(text.starts_with("eu", "eu"));
  ck_assert(text.starts_with("eu", ""));
  ck_assert(!text.starts_with("eu", "eu-"));
  ck_assert(!text.starts_with("EU-west", "eu-"));
  ck_assert(text.ends_with("report.pdf", ".pdf"));
  ck_assert(text.ends_with(".pdf", ".pdf"));
  ck_assert(text.ends_with("x", ""));
  ck_assert(text.ends_with("", ""));
  ck_assert(!text.ends_with("pdf", ".pdf"));
  ck_assert(!text.ends_with("report.PDF", ".pdf"));
  ck_assert(!text.ends_with("report.pdf.gz", ".pdf"));
}
END_TEST

/* ---- email_domain ------------------------------------------------------------------ */

START_TEST(test_email_domain) {
  ck_assert_str_eq(text.email_domain("ann@example.com"), "example.com");
  ck_assert_str_eq(text.email_domain("ANN@EXAMPLE.COM"), "example.com");
  ck_assert_str_eq(text.email_domain("Ann@Sub.Example.Co.UK"), "sub.example.co.uk");
  ck_assert_str_eq(text.email_domain("@acme.io"), "acme.io");
}
END_TEST

START_TEST(test_email_domain_without_at) {
  ck_assert_str_eq(text.email_domain("ann"), "");
  ck_assert_str_eq(text.email_domain(""), "");
  ck_assert_str_eq(text.email_domain("example.com"), "");
}
END_TEST

START_TEST(test_email_domain_after_the_last_at) {
  ck_assert_str_eq(text.email_domain("a@b@c.org"), "c.org");
  ck_assert_str_eq(text.email_domain("\"ann@home\"@Acme.IO"), "acme.io");
  ck_assert_str_eq(text.email_domain("ann@"), "");
  ck_assert_str_eq(text.email_domain("@"), "");
  ck_assert_str_eq(text.email_domain("ann@acme.io@"), "");
  /* Non-ASCII domains keep their multi-byte characters as they are. */
  ck_assert_str_eq(text.email_domain("x@B\xC3\x9C" "CHER.de"), "b\xC3\x9C" "cher.de");
}
END_TEST

/* ---- length and trim ------------------------------------------------------------------ */

START_TEST(test_length_counts_characters) {
  ck_assert_int_eq(text.length(""), 0);
  ck_assert_int_eq(text.length("acme"), 4);
  ck_assert_int_eq(text.length("caf\xC3\xA9"), 4);               /* é: 2 bytes */
  ck_assert_int_eq(text.length("\xE6\x97\xA5\xE6\x9C\xAC"), 2);   /* 日本: 3 bytes each */
  ck_assert_int_eq(text.length("\xF0\x9F\x9A\x80!"), 2);          /* a 4-byte rocket, then ! */
}
END_TEST

START_TEST(test_trim) {
  ck_assert_str_eq(text.trim("  acme \n"), "acme");
  ck_assert_str_eq(text.trim("\t\r\n\v\fx y\f"), "x y");
  ck_assert_str_eq(text.trim("acme"), "acme");
  ck_assert_str_eq(text.trim(""), "");
  ck_assert_str_eq(text.trim(" \t "), "");
  /* Only ASCII white space: a no-break space (U+00A0) stays. */
  ck_assert_str_eq(text.trim("\xC2\xA0x "), "\xC2\xA0x");
}
END_TEST

/* ---- threads ----------------------------------------------------------------------- */

static void *lower_in_thread(void *arg) {
  (void)arg;
  const char *s = text.lower("THREAD");
  return (void *)(strcmp(s, "thread") == 0 ? s : NULL);
}

/* Each thread has its own buffers (and they are freed when it exits: the
 * sanitizer build would report a leak otherwise). */
START_TEST(test_buffers_are_per_thread) {
  const char *mine = text.lower("MAIN");
  pthread_t thread;
  ck_assert_int_eq(pthread_create(&thread, NULL, lower_in_thread, NULL), 0);
  void *theirs = NULL;
  ck_assert_int_eq(pthread_join(thread, &theirs), 0);
  ck_assert_ptr_nonnull(theirs);
  ck_assert_ptr_ne(theirs, mine);
  ck_assert_str_eq(mine, "main");
}
END_TEST

int main(void) {
  void *lib = dlopen(TEXT_LIB, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "test_native_text: %s (run from the repository root after make)\n",
            dlerror());
    return EXIT_FAILURE;
  }
  if (!load_symbol(lib, "lower", &text.lower) || !load_symbol(lib, "upper", &text.upper) ||
      !load_symbol(lib, "contains", &text.contains) ||
      !load_symbol(lib, "starts_with", &text.starts_with) ||
      !load_symbol(lib, "ends_with", &text.ends_with) ||
      !load_symbol(lib, "email_domain", &text.email_domain) ||
      !load_symbol(lib, "length", &text.length) || !load_symbol(lib, "trim", &text.trim)) {
    dlclose(lib);
    return EXIT_FAILURE;
  }

  Suite *s = suite_create("native_text");
  TCase *tc = tcase_create("text");
  tcase_add_test(tc, test_lower_upper_ascii_only);
  tcase_add_test(tc, test_results_have_a_buffer_per_function);
  tcase_add_test(tc, test_long_strings_grow_the_buffer);
  tcase_add_test(tc, test_contains);
  tcase_add_test(tc, test_starts_with_ends_with);
  tcase_add_test(tc, test_email_domain);
  tcase_add_test(tc, test_email_domain_without_at);
  tcase_add_test(tc, test_email_domain_after_the_last_at);
  tcase_add_test(tc, test_length_counts_characters);
  tcase_add_test(tc, test_trim);
  tcase_add_test(tc, test_buffers_are_per_thread);
  suite_add_tcase(s, tc);

  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  /* Unloading runs the library's destructor, which frees this thread's buffers. */
  dlclose(lib);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
