/* verify.c — the bytecode verifier (see verify.h for what it guarantees):
 * the whole-program checks and verify_program, which runs them all.
 *
 * Order of the checks: the arrays and the string pool, the constants and
 * the blocks' headers, then every table (recording for each block how it is
 * used: an update block's event and scope, whether a value block may only
 * see account fields), then every block's instructions (verify_insn.c), and
 * last the evaluation order, which needs verified blocks to find
 * dependencies. */
#include "bc/verify_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/native_trust.h"
#include "core/util.h"

const char *verify_type_name(unsigned t) {
  static const char *const names[] = {"no type", "bool", "int", "float", "string", "time", "duration"};
  return t < sizeof names / sizeof names[0] ? names[t] : "an unknown type";
}

static bool valid_type(unsigned t) { return t >= VALUE_BOOL && t <= VALUE_DURATION; }

bool verify_fail(verify_state *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  util_vset_msg(v->msg, v->msglen, fmt, ap);
  va_end(ap);
  return false;
}

/* ---- tables ---------------------------------------------------------------- */

static bool str_ok(const verify_state *v, uint32_t off, bool optional) {
  if (off == BC_NONE) return optional;
  return off < v->p->strings_len;
}

/* Checks a string reference; what names its owner for the message. */
#define CHECK_STR(off, optional, ...)                                                            \
  do {                                                                                           \
    if (!str_ok(v, (off), (optional))) {                                                         \
      char what_[200];                                                                           \
      snprintf(what_, sizeof what_, __VA_ARGS__);                                                \
      if ((off) == BC_NONE) return verify_fail(v, "%s: missing (a required string)", what_);     \
      return verify_fail(v, "%s: string offset %u is outside the string pool (%u bytes)", what_, \
                         (unsigned)(off), v->p->strings_len);                                    \
    }                                                                                            \
  } while (0)

static bool check_arrays(verify_state *v) {
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
      return verify_fail(v, "the %s table is missing (%llu entries)", arrays[i].what,
                         (unsigned long long)arrays[i].count);
  if (p->strings_len && p->strings[p->strings_len - 1] != '\0')
    return verify_fail(v, "the string pool does not end with a NUL byte");
  if (p->naccount_fields >= BC_ACCOUNT_ID)
    return verify_fail(v, "%u account fields: at most %u fit the ACCT operand", p->naccount_fields,
                       BC_ACCOUNT_ID - 1);
  return true;
}

static bool check_consts(verify_state *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->nconsts; i++) {
    const bc_const *k = &p->consts[i];
    if (!valid_type(k->type)) return verify_fail(v, "constant k%u: unknown type %u", i, k->type);
    if (k->type != VALUE_STRING) continue;
    /* The string must lie inside the pool with the pool's NUL after it. */
    uintptr_t base = (uintptr_t)p->strings, at = (uintptr_t)k->v.s.p;
    if (!p->strings || at < base || at - base >= p->strings_len ||
        k->v.s.len >= p->strings_len - (at - base))
      return verify_fail(v, "constant k%u: string of %u bytes is not inside the string pool", i, k->v.s.len);
  }
  return true;
}

static bool check_block_headers(verify_state *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->nblocks; i++) {
    const bc_block *b = &p->blocks[i];
    if (b->len == 0) return verify_fail(v, "block %u is empty", i);
    if ((uint64_t)b->start + b->len > p->ncode)
      return verify_fail(v, "block %u: instructions %u..%llu are outside the code (%u instructions)", i,
                         b->start, (unsigned long long)b->start + b->len - 1, p->ncode);
    if (b->type != 0 && !valid_type(b->type)) return verify_fail(v, "block %u: unknown type %u", i, b->type);
    if (b->nregs > BC_MAX_REGS)
      return verify_fail(v, "block %u: %u registers (at most %u)", i, b->nregs, BC_MAX_REGS);
    if (b->type != 0 && b->nregs == 0) return verify_fail(v, "block %u: a value block needs a register", i);
    if (b->milestone != BC_NONE && b->milestone >= p->nmilestones)
      return verify_fail(v, "block %u: milestone %u does not exist (the program has %u)", i, b->milestone,
                         p->nmilestones);
  }
  return true;
}

