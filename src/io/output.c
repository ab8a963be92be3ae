/* output.c — the result writers (output.h): milestones, playbooks,
 * signals and actions as CSV or JSON Lines, and summary.json (SPEC 7).
 *
 * Every output file goes to a temporary file in the output directory
 * (commit_add: `.msl-tmp-PID-NAME-XXXXXX`, removed if a signal stops the
 * run) and is renamed into place by out_finish (commit_all) only once every
 * file is complete and synced, so a failed run leaves nothing half written
 * and the previous run's files intact.  Writes go through a large buffer
 * per file; a failed write() is remembered and reported by the next
 * out_account / out_finish.
 *
 * Decisions the SPEC leaves open:
 *  - `--format jsonl` files are milestones.jsonl, playbooks.jsonl,
 *    signals.jsonl and actions.jsonl: compact objects, keys in CSV column order, empty cells
 *    null, `on_time` a boolean, `progress` a number.  Strings are JSON
 *    escaped: `"` `\` and control characters (as \u00XX); valid UTF-8 passes
 *    through; a byte that is not part of valid UTF-8 becomes \ufffd (JSON
 *    text must be UTF-8; CSV passes bytes through unchanged).
 *  - progress and percent are exact decimal roundings done with integers,
 *    half away from zero (1/32 -> 0.0313, not printf's 0.0312).
 *  - summary.json is pretty-printed with 2-space indentation (the layout of
 *    Python's json.dumps(indent=2)), keys in SPEC order, a final newline.
 *    "as_of" is null when the caller has no as-of time (OUT_NO_TIME).
 *  - "status" lists every status of the milestone's mode, in SPEC 6 table
 *    order, zeros included; "percent" has the same keys, each
 *    100*count/applicable with exactly 2 decimals, or null when no account
 *    applies.
 *  - "time_to_complete" takes rows that have both started_at and
 *    achieved_at and are completed (once mode) or achieved at least once
 *    (continuous mode): achieved_at - started_at in seconds, up to 6
 *    decimals without trailing zeros.  median_s and p90_s are nearest-rank
 *    (the value at 1-based rank ceil(p*n) of the sorted durations); null
 *    when count is 0.  "estimate_s" is in seconds too, null when absent;
 *    "display" and "group" are null when absent.
 *  - a milestone's "description", "csm" and "customer" (null when absent)
 *    and "actions" come after "estimate_s"; each action's "owner" is
 *    "csm", "customer" or null, and "done" counts the applicable accounts
 *    whose action is done in the current start epoch at T.
 *  - playbook "steps" lists every step name in order, then "done", then
 *    "not_started", zeros included.
 *  - tracking.csv (tracking.jsonl) has a row per tracking_classify row
 *    (tracking.h), in the order of milestones.csv; each milestone entry
 *    of summary.json ends with "tracking": {"on_track", "behind",
 *    "stuck"} counts, or null for a milestone that can have no such row,
 *    then, with --report-by, "by" (report_by.h).
 *  - With out_set_run (every msl run --out), "shard", "format", "history"
 *    and "program_sha256" follow "as_of": what `msl merge` checks shards
 *    by; a run without --shard writes "shard": null, as a merge does.
 *  - Rows are checked against the program (indices, a status of the
 *    milestone's mode, step range, 0 <= done <= total): a bad row is a
 *    caller bug, refused with a message rather than written. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "io/commit.h"
#include "io/report.h"
#include "io/output_internal.h"

/* ---- statuses ------------------------------------------------------------------ */

const char *out_status_name(out_status s) {
  static const char *const names[OUT_ST__COUNT] = {
    [OUT_ST_NOT_STARTED] = "not_started",     [OUT_ST_PENDING] = "pending",
    [OUT_ST_IN_PROGRESS] = "in_progress",     [OUT_ST_COMPLETED] = "completed",
    [OUT_ST_OVERDUE] = "overdue",             [OUT_ST_BLOCKED] = "blocked",
    [OUT_ST_ACHIEVING] = "achieving",         [OUT_ST_NOT_ACHIEVING] = "not_achieving",
    [OUT_ST_NEVER_ACHIEVED] = "never_achieved",
  };
  return (unsigned)s < OUT_ST__COUNT ? names[s] : "invalid";
}

