/* allow.c — `# msl: allow` comments; see allow.h. */
#include "front/allow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "front/codes.h"

/* One allowance: warning code on line. */
typedef struct allowance {
  int line;
  int code;
} allowance;

typedef UTIL_VEC(allowance) allowance_vec;

static bool is_blank(char c) { return c == ' ' || c == '\t'; }
static bool ends_word(char c) { return !c || is_blank(c) || c == ','; }

/* The line a comment's allows apply to: its own when it trails code, else
 * the next line holding code; 0 when no line does.  Strings and names
 * never span lines, so a line holds code unless it is blank or starts
 * with a comment. */
static int target_line(const msl_source *src, const ast_comment *k) {
  if (k->trailing) return k->loc.line;
  for (int line = k->loc.line + 1; line <= src->nlines; line++) {
    const char *p = src->text + src->line_starts[line - 1];
    const char *end = src->text + (line < src->nlines ? src->line_starts[line] : src->len);
    while (p < end && (is_blank(*p) || *p == '\r' || *p == '\n')) p++;
    if (p < end && *p != '#') return line;
  }
  return 0;
}

/* Bytes [from, to) of comment k's text, as a span of the source. */
static msl_loc span_in(const ast_comment *k, size_t from, size_t to) {
  msl_loc l = k->loc;
  l.col = k->loc.col + (int)from;
  l.end_line = l.line;
  l.end_col = k->loc.col + (int)to - 1;
  return l;
}

/* One word of an allow: a warning code goes into out (when the comment
 * applies to a line), anything else is reported. */
static void read_code(const ast_comment *k, size_t from, size_t to, int line, diag_list *d,
                      allowance_vec *out) {
  const char *w = k->text + from;
  size_t n = to - from;
  bool code_form = n == 4 && (w[0] == 'W' || w[0] == 'E');
  for (size_t i = 1; i < n && code_form; i++) code_form = w[i] >= '0' && w[i] <= '9';
  int number = code_form ? (w[1] - '0') * 100 + (w[2] - '0') * 10 + (w[3] - '0') : 0;
  if (code_form && w[0] == 'W' && diag_code_title('W', number)) {
    if (line) UTIL_VEC_PUSH(*out, ((allowance){line, number}), 8);
    return;
  }
  char shown[64];
  util_escape(shown, sizeof shown, w, n, "", 24);
  if (code_form && w[0] == 'E' && diag_code_title('E', number))
    diag_warning(d, span_in(k, from, to), DIAG_W9,
                 "`%s` is an error and cannot be allowed; only warnings (W codes) can", shown);
  else
    diag_warning(d, span_in(k, from, to), DIAG_W9, "`%s` is not a warning code (see docs/errors.md)", shown);
}

/* A `# msl:` comment: its allowances into out, its mistakes into d.
 * Other comments are left alone. */
static void read_comment(const msl_source *src, const ast_comment *k, diag_list *d, allowance_vec *out) {
  const char *t = k->text;   /* starts with '#' */
  size_t i = 1;
  while (is_blank(t[i])) i++;
  if (strncmp(t + i, "msl:", 4) != 0) return;
  i += 4;
  while (is_blank(t[i])) i++;
  size_t word = i;
  while (!ends_word(t[i])) i++;
  if (i == word) {
    diag_warning(d, k->loc, DIAG_W9, "`# msl:` comment without a directive; write `# msl: allow W002`");
    return;
  }
  if (i - word != 5 || strncmp(t + word, "allow", 5) != 0) {
    char shown[64];
    util_escape(shown, sizeof shown, t + word, i - word, "", 24);
    diag_warning(d, span_in(k, word, i), DIAG_W9, "unknown `# msl:` directive `%s`; the one directive is `allow`",
                 shown);
    return;
  }
  int line = target_line(src, k);
  int codes = 0;
  for (;;) {
    while (t[i] && ends_word(t[i])) i++;
    if (!t[i] || strncmp(t + i, "--", 2) == 0) break;   /* the end, or the reason */
    size_t from = i;
    while (!ends_word(t[i])) i++;
    read_code(k, from, i, line, d, out);
    codes++;
  }
  if (!codes)
    diag_warning(d, k->loc, DIAG_W9, "`# msl: allow` names no warning code; write `# msl: allow W002`");
}

static int compare_allowances(const void *a, const void *b) {
  const allowance *x = a, *y = b;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  return (x->code > y->code) - (x->code < y->code);
}

typedef struct silencer {
  const msl_source *src;
  const allowance_vec *allowed;   /* sorted */
} silencer;

static bool is_silenced(const diag *g, void *ctx) {
  const silencer *s = ctx;
  if (g->severity != DIAG_WARNING || g->kind != 'W' || g->loc.src != s->src) return false;
  allowance key = {g->loc.line, g->code};
  return bsearch(&key, s->allowed->items, s->allowed->len, sizeof key, compare_allowances) != NULL;
}

void allow_apply(const ast_module *m, diag_list *d) {
  allowance_vec allowed = {0};
  for (int i = 0; i < m->comments.len; i++) read_comment(m->src, m->comments.items[i], d, &allowed);
  if (allowed.len) {
    if (allowed.len) qsort(allowed.items, allowed.len, sizeof *allowed.items, compare_allowances);
    silencer s = {m->src, &allowed};
    diag_drop_if(d, is_silenced, &s);
  }
  free(allowed.items);
}
