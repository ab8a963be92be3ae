/* compile.c — typed AST to bytecode (prefix compile_): the program's layout.
 *
 * Fills the tables of a bc_program: the string and constant pools
 * (deduplicated), externs, events and account fields, segments, milestones
 * and playbooks, whose criteria become value blocks (compile_expr.c), and
 * the order in which milestones are evaluated, dependencies first. */
#include "bc/compile_internal.h"
#include "bc/verify.h"

#include <stdarg.h>
#include <string.h>

#include "front/codes.h"

void compile_error(compiler *c, msl_loc loc, const char *fmt, ...) {
  if (!c->failed) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    util_vset_msg(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(c->diags, loc, DIAG_E91, "%s", msg);
  }
  c->failed = true;
}

/* ---- pools ------------------------------------------------------------------ */

/* The pools are deduplicated through hash tables: a program can have many
 * thousand names. */
static uint32_t *pool_slot(compiler *c, htable *t, const void *key, size_t len, uint32_t next) {
  uint32_t *found = htable_get(t, key, len);
  if (found) return found;
  uint32_t *fresh = arena_alloc(&c->pool_arena, sizeof *fresh);
  *fresh = next;
  return htable_put(t, key, len, fresh);
}

uint32_t compile_string_n(compiler *c, const char *s, size_t n) {
  /* the empty string is offset 0, put there by compile_program */
  if (n == 0) return 0;
  uint32_t off = *pool_slot(c, &c->string_offsets, s, n, c->strings.len);
  if (off != c->strings.len) return off;
  for (size_t i = 0; i < n; i++) VEC_PUSH(c->strings, s[i]);
  VEC_PUSH(c->strings, '\0');
  return off;
}

static uint32_t compile_string(compiler *c, const char *s) {
  return s ? compile_string_n(c, s, strlen(s)) : BC_NONE;
}

uint32_t compile_const(compiler *c, value_type type, ast_value v) {
  bc_const k = {.type = (uint8_t)type};
  switch (type) {
    case VALUE_BOOL: k.v.b = v.u.b; break;
    case VALUE_FLOAT: k.v.f = v.u.f; break;
    case VALUE_STRING: {
      size_t n = v.u.str.len;
      uint32_t off = compile_string_n(c, v.u.str.s ? v.u.str.s : "", n);
      k.v.s.p = (const char *)(uintptr_t)off; /* resolved to a pointer in compile_program */
      k.v.s.len = (uint32_t)n;
      break;
    }
    default: k.v.i = v.u.i; break;
  }
  /* the key: the type and the bytes that make the value (a float's exact
   * bits, so 0.0 and -0.0 stay apart) */
  unsigned char key[1 + sizeof(uint64_t) + sizeof(uint32_t)] = {k.type};
  size_t len = 1;
  switch (type) {
    case VALUE_STRING: {
      uint64_t off = (uintptr_t)k.v.s.p;
      memcpy(key + len, &off, sizeof off);
      memcpy(key + len + sizeof off, &k.v.s.len, sizeof k.v.s.len);
      len += sizeof off + sizeof k.v.s.len;
      break;
    }
    case VALUE_FLOAT: memcpy(key + len, &k.v.f, sizeof k.v.f); len += sizeof k.v.f; break;
    case VALUE_BOOL: key[len++] = k.v.b ? 1 : 0; break;
    default: memcpy(key + len, &k.v.i, sizeof k.v.i); len += sizeof k.v.i; break;
  }
  uint32_t index = *pool_slot(c, &c->const_indexes, key, len, c->consts.len);
  if (index == c->consts.len) VEC_PUSH(c->consts, k);
  return index;
}

ast_value compile_convert(ast_value v, value_type want) {
  if (want == VALUE_FLOAT && v.type == VALUE_INT) {
    double f = (double)v.u.i;
    v.u.f = f;
    v.type = VALUE_FLOAT;
  }
  return v;
}