static const out_status once_statuses[OUT_MODE_NSTATUSES] = {
  OUT_ST_NOT_STARTED, OUT_ST_COMPLETED, OUT_ST_BLOCKED, OUT_ST_PENDING, OUT_ST_OVERDUE, OUT_ST_IN_PROGRESS,
};
static const out_status continuous_statuses[OUT_MODE_NSTATUSES] = {
  OUT_ST_NOT_STARTED, OUT_ST_ACHIEVING, OUT_ST_BLOCKED, OUT_ST_PENDING, OUT_ST_NOT_ACHIEVING, OUT_ST_NEVER_ACHIEVED,
};

const out_status *out_mode_statuses(const bc_milestone *m) {
  return m->continuous ? continuous_statuses : once_statuses;
}

static bool status_in_mode(const bc_milestone *m, out_status s) {
  const out_status *list = out_mode_statuses(m);
  for (int i = 0; i < OUT_MODE_NSTATUSES; i++)
    if (list[i] == s) return true;
  return false;
}

/* ---- buffered output files ------------------------------------------------------ */

#define ROWS_BUF_SIZE ((size_t)1 << 20)
#define SUMMARY_BUF_SIZE ((size_t)1 << 16)

static const char *file_label(const out_file *f) {
  return f->final_path ? f->final_path : "standard output";
}

static void file_flush(out_file *f) {
  if (f->err == 0 && f->len > 0 && !util_write_all(f->fd, f->buf, f->len)) f->err = errno;
  f->len = 0;
}

void out_put(out_file *f, const char *p, size_t n) {
  if (n == 0) return;
  /* the usual case first: a failed file's bytes are dropped at its next flush */
  if (f->len + n > f->cap && f->grows) {
    util_xgrow(&f->buf, &f->cap, f->len + n, 1, 1);
  } else if (f->len + n > f->cap) {
    if (f->err) return;
    file_flush(f);
    if (n > f->cap) {      /* larger than the buffer: write it straight through */
      if (f->err == 0 && !util_write_all(f->fd, p, n)) f->err = errno;
      return;
    }
  }
  memcpy(f->buf + f->len, p, n);
  f->len += n;
}

void out_put_str(out_file *f, const char *s) { out_put(f, s, strlen(s)); }
void out_put_char(out_file *f, char c) {
  if (f->len < f->cap) f->buf[f->len++] = c;   /* every separator: no call for one byte */
  else out_put(f, &c, 1);
}

void out_put_i64(out_file *f, int64_t v) {
  char buf[24];
  int n = snprintf(buf, sizeof buf, "%" PRId64, v);
  out_put(f, buf, (size_t)n);
}

/* ---- number and time text ----------------------------------------------------------- */

/* Exact integer arithmetic: 1/32 at 4 places is 0.0313. */
int out_format_ratio(int64_t num, int64_t den, int64_t factor, int decimals, bool trim, char *buf) {
  int64_t scale = 1;
  for (int i = 0; i < decimals; i++) scale *= 10;
  int64_t scaled = (num * factor * scale * 2 + den) / (den * 2);
  int n = snprintf(buf, 32, "%" PRId64, scaled / scale);
  char frac[8];   /* the fraction's digits, zero-padded */
  int64_t digits = scaled % scale;
  for (int i = decimals; i-- > 0; digits /= 10) frac[i] = (char)('0' + digits % 10);
  int flen = decimals;
  if (trim)
    while (flen > 0 && frac[flen - 1] == '0') flen--;
  if (flen > 0) n += snprintf(buf + n, 32 - (size_t)n, ".%.*s", flen, frac);
  return n;
}

int out_format_seconds(int64_t us, char *buf) {
  uint64_t mag = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
  int n = snprintf(buf, 32, "%s%" PRIu64, us < 0 ? "-" : "", mag / 1000000);
  unsigned frac = (unsigned)(mag % 1000000);
  if (frac) {
    int digits = 6;
    while (frac % 10 == 0) {
      frac /= 10;
      digits--;
    }
    n += snprintf(buf + n, 32 - (size_t)n, ".%0*u", digits, frac);
  }
  return n;
}

/* ---- cells: one row as CSV or as a JSON object ------------------------------------------- */

static out_cell text_cell(const char *p, size_t len) { return (out_cell){CELL_TEXT, p, len}; }
static out_cell str_cell(const char *s) { return (out_cell){CELL_TEXT, s, strlen(s)}; }

