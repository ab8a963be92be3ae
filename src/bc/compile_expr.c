/* compile_expr.c — register code: expressions, the blocks they are written
 * into, and the update snippets behind aggregates, sequences and `start on`.
 *
 * Expressions become register code: compile_expr(e, dst) leaves e's value in
 * R[dst] and uses registers above dst as temporaries, so a block needs as
 * many registers as its deepest expression.  Aggregates, sequences and
 * `start on` triggers are split off into the update block of their event
 * type; criteria read them back with AGG/SEQ.  Identical aggregates are
 * shared, so `count(login)` used by ten milestones is counted once. */
#include "bc/compile_internal.h"

#include <string.h>

/* Segments are inlined where they are used, one inside the other. */
enum { CG_MAX_SEGMENT_DEPTH = 64 };

/* ---- emitting ---------------------------------------------------------------- */

static void emit(compiler *c, int op, int a, int b, int cc, int d) {
  bc_insn in = {(uint8_t)op, (uint8_t)a, (uint16_t)b, (uint16_t)cc, (uint16_t)d};
  VEC_PUSH(c->cur->code, in);
}

static uint32_t here(compiler *c) { return c->cur->code.len; }

static void patch_jump(compiler *c, uint32_t at) { c->cur->code.items[at].d = (uint16_t)here(c); }

static bool use_reg(compiler *c, int r, msl_loc loc) {
  if (r >= (int)BC_MAX_REGS) {
    compile_error(c, loc, "expression too deep: a block may use at most %u registers", BC_MAX_REGS);
    return false;
  }
  if (r + 1 > c->cur->nregs) c->cur->nregs = r + 1;
  return true;
}

/* ---- structural equality, for sharing aggregates ------------------------- */

static bool expr_equal(const ast_expr *a, const ast_expr *b);

static bool value_equal(ast_value a, ast_value b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case VALUE_BOOL: return a.u.b == b.u.b;
    case VALUE_FLOAT: return memcmp(&a.u.f, &b.u.f, sizeof a.u.f) == 0;
    case VALUE_STRING: return a.u.str.len == b.u.str.len && memcmp(a.u.str.s, b.u.str.s, a.u.str.len) == 0;
    default: return a.u.i == b.u.i;
  }
}

static bool window_equal(const ast_window *a, const ast_window *b) {
  if (a->kind != b->kind || a->since_start != b->since_start) return false;
  if (a->kind == WIN_WITHIN) return a->duration_us == b->duration_us;
  if (a->kind == WIN_SINCE && !a->since_start) return expr_equal(a->expr, b->expr);
  return true;
}

static bool ref_equal(const ast_event_ref *a, const ast_event_ref *b) {
  return a->event_decl == b->event_decl && a->field_index == b->field_index &&
         expr_equal(a->where, b->where);
}

static const ast_expr *unwrap(const ast_expr *e) {
  while (e && e->kind == EX_CALL && e->inlined) e = e->inlined;
  return e;
}

static bool expr_equal(const ast_expr *a, const ast_expr *b) {
  a = unwrap(a);
  b = unwrap(b);
  if (!a || !b) return a == b;
  if (a->is_const && b->is_const) return a->type == b->type && value_equal(a->const_value, b->const_value);
  if (a->kind != b->kind || a->type != b->type) return false;
  switch (a->kind) {
    case EX_LITERAL: return value_equal(a->u.lit.value, b->u.lit.value);
    case EX_NAME: return a->binding == b->binding && a->decl == b->decl && a->index == b->index;
    case EX_ACCOUNT_FIELD: return a->index == b->index;
    case EX_START: return true;
    case EX_UNARY: return a->u.op.op == b->u.op.op && expr_equal(a->u.op.lhs, b->u.op.lhs);
    case EX_BINARY:
      return a->u.op.op == b->u.op.op && expr_equal(a->u.op.lhs, b->u.op.lhs) &&
             expr_equal(a->u.op.rhs, b->u.op.rhs);
    case EX_IN:
      if (!expr_equal(a->u.in.lhs, b->u.in.lhs) || a->u.in.items.len != b->u.in.items.len) return false;
      for (int i = 0; i < a->u.in.items.len; i++)
        if (!expr_equal(a->u.in.items.items[i], b->u.in.items.items[i])) return false;
      return true;
    case EX_CALL:
      if (a->decl != b->decl || a->u.call.args.len != b->u.call.args.len) return false;
      for (int i = 0; i < a->u.call.args.len; i++)
        if (!expr_equal(a->u.call.args.items[i], b->u.call.args.items[i])) return false;
      return true;
    case EX_AGGREGATE:
      return a->u.agg.fn == b->u.agg.fn && ref_equal(&a->u.agg.ref, &b->u.agg.ref) &&
             window_equal(&a->u.agg.window, &b->u.agg.window);
    case EX_SEQUENCE:
      if (a->u.seq.steps.len != b->u.seq.steps.len || !window_equal(&a->u.seq.window, &b->u.seq.window))
        return false;
      for (int i = 0; i < a->u.seq.steps.len; i++)
        if (!ref_equal(a->u.seq.steps.items[i], b->u.seq.steps.items[i])) return false;
      return true;
    case EX_COMPLETED:
    case EX_ACHIEVING: return a->decl == b->decl;
  }
  return false;
}

