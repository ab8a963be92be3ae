/* fmt_print.c — pass 1 of the formatter (fmt.c): printing every
 * declaration, with its clauses, field lists and expressions, into a list
 * of output lines, each remembering the source lines it came from; a line
 * that ends in a long `and` / `or` chain is wrapped here.  The rules are
 * listed in fmt.h. */
#include <string.h>

#include "front/fmt_internal.h"

enum { INDENT_WIDTH = 2, MAX_COLUMNS = 100 };

/* ---- the lines being printed ----------------------------------------------- */

static void buf_truncate(fmt_buf *b, size_t len) {
  if (len > b->len) return;
  b->len = len;
  if (b->data) b->data[len] = '\0';
}

/* Display columns of a UTF-8 text: code points. */
static size_t columns(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
  return n;
}

static void put(fmt_ctx *c, const char *s) { fmt_buf_append(&c->line, s, strlen(s)); }

static out_line *add_line(fmt_ctx *c, int spaces, int src_first, int src_last) {
  out_line *l = arena_alloc(&c->arena, sizeof *l);
  l->indent = spaces;
  l->text = arena_strndup(&c->arena, c->line.data ? c->line.data : "", c->line.len);
  l->src_first = src_first;
  l->src_last = src_last < src_first ? src_first : src_last;
  l->comment_indent = spaces;
  ptr_vec_push(&c->arena, &c->lines, l);
  buf_truncate(&c->line, 0);
  return l;
}

static bool wrap_tail(fmt_ctx *c, int indent, int src_first, int src_last);

/* Ends the line being printed (indent in levels) and adds it to the
 * output; returns its last output line. */
static out_line *finish_line(fmt_ctx *c, int indent, int src_first, int src_last) {
  if (c->tail && wrap_tail(c, indent, src_first, src_last))
    return c->lines.items[c->lines.len - 1];
  c->tail = NULL;
  return add_line(c, indent * INDENT_WIDTH, src_first, src_last);
}

static void close_block(fmt_ctx *c, int indent, int src_line) {
  put(c, "}");
  out_line *l = finish_line(c, indent, src_line, src_line);
  l->closes_block = true;
  l->comment_indent = (indent + 1) * INDENT_WIDTH;
}

/* ---- names and literals ------------------------------------------------------- */

static const char *const msl_keywords[] = {
    "account", "event", "segment", "let", "fn", "extern", "from", "import",
    "milestone", "playbook", "test", "mode", "once", "continuous", "start", "at",
    "after", "on", "assignment", "deadline", "estimate", "entry", "exit", "action",
    "owner", "done", "when", "blocked", "emit", "step", "tracks", "auto",
    "segments", "description", "group", "csm", "customer", "where", "within",
    "since", "count", "sum", "min", "max", "avg", "distinct", "sequence",
    "completed", "achieving", "and", "or", "not", "in", "true", "false", "as_of",
    "events", "expect", "is", "signal",
};

static bool is_keyword(const char *s) {
  for (size_t i = 0; i < sizeof msl_keywords / sizeof msl_keywords[0]; i++)
    if (strcmp(s, msl_keywords[i]) == 0) return true;
  return false;
}

/* A name where only a name can stand: keywords must be backquoted. */
static void put_name(fmt_ctx *c, const ast_name *n) {
  if (!n->text) {
    c->incomplete = true;
    return;
  }
  bool quote = n->backquoted || is_keyword(n->text);
  if (quote) put(c, "`");
  put(c, n->text);
  if (quote) put(c, "`");
}

/* A name where a keyword may stand bare (after a dot, a field name, a
 * status, `done`): as written. */
static void put_member(fmt_ctx *c, const ast_name *n) {
  if (!n->text) {
    c->incomplete = true;
    return;
  }
  if (n->backquoted) put(c, "`");
  put(c, n->text);
  if (n->backquoted) put(c, "`");
}

static void put_string(fmt_ctx *c, const ast_string *s) {
  if (!s->raw) {
    c->incomplete = true;
    return;
  }
  put(c, s->raw);
}

static void put_type(fmt_ctx *c, value_type t) {
  if (t == VALUE_NONE) {
    c->incomplete = true;
    return;
  }
  put(c, value_type_name(t));
}

/* ---- expressions ----------------------------------------------------------------- */

enum {
  PREC_OR = 1, PREC_AND, PREC_NOT, PREC_CMP, PREC_ADD, PREC_MUL, PREC_NEG, PREC_PRIMARY,
};

