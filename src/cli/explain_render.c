/* explain_render.c — the explanation of one account (explain_render): as
 * text for people, with colour on a terminal, or as JSON (the structure is
 * in docs/cli.md).  Both walk the same things in the same order: each
 * milestone (status, texts, timeline, criteria), the playbooks, the
 * signals. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/explain_internal.h"
#include "core/util.h"
#include "io/io.h"
#include "io/tracking.h"

/* ---- milestones ------------------------------------------------------------------------------ */

static const char *owner_name(uint8_t owner) { return owner == 1 ? "csm" : owner == 2 ? "customer" : NULL; }

static const char *status_colour(out_status s) {
  switch (s) {
    case OUT_ST_COMPLETED: case OUT_ST_ACHIEVING: return "1;32";
    case OUT_ST_OVERDUE: case OUT_ST_BLOCKED: case OUT_ST_NOT_ACHIEVING: return "1;31";
    case OUT_ST_NOT_STARTED: return "1;2";
    default: return "1;33";
  }
}

static bool has_control(const explain_ctx *c, uint32_t m, int type, int64_t t) {
  for (size_t i = 0; i < c->ncontrols; i++)
    if (c->controls[i].milestone == m && c->controls[i].type == type && c->controls[i].time == t) return true;
  return false;
}

/* How milestone m starts, for people: "after `kickoff` completes". */
static void start_text(const explain_ctx *c, uint32_t m, char *buf, size_t len) {
  const bc_milestone *d = &c->p->milestones[m];
  const ast_milestone *ms = explain_ast_milestone(c, m);
  switch (d->start_kind) {
    case BC_START_AT:
      if (ms) {
        char *t = explain_expr_text(ms->start.at);
        util_set_msg(buf, len, "at `%s`", t);
        free(t);
      } else {
        util_set_msg(buf, len, "%s", "at its `start at` time");
      }
      break;
    case BC_START_AFTER:
      util_set_msg(buf, len, "after `%s` completes", bc_str(c->p, c->p->milestones[d->start_after].name));
      break;
    case BC_START_ON_EVENT:
      if (ms) util_set_msg(buf, len, "on the first `%s` event", ms->start.on.event.text);
      else util_set_msg(buf, len, "%s", "on its first matching event");
      break;
    case BC_START_ON_ASSIGNMENT: util_set_msg(buf, len, "%s", "on its first ms.assign"); break;
    default: util_set_msg(buf, len, "%s", "with the account's first row"); break;
  }
}

/* When the ms.block that still holds milestone m came; OUT_NO_TIME if none
 * does (at one instant an unblock comes before a block: controls are in
 * that order). */
static int64_t open_block(const explain_ctx *c, uint32_t m) {
  int64_t since = OUT_NO_TIME;
  for (size_t i = 0; i < c->ncontrols; i++) {
    const explain_control *k = &c->controls[i];
    if (k->milestone != m) continue;
    if (k->type == IO_EV_UNBLOCK) since = OUT_NO_TIME;
    else if (k->type == IO_EV_BLOCK && since == OUT_NO_TIME) since = k->time;
  }
  return since;
}

typedef struct render_entry {
  int64_t time;
  int order;               /* ties: the order they were added */
  char text[400];
} render_entry;

static int entry_cmp(const void *x, const void *y) {
  const render_entry *a = x, *b = y;
  if (a->time != b->time) return a->time < b->time ? -1 : 1;
  return a->order - b->order;
}

typedef UTIL_VEC(render_entry) entry_vec;

