/* tracking.h — on track, behind or stuck (tracking.c): how a started, not
 * completed once-mode milestone with an `estimate` and a bounded start
 * stands at the as-of time T against its estimate.  Pure functions over a
 * result row, its milestone and T; tracking.csv, summary.json's "tracking"
 * (output.c) and `msl explain` all read them.
 *
 * With elapsed = T - started_at, e = elapsed / estimate, expected progress
 * min(1, e) and progress = done actions / actions:
 *   behind    e > 1, or the milestone has actions and progress < expected - 0.25;
 *   stuck     (not behind) it has actions, e >= 0.25, and no action was done
 *             in (T - estimate/4, T];
 *   on_track  otherwise.
 * Every comparison is exact integer arithmetic on microseconds and action
 * counts (128-bit where a product may not fit 64 bits), never floating
 * point, so a row is the same on every machine. */
#ifndef MSL_TRACKING_H
#define MSL_TRACKING_H

#include <stdbool.h>
#include <stdint.h>

#include "bc/bc.h"
#include "io/output.h"

typedef enum { TRACKING_ON_TRACK, TRACKING_BEHIND, TRACKING_STUCK, TRACKING__COUNT } tracking_state;

/* "on_track", "behind", "stuck". */
const char *tracking_state_name(tracking_state s);

/* Whether milestone m can have tracking rows at all: once mode, an
 * estimate above zero, and a bounded start (a `start` clause). */
bool tracking_applies(const bc_milestone *m);

/* One milestone row's tracking, with what decided it. */
typedef struct tracking_row {
  tracking_state state;
  int64_t elapsed_us;          /* T - started_at, >= 0 */
  int64_t estimate_us;         /* > 0 */
  int32_t done, total;         /* actions done / actions; total 0: no progress */
  int64_t last_done_at;        /* the latest action done_at <= T; OUT_NO_TIME: none */
  bool recent_action;          /* an action was done in (T - estimate/4, T] */
} tracking_row;

/* Fills *out for row r of milestone m at as_of and returns true when the
 * row gets tracking: m applies (tracking_applies), r is started (a
 * started_at at or before as_of) and not completed.  Otherwise false. */
bool tracking_classify(const bc_milestone *m, const out_milestone_row *r, int64_t as_of, tracking_row *out);

/* Text of the expected progress min(1, elapsed / estimate), and of the
 * progress done / total (total > 0), as milestones.csv writes progress: at
 * most 4 decimals, trailing zeros removed, rounded half away from zero.
 * buf needs TRACKING_TEXT_SIZE bytes; returns the length. */
enum { TRACKING_TEXT_SIZE = 32 };
int tracking_expected_text(const tracking_row *t, char *buf);
int tracking_progress_text(const tracking_row *t, char *buf);

/* num / den (0 <= num, 0 < den) in that form: 1/3 -> "0.3333", 1/32 ->
 * "0.0313", 2/2 -> "1". */
int tracking_format_ratio(int64_t num, int64_t den, char *buf);

#endif
