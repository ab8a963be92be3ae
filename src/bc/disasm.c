/* disasm.c — the `msl disasm` listing (see disasm.h for its parts).
 *
 * Values are printed as MSL writes them (@2026-01-31T09:30:00Z, 7d, "text"),
 * operands by their kind in opcodes.h: registers r3, constants k3 (value),
 * aggregates g2, sequences s0, milestones and playbooks by name, fields as
 * event.field and account.field, jumps as the target's offset in the block. */
#include "bc/disasm.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bc/verify.h"
#include "core/util.h"

static const char *type_name(unsigned t) {
  static const char *const names[] = {"?", "bool", "int", "float", "string", "time", "duration"};
  return t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static void print_string(FILE *out, const char *s, uint32_t len) {
  fputc('"', out);
  for (uint32_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c == '\n') fputs("\\n", out);
    else if (c == '\t') fputs("\\t", out);
    else if (c < 0x20 || c == 0x7f) fprintf(out, "\\u{%X}", c);
    else fputc(c, out);
  }
  fputc('"', out);
}

static void print_text(FILE *out, const bc_program *p, uint32_t off) {
  const char *s = bc_str(p, off);
  print_string(out, s, (uint32_t)strlen(s));
}

/* The largest unit that divides the duration exactly, as MSL writes it;
 * durations below a second (only computed ones) as fractional seconds. */
static void print_duration(FILE *out, int64_t us) {
  static const struct { int64_t us; char unit; } units[] = {
    {86400000000, 'd'}, {3600000000, 'h'}, {60000000, 'm'}, {1000000, 's'},
  };
  uint64_t mag = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
  const char *sign = us < 0 ? "-" : "";
  if (mag == 0) {
    fputs("0s", out);
    return;
  }
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (mag % (uint64_t)units[i].us == 0) {
      fprintf(out, "%s%" PRIu64 "%c", sign, mag / (uint64_t)units[i].us, units[i].unit);
      return;
    }
  char frac[8];
  snprintf(frac, sizeof frac, "%06" PRIu64, mag % 1000000);
  for (int i = 5; i > 0 && frac[i] == '0'; i--) frac[i] = '\0';
  fprintf(out, "%s%" PRIu64 ".%ss", sign, mag / 1000000, frac);
}

/* The shortest decimal that reads back as the same double. */
static void print_float(FILE *out, double f) {
  char buf[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, f);
    if (strtod(buf, NULL) == f) break;
  }
  fputs(buf, out);
  if (!strpbrk(buf, ".eEn")) fputs(".0", out);   /* n: nan, inf */
}

static void print_value(FILE *out, unsigned type, value_data v) {
  char buf[40];
  switch (type) {
  case VALUE_BOOL: fputs(v.b ? "true" : "false", out); break;
  case VALUE_INT: fprintf(out, "%" PRId64, v.i); break;
  case VALUE_FLOAT: print_float(out, v.f); break;
  case VALUE_STRING: print_string(out, v.s.p, v.s.len); break;
  case VALUE_TIME:
    io_format_time(v.i, buf);
    fprintf(out, "@%s", buf);
    break;
  case VALUE_DURATION: print_duration(out, v.i); break;
  default: fputs("?", out); break;
  }
}

static void print_const_ref(FILE *out, const bc_program *p, uint32_t k) {
  fprintf(out, "k%u (", k);
  print_value(out, p->consts[k].type, p->consts[k].v);
  fputc(')', out);
}

static void print_field(FILE *out, const bc_program *p, const bc_field *f) {
  fprintf(out, "%s: %s", bc_str(p, f->name), type_name(f->type));
  if (f->has_default) {
    fputs(" = ", out);
    print_value(out, p->consts[f->default_const].type, p->consts[f->default_const].v);
  }
  fputc('\n', out);
}

/* ---- update blocks, for names the tables do not hold ------------------------ */

