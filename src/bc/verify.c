/* verify.c — the bytecode verifier (see verify.h for what it guarantees).
 *
 * Order of the checks: the arrays and the string pool, the constants and
 * the blocks' headers, then every table (recording for each block how it is
 * used: an update block's event and scope, whether a value block may only
 * see account fields), then every block's instructions — operand ranges
 * first, then an abstract interpretation of register types — and last the
 * evaluation order, which needs verified blocks to find dependencies.  What
 * each op reads, writes and where it may appear comes from the columns of
 * opcodes.h; only what an op requires of the entries it names (an extern's
 * arity, an aggregate's event) is written per op. */
#include "bc/verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/native_trust.h"
#include "core/util.h"

/* What the VM can tell apart in a register: int, time and duration are all
 * int64 microseconds, so one class (and one set of ops) serves the three. */
typedef enum {
  CL_UNSET,        /* not written on some path that reaches here */
  CL_BOOL, CL_I64, CL_FLOAT, CL_STRING,
  CL_MIXED,        /* written with different classes on different paths */
} reg_class;


typedef struct block_use {
  bool value_ref;      /* referenced by a table as an expression */
  bool account_only;   /* evaluated once per account: account fields and constants only */
  bool update_ref;     /* listed in update_blocks */
  uint32_t event;      /* update blocks: the event type that runs it, or BC_NONE */
  uint32_t scope;      /* update blocks: 0 account-wide, m+1 since start of m */
} block_use;

typedef struct verifier {
  const bc_program *p;
  char *msg;
  size_t msglen;
  block_use *use;      /* one per block */
} verifier;

static const char *type_name(unsigned t) {
  static const char *const names[] = {"no type", "bool", "int", "float", "string", "time", "duration"};
  return t < sizeof names / sizeof names[0] ? names[t] : "an unknown type";
}

static bool valid_type(unsigned t) { return t >= VALUE_BOOL && t <= VALUE_DURATION; }

static reg_class class_of(unsigned value_type) {
  switch (value_type) {
  case VALUE_BOOL: return CL_BOOL;
  case VALUE_INT: case VALUE_TIME: case VALUE_DURATION: return CL_I64;
  case VALUE_FLOAT: return CL_FLOAT;
  case VALUE_STRING: return CL_STRING;
  default: return CL_UNSET;
  }
}

static const char *class_name(reg_class c) {
  switch (c) {
  case CL_BOOL: return "bool";
  case CL_I64: return "int/time/duration";
  case CL_FLOAT: return "float";
  case CL_STRING: return "string";
  default: return "nothing";
  }
}

static bool fail(verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(verifier *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  util_vset_msg(v->msg, v->msglen, fmt, ap);
  va_end(ap);
  return false;
}

/* Appends to buf[*used..len), keeping it NUL-terminated when it fills up. */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...) {
  if (*used + 1 >= len) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *used, len - *used, fmt, ap);
  va_end(ap);
  if (n > 0) *used = (size_t)n >= len - *used ? len - 1 : *used + (size_t)n;
}

/* ---- block titles -------------------------------------------------------- */

static void add_role(char *buf, size_t len, size_t *used, bool quote, const char *role,
                     const char *name1, const char *link, const char *name2) {
  const char *q = quote ? "`" : "";
  if (*used) append(buf, len, used, "; ");
  append(buf, len, used, "%s %s%s%s", role, q, name1, q);
  if (link) append(buf, len, used, " %s %s%s%s", link, q, name2, q);
}

/* Appends "TEXT NAME" to the role just added. */
static void add_role_tail(char *buf, size_t len, size_t *used, bool quote, const char *text, const char *name) {
  const char *q = quote ? "`" : "";
  append(buf, len, used, "%s %s%s%s", text, q, name, q);
}

/* One use of a block, found by visit_roles. */
typedef enum {
  ROLE_SEGMENT, ROLE_SINCE, ROLE_START, ROLE_DEADLINE, ROLE_ENTRY, ROLE_EXIT, ROLE_BLOCKED,
  ROLE_ACTION, ROLE_PLAYBOOK_START, ROLE_STEP, ROLE_UPDATE,
} role_kind;

typedef struct block_role {
  uint32_t block;
  uint8_t kind;         /* role_kind */
  uint32_t owner;       /* segment, aggregate, milestone, playbook, or update slot */
  uint32_t part;        /* ROLE_ACTION: the action; ROLE_STEP: the step */
} block_role;

typedef void (*role_visitor)(const block_role *role, void *data);

/* Every use of every block, in the order a title lists them. */
static void visit_roles(const bc_program *p, role_visitor visit, void *data) {
  block_role r;
#define ROLE(blk, k, o, pt) (r = (block_role){(blk), (k), (o), (pt)}, visit(&r, data))
  for (uint32_t i = 0; i < p->nsegments; i++) ROLE(p->segment_blocks[i], ROLE_SEGMENT, i, 0);
  for (uint32_t i = 0; i < p->naggregates; i++)
    if (p->aggregates[i].window == BC_WIN_SINCE) ROLE(p->aggregates[i].since_block, ROLE_SINCE, i, 0);
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    const bc_milestone *ms = &p->milestones[m];
    if (ms->start_kind == BC_START_AT) ROLE(ms->start_block, ROLE_START, m, 0);
    if (ms->deadline_kind == BC_DEADLINE_AT) ROLE(ms->deadline_block, ROLE_DEADLINE, m, 0);
    ROLE(ms->entry_block, ROLE_ENTRY, m, 0);
    ROLE(ms->exit_block, ROLE_EXIT, m, 0);
    ROLE(ms->blocked_block, ROLE_BLOCKED, m, 0);
    for (uint32_t a = 0; a < ms->nactions; a++) ROLE(ms->actions[a].done_block, ROLE_ACTION, m, a);
  }
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    const bc_playbook *pb = &p->playbooks[i];
    if (pb->start_kind == BC_START_AT) ROLE(pb->start_block, ROLE_PLAYBOOK_START, i, 0);
    for (uint32_t s = 0; s < pb->nsteps; s++) ROLE(pb->steps[s].when_block, ROLE_STEP, i, s);
  }
  uint64_t nupdate = ((uint64_t)p->nmilestones + 1) * p->nevents;
  for (uint64_t i = 0; i < nupdate; i++) ROLE(p->update_blocks[i], ROLE_UPDATE, (uint32_t)i, 0);
#undef ROLE
}