static int binary_prec(ast_op op) {
  switch (op) {
    case OP_OR: return PREC_OR;
    case OP_AND: return PREC_AND;
    case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE: return PREC_CMP;
    case OP_ADD: case OP_SUB: return PREC_ADD;
    case OP_MUL: case OP_DIV: case OP_MOD: return PREC_MUL;
    case OP_NEG: return PREC_NEG;
    case OP_NOT: return PREC_NOT;
  }
  return PREC_PRIMARY;
}

/* How tightly e binds as printed (its own parentheses make it primary). */
static int expr_prec(const ast_expr *e) {
  if (!e || e->parens) return PREC_PRIMARY;
  switch (e->kind) {
    case EX_UNARY: return e->u.op.op == OP_NOT ? PREC_NOT : PREC_NEG;
    case EX_BINARY: return binary_prec(e->u.op.op);
    case EX_IN: return PREC_CMP;
    default: return PREC_PRIMARY;
  }
}

static void put_expr(fmt_ctx *c, const ast_expr *e);

static void put_operand(fmt_ctx *c, const ast_expr *e, bool wrap) {
  if (wrap) put(c, "(");
  put_expr(c, e);
  if (wrap) put(c, ")");
}

/* Whether e as printed starts with `-` (so `-` before it needs a space). */
static bool starts_with_minus(const ast_expr *e) {
  if (!e || e->parens) return false;
  if (e->kind == EX_UNARY) return e->u.op.op == OP_NEG;
  return e->kind == EX_LITERAL && e->u.lit.raw && e->u.lit.raw[0] == '-';
}

/* An expression that ends its line: the line may be wrapped at it. */
static void put_tail_expr(fmt_ctx *c, const ast_expr *e) {
  c->tail = e;
  c->tail_start = c->line.len;
  put_expr(c, e);
}

/* A line longer than MAX_COLUMNS that ends in an `and` / `or` chain
 * (unparenthesised) is broken before each operator of that chain; the
 * continuation lines start under the chain's first operand. */
static bool wrap_tail(fmt_ctx *c, int indent, int src_first, int src_last) {
  const ast_expr *tail = c->tail;
  c->tail = NULL;
  size_t width = (size_t)indent * INDENT_WIDTH + columns(c->line.data, c->line.len);
  if (c->incomplete || width <= MAX_COLUMNS || tail->parens || tail->kind != EX_BINARY ||
      (tail->u.op.op != OP_AND && tail->u.op.op != OP_OR))
    return false;
  ast_op op = tail->u.op.op;
  int prec = binary_prec(op);
  ptr_vec rhs_operands = {0};   /* right operands, last first */
  const ast_expr *first = tail;
  while (first->kind == EX_BINARY && !first->parens && first->u.op.op == op) {
    ptr_vec_push(&c->arena, &rhs_operands, first->u.op.rhs);
    first = first->u.op.lhs;
  }
  int align = indent * INDENT_WIDTH + (int)columns(c->line.data, c->tail_start);
  buf_truncate(&c->line, c->tail_start);
  put_operand(c, first, expr_prec(first) < prec);
  out_line *l = add_line(c, indent * INDENT_WIDTH, src_first, first->loc.end_line);
  for (int i = rhs_operands.len - 1; i >= 0; i--) {
    const ast_expr *operand = rhs_operands.items[i];
    put(c, ast_op_text(op));
    put(c, " ");
    put_operand(c, operand, expr_prec(operand) <= prec);
    l = add_line(c, align, operand->loc.line, operand->loc.end_line);
  }
  if (l->src_last < src_last) l->src_last = src_last;
  return true;
}

static void put_expr_list(fmt_ctx *c, const ptr_vec *items) {
  for (int i = 0; i < items->len; i++) {
    if (i) put(c, ", ");
    put_expr(c, items->items[i]);
  }
}

static void put_event_ref(fmt_ctx *c, const ast_event_ref *r) {
  put_name(c, &r->event);
  if (r->field.text) {
    put(c, ".");
    put_member(c, &r->field);
  }
  if (r->where) {
    put(c, " where ");
    put_expr(c, r->where);
  }
}

static void put_window(fmt_ctx *c, const ast_window *w) {
  if (w->kind == WIN_NONE) return;
  put(c, w->kind == WIN_WITHIN ? " within " : " since ");
  put_expr(c, w->expr);
}

