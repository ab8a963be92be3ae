/* main.c — the `msl` command line: check, build, disasm and run here; fmt in fmt_cmd.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/diff_cmd.h"
#include "cli/explain.h"
#include "cli/fmt_cmd.h"
#include "cli/merge_cmd.h"
#include "front/codes.h"
#include "bc/compile.h"
#include "bc/disasm.h"
#include "bc/msc.h"
#include "vm/native.h"
#include "front/parse.h"
#include "cli/report_cmd.h"
#include "cli/run.h"
#include "io/report_by.h"
#include "front/sema.h"
#include "bc/verify.h"
#include "cli/test.h"
#include "core/util.h"

static const char usage_text[] =
    "usage: msl COMMAND [options] FILE...\n"
    "\n"
    "commands:\n"
    "  check [--format text|json|sarif] [-Werror] FILE...   parse, type-check and lint\n"
    "  fmt [--check|--diff|--list] [--fail] FILE...|-       canonical formatting\n"
    "  test FILE... [--run REGEX] [-v]                      run the test blocks\n"
    "      [--format text|json|junit] [--coverage] [--threshold N] [--allow-ffi]\n"
    "  build FILE.ms -o OUT.msc                             compile to bytecode\n"
    "  disasm FILE.ms|FILE.msc                              list the bytecode\n"
    "  run RULES --events F... [--accounts F] [--as-of T] [--out DIR]\n"
    "      [--format csv|jsonl] [--input-format csv|jsonl] [--rejects F] [--allow-ffi]\n"
    "      [-j N] [--memory-limit SIZE] [--report-by FIELD] [--history] [--shard K/N] [--quiet]\n"
    "  explain RULES --events F... --account ID [--milestone M] [--accounts F] [--as-of T]\n"
    "      [--format text|json] [--input-format csv|jsonl] [--allow-ffi]\n"
    "  diff OLD NEW --events F... [--accounts F] [--as-of T] [--format text|json] [--limit N]\n"
    "      [--input-format csv|jsonl] [--allow-ffi] [-j N]  the accounts a rule change moves\n"
    "  report DIR [--format csv|jsonl]                      rebuild DIR/report.html from DIR's results\n"
    "  merge DIR... --out DIR                               combine the results of msl run --shard\n"
    "\n"
    "exit status: 0 ok, 1 rule errors, 2 usage, 3 bad input data or runtime error, 4 I/O error, 5 diff found changes\n"
    "documentation: docs/cli.md\n";

/* ---- check --------------------------------------------------------------------------------------------- */

static const char *const check_options[] = {"--format", "-Werror", NULL};

static int cmd_check(int argc, char **argv) {
  diag_format format = DIAG_FORMAT_TEXT;
  bool werror = false;
  int nfiles = 0;
  char **files = util_xalloc(((size_t)argc + 1) * sizeof *files);
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
      const char *f = argv[++i];
      if (strcmp(f, "text") == 0) format = DIAG_FORMAT_TEXT;
      else if (strcmp(f, "json") == 0) format = DIAG_FORMAT_JSON;
      else if (strcmp(f, "sarif") == 0) format = DIAG_FORMAT_SARIF;
      else {
        free(files);
        return cli_usage_error("unknown diagnostics format `%s` (text, json or sarif)", f);
      }
    } else if (strcmp(argv[i], "-Werror") == 0) {
      werror = true;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      free(files);
      return cli_unknown_option("check", argv[i], check_options);
    } else {
      files[nfiles++] = argv[i];
    }
  }
  if (!nfiles) {
    free(files);
    return cli_usage_error("%s", "check needs at least one FILE");
  }
  arena a;
  arena_init(&a);
  diag_list all;
  diag_init(&all, &a);
  int status = EXIT_OK;
  for (int i = 0; i < nfiles; i++) {
    diag_list d;
    diag_init(&d, &a);
    int st, io_errno = 0;
    cli_load_checked(&a, files[i], true, werror, &d, &st, &io_errno);
    if (st == EXIT_IO) {
      /* cli_load_checked printed the I/O message; the machine formats also
       * report an unreadable file as a diagnostic */
      if (format != DIAG_FORMAT_TEXT)
        diag_error(&d, (msl_loc){.src = source_from_string(&a, files[i], "", 0)}, DIAG_E90,
                   "cannot read file: %s", strerror(io_errno));
      status = EXIT_IO;
    } else if (st == EXIT_RULES && status == EXIT_OK) {
      status = EXIT_RULES;
    }
    diag_move(&all, &d);
  }
  cli_print_diags(&all, format);
  arena_free(&a);
  free(files);
  return status;
}

