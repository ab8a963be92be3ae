/* test_fmt.c — the canonical formatter (src/front/fmt.c) on in-memory sources:
 * exact output, idempotence, comment placement, blank lines, and that the
 * formatted text parses back to the same tree. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/fmt.h"
#include "front/parse.h"

/* Parses text (which must have no syntax error) into a.  */
static ast_module *parse_text(arena *a, const char *text) {
  diag_list diags;
  diag_init(&diags, a);
  msl_source *src = source_from_string(a, "test.ms", text, strlen(text));
  ast_module *m = parse_module(a, src, &diags);
  ck_assert_msg(diags.errors == 0, "syntax error in test source: %s\n%s",
                diags.first ? diags.first->message : "?", text);
  return m;
}

/* The formatted text of a source, malloc'd. */
static char *format_text(const char *text) {
  arena a;
  arena_init(&a);
  ast_module *m = parse_text(&a, text);
  fmt_buf out;
  fmt_buf_init(&out);
  ck_assert(fmt_module(m, &out));
  char *result = strdup(out.data ? out.data : "");
  ck_assert_ptr_nonnull(result);
  fmt_buf_free(&out);
  arena_free(&a);
  return result;
}

/* Formats `in`, expects `want`, and expects formatting `want` to keep it. */
static void check_format(const char *in, const char *want) {
  char *got = format_text(in);
  ck_assert_msg(strcmp(got, want) == 0, "formatting\n%s\ngave\n%s\nwanted\n%s", in, got, want);
  char *again = format_text(got);
  ck_assert_msg(strcmp(again, got) == 0, "not idempotent:\n%s\nthen\n%s", got, again);
  free(again);
  free(got);
}

/* ---- a structural dump, to compare meaning ------------------------------ */

static void dump_expr(fmt_buf *b, const ast_expr *e);

static void dump_text(fmt_buf *b, const char *s) {
  if (!s) s = "?";
  fmt_buf_append(b, s, strlen(s));
}

static void dump_ref(fmt_buf *b, const ast_event_ref *r) {
  dump_text(b, r->event.text);
  if (r->field.text) {
    dump_text(b, ".");
    dump_text(b, r->field.text);
  }
  if (r->where) {
    dump_text(b, " where ");
    dump_expr(b, r->where);
  }
}

static void dump_window(fmt_buf *b, const ast_window *w) {
  if (w->kind == WIN_NONE) return;
  dump_text(b, w->kind == WIN_WITHIN ? " within " : " since ");
  dump_expr(b, w->expr);
}

/* Fully parenthesised, ignoring the parens the user wrote. */
static void dump_expr(fmt_buf *b, const ast_expr *e) {
  switch (e->kind) {
    case EX_LITERAL: dump_text(b, e->u.lit.raw); break;
    case EX_NAME: dump_text(b, e->u.name.text); break;
    case EX_ACCOUNT_FIELD:
      dump_text(b, "account.");
      dump_text(b, e->u.name.text);
      break;
    case EX_START: dump_text(b, "start"); break;
    case EX_UNARY:
      dump_text(b, "(");
      dump_text(b, ast_op_text(e->u.op.op));
      dump_text(b, " ");
      dump_expr(b, e->u.op.lhs);
      dump_text(b, ")");
      break;
    case EX_BINARY:
      dump_text(b, "(");
      dump_expr(b, e->u.op.lhs);
      dump_text(b, " ");
      dump_text(b, ast_op_text(e->u.op.op));
      dump_text(b, " ");
      dump_expr(b, e->u.op.rhs);
      dump_text(b, ")");
      break;
    case EX_IN:
      dump_text(b, "(");
      dump_expr(b, e->u.in.lhs);
      dump_text(b, " in");
      for (int i = 0; i < e->u.in.items.len; i++) {
        dump_text(b, " ");
        dump_expr(b, e->u.in.items.items[i]);
      }
      dump_text(b, ")");
      break;
    case EX_CALL:
      dump_text(b, e->u.call.name.text);
      dump_text(b, "(");
      for (int i = 0; i < e->u.call.args.len; i++) {
        dump_text(b, " ");
        dump_expr(b, e->u.call.args.items[i]);
      }
      dump_text(b, ")");
      break;
    case EX_AGGREGATE:
      dump_text(b, ast_agg_name(e->u.agg.fn));
      dump_text(b, "(");
      dump_ref(b, &e->u.agg.ref);
      dump_window(b, &e->u.agg.window);
      dump_text(b, ")");
      break;
    case EX_SEQUENCE:
      dump_text(b, "sequence(");
      for (int i = 0; i < e->u.seq.steps.len; i++) {
        dump_text(b, " ");
        dump_ref(b, e->u.seq.steps.items[i]);
      }
      dump_window(b, &e->u.seq.window);
      dump_text(b, ")");
      break;
    case EX_COMPLETED:
    case EX_ACHIEVING:
      dump_text(b, e->kind == EX_COMPLETED ? "completed(" : "achieving(");
      dump_text(b, e->u.name.text);
      dump_text(b, ")");
      break;
  }
}

