/* textdiff.c — a line diff and its unified form; see textdiff.h.
 *
 * The search is GNU diff's (diffseq.h, after Myers 1986, "An O(ND)
 * Difference Algorithm and Its Variations"): find the middle snake of the
 * shortest edit script with a forward and a backward search that meet,
 * split there, and compare the two halves the same way. */
#include "core/textdiff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static void split_lines(textdiff_side *s, const char *text, size_t len) {
  size_t n = 0;
  for (const char *p = text, *end = text + len; p < end; n++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    p = nl ? nl + 1 : end;
  }
  s->text = text;
  s->nlines = n;
  s->starts = util_xalloc((n + 1) * sizeof *s->starts);
  s->hashes = util_xalloc((n + 1) * sizeof *s->hashes);
  s->changed = util_xalloc((n + 1) * sizeof *s->changed);
  size_t i = 0;
  for (const char *p = text, *end = text + len; p < end; i++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *next = nl ? nl + 1 : end;
    s->starts[i] = (size_t)(p - text);
    s->hashes[i] = util_hash(p, (size_t)(next - p));
    p = next;
  }
  s->starts[n] = len;
}

/* ---- the search ------------------------------------------------------------------------- */

/* The search runs over the lines that may match a line of the other side
 * (keep_matchable): x is old, y is new, and position i of the search is
 * line xi[i] (yi[j]). */
typedef struct diff_ctx {
  textdiff_side *x, *y;
  const size_t *xi, *yi;
  /* The furthest x reached on each diagonal k = x - y, by the forward and
   * the backward search; indexed from -(lines of y) - 1. */
  ptrdiff_t *fd, *bd;
  ptrdiff_t max_cost;
} diff_ctx;

static bool same_line(const diff_ctx *c, ptrdiff_t i, ptrdiff_t j) {
  const textdiff_side *x = c->x, *y = c->y;
  size_t a = c->xi[i], b = c->yi[j];
  size_t xlen = x->starts[a + 1] - x->starts[a], ylen = y->starts[b + 1] - y->starts[b];
  return x->hashes[a] == y->hashes[b] && xlen == ylen &&
         memcmp(x->text + x->starts[a], y->text + y->starts[b], xlen) == 0;
}

typedef struct split {
  ptrdiff_t x, y;
} split;

/* Past the cost bound: the point furthest along of either search, so that
 * both halves are smaller than the whole. */
static split cut_where_furthest(const diff_ctx *c, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff,
                                ptrdiff_t ylim, ptrdiff_t fmin, ptrdiff_t fmax, ptrdiff_t bmin,
                                ptrdiff_t bmax) {
  ptrdiff_t fxy = -1, fx = xoff;
  for (ptrdiff_t d = fmax; d >= fmin; d -= 2) {
    ptrdiff_t x = c->fd[d] < xlim ? c->fd[d] : xlim, y = x - d;
    if (y > ylim) {
      x = ylim + d;
      y = ylim;
    }
    if (x + y > fxy) {
      fxy = x + y;
      fx = x;
    }
  }
  ptrdiff_t bxy = PTRDIFF_MAX, bx = xlim;
  for (ptrdiff_t d = bmax; d >= bmin; d -= 2) {
    ptrdiff_t x = c->bd[d] > xoff ? c->bd[d] : xoff, y = x - d;
    if (y < yoff) {
      x = yoff + d;
      y = yoff;
    }
    if (x + y < bxy) {
      bxy = x + y;
      bx = x;
    }
  }
  if ((xlim + ylim) - bxy < fxy - (xoff + yoff)) return (split){fx, fxy - fx};
  return (split){bx, bxy - bx};
}

/* Where a shortest edit script from x[xoff, xlim) to y[yoff, ylim) crosses
 * its middle (or the cut, past the cost bound).  The ranges differ in
 * their first and in their last lines, and neither is empty. */
