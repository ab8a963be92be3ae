/* merge_summary.c — summary.json for `msl merge` (merge_internal.h): each
 * shard's file read as a tree that keeps every value's place in the text,
 * what it records of its run, and the merged file.
 *
 * The merged file is shard 1's text with its numbers replaced: counts
 * added, "percent" and "time_to_complete" recomputed, "shard" null.  The
 * text between values (keys, punctuation, indentation) is copied, and
 * must be the same in every shard, as must every value the merge does not
 * compute: shards of one run agree on everything but their counts, so any
 * other difference (another --report-by, say) is refused.  Which values
 * are computed, and how, is the table `summary_rule` at the end. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/merge_internal.h"
#include "io/output.h"

/* ---- the tree ------------------------------------------------------------------------------ */

typedef struct json_parser {
  arena *a;
  const char *text;
  size_t pos, len;
  int depth;
  char *msg;
  size_t msglen;
} json_parser;

static int64_t line_of(const char *text, size_t pos) {
  int64_t line = 1;
  for (size_t i = 0; i < pos; i++) line += text[i] == '\n';
  return line;
}

static bool json_fail(json_parser *j, const char *what) {
  util_set_msg(j->msg, j->msglen, "line %lld: %s", (long long)line_of(j->text, j->pos), what);
  return false;
}

static void skip_space(json_parser *j) {
  while (j->pos < j->len && strchr(" \t\r\n", j->text[j->pos]) && j->text[j->pos]) j->pos++;
}

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* A string at j->pos (its opening quote), checked, not decoded. */
static bool json_string(json_parser *j) {
  for (j->pos++; j->pos < j->len; j->pos++) {
    unsigned char c = (unsigned char)j->text[j->pos];
    if (c == '"') {
      j->pos++;
      return true;
    }
    if (c < 0x20) return json_fail(j, "a control character in a string");
    if (c != '\\') continue;
    if (++j->pos >= j->len) break;
    char e = j->text[j->pos];
    if (e == 'u') {
      for (int i = 1; i <= 4; i++)
        if (j->pos + (size_t)i >= j->len || !is_hex(j->text[j->pos + (size_t)i]))
          return json_fail(j, "a bad \\u escape in a string");
      j->pos += 4;
    } else if (!e || !strchr("\"\\/bfnrt", e)) {
      return json_fail(j, "a bad escape in a string");
    }
  }
  return json_fail(j, "a string is not closed");
}

static size_t digits(const json_parser *j, size_t at) {
  size_t n = 0;
  while (at + n < j->len && j->text[at + n] >= '0' && j->text[at + n] <= '9') n++;
  return n;
}

static bool json_number(json_parser *j) {
  size_t p = j->pos;
  if (p < j->len && j->text[p] == '-') p++;
  size_t n = digits(j, p);
  if (n == 0 || (n > 1 && j->text[p] == '0')) return json_fail(j, "a bad number");
  p += n;
  if (p < j->len && j->text[p] == '.') {
    if ((n = digits(j, ++p)) == 0) return json_fail(j, "a bad number");
    p += n;
  }
  if (p < j->len && (j->text[p] == 'e' || j->text[p] == 'E')) {
    p++;
    if (p < j->len && (j->text[p] == '+' || j->text[p] == '-')) p++;
    if ((n = digits(j, p)) == 0) return json_fail(j, "a bad number");
    p += n;
  }
  j->pos = p;
  return true;
}

static bool json_value(json_parser *j, merge_json *out);

/* An array or object at j->pos: members collected in growable arrays,
 * then copied into the arena. */
