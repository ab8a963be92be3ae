/* test_parse.c — the lexer and the parser: tokens and literal values,
 * every construct of SPEC sections 2-5, locations, error messages and codes,
 * recovery, comments, and hostile input. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front/codes.h"
#include "front/parse.h"
#include "msl.tab.h"
#include "lex.yy.h"

/* ---- fixtures ---------------------------------------------------------------------- */

static arena A;
static diag_list D;

static void setup(void) {
  arena_init(&A);
  diag_init(&D, &A);
}

static void teardown(void) { arena_free(&A); }

/* A fresh arena and diagnostics list inside one test. */
static void reset(void) {
  teardown();
  setup();
}

static ast_module *parse_len(const char *text, size_t len) {
  msl_source *src = source_from_string(&A, "t.ms", text, len);
  return parse_module(&A, src, &D);
}

static ast_module *parse(const char *text) { return parse_len(text, strlen(text)); }

static ast_module *parse_ok(const char *text) {
  ast_module *m = parse(text);
  for (const diag *g = D.first; g; g = g->next)
    fprintf(stderr, "unexpected diagnostic %d:%d E%03d %s\n", g->loc.line, g->loc.col, g->code,
            g->message);
  ck_assert_int_eq(D.errors, 0);
  return m;
}

static int count_code(int code) {
  int n = 0;
  for (const diag *g = D.first; g; g = g->next) n += g->code == code;
  return n;
}

static const diag *nth_diag(int i) {
  const diag *g = D.first;
  while (g && i-- > 0) g = g->next;
  ck_assert_ptr_nonnull(g);
  return g;
}

static ast_decl *decl(ast_module *m, int i) {
  ck_assert_int_lt(i, m->decls.len);
  return m->decls.items[i];
}

/* The expression of `let x = TEXT`. */
static ast_expr *expr_of(const char *text) {
  char *src = arena_printf(&A, "let x = %s", text);
  ast_module *m = parse_ok(src);
  ck_assert_int_eq(m->decls.len, 1);
  return decl(m, 0)->u.let.expr;
}

/* A printed form of an expression, fully parenthesised, to check structure. */
typedef struct {
  char text[4096];
  size_t len;
} out_buf;

static void put(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_buf *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->text + o->len, sizeof o->text - o->len, fmt, ap);
  va_end(ap);
  ck_assert(n >= 0 && (size_t)n < sizeof o->text - o->len);
  o->len += (size_t)n;
}

static void show_expr(out_buf *o, const ast_expr *e);

static void show_ref(out_buf *o, const ast_event_ref *r) {
  put(o, "%s", r->event.text);
  if (r->field.text) put(o, ".%s", r->field.text);
  if (r->where) {
    put(o, " where ");
    show_expr(o, r->where);
  }
}

static void show_window(out_buf *o, const ast_window *w) {
  if (w->kind == WIN_NONE) return;
  put(o, " %s ", w->kind == WIN_WITHIN ? "within" : "since");
  show_expr(o, w->expr);
}

static void show_expr(out_buf *o, const ast_expr *e) {
  switch (e->kind) {
    case EX_LITERAL: put(o, "%s", e->u.lit.raw); break;
    case EX_NAME: put(o, "%s", e->u.name.text); break;
    case EX_ACCOUNT_FIELD: put(o, "account.%s", e->u.name.text); break;
    case EX_START: put(o, "start"); break;
    case EX_UNARY:
      put(o, "(%s ", ast_op_text(e->u.op.op));
      show_expr(o, e->u.op.lhs);
      put(o, ")");
      break;
    case EX_BINARY:
      put(o, "(");
      show_expr(o, e->u.op.lhs);
      put(o, " %s ", ast_op_text(e->u.op.op));
      show_expr(o, e->u.op.rhs);
      put(o, ")");
      break;
    case EX_IN:  /* the items are counted, not shown */
      put(o, "(");
      show_expr(o, e->u.in.lhs);
      put(o, " in %d)", e->u.in.items.len);
      break;
    case EX_CALL:
      put(o, "%s(", e->u.call.name.text);
      for (int i = 0; i < e->u.call.args.len; i++) {
        if (i) put(o, ", ");
        show_expr(o, e->u.call.args.items[i]);
      }
      put(o, ")");
      break;
    case EX_AGGREGATE:
      put(o, "%s(", ast_agg_name(e->u.agg.fn));
      show_ref(o, &e->u.agg.ref);
      show_window(o, &e->u.agg.window);
      put(o, ")");
      break;
    case EX_SEQUENCE:
      put(o, "sequence(");
      for (int i = 0; i < e->u.seq.steps.len; i++) {
        if (i) put(o, ", ");
        show_ref(o, e->u.seq.steps.items[i]);
      }
      show_window(o, &e->u.seq.window);
      put(o, ")");
      break;
    case EX_COMPLETED: put(o, "completed(%s)", e->u.name.text); break;
    case EX_ACHIEVING: put(o, "achieving(%s)", e->u.name.text); break;
  }
}

static void assert_show(const ast_expr *e, const char *want) {
  out_buf o;
  o.len = 0;
  o.text[0] = '\0';
  show_expr(&o, e);
  ck_assert_str_eq(o.text, want);
}

static void assert_expr(const char *text, const char *want) { assert_show(expr_of(text), want); }

/* ---- lexer ---------------------------------------------------------------------------- */

typedef struct {
  int kind;
  YYSTYPE val;
  msl_loc loc;
} tok;

/* Runs the lexer alone over text; returns the number of tokens. */
static int lex(const char *text, tok *out, int max) {
  static ast_module module;
  memset(&module, 0, sizeof module);
  msl_source *src = source_from_string(&A, "t.ms", text, strlen(text));
  parse_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.arena = &A;
  ctx.src = src;
  ctx.diags = &D;
  ctx.module = &module;
  ctx.line = ctx.col = 1;
  yyscan_t scanner;
  ck_assert_int_eq(msl_yylex_init_extra(&ctx, &scanner), 0);
  YY_BUFFER_STATE buf = msl_yy_scan_bytes(src->text, (int)src->len, scanner);
  int n = 0;
  for (;;) {
    tok t;
    t.kind = msl_yylex(&t.val, &t.loc, scanner);
    if (t.kind == MSL_YYEOF) break;
    ck_assert_int_lt(n, max);
    out[n++] = t;
  }
  msl_yy_delete_buffer(buf, scanner);
  msl_yylex_destroy(scanner);
  return n;
}

START_TEST(lex_words) {
  tok t[8];
  int n = lex("account accounts `group` as_of _x1 true", t, 8);
  ck_assert_int_eq(n, 6);
  ck_assert_int_eq(t[0].kind, KW_ACCOUNT);
  ck_assert_int_eq(t[1].kind, IDENT);
  ck_assert_str_eq(t[1].val.name.text, "accounts");
  ck_assert(!t[1].val.name.backquoted);
  ck_assert_int_eq(t[2].kind, IDENT);
  ck_assert_str_eq(t[2].val.name.text, "group");
  ck_assert(t[2].val.name.backquoted);
  ck_assert_int_eq(t[3].kind, KW_AS_OF);
  ck_assert_int_eq(t[4].kind, IDENT);
  ck_assert_int_eq(t[5].kind, KW_TRUE);
  ck_assert_int_eq(t[5].val.expr->u.lit.value.type, VALUE_BOOL);
  ck_assert(t[5].val.expr->u.lit.value.u.b);
  ck_assert_int_eq(D.errors, 0);
}
END_TEST

START_TEST(lex_every_keyword_is_reserved) {
  static const char *const words[] = {
    "account", "event", "segment", "let", "fn", "extern", "from", "import", "milestone",
    "playbook", "test", "mode", "once", "continuous", "start", "at", "after", "on",
    "assignment", "deadline", "estimate", "entry", "exit", "action", "owner", "done", "when",
    "blocked", "emit", "step", "tracks", "auto", "segments", "description", "group", "csm",
    "customer", "where", "within", "since", "count", "sum", "min", "max", "avg", "distinct",
    "sequence", "completed", "achieving", "and", "or", "not", "in", "true", "false", "as_of",
    "events", "expect", "is", "signal",
  };
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    tok t[2];
    ck_assert_int_eq(lex(words[i], t, 2), 1);
    ck_assert_msg(t[0].kind != IDENT, "%s should be a keyword", words[i]);
    char *quoted = arena_printf(&A, "`%s`", words[i]);
    ck_assert_int_eq(lex(quoted, t, 2), 1);
    ck_assert_int_eq(t[0].kind, IDENT);
    ck_assert_str_eq(t[0].val.name.text, words[i]);
  }
}
END_TEST