/* ---- build and disasm ----------------------------------------------------------------------------- */

typedef struct build_output {
  const bc_program *p;
  char msg[512];   /* why msc_write failed; empty: see errno */
} build_output;

static bool write_compiled(FILE *f, void *ctx) {
  build_output *b = ctx;
  return msc_write(b->p, f, b->msg, sizeof b->msg);
}

static const char *const build_options[] = {"-o", NULL};

static int cmd_build(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) out = argv[++i];
    else if (argv[i][0] == '-' && argv[i][1]) return cli_unknown_option("build", argv[i], build_options);
    else if (!in) in = argv[i];
    else return cli_usage_error("build takes one FILE, got also `%s`", argv[i]);
  }
  if (!in || !out) return cli_usage_error("%s", "usage: msl build FILE.ms -o OUT.msc");
  int status = EXIT_OK;
  bc_program *p = cli_load_program(in, &status);
  if (!p) return status;
  build_output b = {p, ""};
  if (!util_replace_file(out, ".tmp-", 0644, write_compiled, &b)) {
    fprintf(stderr, "msl: %s: %s\n", out, b.msg[0] ? b.msg : strerror(errno ? errno : EIO));
    status = EXIT_IO;
  }
  bc_program_free(p);
  return status;
}

static int cmd_disasm(int argc, char **argv) {
  if (argc != 1) return cli_usage_error("%s", "usage: msl disasm FILE.ms|FILE.msc");
  int status = EXIT_OK;
  bc_program *p = cli_load_program(argv[0], &status);
  if (!p) return status;
  disasm_program(p, stdout);
  bc_program_free(p);
  return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
}

/* ---- run ------------------------------------------------------------------------------------------------- */

/* A --rejects file that is also an input would be emptied before it is
 * read: a usage error, found before anything is opened for writing. */
static bool rejects_is_an_input(const run_options *o, const char *rules) {
  struct stat rej, in;
  if (!o->rejects || stat(o->rejects, &rej) != 0) return false;
  const char *inputs[2] = {rules, o->accounts};
  for (int i = 0; i < 2 + o->nevents; i++) {
    const char *path = i < 2 ? inputs[i] : o->events[i - 2];
    if (!path || strcmp(path, "-") == 0 || stat(path, &in) != 0) continue;
    if (in.st_dev == rej.st_dev && in.st_ino == rej.st_ino) {
      fprintf(stderr, "msl: --rejects %s is the input file %s\n(run `msl help` for usage)\n", o->rejects, path);
      return true;
    }
  }
  return false;
}

/* A size: bytes, or a number followed by K, M or G (powers of 1024); at
 * least 1 MiB, so a limit always leaves the sorter room for a run. */
static bool parse_size(const char *s, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(s, &end, 10);
  if (end == s || errno || *s == '-') return false;
  unsigned shift = 0;
  switch (*end) {
    case 'K': case 'k': shift = 10; end++; break;
    case 'M': case 'm': shift = 20; end++; break;
    case 'G': case 'g': shift = 30; end++; break;
    default: break;
  }
  if (*end || n > (SIZE_MAX >> shift)) return false;
  *out = (size_t)(n << shift);
  return true;
}

