/* diff_internal.h — what the files of `msl diff` share, private to
 * src/cli/; their shared functions are prefixed diff_:
 *   diff_cmd.c     the command: its options, the two runs, the comparison;
 *   diff_report.c  the result, as text or JSON. */
#ifndef MSL_DIFF_INTERNAL_H
#define MSL_DIFF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bc/bc.h"
#include "core/util.h"

typedef enum { DIFF_TEXT, DIFF_JSON } diff_format;

/* An account's status for one milestone or playbook, as a code: 0 where it
 * does not apply (the pseudo-status not_applicable); for a milestone
 * 1 + its out_status; for a playbook 2 + out_playbook_row.step (1: not
 * started, 2 + k: on step k, 2 + nsteps: done).  A playbook's codes are its
 * own program's: two programs' steps are compared by name. */
enum { DIFF_NOT_APPLICABLE = 0 };

/* The accounts that went from one status to another. */
typedef struct diff_change {
  uint32_t from, to;             /* codes: the old program's, the new one's */
  uint64_t count;
  UTIL_VEC(size_t) listed;       /* the first of them (all without --limit), as indexes of diff_ctx.listed */
} diff_change;

/* A milestone or playbook of either program.  In both: the accounts whose
 * status changes.  In one only (added or removed): the accounts it applies
 * to, by status (changes from or to not_applicable, no account listed). */
typedef struct diff_item {
  bool playbook;
  uint32_t index[2];             /* in the old and the new program; BC_NONE: not in that one */
  uint64_t accounts;
  UTIL_VEC(diff_change) changes;
} diff_item;

typedef struct diff_ctx {
  const bc_program *p[2];        /* old, new */
  const char *path[2];
  diff_item *items;              /* the new program's milestones, the old one's it lacks, then */
  size_t nitems;                 /* the same for playbooks */
  size_t limit;                  /* --limit: accounts listed per change; SIZE_MAX: all */
  UTIL_VEC(char) listed_ids;     /* the ids of listed accounts, one after another */
  UTIL_VEC(size_t) listed;       /* where each ends in listed_ids */
  uint64_t naccounts, changed_accounts;
  bool has_as_of;
  int64_t as_of;
  diff_format format;
  bool color;
  FILE *out;
} diff_ctx;

/* The name of an item, and of a status code of side s (0 old, 1 new). */
const char *diff_item_name(const diff_ctx *c, const diff_item *it);
const char *diff_code_name(const diff_ctx *c, const diff_item *it, int side, uint32_t code);

/* Writes the report in c->format to c->out (errors are left in ferror). */
void diff_report(diff_ctx *c);

#endif
