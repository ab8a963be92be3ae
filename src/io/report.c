/* report.c — report.html from the result files (report.h).
 *
 * summary.json gives the milestones and playbooks, in declaration order,
 * with the counts the page shows; the rows give which account is in which
 * status or step, for the lists a reader drills down into, and are checked
 * against summary.json's counts (a directory whose files disagree is
 * refused, not shown half right).  signals.csv is summed per signal.  The
 * tracking rows, when there are any, give which started account keeps pace
 * with the estimate, and are checked against each milestone's "tracking"
 * counts; a milestone's "by" counts (--report-by) are checked to list its
 * statuses and add up to them, and go to the page as they are.
 *
 * The page carries its data as one JSON value in a
 * <script type="application/json"> element, read by the page's own script,
 * which builds the DOM with textContent only.  Every string from the files
 * is escaped for JSON and also so that it can never end that element or
 * open a comment: `<`, `>` and `&` are written as \u003c, \u003e, \u0026.
 * To stay small with 100,000 accounts, each id is written once (sorted
 * bytewise) and each milestone's statuses and each playbook's steps are one
 * string with a fixed-width base-62 code per account (0: not applicable,
 * k: the k-th status or step of summary.json).  A milestone's code also
 * holds the account's tracking state, so that tracking costs no bytes:
 * status code + (statuses + 1) * t, t being 0 for no tracking row and k
 * for the k-th state of the milestone's "tracking". */
#include "io/report.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/htable.h"
#include "core/sha256.h"
#include "core/util.h"
#include "io/report_internal.h"

typedef struct account {
  const char *id;
  size_t len;
  size_t index;            /* in the order first seen: the row of the code arrays */
} account;

typedef struct milestone_model {
  const report_json *node;     /* its object in summary.json */
  const report_json *name;
  const report_json *status;   /* its "status" object: status -> count */
  const report_json *tracking; /* its "tracking" object: state -> count; NULL when null or absent */
  const report_json *by;       /* its "by" object (--report-by), checked; NULL when null or absent */
  int64_t *rows;               /* rows read per status */
  int64_t *tracking_rows;      /* tracking rows read per state */
} milestone_model;

typedef struct playbook_model {
  const report_json *node;
  const report_json *name;
  const report_json *steps;    /* step -> count: the steps, "done", "not_started" */
  int64_t *rows;
} playbook_model;

typedef struct signal_stat {
  const char *signal, *source;
  size_t signal_len, source_len;
  int64_t count, accounts;
  size_t last_account;         /* index + 1 of the last account counted; rows come by account */
} signal_stat;

typedef struct report_model {
  arena a;
  const report_json *summary;
  milestone_model *ms;
  size_t nms;
  playbook_model *pb;
  size_t npb;
  htable ms_by_name, pb_by_name, account_by_id, signal_by_key;
  bool by_id;                  /* accounts are in id order (as msl writes them); account_by_id
                                  is filled only once one comes out of order */
  account *last;               /* the last account looked up: rows come account by account */
  size_t next_unit[2];         /* after the last playbook [0] and milestone [1] a row named */
  UTIL_VEC(account *) accounts;
  UTIL_VEC(signal_stat *) signals;
  uint16_t *ms_codes;          /* account-major: naccounts x nms; 0 or 1 + status index, plus
                                  (statuses + 1) x (1 + tracking state index) when tracked */
  uint32_t *pb_codes;          /* naccounts x npb; 0 or 1 + step index */
  size_t codes_cap;            /* accounts the code arrays have room for */
  bool tracked;                /* the tracking rows were read */
} report_model;

/* A status, step or tracking state list longer than this is not one msl
 * writes (and a milestone's codes fit 16 bits: 251 x 251 < 65536). */
#define MAX_STATUSES 250

/* ---- summary.json ------------------------------------------------------------------------- */

static char *read_whole_file(const char *path, size_t *len, char *msg, size_t msglen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    util_set_msg(msg, msglen, "cannot read %s: %s", path, strerror(errno));
    return NULL;
  }
  UTIL_VEC(char) buf = {0};
  size_t n;
  do {
    util_xgrow(&buf.items, &buf.cap, buf.len + 65536, 1, 65536);
    n = fread(buf.items + buf.len, 1, buf.cap - buf.len, f);
    buf.len += n;
  } while (n > 0);
  bool failed = ferror(f);
  int err = errno;
  fclose(f);
  if (failed) {
    util_set_msg(msg, msglen, "cannot read %s: %s", path, strerror(err ? err : EIO));
    free(buf.items);
    return NULL;
  }
  *len = buf.len;
  return buf.items;
}

static bool is_count(const report_json *v) {
  return v && v->kind == REPORT_JSON_NUMBER && v->len > 0 && v->len < 19 && strspn(v->text, "0123456789") == v->len;
}

static int64_t count_of(const report_json *v) { return strtoll(v->text, NULL, 10); }