/* ---- milestones and playbooks ----------------------------------------------- */

static uint8_t start_kind(ast_start_kind k) {
  switch (k) {
    case START_AT: return BC_START_AT;
    case START_AFTER: return BC_START_AFTER;
    case START_ON_EVENT: return BC_START_ON_EVENT;
    case START_ON_ASSIGNMENT: return BC_START_ON_ASSIGNMENT;
    default: return BC_START_NONE;
  }
}

static uint32_t *compile_segments(compiler *c, const ptr_vec *decls, uint32_t *n) {
  *n = (uint32_t)decls->len;
  uint32_t *out = util_xrealloc(NULL, sizeof *out * (size_t)(decls->len ? decls->len : 1));
  for (int i = 0; i < decls->len; i++) out[i] = compile_index_of(&c->p->segments, decls->items[i]);
  return out;
}

/* A playbook's signals: only `on complete emit`, so names alone. */
static uint32_t *compile_emit_names(compiler *c, const ptr_vec *emits, uint32_t *n) {
  *n = (uint32_t)emits->len;
  uint32_t *out = util_xrealloc(NULL, sizeof *out * (size_t)(emits->len ? emits->len : 1));
  for (int i = 0; i < emits->len; i++) out[i] = compile_string(c, ((const ast_emit *)emits->items[i])->signal.text);
  return out;
}

static bc_emit *compile_emits(compiler *c, const ptr_vec *emits, uint32_t *n) {
  static const uint8_t on[] = {[EMIT_ACHIEVED] = BC_EMIT_ACHIEVED, [EMIT_OVERDUE] = BC_EMIT_OVERDUE,
                               [EMIT_LOST] = BC_EMIT_LOST};
  *n = (uint32_t)emits->len;
  bc_emit *out = util_xrealloc(NULL, sizeof *out * (size_t)(emits->len ? emits->len : 1));
  for (int i = 0; i < emits->len; i++) {
    const ast_emit *e = emits->items[i];
    out[i] = (bc_emit){.on = on[e->on], .signal = compile_string(c, e->signal.text)};
  }
  return out;
}

static int64_t const_us(const ast_expr *e) {
  return e && e->is_const ? e->const_value.u.i : -1;
}

static void compile_milestone(compiler *c, bc_program *out, uint32_t i) {
  const ast_decl *d = c->p->milestones.items[i];
  const ast_milestone *m = &d->u.milestone;
  bc_milestone *bm = &out->milestones[i];
  bm->name = compile_string(c, d->name.text);
  bm->display = compile_string(c, m->display.text);
  bm->description = compile_string(c, m->description.text);
  bm->csm = compile_string(c, m->csm.text);
  bm->customer = compile_string(c, m->customer.text);
  bm->group = compile_string(c, m->group.text);
  bm->decl_order = c->unit_order[i];
  bm->continuous = m->mode == MODE_CONTINUOUS;
  bm->segments = compile_segments(c, &m->segment_decls, &bm->nsegments);
  compiler_block ctx = {.milestone = i};
  c->cur = &ctx;
  bm->start_kind = start_kind(m->start.kind);
  bm->start_block = BC_NO_BLOCK;
  bm->start_after = BC_NONE;
  switch (m->start.kind) {
    case START_AT: bm->start_block = compile_value_block(c, m->start.at, VALUE_TIME, i); break;
    case START_AFTER:
      bm->start_after = compile_index_of(&c->p->milestones, m->start.after_decl);
      compile_add_dep(c, m->start.after_decl);
      break;
    case START_ON_EVENT: compile_start_on(c, &m->start, BC_STARTON, i); break;
    default: break;
  }
  bm->deadline_block = BC_NO_BLOCK;
  switch (m->deadline_kind) {
    case DEADLINE_AFTER:
      bm->deadline_kind = BC_DEADLINE_AFTER;
      bm->deadline_us = m->deadline_us > 0 ? m->deadline_us : const_us(m->deadline);
      break;
    case DEADLINE_AT:
      bm->deadline_kind = BC_DEADLINE_AT;
      bm->deadline_block = compile_value_block(c, m->deadline, VALUE_TIME, i);
      break;
    default: bm->deadline_kind = BC_DEADLINE_NONE; break;
  }
  bm->estimate_us = m->estimate ? const_us(m->estimate) : -1;
  bm->entry_block = compile_value_block(c, m->entry, VALUE_BOOL, i);
  bm->exit_block = compile_value_block(c, m->exit, VALUE_BOOL, i);
  bm->blocked_block = compile_value_block(c, m->blocked, VALUE_BOOL, i);
  bm->nactions = (uint32_t)m->actions.len;
  bm->actions = util_xrealloc(NULL, sizeof *bm->actions * (size_t)(m->actions.len ? m->actions.len : 1));
  for (int k = 0; k < m->actions.len; k++) {
    const ast_action *a = m->actions.items[k];
    bm->actions[k] = (bc_action){.name = compile_string(c, a->name.text), .label = compile_string(c, a->label),
                                 .owner = (uint8_t)a->owner,
                                 .done_block = compile_value_block(c, a->done_when, VALUE_BOOL, i)};
  }
  bm->emits = compile_emits(c, &m->emits, &bm->nemits);
  c->cur = NULL;
}