/* Appends the text of one role to a title. */
static void add_role_text(const bc_program *p, const block_role *r, bool quote, char *buf, size_t len,
                          size_t *used) {
  bool of_milestone = r->kind >= ROLE_START && r->kind <= ROLE_ACTION;
  const char *ms = of_milestone ? bc_str(p, p->milestones[r->owner].name) : NULL;
  switch ((role_kind)r->kind) {
    case ROLE_SEGMENT:
      add_role(buf, len, used, quote, "segment", bc_str(p, p->segment_names[r->owner]), NULL, NULL);
      break;
    case ROLE_SINCE:
      if (*used) append(buf, len, used, "; ");
      append(buf, len, used, "since of aggregate g%u", r->owner);
      break;
    case ROLE_START: add_role(buf, len, used, quote, "start of milestone", ms, NULL, NULL); break;
    case ROLE_DEADLINE: add_role(buf, len, used, quote, "deadline of milestone", ms, NULL, NULL); break;
    case ROLE_ENTRY: add_role(buf, len, used, quote, "entry of milestone", ms, NULL, NULL); break;
    case ROLE_EXIT: add_role(buf, len, used, quote, "exit of milestone", ms, NULL, NULL); break;
    case ROLE_BLOCKED: add_role(buf, len, used, quote, "blocked when of milestone", ms, NULL, NULL); break;
    case ROLE_ACTION:
      add_role(buf, len, used, quote, "action", bc_str(p, p->milestones[r->owner].actions[r->part].name),
               "of milestone", ms);
      break;
    case ROLE_PLAYBOOK_START:
      add_role(buf, len, used, quote, "start of playbook", bc_str(p, p->playbooks[r->owner].name), NULL,
               NULL);
      break;
    case ROLE_STEP:
      add_role(buf, len, used, quote, "when of step", bc_str(p, p->playbooks[r->owner].steps[r->part].name),
               "of playbook", bc_str(p, p->playbooks[r->owner].name));
      break;
    case ROLE_UPDATE: {
      uint64_t scope = r->owner / p->nevents;
      add_role(buf, len, used, quote, "update", bc_str(p, p->events[r->owner % p->nevents].name), NULL, NULL);
      if (scope == 0) append(buf, len, used, ", account-wide");
      else
        add_role_tail(buf, len, used, quote, ", since start of milestone",
                      bc_str(p, p->milestones[scope - 1].name));
      break;
    }
  }
}

typedef struct one_title {
  const bc_program *p;
  uint32_t block;
  bool quote;
  char *buf;
  size_t len, used;
} one_title;

static void add_if_block(const block_role *r, void *data) {
  one_title *t = data;
  if (r->block == t->block) add_role_text(t->p, r, t->quote, t->buf, t->len, &t->used);
}

void verify_block_title(const bc_program *p, uint32_t b, bool quote, char *buf, size_t len) {
  if (!len) return;
  buf[0] = '\0';
  one_title t = {p, b, quote, buf, len, 0};
  visit_roles(p, add_if_block, &t);
  if (!t.used) append(buf, len, &t.used, "unused");
}

/* Every block's roles, grouped by block (counting sort): titles of all the
 * blocks in one pass over the tables, for listings. */
struct verify_block_roles {
  const bc_program *p;
  uint32_t *first;       /* per block, and one more: where its roles start in roles */
  block_role *roles;
};

typedef struct role_count {
  verify_block_roles *r;
  uint32_t *fill;        /* NULL while counting; then the next free place per block */
} role_count;

static void count_or_place(const block_role *role, void *data) {
  role_count *rc = data;
  if (role->block >= rc->r->p->nblocks) return;
  if (!rc->fill) rc->r->first[role->block + 1]++;
  else rc->r->roles[rc->fill[role->block]++] = *role;
}

verify_block_roles *verify_block_roles_new(const bc_program *p) {
  verify_block_roles *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->p = p;
  r->first = calloc((size_t)p->nblocks + 1, sizeof *r->first);
  uint32_t *fill = malloc(sizeof *fill * ((size_t)p->nblocks + 1));
  if (!r->first || !fill) {
    free(fill);
    verify_block_roles_free(r);
    return NULL;
  }
  role_count rc = {r, NULL};
  visit_roles(p, count_or_place, &rc);
  for (uint32_t b = 0; b < p->nblocks; b++) r->first[b + 1] += r->first[b];
  r->roles = malloc(sizeof *r->roles * ((size_t)r->first[p->nblocks] + 1));
  if (!r->roles) {
    free(fill);
    verify_block_roles_free(r);
    return NULL;
  }
  memcpy(fill, r->first, sizeof *fill * ((size_t)p->nblocks + 1));
  rc.fill = fill;
  visit_roles(p, count_or_place, &rc);
  free(fill);
  return r;
}

void verify_block_roles_title(const verify_block_roles *r, uint32_t b, bool quote, char *buf, size_t len) {
  if (!len) return;
  buf[0] = '\0';
  size_t used = 0;
  for (uint32_t i = r->first[b]; b < r->p->nblocks && i < r->first[b + 1]; i++)
    add_role_text(r->p, &r->roles[i], quote, buf, len, &used);
  if (!used) append(buf, len, &used, "unused");
}

void verify_block_roles_free(verify_block_roles *r) {
  if (!r) return;
  free(r->first);
  free(r->roles);
  free(r);
}

/* ---- tables ---------------------------------------------------------------- */

static bool str_ok(const verifier *v, uint32_t off, bool optional) {
  if (off == BC_NONE) return optional;
  return off < v->p->strings_len;
}

/* Checks a string reference; what names its owner for the message. */
#define CHECK_STR(off, optional, ...)                                                         \
  do {                                                                                        \
    if (!str_ok(v, (off), (optional))) {                                                      \
      char what_[200];                                                                        \
      snprintf(what_, sizeof what_, __VA_ARGS__);                                             \
      if ((off) == BC_NONE) return fail(v, "%s: missing (a required string)", what_);       \
      return fail(v, "%s: string offset %u is outside the string pool (%u bytes)", what_,   \
                  (unsigned)(off), v->p->strings_len);                                        \
    }                                                                                         \
  } while (0)

static bool check_arrays(verifier *v) {
  const bc_program *p = v->p;
  struct { uint64_t count; const void *ptr; const char *what; } arrays[] = {
    {p->strings_len, p->strings, "string pool"},
    {p->nconsts, p->consts, "constants"},
    {p->ncode, p->code, "code"},
    {p->nblocks, p->blocks, "blocks"},
    {p->naccount_fields, p->account_fields, "account fields"},
    {p->nevents, p->events, "events"},
    {p->nsegments, p->segment_blocks, "segment blocks"},
    {p->nsegments, p->segment_names, "segment names"},
    {p->naggregates, p->aggregates, "aggregates"},
    {p->nsequences, p->sequences, "sequences"},
    {p->nmilestones, p->milestones, "milestones"},
    {p->nplaybooks, p->playbooks, "playbooks"},
    {p->nexterns, p->externs, "externs"},
    {((uint64_t)p->nmilestones + 1) * p->nevents, p->update_blocks, "update block table"},
    {p->nmilestones, p->eval_order, "evaluation order"},
  };
  for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
    if (arrays[i].count && !arrays[i].ptr)
      return fail(v, "the %s table is missing (%llu entries)", arrays[i].what,
                  (unsigned long long)arrays[i].count);
  if (p->strings_len && p->strings[p->strings_len - 1] != '\0')
    return fail(v, "the string pool does not end with a NUL byte");
  if (p->naccount_fields >= BC_ACCOUNT_ID)
    return fail(v, "%u account fields: at most %u fit the ACCT operand", p->naccount_fields,
                BC_ACCOUNT_ID - 1);
  return true;
}

