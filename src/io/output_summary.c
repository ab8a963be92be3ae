/* output_summary.c — summary.json (output_internal.h): the run's counts
 * and each milestone's and playbook's, in the layout output.c's header
 * comment decides. */
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "io/output_internal.h"
#include "io/report_by.h"

static void put_json_cstr_or_null(out_file *f, const bc_program *p, uint32_t off) {
  if (off == BC_NONE) {
    out_put_str(f, "null");
    return;
  }
  const char *s = bc_str(p, off);
  out_put_json_string(f, s, strlen(s));
}

static void put_json_key(out_file *f, const char *indent, const char *key) {
  out_put_str(f, indent);
  out_put_json_string(f, key, strlen(key));
  out_put_str(f, ": ");
}

static int compare_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int64_t out_nearest_rank(const int64_t *sorted, size_t n, unsigned pct) {
  size_t rank = (n * pct + 99) / 100;
  return sorted[rank - 1];
}

static void put_seconds(out_file *f, int64_t us) {
  char buf[32];
  out_put(f, buf, (size_t)out_format_seconds(us, buf));
}

/* "actions": [{"name", "label", "owner", "done"}, ...] of milestone mi. */
static void write_action_summary(out_writer *w, uint32_t mi) {
  out_file *f = &w->files[F_SUMMARY];
  const bc_program *p = w->prog;
  const bc_milestone *m = &p->milestones[mi];
  put_json_key(f, "      ", "actions");
  if (m->nactions == 0) {
    out_put_str(f, "[]");
    return;
  }
  out_put_str(f, "[\n");
  for (uint32_t i = 0; i < m->nactions; i++) {
    const bc_action *a = &m->actions[i];
    out_put_str(f, "        {\n");
    put_json_key(f, "          ", "name");
    put_json_cstr_or_null(f, p, a->name);
    out_put_str(f, ",\n");
    put_json_key(f, "          ", "label");
    put_json_cstr_or_null(f, p, a->label);
    out_put_str(f, ",\n");
    put_json_key(f, "          ", "owner");
    if (a->owner) out_put_json_string(f, out_owner_names[a->owner], strlen(out_owner_names[a->owner]));
    else out_put_str(f, "null");
    out_put_str(f, ",\n");
    put_json_key(f, "          ", "done");
    out_put_i64(f, w->ms[mi].actions_done[i]);
    out_put_str(f, i + 1 < m->nactions ? "\n        },\n" : "\n        }\n");
  }
  out_put_str(f, "      ]");
}

/* "tracking": {STATE: count} of milestone mi, null when it has no rows. */
static void write_tracking_summary(out_writer *w, uint32_t mi) {
  out_file *f = &w->files[F_SUMMARY];
  put_json_key(f, "      ", "tracking");
  if (!tracking_applies(&w->prog->milestones[mi])) {
    out_put_str(f, "null");
    return;
  }
  out_put_str(f, "{\n");
  for (int i = 0; i < TRACKING__COUNT; i++) {
    put_json_key(f, "        ", tracking_state_name((tracking_state)i));
    out_put_i64(f, w->ms[mi].tracking[i]);
    out_put_str(f, i + 1 < TRACKING__COUNT ? ",\n" : "\n");
  }
  out_put_str(f, "      }");
}

static void write_milestone_summary(out_writer *w, uint32_t mi) {
  out_file *f = &w->files[F_SUMMARY];
  const bc_program *p = w->prog;
  const bc_milestone *m = &p->milestones[mi];
  ms_stats *st = &w->ms[mi];
  const out_status *statuses = out_mode_statuses(m);

  out_put_str(f, "    {\n");
  put_json_key(f, "      ", "name");
  put_json_cstr_or_null(f, p, m->name);
  out_put_str(f, ",\n");
  put_json_key(f, "      ", "display");
  put_json_cstr_or_null(f, p, m->display);
  out_put_str(f, ",\n");
  put_json_key(f, "      ", "group");
  put_json_cstr_or_null(f, p, m->group);
  out_put_str(f, ",\n");
  put_json_key(f, "      ", "applicable");
  out_put_i64(f, st->applicable);
  out_put_str(f, ",\n");

  put_json_key(f, "      ", "status");
  out_put_str(f, "{\n");
  for (int i = 0; i < OUT_MODE_NSTATUSES; i++) {
    put_json_key(f, "        ", out_status_name(statuses[i]));
    out_put_i64(f, st->status_count[statuses[i]]);
    out_put_str(f, i + 1 < OUT_MODE_NSTATUSES ? ",\n" : "\n");
  }
  out_put_str(f, "      },\n");

  put_json_key(f, "      ", "percent");
  out_put_str(f, "{\n");
  for (int i = 0; i < OUT_MODE_NSTATUSES; i++) {
    put_json_key(f, "        ", out_status_name(statuses[i]));
    if (st->applicable == 0) {
      out_put_str(f, "null");
    } else {
      char buf[32];
      out_put(f, buf, (size_t)out_format_ratio(st->status_count[statuses[i]], st->applicable, 100, 2, false, buf));
    }
    out_put_str(f, i + 1 < OUT_MODE_NSTATUSES ? ",\n" : "\n");
  }
  out_put_str(f, "      },\n");

  if (st->ndurations) qsort(st->durations_us, st->ndurations, sizeof *st->durations_us, compare_i64);
  put_json_key(f, "      ", "time_to_complete");
  out_put_str(f, "{\n");
  put_json_key(f, "        ", "count");
  out_put_i64(f, (int64_t)st->ndurations);
  out_put_str(f, ",\n");
  put_json_key(f, "        ", "median_s");
  if (st->ndurations) put_seconds(f, out_nearest_rank(st->durations_us, st->ndurations, 50));
  else out_put_str(f, "null");
  out_put_str(f, ",\n");
  put_json_key(f, "        ", "p90_s");
  if (st->ndurations) put_seconds(f, out_nearest_rank(st->durations_us, st->ndurations, 90));
  else out_put_str(f, "null");
  out_put_str(f, "\n      },\n");

  put_json_key(f, "      ", "estimate_s");
  if (m->estimate_us >= 0) put_seconds(f, m->estimate_us);
  else out_put_str(f, "null");
  out_put_str(f, ",\n");

  const struct { const char *key; uint32_t text; } texts[] = {
    {"description", m->description}, {"csm", m->csm}, {"customer", m->customer},
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    put_json_key(f, "      ", texts[i].key);
    put_json_cstr_or_null(f, p, texts[i].text);
    out_put_str(f, ",\n");
  }
  write_action_summary(w, mi);
  out_put_str(f, ",\n");
  write_tracking_summary(w, mi);
  if (w->by) {
    out_put_str(f, ",\n");
    report_by_write(w->by, mi, statuses, OUT_MODE_NSTATUSES, out_put_bytes, f);
  }
  out_put_str(f, "\n    }");
}

