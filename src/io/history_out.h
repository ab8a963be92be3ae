/* history_out.h — history.csv / history.jsonl (`msl run --history`): each
 * account's status changes of its milestones and step changes of its
 * playbooks (history_out.c).  The file joins the run's commit set like
 * every result file. */
#ifndef MSL_HISTORY_OUT_H
#define MSL_HISTORY_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bc/bc.h"
#include "io/output.h"

/* One change of one item of an account at `at`: a milestone's status
 * (out_status) or a playbook's step (an index; nsteps: done); -1 is the
 * empty `from` of an item's first row. */
typedef struct history_out_row {
  int64_t at;
  uint32_t item;           /* a milestone's index, or nmilestones + a playbook's index */
  uint32_t order;          /* the item's declaration order: the tie-break at one instant */
  int32_t from, to;
} history_out_row;

typedef struct history_out history_out;

/* Opens DIR/history.csv (history.jsonl for OUT_JSONL) as a temporary file
 * of commit, which renames it into place with the other results: open it
 * before out_open, so that summary.json stays the last file renamed.  NULL
 * with msg on failure (exit status 4). */
history_out *history_out_open(const bc_program *prog, const char *dir, out_format fmt, commit_set *commit,
                              char *msg, size_t msglen);
/* One account's rows, in time then declaration order; call in account-id
 * byte order.  false with msg on a write error or an invalid row. */
bool history_out_account(history_out *h, const char *id, size_t id_len, const history_out_row *rows, int n,
                         char *msg, size_t msglen);
/* Flushes, syncs and closes the file, ready for the commit (out_finish),
 * and frees h, also on failure (false with msg). */
bool history_out_close(history_out *h, char *msg, size_t msglen);
/* Frees h without finishing it (error paths; its temporary file goes with
 * the commit set).  NULL is ignored. */
void history_out_free(history_out *h);

#endif