/* An object of counts, each a non-negative integer, at most MAX_STATUSES. */
static bool is_count_object(const report_json *v) {
  if (!v || v->kind != REPORT_JSON_OBJECT || v->n > MAX_STATUSES) return false;
  for (size_t i = 0; i < v->n; i++)
    if (!is_count(v->items[i])) return false;
  return true;
}

static bool is_string(const report_json *v) { return v && v->kind == REPORT_JSON_STRING; }

/* Whether objects a and b have the same member names in the same order. */
static bool same_keys(const report_json *a, const report_json *b) {
  if (a->n != b->n) return false;
  for (size_t k = 0; k < a->n; k++)
    if (a->key_lens[k] != b->key_lens[k] || memcmp(a->keys[k], b->keys[k], a->key_lens[k]) != 0) return false;
  return true;
}

/* A text for a message: at most 60 bytes, control bytes escaped. */
static const char *shown_text(const char *p, size_t len, char buf[128]) {
  util_escape(buf, 128, p, len, "", 60);
  return buf;
}

/* A milestone's "tracking" (counts, or null) and "by" (--report-by), both
 * optional: each value of "by" lists the statuses of "status", in its
 * order, and for each status the values add up to its count. */
static bool load_extras(milestone_model *ms, const char *path, char *msg, size_t msglen) {
  const char *name = report_json_get(ms->node, "name")->text;
  const report_json *tracking = report_json_get(ms->node, "tracking"), *by = report_json_get(ms->node, "by");
  if (tracking && tracking->kind != REPORT_JSON_NULL) {
    if (!is_count_object(tracking)) {
      util_set_msg(msg, msglen, "%s: milestone `%s`: \"tracking\" is neither null nor counts", path, name);
      return false;
    }
    ms->tracking = tracking;
  }
  if (!by || by->kind == REPORT_JSON_NULL) return true;
  const report_json *values = report_json_get(by, "values");
  if (!is_string(report_json_get(by, "field")) || !values || values->kind != REPORT_JSON_OBJECT) {
    util_set_msg(msg, msglen, "%s: milestone `%s`: \"by\" is not {\"field\": NAME, \"values\": {VALUE: "
                 "{STATUS: count}}}", path, name);
    return false;
  }
  char b1[128];
  for (size_t v = 0; v < values->n; v++)
    if (!is_count_object(values->items[v]) || !same_keys(values->items[v], ms->status)) {
      util_set_msg(msg, msglen, "%s: milestone `%s`: the \"by\" counts of value `%s` are not those of its statuses",
                   path, name, shown_text(values->keys[v], values->key_lens[v], b1));
      return false;
    }
  for (size_t k = 0; k < ms->status->n; k++) {
    int64_t want = count_of(ms->status->items[k]), sum = 0;
    /* each count is below 10^18: the sum stops before it could overflow */
    for (size_t v = 0; v < values->n && sum <= want; v++) sum += count_of(values->items[v]->items[k]);
    if (sum != want) {
      util_set_msg(msg, msglen, "%s: milestone `%s`: the \"by\" counts of status `%s` add up to %s%lld, but "
                   "\"status\" counts %lld", path, name, ms->status->keys[k], sum > want ? "more than " : "",
                   (long long)(sum > want ? want : sum), (long long)want);
      return false;
    }
  }
  ms->by = by;
  return true;
}

