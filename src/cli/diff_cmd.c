/* diff_cmd.c — `msl diff` (prefix diff_): what a rule change does to real
 * customers.  Both programs run over the same input by `msl run`'s own
 * machinery (run.c, each account's results handed here instead of being
 * written), so each sees the rows, the as-of time and the statuses its
 * `msl run` sees.  The old program's run leaves, per account in id order,
 * its id and a status code per milestone and playbook; the new program's
 * results are compared with them as they come, in the same order,
 * milestones and playbooks matched by name.  Only the accounts that change
 * are kept beyond that (their ids, listed per change). */
#include "cli/diff_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/diff_internal.h"
#include "cli/run.h"
#include "core/arena.h"
#include "core/htable.h"

/* ---- names ---------------------------------------------------------------------------------- */

static uint32_t decl_count(const bc_program *p, bool playbook) {
  return playbook ? p->nplaybooks : p->nmilestones;
}

static const char *decl_name(const bc_program *p, bool playbook, uint32_t i) {
  return bc_str(p, playbook ? p->playbooks[i].name : p->milestones[i].name);
}

const char *diff_item_name(const diff_ctx *c, const diff_item *it) {
  int side = it->index[1] != BC_NONE;
  return decl_name(c->p[side], it->playbook, it->index[side]);
}

const char *diff_code_name(const diff_ctx *c, const diff_item *it, int side, uint32_t code) {
  if (code == DIFF_NOT_APPLICABLE) return "not_applicable";
  if (!it->playbook) return out_status_name((out_status)(code - 1));
  const bc_program *p = c->p[side];
  const bc_playbook *b = &p->playbooks[it->index[side]];
  if (code == 1) return "not_started";
  return code - 2 == b->nsteps ? "done" : bc_str(p, b->steps[code - 2].name);
}

/* The items of one kind: the new program's in its order, then the old
 * one's it lacks, in theirs.  Names are looked up in a table, so that
 * programs with thousands of milestones pair up in linear time. */
static void add_items(diff_ctx *c, bool playbook) {
  const bc_program *old = c->p[0], *new = c->p[1];
  arena a;
  arena_init(&a);
  htable by_name;
  htable_init(&by_name, &a);
  for (uint32_t i = 0; i < decl_count(old, playbook); i++)
    htable_put_str(&by_name, decl_name(old, playbook, i), (void *)(uintptr_t)(i + 1));
  bool *paired = util_xalloc((size_t)decl_count(old, playbook) + 1);
  for (uint32_t j = 0; j < decl_count(new, playbook); j++) {
    uintptr_t found = (uintptr_t)htable_get_str(&by_name, decl_name(new, playbook, j));
    uint32_t i = found ? (uint32_t)(found - 1) : BC_NONE;
    if (found) paired[i] = true;
    c->items[c->nitems++] = (diff_item){.playbook = playbook, .index = {i, j}};
  }
  for (uint32_t i = 0; i < decl_count(old, playbook); i++)
    if (!paired[i]) c->items[c->nitems++] = (diff_item){.playbook = playbook, .index = {i, BC_NONE}};
  free(paired);
  arena_free(&a);
}

static void items_build(diff_ctx *c) {
  size_t most = (size_t)c->p[0]->nmilestones + c->p[1]->nmilestones + c->p[0]->nplaybooks + c->p[1]->nplaybooks;
  c->items = util_xalloc((most + 1) * sizeof *c->items);
  add_items(c, false);
  add_items(c, true);
}

static void items_free(diff_ctx *c) {
  for (size_t i = 0; i < c->nitems; i++) {
    for (size_t k = 0; k < c->items[i].changes.len; k++) free(c->items[i].changes.items[k].listed.items);
    free(c->items[i].changes.items);
  }
  free(c->items);
  free(c->listed_ids.items);
  free(c->listed.items);
}

/* ---- the comparison --------------------------------------------------------------------------- */