static split middle_snake(const diff_ctx *c, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff,
                          ptrdiff_t ylim) {
  ptrdiff_t *fd = c->fd, *bd = c->bd;
  const ptrdiff_t dmin = xoff - ylim, dmax = xlim - yoff;
  const ptrdiff_t fmid = xoff - yoff, bmid = xlim - ylim;
  ptrdiff_t fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
  const bool odd = (fmid - bmid) & 1;   /* the searches meet in a forward step */
  fd[fmid] = xoff;
  bd[bmid] = xlim;
  for (ptrdiff_t cost = 1;; cost++) {
    /* one more edit step forward on every diagonal in reach; -1 stands
     * for the diagonals beyond */
    if (fmin > dmin) fd[--fmin - 1] = -1;
    else fmin++;
    if (fmax < dmax) fd[++fmax + 1] = -1;
    else fmax--;
    for (ptrdiff_t d = fmax; d >= fmin; d -= 2) {
      ptrdiff_t lo = fd[d - 1], hi = fd[d + 1];
      ptrdiff_t x = lo < hi ? hi : lo + 1, y = x - d;
      while (x < xlim && y < ylim && same_line(c, x, y)) x++, y++;
      fd[d] = x;
      if (odd && bmin <= d && d <= bmax && bd[d] <= x) return (split){x, y};
    }
    /* and backward */
    if (bmin > dmin) bd[--bmin - 1] = PTRDIFF_MAX;
    else bmin++;
    if (bmax < dmax) bd[++bmax + 1] = PTRDIFF_MAX;
    else bmax--;
    for (ptrdiff_t d = bmax; d >= bmin; d -= 2) {
      ptrdiff_t lo = bd[d - 1], hi = bd[d + 1];
      ptrdiff_t x = lo < hi ? lo : hi - 1, y = x - d;
      while (x > xoff && y > yoff && same_line(c, x - 1, y - 1)) x--, y--;
      bd[d] = x;
      if (!odd && fmin <= d && d <= fmax && x <= fd[d]) return (split){x, y};
    }
    if (cost >= c->max_cost) return cut_where_furthest(c, xoff, xlim, yoff, ylim, fmin, fmax, bmin, bmax);
  }
}

static void compare(const diff_ctx *c, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff, ptrdiff_t ylim) {
  for (;;) {
    while (xoff < xlim && yoff < ylim && same_line(c, xoff, yoff)) xoff++, yoff++;
    while (xlim > xoff && ylim > yoff && same_line(c, xlim - 1, ylim - 1)) xlim--, ylim--;
    if (xoff == xlim || yoff == ylim) {
      while (xoff < xlim) c->x->changed[c->xi[xoff++]] = true;
      while (yoff < ylim) c->y->changed[c->yi[yoff++]] = true;
      return;
    }
    split s = middle_snake(c, xoff, xlim, yoff, ylim);
    /* recursion into the smaller half and a loop over the larger keep the
     * stack logarithmic even when cuts are lopsided */
    if ((s.x - xoff) + (s.y - yoff) < (xlim - s.x) + (ylim - s.y)) {
      compare(c, xoff, s.x, yoff, s.y);
      xoff = s.x;
      yoff = s.y;
    } else {
      compare(c, s.x, xlim, s.y, ylim);
      xlim = s.x;
      ylim = s.y;
    }
  }
}

