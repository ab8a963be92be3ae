/* vm.c — the VM's public API (prefix vm_; see vm.h and docs/bytecode.md):
 * the runtime and account lifecycle, pushing and flushing events, the
 * results at the as-of time, and the runtime-error helpers
 * the VM's other files share (vm_internal.h). */
#include "vm/vm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vm_fmt_time(int64_t t, char *buf) {
  if (t == NO_TIME) strcpy(buf, "-");
  else io_format_time(t, buf);
}

/* An account id for a message: ids are bytes of known length, and a NUL or
 * another control byte in one is shown as \xNN, not cut or sent raw. */
static const char *shown_id(const vm_runtime *rt, const vm_account *a, char *buf, size_t cap) {
  if (!a) return "?";
  util_escape(buf, cap, vm_id(rt, a), a->id_len, "", SIZE_MAX);
  return buf;
}

bool vm_fail(vm_runtime *rt, const char *what) {
  const bc_program *p = rt->p;
  char when[40], id[128];
  vm_fmt_time(rt->cur_time, when);
  const char *acct = shown_id(rt, rt->cur_account, id, sizeof id);
  if (rt->cur_milestone != BC_NONE)
    snprintf(rt->error, sizeof rt->error, "runtime error: %s in %s of milestone `%s` for account `%s` at %s", what,
             rt->cur_what ? rt->cur_what : "a criterion", bc_str(p, p->milestones[rt->cur_milestone].name),
             acct, when);
  else
    snprintf(rt->error, sizeof rt->error, "runtime error: %s in %s for account `%s` at %s", what,
             rt->cur_what ? rt->cur_what : "an expression", acct, when);
  return false;
}

const char *vm_error(const vm_runtime *rt) {
  return rt->error;
}

vm_extra *vm_extra_of(vm_account *a) {
  if (!a->extra) a->extra = util_xalloc(sizeof *a->extra);
  return a->extra;
}

vm_poison *vm_poison_at(const vm_runtime *rt, vm_account *a, uint32_t i) {
  vm_extra *x = vm_extra_of(a);
  if (!x->poison) x->poison = util_xalloc(sizeof *x->poison * (rt->p->naggregates + rt->p->nsequences));
  return &x->poison[i];
}

bool vm_flush(vm_runtime *rt) {
  bool ok = true;
  /* newest first, as always: which account's error a failing instant
     reports depends on the order */
  for (uint32_t i = rt->nqueued; i-- > 0;) {
    vm_account *a = rt->queue[i];
    if (ok) ok = state_finish_instant(rt, a);
    if (a->extra) a->extra->ncontrols = 0;
    a->queued = false;
  }
  rt->nqueued = 0;
  return ok;
}

int vm_push(vm_runtime *rt, vm_account *a, const io_event *in) {
  if (in->time < a->last_instant || (a->queued && in->time < rt->instant)) return VM_UNSORTED;
  if (rt->nqueued && in->time != rt->instant && !vm_flush(rt)) return VM_ERROR;
  rt->instant = in->time;
  if (!a->queued && !state_begin_instant(rt, a, in->time)) return VM_ERROR;
  if (in->type < 0) {
    if (rt->observer && rt->observer->control) rt->observer->control(rt->observer->ctx, a, in);
    state_queue_control(rt, a, in);
    return VM_OK;
  }
  return state_apply_event(rt, a, in) ? VM_OK : VM_ERROR;
}

/* ---- accounts ------------------------------------------------------------------------------------- */

/* Places size bytes at *at, aligned to align (a power of two). */
static size_t layout_take(size_t *at, size_t size, size_t align) {
  size_t off = (*at + align - 1) & ~(align - 1);
  *at = off + size;
  return off;
}

/* The plan starts with the aggregates' states, one after another from
 * offset 0, then the account fields, and the since-start aggregates'
 * shadows are planned the same way. */
static size_t take_agg(size_t *at, const bc_aggregate *d) {
  return layout_take(at, agg_state_size(d), agg_state_align(d));
}

static size_t take_fields(size_t *at, const bc_program *p) {
  return layout_take(at, sizeof(value_data) * p->naccount_fields, _Alignof(value_data));
}

