/* test_compile_parts.c — the blocks of the criteria's parts for `msl
 * explain` (src/bc/compile_parts.c): every part that is not a constant has
 * a value block of its own type, nothing inside a `where` or a window has
 * one, the parts add no aggregate, sequence or update work, a part that is
 * a whole criterion compiles to the criterion's own code, and fmt_expr
 * prints a part on one line. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bc/compile.h"
#include "front/fmt.h"
#include "front/parse.h"
#include "front/sema.h"

static const char rules[] =
    "event login { user: string }\n"
    "event e { n: int }\n"
    "let k = 3\n"
    "fn active(w: duration) = distinct(login.user within w)\n"
    "milestone m \"M\" {\n"
    "  start on e\n"
    "  entry count(login) >= k\n"
    "  exit active(7d) >= 2 and not sequence(login, e within 1d)\n"
    "       or count(e where n > 1 since start) * 2 > k\n"
    "  blocked when count(e) in [1, 2]\n"
    "  action a \"A\" done when sum(e.n) / 2 >= 1\n"
    "}\n";

typedef struct loaded {
  arena a;
  msl_program *p;
  const ast_milestone *m;
} loaded;

static void load(loaded *l) {
  arena_init(&l->a);
  diag_list d;
  diag_init(&d, &l->a);
  msl_source *src = source_from_string(&l->a, "rules.ms", rules, strlen(rules));
  sema_options opts = {0};
  l->p = sema_load_source(&l->a, src, &opts, &d);
  ck_assert_ptr_nonnull(l->p);
  ck_assert(sema_check(l->p, &opts, &d));
  l->m = &((const ast_decl *)l->p->milestones.items[0])->u.milestone;
}

/* Walks e as compile_parts.c does; counts parts with a block of e's type. */
static int check_parts(const bc_program *prog, const compile_parts *parts, const ast_expr *e) {
  if (!e) return 0;
  uint32_t b = compile_part_block(parts, e);
  if (e->is_const) {
    ck_assert_uint_eq(b, BC_NO_BLOCK);
    return 0;
  }
  ck_assert_uint_ne(b, BC_NO_BLOCK);
  ck_assert_uint_lt(b, prog->nblocks);
  ck_assert_uint_eq(prog->blocks[b].type, e->type);
  int n = 1;
  switch (e->kind) {
    case EX_UNARY: n += check_parts(prog, parts, e->u.op.lhs); break;
    case EX_BINARY: n += check_parts(prog, parts, e->u.op.lhs) + check_parts(prog, parts, e->u.op.rhs); break;
    case EX_IN: n += check_parts(prog, parts, e->u.in.lhs); break;
    case EX_CALL: n += check_parts(prog, parts, e->inlined); break;
    case EX_AGGREGATE:
      /* a `where` is evaluated per event, never at an instant */
      if (e->u.agg.ref.where) ck_assert_uint_eq(compile_part_block(parts, e->u.agg.ref.where), BC_NO_BLOCK);
      break;
    default: break;
  }
  return n;
}

static bool same_code(const bc_program *a, uint32_t ba, const bc_program *b, uint32_t bb) {
  const bc_block *x = &a->blocks[ba], *y = &b->blocks[bb];
  return x->len == y->len && x->type == y->type &&
         memcmp(a->code + x->start, b->code + y->start, x->len * sizeof *a->code) == 0;
}

START_TEST(every_part_has_a_block) {
  loaded l;
  load(&l);
  diag_list d;
  diag_init(&d, &l.a);
  compile_parts parts;
  bc_program *prog = compile_explained(l.p, &d, &parts);
  ck_assert_ptr_nonnull(prog);
  ck_assert_int_eq(d.errors, 0);
  int n = check_parts(prog, &parts, l.m->entry) + check_parts(prog, &parts, l.m->exit) +
          check_parts(prog, &parts, l.m->blocked) +
          check_parts(prog, &parts, ((const ast_action *)l.m->actions.items[0])->done_when);
  ck_assert_uint_eq(parts.len, (size_t)n);
  /* a criterion as a part is the criterion's code */
  ck_assert(same_code(prog, compile_part_block(&parts, l.m->entry), prog, prog->milestones[0].entry_block));
  ck_assert(same_code(prog, compile_part_block(&parts, l.m->exit), prog, prog->milestones[0].exit_block));
  compile_parts_free(&parts);
  ck_assert_uint_eq(parts.len, 0);
  bc_program_free(prog);
  arena_free(&l.a);
}
END_TEST

START_TEST(parts_add_no_state) {
  loaded l;
  load(&l);
  diag_list d;
  diag_init(&d, &l.a);
  compile_parts parts;
  bc_program *plain = compile_and_verify(l.p, &d);
  bc_program *explained = compile_explained(l.p, &d, &parts);
  ck_assert_ptr_nonnull(plain);
  ck_assert_ptr_nonnull(explained);
  ck_assert_uint_gt(explained->nblocks, plain->nblocks);
  ck_assert_uint_eq(explained->naggregates, plain->naggregates);
  ck_assert_uint_eq(explained->nsequences, plain->nsequences);
  for (uint32_t i = 0; i < (plain->nmilestones + 1) * plain->nevents; i++) {
    uint32_t a = plain->update_blocks[i], b = explained->update_blocks[i];
    ck_assert_uint_eq(a == BC_NO_BLOCK, b == BC_NO_BLOCK);
    if (a != BC_NO_BLOCK) ck_assert(same_code(plain, a, explained, b));
  }
  compile_parts_free(&parts);
  bc_program_free(plain);
  bc_program_free(explained);
  arena_free(&l.a);
}
END_TEST

START_TEST(fmt_expr_prints_one_line) {
  loaded l;
  load(&l);
  fmt_buf out = {0};
  ck_assert(fmt_expr(l.m->exit, &out));
  ck_assert_str_eq(out.data,
                   "active(7d) >= 2 and not sequence(login, e within 1d) or count(e where n > 1 since start) * 2 > k");
  fmt_buf_free(&out);
  ck_assert(fmt_expr(l.m->exit->u.op.lhs->u.op.lhs->u.op.lhs->inlined, &out));
  ck_assert_str_eq(out.data, "distinct(login.user within 7d)");   /* the argument in place of w */
  fmt_buf_free(&out);
  arena_free(&l.a);
}
END_TEST

int main(void) {
  Suite *s = suite_create("compile_parts");
  TCase *tc = tcase_create("compile_parts");
  tcase_add_test(tc, every_part_has_a_block);
  tcase_add_test(tc, parts_add_no_state);
  tcase_add_test(tc, fmt_expr_prints_one_line);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