/* A name: plain when it is an identifier, as the compiler makes every one
 * (a .msc file made otherwise gets its cells escaped). */
static out_cell name_cell(const char *s) {
  size_t n = strlen(s), i = 0;
  while (i < n && (s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))) i++;
  return (out_cell){i == n ? CELL_PLAIN : CELL_TEXT, s, n};
}

/* tbuf needs 32 bytes; it must live as long as the out_cell. */
static out_cell time_cell(int64_t t, char *tbuf) {
  if (t == OUT_NO_TIME) return (out_cell){CELL_EMPTY, NULL, 0};
  return (out_cell){CELL_PLAIN, tbuf, (size_t)io_format_time(t, tbuf)};   /* digits and -:.TZ */
}

void out_put_bytes(void *f, const char *p, size_t n) { out_put(f, p, n); }

/* A JSON string (util_json_string: valid UTF-8 kept, bad bytes as \ufffd). */
void out_put_json_string(out_file *f, const char *s, size_t n) { util_json_string(s, n, out_put_bytes, f); }

static void put_row(out_file *f, out_format fmt, const char *const *columns, const out_cell *cells, int n) {
  if (fmt == OUT_CSV) {
    for (int i = 0; i < n; i++) {
      if (i) out_put_char(f, ',');
      if (cells[i].kind == CELL_TEXT) util_csv_cell(cells[i].p, cells[i].len, out_put_bytes, f);
      else out_put(f, cells[i].p, cells[i].len);
    }
  } else {
    out_put_char(f, '{');
    for (int i = 0; i < n; i++) {
      if (i) out_put_char(f, ',');
      out_put_json_string(f, columns[i], strlen(columns[i]));
      out_put_char(f, ':');
      if (cells[i].kind == CELL_EMPTY) {
        out_put_str(f, "null");
      } else if (cells[i].kind == CELL_TEXT) {
        out_put_json_string(f, cells[i].p, cells[i].len);
      } else if (cells[i].kind == CELL_PLAIN) {
        out_put_char(f, '"');
        out_put(f, cells[i].p, cells[i].len);
        out_put_char(f, '"');
      } else {
        out_put(f, cells[i].p, cells[i].len);
      }
    }
    out_put_char(f, '}');
  }
  out_put_char(f, '\n');
}

static void put_header(out_file *f, out_format fmt, const char *const *columns, int n) {
  if (fmt != OUT_CSV) return;   /* JSON Lines carry the names in every object */
  for (int i = 0; i < n; i++) {
    if (i) out_put_char(f, ',');
    out_put_str(f, columns[i]);
  }
  out_put_char(f, '\n');
}

#define MS_NCOLS 10
static const char *const ms_columns[MS_NCOLS] = {
  "account", "milestone", "status", "started_at", "entered_at", "achieved_at",
  "lost_at", "deadline_at", "on_time", "progress",
};
#define PB_NCOLS 5
static const char *const pb_columns[PB_NCOLS] = {
  "account", "playbook", "step", "step_entered_at", "done_at",
};
#define SIG_NCOLS 4
static const char *const sig_columns[SIG_NCOLS] = {"account", "signal", "source", "time"};
#define ACT_NCOLS 5
static const char *const act_columns[ACT_NCOLS] = {"account", "milestone", "action", "owner", "done_at"};
const char *const out_owner_names[] = {NULL, "csm", "customer"};
#define TR_NCOLS 5
static const char *const tr_columns[TR_NCOLS] = {"account", "milestone", "tracking", "expected_progress", "progress"};

/* ---- opening ---------------------------------------------------------------------------- */

static char *join_path(const char *dir, const char *prefix, const char *name, const char *suffix) {
  size_t dl = strlen(dir);
  const char *sep = (dl > 0 && dir[dl - 1] == '/') ? "" : "/";
  size_t len = dl + strlen(sep) + strlen(prefix) + strlen(name) + strlen(suffix) + 1;
  char *p = util_xalloc(len);
  snprintf(p, len, "%s%s%s%s%s", dir, sep, prefix, name, suffix);
  return p;
}

/* The page is written by report_write_fd, not through a buffer. */
static size_t file_buffer_size(int file) {
  return file == F_SUMMARY ? SUMMARY_BUF_SIZE : file == F_REPORT ? 1 : ROWS_BUF_SIZE;
}

