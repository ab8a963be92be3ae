/* test_hints.c — "did you mean" in rule files (sema_hint.c and its users):
 * what the golden tests cannot show, namely the comparison budget, the
 * order among equally close modules, and imports with nothing to compare. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "front/codes.h"
#include "front/parse.h"
#include "front/sema.h"

typedef struct checked {
  char dir[64];            /* a temporary directory for files, or "" */
  arena arena;
  diag_list diags;
} checked;

static checked *checked_new(void) {
  checked *c = calloc(1, sizeof *c);
  ck_assert_ptr_nonnull(c);
  arena_init(&c->arena);
  diag_init(&c->diags, &c->arena);
  return c;
}

static void checked_free(checked *c) {
  if (c->dir[0]) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
    ck_assert_int_eq(system(cmd), 0);
  }
  arena_free(&c->arena);
  free(c);
}

static void check_source(checked *c, const char *path, const char *text) {
  msl_source *src = source_from_string(&c->arena, path, text, strlen(text));
  sema_options opts = {0};
  msl_program *p = sema_load_source(&c->arena, src, &opts, &c->diags);
  ck_assert_ptr_nonnull(p);
  sema_check(p, &opts, &c->diags);
}

static void write_file(const char *dir, const char *name, const char *text) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_ge(fputs(text, f), 0);
  ck_assert_int_eq(fclose(f), 0);
}

static const diag *nth_diag(const checked *c, int n) {
  const diag *g = c->diags.first;
  for (int i = 0; g && i < n; i++) g = g->next;
  ck_assert_ptr_nonnull(g);
  return g;
}

/* 2,000 lets and 2,000 unknown names close to them: the first names get
 * their suggestion, and once the budget is spent the rest go without one
 * (each lookup compares against every let: 4 million comparisons). */
START_TEST(budget_limits_suggestions) {
  enum { N = 2000 };
  checked *c = checked_new();
  char *text = arena_alloc(&c->arena, (size_t)N * 64);
  size_t len = 0;
  for (int i = 0; i < N; i++) len += (size_t)sprintf(text + len, "let field_%04d = 1\n", i);
  for (int i = 0; i < N; i++) len += (size_t)sprintf(text + len, "let use_%04d = fieldx%04d\n", i, i);
  check_source(c, "budget.ms", text);
  ck_assert_int_eq(c->diags.errors, N);
  const diag *first = nth_diag(c, 0), *last = nth_diag(c, N - 1);
  ck_assert_int_eq(first->code, DIAG_E27);
  ck_assert_str_eq(first->message, "unknown name `fieldx0000`; did you mean `field_0000`?");
  ck_assert_str_eq(last->message, "unknown name `fieldx1999`");
  checked_free(c);
}
END_TEST

/* Equally close modules: the first in name order, whatever the directory's
 * order; an empty import suggests nothing. */
START_TEST(import_hint_order_and_empty) {
  checked *c = checked_new();
  strcpy(c->dir, "/tmp/msl-hints-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(c->dir));
  write_file(c->dir, "textb.ms", "let b = 1\n");
  write_file(c->dir, "texta.ms", "let a = 1\n");
  write_file(c->dir, ".textc.ms", "let c = 1\n");
  char path[128];
  snprintf(path, sizeof path, "%s/main.ms", c->dir);
  check_source(c, path, "import \"textc\"\nimport \"\"\n");
  ck_assert_int_eq(c->diags.errors, 2);
  ck_assert_msg(strstr(nth_diag(c, 0)->message, "does not exist; did you mean `texta`?"), "%s",
                nth_diag(c, 0)->message);
  ck_assert_msg(!strstr(nth_diag(c, 1)->message, "did you mean"), "%s", nth_diag(c, 1)->message);
  checked_free(c);
}
END_TEST

static Suite *hints_suite(void) {
  Suite *s = suite_create("hints");
  TCase *tc = tcase_create("hints");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, budget_limits_suggestions);
  tcase_add_test(tc, import_hint_order_and_empty);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(hints_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
