/* explain.c — `msl explain` (prefix explain_): why one account is where it
 * is.  The account is evaluated by `msl run`'s own machinery (run.c with
 * one worker, told to evaluate this account alone and to hand its results
 * here instead of writing them), so it sees exactly the rows, the as-of time
 * and the statuses a run sees.  Then, at the as-of time, each criterion the
 * run evaluates there is evaluated again part by part: a .ms is compiled with
 * a value block for every part of every criterion (compile_explained).
 * explain_render.c writes the result. */
#include "cli/explain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/explain_internal.h"
#include "cli/run.h"
#include "core/suggest.h"
#include "core/util.h"
#include "front/fmt.h"

/* ---- writing, for both formats --------------------------------------------------------------- */

void explain_put(explain_ctx *c, const char *s) { fputs(s, c->out); }

void explain_putf(explain_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(c->out, fmt, ap);
  va_end(ap);
}

void explain_indent(explain_ctx *c, int n) { fprintf(c->out, "%*s", n, ""); }

void explain_paint(explain_ctx *c, const char *sgr, const char *s) {
  if (c->color) explain_putf(c, "\033[%sm%s\033[0m", sgr, s);
  else explain_put(c, s);
}

static void put_bytes(void *out, const char *p, size_t n) { fwrite(p, 1, n, out); }

void explain_put_quoted(explain_ctx *c, const char *s, size_t n) { util_json_string(s, n, put_bytes, c->out); }

void explain_put_str(explain_ctx *c, const char *s) { explain_put_quoted(c, s, strlen(s)); }

void explain_put_time(explain_ctx *c, int64_t t) {
  char buf[40];
  io_format_time(t, buf);
  explain_put(c, buf);
}

void explain_json_time(explain_ctx *c, int64_t t) {
  if (t == OUT_NO_TIME) {
    explain_put(c, "null");
    return;
  }
  fputc('"', c->out);
  explain_put_time(c, t);
  fputc('"', c->out);
}

void explain_json_pool(explain_ctx *c, uint32_t off) {
  if (off == BC_NONE) explain_put(c, "null");
  else explain_put_str(c, bc_str(c->p, off));
}

void explain_json_key(explain_ctx *c, bool *first, const char *key) {
  explain_putf(c, "%s\"%s\":", *first ? "" : ",", key);
  *first = false;
}

/* ---- the parts of criteria ------------------------------------------------------------------- */

char *explain_expr_text(const ast_expr *e) {
  fmt_buf b = {0};
  if (!fmt_expr(e, &b) || !b.data) {
    fmt_buf_free(&b);
    return util_xstrndup("?", 1);
  }
  return b.data;
}

static explain_value value_of(value_type type, value_data v) {
  explain_value out = {.ok = true, .type = type, .v = v};
  if (type == VALUE_STRING) {
    out.str = util_xstrndup(v.s.p ? v.s.p : "", v.s.len);
    out.v.s.p = out.str;
  }
  return out;
}

explain_value explain_eval_block(const explain_ctx *c, uint32_t b) {
  value_data v;
  if (vm_eval_block(c->vm, c->account, b, &v)) return value_of((value_type)c->p->blocks[b].type, v);
  const char *err = vm_error(c->vm);
  return (explain_value){.type = (value_type)c->p->blocks[b].type, .error = util_xstrndup(err, strlen(err))};
}

explain_value explain_eval(const explain_ctx *c, const ast_expr *e) {
  if (e->is_const) {
    const ast_value *k = &e->const_value;
    value_data v = {0};
    switch (k->type) {
      case VALUE_BOOL: v.b = k->u.b; break;
      case VALUE_FLOAT: v.f = k->u.f; break;
      case VALUE_STRING: v.s = (value_str){k->u.str.s, (uint32_t)k->u.str.len}; break;
      default: v.i = k->u.i; break;
    }
    return value_of(k->type, v);
  }
  uint32_t b = compile_part_block(c->parts, e);
  if (b == BC_NO_BLOCK) return (explain_value){.type = e->type, .error = util_xstrndup("not evaluated", 13)};
  return explain_eval_block(c, b);
}

void explain_value_free(explain_value *v) {
  free(v->str);
  free((char *)v->error);
  *v = (explain_value){0};
}