START_TEST(lex_numbers) {
  tok t[8];
  int n = lex("42 3.5 1.5e3 2E-2 0 9223372036854775807", t, 8);
  ck_assert_int_eq(n, 6);
  ck_assert_int_eq(t[0].kind, INT);
  ck_assert_int_eq(t[0].val.expr->u.lit.value.u.i, 42);
  ck_assert_int_eq(t[1].kind, FLOAT);
  ck_assert_double_eq(t[1].val.expr->u.lit.value.u.f, 3.5);
  ck_assert_double_eq(t[2].val.expr->u.lit.value.u.f, 1500.0);
  ck_assert_int_eq(t[3].kind, FLOAT);
  ck_assert_double_eq_tol(t[3].val.expr->u.lit.value.u.f, 0.02, 1e-12);
  ck_assert_int_eq(t[4].val.expr->u.lit.value.u.i, 0);
  ck_assert_int_eq(t[5].val.expr->u.lit.value.u.i, INT64_MAX);
  ck_assert_str_eq(t[2].val.expr->u.lit.raw, "1.5e3");
  ck_assert_int_eq(D.errors, 0);
}
END_TEST

START_TEST(lex_durations) {
  tok t[8];
  int n = lex("1s 90m 3h 30d 2w 0d", t, 8);
  ck_assert_int_eq(n, 6);
  const int64_t s = 1000000;
  ck_assert_int_eq(t[0].val.expr->u.lit.value.u.i, s);
  ck_assert_int_eq(t[1].val.expr->u.lit.value.u.i, 90 * 60 * s);
  ck_assert_int_eq(t[2].val.expr->u.lit.value.u.i, 3 * 3600 * s);
  ck_assert_int_eq(t[3].val.expr->u.lit.value.u.i, 30 * 86400 * s);
  ck_assert_int_eq(t[4].val.expr->u.lit.value.u.i, 14 * 86400 * s);
  ck_assert_int_eq(t[5].val.expr->u.lit.value.u.i, 0);
  for (int i = 0; i < n; i++) {
    ck_assert_int_eq(t[i].kind, DURATION);
    ck_assert_int_eq(t[i].val.expr->u.lit.value.type, VALUE_DURATION);
  }
  ck_assert_str_eq(t[1].val.expr->u.lit.raw, "90m");
  ck_assert_int_eq(D.errors, 0);
}
END_TEST

static int64_t time_us(const char *text) {
  tok t[2];
  ck_assert_int_eq(lex(text, t, 2), 1);
  ck_assert_int_eq(t[0].kind, TIME);
  ck_assert_int_eq(t[0].val.expr->u.lit.value.type, VALUE_TIME);
  return t[0].val.expr->u.lit.value.u.i;
}

START_TEST(lex_times) {
  const int64_t s = 1000000;
  ck_assert_int_eq(time_us("@2026-01-31"), 1769817600 * s);
  ck_assert_int_eq(time_us("@2026-01-31T09:30:00Z"), 1769851800 * s);
  ck_assert_int_eq(time_us("@2026-01-31T09:30:00.5Z"), 1769851800 * s + 500000);
  ck_assert_int_eq(time_us("@2026-01-31T09:30:00.123456Z"), 1769851800 * s + 123456);
  ck_assert_int_eq(time_us("@2026-01-31T09:30:00+01:00"), 1769848200 * s);
  ck_assert_int_eq(time_us("@2026-01-31T09:30:00-05:30"), 1769871600 * s);
  ck_assert_int_eq(time_us("@2024-02-29"), 1709164800 * s);
  ck_assert_int_eq(time_us("@2000-02-29"), 951782400 * s);
  ck_assert_int_eq(time_us("@1970-01-01"), 0);
  ck_assert_int_eq(time_us("@1969-12-31T23:59:59Z"), -1 * s);
  ck_assert_int_eq(time_us("@9999-12-31T23:59:59Z"), INT64_C(253402300799) * s);
  ck_assert_int_eq(D.errors, 0);
}
END_TEST

START_TEST(lex_bad_times) {
  static const char *const bad[] = {
    "@2023-02-29", "@1900-02-29", "@2026-13-01", "@2026-00-10", "@2026-04-31",
    "@2026-1-31", "@2026-01-31T24:00:00Z", "@2026-01-31T09:60:00Z", "@2026-01-31T09:30:60Z",
    "@2026-01-31T09:30:00", "@2026-01-31T09:30Z", "@2026-01-31T09:30:00.1234567Z",
    "@2026-01-31T09:30:00.Z", "@2026-01-31T09:30:00+1:00", "@2026-01-31T09:30:00z", "@",
    "@2026-01-31T09:30:00+24:00", "@20260131",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int before = D.errors;
    tok t[4];
    lex(bad[i], t, 4);
    ck_assert_msg(D.errors == before + 1, "%s should be one error", bad[i]);
    ck_assert_int_eq(D.last->code, DIAG_E7);
  }
}
END_TEST

START_TEST(lex_strings) {
  tok t[4];
  int n = lex("\"a\\\"b\\\\c\\nd\\te\\u{41}\\u{e9}\\u{1F600}\" \"\" \"x\\u{1}y\"", t, 4);
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(t[0].kind, STRING);
  const ast_value *v = &t[0].val.expr->u.lit.value;
  ck_assert_int_eq(v->type, VALUE_STRING);
  const char want[] = "a\"b\\c\nd\teA\xC3\xA9\xF0\x9F\x98\x80";
  ck_assert_uint_eq(v->u.str.len, sizeof want - 1);
  ck_assert(memcmp(v->u.str.s, want, sizeof want - 1) == 0);
  ck_assert_str_eq(t[0].val.expr->u.lit.raw,
                   "\"a\\\"b\\\\c\\nd\\te\\u{41}\\u{e9}\\u{1F600}\"");
  ck_assert_uint_eq(t[1].val.expr->u.lit.value.u.str.len, 0);
  ck_assert_uint_eq(t[2].val.expr->u.lit.value.u.str.len, 3);
  ck_assert(memcmp(t[2].val.expr->u.lit.value.u.str.s, "x\001y", 3) == 0);
  ck_assert_int_eq(D.errors, 0);
}
END_TEST

/* SPEC 3: \u{0} is not a valid escape, in any spelling; the constant
 * never holds the NUL. */
START_TEST(lex_nul_escape) {
  tok t[3];
  int n = lex("\"x\\u{0}y\" \"\\u{000000}\" \"\\u{00}\"", t, 3);
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(D.errors, 3);
  ck_assert_int_eq(count_code(DIAG_E4), 3);
  ck_assert_uint_eq(t[0].val.expr->u.lit.value.u.str.len, 2);
  ck_assert(memcmp(t[0].val.expr->u.lit.value.u.str.s, "xy", 2) == 0);
  ck_assert_int_eq(nth_diag(0)->loc.col, 3);
  ck_assert_int_eq(nth_diag(0)->loc.end_col, 7);
}
END_TEST

START_TEST(lex_strings_keep_any_bytes) {
  tok t[2];
  ck_assert_int_eq(lex("\"caf\xC3\xA9 \xFF\x80\" # \xFE comment", t, 2), 1);
  ck_assert_uint_eq(t[0].val.expr->u.lit.value.u.str.len, 8);
  ck_assert_int_eq(D.errors, 0);
}
END_TEST

START_TEST(lex_locations) {
  tok t[8];
  int n = lex("let  x =\n  \"ab\" @2026-01-01\n\t30d", t, 8);
  ck_assert_int_eq(n, 6);
  ck_assert_int_eq(t[0].loc.line, 1);
  ck_assert_int_eq(t[0].loc.col, 1);
  ck_assert_int_eq(t[0].loc.end_line, 1);
  ck_assert_int_eq(t[0].loc.end_col, 3);
  ck_assert_int_eq(t[1].loc.col, 6);
  ck_assert_int_eq(t[1].loc.end_col, 6);
  ck_assert_int_eq(t[3].loc.line, 2);
  ck_assert_int_eq(t[3].loc.col, 3);
  ck_assert_int_eq(t[3].loc.end_col, 6);
  ck_assert_int_eq(t[4].loc.col, 8);
  ck_assert_int_eq(t[4].loc.end_col, 18);
  ck_assert_int_eq(t[5].loc.line, 3);
  ck_assert_int_eq(t[5].loc.col, 2);
  ck_assert_int_eq(t[5].loc.end_col, 4);
  ck_assert_ptr_nonnull(t[5].loc.src);
  ck_assert_str_eq(t[5].loc.src->path, "t.ms");
}
END_TEST

START_TEST(lex_operators) {
  tok t[24];
  int n = lex("-> == != <= >= < > + - * / % ( ) { } [ ] , . : =", t, 24);
  static const int want[] = {ARROW, EQ, NE, LE, GE, LT, GT, PLUS, MINUS, STAR, SLASH, PERCENT,
                             LPAREN, RPAREN, LBRACE, RBRACE, LBRACKET, RBRACKET, COMMA, DOT,
                             COLON, ASSIGN};
  ck_assert_int_eq(n, (int)(sizeof want / sizeof want[0]));
  for (int i = 0; i < n; i++) ck_assert_int_eq(t[i].kind, want[i]);
}
END_TEST