/* Offsets count from the state's start (vm_state); the hot parts first. */
static vm_layout plan_layout(const bc_program *p) {
  vm_layout l = {0};
  size_t at = 0;
  l.agg = util_xalloc(sizeof *l.agg * p->naggregates);
  for (uint32_t g = 0; g < p->naggregates; g++) {
    const bc_aggregate *d = &p->aggregates[g];
    size_t state = take_agg(&at, d);
    l.agg[g] = (vm_agg_slot){(uint32_t)state, (uint32_t)(state + agg_value_size(d)), 0};
    if (d->window == BC_WIN_SINCE_START) l.agg[g].shadow = (uint32_t)take_agg(&l.shadow_size, d);
  }
  l.fields = take_fields(&at, p);
  uint32_t nsteps = 0, ntimes = 0, npbsteps = 0;
  l.first_time = util_xalloc(sizeof *l.first_time * (p->nmilestones + 1));
  l.ms_time_at = util_xalloc(sizeof *l.ms_time_at * (p->nmilestones ? p->nmilestones : 1));
  for (uint32_t m = 0; m < p->nmilestones; m++)   /* a first completion is kept for a `start after` */
    if (p->milestones[m].start_kind == BC_START_AFTER) l.ms_time_at[p->milestones[m].start_after][VM_MS_FIRST_DONE_AT] = 1;
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    const bc_milestone *d = &p->milestones[m];
    bool has[VM_MS_DONE_AT] = {d->start_kind == BC_START_AT, d->deadline_kind == BC_DEADLINE_AT, d->continuous,
                               l.ms_time_at[m][VM_MS_FIRST_DONE_AT], d->entry_block != BC_NO_BLOCK};
    uint8_t n = 0;
    for (int k = 0; k < VM_MS_DONE_AT; k++) {
      l.ms_time_at[m][k] = n;
      n += has[k];
    }
    l.ms_time_at[m][VM_MS_DONE_AT] = n;
    l.first_time[m] = ntimes;
    ntimes += n + d->nactions;
  }
  l.first_time[p->nmilestones] = ntimes;
  l.first_step = util_xalloc(sizeof *l.first_step * p->nsequences);
  for (uint32_t i = 0; i < p->nsequences; i++) {
    l.first_step[i] = nsteps;
    nsteps += p->sequences[i].nsteps;
  }
  l.first_pb_step = util_xalloc(sizeof *l.first_pb_step * p->nplaybooks);
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    l.first_pb_step[i] = npbsteps;
    npbsteps += p->playbooks[i].nsteps;
  }
  l.ms = layout_take(&at, sizeof(vm_ms) * p->nmilestones, _Alignof(vm_ms));
  l.ms_times = layout_take(&at, sizeof(int64_t) * ntimes, _Alignof(int64_t));
  l.seqs = layout_take(&at, sizeof(vm_seq) * p->nsequences, _Alignof(vm_seq));
  l.seq_best = layout_take(&at, sizeof(int64_t) * nsteps, _Alignof(int64_t));
  l.seq_matched = layout_take(&at, nsteps, 1);
  l.pb = layout_take(&at, sizeof(vm_pb) * p->nplaybooks, _Alignof(vm_pb));
  l.pb_steps = layout_take(&at, npbsteps, 1);
  l.changed = layout_take(&at, (p->naggregates + p->nsequences + 7) / 8, 1);
  l.size = at;
  return l;
}

/* Milestone d's criteria: entry, exit, `blocked when`, then each action's
 * `done when` (BC_NO_BLOCK where absent); i < 3 + d->nactions. */
static uint32_t criterion_at(const bc_milestone *d, uint32_t i) {
  return i == 0 ? d->entry_block : i == 1 ? d->exit_block : i == 2 ? d->blocked_block : d->actions[i - 3].done_block;
}

/* Lists what block b reads into reads (NULL: counts it in *n): aggregates
 * g, sequences as naggregates + i. */
static void block_inputs(const bc_program *p, uint32_t b, uint32_t *reads, uint32_t *n) {
  if (b == BC_NO_BLOCK) return;
  const bc_block *k = &p->blocks[b];
  for (uint32_t i = k->start; i < k->start + k->len; i++) {
    const bc_insn *in = &p->code[i];
    if (in->op != BC_AGG && in->op != BC_SEQ) continue;
    if (reads) reads[*n] = in->op == BC_AGG ? in->b : p->naggregates + in->b;
    ++*n;
  }
}

static void milestone_inputs(const bc_program *p, uint32_t m, uint32_t *reads, uint32_t *n) {
  const bc_milestone *d = &p->milestones[m];
  for (uint32_t i = 0; i < 3 + d->nactions; i++) block_inputs(p, criterion_at(d, i), reads, n);
}

static bool is_criterion(const bc_program *p, uint32_t b) {
  for (uint32_t m = 0; m < p->nmilestones; m++)
    for (uint32_t i = 0; i < 3 + p->milestones[m].nactions; i++)
      if (criterion_at(&p->milestones[m], i) == b) return true;
  return false;
}

/* ---- what a window expiry can change -------------------------------------------------------- */

/* How a register's value can move at an instant where the only change is
 * that windows lost entries: a `within` count or distinct count can only
 * fall, every other `within` aggregate can move either way, and the rest of
 * what a criterion reads stays as it was (other aggregates change only at
 * events; milestone states, sequences and externs are taken as moving). */
