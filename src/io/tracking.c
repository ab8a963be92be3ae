/* tracking.c — on track, behind or stuck (tracking.h; docs/language.md,
 * "Tracking against the estimate").
 *
 * The thresholds are fractions with denominator 4 (0.25, the last quarter
 * of the estimate), so multiplying each comparison by 4 * total * estimate
 * keeps it in integers:
 *   e > 1                        elapsed > estimate
 *   progress < min(1, e) - 1/4   (e <= 1)  4*done*estimate + total*estimate < 4*total*elapsed
 *   e >= 1/4                     4*elapsed >= estimate
 *   done_at > T - estimate/4     4*(T - done_at) < estimate
 * Times are microseconds below 2^63 and counts below 2^31, so each product
 * fits in 128 bits. */
#include "io/tracking.h"

#include <inttypes.h>
#include <stdio.h>

/* GCC and Clang: exact products of two 64-bit numbers */
__extension__ typedef __int128 tracking_i128;
__extension__ typedef unsigned __int128 tracking_u128;

const char *tracking_state_name(tracking_state s) {
  static const char *const names[TRACKING__COUNT] = {
    [TRACKING_ON_TRACK] = "on_track", [TRACKING_BEHIND] = "behind", [TRACKING_STUCK] = "stuck"};
  return (unsigned)s < TRACKING__COUNT ? names[s] : "invalid";
}

bool tracking_applies(const bc_milestone *m) {
  return !m->continuous && m->estimate_us > 0 && m->start_kind != BC_START_NONE;
}

bool tracking_classify(const bc_milestone *m, const out_milestone_row *r, int64_t as_of, tracking_row *out) {
  if (!tracking_applies(m) || r->status == OUT_ST_NOT_STARTED || r->status == OUT_ST_COMPLETED ||
      r->started_at == OUT_NO_TIME || as_of == OUT_NO_TIME || r->started_at > as_of)
    return false;
  int64_t elapsed;
  if (__builtin_sub_overflow(as_of, r->started_at, &elapsed)) return false;
  int32_t total = r->actions_total > 0 ? r->actions_total : 0;
  *out = (tracking_row){.elapsed_us = elapsed, .estimate_us = m->estimate_us, .total = total,
                        .done = total ? r->actions_done : 0, .last_done_at = OUT_NO_TIME};
  /* the actions done in the current start epoch, up to T */
  for (int32_t i = 0; r->action_done_at && i < total; i++) {
    int64_t d = r->action_done_at[i];
    if (d == OUT_NO_TIME || d > as_of) continue;
    if (out->last_done_at == OUT_NO_TIME || d > out->last_done_at) out->last_done_at = d;
    if ((tracking_i128)4 * ((tracking_i128)as_of - d) < m->estimate_us) out->recent_action = true;
  }

  tracking_i128 est = m->estimate_us, el = elapsed, n = total, k = out->done;
  bool over_estimate = el > est;
  bool short_of_expected = total > 0 && 4 * k * est + n * est < 4 * n * el;
  bool quarter_gone = 4 * el >= est;
  if (over_estimate || short_of_expected) out->state = TRACKING_BEHIND;
  else if (total > 0 && quarter_gone && !out->recent_action) out->state = TRACKING_STUCK;
  else out->state = TRACKING_ON_TRACK;
  return true;
}

int tracking_format_ratio(int64_t num, int64_t den, char *buf) {
  enum { DECIMALS = 4, SCALE = 10000 };
  /* num/den * SCALE rounded half away from zero: floor((2*num*SCALE + den) / (2*den)) */
  tracking_u128 scaled = ((tracking_u128)num * (2 * SCALE) + (uint64_t)den) / ((tracking_u128)den * 2);
  uint64_t whole = (uint64_t)(scaled / SCALE);
  unsigned frac = (unsigned)(scaled % SCALE);
  int n = snprintf(buf, TRACKING_TEXT_SIZE, "%" PRIu64, whole);
  if (frac) {
    int digits = DECIMALS;
    for (; frac % 10 == 0; frac /= 10) digits--;
    n += snprintf(buf + n, TRACKING_TEXT_SIZE - (size_t)n, ".%0*u", digits, frac);
  }
  return n;
}

int tracking_expected_text(const tracking_row *t, char *buf) {
  int64_t num = t->elapsed_us < t->estimate_us ? t->elapsed_us : t->estimate_us;
  return tracking_format_ratio(num, t->estimate_us, buf);
}

int tracking_progress_text(const tracking_row *t, char *buf) { return tracking_format_ratio(t->done, t->total, buf); }