/* ---- expressions --------------------------------------------------------------- */

static void compile_expr(compiler *c, const ast_expr *e, int dst);

static void compile_expr_as(compiler *c, const ast_expr *e, int dst, value_type want) {
  compile_expr(c, e, dst);
  if (want == VALUE_FLOAT && e->type == VALUE_INT) emit(c, BC_I2F, dst, dst, 0, 0);
}

static void compile_load_const(compiler *c, ast_value v, value_type want, int dst) {
  v = compile_convert(v, want);
  uint32_t k = compile_const(c, v.type, v);
  if (k > BC_MAX_ARG) {
    compile_error(c, (msl_loc){0}, "too many constants in one program (at most %u)", BC_MAX_ARG + 1);
    return;
  }
  emit(c, BC_LOADK, dst, (int)k, 0, 0);
}

/* The type both operands of a comparison are brought to. */
static value_type compare_type(const ast_expr *l, const ast_expr *r) {
  if (l->type == VALUE_FLOAT || r->type == VALUE_FLOAT) return VALUE_FLOAT;
  return l->type;
}

static int compare_op(ast_op op, value_type t, bool *swap) {
  *swap = op == OP_GT || op == OP_GE;
  int base_eq, base_lt;
  switch (t) {
    case VALUE_FLOAT: base_eq = BC_EQF; base_lt = BC_LTF; break;
    case VALUE_STRING: base_eq = BC_EQS; base_lt = BC_LTS; break;
    case VALUE_BOOL: base_eq = BC_EQB; base_lt = -1; break;
    default: base_eq = BC_EQI; base_lt = BC_LTI; break;
  }
  switch (op) {
    case OP_EQ: return base_eq;
    case OP_NE: return base_eq + 1;          /* NEx follows EQx in opcodes.h */
    case OP_LT: case OP_GT: return base_lt;
    default: return base_lt < 0 ? -1 : base_lt + 1;  /* LE, GE */
  }
}

static uint32_t compile_aggregate(compiler *c, const ast_expr *e);
static uint32_t compile_sequence(compiler *c, const ast_expr *e);

void compile_add_dep(compiler *c, const ast_decl *target) {
  if (c->cur->milestone == BC_NONE) return;
  uint32_t m = compile_index_of(&c->p->milestones, target);
  if (m != BC_NONE && m != c->cur->milestone) VEC_PUSH(c->needed_by[m], c->cur->milestone);
}

/* A name: an event field (in update blocks), a constant let, or a segment,
 * which is inlined. */
static void compile_name(compiler *c, const ast_expr *e, int dst) {
  switch (e->binding) {
    case BIND_EVENT_FIELD:
      if (!c->cur->update) break;
      emit(c, BC_FIELD, dst, e->index, 0, 0);
      return;
    case BIND_LET:
      if (e->decl && e->decl->u.let.expr && e->decl->u.let.expr->is_const) {
        compile_load_const(c, e->decl->u.let.expr->const_value, e->type, dst);
        return;
      }
      break;
    case BIND_SEGMENT:
      /* segments are pure functions of the account: inline them */
      if (c->segment_depth >= CG_MAX_SEGMENT_DEPTH) {
        compile_error(c, e->loc,
                      "segments use segments more than %d levels deep: too deep to inline; "
                      "shorten the chain of segments",
                      CG_MAX_SEGMENT_DEPTH);
        return;
      }
      c->segment_depth++;
      compile_expr(c, e->decl->u.segment.expr, dst);
      c->segment_depth--;
      return;
    default: break;
  }
  compile_error(c, e->loc, "internal error: unresolved name reached the compiler");
}