static bool check_consts(verifier *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->nconsts; i++) {
    const bc_const *k = &p->consts[i];
    if (!valid_type(k->type)) return fail(v, "constant k%u: unknown type %u", i, k->type);
    if (k->type != VALUE_STRING) continue;
    /* The string must lie inside the pool with the pool's NUL after it. */
    uintptr_t base = (uintptr_t)p->strings, at = (uintptr_t)k->v.s.p;
    if (!p->strings || at < base || at - base >= p->strings_len ||
        k->v.s.len >= p->strings_len - (at - base))
      return fail(v, "constant k%u: string of %u bytes is not inside the string pool", i, k->v.s.len);
  }
  return true;
}

static bool check_block_headers(verifier *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->nblocks; i++) {
    const bc_block *b = &p->blocks[i];
    if (b->len == 0) return fail(v, "block %u is empty", i);
    if ((uint64_t)b->start + b->len > p->ncode)
      return fail(v, "block %u: instructions %u..%llu are outside the code (%u instructions)", i,
                  b->start, (unsigned long long)b->start + b->len - 1, p->ncode);
    if (b->type != 0 && !valid_type(b->type)) return fail(v, "block %u: unknown type %u", i, b->type);
    if (b->nregs > BC_MAX_REGS)
      return fail(v, "block %u: %u registers (at most %u)", i, b->nregs, BC_MAX_REGS);
    if (b->type != 0 && b->nregs == 0) return fail(v, "block %u: a value block needs a register", i);
    if (b->milestone != BC_NONE && b->milestone >= p->nmilestones)
      return fail(v, "block %u: milestone %u does not exist (the program has %u)", i, b->milestone,
                  p->nmilestones);
  }
  return true;
}

static bool check_field(verifier *v, const bc_field *f, const char *owner, uint32_t i) {
  const bc_program *p = v->p;
  CHECK_STR(f->name, false, "%s field %u name", owner, i);
  const char *name = bc_str(p, f->name);
  if (!valid_type(f->type)) return fail(v, "%s field `%s`: unknown type %u", owner, name, f->type);
  if (f->has_default > 1)
    return fail(v, "%s field `%s`: has_default is %u (0 or 1)", owner, name, f->has_default);
  if (!f->has_default) return true;
  if (f->default_const >= p->nconsts)
    return fail(v, "%s field `%s`: default constant k%u does not exist (the program has %u)", owner,
                name, f->default_const, p->nconsts);
  uint8_t kt = p->consts[f->default_const].type;
  if (class_of(kt) != class_of(f->type))
    return fail(v, "%s field `%s`: the default k%u is of type %s, the field of type %s", owner, name,
                f->default_const, type_name(kt), type_name(f->type));
  return true;
}

static bool check_schema(verifier *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->naccount_fields; i++)
    if (!check_field(v, &p->account_fields[i], "account", i)) return false;
  for (uint32_t e = 0; e < p->nevents; e++) {
    const bc_event *ev = &p->events[e];
    CHECK_STR(ev->name, false, "event %u name", e);
    if (ev->nfields && !ev->fields)
      return fail(v, "event `%s`: the fields table is missing", bc_str(p, ev->name));
    char owner[160];
    snprintf(owner, sizeof owner, "event `%s`", bc_str(p, ev->name));
    for (uint32_t i = 0; i < ev->nfields; i++)
      if (!check_field(v, &ev->fields[i], owner, i)) return false;
  }
  return true;
}

/* A table's reference to a value block: it must exist, be an expression and
 * give want.  account_only: evaluated once per account (segments, starts,
 * deadlines, since, step conditions), so it may not read account state. */
static bool ref_block(verifier *v, uint32_t b, uint8_t want, bool account_only, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static bool ref_block(verifier *v, uint32_t b, uint8_t want, bool account_only, const char *fmt, ...) {
  const bc_program *p = v->p;
  const char *problem = NULL;
  char detail[120] = "";
  if (b >= p->nblocks) {
    problem = "does not exist";
    snprintf(detail, sizeof detail, " (the program has %u)", p->nblocks);
  } else if (p->blocks[b].type == 0) {
    problem = "is an update block, not an expression";
  } else if (p->blocks[b].type != want) {
    problem = "gives the wrong type";
    snprintf(detail, sizeof detail, ": %s, expected %s", type_name(p->blocks[b].type), type_name(want));
  }
  if (problem) {
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return fail(v, "%s: block %u %s%s", what, b, problem, detail);
  }
  v->use[b].value_ref = true;
  if (account_only) v->use[b].account_only = true;
  return true;
}

static bool check_segment_list(verifier *v, uint32_t n, const uint32_t *segs, const char *kind,
                               const char *name) {
  if (n && !segs) return fail(v, "%s `%s`: the segments table is missing", kind, name);
  for (uint32_t i = 0; i < n; i++)
    if (segs[i] >= v->p->nsegments)
      return fail(v, "%s `%s`: segment %u does not exist (the program has %u)", kind, name, segs[i],
                  v->p->nsegments);
  return true;
}

static bool check_emits(verifier *v, uint32_t n, const uint32_t *emits, const char *kind,
                        const char *name) {
  if (n && !emits) return fail(v, "%s `%s`: the emits table is missing", kind, name);
  for (uint32_t i = 0; i < n; i++) CHECK_STR(emits[i], false, "%s `%s`: signal %u", kind, name, i);
  return true;
}

/* what: "aggregate g" or "sequence s", followed by the index */
static bool check_owner(verifier *v, uint32_t owner, const char *what, uint32_t i) {
  if (owner != BC_NONE && owner >= v->p->nmilestones)
    return fail(v, "%s%u: owner milestone %u does not exist (the program has %u)", what, i, owner,
                v->p->nmilestones);
  return true;
}

static bool check_segments_aggregates(verifier *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->nsegments; i++) {
    CHECK_STR(p->segment_names[i], false, "segment %u name", i);
    if (!ref_block(v, p->segment_blocks[i], VALUE_BOOL, true, "segment `%s`", bc_str(p, p->segment_names[i])))
      return false;
  }
  for (uint32_t i = 0; i < p->naggregates; i++) {
    const bc_aggregate *g = &p->aggregates[i];
    if (g->fn > BC_AGG_DISTINCT) return fail(v, "aggregate g%u: unknown function %u", i, g->fn);
    if (g->window > BC_WIN_SINCE) return fail(v, "aggregate g%u: unknown window %u", i, g->window);
    if (g->event >= p->nevents)
      return fail(v, "aggregate g%u: event %u does not exist (the program has %u)", i, g->event, p->nevents);
    uint8_t want_result;
    if (g->fn == BC_AGG_COUNT) {
      if (g->arg_type != 0)
        return fail(v, "aggregate g%u: count takes no argument, but its argument type is %s", i,
                    type_name(g->arg_type));
      want_result = VALUE_INT;
    } else {
      if (!valid_type(g->arg_type))
        return fail(v, "aggregate g%u: unknown argument type %u", i, g->arg_type);
      if (g->fn != BC_AGG_DISTINCT && g->arg_type != VALUE_INT && g->arg_type != VALUE_FLOAT)
        return fail(v, "aggregate g%u: sum, min, max and avg take int or float, not %s", i,
                    type_name(g->arg_type));
      want_result = g->fn == BC_AGG_DISTINCT ? VALUE_INT : g->fn == BC_AGG_AVG ? VALUE_FLOAT : g->arg_type;
    }
    if (g->result_type != want_result)
      return fail(v, "aggregate g%u: gives %s, expected %s", i, type_name(g->result_type),
                  type_name(want_result));
    if (g->window == BC_WIN_WITHIN && g->within_us <= 0)
      return fail(v, "aggregate g%u: window length %lld is not positive", i, (long long)g->within_us);
    if (g->window == BC_WIN_SINCE &&
        !ref_block(v, g->since_block, VALUE_TIME, true, "since of aggregate g%u", i))
      return false;
    if (g->window == BC_WIN_SINCE_START) {
      if (g->milestone >= p->nmilestones)
        return fail(v, "aggregate g%u: milestone %u does not exist (the program has %u)", i,
                    g->milestone, p->nmilestones);
    } else if (g->milestone != BC_NONE) {
      return fail(v, "aggregate g%u: a milestone (%u) without a `since start` window", i, g->milestone);
    }
    if (!check_owner(v, g->owner, "aggregate g", i)) return false;
  }
  for (uint32_t i = 0; i < p->nsequences; i++) {
    const bc_sequence *s = &p->sequences[i];
    if (s->nsteps == 0) return fail(v, "sequence s%u has no steps", i);
    /* STEP's operand c is 16 bits: more steps could never match, and the
     * VM keeps state per step for every account */
    if (s->nsteps > 0x10000u) return fail(v, "sequence s%u: %u steps (at most 65536)", i, s->nsteps);
    if (s->within_us < 0)
      return fail(v, "sequence s%u: window length %lld is negative", i, (long long)s->within_us);
    if (!check_owner(v, s->owner, "sequence s", i)) return false;
  }
  return true;
}