static const char *const run_options_known[] = {
    "--events", "--accounts", "--as-of", "--out", "--format", "--input-format", "--rejects",
    "--memory-limit", "-j", "--jobs", "--allow-ffi", "--report-by", "--history", "--shard", "--quiet", NULL};

static bool is_run_option(const char *a) {
  for (const char *const *k = run_options_known; *k; k++)
    if (strcmp(a, *k) == 0) return true;
  return false;
}

/* --report-by FIELD: an account field of the program, and only with --out
 * (the counts go to summary.json). */
static int report_by_option(const bc_program *p, const char *field, run_options *o) {
  const char *closest = NULL;
  if (!o->out_dir) return cli_usage_error("%s", "--report-by adds to summary.json, which only --out DIR writes");
  if ((o->report_by_field = report_by_find_field(p, field, &closest)) == BC_NONE)
    return closest ? cli_usage_error("--report-by: no account field `%s`; did you mean `%s`?", field, closest)
                   : cli_usage_error("--report-by: no account field `%s` in the rules", field);
  o->has_report_by = true;
  return EXIT_OK;
}

/* A whole number of digits alone (no sign, no space), 1 or more. */
static bool parse_count(const char *s, size_t len, int64_t *out) {
  int64_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9' || __builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, s[i] - '0', &n))
      return false;
  *out = n;
  return len > 0 && n > 0;
}

/* --shard K/N: 1 <= K <= N. */
static int shard_option(const char *s, run_options *o) {
  const char *slash = strchr(s, '/');
  if (!slash || !parse_count(s, (size_t)(slash - s), &o->shard) ||
      !parse_count(slash + 1, strlen(slash + 1), &o->nshards) || o->shard > o->nshards)
    return cli_usage_error("--shard: `%s` is not a shard K/N (whole numbers, 1 <= K <= N)", s);
  return EXIT_OK;
}

