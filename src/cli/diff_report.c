/* diff_report.c — the report of `msl diff` (prefix diff_): text for the
 * reader of a pull request (colour only on a terminal), or one JSON object
 * for tools (docs/cli.md documents both). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/diff_internal.h"
#include "io/io.h"

typedef enum { ITEM_IN_BOTH, ITEM_ADDED, ITEM_REMOVED } item_kind;

static item_kind kind_of(const diff_item *it) {
  if (it->index[0] == BC_NONE) return ITEM_ADDED;
  return it->index[1] == BC_NONE ? ITEM_REMOVED : ITEM_IN_BOTH;
}

/* The most accounts first, then in the order of the codes. */
static int change_cmp(const void *x, const void *y) {
  const diff_change *a = x, *b = y;
  if (a->count != b->count) return a->count > b->count ? -1 : 1;
  if (a->from != b->from) return a->from < b->from ? -1 : 1;
  return (a->to > b->to) - (a->to < b->to);
}

static const char *listed_id(const diff_ctx *c, size_t k, size_t *len) {
  size_t at = k ? c->listed.items[k - 1] : 0;
  *len = c->listed.items[k] - at;
  return c->listed_ids.items + at;
}

/* The status an added (removed) item's change counts: the one it has in
 * the program that has it. */
static const char *own_status(const diff_ctx *c, const diff_item *it, const diff_change *ch) {
  return kind_of(it) == ITEM_ADDED ? diff_code_name(c, it, 1, ch->to) : diff_code_name(c, it, 0, ch->from);
}

/* ---- text -------------------------------------------------------------------------------------- */