/* Reads summary.json and indexes its milestones and playbooks by name. */
static bool load_summary(report_model *m, const char *path, char *msg, size_t msglen) {
  size_t len;
  char *text = read_whole_file(path, &len, msg, msglen);
  if (!text) return false;
  char what[200];
  const report_json *s = report_json_parse(&m->a, text, len, what, sizeof what);
  free(text);
  if (!s) {
    util_set_msg(msg, msglen, "%s: not JSON: %s", path, what);
    return false;
  }
  const report_json *ms = report_json_get(s, "milestones"), *pb = report_json_get(s, "playbooks");
  if (!ms || ms->kind != REPORT_JSON_ARRAY || !pb || pb->kind != REPORT_JSON_ARRAY) {
    util_set_msg(msg, msglen, "%s: not msl's summary: it needs \"milestones\" and \"playbooks\" arrays", path);
    return false;
  }
  m->summary = s;
  m->nms = ms->n;
  m->npb = pb->n;
  m->ms = arena_alloc(&m->a, m->nms * sizeof *m->ms + 1);
  m->pb = arena_alloc(&m->a, m->npb * sizeof *m->pb + 1);
  for (size_t i = 0; i < ms->n; i++) {
    const report_json *node = ms->items[i], *name = report_json_get(node, "name");
    const report_json *status = report_json_get(node, "status");
    if (!is_string(name) || !is_count(report_json_get(node, "applicable")) || !is_count_object(status)) {
      util_set_msg(msg, msglen, "%s: milestone %zu lacks a name, an applicable count or its status counts", path, i + 1);
      return false;
    }
    m->ms[i] = (milestone_model){.node = node, .name = name, .status = status,
                                 .rows = arena_alloc(&m->a, status->n * sizeof(int64_t) + 1)};
    if (htable_put(&m->ms_by_name, name->text, name->len, &m->ms[i]) != &m->ms[i]) {
      util_set_msg(msg, msglen, "%s: milestone `%s` appears twice", path, name->text);
      return false;
    }
    if (!load_extras(&m->ms[i], path, msg, msglen)) return false;
    if (m->ms[i].tracking) m->ms[i].tracking_rows = arena_alloc(&m->a, m->ms[i].tracking->n * sizeof(int64_t) + 1);
  }
  for (size_t i = 0; i < pb->n; i++) {
    const report_json *node = pb->items[i], *name = report_json_get(node, "name");
    const report_json *steps = report_json_get(node, "steps");
    if (!is_string(name) || !is_count(report_json_get(node, "applicable")) || !is_count_object(steps) ||
        steps->n < 2 || strcmp(steps->keys[steps->n - 1], "not_started") != 0 ||
        strcmp(steps->keys[steps->n - 2], "done") != 0) {
      util_set_msg(msg, msglen, "%s: playbook %zu lacks a name, an applicable count or its step counts "
                   "(the steps, then done and not_started)", path, i + 1);
      return false;
    }
    m->pb[i] = (playbook_model){node, name, steps, arena_alloc(&m->a, steps->n * sizeof(int64_t) + 1)};
    if (htable_put(&m->pb_by_name, name->text, name->len, &m->pb[i]) != &m->pb[i]) {
      util_set_msg(msg, msglen, "%s: playbook `%s` appears twice", path, name->text);
      return false;
    }
  }
  return true;
}

/* ---- rows ----------------------------------------------------------------------------------- */

/* The account with this id, if any. */
static bool account_is(const account *a, const report_cell *id) {
  return a->len == id->len && memcmp(a->id, id->p, id->len) == 0;
}

/* The order msl writes accounts in: by the bytes of the id, a prefix first. */
static int compare_id(const account *a, const report_cell *id) {
  int c = memcmp(a->id, id->p, a->len < id->len ? a->len : id->len);
  return c ? c : (a->len > id->len) - (a->len < id->len);
}

