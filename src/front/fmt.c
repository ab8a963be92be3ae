/* fmt.c — the canonical formatter; the rules are listed in fmt.h.
 *
 * Three passes: (1) print every declaration into a list of output lines,
 * each remembering the source lines it came from (fmt_print.c); (2) hang
 * each comment on an output line (before it, or at its end) by those source
 * lines; (3) write the lines, deciding blank lines from the source text
 * between them.  This file holds the output buffer, the index of the source
 * text the passes read, and passes 2 and 3. */
#include "front/fmt_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* ---- the buffer ------------------------------------------------------------ */

void fmt_buf_init(fmt_buf *b) { memset(b, 0, sizeof *b); }

void fmt_buf_free(fmt_buf *b) {
  free(b->data);
  fmt_buf_init(b);
}

void fmt_buf_append(fmt_buf *b, const char *s, size_t n) {
  util_xgrow(&b->data, &b->cap, b->len + n + 1, 1, 256);
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

/* ---- the source text -------------------------------------------------------- */

static void index_lines(fmt_ctx *c) {
  const msl_source *src = c->module->src;
  c->text = src && src->text ? src->text : "";
  c->text_len = src && src->text ? src->len : 0;
  int count = 1;
  for (size_t i = 0; i < c->text_len; i++)
    if (c->text[i] == '\n') count++;
  c->line_start = arena_alloc(&c->arena, sizeof *c->line_start * (size_t)count);
  c->line_count = count;
  int line = 1;
  for (size_t i = 0; i < c->text_len; i++)
    if (c->text[i] == '\n') c->line_start[line++] = i + 1;
}

static size_t offset_of(const fmt_ctx *c, int line, int col) {
  if (line < 1 || line > c->line_count) return c->text_len;
  size_t off = c->line_start[line - 1] + (size_t)(col > 1 ? col - 1 : 0);
  return off > c->text_len ? c->text_len : off;
}

static bool line_is_blank(const fmt_ctx *c, int line) {
  if (line < 1 || line > c->line_count) return false;
  for (size_t i = c->line_start[line - 1]; i < c->text_len && c->text[i] != '\n'; i++)
    if (c->text[i] != ' ' && c->text[i] != '\t' && c->text[i] != '\r') return false;
  return true;
}

/* A blank source line strictly between lines a and b. */
static bool blank_between(const fmt_ctx *c, int a, int b) {
  for (int line = a + 1; line < b; line++)
    if (line_is_blank(c, line)) return true;
  return false;
}

/* Where the `{` of a construct starting at `from` is: the first `{` after
 * it outside strings, backquoted names and comments.  The AST keeps no
 * location for braces, and a comment after the brace belongs to the line
 * the brace is printed on. */
src_pos fmt_find_open_brace(const fmt_ctx *c, msl_loc from) {
  src_pos pos = {from.line, from.col};
  size_t i = offset_of(c, from.line, from.col);
  int line = from.line;
  size_t line_off = line >= 1 && line <= c->line_count ? c->line_start[line - 1] : i;
  while (i < c->text_len) {
    char ch = c->text[i];
    if (ch == '{') {
      pos.line = line;
      pos.col = (int)(i - line_off) + 1;
      return pos;
    }
    if (ch == '\n') {
      line++;
      line_off = i + 1;
    } else if (ch == '#') {
      while (i + 1 < c->text_len && c->text[i + 1] != '\n') i++;
    } else if (ch == '"' || ch == '`') {
      for (i++; i < c->text_len && c->text[i] != ch && c->text[i] != '\n'; i++) {
        if (ch != '"' || c->text[i] != '\\' || i + 1 >= c->text_len) continue;
        if (c->text[++i] == '\n') {   /* an escaped line break inside a string */
          line++;
          line_off = i + 1;
        }
      }
      if (i < c->text_len && c->text[i] == '\n') continue;   /* unterminated: count the newline */
    }
    i++;
  }
  return pos;
}

static int pos_cmp(src_pos a, src_pos b) {
  if (a.line != b.line) return a.line < b.line ? -1 : 1;
  return a.col < b.col ? -1 : a.col > b.col;
}

static src_pos comment_pos(const ast_comment *k) {
  src_pos at = {k->loc.line, k->loc.col};
  return at;
}

/* Whether a comment lies strictly between two source positions (the
 * comments are in source order: the first one after `open` decides). */
bool fmt_comment_between(const fmt_ctx *c, src_pos open, src_pos close) {
  const ptr_vec *comments = &c->module->comments;
  int lo = 0, hi = comments->len;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (pos_cmp(comment_pos(comments->items[mid]), open) > 0) hi = mid;
    else lo = mid + 1;
  }
  return lo < comments->len && pos_cmp(comment_pos(comments->items[lo]), close) < 0;
}

/* ---- comments ---------------------------------------------------------------------------- */

/* Output lines come in source order (src_first and src_last never
 * decrease from one line to the next), and so do comments: two cursors
 * walk them together. */