/* One lexer error: its code and where it points. */
static void assert_lex_error(const char *text, int code, int line, int col, int end_col) {
  tok t[8];
  int before = D.errors;
  lex(text, t, 8);
  ck_assert_msg(D.errors == before + 1, "%s: %d errors", text, D.errors - before);
  ck_assert_int_eq(D.last->code, code);
  ck_assert_int_eq(D.last->loc.line, line);
  ck_assert_int_eq(D.last->loc.col, col);
  ck_assert_int_eq(D.last->loc.end_col, end_col);
}

START_TEST(lex_errors) {
  assert_lex_error("a ! b", DIAG_E1, 1, 3, 3);
  assert_lex_error("x\n  \xC3\xA9", DIAG_E1, 2, 3, 4);
  assert_lex_error("\"abc", DIAG_E2, 1, 1, 4);
  assert_lex_error("\"abc\nx", DIAG_E2, 1, 1, 4);
  assert_lex_error("\"ab\\qc\"", DIAG_E3, 1, 4, 5);
  assert_lex_error("\"\\u{D800}\"", DIAG_E4, 1, 2, 9);
  assert_lex_error("\"\\u{110000}\"", DIAG_E4, 1, 2, 11);
  assert_lex_error("\"\\u{1234567}\"", DIAG_E4, 1, 2, 12);
  assert_lex_error("\"\\u41\"", DIAG_E4, 1, 2, 3);
  assert_lex_error("99999999999999999999", DIAG_E5, 1, 1, 20);
  assert_lex_error("1e999", DIAG_E5, 1, 1, 5);
  assert_lex_error("30days", DIAG_E6, 1, 1, 6);
  assert_lex_error("1.", DIAG_E6, 1, 1, 2);
  assert_lex_error(".5", DIAG_E6, 1, 1, 2);
  assert_lex_error("1.5e", DIAG_E6, 1, 1, 4);
  assert_lex_error("12abc", DIAG_E6, 1, 1, 5);
  assert_lex_error("99999999999999999w", DIAG_E8, 1, 1, 18);
  assert_lex_error("`a b`", DIAG_E14, 1, 1, 5);
  assert_lex_error("`abc", DIAG_E14, 1, 1, 4);
  assert_lex_error("``", DIAG_E14, 1, 1, 2);
}
END_TEST

START_TEST(lex_error_messages) {
  tok t[4];
  lex("x & y", t, 4);
  ck_assert_str_eq(D.last->message, "unexpected character `&` (write `and`)");
  lex("\"\\q\"", t, 4);
  ck_assert_str_eq(D.last->message,
                   "invalid escape `\\q` in a string: the escapes are \\\" \\\\ \\n \\t \\u{X}");
  lex("\x01", t, 4);
  ck_assert_str_eq(D.last->message, "unexpected character `?`");
}
END_TEST

/* ---- comments ------------------------------------------------------------------------------ */

START_TEST(comments_kept) {
  ast_module *m = parse_ok("# head\nevent login  # trailing\n\n  # own line\r\nlet x = 1 #");
  ck_assert_int_eq(m->comments.len, 4);
  ast_comment *c0 = m->comments.items[0], *c1 = m->comments.items[1];
  ast_comment *c2 = m->comments.items[2], *c3 = m->comments.items[3];
  ck_assert_str_eq(c0->text, "# head");
  ck_assert(!c0->trailing);
  ck_assert_int_eq(c0->loc.line, 1);
  ck_assert_int_eq(c0->loc.col, 1);
  ck_assert_int_eq(c0->loc.end_col, 6);
  ck_assert_str_eq(c1->text, "# trailing");
  ck_assert(c1->trailing);
  ck_assert_int_eq(c1->loc.line, 2);
  ck_assert_int_eq(c1->loc.col, 14);
  ck_assert_str_eq(c2->text, "# own line");
  ck_assert(!c2->trailing);
  ck_assert_int_eq(c2->loc.line, 4);
  ck_assert_int_eq(c2->loc.end_col, 12);
  ck_assert_str_eq(c3->text, "#");
  ck_assert(c3->trailing);
  ck_assert_int_eq(m->decls.len, 2);
}
END_TEST

/* ---- the SPEC section 2 example --------------------------------------------------------------- */

static const char *spec_example =
  "# onboarding.ms — comments run from '#' to end of line\n"
  "import \"std/text\"                      # stdlib module (stdlib/std/text.ms): email_domain, ...\n"
  "\n"
  "account {                              # the account (company) schema\n"
  "  plan: string\n"
  "  seats: int = 0                       # '= value' is the default for a missing cell\n"
  "  kickoff: time = @1970-01-01\n"
  "  report_target: int = 1\n"
  "  owner_email: string = \"\"\n"
  "}\n"
  "\n"
  "event login { user: string }\n"
  "event feature_used { feature: string, module: string = \"\" }\n"
  "event report_created { template: string = \"blank\" }\n"
  "event ticket_opened { severity: string }\n"
  "event integration_connected\n"
  "\n"
  "segment enterprise = account.plan == \"enterprise\" or account.seats >= 200\n"
  "segment smb = not enterprise\n"
  "segment internal = email_domain(account.owner_email) == \"example.com\"\n"
  "\n"
  "let active_window = 30d\n"
  "fn active_users(w: duration) = distinct(login.user within w)\n"
  "\n"
  "milestone kickoff \"Kickoff held\" {\n"
  "  description \"Kickoff call done and goals agreed\"\n"
  "  csm \"Run the kickoff call\"            # what the CSM team does\n"
  "  customer \"Name an executive sponsor\"   # what the customer does\n"
  "  segments enterprise\n"
  "  start at account.kickoff\n"
  "  deadline 7d\n"
  "  exit count(feature_used where feature == \"kickoff_form\") >= 1\n"
  "}\n"
  "\n"
  "milestone first_report \"First report\" {\n"
  "  description \"The customer built their first report\"\n"
  "  group \"Activation\"\n"
  "  start after kickoff                   # sequential: starts when kickoff completes\n"
  "  deadline 14d\n"
  "  estimate 10d\n"
  "  action connect \"Connect the CRM\" owner customer done when count(integration_connected) >= 1\n"
  "  action build \"Build a report\"   owner customer done when count(report_created since start) >= account.report_target\n"
  "  # no exit clause: the milestone is met when all its actions are done\n"
  "  blocked when count(ticket_opened where severity == \"high\" within 7d) > 0\n"
  "  on achieved emit \"advocacy_ask\"\n"
  "}\n"
  "\n"
  "milestone sso_done \"SSO done\" { exit count(login) >= 1 }\n"
  "\n"
  "milestone active \"Active usage\" {\n"
  "  mode continuous                        # achieving / not achieving, re-evaluated over time\n"
  "  exit active_users(active_window) >= 3 and count(login within 7d) >= 5\n"
  "}\n"
  "\n"
  "playbook onboarding \"Enterprise onboarding\" {\n"
  "  segments enterprise\n"
  "  step kick  \"Kickoff\"       tracks kickoff      auto\n"
  "  step value \"First value\"   tracks first_report auto\n"
  "  step sso   \"SSO rollout\"   tracks sso_done     when account.seats >= 500\n"
  "  step live  \"Go-live\"       tracks active       auto\n"
  "  on complete emit \"handoff_to_account_manager\"\n"
  "}\n"
  "\n"
  "extern fn churn_risk(seats: int, plan: string) -> float from \"libacme_models\"   # bound, unused here\n"
  "\n"
  "test \"report after kickoff completes first_report\" {\n"
  "  as_of @2026-02-01\n"
  "  account { plan = \"enterprise\", kickoff = @2026-01-05 }\n"
  "  events {\n"
  "    @2026-01-05T10:00:00Z feature_used { feature = \"kickoff_form\" }\n"
  "    @2026-01-06 integration_connected\n"
  "    @2026-01-09 report_created\n"
  "  }\n"
  "  expect kickoff is completed\n"
  "  expect first_report is completed at @2026-01-09\n"
  "  expect onboarding.step == live\n"
  "}\n";


