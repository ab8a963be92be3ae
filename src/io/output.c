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
#include "io/output.h"
#include "io/report_by.h"
#include "io/tracking.h"

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

/* The statuses of each mode, in the order of the SPEC 6 table. */
#define MODE_NSTATUSES 6
static const out_status once_statuses[MODE_NSTATUSES] = {
  OUT_ST_NOT_STARTED, OUT_ST_COMPLETED, OUT_ST_BLOCKED, OUT_ST_PENDING, OUT_ST_OVERDUE, OUT_ST_IN_PROGRESS,
};
static const out_status continuous_statuses[MODE_NSTATUSES] = {
  OUT_ST_NOT_STARTED, OUT_ST_ACHIEVING, OUT_ST_BLOCKED, OUT_ST_PENDING, OUT_ST_NOT_ACHIEVING, OUT_ST_NEVER_ACHIEVED,
};

static const out_status *mode_statuses(const bc_milestone *m) {
  return m->continuous ? continuous_statuses : once_statuses;
}

static bool status_in_mode(const bc_milestone *m, out_status s) {
  const out_status *list = mode_statuses(m);
  for (int i = 0; i < MODE_NSTATUSES; i++)
    if (list[i] == s) return true;
  return false;
}

/* ---- buffered output files ------------------------------------------------------ */

#define ROWS_BUF_SIZE ((size_t)1 << 20)
#define SUMMARY_BUF_SIZE ((size_t)1 << 16)

typedef struct out_file {
  int fd;                  /* -1 once closed */
  const char *tmp_path;    /* owned by the commit set; NULL for standard output */
  char *final_path;        /* NULL for standard output */
  char *buf;
  size_t len, cap;
  int err;                 /* errno of the first failed write; then nothing more is written */
} out_file;

/* The files of --out, in the order they are committed, all or none
 * (commit.h): summary.json, the file a pipeline waits for and so the mark
 * of a complete result, last; report.html (built from the others) before it. */
enum { F_MILESTONES, F_PLAYBOOKS, F_SIGNALS, F_ACTIONS, F_TRACKING, F_REPORT, F_SUMMARY, F__COUNT };

/* A cell of a row.  RAW: a number or boolean; PLAIN: a string that no
 * format escapes (a time, a name), written as it is, in quotes in JSON */
typedef struct cell {
  enum { CELL_EMPTY, CELL_TEXT, CELL_PLAIN, CELL_RAW } kind;
  const char *p;
  size_t len;
} cell;

typedef struct ms_stats {
  int64_t applicable;
  int64_t status_count[OUT_ST__COUNT];
  int64_t *durations_us;   /* time to complete of each qualifying row */
  size_t ndurations, cap;
  int64_t *actions_done;   /* per action: accounts where it is done */
  int64_t tracking[TRACKING__COUNT];   /* tracking.csv rows by state */
} ms_stats;

typedef struct pb_stats {
  int64_t applicable;
  int64_t *step_count;     /* per step, then done, then not started */
} pb_stats;

struct out_writer {
  const bc_program *prog;
  out_format fmt;
  bool to_stdout;
  out_file files[F__COUNT];  /* only F_MILESTONES when to_stdout */
  cell *ms_names;            /* each milestone's name cell (name_cell) */
  ms_stats *ms;              /* NULL when to_stdout (no summary) */
  pb_stats *pb;
  commit_set *commit;        /* what out_finish commits; NULL: nothing */
  bool owns_commit;
  int64_t as_of;             /* T for tracking.csv (out_set_as_of); OUT_NO_TIME: not set */
  report_by *by;             /* --report-by counts, the caller's; NULL: none */
  bool has_run;              /* out_set_run was called: summary.json records run */
  out_run_info run;
};

static const char *file_label(const out_file *f) {
  return f->final_path ? f->final_path : "standard output";
}

static void file_flush(out_file *f) {
  if (f->err == 0 && f->len > 0 && !util_write_all(f->fd, f->buf, f->len)) f->err = errno;
  f->len = 0;
}

