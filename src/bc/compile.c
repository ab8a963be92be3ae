/* compile.c — typed AST to bytecode (prefix compile_).
 *
 * Expressions become register code: compile_expr(e, dst) leaves e's value in
 * R[dst] and uses registers above dst as temporaries, so a block needs as
 * many registers as its deepest expression.  Aggregates, sequences and
 * `start on` triggers are split off into the update block of their event
 * type; criteria read them back with AGG/SEQ.  Identical aggregates are
 * shared, so `count(login)` used by ten milestones is counted once. */
#include "bc/compile.h"
#include "bc/verify.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "front/codes.h"
#include "core/htable.h"
#include "core/util.h"

static _Noreturn void out_of_memory(void) {
  fputs("msl: out of memory\n", stderr);
  exit(4);
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) out_of_memory();
  return q;
}

/* The compiler has no way back from a full memory: it stops msl. */
#define VEC_PUSH(v, x)                                 \
  do {                                                 \
    if (!UTIL_VEC_RESERVE(v, 8)) out_of_memory();      \
    (v).items[(v).len++] = (x);                        \
  } while (0)

typedef UTIL_VEC(bc_insn) insn_vec;
typedef UTIL_VEC(uint32_t) u32_vec;

/* The block being written: its code, register high-water mark and context. */
typedef struct compiler_block {
  insn_vec code;
  int nregs;
  const ast_decl *event;     /* update blocks: the event whose fields FIELD reads */
  uint32_t milestone;        /* the enclosing milestone (START), or BC_NONE */
  bool update;
} compiler_block;

/* Segments are inlined where they are used, one inside the other. */
enum { CG_MAX_SEGMENT_DEPTH = 64 };

typedef struct compiler {
  const msl_program *p;
  diag_list *diags;
  bool failed;
  UTIL_VEC(char) strings;
  UTIL_VEC(bc_const) consts;
  insn_vec code;
  UTIL_VEC(bc_block) blocks;
  UTIL_VEC(bc_aggregate) aggs;
  UTIL_VEC(const ast_expr *) agg_exprs;     /* the expression behind each aggregate */
  UTIL_VEC(bc_sequence) seqs;
  UTIL_VEC(bc_extern) externs;
  compiler_block *updates;                   /* (nmilestones + 1) * nevents */
  compiler_block *cur;
  uint32_t nevents, nmilestones;
  u32_vec *needed_by;                  /* per milestone b: the milestones that need b first */
  uint32_t *unit_order;                /* per milestone, then per playbook: place among units */
  int segment_depth;
  arena pool_arena;                    /* the pools' hash tables */
  htable string_offsets;               /* string -> uint32_t* offset in strings */
  htable const_indexes;                /* bc_const bytes -> uint32_t* index in consts */
} compiler;

