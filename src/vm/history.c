/* history.c — `msl run --history` (prefix history_): each account's
 * changes of a milestone's status and of a playbook's step, for
 * history.csv.
 *
 * The status at an instant is what an as-of run at that instant reports.
 * It can only change where the run evaluates (state_evaluate: events,
 * window expiries, starts), with one exception: time alone makes an
 * in_progress milestone overdue once T is past its deadline d.  So at each
 * instant the VM evaluates, every item's status is computed as vm_finish
 * computes it with T = that instant, and an item that was in_progress
 * with a deadline d before the next instant t (d < t) became overdue at d
 * (stamped there: overdue for every T > d).  Several changes of one item
 * at one instant make one row, from the status before to the status
 * after; one that ends where it began makes none.
 *
 * `blocked when` is evaluated wherever such a status needs it, as an as-of
 * run there would; a runtime error in it makes the milestone's status at
 * that instant unknown: no row, and the next known status is compared
 * with the last written one.  A run fails only where a run without
 * --history fails (docs/decisions.md). */
#include "vm/vm_internal.h"

#include <stdlib.h>

/* What an item (a milestone, then a playbook, of one account) last was. */
typedef struct vm_hist_item {
  int64_t overdue_at;      /* in_progress with this deadline at the last instant; NO_TIME: not */
  int64_t last_at;         /* the time of its last row; NO_TIME: none */
  uint32_t last_row;       /* its last row's index */
  int32_t to;              /* its status or step as its last row left it; -1: none yet */
} vm_hist_item;

static vm_hist_item *items_of(const vm_runtime *rt, vm_account *a) {
  vm_extra *x = vm_extra_of(a);
  if (x->hist_items) return x->hist_items;
  uint32_t n = rt->p->nmilestones + rt->p->nplaybooks;
  x->hist_items = util_xalloc(sizeof *x->hist_items * (n ? n : 1));
  for (uint32_t i = 0; i < n; i++)
    x->hist_items[i] = (vm_hist_item){.overdue_at = NO_TIME, .last_at = NO_TIME, .to = -1};
  return x->hist_items;
}

/* Item `item` (declaration order `order`) is `to` from `at` on. */
static void change(vm_extra *x, vm_hist_item *it, uint32_t item, uint32_t order, int64_t at, int32_t to) {
  if (to == it->to) return;
  if (it->last_at == at) {
    x->hist_rows[it->last_row].to = to;   /* one row per item and instant */
  } else {
    if (x->nhist_rows == x->hist_rows_cap) {
      x->hist_rows_cap = x->hist_rows_cap ? x->hist_rows_cap * 2 : 8;
      x->hist_rows = util_xrealloc(x->hist_rows, sizeof *x->hist_rows * x->hist_rows_cap);
    }
    it->last_row = x->nhist_rows;
    it->last_at = at;
    x->hist_rows[x->nhist_rows++] = (history_out_row){at, item, order, it->to, to};
  }
  it->to = to;
}

void history_record(vm_runtime *rt, vm_account *a, int64_t t) {
  const bc_program *p = rt->p;
  vm_hist_item *items = items_of(rt, a);
  vm_extra *x = a->extra;
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    const bc_milestone *d = &p->milestones[m];
    vm_hist_item *it = &items[m];
    if (it->overdue_at != NO_TIME && it->overdue_at < t) change(x, it, m, d->decl_order, it->overdue_at, OUT_ST_OVERDUE);
    it->overdue_at = NO_TIME;
    const vm_ms *s = vm_ms_at(rt, a, m);
    if (!s->applies || !s->started) continue;   /* not_started: no row */
    /* not state_eval_criterion: the observer hears only what a run evaluates */
    bool blocked = false;
    if (state_ms_needs_blocked(rt, a, m) && !interp_eval_bool(rt, a, d->blocked_block, "blocked when", m, &blocked))
      continue;
    out_status status = state_ms_status(rt, a, m, t, blocked);
    change(x, it, m, d->decl_order, t, (int32_t)status);
    int64_t deadline = state_ms_deadline(rt, a, m);
    if (status == OUT_ST_IN_PROGRESS && deadline != NO_TIME) it->overdue_at = deadline;
  }
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    const vm_pb *s = vm_pb_at(rt, a, i);
    if (s->applies && s->started)
      change(x, &items[p->nmilestones + i], p->nmilestones + i, p->playbooks[i].decl_order, t, s->step);
  }
}

static int row_cmp(const void *x, const void *y) {
  const history_out_row *a = x, *b = y;
  if (a->at != b->at) return a->at < b->at ? -1 : 1;
  return (a->order > b->order) - (a->order < b->order);
}

int history_finish(vm_account *a, const history_out_row **rows) {
  vm_extra *x = a->extra;
  *rows = NULL;
  if (!x || !x->nhist_rows) return 0;
  uint32_t n = 0;
  for (uint32_t i = 0; i < x->nhist_rows; i++)   /* changes that came back where they began go */
    if (x->hist_rows[i].from != x->hist_rows[i].to) x->hist_rows[n++] = x->hist_rows[i];
  x->nhist_rows = n;
  if (n) qsort(x->hist_rows, n, sizeof *x->hist_rows, row_cmp);
  *rows = x->hist_rows;
  return (int)n;
}

void history_free(vm_extra *x) {
  free(x->hist_items);
  free(x->hist_rows);
  x->hist_items = NULL;
  x->hist_rows = NULL;
  x->nhist_rows = x->hist_rows_cap = 0;
}