START_TEST(spec_example_parses) {
  ast_module *m = parse_ok(spec_example);
  static const ast_decl_kind kinds[] = {
    DECL_IMPORT, DECL_ACCOUNT, DECL_EVENT, DECL_EVENT, DECL_EVENT, DECL_EVENT, DECL_EVENT,
    DECL_SEGMENT, DECL_SEGMENT, DECL_SEGMENT, DECL_LET, DECL_FN, DECL_MILESTONE,
    DECL_MILESTONE, DECL_MILESTONE, DECL_MILESTONE, DECL_PLAYBOOK, DECL_EXTERN, DECL_TEST,
  };
  ck_assert_int_eq(m->decls.len, (int)(sizeof kinds / sizeof kinds[0]));
  for (int i = 0; i < m->decls.len; i++) {
    ck_assert_int_eq(decl(m, i)->kind, kinds[i]);
    ck_assert_ptr_eq(decl(m, i)->module, m);
  }
  ck_assert_ptr_eq(m->src, decl(m, 0)->loc.src);

  ast_decl *imp = decl(m, 0);
  ck_assert_str_eq(imp->u.import.path.text, "std/text");
  ck_assert_str_eq(imp->u.import.path.raw, "\"std/text\"");

  ast_decl *acc = decl(m, 1);
  ck_assert_int_eq(acc->u.account.fields.len, 5);
  ast_field *plan = acc->u.account.fields.items[0], *seats = acc->u.account.fields.items[1];
  ast_field *kick = acc->u.account.fields.items[2];
  ck_assert_str_eq(plan->name.text, "plan");
  ck_assert_int_eq(plan->type, VALUE_STRING);
  ck_assert_ptr_null(plan->default_value);
  ck_assert_int_eq(seats->type, VALUE_INT);
  ck_assert_int_eq(seats->default_value->u.lit.value.u.i, 0);
  ck_assert_int_eq(seats->type_loc.line, 6);
  ck_assert_int_eq(seats->type_loc.col, 10);
  ck_assert_int_eq(kick->type, VALUE_TIME);
  ck_assert_int_eq(kick->default_value->u.lit.value.type, VALUE_TIME);
  ck_assert_int_eq(acc->loc.line, 4);
  ck_assert_int_eq(acc->loc.end_line, 10);

  ast_decl *login = decl(m, 2), *feature = decl(m, 3), *integ = decl(m, 6);
  ck_assert_str_eq(login->name.text, "login");
  ck_assert(login->u.event.has_braces);
  ck_assert_int_eq(feature->u.event.fields.len, 2);
  ck_assert_str_eq(((ast_field *)feature->u.event.fields.items[1])->name.text, "module");
  ck_assert(!integ->u.event.has_braces);
  ck_assert_int_eq(integ->u.event.fields.len, 0);

  assert_show(decl(m, 7)->u.segment.expr,
              "((account.plan == \"enterprise\") or (account.seats >= 200))");
  assert_show(decl(m, 8)->u.segment.expr, "(not enterprise)");
  assert_show(decl(m, 9)->u.segment.expr,
              "(email_domain(account.owner_email) == \"example.com\")");
  ck_assert_str_eq(decl(m, 10)->name.text, "active_window");
  assert_show(decl(m, 10)->u.let.expr, "30d");

  ast_decl *fn = decl(m, 11);
  ck_assert_str_eq(fn->name.text, "active_users");
  ck_assert_int_eq(fn->u.fn.params.len, 1);
  ast_param *w = fn->u.fn.params.items[0];
  ck_assert_str_eq(w->name.text, "w");
  ck_assert_int_eq(w->type, VALUE_DURATION);
  assert_show(fn->u.fn.body, "distinct(login.user within w)");

  ast_decl *kickoff = decl(m, 12);
  ast_milestone *k = &kickoff->u.milestone;
  ck_assert_str_eq(kickoff->name.text, "kickoff");
  ck_assert_str_eq(k->display.text, "Kickoff held");
  ck_assert_str_eq(k->display.raw, "\"Kickoff held\"");
  ck_assert_str_eq(k->description.text, "Kickoff call done and goals agreed");
  ck_assert_str_eq(k->csm.text, "Run the kickoff call");
  ck_assert_str_eq(k->customer.text, "Name an executive sponsor");
  ck_assert_ptr_null(k->group.text);
  ck_assert_int_eq(k->segments.len, 1);
  ck_assert_str_eq(((ast_name *)k->segments.items[0])->text, "enterprise");
  ck_assert_int_eq(k->start.kind, START_AT);
  assert_show(k->start.at, "account.kickoff");
  ck_assert_int_eq(k->deadline_kind, DEADLINE_AFTER);
  assert_show(k->deadline, "7d");
  assert_show(k->exit, "(count(feature_used where (feature == \"kickoff_form\")) >= 1)");
  ck_assert_int_eq(k->mode, MODE_ONCE);
  ck_assert(!k->mode_given);
  static const ast_clause_kind korder[] = {CL_DESCRIPTION, CL_CSM, CL_CUSTOMER, CL_SEGMENTS,
                                           CL_START, CL_DEADLINE, CL_EXIT};
  ck_assert_int_eq(k->clauses.len, 7);
  for (int i = 0; i < 7; i++)
    ck_assert_int_eq(((ast_clause *)k->clauses.items[i])->kind, korder[i]);

  ast_milestone *fr = &decl(m, 13)->u.milestone;
  ck_assert_str_eq(fr->group.text, "Activation");
  ck_assert_int_eq(fr->start.kind, START_AFTER);
  ck_assert_str_eq(fr->start.after.text, "kickoff");
  assert_show(fr->estimate, "10d");
  ck_assert_ptr_null(fr->exit);
  ck_assert_int_eq(fr->actions.len, 2);
  ast_action *connect = fr->actions.items[0], *build = fr->actions.items[1];
  ck_assert_str_eq(connect->name.text, "connect");
  ck_assert_str_eq(connect->label, "Connect the CRM");
  ck_assert_str_eq(connect->label_raw, "\"Connect the CRM\"");
  ck_assert_int_eq(connect->owner, OWNER_CUSTOMER);
  assert_show(connect->done_when, "(count(integration_connected) >= 1)");
  assert_show(build->done_when,
              "(count(report_created since start) >= account.report_target)");
  ck_assert_int_eq(build->done_when->u.op.lhs->u.agg.window.kind, WIN_SINCE);
  ck_assert_int_eq(build->done_when->u.op.lhs->u.agg.window.expr->kind, EX_START);
  assert_show(fr->blocked,
              "(count(ticket_opened where (severity == \"high\") within 7d) > 0)");
  ck_assert_int_eq(fr->emits.len, 1);
  ck_assert_str_eq(((ast_emit *)fr->emits.items[0])->signal.text, "advocacy_ask");
  ck_assert_int_eq(((ast_emit *)fr->emits.items[0])->on, EMIT_ACHIEVED);
  ast_clause *last = fr->clauses.items[fr->clauses.len - 1];
  ck_assert_int_eq(last->kind, CL_EMIT);
  ck_assert_ptr_eq(last->item, fr->emits.items[0]);
  ast_clause *act = fr->clauses.items[5];
  ck_assert_int_eq(act->kind, CL_ACTION);
  ck_assert_ptr_eq(act->item, connect);

  ast_milestone *active = &decl(m, 15)->u.milestone;
  ck_assert_int_eq(active->mode, MODE_CONTINUOUS);
  ck_assert(active->mode_given);
  assert_show(active->exit,
              "((active_users(active_window) >= 3) and (count(login within 7d) >= 5))");

  ast_playbook *pb = &decl(m, 16)->u.playbook;
  ck_assert_str_eq(pb->display.text, "Enterprise onboarding");
  ck_assert_int_eq(pb->segments.len, 1);
  ck_assert_int_eq(pb->steps.len, 4);
  static const char *const steps[] = {"kick", "value", "sso", "live"};
  static const char *const tracks[] = {"kickoff", "first_report", "sso_done", "active"};
  for (int i = 0; i < 4; i++) {
    ast_step *s = pb->steps.items[i];
    ck_assert_str_eq(s->name.text, steps[i]);
    ck_assert_str_eq(s->tracks.text, tracks[i]);
    ck_assert(s->is_auto == (i != 2));
    ck_assert((s->when != NULL) == (i == 2));
  }
  ck_assert_str_eq(((ast_step *)pb->steps.items[1])->label.text, "First value");
  assert_show(((ast_step *)pb->steps.items[2])->when, "(account.seats >= 500)");
  ck_assert_int_eq(pb->emits.len, 1);
  ck_assert_int_eq(pb->clauses.len, 6);
  ck_assert_int_eq(pb->start.kind, START_NONE);

  ast_decl *ext = decl(m, 17);
  ck_assert_str_eq(ext->name.text, "churn_risk");
  ck_assert_int_eq(ext->u.ext.params.len, 2);
  ck_assert_int_eq(((ast_param *)ext->u.ext.params.items[1])->type, VALUE_STRING);
  ck_assert_int_eq(ext->u.ext.ret, VALUE_FLOAT);
  ck_assert_str_eq(ext->u.ext.lib.text, "libacme_models");

  ast_test *t = &decl(m, 18)->u.test;
  ck_assert_str_eq(t->name.text, "report after kickoff completes first_report");
  ck_assert_int_eq(t->as_of->u.lit.value.u.i, INT64_C(1769904000) * 1000000);
  ck_assert(t->has_account);
  ck_assert_ptr_null(t->account_id.text);
  ck_assert_int_eq(t->account_fields.len, 2);
  ast_assign *kf = t->account_fields.items[1];
  ck_assert_str_eq(kf->field.text, "kickoff");
  ck_assert_int_eq(kf->value->u.lit.value.type, VALUE_TIME);
  ck_assert_int_eq(t->events.len, 3);
  ast_test_event *e0 = t->events.items[0], *e1 = t->events.items[1];
  ck_assert_str_eq(e0->event.text, "feature_used");
  ck_assert(!e0->control);
  ck_assert_int_eq(e0->fields.len, 1);
  ck_assert_str_eq(e1->event.text, "integration_connected");
  ck_assert_int_eq(e1->fields.len, 0);
  ck_assert_int_eq(t->expects.len, 3);
  ast_expect *x0 = t->expects.items[0], *x1 = t->expects.items[1], *x2 = t->expects.items[2];
  ck_assert_int_eq(x0->kind, EXPECT_STATUS);
  ck_assert_str_eq(x0->target.text, "kickoff");
  ck_assert_str_eq(x0->member.text, "completed");
  ck_assert_ptr_null(x0->at);
  ck_assert_ptr_nonnull(x1->at);
  ck_assert_int_eq(x2->kind, EXPECT_STEP);
  ck_assert_str_eq(x2->target.text, "onboarding");
  ck_assert_str_eq(x2->member.text, "live");
  static const ast_test_item_kind order[] = {TI_AS_OF, TI_ACCOUNT, TI_EVENTS, TI_EXPECT,
                                             TI_EXPECT, TI_EXPECT};
  ck_assert_int_eq(t->items.len, 6);
  for (int i = 0; i < 6; i++)
    ck_assert_int_eq(((ast_test_item *)t->items.items[i])->kind, order[i]);
  ck_assert_ptr_eq(((ast_test_item *)t->items.items[5])->item, x2);

  ck_assert_int_eq(m->comments.len, 10);
}
END_TEST