static bool file_open_temp(out_file *f, commit_set *commit, const char *dir, const char *name, size_t cap,
                           char *msg, size_t msglen) {
  f->final_path = join_path(dir, "", name, "");
  f->buf = util_xalloc(cap);
  f->cap = cap;
  f->fd = commit_add(commit, f->final_path, &f->tmp_path, msg, msglen);
  return f->fd >= 0;
}

/* Each milestone's and playbook's counts for summary.json, zero. */
static void stats_new(const bc_program *prog, ms_stats **ms, pb_stats **pb) {
  *ms = util_xalloc((size_t)prog->nmilestones * sizeof **ms);
  for (uint32_t i = 0; i < prog->nmilestones; i++)
    (*ms)[i].actions_done = util_xalloc(((size_t)prog->milestones[i].nactions + 1) * sizeof(int64_t));
  *pb = util_xalloc((size_t)prog->nplaybooks * sizeof **pb);
  for (uint32_t i = 0; i < prog->nplaybooks; i++)
    (*pb)[i].step_count = util_xalloc(((size_t)prog->playbooks[i].nsteps + 2) * sizeof(int64_t));
}

static void stats_free(const bc_program *prog, ms_stats *ms, pb_stats *pb) {
  for (uint32_t i = 0; ms && i < prog->nmilestones; i++) {
    free(ms[i].durations_us);
    free(ms[i].actions_done);
  }
  for (uint32_t i = 0; pb && i < prog->nplaybooks; i++) free(pb[i].step_count);
  free(ms);
  free(pb);
}

static void writer_free(out_writer *w) {
  for (int i = 0; i < F__COUNT; i++) {
    out_file *f = &w->files[i];
    if (f->fd >= 0 && f->tmp_path) close(f->fd);   /* standard output stays open */
    free(f->final_path);
    free(f->buf);
  }
  stats_free(w->prog, w->ms, w->pb);
  free(w->ms_names);
  if (w->owns_commit) commit_free(w->commit);   /* removes the temporary files not committed */
  free(w);
}

out_writer *out_open(const bc_program *prog, const char *dir, out_format fmt, commit_set *commit,
                     char *msg, size_t msglen) {
  out_writer *w = util_xalloc(sizeof *w);
  w->prog = prog;
  w->fmt = fmt;
  w->commit = commit;
  w->as_of = OUT_NO_TIME;
  for (int i = 0; i < F__COUNT; i++) w->files[i].fd = -1;
  w->ms_names = util_xalloc((size_t)prog->nmilestones * sizeof *w->ms_names + 1);
  for (uint32_t i = 0; i < prog->nmilestones; i++) w->ms_names[i] = name_cell(bc_str(prog, prog->milestones[i].name));
  if (dir && !commit) {
    w->owns_commit = true;
    w->commit = commit_new();
  }

  if (!dir) {
    w->to_stdout = true;
    /* whatever the caller left in stdio's buffer goes out first */
    if (fflush(stdout) != 0) {
      util_set_msg(msg, msglen, "cannot write standard output: %s", strerror(errno));
      writer_free(w);
      return NULL;
    }
    out_file *f = &w->files[F_MILESTONES];
    f->fd = STDOUT_FILENO;
    f->cap = ROWS_BUF_SIZE;
    f->buf = util_xalloc(f->cap);
    put_header(f, fmt, ms_columns, MS_NCOLS);
    w->rows = (out_rows){.w = w, .files = w->files};
    return w;
  }

  bool csv = fmt == OUT_CSV;
  const char *names[F__COUNT] = {
    csv ? "milestones.csv" : "milestones.jsonl", csv ? "playbooks.csv" : "playbooks.jsonl",
    csv ? "signals.csv" : "signals.jsonl", csv ? "actions.csv" : "actions.jsonl",
    csv ? "tracking.csv" : "tracking.jsonl", REPORT_FILE_NAME, "summary.json",
  };
  for (int i = 0; i < F__COUNT; i++)
    if (!file_open_temp(&w->files[i], w->commit, dir, names[i], file_buffer_size(i), msg, msglen)) {
      writer_free(w);
      return NULL;
    }
  put_header(&w->files[F_MILESTONES], fmt, ms_columns, MS_NCOLS);
  put_header(&w->files[F_PLAYBOOKS], fmt, pb_columns, PB_NCOLS);
  put_header(&w->files[F_SIGNALS], fmt, sig_columns, SIG_NCOLS);
  put_header(&w->files[F_ACTIONS], fmt, act_columns, ACT_NCOLS);
  put_header(&w->files[F_TRACKING], fmt, tr_columns, TR_NCOLS);

  stats_new(prog, &w->ms, &w->pb);
  w->rows = (out_rows){.w = w, .files = w->files, .ms = w->ms, .pb = w->pb};
  return w;
}