static bool json_container(json_parser *j, merge_json *out, bool object) {
  if (++j->depth > MERGE_JSON_MAX_DEPTH) return json_fail(j, "nesting too deep");
  char close = object ? '}' : ']';
  UTIL_VEC(merge_json) items = {0};
  UTIL_VEC(size_t) key_start = {0}, key_end = {0};
  bool ok = false;
  j->pos++;
  skip_space(j);
  for (bool first = true; !(j->pos < j->len && j->text[j->pos] == close); first = false) {
    if (!first) {
      if (j->pos >= j->len || j->text[j->pos] != ',') {
        json_fail(j, object ? "expected `,` or `}`" : "expected `,` or `]`");
        goto out;
      }
      j->pos++;
      skip_space(j);
    }
    if (object) {
      if (j->pos >= j->len || j->text[j->pos] != '"') {
        json_fail(j, "expected a member name");
        goto out;
      }
      UTIL_VEC_PUSH(key_start, j->pos, 8);
      if (!json_string(j)) goto out;
      UTIL_VEC_PUSH(key_end, j->pos, 8);
      skip_space(j);
      if (j->pos >= j->len || j->text[j->pos] != ':') {
        json_fail(j, "expected `:`");
        goto out;
      }
      j->pos++;
    }
    merge_json v;
    if (!json_value(j, &v)) goto out;
    UTIL_VEC_PUSH(items, v, 8);
    skip_space(j);
  }
  j->pos++;
  out->kind = object ? MJ_OBJECT : MJ_ARRAY;
  out->n = items.len;
  out->items = arena_alloc(j->a, items.len * sizeof *out->items + 1);
  if (items.len) memcpy(out->items, items.items, items.len * sizeof *out->items);
  if (object) {
    out->key_start = arena_alloc(j->a, items.len * sizeof(size_t) + 1);
    out->key_end = arena_alloc(j->a, items.len * sizeof(size_t) + 1);
    if (items.len) {
      memcpy(out->key_start, key_start.items, items.len * sizeof(size_t));
      memcpy(out->key_end, key_end.items, items.len * sizeof(size_t));
    }
  }
  j->depth--;
  ok = true;
out:
  free(items.items);
  free(key_start.items);
  free(key_end.items);
  return ok;
}

static bool literal(json_parser *j, const char *word) {
  size_t n = strlen(word);
  if (j->len - j->pos < n || memcmp(j->text + j->pos, word, n) != 0) return false;
  j->pos += n;
  return true;
}

static bool json_value(json_parser *j, merge_json *out) {
  skip_space(j);
  *out = (merge_json){.start = j->pos};
  if (j->pos >= j->len) return json_fail(j, "a value is missing");
  char c = j->text[j->pos];
  bool ok;
  if (c == '{' || c == '[') {
    ok = json_container(j, out, c == '{');
  } else if (c == '"') {
    out->kind = MJ_STRING;
    ok = json_string(j);
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    out->kind = MJ_NUMBER;
    ok = json_number(j);
  } else if (literal(j, "true")) {
    out->kind = MJ_TRUE;
    ok = true;
  } else if (literal(j, "false")) {
    out->kind = MJ_FALSE;
    ok = true;
  } else {
    out->kind = MJ_NULL;
    ok = literal(j, "null") || json_fail(j, "not a JSON value");
  }
  out->end = j->pos;
  return ok;
}

bool merge_json_parse(arena *a, const char *text, size_t len, merge_json *out, char *msg, size_t msglen) {
  json_parser j = {a, text, 0, len, 0, msg, msglen};
  if (!json_value(&j, out)) return false;
  skip_space(&j);
  return j.pos == len || json_fail(&j, "text after the value");
}

/* The member of obj named key[0..key_len) as written, quotes included. */
static const merge_json *member_as_written(const char *text, const merge_json *obj, const char *key, size_t key_len) {
  if (!obj || obj->kind != MJ_OBJECT) return NULL;
  for (size_t i = 0; i < obj->n; i++)
    if (obj->key_end[i] - obj->key_start[i] == key_len && memcmp(text + obj->key_start[i], key, key_len) == 0)
      return &obj->items[i];
  return NULL;
}

const merge_json *merge_json_get(const char *text, const merge_json *obj, const char *key) {
  char quoted[64];
  int n = snprintf(quoted, sizeof quoted, "\"%s\"", key);
  return n > 0 && (size_t)n < sizeof quoted ? member_as_written(text, obj, quoted, (size_t)n) : NULL;
}

bool merge_json_int(const char *text, const merge_json *v, int64_t *out) {
  if (!v || v->kind != MJ_NUMBER) return false;
  size_t i = v->start;
  bool negative = text[i] == '-';
  int64_t n = 0;
  for (i += negative; i < v->end; i++) {
    int d = text[i] - '0';
    if (d < 0 || d > 9 || __builtin_mul_overflow(n, 10, &n) || __builtin_sub_overflow(n, d, &n)) return false;
  }
  if (!negative && n == INT64_MIN) return false;
  *out = negative ? n : -n;   /* accumulated negative: INT64_MIN fits */
  return true;
}