/* ---- the state of criteria ------------------------------------------------------------------- */

static explain_state waiting(const char *reason, char *why, size_t whylen) {
  util_set_msg(why, whylen, "%s", reason);
  return EXPLAIN_WAITING;
}

/* Which criteria the run evaluates at T (state.c, vm_finish): a started
 * milestone's entry until it holds; once entered, each action until it is
 * done and the exit until the milestone completes (continuous: always);
 * `blocked when` unless a once-mode milestone is completed.  What latched
 * is shown with its time. */
explain_state explain_criterion(const explain_ctx *c, const out_milestone_row *r, explain_clause kind,
                                uint32_t action, int64_t *met_at, bool *holds, char *why, size_t whylen) {
  const bc_milestone *d = &c->p->milestones[r->milestone];
  *holds = false;
  util_set_msg(why, whylen, "%s", "");
  if (r->status == OUT_ST_NOT_STARTED) return waiting("the milestone has not started", why, whylen);
  bool entered = d->entry_block == BC_NO_BLOCK || r->entered_at != OUT_NO_TIME;
  bool completed = !d->continuous && r->achieved_at != OUT_NO_TIME;
  uint32_t block = BC_NO_BLOCK;
  *met_at = OUT_NO_TIME;
  switch (kind) {
    case EXPLAIN_ENTRY:
      *met_at = r->entered_at;
      block = d->entry_block;
      break;
    case EXPLAIN_ACTION:
      if (!entered) return waiting("evaluated once the entry holds", why, whylen);
      *met_at = r->action_done_at ? r->action_done_at[action] : OUT_NO_TIME;
      block = d->actions[action].done_block;
      break;
    case EXPLAIN_EXIT:
      if (completed) *met_at = r->achieved_at;
      else if (!entered) return waiting("evaluated once the entry holds", why, whylen);
      block = d->exit_block;
      break;
    case EXPLAIN_BLOCKED:
      if (completed) return waiting("not evaluated for a completed milestone", why, whylen);
      block = d->blocked_block;
      break;
  }
  if (*met_at != OUT_NO_TIME) return EXPLAIN_MET;
  if (block == BC_NO_BLOCK) return waiting("no such clause", why, whylen);
  explain_value v = explain_eval_block(c, block);
  if (v.ok) *holds = v.v.b;
  else util_set_msg(why, whylen, "%s", v.error);
  explain_value_free(&v);
  return EXPLAIN_EVALUATED;
}

/* ---- the run of one account ------------------------------------------------------------------ */

static uint32_t milestone_named(const bc_program *p, const char *name, size_t len) {
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    const char *s = bc_str(p, p->milestones[m].name);
    if (strlen(s) == len && memcmp(s, name, len) == 0) return m;
  }
  return BC_NONE;
}

/* The observer's control events: those that name a milestone, kept for the
 * timeline (blocks, resets, assignments, completions). */
static void on_control(void *ctx, const vm_account *a, const io_event *ev) {
  (void)a;
  explain_ctx *c = ctx;
  if (!ev->milestone.len || ev->playbook.len || ev->type == IO_EV_ADVANCE) return;
  uint32_t m = milestone_named(c->p, ev->milestone.p, ev->milestone.len);
  if (m == BC_NONE) return;
  util_xgrow(&c->controls, &c->controls_cap, c->ncontrols + 1, sizeof *c->controls, 16);
  c->controls[c->ncontrols++] = (explain_control){ev->time, ev->type, m};
}

static int control_cmp(const void *x, const void *y) {
  const explain_control *a = x, *b = y;
  if (a->time != b->time) return a->time < b->time ? -1 : 1;
  if (a->type != b->type) return a->type < b->type ? -1 : 1;
  return (a->milestone > b->milestone) - (a->milestone < b->milestone);
}

/* In time order, each once: a run that starts over (unsorted input) shows
 * the VM some control events twice. */
static void controls_settle(explain_ctx *c) {
  if (!c->ncontrols) return;
  if (c->ncontrols) qsort(c->controls, c->ncontrols, sizeof *c->controls, control_cmp);
  size_t n = 1;
  for (size_t i = 1; i < c->ncontrols; i++)
    if (control_cmp(&c->controls[i], &c->controls[n - 1]) != 0) c->controls[n++] = c->controls[i];
  c->ncontrols = n;
}