static int compare_hashes(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static uint64_t *sorted_hashes(const textdiff_side *s) {
  uint64_t *h = util_xalloc((s->nlines + 1) * sizeof *h);
  if (s->nlines) memcpy(h, s->hashes, s->nlines * sizeof *h);
  qsort(h, s->nlines, sizeof *h, compare_hashes);
  return h;
}

/* A line whose hash no line of the other side has can match nothing: it
 * is changed in every script, and leaving it out of the search keeps the
 * script as short while making a rewritten file cost linear time.  Fills
 * kept with the others and returns how many. */
static size_t keep_matchable(textdiff_side *s, const uint64_t *other_sorted, size_t nother, size_t *kept) {
  size_t n = 0;
  for (size_t i = 0; i < s->nlines; i++) {
    if (bsearch(&s->hashes[i], other_sorted, nother, sizeof *other_sorted, compare_hashes)) kept[n++] = i;
    else s->changed[i] = true;
  }
  return n;
}

void textdiff_compute(textdiff *d, const char *old_text, size_t old_len, const char *new_text,
                      size_t new_len, long max_cost) {
  memset(d, 0, sizeof *d);
  split_lines(&d->old, old_text, old_len);
  split_lines(&d->new, new_text, new_len);
  uint64_t *old_sorted = sorted_hashes(&d->old), *new_sorted = sorted_hashes(&d->new);
  size_t *xi = util_xalloc((d->old.nlines + 1) * sizeof *xi), *yi = util_xalloc((d->new.nlines + 1) * sizeof *yi);
  size_t na = keep_matchable(&d->old, new_sorted, d->new.nlines, xi);
  size_t nb = keep_matchable(&d->new, old_sorted, d->old.nlines, yi);
  free(old_sorted);
  free(new_sorted);
  size_t diagonals = na + nb + 3;
  diff_ctx c = {.x = &d->old, .y = &d->new, .xi = xi, .yi = yi, .max_cost = max_cost};
  if (c.max_cost <= 0) {
    /* GNU diff's bound: about twice the square root of the input, at least 4096 */
    c.max_cost = 1;
    for (size_t n = diagonals; n; n >>= 2) c.max_cost <<= 1;
    if (c.max_cost < 4096) c.max_cost = 4096;
  }
  ptrdiff_t *v = util_xalloc(2 * diagonals * sizeof *v);
  c.fd = v + nb + 1;
  c.bd = v + diagonals + nb + 1;
  compare(&c, 0, (ptrdiff_t)na, 0, (ptrdiff_t)nb);
  free(v);
  free(xi);
  free(yi);
}

void textdiff_free(textdiff *d) {
  textdiff_side *sides[] = {&d->old, &d->new};
  for (int i = 0; i < 2; i++) {
    free(sides[i]->starts);
    free(sides[i]->hashes);
    free(sides[i]->changed);
  }
  memset(d, 0, sizeof *d);
}

bool textdiff_differs(const textdiff *d) {
  for (size_t i = 0; i < d->old.nlines; i++)
    if (d->old.changed[i]) return true;
  for (size_t j = 0; j < d->new.nlines; j++)
    if (d->new.changed[j]) return true;
  return false;
}

/* ---- the unified form --------------------------------------------------------------------- */

/* "l,n" with l the first line; "l" alone when n is 1; for no lines, the
 * line before them and 0 (what patch expects, to recognise an empty file). */
static void write_range(FILE *out, size_t start, size_t count) {
  if (count == 1) fprintf(out, "%zu", start + 1);
  else fprintf(out, "%zu,%zu", count ? start + 1 : start, count);
}

static void write_line(FILE *out, char prefix, const textdiff_side *s, size_t i) {
  size_t from = s->starts[i], to = s->starts[i + 1];
  fputc(prefix, out);
  fwrite(s->text + from, 1, to - from, out);
  if (s->text[to - 1] != '\n') fputs("\n\\ No newline at end of file\n", out);
}

static void write_hunk(FILE *out, const textdiff_side *o, const textdiff_side *n, size_t a0, size_t a1,
                       size_t b0, size_t b1) {
  fputs("@@ -", out);
  write_range(out, a0, a1 - a0);
  fputs(" +", out);
  write_range(out, b0, b1 - b0);
  fputs(" @@\n", out);
  size_t x = a0, y = b0;
  while (x < a1 || y < b1) {
    if (x < a1 && y < b1 && !o->changed[x] && !n->changed[y]) {
      write_line(out, ' ', o, x++);
      y++;
      continue;
    }
    while (x < a1 && o->changed[x]) write_line(out, '-', o, x++);
    while (y < b1 && n->changed[y]) write_line(out, '+', n, y++);
  }
}

bool textdiff_write_unified(const textdiff *d, FILE *out, const char *old_label, const char *new_label,
                            int context) {
  const textdiff_side *o = &d->old, *n = &d->new;
  size_t ctx = context > 0 ? (size_t)context : 0;
  size_t i = 0, j = 0;
  bool headed = false;
  for (;;) {
    while (i < o->nlines && j < n->nlines && !o->changed[i] && !n->changed[j]) i++, j++;
    if (i == o->nlines && j == n->nlines) break;
    /* a change at (i, j): the unchanged lines before it pair up, so the
     * leading context is as long on both sides */
    size_t lead = i < ctx ? i : ctx, a0 = i - lead, b0 = j - lead;
    for (;;) {
      while (i < o->nlines && o->changed[i]) i++;
      while (j < n->nlines && n->changed[j]) j++;
      size_t same = 0;
      while (i + same < o->nlines && j + same < n->nlines && !o->changed[i + same] && !n->changed[j + same])
        same++;
      bool at_end = i + same == o->nlines && j + same == n->nlines;
      if (at_end || same > 2 * ctx) {
        size_t tail = same < ctx ? same : ctx;
        i += tail;
        j += tail;
        break;
      }
      i += same;   /* the next change is close: same hunk */
      j += same;
    }
    if (!headed) fprintf(out, "--- %s\n+++ %s\n", old_label, new_label);
    headed = true;
    write_hunk(out, o, n, a0, i, b0, j);
  }
  return !ferror(out);
}