static void compile_playbook(compiler *c, bc_program *out, uint32_t i) {
  const ast_decl *d = c->p->playbooks.items[i];
  const ast_playbook *pb = &d->u.playbook;
  bc_playbook *bp = &out->playbooks[i];
  bp->name = compile_string(c, d->name.text);
  bp->display = compile_string(c, pb->display.text);
  bp->decl_order = c->unit_order[c->nmilestones + i];
  bp->segments = compile_segments(c, &pb->segment_decls, &bp->nsegments);
  compiler_block ctx = {.milestone = BC_NONE};
  c->cur = &ctx;
  bp->start_kind = start_kind(pb->start.kind);
  bp->start_block = BC_NO_BLOCK;
  bp->start_after = BC_NONE;
  switch (pb->start.kind) {
    case START_AT: bp->start_block = compile_value_block(c, pb->start.at, VALUE_TIME, BC_NONE); break;
    case START_AFTER: bp->start_after = compile_index_of(&c->p->milestones, pb->start.after_decl); break;
    case START_ON_EVENT: compile_start_on(c, &pb->start, BC_STARTONP, i); break;
    default: break;
  }
  bp->nsteps = (uint32_t)pb->steps.len;
  bp->steps = util_xrealloc(NULL, sizeof *bp->steps * (size_t)(pb->steps.len ? pb->steps.len : 1));
  for (int k = 0; k < pb->steps.len; k++) {
    const ast_step *s = pb->steps.items[k];
    bp->steps[k] = (bc_step){.name = compile_string(c, s->name.text), .label = compile_string(c, s->label.text),
                             .tracks = compile_index_of(&c->p->milestones, s->tracks_decl),
                             .is_auto = s->is_auto,
                             .when_block = compile_value_block(c, s->when, VALUE_BOOL, BC_NONE)};
  }
  bp->emits = compile_emit_names(c, &pb->emits, &bp->nemits);
  c->cur = NULL;
}

/* ---- the program ------------------------------------------------------------- */

static bc_field *compile_fields(compiler *c, const ptr_vec *fields, uint32_t *n) {
  *n = (uint32_t)fields->len;
  bc_field *out = util_xrealloc(NULL, sizeof *out * (size_t)(fields->len ? fields->len : 1));
  for (int i = 0; i < fields->len; i++) {
    const ast_field *f = fields->items[i];
    out[i] = (bc_field){.name = compile_string(c, f->name.text), .type = (uint8_t)f->type};
    if (f->default_value) {
      const ast_expr *dv = f->default_value;
      ast_value v = dv->is_const ? dv->const_value : dv->u.lit.value;
      out[i].has_default = 1;
      out[i].default_const = compile_const(c, f->type, compile_convert(v, f->type));
    }
  }
  return out;
}

