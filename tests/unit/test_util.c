/* test_util.c — the shared helpers of src/core/util.c. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

static void wrapper(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void wrapper(char *msg, size_t msglen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  util_vset_msg(msg, msglen, fmt, ap);
  va_end(ap);
}

START_TEST(set_msg_formats_and_truncates) {
  char msg[8];
  util_set_msg(msg, sizeof msg, "%s %d", "row", 42);
  ck_assert_str_eq(msg, "row 42");
  util_set_msg(msg, sizeof msg, "%s", "a long message");
  ck_assert_str_eq(msg, "a long ");   /* cut to the buffer, still terminated */
  strcpy(msg, "kept");
  util_set_msg(msg, 0, "%s", "ignored");
  ck_assert_str_eq(msg, "kept");
  util_set_msg(NULL, 16, "%s", "no buffer: nothing happens");
  wrapper(msg, sizeof msg, "%c%u", 'E', 91u);   /* the va_list form, as a wrapper uses it */
  ck_assert_str_eq(msg, "E91");
  wrapper(msg, sizeof msg, "%s", "truncated here");
  ck_assert_str_eq(msg, "truncat");
}
END_TEST

/* A temporary directory for the file tests, removed with rm -r at the end. */
static char *temp_dir(void) {
  char *dir = strdup("/tmp/msl-test-util-XXXXXX");
  ck_assert_ptr_nonnull(dir);
  ck_assert_ptr_nonnull(mkdtemp(dir));
  return dir;
}

static void remove_dir(char *dir) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
  free(dir);
}

static size_t read_file(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

START_TEST(write_all_writes_everything) {
  char *dir = temp_dir();
  char path[256];
  snprintf(path, sizeof path, "%s/out", dir);
  size_t n = 3u << 20;   /* more than one write(2) is sure to take */
  char *data = malloc(n), *back = malloc(n + 1);
  ck_assert_ptr_nonnull(data);
  ck_assert_ptr_nonnull(back);
  for (size_t i = 0; i < n; i++) data[i] = (char)(i * 7);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert(util_write_all(fd, data, n));
  ck_assert_int_eq(close(fd), 0);
  ck_assert_uint_eq(read_file(path, back, n + 1), n);
  ck_assert_int_eq(memcmp(data, back, n), 0);
  errno = 0;
  ck_assert(!util_write_all(-1, data, 1));
  ck_assert_int_eq(errno, EBADF);
  free(data);
  free(back);
  remove_dir(dir);
}
END_TEST

static bool write_text(FILE *f, void *ctx) { return fputs(ctx, f) >= 0; }
static bool fail_midway(FILE *f, void *ctx) {
  fputs(ctx, f);
  errno = ENOSPC;
  return false;
}

START_TEST(replace_file_is_all_or_nothing) {
  char *dir = temp_dir();
  char path[256], buf[64];
  snprintf(path, sizeof path, "%s/rules.ms", dir);
  ck_assert(util_replace_file(path, ".fmt-", 0640, write_text, "first\n"));
  ck_assert_uint_eq(read_file(path, buf, sizeof buf), 6);
  ck_assert_int_eq(memcmp(buf, "first\n", 6), 0);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 07777, 0640);
  ck_assert(util_replace_file(path, ".fmt-", 0600, write_text, "second\n"));
  ck_assert_uint_eq(read_file(path, buf, sizeof buf), 7);
  ck_assert_int_eq(memcmp(buf, "second\n", 7), 0);
  /* a failed write leaves the file as it was, no temporary file, and its errno */
  errno = 0;
  ck_assert(!util_replace_file(path, ".fmt-", 0600, fail_midway, "third\n"));
  ck_assert_int_eq(errno, ENOSPC);
  ck_assert_uint_eq(read_file(path, buf, sizeof buf), 7);
  ck_assert_int_eq(memcmp(buf, "second\n", 7), 0);
  ck_assert_int_eq(count_entries(dir), 1);
  /* no directory to put the temporary file in */
  snprintf(path, sizeof path, "%s/missing/out.msc", dir);
  errno = 0;
  ck_assert(!util_replace_file(path, ".tmp-", 0644, write_text, "x"));
  ck_assert_int_eq(errno, ENOENT);
  remove_dir(dir);
}
END_TEST