START_TEST(example_files_parse) {
  /* The tests run from the repository root (make check-unit). */
  static const char *const paths[] = {"examples/saas_onboarding.ms",
                                      "examples/self_serve_activation.ms",
                                      "examples/enterprise_implementation.ms"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    int err = 0;
    msl_source *src = source_load(&A, paths[i], &err);
    ck_assert_msg(src != NULL, "%s: %s", paths[i], strerror(err));
    parse_module(&A, src, &D);
    ck_assert_msg(D.errors == 0, "%s has syntax errors", paths[i]);
  }
}
END_TEST

/* ---- expressions ------------------------------------------------------------------------------ */

START_TEST(expr_precedence) {
  assert_expr("a or b and not c == d + e * -f",
              "(a or (b and (not (c == (d + (e * (- f)))))))");
  assert_expr("1 - 2 - 3", "((1 - 2) - 3)");
  assert_expr("8 / 4 % 3 * 2", "(((8 / 4) % 3) * 2)");
  assert_expr("not not a", "(not (not a))");
  assert_expr("- -1", "(- (- 1))");
  assert_expr("a and b or c and d", "((a and b) or (c and d))");
  assert_expr("a != b", "(a != b)");
  assert_expr("a <= b", "(a <= b)");
}
END_TEST

START_TEST(expr_comparisons_do_not_chain) {
  parse("let x = 1 < 2 < 3\nlet y = a == b in [1]");
  ck_assert_int_eq(D.errors, 2);
  ck_assert_int_eq(nth_diag(0)->code, DIAG_E12);
  ck_assert_int_eq(nth_diag(0)->loc.line, 1);
  ck_assert_int_eq(nth_diag(0)->loc.col, 15);
  ck_assert_int_eq(nth_diag(1)->code, DIAG_E12);
  ck_assert_int_eq(nth_diag(1)->loc.line, 2);
}
END_TEST

START_TEST(expr_in_list) {
  ast_expr *e = expr_of("account.plan in [\"a\", \"b\", \"c\"]");
  ck_assert_int_eq(e->kind, EX_IN);
  ck_assert_int_eq(e->u.in.items.len, 3);
  ck_assert_int_eq(e->u.in.lhs->kind, EX_ACCOUNT_FIELD);
  assert_expr("not x in [1] or y", "((not (x in 1)) or y)");
  assert_expr("x + 1 in [1, 2]", "((x + 1) in 2)");
}
END_TEST

START_TEST(expr_parens_and_locations) {
  ast_expr *e = expr_of("(1 + 2) * 3");
  ck_assert_int_eq(e->kind, EX_BINARY);
  ck_assert(!e->parens);
  ck_assert(e->u.op.lhs->parens);
  ck_assert(!e->u.op.rhs->parens);
  ck_assert_int_eq(e->loc.col, 9);
  ck_assert_int_eq(e->loc.end_col, 19);
  ck_assert_int_eq(e->u.op.lhs->loc.col, 9);
  ck_assert_int_eq(e->u.op.lhs->loc.end_col, 15);
  ck_assert(expr_of("((a))")->parens);
}
END_TEST

START_TEST(expr_literals_raw) {
  ast_expr *e = expr_of("1.50");
  ck_assert_int_eq(e->u.lit.value.type, VALUE_FLOAT);
  ck_assert_str_eq(e->u.lit.raw, "1.50");
  e = expr_of("007");
  ck_assert_int_eq(e->u.lit.value.u.i, 7);
  ck_assert_str_eq(e->u.lit.raw, "007");
  e = expr_of("\"a\\tb\"");
  ck_assert_str_eq(e->u.lit.raw, "\"a\\tb\"");
  ck_assert_str_eq(e->u.lit.value.u.str.s, "a\tb");
  e = expr_of("false");
  ck_assert_int_eq(e->u.lit.value.type, VALUE_BOOL);
  ck_assert(!e->u.lit.value.u.b);
  ck_assert_str_eq(e->u.lit.raw, "false");
}
END_TEST

START_TEST(expr_aggregates) {
  assert_expr("count(login)", "count(login)");
  assert_expr("count(login where user == \"a\" and x > 1 within 7d)",
              "count(login where ((user == \"a\") and (x > 1)) within 7d)");
  assert_expr("sum(data.rows since start)", "sum(data.rows since start)");
  assert_expr("min(nps.score where score > 0)", "min(nps.score where (score > 0))");
  assert_expr("max(a.b within 2w)", "max(a.b within 2w)");
  assert_expr("avg(a.b)", "avg(a.b)");
  assert_expr("distinct(a.b since account.signup + 1d)",
              "distinct(a.b since (account.signup + 1d))");
  assert_expr("sequence(a, b where t != \"x\", c within 14d)",
              "sequence(a, b where (t != \"x\"), c within 14d)");
  assert_expr("sequence(a where x in [1, 2], b)", "sequence(a where (x in 2), b)");
  assert_expr("completed(kickoff) and achieving(active)",
              "(completed(kickoff) and achieving(active))");
  assert_expr("f() + g(1, h(2))", "(f() + g(1, h(2)))");
  ast_expr *e = expr_of("sum(data.rows where rows > 1 within 3d)");
  ck_assert_int_eq(e->kind, EX_AGGREGATE);
  ck_assert_int_eq(e->u.agg.fn, AGG_SUM);
  ck_assert_str_eq(e->u.agg.ref.event.text, "data");
  ck_assert_str_eq(e->u.agg.ref.field.text, "rows");
  ck_assert_int_eq(e->u.agg.ref.field_index, -1);
  ck_assert_int_eq(e->u.agg.window.kind, WIN_WITHIN);
  ck_assert_int_eq(e->u.agg.window.loc.col, 38);
  ck_assert_int_eq(e->u.agg.window.loc.end_col, 46);
  e = expr_of("count(x)");
  ck_assert_ptr_null(e->u.agg.ref.field.text);
  ck_assert_ptr_null(e->u.agg.ref.where);
  ck_assert_int_eq(e->u.agg.window.kind, WIN_NONE);
}
END_TEST

START_TEST(expr_keyword_members) {
  assert_expr("account.group == `group`", "(account.group == group)");
  assert_expr("sum(e.`min`) + max(e.step)", "(sum(e.min) + max(e.step))");
  ast_expr *e = expr_of("count(e where `where` == 1)");
  ck_assert(e->u.agg.ref.where->u.op.lhs->u.name.backquoted);
}
END_TEST

/* ---- declarations and clauses --------------------------------------------------------------------- */

START_TEST(decl_fields_commas_optional) {
  ast_module *m = parse_ok(
      "account { a: int b: string = \"x\", c: bool = true\n d: float = -1.5 e: duration, }\n"
      "event e { milestone: string, playbook: string group: string = \"\" step: int }\n"
      "event f { }");
  ck_assert_int_eq(decl(m, 0)->u.account.fields.len, 5);
  ast_field *d = decl(m, 0)->u.account.fields.items[3];
  ck_assert_int_eq(d->type, VALUE_FLOAT);
  assert_show(d->default_value, "(- 1.5)");
  ck_assert_int_eq(decl(m, 1)->u.event.fields.len, 4);
  ck_assert_str_eq(((ast_field *)decl(m, 1)->u.event.fields.items[0])->name.text, "milestone");
  ck_assert(decl(m, 2)->u.event.has_braces);
}
END_TEST