/* The dump of the expression of the first (segment) declaration, malloc'd. */
static char *dump_first_segment(const char *text) {
  arena a;
  arena_init(&a);
  ast_module *m = parse_text(&a, text);
  ck_assert_int_ge(m->decls.len, 1);
  const ast_decl *d = m->decls.items[0];
  ck_assert_int_eq(d->kind, DECL_SEGMENT);
  fmt_buf b;
  fmt_buf_init(&b);
  dump_expr(&b, d->u.segment.expr);
  char *result = strdup(b.data);
  fmt_buf_free(&b);
  arena_free(&a);
  return result;
}

/* ---- tests ------------------------------------------------------------------ */

START_TEST(buffer_grows) {
  fmt_buf b;
  fmt_buf_init(&b);
  for (int i = 0; i < 1000; i++) fmt_buf_append(&b, "0123456789", 10);
  ck_assert_uint_eq(b.len, 10000);
  ck_assert_uint_eq(strlen(b.data), 10000);
  fmt_buf_free(&b);
  ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(empty_module) {
  check_format("", "");
  check_format("\n\n  \n", "");
}
END_TEST

START_TEST(spacing_and_literals) {
  check_format("segment a=account.x==1 or account.y!=2 and not account.z\n",
               "segment a = account.x == 1 or account.y != 2 and not account.z\n");
  check_format("let t=@2026-01-31T09:30:00Z+90m\nlet f=1.5e3\nlet s=\"a\\tb \\u{1F600}\"\n",
               "let t = @2026-01-31T09:30:00Z + 90m\nlet f = 1.5e3\n"
               "let s = \"a\\tb \\u{1F600}\"\n");
  check_format("segment e = account.p in[ \"a\",\"b\" ]\n",
               "segment e = account.p in [\"a\", \"b\"]\n");
  check_format("let n = - 3\nlet m = 1 - -2\nlet k = - -2\n",
               "let n = -3\nlet m = 1 - -2\nlet k = - -2\n");
  check_format("fn f ( a : int , b : string ) = a\n", "fn f(a: int, b: string) = a\n");
}
END_TEST

START_TEST(parentheses_kept_not_added) {
  check_format("segment a = (account.x) and (account.y or account.z)\n",
               "segment a = (account.x) and (account.y or account.z)\n");
  /* the tree keeps one `parens` flag: doubled parentheses become one pair */
  check_format("segment a = ((account.x))\n", "segment a = (account.x)\n");
  check_format("let x = (1 + 2) * 3 - 4 / (5 % 6)\n", "let x = (1 + 2) * 3 - 4 / (5 % 6)\n");
  check_format("let x = 1 + 2 * 3\n", "let x = 1 + 2 * 3\n");
}
END_TEST

/* A tree not made by the parser: a child binding looser than its parent
 * gets parentheses, and a keyword used as a name gets backquotes. */
START_TEST(parentheses_added_where_the_tree_needs_them) {
  arena a;
  arena_init(&a);
  msl_loc loc = {0};
  ast_module *m = arena_alloc(&a, sizeof *m);
  ast_expr *one = ast_new_expr(&a, EX_LITERAL, loc);
  one->u.lit.raw = "1";
  ast_expr *two = ast_new_expr(&a, EX_LITERAL, loc);
  two->u.lit.raw = "2";
  ast_expr *three = ast_new_expr(&a, EX_LITERAL, loc);
  three->u.lit.raw = "3";
  ast_expr *sum = ast_new_expr(&a, EX_BINARY, loc);
  sum->u.op.op = OP_ADD;
  sum->u.op.lhs = one;
  sum->u.op.rhs = two;
  ast_expr *product = ast_new_expr(&a, EX_BINARY, loc);  /* (1 + 2) * 3 */
  product->u.op.op = OP_MUL;
  product->u.op.lhs = sum;
  product->u.op.rhs = three;
  ast_expr *diff = ast_new_expr(&a, EX_BINARY, loc);     /* 3 - (1 + 2) */
  diff->u.op.op = OP_SUB;
  diff->u.op.lhs = three;
  diff->u.op.rhs = sum;
  ast_decl *d1 = ast_new_decl(&a, DECL_LET, loc);
  d1->name.text = "x";
  d1->u.let.expr = product;
  ast_decl *d2 = ast_new_decl(&a, DECL_LET, loc);
  d2->name.text = "group";                               /* a keyword */
  d2->u.let.expr = diff;
  ptr_vec_push(&a, &m->decls, d1);
  ptr_vec_push(&a, &m->decls, d2);
  fmt_buf out;
  fmt_buf_init(&out);
  ck_assert(fmt_module(m, &out));
  ck_assert_str_eq(out.data, "let x = (1 + 2) * 3\nlet `group` = 3 - (1 + 2)\n");
  fmt_buf_free(&out);

  d1->u.let.expr = NULL;                                  /* an incomplete tree */
  fmt_buf_init(&out);
  ck_assert(!fmt_module(m, &out));
  fmt_buf_free(&out);
  arena_free(&a);
}
END_TEST

START_TEST(meaning_is_kept) {
  static const char *const sources[] = {
      "segment s = account.a or account.b and not account.c\n",
      "segment s = (account.a or account.b) and not (account.c == 1)\n",
      "segment s = account.x - (account.y - 1) > -(-account.z) * 2\n",
      "segment s = not not account.a or account.x in [1, 2, -3]\n",
      "segment s = count(e where f == 1 and g != \"x\" within 7d) >= 1"
      " or sequence(a, b where c, d within 2d)\n",
      "segment s = sum(e.f since account.k + 1d) / 2 % 3 < avg(e.f)"
      " and completed(m) or achieving(n)\n",
      "segment s = f(1 + 2, (3)) == g() and account.`group` == `when`\n",
  };
  for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
    char *formatted = format_text(sources[i]);
    char *before = dump_first_segment(sources[i]);
    char *after = dump_first_segment(formatted);
    ck_assert_msg(strcmp(before, after) == 0, "meaning changed:\n%s%s\n%s\n%s", sources[i],
                  formatted, before, after);
    free(before);
    free(after);
    free(formatted);
  }
}
END_TEST