/* A comparison, its operands brought to one type in R[dst] and R[dst + 1]. */
static void compile_compare(compiler *c, const ast_expr *e, int dst) {
  const ast_expr *l = e->u.op.lhs, *r = e->u.op.rhs;
  value_type t = compare_type(l, r);
  bool swap;
  int bop = compare_op(e->u.op.op, t, &swap);
  if (bop < 0) {
    compile_error(c, e->loc, "internal error: no ordering on this type");
    return;
  }
  compile_expr_as(c, l, dst, t);
  compile_expr_as(c, r, dst + 1, t);
  if (swap) emit(c, bop, dst, dst + 1, dst, 0);
  else emit(c, bop, dst, dst, dst + 1, 0);
}

/* `and`/`or` short-circuit through a jump; comparisons and arithmetic
 * take the right operand in R[dst + 1]. */
static void compile_binary(compiler *c, const ast_expr *e, int dst) {
  ast_op op = e->u.op.op;
  const ast_expr *l = e->u.op.lhs, *r = e->u.op.rhs;
  if (op == OP_AND || op == OP_OR) {
    compile_expr(c, l, dst);
    uint32_t j = here(c);
    emit(c, op == OP_AND ? BC_JMPF : BC_JMPT, dst, 0, 0, 0);
    compile_expr(c, r, dst);
    patch_jump(c, j);
    return;
  }
  if (!use_reg(c, dst + 1, e->loc)) return;
  if (op == OP_EQ || op == OP_NE || op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE) {
    compile_compare(c, e, dst);
    return;
  }
  bool fl = e->type == VALUE_FLOAT;
  compile_expr_as(c, l, dst, e->type == VALUE_FLOAT ? VALUE_FLOAT : l->type);
  compile_expr_as(c, r, dst + 1, e->type == VALUE_FLOAT ? VALUE_FLOAT : r->type);
  int bop;
  switch (op) {
    case OP_ADD: bop = fl ? BC_ADDF : BC_ADDI; break;
    case OP_SUB: bop = fl ? BC_SUBF : BC_SUBI; break;
    case OP_MUL: bop = fl ? BC_MULF : BC_MULI; break;
    case OP_DIV: bop = fl ? BC_DIVF : BC_DIVI; break;
    default: bop = BC_MODI; break;
  }
  emit(c, bop, dst, dst, dst + 1, 0);
}

/* `x in [k1, k2 ...]`: the list becomes a run of constants. */
static void compile_in(compiler *c, const ast_expr *e, int dst) {
  const ast_expr *l = e->u.in.lhs;
  value_type t = l->type;
  for (int i = 0; i < e->u.in.items.len; i++)
    if (((const ast_expr *)e->u.in.items.items[i])->type == VALUE_FLOAT) t = t == VALUE_INT ? VALUE_FLOAT : t;
  if (!use_reg(c, dst + 1, e->loc)) return;
  compile_expr_as(c, l, dst + 1, t);
  /* the constants must be consecutive in the pool: add them fresh */
  uint32_t first = c->consts.len;
  for (int i = 0; i < e->u.in.items.len; i++) {
    const ast_expr *it = e->u.in.items.items[i];
    ast_value v = compile_convert(it->is_const ? it->const_value : it->u.lit.value, t);
    bc_const k = {.type = (uint8_t)v.type};
    if (v.type == VALUE_STRING) {
      size_t n = v.u.str.len;
      k.v.s.p = (const char *)(uintptr_t)compile_string_n(c, v.u.str.s ? v.u.str.s : "", n);
      k.v.s.len = (uint32_t)n;
    } else if (v.type == VALUE_FLOAT) k.v.f = v.u.f;
    else if (v.type == VALUE_BOOL) k.v.b = v.u.b;
    else k.v.i = v.u.i;
    VEC_PUSH(c->consts, k);
  }
  if (c->consts.len > BC_MAX_ARG || (unsigned)e->u.in.items.len > BC_MAX_ARG) {
    compile_error(c, e->loc, "too many constants in one program (at most %u)", BC_MAX_ARG + 1);
    return;
  }
  int bop = t == VALUE_FLOAT ? BC_INF : t == VALUE_STRING ? BC_INS : t == VALUE_BOOL ? BC_INB : BC_INI;
  emit(c, bop, dst, dst + 1, (int)first, e->u.in.items.len);
}

