/* report_cmd.h — `msl report DIR` (report_cmd.c): builds DIR/report.html
 * again from the result files in DIR, as `msl run --out DIR` writes it. */
#ifndef MSL_REPORT_CMD_H
#define MSL_REPORT_CMD_H

/* `msl report ARGS...`: the exit status (0 ok, 2 usage, 4 a file cannot
 * be read or written, is not msl's, or DIR is held by a run). */
int report_cmd_main(int argc, char **argv);

#endif