static bool writes_a(unsigned op) { return bc_op_types[op][0] != OPT_NONE; }

/* The field that aggregate g aggregates: the FIELD that last wrote the
 * register of its first UPDATE, or BC_NONE when the value is computed. */
static uint32_t aggregate_field(const bc_program *p, uint32_t g) {
  uint64_t n = ((uint64_t)p->nmilestones + 1) * p->nevents;
  for (uint64_t i = 0; i < n; i++) {
    uint32_t b = p->update_blocks[i];
    if (b == BC_NO_BLOCK) continue;
    const bc_insn *code = p->code + p->blocks[b].start;
    for (uint32_t pc = 0; pc < p->blocks[b].len; pc++) {
      if (code[pc].op != BC_UPDATE || code[pc].b != g) continue;
      for (uint32_t w = pc; w-- > 0;)
        if (writes_a(code[w].op) && code[w].a == code[pc].c)
          return code[w].op == BC_FIELD ? code[w].b : BC_NONE;
      return BC_NONE;
    }
  }
  return BC_NONE;
}

/* The event of each step of sequence s: that of the first update block
 * with a STEP for it, or BC_NONE. */
static uint32_t *sequence_step_events(const bc_program *p, uint32_t s) {
  uint32_t nsteps = p->sequences[s].nsteps;
  uint32_t *events = util_xalloc(sizeof *events * nsteps);
  for (uint32_t k = 0; k < nsteps; k++) events[k] = BC_NONE;
  uint64_t n = ((uint64_t)p->nmilestones + 1) * p->nevents;
  for (uint64_t i = 0; i < n; i++) {
    uint32_t b = p->update_blocks[i];
    if (b == BC_NO_BLOCK) continue;
    const bc_insn *code = p->code + p->blocks[b].start;
    for (uint32_t pc = 0; pc < p->blocks[b].len; pc++)
      if (code[pc].op == BC_STEP && code[pc].b == s && events[code[pc].c] == BC_NONE)
        events[code[pc].c] = (uint32_t)(i % p->nevents);
  }
  return events;
}

/* The event whose account-wide update block starts milestone or playbook
 * index (op STARTON or STARTONP), or BC_NONE. */
static uint32_t start_event(const bc_program *p, unsigned op, uint32_t index) {
  for (uint32_t e = 0; e < p->nevents; e++) {
    uint32_t b = p->update_blocks[e];
    if (b == BC_NO_BLOCK) continue;
    const bc_insn *code = p->code + p->blocks[b].start;
    for (uint32_t pc = 0; pc < p->blocks[b].len; pc++)
      if (code[pc].op == op && code[pc].b == index) return e;
  }
  return BC_NONE;
}

/* ---- tables ----------------------------------------------------------------- */

static const char *plural(uint64_t n) { return n == 1 ? "" : "s"; }

static void print_header(FILE *out, const bc_program *p) {
  fprintf(out, "; MSL compiled program, format %u\n", MSC_VERSION);
  fprintf(out, "; %u account field%s, %u event%s, %u segment%s, %u aggregate%s, %u sequence%s\n",
          p->naccount_fields, plural(p->naccount_fields), p->nevents, plural(p->nevents), p->nsegments,
          plural(p->nsegments), p->naggregates, plural(p->naggregates), p->nsequences,
          plural(p->nsequences));
  fprintf(out, "; %u milestone%s, %u playbook%s, %u extern%s\n", p->nmilestones, plural(p->nmilestones),
          p->nplaybooks, plural(p->nplaybooks), p->nexterns, plural(p->nexterns));
  /* no string-pool size: it holds extern directories, which depend on where
     the rules live, and the listing must not */
  fprintf(out, "; %u constant%s, %u block%s, %u instruction%s\n", p->nconsts, plural(p->nconsts),
          p->nblocks, plural(p->nblocks), p->ncode, plural(p->ncode));
}