static bool check_field(verify_state *v, const bc_field *f, const char *owner, uint32_t i) {
  const bc_program *p = v->p;
  CHECK_STR(f->name, false, "%s field %u name", owner, i);
  const char *name = bc_str(p, f->name);
  if (!valid_type(f->type)) return verify_fail(v, "%s field `%s`: unknown type %u", owner, name, f->type);
  if (f->has_default > 1)
    return verify_fail(v, "%s field `%s`: has_default is %u (0 or 1)", owner, name, f->has_default);
  if (!f->has_default) return true;
  if (f->default_const >= p->nconsts)
    return verify_fail(v, "%s field `%s`: default constant k%u does not exist (the program has %u)", owner,
                       name, f->default_const, p->nconsts);
  uint8_t kt = p->consts[f->default_const].type;
  if (verify_class_of(kt) != verify_class_of(f->type))
    return verify_fail(v, "%s field `%s`: the default k%u is of type %s, the field of type %s", owner, name,
                       f->default_const, verify_type_name(kt), verify_type_name(f->type));
  return true;
}

static bool check_schema(verify_state *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->naccount_fields; i++)
    if (!check_field(v, &p->account_fields[i], "account", i)) return false;
  for (uint32_t e = 0; e < p->nevents; e++) {
    const bc_event *ev = &p->events[e];
    CHECK_STR(ev->name, false, "event %u name", e);
    if (ev->nfields && !ev->fields)
      return verify_fail(v, "event `%s`: the fields table is missing", bc_str(p, ev->name));
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
static bool ref_block(verify_state *v, uint32_t b, uint8_t want, bool account_only, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static bool ref_block(verify_state *v, uint32_t b, uint8_t want, bool account_only, const char *fmt, ...) {
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
    snprintf(detail, sizeof detail, ": %s, expected %s", verify_type_name(p->blocks[b].type), verify_type_name(want));
  }
  if (problem) {
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return verify_fail(v, "%s: block %u %s%s", what, b, problem, detail);
  }
  v->use[b].value_ref = true;
  if (account_only) v->use[b].account_only = true;
  return true;
}

static bool check_segment_list(verify_state *v, uint32_t n, const uint32_t *segs, const char *kind,
                               const char *name) {
  if (n && !segs) return verify_fail(v, "%s `%s`: the segments table is missing", kind, name);
  for (uint32_t i = 0; i < n; i++)
    if (segs[i] >= v->p->nsegments)
      return verify_fail(v, "%s `%s`: segment %u does not exist (the program has %u)", kind, name, segs[i],
                         v->p->nsegments);
  return true;
}

/* The VM emits an overdue signal only past a deadline and a lost one only
 * for a continuous milestone: a clause that could never fire is a corrupt
 * or foreign file, as the checker would have refused it (E068, E069). */
static bool check_milestone_emits(verify_state *v, const bc_milestone *ms, const char *name) {
  if (ms->nemits && !ms->emits) return verify_fail(v, "milestone `%s`: the emits table is missing", name);
  for (uint32_t i = 0; i < ms->nemits; i++) {
    const bc_emit *e = &ms->emits[i];
    CHECK_STR(e->signal, false, "milestone `%s`: signal %u", name, i);
    if (e->on >= BC_EMIT__COUNT)
      return verify_fail(v, "milestone `%s`: signal %u fires on unknown kind %u", name, i, e->on);
    if (e->on == BC_EMIT_OVERDUE && ms->deadline_kind == BC_DEADLINE_NONE)
      return verify_fail(v, "milestone `%s`: signal %u fires when overdue, but the milestone has no deadline",
                         name, i);
    if (e->on == BC_EMIT_LOST && !ms->continuous)
      return verify_fail(v, "milestone `%s`: signal %u fires when lost, but the milestone is not continuous",
                         name, i);
  }
  return true;
}

static bool check_playbook_emits(verify_state *v, const bc_playbook *pb, const char *name) {
  if (pb->nemits && !pb->emits) return verify_fail(v, "playbook `%s`: the emits table is missing", name);
  for (uint32_t i = 0; i < pb->nemits; i++) CHECK_STR(pb->emits[i], false, "playbook `%s`: signal %u", name, i);
  return true;
}

/* what: "aggregate g" or "sequence s", followed by the index */
static bool check_owner(verify_state *v, uint32_t owner, const char *what, uint32_t i) {
  if (owner != BC_NONE && owner >= v->p->nmilestones)
    return verify_fail(v, "%s%u: owner milestone %u does not exist (the program has %u)", what, i, owner,
                       v->p->nmilestones);
  return true;
}

static bool check_segments_aggregates(verify_state *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->nsegments; i++) {
    CHECK_STR(p->segment_names[i], false, "segment %u name", i);
    if (!ref_block(v, p->segment_blocks[i], VALUE_BOOL, true, "segment `%s`", bc_str(p, p->segment_names[i])))
      return false;
  }
  for (uint32_t i = 0; i < p->naggregates; i++) {
    const bc_aggregate *g = &p->aggregates[i];
    if (g->fn > BC_AGG_DISTINCT) return verify_fail(v, "aggregate g%u: unknown function %u", i, g->fn);
    if (g->window > BC_WIN_SINCE) return verify_fail(v, "aggregate g%u: unknown window %u", i, g->window);
    if (g->event >= p->nevents)
      return verify_fail(v, "aggregate g%u: event %u does not exist (the program has %u)", i, g->event, p->nevents);
    uint8_t want_result;
    if (g->fn == BC_AGG_COUNT) {
      if (g->arg_type != 0)
        return verify_fail(v, "aggregate g%u: count takes no argument, but its argument type is %s", i,
                           verify_type_name(g->arg_type));
      want_result = VALUE_INT;
    } else {
      if (!valid_type(g->arg_type))
        return verify_fail(v, "aggregate g%u: unknown argument type %u", i, g->arg_type);
      if (g->fn != BC_AGG_DISTINCT && g->arg_type != VALUE_INT && g->arg_type != VALUE_FLOAT)
        return verify_fail(v, "aggregate g%u: sum, min, max and avg take int or float, not %s", i,
                           verify_type_name(g->arg_type));
      want_result = g->fn == BC_AGG_DISTINCT ? VALUE_INT : g->fn == BC_AGG_AVG ? VALUE_FLOAT : g->arg_type;
    }
    if (g->result_type != want_result)
      return verify_fail(v, "aggregate g%u: gives %s, expected %s", i, verify_type_name(g->result_type),
                         verify_type_name(want_result));
    if (g->window == BC_WIN_WITHIN && g->within_us <= 0)
      return verify_fail(v, "aggregate g%u: window length %lld is not positive", i, (long long)g->within_us);
    if (g->window == BC_WIN_SINCE &&
        !ref_block(v, g->since_block, VALUE_TIME, true, "since of aggregate g%u", i))
      return false;
    if (g->window == BC_WIN_SINCE_START) {
      if (g->milestone >= p->nmilestones)
        return verify_fail(v, "aggregate g%u: milestone %u does not exist (the program has %u)", i,
                           g->milestone, p->nmilestones);
    } else if (g->milestone != BC_NONE) {
      return verify_fail(v, "aggregate g%u: a milestone (%u) without a `since start` window", i, g->milestone);
    }
    if (!check_owner(v, g->owner, "aggregate g", i)) return false;
  }
  for (uint32_t i = 0; i < p->nsequences; i++) {
    const bc_sequence *s = &p->sequences[i];
    if (s->nsteps == 0) return verify_fail(v, "sequence s%u has no steps", i);
    /* STEP's operand c is 16 bits: more steps could never match, and the
     * VM keeps state per step for every account */
    if (s->nsteps > 0x10000u) return verify_fail(v, "sequence s%u: %u steps (at most 65536)", i, s->nsteps);
    if (s->within_us < 0)
      return verify_fail(v, "sequence s%u: window length %lld is negative", i, (long long)s->within_us);
    if (!check_owner(v, s->owner, "sequence s", i)) return false;
  }
  return true;
}