static void paintf(diff_ctx *c, const char *sgr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void paintf(diff_ctx *c, const char *sgr, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (c->color) fprintf(c->out, "\033[%sm", sgr);
  vfprintf(c->out, fmt, ap);
  if (c->color) fputs("\033[0m", c->out);
  va_end(ap);
}

/* An id on a line of its own, a control byte in it as \xNN (a line per
 * account, whatever the ids hold). */
static void put_id(diff_ctx *c, const char *id, size_t len) {
  size_t cap = 4 * len + 4;
  char *shown = util_xalloc(cap);
  util_escape(shown, cap, id, len, "", len);
  fprintf(c->out, "    %s\n", shown);
  free(shown);
}

static unsigned long long ull(uint64_t n) { return (unsigned long long)n; }

static void text_change(diff_ctx *c, const diff_item *it, const diff_change *ch) {
  item_kind kind = kind_of(it);
  fputs("  ", c->out);
  if (kind == ITEM_IN_BOTH) {
    paintf(c, "31", "%s", diff_code_name(c, it, 0, ch->from));
    fputs(" \xe2\x86\x92 ", c->out);   /* → */
    paintf(c, "32", "%s", diff_code_name(c, it, 1, ch->to));
  } else {
    fputs(own_status(c, it, ch), c->out);
  }
  fprintf(c->out, ": %llu\n", ull(ch->count));
  for (size_t k = 0; k < ch->listed.len; k++) {
    size_t len;
    const char *id = listed_id(c, ch->listed.items[k], &len);
    put_id(c, id, len);
  }
  if (kind == ITEM_IN_BOTH && ch->count > ch->listed.len)
    fprintf(c->out, "    \xe2\x80\xa6 and %llu more\n", ull(ch->count - ch->listed.len));   /* … */
}

static void text_item(diff_ctx *c, const diff_item *it) {
  item_kind kind = kind_of(it);
  if (kind == ITEM_IN_BOTH && !it->accounts) return;
  if (kind == ITEM_ADDED) paintf(c, "32", "added ");
  if (kind == ITEM_REMOVED) paintf(c, "31", "removed ");
  fputs(it->playbook ? "playbook " : "milestone ", c->out);
  paintf(c, "1", "%s", diff_item_name(c, it));
  const char *s = it->accounts == 1 ? "" : "s";
  if (kind == ITEM_IN_BOTH) fprintf(c->out, ": %llu account%s change%s\n", ull(it->accounts), s, *s ? "" : "s");
  else fprintf(c->out, ": %s %llu account%s\n", kind == ITEM_ADDED ? "applies to" : "applied to", ull(it->accounts), s);
  for (size_t k = 0; k < it->changes.len; k++) text_change(c, it, &it->changes.items[k]);
}

/* "N of M accounts change as of T (milestones: ...; playbooks: ...)". */
static void text_summary(diff_ctx *c) {
  uint64_t n[2][3] = {{0}};   /* [playbook][item_kind]: changed, added, removed */
  for (size_t i = 0; i < c->nitems; i++) {
    const diff_item *it = &c->items[i];
    if (kind_of(it) != ITEM_IN_BOTH || it->accounts) n[it->playbook][kind_of(it)]++;
  }
  paintf(c, "1", "%llu of %llu account%s change%s", ull(c->changed_accounts), ull(c->naccounts),
         c->naccounts == 1 ? "" : "s", c->changed_accounts == 1 ? "s" : "");
  if (c->has_as_of) {
    char t[40];
    io_format_time(c->as_of, t);
    fprintf(c->out, " as of %s", t);
  }
  fprintf(c->out, " (milestones: %llu changed, %llu added, %llu removed; playbooks: %llu changed, %llu added, "
                  "%llu removed)\n",
          ull(n[0][0]), ull(n[0][1]), ull(n[0][2]), ull(n[1][0]), ull(n[1][1]), ull(n[1][2]));
}

/* ---- JSON ---------------------------------------------------------------------------------------- */

static void put_bytes(void *out, const char *p, size_t n) { fwrite(p, 1, n, out); }

static void json_str(diff_ctx *c, const char *s) { util_json_string(s, strlen(s), put_bytes, c->out); }

/* The items of one kind and playbook or not, as a JSON array. */
static void json_items(diff_ctx *c, bool playbook, item_kind kind) {
  const char *sep = "";
  fputc('[', c->out);
  for (size_t i = 0; i < c->nitems; i++) {
    const diff_item *it = &c->items[i];
    if (it->playbook != playbook || kind_of(it) != kind) continue;
    fprintf(c->out, "%s{\"name\":", sep);
    json_str(c, diff_item_name(c, it));
    sep = ",";
    if (kind == ITEM_IN_BOTH) {
      fprintf(c->out, ",\"changed\":%llu,\"changes\":[", ull(it->accounts));
      for (size_t k = 0; k < it->changes.len; k++) {
        const diff_change *ch = &it->changes.items[k];
        fputs(k ? ",{\"from\":" : "{\"from\":", c->out);
        json_str(c, diff_code_name(c, it, 0, ch->from));
        fputs(",\"to\":", c->out);
        json_str(c, diff_code_name(c, it, 1, ch->to));
        fprintf(c->out, ",\"count\":%llu,\"accounts\":[", ull(ch->count));
        for (size_t a = 0; a < ch->listed.len; a++) {
          size_t len;
          const char *id = listed_id(c, ch->listed.items[a], &len);
          if (a) fputc(',', c->out);
          util_json_string(id, len, put_bytes, c->out);
        }
        fputs("]}", c->out);
      }
      fputs("]}", c->out);
      continue;
    }
    fprintf(c->out, ",\"applicable\":%llu,\"%s\":{", ull(it->accounts), playbook ? "steps" : "status");
    for (size_t k = 0; k < it->changes.len; k++) {
      const diff_change *ch = &it->changes.items[k];
      if (k) fputc(',', c->out);
      json_str(c, own_status(c, it, ch));
      fprintf(c->out, ":%llu", ull(ch->count));
    }
    fputs("}}", c->out);
  }
  fputc(']', c->out);
}

static void json_report(diff_ctx *c) {
  fputs("{\"old\":", c->out);
  json_str(c, c->path[0]);
  fputs(",\"new\":", c->out);
  json_str(c, c->path[1]);
  char t[40] = "null";
  if (c->has_as_of) {
    t[0] = '"';
    size_t n = (size_t)io_format_time(c->as_of, t + 1);
    memcpy(t + 1 + n, "\"", 2);
  }
  fprintf(c->out, ",\"as_of\":%s,\"accounts\":%llu,\"changed_accounts\":%llu,\"limit\":", t, ull(c->naccounts),
          ull(c->changed_accounts));
  if (c->limit == SIZE_MAX) fputs("null", c->out);
  else fprintf(c->out, "%llu", ull(c->limit));
  static const char *const keys[3] = {"", "added_", "removed_"};
  for (int playbook = 0; playbook < 2; playbook++)
    for (item_kind kind = ITEM_IN_BOTH; kind <= ITEM_REMOVED; kind++) {
      fprintf(c->out, ",\"%s%s\":", keys[kind], playbook ? "playbooks" : "milestones");
      json_items(c, playbook, kind);
    }
  fputs("}\n", c->out);
}

void diff_report(diff_ctx *c) {
  for (size_t i = 0; i < c->nitems; i++)
    if (c->items[i].changes.len > 1)
      qsort(c->items[i].changes.items, c->items[i].changes.len, sizeof *c->items[i].changes.items, change_cmp);
  if (c->format == DIFF_JSON) {
    json_report(c);
    return;
  }
  for (size_t i = 0; i < c->nitems; i++) text_item(c, &c->items[i]);
  text_summary(c);
}
