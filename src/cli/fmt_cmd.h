/* fmt_cmd.h — `msl fmt` (fmt_cmd.c): rule files in the canonical layout,
 * rewritten in place or, for CI, checked, listed or shown as a diff. */
#ifndef MSL_FMT_CMD_H
#define MSL_FMT_CMD_H

#include "cli/cli.h"

/* Runs `msl fmt` on its arguments (those after `fmt`); the exit status. */
int fmt_cmd_run(int argc, char **argv, cli_closed_streams closed);

#endif