static void print_schema(FILE *out, const bc_program *p) {
  fputs("\naccount\n  id: string\n", out);
  for (uint32_t i = 0; i < p->naccount_fields; i++) {
    fputs("  ", out);
    print_field(out, p, &p->account_fields[i]);
  }
  for (uint32_t e = 0; e < p->nevents; e++) {
    fprintf(out, "%sevent e%u %s\n", e == 0 ? "\n" : "", e, bc_str(p, p->events[e].name));
    for (uint32_t i = 0; i < p->events[e].nfields; i++) {
      fputs("  ", out);
      print_field(out, p, &p->events[e].fields[i]);
    }
  }
}

static void print_constants(FILE *out, const bc_program *p) {
  if (!p->nconsts) return;
  fputs("\nconstants\n", out);
  for (uint32_t k = 0; k < p->nconsts; k++) {
    fprintf(out, "  k%u %s ", k, type_name(p->consts[k].type));
    print_value(out, p->consts[k].type, p->consts[k].v);
    fputc('\n', out);
  }
}

static void print_owner(FILE *out, const bc_program *p, uint32_t owner) {
  if (owner != BC_NONE) fprintf(out, " (used by %s)", bc_str(p, p->milestones[owner].name));
}

static void print_aggregates(FILE *out, const bc_program *p) {
  static const char *const fns[] = {"count", "sum", "min", "max", "avg", "distinct"};
  if (!p->naggregates) return;
  fputs("\naggregates\n", out);
  for (uint32_t i = 0; i < p->naggregates; i++) {
    const bc_aggregate *g = &p->aggregates[i];
    const bc_event *ev = &p->events[g->event];
    fprintf(out, "  g%u %s(%s", i, fns[g->fn], bc_str(p, ev->name));
    if (g->fn != BC_AGG_COUNT) {
      uint32_t f = aggregate_field(p, i);
      if (f != BC_NONE) fprintf(out, ".%s", bc_str(p, ev->fields[f].name));
      else fprintf(out, ": %s", type_name(g->arg_type));
    }
    fputc(')', out);
    switch (g->window) {
    case BC_WIN_WITHIN:
      fputs(" within ", out);
      print_duration(out, g->within_us);
      break;
    case BC_WIN_SINCE_START:
      fprintf(out, " since start of milestone %s", bc_str(p, p->milestones[g->milestone].name));
      break;
    case BC_WIN_SINCE: fprintf(out, " since block %u", g->since_block); break;
    default: break;
    }
    fprintf(out, " -> %s", type_name(g->result_type));
    print_owner(out, p, g->owner);
    fputc('\n', out);
  }
}

static void print_sequences(FILE *out, const bc_program *p) {
  if (!p->nsequences) return;
  fputs("\nsequences\n", out);
  for (uint32_t i = 0; i < p->nsequences; i++) {
    const bc_sequence *s = &p->sequences[i];
    fprintf(out, "  s%u sequence(", i);
    uint32_t *events = sequence_step_events(p, i);
    for (uint32_t k = 0; k < s->nsteps; k++) {
      uint32_t e = events[k];
      fprintf(out, "%s%s", k ? ", " : "", e == BC_NONE ? "?" : bc_str(p, p->events[e].name));
    }
    free(events);
    if (s->within_us) {
      fputs(" within ", out);
      print_duration(out, s->within_us);
    }
    fputc(')', out);
    print_owner(out, p, s->owner);
    fputc('\n', out);
  }
}

static void print_segment_list(FILE *out, const bc_program *p, uint32_t n, const uint32_t *segs) {
  if (!n) return;
  fputs("    segments ", out);
  for (uint32_t i = 0; i < n; i++) fprintf(out, "%s%s", i ? ", " : "", bc_str(p, p->segment_names[segs[i]]));
  fputc('\n', out);
}