static void put_literal(fmt_ctx *c, const ast_expr *e) {
  if (e->u.lit.raw) put(c, e->u.lit.raw);
  else if (e->u.lit.value.type == VALUE_BOOL) put(c, e->u.lit.value.u.b ? "true" : "false");
  else c->incomplete = true;
}

static void put_expr(fmt_ctx *c, const ast_expr *e) {
  if (!e) {
    c->incomplete = true;
    return;
  }
  if (e->parens) put(c, "(");
  switch (e->kind) {
    case EX_LITERAL: put_literal(c, e); break;
    case EX_NAME: put_name(c, &e->u.name); break;
    case EX_ACCOUNT_FIELD:
      put(c, "account.");
      put_member(c, &e->u.name);
      break;
    case EX_START: put(c, "start"); break;
    case EX_UNARY:
      if (e->u.op.op == OP_NOT) {
        put(c, "not ");
        put_operand(c, e->u.op.lhs, expr_prec(e->u.op.lhs) < PREC_NOT);
      } else {
        put(c, starts_with_minus(e->u.op.lhs) ? "- " : "-");
        put_operand(c, e->u.op.lhs, expr_prec(e->u.op.lhs) < PREC_NEG);
      }
      break;
    case EX_BINARY: {
      int prec = binary_prec(e->u.op.op);
      int lhs = expr_prec(e->u.op.lhs);
      /* left-associative; comparisons do not chain at all */
      put_operand(c, e->u.op.lhs, lhs < prec || (prec == PREC_CMP && lhs == PREC_CMP));
      put(c, " ");
      put(c, ast_op_text(e->u.op.op));
      put(c, " ");
      put_operand(c, e->u.op.rhs, expr_prec(e->u.op.rhs) <= prec);
      break;
    }
    case EX_IN:
      put_operand(c, e->u.in.lhs, expr_prec(e->u.in.lhs) <= PREC_CMP);
      put(c, " in [");
      put_expr_list(c, &e->u.in.items);
      put(c, "]");
      break;
    case EX_CALL:
      put_name(c, &e->u.call.name);
      put(c, "(");
      put_expr_list(c, &e->u.call.args);
      put(c, ")");
      break;
    case EX_AGGREGATE:
      put(c, ast_agg_name(e->u.agg.fn));
      put(c, "(");
      put_event_ref(c, &e->u.agg.ref);
      put_window(c, &e->u.agg.window);
      put(c, ")");
      break;
    case EX_SEQUENCE:
      put(c, "sequence(");
      for (int i = 0; i < e->u.seq.steps.len; i++) {
        if (i) put(c, ", ");
        put_event_ref(c, e->u.seq.steps.items[i]);
      }
      put_window(c, &e->u.seq.window);
      put(c, ")");
      break;
    case EX_COMPLETED:
    case EX_ACHIEVING:
      put(c, e->kind == EX_COMPLETED ? "completed(" : "achieving(");
      put_name(c, &e->u.name);
      put(c, ")");
      break;
  }
  if (e->parens) put(c, ")");
}

bool fmt_expr(const ast_expr *e, fmt_buf *out) {
  fmt_ctx c = {.line = *out};
  put_expr(&c, e);
  *out = c.line;
  return !c.incomplete;
}

/* ---- field lists ------------------------------------------------------------------ */

typedef enum { ITEMS_SCHEMA, ITEMS_VALUES } item_kind;

static void put_item(fmt_ctx *c, item_kind kind, const void *item) {
  if (kind == ITEMS_SCHEMA) {
    const ast_field *f = item;
    put_member(c, &f->name);
    put(c, ": ");
    put_type(c, f->type);
    if (f->default_value) {
      put(c, " = ");
      put_expr(c, f->default_value);
    }
  } else {
    const ast_assign *a = item;
    put_member(c, &a->field);
    put(c, " = ");
    put_expr(c, a->value);
  }
}

static msl_loc item_loc(item_kind kind, const void *item) {
  return kind == ITEMS_SCHEMA ? ((const ast_field *)item)->loc : ((const ast_assign *)item)->loc;
}

/* The braces and items after the header already printed on the current
 * line; `whole` spans the construct from its first token to its `}`. */