static int on_results(void *ctx, vm_runtime *vm, vm_account *a, int64_t as_of, const vm_results *r) {
  explain_ctx *c = ctx;
  controls_settle(c);
  c->vm = vm;
  c->account = a;
  c->as_of = as_of;
  c->results = r;
  c->explained = true;
  explain_render(c);
  return EXIT_OK;
}

/* ---- the command ----------------------------------------------------------------------------- */

typedef struct explain_args {
  run_options run;
  const char *rules, *account, *milestone;
  explain_format format;
  bool allow_ffi;
} explain_args;

static const char *const explain_options[] = {
    "--events", "--accounts", "--as-of", "--account", "--milestone", "--format", "--input-format",
    "--allow-ffi", NULL};

static bool is_explain_option(const char *a) {
  for (const char *const *k = explain_options; *k; k++)
    if (strcmp(a, *k) == 0) return true;
  return false;
}

static int parse_args(int argc, char **argv, explain_args *x, const char **events) {
  int status = EXIT_OK;
  for (int i = 0; i < argc && !status; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (strcmp(a, "--events") == 0) {
      while (i + 1 < argc && (argv[i + 1][0] != '-' || strcmp(argv[i + 1], "-") == 0))
        events[x->run.nevents++] = argv[++i];
      if (!x->run.nevents) status = cli_usage_error("%s", "--events needs at least one FILE");
    } else if (strcmp(a, "--accounts") == 0 && has_value) {
      x->run.accounts = argv[++i];
    } else if (strcmp(a, "--as-of") == 0 && has_value) {
      const char *t = argv[++i];
      if (!io_parse_time(t, strlen(t), &x->run.as_of)) status = cli_usage_error("--as-of: `%s` is not a time", t);
      x->run.has_as_of = true;
    } else if (strcmp(a, "--account") == 0 && has_value) {
      x->account = argv[++i];
    } else if (strcmp(a, "--milestone") == 0 && has_value) {
      x->milestone = argv[++i];
    } else if (strcmp(a, "--format") == 0 && has_value) {
      const char *f = argv[++i];
      if (strcmp(f, "text") == 0) x->format = EXPLAIN_TEXT;
      else if (strcmp(f, "json") == 0) x->format = EXPLAIN_JSON;
      else status = cli_usage_error("unknown explanation format `%s` (text or json)", f);
    } else if (strcmp(a, "--input-format") == 0 && has_value) {
      const char *f = argv[++i];
      if (strcmp(f, "csv") == 0) x->run.input_format = IO_FORMAT_CSV;
      else if (strcmp(f, "jsonl") == 0) x->run.input_format = IO_FORMAT_JSONL;
      else status = cli_usage_error("unknown input format `%s` (csv or jsonl)", f);
    } else if (strcmp(a, "--allow-ffi") == 0) {
      x->allow_ffi = true;
    } else if (a[0] == '-' && a[1]) {
      status = is_explain_option(a) ? cli_usage_error("%s needs a value", a)
                                    : cli_unknown_option("explain", a, explain_options);
    } else if (!x->rules) {
      x->rules = a;
    } else {
      status = cli_usage_error("unexpected argument `%s`", a);
    }
  }
  if (!status && !x->rules) status = cli_usage_error("%s", "explain needs a RULES file");
  if (!status && !x->run.nevents) status = cli_usage_error("%s", "explain needs --events FILE...");
  if (!status && !x->account) status = cli_usage_error("%s", "explain needs --account ID");
  return status;
}

/* The program, and for a .ms its checked tree (in a, for the texts of
 * criteria) and the blocks of the criteria's parts; NULL after printing why. */
static bc_program *load(const char *path, arena *a, msl_program **ast, compile_parts *parts, int *status) {
  *ast = NULL;
  if (cli_ends_with(path, ".msc")) return cli_load_program(path, status);
  diag_list d;
  diag_init(&d, a);
  int io_errno = 0;
  *ast = cli_load_checked(a, path, false, false, &d, status, &io_errno);
  bc_program *p = NULL;
  if (*ast && !(p = compile_explained(*ast, &d, parts))) *status = EXIT_RULES;
  if (d.first) cli_print_diags(&d, DIAG_FORMAT_TEXT);
  return p;
}