static void compile_error(compiler *c, msl_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void compile_error(compiler *c, msl_loc loc, const char *fmt, ...) {
  if (!c->failed) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    util_vset_msg(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(c->diags, loc, DIAG_E91, "%s", msg);
  }
  c->failed = true;
}

/* ---- pools ------------------------------------------------------------------ */

/* The pools are deduplicated through hash tables: a program can have many
 * thousand names. */
static uint32_t *pool_slot(compiler *c, htable *t, const void *key, size_t len, uint32_t next) {
  uint32_t *found = htable_get(t, key, len);
  if (found) return found;
  uint32_t *fresh = arena_alloc(&c->pool_arena, sizeof *fresh);
  *fresh = next;
  return htable_put(t, key, len, fresh);
}

static uint32_t compile_string_n(compiler *c, const char *s, size_t n) {
  /* the empty string is offset 0, put there by compile_program */
  if (n == 0) return 0;
  uint32_t off = *pool_slot(c, &c->string_offsets, s, n, c->strings.len);
  if (off != c->strings.len) return off;
  for (size_t i = 0; i < n; i++) VEC_PUSH(c->strings, s[i]);
  VEC_PUSH(c->strings, '\0');
  return off;
}

static uint32_t compile_string(compiler *c, const char *s) {
  return s ? compile_string_n(c, s, strlen(s)) : BC_NONE;
}

static uint32_t compile_const(compiler *c, value_type type, ast_value v) {
  bc_const k = {.type = (uint8_t)type};
  switch (type) {
    case VALUE_BOOL: k.v.b = v.u.b; break;
    case VALUE_FLOAT: k.v.f = v.u.f; break;
    case VALUE_STRING: {
      size_t n = v.u.str.len;
      uint32_t off = compile_string_n(c, v.u.str.s ? v.u.str.s : "", n);
      k.v.s.p = (const char *)(uintptr_t)off; /* resolved to a pointer in compile_program */
      k.v.s.len = (uint32_t)n;
      break;
    }
    default: k.v.i = v.u.i; break;
  }
  /* the key: the type and the bytes that make the value (a float's exact
   * bits, so 0.0 and -0.0 stay apart) */
  unsigned char key[1 + sizeof(uint64_t) + sizeof(uint32_t)] = {k.type};
  size_t len = 1;
  switch (type) {
    case VALUE_STRING: {
      uint64_t off = (uintptr_t)k.v.s.p;
      memcpy(key + len, &off, sizeof off);
      memcpy(key + len + sizeof off, &k.v.s.len, sizeof k.v.s.len);
      len += sizeof off + sizeof k.v.s.len;
      break;
    }
    case VALUE_FLOAT: memcpy(key + len, &k.v.f, sizeof k.v.f); len += sizeof k.v.f; break;
    case VALUE_BOOL: key[len++] = k.v.b ? 1 : 0; break;
    default: memcpy(key + len, &k.v.i, sizeof k.v.i); len += sizeof k.v.i; break;
  }
  uint32_t index = *pool_slot(c, &c->const_indexes, key, len, c->consts.len);
  if (index == c->consts.len) VEC_PUSH(c->consts, k);
  return index;
}

/* A constant converted to `want` (int widens to float). */
static ast_value compile_convert(ast_value v, value_type want) {
  if (want == VALUE_FLOAT && v.type == VALUE_INT) {
    double f = (double)v.u.i;
    v.u.f = f;
    v.type = VALUE_FLOAT;
  }
  return v;
}

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

/* The place of a declaration in its per-kind vector of the program: its
 * index (sema.c), or BC_NONE when it is not there. */
static uint32_t index_of(const ptr_vec *v, const ast_decl *d) {
  if (d && d->index >= 0 && d->index < v->len && v->items[d->index] == d) return (uint32_t)d->index;
  return BC_NONE;
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

static void add_dep(compiler *c, const ast_decl *target) {
  if (c->cur->milestone == BC_NONE) return;
  uint32_t m = index_of(&c->p->milestones, target);
  if (m != BC_NONE && m != c->cur->milestone) VEC_PUSH(c->needed_by[m], c->cur->milestone);
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
    case EX_NAME:
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
      return;
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
    case EX_BINARY: {
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
        value_type t = compare_type(l, r);
        bool swap;
        int bop = compare_op(op, t, &swap);
        if (bop < 0) {
          compile_error(c, e->loc, "internal error: no ordering on this type");
          return;
        }
        compile_expr_as(c, l, dst, t);
        compile_expr_as(c, r, dst + 1, t);
        if (swap) emit(c, bop, dst, dst + 1, dst, 0);
        else emit(c, bop, dst, dst, dst + 1, 0);
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
      return;
    }
    case EX_IN: {
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
      return;
    }
    case EX_CALL: {
      uint32_t x = index_of(&c->p->externs, e->decl);
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
      return;
    }
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
    case EX_ACHIEVING: {
      uint32_t m = index_of(&c->p->milestones, e->decl);
      if (m == BC_NONE) {
        compile_error(c, e->loc, "internal error: unknown milestone");
        return;
      }
      add_dep(c, e->decl);
      emit(c, e->kind == EX_COMPLETED ? BC_COMPLETED : BC_ACHIEVING, dst, (int)m, 0, 0);
      return;
    }
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
static uint32_t compile_value_block(compiler *c, const ast_expr *e, value_type want, uint32_t m) {
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
  uint32_t ev = index_of(&c->p->events, ref->event_decl);
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
  bc_sequence s = {.nsteps = (uint32_t)e->u.seq.steps.len, .owner = c->cur->milestone};
  if (e->u.seq.window.kind == WIN_WITHIN) s.within_us = e->u.seq.window.duration_us;
  VEC_PUSH(c->seqs, s);
  uint32_t si = c->seqs.len - 1;
  for (int k = 0; k < e->u.seq.steps.len; k++) {
    const ast_event_ref *ref = e->u.seq.steps.items[k];
    uint32_t ev = index_of(&c->p->events, ref->event_decl);
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
static void compile_start_on(compiler *c, const ast_start *st, int op, uint32_t target) {
  uint32_t ev = index_of(&c->p->events, st->on.event_decl);
  if (ev == BC_NONE) {
    compile_error(c, st->loc, "internal error: `start on` an unknown event");
    return;
  }
  compiler_block *saved;
  uint32_t j = compile_snippet_begin(c, update_block(c, 0, ev), st->on.event_decl, st->on.where, &saved);
  emit(c, op, 0, (int)target, 0, 0);
  compile_snippet_end(c, j, saved);
}

static uint8_t start_kind(ast_start_kind k) {
  switch (k) {
    case START_AT: return BC_START_AT;
    case START_AFTER: return BC_START_AFTER;
    case START_ON_EVENT: return BC_START_ON_EVENT;
    case START_ON_ASSIGNMENT: return BC_START_ON_ASSIGNMENT;
    default: return BC_START_NONE;
  }
}

static uint32_t *compile_segments(compiler *c, const ptr_vec *decls, uint32_t *n) {
  *n = (uint32_t)decls->len;
  uint32_t *out = xrealloc(NULL, sizeof *out * (size_t)(decls->len ? decls->len : 1));
  for (int i = 0; i < decls->len; i++) out[i] = index_of(&c->p->segments, decls->items[i]);
  return out;
}

static uint32_t *compile_emits(compiler *c, const ptr_vec *emits, uint32_t *n) {
  *n = (uint32_t)emits->len;
  uint32_t *out = xrealloc(NULL, sizeof *out * (size_t)(emits->len ? emits->len : 1));
  for (int i = 0; i < emits->len; i++) out[i] = compile_string(c, ((const ast_string *)emits->items[i])->text);
  return out;
}

static int64_t const_us(const ast_expr *e) {
  return e && e->is_const ? e->const_value.u.i : -1;
}

static void compile_milestone(compiler *c, bc_program *out, uint32_t i) {
  const ast_decl *d = c->p->milestones.items[i];
  const ast_milestone *m = &d->u.milestone;
  bc_milestone *bm = &out->milestones[i];
  bm->name = compile_string(c, d->name.text);
  bm->display = compile_string(c, m->display.text);
  bm->description = compile_string(c, m->description.text);
  bm->csm = compile_string(c, m->csm.text);
  bm->customer = compile_string(c, m->customer.text);
  bm->group = compile_string(c, m->group.text);
  bm->decl_order = c->unit_order[i];
  bm->continuous = m->mode == MODE_CONTINUOUS;
  bm->segments = compile_segments(c, &m->segment_decls, &bm->nsegments);
  compiler_block ctx = {.milestone = i};
  c->cur = &ctx;
  bm->start_kind = start_kind(m->start.kind);
  bm->start_block = BC_NO_BLOCK;
  bm->start_after = BC_NONE;
  switch (m->start.kind) {
    case START_AT: bm->start_block = compile_value_block(c, m->start.at, VALUE_TIME, i); break;
    case START_AFTER:
      bm->start_after = index_of(&c->p->milestones, m->start.after_decl);
      add_dep(c, m->start.after_decl);
      break;
    case START_ON_EVENT: compile_start_on(c, &m->start, BC_STARTON, i); break;
    default: break;
  }
  bm->deadline_block = BC_NO_BLOCK;
  switch (m->deadline_kind) {
    case DEADLINE_AFTER:
      bm->deadline_kind = BC_DEADLINE_AFTER;
      bm->deadline_us = m->deadline_us > 0 ? m->deadline_us : const_us(m->deadline);
      break;
    case DEADLINE_AT:
      bm->deadline_kind = BC_DEADLINE_AT;
      bm->deadline_block = compile_value_block(c, m->deadline, VALUE_TIME, i);
      break;
    default: bm->deadline_kind = BC_DEADLINE_NONE; break;
  }
  bm->estimate_us = m->estimate ? const_us(m->estimate) : -1;
  bm->entry_block = compile_value_block(c, m->entry, VALUE_BOOL, i);
  bm->exit_block = compile_value_block(c, m->exit, VALUE_BOOL, i);
  bm->blocked_block = compile_value_block(c, m->blocked, VALUE_BOOL, i);
  bm->nactions = (uint32_t)m->actions.len;
  bm->actions = xrealloc(NULL, sizeof *bm->actions * (size_t)(m->actions.len ? m->actions.len : 1));
  for (int k = 0; k < m->actions.len; k++) {
    const ast_action *a = m->actions.items[k];
    bm->actions[k] = (bc_action){.name = compile_string(c, a->name.text), .label = compile_string(c, a->label),
                                 .owner = (uint8_t)a->owner,
                                 .done_block = compile_value_block(c, a->done_when, VALUE_BOOL, i)};
  }
  bm->emits = compile_emits(c, &m->emits, &bm->nemits);
  c->cur = NULL;
}

static void compile_playbook(compiler *c, bc_program *out, uint32_t i) {
  const ast_decl *d = c->p->playbooks.items[i];
  const ast_playbook *pb = &d->u.playbook;
  bc_playbook *bp = &out->playbooks[i];
  bp->name = compile_string(c, d->name.text);
  bp->display = compile_string(c, pb->display.text);
  bp->decl_order = c->unit_order[c->nmilestones + i];
  bp->segments = compile_segments(c, &pb->segment_decls, &bp->nsegments);
  compiler_block ctx = {.milestone = BC_NONE};
  c->cur = &ctx;
  bp->start_kind = start_kind(pb->start.kind);
  bp->start_block = BC_NO_BLOCK;
  bp->start_after = BC_NONE;
  switch (pb->start.kind) {
    case START_AT: bp->start_block = compile_value_block(c, pb->start.at, VALUE_TIME, BC_NONE); break;
    case START_AFTER: bp->start_after = index_of(&c->p->milestones, pb->start.after_decl); break;
    case START_ON_EVENT: compile_start_on(c, &pb->start, BC_STARTONP, i); break;
    default: break;
  }
  bp->nsteps = (uint32_t)pb->steps.len;
  bp->steps = xrealloc(NULL, sizeof *bp->steps * (size_t)(pb->steps.len ? pb->steps.len : 1));
  for (int k = 0; k < pb->steps.len; k++) {
    const ast_step *s = pb->steps.items[k];
    bp->steps[k] = (bc_step){.name = compile_string(c, s->name.text), .label = compile_string(c, s->label.text),
                             .tracks = index_of(&c->p->milestones, s->tracks_decl),
                             .is_auto = s->is_auto,
                             .when_block = compile_value_block(c, s->when, VALUE_BOOL, BC_NONE)};
  }
  bp->emits = compile_emits(c, &pb->emits, &bp->nemits);
  c->cur = NULL;
}

static bc_field *compile_fields(compiler *c, const ptr_vec *fields, uint32_t *n) {
  *n = (uint32_t)fields->len;
  bc_field *out = xrealloc(NULL, sizeof *out * (size_t)(fields->len ? fields->len : 1));
  for (int i = 0; i < fields->len; i++) {
    const ast_field *f = fields->items[i];
    out[i] = (bc_field){.name = compile_string(c, f->name.text), .type = (uint8_t)f->type};
    if (f->default_value) {
      const ast_expr *dv = f->default_value;
      ast_value v = dv->is_const ? dv->const_value : dv->u.lit.value;
      out[i].has_default = 1;
      out[i].default_const = compile_const(c, f->type, compile_convert(v, f->type));
    }
  }
  return out;
}

/* The absolute directory of a source file: a .msc may run elsewhere, and
 * an extern's relative library path stays relative to its .ms. */
static char *dir_of(const char *path) {
  char *real = realpath(path, NULL);
  const char *src = real ? real : path;
  const char *slash = strrchr(src, '/');
  size_t n = slash ? (size_t)(slash - src) : 1;
  if (slash && n == 0) n = 1;    /* a file in / */
  char *d = xrealloc(NULL, n + 1);
  memcpy(d, slash ? src : ".", n);
  d[n] = '\0';
  free(real);
  return d;
}

/* A min-heap of milestone indexes: the ready milestones, lowest first. */
typedef struct ready_heap {
  uint32_t *items;
  uint32_t len;
} ready_heap;

static void heap_push(ready_heap *h, uint32_t m) {
  uint32_t i = h->len++;
  while (i > 0 && h->items[(i - 1) / 2] > m) {
    h->items[i] = h->items[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->items[i] = m;
}

static uint32_t heap_pop(ready_heap *h) {
  uint32_t top = h->items[0], last = h->items[--h->len], i = 0;
  for (;;) {
    uint32_t child = 2 * i + 1;
    if (child >= h->len) break;
    if (child + 1 < h->len && h->items[child + 1] < h->items[child]) child++;
    if (h->items[child] >= last) break;
    h->items[i] = h->items[child];
    i = child;
  }
  if (h->len) h->items[i] = last;
  return top;
}

/* Milestones in dependency order, declaration order among equals: Kahn's
 * algorithm, always placing the lowest-numbered ready milestone next. */
static bool compile_eval_order(compiler *c, uint32_t *order) {
  uint32_t n = c->nmilestones, placed = 0;
  uint32_t *waiting = xrealloc(NULL, sizeof *waiting * (n ? n : 1));  /* unplaced dependencies */
  memset(waiting, 0, sizeof *waiting * (n ? n : 1));
  for (uint32_t b = 0; b < n; b++)
    for (uint32_t k = 0; k < c->needed_by[b].len; k++) waiting[c->needed_by[b].items[k]]++;
  ready_heap ready = {xrealloc(NULL, sizeof(uint32_t) * (n ? n : 1)), 0};
  for (uint32_t a = 0; a < n; a++)
    if (!waiting[a]) heap_push(&ready, a);
  while (ready.len) {
    uint32_t b = heap_pop(&ready);
    order[placed++] = b;
    for (uint32_t k = 0; k < c->needed_by[b].len; k++)
      if (--waiting[c->needed_by[b].items[k]] == 0) heap_push(&ready, c->needed_by[b].items[k]);
  }
  free(ready.items);
  free(waiting);
  return placed == n;
}

bc_program *compile_program(const msl_program *p, diag_list *diags) {
  compiler c = {.p = p, .diags = diags};
  c.nevents = (uint32_t)p->events.len;
  c.nmilestones = (uint32_t)p->milestones.len;
  size_t nupd = (size_t)(c.nmilestones + 1) * c.nevents;
  c.updates = xrealloc(NULL, sizeof *c.updates * (nupd ? nupd : 1));
  memset(c.updates, 0, sizeof *c.updates * (nupd ? nupd : 1));
  for (size_t i = 0; i < nupd; i++) c.updates[i].milestone = i < c.nevents ? BC_NONE : (uint32_t)(i / c.nevents - 1);
  c.needed_by = xrealloc(NULL, sizeof *c.needed_by * (c.nmilestones ? c.nmilestones : 1));
  memset(c.needed_by, 0, sizeof *c.needed_by * (c.nmilestones ? c.nmilestones : 1));
  uint32_t nunits = c.nmilestones + (uint32_t)p->playbooks.len;
  c.unit_order = xrealloc(NULL, sizeof *c.unit_order * (nunits ? nunits : 1));
  for (int i = 0; i < p->units.len; i++) {
    const ast_decl *u = p->units.items[i];
    c.unit_order[u->kind == DECL_MILESTONE ? (uint32_t)u->index : c.nmilestones + (uint32_t)u->index] =
        (uint32_t)i;
  }
  arena_init(&c.pool_arena);
  htable_init(&c.string_offsets, &c.pool_arena);
  htable_init(&c.const_indexes, &c.pool_arena);
  VEC_PUSH(c.strings, '\0');   /* offset 0 is the empty string */

  bc_program *out = xrealloc(NULL, sizeof *out);
  memset(out, 0, sizeof *out);

  for (int i = 0; i < p->externs.len; i++) {
    const ast_decl *d = p->externs.items[i];
    bc_extern x = {.name = compile_string(&c, d->name.text), .lib = compile_string(&c, d->u.ext.lib.text),
                   .nparams = (uint32_t)d->u.ext.params.len, .ret = (uint8_t)d->u.ext.ret};
    char *dir = dir_of(d->module && d->module->src ? d->module->src->path : ".");
    x.base_dir = compile_string(&c, dir);
    free(dir);
    x.params = xrealloc(NULL, x.nparams ? x.nparams : 1);
    for (uint32_t k = 0; k < x.nparams; k++) x.params[k] = (uint8_t)((const ast_param *)d->u.ext.params.items[k])->type;
    VEC_PUSH(c.externs, x);
  }

  if (p->account) out->account_fields = compile_fields(&c, &p->account->u.account.fields, &out->naccount_fields);
  else out->account_fields = xrealloc(NULL, sizeof *out->account_fields);
  out->nevents = c.nevents;
  out->events = xrealloc(NULL, sizeof *out->events * (c.nevents ? c.nevents : 1));
  for (uint32_t i = 0; i < c.nevents; i++) {
    const ast_decl *d = p->events.items[i];
    out->events[i].name = compile_string(&c, d->name.text);
    out->events[i].fields = compile_fields(&c, &d->u.event.fields, &out->events[i].nfields);
  }

  out->nsegments = (uint32_t)p->segments.len;
  out->segment_blocks = xrealloc(NULL, sizeof(uint32_t) * (out->nsegments ? out->nsegments : 1));
  out->segment_names = xrealloc(NULL, sizeof(uint32_t) * (out->nsegments ? out->nsegments : 1));
  for (uint32_t i = 0; i < out->nsegments; i++) {
    const ast_decl *d = p->segments.items[i];
    compiler_block ctx = {.milestone = BC_NONE};
    c.cur = &ctx;
    out->segment_names[i] = compile_string(&c, d->name.text);
    out->segment_blocks[i] = compile_value_block(&c, d->u.segment.expr, VALUE_BOOL, BC_NONE);
    c.cur = NULL;
  }

  out->nmilestones = c.nmilestones;
  out->milestones = xrealloc(NULL, sizeof *out->milestones * (c.nmilestones ? c.nmilestones : 1));
  memset(out->milestones, 0, sizeof *out->milestones * (c.nmilestones ? c.nmilestones : 1));
  for (uint32_t i = 0; i < c.nmilestones && !c.failed; i++) compile_milestone(&c, out, i);
  out->nplaybooks = (uint32_t)p->playbooks.len;
  out->playbooks = xrealloc(NULL, sizeof *out->playbooks * (out->nplaybooks ? out->nplaybooks : 1));
  memset(out->playbooks, 0, sizeof *out->playbooks * (out->nplaybooks ? out->nplaybooks : 1));
  for (uint32_t i = 0; i < out->nplaybooks && !c.failed; i++) compile_playbook(&c, out, i);

  /* update blocks: each ends with END; empty ones are left out */
  out->update_blocks = xrealloc(NULL, sizeof(uint32_t) * (nupd ? nupd : 1));
  for (size_t i = 0; i < nupd; i++) {
    compiler_block *u = &c.updates[i];
    if (!u->code.len) {
      out->update_blocks[i] = BC_NO_BLOCK;
      continue;
    }
    c.cur = u;
    emit(&c, BC_END, 0, 0, 0, 0);
    c.cur = NULL;
    out->update_blocks[i] = compile_commit(&c, u, 0);
  }

  out->eval_order = xrealloc(NULL, sizeof(uint32_t) * (c.nmilestones ? c.nmilestones : 1));
  if (!c.failed && !compile_eval_order(&c, out->eval_order))
    compile_error(&c, (msl_loc){0}, "internal error: milestones depend on each other in a cycle");

  for (uint32_t i = 0; i < c.blocks.len && !c.failed; i++)
    if (c.blocks.items[i].len > BC_MAX_ARG)
      compile_error(&c, (msl_loc){0}, "a block is too long (more than %u instructions)", BC_MAX_ARG);

  /* hand the pools over; string constants become pointers into the pool */
  out->strings = c.strings.items;
  out->strings_len = c.strings.len;
  out->nconsts = c.consts.len;
  out->consts = c.consts.items ? c.consts.items : xrealloc(NULL, sizeof(bc_const));
  for (uint32_t i = 0; i < out->nconsts; i++)
    if (out->consts[i].type == VALUE_STRING)
      out->consts[i].v.s.p = out->strings + (uintptr_t)out->consts[i].v.s.p;
  out->ncode = c.code.len;
  out->code = c.code.items ? c.code.items : xrealloc(NULL, sizeof(bc_insn));
  out->nblocks = c.blocks.len;
  out->blocks = c.blocks.items ? c.blocks.items : xrealloc(NULL, sizeof(bc_block));
  out->naggregates = c.aggs.len;
  out->aggregates = c.aggs.items ? c.aggs.items : xrealloc(NULL, sizeof(bc_aggregate));
  out->nsequences = c.seqs.len;
  out->sequences = c.seqs.items ? c.seqs.items : xrealloc(NULL, sizeof(bc_sequence));
  out->nexterns = c.externs.len;
  out->externs = c.externs.items ? c.externs.items : xrealloc(NULL, sizeof(bc_extern));
  free(c.agg_exprs.items);
  for (size_t i = 0; i < nupd; i++) free(c.updates[i].code.items);
  free(c.updates);
  for (uint32_t i = 0; i < c.nmilestones; i++) free(c.needed_by[i].items);
  free(c.needed_by);
  free(c.unit_order);
  arena_free(&c.pool_arena);
  if (c.failed) {
    bc_program_free(out);
    return NULL;
  }
  return out;
}

bc_program *compile_and_verify(const msl_program *p, diag_list *diags) {
  bc_program *prog = compile_program(p, diags);
  char msg[512];
  if (prog && !verify_program(prog, msg, sizeof msg)) {
    diag_error(diags, (msl_loc){0}, DIAG_E99, "internal error: the compiled program does not verify: %s", msg);
    bc_program_free(prog);
    prog = NULL;
  }
  return prog;
}
