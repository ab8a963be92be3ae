/* report.h — report.html (SPEC 7), the page for people that every `--out`
 * holds: built from the other result files alone (summary.json and the
 * milestone, playbook and signal rows, CSV or JSON Lines), never from the
 * rule program, so that a directory of results can be reported on again
 * (`msl report DIR`, `msl merge`).  The tracking rows are optional: a
 * directory written before msl had them still gets its page, whose
 * tracking counts (from summary.json) then have no lists of accounts.
 *
 * report.c reads the files into the page's data and writes the page;
 * report_read.c reads them (CSV per RFC 4180 and JSON Lines in chunks,
 * summary.json as a JSON tree); report_page.c holds the page's style and
 * script.  The page is one self-contained file: inline CSS and JavaScript,
 * the data as escaped JSON, a Content-Security-Policy that admits only its
 * own script and style (by hash) and nothing from the network. */
#ifndef MSL_REPORT_H
#define MSL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The page's name in an output directory. */
#define REPORT_FILE_NAME "report.html"

/* The result files a page is built from (paths; they may be the
 * temporary files of a run that is not committed yet). */
typedef struct report_inputs {
  const char *summary;     /* summary.json */
  const char *milestones;  /* milestones.csv or milestones.jsonl */
  const char *playbooks;   /* playbooks.csv or playbooks.jsonl */
  const char *signals;     /* signals.csv or signals.jsonl */
  bool jsonl;              /* the row files are JSON Lines (--format jsonl) */
  const char *tracking;    /* tracking.csv or tracking.jsonl; NULL: none */
} report_inputs;

/* Reads the inputs and writes the page to out.  False with msg (naming
 * the file and line) when a file cannot be read, is not what msl writes,
 * or its rows disagree with summary.json's counts; write errors are left
 * in ferror(out). */
bool report_write(FILE *out, const report_inputs *in, char *msg, size_t msglen);

/* report_write into descriptor fd (a temporary file of a commit set),
 * which it then syncs and closes, also on failure.  False with msg on any
 * error, write errors included (named after label, the final path). */
bool report_write_fd(int fd, const char *label, const report_inputs *in, char *msg, size_t msglen);

#endif