/* What the old program's run left, per account in id order: its id, where
 * it ends in ids, and its codes (nmilestones in ms, nplaybooks in pb). */
typedef struct old_run {
  UTIL_VEC(char) ids;
  UTIL_VEC(size_t) id_end;
  UTIL_VEC(uint8_t) ms;
  UTIL_VEC(uint32_t) pb;
} old_run;

/* One account's codes in one run. */
typedef struct account_codes {
  const uint8_t *ms;
  const uint32_t *pb;
} account_codes;

typedef struct diff_runs {
  diff_ctx *c;
  old_run old;
  size_t next_old;         /* the first old account the new run has not met */
  uint8_t *new_ms;         /* the new run's current account */
  uint32_t *new_pb;
  bool account_listed;     /* the current account's id is the last of c->listed */
} diff_runs;

static void codes_of(const bc_program *p, const vm_results *r, uint8_t *ms, uint32_t *pb) {
  memset(ms, DIFF_NOT_APPLICABLE, p->nmilestones);
  memset(pb, DIFF_NOT_APPLICABLE, (size_t)p->nplaybooks * sizeof *pb);
  for (int i = 0; i < r->nmilestones; i++) ms[r->milestones[i].milestone] = (uint8_t)(1 + r->milestones[i].status);
  for (int i = 0; i < r->nplaybooks; i++) pb[r->playbooks[i].playbook] = (uint32_t)(2 + r->playbooks[i].step);
}

/* k NULL: the run did not evaluate the account. */
static uint32_t code_of(const diff_item *it, int side, const account_codes *k) {
  uint32_t i = it->index[side];
  if (!k || i == BC_NONE) return DIFF_NOT_APPLICABLE;
  return it->playbook ? k->pb[i] : k->ms[i];
}

static bool same_status(const diff_ctx *c, const diff_item *it, uint32_t from, uint32_t to) {
  if (!it->playbook || from == DIFF_NOT_APPLICABLE || to == DIFF_NOT_APPLICABLE) return from == to;
  return strcmp(diff_code_name(c, it, 0, from), diff_code_name(c, it, 1, to)) == 0;
}

/* Counts the account under its change, and lists it there for an item of
 * both programs, while the change lists fewer than --limit. */
static void record(diff_runs *r, diff_item *it, uint32_t from, uint32_t to, const char *id, size_t len) {
  diff_ctx *c = r->c;
  diff_change *ch = NULL;
  for (size_t k = 0; k < it->changes.len && !ch; k++)
    if (it->changes.items[k].from == from && it->changes.items[k].to == to) ch = &it->changes.items[k];
  if (!ch) {
    UTIL_VEC_PUSH(it->changes, ((diff_change){.from = from, .to = to}), 4);
    ch = &it->changes.items[it->changes.len - 1];
  }
  ch->count++;
  it->accounts++;
  if (it->index[0] == BC_NONE || it->index[1] == BC_NONE || ch->listed.len >= c->limit) return;
  if (!r->account_listed) {
    util_xgrow(&c->listed_ids.items, &c->listed_ids.cap, c->listed_ids.len + len, 1, 4096);
    memcpy(c->listed_ids.items + c->listed_ids.len, id, len);
    c->listed_ids.len += len;
    UTIL_VEC_PUSH(c->listed, c->listed_ids.len, 256);
    r->account_listed = true;
  }
  UTIL_VEC_PUSH(ch->listed, c->listed.len - 1, 16);
}

static void compare_account(diff_runs *r, const char *id, size_t len, const account_codes *old,
                            const account_codes *new) {
  diff_ctx *c = r->c;
  bool changed = false;
  r->account_listed = false;
  for (size_t i = 0; i < c->nitems; i++) {
    diff_item *it = &c->items[i];
    uint32_t from = code_of(it, 0, old), to = code_of(it, 1, new);
    if (same_status(c, it, from, to)) continue;
    record(r, it, from, to, id, len);
    changed = true;
  }
  c->naccounts++;
  c->changed_accounts += changed;
}

