/* suggest.c — "did you mean" (prefix suggest_): edit distance over short
 * names, with an early exit once a row exceeds the bound. */
#include "core/suggest.h"

#include <string.h>

enum { SUGGEST_MAX_LEN = 64 };   /* longer names are never suggested */

size_t suggest_distance(const char *a, const char *b, size_t max) {
  size_t n = strlen(a), m = strlen(b);
  if (n > SUGGEST_MAX_LEN || m > SUGGEST_MAX_LEN) return max + 1;
  if ((n > m ? n - m : m - n) > max) return max + 1;
  /* three rows: the one before the previous one is for swaps */
  size_t rows[3][SUGGEST_MAX_LEN + 1];
  size_t *before = rows[0], *prev = rows[1], *cur = rows[2];
  for (size_t j = 0; j <= m; j++) prev[j] = j;
  for (size_t i = 1; i <= n; i++) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= m; j++) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t d = prev[j - 1] + cost;
      if (prev[j] + 1 < d) d = prev[j] + 1;
      if (cur[j - 1] + 1 < d) d = cur[j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && before[j - 2] + 1 < d)
        d = before[j - 2] + 1;
      cur[j] = d;
      if (d < row_min) row_min = d;
    }
    if (row_min > max) return max + 1;
    size_t *t = before;
    before = prev;
    prev = cur;
    cur = t;
  }
  return prev[m];
}

void suggest_offer(suggest *s, const char *candidate) {
  if (!candidate || !s->word || strcmp(candidate, s->word) == 0) return;
  size_t bound = s->best ? s->best_distance - 1 : s->max_distance;
  size_t d = suggest_distance(s->word, candidate, bound);
  if (d <= bound) {
    s->best = candidate;
    s->best_distance = d;
  }
}

size_t suggest_default_distance(const char *word) {
  size_t third = strlen(word) / 3;
  return third < 1 ? 1 : third > 2 ? 2 : third;
}