static bool check_start(verifier *v, uint8_t kind, uint32_t block, uint32_t after, const char *what,
                        const char *name, uint32_t self) {
  const bc_program *p = v->p;
  if (kind > BC_START_ON_ASSIGNMENT) return fail(v, "%s `%s`: unknown start kind %u", what, name, kind);
  if (kind == BC_START_AT && !ref_block(v, block, VALUE_TIME, true, "start of %s `%s`", what, name))
    return false;
  if (kind == BC_START_AFTER) {
    if (after >= p->nmilestones)
      return fail(v, "%s `%s`: starts after milestone %u, which does not exist (the program has %u)",
                  what, name, after, p->nmilestones);
    if (after == self) return fail(v, "%s `%s`: starts after itself", what, name);
  }
  return true;
}

static bool check_milestones(verifier *v) {
  const bc_program *p = v->p;
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    const bc_milestone *ms = &p->milestones[m];
    CHECK_STR(ms->name, false, "milestone %u name", m);
    const char *name = bc_str(p, ms->name);
    CHECK_STR(ms->display, true, "milestone `%s` display name", name);
    CHECK_STR(ms->description, true, "milestone `%s` description", name);
    CHECK_STR(ms->csm, true, "milestone `%s` csm text", name);
    CHECK_STR(ms->customer, true, "milestone `%s` customer text", name);
    CHECK_STR(ms->group, true, "milestone `%s` group", name);
    if (ms->continuous > 1) return fail(v, "milestone `%s`: continuous is %u (0 or 1)", name, ms->continuous);
    if (!check_start(v, ms->start_kind, ms->start_block, ms->start_after, "milestone", name, m)) return false;
    switch (ms->deadline_kind) {
    case BC_DEADLINE_NONE:
      break;
    case BC_DEADLINE_AFTER:
      if (ms->start_kind == BC_START_NONE)
        return fail(v, "milestone `%s`: a deadline after the start, without a start clause", name);
      if (ms->deadline_us < 0)
        return fail(v, "milestone `%s`: deadline %lld is negative", name, (long long)ms->deadline_us);
      break;
    case BC_DEADLINE_AT:
      if (!ref_block(v, ms->deadline_block, VALUE_TIME, true, "deadline of milestone `%s`", name)) return false;
      break;
    default:
      return fail(v, "milestone `%s`: unknown deadline kind %u", name, ms->deadline_kind);
    }
    if (ms->estimate_us < -1)
      return fail(v, "milestone `%s`: estimate %lld is negative", name, (long long)ms->estimate_us);
    if (!check_segment_list(v, ms->nsegments, ms->segments, "milestone", name)) return false;
    struct { uint32_t block; const char *what; } criteria[] = {
      {ms->entry_block, "entry"}, {ms->exit_block, "exit"}, {ms->blocked_block, "blocked when"},
    };
    for (size_t i = 0; i < sizeof criteria / sizeof criteria[0]; i++)
      if (criteria[i].block != BC_NO_BLOCK &&
          !ref_block(v, criteria[i].block, VALUE_BOOL, false, "%s of milestone `%s`", criteria[i].what, name))
        return false;
    if (ms->nactions && !ms->actions) return fail(v, "milestone `%s`: the actions table is missing", name);
    for (uint32_t a = 0; a < ms->nactions; a++) {
      const bc_action *act = &ms->actions[a];
      CHECK_STR(act->name, false, "milestone `%s` action %u name", name, a);
      CHECK_STR(act->label, true, "milestone `%s` action `%s` label", name, bc_str(p, act->name));
      if (act->owner > 2)
        return fail(v, "milestone `%s` action `%s`: unknown owner %u", name, bc_str(p, act->name), act->owner);
      if (!ref_block(v, act->done_block, VALUE_BOOL, false, "action `%s` of milestone `%s`",
                     bc_str(p, act->name), name))
        return false;
    }
    if (!check_emits(v, ms->nemits, ms->emits, "milestone", name)) return false;
  }
  return true;
}

