/* parse.c — loading sources and running the parser; see parse.h.
 *
 * The grammar (grammar/msl.y) and the lexer (grammar/msl.l) share the
 * parse_ctx declared in the generated msl.tab.h; the helpers they share live
 * here. */
#include "front/parse.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "front/codes.h"
#include "msl.tab.h"
#include "lex.yy.h"

/* Rule files are small; anything near the lexer's int-sized buffers is
 * refused up front. */
enum { PARSE_MAX_SOURCE = 1 << 30 };

msl_source *source_from_string(arena *a, const char *path, const char *text, size_t len) {
  msl_source *s = arena_alloc(a, sizeof *s);
  s->path = arena_strdup(a, path ? path : "<string>");
  s->text = arena_strndup(a, text, len);
  s->len = len;
  source_index_lines(a, s);
  return s;
}

/* Reads f to its end into the arena; NULL with *err set on failure. */
static msl_source *source_read(arena *a, FILE *f, const char *path, int *err) {
  size_t cap = 0, len = 0;
  char *buf = NULL;
  for (;;) {
    if (len == cap) {
      if (cap >= PARSE_MAX_SOURCE) {
        free(buf);
        *err = EFBIG;
        return NULL;
      }
      util_xgrow(&buf, &cap, len + 1, 1, 64 * 1024);   /* 64 KiB, then twice the room */
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      if (ferror(f)) {
        *err = errno ? errno : EIO;
        free(buf);
        return NULL;
      }
      break;
    }
  }
  msl_source *s = source_from_string(a, path, buf, len);
  free(buf);
  return s;
}

msl_source *source_load(arena *a, const char *path, int *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    *err = errno;
    return NULL;
  }
  errno = 0;
  msl_source *s = source_read(a, f, path, err);
  if (fclose(f) != 0 && s) {
    *err = errno;
    return NULL;
  }
  return s;
}

msl_source *source_load_stdin(arena *a, const char *display_name, int *err) {
  errno = 0;
  return source_read(a, stdin, display_name ? display_name : "<stdin>", err);
}

/* ---- helpers shared with the grammar and the lexer ---------------------------------- */

ast_expr *parse_new_expr(parse_ctx *ctx, ast_expr_kind kind, msl_loc loc) {
  parse_expr_node *n = arena_alloc(ctx->arena, sizeof *n);
  n->expr.kind = kind;
  n->expr.loc = loc;
  n->expr.index = -1;
  n->depth = 1;
  return &n->expr;
}

void parse_report(parse_ctx *ctx, msl_loc loc, int code, const char *fmt, ...) {
  if (ctx->stopped) return;
  if (ctx->errors == PARSE_MAX_ERRORS) {
    diag_error(ctx->diags, loc, DIAG_E19, "too many syntax errors (%d); stopping here",
               PARSE_MAX_ERRORS);
    ctx->stopped = true;
    return;
  }
  ctx->errors++;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *msg = arena_alloc(ctx->arena, (size_t)(n < 0 ? 0 : n) + 1);
  va_start(ap, fmt);
  vsnprintf(msg, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
  va_end(ap);
  diag_error(ctx->diags, loc, code, "%s", msg);
}

const char *parse_quote(parse_ctx *ctx, const char *text, size_t len, size_t max) {
  size_t shown = len < max ? len : max;
  char *out = arena_alloc(ctx->arena, shown + 8);
  size_t o = 0;
  out[o++] = '`';
  for (size_t i = 0; i < shown;) {
    unsigned char c = (unsigned char)text[i];
    if (c >= 0x20 && c < 0x7F) {
      out[o++] = (char)c;
      i++;
      continue;
    }
    size_t u = c >= 0x80 ? util_utf8_len((const unsigned char *)text + i, shown - i) : 0;
    if (u) {
      memcpy(out + o, text + i, u);
      o += u;
      i += u;
    } else {
      out[o++] = '?';
      i++;
    }
  }
  if (shown < len) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o++] = '`';
  out[o] = '\0';
  return out;
}

/* ---- the entry point ----------------------------------------------------------------------- */

ast_module *parse_module(arena *a, const msl_source *src, diag_list *diags) {
  ast_module *m = arena_alloc(a, sizeof *m);
  m->src = src;
  if (src->len >= PARSE_MAX_SOURCE) {
    msl_loc loc = {src, 1, 1, 1, 1};
    diag_error(diags, loc, DIAG_E19, "the file is too large to parse (%zu bytes)", src->len);
    return m;
  }
  parse_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.arena = a;
  ctx.src = src;
  ctx.diags = diags;
  ctx.module = m;
  ctx.line = 1;
  ctx.col = 1;
  yyscan_t scanner;
  if (msl_yylex_init_extra(&ctx, &scanner) != 0) util_out_of_memory();
  YY_BUFFER_STATE buf = msl_yy_scan_bytes(src->text, (int)src->len, scanner);
  msl_yyparse(scanner, &ctx);
  msl_yy_delete_buffer(buf, scanner);
  msl_yylex_destroy(scanner);
  return m;
}