typedef enum { MOVE_NONE, MOVE_FALLS, MOVE_DOWN /* a bool: true to false only */, MOVE_ANY } expiry_move;

typedef struct expiry_state {
  uint8_t *move;           /* per register */
  uint32_t *written;       /* per register: the instruction that last wrote it (or joined it) */
} expiry_state;

static expiry_move agg_move(const bc_aggregate *d) {
  if (d->window != BC_WIN_WITHIN) return MOVE_NONE;
  return d->fn == BC_AGG_COUNT || d->fn == BC_AGG_DISTINCT ? MOVE_FALLS : MOVE_ANY;
}

/* x <= y or x < y: as y falls, true can only turn false. */
static expiry_move compare_move(expiry_move x, expiry_move y) {
  if (x == MOVE_NONE && y == MOVE_NONE) return MOVE_NONE;
  return x == MOVE_NONE && y == MOVE_FALLS ? MOVE_DOWN : MOVE_ANY;
}

/* What one instruction writes to R[a]. */
static expiry_move insn_move(const bc_program *p, const bc_insn *in, const uint8_t *move) {
  switch (in->op) {
    case BC_LOADK:
    case BC_ACCT: return MOVE_NONE;
    case BC_AGG: return agg_move(&p->aggregates[in->b]);
    case BC_I2F: return move[in->b] == MOVE_NONE || move[in->b] == MOVE_FALLS ? (expiry_move)move[in->b] : MOVE_ANY;
    case BC_NOT:
    case BC_NEGI:
    case BC_NEGF: return move[in->b] == MOVE_NONE ? MOVE_NONE : MOVE_ANY;
    case BC_LTI:
    case BC_LEI:
    case BC_LTF:
    case BC_LEF: return compare_move((expiry_move)move[in->b], (expiry_move)move[in->c]);
    case BC_ADDI: case BC_SUBI: case BC_MULI: case BC_DIVI: case BC_MODI:
    case BC_ADDF: case BC_SUBF: case BC_MULF: case BC_DIVF:
    case BC_EQI: case BC_NEI: case BC_EQF: case BC_NEF: case BC_EQB: case BC_NEB:
    case BC_EQS: case BC_NES: case BC_LTS: case BC_LES:
      return move[in->b] == MOVE_NONE && move[in->c] == MOVE_NONE ? MOVE_NONE : MOVE_ANY;
    case BC_INI: case BC_INF: case BC_INS: case BC_INB: return move[in->b] == MOVE_NONE ? MOVE_NONE : MOVE_ANY;
    default: return MOVE_ANY;   /* SEQ, START, COMPLETED, ACHIEVING, CALL: their state may move */
  }
}

/* Joins into `at` (the path that fell through to an instruction) the state
 * a jump there carried (JMPF or JMPT on register cond); a register they
 * disagree on is marked written there (mark).  A register written
 * on only one path holds what the jump's condition chose: for the
 * condition's own register, `cond and x` (JMPF) or `cond or x` (JMPT),
 * which falls as its parts fall; for another, whatever the condition was
 * as it stood. */
static void expiry_join(expiry_state *at, const expiry_state *jump, uint32_t nregs, uint32_t cond, uint32_t mark) {
  expiry_move c = (expiry_move)jump->move[cond];
  for (uint32_t r = 0; r < nregs; r++) {
    if (at->written[r] == jump->written[r]) continue;   /* one value, from before the jump */
    expiry_move f = (expiry_move)at->move[r], j = (expiry_move)jump->move[r], joined = MOVE_ANY;
    bool parts_fall = (f == MOVE_NONE || f == MOVE_DOWN) && (c == MOVE_NONE || c == MOVE_DOWN);
    if (r == cond) joined = parts_fall ? (f == MOVE_NONE && c == MOVE_NONE ? MOVE_NONE : MOVE_DOWN) : MOVE_ANY;
    else if (c == MOVE_NONE) joined = f == j ? f : f == MOVE_NONE ? j : j == MOVE_NONE ? f : MOVE_ANY;
    at->move[r] = (uint8_t)joined;
    at->written[r] = mark;
  }
}

/* Whether instruction in can fail at run time (a runtime error, which
 * aborts the run where a criterion meets it). */
static bool insn_can_fail(const bc_insn *in) {
  switch (in->op) {
    case BC_AGG:   /* a `where` error in scope, an int sum out of range */
    case BC_SEQ:
    case BC_CALL:
    case BC_NEGI: case BC_ADDI: case BC_SUBI: case BC_MULI: case BC_DIVI: case BC_MODI: return true;
    default: return false;
  }
}

