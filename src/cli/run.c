/* run.c — `msl run` (prefix run_): accounts, the event stream, the VM and
 * the writers.
 *
 * Input is read once when every events file is in time order (the fast
 * path: the VM sees one merged, time-ordered stream).  The first record that
 * goes back in time switches to the slow path: the input is read again into
 * io_sorter, which orders it by account and time, spilling to temporary
 * files when it outgrows its memory; the VM then runs over that order.
 * Results never depend on which path ran.
 *
 * The output directory is created and locked, and every output file opened
 * (as a temporary file), before any input is read; --rejects joins the
 * results' commit (commit.h), so results and rejects appear together or
 * not at all. */
#include "cli/run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "io/commit.h"
#include "vm/vm.h"

/* ---- accounts by id ------------------------------------------------------------------- */

/* Open addressing, at most half full.  A slot keeps the id's hash, length
 * and first bytes beside the account, so finding an account costs one
 * cache miss for the slot and none for the account's own id unless the id
 * is long. */
enum { RUN_ID_HEAD = 12 };

typedef struct run_slot {
  uint64_t hash;
  vm_account *account;     /* NULL: empty */
  uint32_t len;
  char head[RUN_ID_HEAD];  /* the id's first bytes */
} run_slot;

typedef struct run_accounts {
  run_slot *slots;
  size_t cap, len;
} run_accounts;

static uint64_t account_hash(value_str id) { return (uint64_t)util_account_hash(id.p, id.len); }

static bool slot_holds(const run_slot *s, value_str id, uint64_t h) {
  if (s->hash != h || s->len != id.len) return false;
  if (id.len <= RUN_ID_HEAD) return memcmp(s->head, id.p, id.len) == 0;
  size_t len;
  const char *p = vm_account_id(s->account, &len);
  return memcmp(p, id.p, len) == 0;
}

/* The slot for id: holding its account, or empty where it would go. */
static run_slot *accounts_find(const run_accounts *t, value_str id, uint64_t h) {
  size_t j = h & (t->cap - 1);
  while (t->slots[j].account && !slot_holds(&t->slots[j], id, h)) j = (j + 1) & (t->cap - 1);
  return &t->slots[j];
}

static void accounts_grow(run_accounts *t) {
  size_t cap = t->cap ? t->cap * 2 : 1024;
  run_slot *slots = util_xalloc(cap * sizeof *slots);
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->slots[i].account) continue;
    size_t j = t->slots[i].hash & (cap - 1);
    while (slots[j].account) j = (j + 1) & (cap - 1);
    slots[j] = t->slots[i];
  }
  free(t->slots);
  t->slots = slots;
  t->cap = cap;
}

static vm_account *accounts_get(const run_accounts *t, value_str id) {
  if (!t->cap) return NULL;
  return accounts_find(t, id, account_hash(id))->account;
}

static void accounts_put(run_accounts *t, vm_account *a) {
  if ((t->len + 1) * 2 > t->cap) accounts_grow(t);
  size_t len;
  const char *p = vm_account_id(a, &len);
  value_str id = {p, (uint32_t)len};
  uint64_t h = account_hash(id);
  run_slot *s = accounts_find(t, id, h);
  *s = (run_slot){.hash = h, .account = a, .len = id.len};
  memcpy(s->head, p, len < RUN_ID_HEAD ? len : RUN_ID_HEAD);
  t->len++;
}

static void accounts_free(run_accounts *t) {
  for (size_t i = 0; i < t->cap; i++) vm_account_free(t->slots[i].account);
  free(t->slots);
  memset(t, 0, sizeof *t);
}

/* ---- the schema the loaders convert cells to ------------------------------------------- */

typedef struct run_schema {
  io_schema schema;
  io_event_schema *events;
  io_field_schema *fields;   /* all fields, events' and the account's */
} run_schema;

static io_field_schema *schema_fields(const bc_program *p, const bc_field *f, uint32_t n, io_field_schema *out) {
  for (uint32_t i = 0; i < n; i++) {
    out[i] = (io_field_schema){.name = bc_str(p, f[i].name), .type = (value_type)f[i].type,
                               .has_default = f[i].has_default};
    if (f[i].has_default) out[i].default_value = p->consts[f[i].default_const].v;
  }
  return out;
}