void out_set_as_of(out_writer *w, int64_t as_of) { w->as_of = as_of; }

void out_set_report_by(out_writer *w, report_by *by) { w->by = by; }

void out_set_run(out_writer *w, const out_run_info *run) {
  w->has_run = true;
  w->run = *run;
}

/* ---- rows ----------------------------------------------------------------------------------- */

static bool check_rows(const out_writer *w, const out_milestone_row *ms, int nms,
                       const out_playbook_row *pbs, int npbs, const out_signal *sigs, int nsigs,
                       char *msg, size_t msglen) {
  const bc_program *p = w->prog;
  for (int i = 0; i < nms; i++) {
    const out_milestone_row *r = &ms[i];
    if (r->milestone >= p->nmilestones || !status_in_mode(&p->milestones[r->milestone], r->status) ||
        r->on_time < -1 || r->on_time > 1 || r->actions_total < 0 || r->actions_done < 0 ||
        r->actions_done > r->actions_total) {
      util_set_msg(msg, msglen, "internal error: invalid milestone result row %d", i);
      return false;
    }
    if (!w->to_stdout && w->as_of == OUT_NO_TIME && tracking_applies(&p->milestones[r->milestone]) &&
        r->status != OUT_ST_NOT_STARTED && r->status != OUT_ST_COMPLETED) {
      util_set_msg(msg, msglen, "internal error: tracking row %d without the as-of time", i);
      return false;
    }
  }
  for (int i = 0; i < npbs; i++)
    if (pbs[i].playbook >= p->nplaybooks || pbs[i].step < -1 ||
        pbs[i].step > (int64_t)p->playbooks[pbs[i].playbook].nsteps) {
      util_set_msg(msg, msglen, "internal error: invalid playbook result row %d", i);
      return false;
    }
  for (int i = 0; i < nsigs; i++)
    if (sigs[i].signal >= p->strings_len || sigs[i].source >= p->strings_len) {
      util_set_msg(msg, msglen, "internal error: invalid signal %d", i);
      return false;
    }
  return true;
}

static void write_milestone_row(out_rows *rw, const char *id, size_t id_len, const out_milestone_row *r) {
  const out_writer *w = rw->w;
  char tbuf[5][32], progress[32];
  out_cell c[MS_NCOLS];
  c[0] = text_cell(id, id_len);
  c[1] = w->ms_names[r->milestone];
  const char *status = out_status_name(r->status);   /* an identifier */
  c[2] = (out_cell){CELL_PLAIN, status, strlen(status)};
  c[3] = time_cell(r->started_at, tbuf[0]);
  c[4] = time_cell(r->entered_at, tbuf[1]);
  c[5] = time_cell(r->achieved_at, tbuf[2]);
  c[6] = time_cell(r->lost_at, tbuf[3]);
  c[7] = time_cell(r->deadline_at, tbuf[4]);
  c[8] = r->on_time < 0 ? (out_cell){CELL_EMPTY, NULL, 0}
         : r->on_time ? (out_cell){CELL_RAW, "true", 4} : (out_cell){CELL_RAW, "false", 5};
  c[9] = r->actions_total == 0
         ? (out_cell){CELL_EMPTY, NULL, 0}
         : (out_cell){CELL_RAW, progress,
                  (size_t)out_format_ratio(r->actions_done, r->actions_total, 1, 4, true, progress)};
  put_row(&rw->files[F_MILESTONES], w->fmt, ms_columns, c, MS_NCOLS);
}

