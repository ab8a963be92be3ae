/* state.c — the milestone and playbook machine (prefix state_): starts,
 * entry, actions, completion, achievement, control events, playbooks and
 * timers, evaluated at every instant where a value can change (SPEC 6). */
#include "vm/vm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- milestones ---------------------------------------------------------------------------- */

bool state_ms_completed(const vm_runtime *rt, const vm_account *a, uint32_t m) {
  const vm_ms *s = vm_ms_at(rt, a, m);
  if (!s->applies) return false;
  return rt->p->milestones[m].continuous ? s->achieved : s->completed;
}

/* Records a signal; clause is its clause's index among the source's
 * `on ... emit` clauses (the tie-break after the source). */
static void add_signal(vm_account *a, int64_t t, uint32_t order, uint32_t source, uint32_t clause,
                       uint32_t signal) {
  vm_extra *x = vm_extra_of(a);
  if (x->nsignals == x->signals_cap) {
    x->signals_cap = x->signals_cap ? x->signals_cap * 2 : 4;
    x->signals = util_xrealloc(x->signals, sizeof *x->signals * (size_t)x->signals_cap);
  }
  x->signals[x->nsignals++] = (out_signal){t, signal, order, source, clause, x->signal_seq++};
}

/* Emits milestone m's signals of one kind, at t. */
static void ms_emit(vm_runtime *rt, vm_account *a, uint32_t m, int64_t t, bc_emit_on on) {
  const bc_milestone *d = &rt->p->milestones[m];
  for (uint32_t i = 0; i < d->nemits; i++)
    if (d->emits[i].on == on) add_signal(a, t, d->decl_order, d->name, i, d->emits[i].signal);
}

static void ms_complete(vm_runtime *rt, vm_account *a, uint32_t m, int64_t t) {
  vm_ms *s = vm_ms_at(rt, a, m);
  s->completed = true;
  s->completed_at = t;
  if (!s->ever_completed && vm_ms_has_time(rt, m, VM_MS_FIRST_DONE_AT)) *vm_ms_first_done_at(rt, a, m) = t;
  s->ever_completed = true;
  ms_emit(rt, a, m, t, BC_EMIT_ACHIEVED);
}

int64_t state_ms_deadline(const vm_runtime *rt, const vm_account *a, uint32_t m) {
  const bc_milestone *d = &rt->p->milestones[m];
  const vm_ms *s = vm_ms_at(rt, a, m);
  if (d->deadline_kind == BC_DEADLINE_AFTER && s->start != NO_TIME) return vm_sat_add(s->start, d->deadline_us);
  if (d->deadline_kind == BC_DEADLINE_AT) return *vm_ms_deadline_at(rt, a, m);
  return NO_TIME;
}

bool state_ms_needs_blocked(const vm_runtime *rt, const vm_account *a, uint32_t m) {
  const bc_milestone *d = &rt->p->milestones[m];
  const vm_ms *s = vm_ms_at(rt, a, m);
  return s->applies && s->started && (d->continuous || !s->completed) && d->blocked_block != BC_NO_BLOCK;
}

out_status state_ms_status(const vm_runtime *rt, const vm_account *a, uint32_t m, int64_t as_of, bool blocked_when) {
  const bc_milestone *d = &rt->p->milestones[m];
  const vm_ms *s = vm_ms_at(rt, a, m);
  if (!s->started) return OUT_ST_NOT_STARTED;
  bool blocked = blocked_when || s->blocked_by_control;
  if (!d->continuous) {
    if (s->completed) return OUT_ST_COMPLETED;
    if (blocked) return OUT_ST_BLOCKED;
    if (!s->entered) return OUT_ST_PENDING;
    int64_t deadline = state_ms_deadline(rt, a, m);
    return deadline != NO_TIME && deadline < as_of ? OUT_ST_OVERDUE : OUT_ST_IN_PROGRESS;
  }
  if (s->entered && s->achieving) return OUT_ST_ACHIEVING;
  if (blocked) return OUT_ST_BLOCKED;
  if (!s->entered) return OUT_ST_PENDING;
  return s->achieved ? OUT_ST_NOT_ACHIEVING : OUT_ST_NEVER_ACHIEVED;
}