/* op: STARTON for a milestone, STARTONP for a playbook; index: which one */
static void print_start(FILE *out, const bc_program *p, uint8_t kind, uint32_t block, uint32_t after,
                        unsigned op, uint32_t index) {
  uint32_t event;
  switch (kind) {
  case BC_START_AT: fprintf(out, "    start at block %u\n", block); break;
  case BC_START_AFTER: fprintf(out, "    start after %s\n", bc_str(p, p->milestones[after].name)); break;
  case BC_START_ON_EVENT:
    event = start_event(p, op, index);
    fprintf(out, "    start on %s\n", event == BC_NONE ? "an event (never)" : bc_str(p, p->events[event].name));
    break;
  case BC_START_ON_ASSIGNMENT: fputs("    start on assignment\n", out); break;
  default: fputs("    start unbounded\n", out); break;
  }
}

static void print_emit(FILE *out, const bc_program *p, const char *verb, uint32_t signal) {
  fprintf(out, "    %s ", verb);
  print_text(out, p, signal);
  fputc('\n', out);
}

static void print_named(FILE *out, const bc_program *p, const char *prefix, uint32_t name, uint32_t label) {
  fprintf(out, "%s%s", prefix, bc_str(p, name));
  if (label != BC_NONE) {
    fputc(' ', out);
    print_text(out, p, label);
  }
}

static void print_milestones(FILE *out, const bc_program *p) {
  static const char *const owners[] = {"", " owner csm", " owner customer"};
  static const char *const verbs[BC_EMIT__COUNT] = {
    [BC_EMIT_ACHIEVED] = "on achieved emit", [BC_EMIT_OVERDUE] = "on overdue emit", [BC_EMIT_LOST] = "on lost emit",
  };
  if (!p->nmilestones) return;
  fputs("\nmilestones\n", out);
  for (uint32_t m = 0; m < p->nmilestones; m++) {
    const bc_milestone *ms = &p->milestones[m];
    fprintf(out, "  m%u", m);
    print_named(out, p, " ", ms->name, ms->display);
    fprintf(out, "\n    mode %s, declared %u\n", ms->continuous ? "continuous" : "once", ms->decl_order);
    struct { const char *what; uint32_t text; } texts[] = {
      {"description", ms->description}, {"csm", ms->csm}, {"customer", ms->customer}, {"group", ms->group},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
      if (texts[i].text != BC_NONE) {
        fprintf(out, "    %s ", texts[i].what);
        print_text(out, p, texts[i].text);
        fputc('\n', out);
      }
    print_segment_list(out, p, ms->nsegments, ms->segments);
    print_start(out, p, ms->start_kind, ms->start_block, ms->start_after, BC_STARTON, m);
    if (ms->deadline_kind == BC_DEADLINE_AFTER) {
      fputs("    deadline ", out);
      print_duration(out, ms->deadline_us);
      fputc('\n', out);
    } else if (ms->deadline_kind == BC_DEADLINE_AT) {
      fprintf(out, "    deadline at block %u\n", ms->deadline_block);
    }
    if (ms->estimate_us >= 0) {
      fputs("    estimate ", out);
      print_duration(out, ms->estimate_us);
      fputc('\n', out);
    }
    if (ms->entry_block != BC_NO_BLOCK) fprintf(out, "    entry block %u\n", ms->entry_block);
    if (ms->exit_block != BC_NO_BLOCK) fprintf(out, "    exit block %u\n", ms->exit_block);
    if (ms->blocked_block != BC_NO_BLOCK) fprintf(out, "    blocked when block %u\n", ms->blocked_block);
    for (uint32_t a = 0; a < ms->nactions; a++) {
      const bc_action *act = &ms->actions[a];
      print_named(out, p, "    action ", act->name, act->label);
      fprintf(out, "%s done when block %u\n", owners[act->owner], act->done_block);
    }
    for (uint32_t e = 0; e < ms->nemits; e++) print_emit(out, p, verbs[ms->emits[e].on], ms->emits[e].signal);
  }
}

static void print_playbooks(FILE *out, const bc_program *p) {
  if (!p->nplaybooks) return;
  fputs("\nplaybooks\n", out);
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    const bc_playbook *pb = &p->playbooks[i];
    fprintf(out, "  p%u", i);
    print_named(out, p, " ", pb->name, pb->display);
    fprintf(out, "\n    declared %u\n", pb->decl_order);
    print_segment_list(out, p, pb->nsegments, pb->segments);
    print_start(out, p, pb->start_kind, pb->start_block, pb->start_after, BC_STARTONP, i);
    for (uint32_t s = 0; s < pb->nsteps; s++) {
      const bc_step *st = &pb->steps[s];
      print_named(out, p, "    step ", st->name, st->label);
      fprintf(out, " tracks %s%s", bc_str(p, p->milestones[st->tracks].name), st->is_auto ? " auto" : "");
      if (st->when_block != BC_NO_BLOCK) fprintf(out, " when block %u", st->when_block);
      fputc('\n', out);
    }
    for (uint32_t e = 0; e < pb->nemits; e++) print_emit(out, p, "on complete emit", pb->emits[e]);
  }
}