static bool check_start(verify_state *v, uint8_t kind, uint32_t block, uint32_t after, const char *what,
                        const char *name, uint32_t self) {
  const bc_program *p = v->p;
  if (kind > BC_START_ON_ASSIGNMENT) return verify_fail(v, "%s `%s`: unknown start kind %u", what, name, kind);
  if (kind == BC_START_AT && !ref_block(v, block, VALUE_TIME, true, "start of %s `%s`", what, name))
    return false;
  if (kind == BC_START_AFTER) {
    if (after >= p->nmilestones)
      return verify_fail(v, "%s `%s`: starts after milestone %u, which does not exist (the program has %u)",
                         what, name, after, p->nmilestones);
    if (after == self) return verify_fail(v, "%s `%s`: starts after itself", what, name);
  }
  return true;
}

static bool check_milestones(verify_state *v) {
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
    if (ms->continuous > 1) return verify_fail(v, "milestone `%s`: continuous is %u (0 or 1)", name, ms->continuous);
    if (!check_start(v, ms->start_kind, ms->start_block, ms->start_after, "milestone", name, m)) return false;
    switch (ms->deadline_kind) {
    case BC_DEADLINE_NONE:
      break;
    case BC_DEADLINE_AFTER:
      if (ms->start_kind == BC_START_NONE)
        return verify_fail(v, "milestone `%s`: a deadline after the start, without a start clause", name);
      if (ms->deadline_us < 0)
        return verify_fail(v, "milestone `%s`: deadline %lld is negative", name, (long long)ms->deadline_us);
      break;
    case BC_DEADLINE_AT:
      if (!ref_block(v, ms->deadline_block, VALUE_TIME, true, "deadline of milestone `%s`", name)) return false;
      break;
    default:
      return verify_fail(v, "milestone `%s`: unknown deadline kind %u", name, ms->deadline_kind);
    }
    if (ms->estimate_us < -1)
      return verify_fail(v, "milestone `%s`: estimate %lld is negative", name, (long long)ms->estimate_us);
    if (!check_segment_list(v, ms->nsegments, ms->segments, "milestone", name)) return false;
    struct { uint32_t block; const char *what; } criteria[] = {
      {ms->entry_block, "entry"}, {ms->exit_block, "exit"}, {ms->blocked_block, "blocked when"},
    };
    for (size_t i = 0; i < sizeof criteria / sizeof criteria[0]; i++)
      if (criteria[i].block != BC_NO_BLOCK &&
          !ref_block(v, criteria[i].block, VALUE_BOOL, false, "%s of milestone `%s`", criteria[i].what, name))
        return false;
    if (ms->nactions && !ms->actions) return verify_fail(v, "milestone `%s`: the actions table is missing", name);
    for (uint32_t a = 0; a < ms->nactions; a++) {
      const bc_action *act = &ms->actions[a];
      CHECK_STR(act->name, false, "milestone `%s` action %u name", name, a);
      CHECK_STR(act->label, true, "milestone `%s` action `%s` label", name, bc_str(p, act->name));
      if (act->owner > 2)
        return verify_fail(v, "milestone `%s` action `%s`: unknown owner %u", name, bc_str(p, act->name), act->owner);
      if (!ref_block(v, act->done_block, VALUE_BOOL, false, "action `%s` of milestone `%s`",
                     bc_str(p, act->name), name))
        return false;
    }
    if (!check_milestone_emits(v, ms, name)) return false;
  }
  return true;
}