/* A call of an extern (fns were inlined by the checker): the arguments go
 * in R[dst + 1 ...]. */
static void compile_call(compiler *c, const ast_expr *e, int dst) {
  uint32_t x = compile_index_of(&c->p->externs, e->decl);
  if (x == BC_NONE) {
    compile_error(c, e->loc, "internal error: call of an unknown function");
    return;
  }
  const ast_decl *d = e->decl;
  int n = e->u.call.args.len;
  if (n > 0 && !use_reg(c, dst + n, e->loc)) return;
  for (int i = 0; i < n; i++) {
    const ast_param *prm = d->u.ext.params.items[i];
    compile_expr_as(c, e->u.call.args.items[i], dst + 1 + i, prm->type);
  }
  c->externs.items[x].called = 1;
  emit(c, BC_CALL, dst, (int)x, dst + 1, n);
}

/* `completed M` / `achieving M`, which makes M a dependency of the
 * milestone being compiled. */
static void compile_milestone_ref(compiler *c, const ast_expr *e, int dst) {
  uint32_t m = compile_index_of(&c->p->milestones, e->decl);
  if (m == BC_NONE) {
    compile_error(c, e->loc, "internal error: unknown milestone");
    return;
  }
  compile_add_dep(c, e->decl);
  emit(c, e->kind == EX_COMPLETED ? BC_COMPLETED : BC_ACHIEVING, dst, (int)m, 0, 0);
}

static void compile_expr(compiler *c, const ast_expr *e, int dst) {
  if (c->failed || !use_reg(c, dst, e->loc)) return;
  /* stopping here bounds the work too: segments that use a segment twice
   * each would otherwise inline exponentially many copies */
  if (c->cur->code.len > BC_MAX_ARG) {
    compile_error(c, e->loc, "a block is too long (more than %u instructions)", BC_MAX_ARG);
    return;
  }
  if (e->kind == EX_CALL && e->inlined) {
    compile_expr_as(c, e->inlined, dst, e->type);
    return;
  }
  bool foldable = e->kind == EX_LITERAL || e->kind == EX_UNARY || e->kind == EX_BINARY ||
                  e->kind == EX_IN || (e->kind == EX_NAME && e->binding == BIND_LET);
  if (foldable && e->is_const) {
    compile_load_const(c, e->const_value, e->type, dst);
    return;
  }
  switch (e->kind) {
    case EX_LITERAL: compile_load_const(c, e->u.lit.value, e->type, dst); return;
    case EX_NAME: compile_name(c, e, dst); return;
    case EX_ACCOUNT_FIELD:
      emit(c, BC_ACCT, dst, e->index < 0 ? (int)BC_ACCOUNT_ID : e->index, 0, 0);
      return;
    case EX_START:
      if (c->cur->milestone == BC_NONE) {
        /* account-wide update blocks are shared by every milestone */
        compile_error(c, e->loc, "`start` can be used in a `where` only with `since start`");
        return;
      }
      emit(c, BC_START, dst, (int)c->cur->milestone, 0, 0);
      return;
    case EX_UNARY:
      compile_expr(c, e->u.op.lhs, dst);
      if (e->u.op.op == OP_NOT) emit(c, BC_NOT, dst, dst, 0, 0);
      else emit(c, e->type == VALUE_FLOAT ? BC_NEGF : BC_NEGI, dst, dst, 0, 0);
      return;
    case EX_BINARY: compile_binary(c, e, dst); return;
    case EX_IN: compile_in(c, e, dst); return;
    case EX_CALL: compile_call(c, e, dst); return;
    case EX_AGGREGATE: {
      uint32_t g = compile_aggregate(c, e);
      if (g != BC_NONE) emit(c, BC_AGG, dst, (int)g, 0, 0);
      return;
    }
    case EX_SEQUENCE: {
      uint32_t s = compile_sequence(c, e);
      if (s != BC_NONE) emit(c, BC_SEQ, dst, (int)s, 0, 0);
      return;
    }
    case EX_COMPLETED:
    case EX_ACHIEVING: compile_milestone_ref(c, e, dst); return;
  }
}