/* SPEC 6 "Signals": m's current start epoch, with start s and deadline d,
 * is overdue at max(s, d) when T is strictly past d, the epoch had not
 * completed (first achieved) at or before that instant, and no reset came
 * at or before it: `end` is the reset that ends the epoch (INT64_MAX for
 * the last one).  An unbounded start counts from the account's first row,
 * where its evaluation begins. */
static void ms_overdue(vm_runtime *rt, vm_account *a, uint32_t m, int64_t end, int64_t as_of) {
  const vm_ms *s = vm_ms_at(rt, a, m);
  if (!s->applies || !s->started) return;
  int64_t deadline = state_ms_deadline(rt, a, m);
  if (deadline == NO_TIME || deadline >= as_of) return;
  int64_t start = s->start != NO_TIME ? s->start : a->first_row;
  int64_t at = start > deadline ? start : deadline;
  if (at >= end) return;
  bool done = rt->p->milestones[m].continuous ? s->achieved : s->completed;
  if (done && s->completed_at <= at) return;
  ms_emit(rt, a, m, at, BC_EMIT_OVERDUE);
}

void state_finish_overdue(vm_runtime *rt, vm_account *a, int64_t as_of) {
  for (uint32_t m = 0; m < rt->p->nmilestones; m++)
    if (rt->p->milestones[m].nemits) ms_overdue(rt, a, m, INT64_MAX, as_of);
}

/* Restarts milestone m at t (ms.reset): everything but blocks and the
 * memory of earlier completions is cleared. */
static void ms_reset(vm_runtime *rt, vm_account *a, uint32_t m, int64_t t) {
  const bc_milestone *d = &rt->p->milestones[m];
  vm_ms *s = vm_ms_at(rt, a, m);
  /* the epoch ends here; no row comes after T, so T is past its deadline
     when max(s, d) is before t */
  ms_overdue(rt, a, m, t, t);
  s->started = true;
  s->start = t;
  if (s->start_timer) a->timer_valid = false;   /* its pending `start at` goes */
  s->start_timer = false;
  s->since_ready = false;
  s->entered = false;
  s->actions_done = 0;
  int64_t *done_at = vm_ms_done_at(rt, a, m);
  for (uint32_t i = 0; i < d->nactions; i++) done_at[i] = NO_TIME;
  s->completed = false;
  s->completed_at = NO_TIME;
  s->achieving = false;
  s->achieved = false;
  s->achieved_at = NO_TIME;
  if (d->continuous) *vm_ms_lost_at(rt, a, m) = NO_TIME;
}

/* Since-start aggregates of m restart with m's start: cleared, then given
 * what the events of the current instant alone make of them (an event at
 * the start instant counts), which the shadow has kept. */
static bool ms_prime_since(vm_runtime *rt, vm_account *a, uint32_t m, int64_t t) {
  vm_ms *s = vm_ms_at(rt, a, m);
  const vm_extra *x = a->extra;
  s->since_ready = true;
  bool take = a->queued && rt->instant == t && x && x->shadow;
  if (take && x->shadow_err && x->shadow_err[m]) {
    snprintf(rt->error, sizeof rt->error, "%s", x->shadow_err[m]);
    return false;
  }
  agg_since_restart(rt, a, m, take);
  return true;
}

bool state_eval_criterion(vm_runtime *rt, vm_account *a, uint32_t b, vm_criterion kind, uint32_t action,
                          uint32_t m, bool *out) {
  static const char *const what[] = {"entry", "exit", "an action", "blocked when"};
  if (!interp_eval_bool(rt, a, b, what[kind], m, out)) return false;
  const vm_observer *o = rt->observer;
  if (o && o->criterion) o->criterion(o->ctx, a, m, kind, action, rt->cur_time, *out);
  return true;
}

