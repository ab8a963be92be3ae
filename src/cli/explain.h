/* explain.h — `msl explain` (explain.c, explain_render.c): for one account,
 * each milestone's status, timeline and criteria with the value of every
 * part at the as-of time; its playbooks and signals. */
#ifndef MSL_EXPLAIN_H
#define MSL_EXPLAIN_H

#include "cli/cli.h"

/* The command with its arguments (after `explain`); returns the exit status. */
int explain_main(int argc, char **argv, cli_closed_streams closed);

#endif