/* ---- blocks ---------------------------------------------------------------------- */

/* Appends a finished block's code to the program and records it. */
static uint32_t compile_commit(compiler *c, compiler_block *b, value_type type) {
  bc_block blk = {.start = c->code.len, .len = b->code.len, .nregs = (uint16_t)(b->nregs ? b->nregs : 1),
                  .type = (uint8_t)type, .milestone = b->milestone};
  for (uint32_t i = 0; i < b->code.len; i++) VEC_PUSH(c->code, b->code.items[i]);
  free(b->code.items);
  memset(&b->code, 0, sizeof b->code);
  VEC_PUSH(c->blocks, blk);
  return c->blocks.len - 1;
}

/* A value block computing e (converted to want), in milestone context m. */
uint32_t compile_value_block(compiler *c, const ast_expr *e, value_type want, uint32_t m) {
  if (!e) return BC_NO_BLOCK;
  compiler_block b = {.milestone = m};
  compiler_block *saved = c->cur;
  c->cur = &b;
  compile_expr_as(c, e, 0, want);
  emit(c, BC_RET, 0, 0, 0, 0);
  c->cur = saved;
  return compile_commit(c, &b, want);
}

/* Starts a snippet in the update block of (scope, event): a `where` filter
 * whose false result skips to the end of the snippet.  Returns the jump to
 * patch, or BC_NONE without a filter. */
static uint32_t compile_snippet_begin(compiler *c, compiler_block *u, const ast_decl *ev, const ast_expr *where,
                                      compiler_block **saved) {
  *saved = c->cur;
  c->cur = u;
  u->update = true;
  u->event = ev;
  if (!where) return BC_NONE;
  compile_expr(c, where, 0);
  uint32_t j = here(c);
  emit(c, BC_JMPF, 0, 0, 0, 0);
  return j;
}

static void compile_snippet_end(compiler *c, uint32_t jump, compiler_block *saved) {
  if (jump != BC_NONE) patch_jump(c, jump);
  c->cur = saved;
}

static compiler_block *update_block(compiler *c, uint32_t scope, uint32_t event) {
  return &c->updates[scope * c->nevents + event];
}