/* The published FNV-1a 64-bit test vectors. */
/* Reference values from an independent XXH64 (tools/xxh64.py), which
 * gives the published vectors for seed 0 (0xef46db3751d8e999 for ""). */
/* Every length up to 20 (bytes, words that overlap, memcmp), the same
 * bytes and one byte changed at each place. */
START_TEST(same_bytes_every_length_and_place) {
  unsigned char a[24], b[24];
  for (size_t n = 0; n <= 20; n++) {
    for (size_t i = 0; i < sizeof a; i++) a[i] = b[i] = (unsigned char)(i * 37 + 11);
    ck_assert_msg(util_same_bytes(a, b, n), "length %zu: equal bytes differ", n);
    for (size_t k = 0; k < n; k++) {
      b[k] ^= 0x80;
      ck_assert_msg(!util_same_bytes(a, b, n), "length %zu: byte %zu changed, still the same", n, k);
      b[k] ^= 0x80;
    }
    b[n] ^= 1;   /* a byte past the end does not count */
    ck_assert_msg(util_same_bytes(a, b, n), "length %zu: a byte past it counted", n);
  }
}
END_TEST

START_TEST(account_hash_is_xxh64_seed_42) {
  ck_assert_int_eq(util_account_hash("", 0), -7444071767201028348);
  ck_assert_int_eq(util_account_hash("a", 1), -8582455328737087284);
  ck_assert_int_eq(util_account_hash("acct000001", 10), -3596544923165696235);
  ck_assert_int_eq(util_account_hash("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 40), -5348608777870439244);
}
END_TEST

START_TEST(hash_counts_every_byte) {
  ck_assert_uint_eq(util_hash("a\0b", 3), util_hash("a\0b", 3));
  ck_assert_uint_ne(util_hash("a\0b", 3), util_hash("a\0c", 3));
  ck_assert_uint_ne(util_hash("a", 1), util_hash("a\0", 2));
}
END_TEST

typedef struct text {
  char buf[128];
  size_t len;
  int calls;
} text;

static void put_text(void *ctx, const char *p, size_t n) {
  text *t = ctx;
  ck_assert_uint_le(t->len + n, sizeof t->buf - 1);
  memcpy(t->buf + t->len, p, n);
  t->len += n;
  t->buf[t->len] = '\0';
  t->calls++;
}

/* The cell as util_csv_cell puts it, checked against util_csv_cell_file. */
static const char *csv(const char *s, size_t n, text *t) {
  memset(t, 0, sizeof *t);
  util_csv_cell(s, n, put_text, t);
  char *mem = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&mem, &len);
  ck_assert_ptr_nonnull(f);
  util_csv_cell_file(f, s, n);
  ck_assert_int_eq(fclose(f), 0);
  ck_assert_uint_eq(len, t->len);
  ck_assert_int_eq(memcmp(mem, t->buf, len), 0);
  free(mem);
  return t->buf;
}

START_TEST(csv_quotes_only_where_needed) {
  text t;
  ck_assert_str_eq(csv("", 0, &t), "");
  ck_assert_str_eq(csv("plain text", 10, &t), "plain text");
  ck_assert_int_eq(t.calls, 1);   /* a plain cell goes out in one piece */
  ck_assert_str_eq(csv("a,b", 3, &t), "\"a,b\"");
  ck_assert_str_eq(csv("say \"hi\"", 8, &t), "\"say \"\"hi\"\"\"");
  ck_assert_str_eq(csv("\"", 1, &t), "\"\"\"\"");
  ck_assert_str_eq(csv("two\nlines", 9, &t), "\"two\nlines\"");
  ck_assert_str_eq(csv("cr\r", 3, &t), "\"cr\r\"");
  ck_assert_str_eq(csv("a,b;c", 3, &t), "\"a,b\"");   /* only n bytes */
  ck_assert_str_eq(csv("tab\there 'q'", 12, &t), "tab\there 'q'");
}
END_TEST

/* Control bytes as \xNN, the backslashed bytes after a backslash, and
 * "..." once max_shown bytes are shown or the buffer has no room left. */
START_TEST(escape_shows_control_bytes) {
  char buf[64];
  ck_assert_uint_eq(util_escape(buf, sizeof buf, "a\0b\x1f\x7f\"\\", 7, "\"\\", SIZE_MAX), 18);
  ck_assert_str_eq(buf, "a\\x00b\\x1f\\x7f\\\"\\\\");
  util_escape(buf, sizeof buf, "say \"hi\"\\", 9, "", SIZE_MAX);
  ck_assert_str_eq(buf, "say \"hi\"\\");   /* nothing backslashed */
  util_escape(buf, sizeof buf, "abcdef", 6, "", 4);
  ck_assert_str_eq(buf, "abcd...");
  util_escape(buf, sizeof buf, "abcd", 4, "", 4);
  ck_assert_str_eq(buf, "abcd");   /* all shown: no "..." */
  ck_assert_uint_eq(util_escape(buf, 10, "abcdef", 6, "", SIZE_MAX), 6);
  ck_assert_str_eq(buf, "abc...");   /* 10 bytes: no room for a fourth byte's escape and "..." */
  util_escape(buf, 10, "\1\2\3", 3, "", SIZE_MAX);
  ck_assert_str_eq(buf, "\\x01...");
}
END_TEST

START_TEST(vec_grows_by_doubling) {
  UTIL_VEC(int) v = {0};
  for (int i = 0; i < 1000; i++) UTIL_VEC_PUSH(v, i * 3, 16);
  ck_assert_uint_eq(v.len, 1000);
  ck_assert_uint_eq(v.cap, 1024);   /* 16, 32, ... 1024 */
  for (int i = 0; i < 1000; i++) ck_assert_int_eq(v.items[i], i * 3);
  free(v.items);
}
END_TEST

START_TEST(grow_doubles_from_the_first_capacity) {
  uint64_t *items = NULL;
  size_t cap = 0;
  util_xgrow(&items, &cap, 5, sizeof *items, 4);
  ck_assert_uint_eq(cap, 8);
  ck_assert_ptr_nonnull(items);
  items[7] = 7;
  uint64_t *before = items;
  util_xgrow(&items, &cap, 8, sizeof *items, 4);   /* room already */
  ck_assert_uint_eq(cap, 8);
  ck_assert_ptr_eq(items, before);
  util_xgrow(&items, &cap, 9, sizeof *items, 4);
  ck_assert_uint_eq(cap, 16);
  ck_assert_uint_eq(items[7], 7);
  free(items);
}
END_TEST

/* A size no memory could hold is out of memory: msl ends with status 4
 * (in a child process, whether Check forks or not). */
START_TEST(grow_to_an_overflowing_size_exits_4) {
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    uint64_t *items = NULL;
    size_t cap = 0;
    util_xgrow(&items, &cap, SIZE_MAX / 4, sizeof *items, 4);
    _exit(0);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 4);
}
END_TEST

static Suite *util_suite(void) {
  Suite *s = suite_create("util");
  TCase *tc = tcase_create("util");
  tcase_add_test(tc, set_msg_formats_and_truncates);
  tcase_add_test(tc, same_bytes_every_length_and_place);
  tcase_add_test(tc, write_all_writes_everything);
  tcase_add_test(tc, replace_file_is_all_or_nothing);
  tcase_add_test(tc, account_hash_is_xxh64_seed_42);
  tcase_add_test(tc, hash_counts_every_byte);
  tcase_add_test(tc, csv_quotes_only_where_needed);
  tcase_add_test(tc, escape_shows_control_bytes);
  tcase_add_test(tc, vec_grows_by_doubling);
  tcase_add_test(tc, grow_doubles_from_the_first_capacity);
  tcase_add_test(tc, grow_to_an_overflowing_size_exits_4);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *r = srunner_create(util_suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