/* ---- a shard's summary.json -------------------------------------------------------------------- */

static bool string_is(const char *text, const merge_json *v, const char *s) {
  size_t n = strlen(s);
  return v && v->kind == MJ_STRING && v->end - v->start == n + 2 && memcmp(text + v->start + 1, s, n) == 0;
}

static merge_status read_file(const char *path, char **text, size_t *len, char *msg, size_t msglen) {
  FILE *f = fopen(path, "rb");
  UTIL_VEC(char) buf = {0};
  if (f) {
    char chunk[1 << 16];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
      util_xgrow(&buf.items, &buf.cap, buf.len + got + 1, 1, sizeof chunk);
      memcpy(buf.items + buf.len, chunk, got);
      buf.len += got;
    }
  }
  if (!f || ferror(f)) {
    util_set_msg(msg, msglen, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
    if (f) fclose(f);
    free(buf.items);
    return MERGE_IO;
  }
  fclose(f);
  *text = buf.items ? buf.items : util_xalloc(1);
  *len = buf.len;
  return MERGE_OK;
}

merge_status merge_summary_read(merge_shard *s, arena *a, char *msg, size_t msglen) {
  size_t dl = strlen(s->dir);
  s->summary_path = arena_printf(a, "%s%ssummary.json", s->dir, dl && s->dir[dl - 1] == '/' ? "" : "/");
  merge_status st = read_file(s->summary_path, &s->text, &s->len, msg, msglen);
  if (st) return st;
  char why[256];
  if (!merge_json_parse(a, s->text, s->len, &s->root, why, sizeof why)) {
    util_set_msg(msg, msglen, "%s: not JSON: %s", s->summary_path, why);
    return MERGE_BAD_INPUT;
  }
  const merge_json *shard = merge_json_get(s->text, &s->root, "shard");
  if (!shard) {
    util_set_msg(msg, msglen, "%s records no shard: it is not the result of msl run --shard K/N", s->summary_path);
    return MERGE_REFUSED;
  }
  if (shard->kind == MJ_NULL) {
    util_set_msg(msg, msglen, "%s is not a shard: its run had no --shard K/N", s->dir);
    return MERGE_REFUSED;
  }
  const merge_json *format = merge_json_get(s->text, &s->root, "format");
  const merge_json *history = merge_json_get(s->text, &s->root, "history");
  if (!merge_json_int(s->text, merge_json_get(s->text, shard, "index"), &s->index) ||
      !merge_json_int(s->text, merge_json_get(s->text, shard, "count"), &s->count) || s->index < 1 ||
      s->index > s->count || !(string_is(s->text, format, "csv") || string_is(s->text, format, "jsonl")) ||
      !history || (history->kind != MJ_TRUE && history->kind != MJ_FALSE) ||
      !merge_json_get(s->text, &s->root, "program_sha256") || !merge_json_get(s->text, &s->root, "as_of")) {
    util_set_msg(msg, msglen, "%s: \"shard\", \"format\", \"history\", \"program_sha256\" or \"as_of\" is not as msl run writes it",
                 s->summary_path);
    return MERGE_BAD_INPUT;
  }
  s->jsonl = string_is(s->text, format, "jsonl");
  s->history = history->kind == MJ_TRUE;
  return MERGE_OK;
}

merge_status merge_summary_milestones(const merge_shard *s, arena *a, merge_milestone **out, size_t *n,
                                      char *msg, size_t msglen) {
  const merge_json *list = merge_json_get(s->text, &s->root, "milestones");
  if (!list || list->kind != MJ_ARRAY) {
    util_set_msg(msg, msglen, "%s has no \"milestones\" list", s->summary_path);
    return MERGE_BAD_INPUT;
  }
  *n = list->n;
  *out = arena_alloc(a, list->n * sizeof **out + 1);
  for (size_t i = 0; i < list->n; i++) {
    const merge_json *name = merge_json_get(s->text, &list->items[i], "name");
    const merge_json *status = merge_json_get(s->text, &list->items[i], "status");
    bool once = merge_json_get(s->text, status, "completed") != NULL;
    if (!name || name->kind != MJ_STRING || (!once && !merge_json_get(s->text, status, "achieving"))) {
      util_set_msg(msg, msglen, "%s:%lld: a milestone without its name or statuses", s->summary_path,
                   (long long)line_of(s->text, list->items[i].start));
      return MERGE_BAD_INPUT;
    }
    (*out)[i] = (merge_milestone){.name = s->text + name->start + 1, .name_len = name->end - name->start - 2,
                                  .continuous = !once};
  }
  return MERGE_OK;
}

