/* history_out.c — the writer of history.csv / history.jsonl (prefix
 * history_out_; history_out.h).  Columns account, kind (`milestone` or
 * `playbook`), name, from, to, at; CSV and JSON Lines as the other result
 * files write them (SPEC 7): RFC 4180 quoting where needed, JSON strings
 * through util_json_string, empty cells (the first `from`) null in JSON.
 * Writes go through a large buffer; the first failed write() is kept and
 * reported by the next call. */
#include "io/history_out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "io/commit.h"
#include "io/io.h"

enum { HISTORY_BUF_SIZE = 1 << 20 };

struct history_out {
  const bc_program *prog;
  out_format fmt;
  int fd;                  /* -1 once closed */
  char *path;              /* the final path, for messages */
  char *buf;
  size_t len;
  int err;                 /* errno of the first failed write */
};

static void flush_buf(history_out *h) {
  if (h->err == 0 && h->len > 0 && !util_write_all(h->fd, h->buf, h->len)) h->err = errno;
  h->len = 0;
}

static void put(void *ctx, const char *p, size_t n) {
  history_out *h = ctx;
  if (h->err || n == 0) return;
  if (h->len + n > HISTORY_BUF_SIZE) {
    flush_buf(h);
    if (n > HISTORY_BUF_SIZE) {
      if (h->err == 0 && !util_write_all(h->fd, p, n)) h->err = errno;
      return;
    }
  }
  memcpy(h->buf + h->len, p, n);
  h->len += n;
}

static void put_str(history_out *h, const char *s) { put(h, s, strlen(s)); }

static const char *const columns[] = {"account", "kind", "name", "from", "to", "at"};
enum { NCOLS = sizeof columns / sizeof columns[0] };

/* One row's cells; NULL is an empty cell. */
static void put_row(history_out *h, const char *const *cells, const size_t *lens) {
  for (int i = 0; i < NCOLS; i++) {
    if (h->fmt == OUT_CSV) {
      if (i) put(h, ",", 1);
      if (cells[i]) util_csv_cell(cells[i], lens[i], put, h);
      continue;
    }
    put(h, i ? ",\"" : "{\"", 2);
    put_str(h, columns[i]);
    put(h, "\":", 2);
    if (cells[i]) util_json_string(cells[i], lens[i], put, h);
    else put_str(h, "null");
  }
  put_str(h, h->fmt == OUT_CSV ? "\n" : "}\n");
}

history_out *history_out_open(const bc_program *prog, const char *dir, out_format fmt, commit_set *commit,
                              char *msg, size_t msglen) {
  size_t dl = strlen(dir);
  const char *name = fmt == OUT_CSV ? "history.csv" : "history.jsonl";
  history_out *h = util_xalloc(sizeof *h);
  *h = (history_out){.prog = prog, .fmt = fmt, .fd = -1};
  size_t size = dl + strlen(name) + 2;
  h->path = util_xalloc(size);
  snprintf(h->path, size, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
  h->fd = commit_add(commit, h->path, NULL, msg, msglen);
  if (h->fd < 0) {
    history_out_free(h);
    return NULL;
  }
  h->buf = util_xalloc(HISTORY_BUF_SIZE);
  if (fmt == OUT_CSV)
    for (int i = 0; i < NCOLS; i++) {
      put_str(h, columns[i]);
      put_str(h, i + 1 < NCOLS ? "," : "\n");
    }
  return h;
}

static bool report_error(const history_out *h, char *msg, size_t msglen) {
  if (!h->err) return true;
  util_set_msg(msg, msglen, "cannot write %s: %s", h->path, strerror(h->err));
  return false;
}

/* The name of step `step` of playbook pb: a step's, or `done`. */
static const char *step_name(const bc_program *p, const bc_playbook *pb, int32_t step) {
  return (uint32_t)step == pb->nsteps ? "done" : bc_str(p, pb->steps[step].name);
}

bool history_out_account(history_out *h, const char *id, size_t id_len, const history_out_row *rows, int n,
                         char *msg, size_t msglen) {
  const bc_program *p = h->prog;
  for (int i = 0; i < n; i++) {
    const history_out_row *r = &rows[i];
    const char *cells[NCOLS];
    size_t lens[NCOLS];
    char at[32];
    bool milestone = r->item < p->nmilestones;
    bool known = milestone || r->item - p->nmilestones < p->nplaybooks;
    int32_t most = !known ? -1 : milestone ? OUT_ST__COUNT - 1 : (int32_t)p->playbooks[r->item - p->nmilestones].nsteps;
    /* a bad row is a caller bug: refused, not written */
    if (!known || r->from < -1 || r->from > most || r->to < 0 || r->to > most) {
      util_set_msg(msg, msglen, "internal error: invalid history row %d", i);
      return false;
    }
    cells[0] = id;
    cells[1] = milestone ? "milestone" : "playbook";
    if (milestone) {
      cells[2] = bc_str(p, p->milestones[r->item].name);
      cells[3] = r->from < 0 ? NULL : out_status_name((out_status)r->from);
      cells[4] = out_status_name((out_status)r->to);
    } else {
      const bc_playbook *pb = &p->playbooks[r->item - p->nmilestones];
      cells[2] = bc_str(p, pb->name);
      cells[3] = r->from < 0 ? NULL : step_name(p, pb, r->from);
      cells[4] = step_name(p, pb, r->to);
    }
    lens[0] = id_len;
    for (int k = 1; k < 5; k++) lens[k] = cells[k] ? strlen(cells[k]) : 0;
    lens[5] = (size_t)io_format_time(r->at, at);
    cells[5] = at;
    put_row(h, cells, lens);
  }
  return report_error(h, msg, msglen);
}

bool history_out_close(history_out *h, char *msg, size_t msglen) {
  flush_buf(h);
  if (h->err == 0 && fsync(h->fd) != 0) h->err = errno;
  if (close(h->fd) != 0 && h->err == 0) h->err = errno;
  h->fd = -1;
  bool ok = report_error(h, msg, msglen);
  history_out_free(h);
  return ok;
}

void history_out_free(history_out *h) {
  if (!h) return;
  if (h->fd >= 0) close(h->fd);
  free(h->path);
  free(h->buf);
  free(h);
}