static void schema_build(const bc_program *p, run_schema *s) {
  size_t nfields = p->naccount_fields;
  for (uint32_t e = 0; e < p->nevents; e++) nfields += p->events[e].nfields;
  s->events = util_xalloc((size_t)p->nevents * sizeof *s->events);
  s->fields = util_xalloc(nfields * sizeof *s->fields);
  io_field_schema *f = s->fields;
  for (uint32_t e = 0; e < p->nevents; e++) {
    s->events[e] = (io_event_schema){.name = bc_str(p, p->events[e].name), .nfields = (int)p->events[e].nfields,
                                     .fields = schema_fields(p, p->events[e].fields, p->events[e].nfields, f)};
    f += p->events[e].nfields;
  }
  s->schema = (io_schema){.nevents = (int)p->nevents, .events = s->events,
                          .naccount_fields = (int)p->naccount_fields,
                          .account_fields = schema_fields(p, p->account_fields, p->naccount_fields, f)};
}

/* ---- the run ------------------------------------------------------------------------------ */

typedef struct run_state {
  const bc_program *p;
  const run_options *o;
  native_fn *const *externs;
  run_schema schema;
  vm_runtime *vm;
  run_accounts accounts;
  bool accounts_fixed;     /* --accounts: exactly its accounts */
  out_counts counts;
  int64_t latest;          /* latest time of any row, for the default as-of */
  bool any_row;
  int lock_fd;             /* the lock on --out, or -1 */
  commit_set *commit;      /* the results' and --rejects' temporary files */
  out_writer *writer;
  FILE *rejects;           /* a temporary file; NULL without --rejects */
  bool rejects_is_stream;  /* --rejects is a device or FIFO: copied there at the end */
  char *rejects_resolved;  /* the file a symbolic link --rejects names, or NULL */
  char msg[1024];
} run_state;

static int rejects_failed(run_state *st, int err) {
  fprintf(stderr, "msl: %s: %s\n", st->o->rejects, strerror(err ? err : EIO));
  return EXIT_IO;
}

/* A bad row: to --rejects (file,line,reason,row) or the end of the run.  A
 * row --rejects cannot take (a full disk) ends the run: the count in
 * summary.json must be what the file holds. */
static int bad_row(run_state *st, const io_error *err) {
  if (!st->rejects) {
    fprintf(stderr, "msl: %s:%lld: %s\n", err->file ? err->file : "-", (long long)err->line, err->reason);
    return EXIT_DATA;
  }
  errno = 0;
  util_csv_cell_file(st->rejects, err->file ? err->file : "-", strlen(err->file ? err->file : "-"));
  fprintf(st->rejects, ",%lld,", (long long)err->line);
  util_csv_cell_file(st->rejects, err->reason, strlen(err->reason));
  fputc(',', st->rejects);
  util_csv_cell_file(st->rejects, err->raw ? err->raw : "", err->raw ? err->raw_len : 0);
  fputc('\n', st->rejects);
  if (ferror(st->rejects)) return rejects_failed(st, errno);
  st->counts.rejected++;
  return EXIT_OK;
}

static int io_failure(const io_error *err) {
  if (err->io_errno)
    fprintf(stderr, "msl: %s: %s\n", err->file ? err->file : "-", strerror(err->io_errno));
  else
    fprintf(stderr, "msl: %s:%lld: %s\n", err->file ? err->file : "-", (long long)err->line, err->reason);
  return err->io_errno ? EXIT_IO : EXIT_DATA;
}

static int load_accounts(run_state *st) {
  const run_options *o = st->o;
  io_error err = {0};
  io_reader *r = io_accounts_open(&st->schema.schema, o->accounts, o->input_format, &err);
  if (!r) return io_failure(&err);
  int status = EXIT_OK;
  for (;;) {
    io_account acct;
    io_status s = io_accounts_next(r, &acct, &err);
    if (s == IO_EOF) break;
    if (s == IO_FAILED) {
      status = io_failure(&err);
      break;
    }
    if (s == IO_BAD_ROW) {
      if ((status = bad_row(st, &err))) break;
      continue;
    }
    /* the reader refuses duplicate ids itself */
    vm_account *a = vm_account_new(st->vm, acct.id, acct.values);
    if (!a) {
      fprintf(stderr, "msl: %s\n", vm_error(st->vm));
      status = EXIT_DATA;
      break;
    }
    accounts_put(&st->accounts, a);
  }
  io_close(r);
  return status;
}

/* The account an event row belongs to; NULL when it is not evaluated. */
static int account_for(run_state *st, value_str id, vm_account **out) {
  *out = accounts_get(&st->accounts, id);
  if (*out || st->accounts_fixed) return EXIT_OK;
  vm_account *a = vm_account_new(st->vm, id, NULL);
  if (!a) {
    fprintf(stderr, "msl: %s\n", vm_error(st->vm));
    return EXIT_DATA;
  }
  accounts_put(&st->accounts, a);
  *out = a;
  return EXIT_OK;
}