/* A min-heap of milestone indexes: the ready milestones, lowest first. */
typedef struct ready_heap {
  uint32_t *items;
  uint32_t len;
} ready_heap;

static void heap_push(ready_heap *h, uint32_t m) {
  uint32_t i = h->len++;
  while (i > 0 && h->items[(i - 1) / 2] > m) {
    h->items[i] = h->items[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->items[i] = m;
}

static uint32_t heap_pop(ready_heap *h) {
  uint32_t top = h->items[0], last = h->items[--h->len], i = 0;
  for (;;) {
    uint32_t child = 2 * i + 1;
    if (child >= h->len) break;
    if (child + 1 < h->len && h->items[child + 1] < h->items[child]) child++;
    if (h->items[child] >= last) break;
    h->items[i] = h->items[child];
    i = child;
  }
  if (h->len) h->items[i] = last;
  return top;
}

/* Milestones in dependency order, declaration order among equals: Kahn's
 * algorithm, always placing the lowest-numbered ready milestone next. */
static bool compile_eval_order(compiler *c, uint32_t *order) {
  uint32_t n = c->nmilestones, placed = 0;
  uint32_t *waiting = util_xrealloc(NULL, sizeof *waiting * (n ? n : 1));  /* unplaced dependencies */
  memset(waiting, 0, sizeof *waiting * (n ? n : 1));
  for (uint32_t b = 0; b < n; b++)
    for (uint32_t k = 0; k < c->needed_by[b].len; k++) waiting[c->needed_by[b].items[k]]++;
  ready_heap ready = {util_xrealloc(NULL, sizeof(uint32_t) * (n ? n : 1)), 0};
  for (uint32_t a = 0; a < n; a++)
    if (!waiting[a]) heap_push(&ready, a);
  while (ready.len) {
    uint32_t b = heap_pop(&ready);
    order[placed++] = b;
    for (uint32_t k = 0; k < c->needed_by[b].len; k++)
      if (--waiting[c->needed_by[b].items[k]] == 0) heap_push(&ready, c->needed_by[b].items[k]);
  }
  free(ready.items);
  free(waiting);
  return placed == n;
}

/* The compiler's state for p: the update blocks with their milestone
 * context, the dependency lists, the units' places and the pools. */
static void compiler_setup(compiler *c) {
  const msl_program *p = c->p;
  c->nevents = (uint32_t)p->events.len;
  c->nmilestones = (uint32_t)p->milestones.len;
  size_t nupd = c->nupdates = (size_t)(c->nmilestones + 1) * c->nevents;
  c->updates = util_xrealloc(NULL, sizeof *c->updates * (nupd ? nupd : 1));
  memset(c->updates, 0, sizeof *c->updates * (nupd ? nupd : 1));
  for (size_t i = 0; i < nupd; i++) c->updates[i].milestone = i < c->nevents ? BC_NONE : (uint32_t)(i / c->nevents - 1);
  c->needed_by = util_xrealloc(NULL, sizeof *c->needed_by * (c->nmilestones ? c->nmilestones : 1));
  memset(c->needed_by, 0, sizeof *c->needed_by * (c->nmilestones ? c->nmilestones : 1));
  uint32_t nunits = c->nmilestones + (uint32_t)p->playbooks.len;
  c->unit_order = util_xrealloc(NULL, sizeof *c->unit_order * (nunits ? nunits : 1));
  for (int i = 0; i < p->units.len; i++) {
    const ast_decl *u = p->units.items[i];
    c->unit_order[u->kind == DECL_MILESTONE ? (uint32_t)u->index : c->nmilestones + (uint32_t)u->index] =
        (uint32_t)i;
  }
  arena_init(&c->pool_arena);
  htable_init(&c->string_offsets, &c->pool_arena);
  htable_init(&c->const_indexes, &c->pool_arena);
  VEC_PUSH(c->strings, '\0');   /* offset 0 is the empty string */
}

static void compile_externs(compiler *c) {
  for (int i = 0; i < c->p->externs.len; i++) {
    const ast_decl *d = c->p->externs.items[i];
    bc_extern x = {.name = compile_string(c, d->name.text), .lib = compile_string(c, d->u.ext.lib.text),
                   .nparams = (uint32_t)d->u.ext.params.len, .ret = (uint8_t)d->u.ext.ret};
    /* absolute: a .msc may run elsewhere, and an extern's relative library
     * path stays relative to its .ms */
    char *dir = util_real_dir(d->module && d->module->src ? d->module->src->path : ".");
    x.base_dir = compile_string(c, dir);
    free(dir);
    x.params = util_xrealloc(NULL, x.nparams ? x.nparams : 1);
    for (uint32_t k = 0; k < x.nparams; k++) x.params[k] = (uint8_t)((const ast_param *)d->u.ext.params.items[k])->type;
    VEC_PUSH(c->externs, x);
  }
}

static void compile_events(compiler *c, bc_program *out) {
  const msl_program *p = c->p;
  if (p->account) out->account_fields = compile_fields(c, &p->account->u.account.fields, &out->naccount_fields);
  else out->account_fields = util_xrealloc(NULL, sizeof *out->account_fields);
  out->nevents = c->nevents;
  out->events = util_xrealloc(NULL, sizeof *out->events * (c->nevents ? c->nevents : 1));
  for (uint32_t i = 0; i < c->nevents; i++) {
    const ast_decl *d = p->events.items[i];
    out->events[i].name = compile_string(c, d->name.text);
    out->events[i].fields = compile_fields(c, &d->u.event.fields, &out->events[i].nfields);
  }
}

static void compile_segment_blocks(compiler *c, bc_program *out) {
  out->nsegments = (uint32_t)c->p->segments.len;
  out->segment_blocks = util_xrealloc(NULL, sizeof(uint32_t) * (out->nsegments ? out->nsegments : 1));
  out->segment_names = util_xrealloc(NULL, sizeof(uint32_t) * (out->nsegments ? out->nsegments : 1));
  for (uint32_t i = 0; i < out->nsegments; i++) {
    const ast_decl *d = c->p->segments.items[i];
    compiler_block ctx = {.milestone = BC_NONE};
    c->cur = &ctx;
    out->segment_names[i] = compile_string(c, d->name.text);
    out->segment_blocks[i] = compile_value_block(c, d->u.segment.expr, VALUE_BOOL, BC_NONE);
    c->cur = NULL;
  }
}

/* Hands the pools over to out (string constants become pointers into the
 * string pool) and frees the rest of the compiler's state. */
static void compile_hand_over(compiler *c, bc_program *out) {
  out->strings = c->strings.items;
  out->strings_len = c->strings.len;
  out->nconsts = c->consts.len;
  out->consts = c->consts.items ? c->consts.items : util_xrealloc(NULL, sizeof(bc_const));
  for (uint32_t i = 0; i < out->nconsts; i++)
    if (out->consts[i].type == VALUE_STRING)
      out->consts[i].v.s.p = out->strings + (uintptr_t)out->consts[i].v.s.p;
  out->ncode = c->code.len;
  out->code = c->code.items ? c->code.items : util_xrealloc(NULL, sizeof(bc_insn));
  out->nblocks = c->blocks.len;
  out->blocks = c->blocks.items ? c->blocks.items : util_xrealloc(NULL, sizeof(bc_block));
  out->naggregates = c->aggs.len;
  out->aggregates = c->aggs.items ? c->aggs.items : util_xrealloc(NULL, sizeof(bc_aggregate));
  out->nsequences = c->seqs.len;
  out->sequences = c->seqs.items ? c->seqs.items : util_xrealloc(NULL, sizeof(bc_sequence));
  out->nexterns = c->externs.len;
  out->externs = c->externs.items ? c->externs.items : util_xrealloc(NULL, sizeof(bc_extern));
  free(c->agg_exprs.items);
  free(c->seq_exprs.items);
  for (size_t i = 0; i < c->nupdates; i++) free(c->updates[i].code.items);
  free(c->updates);
  for (uint32_t i = 0; i < c->nmilestones; i++) free(c->needed_by[i].items);
  free(c->needed_by);
  free(c->unit_order);
  arena_free(&c->pool_arena);
}

/* The program, and with parts the blocks of the criteria's parts. */
static bc_program *compile_with(const msl_program *p, diag_list *diags, compile_parts *parts) {
  compiler c = {.p = p, .diags = diags};
  compiler_setup(&c);
  bc_program *out = util_xrealloc(NULL, sizeof *out);
  memset(out, 0, sizeof *out);

  compile_externs(&c);
  compile_events(&c, out);
  compile_segment_blocks(&c, out);
  out->nmilestones = c.nmilestones;
  out->milestones = util_xrealloc(NULL, sizeof *out->milestones * (c.nmilestones ? c.nmilestones : 1));
  memset(out->milestones, 0, sizeof *out->milestones * (c.nmilestones ? c.nmilestones : 1));
  for (uint32_t i = 0; i < c.nmilestones && !c.failed; i++) compile_milestone(&c, out, i);
  out->nplaybooks = (uint32_t)p->playbooks.len;
  out->playbooks = util_xrealloc(NULL, sizeof *out->playbooks * (out->nplaybooks ? out->nplaybooks : 1));
  memset(out->playbooks, 0, sizeof *out->playbooks * (out->nplaybooks ? out->nplaybooks : 1));
  for (uint32_t i = 0; i < out->nplaybooks && !c.failed; i++) compile_playbook(&c, out, i);
  if (parts && !c.failed) compile_criteria_parts(&c, parts);
  compile_update_blocks(&c, out);

  out->eval_order = util_xrealloc(NULL, sizeof(uint32_t) * (c.nmilestones ? c.nmilestones : 1));
  if (!c.failed && !compile_eval_order(&c, out->eval_order))
    compile_error(&c, (msl_loc){0}, "internal error: milestones depend on each other in a cycle");
  for (uint32_t i = 0; i < c.blocks.len && !c.failed; i++)
    if (c.blocks.items[i].len > BC_MAX_ARG)
      compile_error(&c, (msl_loc){0}, "a block is too long (more than %u instructions)", BC_MAX_ARG);

  compile_hand_over(&c, out);
  if (c.failed) {
    bc_program_free(out);
    return NULL;
  }
  return out;
}

bc_program *compile_program(const msl_program *p, diag_list *diags) { return compile_with(p, diags, NULL); }

static bc_program *verified(bc_program *prog, diag_list *diags) {
  char msg[512];
  if (prog && !verify_program(prog, msg, sizeof msg)) {
    diag_error(diags, (msl_loc){0}, DIAG_E99, "internal error: the compiled program does not verify: %s", msg);
    bc_program_free(prog);
    prog = NULL;
  }
  return prog;
}

bc_program *compile_and_verify(const msl_program *p, diag_list *diags) {
  return verified(compile_program(p, diags), diags);
}

bc_program *compile_explained(const msl_program *p, diag_list *diags, compile_parts *parts) {
  *parts = (compile_parts){0};
  arena scratch;
  arena_init(&scratch);
  diag_list tried;
  diag_init(&tried, &scratch);
  bc_program *prog = verified(compile_with(p, &tried, parts), &tried);
  arena_free(&scratch);
  if (prog) return prog;
  compile_parts_free(parts);
  return compile_and_verify(p, diags);
}
