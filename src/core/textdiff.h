/* textdiff.h — a line diff of two texts and its unified form (textdiff.c),
 * what `msl fmt --diff` prints.
 *
 * Myers' O((N+M)D) algorithm in linear space: the middle snake splits the
 * comparison in two, as GNU diff does it.  Lines that occur on one side
 * only are changed whatever the script, and stay out of the search, so a
 * rewritten file costs little.  Past a cost bound a split is cut where
 * the search reached furthest, so that lines reordered at large cost
 * near-linear time for a script that may be longer than the shortest (it
 * is still a correct diff: patch applies it). */
#ifndef MSL_TEXTDIFF_H
#define MSL_TEXTDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One side of a comparison, split into lines.  A line ends after its '\n'
 * or at the end of the text: the last line may lack the '\n', and then it
 * differs from the same line with one.  An empty text has no lines. */
typedef struct textdiff_side {
  const char *text;
  size_t nlines;
  size_t *starts;     /* starts[i]: where line i begins; starts[nlines]: the text's length */
  uint64_t *hashes;   /* of each line, to compare lines quickly */
  bool *changed;      /* line i is deleted (old side) or inserted (new side) */
} textdiff_side;

/* An edit script from old to new: the lines it deletes and inserts.  The
 * unchanged lines of both sides pair up in order. */
typedef struct textdiff {
  textdiff_side old, new;
} textdiff;

/* Compares old_text with new_text.  max_cost bounds the search of one
 * split (in edit steps); 0 picks the default, which grows with the
 * square root of the input as GNU diff's does.  Memory is linear in the
 * number of lines.  The texts must outlive d. */
void textdiff_compute(textdiff *d, const char *old_text, size_t old_len, const char *new_text,
                      size_t new_len, long max_cost);
void textdiff_free(textdiff *d);

/* Whether the script changes any line. */
bool textdiff_differs(const textdiff *d);

/* Writes d as a unified diff, as `diff -u` and `git diff` write it: the
 * header lines `--- old_label` and `+++ new_label`, then hunks `@@ -l,n
 * +l,n @@` with `context` unchanged lines around each change (hunks
 * closer than that merge), and `\ No newline at end of file` after a last
 * line without one.  Nothing when no line changed.  False when a write to
 * out failed. */
bool textdiff_write_unified(const textdiff *d, FILE *out, const char *old_label, const char *new_label,
                            int context);

#endif