START_TEST(decl_functions) {
  ast_module *m = parse_ok(
      "fn f() = 1\nfn g(a: int, b: time) = b + a * 1s\n"
      "extern fn h() -> bool from \"/lib/x.so\"\nlet `let` = 2");
  ck_assert_int_eq(decl(m, 0)->u.fn.params.len, 0);
  ck_assert_int_eq(decl(m, 1)->u.fn.params.len, 2);
  ck_assert_int_eq(((ast_param *)decl(m, 1)->u.fn.params.items[1])->type, VALUE_TIME);
  ck_assert_int_eq(decl(m, 2)->u.ext.ret, VALUE_BOOL);
  ck_assert_int_eq(decl(m, 2)->u.ext.ret_loc.col, 18);
  ck_assert_str_eq(decl(m, 3)->name.text, "let");
  ck_assert(decl(m, 3)->name.backquoted);
}
END_TEST

START_TEST(decl_milestone_clauses) {
  ast_module *m = parse_ok(
      "milestone m {\n"
      "  segments a, b, `c`  mode once  start on signup where plan == \"x\"\n"
      "  deadline at account.renewal - 30d  entry count(setup) >= 1\n"
      "  action a1 \"One\" done when true  action a2 \"Two\" owner csm done when false\n"
      "  on achieved emit \"s1\" on lost emit \"s3\" on achieved emit \"s2\" on overdue emit \"s4\"\n"
      "}\n"
      "milestone n \"N\" { start on assignment }\n"
      "milestone o { start on signup }\n"
      "milestone p { }\n");
  ast_milestone *ms = &decl(m, 0)->u.milestone;
  ck_assert_ptr_null(ms->display.text);
  ck_assert_int_eq(ms->segments.len, 3);
  ck_assert(((ast_name *)ms->segments.items[2])->backquoted);
  ck_assert(ms->mode_given);
  ck_assert_int_eq(ms->mode, MODE_ONCE);
  ck_assert_int_eq(ms->start.kind, START_ON_EVENT);
  ck_assert_str_eq(ms->start.on.event.text, "signup");
  assert_show(ms->start.on.where, "(plan == \"x\")");
  ck_assert_int_eq(ms->start.loc.line, 2);
  ck_assert_int_eq(ms->start.loc.col, 34);
  ck_assert_int_eq(ms->deadline_kind, DEADLINE_AT);
  assert_show(ms->deadline, "(account.renewal - 30d)");
  ck_assert_ptr_nonnull(ms->entry);
  ck_assert_int_eq(ms->actions.len, 2);
  ck_assert_int_eq(((ast_action *)ms->actions.items[0])->owner, OWNER_NONE);
  ck_assert_int_eq(((ast_action *)ms->actions.items[1])->owner, OWNER_CSM);
  ck_assert_int_eq(ms->emits.len, 4);
  static const ast_emit_on ons[] = {EMIT_ACHIEVED, EMIT_LOST, EMIT_ACHIEVED, EMIT_OVERDUE};
  static const char *const signals[] = {"s1", "s3", "s2", "s4"};
  for (int i = 0; i < 4; i++) {
    const ast_emit *e = ms->emits.items[i];
    ck_assert_int_eq(e->on, ons[i]);
    ck_assert_str_eq(e->signal.text, signals[i]);
    ck_assert_ptr_eq(((ast_clause *)ms->clauses.items[7 + i])->item, e);
  }
  ck_assert_int_eq(ms->clauses.len, 11);
  ck_assert_int_eq(decl(m, 1)->u.milestone.start.kind, START_ON_ASSIGNMENT);
  ck_assert_int_eq(decl(m, 2)->u.milestone.start.kind, START_ON_EVENT);
  ck_assert_ptr_null(decl(m, 2)->u.milestone.start.on.where);
  ck_assert_int_eq(decl(m, 3)->u.milestone.clauses.len, 0);
}
END_TEST

START_TEST(decl_playbook_clauses) {
  ast_module *m = parse_ok(
      "playbook p \"P\" { start after m  step a \"A\" tracks m  step b \"B\" tracks n auto when "
      "account.seats > 1 step c \"C\" tracks o when x on complete emit \"done\" }\n"
      "playbook q { start at @2026-01-01 }");
  ast_playbook *pb = &decl(m, 0)->u.playbook;
  ck_assert_int_eq(pb->start.kind, START_AFTER);
  ck_assert_int_eq(pb->steps.len, 3);
  ast_step *a = pb->steps.items[0], *b = pb->steps.items[1], *c = pb->steps.items[2];
  ck_assert(!a->is_auto);
  ck_assert_ptr_null(a->when);
  ck_assert(b->is_auto);
  ck_assert_ptr_nonnull(b->when);
  ck_assert(!c->is_auto);
  ck_assert_ptr_nonnull(c->when);
  ck_assert_int_eq(pb->clauses.len, 5);
  ck_assert_int_eq(((ast_clause *)pb->clauses.items[3])->kind, CL_STEP);
  ck_assert_ptr_eq(((ast_clause *)pb->clauses.items[3])->item, c);
  ck_assert_int_eq(decl(m, 1)->u.playbook.start.kind, START_AT);
}
END_TEST

START_TEST(decl_clause_twice) {
  ast_module *m = parse(
      "milestone m {\n  exit count(a) >= 1\n  deadline 7d\n  exit count(b) >= 1\n"
      "  mode once mode continuous\n}");
  ck_assert_int_eq(D.errors, 2);
  ck_assert_int_eq(nth_diag(0)->code, DIAG_E10);
  ck_assert_int_eq(nth_diag(0)->loc.line, 4);
  ck_assert_int_eq(nth_diag(0)->loc.col, 3);
  ck_assert_str_eq(nth_diag(0)->message, "`exit` given twice in milestone `m` (first at line 2)");
  ck_assert_int_eq(nth_diag(1)->code, DIAG_E10);
  ast_milestone *ms = &decl(m, 0)->u.milestone;
  assert_show(ms->exit, "(count(a) >= 1)");
  ck_assert_int_eq(ms->mode, MODE_ONCE);
  ck_assert_int_eq(ms->clauses.len, 3);
}
END_TEST

START_TEST(decl_clause_misplaced) {
  ast_module *m = parse("milestone m { step s \"S\" tracks x on complete emit \"y\" }\n"
                        "playbook p { exit true deadline 3d on achieved emit \"z\" on lost emit \"w\" }");
  ck_assert_int_eq(count_code(DIAG_E13), 3);
  ck_assert_int_eq(count_code(DIAG_E17), 3);
  ck_assert_int_eq(D.errors, 6);
  /* a signal clause with the wrong word keeps its place, without a signal */
  ck_assert_int_eq(decl(m, 0)->u.milestone.emits.len, 0);
  ast_clause *cl = decl(m, 0)->u.milestone.clauses.items[0];
  ck_assert_int_eq(cl->kind, CL_EMIT);
  ck_assert_ptr_null(cl->item);
  ck_assert_int_eq(decl(m, 1)->u.playbook.emits.len, 0);
}
END_TEST

/* ---- test blocks ------------------------------------------------------------------------------------- */

START_TEST(test_block_items) {
  ast_module *m = parse_ok(
      "test \"t\" {\n"
      "  expect m.achieved_at == @2026-01-02\n"
      "  account \"acme corp\" { plan = \"x\" seats = -3, due = -2d ratio = -0.5 ok = true }\n"
      "  events {\n"
      "    @2026-01-01 ms.assign { milestone = \"m\" }\n"
      "    @2026-01-01T10:00:00Z ms.advance { playbook = \"p\" }\n"
      "    @2026-01-02 login { user = \"a\", `group` = \"g\" }\n"
      "  }\n"
      "  events { @2026-01-03 login }\n"
      "  expect m is blocked\n"
      "  expect n is achieving at @2026-01-02\n"
      "  expect p.step == done\n"
      "  expect m.progress == 0.5\n"
      "  expect m.on_time == false\n"
      "  expect signal \"s\" at @2026-01-02\n"
      "  expect signal \"u\"\n"
      "}\n"
      "test \"u\" { account acme { } }\n"
      "test \"v\" { }\n");
  ast_test *t = &decl(m, 0)->u.test;
  ck_assert_ptr_null(t->as_of);
  ck_assert_str_eq(t->account_id.text, "acme corp");
  ck_assert_str_eq(t->account_id_raw, "\"acme corp\"");
  ck_assert_int_eq(t->account_fields.len, 5);
  ast_assign *seats = t->account_fields.items[1];
  ck_assert_int_eq(seats->value->kind, EX_UNARY);
  ck_assert_int_eq(seats->value->u.op.op, OP_NEG);
  ck_assert_int_eq(seats->value->u.op.lhs->u.lit.value.u.i, 3);
  ck_assert_int_eq(t->events.len, 4);
  ast_test_event *e0 = t->events.items[0], *e1 = t->events.items[1];
  ast_test_event *e2 = t->events.items[2];
  ck_assert(e0->control);
  ck_assert_str_eq(e0->event.text, "ms.assign");
  ck_assert_int_eq(e0->event.loc.col, 17);
  ck_assert_int_eq(e0->event.loc.end_col, 25);
  ck_assert_str_eq(((ast_assign *)e0->fields.items[0])->field.text, "milestone");
  ck_assert_str_eq(e1->event.text, "ms.advance");
  ck_assert_str_eq(((ast_assign *)e1->fields.items[0])->field.text, "playbook");
  ck_assert(!e2->control);
  ck_assert(((ast_assign *)e2->fields.items[1])->field.backquoted);
  ck_assert_int_eq(t->expects.len, 8);
  ast_expect *x;
  x = t->expects.items[0];
  ck_assert_int_eq(x->kind, EXPECT_FIELD);
  ck_assert_str_eq(x->member.text, "achieved_at");
  ck_assert_int_eq(x->value->u.lit.value.type, VALUE_TIME);
  x = t->expects.items[1];
  ck_assert_int_eq(x->kind, EXPECT_STATUS);
  ck_assert_str_eq(x->member.text, "blocked");
  x = t->expects.items[2];
  ck_assert_str_eq(x->member.text, "achieving");
  ck_assert_ptr_nonnull(x->at);
  x = t->expects.items[3];
  ck_assert_int_eq(x->kind, EXPECT_STEP);
  ck_assert_str_eq(x->member.text, "done");
  x = t->expects.items[5];
  ck_assert(!x->value->u.lit.value.u.b);
  x = t->expects.items[6];
  ck_assert_int_eq(x->kind, EXPECT_SIGNAL);
  ck_assert_str_eq(x->signal.text, "s");
  ck_assert_ptr_nonnull(x->at);
  ck_assert_int_eq(t->items.len, 11);
  ck_assert_int_eq(((ast_test_item *)t->items.items[0])->kind, TI_EXPECT);
  ck_assert_int_eq(((ast_test_item *)t->items.items[1])->kind, TI_ACCOUNT);
  ck_assert_int_eq(((ast_test_item *)t->items.items[3])->kind, TI_EVENTS);
  ast_test *u = &decl(m, 1)->u.test;
  ck_assert_str_eq(u->account_id.text, "acme");
  ck_assert_ptr_null(u->account_id_raw);
  ck_assert(u->has_account);
  ck_assert(!decl(m, 2)->u.test.has_account);
}
END_TEST

