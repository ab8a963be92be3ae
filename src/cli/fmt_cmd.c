/* fmt_cmd.c — `msl fmt`: each file (or standard input) is parsed and
 * formatted whole, then rewritten, named (--check, --list) or shown as a
 * unified diff against its formatted text (--diff).  A file with syntax
 * errors is left alone and its errors reported. */
#include "cli/fmt_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/run.h"
#include "core/textdiff.h"
#include "core/util.h"
#include "front/fmt.h"
#include "front/parse.h"

typedef enum {
  FMT_REWRITE,   /* rewrite each file that changes; standard input goes to standard output */
  FMT_CHECK,     /* name each file that would change (standard input as in FMT_REWRITE) */
  FMT_LIST,      /* name each input that would change */
  FMT_DIFF,      /* print the unified diff of each input that would change */
} fmt_mode;

typedef struct fmt_request {
  fmt_mode mode;
  bool fail;     /* --fail: exit 1 when an input would change, whatever the mode */
} fmt_request;

/* The lines of context around each change in --diff, as diff -u's. */
enum { FMT_DIFF_CONTEXT = 3 };

static const char *const fmt_options[] = {"--check", "--diff", "--list", "--fail", NULL};

static bool is_option(const char *arg) { return arg[0] == '-' && arg[1]; }

/* EXIT_OK, or the exit status of a usage error it printed. */
static int parse_options(int argc, char **argv, fmt_request *r) {
  const char *mode_option = NULL;
  int nfiles = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    fmt_mode mode;
    if (strcmp(a, "--check") == 0) mode = FMT_CHECK;
    else if (strcmp(a, "--diff") == 0) mode = FMT_DIFF;
    else if (strcmp(a, "--list") == 0) mode = FMT_LIST;
    else if (strcmp(a, "--fail") == 0) {
      r->fail = true;
      continue;
    } else if (is_option(a)) {
      return cli_unknown_option("fmt", a, fmt_options);
    } else {
      nfiles++;
      continue;
    }
    if (mode_option && strcmp(mode_option, a) != 0)
      return cli_usage_error("fmt takes one of --check, --diff and --list, not both %s and %s", mode_option, a);
    mode_option = a;
    r->mode = mode;
  }
  if (!nfiles) return cli_usage_error("%s", "fmt needs at least one FILE (or - for standard input)");
  return EXIT_OK;
}

static bool write_formatted(FILE *f, void *out) {
  const fmt_buf *b = out;
  return b->len == 0 || fwrite(b->data, 1, b->len, f) == b->len;
}

/* Replaces path by the formatted text, keeping the file's mode. */
static bool write_file_atomic(const char *path, const fmt_buf *out) {
  struct stat st;
  mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0600;   /* 0600: mkstemp's own */
  return util_replace_file(path, ".fmt-", mode, write_formatted, (void *)out);
}

/* The diff names the file as git does, a/PATH and b/PATH (without a
 * leading ./ or /), so that `patch -p1` run where msl ran applies it. */
static int write_diff(arena *a, const msl_source *src, const fmt_buf *out) {
  const char *path = src->path;
  for (;;) {
    if (path[0] == '/') path++;
    else if (path[0] == '.' && path[1] == '/') path += 2;
    else break;
  }
  textdiff d;
  textdiff_compute(&d, src->text, src->len, out->data, out->len, 0);
  bool ok = textdiff_write_unified(&d, stdout, arena_printf(a, "a/%s", path), arena_printf(a, "b/%s", path),
                                   FMT_DIFF_CONTEXT);
  textdiff_free(&d);
  return ok ? EXIT_OK : EXIT_IO;
}

/* What the mode does with one input and its formatted text. */
static int report(arena *a, const msl_source *src, const fmt_buf *out, fmt_mode mode, bool is_stdin,
                  bool differs) {
  if (mode == FMT_DIFF) return differs ? write_diff(a, src, out) : EXIT_OK;
  if (mode == FMT_LIST || (mode == FMT_CHECK && !is_stdin)) {
    if (differs) printf("%s\n", src->path);
    return EXIT_OK;
  }
  if (is_stdin) return out->len && fwrite(out->data, 1, out->len, stdout) != out->len ? EXIT_IO : EXIT_OK;
  if (differs && !write_file_atomic(src->path, out)) {
    fprintf(stderr, "msl: %s: %s\n", src->path, strerror(errno ? errno : EIO));
    return EXIT_IO;
  }
  return EXIT_OK;
}

/* Formats one input; *differs tells whether its formatted text differs. */
static int format_input(const char *path, const fmt_request *r, cli_closed_streams closed, bool *differs) {
  bool is_stdin = strcmp(path, "-") == 0;
  if (is_stdin && (closed & (1u << STDIN_FILENO))) {
    fputs("msl: -: standard input is closed\n", stderr);
    return EXIT_IO;
  }
  arena a;
  arena_init(&a);
  int err = 0, status = EXIT_OK;
  msl_source *src = is_stdin ? source_load_stdin(&a, "<stdin>", &err) : source_load(&a, path, &err);
  if (!src) {
    fprintf(stderr, "msl: %s: %s\n", path, strerror(err ? err : EIO));
    arena_free(&a);
    return EXIT_IO;
  }
  diag_list d;
  diag_init(&d, &a);
  ast_module *m = parse_module(&a, src, &d);
  fmt_buf out = {0};
  if (d.errors) {
    cli_print_diags(&d, DIAG_FORMAT_TEXT);
    status = EXIT_RULES;
  } else if (!fmt_module(m, &out)) {
    fprintf(stderr, "msl: %s: cannot format (the syntax tree is incomplete)\n", path);
    status = EXIT_IO;
  } else {
    *differs = out.len != src->len || memcmp(out.data, src->text, out.len) != 0;
    status = report(&a, src, &out, r->mode, is_stdin, *differs);
  }
  fmt_buf_free(&out);
  arena_free(&a);
  return status;
}

/* The worse of two exit statuses: an I/O error over rule errors over ok. */
static int worse(int a, int b) { return a > b ? a : b; }

int fmt_cmd_run(int argc, char **argv, cli_closed_streams closed) {
  fmt_request r = {FMT_REWRITE, false};
  int status = parse_options(argc, argv, &r);
  if (status) return status;
  for (int i = 0; i < argc; i++) {
    if (is_option(argv[i])) continue;
    bool differs = false, is_stdin = strcmp(argv[i], "-") == 0;
    status = worse(status, format_input(argv[i], &r, closed, &differs));
    /* --check has always passed standard input through, whatever it held */
    if (differs && (r.fail || r.mode == FMT_DIFF || (r.mode == FMT_CHECK && !is_stdin)))
      status = worse(status, EXIT_RULES);
  }
  if (fflush(stdout) != 0) status = EXIT_IO;
  return status;
}