/* ---- the merged summary ------------------------------------------------------------------------ */

/* How a value of the merged file is made from the shards' values. */
typedef enum {
  RULE_SAME,               /* the same in every shard (containers: throughout) */
  RULE_SUM,                /* integers added (containers: every integer in them) */
  RULE_NULL,               /* null ("shard": a run without --shard) */
  RULE_PERCENT,            /* a "percent" member: 100 * status count / applicable */
  RULE_TIME,               /* a "time_to_complete" member, from the milestone rows */
  RULE_UNION,              /* an object of counts by key ("by" values): the union, counts added */
  RULE_OBJECT,             /* members by the table; others by `child` (NULL: RULE_SAME) */
  RULE_ARRAY,              /* every element by `child` */
  RULE_MILESTONES,         /* RULE_ARRAY over the milestones: PERCENT and TIME know which */
} rule_kind;

typedef struct merge_rule merge_rule;
typedef struct rule_member {
  const char *key;         /* as written, quotes included */
  const merge_rule *rule;
} rule_member;

struct merge_rule {
  rule_kind kind;
  const rule_member *members;   /* RULE_OBJECT; ends with a NULL key */
  const merge_rule *child;
};

typedef struct merge_ctx {
  const merge_shard *shards;
  merge_milestone *ms;
  size_t nms, mi;          /* the milestone being merged */
  const merge_json **milestone;   /* its entry in each shard */
  const char *key;         /* the member being merged, as written in shard 1 */
  size_t key_len;
  merge_text *out;
  char *msg;
  size_t msglen;
} merge_ctx;

/* nodes[k] is a value of shard shard_of[k]: all shards, or those that
 * have a RULE_UNION key. */
typedef struct node_set {
  const merge_json **nodes;
  const int *shard_of;
  int n;
} node_set;

static void put(merge_ctx *c, const char *p, size_t n) {
  util_xgrow(&c->out->items, &c->out->cap, c->out->len + n, 1, 1 << 16);
  memcpy(c->out->items + c->out->len, p, n);
  c->out->len += n;
}

static void put_str(merge_ctx *c, const char *s) { put(c, s, strlen(s)); }

static const char *text_of(const merge_ctx *c, const node_set *s, int k) { return c->shards[s->shard_of[k]].text; }

static merge_status differs(merge_ctx *c, const node_set *s, int k) {
  const merge_shard *sh = &c->shards[s->shard_of[k]], *first = &c->shards[s->shard_of[0]];
  util_set_msg(c->msg, c->msglen, "%s:%lld: differs from %s, where shards of one run agree", sh->summary_path,
               (long long)line_of(sh->text, s->nodes[k]->start), first->summary_path);
  return MERGE_REFUSED;
}

static merge_status not_a_count(merge_ctx *c, const node_set *s, int k) {
  const merge_shard *sh = &c->shards[s->shard_of[k]];
  util_set_msg(c->msg, c->msglen, "%s:%lld: not a count", sh->summary_path,
               (long long)line_of(sh->text, s->nodes[k]->start));
  return MERGE_BAD_INPUT;
}

static merge_status sum_values(merge_ctx *c, const node_set *s, int64_t *sum) {
  *sum = 0;
  for (int k = 0; k < s->n; k++) {
    int64_t v;
    if (!merge_json_int(text_of(c, s, k), s->nodes[k], &v) || v < 0 || __builtin_add_overflow(*sum, v, sum))
      return not_a_count(c, s, k);
  }
  return MERGE_OK;
}

static void put_i64(merge_ctx *c, int64_t v) {
  char buf[24];
  put(c, buf, (size_t)snprintf(buf, sizeof buf, "%" PRId64, v));
}

static merge_status merge_value(merge_ctx *c, const node_set *s, const merge_rule *rule);

