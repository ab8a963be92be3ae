/* test_codes.c — every diagnostic code is documented in docs/errors.md and
 * has a title; the JSON and SARIF renderers carry the codes.  Run from the
 * repository root. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/codes.h"
#include "front/diag.h"
#include "doc_file.h"

typedef struct {
  char kind;
  int num;
  const char *title;
} code_entry;

static const code_entry codes[] = {
#define MSL_CODE_ENTRY(kind, num, title) {#kind[0], num, title},
    MSL_DIAG_CODES(MSL_CODE_ENTRY)
#undef MSL_CODE_ENTRY
};
enum { NCODES = sizeof codes / sizeof codes[0] };

/* A heading line "## E012 — ..." or "### W003 — ...". */
static bool has_heading(const char *doc, const char *code) {
  for (const char *line = doc; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    const char *p = line;
    if (*p != '#') continue;
    while (*p == '#') p++;
    if (*p != ' ') continue;
    p++;
    size_t n = strlen(code);
    if (strncmp(p, code, n) == 0 && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) return true;
  }
  return false;
}

START_TEST(every_code_has_a_doc_heading) {
  char *doc = read_all("docs/errors.md");
  ck_assert_msg(doc != NULL, "cannot read docs/errors.md (run from the repository root)");
  const code_entry *c = &codes[_i];
  char code[8];
  snprintf(code, sizeof code, "%c%03d", c->kind, c->num);
  ck_assert_msg(has_heading(doc, code), "docs/errors.md has no heading for %s", code);
  free(doc);
}
END_TEST

START_TEST(every_code_has_its_title) {
  const code_entry *c = &codes[_i];
  const char *title = diag_code_title(c->kind, c->num);
  ck_assert_msg(title != NULL, "no title for %c%03d", c->kind, c->num);
  ck_assert_str_eq(title, c->title);
}
END_TEST

START_TEST(unknown_code_has_no_title) {
  ck_assert_ptr_null(diag_code_title('E', 999));
  ck_assert_ptr_null(diag_code_title('W', 999));
}
END_TEST

/* ---- codes cited in the other docs ----------------------------------------------- */

static bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* Whether the n bytes at word occur in [from, to), ignoring case. */
static bool occurs(const char *from, const char *to, const char *word, size_t n) {
  for (const char *p = from; p + n <= to; p++) {
    size_t i = 0;
    while (i < n && lower(p[i]) == lower(word[i])) i++;
    if (i == n) return true;
  }
  return false;
}

/* The text a citation at `at` belongs to: its table row, or its paragraph. */
static void citation_context(const char *doc, const char *at, const char **from, const char **to) {
  const char *line = at;
  while (line > doc && line[-1] != '\n') line--;
  const char *end = strchr(at, '\n');
  if (!end) end = at + strlen(at);
  if (*line == '|') {
    *from = line;
    *to = end;
    return;
  }
  const char *p = at;
  while (p > doc + 1 && !(p[-1] == '\n' && p[-2] == '\n')) p--;
  *from = p;
  const char *q = strstr(at, "\n\n");
  *to = q ? q : at + strlen(at);
}

/* How many distinct words of 5 letters or more of the title the context
 * holds, and how many the title has. */
static void title_words_in(const char *title, const char *from, const char *to, int *found,
                           int *words) {
  *found = *words = 0;
  for (const char *w = title; *w;) {
    if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z'))) {
      w++;
      continue;
    }
    const char *e = w;
    while ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z')) e++;
    size_t n = (size_t)(e - w);
    if (n >= 5 && !occurs(title, w, w, n)) {   /* not a repeat of an earlier word */
      (*words)++;
      if (occurs(from, to, w, n)) (*found)++;
    }
    w = e;
  }
}

/* Every E0NN or W0NN a doc cites is a real code; with `titles`, the
 * paragraph (or table row) citing it also speaks of what the code's title
 * names: at least two of its long words, or its only one.  That caught
 * "a cycle ... is an error (E052)" where the tool says E051. */