/* Whether the jump at pc of block blk (condition moving as c) can run the
 * code it skips where it did not run before, and that code can fail: a
 * JMPF skips it while its condition is false, which a condition that only
 * falls never starts to be; a JMPT while it is true, which it can stop
 * being. */
static bool jump_can_fail(const bc_program *p, const bc_block *blk, uint32_t pc, expiry_move c) {
  const bc_insn *in = &p->code[blk->start + pc];
  if (c == MOVE_NONE || (in->op == BC_JMPF && c == MOVE_DOWN)) return false;
  for (uint32_t k = pc + 1; k < in->d; k++)
    if (insn_can_fail(&p->code[blk->start + k])) return true;
  return false;
}

/* Whether value block b can turn from false to true at an instant where
 * only windows lost entries: false when it reads `within` counts and
 * distinct counts only as `K <= x` and `K < x` (x >= K, x > K), combined
 * with and/or, and nothing else that can move there.  It reads the
 * compiler's and/or: jumps that nest (a jump into another's range from
 * outside it, as a foreign .msc may hold, is taken as able to); and a
 * jump whose condition moves must not newly run code that can fail (a
 * runtime error there would abort the run). */
static bool expiry_can_raise(const bc_program *p, uint32_t b) {
  if (b == BC_NO_BLOCK) return false;
  const bc_block *blk = &p->blocks[b];
  uint32_t nregs = blk->nregs ? blk->nregs : 1, len = blk->len, njumps = 0;
  /* the state each jump carries, then (the last slot) the path at hand;
     zeroed: nothing moves, nothing written yet */
  uint8_t *moves = util_xalloc((size_t)(len + 1) * nregs);
  uint32_t *written = util_xalloc(sizeof *written * (size_t)(len + 1) * nregs);
  uint32_t *target = util_xalloc(sizeof *target * (len + 1)), *cond = util_xalloc(sizeof *cond * (len + 1));
  expiry_state st = {moves + (size_t)len * nregs, written + (size_t)len * nregs};
  bool can = true;
  for (uint32_t pc = 0; pc < len; pc++) {
    for (uint32_t k = njumps; k-- > 0;)   /* jumps go forward (verify_insn.c); the innermost first */
      if (target[k] == pc)
        expiry_join(&st, &(expiry_state){moves + (size_t)k * nregs, written + (size_t)k * nregs}, nregs, cond[k],
                    pc + 1);
    const bc_insn *in = &p->code[blk->start + pc];
    if (in->op == BC_JMPF || in->op == BC_JMPT) {
      bool crosses = false;   /* an earlier jump lands inside this one's range */
      for (uint32_t k = 0; k < njumps; k++) crosses = crosses || (target[k] > pc && target[k] < in->d);
      if (crosses || jump_can_fail(p, blk, pc, (expiry_move)st.move[in->a])) break;
      memcpy(moves + (size_t)njumps * nregs, st.move, nregs);
      memcpy(written + (size_t)njumps * nregs, st.written, sizeof *written * nregs);
      target[njumps] = in->d;
      cond[njumps++] = in->a;
      continue;
    }
    if (in->op == BC_RET) {
      can = pc + 1 < len || (st.move[in->a] != MOVE_NONE && st.move[in->a] != MOVE_DOWN);
      break;
    }
    st.move[in->a] = (uint8_t)insn_move(p, in, st.move);
    st.written[in->a] = pc + 1;
  }
  free(moves);
  free(written);
  free(target);
  free(cond);
  return can;
}

/* Whether a window expiry can change milestone m while it applies: it is
 * continuous, or one of its latching criteria (entry, exit, actions) can
 * turn true there.  `blocked when` is read only at T. */
static bool expiry_can_change(const bc_program *p, uint32_t m) {
  const bc_milestone *d = &p->milestones[m];
  if (d->continuous || expiry_can_raise(p, d->entry_block) || expiry_can_raise(p, d->exit_block)) return true;
  for (uint32_t i = 0; i < d->nactions; i++)
    if (expiry_can_raise(p, d->actions[i].done_block)) return true;
  return false;
}

/* rt->readers: the milestones whose criteria read each input;
 * rt->read_elsewhere: the inputs other blocks read (a playbook step's
 * condition, say); rt->expiry_changes: the milestones a window expiry can
 * change. */