static void finish_field_list(fmt_ctx *c, int indent, msl_loc whole, const ptr_vec *items,
                              item_kind kind) {
  src_pos open = fmt_find_open_brace(c, whole);
  src_pos close = {whole.end_line, whole.end_col};
  size_t header_len = c->line.len;
  if (!fmt_comment_between(c, open, close)) {
    if (items->len == 0) {
      put(c, " {}");
    } else {
      put(c, " { ");
      for (int i = 0; i < items->len; i++) {
        if (i) put(c, ", ");
        put_item(c, kind, items->items[i]);
      }
      put(c, " }");
    }
    size_t width = (size_t)indent * INDENT_WIDTH + columns(c->line.data, c->line.len);
    if (width <= MAX_COLUMNS) {
      finish_line(c, indent, whole.line, whole.end_line);
      return;
    }
    buf_truncate(&c->line, header_len);
  }
  put(c, " {");
  finish_line(c, indent, whole.line, open.line)->opens_block = true;
  for (int i = 0; i < items->len; i++) {
    msl_loc loc = item_loc(kind, items->items[i]);
    put_item(c, kind, items->items[i]);
    finish_line(c, indent + 1, loc.line, loc.end_line);
  }
  close_block(c, indent, whole.end_line);
}

/* ---- blocks ------------------------------------------------------------------------ */

/* Prints ` {` or ` {}` after the header on the current line.  Returns
 * false when the block is empty and was closed on the header line. */
static bool open_block(fmt_ctx *c, int indent, msl_loc whole, int item_count) {
  src_pos open = fmt_find_open_brace(c, whole);
  src_pos close = {whole.end_line, whole.end_col};
  if (item_count == 0 && !fmt_comment_between(c, open, close)) {
    put(c, " {}");
    finish_line(c, indent, whole.line, whole.end_line);
    return false;
  }
  put(c, " {");
  finish_line(c, indent, whole.line, open.line)->opens_block = true;
  return true;
}

static void put_names(fmt_ctx *c, const ptr_vec *names) {
  for (int i = 0; i < names->len; i++) {
    if (i) put(c, ", ");
    put_name(c, names->items[i]);
  }
}

static void put_start(fmt_ctx *c, const ast_start *s) {
  switch (s->kind) {
    case START_AT:
      put(c, "start at ");
      put_tail_expr(c, s->at);
      break;
    case START_AFTER:
      put(c, "start after ");
      put_name(c, &s->after);
      break;
    case START_ON_EVENT:
      put(c, "start on ");
      put_name(c, &s->on.event);
      if (s->on.where) {
        put(c, " where ");
        put_tail_expr(c, s->on.where);
      }
      break;
    case START_ON_ASSIGNMENT: put(c, "start on assignment"); break;
    case START_NONE: c->incomplete = true; break;
  }
}

static void put_action(fmt_ctx *c, const ast_action *a) {
  put(c, "action ");
  put_name(c, &a->name);
  if (a->label_raw) {
    put(c, " ");
    put(c, a->label_raw);
  }
  if (a->owner != OWNER_NONE) put(c, a->owner == OWNER_CSM ? " owner csm" : " owner customer");
  put(c, " done when ");
  put_tail_expr(c, a->done_when);
}

static void put_step(fmt_ctx *c, const ast_step *s) {
  put(c, "step ");
  put_name(c, &s->name);
  if (s->label.raw) {
    put(c, " ");
    put(c, s->label.raw);
  }
  put(c, " tracks ");
  put_name(c, &s->tracks);
  if (s->is_auto) put(c, " auto");
  if (s->when) {
    put(c, " when ");
    put_tail_expr(c, s->when);
  }
}

static void put_text_clause(fmt_ctx *c, const char *keyword, const ast_string *s) {
  put(c, keyword);
  put_string(c, s);
}

static void put_emit(fmt_ctx *c, const ast_emit *e) {
  static const char *const keywords[] = {
    [EMIT_ACHIEVED] = "on achieved emit ", [EMIT_OVERDUE] = "on overdue emit ",
    [EMIT_LOST] = "on lost emit ", [EMIT_COMPLETE] = "on complete emit ",
  };
  if (!e) {
    c->incomplete = true;
    return;
  }
  put_text_clause(c, keywords[e->on], &e->signal);
}

