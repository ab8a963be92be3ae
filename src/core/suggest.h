/* suggest.h — "did you mean": the closest of some known names to a word
 * that named nothing (suggest.c).  Used for unknown names in rule files
 * and unknown command-line options alike. */
#ifndef MSL_SUGGEST_H
#define MSL_SUGGEST_H

#include <stddef.h>

/* The optimal string alignment distance between a and b (insertions,
 * deletions, substitutions, and swaps of two neighbouring bytes, each 1),
 * or a number above max once it is sure to exceed max. */
size_t suggest_distance(const char *a, const char *b, size_t max);

/* A set of candidates seen one by one: the closest within max_distance
 * wins, the first seen among equals.  Zero-initialise, set max_distance,
 * then offer each candidate. */
typedef struct suggest {
  const char *word;
  size_t max_distance;
  const char *best;        /* NULL: nothing close enough */
  size_t best_distance;
} suggest;

void suggest_offer(suggest *s, const char *candidate);

/* The usual bound, 2, lowered for short words so that `id` does not
 * suggest every two-letter name: at most a third of the word's length,
 * and at least 1. */
size_t suggest_default_distance(const char *word);

#endif