static void plan_inputs(vm_runtime *rt) {
  const bc_program *p = rt->p;
  uint32_t ninputs = p->naggregates + p->nsequences, n = 0;
  rt->due_words = (p->nmilestones + 63) / 64;
  rt->changed_bytes = (ninputs + 7) / 8;
  rt->readers = util_xalloc(sizeof *rt->readers * ((size_t)ninputs * rt->due_words + 1));   /* zeroed */
  rt->due = util_xalloc(sizeof *rt->due * (rt->due_words + 1));
  rt->read_elsewhere = util_xalloc(rt->changed_bytes + 1);
  for (uint32_t m = 0; m < p->nmilestones; m++) milestone_inputs(p, m, NULL, &n);
  uint32_t *reads = util_xalloc(sizeof *reads * (n ? n : 1));
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    n = 0;
    milestone_inputs(p, m, reads, &n);
    for (uint32_t k = 0; k < n; k++) rt->readers[(size_t)reads[k] * rt->due_words + m / 64] |= (uint64_t)1 << (m % 64);
  }
  free(reads);
  rt->expiry_changes = util_xalloc(sizeof *rt->expiry_changes * (p->nmilestones + 1));
  for (uint32_t m = 0; m < p->nmilestones; m++) rt->expiry_changes[m] = expiry_can_change(p, m);
  for (uint32_t b = 0; b < p->nblocks; b++) {
    if (is_criterion(p, b)) continue;
    uint32_t count = 0;
    block_inputs(p, b, NULL, &count);
    uint32_t *inputs = util_xalloc(sizeof *inputs * (count ? count : 1));
    count = 0;
    block_inputs(p, b, inputs, &count);
    for (uint32_t k = 0; k < count; k++) rt->read_elsewhere[inputs[k] >> 3] |= (uint8_t)(1u << (inputs[k] & 7));
    free(inputs);
  }
}

/* rt->quiet: the `within` windows whose expiries no evaluation can see --
 * no block outside the criteria reads them, and each milestone whose
 * criteria do is one an expiry cannot change (with history, which reads
 * `blocked when` wherever a status needs it, one without that clause). */
static void plan_quiet(vm_runtime *rt) {
  const bc_program *p = rt->p;
  if (!rt->quiet) rt->quiet = util_xalloc(sizeof *rt->quiet * (p->naggregates + 1));
  for (uint32_t g = 0; g < p->naggregates; g++) {
    bool quiet = p->aggregates[g].window == BC_WIN_WITHIN && !(rt->read_elsewhere[g >> 3] >> (g & 7) & 1);
    for (uint32_t m = 0; quiet && m < p->nmilestones; m++)
      if (rt->readers[(size_t)g * rt->due_words + m / 64] >> (m % 64) & 1)
        quiet = !rt->expiry_changes[m] && !(rt->history && p->milestones[m].blocked_block != BC_NO_BLOCK);
    rt->quiet[g] = quiet;
  }
}

vm_runtime *vm_runtime_new(const bc_program *p, native_fn *const *externs) {
  /* what the runtime writes as it runs, on cache lines of its own: runtimes
     made one after another for threads would otherwise share lines */
  vm_runtime *rt = util_xalloc_lines(sizeof *rt);
  rt->p = p;
  rt->externs = externs;
  rt->layout = plan_layout(p);
  plan_inputs(rt);
  plan_quiet(rt);
  interp_plan(rt);
  for (uint32_t m = 0; m < p->nmilestones; m++) rt->start_ats |= p->milestones[m].start_kind == BC_START_AT;
  for (uint32_t i = 0; i < p->nplaybooks; i++) rt->start_ats |= p->playbooks[i].start_kind == BC_START_AT;
  rt->windowed = util_xalloc(sizeof *rt->windowed * (p->naggregates ? p->naggregates : 1));
  rt->outside = util_xalloc(sizeof *rt->outside * (p->naggregates ? p->naggregates : 1));
  for (uint32_t g = 0; g < p->naggregates; g++) {
    const bc_aggregate *d = &p->aggregates[g];
    if (d->window == BC_WIN_WITHIN) rt->windowed[rt->nwindowed++] = g;
    if (d->window == BC_WIN_WITHIN || d->fn == BC_AGG_DISTINCT) rt->outside[rt->noutside++] = g;
  }
  pool_init(&rt->rings, sizeof(vm_entry), &rt->source);
  pool_init(&rt->points, sizeof(vm_point), &rt->source);
  pool_init(&rt->sets, sizeof(vm_set_slot), &rt->source);
  pool_init(&rt->small_sets, sizeof(vm_small_slot), &rt->source);
  rt->result_milestones = util_xalloc(sizeof *rt->result_milestones * p->nmilestones);
  rt->result_playbooks = util_xalloc(sizeof *rt->result_playbooks * p->nplaybooks);
  rt->segments = util_xalloc(sizeof *rt->segments * p->nsegments);
  rt->scratch = util_xalloc_lines(sizeof *rt->scratch + 4096);
  rt->scratch->size = 4096;
  rt->cur_milestone = BC_NONE;
  /* since-start aggregates grouped by milestone (a counting sort: linear) */
  rt->since_first = util_xalloc(sizeof *rt->since_first * (p->nmilestones + 1));
  rt->since_aggs = util_xalloc(sizeof *rt->since_aggs * (p->naggregates ? p->naggregates : 1));
  for (uint32_t g = 0; g < p->naggregates; g++)
    if (p->aggregates[g].window == BC_WIN_SINCE_START) rt->since_first[p->aggregates[g].milestone]++;
  uint32_t n = 0;
  for (uint32_t m = 0; m <= p->nmilestones; m++) {
    uint32_t count = m < p->nmilestones ? rt->since_first[m] : 0;
    rt->since_first[m] = n;
    n += count;
  }
  for (uint32_t g = 0; g < p->naggregates; g++)   /* since_first[m] moves to m + 1's start */
    if (p->aggregates[g].window == BC_WIN_SINCE_START) rt->since_aggs[rt->since_first[p->aggregates[g].milestone]++] = g;
  for (uint32_t m = p->nmilestones; m > 0; m--) rt->since_first[m] = rt->since_first[m - 1];
  rt->since_first[0] = 0;
  return rt;
}

