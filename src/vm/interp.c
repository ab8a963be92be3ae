/* interp.c — the interpreter (prefix interp_): runs one block over
 * registers (docs/bytecode.md), with the value helpers it and the VM's
 * other files share.  The computed-goto dispatch is one function. */
#include "vm/vm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strings an extern returns live in scratch blocks until the next interp_exec
 * starts: registers point into them, so a full block is never moved or
 * freed mid-run; a fresh, larger one is chained in front of it instead. */
static char *scratch_alloc(void *ctx, size_t len) {
  vm_runtime *rt = ctx;
  vm_scratch *cur = rt->scratch;
  if (cur->size - cur->used < len) {
    size_t size = cur->size * 2 > len ? cur->size * 2 : len;
    vm_scratch *nb = util_xalloc_lines(sizeof *nb + size);   /* as the first (vm_runtime_new) */
    nb->older = cur;
    nb->size = size;
    nb->used = 0;
    rt->scratch = cur = nb;
  }
  char *p = cur->data + cur->used;
  cur->used += len;
  return p;
}

/* Ends the previous interp_exec's strings: keeps only the newest (largest) block. */
void interp_scratch_reset(vm_runtime *rt) {
  vm_scratch *old = rt->scratch->older;
  while (old) {
    vm_scratch *next = old->older;
    free(old);
    old = next;
  }
  rt->scratch->older = NULL;
  rt->scratch->used = 0;
}

bool interp_value_eq(value_type t, value_data a, value_data b) {
  switch (t) {
    case VALUE_STRING: return a.s.len == b.s.len && memcmp(a.s.p, b.s.p, a.s.len) == 0;
    case VALUE_FLOAT: return a.f == b.f;
    case VALUE_BOOL: return a.b == b.b;
    default: return a.i == b.i;
  }
}

/* A `start on` filter failed on an event of a's current instant, for a
 * target not started before it: whether that matters is known when the
 * instant is finished (settle_start_errors). */
static void hold_start_error(vm_runtime *rt, vm_account *a, const char *why) {
  vm_extra *x = vm_extra_of(a);
  if (x->start_error) return;
  vm_fail(rt, why);
  x->start_error = util_xalloc(strlen(rt->error) + 1);
  strcpy(x->start_error, rt->error);
}

/* A runtime error at ip in an update block, while applying ev: the snippet
 * it belongs to ends at its first effect instruction (docs/bytecode.md).
 * The effect's target is poisoned -- an aggregate only when ev is in its
 * scope -- and execution resumes after it.  A `start on` filter is
 * evaluated for its start: it fails the run when the milestone or playbook
 * applies and had not started before ev's instant.  NULL with rt->error
 * set when the run fails. */
static const bc_insn *snippet_failed(vm_runtime *rt, vm_account *a, const vm_event *ev, const bc_insn *ip,
                                     const bc_insn *end, const char *why) {
  const bc_program *p = rt->p;
  a->full_eval = true;   /* a poisoned value reads as an error now: every milestone looks again */
  for (; ip < end; ip++) {
    switch (ip->op) {
      case BC_UPDATE: {
        const bc_aggregate *d = &p->aggregates[ip->b];
        if (d->window == BC_WIN_SINCE && ev->time < *agg_since(rt, a, ip->b)) return ip + 1;
        agg_poison(vm_poison_at(rt, a, ip->b), why, ev->time,
                   d->window == BC_WIN_WITHIN ? vm_sat_add(ev->time, d->within_us) : INT64_MAX);
        return ip + 1;
      }
      case BC_STEP: {
        vm_poison *z = vm_poison_at(rt, a, p->naggregates + ip->b);
        if (!z->what) agg_poison(z, why, ev->time, INT64_MAX);
        return ip + 1;
      }
      case BC_STARTON: {
        vm_ms *m = vm_ms_at(rt, a, ip->b);
        if (!m->applies || (m->started && m->start <= ev->time)) return ip + 1;
        m->start_on_failed = true;
        rt->cur_milestone = ip->b;
        rt->cur_what = "the `start on` filter";
        hold_start_error(rt, a, why);
        return ip + 1;
      }
      case BC_STARTONP: {
        vm_pb *pb = vm_pb_at(rt, a, ip->b);
        if (!pb->applies || (pb->started && pb->started_at <= ev->time)) return ip + 1;
        pb->start_on_failed = true;
        rt->cur_milestone = BC_NONE;
        rt->cur_what = "a playbook's `start on` filter";
        hold_start_error(rt, a, why);
        return ip + 1;
      }
      default: break;
    }
  }
  vm_fail(rt, why);   /* no snippet structure (a foreign .msc): fail */
  return NULL;
}