static bool check_playbooks(verify_state *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    const bc_playbook *pb = &p->playbooks[i];
    CHECK_STR(pb->name, false, "playbook %u name", i);
    const char *name = bc_str(p, pb->name);
    CHECK_STR(pb->display, true, "playbook `%s` display name", name);
    if (!check_start(v, pb->start_kind, pb->start_block, pb->start_after, "playbook", name, BC_NONE))
      return false;
    if (!check_segment_list(v, pb->nsegments, pb->segments, "playbook", name)) return false;
    if (pb->nsteps && !pb->steps) return verify_fail(v, "playbook `%s`: the steps table is missing", name);
    for (uint32_t s = 0; s < pb->nsteps; s++) {
      const bc_step *st = &pb->steps[s];
      CHECK_STR(st->name, false, "playbook `%s` step %u name", name, s);
      const char *sname = bc_str(p, st->name);
      CHECK_STR(st->label, true, "playbook `%s` step `%s` label", name, sname);
      if (st->tracks >= p->nmilestones)
        return verify_fail(v, "playbook `%s` step `%s`: tracks milestone %u, which does not exist (the program has %u)",
                           name, sname, st->tracks, p->nmilestones);
      if (st->is_auto > 1)
        return verify_fail(v, "playbook `%s` step `%s`: auto is %u (0 or 1)", name, sname, st->is_auto);
      if (st->when_block != BC_NO_BLOCK &&
          !ref_block(v, st->when_block, VALUE_BOOL, true, "when of step `%s` of playbook `%s`", sname, name))
        return false;
    }
    if (!check_playbook_emits(v, pb, name)) return false;
  }
  return true;
}