void vm_runtime_free(vm_runtime *rt) {
  if (!rt) return;
  free(rt->layout.agg);
  free(rt->layout.first_step);
  free(rt->layout.first_time);
  free(rt->layout.ms_time_at);
  free(rt->layout.first_pb_step);
  free(rt->queue);
  free(rt->segments);
  free(rt->since_first);
  free(rt->since_aggs);
  free(rt->read_elsewhere);
  free(rt->expiry_changes);
  free(rt->quiet);
  free(rt->compares);
  free(rt->windowed);
  free(rt->readers);
  free(rt->due);
  free(rt->outside);
  free(rt->result_milestones);
  free(rt->result_playbooks);
  interp_scratch_reset(rt);
  free(rt->scratch);
  intern_free(&rt->intern);
  pool_release(&rt->rings);
  pool_release(&rt->points);
  pool_release(&rt->sets);
  pool_release(&rt->small_sets);
  source_release(&rt->source);
  free(rt);
}

int64_t vm_ignored_control(const vm_runtime *rt) { return rt->ignored_control; }

void vm_prefetch_block(const vm_runtime *rt, const vm_account *a) {
  const char *end = vm_state(a) + rt->layout.size;
  for (const char *line = (const char *)((uintptr_t)a & ~(uintptr_t)63); line < end; line += 64)
    __builtin_prefetch(line);
}

void vm_prefetch(const vm_runtime *rt, const vm_account *a) { agg_prefetch(rt, a); }

const char *vm_account_id(const vm_runtime *rt, const vm_account *a, size_t *len) {
  *len = a->id_len;
  return vm_id(rt, a);
}

const value_data *vm_account_fields(const vm_runtime *rt, const vm_account *a) { return vm_fields(rt, a); }

/* The value of account field i: from the accounts file, or its default. */
static value_data field_value(const bc_program *p, const value_data *fields, uint32_t i) {
  return fields ? fields[i] : p->consts[p->account_fields[i].default_const].v;
}