static int cmd_run(int argc, char **argv, cli_closed_streams closed) {
  run_options o = {0};
  const char *rules = NULL, *report_by = NULL;
  bool allow_ffi = false, quiet = false;
  const char **events = util_xalloc(((size_t)argc + 1) * sizeof *events);
  int status = EXIT_OK;
  for (int i = 0; i < argc && !status; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (strcmp(a, "--events") == 0) {
      while (i + 1 < argc && (argv[i + 1][0] != '-' || strcmp(argv[i + 1], "-") == 0)) events[o.nevents++] = argv[++i];
      if (!o.nevents) status = cli_usage_error("%s", "--events needs at least one FILE");
    } else if (strcmp(a, "--accounts") == 0 && has_value) {
      o.accounts = argv[++i];
    } else if (strcmp(a, "--as-of") == 0 && has_value) {
      const char *t = argv[++i];
      if (!io_parse_time(t, strlen(t), &o.as_of)) status = cli_usage_error("--as-of: `%s` is not a time", t);
      o.has_as_of = true;
    } else if (strcmp(a, "--out") == 0 && has_value) {
      o.out_dir = argv[++i];
    } else if (strcmp(a, "--format") == 0 && has_value) {
      const char *f = argv[++i];
      if (strcmp(f, "csv") == 0) o.format = OUT_CSV;
      else if (strcmp(f, "jsonl") == 0) o.format = OUT_JSONL;
      else status = cli_usage_error("unknown output format `%s` (csv or jsonl)", f);
    } else if (strcmp(a, "--input-format") == 0 && has_value) {
      const char *f = argv[++i];
      if (strcmp(f, "csv") == 0) o.input_format = IO_FORMAT_CSV;
      else if (strcmp(f, "jsonl") == 0) o.input_format = IO_FORMAT_JSONL;
      else status = cli_usage_error("unknown input format `%s` (csv or jsonl)", f);
    } else if (strcmp(a, "--rejects") == 0 && has_value) {
      o.rejects = argv[++i];
    } else if (strcmp(a, "--memory-limit") == 0 && has_value) {
      const char *n = argv[++i];
      if (!parse_size(n, &o.sort_memory))
        status = cli_usage_error("--memory-limit: `%s` is not a size (bytes, or a number with K, M or G)", n);
      else if (o.sort_memory < (size_t)1 << 20)
        status = cli_usage_error("--memory-limit: `%s` is less than the least limit, 1M", n);
    } else if ((strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) && has_value) {
      const char *n = argv[++i];
      char *end;
      long jobs = strtol(n, &end, 10);
      if (end == n || *end || jobs < 1 || jobs > RUN_MAX_JOBS)
        status = cli_usage_error("-j: `%s` is not a number of workers (1 to %d)", n, RUN_MAX_JOBS);
      o.jobs = (int)jobs;
    } else if (strcmp(a, "--allow-ffi") == 0) {
      allow_ffi = true;
    } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
      quiet = true;
    } else if (strcmp(a, "--report-by") == 0 && has_value) {
      report_by = argv[++i];
    } else if (strcmp(a, "--history") == 0) {
      o.history = true;
    } else if (strcmp(a, "--shard") == 0 && has_value) {
      status = shard_option(argv[++i], &o);
    } else if (a[0] == '-' && a[1]) {
      status = is_run_option(a) ? cli_usage_error("%s needs a value", a) : cli_unknown_option("run", a, run_options_known);
    } else if (!rules) {
      rules = a;
    } else {
      status = cli_usage_error("unexpected argument `%s`", a);
    }
  }
  if (!status && !rules) status = cli_usage_error("%s", "run needs a RULES file");
  if (!status && !o.nevents) status = cli_usage_error("%s", "run needs --events FILE...");
  if (!status && o.history && !o.out_dir) status = cli_usage_error("%s", "--history needs --out DIR");
  o.events = events;
  o.progress = !quiet && isatty(STDERR_FILENO);
  if (!status && rejects_is_an_input(&o, rules)) status = EXIT_USAGE;
  if (!status && cli_needs_closed_stream(&o, closed, o.out_dir ? NULL : "give --out DIR")) status = EXIT_IO;
  bc_program *p = status ? NULL : cli_load_program(rules, &status);
  if (p && report_by) status = report_by_option(p, report_by, &o);
  if (p && !status) {
    cli_externs x;
    status = cli_externs_bind(p, allow_ffi, &x);
    if (!status) status = run_program(p, x.fns, &o);
    cli_externs_free(&x);
  }
  bc_program_free(p);
  free(events);
  return status;
}

int main(int argc, char **argv) {
  cli_closed_streams closed = cli_hold_standard_streams();
  if (argc < 2) {
    fputs(usage_text, stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "check") == 0) return cmd_check(argc - 2, argv + 2);
  if (strcmp(cmd, "fmt") == 0) return fmt_cmd_run(argc - 2, argv + 2, closed);
  if (strcmp(cmd, "test") == 0) return test_command(argc - 2, argv + 2);
  if (strcmp(cmd, "build") == 0) return cmd_build(argc - 2, argv + 2);
  if (strcmp(cmd, "disasm") == 0) return cmd_disasm(argc - 2, argv + 2);
  if (strcmp(cmd, "run") == 0) return cmd_run(argc - 2, argv + 2, closed);
  if (strcmp(cmd, "explain") == 0) return explain_main(argc - 2, argv + 2, closed);
  if (strcmp(cmd, "report") == 0) return report_cmd_main(argc - 2, argv + 2);
  if (strcmp(cmd, "diff") == 0) return diff_main(argc - 2, argv + 2, closed);
  if (strcmp(cmd, "merge") == 0) return merge_cmd_main(argc - 2, argv + 2);
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    fputs(usage_text, stdout);
    return EXIT_OK;
  }
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    puts("msl " MSL_VERSION);
    return EXIT_OK;
  }
  return cli_usage_error("unknown command `%s`", cmd);
}