static bool check_externs(verify_state *v) {
  const bc_program *p = v->p;
  for (uint32_t i = 0; i < p->nexterns; i++) {
    const bc_extern *x = &p->externs[i];
    CHECK_STR(x->name, false, "extern %u name", i);
    const char *name = bc_str(p, x->name);
    CHECK_STR(x->lib, false, "extern `%s` library", name);
    CHECK_STR(x->base_dir, true, "extern `%s` directory", name);
    if (x->nparams > MSL_EXTERN_MAX_PARAMS)
      return verify_fail(v, "extern `%s`: %u parameters (at most %d)", name, x->nparams, MSL_EXTERN_MAX_PARAMS);
    if (x->nparams && !x->params) return verify_fail(v, "extern `%s`: the parameter table is missing", name);
    for (uint32_t k = 0; k < x->nparams; k++)
      if (!valid_type(x->params[k]))
        return verify_fail(v, "extern `%s`: parameter %u has unknown type %u", name, k, x->params[k]);
    if (!valid_type(x->ret)) return verify_fail(v, "extern `%s`: unknown return type %u", name, x->ret);
    if (x->called > 1) return verify_fail(v, "extern `%s`: called is %u (0 or 1)", name, x->called);
  }
  return true;
}

/* decl_order numbers milestones and playbooks together: a permutation, so the
 * signal tie-break is a total order. */
static bool check_decl_order(verify_state *v) {
  const bc_program *p = v->p;
  uint64_t n = (uint64_t)p->nmilestones + p->nplaybooks;
  if (!n) return true;
  unsigned char *seen = util_xalloc(n);
  bool ok = true;
  for (uint64_t i = 0; i < n && ok; i++) {
    bool is_ms = i < p->nmilestones;
    uint32_t order = is_ms ? p->milestones[i].decl_order : p->playbooks[i - p->nmilestones].decl_order;
    const char *name = bc_str(p, is_ms ? p->milestones[i].name : p->playbooks[i - p->nmilestones].name);
    if (order >= n)
      ok = verify_fail(v, "%s `%s`: declaration position %u out of range (%llu milestones and playbooks)",
                       is_ms ? "milestone" : "playbook", name, order, (unsigned long long)n);
    else if (seen[order]++)
      ok = verify_fail(v, "%s `%s`: declaration position %u is used twice", is_ms ? "milestone" : "playbook",
                       name, order);
  }
  free(seen);
  return ok;
}