/* Runs block b; value blocks leave their result in *result.  ev: the event
 * being applied (update blocks). */
bool interp_exec(vm_runtime *rt, vm_account *a, uint32_t b, const vm_event *ev, value_data *result) {
  const bc_program *p = rt->p;
  const bc_block *blk = &p->blocks[b];
  const bc_insn *code = p->code + blk->start;
  const bc_insn *ip = code;
  value_data R[BC_MAX_REGS];
/* A runtime error fails a value block; in an update block (ev set) it only
 * poisons what the failing snippet feeds, and the block goes on after it. */
#define FAIL(why)                                                                   \
  {                                                                                 \
    if (!ev) return vm_fail(rt, (why));                               \
    if (!(ip = snippet_failed(rt, a, ev, ip, code + blk->len, (why)))) \
      return false;                                                                 \
    NEXT();                                                                         \
  }
  interp_scratch_reset(rt);

#if defined(__GNUC__)
#define MSL_OP_LABEL(name, ...) &&do_##name,
  static const void *const dispatch[BC__COUNT] = {MSL_OPCODES(MSL_OP_LABEL)};
#undef MSL_OP_LABEL
#define NEXT() goto *dispatch[(ip++)->op]
#define CASE(name) do_##name:
  const bc_insn *in;
#define I (in = ip - 1)
  NEXT();
#else
#define NEXT() break
#define CASE(name) case BC_##name:
  const bc_insn *in;
#define I (in)
  for (;;) switch ((in = ip++)->op) {
#endif

  CASE(RET) { I; *result = R[in->a]; return true; }
  CASE(END) { return true; }
  CASE(LOADK) { I; R[in->a] = p->consts[in->b].v; NEXT(); }
  CASE(FIELD) { I; R[in->a] = ev->values[in->b]; NEXT(); }
  CASE(ACCT) {
    I;
    if (in->b == BC_ACCOUNT_ID) R[in->a].s = (value_str){vm_id(rt, a), a->id_len};
    else R[in->a] = vm_fields(rt, a)[in->b];
    NEXT();
  }
  CASE(AGG) {
    I;
    if (!agg_value(rt, a, in->b, &R[in->a])) return false;
    NEXT();
  }
  CASE(SEQ) {
    I;
    const vm_poison *z = vm_poison_of(a, p->naggregates + in->b);
    if (z) return vm_fail(rt, z->what);
    R[in->a].b = vm_seq_at(rt, a, in->b)->done;
    NEXT();
  }
  CASE(START) { I; R[in->a].i = vm_ms_at(rt, a, in->b)->start; NEXT(); }
  CASE(COMPLETED) { I; R[in->a].b = state_ms_completed(rt, a, in->b); NEXT(); }
  CASE(ACHIEVING) {
    I;
    const vm_ms *m = vm_ms_at(rt, a, in->b);
    R[in->a].b = m->applies && m->achieving;
    NEXT();
  }
  CASE(NOT) { I; R[in->a].b = !R[in->b].b; NEXT(); }
  CASE(NEGI) {
    I;
    if (R[in->b].i == INT64_MIN) FAIL("integer overflow");
    R[in->a].i = -R[in->b].i;
    NEXT();
  }
  CASE(NEGF) { I; R[in->a].f = -R[in->b].f; NEXT(); }
  CASE(I2F) { I; R[in->a].f = (double)R[in->b].i; NEXT(); }
  CASE(ADDI) {
    I;
    if (__builtin_add_overflow(R[in->b].i, R[in->c].i, &R[in->a].i)) FAIL("integer overflow");
    NEXT();
  }
  CASE(SUBI) {
    I;
    if (__builtin_sub_overflow(R[in->b].i, R[in->c].i, &R[in->a].i)) FAIL("integer overflow");
    NEXT();
  }
  CASE(MULI) {
    I;
    if (__builtin_mul_overflow(R[in->b].i, R[in->c].i, &R[in->a].i)) FAIL("integer overflow");
    NEXT();
  }
  CASE(DIVI) {
    I;
    if (R[in->c].i == 0) FAIL("integer division by zero");
    if (R[in->b].i == INT64_MIN && R[in->c].i == -1) FAIL("integer overflow");
    R[in->a].i = R[in->b].i / R[in->c].i;
    NEXT();
  }
  CASE(MODI) {
    I;
    if (R[in->c].i == 0) FAIL("integer division by zero");
    R[in->a].i = R[in->c].i == -1 ? 0 : R[in->b].i % R[in->c].i;
    NEXT();
  }
  CASE(ADDF) { I; R[in->a].f = R[in->b].f + R[in->c].f; NEXT(); }
  CASE(SUBF) { I; R[in->a].f = R[in->b].f - R[in->c].f; NEXT(); }
  CASE(MULF) { I; R[in->a].f = R[in->b].f * R[in->c].f; NEXT(); }
  CASE(DIVF) { I; R[in->a].f = R[in->b].f / R[in->c].f; NEXT(); }
  CASE(EQI) { I; R[in->a].b = R[in->b].i == R[in->c].i; NEXT(); }
  CASE(NEI) { I; R[in->a].b = R[in->b].i != R[in->c].i; NEXT(); }
  CASE(LTI) { I; R[in->a].b = R[in->b].i < R[in->c].i; NEXT(); }
  CASE(LEI) { I; R[in->a].b = R[in->b].i <= R[in->c].i; NEXT(); }
  CASE(EQF) { I; R[in->a].b = R[in->b].f == R[in->c].f; NEXT(); }
  CASE(NEF) { I; R[in->a].b = R[in->b].f != R[in->c].f; NEXT(); }
  CASE(LTF) { I; R[in->a].b = R[in->b].f < R[in->c].f; NEXT(); }
  CASE(LEF) { I; R[in->a].b = R[in->b].f <= R[in->c].f; NEXT(); }
  CASE(EQB) { I; R[in->a].b = R[in->b].b == R[in->c].b; NEXT(); }
  CASE(NEB) { I; R[in->a].b = R[in->b].b != R[in->c].b; NEXT(); }
  CASE(EQS) { I; R[in->a].b = interp_value_eq(VALUE_STRING, R[in->b], R[in->c]); NEXT(); }
  CASE(NES) { I; R[in->a].b = !interp_value_eq(VALUE_STRING, R[in->b], R[in->c]); NEXT(); }
  CASE(LTS) {
    I;
    value_str x = R[in->b].s, y = R[in->c].s;
    int c = memcmp(x.p, y.p, x.len < y.len ? x.len : y.len);
    R[in->a].b = c < 0 || (c == 0 && x.len < y.len);
    NEXT();
  }
  CASE(LES) {
    I;
    value_str x = R[in->b].s, y = R[in->c].s;
    int c = memcmp(x.p, y.p, x.len < y.len ? x.len : y.len);
    R[in->a].b = c < 0 || (c == 0 && x.len <= y.len);
    NEXT();
  }
  CASE(INI) {
    I;
    bool found = false;
    for (int k = 0; k < in->d && !found; k++) found = p->consts[in->c + k].v.i == R[in->b].i;
    R[in->a].b = found;
    NEXT();
  }
  CASE(INF) {
    I;
    bool found = false;
    for (int k = 0; k < in->d && !found; k++) found = p->consts[in->c + k].v.f == R[in->b].f;
    R[in->a].b = found;
    NEXT();
  }
  CASE(INS) {
    I;
    bool found = false;
    for (int k = 0; k < in->d && !found; k++) found = interp_value_eq(VALUE_STRING, p->consts[in->c + k].v, R[in->b]);
    R[in->a].b = found;
    NEXT();
  }
  CASE(INB) {
    I;
    bool found = false;
    for (int k = 0; k < in->d && !found; k++) found = p->consts[in->c + k].v.b == R[in->b].b;
    R[in->a].b = found;
    NEXT();
  }
  CASE(JMPF) { I; if (!R[in->a].b) ip = code + in->d; NEXT(); }
  CASE(JMPT) { I; if (R[in->a].b) ip = code + in->d; NEXT(); }
  CASE(CALL) {
    I;
    native_fn *f = rt->externs ? rt->externs[in->b] : NULL;
    if (!f) FAIL("call of an extern fn that is not bound");
    native_mem mem = {rt->ffi_args, sizeof rt->ffi_args, scratch_alloc, rt};
    char why[256];
    value_data ret;
    if (!native_invoke(f, &R[in->c], &ret, &mem, why, sizeof why)) FAIL(why);
    R[in->a] = ret;
    NEXT();
  }
  CASE(UPDATE) {
    I;
    agg_update(rt, a, in->b, ev, R[in->c]);
    NEXT();
  }
  CASE(STEP) {
    I;
    vm_seq_matched(rt, a, in->b)[in->c] = 1;
    vm_seq_at(rt, a, in->b)->any_matched = true;
    NEXT();
  }
  CASE(STARTON) {
    I;
    vm_ms *m = vm_ms_at(rt, a, in->b);
    if (m->applies && !m->started) {
      a->full_eval = true;
      m->started = true;
      m->start = ev->time;
      m->start_timer = false;
      m->since_ready = false;
    }
    NEXT();
  }
  CASE(STARTONP) {
    I;
    vm_pb *pb = vm_pb_at(rt, a, in->b);
    if (pb->applies && !pb->started) state_start_playbook(rt, a, in->b, ev->time, false);
    NEXT();
  }
#if !defined(__GNUC__)
  default: return vm_fail(rt, "invalid instruction");
  }
#endif
#undef NEXT
#undef CASE
#undef I
#undef FAIL
}