static const char *old_id(const old_run *o, size_t k, size_t *len) {
  size_t at = k ? o->id_end.items[k - 1] : 0;
  *len = o->id_end.items[k] - at;
  return o->ids.items + at;
}

static account_codes old_codes(const diff_runs *r, size_t k) {
  return (account_codes){r->old.ms.items + k * r->c->p[0]->nmilestones,
                         r->old.pb.items + k * r->c->p[0]->nplaybooks};
}

/* The next old account, which the new run did not evaluate. */
static void old_account_alone(diff_runs *r) {
  size_t len;
  const char *id = old_id(&r->old, r->next_old, &len);
  account_codes was = old_codes(r, r->next_old++);
  compare_account(r, id, len, &was, NULL);
}

static int on_old_results(void *ctx, vm_runtime *vm, vm_account *a, int64_t as_of, const vm_results *res) {
  diff_runs *r = ctx;
  const bc_program *p = r->c->p[0];
  old_run *o = &r->old;
  size_t len;
  const char *id = vm_account_id(vm, a, &len);
  util_xgrow(&o->ids.items, &o->ids.cap, o->ids.len + len, 1, 1 << 16);
  memcpy(o->ids.items + o->ids.len, id, len);
  o->ids.len += len;
  UTIL_VEC_PUSH(o->id_end, o->ids.len, 1024);
  util_xgrow(&o->ms.items, &o->ms.cap, o->ms.len + p->nmilestones, sizeof *o->ms.items, 1 << 12);
  util_xgrow(&o->pb.items, &o->pb.cap, o->pb.len + p->nplaybooks, sizeof *o->pb.items, 1 << 10);
  codes_of(p, res, o->ms.items + o->ms.len, o->pb.items + o->pb.len);
  o->ms.len += p->nmilestones;
  o->pb.len += p->nplaybooks;
  r->c->has_as_of = true;
  r->c->as_of = as_of;
  return EXIT_OK;
}

/* Runs come in id order (bytewise), so the two meet like a merge.  On the
 * same input both evaluate the same accounts; one only one of them
 * evaluated would have no applicable milestone in the other. */
static int on_new_results(void *ctx, vm_runtime *vm, vm_account *a, int64_t as_of, const vm_results *res) {
  diff_runs *r = ctx;
  size_t len;
  const char *id = vm_account_id(vm, a, &len);
  codes_of(r->c->p[1], res, r->new_ms, r->new_pb);
  account_codes now = {r->new_ms, r->new_pb};
  int cmp = 1;
  while (r->next_old < r->old.id_end.len) {
    size_t olen;
    const char *oid = old_id(&r->old, r->next_old, &olen);
    cmp = memcmp(oid, id, olen < len ? olen : len);
    if (!cmp) cmp = (olen > len) - (olen < len);
    if (cmp >= 0) break;
    old_account_alone(r);
  }
  if (r->next_old < r->old.id_end.len && cmp == 0) {
    account_codes was = old_codes(r, r->next_old++);
    compare_account(r, id, len, &was, &now);
  } else {
    compare_account(r, id, len, NULL, &now);
  }
  r->c->has_as_of = true;
  r->c->as_of = as_of;
  return EXIT_OK;
}

/* Binds both programs' externs (a refusal comes before any input is read),
 * then runs the old program and the new one, comparing as they go. */