static bool check_playbooks(verifier *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    const bc_playbook *pb = &p->playbooks[i];
    CHECK_STR(pb->name, false, "playbook %u name", i);
    const char *name = bc_str(p, pb->name);
    CHECK_STR(pb->display, true, "playbook `%s` display name", name);
    if (!check_start(v, pb->start_kind, pb->start_block, pb->start_after, "playbook", name, BC_NONE))
      return false;
    if (!check_segment_list(v, pb->nsegments, pb->segments, "playbook", name)) return false;
    if (pb->nsteps && !pb->steps) return fail(v, "playbook `%s`: the steps table is missing", name);
    for (uint32_t s = 0; s < pb->nsteps; s++) {
      const bc_step *st = &pb->steps[s];
      CHECK_STR(st->name, false, "playbook `%s` step %u name", name, s);
      const char *sname = bc_str(p, st->name);
      CHECK_STR(st->label, true, "playbook `%s` step `%s` label", name, sname);
      if (st->tracks >= p->nmilestones)
        return fail(v, "playbook `%s` step `%s`: tracks milestone %u, which does not exist (the program has %u)",
                    name, sname, st->tracks, p->nmilestones);
      if (st->is_auto > 1) return fail(v, "playbook `%s` step `%s`: auto is %u (0 or 1)", name, sname, st->is_auto);
      if (st->when_block != BC_NO_BLOCK &&
          !ref_block(v, st->when_block, VALUE_BOOL, true, "when of step `%s` of playbook `%s`", sname, name))
        return false;
    }
    if (!check_emits(v, pb->nemits, pb->emits, "playbook", name)) return false;
  }
  return true;
}

static bool check_externs(verifier *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->nexterns; i++) {
    const bc_extern *x = &p->externs[i];
    CHECK_STR(x->name, false, "extern %u name", i);
    const char *name = bc_str(p, x->name);
    CHECK_STR(x->lib, false, "extern `%s` library", name);
    CHECK_STR(x->base_dir, true, "extern `%s` directory", name);
    if (x->nparams > MSL_EXTERN_MAX_PARAMS)
      return fail(v, "extern `%s`: %u parameters (at most %d)", name, x->nparams, MSL_EXTERN_MAX_PARAMS);
    if (x->nparams && !x->params) return fail(v, "extern `%s`: the parameter table is missing", name);
    for (uint32_t k = 0; k < x->nparams; k++)
      if (!valid_type(x->params[k]))
        return fail(v, "extern `%s`: parameter %u has unknown type %u", name, k, x->params[k]);
    if (!valid_type(x->ret)) return fail(v, "extern `%s`: unknown return type %u", name, x->ret);
    if (x->called > 1) return fail(v, "extern `%s`: called is %u (0 or 1)", name, x->called);
  }
  return true;
}

/* decl_order numbers milestones and playbooks together: a permutation, so the
 * signal tie-break is a total order. */
static bool check_decl_order(verifier *v) {
  const bc_program *p = v->p;
  uint64_t n = (uint64_t)p->nmilestones + p->nplaybooks;
  if (!n) return true;
  unsigned char *seen = calloc(n, 1);
  if (!seen) return fail(v, "out of memory");
  bool ok = true;
  for (uint64_t i = 0; i < n && ok; i++) {
    bool is_ms = i < p->nmilestones;
    uint32_t order = is_ms ? p->milestones[i].decl_order : p->playbooks[i - p->nmilestones].decl_order;
    const char *name = bc_str(p, is_ms ? p->milestones[i].name : p->playbooks[i - p->nmilestones].name);
    if (order >= n)
      ok = fail(v, "%s `%s`: declaration position %u out of range (%llu milestones and playbooks)",
                is_ms ? "milestone" : "playbook", name, order, (unsigned long long)n);
    else if (seen[order]++)
      ok = fail(v, "%s `%s`: declaration position %u is used twice", is_ms ? "milestone" : "playbook",
                name, order);
  }
  free(seen);
  return ok;
}

static bool check_update_table(verifier *v) {
  const bc_program *p = v->p;
  uint64_t n = ((uint64_t)p->nmilestones + 1) * p->nevents;
  for (uint64_t i = 0; i < n; i++) {
    uint32_t b = p->update_blocks[i];
    if (b == BC_NO_BLOCK) continue;
    uint32_t event = (uint32_t)(i % p->nevents), scope = (uint32_t)(i / p->nevents);
    char where[200];
    if (scope == 0)
      snprintf(where, sizeof where, "update of event `%s`, account-wide", bc_str(p, p->events[event].name));
    else
      snprintf(where, sizeof where, "update of event `%s`, since start of milestone `%s`",
               bc_str(p, p->events[event].name), bc_str(p, p->milestones[scope - 1].name));
    if (b >= p->nblocks) return fail(v, "%s: block %u does not exist (the program has %u)", where, b, p->nblocks);
    if (p->blocks[b].type != 0) return fail(v, "%s: block %u is a value block, not an update block", where, b);
    if (v->use[b].update_ref) return fail(v, "%s: block %u already runs for another event or scope", where, b);
    v->use[b].update_ref = true;
    v->use[b].event = event;
    v->use[b].scope = scope;
  }
  return true;
}

/* ---- instructions ------------------------------------------------------------ */