START_TEST(test_block_errors) {
  parse("test \"t\" {\n  as_of @2026-01-01\n  as_of @2026-01-02\n"
        "  account { } account { }\n  events { @2026-01-01 ms.nope  @2026-01-01 a.b }\n}");
  ck_assert_int_eq(count_code(DIAG_E10), 2);
  ck_assert_int_eq(count_code(DIAG_E18), 2);
  ck_assert_int_eq(D.errors, 4);
}
END_TEST

/* ---- syntax errors and recovery ------------------------------------------------------------------ */

START_TEST(error_message_and_span) {
  parse("milestone m {\n  exit count(login) >=\n}\n");
  ck_assert_int_eq(D.errors, 1);
  const diag *g = nth_diag(0);
  ck_assert_int_eq(g->code, DIAG_E9);
  ck_assert_str_eq(g->message, "unexpected `}`, expected an expression");
  ck_assert_int_eq(g->loc.line, 3);
  ck_assert_int_eq(g->loc.col, 1);
  ck_assert_int_eq(g->loc.end_col, 1);
}
END_TEST

START_TEST(error_messages_say_what_was_expected) {
  parse("event login { user string }");
  ck_assert_str_eq(nth_diag(0)->message, "unexpected name `string`, expected `:`");
  reset();
  parse("milestone m { exit count(a) 5 }");
  ck_assert_str_eq(nth_diag(0)->message,
                   "unexpected number `5`, expected a clause, an operator or `}`");
  reset();
  parse("milestone m { flag 1 }");
  ck_assert_str_eq(nth_diag(0)->message, "unexpected name `flag`, expected a clause or `}`");
  reset();
  parse("let x = count(a where b == 1");
  ck_assert_str_eq(nth_diag(0)->message,
                   "unexpected end of file, expected an operator, `within`, `since` or `)`");
  ck_assert_int_eq(nth_diag(0)->loc.line, 1);
  ck_assert_int_eq(nth_diag(0)->loc.col, 29);
  reset();
  parse("oops");
  ck_assert_str_eq(nth_diag(0)->message, "unexpected name `oops`, expected a declaration");
  reset();
  parse("segments `x`");
  ck_assert_int_eq(nth_diag(0)->code, DIAG_E9);
}
END_TEST

START_TEST(error_keyword_as_name) {
  parse("milestone group { }");
  ck_assert_int_eq(D.errors, 1);
  ck_assert_int_eq(nth_diag(0)->code, DIAG_E15);
  ck_assert_str_eq(nth_diag(0)->message,
                   "unexpected keyword `group`, expected a name; to use `group` as a name, "
                   "write it in backquotes: `` `group` ``");
  reset();
  parse("milestone m { exit count(e where group == \"x\") > 0 }");
  ck_assert_int_eq(nth_diag(0)->code, DIAG_E15);
  reset();
  parse("milestone m { exit count(e) >\n  deadline 3d }");
  ck_assert_int_eq(nth_diag(0)->code, DIAG_E9);
  ck_assert_str_eq(nth_diag(0)->message, "unexpected keyword `deadline`, expected an expression");
}
END_TEST

START_TEST(error_unknown_type) {
  ast_module *m = parse("event e { a: integer }");
  ck_assert_int_eq(D.errors, 1);
  ck_assert_int_eq(nth_diag(0)->code, DIAG_E16);
  ck_assert_int_eq(((ast_field *)decl(m, 0)->u.event.fields.items[0])->type, VALUE_NONE);
}
END_TEST

START_TEST(recovery_reports_every_error) {
  ast_module *m = parse(
      "event login { user: string }\n"              /* 1 */
      "milestone a {\n"                             /* 2 */
      "  exit count(login) >=\n"                    /* 3 */
      "  deadline 7d\n"                             /* 4 */
      "  entry count(login where user == ) > 1\n"   /* 5 */
      "  estimate 3d\n"                             /* 6 */
      "}\n"                                         /* 7 */
      "segment s = account.plan ==\n"               /* 8 */
      "event other\n"                               /* 9 */
      "milestone b { exit (1 + }\n"                 /* 10 */
      "let ok = 1\n"                                /* 11 */
      "test \"t\" { expect a is }\n"                /* 12 */
      "let fine = 2\n");                            /* 13 */
  ck_assert_int_eq(D.errors, 5);
  static const int lines[] = {4, 5, 9, 10, 12};
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(nth_diag(i)->code, DIAG_E9);
    ck_assert_int_eq(nth_diag(i)->loc.line, lines[i]);
  }
  /* What parsed is kept: login, a (with its deadline and estimate), other,
   * b, ok, the test, fine. */
  ck_assert_int_eq(m->decls.len, 7);
  ast_milestone *a = &decl(m, 1)->u.milestone;
  ck_assert_int_eq(a->deadline_kind, DEADLINE_AFTER);
  ck_assert_ptr_nonnull(a->estimate);
  ck_assert_str_eq(decl(m, 2)->name.text, "other");
  ck_assert_str_eq(decl(m, 6)->name.text, "fine");
}
END_TEST

START_TEST(recovery_after_short_clause) {
  parse("milestone m {\n  exit >= 1\n  mode once\n  ) 2\n}\nevent e\nlet = 3\n");
  ck_assert_int_eq(D.errors, 3);
  ck_assert_int_eq(nth_diag(0)->loc.line, 2);
  ck_assert_int_eq(nth_diag(1)->loc.line, 4);
  ck_assert_int_eq(nth_diag(2)->loc.line, 7);
}
END_TEST

START_TEST(recovery_inside_events_block) {
  ast_module *m = parse("test \"t\" {\n  events {\n    @2026-01-01 login {user = }\n"
                        "    @2026-01-02 login\n    @2026-01-03 = x\n    @2026-01-04 login\n  }\n"
                        "  expect m is pending\n}\n");
  ck_assert_int_eq(D.errors, 2);
  ck_assert_int_eq(nth_diag(0)->loc.line, 3);
  ck_assert_int_eq(nth_diag(1)->loc.line, 5);
  ast_test *t = &decl(m, 0)->u.test;
  ck_assert_int_eq(t->events.len, 3);
  ck_assert_int_eq(((ast_test_event *)t->events.items[0])->fields.len, 0);
  ck_assert_int_eq(t->expects.len, 1);
}
END_TEST

START_TEST(recovery_unclosed_block) {
  ast_module *m = parse("event a\nmilestone m {\n  exit count(a) > 1\n");
  ck_assert_int_eq(D.errors, 1);
  ck_assert_str_eq(nth_diag(0)->message, "unexpected end of file, expected a clause, an "
                   "operator or `}`");
  ck_assert_int_eq(nth_diag(0)->loc.line, 3);
  ck_assert_int_eq(nth_diag(0)->loc.col, 20);
  ck_assert_int_eq(m->decls.len, 1);
}
END_TEST