static int run_both(run_options *o, bool allow_ffi, diff_ctx *c) {
  diff_runs r = {.c = c};
  /* never empty, so a program without milestones or playbooks has codes to point at */
  util_xgrow(&r.old.ms.items, &r.old.ms.cap, 1, sizeof *r.old.ms.items, 1 << 12);
  util_xgrow(&r.old.pb.items, &r.old.pb.cap, 1, sizeof *r.old.pb.items, 1 << 10);
  r.new_ms = util_xalloc((size_t)c->p[1]->nmilestones + 1);
  r.new_pb = util_xalloc(((size_t)c->p[1]->nplaybooks + 1) * sizeof *r.new_pb);
  cli_externs ext[2] = {{0}};
  int status = EXIT_OK, failed = 0;
  for (int side = 0; side < 2 && !status; side++)
    if ((status = cli_externs_bind(c->p[side], allow_ffi, &ext[side]))) failed = side;
  o->results_ctx = &r;
  for (int side = 0; side < 2 && !status; side++) {
    o->on_results = side ? on_new_results : on_old_results;
    if ((status = run_program(c->p[side], ext[side].fns, o))) failed = side;
  }
  if (status) fprintf(stderr, "msl: diff: the run of %s failed, so nothing was compared\n", c->path[failed]);
  while (!status && r.next_old < r.old.id_end.len) old_account_alone(&r);
  for (int side = 0; side < 2; side++) cli_externs_free(&ext[side]);
  free(r.old.ids.items);
  free(r.old.id_end.items);
  free(r.old.ms.items);
  free(r.old.pb.items);
  free(r.new_ms);
  free(r.new_pb);
  return status;
}

/* ---- the command ---------------------------------------------------------------------------------- */

typedef struct diff_args {
  run_options run;
  const char *rules[2];
  diff_format format;
  size_t limit;
  bool allow_ffi;
} diff_args;

static const char *const diff_options[] = {
    "--events", "--accounts", "--as-of", "--format", "--input-format", "--limit", "-j", "--jobs", "--allow-ffi",
    NULL};

static bool is_diff_option(const char *a) {
  for (const char *const *k = diff_options; *k; k++)
    if (strcmp(a, *k) == 0) return true;
  return false;
}

/* A whole number from lo to hi, or false. */
static bool parse_count(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long n = strtol(s, &end, 10);
  if (end == s || *end || errno || n < lo || n > hi) return false;
  *out = n;
  return true;
}

/* One option at argv[*i] (with its value); the exit status. */
static int parse_option(int argc, char **argv, int *i, diff_args *x, const char **events) {
  const char *a = argv[*i];
  bool has_value = *i + 1 < argc;
  long n;
  if (strcmp(a, "--events") == 0) {
    while (*i + 1 < argc && (argv[*i + 1][0] != '-' || strcmp(argv[*i + 1], "-") == 0))
      events[x->run.nevents++] = argv[++*i];
    if (!x->run.nevents) return cli_usage_error("%s", "--events needs at least one FILE");
  } else if (strcmp(a, "--accounts") == 0 && has_value) {
    x->run.accounts = argv[++*i];
  } else if (strcmp(a, "--as-of") == 0 && has_value) {
    const char *t = argv[++*i];
    if (!io_parse_time(t, strlen(t), &x->run.as_of)) return cli_usage_error("--as-of: `%s` is not a time", t);
    x->run.has_as_of = true;
  } else if (strcmp(a, "--format") == 0 && has_value) {
    const char *f = argv[++*i];
    if (strcmp(f, "text") == 0) x->format = DIFF_TEXT;
    else if (strcmp(f, "json") == 0) x->format = DIFF_JSON;
    else return cli_usage_error("unknown report format `%s` (text or json)", f);
  } else if (strcmp(a, "--input-format") == 0 && has_value) {
    const char *f = argv[++*i];
    if (strcmp(f, "csv") == 0) x->run.input_format = IO_FORMAT_CSV;
    else if (strcmp(f, "jsonl") == 0) x->run.input_format = IO_FORMAT_JSONL;
    else return cli_usage_error("unknown input format `%s` (csv or jsonl)", f);
  } else if (strcmp(a, "--limit") == 0 && has_value) {
    const char *s = argv[++*i];
    if (!parse_count(s, 0, 1L << 30, &n)) return cli_usage_error("--limit: `%s` is not a number of accounts", s);
    x->limit = (size_t)n;
  } else if ((strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) && has_value) {
    const char *s = argv[++*i];
    if (!parse_count(s, 1, RUN_MAX_JOBS, &n))
      return cli_usage_error("-j: `%s` is not a number of workers (1 to %d)", s, RUN_MAX_JOBS);
    x->run.jobs = (int)n;
  } else if (strcmp(a, "--allow-ffi") == 0) {
    x->allow_ffi = true;
  } else {
    return is_diff_option(a) ? cli_usage_error("%s needs a value", a) : cli_unknown_option("diff", a, diff_options);
  }
  return EXIT_OK;
}