static void put_milestone_clause(fmt_ctx *c, const ast_milestone *m, const ast_clause *cl) {
  switch (cl->kind) {
    case CL_DESCRIPTION: put_text_clause(c, "description ", &m->description); break;
    case CL_CSM: put_text_clause(c, "csm ", &m->csm); break;
    case CL_CUSTOMER: put_text_clause(c, "customer ", &m->customer); break;
    case CL_GROUP: put_text_clause(c, "group ", &m->group); break;
    case CL_SEGMENTS:
      put(c, "segments ");
      put_names(c, &m->segments);
      break;
    case CL_MODE: put(c, m->mode == MODE_CONTINUOUS ? "mode continuous" : "mode once"); break;
    case CL_START: put_start(c, &m->start); break;
    case CL_DEADLINE:
      put(c, m->deadline_kind == DEADLINE_AT ? "deadline at " : "deadline ");
      put_tail_expr(c, m->deadline);
      break;
    case CL_ESTIMATE:
      put(c, "estimate ");
      put_tail_expr(c, m->estimate);
      break;
    case CL_ENTRY:
      put(c, "entry ");
      put_tail_expr(c, m->entry);
      break;
    case CL_EXIT:
      put(c, "exit ");
      put_tail_expr(c, m->exit);
      break;
    case CL_ACTION:
      if (cl->item) put_action(c, cl->item);
      else c->incomplete = true;
      break;
    case CL_BLOCKED:
      put(c, "blocked when ");
      put_tail_expr(c, m->blocked);
      break;
    case CL_EMIT: put_emit(c, cl->item); break;
    case CL_STEP: c->incomplete = true; break;
  }
}

static void put_playbook_clause(fmt_ctx *c, const ast_playbook *p, const ast_clause *cl) {
  switch (cl->kind) {
    case CL_SEGMENTS:
      put(c, "segments ");
      put_names(c, &p->segments);
      break;
    case CL_START: put_start(c, &p->start); break;
    case CL_STEP:
      if (cl->item) put_step(c, cl->item);
      else c->incomplete = true;
      break;
    case CL_EMIT: put_emit(c, cl->item); break;
    default: c->incomplete = true; break;
  }
}

/* milestone and playbook: header, one clause per line, `}`. */
static void put_clause_block(fmt_ctx *c, const ast_decl *d, const char *keyword,
                             const ast_string *display, const ptr_vec *clauses) {
  put(c, keyword);
  put_name(c, &d->name);
  if (display->text) {
    put(c, " ");
    put_string(c, display);
  }
  if (!open_block(c, 0, d->loc, clauses->len)) return;
  for (int i = 0; i < clauses->len; i++) {
    const ast_clause *cl = clauses->items[i];
    if (d->kind == DECL_MILESTONE) put_milestone_clause(c, &d->u.milestone, cl);
    else put_playbook_clause(c, &d->u.playbook, cl);
    finish_line(c, 1, cl->loc.line, cl->loc.end_line);
  }
  close_block(c, 0, d->loc.end_line);
}

/* ---- test blocks ------------------------------------------------------------------- */

static void put_expect(fmt_ctx *c, const ast_expect *x) {
  put(c, "expect ");
  switch (x->kind) {
    case EXPECT_STATUS:
      put_name(c, &x->target);
      put(c, " is ");
      put_member(c, &x->member);
      break;
    case EXPECT_FIELD:
      put_name(c, &x->target);
      put(c, ".");
      put_member(c, &x->member);
      put(c, " == ");
      put_expr(c, x->value);
      break;
    case EXPECT_STEP:
      put_name(c, &x->target);
      put(c, ".step == ");
      put_member(c, &x->member);
      break;
    case EXPECT_SIGNAL:
      put(c, "signal ");
      put_string(c, &x->signal);
      break;
  }
  if (x->at) {
    put(c, " at ");
    put_expr(c, x->at);
  }
}

static void put_test_event(fmt_ctx *c, const ast_test_event *ev) {
  put_expr(c, ev->time);
  put(c, " ");
  if (ev->control) put(c, ev->event.text ? ev->event.text : "");
  else put_name(c, &ev->event);
  if (ev->fields.len == 0) finish_line(c, 2, ev->loc.line, ev->loc.end_line);
  else finish_field_list(c, 2, ev->loc, &ev->fields, ITEMS_VALUES);
}