static void write_playbook_summary(out_writer *w, uint32_t pi) {
  out_file *f = &w->files[F_SUMMARY];
  const bc_program *p = w->prog;
  const bc_playbook *pb = &p->playbooks[pi];
  const pb_stats *st = &w->pb[pi];

  out_put_str(f, "    {\n");
  put_json_key(f, "      ", "name");
  put_json_cstr_or_null(f, p, pb->name);
  out_put_str(f, ",\n");
  put_json_key(f, "      ", "display");
  put_json_cstr_or_null(f, p, pb->display);
  out_put_str(f, ",\n");
  put_json_key(f, "      ", "applicable");
  out_put_i64(f, st->applicable);
  out_put_str(f, ",\n");
  put_json_key(f, "      ", "steps");
  out_put_str(f, "{\n");
  for (uint32_t i = 0; i < pb->nsteps + 2; i++) {
    const char *key = i < pb->nsteps ? bc_str(p, pb->steps[i].name) : i == pb->nsteps ? "done" : "not_started";
    put_json_key(f, "        ", key);
    out_put_i64(f, st->step_count[i]);
    out_put_str(f, i + 1 < pb->nsteps + 2 ? ",\n" : "\n");
  }
  out_put_str(f, "      }\n    }");
}

/* "shard", "format", "history" and "program_sha256" (out_set_run). */
static void write_run_summary(out_writer *w) {
  out_file *f = &w->files[F_SUMMARY];
  put_json_key(f, "  ", "shard");
  if (w->run.nshards) {
    out_put_str(f, "{\n");
    put_json_key(f, "    ", "index");
    out_put_i64(f, w->run.shard);
    out_put_str(f, ",\n");
    put_json_key(f, "    ", "count");
    out_put_i64(f, w->run.nshards);
    out_put_str(f, "\n  },\n");
  } else {
    out_put_str(f, "null,\n");
  }
  put_json_key(f, "  ", "format");
  out_put_str(f, w->fmt == OUT_CSV ? "\"csv\",\n" : "\"jsonl\",\n");
  put_json_key(f, "  ", "history");
  out_put_str(f, w->run.history ? "true,\n" : "false,\n");
  put_json_key(f, "  ", "program_sha256");
  out_put_json_string(f, w->run.program_sha256, strlen(w->run.program_sha256));
  out_put_str(f, ",\n");
}

void out_write_summary(out_writer *w, int64_t as_of, const out_counts *counts) {
  out_file *f = &w->files[F_SUMMARY];
  const bc_program *p = w->prog;
  char tbuf[32];

  out_put_str(f, "{\n");
  put_json_key(f, "  ", "as_of");
  if (as_of == OUT_NO_TIME) out_put_str(f, "null");
  else out_put_json_string(f, tbuf, (size_t)io_format_time(as_of, tbuf));
  out_put_str(f, ",\n");
  if (w->has_run) write_run_summary(w);

  put_json_key(f, "  ", "rows");
  out_put_str(f, "{\n");
  const struct { const char *key; int64_t v; } rows[] = {
    {"read", counts->read}, {"evaluated", counts->evaluated}, {"undeclared", counts->undeclared},
    {"rejected", counts->rejected}, {"unknown_accounts", counts->unknown_accounts},
    {"ignored_control", counts->ignored_control},
  };
  size_t nrows = sizeof rows / sizeof rows[0];
  for (size_t i = 0; i < nrows; i++) {
    put_json_key(f, "    ", rows[i].key);
    out_put_i64(f, rows[i].v);
    out_put_str(f, i + 1 < nrows ? ",\n" : "\n");
  }
  out_put_str(f, "  },\n");

  put_json_key(f, "  ", "milestones");
  if (p->nmilestones == 0) {
    out_put_str(f, "[],\n");
  } else {
    out_put_str(f, "[\n");
    for (uint32_t i = 0; i < p->nmilestones; i++) {
      write_milestone_summary(w, i);
      out_put_str(f, i + 1 < p->nmilestones ? ",\n" : "\n");
    }
    out_put_str(f, "  ],\n");
  }

  put_json_key(f, "  ", "playbooks");
  if (p->nplaybooks == 0) {
    out_put_str(f, "[]\n");
  } else {
    out_put_str(f, "[\n");
    for (uint32_t i = 0; i < p->nplaybooks; i++) {
      write_playbook_summary(w, i);
      out_put_str(f, i + 1 < p->nplaybooks ? ",\n" : "\n");
    }
    out_put_str(f, "  ]\n");
  }
  out_put_str(f, "}\n");
}