/* A value no rule computes: the same bytes in every shard. */
static merge_status same_leaf(merge_ctx *c, const node_set *s) {
  const merge_json *v0 = s->nodes[0];
  for (int k = 1; k < s->n; k++) {
    const merge_json *v = s->nodes[k];
    if (v->end - v->start != v0->end - v0->start ||
        memcmp(text_of(c, s, k) + v->start, text_of(c, s, 0) + v0->start, v0->end - v0->start) != 0)
      return differs(c, s, k);
  }
  put(c, text_of(c, s, 0) + v0->start, v0->end - v0->start);
  return MERGE_OK;
}

/* The text of container v before its child i, its key included (i ==
 * n: after the last child). */
static void gap(const merge_json *v, size_t i, size_t *from, size_t *to) {
  *from = i == 0 ? v->start : v->items[i - 1].end;
  *to = i == v->n ? v->end : v->items[i].start;
}

static const merge_rule rule_same = {RULE_SAME, NULL, NULL};

/* The rule of child i of container v (shard 1's); an object's member
 * becomes c->key. */
static const merge_rule *child_rule(merge_ctx *c, const char *text, const merge_json *v, size_t i,
                                    const merge_rule *rule) {
  if (v->kind == MJ_OBJECT) {
    c->key = text + v->key_start[i];
    c->key_len = v->key_end[i] - v->key_start[i];
  }
  if (rule->kind == RULE_SUM || rule->kind == RULE_SAME) return rule;
  if (rule->kind != RULE_OBJECT) return rule->child;
  for (const rule_member *m = rule->members; m && m->key; m++)
    if (strlen(m->key) == c->key_len && memcmp(m->key, c->key, c->key_len) == 0) return m->rule;
  return rule->child ? rule->child : &rule_same;
}

/* An array or object: the same shape and text between values in every
 * shard; each child by its rule. */
static merge_status merge_container(merge_ctx *c, const node_set *s, const merge_rule *rule) {
  const merge_json *v0 = s->nodes[0];
  const char *t0 = text_of(c, s, 0);
  if ((rule->kind == RULE_OBJECT && v0->kind != MJ_OBJECT) ||
      ((rule->kind == RULE_ARRAY || rule->kind == RULE_MILESTONES) && v0->kind != MJ_ARRAY)) {
    util_set_msg(c->msg, c->msglen, "%s:%lld: not as msl run writes it", c->shards[s->shard_of[0]].summary_path,
                 (long long)line_of(t0, v0->start));
    return MERGE_BAD_INPUT;
  }
  for (int k = 1; k < s->n; k++)
    if (s->nodes[k]->kind != v0->kind || s->nodes[k]->n != v0->n) return differs(c, s, k);
  const merge_json **children = util_xalloc((size_t)s->n * sizeof *children);
  node_set sub = {children, s->shard_of, s->n};
  merge_status st = MERGE_OK;
  for (size_t i = 0; i <= v0->n && !st; i++) {
    size_t from, to;
    gap(v0, i, &from, &to);
    for (int k = 1; k < s->n && !st; k++) {
      size_t f, t;
      gap(s->nodes[k], i, &f, &t);
      if (t - f != to - from || memcmp(text_of(c, s, k) + f, t0 + from, to - from) != 0) st = differs(c, s, k);
    }
    if (st) break;
    put(c, t0 + from, to - from);
    if (i == v0->n) break;
    for (int k = 0; k < s->n; k++) children[k] = &s->nodes[k]->items[i];
    const merge_rule *r = child_rule(c, t0, v0, i, rule);
    if (rule->kind == RULE_MILESTONES) {
      if (i >= c->nms) {
        st = differs(c, s, 0);
        break;
      }
      c->mi = i;
      for (int k = 0; k < s->n; k++) c->milestone[k] = children[k];
    }
    st = merge_value(c, &sub, r);
  }
  free(children);
  return st;
}

/* 100 * count / applicable of the milestone's status c->key. */
static merge_status merge_percent(merge_ctx *c, const node_set *s) {
  int64_t count = 0, applicable = 0;
  for (int k = 0; k < s->n; k++) {
    const char *text = text_of(c, s, k);
    const merge_json *status = merge_json_get(text, c->milestone[k], "status");
    int64_t n, a;
    if (!merge_json_int(text, member_as_written(text, status, c->key, c->key_len), &n) ||
        !merge_json_int(text, merge_json_get(text, c->milestone[k], "applicable"), &a) ||
        __builtin_add_overflow(count, n, &count) || __builtin_add_overflow(applicable, a, &applicable))
      return not_a_count(c, s, k);
  }
  if (applicable == 0) {
    put_str(c, "null");
  } else {
    char buf[32];
    put(c, buf, (size_t)out_format_ratio(count, applicable, 100, 2, false, buf));
  }
  return MERGE_OK;
}

