/* diff_cmd.h — `msl diff` (diff_cmd.c, diff_report.c): the impact of a rule
 * change on real customers — both programs run over the same input, and
 * per milestone and playbook (matched by name) the accounts whose status
 * changes, from what to what. */
#ifndef MSL_DIFF_CMD_H
#define MSL_DIFF_CMD_H

#include "cli/cli.h"

/* SPEC 7: `msl diff` found accounts whose status changes. */
enum { DIFF_EXIT_CHANGES = 5 };

/* The command with its arguments (after `diff`); returns the exit status. */
int diff_main(int argc, char **argv, cli_closed_streams closed);

#endif