START_TEST(too_many_errors_stop) {
  size_t n = 5000;
  char *text = malloc(n * 4 + 1);
  ck_assert_ptr_nonnull(text);
  for (size_t i = 0; i < n; i++) memcpy(text + i * 4, "! ;\n", 4);
  text[n * 4] = '\0';
  parse(text);
  free(text);
  ck_assert_int_eq(D.errors, PARSE_MAX_ERRORS + 1);
  ck_assert_int_eq(D.last->code, DIAG_E19);
}
END_TEST

/* ---- hostile input ------------------------------------------------------------------------------ */

START_TEST(deep_nesting_is_limited) {
  size_t depth = 300;
  char *text = malloc(depth * 2 + 32);
  ck_assert_ptr_nonnull(text);
  size_t o = (size_t)sprintf(text, "let x = ");
  for (size_t i = 0; i < depth; i++) text[o++] = '-';
  text[o++] = '1';
  text[o] = '\0';
  ast_module *m = parse(text);
  ck_assert_int_eq(count_code(DIAG_E11), 1);
  ck_assert_int_eq(D.errors, 1);
  ck_assert_int_eq(m->decls.len, 1);

  reset();
  o = (size_t)sprintf(text, "let y = ");
  for (size_t i = 0; i < depth; i++) text[o++] = 'a', text[o++] = '+';
  text[o++] = '1';
  text[o] = '\0';
  parse(text);
  ck_assert_int_eq(count_code(DIAG_E11), 1);
  free(text);

  /* Deeper than bison's own stack: an error, not a crash. */
  reset();
  depth = 20000;
  text = malloc(depth + 32);
  ck_assert_ptr_nonnull(text);
  o = (size_t)sprintf(text, "let z = ");
  memset(text + o, '(', depth);
  text[o + depth] = '\0';
  parse(text);
  free(text);
  ck_assert_int_ge(D.errors, 1);
  ck_assert_int_eq(nth_diag(0)->code, DIAG_E11);
}
END_TEST

START_TEST(nul_and_invalid_bytes) {
  static const char text[] = "let a = 1\0 let b = \"x\0y\"\n\xFF\xFE let c = 3 # \x80\n";
  ast_module *m = parse_len(text, sizeof text - 1);
  /* SPEC 3: a NUL byte is an error wherever it stands, in a string too */
  ck_assert_int_eq(count_code(DIAG_E1), 3);
  ck_assert_int_eq(D.errors, 3);
  ck_assert_int_eq(m->decls.len, 3);
  ast_expr *b = decl(m, 1)->u.let.expr;
  ck_assert_uint_eq(b->u.lit.value.u.str.len, 2);
  ck_assert(memcmp(b->u.lit.value.u.str.s, "xy", 2) == 0);
  ck_assert_int_eq(nth_diag(0)->loc.col, 10);
  ck_assert_int_eq(nth_diag(1)->loc.line, 1);
  ck_assert_int_eq(nth_diag(1)->loc.col, 22);
  ck_assert_int_eq(nth_diag(1)->loc.end_col, 22);
  ck_assert_int_eq(nth_diag(2)->loc.line, 2);
  ck_assert_int_eq(nth_diag(2)->loc.end_col, 2);
}
END_TEST

START_TEST(empty_and_blank_input) {
  ast_module *m = parse_ok("");
  ck_assert_int_eq(m->decls.len, 0);
  m = parse_ok("  \n\t\r\n# only a comment");
  ck_assert_int_eq(m->decls.len, 0);
  ck_assert_int_eq(m->comments.len, 1);
}
END_TEST

START_TEST(long_input) {
  size_t n = 20000;
  char *text = malloc(n * 24 + 1);
  ck_assert_ptr_nonnull(text);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) o += (size_t)sprintf(text + o, "event e%zu { f: int }\n", i);
  ast_module *m = parse_ok(text);
  free(text);
  ck_assert_int_eq(m->decls.len, (int)n);
  ck_assert_int_eq(decl(m, (int)n - 1)->loc.line, (int)n);
}
END_TEST

/* ---- sources and helpers ------------------------------------------------------------------------- */

START_TEST(source_loading) {
  char path[] = "/tmp/msl_test_parse_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "event a\n", 8), 8);
  close(fd);
  int err = 0;
  msl_source *s = source_load(&A, path, &err);
  unlink(path);
  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(s->len, 8);
  ck_assert_str_eq(s->text, "event a\n");
  ck_assert_str_eq(s->path, path);
  ck_assert_ptr_null(source_load(&A, "/nonexistent/x.ms", &err));
  ck_assert_int_eq(err, ENOENT);
  err = 0;
  ck_assert_ptr_null(source_load(&A, "/tmp", &err));
  ck_assert_int_eq(err, EISDIR);
  s = source_from_string(&A, "x.ms", "ab\0c", 4);
  ck_assert_uint_eq(s->len, 4);
  ck_assert_int_eq(s->text[4], '\0');
}
END_TEST

START_TEST(ast_names) {
  ck_assert_str_eq(ast_decl_kind_name(DECL_MILESTONE), "milestone");
  ck_assert_str_eq(ast_decl_kind_name(DECL_EXTERN), "extern fn");
  ck_assert_str_eq(value_type_name(VALUE_DURATION), "duration");
  ck_assert_str_eq(ast_op_text(OP_NE), "!=");
  ck_assert_str_eq(ast_op_text(OP_NOT), "not");
  ck_assert_str_eq(ast_agg_name(AGG_DISTINCT), "distinct");
  msl_loc loc = {NULL, 3, 4, 3, 9};
  ast_expr *e = ast_new_expr(&A, EX_START, loc);
  ck_assert_int_eq(e->kind, EX_START);
  ck_assert_int_eq(e->loc.end_col, 9);
  ast_decl *d = ast_new_decl(&A, DECL_LET, loc);
  ck_assert_int_eq(d->kind, DECL_LET);
  ck_assert_ptr_null(d->name.text);
}
END_TEST

static Suite *parse_suite(void) {
  Suite *s = suite_create("parse");
  TCase *lexer = tcase_create("lexer");
  tcase_add_checked_fixture(lexer, setup, teardown);
  tcase_add_test(lexer, lex_words);
  tcase_add_test(lexer, lex_every_keyword_is_reserved);
  tcase_add_test(lexer, lex_numbers);
  tcase_add_test(lexer, lex_durations);
  tcase_add_test(lexer, lex_times);
  tcase_add_test(lexer, lex_bad_times);
  tcase_add_test(lexer, lex_strings);
  tcase_add_test(lexer, lex_nul_escape);
  tcase_add_test(lexer, lex_strings_keep_any_bytes);
  tcase_add_test(lexer, lex_locations);
  tcase_add_test(lexer, lex_operators);
  tcase_add_test(lexer, lex_errors);
  tcase_add_test(lexer, lex_error_messages);
  tcase_add_test(lexer, comments_kept);
  suite_add_tcase(s, lexer);

  TCase *grammar = tcase_create("grammar");
  tcase_add_checked_fixture(grammar, setup, teardown);
  tcase_add_test(grammar, spec_example_parses);
  tcase_add_test(grammar, example_files_parse);
  tcase_add_test(grammar, expr_precedence);
  tcase_add_test(grammar, expr_comparisons_do_not_chain);
  tcase_add_test(grammar, expr_in_list);
  tcase_add_test(grammar, expr_parens_and_locations);
  tcase_add_test(grammar, expr_literals_raw);
  tcase_add_test(grammar, expr_aggregates);
  tcase_add_test(grammar, expr_keyword_members);
  tcase_add_test(grammar, decl_fields_commas_optional);
  tcase_add_test(grammar, decl_functions);
  tcase_add_test(grammar, decl_milestone_clauses);
  tcase_add_test(grammar, decl_playbook_clauses);
  tcase_add_test(grammar, decl_clause_twice);
  tcase_add_test(grammar, decl_clause_misplaced);
  tcase_add_test(grammar, test_block_items);
  tcase_add_test(grammar, test_block_errors);
  suite_add_tcase(s, grammar);

  TCase *errors = tcase_create("errors");
  tcase_add_checked_fixture(errors, setup, teardown);
  tcase_set_timeout(errors, 30);
  tcase_add_test(errors, error_message_and_span);
  tcase_add_test(errors, error_messages_say_what_was_expected);
  tcase_add_test(errors, error_keyword_as_name);
  tcase_add_test(errors, error_unknown_type);
  tcase_add_test(errors, recovery_reports_every_error);
  tcase_add_test(errors, recovery_after_short_clause);
  tcase_add_test(errors, recovery_inside_events_block);
  tcase_add_test(errors, recovery_unclosed_block);
  tcase_add_test(errors, too_many_errors_stop);
  tcase_add_test(errors, deep_nesting_is_limited);
  tcase_add_test(errors, nul_and_invalid_bytes);
  tcase_add_test(errors, empty_and_blank_input);
  tcase_add_test(errors, long_input);
  tcase_add_test(errors, source_loading);
  tcase_add_test(errors, ast_names);
  suite_add_tcase(s, errors);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(parse_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