static bool insn_fail(verifier *v, uint32_t bi, uint32_t pc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool insn_fail(verifier *v, uint32_t bi, uint32_t pc, const char *fmt, ...) {
  char title[300], what[300];
  verify_block_title(v->p, bi, true, title, sizeof title);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return fail(v, "block %u (%s), instruction %u: %s", bi, title, pc, what);
}

/* The class a register type of opcodes.h stands for; CL_UNSET for any
 * (and for the types resolved elsewhere: none, same, declared). */
static reg_class class_of_optype(unsigned t) {
  switch (t) {
  case OPT_BOOL: return CL_BOOL;
  case OPT_INT: case OPT_TIME: return CL_I64;
  case OPT_FLOAT: return CL_FLOAT;
  case OPT_STRING: return CL_STRING;
  default: return CL_UNSET;
  }
}

/* Whether op may not appear in an update block (update) or a value block. */
static bool wrong_block_kind(unsigned op, bool update) {
  return bc_op_flags[op] & (update ? OPF_VAL : OPF_UPD);
}

/* Whether op ends a snippet of an update block; op is not checked yet (a
 * later instruction), and an invalid one is refused when its turn comes. */
static bool is_effect(unsigned op) { return op < BC__COUNT && (bc_op_flags[op] & OPF_EFFECT); }

/* The op that ends an update block (update) or a value block. */
static const char *terminator_name(bool update) {
  for (unsigned op = 0; op < BC__COUNT; op++)
    if ((bc_op_flags[op] & OPF_TERM) && !wrong_block_kind(op, update)) return bc_op_names[op];
  return "?";       /* tests/unit/test_opcodes.c checks the list has both */
}

/* The I/O type of a D register of opcodes.h: what the entry operand b names
 * declares (result: for R[a]; else for argument arg of a read), 0 for none.
 * Operand b must have passed its range check. */
static unsigned declared_type(const verifier *v, uint32_t bi, const bc_insn *in, bool result, uint32_t arg) {
  const bc_program *p = v->p;
  switch ((vm_operand_kind)bc_op_operands[in->op][1]) {
  case OPND_NONE: return p->blocks[bi].type;
  case OPND_CONST: return p->consts[in->b].type;
  case OPND_FIELD: return p->events[v->use[bi].event].fields[in->b].type;
  case OPND_ACCT: return in->b == BC_ACCOUNT_ID ? VALUE_STRING : p->account_fields[in->b].type;
  case OPND_AGG: {
    const bc_aggregate *g = &p->aggregates[in->b];
    if (result) return g->result_type;
    return g->fn == BC_AGG_COUNT ? 0 : g->arg_type;
  }
  case OPND_EXTERN: {
    const bc_extern *x = &p->externs[in->b];
    if (result) return x->ret;
    return arg < x->nparams ? x->params[arg] : 0;
  }
  default: return 0;
  }
}

/* What reads a D register, for messages. */
static void declared_what(const verifier *v, uint32_t bi, const bc_insn *in, uint32_t arg, char *what,
                          size_t len) {
  const bc_program *p = v->p;
  switch ((vm_operand_kind)bc_op_operands[in->op][1]) {
  case OPND_NONE:
    snprintf(what, len, "%s of a %s block", bc_op_names[in->op], type_name(p->blocks[bi].type));
    break;
  case OPND_AGG: snprintf(what, len, "aggregate g%u", in->b); break;
  case OPND_EXTERN: snprintf(what, len, "argument %u of `%s`", arg + 1, bc_str(p, p->externs[in->b].name)); break;
  default: snprintf(what, len, "%s", bc_op_names[in->op]); break;
  }
}

/* Operand checks that need no flow information. */
static bool check_insn_static(verifier *v, uint32_t bi, uint32_t pc) {
  const bc_program *p = v->p;
  const bc_block *blk = &p->blocks[bi];
  const block_use *use = &v->use[bi];
  const bc_insn *in = &p->code[blk->start + pc];
  bool update = blk->type == 0;
  if (in->op >= BC__COUNT) return insn_fail(v, bi, pc, "invalid opcode %u", in->op);
  const char *opname = bc_op_names[in->op];
  const unsigned char *kinds = bc_op_operands[in->op], *types = bc_op_types[in->op];
  const unsigned flags = bc_op_flags[in->op];
  const uint32_t opnd[4] = {in->a, in->b, in->c, in->d};
  static const char letters[] = "abcd";

  if (wrong_block_kind(in->op, update)) {
    if (flags & OPF_TERM)
      return insn_fail(v, bi, pc, "%s in %s block (they end with %s)", opname, update ? "an update" : "a value",
                       terminator_name(update));
    return insn_fail(v, bi, pc, "%s is only allowed in %s blocks", opname, update ? "value" : "update");
  }
  if (use->account_only && (flags & OPF_STATE))
    return insn_fail(v, bi, pc, "%s is not allowed here: this block is evaluated once per account, "
                     "over account fields and constants", opname);

  for (int k = 0; k < 4; k++) {
    uint32_t x = opnd[k];
    bool run = k < 3 && kinds[k + 1] == OPND_COUNT;       /* R or K then N: checked below */
    switch ((vm_operand_kind)kinds[k]) {
    case OPND_NONE:
      if (x) return insn_fail(v, bi, pc, "%s: unused operand %c is %u (must be 0)", opname, letters[k], x);
      break;
    case OPND_REG:
      if (run) break;
      /* a read whose declared type is none (a count aggregate) reads no register */
      if (types[k + 1] == OPT_DECLARED && !declared_type(v, bi, in, false, 0)) {
        if (x) return insn_fail(v, bi, pc, "%s of a count: operand %c is %u (must be 0)", opname, letters[k], x);
        break;
      }
      if (x >= blk->nregs)
        return insn_fail(v, bi, pc, "register %u out of range (block has %u)", x, blk->nregs);
      break;
    case OPND_CONST:
      if (run) break;
      if (x >= p->nconsts)
        return insn_fail(v, bi, pc, "constant k%u out of range (the program has %u)", x, p->nconsts);
      break;
    case OPND_AGG:
      if (x >= p->naggregates)
        return insn_fail(v, bi, pc, "aggregate g%u out of range (the program has %u)", x, p->naggregates);
      break;
    case OPND_SEQ:
      if (x >= p->nsequences)
        return insn_fail(v, bi, pc, "sequence s%u out of range (the program has %u)", x, p->nsequences);
      break;
    case OPND_MILESTONE:
      if (x >= p->nmilestones)
        return insn_fail(v, bi, pc, "milestone %u out of range (the program has %u)", x, p->nmilestones);
      break;
    case OPND_PLAYBOOK:
      if (x >= p->nplaybooks)
        return insn_fail(v, bi, pc, "playbook %u out of range (the program has %u)", x, p->nplaybooks);
      break;
    case OPND_FIELD:
      if (use->event == BC_NONE)
        return insn_fail(v, bi, pc, "FIELD in an update block that no event runs");
      if (x >= p->events[use->event].nfields)
        return insn_fail(v, bi, pc, "field %u out of range (event `%s` has %u)", x,
                         bc_str(p, p->events[use->event].name), p->events[use->event].nfields);
      break;
    case OPND_ACCT:
      if (x != BC_ACCOUNT_ID && x >= p->naccount_fields)
        return insn_fail(v, bi, pc, "account field %u out of range (the program has %u)", x,
                         p->naccount_fields);
      break;
    case OPND_EXTERN:
      if (x >= p->nexterns)
        return insn_fail(v, bi, pc, "extern %u out of range (the program has %u)", x, p->nexterns);
      break;
    case OPND_JUMP:
      if (x <= pc) return insn_fail(v, bi, pc, "jump to %u goes backwards (blocks may not loop)", x);
      if (x >= blk->len)
        return insn_fail(v, bi, pc, "jump target %u outside the block (%u instructions)", x, blk->len);
      if (update) {
        /* a filter's jumps stay in its snippet, which ends at its first
           effect: the VM skips a failing filter to that effect */
        uint32_t e = pc;
        while (e < blk->len && !is_effect(p->code[blk->start + e].op)) e++;
        if (e < blk->len && x > e + 1)
          return insn_fail(v, bi, pc, "jump to %u leaves its snippet, which ends at instruction %u", x, e);
      }
      break;
    case OPND_COUNT:
      break;                                               /* per op, below */
    }
  }

  /* What the entries the operands name require of this op. */
  switch (in->op) {
  case BC_CALL: {
    const bc_extern *x = &p->externs[in->b];
    if (in->d != x->nparams)
      return insn_fail(v, bi, pc, "calls `%s` with %u arguments, it takes %u", bc_str(p, x->name), in->d,
                       x->nparams);
    if (!x->called)
      return insn_fail(v, bi, pc, "calls `%s`, which is not marked as called (it would not be bound)",
                       bc_str(p, x->name));
    break;
  }
  case BC_UPDATE: {
    const bc_aggregate *g = &p->aggregates[in->b];
    if (use->event == BC_NONE) return insn_fail(v, bi, pc, "UPDATE in an update block that no event runs");
    if (g->event != use->event)
      return insn_fail(v, bi, pc, "aggregate g%u counts `%s` events, this block runs for `%s`", in->b,
                       bc_str(p, p->events[g->event].name), bc_str(p, p->events[use->event].name));
    uint32_t want_scope = g->window == BC_WIN_SINCE_START ? g->milestone + 1 : 0;
    if (use->scope != want_scope)
      return insn_fail(v, bi, pc, "aggregate g%u is updated in the wrong scope (%s)", in->b,
                       want_scope ? "it counts since the start of a milestone" : "it is account-wide");
    break;
  }
  case BC_STEP:
    if (in->c >= p->sequences[in->b].nsteps)
      return insn_fail(v, bi, pc, "step %u out of range (sequence s%u has %u)", in->c, in->b,
                       p->sequences[in->b].nsteps);
    break;
  case BC_STARTON:
    if (p->milestones[in->b].start_kind != BC_START_ON_EVENT)
      return insn_fail(v, bi, pc, "milestone `%s` does not start on an event",
                       bc_str(p, p->milestones[in->b].name));
    if (use->scope != 0) return insn_fail(v, bi, pc, "STARTON outside the account-wide update blocks");
    break;
  case BC_STARTONP:
    if (p->playbooks[in->b].start_kind != BC_START_ON_EVENT)
      return insn_fail(v, bi, pc, "playbook `%s` does not start on an event",
                       bc_str(p, p->playbooks[in->b].name));
    if (use->scope != 0) return insn_fail(v, bi, pc, "STARTONP outside the account-wide update blocks");
    break;
  case BC_START:
    if (p->milestones[in->b].start_kind == BC_START_NONE)
      return insn_fail(v, bi, pc, "milestone `%s` has no start clause, so no start time",
                       bc_str(p, p->milestones[in->b].name));
    break;
  case BC_ACHIEVING:
    if (!p->milestones[in->b].continuous)
      return insn_fail(v, bi, pc, "ACHIEVING of `%s`, which is not continuous",
                       bc_str(p, p->milestones[in->b].name));
    break;
  default:
    break;
  }

  /* Runs: d registers or constants from c (an operand followed by N). */
  for (int k = 0; k < 3; k++) {
    if (kinds[k + 1] != OPND_COUNT) continue;
    uint32_t first = opnd[k], n = opnd[k + 1];
    if (kinds[k] == OPND_REG && first + n > blk->nregs)
      return insn_fail(v, bi, pc, "%u argument registers from register %u are out of range (block has %u)", n,
                       first, blk->nregs);
    if (kinds[k] != OPND_CONST) continue;
    if (first + n > p->nconsts)
      return insn_fail(v, bi, pc, "constants k%u..k%u out of range (the program has %u)", first, first + n - 1,
                       p->nconsts);
    /* the constants are compared with R[b]: of the type it is read as */
    reg_class want = class_of_optype(types[2]);
    for (uint32_t c = first; c < first + n; c++)
      if (class_of(p->consts[c].type) != want)
        return insn_fail(v, bi, pc, "%s needs %s constants, k%u is a %s", opname, class_name(want), c,
                         type_name(p->consts[c].type));
  }
  return true;
}

/* Abstract interpretation state of one block: the class of each register
 * on entry to the instruction being checked, and at every jump target the
 * merge of what the jumps to it carry.  Jumps only go forward, so one pass
 * in code order sees every edge into an instruction before it. */
typedef struct flow {
  uint32_t nregs;
  uint8_t *cur;
  bool reachable;
  uint32_t *slot_of;     /* per instruction: its jump-target slot, or BC_NONE */
  uint8_t *slot_regs;    /* nslots * nregs */
  bool *slot_reached;
} flow;

static void merge_into(uint8_t *dst, const uint8_t *src, uint32_t n) {
  for (uint32_t r = 0; r < n; r++)
    if (dst[r] != src[r]) dst[r] = (dst[r] == CL_UNSET || src[r] == CL_UNSET) ? CL_UNSET : CL_MIXED;
}

static void jump_to(flow *f, uint32_t target) {
  uint32_t s = f->slot_of[target];
  uint8_t *regs = f->slot_regs + (size_t)s * f->nregs;
  if (f->slot_reached[s]) {
    merge_into(regs, f->cur, f->nregs);
  } else {
    memcpy(regs, f->cur, f->nregs);
    f->slot_reached[s] = true;
  }
}

/* Reads register r, which must hold class want (CL_UNSET: any class). */
static bool use_reg(verifier *v, const flow *f, uint32_t bi, uint32_t pc, uint32_t r, reg_class want,
                    const char *what) {
  reg_class have = f->cur[r];
  if (have == CL_UNSET) return insn_fail(v, bi, pc, "register %u is read before it is written", r);
  if (have == CL_MIXED)
    return insn_fail(v, bi, pc, "register %u holds different types on the paths that meet here", r);
  if (want != CL_UNSET && have != want)
    return insn_fail(v, bi, pc, "%s needs %s, register %u holds %s", what, class_name(want), r,
                     class_name(have));
  return true;
}

static bool check_insn_types(verifier *v, flow *f, uint32_t bi, uint32_t pc) {
  const bc_program *p = v->p;
  const bc_insn *in = &p->code[p->blocks[bi].start + pc];
  const unsigned char *kinds = bc_op_operands[in->op], *types = bc_op_types[in->op];
  const uint32_t opnd[4] = {in->a, in->b, in->c, in->d};
  char what[200];

  for (int k = 0; k < 3; k++) {
    unsigned t = types[k + 1];
    if (t == OPT_NONE) continue;
    uint32_t n = kinds[k + 1] == OPND_COUNT ? opnd[k + 1] : 1;   /* a run reads n registers */
    for (uint32_t j = 0; j < n; j++) {
      reg_class want = class_of_optype(t);
      snprintf(what, sizeof what, "%s", bc_op_names[in->op]);
      if (t == OPT_DECLARED) {
        unsigned io = declared_type(v, bi, in, false, j);
        if (!io) continue;                                 /* a count reads no value */
        want = class_of(io);
        declared_what(v, bi, in, j, what, sizeof what);
      }
      if (!use_reg(v, f, bi, pc, opnd[k] + j, want, what)) return false;
    }
  }

  switch ((vm_operand_type)types[0]) {
  case OPT_NONE: break;
  case OPT_DECLARED: f->cur[in->a] = (uint8_t)class_of(declared_type(v, bi, in, true, 0)); break;
  default: f->cur[in->a] = (uint8_t)class_of_optype(types[0]); break;
  }
  if (bc_op_flags[in->op] & OPF_JUMP) jump_to(f, in->d);
  if (bc_op_flags[in->op] & OPF_STOP) f->reachable = false;
  return true;
}

static bool check_block(verifier *v, uint32_t bi) {
  const bc_program *p = v->p;
  const bc_block *blk = &p->blocks[bi];
  for (uint32_t pc = 0; pc < blk->len; pc++)
    if (!check_insn_static(v, bi, pc)) return false;
  /* every op passed, so one that ends a block ends this kind of block */
  unsigned last = p->code[blk->start + blk->len - 1].op;
  if (!(bc_op_flags[last] & OPF_TERM))
    return insn_fail(v, bi, blk->len - 1, "the block does not end with %s, so it can run off its end",
                     terminator_name(blk->type == 0));

  flow f = {.nregs = blk->nregs, .reachable = true};
  uint32_t nslots = 0;
  f.slot_of = malloc(sizeof *f.slot_of * blk->len);
  f.cur = calloc(BC_MAX_REGS, 1);
  if (!f.slot_of || !f.cur) {
    free(f.slot_of);
    free(f.cur);
    return fail(v, "out of memory");
  }
  for (uint32_t pc = 0; pc < blk->len; pc++) f.slot_of[pc] = BC_NONE;
  for (uint32_t pc = 0; pc < blk->len; pc++) {
    const bc_insn *in = &p->code[blk->start + pc];
    if ((bc_op_flags[in->op] & OPF_JUMP) && f.slot_of[in->d] == BC_NONE) f.slot_of[in->d] = nslots++;
  }
  f.slot_regs = calloc((size_t)nslots * blk->nregs + 1, 1);
  f.slot_reached = calloc((size_t)nslots + 1, sizeof *f.slot_reached);
  bool ok = f.slot_regs && f.slot_reached;
  if (!ok) fail(v, "out of memory");
  for (uint32_t pc = 0; ok && pc < blk->len; pc++) {
    uint32_t s = f.slot_of[pc];
    if (s != BC_NONE && f.slot_reached[s]) {
      const uint8_t *in_regs = f.slot_regs + (size_t)s * blk->nregs;
      if (f.reachable) merge_into(f.cur, in_regs, blk->nregs);
      else memcpy(f.cur, in_regs, blk->nregs);
      f.reachable = true;
    }
    if (f.reachable) ok = check_insn_types(v, &f, bi, pc);   /* dead code is never run */
  }
  free(f.slot_of);
  free(f.cur);
  free(f.slot_regs);
  free(f.slot_reached);
  return ok;
}

/* ---- evaluation order ---------------------------------------------------------- */

/* Milestone m is evaluated after every other milestone its blocks read
 * (COMPLETED, ACHIEVING, START) and after the one it starts after. */
static bool check_block_deps(verifier *v, const uint32_t *pos, uint32_t m, uint32_t bi) {
  const bc_program *p = v->p;
  const bc_block *blk = &p->blocks[bi];
  for (uint32_t pc = 0; pc < blk->len; pc++) {
    const bc_insn *in = &p->code[blk->start + pc];
    if (!(bc_op_flags[in->op] & OPF_STATE) || bc_op_operands[in->op][1] != OPND_MILESTONE) continue;
    /* reading itself is reading the state of the previous instant: no order */
    if (in->b != m && pos[in->b] > pos[m])
      return insn_fail(v, bi, pc, "the evaluation order puts milestone `%s` before `%s`, which it reads",
                       bc_str(p, p->milestones[m].name), bc_str(p, p->milestones[in->b].name));
  }
  return true;
}

static bool check_milestone_deps(verifier *v, const uint32_t *pos, uint32_t m) {
  const bc_milestone *ms = &v->p->milestones[m];
  if (ms->start_kind == BC_START_AFTER && pos[ms->start_after] > pos[m])
    return fail(v, "the evaluation order puts milestone `%s` before `%s`, which it starts after",
                bc_str(v->p, ms->name), bc_str(v->p, v->p->milestones[ms->start_after].name));
  uint32_t blocks[5] = {
    ms->start_kind == BC_START_AT ? ms->start_block : BC_NO_BLOCK,
    ms->deadline_kind == BC_DEADLINE_AT ? ms->deadline_block : BC_NO_BLOCK,
    ms->entry_block, ms->exit_block, ms->blocked_block,
  };
  for (int i = 0; i < 5; i++)
    if (blocks[i] != BC_NO_BLOCK && !check_block_deps(v, pos, m, blocks[i])) return false;
  for (uint32_t a = 0; a < ms->nactions; a++)
    if (!check_block_deps(v, pos, m, ms->actions[a].done_block)) return false;
  return true;
}

static bool check_eval_order(verifier *v) {
  const bc_program *p = v->p;
  if (!p->nmilestones) return true;
  uint32_t *pos = malloc(sizeof *pos * p->nmilestones);
  if (!pos) return fail(v, "out of memory");
  for (uint32_t m = 0; m < p->nmilestones; m++) pos[m] = BC_NONE;
  bool ok = true;
  for (uint32_t i = 0; i < p->nmilestones && ok; i++) {
    uint32_t m = p->eval_order[i];
    if (m >= p->nmilestones)
      ok = fail(v, "evaluation order, position %u: milestone %u does not exist (the program has %u)", i, m,
                p->nmilestones);
    else if (pos[m] != BC_NONE)
      ok = fail(v, "evaluation order: milestone `%s` appears twice", bc_str(p, p->milestones[m].name));
    else
      pos[m] = i;
  }
  for (uint32_t m = 0; m < p->nmilestones && ok; m++) ok = check_milestone_deps(v, pos, m);
  free(pos);
  return ok;
}

bool verify_program(const bc_program *p, char *msg, size_t msglen) {
  verifier v = {.p = p, .msg = msg, .msglen = msglen};
  if (msglen) msg[0] = '\0';
  if (!check_arrays(&v) || !check_consts(&v) || !check_block_headers(&v)) return false;
  v.use = calloc((size_t)p->nblocks + 1, sizeof *v.use);
  if (!v.use) return fail(&v, "out of memory");
  for (uint32_t b = 0; b < p->nblocks; b++) v.use[b].event = BC_NONE;
  bool ok = check_schema(&v) && check_segments_aggregates(&v) && check_milestones(&v) &&
            check_playbooks(&v) && check_externs(&v) && check_decl_order(&v) && check_update_table(&v);
  for (uint32_t b = 0; ok && b < p->nblocks; b++) ok = check_block(&v, b);
  ok = ok && check_eval_order(&v);
  free(v.use);
  return ok;
}