/* Counts a valid row; says whether the VM should see it. */
static int take_row(run_state *st, const io_event *ev, vm_account **acct) {
  *acct = NULL;
  st->counts.read++;
  if (!st->any_row || ev->time > st->latest) st->latest = ev->time;
  st->any_row = true;
  int status = account_for(st, ev->account, acct);
  if (status) return status;
  if (!*acct) {
    st->counts.unknown_accounts++;
    return EXIT_OK;
  }
  if (ev->type == IO_EV_UNDECLARED) {
    st->counts.undeclared++;
    *acct = NULL;
  } else if (st->o->has_as_of && ev->time > st->o->as_of) {
    *acct = NULL;      /* after T: ignored */
  }
  return EXIT_OK;
}

/* Pushes a row of the sorted slow path. */
static int push(run_state *st, vm_account *a, const io_event *ev) {
  int r = vm_push(st->vm, a, ev);
  if (r != VM_OK) {
    fprintf(stderr, "msl: %s\n", r == VM_UNSORTED ? "internal error: events out of order" : vm_error(st->vm));
    return EXIT_DATA;
  }
  st->counts.evaluated++;
  return EXIT_OK;
}

/* Finds the first bad row in the order SPEC 7 names (files in the order
 * given), for a run that met one while merging. */
static void report_first_bad_row(run_state *st) {
  for (int i = 0; i < st->o->nevents; i++) {
    io_error err = {0};
    io_reader *r = io_events_open(&st->schema.schema, st->o->events[i], st->o->input_format, &err);
    if (!r) {
      io_failure(&err);
      return;
    }
    for (;;) {
      io_event ev;
      io_status s = io_events_next(r, &ev, &err);
      if (s == IO_OK) continue;
      if (s != IO_EOF) {
        io_failure(&err);
        io_close(r);
        return;
      }
      break;
    }
    io_close(r);
  }
}

/* Reads every event; streams into the VM while the input is in time order,
 * else feeds the sorter.  *unsorted says which happened.  A runtime error
 * while streaming is held until the input is known to be sorted: an
 * earlier row further on can make it one the SPEC never evaluates (the
 * slow path then starts over), so until the end only order is checked. */
static int read_events(run_state *st, io_merge *m, io_sorter *sorter, bool *unsorted) {
  bool held_error = false;
  for (;;) {
    io_event ev;
    io_error err = {0};
    int s = io_merge_next(m, &ev, &err);
    if (held_error) {
      if (s == IO_UNSORTED) {
        *unsorted = true;
        return EXIT_OK;
      }
      if (s == IO_FAILED) return io_failure(&err);
      if (s != IO_EOF) continue;
      fprintf(stderr, "msl: %s\n", vm_error(st->vm));
      return EXIT_DATA;
    }
    if (s == IO_EOF) return EXIT_OK;
    if (s == IO_FAILED) return io_failure(&err);
    if (s == IO_BAD_ROW) {
      if (!st->rejects) {
        if (st->o->nevents > 1) report_first_bad_row(st);
        else bad_row(st, &err);
        return EXIT_DATA;
      }
      int status = bad_row(st, &err);
      if (status) return status;
      continue;
    }
    if (s == IO_UNSORTED && !sorter) {
      *unsorted = true;
      return EXIT_OK;
    }
    vm_account *a;
    int status = take_row(st, &ev, &a);
    if (status) return status;
    if (!a) continue;
    if (sorter) {
      if (!io_sorter_add(sorter, &ev, &err)) return io_failure(&err);
      continue;
    }
    int r = vm_push(st->vm, a, &ev);
    if (r == VM_UNSORTED) {
      *unsorted = true;
      return EXIT_OK;
    }
    if (r != VM_OK) held_error = true;
    else st->counts.evaluated++;
  }
}

static int account_cmp(const void *x, const void *y) {
  size_t lx, ly;
  const char *px = vm_account_id(*(vm_account *const *)x, &lx);
  const char *py = vm_account_id(*(vm_account *const *)y, &ly);
  int c = memcmp(px, py, lx < ly ? lx : ly);
  return c ? c : (lx > ly) - (lx < ly);
}