static bool first_row_reached(const vm_account *a, int64_t t) { return a->has_first_row && t >= a->first_row; }

static bool ms_evaluate(vm_runtime *rt, vm_account *a, uint32_t m, int64_t t) {
  const bc_milestone *d = &rt->p->milestones[m];
  vm_ms *s = vm_ms_at(rt, a, m);
  if (!s->applies) return true;
  if (!s->started) {
    if (d->start_kind == BC_START_NONE && first_row_reached(a, t)) {
      s->started = true;
      s->start = NO_TIME;
    } else if (d->start_kind == BC_START_AFTER && vm_ms_at(rt, a, d->start_after)->ever_completed) {
      s->started = true;
      s->start = *vm_ms_first_done_at(rt, a, d->start_after);
      s->since_ready = false;
    }
  }
  if (s->complete_pending) {
    /* SPEC 6: an `ms.complete` at or after the start completes M */
    s->complete_pending = false;
    if (!s->started || (s->start != NO_TIME && s->start > t)) rt->ignored_control++;
    else if (!s->completed) ms_complete(rt, a, m, t);
  }
  if (!s->started) return true;
  /* an unbounded `since start` means every event: primed at the first row */
  if (!s->since_ready && !ms_prime_since(rt, a, m, t)) return false;
  if (!s->entered) {
    bool holds = true;
    if (d->entry_block != BC_NO_BLOCK && !state_eval_criterion(rt, a, d->entry_block, VM_CRIT_ENTRY, 0, m, &holds))
      return false;
    if (!holds) return true;
    s->entered = true;
    if (d->entry_block != BC_NO_BLOCK) *vm_ms_entered_at(rt, a, m) = t;
  }
  int64_t *done_at = d->nactions ? vm_ms_done_at(rt, a, m) : NULL;
  for (uint32_t i = 0; i < d->nactions; i++) {
    if (done_at[i] != NO_TIME) continue;
    bool done;
    if (!state_eval_criterion(rt, a, d->actions[i].done_block, VM_CRIT_ACTION, i, m, &done)) return false;
    if (done) {
      done_at[i] = t;
      s->actions_done++;
    }
  }
  if (!d->continuous) {
    if (s->completed) return true;
    bool holds = false;
    if (d->exit_block != BC_NO_BLOCK) {
      if (!state_eval_criterion(rt, a, d->exit_block, VM_CRIT_EXIT, 0, m, &holds)) return false;
    } else if (d->nactions) holds = s->actions_done == (int32_t)d->nactions;
    if (holds) ms_complete(rt, a, m, t);
    return true;
  }
  /* continuous: actions only give progress; without `exit` it never holds */
  bool holds = false;
  if (d->exit_block != BC_NO_BLOCK && !state_eval_criterion(rt, a, d->exit_block, VM_CRIT_EXIT, 0, m, &holds))
    return false;
  if (holds && !s->achieving) {
    s->achieving = true;
    *vm_ms_lost_at(rt, a, m) = NO_TIME;
    if (!s->achieved) {
      s->achieved = true;
      s->achieved_at = t;
    }
    if (!s->ever_completed && vm_ms_has_time(rt, m, VM_MS_FIRST_DONE_AT)) *vm_ms_first_done_at(rt, a, m) = t;
    s->ever_completed = true;
    ms_emit(rt, a, m, t, BC_EMIT_ACHIEVED);
  } else if (!holds && s->achieving) {
    s->achieving = false;
    *vm_ms_lost_at(rt, a, m) = t;
    ms_emit(rt, a, m, t, BC_EMIT_LOST);
  }
  return true;
}

/* ---- playbooks ---------------------------------------------------------------------------------- */