static uint32_t compile_aggregate(compiler *c, const ast_expr *e) {
  const ast_event_ref *ref = &e->u.agg.ref;
  const ast_window *w = &e->u.agg.window;
  uint32_t ev = compile_index_of(&c->p->events, ref->event_decl);
  if (ev == BC_NONE) {
    compile_error(c, e->loc, "internal error: aggregate over an unknown event");
    return BC_NONE;
  }
  uint32_t since_m = BC_NONE;
  if (w->kind == WIN_SINCE && w->since_start) {
    since_m = c->cur->milestone;
    if (since_m == BC_NONE) {
      compile_error(c, e->loc, "internal error: `since start` outside a milestone");
      return BC_NONE;
    }
  }
  for (uint32_t i = 0; i < c->aggs.len; i++)
    if (c->aggs.items[i].milestone == since_m && expr_equal(c->agg_exprs.items[i], e)) return i;

  bc_aggregate g = {.fn = (uint8_t)e->u.agg.fn, .event = ev, .since_block = BC_NO_BLOCK,
                    .milestone = since_m, .owner = c->cur->milestone};
  const ast_field *f = NULL;
  if (ref->field_index >= 0) f = ref->event_decl->u.event.fields.items[ref->field_index];
  g.arg_type = e->u.agg.fn == AGG_COUNT || !f ? 0 : (uint8_t)f->type;
  switch (e->u.agg.fn) {
    case AGG_COUNT: case AGG_DISTINCT: g.result_type = VALUE_INT; break;
    case AGG_AVG: g.result_type = VALUE_FLOAT; break;
    default: g.result_type = g.arg_type; break;
  }
  switch (w->kind) {
    case WIN_NONE: g.window = BC_WIN_NONE; break;
    case WIN_WITHIN: g.window = BC_WIN_WITHIN; g.within_us = w->duration_us; break;
    case WIN_SINCE:
      if (w->since_start) g.window = BC_WIN_SINCE_START;
      else {
        g.window = BC_WIN_SINCE;
        g.since_block = compile_value_block(c, w->expr, VALUE_TIME, BC_NONE);
      }
      break;
  }
  VEC_PUSH(c->aggs, g);
  VEC_PUSH(c->agg_exprs, e);
  uint32_t gi = c->aggs.len - 1;

  compiler_block *saved;
  compiler_block *u = update_block(c, since_m == BC_NONE ? 0 : since_m + 1, ev);
  uint32_t j = compile_snippet_begin(c, u, ref->event_decl, ref->where, &saved);
  if (g.arg_type) {
    emit(c, BC_FIELD, 0, ref->field_index, 0, 0);
    use_reg(c, 0, e->loc);
  }
  emit(c, BC_UPDATE, 0, (int)gi, 0, 0);
  compile_snippet_end(c, j, saved);
  if (gi > BC_MAX_ARG) compile_error(c, e->loc, "too many aggregates in one program");
  return gi;
}

static uint32_t compile_sequence(compiler *c, const ast_expr *e) {
  /* a part is a piece of a criterion compiled already: its sequence is
     the criterion's (sequences are not shared otherwise) */
  if (c->parts)
    for (uint32_t i = 0; i < c->seq_exprs.len; i++)
      if (c->seq_exprs.items[i] == e) return i;
  bc_sequence s = {.nsteps = (uint32_t)e->u.seq.steps.len, .owner = c->cur->milestone};
  if (e->u.seq.window.kind == WIN_WITHIN) s.within_us = e->u.seq.window.duration_us;
  VEC_PUSH(c->seqs, s);
  VEC_PUSH(c->seq_exprs, e);
  uint32_t si = c->seqs.len - 1;
  for (int k = 0; k < e->u.seq.steps.len; k++) {
    const ast_event_ref *ref = e->u.seq.steps.items[k];
    uint32_t ev = compile_index_of(&c->p->events, ref->event_decl);
    if (ev == BC_NONE) {
      compile_error(c, e->loc, "internal error: sequence over an unknown event");
      return BC_NONE;
    }
    compiler_block *saved;
    compiler_block *u = update_block(c, 0, ev);
    uint32_t j = compile_snippet_begin(c, u, ref->event_decl, ref->where, &saved);
    emit(c, BC_STEP, 0, (int)si, k, 0);
    compile_snippet_end(c, j, saved);
  }
  return si;
}

/* `start on E where P`: a STARTON snippet in E's account-wide update block. */
void compile_start_on(compiler *c, const ast_start *st, int op, uint32_t target) {
  uint32_t ev = compile_index_of(&c->p->events, st->on.event_decl);
  if (ev == BC_NONE) {
    compile_error(c, st->loc, "internal error: `start on` an unknown event");
    return;
  }
  compiler_block *saved;
  uint32_t j = compile_snippet_begin(c, update_block(c, 0, ev), st->on.event_decl, st->on.where, &saved);
  emit(c, op, 0, (int)target, 0, 0);
  compile_snippet_end(c, j, saved);
}

void compile_update_blocks(compiler *c, bc_program *out) {
  out->update_blocks = util_xrealloc(NULL, sizeof(uint32_t) * (c->nupdates ? c->nupdates : 1));
  for (size_t i = 0; i < c->nupdates; i++) {
    compiler_block *u = &c->updates[i];
    if (!u->code.len) {
      out->update_blocks[i] = BC_NO_BLOCK;
      continue;
    }
    c->cur = u;
    emit(c, BC_END, 0, 0, 0, 0);
    c->cur = NULL;
    out->update_blocks[i] = compile_commit(c, u, 0);
  }
}