/* Why the criteria of p show no parts; NULL when they do. */
static const char *why_no_parts(const bc_program *p, const msl_program *ast, const compile_parts *parts) {
  if (!ast) return "a .msc keeps no rule text: criteria show whether they hold, not their parts "
                   "(explain the .ms for them)";
  for (uint32_t m = 0; m < p->nmilestones && !parts->len; m++) {
    const bc_milestone *d = &p->milestones[m];
    if (d->entry_block != BC_NO_BLOCK || d->exit_block != BC_NO_BLOCK || d->blocked_block != BC_NO_BLOCK ||
        d->nactions)
      return "the parts of the criteria exceed the limits of the bytecode: criteria show whether they hold, "
             "not their parts";
  }
  return NULL;
}

static int unknown_milestone(const bc_program *p, const char *name) {
  suggest s = {.word = name, .max_distance = suggest_default_distance(name)};
  for (uint32_t m = 0; m < p->nmilestones; m++) suggest_offer(&s, bc_str(p, p->milestones[m].name));
  if (s.best) return cli_usage_error("--milestone: no milestone `%s`; did you mean `%s`?", name, s.best);
  return cli_usage_error("--milestone: no milestone `%s` in the rules", name);
}

/* Known only once the input is read, so not a usage error with the
 * pointer to `msl help`; the exit status is a usage error's all the same. */
static int unknown_account(const explain_args *x) {
  char id[256];
  util_escape(id, sizeof id, x->account, strlen(x->account), "", 200);
  if (x->run.accounts)
    fprintf(stderr, "msl: --account %s: no such account in the accounts file %s\n", id, x->run.accounts);
  else
    fprintf(stderr, "msl: --account %s: no row of the events names this account\n", id);
  return EXIT_USAGE;
}

/* Runs the account through run_program and explains it. */
static int explain_account(explain_args *x, const bc_program *p, explain_ctx *c) {
  cli_externs ext;
  int status = cli_externs_bind(p, x->allow_ffi, &ext);
  if (!status) {
    value_str id = {x->account, (uint32_t)strlen(x->account)};
    vm_observer watch = {.ctx = c, .control = on_control};
    x->run.jobs = 1;
    x->run.only = &id;
    x->run.on_results = on_results;
    x->run.results_ctx = c;
    x->run.observer = &watch;
    status = run_program(p, ext.fns, &x->run);
    if (!status && !c->explained) status = unknown_account(x);
  }
  cli_externs_free(&ext);
  if (!status && (fflush(c->out) != 0 || ferror(c->out))) {
    perror("msl: standard output");
    status = EXIT_IO;
  }
  return status;
}

int explain_main(int argc, char **argv, cli_closed_streams closed) {
  explain_args x = {0};
  const char **events = util_xalloc(((size_t)argc + 1) * sizeof *events);
  int status = parse_args(argc, argv, &x, events);
  x.run.events = events;
  if (!status && cli_needs_closed_stream(&x.run, closed, "explain writes there")) status = EXIT_IO;
  arena a;
  arena_init(&a);
  msl_program *ast = NULL;
  compile_parts parts = {0};
  bc_program *p = status ? NULL : load(x.rules, &a, &ast, &parts, &status);
  explain_ctx c = {.p = p, .ast = ast, .parts = &parts, .no_parts = p ? why_no_parts(p, ast, &parts) : NULL,
                   .milestone = BC_NONE, .format = x.format,
                   .color = x.format == EXPLAIN_TEXT && cli_use_color(STDOUT_FILENO), .out = stdout};
  if (p && x.milestone && (c.milestone = milestone_named(p, x.milestone, strlen(x.milestone))) == BC_NONE)
    status = unknown_milestone(p, x.milestone);
  if (p && !status) status = explain_account(&x, p, &c);
  free(c.controls);
  compile_parts_free(&parts);
  bc_program_free(p);
  arena_free(&a);
  free(events);
  return status;
}