vm_account *vm_account_new(vm_runtime *rt, value_str id, const value_data *fields) {
  const bc_program *p = rt->p;
  const vm_layout *l = &rt->layout;
  /* the block holds the id and the text of string fields after the state,
     each with a NUL after it, and comes from the runtime's source: an
     account costs no malloc of its own.  16-byte aligned, not cache-line
     aligned: the shared benchmark's blocks are 224 bytes, not 256, and
     prefetched whole (vm_prefetch_block) they ran as fast */
  size_t text = 0;
  for (uint32_t i = 0; i < p->naccount_fields; i++)
    if (p->account_fields[i].type == VALUE_STRING) text += field_value(p, fields, i).s.len + 1;
  vm_account *a = source_take(&rt->source, VM_HEADER_SIZE + l->size + id.len + 1 + text);
  a->id_len = id.len;
  memcpy(vm_id(rt, a), id.p, id.len);
  char *next = vm_id(rt, a) + id.len + 1;   /* zeroed memory: the NULs are there */
  a->last_instant = INT64_MIN;
  value_data *fv = vm_fields(rt, a);
  for (uint32_t i = 0; i < p->naccount_fields; i++) {
    value_data v = field_value(p, fields, i);
    if (p->account_fields[i].type == VALUE_STRING) {
      if (v.s.len) memcpy(next, v.s.p, v.s.len);
      v.s.p = next;
      next += v.s.len + 1;
    }
    fv[i] = v;
  }
  for (uint32_t i = 0; i < p->nsequences; i++) {
    int64_t *best = vm_seq_best(rt, a, i);
    for (uint32_t k = 0; k < p->sequences[i].nsteps; k++) best[k] = NO_TIME;
  }
  int64_t *times = (int64_t *)(vm_state(a) + l->ms_times);
  for (uint32_t k = 0; k < l->first_time[p->nmilestones]; k++) times[k] = NO_TIME;
  rt->cur_account = a;
  rt->cur_time = NO_TIME;
  bool ok = true;
  for (uint32_t i = 0; i < p->nsegments && ok; i++)
    ok = interp_eval_bool(rt, a, p->segment_blocks[i], "a segment", BC_NONE, &rt->segments[i]);
  for (uint32_t g = 0; g < p->naggregates && ok; g++)
    if (p->aggregates[g].window == BC_WIN_SINCE)
      ok = interp_eval_time(rt, a, p->aggregates[g].since_block, "a `since` time", p->aggregates[g].owner,
                            agg_since(rt, a, g));
  for (uint32_t m = 0; m < p->nmilestones && ok; m++) {
    const bc_milestone *d = &p->milestones[m];
    vm_ms *s = vm_ms_at(rt, a, m);
    s->applies = d->nsegments == 0;
    for (uint32_t k = 0; k < d->nsegments; k++) s->applies |= rt->segments[d->segments[k]];
    s->start = s->completed_at = s->achieved_at = NO_TIME;
    if (!s->applies) continue;
    if (d->start_kind == BC_START_AT) {
      ok = interp_eval_time(rt, a, d->start_block, "the start", m, vm_ms_start_at(rt, a, m));
      s->start_timer = ok;
    }
    if (ok && d->deadline_kind == BC_DEADLINE_AT)
      ok = interp_eval_time(rt, a, d->deadline_block, "the deadline", m, vm_ms_deadline_at(rt, a, m));
  }
  for (uint32_t i = 0; i < p->nplaybooks && ok; i++) {
    const bc_playbook *d = &p->playbooks[i];
    vm_pb *s = vm_pb_at(rt, a, i);
    s->applies = d->nsegments == 0;
    for (uint32_t k = 0; k < d->nsegments; k++) s->applies |= rt->segments[d->segments[k]];
    s->step = -1;
    s->step_entered_at = s->done_at = NO_TIME;
    for (uint32_t k = 0; k < d->nsteps && ok; k++) {
      bool w = true;
      if (d->steps[k].when_block != BC_NO_BLOCK)
        ok = interp_eval_bool(rt, a, d->steps[k].when_block, "a step's `when`", BC_NONE, &w);
      vm_pb_step_applies(rt, a, i)[k] = w;
    }
    if (ok && s->applies && d->start_kind == BC_START_AT) {
      ok = interp_eval_time(rt, a, d->start_block, "the playbook start", BC_NONE, &s->start_at);
      s->start_timer = ok;
    }
  }
  if (!ok) {
    vm_account_free(rt, a);
    return NULL;
  }
  return a;
}

static int signal_cmp(const void *x, const void *y) {
  const out_signal *a = x, *b = y;
  if (a->time != b->time) return a->time < b->time ? -1 : 1;
  if (a->source_order != b->source_order) return a->source_order < b->source_order ? -1 : 1;
  if (a->clause != b->clause) return a->clause < b->clause ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int8_t on_time(int64_t achieved, int64_t deadline, int64_t as_of) {
  if (deadline == NO_TIME) return -1;
  if (achieved != NO_TIME) return achieved <= deadline ? 1 : 0;
  return as_of > deadline ? 0 : -1;
}

void vm_set_observer(vm_runtime *rt, const vm_observer *o) { rt->observer = o; }

void vm_set_history(vm_runtime *rt, bool on) {
  rt->history = on;
  plan_quiet(rt);
}

/* The evaluating part of vm_finish: a up to T, and what its statuses read there. */
static bool settle(vm_runtime *rt, vm_account *a, int64_t as_of) {
  const bc_program *p = rt->p;
  rt->cur_account = a;
  if (!a->has_first_row) {
    a->has_first_row = true;
    a->first_row = as_of;
  }
  if (!state_run_timers(rt, a, as_of, true)) return false;
  rt->cur_time = as_of;
  agg_expire_windows(rt, a, as_of);
  if (!state_evaluate(rt, a, as_of, false)) return false;
  state_finish_overdue(rt, a, as_of);
  /* SPEC 6: `blocked when` is evaluated where a status needs it -- a
   * started, not completed once-mode milestone or a started continuous
   * one, at T -- even when `ms.block` or achieving decides the status */
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    vm_ms *s = vm_ms_at(rt, a, m);
    bool blocked = false;
    if (state_ms_needs_blocked(rt, a, m) &&
        !state_eval_criterion(rt, a, p->milestones[m].blocked_block, VM_CRIT_BLOCKED, 0, m, &blocked))
      return false;
    s->blocked_at_end = blocked;
  }
  return true;
}