static void write_playbook_row(out_rows *rw, const char *id, size_t id_len, const out_playbook_row *r) {
  const out_writer *w = rw->w;
  const bc_playbook *pb = &w->prog->playbooks[r->playbook];
  char tbuf[2][32];
  out_cell c[PB_NCOLS];
  c[0] = text_cell(id, id_len);
  c[1] = str_cell(bc_str(w->prog, pb->name));
  if (r->step < 0) c[2] = (out_cell){CELL_EMPTY, NULL, 0};
  else if ((uint32_t)r->step == pb->nsteps) c[2] = str_cell("done");
  else c[2] = str_cell(bc_str(w->prog, pb->steps[r->step].name));
  c[3] = time_cell(r->step_entered_at, tbuf[0]);
  c[4] = time_cell(r->done_at, tbuf[1]);
  put_row(&rw->files[F_PLAYBOOKS], w->fmt, pb_columns, c, PB_NCOLS);
}

/* One row per action of a milestone row, counting the done ones for
 * summary.json. */
static void write_action_rows(out_rows *rw, const char *id, size_t id_len, const out_milestone_row *r) {
  const out_writer *w = rw->w;
  const bc_milestone *m = &w->prog->milestones[r->milestone];
  for (uint32_t i = 0; i < m->nactions; i++) {
    const bc_action *a = &m->actions[i];
    int64_t done_at = r->action_done_at ? r->action_done_at[i] : OUT_NO_TIME;
    char tbuf[32];
    out_cell c[ACT_NCOLS];
    c[0] = text_cell(id, id_len);
    c[1] = str_cell(bc_str(w->prog, m->name));
    c[2] = str_cell(bc_str(w->prog, a->name));
    c[3] = a->owner ? str_cell(out_owner_names[a->owner]) : (out_cell){CELL_EMPTY, NULL, 0};
    c[4] = time_cell(done_at, tbuf);
    put_row(&rw->files[F_ACTIONS], w->fmt, act_columns, c, ACT_NCOLS);
    if (done_at != OUT_NO_TIME) rw->ms[r->milestone].actions_done[i]++;
  }
}

/* The tracking.csv row of a milestone row, when it has one, counted for
 * summary.json. */
static void write_tracking_row(out_rows *rw, const char *id, size_t id_len, const out_milestone_row *r) {
  const out_writer *w = rw->w;
  const bc_milestone *m = &w->prog->milestones[r->milestone];
  tracking_row t;
  if (!tracking_classify(m, r, w->as_of, &t)) return;
  char expected[TRACKING_TEXT_SIZE], progress[TRACKING_TEXT_SIZE];
  out_cell c[TR_NCOLS];
  c[0] = text_cell(id, id_len);
  c[1] = str_cell(bc_str(w->prog, m->name));
  c[2] = str_cell(tracking_state_name(t.state));
  c[3] = (out_cell){CELL_RAW, expected, (size_t)tracking_expected_text(&t, expected)};
  c[4] = t.total ? (out_cell){CELL_RAW, progress, (size_t)tracking_progress_text(&t, progress)}
                 : (out_cell){CELL_EMPTY, NULL, 0};
  put_row(&rw->files[F_TRACKING], w->fmt, tr_columns, c, TR_NCOLS);
  rw->ms[r->milestone].tracking[t.state]++;
}

static void write_signal_row(out_rows *rw, const char *id, size_t id_len, const out_signal *s) {
  const out_writer *w = rw->w;
  char tbuf[32];
  out_cell c[SIG_NCOLS];
  c[0] = text_cell(id, id_len);
  c[1] = str_cell(bc_str(w->prog, s->signal));
  c[2] = str_cell(bc_str(w->prog, s->source));
  c[3] = time_cell(s->time, tbuf);
  put_row(&rw->files[F_SIGNALS], w->fmt, sig_columns, c, SIG_NCOLS);
}

/* Counts a row for summary.json, with its time to complete when it has one;
 * NULL, or what went wrong. */
static const char *add_milestone_stats(out_rows *rw, const out_milestone_row *r) {
  const bc_milestone *m = &rw->w->prog->milestones[r->milestone];
  ms_stats *st = &rw->ms[r->milestone];
  st->applicable++;
  st->status_count[r->status]++;
  bool done = m->continuous ? r->achieved_at != OUT_NO_TIME : r->status == OUT_ST_COMPLETED;
  if (!done || r->started_at == OUT_NO_TIME || r->achieved_at == OUT_NO_TIME) return NULL;
  int64_t d;
  if (__builtin_sub_overflow(r->achieved_at, r->started_at, &d))
    return "internal error: started_at and achieved_at out of range";
  util_xgrow(&st->durations_us, &st->cap, st->ndurations + 1, sizeof *st->durations_us, 64);
  st->durations_us[st->ndurations++] = d;
  return NULL;
}