static int write_results(run_state *st, int64_t as_of) {
  vm_account **list = util_xalloc(st->accounts.len * sizeof *list);
  size_t n = 0;
  for (size_t i = 0; i < st->accounts.cap; i++)
    if (st->accounts.slots[i].account) list[n++] = st->accounts.slots[i].account;
  qsort(list, n, sizeof *list, account_cmp);
  char msg[1024];
  out_writer *w = st->writer;
  st->writer = NULL;       /* out_finish or out_abort releases it */
  int status = EXIT_OK;
  for (size_t i = 0; i < n && !status; i++) {
    vm_results r;
    if (!vm_finish(st->vm, list[i], as_of, &r)) {
      fprintf(stderr, "msl: %s\n", vm_error(st->vm));
      status = EXIT_DATA;
      break;
    }
    size_t len;
    const char *id = vm_account_id(list[i], &len);
    if (!out_account(w, id, len, r.milestones, r.nmilestones, r.playbooks, r.nplaybooks, r.signals, r.nsignals,
                     msg, sizeof msg)) {
      fprintf(stderr, "msl: %s\n", msg);
      status = EXIT_IO;
    }
    vm_account_compact(list[i]);
  }
  free(list);
  st->counts.ignored_control = vm_ignored_control(st->vm);
  if (status) {
    out_abort(w);
  } else if (!out_finish(w, as_of, &st->counts, msg, sizeof msg)) {   /* releases w either way */
    fprintf(stderr, "msl: %s\n", msg);
    status = EXIT_IO;
  }
  return status;
}

static int run_events(run_state *st) {
  const run_options *o = st->o;
  io_error err = {0};
  io_merge *m = io_merge_open(&st->schema.schema, o->events, o->nevents, o->input_format, &err);
  if (!m) return io_failure(&err);
  bool unsorted = false;
  int status = read_events(st, m, NULL, &unsorted);
  if (!status && unsorted) {
    /* the slow path: start over from the first row, ordered by the sorter */
    vm_runtime_free(st->vm);
    accounts_free(&st->accounts);
    st->vm = vm_runtime_new(st->p, st->externs);
    memset(&st->counts, 0, sizeof st->counts);
    st->any_row = false;
    if (st->rejects) {
      rewind(st->rejects);
      if (ftruncate(fileno(st->rejects), 0) != 0 || fputs("file,line,reason,row\n", st->rejects) < 0)
        status = rejects_failed(st, errno);
    }
    if (!status && o->accounts) status = load_accounts(st);
    io_sorter *sorter = NULL;
    if (!status) {
      sorter = io_sorter_new(&st->schema.schema, o->sort_memory ? o->sort_memory : (size_t)512 << 20);
      if (!io_merge_rewind(m, &err)) status = io_failure(&err);
    }
    if (!status) status = read_events(st, m, sorter, &unsorted);
    if (!status && !io_sorter_finish(sorter, &err)) status = io_failure(&err);
    while (!status) {
      io_event ev;
      io_status s = io_sorter_next(sorter, &ev, &err);
      if (s == IO_EOF) break;
      if (s != IO_OK) {
        status = io_failure(&err);
        break;
      }
      vm_account *a = accounts_get(&st->accounts, ev.account);
      if (a) status = push(st, a, &ev);
    }
    io_sorter_free(sorter);
  }
  io_merge_close(m);
  if (!status && !vm_flush(st->vm)) {
    fprintf(stderr, "msl: %s\n", vm_error(st->vm));
    status = EXIT_DATA;
  }
  return status;
}

/* ---- the output directory and --rejects (SPEC 7) ------------------------------------------- */

static char *parent_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return util_xstrndup(".", 1);
  if (slash == path) return util_xstrndup("/", 1);
  return util_xstrndup(path, (size_t)(slash - path));
}

/* --rejects goes to a temporary file: beside it, committed with the
 * results, or, when it is a device or FIFO (which cannot be replaced), an
 * unnamed one copied there at the end.  A symbolic link to a regular file
 * (not the link) is replaced; one that cannot be resolved to a path, such
 * as /dev/stderr for a deleted file, is written through like a device. */
static int rejects_open(run_state *st, char **resolved) {
  const char *path = st->o->rejects;
  struct stat link, sb;
  bool is_link = lstat(path, &link) == 0 && S_ISLNK(link.st_mode);
  bool exists = stat(path, &sb) == 0;
  int fd;
  if (exists && S_ISDIR(sb.st_mode)) {
    fprintf(stderr, "msl: --rejects %s: is a directory\n", path);
    return EXIT_IO;
  }
  if (exists && is_link && S_ISREG(sb.st_mode) && (*resolved = util_xrealpath(path))) path = *resolved;
  if (exists && (!S_ISREG(sb.st_mode) || (is_link && !*resolved))) {
    st->rejects_is_stream = true;
    if (!(st->rejects = tmpfile())) return rejects_failed(st, errno);
  } else {
    char *dir = parent_dir(path);
    bool cleaned = commit_clean_stale(dir, st->msg, sizeof st->msg);
    free(dir);
    if (!cleaned || (fd = commit_add(st->commit, path, NULL, st->msg, sizeof st->msg)) < 0) {
      fprintf(stderr, "msl: --rejects %s: %s\n", path, st->msg);
      return EXIT_IO;
    }
    if (!(st->rejects = fdopen(fd, "w+"))) {
      close(fd);
      return rejects_failed(st, errno);
    }
  }
  if (fputs("file,line,reason,row\n", st->rejects) < 0) return rejects_failed(st, errno);
  return EXIT_OK;
}