static int compare_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* "count", "median_s" or "p90_s" of the milestone's times to complete. */
static merge_status merge_time(merge_ctx *c, const node_set *s) {
  merge_milestone *m = &c->ms[c->mi];
  bool median = c->key_len == 10 && memcmp(c->key, "\"median_s\"", 10) == 0;
  bool p90 = c->key_len == 7 && memcmp(c->key, "\"p90_s\"", 7) == 0;
  if (c->key_len == 7 && memcmp(c->key, "\"count\"", 7) == 0) {
    int64_t sum;
    merge_status st = sum_values(c, s, &sum);
    if (st) return st;
    if ((uint64_t)sum != m->ndurations) {
      util_set_msg(c->msg, c->msglen,
                   "milestone %.*s: the shards' milestone rows have %zu times to complete, their summary.json %lld",
                   (int)m->name_len, m->name, m->ndurations, (long long)sum);
      return MERGE_BAD_INPUT;
    }
    put_i64(c, sum);
    if (m->ndurations) qsort(m->durations_us, m->ndurations, sizeof *m->durations_us, compare_i64);
  } else if ((median || p90) && m->ndurations == 0) {
    put_str(c, "null");
  } else if (median || p90) {
    char buf[32];
    put(c, buf, (size_t)out_format_seconds(out_nearest_rank(m->durations_us, m->ndurations, median ? 50 : 90), buf));
  } else {
    return same_leaf(c, s);
  }
  return MERGE_OK;
}

/* A key of a RULE_UNION object: its text and where it is. */
typedef struct union_key {
  const char *p;
  size_t len;
  int k;                   /* the index in the node set */
  size_t i;                /* the member */
} union_key;

static int union_key_cmp(const void *x, const void *y) {
  const union_key *a = x, *b = y;
  int d = memcmp(a->p, b->p, a->len < b->len ? a->len : b->len);
  if (d) return d;
  if (a->len != b->len) return (a->len > b->len) - (a->len < b->len);
  return (a->k > b->k) - (a->k < b->k);
}

/* The union of objects of counts ("by" values: a value's key appears in
 * the shards where some account has it), keys in byte order as
 * report_by_write orders them, laid out as the shards lay them out. */
static merge_status merge_union(merge_ctx *c, const node_set *s) {
  UTIL_VEC(union_key) keys = {0};
  int with = -1;           /* a shard with a key, whose layout is copied */
  for (int k = 0; k < s->n; k++) {
    const merge_json *v = s->nodes[k];
    if (v->kind != MJ_OBJECT) return differs(c, s, k);
    for (size_t i = 0; i < v->n; i++) {
      union_key key = {text_of(c, s, k) + v->key_start[i], v->key_end[i] - v->key_start[i], k, i};
      UTIL_VEC_PUSH(keys, key, 16);
      with = k;
    }
  }
  if (with < 0) return same_leaf(c, s);
  qsort(keys.items, keys.len, sizeof *keys.items, union_key_cmp);
  const merge_json *lay = s->nodes[with];
  const char *lt = text_of(c, s, with);
  const merge_json **group = util_xalloc((size_t)s->n * sizeof *group);
  int *group_shard = util_xalloc((size_t)s->n * sizeof *group_shard);
  merge_status st = MERGE_OK;
  put_str(c, "{");
  for (size_t g = 0, next; g < keys.len && !st; g = next) {
    int n = 0;
    for (next = g; next < keys.len && keys.items[next].len == keys.items[g].len &&
                   memcmp(keys.items[next].p, keys.items[g].p, keys.items[g].len) == 0; next++) {
      group[n] = &s->nodes[keys.items[next].k]->items[keys.items[next].i];
      group_shard[n++] = s->shard_of[keys.items[next].k];
    }
    const union_key *first = &keys.items[g];
    const merge_json *owner = s->nodes[first->k];
    if (g) put_str(c, ",");
    put(c, lt + lay->start + 1, lay->key_start[0] - lay->start - 1);   /* the indentation */
    put(c, first->p, owner->items[first->i].start - owner->key_start[first->i]);   /* key, colon */
    static const merge_rule sum = {RULE_SUM, NULL, NULL};
    st = merge_value(c, &(node_set){group, group_shard, n}, &sum);
  }
  if (!st) put(c, lt + lay->items[lay->n - 1].end, lay->end - lay->items[lay->n - 1].end);
  free(group);
  free(group_shard);
  free(keys.items);
  return st;
}