static bool report_write_error(const out_writer *w, char *msg, size_t msglen) {
  for (int i = 0; i < F__COUNT; i++)
    if (w->files[i].err) {
      util_set_msg(msg, msglen, "cannot write %s: %s", file_label(&w->files[i]), strerror(w->files[i].err));
      return false;
    }
  return true;
}

/* Formats an account's rows into rw's files and counts them. */
static bool rows_account(out_rows *rw, const char *id, size_t id_len, const out_milestone_row *ms, int nms,
                         const out_playbook_row *pbs, int npbs, const out_signal *sigs, int nsigs,
                         char *msg, size_t msglen) {
  const out_writer *w = rw->w;
  if (!check_rows(w, ms, nms, pbs, npbs, sigs, nsigs, msg, msglen)) return false;
  for (int i = 0; i < nms; i++) {
    write_milestone_row(rw, id, id_len, &ms[i]);
    const char *problem = rw->ms ? add_milestone_stats(rw, &ms[i]) : NULL;
    if (problem) {
      util_set_msg(msg, msglen, "%s", problem);
      return false;
    }
  }
  if (w->to_stdout) return true;
  for (int i = 0; i < nms; i++) write_action_rows(rw, id, id_len, &ms[i]);
  for (int i = 0; i < nms; i++) write_tracking_row(rw, id, id_len, &ms[i]);
  for (int i = 0; i < npbs; i++) {
    write_playbook_row(rw, id, id_len, &pbs[i]);
    pb_stats *st = &rw->pb[pbs[i].playbook];
    uint32_t nsteps = w->prog->playbooks[pbs[i].playbook].nsteps;
    st->applicable++;
    st->step_count[pbs[i].step < 0 ? nsteps + 1 : (uint32_t)pbs[i].step]++;
  }
  for (int i = 0; i < nsigs; i++) write_signal_row(rw, id, id_len, &sigs[i]);
  return true;
}

bool out_account(out_writer *w, const char *id, size_t id_len,
                 const out_milestone_row *ms, int nms,
                 const out_playbook_row *pbs, int npbs,
                 const out_signal *sigs, int nsigs, char *msg, size_t msglen) {
  return rows_account(&w->rows, id, id_len, ms, nms, pbs, npbs, sigs, nsigs, msg, msglen) &&
         report_write_error(w, msg, msglen);
}

/* ---- rows formatted by threads ------------------------------------------------------------------ */

/* Adds the counts of `from` to those of `to` (the durations' order does
 * not matter: summary.json sorts them). */
static void stats_add(const bc_program *prog, ms_stats *to, const ms_stats *from, pb_stats *pto,
                      const pb_stats *pfrom) {
  for (uint32_t i = 0; i < prog->nmilestones; i++) {
    ms_stats *t = &to[i];
    const ms_stats *f = &from[i];
    t->applicable += f->applicable;
    for (int k = 0; k < OUT_ST__COUNT; k++) t->status_count[k] += f->status_count[k];
    for (uint32_t k = 0; k < prog->milestones[i].nactions; k++) t->actions_done[k] += f->actions_done[k];
    for (int k = 0; k < TRACKING__COUNT; k++) t->tracking[k] += f->tracking[k];
    util_xgrow(&t->durations_us, &t->cap, t->ndurations + f->ndurations, sizeof *t->durations_us, 64);
    if (f->ndurations) memcpy(t->durations_us + t->ndurations, f->durations_us, f->ndurations * sizeof *f->durations_us);
    t->ndurations += f->ndurations;
  }
  for (uint32_t i = 0; i < prog->nplaybooks; i++) {
    pto[i].applicable += pfrom[i].applicable;
    for (uint32_t k = 0; k < prog->playbooks[i].nsteps + 2; k++) pto[i].step_count[k] += pfrom[i].step_count[k];
  }
}

/* Files of rows start with room for this much, and grow. */
#define MEMORY_ROWS_FIRST ((size_t)1 << 16)