static int32_t next_step(const vm_runtime *rt, const vm_account *a, uint32_t pi, int32_t from) {
  const uint8_t *applies = vm_pb_step_applies(rt, a, pi);
  int32_t k = from;
  while (k < (int32_t)rt->p->playbooks[pi].nsteps && !applies[k]) k++;
  return k;
}

static void pb_enter(vm_runtime *rt, vm_account *a, uint32_t pi, int32_t k, int64_t t) {
  const bc_playbook *d = &rt->p->playbooks[pi];
  vm_pb *s = vm_pb_at(rt, a, pi);
  s->step = k;
  s->step_entered_at = t;
  const vm_observer *o = rt->observer;
  if (o && o->step) o->step(o->ctx, a, pi, k, t);
  if (k >= (int32_t)d->nsteps) {
    s->done = true;
    s->done_at = t;
    for (uint32_t i = 0; i < d->nemits; i++) add_signal(a, t, d->decl_order, d->name, i, d->emits[i]);
  }
}

void state_start_playbook(vm_runtime *rt, vm_account *a, uint32_t pi, int64_t t, bool unbounded) {
  vm_pb *s = vm_pb_at(rt, a, pi);
  s->started = true;
  s->started_at = t;
  s->unbounded = unbounded;
  if (s->start_timer) a->timer_valid = false;
  s->start_timer = false;
  pb_enter(rt, a, pi, next_step(rt, a, pi, 0), t);
  s->on_first_step = true;
}

static bool step_met(const vm_runtime *rt, const vm_account *a, const vm_pb *s, uint32_t m, int64_t t) {
  const vm_ms *ms = vm_ms_at(rt, a, m);
  if (!ms->applies) return false;
  if (!rt->p->milestones[m].continuous) return ms->completed;
  return ms->achieving || (s->step_entered_at == t && ms->achieved);
}

static void pb_evaluate(vm_runtime *rt, vm_account *a, uint32_t pi, int64_t t) {
  const bc_playbook *d = &rt->p->playbooks[pi];
  vm_pb *s = vm_pb_at(rt, a, pi);
  if (!s->applies) return;
  if (!s->started) {
    if (d->start_kind == BC_START_NONE && first_row_reached(a, t)) state_start_playbook(rt, a, pi, t, true);
    else if (d->start_kind == BC_START_AFTER && vm_ms_at(rt, a, d->start_after)->ever_completed)
      state_start_playbook(rt, a, pi, t, false);
  }
  if (!s->started || s->done) {
    rt->ignored_control += s->pending_advances;   /* before the start or after done */
    s->pending_advances = 0;
    return;
  }
  for (; s->pending_advances > 0 && !s->done; s->pending_advances--) {
    pb_enter(rt, a, pi, next_step(rt, a, pi, s->step + 1), t);
    s->on_first_step = false;
  }
  rt->ignored_control += s->pending_advances;
  s->pending_advances = 0;
  while (!s->done && d->steps[s->step].is_auto && step_met(rt, a, s, d->steps[s->step].tracks, t)) {
    pb_enter(rt, a, pi, next_step(rt, a, pi, s->step + 1), t);
    s->on_first_step = false;
  }
}

/* ---- control events ---------------------------------------------------------------------------- */

static uint32_t find_name(const bc_program *p, value_str name, bool playbook) {
  uint32_t n = playbook ? p->nplaybooks : p->nmilestones;
  for (uint32_t i = 0; i < n; i++) {
    const char *s = bc_str(p, playbook ? p->playbooks[i].name : p->milestones[i].name);
    if (strlen(s) == name.len && memcmp(s, name.p, name.len) == 0) return i;
  }
  return BC_NONE;
}

