/* report_by.h — `msl run --report-by FIELD` (report_by.c): each
 * milestone's status counts split by the value of one account field, for
 * summary.json's "by" (docs/cli.md).  The run counts each account's rows
 * here (report_by_add); output.c writes the counts into each milestone's
 * entry (report_by_write). */
#ifndef MSL_REPORT_BY_H
#define MSL_REPORT_BY_H

#include <stdint.h>

#include "bc/bc.h"
#include "core/util.h"
#include "io/output.h"

typedef struct report_by report_by;

/* The index of program p's account field called name, or BC_NONE; then
 * *closest is the closest field name ("did you mean"), or NULL. */
uint32_t report_by_find_field(const bc_program *p, const char *name, const char **closest);

/* Counts by account field `field` of p (an index from report_by_find_field). */
report_by *report_by_new(const bc_program *p, uint32_t field);
/* Counts one account's milestone rows under its value of the field;
 * fields: the account's values, one per account field, defaults applied. */
void report_by_add(report_by *b, const value_data *fields, const out_milestone_row *rows, int nrows);
/* Writes `"by": {"field": NAME, "values": {VALUE: {STATUS: count}}}` for
 * milestone mi, pretty-printed as a member of its summary.json entry (the
 * key indented by 6 spaces, no final newline): the values that have an
 * applicable account, in byte order of their JSON text, each with the
 * statuses[0..nstatuses) in that order. */
void report_by_write(report_by *b, uint32_t mi, const out_status *statuses, int nstatuses, util_put_fn *put,
                     void *ctx);
void report_by_free(report_by *b);

#endif