static void print_externs(FILE *out, const bc_program *p) {
  if (!p->nexterns) return;
  fputs("\nexterns\n", out);
  for (uint32_t i = 0; i < p->nexterns; i++) {
    const bc_extern *x = &p->externs[i];
    fprintf(out, "  x%u %s(", i, bc_str(p, x->name));
    for (uint32_t k = 0; k < x->nparams; k++) fprintf(out, "%s%s", k ? ", " : "", type_name(x->params[k]));
    fprintf(out, ") -> %s from ", type_name(x->ret));
    print_text(out, p, x->lib);
    fputs(x->called ? "\n" : " (not called)\n", out);
  }
}

static void print_segments(FILE *out, const bc_program *p) {
  if (!p->nsegments) return;
  fputs("\nsegments\n", out);
  for (uint32_t i = 0; i < p->nsegments; i++)
    fprintf(out, "  %s: block %u\n", bc_str(p, p->segment_names[i]), p->segment_blocks[i]);
}

static void print_eval_order(FILE *out, const bc_program *p) {
  if (p->nmilestones) {
    fputs("\nevaluation order:", out);
    for (uint32_t i = 0; i < p->nmilestones; i++)
      fprintf(out, "%s %s", i ? "," : "", bc_str(p, p->milestones[p->eval_order[i]].name));
    fputc('\n', out);
  }
}

/* ---- code ------------------------------------------------------------------- */

static void print_operand(FILE *out, const bc_program *p, vm_operand_kind kind, uint32_t x, uint32_t event) {
  switch (kind) {
  case OPND_REG: fprintf(out, "r%u", x); break;
  case OPND_CONST: print_const_ref(out, p, x); break;
  case OPND_AGG: fprintf(out, "g%u", x); break;
  case OPND_SEQ: fprintf(out, "s%u", x); break;
  case OPND_MILESTONE: fputs(bc_str(p, p->milestones[x].name), out); break;
  case OPND_PLAYBOOK: fputs(bc_str(p, p->playbooks[x].name), out); break;
  case OPND_FIELD:
    if (event == BC_NONE) fprintf(out, "f%u", x);
    else fprintf(out, "%s.%s", bc_str(p, p->events[event].name), bc_str(p, p->events[event].fields[x].name));
    break;
  case OPND_ACCT:
    fprintf(out, "account.%s", x == BC_ACCOUNT_ID ? "id" : bc_str(p, p->account_fields[x].name));
    break;
  case OPND_EXTERN: fputs(bc_str(p, p->externs[x].name), out); break;
  case OPND_JUMP: fprintf(out, "%04u", x); break;
  case OPND_COUNT: fprintf(out, "%u", x); break;
  case OPND_NONE: break;
  }
}