static void apply_control(vm_runtime *rt, vm_account *a, const vm_event *ev) {
  const bc_program *p = rt->p;
  bool has_m = ev->milestone.len > 0, has_p = ev->playbook.len > 0;
  int64_t t = ev->time;
  if (has_m == has_p) {
    rt->ignored_control++;
    return;
  }
  uint32_t target = find_name(p, has_m ? ev->milestone : ev->playbook, has_p);
  if (target == BC_NONE) {
    rt->ignored_control++;
    return;
  }
  if (ev->type == IO_EV_ASSIGN) {
    uint8_t kind = has_m ? p->milestones[target].start_kind : p->playbooks[target].start_kind;
    if (kind != BC_START_ON_ASSIGNMENT) {
      rt->ignored_control++;
      return;
    }
    if (has_m) {
      vm_ms *s = vm_ms_at(rt, a, target);
      if (s->applies && !s->started) {
        s->started = true;
        s->start = t;
        s->since_ready = false;
      }
    } else {
      const vm_pb *s = vm_pb_at(rt, a, target);
      if (s->applies && !s->started) state_start_playbook(rt, a, target, t, false);
    }
    return;
  }
  if (ev->type == IO_EV_ADVANCE) {
    if (!has_p) rt->ignored_control++;
    else if (vm_pb_at(rt, a, target)->applies) vm_pb_at(rt, a, target)->pending_advances++;
    return;
  }
  if (!has_m) {
    rt->ignored_control++;
    return;
  }
  vm_ms *s = vm_ms_at(rt, a, target);
  switch (ev->type) {
    case IO_EV_RESET:
      if (s->applies) ms_reset(rt, a, target, t);
      break;
    case IO_EV_UNBLOCK: s->blocked_by_control = false; break;
    case IO_EV_BLOCK: s->blocked_by_control = true; break;
    case IO_EV_COMPLETE:
      /* a start at this very instant (`start at`, `on`, `after`, the first
         row) is only known when the milestone is evaluated: ms_evaluate
         decides, before any criterion of the instant */
      if (p->milestones[target].continuous || !s->applies) rt->ignored_control++;
      else s->complete_pending = true;
      break;
    default: break;
  }
}

/* ---- instants ------------------------------------------------------------------------------------ */

/* The next instant after the last one where a value changes by itself
 * that an evaluation can see (a quiet window's expiry is not one). */
static int64_t next_timer(const vm_runtime *rt, vm_account *a) {
  if (a->timer_valid) return a->timer;
  const bc_program *p = rt->p;
  int64_t next = agg_next_expiry(rt, a, &a->expiry);
  for (uint32_t m = 0; rt->start_ats && m < p->nmilestones; m++) {
    if (!vm_ms_at(rt, a, m)->start_timer) continue;
    int64_t start_at = *vm_ms_start_at(rt, a, m);
    if (start_at < next) next = start_at;
  }
  for (uint32_t i = 0; rt->start_ats && i < p->nplaybooks; i++) {
    const vm_pb *s = vm_pb_at(rt, a, i);
    if (s->start_timer && s->start_at < next) next = s->start_at;
  }
  a->timer = next;
  a->timer_valid = true;
  return next;
}

/* Marks in rt->due the milestones whose criteria read something that
 * changed at a's instant. */
static void state_due(vm_runtime *rt, const vm_account *a) {
  const uint8_t *bits = (const uint8_t *)(vm_state(a) + rt->layout.changed);
  uint32_t words = rt->due_words;
  if (words == 1) {   /* the common case: one word, kept in a register */
    uint64_t due = 0;
    for (uint32_t byte = 0; byte < rt->changed_bytes; byte++)
      for (unsigned set = bits[byte]; set; set &= set - 1) due |= rt->readers[byte * 8 + (uint32_t)__builtin_ctz(set)];
    rt->due[0] = due;
    return;
  }
  memset(rt->due, 0, sizeof *rt->due * words);
  for (uint32_t byte = 0; byte < rt->changed_bytes; byte++)
    for (unsigned set = bits[byte]; set; set &= set - 1) {
      const uint64_t *readers = rt->readers + (size_t)(byte * 8 + (uint32_t)__builtin_ctz(set)) * words;
      for (uint32_t w = 0; w < words; w++) rt->due[w] |= readers[w];
    }
}