static void add_entry(entry_vec *v, int64_t t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_entry(entry_vec *v, int64_t t, const char *fmt, ...) {
  if (t == OUT_NO_TIME) return;
  render_entry e = {.time = t, .order = (int)v->len};
  va_list ap;
  va_start(ap, fmt);
  util_vset_msg(e.text, sizeof e.text, fmt, ap);
  va_end(ap);
  UTIL_VEC_PUSH(*v, e, 16);
}

/* What happened to milestone m, in time order. */
static void text_timeline(explain_ctx *c, const out_milestone_row *r) {
  uint32_t m = r->milestone;
  const bc_milestone *d = &c->p->milestones[m];
  entry_vec v = {0};
  char how[200];
  start_text(c, m, how, sizeof how);
  if (!has_control(c, m, IO_EV_RESET, r->started_at)) add_entry(&v, r->started_at, "started (%s)", how);
  for (size_t i = 0; i < c->ncontrols; i++) {
    const explain_control *k = &c->controls[i];
    if (k->milestone != m) continue;
    if (k->type == IO_EV_RESET) add_entry(&v, k->time, "%s", "restarted (ms.reset)");
    else if (k->type == IO_EV_ASSIGN && k->time != r->started_at)
      add_entry(&v, k->time, "%s", "assigned (ms.assign)");
    else if (k->type == IO_EV_BLOCK) add_entry(&v, k->time, "%s", "blocked (ms.block)");
    else if (k->type == IO_EV_UNBLOCK) add_entry(&v, k->time, "%s", "unblocked (ms.unblock)");
  }
  if (d->entry_block != BC_NO_BLOCK) add_entry(&v, r->entered_at, "%s", "entered (the entry holds)");
  for (uint32_t k = 0; r->action_done_at && k < d->nactions; k++) {
    const char *owner = owner_name(d->actions[k].owner);
    add_entry(&v, r->action_done_at[k], "action `%s` done%s%s%s", bc_str(c->p, d->actions[k].name),
              owner ? " (" : "", owner ? owner : "", owner ? ")" : "");
  }
  if (d->continuous) {
    add_entry(&v, r->achieved_at, "%s", "first achieving");
    add_entry(&v, r->lost_at, "%s", "stopped achieving");
  } else {
    add_entry(&v, r->achieved_at, "completed%s%s",
              has_control(c, m, IO_EV_COMPLETE, r->achieved_at) ? " (ms.complete)" : "",
              r->on_time == 1 ? ", on time" : r->on_time == 0 ? ", late" : "");
  }
  add_entry(&v, r->deadline_at, "deadline%s", r->on_time == 0 ? " (missed)" : "");
  if (v.len) qsort(v.items, v.len, sizeof *v.items, entry_cmp);
  explain_indent(c, 2);
  explain_put(c, v.len ? "timeline:\n" : "timeline: nothing yet\n");
  for (size_t i = 0; i < v.len; i++) {
    explain_indent(c, 4);
    explain_put_time(c, v.items[i].time);
    explain_putf(c, "  %s\n", v.items[i].text);
  }
  free(v.items);
}

static void text_texts(explain_ctx *c, const bc_milestone *d) {
  static const char *const labels[] = {"description", "csm", "customer", "group"};
  uint32_t texts[] = {d->description, d->csm, d->customer, d->group};
  for (int i = 0; i < 4; i++)
    if (texts[i] != BC_NONE) {
      explain_indent(c, 2);
      explain_paint(c, "2", labels[i]);
      explain_putf(c, ": %s\n", bc_str(c->p, texts[i]));
    }
  if (d->estimate_us >= 0) {
    explain_indent(c, 2);
    explain_paint(c, "2", "estimate");
    explain_put(c, ": ");
    explain_put_duration(c, d->estimate_us);
    explain_put(c, "\n");
  }
}

static void text_actions(explain_ctx *c, const out_milestone_row *r) {
  const bc_milestone *d = &c->p->milestones[r->milestone];
  explain_indent(c, 2);
  explain_putf(c, "actions: %d of %d done\n", r->actions_done, r->actions_total);
  for (uint32_t k = 0; k < d->nactions; k++) {
    const bc_action *x = &d->actions[k];
    const char *owner = owner_name(x->owner);
    explain_indent(c, 4);
    explain_putf(c, "%s ", bc_str(c->p, x->name));
    explain_put_str(c, bc_str(c->p, x->label));
    if (owner) explain_putf(c, " (%s)", owner);
    explain_put(c, ": ");
    explain_text_criterion(c, r, EXPLAIN_ACTION, k, 6);
  }
}

/* How the milestone stands against its estimate (tracking.h), and why. */
static void text_tracking(explain_ctx *c, const out_milestone_row *r) {
  tracking_row t;
  if (!tracking_classify(&c->p->milestones[r->milestone], r, c->as_of, &t)) return;
  char expected[TRACKING_TEXT_SIZE], progress[TRACKING_TEXT_SIZE];
  tracking_expected_text(&t, expected);
  if (t.total) tracking_progress_text(&t, progress);
  explain_indent(c, 2);
  explain_put(c, "tracking: ");
  explain_paint(c, t.state == TRACKING_ON_TRACK ? "1;32" : "1;31", tracking_state_name(t.state));
  explain_put(c, " (");
  explain_put_duration(c, t.elapsed_us);
  explain_put(c, " of the ");
  explain_put_duration(c, t.estimate_us);
  explain_putf(c, " estimate elapsed: expected progress %s", expected);
  if (t.total) explain_putf(c, ", progress %s", progress);
  explain_put(c, ")\n");
  if (t.state == TRACKING_ON_TRACK) return;
  explain_indent(c, 4);
  if (t.state == TRACKING_BEHIND) {
    explain_put(c, t.elapsed_us > t.estimate_us ? "past the estimate\n"
                                                : "progress is more than 0.25 below the expected progress\n");
    return;
  }
  /* stuck: at least a quarter of the estimate has elapsed, so this is not before the start */
  explain_put(c, "no action done in the last quarter of the estimate, after ");
  explain_put_time(c, c->as_of - t.estimate_us / 4);
  if (t.last_done_at == OUT_NO_TIME) {
    explain_put(c, "; none done yet\n");
    return;
  }
  explain_put(c, "; the last one at ");
  explain_put_time(c, t.last_done_at);
  explain_put(c, "\n");
}

static void text_milestone(explain_ctx *c, uint32_t m, const out_milestone_row *r) {
  const bc_milestone *d = &c->p->milestones[m];
  explain_paint(c, "1", bc_str(c->p, d->name));
  if (d->display != BC_NONE) {
    explain_put(c, " ");
    explain_put_str(c, bc_str(c->p, d->display));
  }
  explain_put(c, ": ");
  if (!r) {
    explain_paint(c, "1;2", "does not apply");
    explain_put(c, " (segments");
    for (uint32_t k = 0; k < d->nsegments; k++)
      explain_putf(c, "%s %s", k ? "," : "", bc_str(c->p, c->p->segment_names[d->segments[k]]));
    explain_put(c, ")\n");
    return;
  }
  explain_paint(c, status_colour(r->status), out_status_name(r->status));
  explain_put(c, d->continuous ? " (continuous)\n" : "\n");
  text_texts(c, d);
  char how[200];
  start_text(c, m, how, sizeof how);
  if (r->status == OUT_ST_NOT_STARTED) {
    explain_indent(c, 2);
    explain_putf(c, "not started: it starts %s", how);
    explain_value at = {0};
    if (d->start_kind == BC_START_AT && (at = explain_eval_block(c, d->start_block)).ok) {
      explain_put(c, ", ");
      explain_put_value(c, &at, false);
    }
    explain_value_free(&at);
    explain_put(c, "\n");
  } else {
    text_timeline(c, r);
    int64_t since = open_block(c, m);
    if (since != OUT_NO_TIME) {
      explain_indent(c, 2);
      explain_paint(c, "31", "blocked by ms.block");
      explain_put(c, " since ");
      explain_put_time(c, since);
      explain_put(c, ", until an ms.unblock\n");
    }
    text_tracking(c, r);
  }
  struct { explain_clause kind; uint32_t block; const char *label; } clauses[] = {
    {EXPLAIN_ENTRY, d->entry_block, "entry"}, {EXPLAIN_EXIT, d->exit_block, "exit"},
    {EXPLAIN_BLOCKED, d->blocked_block, "blocked when"}};
  for (int i = 0; i < 3; i++) {
    if (clauses[i].kind == EXPLAIN_EXIT && d->nactions) text_actions(c, r);
    if (clauses[i].block == BC_NO_BLOCK) continue;
    explain_indent(c, 2);
    explain_putf(c, "%s: ", clauses[i].label);
    explain_text_criterion(c, r, clauses[i].kind, 0, 4);
  }
  if (d->exit_block == BC_NO_BLOCK) {   /* SPEC 6: what a milestone without `exit` needs */
    explain_indent(c, 2);
    if (d->continuous) explain_put(c, "exit: none, so it never becomes achieving\n");
    else if (d->nactions) explain_put(c, "exit: all actions done\n");
    else explain_put(c, "exit: none, so only an ms.complete completes it\n");
  }
}

/* ms.block spans of milestone m: [{"from", "to"}], to null while open. */
static void json_blocked_spans(explain_ctx *c, uint32_t m) {
  bool blocked = false, first = true;
  explain_put(c, "[");
  for (size_t i = 0; i < c->ncontrols; i++) {
    const explain_control *k = &c->controls[i];
    if (k->milestone != m) continue;
    if (k->type == IO_EV_BLOCK && !blocked) {
      explain_putf(c, "%s{\"from\":", first ? "" : ",");
      explain_json_time(c, k->time);
      blocked = true;
      first = false;
    } else if (k->type == IO_EV_UNBLOCK && blocked) {
      explain_put(c, ",\"to\":");
      explain_json_time(c, k->time);
      explain_put(c, "}");
      blocked = false;
    }
  }
  explain_put(c, blocked ? ",\"to\":null}]" : "]");
}

static void json_controls(explain_ctx *c, uint32_t m) {
  static const char *const names[] = {"ms.assign", "ms.reset", "ms.unblock", "ms.block", "ms.complete"};
  bool first = true;
  explain_put(c, "[");
  for (size_t i = 0; i < c->ncontrols; i++) {
    const explain_control *k = &c->controls[i];
    if (k->milestone != m) continue;
    explain_putf(c, "%s{\"time\":", first ? "" : ",");
    explain_json_time(c, k->time);
    explain_putf(c, ",\"event\":\"%s\"}", names[k->type - IO_EV_ASSIGN]);
    first = false;
  }
  explain_put(c, "]");
}

/* progress as output.c writes it: at most 4 decimals, half away from zero. */
static void json_progress(explain_ctx *c, const out_milestone_row *r) {
  if (!r->actions_total) {
    explain_put(c, "null");
    return;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%.4f", round((double)r->actions_done * 10000.0 / r->actions_total) / 10000.0);
  size_t n = strlen(buf);
  while (buf[n - 1] == '0') buf[--n] = '\0';
  if (buf[n - 1] == '.') buf[n - 1] = '\0';
  explain_put(c, buf);
}

/* {"state", "expected_progress", "progress", "last_action_at"}, or null
 * for a row without tracking. */
static void json_tracking(explain_ctx *c, const out_milestone_row *r) {
  tracking_row t;
  if (!tracking_classify(&c->p->milestones[r->milestone], r, c->as_of, &t)) {
    explain_put(c, "null");
    return;
  }
  char expected[TRACKING_TEXT_SIZE], progress[TRACKING_TEXT_SIZE] = "null";
  tracking_expected_text(&t, expected);
  if (t.total) tracking_progress_text(&t, progress);
  explain_putf(c, "{\"state\":\"%s\",\"expected_progress\":%s,\"progress\":%s,\"last_action_at\":",
               tracking_state_name(t.state), expected, progress);
  explain_json_time(c, t.last_done_at);
  explain_put(c, "}");
}

static void json_actions(explain_ctx *c, const out_milestone_row *r) {
  const bc_milestone *d = &c->p->milestones[r->milestone];
  explain_put(c, "[");
  for (uint32_t k = 0; k < d->nactions; k++) {
    const bc_action *x = &d->actions[k];
    const char *owner = owner_name(x->owner);
    bool first = true;
    explain_put(c, k ? ",{" : "{");
    explain_json_key(c, &first, "name");
    explain_put_str(c, bc_str(c->p, x->name));
    explain_json_key(c, &first, "label");
    explain_put_str(c, bc_str(c->p, x->label));
    explain_json_key(c, &first, "owner");
    if (owner) explain_putf(c, "\"%s\"", owner);
    else explain_put(c, "null");
    explain_json_key(c, &first, "done_at");
    explain_json_time(c, r->action_done_at ? r->action_done_at[k] : OUT_NO_TIME);
    explain_json_key(c, &first, "done_when");
    explain_json_criterion(c, r, EXPLAIN_ACTION, k);
    explain_put(c, "}");
  }
  explain_put(c, "]");
}

static void json_row(explain_ctx *c, const out_milestone_row *r, bool *first) {
  const bc_milestone *d = &c->p->milestones[r->milestone];
  explain_json_key(c, first, "status");
  explain_putf(c, "\"%s\"", out_status_name(r->status));
  static const char *const times[] = {"started_at", "entered_at", "achieved_at", "lost_at", "deadline_at"};
  int64_t values[] = {r->started_at, r->entered_at, r->achieved_at, r->lost_at, r->deadline_at};
  for (int i = 0; i < 5; i++) {
    explain_json_key(c, first, times[i]);
    explain_json_time(c, values[i]);
  }
  explain_json_key(c, first, "on_time");
  explain_put(c, r->on_time < 0 ? "null" : r->on_time ? "true" : "false");
  explain_json_key(c, first, "progress");
  json_progress(c, r);
  explain_json_key(c, first, "tracking");
  json_tracking(c, r);
  explain_json_key(c, first, "blocked_spans");
  json_blocked_spans(c, r->milestone);
  explain_json_key(c, first, "controls");
  json_controls(c, r->milestone);
  static const char *const keys[] = {"entry", "exit", "blocked_when"};
  uint32_t blocks[] = {d->entry_block, d->exit_block, d->blocked_block};
  explain_clause kinds[] = {EXPLAIN_ENTRY, EXPLAIN_EXIT, EXPLAIN_BLOCKED};
  for (int i = 0; i < 3; i++) {
    explain_json_key(c, first, keys[i]);
    if (blocks[i] == BC_NO_BLOCK) explain_put(c, "null");
    else explain_json_criterion(c, r, kinds[i], 0);
  }
  explain_json_key(c, first, "actions");
  json_actions(c, r);
}

static void json_milestone(explain_ctx *c, uint32_t m, const out_milestone_row *r) {
  const bc_milestone *d = &c->p->milestones[m];
  bool first = true;
  explain_put(c, "{");
  static const char *const keys[] = {"name", "display", "description", "csm", "customer", "group"};
  uint32_t texts[] = {d->name, d->display, d->description, d->csm, d->customer, d->group};
  for (int i = 0; i < 6; i++) {
    explain_json_key(c, &first, keys[i]);
    explain_json_pool(c, texts[i]);
  }
  explain_json_key(c, &first, "mode");
  explain_put(c, d->continuous ? "\"continuous\"" : "\"once\"");
  explain_json_key(c, &first, "estimate_s");
  if (d->estimate_us >= 0) explain_putf(c, "%lld", (long long)(d->estimate_us / 1000000));
  else explain_put(c, "null");
  explain_json_key(c, &first, "applies");
  explain_put(c, r ? "true" : "false");
  explain_json_key(c, &first, "segments");
  explain_put(c, "[");
  for (uint32_t k = 0; k < d->nsegments; k++) {
    if (k) explain_put(c, ",");
    explain_put_str(c, bc_str(c->p, c->p->segment_names[d->segments[k]]));
  }
  explain_put(c, "]");
  if (r) {
    json_row(c, r, &first);
  } else {
    explain_json_key(c, &first, "status");
    explain_put(c, "null");
  }
  explain_put(c, "}");
}

/* ---- playbooks and signals ------------------------------------------------------------------- */

/* Playbook row r's step: a step name, "done", or NULL before the start. */
static const char *step_name(const explain_ctx *c, const out_playbook_row *r) {
  const bc_playbook *d = &c->p->playbooks[r->playbook];
  if (r->step < 0) return NULL;
  return (uint32_t)r->step >= d->nsteps ? "done" : bc_str(c->p, d->steps[r->step].name);
}

static const out_milestone_row *row_of(const explain_ctx *c, uint32_t m) {
  for (int i = 0; i < c->results->nmilestones; i++)
    if (c->results->milestones[i].milestone == m) return &c->results->milestones[i];
  return NULL;
}

static void text_playbook(explain_ctx *c, const out_playbook_row *r) {
  const bc_playbook *d = &c->p->playbooks[r->playbook];
  explain_indent(c, 2);
  explain_paint(c, "1", bc_str(c->p, d->name));
  if (d->display != BC_NONE) {
    explain_put(c, " ");
    explain_put_str(c, bc_str(c->p, d->display));
  }
  explain_put(c, ": ");
  const char *step = step_name(c, r);
  if (!step) {
    explain_put(c, "not started\n");
    return;
  }
  if ((uint32_t)r->step >= d->nsteps) {
    explain_paint(c, "1;32", "done");
    explain_put(c, " at ");
    explain_put_time(c, r->done_at);
    explain_put(c, "\n");
    return;
  }
  const bc_step *s = &d->steps[r->step];
  explain_put(c, "step ");
  explain_paint(c, "1", step);
  explain_put(c, " ");
  explain_put_str(c, bc_str(c->p, s->label));
  if (r->step_entered_at != OUT_NO_TIME) {
    explain_put(c, " since ");
    explain_put_time(c, r->step_entered_at);
  }
  const out_milestone_row *tracked = row_of(c, s->tracks);
  explain_putf(c, "; tracks %s (%s)%s\n", bc_str(c->p, c->p->milestones[s->tracks].name),
       tracked ? out_status_name(tracked->status) : "does not apply", s->is_auto ? "" : ", moves on ms.advance");
}

static void json_playbook(explain_ctx *c, const out_playbook_row *r) {
  const bc_playbook *d = &c->p->playbooks[r->playbook];
  const char *step = step_name(c, r);
  bool first = true, on_step = step && (uint32_t)r->step < d->nsteps;
  explain_put(c, "{");
  explain_json_key(c, &first, "name");
  explain_json_pool(c, d->name);
  explain_json_key(c, &first, "display");
  explain_json_pool(c, d->display);
  explain_json_key(c, &first, "step");
  if (step) explain_put_str(c, step);
  else explain_put(c, "null");
  explain_json_key(c, &first, "step_label");
  explain_json_pool(c, on_step ? d->steps[r->step].label : BC_NONE);
  explain_json_key(c, &first, "tracks");
  explain_json_pool(c, on_step ? c->p->milestones[d->steps[r->step].tracks].name : BC_NONE);
  explain_json_key(c, &first, "step_entered_at");
  explain_json_time(c, r->step_entered_at);
  explain_json_key(c, &first, "done_at");
  explain_json_time(c, r->done_at);
  explain_put(c, "}");
}

/* The signals, or with --milestone those it emitted. */
static bool signal_shown(const explain_ctx *c, const out_signal *s) {
  return c->milestone == BC_NONE || s->source == c->p->milestones[c->milestone].name;
}

static void text_signals(explain_ctx *c) {
  int shown = 0;
  for (int i = 0; i < c->results->nsignals; i++) shown += signal_shown(c, &c->results->signals[i]);
  explain_put(c, shown ? "signals:\n" : "signals: none\n");
  for (int i = 0; i < c->results->nsignals; i++) {
    const out_signal *s = &c->results->signals[i];
    if (!signal_shown(c, s)) continue;
    explain_indent(c, 2);
    explain_put_time(c, s->time);
    explain_putf(c, "  %s (from %s)\n", bc_str(c->p, s->signal), bc_str(c->p, s->source));
  }
}

static void json_signals(explain_ctx *c) {
  bool first = true;
  explain_put(c, "[");
  for (int i = 0; i < c->results->nsignals; i++) {
    const out_signal *s = &c->results->signals[i];
    if (!signal_shown(c, s)) continue;
    explain_put(c, first ? "{\"time\":" : ",{\"time\":");
    explain_json_time(c, s->time);
    explain_put(c, ",\"signal\":");
    explain_json_pool(c, s->signal);
    explain_put(c, ",\"source\":");
    explain_json_pool(c, s->source);
    explain_put(c, "}");
    first = false;
  }
  explain_put(c, "]");
}

/* ---- the explanation ------------------------------------------------------------------------- */

static void render_text(explain_ctx *c) {
  size_t len;
  const char *id = vm_account_id(c->vm, c->account, &len);
  explain_put(c, "account ");
  explain_put_quoted(c, id, len);
  explain_put(c, " as of ");
  explain_put_time(c, c->as_of);
  explain_put(c, "\n");
  if (c->no_parts) explain_putf(c, "note: %s\n", c->no_parts);
  for (uint32_t m = 0; m < c->p->nmilestones; m++) {
    if (c->milestone != BC_NONE && m != c->milestone) continue;
    explain_put(c, "\n");
    text_milestone(c, m, row_of(c, m));
  }
  if (c->milestone == BC_NONE && c->results->nplaybooks) {
    explain_put(c, "\nplaybooks:\n");
    for (int i = 0; i < c->results->nplaybooks; i++) text_playbook(c, &c->results->playbooks[i]);
  }
  explain_put(c, "\n");
  text_signals(c);
}

static void render_json(explain_ctx *c) {
  size_t len;
  const char *id = vm_account_id(c->vm, c->account, &len);
  explain_put(c, "{\"account\":");
  explain_put_quoted(c, id, len);
  explain_put(c, ",\"as_of\":");
  explain_json_time(c, c->as_of);
  explain_put(c, ",\"criteria_parts\":");
  explain_put(c, c->no_parts ? "false" : "true");
  explain_put(c, ",\"milestones\":[");
  bool first = true;
  for (uint32_t m = 0; m < c->p->nmilestones; m++) {
    if (c->milestone != BC_NONE && m != c->milestone) continue;
    if (!first) explain_put(c, ",");
    json_milestone(c, m, row_of(c, m));
    first = false;
  }
  explain_put(c, "],\"playbooks\":[");
  for (int i = 0; c->milestone == BC_NONE && i < c->results->nplaybooks; i++) {
    if (i) explain_put(c, ",");
    json_playbook(c, &c->results->playbooks[i]);
  }
  explain_put(c, "],\"signals\":");
  json_signals(c);
  explain_put(c, "}\n");
}

void explain_render(explain_ctx *c) {
  if (c->format == EXPLAIN_JSON) render_json(c);
  else render_text(c);
}