static void print_insn(FILE *out, const bc_program *p, const bc_insn *in, uint32_t pc, uint32_t event) {
  const char *name = bc_op_names[in->op];
  const uint32_t opnd[4] = {in->a, in->b, in->c, in->d};
  fprintf(out, "  %04u  %s", pc, name);
  int width = (int)strlen(name);
  bool any = false;
  for (int k = 0; k < 4; k++) any = any || bc_op_operands[in->op][k] != OPND_NONE;
  if (!any) {
    fputc('\n', out);
    return;
  }
  fprintf(out, "%*s", width < 8 ? 9 - width : 1, "");
  switch (in->op) {
  case BC_INI: case BC_INF: case BC_INS: case BC_INB:
    fprintf(out, "r%u, r%u, [", in->a, in->b);
    for (uint32_t k = 0; k < in->d; k++) {
      if (k) fputs(", ", out);
      print_const_ref(out, p, (uint32_t)in->c + k);
    }
    fputs("]\n", out);
    return;
  case BC_CALL:
    fprintf(out, "r%u, %s(", in->a, bc_str(p, p->externs[in->b].name));
    for (uint32_t k = 0; k < in->d; k++) fprintf(out, "%sr%u", k ? ", " : "", (uint32_t)in->c + k);
    fputs(")\n", out);
    return;
  case BC_UPDATE:
    fprintf(out, "g%u", in->b);
    if (p->aggregates[in->b].fn != BC_AGG_COUNT) fprintf(out, ", r%u", in->c);
    fputc('\n', out);
    return;
  default:
    break;
  }
  bool first = true;
  for (int k = 0; k < 4; k++) {
    vm_operand_kind kind = (vm_operand_kind)bc_op_operands[in->op][k];
    if (kind == OPND_NONE) continue;
    if (!first) fputs(", ", out);
    first = false;
    print_operand(out, p, kind, opnd[k], event);
  }
  fputc('\n', out);
}

/* Titles and update events of all blocks are found in one pass over the
 * tables (a program can have many thousand blocks). */
static void print_blocks(FILE *out, const bc_program *p) {
  char title[1024];
  verify_block_roles *roles = verify_block_roles_new(p);
  uint32_t *events = util_xalloc(sizeof *events * ((size_t)p->nblocks + 1));
  for (uint32_t b = 0; b < p->nblocks; b++) events[b] = BC_NONE;
  uint64_t n = ((uint64_t)p->nmilestones + 1) * p->nevents;
  for (uint64_t i = n; i-- > 0;)   /* backwards: a block's first use names its event */
    if (p->update_blocks[i] < p->nblocks) events[p->update_blocks[i]] = (uint32_t)(i % p->nevents);
  for (uint32_t b = 0; b < p->nblocks; b++) {
    const bc_block *blk = &p->blocks[b];
    if (roles) verify_block_roles_title(roles, b, false, title, sizeof title);
    else verify_block_title(p, b, false, title, sizeof title);
    fprintf(out, "\nblock %u: %s (", b, title);
    if (blk->type) fprintf(out, "%s, ", type_name(blk->type));
    fprintf(out, "%u reg%s)\n", blk->nregs, plural(blk->nregs));
    uint32_t event = blk->type != 0 ? BC_NONE : events[b];
    for (uint32_t pc = 0; pc < blk->len; pc++) print_insn(out, p, &p->code[blk->start + pc], pc, event);
  }
  free(events);
  verify_block_roles_free(roles);
}

void disasm_program(const bc_program *p, FILE *out) {
  print_header(out, p);
  print_schema(out, p);
  print_constants(out, p);
  print_aggregates(out, p);
  print_sequences(out, p);
  print_segments(out, p);
  print_milestones(out, p);
  print_playbooks(out, p);
  print_externs(out, p);
  print_eval_order(out, p);
  print_blocks(out, p);
}