/* Copies the finished rejects to the device or FIFO --rejects names. */
static int rejects_copy_to_stream(run_state *st) {
  int in = fileno(st->rejects);
  if (lseek(in, 0, SEEK_SET) != 0) return rejects_failed(st, errno);
  struct stat sb;
  bool regular = stat(st->o->rejects, &sb) == 0 && S_ISREG(sb.st_mode);
  int out = open(st->o->rejects, O_WRONLY | O_CLOEXEC | (regular ? O_TRUNC : 0));
  if (out < 0) return rejects_failed(st, errno);
  char buf[1 << 16];
  int err = 0;
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) err = errno;
      break;
    }
    for (ssize_t off = 0; off < n && !err;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) err = errno;
      else off += w;
    }
    if (err) break;
  }
  if (close(out) != 0 && !err) err = errno;
  return err ? rejects_failed(st, err) : EXIT_OK;
}

/* Completes --rejects before any result is committed: every byte written
 * and synced, or the run fails (exit 4). */
static int rejects_finish(run_state *st) {
  int status = EXIT_OK;
  if (fflush(st->rejects) != 0 || ferror(st->rejects)) status = rejects_failed(st, errno);
  else if (st->rejects_is_stream) status = rejects_copy_to_stream(st);
  else if (fsync(fileno(st->rejects)) != 0) status = rejects_failed(st, errno);
  if (fclose(st->rejects) != 0 && !status) status = rejects_failed(st, errno);
  st->rejects = NULL;
  return status;
}

/* Creates and locks --out, then opens every output file, before any input
 * is read: a second run into the same directory fails here, at once. */
static int open_outputs(run_state *st) {
  const run_options *o = st->o;
  if (o->out_dir && (!commit_make_dirs(o->out_dir, st->msg, sizeof st->msg) ||
                     (st->lock_fd = commit_lock_dir(o->out_dir, st->msg, sizeof st->msg)) < 0)) {
    fprintf(stderr, "msl: --out %s: %s\n", o->out_dir, st->msg);
    return EXIT_IO;
  }
  st->commit = commit_new();
  int status = o->rejects ? rejects_open(st, &st->rejects_resolved) : EXIT_OK;
  if (!status && !(st->writer = out_open(st->p, o->out_dir, o->format, st->commit, st->msg, sizeof st->msg))) {
    fprintf(stderr, "msl: %s\n", st->msg);
    status = EXIT_IO;
  }
  return status;
}

int run_program(const bc_program *p, native_fn *const *externs, const run_options *o) {
  run_state st = {.p = p, .o = o, .externs = externs, .accounts_fixed = o->accounts != NULL, .lock_fd = -1};
  schema_build(p, &st.schema);
  int status = EXIT_OK;
  if (!o->accounts)
    for (uint32_t i = 0; i < p->naccount_fields; i++)
      if (!p->account_fields[i].has_default) {
        fprintf(stderr,
                "msl: account field `%s` has no default, so accounts need values for it: give --accounts FILE\n",
                bc_str(p, p->account_fields[i].name));
        status = EXIT_USAGE;
        break;
      }
  if (!status) status = open_outputs(&st);
  st.vm = vm_runtime_new(p, externs);
  if (!status && o->accounts) status = load_accounts(&st);
  if (!status) status = run_events(&st);
  if (!status && !o->has_as_of && !st.any_row) {
    fputs("msl: the events hold no rows, so there is no default as-of time: give --as-of\n", stderr);
    status = EXIT_USAGE;
  }
  if (!status && st.rejects) status = rejects_finish(&st);
  if (!status) status = write_results(&st, o->has_as_of ? o->as_of : st.latest);
  if (st.rejects) fclose(st.rejects);   /* a failed run: its temporary file goes with the commit set */
  out_abort(st.writer);
  commit_free(st.commit);
  free(st.rejects_resolved);
  if (st.lock_fd >= 0) close(st.lock_fd);   /* releases the lock; the lock file stays */
  accounts_free(&st.accounts);
  vm_runtime_free(st.vm);
  free(st.schema.events);
  free(st.schema.fields);
  return status;
}