START_TEST(clauses_one_per_line_in_source_order) {
  check_format("milestone m \"M\" { exit count(a) >= 1 deadline 7d description \"d\"\n"
               "  action x \"X\" owner csm done when true  on achieved emit \"s\" }\n",
               "milestone m \"M\" {\n"
               "  exit count(a) >= 1\n"
               "  deadline 7d\n"
               "  description \"d\"\n"
               "  action x \"X\" owner csm done when true\n"
               "  on achieved emit \"s\"\n"
               "}\n");
  check_format("playbook p { step a \"A\"   tracks m   auto"
               " step b \"B\" tracks n when account.x > 1 }\n",
               "playbook p {\n"
               "  step a \"A\" tracks m auto\n"
               "  step b \"B\" tracks n when account.x > 1\n"
               "}\n");
}
END_TEST

START_TEST(field_lists) {
  check_format("event e {}\nevent f { a: int, b: string = \"\" }\nevent g {\n  a: int\n}\n",
               "event e\nevent f { a: int, b: string = \"\" }\nevent g { a: int }\n");
  check_format("account { a: int b: int }\n", "account { a: int, b: int }\n");
  check_format("event e { a: int  # why\n b: int }\n",
               "event e {\n  a: int  # why\n  b: int\n}\n");
}
END_TEST

START_TEST(full_line_comments) {
  /* before the construct that follows, at its indentation */
  check_format("# top\nmilestone m {\n# inside\n      exit true\n    # before close\n}\n# end\n",
               "# top\nmilestone m {\n  # inside\n  exit true\n  # before close\n}\n# end\n");
  /* a comment inside a construct printed on one line goes before it */
  check_format("segment s = account.a\n  # why b\n  or account.b\n",
               "# why b\nsegment s = account.a or account.b\n");
}
END_TEST

START_TEST(trailing_comments) {
  check_format("event a   # one\nevent b\t# two   \n", "event a  # one\nevent b  # two\n");
  /* several clauses on one line: the comment stays at the end of the last */
  check_format("milestone m { entry true exit false } # end\n",
               "milestone m {\n  entry true\n  exit false\n}  # end\n");
  check_format("milestone m { # header\n  exit false\n}\n",
               "milestone m {  # header\n  exit false\n}\n");
  check_format("segment s = account.a # one\n or account.b # two\n",
               "segment s = account.a or account.b  # one  # two\n");
}
END_TEST