static void place_comments(fmt_ctx *c) {
  const ptr_vec *comments = &c->module->comments;
  out_line **lines = (out_line **)c->lines.items;
  int owner = -1;   /* the last line starting at or before the comment */
  int next = 0;     /* the first line ending at or after it */
  for (int k = 0; k < comments->len; k++) {
    const ast_comment *comment = comments->items[k];
    int line = comment->loc.line;
    while (owner + 1 < c->lines.len && lines[owner + 1]->src_first <= line) owner++;
    if (comment->trailing && owner >= 0) {
      ptr_vec_push(&c->arena, &lines[owner]->trailing, (void *)comment);
      if (lines[owner]->src_last < line) lines[owner]->src_last = line;
      continue;
    }
    while (next < c->lines.len && lines[next]->src_last < line) next++;
    if (next < c->lines.len) ptr_vec_push(&c->arena, &lines[next]->before, (void *)comment);
    else ptr_vec_push(&c->arena, &c->end_comments, (void *)comment);
  }
}

/* ---- writing -------------------------------------------------------------------------------- */

typedef struct writer {
  fmt_ctx *c;
  fmt_buf *out;
  bool started;
  int prev_src_last;
  bool prev_opens_block;
} writer;

static void write_indent(writer *w, int spaces) {
  static const char blanks[] = "                                ";
  size_t n = spaces > 0 ? (size_t)spaces : 0;
  while (n > 0) {
    size_t chunk = n < sizeof blanks - 1 ? n : sizeof blanks - 1;
    fmt_buf_append(w->out, blanks, chunk);
    n -= chunk;
  }
}

static void write_comment_text(writer *w, const ast_comment *k) {
  const char *t = k->text ? k->text : "#";
  size_t n = strlen(t);
  while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r')) n--;
  fmt_buf_append(w->out, t, n);
}

/* Whether a blank line goes before an element starting at src_first. */
static bool blank_before(const writer *w, int src_first, bool closes_block) {
  return w->started && !w->prev_opens_block && !closes_block &&
         blank_between(w->c, w->prev_src_last, src_first);
}

static void write_comment_line(writer *w, const ast_comment *k, int indent, bool blank) {
  if (blank) fmt_buf_append(w->out, "\n", 1);
  write_indent(w, indent);
  write_comment_text(w, k);
  fmt_buf_append(w->out, "\n", 1);
  w->started = true;
  w->prev_src_last = k->loc.line;
  w->prev_opens_block = false;
}

static void write_line(writer *w, const out_line *l) {
  /* A declaration that must stand apart gets its blank line right after
   * the previous declaration when the source had none anywhere between. */
  bool forced = l->force_blank_before && w->started;
  int last = w->prev_src_last;
  for (int i = 0; i < l->before.len && forced; i++) {
    const ast_comment *k = l->before.items[i];
    if (blank_between(w->c, last, k->loc.line)) forced = false;
    last = k->loc.line;
  }
  if (forced && blank_between(w->c, last, l->src_first)) forced = false;

  for (int i = 0; i < l->before.len; i++) {
    const ast_comment *k = l->before.items[i];
    bool blank = blank_before(w, k->loc.line, false) || (forced && i == 0);
    write_comment_line(w, k, l->comment_indent, blank);
  }
  if (blank_before(w, l->src_first, l->closes_block) || (forced && l->before.len == 0))
    fmt_buf_append(w->out, "\n", 1);
  write_indent(w, l->indent);
  fmt_buf_append(w->out, l->text, strlen(l->text));
  for (int i = 0; i < l->trailing.len; i++) {
    fmt_buf_append(w->out, "  ", 2);
    write_comment_text(w, l->trailing.items[i]);
  }
  fmt_buf_append(w->out, "\n", 1);
  w->started = true;
  w->prev_src_last = l->src_last;
  w->prev_opens_block = l->opens_block;
}

static void write_all(fmt_ctx *c, fmt_buf *out) {
  writer w = {.c = c, .out = out};
  for (int i = 0; i < c->lines.len; i++) write_line(&w, c->lines.items[i]);
  for (int i = 0; i < c->end_comments.len; i++) {
    const ast_comment *k = c->end_comments.items[i];
    write_comment_line(&w, k, 0, blank_before(&w, k->loc.line, false));
  }
}

bool fmt_module(const ast_module *m, fmt_buf *out) {
  fmt_buf_append(out, "", 0);   /* out->data is a string even for an empty module */
  fmt_ctx c;
  memset(&c, 0, sizeof c);
  arena_init(&c.arena);
  c.module = m;
  fmt_buf_init(&c.line);
  index_lines(&c);
  fmt_print_decls(&c);
  bool ok = !c.incomplete;
  if (ok) {
    place_comments(&c);
    write_all(&c, out);
  }
  fmt_buf_free(&c.line);
  arena_free(&c.arena);
  return ok;
}