static int parse_args(int argc, char **argv, diff_args *x, const char **events) {
  int status = EXIT_OK, nrules = 0;
  x->limit = SIZE_MAX;
  for (int i = 0; i < argc && !status; i++) {
    if (argv[i][0] == '-' && argv[i][1]) status = parse_option(argc, argv, &i, x, events);
    else if (nrules < 2) x->rules[nrules++] = argv[i];
    else status = cli_usage_error("unexpected argument `%s`", argv[i]);
  }
  if (!status && nrules < 2) status = cli_usage_error("%s", "diff needs two rule files: OLD and NEW");
  if (!status && !x->run.nevents) status = cli_usage_error("%s", "diff needs --events FILE...");
  return status;
}

/* Each program reads the whole input: standard input, a pipe or a device
 * cannot be read a second time.  A file that cannot be read is the run's
 * to report (exit 4). */
static int input_read_twice(const run_options *o) {
  for (int i = 0; i <= o->nevents; i++) {
    const char *path = i < o->nevents ? o->events[i] : o->accounts;
    struct stat sb;
    if (!path) continue;
    if (strcmp(path, "-") == 0)
      return cli_usage_error("%s", "diff reads the input once per program: `-` (standard input) cannot be read "
                                   "twice; give a file");
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
      return cli_usage_error("diff reads the input once per program: %s is not a regular file and cannot be read "
                             "twice",
                             path);
  }
  return EXIT_OK;
}

int diff_main(int argc, char **argv, cli_closed_streams closed) {
  diff_args x = {0};
  const char **events = util_xalloc(((size_t)argc + 1) * sizeof *events);
  int status = parse_args(argc, argv, &x, events);
  x.run.events = events;
  if (!status) status = input_read_twice(&x.run);
  if (!status && (closed & (1u << STDOUT_FILENO))) {
    fputs("msl: standard output is closed: diff writes there\n", stderr);
    status = EXIT_IO;
  }
  diff_ctx c = {.path = {x.rules[0], x.rules[1]}, .limit = x.limit, .has_as_of = x.run.has_as_of,
                .as_of = x.run.as_of, .format = x.format,
                .color = x.format == DIFF_TEXT && cli_use_color(STDOUT_FILENO), .out = stdout};
  bc_program *programs[2] = {NULL, NULL};
  if (!status) {
    /* both are loaded, so that the errors of both are shown at once */
    int old_status = EXIT_OK, new_status = EXIT_OK;
    c.p[0] = programs[0] = cli_load_program(x.rules[0], &old_status);
    c.p[1] = programs[1] = cli_load_program(x.rules[1], &new_status);
    status = old_status ? old_status : new_status;
  }
  if (!status) {
    items_build(&c);
    status = run_both(&x.run, x.allow_ffi, &c);
  }
  if (!status) {
    diff_report(&c);
    if (fflush(c.out) != 0 || ferror(c.out)) {
      perror("msl: standard output");
      status = EXIT_IO;
    } else if (c.changed_accounts) {
      status = DIFF_EXIT_CHANGES;
    }
  }
  items_free(&c);
  bc_program_free(programs[0]);
  bc_program_free(programs[1]);
  free(events);
  return status;
}
