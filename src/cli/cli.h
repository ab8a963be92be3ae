/* cli.h — what every `msl` command shares (cli.c): usage errors with "did
 * you mean", the stdlib directory, diagnostics on the terminal or in a
 * machine format, loading a rule file or a .msc, binding its externs, and
 * the standard streams msl started without. */
#ifndef MSL_CLI_H
#define MSL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "bc/bc.h"
#include "core/arena.h"
#include "front/diag.h"
#include "front/sema.h"
#include "vm/native.h"

#define MSL_VERSION "0.1.0"

/* Exit statuses of SPEC 7 (EXIT_OK ... EXIT_IO) are in cli/run.h. */

/* "msl: MESSAGE" and the pointer to `msl help` on stderr; EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An unknown option of command cmd: a usage error that names the closest
 * of the known options (a NULL-terminated list), if one is close. */
int cli_unknown_option(const char *cmd, const char *arg, const char *const *known);

bool cli_ends_with(const char *s, const char *suffix);
/* Colour on fd only when it is a terminal and NO_COLOR is not set. */
bool cli_use_color(int fd);

/* MSL_PATH, else stdlib/ beside the executable, else the installed one;
 * NULL when none exists.  buf holds the path built. */
const char *cli_stdlib_dir(char *buf, size_t len);

/* Sorts and prints d: text on stderr, JSON or SARIF on stdout. */
void cli_print_diags(diag_list *d, diag_format format);

/* Loads and checks a rule file into arena a; NULL after printing an I/O
 * error (*status EXIT_IO, *io_errno set) or when d holds errors (*status
 * EXIT_RULES; printing them is the caller's). */
msl_program *cli_load_checked(arena *a, const char *path, bool lints, bool werror, diag_list *d, int *status,
                              int *io_errno);
/* A .msc loaded and verified, or a .ms checked, compiled and verified;
 * NULL after printing why (*status says the exit status). */
bc_program *cli_load_program(const char *path, int *status);

/* A program's bound externs: fns[x] for each extern it calls, admitted by
 * the trust rule (SPEC 4) before any library is loaded. */
typedef struct cli_externs {
  native_registry *registry;
  native_fn **fns;
} cli_externs;
/* EXIT_OK, or the exit status after printing why (2: refused, 4: not bound). */
int cli_externs_bind(const bc_program *p, bool allow_ffi, cli_externs *out);
void cli_externs_free(cli_externs *x);

/* Which of the standard streams were closed when msl started (bits 0..2);
 * /dev/null stands in for them, so no file ever gets descriptor 0, 1 or 2
 * and is mistaken for one of them. */
typedef unsigned cli_closed_streams;
cli_closed_streams cli_hold_standard_streams(void);

/* Whether a run's inputs (events or accounts `-`) need standard input when
 * it was closed, or its results (stdout_what: what writes there; NULL:
 * nothing) need standard output when it was closed; says so on stderr.
 * Such a run fails before it starts (exit 4). */
struct run_options;
bool cli_needs_closed_stream(const struct run_options *o, cli_closed_streams closed, const char *stdout_what);

#endif