static void put(out_file *f, const char *p, size_t n) {
  if (n == 0) return;
  /* the usual case first: a failed file's bytes are dropped at its next flush */
  if (f->len + n > f->cap) {
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

static void put_str(out_file *f, const char *s) { put(f, s, strlen(s)); }
static void put_char(out_file *f, char c) {
  if (f->len < f->cap) f->buf[f->len++] = c;   /* every separator: no call for one byte */
  else put(f, &c, 1);
}

static void put_i64(out_file *f, int64_t v) {
  char buf[24];
  int n = snprintf(buf, sizeof buf, "%" PRId64, v);
  put(f, buf, (size_t)n);
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

static cell text_cell(const char *p, size_t len) { return (cell){CELL_TEXT, p, len}; }
static cell str_cell(const char *s) { return (cell){CELL_TEXT, s, strlen(s)}; }

/* A name: plain when it is an identifier, as the compiler makes every one
 * (a .msc file made otherwise gets its cells escaped). */
static cell name_cell(const char *s) {
  size_t n = strlen(s), i = 0;
  while (i < n && (s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))) i++;
  return (cell){i == n ? CELL_PLAIN : CELL_TEXT, s, n};
}

/* tbuf needs 32 bytes; it must live as long as the cell. */
static cell time_cell(int64_t t, char *tbuf) {
  if (t == OUT_NO_TIME) return (cell){CELL_EMPTY, NULL, 0};
  return (cell){CELL_PLAIN, tbuf, (size_t)io_format_time(t, tbuf)};   /* digits and -:.TZ */
}

static void put_bytes(void *f, const char *p, size_t n) { put(f, p, n); }

/* A JSON string (util_json_string: valid UTF-8 kept, bad bytes as \ufffd). */
static void put_json_string(out_file *f, const char *s, size_t n) { util_json_string(s, n, put_bytes, f); }

static void put_row(out_file *f, out_format fmt, const char *const *columns, const cell *cells, int n) {
  if (fmt == OUT_CSV) {
    for (int i = 0; i < n; i++) {
      if (i) put_char(f, ',');
      if (cells[i].kind == CELL_TEXT) util_csv_cell(cells[i].p, cells[i].len, put_bytes, f);
      else put(f, cells[i].p, cells[i].len);
    }
  } else {
    put_char(f, '{');
    for (int i = 0; i < n; i++) {
      if (i) put_char(f, ',');
      put_json_string(f, columns[i], strlen(columns[i]));
      put_char(f, ':');
      if (cells[i].kind == CELL_EMPTY) {
        put_str(f, "null");
      } else if (cells[i].kind == CELL_TEXT) {
        put_json_string(f, cells[i].p, cells[i].len);
      } else if (cells[i].kind == CELL_PLAIN) {
        put_char(f, '"');
        put(f, cells[i].p, cells[i].len);
        put_char(f, '"');
      } else {
        put(f, cells[i].p, cells[i].len);
      }
    }
    put_char(f, '}');
  }
  put_char(f, '\n');
}

static void put_header(out_file *f, out_format fmt, const char *const *columns, int n) {
  if (fmt != OUT_CSV) return;   /* JSON Lines carry the names in every object */
  for (int i = 0; i < n; i++) {
    if (i) put_char(f, ',');
    put_str(f, columns[i]);
  }
  put_char(f, '\n');
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
static const char *const owner_names[] = {NULL, "csm", "customer"};   /* bc_action.owner */
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

static void writer_free(out_writer *w) {
  for (int i = 0; i < F__COUNT; i++) {
    out_file *f = &w->files[i];
    if (f->fd >= 0 && f->tmp_path) close(f->fd);   /* standard output stays open */
    free(f->final_path);
    free(f->buf);
  }
  if (w->ms)
    for (uint32_t i = 0; i < w->prog->nmilestones; i++) {
      free(w->ms[i].durations_us);
      free(w->ms[i].actions_done);
    }
  if (w->pb)
    for (uint32_t i = 0; i < w->prog->nplaybooks; i++) free(w->pb[i].step_count);
  free(w->ms);
  free(w->ms_names);
  free(w->pb);
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

  w->ms = util_xalloc((size_t)prog->nmilestones * sizeof *w->ms);
  for (uint32_t i = 0; i < prog->nmilestones; i++)
    w->ms[i].actions_done = util_xalloc(((size_t)prog->milestones[i].nactions + 1) * sizeof(int64_t));
  w->pb = util_xalloc((size_t)prog->nplaybooks * sizeof *w->pb);
  for (uint32_t i = 0; i < prog->nplaybooks; i++)
    w->pb[i].step_count = util_xalloc(((size_t)prog->playbooks[i].nsteps + 2) * sizeof(int64_t));
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

static void write_milestone_row(out_writer *w, const char *id, size_t id_len, const out_milestone_row *r) {
  char tbuf[5][32], progress[32];
  cell c[MS_NCOLS];
  c[0] = text_cell(id, id_len);
  c[1] = w->ms_names[r->milestone];
  const char *status = out_status_name(r->status);   /* an identifier */
  c[2] = (cell){CELL_PLAIN, status, strlen(status)};
  c[3] = time_cell(r->started_at, tbuf[0]);
  c[4] = time_cell(r->entered_at, tbuf[1]);
  c[5] = time_cell(r->achieved_at, tbuf[2]);
  c[6] = time_cell(r->lost_at, tbuf[3]);
  c[7] = time_cell(r->deadline_at, tbuf[4]);
  c[8] = r->on_time < 0 ? (cell){CELL_EMPTY, NULL, 0}
         : r->on_time ? (cell){CELL_RAW, "true", 4} : (cell){CELL_RAW, "false", 5};
  c[9] = r->actions_total == 0
         ? (cell){CELL_EMPTY, NULL, 0}
         : (cell){CELL_RAW, progress,
                  (size_t)out_format_ratio(r->actions_done, r->actions_total, 1, 4, true, progress)};
  put_row(&w->files[F_MILESTONES], w->fmt, ms_columns, c, MS_NCOLS);
}

static void write_playbook_row(out_writer *w, const char *id, size_t id_len, const out_playbook_row *r) {
  const bc_playbook *pb = &w->prog->playbooks[r->playbook];
  char tbuf[2][32];
  cell c[PB_NCOLS];
  c[0] = text_cell(id, id_len);
  c[1] = str_cell(bc_str(w->prog, pb->name));
  if (r->step < 0) c[2] = (cell){CELL_EMPTY, NULL, 0};
  else if ((uint32_t)r->step == pb->nsteps) c[2] = str_cell("done");
  else c[2] = str_cell(bc_str(w->prog, pb->steps[r->step].name));
  c[3] = time_cell(r->step_entered_at, tbuf[0]);
  c[4] = time_cell(r->done_at, tbuf[1]);
  put_row(&w->files[F_PLAYBOOKS], w->fmt, pb_columns, c, PB_NCOLS);
}

/* One row per action of a milestone row, counting the done ones for
 * summary.json. */
static void write_action_rows(out_writer *w, const char *id, size_t id_len, const out_milestone_row *r) {
  const bc_milestone *m = &w->prog->milestones[r->milestone];
  for (uint32_t i = 0; i < m->nactions; i++) {
    const bc_action *a = &m->actions[i];
    int64_t done_at = r->action_done_at ? r->action_done_at[i] : OUT_NO_TIME;
    char tbuf[32];
    cell c[ACT_NCOLS];
    c[0] = text_cell(id, id_len);
    c[1] = str_cell(bc_str(w->prog, m->name));
    c[2] = str_cell(bc_str(w->prog, a->name));
    c[3] = a->owner ? str_cell(owner_names[a->owner]) : (cell){CELL_EMPTY, NULL, 0};
    c[4] = time_cell(done_at, tbuf);
    put_row(&w->files[F_ACTIONS], w->fmt, act_columns, c, ACT_NCOLS);
    if (done_at != OUT_NO_TIME) w->ms[r->milestone].actions_done[i]++;
  }
}

/* The tracking.csv row of a milestone row, when it has one, counted for
 * summary.json. */
static void write_tracking_row(out_writer *w, const char *id, size_t id_len, const out_milestone_row *r) {
  const bc_milestone *m = &w->prog->milestones[r->milestone];
  tracking_row t;
  if (!tracking_classify(m, r, w->as_of, &t)) return;
  char expected[TRACKING_TEXT_SIZE], progress[TRACKING_TEXT_SIZE];
  cell c[TR_NCOLS];
  c[0] = text_cell(id, id_len);
  c[1] = str_cell(bc_str(w->prog, m->name));
  c[2] = str_cell(tracking_state_name(t.state));
  c[3] = (cell){CELL_RAW, expected, (size_t)tracking_expected_text(&t, expected)};
  c[4] = t.total ? (cell){CELL_RAW, progress, (size_t)tracking_progress_text(&t, progress)}
                 : (cell){CELL_EMPTY, NULL, 0};
  put_row(&w->files[F_TRACKING], w->fmt, tr_columns, c, TR_NCOLS);
  w->ms[r->milestone].tracking[t.state]++;
}

static void write_signal_row(out_writer *w, const char *id, size_t id_len, const out_signal *s) {
  char tbuf[32];
  cell c[SIG_NCOLS];
  c[0] = text_cell(id, id_len);
  c[1] = str_cell(bc_str(w->prog, s->signal));
  c[2] = str_cell(bc_str(w->prog, s->source));
  c[3] = time_cell(s->time, tbuf);
  put_row(&w->files[F_SIGNALS], w->fmt, sig_columns, c, SIG_NCOLS);
}

/* Counts a row for summary.json, with its time to complete when it has one;
 * NULL, or what went wrong. */
static const char *add_milestone_stats(out_writer *w, const out_milestone_row *r) {
  const bc_milestone *m = &w->prog->milestones[r->milestone];
  ms_stats *st = &w->ms[r->milestone];
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

bool out_account(out_writer *w, const char *id, size_t id_len,
                 const out_milestone_row *ms, int nms,
                 const out_playbook_row *pbs, int npbs,
                 const out_signal *sigs, int nsigs, char *msg, size_t msglen) {
  if (!check_rows(w, ms, nms, pbs, npbs, sigs, nsigs, msg, msglen)) return false;
  for (int i = 0; i < nms; i++) {
    write_milestone_row(w, id, id_len, &ms[i]);
    const char *problem = w->ms ? add_milestone_stats(w, &ms[i]) : NULL;
    if (problem) {
      util_set_msg(msg, msglen, "%s", problem);
      return false;
    }
  }
  if (w->to_stdout) return report_write_error(w, msg, msglen);
  for (int i = 0; i < nms; i++) write_action_rows(w, id, id_len, &ms[i]);
  for (int i = 0; i < nms; i++) write_tracking_row(w, id, id_len, &ms[i]);
  for (int i = 0; i < npbs; i++) {
    write_playbook_row(w, id, id_len, &pbs[i]);
    pb_stats *st = &w->pb[pbs[i].playbook];
    uint32_t nsteps = w->prog->playbooks[pbs[i].playbook].nsteps;
    st->applicable++;
    st->step_count[pbs[i].step < 0 ? nsteps + 1 : (uint32_t)pbs[i].step]++;
  }
  for (int i = 0; i < nsigs; i++) write_signal_row(w, id, id_len, &sigs[i]);
  return report_write_error(w, msg, msglen);
}

/* ---- summary.json ------------------------------------------------------------------------------ */

static void put_json_cstr_or_null(out_file *f, const bc_program *p, uint32_t off) {
  if (off == BC_NONE) {
    put_str(f, "null");
    return;
  }
  const char *s = bc_str(p, off);
  put_json_string(f, s, strlen(s));
}

static void put_json_key(out_file *f, const char *indent, const char *key) {
  put_str(f, indent);
  put_json_string(f, key, strlen(key));
  put_str(f, ": ");
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
  put(f, buf, (size_t)out_format_seconds(us, buf));
}

/* "actions": [{"name", "label", "owner", "done"}, ...] of milestone mi. */
static void write_action_summary(out_writer *w, uint32_t mi) {
  out_file *f = &w->files[F_SUMMARY];
  const bc_program *p = w->prog;
  const bc_milestone *m = &p->milestones[mi];
  put_json_key(f, "      ", "actions");
  if (m->nactions == 0) {
    put_str(f, "[]");
    return;
  }
  put_str(f, "[\n");
  for (uint32_t i = 0; i < m->nactions; i++) {
    const bc_action *a = &m->actions[i];
    put_str(f, "        {\n");
    put_json_key(f, "          ", "name");
    put_json_cstr_or_null(f, p, a->name);
    put_str(f, ",\n");
    put_json_key(f, "          ", "label");
    put_json_cstr_or_null(f, p, a->label);
    put_str(f, ",\n");
    put_json_key(f, "          ", "owner");
    if (a->owner) put_json_string(f, owner_names[a->owner], strlen(owner_names[a->owner]));
    else put_str(f, "null");
    put_str(f, ",\n");
    put_json_key(f, "          ", "done");
    put_i64(f, w->ms[mi].actions_done[i]);
    put_str(f, i + 1 < m->nactions ? "\n        },\n" : "\n        }\n");
  }
  put_str(f, "      ]");
}

/* "tracking": {STATE: count} of milestone mi, null when it has no rows. */
static void write_tracking_summary(out_writer *w, uint32_t mi) {
  out_file *f = &w->files[F_SUMMARY];
  put_json_key(f, "      ", "tracking");
  if (!tracking_applies(&w->prog->milestones[mi])) {
    put_str(f, "null");
    return;
  }
  put_str(f, "{\n");
  for (int i = 0; i < TRACKING__COUNT; i++) {
    put_json_key(f, "        ", tracking_state_name((tracking_state)i));
    put_i64(f, w->ms[mi].tracking[i]);
    put_str(f, i + 1 < TRACKING__COUNT ? ",\n" : "\n");
  }
  put_str(f, "      }");
}

static void write_milestone_summary(out_writer *w, uint32_t mi) {
  out_file *f = &w->files[F_SUMMARY];
  const bc_program *p = w->prog;
  const bc_milestone *m = &p->milestones[mi];
  ms_stats *st = &w->ms[mi];
  const out_status *statuses = mode_statuses(m);

  put_str(f, "    {\n");
  put_json_key(f, "      ", "name");
  put_json_cstr_or_null(f, p, m->name);
  put_str(f, ",\n");
  put_json_key(f, "      ", "display");
  put_json_cstr_or_null(f, p, m->display);
  put_str(f, ",\n");
  put_json_key(f, "      ", "group");
  put_json_cstr_or_null(f, p, m->group);
  put_str(f, ",\n");
  put_json_key(f, "      ", "applicable");
  put_i64(f, st->applicable);
  put_str(f, ",\n");

  put_json_key(f, "      ", "status");
  put_str(f, "{\n");
  for (int i = 0; i < MODE_NSTATUSES; i++) {
    put_json_key(f, "        ", out_status_name(statuses[i]));
    put_i64(f, st->status_count[statuses[i]]);
    put_str(f, i + 1 < MODE_NSTATUSES ? ",\n" : "\n");
  }
  put_str(f, "      },\n");

  put_json_key(f, "      ", "percent");
  put_str(f, "{\n");
  for (int i = 0; i < MODE_NSTATUSES; i++) {
    put_json_key(f, "        ", out_status_name(statuses[i]));
    if (st->applicable == 0) {
      put_str(f, "null");
    } else {
      char buf[32];
      put(f, buf, (size_t)out_format_ratio(st->status_count[statuses[i]], st->applicable, 100, 2, false, buf));
    }
    put_str(f, i + 1 < MODE_NSTATUSES ? ",\n" : "\n");
  }
  put_str(f, "      },\n");

  if (st->ndurations) qsort(st->durations_us, st->ndurations, sizeof *st->durations_us, compare_i64);
  put_json_key(f, "      ", "time_to_complete");
  put_str(f, "{\n");
  put_json_key(f, "        ", "count");
  put_i64(f, (int64_t)st->ndurations);
  put_str(f, ",\n");
  put_json_key(f, "        ", "median_s");
  if (st->ndurations) put_seconds(f, out_nearest_rank(st->durations_us, st->ndurations, 50));
  else put_str(f, "null");
  put_str(f, ",\n");
  put_json_key(f, "        ", "p90_s");
  if (st->ndurations) put_seconds(f, out_nearest_rank(st->durations_us, st->ndurations, 90));
  else put_str(f, "null");
  put_str(f, "\n      },\n");

  put_json_key(f, "      ", "estimate_s");
  if (m->estimate_us >= 0) put_seconds(f, m->estimate_us);
  else put_str(f, "null");
  put_str(f, ",\n");

  const struct { const char *key; uint32_t text; } texts[] = {
    {"description", m->description}, {"csm", m->csm}, {"customer", m->customer},
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    put_json_key(f, "      ", texts[i].key);
    put_json_cstr_or_null(f, p, texts[i].text);
    put_str(f, ",\n");
  }
  write_action_summary(w, mi);
  put_str(f, ",\n");
  write_tracking_summary(w, mi);
  if (w->by) {
    put_str(f, ",\n");
    report_by_write(w->by, mi, statuses, MODE_NSTATUSES, put_bytes, f);
  }
  put_str(f, "\n    }");
}

static void write_playbook_summary(out_writer *w, uint32_t pi) {
  out_file *f = &w->files[F_SUMMARY];
  const bc_program *p = w->prog;
  const bc_playbook *pb = &p->playbooks[pi];
  const pb_stats *st = &w->pb[pi];

  put_str(f, "    {\n");
  put_json_key(f, "      ", "name");
  put_json_cstr_or_null(f, p, pb->name);
  put_str(f, ",\n");
  put_json_key(f, "      ", "display");
  put_json_cstr_or_null(f, p, pb->display);
  put_str(f, ",\n");
  put_json_key(f, "      ", "applicable");
  put_i64(f, st->applicable);
  put_str(f, ",\n");
  put_json_key(f, "      ", "steps");
  put_str(f, "{\n");
  for (uint32_t i = 0; i < pb->nsteps + 2; i++) {
    const char *key = i < pb->nsteps ? bc_str(p, pb->steps[i].name) : i == pb->nsteps ? "done" : "not_started";
    put_json_key(f, "        ", key);
    put_i64(f, st->step_count[i]);
    put_str(f, i + 1 < pb->nsteps + 2 ? ",\n" : "\n");
  }
  put_str(f, "      }\n    }");
}

/* "shard", "format", "history" and "program_sha256" (out_set_run). */
static void write_run_summary(out_writer *w) {
  out_file *f = &w->files[F_SUMMARY];
  put_json_key(f, "  ", "shard");
  if (w->run.nshards) {
    put_str(f, "{\n");
    put_json_key(f, "    ", "index");
    put_i64(f, w->run.shard);
    put_str(f, ",\n");
    put_json_key(f, "    ", "count");
    put_i64(f, w->run.nshards);
    put_str(f, "\n  },\n");
  } else {
    put_str(f, "null,\n");
  }
  put_json_key(f, "  ", "format");
  put_str(f, w->fmt == OUT_CSV ? "\"csv\",\n" : "\"jsonl\",\n");
  put_json_key(f, "  ", "history");
  put_str(f, w->run.history ? "true,\n" : "false,\n");
  put_json_key(f, "  ", "program_sha256");
  put_json_string(f, w->run.program_sha256, strlen(w->run.program_sha256));
  put_str(f, ",\n");
}

static void write_summary(out_writer *w, int64_t as_of, const out_counts *counts) {
  out_file *f = &w->files[F_SUMMARY];
  const bc_program *p = w->prog;
  char tbuf[32];

  put_str(f, "{\n");
  put_json_key(f, "  ", "as_of");
  if (as_of == OUT_NO_TIME) put_str(f, "null");
  else put_json_string(f, tbuf, (size_t)io_format_time(as_of, tbuf));
  put_str(f, ",\n");
  if (w->has_run) write_run_summary(w);

  put_json_key(f, "  ", "rows");
  put_str(f, "{\n");
  const struct { const char *key; int64_t v; } rows[] = {
    {"read", counts->read}, {"evaluated", counts->evaluated}, {"undeclared", counts->undeclared},
    {"rejected", counts->rejected}, {"unknown_accounts", counts->unknown_accounts},
    {"ignored_control", counts->ignored_control},
  };
  size_t nrows = sizeof rows / sizeof rows[0];
  for (size_t i = 0; i < nrows; i++) {
    put_json_key(f, "    ", rows[i].key);
    put_i64(f, rows[i].v);
    put_str(f, i + 1 < nrows ? ",\n" : "\n");
  }
  put_str(f, "  },\n");

  put_json_key(f, "  ", "milestones");
  if (p->nmilestones == 0) {
    put_str(f, "[],\n");
  } else {
    put_str(f, "[\n");
    for (uint32_t i = 0; i < p->nmilestones; i++) {
      write_milestone_summary(w, i);
      put_str(f, i + 1 < p->nmilestones ? ",\n" : "\n");
    }
    put_str(f, "  ],\n");
  }

  put_json_key(f, "  ", "playbooks");
  if (p->nplaybooks == 0) {
    put_str(f, "[]\n");
  } else {
    put_str(f, "[\n");
    for (uint32_t i = 0; i < p->nplaybooks; i++) {
      write_playbook_summary(w, i);
      put_str(f, i + 1 < p->nplaybooks ? ",\n" : "\n");
    }
    put_str(f, "  ]\n");
  }
  put_str(f, "}\n");
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

  write_summary(w, as_of, counts);
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