/* Whether a milestone's state is as it was: its words compared (a call to
 * memcmp cost more, once per milestone evaluated). */
_Static_assert(sizeof(vm_ms) % 8 == 0, "vm_ms is compared by words");
static bool ms_same(const vm_ms *x, const vm_ms *y) {
  uint64_t diff = 0;
  for (size_t i = 0; i < sizeof *x; i += 8) {
    uint64_t a, b;
    memcpy(&a, (const char *)x + i, 8);
    memcpy(&b, (const char *)y + i, 8);
    diff |= a ^ b;
  }
  return diff == 0;
}

static bool is_due(const vm_runtime *rt, uint32_t m) { return rt->due[m / 64] >> (m % 64) & 1; }

/* Evaluates the milestones and playbooks of a at instant t (the batch at
 * t, if any, has been applied).  Selective (an event instant where only
 * values changed): a milestone whose criteria read nothing that changed
 * would give what it gave, so it is skipped -- until any milestone's state
 * changes in this pass (a start, an entry, a completion...), after which
 * every later one is evaluated, as completed(), achieving() and `start
 * after` may read it (SPEC 6: values change only at events, expiries and
 * starts). */
bool state_evaluate(vm_runtime *rt, vm_account *a, int64_t t, bool selective) {
  const bc_program *p = rt->p;
  rt->cur_time = t;
  for (uint32_t m = 0; rt->start_ats && m < p->nmilestones; m++) {
    vm_ms *s = vm_ms_at(rt, a, m);
    if (s->start_timer && *vm_ms_start_at(rt, a, m) <= t) {
      s->start_timer = false;
      a->timer_valid = false;
      selective = false;
      if (!s->started) {
        s->started = true;
        s->start = *vm_ms_start_at(rt, a, m);
        s->since_ready = false;
      }
    }
  }
  for (uint32_t i = 0; rt->start_ats && i < p->nplaybooks; i++) {
    const vm_pb *s = vm_pb_at(rt, a, i);
    if (s->start_timer && s->start_at <= t) state_start_playbook(rt, a, i, s->start_at, false);
  }
  /* the marks change in the pass only with a start, which ends selectivity */
  if (selective) state_due(rt, a);
  for (uint32_t k = 0; k < p->nmilestones; k++) {
    uint32_t m = p->eval_order[k];
    if (selective && !is_due(rt, m)) continue;
    vm_ms before = *vm_ms_at(rt, a, m);
    if (!ms_evaluate(rt, a, m, t)) return false;
    if (selective && !ms_same(&before, vm_ms_at(rt, a, m))) selective = false;
  }
  for (uint32_t i = 0; i < p->nplaybooks; i++) pb_evaluate(rt, a, i, t);
  a->last_instant = t;
  a->full_eval = false;
  uint8_t *changed = (uint8_t *)(vm_state(a) + rt->layout.changed);
  if (rt->changed_bytes == 1) *changed = 0;   /* the common case, without a call to memset */
  else memset(changed, 0, rt->changed_bytes);
  if (rt->history) history_record(rt, a, t);
  return true;
}

/* Whether a `start at` of a milestone or playbook of a falls at or before t. */
static bool start_timer_due(const vm_runtime *rt, const vm_account *a, int64_t t) {
  const bc_program *p = rt->p;
  if (!rt->start_ats) return false;
  for (uint32_t m = 0; m < p->nmilestones; m++)
    if (vm_ms_at(rt, a, m)->start_timer && *vm_ms_start_at(rt, a, m) <= t) return true;
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    const vm_pb *s = vm_pb_at(rt, a, i);
    if (s->start_timer && s->start_at <= t) return true;
  }
  return false;
}

