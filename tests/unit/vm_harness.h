/* vm_harness.h — what test_vm.c and test_vm_rules.c share: a scratch
 * directory per test, rules compiled (and verified) from text, a run over
 * an events.csv, and the rows an output file got.  Tests run from the repo
 * root, so the stdlib is ./stdlib and `import "std/text"` works. */
#ifndef MSL_TEST_VM_HARNESS_H
#define MSL_TEST_VM_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bc/compile.h"
#include "bc/verify.h"
#include "cli/run.h"
#include "front/sema.h"
#include "vm/native.h"

#define VM_STDLIB_DIR "stdlib"

static char workdir[256];

static void vm_setup(void) {
  snprintf(workdir, sizeof workdir, "/tmp/msl-test-vm-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(workdir));
}

static void vm_teardown(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
  ck_assert_int_eq(system(cmd), 0);
}

/* Writes a then b to file name in workdir. */
static void write_text(const char *name, const char *a, const char *b) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", workdir, name);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  ck_assert(fputs(a, f) >= 0 && fputs(b, f) >= 0);
  ck_assert_int_eq(fclose(f), 0);
}

/* The text of file name in workdir without its header row, or NULL when
 * the run did not write it. */
static char *read_rows(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", workdir, name);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  char *nl = strchr(buf, '\n');
  return nl ? nl + 1 : buf;
}

/* Compiles prelude + rules (written to rules.ms); they must check and verify. */
static bc_program *compile_rules(const char *prelude, const char *rules) {
  write_text("rules.ms", prelude, rules);
  char path[512];
  snprintf(path, sizeof path, "%s/rules.ms", workdir);
  arena a;
  arena_init(&a);
  diag_list d;
  diag_init(&d, &a);
  sema_options opts = {.stdlib_dir = VM_STDLIB_DIR};
  int io_err = 0;
  msl_program *p = sema_load(&a, path, &opts, &d, &io_err);
  ck_assert_ptr_nonnull(p);
  if (d.errors != 0 || !sema_check(p, &opts, &d)) {
    diag_render_text(stderr, &d, false);
    ck_abort_msg("rules do not check: %s", rules);
  }
  bc_program *prog = compile_and_verify(p, &d);
  if (!prog) diag_render_text(stderr, &d, false);
  arena_free(&a);
  ck_assert_msg(prog != NULL, "rules do not compile and verify: %s", rules);
  return prog;
}

/* Runs p over events.csv (header + events) at as_of (NULL: the last event's
 * time), its externs bound from the stdlib only, with one worker that
 * observer (NULL: none) watches; returns the exit status, leaving the
 * outputs in workdir.  Frees p. */
static int run_observed(bc_program *p, const char *header, const char *events, const char *as_of,
                        const vm_observer *observer) {
  write_text("events.csv", header, events);
  char ev[512];
  snprintf(ev, sizeof ev, "%s/events.csv", workdir);
  const char *files[] = {ev};
  run_options o = {.events = files, .nevents = 1, .out_dir = workdir, .observer = observer,
                   .jobs = observer ? 1 : 0};
  if (as_of) {
    o.has_as_of = true;
    ck_assert(io_parse_time(as_of, strlen(as_of), &o.as_of));
  }
  native_registry *reg = native_registry_new(VM_STDLIB_DIR "/native", false);
  ck_assert_ptr_nonnull(reg);
  native_fn **fns = calloc(p->nexterns ? p->nexterns : 1, sizeof *fns);
  ck_assert_ptr_nonnull(fns);
  for (uint32_t i = 0; i < p->nexterns; i++) {
    const bc_extern *x = &p->externs[i];
    if (!x->called) continue;
    value_type params[MSL_EXTERN_MAX_PARAMS];
    for (uint32_t k = 0; k < x->nparams && k < MSL_EXTERN_MAX_PARAMS; k++) params[k] = (value_type)x->params[k];
    char msg[512];
    fns[i] = native_bind(reg, bc_str(p, x->lib), bc_str(p, x->base_dir), bc_str(p, x->name), params,
                      (int)x->nparams, (value_type)x->ret, msg, sizeof msg);
    ck_assert_msg(fns[i] != NULL, "%s", msg);
  }
  int status = run_program(p, fns, &o);
  free(fns);
  native_registry_free(reg);
  bc_program_free(p);
  return status;
}

static int run_compiled(bc_program *p, const char *header, const char *events, const char *as_of) {
  return run_observed(p, header, events, as_of, NULL);
}

#endif