static merge_status merge_value(merge_ctx *c, const node_set *s, const merge_rule *rule) {
  const merge_json *v0 = s->nodes[0];
  switch (rule->kind) {
    case RULE_NULL:
      put_str(c, "null");
      return MERGE_OK;
    case RULE_PERCENT: return merge_percent(c, s);
    case RULE_TIME: return merge_time(c, s);
    case RULE_UNION: return merge_union(c, s);
    case RULE_SUM:
      if (v0->kind == MJ_NUMBER) {
        int64_t sum;
        merge_status st = sum_values(c, s, &sum);
        if (!st) put_i64(c, sum);
        return st;
      }
      break;
    default: break;
  }
  return v0->kind == MJ_ARRAY || v0->kind == MJ_OBJECT ? merge_container(c, s, rule) : same_leaf(c, s);
}

/* Which values the merge computes (see the top of the file). */
static const merge_rule rule_sum = {RULE_SUM, NULL, NULL};
static const merge_rule rule_null = {RULE_NULL, NULL, NULL};
static const merge_rule rule_percent = {RULE_PERCENT, NULL, NULL};
static const merge_rule rule_time = {RULE_TIME, NULL, NULL};
static const merge_rule rule_union = {RULE_UNION, NULL, NULL};
static const rule_member by_members[] = {{"\"values\"", &rule_union}, {NULL, NULL}};
static const rule_member action_members[] = {{"\"done\"", &rule_sum}, {NULL, NULL}};
static const merge_rule rule_action = {RULE_OBJECT, action_members, NULL};
static const rule_member milestone_members[] = {
  {"\"applicable\"", &rule_sum},
  {"\"status\"", &rule_sum},
  {"\"percent\"", &(const merge_rule){RULE_OBJECT, NULL, &rule_percent}},
  {"\"time_to_complete\"", &(const merge_rule){RULE_OBJECT, NULL, &rule_time}},
  {"\"actions\"", &(const merge_rule){RULE_ARRAY, NULL, &rule_action}},
  {"\"tracking\"", &rule_sum},
  {"\"by\"", &(const merge_rule){RULE_OBJECT, by_members, NULL}},
  {NULL, NULL},
};
static const rule_member playbook_members[] = {{"\"applicable\"", &rule_sum}, {"\"steps\"", &rule_sum}, {NULL, NULL}};
static const rule_member summary_members[] = {
  {"\"shard\"", &rule_null},
  {"\"rows\"", &rule_sum},
  {"\"milestones\"", &(const merge_rule){RULE_MILESTONES, NULL, &(const merge_rule){RULE_OBJECT, milestone_members, NULL}}},
  {"\"playbooks\"", &(const merge_rule){RULE_ARRAY, NULL, &(const merge_rule){RULE_OBJECT, playbook_members, NULL}}},
  {NULL, NULL},
};
static const merge_rule summary_rule = {RULE_OBJECT, summary_members, NULL};

merge_status merge_summary_write(const merge_shard *shards, int n, merge_milestone *ms, size_t nms,
                                 merge_text *out, char *msg, size_t msglen) {
  const merge_json **roots = util_xalloc((size_t)n * sizeof *roots);
  int *shard_of = util_xalloc((size_t)n * sizeof *shard_of);
  const merge_json **milestone = util_xalloc((size_t)n * sizeof *milestone);
  for (int k = 0; k < n; k++) {
    roots[k] = &shards[k].root;
    shard_of[k] = k;
  }
  merge_ctx c = {.shards = shards, .ms = ms, .nms = nms, .milestone = milestone, .out = out, .msg = msg,
                 .msglen = msglen};
  merge_status st = merge_value(&c, &(node_set){roots, shard_of, n}, &summary_rule);
  if (!st) put(&c, shards[0].text + shards[0].root.end, shards[0].len - shards[0].root.end);
  free(roots);
  free(shard_of);
  free(milestone);
  return st;
}