static void check_citations(const char *path, bool titles) {
  char *doc = read_all(path);
  ck_assert_msg(doc != NULL, "cannot read %s (run from the repository root)", path);
  int cited = 0;
  for (const char *p = doc; *p; p++) {
    if ((*p != 'E' && *p != 'W') || (p > doc && is_alnum(p[-1]))) continue;
    int num = 0, digits = 0;
    while (digits < 4 && p[1 + digits] >= '0' && p[1 + digits] <= '9')
      num = num * 10 + (p[1 + digits++] - '0');
    if (digits != 3 || is_alnum(p[4])) continue;
    cited++;
    const char *title = diag_code_title(*p, num);
    ck_assert_msg(title != NULL, "%s cites %.4s, which is no diagnostic code", path, p);
    if (!titles) continue;
    const char *from, *to;
    citation_context(doc, p, &from, &to);
    int found, words;
    title_words_in(title, from, to, &found, &words);
    ck_assert_msg(found >= (words < 2 ? words : 2),
                  "%s cites %.4s (\"%s\") in a passage about something else:\n%.*s", path, p,
                  title, (int)(to - from), from);
  }
  ck_assert_msg(cited > 0, "%s cites no code: is this the right file?", path);
  free(doc);
}

START_TEST(language_doc_cites_the_codes_the_tool_emits) {
  check_citations("docs/language.md", true);
}
END_TEST

START_TEST(cli_doc_cites_real_codes) {
  check_citations("docs/cli.md", false);
}
END_TEST

/* Two diagnostics in one source: an error E028 and a warning W002. */
static void two_diagnostics(arena *a, diag_list *d, msl_source *src) {
  static const char text[] = "let unused = 1\nmilestone m { exit count(signup) >= 1 }\n";
  src->path = "rules.ms";
  src->text = text;
  src->len = sizeof text - 1;
  diag_init(d, a);
  diag_warning(d, (msl_loc){src, 1, 5, 1, 10}, DIAG_W2, "let `unused` is never used");
  diag_error(d, (msl_loc){src, 2, 26, 2, 31}, DIAG_E28, "unknown event `signup`");
}

static char *render(void (*fn)(FILE *, const diag_list *, const char *), const diag_list *d) {
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  ck_assert_ptr_nonnull(f);
  fn(f, d, "1.0.0");
  ck_assert_int_eq(fclose(f), 0);
  return out;
}

static void render_sarif(FILE *f, const diag_list *d, const char *version) {
  diag_render_sarif(f, d, version);
}

static void render_json(FILE *f, const diag_list *d, const char *version) {
  (void)version;
  diag_render_json(f, d);
}

START_TEST(sarif_names_version_and_rules) {
  arena a;
  arena_init(&a);
  diag_list d;
  msl_source src;
  two_diagnostics(&a, &d, &src);
  char *out = render(render_sarif, &d);
  ck_assert_msg(strstr(out, "\"version\": \"2.1.0\"") != NULL, "no SARIF version in:\n%s", out);
  ck_assert_msg(strstr(out, "\"E028\"") != NULL, "no rule E028 in:\n%s", out);
  ck_assert_msg(strstr(out, "\"W002\"") != NULL, "no rule W002 in:\n%s", out);
  free(out);
  arena_free(&a);
}
END_TEST

START_TEST(json_names_the_codes) {
  arena a;
  arena_init(&a);
  diag_list d;
  msl_source src;
  two_diagnostics(&a, &d, &src);
  char *out = render(render_json, &d);
  ck_assert_msg(strstr(out, "\"E028\"") != NULL, "no E028 in:\n%s", out);
  ck_assert_msg(strstr(out, "\"W002\"") != NULL, "no W002 in:\n%s", out);
  ck_assert_msg(strstr(out, "unknown event `signup`") != NULL, "no message in:\n%s", out);
  free(out);
  arena_free(&a);
}
END_TEST

static Suite *codes_suite(void) {
  Suite *s = suite_create("codes");
  TCase *tc = tcase_create("codes");
  tcase_add_loop_test(tc, every_code_has_a_doc_heading, 0, NCODES);
  tcase_add_loop_test(tc, every_code_has_its_title, 0, NCODES);
  tcase_add_test(tc, unknown_code_has_no_title);
  tcase_add_test(tc, language_doc_cites_the_codes_the_tool_emits);
  tcase_add_test(tc, cli_doc_cites_real_codes);
  tcase_add_test(tc, sarif_names_version_and_rules);
  tcase_add_test(tc, json_names_the_codes);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *r = srunner_create(codes_suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