/* Whether what changed at a's instant (windows lost entries) can change
 * an evaluation there: a block outside the criteria reads it, or a
 * milestone that can still change does: it applies, an expiry can change
 * it (continuous, or a latching criterion a falling count can make true),
 * and it is continuous, not completed, or has an action not done (actions
 * are evaluated after completion too; a completed once-mode milestone
 * reopens only at `ms.reset`, an event). */
static bool changes_matter(vm_runtime *rt, const vm_account *a) {
  const bc_program *p = rt->p;
  const uint8_t *bits = (const uint8_t *)(vm_state(a) + rt->layout.changed);
  for (uint32_t byte = 0; byte < rt->changed_bytes; byte++)
    if (bits[byte] & rt->read_elsewhere[byte]) return true;
  state_due(rt, a);
  for (uint32_t w = 0; w < rt->due_words; w++)
    for (uint64_t set = rt->due[w]; set; set &= set - 1) {
      uint32_t m = w * 64 + (uint32_t)__builtin_ctzll(set);
      const vm_ms *s = vm_ms_at(rt, a, m);
      const bc_milestone *d = &p->milestones[m];
      /* with history, `blocked when` is read wherever a status needs it */
      bool can_change = rt->expiry_changes[m] || (rt->history && d->blocked_block != BC_NO_BLOCK);
      if (s->applies && can_change && (d->continuous || !s->completed || s->actions_done < (int32_t)d->nactions))
        return true;
    }
  return false;
}

/* Evaluates the instants strictly before `until` (or up to and including
 * it, when inclusive) where a timer fires.  An instant where only windows
 * that nothing still changing reads lost entries is not evaluated (its
 * marks wait for the next evaluation, where they are as true): no
 * criterion, status or step could differ there (SPEC 6: a value changes
 * only at an event, an expiry or a start). */
bool state_run_timers(vm_runtime *rt, vm_account *a, int64_t until, bool inclusive) {
  for (;;) {
    int64_t t = next_timer(rt, a);
    if (t == INT64_MAX || (inclusive ? t > until : t >= until)) return true;
    /* evaluating at t fires every timer <= t, so the next one is later */
    if (t <= a->last_instant) t = a->last_instant;
    rt->cur_account = a;
    rt->cur_time = t;
    bool starts = start_timer_due(rt, a, t), expired = agg_expire_windows(rt, a, t);
    if ((starts || (expired && changes_matter(rt, a))) && !state_evaluate(rt, a, t, !starts)) return false;
    if (next_timer(rt, a) <= t) return true;
  }
}

/* Opens instant t for a: evaluates the timers before it and drops what
 * left the windows, so the instant's events can be applied as they come. */
bool state_begin_instant(vm_runtime *rt, vm_account *a, int64_t t) {
  rt->cur_account = a;
  if (!state_run_timers(rt, a, t, false)) return false;
  rt->cur_time = t;
  if (!a->has_first_row) {
    a->has_first_row = true;
    a->first_row = t;
    a->full_eval = true;   /* milestones without a start begin here */
  }
  agg_expire_windows(rt, a, t);
  agg_shadow_clear(rt, a);
  if (rt->nqueued == rt->queue_cap) {
    rt->queue_cap = rt->queue_cap ? rt->queue_cap * 2 : 64;
    rt->queue = util_xrealloc(rt->queue, sizeof *rt->queue * rt->queue_cap);
  }
  rt->queue[rt->nqueued++] = a;
  a->queued = true;
  return true;
}

/* Applies an ordinary event of a's open instant. */
bool state_apply_event(vm_runtime *rt, vm_account *a, const io_event *in) {
  const bc_program *p = rt->p;
  vm_event ev = {.type = in->type, .time = in->time, .values = in->values};
  int64_t t = in->time;
  rt->cur_account = a;
  rt->cur_time = t;
  uint32_t b = p->update_blocks[(uint32_t)ev.type];
  rt->cur_milestone = BC_NONE;
  rt->cur_what = "a `where` filter";
  if (b != BC_NO_BLOCK && !interp_exec(rt, a, b, &ev, NULL)) return false;
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    uint32_t sb = p->update_blocks[(size_t)(m + 1) * p->nevents + (uint32_t)ev.type];
    if (sb == BC_NO_BLOCK) continue;
    const vm_ms *s = vm_ms_at(rt, a, m);
    rt->cur_milestone = m;
    rt->cur_what = "a `where` filter";
    if (s->since_ready && s->started && (s->start == NO_TIME || s->start <= t) &&
        !interp_exec(rt, a, sb, &ev, NULL))
      return false;
    agg_shadow_feed(rt, a, m, sb, &ev);
  }
  return true;
}