static bool check_update_table(verify_state *v) {
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
    if (b >= p->nblocks)
      return verify_fail(v, "%s: block %u does not exist (the program has %u)", where, b, p->nblocks);
    if (p->blocks[b].type != 0) return verify_fail(v, "%s: block %u is a value block, not an update block", where, b);
    if (v->use[b].update_ref) return verify_fail(v, "%s: block %u already runs for another event or scope", where, b);
    v->use[b].update_ref = true;
    v->use[b].event = event;
    v->use[b].scope = scope;
  }
  return true;
}

/* ---- evaluation order ---------------------------------------------------------- */

/* Milestone m is evaluated after every other milestone its blocks read
 * (COMPLETED, ACHIEVING, START) and after the one it starts after. */
static bool check_block_deps(verify_state *v, const uint32_t *pos, uint32_t m, uint32_t bi) {
  const bc_program *p = v->p;
  const bc_block *blk = &p->blocks[bi];
  for (uint32_t pc = 0; pc < blk->len; pc++) {
    const bc_insn *in = &p->code[blk->start + pc];
    if (!(bc_op_flags[in->op] & OPF_STATE) || bc_op_operands[in->op][1] != OPND_MILESTONE) continue;
    /* reading itself is reading the state of the previous instant: no order */
    if (in->b != m && pos[in->b] > pos[m])
      return verify_insn_fail(v, bi, pc, "the evaluation order puts milestone `%s` before `%s`, which it reads",
                              bc_str(p, p->milestones[m].name), bc_str(p, p->milestones[in->b].name));
  }
  return true;
}

static bool check_milestone_deps(verify_state *v, const uint32_t *pos, uint32_t m) {
  const bc_milestone *ms = &v->p->milestones[m];
  if (ms->start_kind == BC_START_AFTER && pos[ms->start_after] > pos[m])
    return verify_fail(v, "the evaluation order puts milestone `%s` before `%s`, which it starts after",
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

static bool check_eval_order(verify_state *v) {
  const bc_program *p = v->p;
  if (!p->nmilestones) return true;
  uint32_t *pos = util_xalloc(sizeof *pos * p->nmilestones);
  for (uint32_t m = 0; m < p->nmilestones; m++) pos[m] = BC_NONE;
  bool ok = true;
  for (uint32_t i = 0; i < p->nmilestones && ok; i++) {
    uint32_t m = p->eval_order[i];
    if (m >= p->nmilestones)
      ok = verify_fail(v, "evaluation order, position %u: milestone %u does not exist (the program has %u)", i, m,
                       p->nmilestones);
    else if (pos[m] != BC_NONE)
      ok = verify_fail(v, "evaluation order: milestone `%s` appears twice", bc_str(p, p->milestones[m].name));
    else
      pos[m] = i;
  }
  for (uint32_t m = 0; m < p->nmilestones && ok; m++) ok = check_milestone_deps(v, pos, m);
  free(pos);
  return ok;
}

bool verify_program(const bc_program *p, char *msg, size_t msglen) {
  verify_state v = {.p = p, .msg = msg, .msglen = msglen};
  if (msglen) msg[0] = '\0';
  if (!check_arrays(&v) || !check_consts(&v) || !check_block_headers(&v)) return false;
  v.use = util_xalloc(((size_t)p->nblocks + 1) * sizeof *v.use);
  for (uint32_t b = 0; b < p->nblocks; b++) v.use[b].event = BC_NONE;
  bool ok = check_schema(&v) && check_segments_aggregates(&v) && check_milestones(&v) &&
            check_playbooks(&v) && check_externs(&v) && check_decl_order(&v) && check_update_table(&v);
  for (uint32_t b = 0; ok && b < p->nblocks; b++) ok = verify_insn_block(&v, b);
  ok = ok && check_eval_order(&v);
  free(v.use);
  return ok;
}