bool vm_finish(vm_runtime *rt, vm_account *a, int64_t as_of, vm_results *out) {
  const bc_program *p = rt->p;
  if (!settle(rt, a, as_of)) return false;
  vm_results *r = out;
  *r = (vm_results){.milestones = rt->result_milestones, .playbooks = rt->result_playbooks};
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    const bc_milestone *d = &p->milestones[m];
    const vm_ms *s = vm_ms_at(rt, a, m);
    if (!s->applies) continue;
    out_milestone_row row = {.milestone = m, .started_at = NO_TIME, .entered_at = NO_TIME,
                             .achieved_at = NO_TIME, .lost_at = NO_TIME, .deadline_at = NO_TIME,
                             .on_time = -1, .actions_total = (int32_t)d->nactions,
                             .actions_done = s->started ? s->actions_done : 0};
    if (!s->started) {
      row.status = OUT_ST_NOT_STARTED;
    } else {
      row.started_at = s->start;
      row.action_done_at = d->nactions ? vm_ms_done_at(rt, a, m) : NULL;
      if (s->entered) row.entered_at = d->entry_block == BC_NO_BLOCK ? s->start : *vm_ms_entered_at(rt, a, m);
      int64_t deadline = state_ms_deadline(rt, a, m);
      row.deadline_at = deadline;
      row.status = state_ms_status(rt, a, m, as_of, s->blocked_at_end);
      if (!d->continuous) {
        row.achieved_at = s->completed ? s->completed_at : NO_TIME;
      } else {
        row.achieved_at = s->achieved ? s->achieved_at : NO_TIME;
        row.lost_at = s->achieving ? NO_TIME : *vm_ms_lost_at(rt, a, m);
      }
      row.on_time = on_time(row.achieved_at, deadline, as_of);
    }
    r->milestones[r->nmilestones++] = row;
  }
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    const vm_pb *s = vm_pb_at(rt, a, i);
    if (!s->applies) continue;
    out_playbook_row row = {.playbook = i, .step = s->started ? s->step : -1,
                            .step_entered_at = NO_TIME, .done_at = s->done ? s->done_at : NO_TIME};
    if (s->started && !(s->unbounded && s->on_first_step && !s->done)) row.step_entered_at = s->step_entered_at;
    r->playbooks[r->nplaybooks++] = row;
  }
  if (a->extra && a->extra->nsignals) {
    qsort(a->extra->signals, (size_t)a->extra->nsignals, sizeof *a->extra->signals, signal_cmp);
    r->signals = a->extra->signals;
    r->nsignals = a->extra->nsignals;
  }
  if (rt->history) r->nhistory = history_finish(a, &r->history);
  return true;
}

bool vm_eval_block(vm_runtime *rt, vm_account *a, uint32_t b, value_data *out) {
  rt->cur_account = a;
  rt->cur_time = a->last_instant;
  rt->cur_what = NULL;
  rt->cur_milestone = BC_NONE;
  if (interp_exec(rt, a, b, NULL, out)) return true;
  /* vm_fail wrote "runtime error: WHAT in an expression for account `ID`
     at TIME": keep WHAT, the caller shows where */
  static const char head[] = "runtime error: ";
  char when[40], id[128], tail[256];
  vm_fmt_time(rt->cur_time, when);
  snprintf(tail, sizeof tail, " in an expression for account `%s` at %s", shown_id(rt, a, id, sizeof id), when);
  size_t n = strlen(rt->error), h = sizeof head - 1, t = strlen(tail);
  if (n >= h + t && memcmp(rt->error, head, h) == 0 && strcmp(rt->error + n - t, tail) == 0) {
    memmove(rt->error, rt->error + h, n - h - t);
    rt->error[n - h - t] = '\0';
  }
  return false;
}

/* Releases what the account owns outside its runtime's pools: copies of
 * its field strings and its rare parts.  Window entries and set slots are
 * not given back one by one: they are the pools', which vm_runtime_free
 * unmaps whole (giving back 100,000 accounts' was a tenth of writing
 * their results). */
void vm_account_free(const vm_runtime *rt, vm_account *a) {
  if (!a) return;
  const bc_program *p = rt->p;
  vm_extra *x = a->extra;
  if (!x) return;
  if (x->poison)
    for (uint32_t i = 0; i < p->naggregates + p->nsequences; i++) free(x->poison[i].what);
  free(x->poison);
  if (x->shadow_poison)
    for (uint32_t g = 0; g < p->naggregates; g++) free(x->shadow_poison[g].what);
  free(x->shadow_poison);
  free(x->shadow);
  if (x->shadow_err)
    for (uint32_t m = 0; m < p->nmilestones; m++) free(x->shadow_err[m]);
  free(x->shadow_err);
  free(x->start_error);
  free(x->controls);
  history_free(x);
  free(x->signals);
  free(x);
  a->extra = NULL;
}