/* The account with this id among accounts in id order (m->by_id). */
static account *search_by_id(const report_model *m, const report_cell *id) {
  size_t lo = 0, hi = m->accounts.len;
  if (!hi || compare_id(m->accounts.items[hi - 1], id) < 0) return NULL;   /* past the last: new */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = compare_id(m->accounts.items[mid], id);
    if (!c) return m->accounts.items[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* Each file names the accounts in one order (msl writes them by id): the
 * last one found, or the one after it, is most often the one wanted.  The
 * others are searched for while the accounts are in id order (the hash
 * table's probes of 100,000 ids missed the cache: a quarter of the
 * report's time), and looked up by hash after. */
static account *lookup_account(report_model *m, const report_cell *id) {
  account *a = m->last;
  if (a && account_is(a, id)) return a;
  if (a && a->index + 1 < m->accounts.len && account_is(m->accounts.items[a->index + 1], id))
    return m->last = m->accounts.items[a->index + 1];
  a = m->by_id ? search_by_id(m, id) : htable_get(&m->account_by_id, id->p, id->len);
  if (a) m->last = a;
  return a;
}

/* Room for the codes of cap accounts. */
static void reserve_codes(report_model *m, size_t cap) {
  size_t old = m->codes_cap;
  if (cap <= old) return;
  m->ms_codes = util_xrealloc(m->ms_codes, cap * (m->nms ? m->nms : 1) * sizeof *m->ms_codes);
  m->pb_codes = util_xrealloc(m->pb_codes, cap * (m->npb ? m->npb : 1) * sizeof *m->pb_codes);
  memset(m->ms_codes + old * m->nms, 0, (cap - old) * m->nms * sizeof *m->ms_codes);
  memset(m->pb_codes + old * m->npb, 0, (cap - old) * m->npb * sizeof *m->pb_codes);
  m->codes_cap = cap;
}

/* The accounts the files should name, as summary.json counts them (the
 * most any milestone or playbook applies to), capped: it only sizes the
 * code arrays, which grow past it if the files name more. */
static size_t expected_accounts(const report_model *m) {
  int64_t most = 0;
  for (size_t u = 0; u < m->nms + m->npb; u++) {
    const report_json *node = u < m->nms ? m->ms[u].node : m->pb[u - m->nms].node;
    int64_t n = count_of(report_json_get(node, "applicable"));
    if (n > most) most = n;
  }
  return most > (1 << 20) ? (size_t)1 << 20 : (size_t)most;
}

static account *find_account(report_model *m, const report_cell *id) {
  account *a = lookup_account(m, id);
  if (a) return a;
  a = arena_alloc(&m->a, sizeof *a);
  a->id = arena_strndup(&m->a, id->p, id->len);
  a->len = id->len;
  a->index = m->accounts.len;
  if (m->by_id && m->accounts.len && compare_id(m->accounts.items[m->accounts.len - 1], id) > 0) {
    m->by_id = false;   /* out of order: every account so far goes to the table */
    htable_reserve(&m->account_by_id, m->accounts.len + 1);
    for (size_t i = 0; i < m->accounts.len; i++)
      htable_put(&m->account_by_id, m->accounts.items[i]->id, m->accounts.items[i]->len, m->accounts.items[i]);
  }
  if (!m->by_id) htable_put(&m->account_by_id, a->id, a->len, a);
  UTIL_VEC_PUSH(m->accounts, a, 1024);
  if (m->accounts.len > m->codes_cap) reserve_codes(m, m->codes_cap ? m->codes_cap * 2 : 1024);
  return a;
}

/* The index of key among the first n keys of obj, or -1. */
static int key_index(const report_json *obj, size_t n, const report_cell *key) {
  for (size_t i = 0; i < n; i++)
    if (obj->key_lens[i] == key->len && memcmp(obj->keys[i], key->p, key->len) == 0) return (int)i;
  return -1;
}

/* A cell for a message: at most 60 bytes, control bytes escaped. */
static const char *shown(const report_cell *c, char buf[128]) { return shown_text(c->p, c->len, buf); }

enum { C_ACCOUNT, C_UNIT, C_VALUE, C__COUNT };

typedef enum { ROWS_MILESTONES, ROWS_PLAYBOOKS, ROWS_SIGNALS, ROWS_TRACKING } rows_kind;

/* The milestone (is_ms) or playbook a row names, or NULL.  Each file names
 * an account's milestones or playbooks in summary.json's order, so the
 * one after the last found is tried before the hash. */
static void *find_unit(report_model *m, bool is_ms, const report_cell *name) {
  size_t n = is_ms ? m->nms : m->npb, *next = &m->next_unit[is_ms];
  if (n) {
    size_t u = *next % n;
    const report_json *text = is_ms ? m->ms[u].name : m->pb[u].name;
    if (text->len == name->len && memcmp(text->text, name->p, name->len) == 0) {
      *next = u + 1;
      return is_ms ? (void *)&m->ms[u] : (void *)&m->pb[u];
    }
  }
  void *unit = htable_get(is_ms ? &m->ms_by_name : &m->pb_by_name, name->p, name->len);
  if (unit) *next = 1 + (is_ms ? (size_t)((milestone_model *)unit - m->ms) : (size_t)((playbook_model *)unit - m->pb));
  return unit;
}

/* One tracking row: the state goes into the code of the account's row of
 * that milestone, read before. */
static const char *take_tracking_row(report_model *m, const report_cell *c, char *buf, size_t buflen) {
  char b1[128], b2[128];
  milestone_model *ms = find_unit(m, true, &c[C_UNIT]);
  if (!ms || !ms->tracking) {
    snprintf(buf, buflen, "milestone `%s` %s", shown(&c[C_UNIT], b1),
             ms ? "has no tracking counts in summary.json" : "is not in summary.json");
    return buf;
  }
  int k = key_index(ms->tracking, ms->tracking->n, &c[C_VALUE]);
  if (k < 0) {
    snprintf(buf, buflen, "tracking `%s` is not one of milestone `%s` in summary.json", shown(&c[C_VALUE], b1),
             shown(&c[C_UNIT], b2));
    return buf;
  }
  const account *a = lookup_account(m, &c[C_ACCOUNT]);
  uint16_t *code = a ? &m->ms_codes[a->index * m->nms + (size_t)(ms - m->ms)] : NULL;
  size_t span = ms->status->n + 1;
  if (!code || *code == 0 || *code >= span) {
    snprintf(buf, buflen, !code || *code == 0 ? "account `%s` has no row of milestone `%s` in the milestone rows"
                                              : "a second row of account `%s` for milestone `%s`",
             shown(&c[C_ACCOUNT], b1), shown(&c[C_UNIT], b2));
    return buf;
  }
  *code = (uint16_t)(*code + span * (size_t)(k + 1));
  ms->tracking_rows[k]++;
  return NULL;
}

/* One row of milestones, playbooks, signals or tracking: NULL, or what is wrong with it. */
static const char *take_row(report_model *m, rows_kind kind, const report_cell *c, char *buf, size_t buflen) {
  char b1[128], b2[128];
  if (c[C_ACCOUNT].len == 0) return "the account is empty";
  if (kind == ROWS_TRACKING) return take_tracking_row(m, c, buf, buflen);
  if (kind == ROWS_SIGNALS) {
    account *a = find_account(m, &c[C_ACCOUNT]);
    size_t klen = c[C_UNIT].len + 1 + c[C_VALUE].len;
    char *key = util_xalloc(klen);
    memcpy(key, c[C_UNIT].p, c[C_UNIT].len);
    memcpy(key + c[C_UNIT].len + 1, c[C_VALUE].p, c[C_VALUE].len);
    signal_stat *s = htable_get(&m->signal_by_key, key, klen);
    if (!s) {
      s = arena_alloc(&m->a, sizeof *s);
      *s = (signal_stat){.signal = arena_strndup(&m->a, c[C_UNIT].p, c[C_UNIT].len),
                         .source = arena_strndup(&m->a, c[C_VALUE].p, c[C_VALUE].len),
                         .signal_len = c[C_UNIT].len, .source_len = c[C_VALUE].len};
      htable_put(&m->signal_by_key, key, klen, s);
      UTIL_VEC_PUSH(m->signals, s, 16);
    }
    free(key);
    s->count++;
    if (s->last_account != a->index + 1) s->accounts++;
    s->last_account = a->index + 1;
    return NULL;
  }
  bool is_ms = kind == ROWS_MILESTONES;
  void *unit = find_unit(m, is_ms, &c[C_UNIT]);
  if (!unit) {
    snprintf(buf, buflen, "%s `%s` is not in summary.json", is_ms ? "milestone" : "playbook", shown(&c[C_UNIT], b1));
    return buf;
  }
  const report_json *keys = is_ms ? ((milestone_model *)unit)->status : ((playbook_model *)unit)->steps;
  /* a playbook's empty step is not_started, its last key */
  int k = !is_ms && c[C_VALUE].len == 0 ? (int)keys->n - 1 : key_index(keys, is_ms ? keys->n : keys->n - 1, &c[C_VALUE]);
  if (k < 0) {
    snprintf(buf, buflen, "%s `%s` is not one of %s `%s` in summary.json", is_ms ? "status" : "step",
             shown(&c[C_VALUE], b1), is_ms ? "milestone" : "playbook", shown(&c[C_UNIT], b2));
    return buf;
  }
  account *a = find_account(m, &c[C_ACCOUNT]);
  bool seen;
  if (is_ms) {
    milestone_model *ms = unit;
    uint16_t *code = &m->ms_codes[a->index * m->nms + (size_t)(ms - m->ms)];
    seen = *code != 0;
    *code = (uint16_t)(k + 1);
    ms->rows[k]++;
  } else {
    playbook_model *pb = unit;
    uint32_t *code = &m->pb_codes[a->index * m->npb + (size_t)(pb - m->pb)];
    seen = *code != 0;
    *code = (uint32_t)k + 1;
    pb->rows[k]++;
  }
  if (seen) {
    snprintf(buf, buflen, "a second row of account `%s` for %s `%s`", shown(&c[C_ACCOUNT], b1),
             is_ms ? "milestone" : "playbook", shown(&c[C_UNIT], b2));
    return buf;
  }
  return NULL;
}

static bool read_rows(report_model *m, rows_kind kind, const char *path, bool jsonl, char *msg, size_t msglen) {
  static const char *const columns[4][C__COUNT] = {
    {"account", "milestone", "status"}, {"account", "playbook", "step"}, {"account", "signal", "source"},
    {"account", "milestone", "tracking"},
  };
  report_rows *r = report_rows_open(path, jsonl, columns[kind], C__COUNT, msg, msglen);
  if (!r) return false;
  report_cell c[C__COUNT];
  int got;
  while ((got = report_rows_next(r, c, msg, msglen)) > 0) {
    char why[512];
    const char *problem = take_row(m, kind, c, why, sizeof why);
    if (problem) {
      util_set_msg(msg, msglen, "%s:%lld: %s", path, (long long)report_rows_line(r), problem);
      got = -1;
      break;
    }
  }
  report_rows_close(r);
  return got == 0;
}

/* Each status and step has as many rows as summary.json counts. */
static bool check_counts(const report_model *m, const report_inputs *in, char *msg, size_t msglen) {
  for (size_t u = 0; u < m->nms + m->npb; u++) {
    bool is_ms = u < m->nms;
    const report_json *node = is_ms ? m->ms[u].node : m->pb[u - m->nms].node;
    const report_json *keys = is_ms ? m->ms[u].status : m->pb[u - m->nms].steps;
    const int64_t *rows = is_ms ? m->ms[u].rows : m->pb[u - m->nms].rows;
    for (size_t k = 0; k < keys->n; k++)
      if (rows[k] != count_of(keys->items[k])) {
        util_set_msg(msg, msglen, "%s has %lld rows of %s `%s` in %s `%s`, but %s counts %lld",
                     is_ms ? in->milestones : in->playbooks, (long long)rows[k], is_ms ? "milestone" : "playbook",
                     report_json_get(node, "name")->text, is_ms ? "status" : "step", keys->keys[k], in->summary,
                     (long long)count_of(keys->items[k]));
        return false;
      }
  }
  for (size_t u = 0; m->tracked && u < m->nms; u++) {
    const report_json *tracking = m->ms[u].tracking;
    for (size_t k = 0; tracking && k < tracking->n; k++)
      if (m->ms[u].tracking_rows[k] != count_of(tracking->items[k])) {
        util_set_msg(msg, msglen, "%s has %lld rows of milestone `%s` in tracking `%s`, but %s counts %lld",
                     in->tracking, (long long)m->ms[u].tracking_rows[k], report_json_get(m->ms[u].node, "name")->text,
                     tracking->keys[k], in->summary, (long long)count_of(tracking->items[k]));
        return false;
      }
  }
  return true;
}

/* ---- the page's data ------------------------------------------------------------------------ */

/* ASCII bytes a JSON string in the page escapes. */
static const bool html_special[128] = {['"'] = true, ['\\'] = true, ['<'] = true, ['>'] = true, ['&'] = true};

/* See report_internal.h; runs of bytes that need no escape go out whole. */
void report_put_json_string(FILE *out, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  fputc('"', out);
  size_t run = 0;          /* start of the bytes that pass through unchanged */
  size_t i = 0;
  while (i < n) {
    if (p[i] >= 0x20 && p[i] < 0x80 && !html_special[p[i]]) {   /* most bytes: plain ASCII */
      i++;
      continue;
    }
    size_t len = util_utf8_len(p + i, n - i);   /* 1 here: an ASCII byte to escape */
    bool line_sep = len == 3 && p[i] == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9);
    if (len > 1 && !line_sep) {
      i += len;
      continue;
    }
    fwrite(s + run, 1, i - run, out);
    if (line_sep) fputs(p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", out);
    else if (len == 0) fputs("\\ufffd", out);
    else if (p[i] == '"' || p[i] == '\\') fprintf(out, "\\%c", p[i]);
    else fprintf(out, "\\u%04x", p[i]);
    i += len ? len : 1;
    run = i;
  }
  fwrite(s + run, 1, n - run, out);
  fputc('"', out);
}

/* A value of summary.json written back (numbers as they were written). */
static void put_json(FILE *out, const report_json *v) {
  if (!v) {
    fputs("null", out);
    return;
  }
  switch (v->kind) {
    case REPORT_JSON_NULL: fputs("null", out); break;
    case REPORT_JSON_STRING: report_put_json_string(out, v->text, v->len); break;
    case REPORT_JSON_ARRAY:
    case REPORT_JSON_OBJECT: {
      bool obj = v->kind == REPORT_JSON_OBJECT;
      fputc(obj ? '{' : '[', out);
      for (size_t i = 0; i < v->n; i++) {
        if (i) fputc(',', out);
        if (obj) {
          report_put_json_string(out, v->keys[i], v->key_lens[i]);
          fputc(':', out);
        }
        put_json(out, v->items[i]);
      }
      fputc(obj ? '}' : ']', out);
      break;
    }
    default: fwrite(v->text, 1, v->len, out); break;   /* numbers, true, false */
  }
}

static void put_key(FILE *out, const char *key) { fprintf(out, ",\"%s\":", key); }

static const char code_digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* Base-62 digits needed for codes 0..max. */
static int code_width(size_t max) {
  int w = 1;
  for (size_t room = 62; room <= max; room *= 62) w++;
  return w;
}

/* `"w":W,"codes":"..."`: unit u's code (0..max) of each account, in id order. */
static void put_codes(FILE *out, const report_model *m, const size_t *order, bool is_ms, size_t u, size_t max) {
  int w = code_width(max);
  fprintf(out, ",\"w\":%d,\"codes\":\"", w);
  char run[4096];   /* the codes go out in runs, not a call each */
  size_t used = 0;
  for (size_t i = 0; i < m->accounts.len; i++) {
    size_t row = order[i];
    size_t code = is_ms ? m->ms_codes[row * m->nms + u] : m->pb_codes[row * m->npb + u];
    if (used + (size_t)w > sizeof run) {
      fwrite(run, 1, used, out);
      used = 0;
    }
    for (int d = w; d-- > 0; code /= 62) run[used + (size_t)d] = code_digits[code % 62];
    used += (size_t)w;
  }
  fwrite(run, 1, used, out);
  fputc('"', out);
}

/* An object of counts as `[[KEY,count],...]`, in its order; null for NULL. */
static void put_pairs(FILE *out, const report_json *obj) {
  if (!obj) {
    fputs("null", out);
    return;
  }
  fputc('[', out);
  for (size_t k = 0; k < obj->n; k++) {
    fputs(k ? ",[" : "[", out);
    report_put_json_string(out, obj->keys[k], obj->key_lens[k]);
    fputc(',', out);
    put_json(out, obj->items[k]);
    fputc(']', out);
  }
  fputc(']', out);
}

static void put_milestone(FILE *out, const report_model *m, const size_t *order, size_t u) {
  const milestone_model *ms = &m->ms[u];
  const report_json *percent = report_json_get(ms->node, "percent");
  fputs("{\"name\":", out);
  put_json(out, report_json_get(ms->node, "name"));
  static const char *const copied[] = {"display", "group", "description", "applicable", "estimate_s"};
  for (size_t i = 0; i < sizeof copied / sizeof *copied; i++) {
    put_key(out, copied[i]);
    put_json(out, report_json_get(ms->node, copied[i]));
  }
  put_key(out, "ttc");
  put_json(out, report_json_get(ms->node, "time_to_complete"));
  put_key(out, "status");
  fputc('[', out);
  for (size_t k = 0; k < ms->status->n; k++) {
    fputs(k ? ",[" : "[", out);
    report_put_json_string(out, ms->status->keys[k], ms->status->key_lens[k]);
    fputc(',', out);
    put_json(out, ms->status->items[k]);
    fputc(',', out);
    const report_json *pct = report_json_get(percent, ms->status->keys[k]);
    put_json(out, pct && pct->kind == REPORT_JSON_NUMBER ? pct : NULL);
    fputc(']', out);
  }
  fputc(']', out);
  bool tracked = m->tracked && ms->tracking;
  put_codes(out, m, order, true, u, (ms->status->n + 1) * (tracked ? ms->tracking->n + 1 : 1) - 1);
  put_key(out, "tracking");
  put_pairs(out, ms->tracking);
  fprintf(out, ",\"tracked\":%s", tracked ? "true" : "false");
  put_key(out, "by");
  if (!ms->by) {
    fputs("null}", out);
    return;
  }
  /* {"field":F,"values":[[VALUE,[count of each status, in "status" order]],...]} */
  const report_json *values = report_json_get(ms->by, "values");
  fputs("{\"field\":", out);
  put_json(out, report_json_get(ms->by, "field"));
  fputs(",\"values\":[", out);
  for (size_t v = 0; v < values->n; v++) {
    fputs(v ? ",[" : "[", out);
    report_put_json_string(out, values->keys[v], values->key_lens[v]);
    fputs(",[", out);
    for (size_t k = 0; k < values->items[v]->n; k++) {
      if (k) fputc(',', out);
      put_json(out, values->items[v]->items[k]);
    }
    fputs("]]", out);
  }
  fputs("]}}", out);
}

static void put_playbook(FILE *out, const report_model *m, const size_t *order, size_t u) {
  const playbook_model *pb = &m->pb[u];
  fputs("{\"name\":", out);
  put_json(out, report_json_get(pb->node, "name"));
  put_key(out, "display");
  put_json(out, report_json_get(pb->node, "display"));
  put_key(out, "applicable");
  put_json(out, report_json_get(pb->node, "applicable"));
  put_key(out, "steps");
  put_pairs(out, pb->steps);
  put_codes(out, m, order, false, u, pb->steps->n);
  fputc('}', out);
}

static int compare_bytes(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  return c ? c : (alen > blen) - (alen < blen);
}

static int compare_accounts(const void *x, const void *y) {
  const account *a = *(account *const *)x, *b = *(account *const *)y;
  return compare_bytes(a->id, a->len, b->id, b->len);
}

static int compare_signals(const void *x, const void *y) {
  const signal_stat *a = *(signal_stat *const *)x, *b = *(signal_stat *const *)y;
  int c = compare_bytes(a->signal, a->signal_len, b->signal, b->signal_len);
  return c ? c : compare_bytes(a->source, a->source_len, b->source, b->source_len);
}

/* The page's data: one JSON object (report.c's header says how). */
static void put_data(FILE *out, report_model *m) {
  /* msl writes its rows in id order: the sort is for files written otherwise */
  bool sorted = true;
  for (size_t i = 1; i < m->accounts.len && sorted; i++)
    sorted = compare_accounts(&m->accounts.items[i - 1], &m->accounts.items[i]) < 0;
  if (!sorted) qsort(m->accounts.items, m->accounts.len, sizeof *m->accounts.items, compare_accounts);
  if (m->signals.len) qsort(m->signals.items, m->signals.len, sizeof *m->signals.items, compare_signals);
  size_t *order = util_xalloc(m->accounts.len * sizeof *order + 1);   /* id order -> row of the codes */
  for (size_t i = 0; i < m->accounts.len; i++) order[i] = m->accounts.items[i]->index;

  fputs("{\"as_of\":", out);
  put_json(out, report_json_get(m->summary, "as_of"));
  put_key(out, "rows");
  put_json(out, report_json_get(m->summary, "rows"));
  fprintf(out, ",\"accounts\":%zu,\"ids\":[", m->accounts.len);
  for (size_t i = 0; i < m->accounts.len; i++) {
    if (i) fputc(',', out);
    report_put_json_string(out, m->accounts.items[i]->id, m->accounts.items[i]->len);
  }
  fputs("],\n\"milestones\":[", out);
  for (size_t u = 0; u < m->nms; u++) {
    if (u) fputs(",\n", out);
    put_milestone(out, m, order, u);
  }
  fputs("],\n\"playbooks\":[", out);
  for (size_t u = 0; u < m->npb; u++) {
    if (u) fputs(",\n", out);
    put_playbook(out, m, order, u);
  }
  fputs("],\n\"signals\":[", out);
  for (size_t i = 0; i < m->signals.len; i++) {
    const signal_stat *s = m->signals.items[i];
    fputs(i ? ",[" : "[", out);
    report_put_json_string(out, s->signal, s->signal_len);
    fputc(',', out);
    report_put_json_string(out, s->source, s->source_len);
    fprintf(out, ",%lld,%lld]", (long long)s->count, (long long)s->accounts);
  }
  fputs("]}", out);
  free(order);
}

/* ---- the page ----------------------------------------------------------------------------------- */

static void put_page(FILE *out, report_model *m) {
  char script_hash[SHA256_BASE64_SIZE], style_hash[SHA256_BASE64_SIZE];
  sha256_base64(report_page_script, strlen(report_page_script), script_hash);
  sha256_base64(report_page_style, strlen(report_page_style), style_hash);
  fprintf(out,
          "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "script-src 'sha256-%s'; style-src 'sha256-%s'; img-src 'none'; base-uri 'none'; "
          "form-action 'none'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Milestone report</title>\n<style>%s</style>\n</head>\n<body>\n"
          "<noscript><p>This report is drawn by its own script: allow JavaScript to see it.</p></noscript>\n"
          "<div id=\"app\"></div>\n<script type=\"application/json\" id=\"msl-data\">",
          script_hash, style_hash, report_page_style);
  put_data(out, m);
  fprintf(out, "</script>\n<script>%s</script>\n</body>\n</html>\n", report_page_script);
}

bool report_write(FILE *out, const report_inputs *in, char *msg, size_t msglen) {
  report_model m = {0};
  arena_init(&m.a);
  htable_init(&m.ms_by_name, &m.a);
  htable_init(&m.pb_by_name, &m.a);
  htable_init(&m.account_by_id, &m.a);
  htable_init(&m.signal_by_key, &m.a);
  m.tracked = in->tracking != NULL;
  m.by_id = true;
  /* the tracking rows after the milestone rows, whose codes they add to */
  bool ok = load_summary(&m, in->summary, msg, msglen);
  if (ok) {
    size_t expected = expected_accounts(&m);
    reserve_codes(&m, expected);
    arena_reserve(&m.a, expected * (sizeof(account) + 32));   /* each account and its id (most ids: < 16 bytes) */
  }
  ok = ok && read_rows(&m, ROWS_MILESTONES, in->milestones, in->jsonl, msg, msglen) &&
            (!m.tracked || read_rows(&m, ROWS_TRACKING, in->tracking, in->jsonl, msg, msglen)) &&
            read_rows(&m, ROWS_PLAYBOOKS, in->playbooks, in->jsonl, msg, msglen) &&
            read_rows(&m, ROWS_SIGNALS, in->signals, in->jsonl, msg, msglen) &&
            check_counts(&m, in, msg, msglen);
  if (ok) put_page(out, &m);
  free(m.accounts.items);
  free(m.signals.items);
  free(m.ms_codes);
  free(m.pb_codes);
  arena_free(&m.a);
  return ok;
}

enum { REPORT_WRITE_BUFFER = 1 << 20 };

bool report_write_fd(int fd, const char *label, const report_inputs *in, char *msg, size_t msglen) {
  FILE *out = fdopen(fd, "w");
  if (!out) {
    util_set_msg(msg, msglen, "cannot write %s: %s", label, strerror(errno));
    close(fd);
    return false;
  }
  /* glibc ignores the size given without a buffer, and writes in 4 KiB
     pieces: the page of 100,000 accounts took 395 write calls. */
  char *buf = util_xalloc(REPORT_WRITE_BUFFER);
  setvbuf(out, buf, _IOFBF, REPORT_WRITE_BUFFER);
  errno = 0;
  if (!report_write(out, in, msg, msglen)) {
    fclose(out);
    free(buf);
    return false;
  }
  int err = fflush(out) != 0 || ferror(out) ? (errno ? errno : EIO) : 0;
  if (!err && fsync(fileno(out)) != 0) err = errno;
  if (fclose(out) != 0 && !err) err = errno;
  free(buf);
  if (err) util_set_msg(msg, msglen, "cannot write %s: %s", label, strerror(err));
  return err == 0;
}