out_rows *out_rows_new(const out_writer *w) {
  out_rows *rw = util_xalloc(sizeof *rw);
  rw->w = w;
  rw->files = rw->mem;
  for (int i = 0; i < F__ROWS; i++) {
    rw->mem[i] = (out_file){.fd = -1, .grows = true, .cap = MEMORY_ROWS_FIRST};
    rw->mem[i].buf = util_xalloc(MEMORY_ROWS_FIRST);
  }
  if (w->ms) stats_new(w->prog, &rw->ms, &rw->pb);
  return rw;
}

bool out_rows_account(out_rows *rw, const char *id, size_t id_len, const out_milestone_row *ms, int nms,
                      const out_playbook_row *pbs, int npbs, const out_signal *sigs, int nsigs,
                      out_rows_lens *lens, char *msg, size_t msglen) {
  size_t before[F__ROWS];
  for (int i = 0; i < F__ROWS; i++) before[i] = rw->mem[i].len;
  if (!rows_account(rw, id, id_len, ms, nms, pbs, npbs, sigs, nsigs, msg, msglen)) return false;
  for (int i = 0; i < F__ROWS; i++) lens->len[i] = rw->mem[i].len - before[i];
  return true;
}

bool out_write_rows(out_writer *w, out_rows *rw, const out_rows_lens *lens, char *msg, size_t msglen) {
  for (int i = 0; i < F__ROWS; i++) {
    out_put(&w->files[i], rw->mem[i].buf + rw->taken[i], lens->len[i]);
    rw->taken[i] += lens->len[i];
  }
  return report_write_error(w, msg, msglen);
}

void out_rows_rewind(out_rows *rw) {
  for (int i = 0; i < F__ROWS; i++) rw->mem[i].len = rw->taken[i] = 0;
}

void out_rows_free(out_writer *w, out_rows *rw) {
  if (!rw) return;
  if (rw->ms) stats_add(w->prog, w->ms, rw->ms, w->pb, rw->pb);
  stats_free(w->prog, rw->ms, rw->pb);
  for (int i = 0; i < F__ROWS; i++) free(rw->mem[i].buf);
  free(rw);
}

/* ---- finishing --------------------------------------------------------------------------------- */

/* Flushes a temporary file and starts writing it out (sync false), then
 * syncs and closes it (sync true): report.html is built in between, while
 * the disk writes (an fsync of 11 MB of rows alone took 13 ms). */
static bool file_finish(out_file *f, bool sync, char *msg, size_t msglen) {
  if (!sync) file_flush(f);
#ifdef SYNC_FILE_RANGE_WRITE
  if (!sync && f->err == 0) sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE);   /* a head start */
#endif
  if (sync && f->err == 0 && fsync(f->fd) != 0) f->err = errno;
  if (sync && close(f->fd) != 0 && f->err == 0) f->err = errno;
  if (sync) f->fd = -1;
  if (f->err) util_set_msg(msg, msglen, "cannot write %s: %s", f->final_path, strerror(f->err));
  return f->err == 0;
}

bool out_finish(out_writer *w, int64_t as_of, const out_counts *counts, char *msg, size_t msglen) {
  if (w->to_stdout) {
    file_flush(&w->files[F_MILESTONES]);
    bool ok = report_write_error(w, msg, msglen) && (!w->commit || commit_all(w->commit, msg, msglen));
    writer_free(w);
    return ok;
  }

  out_write_summary(w, as_of, counts);
  bool ok = true;
  for (int i = 0; i < F__COUNT && ok; i++)
    if (i != F_REPORT) ok = file_finish(&w->files[i], false, msg, msglen);
  if (ok) {
    /* the page is read back from the written files: what `msl report` does */
    out_file *r = &w->files[F_REPORT];
    report_inputs in = {w->files[F_SUMMARY].tmp_path, w->files[F_MILESTONES].tmp_path,
                        w->files[F_PLAYBOOKS].tmp_path, w->files[F_SIGNALS].tmp_path, w->fmt == OUT_JSONL,
                        w->files[F_TRACKING].tmp_path};
    ok = report_write_fd(r->fd, r->final_path, &in, msg, msglen);
    r->fd = -1;   /* report_write_fd closed it */
  }
  for (int i = 0; i < F__COUNT && ok; i++)
    if (i != F_REPORT) ok = file_finish(&w->files[i], true, msg, msglen);
  if (ok) ok = commit_all(w->commit, msg, msglen);
  writer_free(w);
  return ok;
}

void out_abort(out_writer *w) {
  if (w) writer_free(w);
}
