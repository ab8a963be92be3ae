/* cli.c — what every `msl` command shares (prefix cli_): see cli.h. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bc/compile.h"
#include "bc/msc.h"
#include "cli/run.h"
#include "core/suggest.h"
#include "core/util.h"

int cli_usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("msl: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n(run `msl help` for usage)\n", stderr);
  va_end(ap);
  return EXIT_USAGE;
}

int cli_unknown_option(const char *cmd, const char *arg, const char *const *known) {
  suggest s = {.word = arg, .max_distance = 2};
  for (const char *const *k = known; *k; k++) suggest_offer(&s, *k);
  if (s.best) return cli_usage_error("unknown option `%s` for %s; did you mean `%s`?", arg, cmd, s.best);
  return cli_usage_error("unknown option `%s` for %s", arg, cmd);
}

bool cli_ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool cli_use_color(int fd) {
  const char *no_color = getenv("NO_COLOR");
  return isatty(fd) && !(no_color && *no_color);
}

/* ---- the stdlib directory: MSL_PATH, beside the executable, installed --------------------- */

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *cli_stdlib_dir(char *buf, size_t len) {
  const char *env = getenv("MSL_PATH");
  if (env && *env) return env;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = '\0';
      int w = snprintf(buf, len, "%s/stdlib", exe);
      if (w > 0 && (size_t)w < len && is_dir(buf)) return buf;
      /* an installed msl in PREFIX/bin, wherever PREFIX went */
      w = snprintf(buf, len, "%s/../share/msl/stdlib", exe);
      if (w > 0 && (size_t)w < len && is_dir(buf)) return buf;
    }
  }
  int w = snprintf(buf, len, "%s/share/msl/stdlib", MSL_PREFIX);
  return w > 0 && (size_t)w < len && is_dir(buf) ? buf : NULL;
}

/* ---- diagnostics and programs ------------------------------------------------------------------ */

void cli_print_diags(diag_list *d, diag_format format) {
  diag_sort(d);
  switch (format) {
    case DIAG_FORMAT_JSON: diag_render_json(stdout, d); break;
    case DIAG_FORMAT_SARIF: diag_render_sarif(stdout, d, MSL_VERSION); break;
    default: diag_render_text(stderr, d, cli_use_color(2)); break;
  }
}

msl_program *cli_load_checked(arena *a, const char *path, bool lints, bool werror, diag_list *d, int *status,
                              int *io_errno) {
  char buf[4096];
  sema_options opts = {.stdlib_dir = cli_stdlib_dir(buf, sizeof buf), .werror = werror, .lints = lints};
  int io_err = 0;
  msl_program *p = sema_load(a, path, &opts, d, &io_err);
  if (!p) {
    *io_errno = io_err ? io_err : EIO;
    fprintf(stderr, "msl: %s: %s\n", path, strerror(*io_errno));
    *status = EXIT_IO;
    return NULL;
  }
  if (d->errors == 0) sema_check(p, &opts, d);
  if (werror) diag_promote_warnings(d);
  *status = d->errors ? EXIT_RULES : EXIT_OK;
  return d->errors ? NULL : p;
}

bc_program *cli_load_program(const char *path, int *status) {
  if (cli_ends_with(path, ".msc")) {
    int io_err = 0;
    char msg[512];
    bc_program *p = msc_load_file(path, &io_err, msg, sizeof msg);
    if (!p) {
      fprintf(stderr, "msl: %s: %s\n", path, io_err ? strerror(io_err) : msg);
      *status = io_err ? EXIT_IO : EXIT_RULES;
    }
    return p;
  }
  arena a;
  arena_init(&a);
  diag_list d;
  diag_init(&d, &a);
  int io_errno = 0;
  msl_program *prog = cli_load_checked(&a, path, false, false, &d, status, &io_errno);
  bc_program *p = NULL;
  if (prog) {
    p = compile_and_verify(prog, &d);   /* the VM trusts only verified code */
    if (!p) *status = EXIT_RULES;
  }
  if (d.first) cli_print_diags(&d, DIAG_FORMAT_TEXT);
  arena_free(&a);
  return p;
}

/* ---- externs ------------------------------------------------------------------------------------- */

/* Every call is admitted by the trust rule first, so that a refusal (exit
 * 2) comes before any library is loaded; a .ms was checked against the
 * stdlib's manifests already, a .msc is checked here. */
static native_fn **bind_externs(const bc_program *p, native_registry *reg, int *status) {
  native_fn **fns = util_xalloc(((size_t)p->nexterns + 1) * sizeof *fns);
  for (int pass = 0; pass < 2 && !*status; pass++) {
    for (uint32_t i = 0; i < p->nexterns && !*status; i++) {
      const bc_extern *x = &p->externs[i];
      if (!x->called) continue;
      value_type params[MSL_EXTERN_MAX_PARAMS];
      for (uint32_t k = 0; k < x->nparams && k < MSL_EXTERN_MAX_PARAMS; k++) params[k] = (value_type)x->params[k];
      const char *lib = bc_str(p, x->lib), *dir = bc_str(p, x->base_dir), *name = bc_str(p, x->name);
      char msg[512];
      if (pass == 0) {
        native_admission a = native_admit(reg, lib, dir, name, params, (int)x->nparams, (value_type)x->ret,
                                          msg, sizeof msg);
        if (a != NATIVE_ADMITTED) *status = EXIT_USAGE;
      } else {
        fns[i] = native_bind(reg, lib, dir, name, params, (int)x->nparams, (value_type)x->ret, msg, sizeof msg);
        if (!fns[i]) *status = EXIT_IO;
      }
      if (*status) fprintf(stderr, "msl: %s\n", msg);
    }
  }
  if (*status) {
    free(fns);
    return NULL;
  }
  return fns;
}

int cli_externs_bind(const bc_program *p, bool allow_ffi, cli_externs *out) {
  char buf[4096], native[4200];
  const char *lib = cli_stdlib_dir(buf, sizeof buf);
  int w = lib ? snprintf(native, sizeof native, "%s/native", lib) : -1;
  out->registry = native_registry_new(w > 0 && (size_t)w < sizeof native ? native : NULL, allow_ffi);
  int status = EXIT_OK;
  out->fns = bind_externs(p, out->registry, &status);
  return status;
}

void cli_externs_free(cli_externs *x) {
  free(x->fns);
  native_registry_free(x->registry);
  *x = (cli_externs){0};
}

/* ---- standard streams ------------------------------------------------------------------------------ */

bool cli_needs_closed_stream(const run_options *o, cli_closed_streams closed, const char *stdout_what) {
  bool reads_stdin = o->accounts && strcmp(o->accounts, "-") == 0;
  for (int i = 0; i < o->nevents; i++) reads_stdin = reads_stdin || strcmp(o->events[i], "-") == 0;
  if (reads_stdin && (closed & (1u << STDIN_FILENO))) {
    fputs("msl: -: standard input is closed\n", stderr);
    return true;
  }
  if (stdout_what && (closed & (1u << STDOUT_FILENO))) {
    fprintf(stderr, "msl: standard output is closed: %s\n", stdout_what);
    return true;
  }
  return false;
}

cli_closed_streams cli_hold_standard_streams(void) {
  cli_closed_streams closed = 0;
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    closed |= 1u << fd;
    /* the lowest free descriptor: fd itself */
    if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd) exit(EXIT_IO);
  }
  return closed;
}
