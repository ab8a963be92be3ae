/* verify_roles.c — what each block of a program is for, in words: the
 * titles of the verifier's messages ("block 12 (exit of milestone
 * `kickoff`), ...") and of `msl disasm` listings.  Reads only the tables,
 * so it is safe on any program whose arrays hold their counts, verified or
 * not. */
#include "bc/verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

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
  verify_block_roles *r = util_xalloc(sizeof *r);
  r->p = p;
  r->first = util_xalloc(((size_t)p->nblocks + 1) * sizeof *r->first);
  uint32_t *fill = util_xalloc(sizeof *fill * ((size_t)p->nblocks + 1));
  role_count rc = {r, NULL};
  visit_roles(p, count_or_place, &rc);
  for (uint32_t b = 0; b < p->nblocks; b++) r->first[b + 1] += r->first[b];
  r->roles = util_xalloc(sizeof *r->roles * ((size_t)r->first[p->nblocks] + 1));
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