static void put_test_item(fmt_ctx *c, const ast_test *t, const ast_test_item *it) {
  switch (it->kind) {
    case TI_AS_OF:
      put(c, "as_of ");
      put_expr(c, t->as_of);
      finish_line(c, 1, it->loc.line, it->loc.end_line);
      break;
    case TI_ACCOUNT:
      put(c, "account");
      if (t->account_id_raw) {
        put(c, " ");
        put(c, t->account_id_raw);
      } else if (t->account_id.text) {
        put(c, " ");
        put_name(c, &t->account_id);
      }
      finish_field_list(c, 1, it->loc, &t->account_fields, ITEMS_VALUES);
      break;
    case TI_EVENTS:
      put(c, "events");
      if (!open_block(c, 1, it->loc, t->events.len)) break;
      for (int i = 0; i < t->events.len; i++) put_test_event(c, t->events.items[i]);
      close_block(c, 1, it->loc.end_line);
      break;
    case TI_EXPECT:
      if (it->item) put_expect(c, it->item);
      else c->incomplete = true;
      finish_line(c, 1, it->loc.line, it->loc.end_line);
      break;
  }
}

static void put_test(fmt_ctx *c, const ast_decl *d) {
  const ast_test *t = &d->u.test;
  put(c, "test ");
  put_string(c, &t->name);
  if (!open_block(c, 0, d->loc, t->items.len)) return;
  for (int i = 0; i < t->items.len; i++) put_test_item(c, t, t->items.items[i]);
  close_block(c, 0, d->loc.end_line);
}

/* ---- declarations ---------------------------------------------------------------------- */

static void put_params(fmt_ctx *c, const ptr_vec *params) {
  put(c, "(");
  for (int i = 0; i < params->len; i++) {
    const ast_param *p = params->items[i];
    if (i) put(c, ", ");
    put_name(c, &p->name);
    put(c, ": ");
    put_type(c, p->type);
  }
  put(c, ")");
}

/* One-line declarations end here. */
static void finish_decl_line(fmt_ctx *c, const ast_decl *d) {
  finish_line(c, 0, d->loc.line, d->loc.end_line);
}

static void put_decl(fmt_ctx *c, const ast_decl *d) {
  switch (d->kind) {
    case DECL_IMPORT:
      put(c, "import ");
      put_string(c, &d->u.import.path);
      finish_decl_line(c, d);
      break;
    case DECL_ACCOUNT:
      put(c, "account");
      finish_field_list(c, 0, d->loc, &d->u.account.fields, ITEMS_SCHEMA);
      break;
    case DECL_EVENT:
      put(c, "event ");
      put_name(c, &d->name);
      if (d->u.event.fields.len == 0) finish_decl_line(c, d);
      else finish_field_list(c, 0, d->loc, &d->u.event.fields, ITEMS_SCHEMA);
      break;
    case DECL_SEGMENT:
    case DECL_LET:
      put(c, d->kind == DECL_SEGMENT ? "segment " : "let ");
      put_name(c, &d->name);
      put(c, " = ");
      put_tail_expr(c, d->kind == DECL_SEGMENT ? d->u.segment.expr : d->u.let.expr);
      finish_decl_line(c, d);
      break;
    case DECL_FN:
      put(c, "fn ");
      put_name(c, &d->name);
      put_params(c, &d->u.fn.params);
      put(c, " = ");
      put_tail_expr(c, d->u.fn.body);
      finish_decl_line(c, d);
      break;
    case DECL_EXTERN:
      put(c, "extern fn ");
      put_name(c, &d->name);
      put_params(c, &d->u.ext.params);
      put(c, " -> ");
      put_type(c, d->u.ext.ret);
      put(c, " from ");
      put_string(c, &d->u.ext.lib);
      finish_decl_line(c, d);
      break;
    case DECL_MILESTONE:
      put_clause_block(c, d, "milestone ", &d->u.milestone.display, &d->u.milestone.clauses);
      break;
    case DECL_PLAYBOOK:
      put_clause_block(c, d, "playbook ", &d->u.playbook.display, &d->u.playbook.clauses);
      break;
    case DECL_TEST: put_test(c, d); break;
  }
}

/* Blocks stand apart: milestones, playbooks, tests, and whatever prints on
 * more than one line get a blank line before and after them. */
void fmt_print_decls(fmt_ctx *c) {
  bool prev_stands_apart = false;
  for (int i = 0; i < c->module->decls.len; i++) {
    const ast_decl *d = c->module->decls.items[i];
    int first = c->lines.len;
    put_decl(c, d);
    bool stands_apart = c->lines.len - first > 1 || d->kind == DECL_MILESTONE ||
                        d->kind == DECL_PLAYBOOK || d->kind == DECL_TEST;
    if (first > 0 && (stands_apart || prev_stands_apart)) {
      out_line *l = c->lines.items[first];
      l->force_blank_before = true;
    }
    prev_stands_apart = stands_apart;
  }
}