/* Keeps a control event of a's open instant for state_finish_instant; one that
 * names nothing valid is counted as ignored at once. */
void state_queue_control(vm_runtime *rt, vm_account *a, const io_event *in) {
  bool has_m = in->milestone.len > 0, has_p = in->playbook.len > 0;
  uint32_t target = has_m == has_p ? BC_NONE : find_name(rt->p, has_m ? in->milestone : in->playbook, has_p);
  if (target == BC_NONE) {
    rt->ignored_control++;
    return;
  }
  vm_extra *x = vm_extra_of(a);
  for (uint32_t i = 0; i < x->ncontrols; i++) {
    vm_control *c = &x->controls[i];
    if (c->type == in->type && c->playbook == has_p && c->target == target) {
      c->count++;
      return;
    }
  }
  if (x->ncontrols == x->controls_cap) {
    x->controls_cap = x->controls_cap ? x->controls_cap * 2 : 4;
    x->controls = util_xrealloc(x->controls, sizeof *x->controls * x->controls_cap);
  }
  x->controls[x->ncontrols++] = (vm_control){in->type, has_p, target, 1};
}

/* A `start on` filter that failed at t matters only when no event of the
 * instant matched it (nor a reset started the target there): then the
 * start is unknown, and the run stops.  Row order never decides. */
static bool settle_start_errors(vm_runtime *rt, vm_account *a, int64_t t) {
  const bc_program *p = rt->p;
  bool failed = false;
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    vm_ms *s = vm_ms_at(rt, a, m);
    if (s->start_on_failed && !(s->started && s->start == t)) failed = true;
    s->start_on_failed = false;
  }
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    vm_pb *s = vm_pb_at(rt, a, i);
    if (s->start_on_failed && !(s->started && s->started_at == t)) failed = true;
    s->start_on_failed = false;
  }
  if (failed) snprintf(rt->error, sizeof rt->error, "%s", a->extra->start_error);
  free(a->extra->start_error);
  a->extra->start_error = NULL;
  return !failed;
}

/* Finishes a's open instant: its control events in SPEC 6's order, then
 * the criteria. */
bool state_finish_instant(vm_runtime *rt, vm_account *a) {
  const bc_program *p = rt->p;
  int64_t t = rt->instant;
  vm_extra *x = a->extra;
  rt->cur_account = a;
  rt->cur_time = t;
  for (int kind = IO_EV_ASSIGN; kind <= IO_EV_ADVANCE && x; kind++)
    for (uint32_t i = 0; i < x->ncontrols; i++) {
      const vm_control *c = &x->controls[i];
      if (c->type != kind) continue;
      const char *name = bc_str(p, c->playbook ? p->playbooks[c->target].name : p->milestones[c->target].name);
      value_str target = {name, (uint32_t)strlen(name)}, none = {"", 0};
      vm_event ev = {.type = kind, .time = t, .milestone = c->playbook ? none : target,
                     .playbook = c->playbook ? target : none};
      for (int64_t n = 0; n < c->count; n++) apply_control(rt, a, &ev);
    }
  bool controls = x && x->ncontrols;
  if (x) x->ncontrols = 0;
  if (x && x->start_error && !settle_start_errors(rt, a, t)) return false;
  agg_seq_settle(rt, a, t);
  return state_evaluate(rt, a, t, !controls && !a->full_eval);
}