START_TEST(blank_lines) {
  check_format("event a\n\n\n\nevent b\nevent c\n", "event a\n\nevent b\nevent c\n");
  check_format("event a\nmilestone m { exit true }\nevent b\n",
               "event a\n\nmilestone m {\n  exit true\n}\n\nevent b\n");
  /* the forced blank line goes after the first declaration, before comments */
  check_format("event a\n# about m\nmilestone m { exit true }\n",
               "event a\n\n# about m\nmilestone m {\n  exit true\n}\n");
  check_format("milestone m {\n\n  entry true\n\n\n  exit true\n\n}\n",
               "milestone m {\n  entry true\n\n  exit true\n}\n");
}
END_TEST

/* Letters inside string literals, to reach exact line widths. */
#define P10 "pppppppppp"
#define P20 P10 P10

START_TEST(long_lines_wrap_at_and_or) {
  /* 101 columns: broken before each `or`, under the first operand */
  check_format("milestone m {\n"
               "  exit count(a) >= 1 and account.plan == \"" P20 "ppppppp\""
               " and account.seats >= 2 or true\n"
               "}\n",
               "milestone m {\n"
               "  exit count(a) >= 1 and account.plan == \"" P20 "ppppppp\""
               " and account.seats >= 2\n"
               "       or true\n"
               "}\n");
  /* exactly 100 columns: one line */
#define EXACTLY_100 \
  "segment s = count(a) >= 1 and account.plan == \"" P20 "ppppppppp\" and account.seats >= 2\n"
  ck_assert_uint_eq(strlen(EXACTLY_100), 100 + 1);
  check_format(EXACTLY_100, EXACTLY_100);
  /* a parenthesised chain is never broken */
#define PARENTHESISED_101 \
  "let x = (account.plan == \"" P20 "ppp\" and account.seats >= 2 and account.region == \"eu\")\n"
  ck_assert_uint_eq(strlen(PARENTHESISED_101), 101 + 1);
  check_format(PARENTHESISED_101, PARENTHESISED_101);
  /* comments stay with their operands; continuation lines align */
  check_format("fn f(x: string) = x == \"" P20 P20 P20 P10 "\" # one\n"
               "  # about two\n"
               "  and x != \"b\"  # two\n"
               "  and x != \"c\"\n",
               "fn f(x: string) = x == \"" P20 P20 P20 P10 "\"  # one\n"
               "                  # about two\n"
               "                  and x != \"b\"  # two\n"
               "                  and x != \"c\"\n");
}
END_TEST

START_TEST(test_blocks) {
  check_format("test \"t\" { as_of @2026-02-01 account a1 { x = 1 y = -2 } events { @2026-01-01 e "
               "{ f = \"v\" } @2026-01-02 g } expect m is completed at @2026-01-01 "
               "expect m.progress == 0.5 expect p.step == done expect signal \"s\" }\n",
               "test \"t\" {\n"
               "  as_of @2026-02-01\n"
               "  account a1 { x = 1, y = -2 }\n"
               "  events {\n"
               "    @2026-01-01 e { f = \"v\" }\n"
               "    @2026-01-02 g\n"
               "  }\n"
               "  expect m is completed at @2026-01-01\n"
               "  expect m.progress == 0.5\n"
               "  expect p.step == done\n"
               "  expect signal \"s\"\n"
               "}\n");
}
END_TEST

static Suite *fmt_suite(void) {
  Suite *s = suite_create("fmt");
  TCase *tc = tcase_create("fmt");
  tcase_add_test(tc, buffer_grows);
  tcase_add_test(tc, empty_module);
  tcase_add_test(tc, spacing_and_literals);
  tcase_add_test(tc, parentheses_kept_not_added);
  tcase_add_test(tc, parentheses_added_where_the_tree_needs_them);
  tcase_add_test(tc, meaning_is_kept);
  tcase_add_test(tc, clauses_one_per_line_in_source_order);
  tcase_add_test(tc, field_lists);
  tcase_add_test(tc, full_line_comments);
  tcase_add_test(tc, trailing_comments);
  tcase_add_test(tc, blank_lines);
  tcase_add_test(tc, long_lines_wrap_at_and_or);
  tcase_add_test(tc, test_blocks);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *runner = srunner_create(fmt_suite());
  srunner_run_all(runner, CK_NORMAL);
  int failures = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