/* Block b as a vm_compare: c.agg BC_NONE when it is not one. */
static vm_compare compare_of(const bc_program *p, uint32_t b) {
  vm_compare c = {.agg = BC_NONE};
  const bc_block *blk = &p->blocks[b];
  if (blk->len != 4) return c;
  const bc_insn *in = p->code + blk->start, *cmp = &in[2], *ret = &in[3];
  const bc_insn *agg = in[0].op == BC_AGG ? &in[0] : &in[1], *k = in[0].op == BC_AGG ? &in[1] : &in[0];
  bool ops = cmp->op == BC_LTI || cmp->op == BC_LEI || cmp->op == BC_EQI || cmp->op == BC_NEI;
  if (agg->op != BC_AGG || k->op != BC_LOADK || agg->a == k->a || !ops || ret->op != BC_RET || ret->a != cmp->a ||
      p->consts[k->b].type != VALUE_INT)
    return c;
  if (cmp->b == agg->a && cmp->c == k->a) c.agg_first = true;
  else if (cmp->b != k->a || cmp->c != agg->a) return c;
  c.agg = agg->b;
  c.op = cmp->op;
  c.k = p->consts[k->b].v.i;
  return c;
}

void interp_plan(vm_runtime *rt) {
  const bc_program *p = rt->p;
  rt->compares = util_xalloc(sizeof *rt->compares * (p->nblocks + 1));
  for (uint32_t b = 0; b < p->nblocks; b++) rt->compares[b] = compare_of(p, b);
}

/* Evaluates a value block to a bool / time for the milestone machine. */
bool interp_eval_bool(vm_runtime *rt, vm_account *a, uint32_t b, const char *what, uint32_t m,
                      bool *out) {
  rt->cur_what = what;
  rt->cur_milestone = m;
  const vm_compare *c = &rt->compares[b];
  if (c->agg != BC_NONE) {
    value_data v;
    if (!agg_value(rt, a, c->agg, &v)) return false;
    int64_t x = c->agg_first ? v.i : c->k, y = c->agg_first ? c->k : v.i;
    *out = c->op == BC_LTI ? x < y : c->op == BC_LEI ? x <= y : c->op == BC_EQI ? x == y : x != y;
    return true;
  }
  value_data r;
  if (!interp_exec(rt, a, b, NULL, &r)) return false;
  *out = r.b;
  return true;
}

bool interp_eval_time(vm_runtime *rt, vm_account *a, uint32_t b, const char *what, uint32_t m,
                      int64_t *out) {
  rt->cur_what = what;
  rt->cur_milestone = m;
  value_data r;
  if (!interp_exec(rt, a, b, NULL, &r)) return false;
  *out = r.i;
  return true;
}
