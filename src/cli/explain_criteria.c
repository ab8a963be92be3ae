/* explain_criteria.c — a criterion and its parts at the as-of time, as
 * text and as JSON, and the values they show.  In text, a comparison reads
 * `count(login) = 2, needs >= 3`, a chain of `and`/`or` lists its
 * operands under "all of:"/"any of:", and the parts of arithmetic follow
 * on lines of their own; in JSON, the tree keeps the rule's structure. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/explain_internal.h"
#include "io/io.h"

enum { CRITERIA_WHY = 512 };

/* ---- values ---------------------------------------------------------------------------------- */

/* A float as its shortest text that reads back the same: with a decimal
 * point where that is not long (7.5, 100, 0.001), else with an exponent. */
static void put_float(explain_ctx *c, double f, bool json) {
  if (!isfinite(f)) {
    const char *s = isnan(f) ? "nan" : f > 0 ? "inf" : "-inf";
    if (json) explain_putf(c, "\"%s\"", s);
    else explain_put(c, s);
    return;
  }
  char buf[64];
  bool plain = f == 0 || (fabs(f) >= 1e-4 && fabs(f) < 1e15);
  for (int digits = plain ? 0 : 1; digits <= 17; digits++) {
    if (plain) snprintf(buf, sizeof buf, "%.*f", digits, f);
    else snprintf(buf, sizeof buf, "%.*g", digits, f);
    if (strtod(buf, NULL) == f) break;
  }
  explain_put(c, buf);
  if (!json && !strpbrk(buf, ".en")) explain_put(c, ".0");   /* a float looks like one */
}

/* A duration: "14d", "1d 2h 30m", "1.5s"; microseconds as fractions of a second. */
void explain_put_duration(explain_ctx *c, int64_t us) {
  static const struct { const char *unit; int64_t us; } units[] = {
    {"d", 86400000000}, {"h", 3600000000}, {"m", 60000000}};
  if (us == 0) {
    explain_put(c, "0s");
    return;
  }
  uint64_t left = us < 0 ? 0 - (uint64_t)us : (uint64_t)us;
  const char *sep = us < 0 ? "-" : "";
  for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
    if (left >= (uint64_t)units[k].us) {
      explain_putf(c, "%s%llu%s", sep, (unsigned long long)(left / (uint64_t)units[k].us), units[k].unit);
      left %= (uint64_t)units[k].us;
      sep = " ";
    }
  if (!left) return;
  char frac[16];
  snprintf(frac, sizeof frac, "%06llu", (unsigned long long)(left % 1000000));
  for (int i = 5; i >= 0 && frac[i] == '0'; i--) frac[i] = '\0';
  explain_putf(c, "%s%llu%s%ss", sep, (unsigned long long)(left / 1000000), frac[0] ? "." : "", frac);
}

/* A value as text, or as JSON (a time as a string, a duration in seconds). */
void explain_put_value(explain_ctx *c, const explain_value *v, bool json) {
  switch (v->type) {
    case VALUE_BOOL: explain_put(c, v->v.b ? "true" : "false"); break;
    case VALUE_FLOAT: put_float(c, v->v.f, json); break;
    case VALUE_STRING: explain_put_quoted(c, v->v.s.p, v->v.s.len); break;
    case VALUE_TIME:
      if (json) explain_json_time(c, v->v.i);
      else explain_put_time(c, v->v.i);
      break;
    case VALUE_DURATION:
      if (!json) explain_put_duration(c, v->v.i);
      else if (v->v.i % 1000000 == 0) explain_putf(c, "%lld", (long long)(v->v.i / 1000000));
      else put_float(c, (double)v->v.i / 1e6, true);
      break;
    default: explain_putf(c, "%lld", (long long)v->v.i); break;
  }
}

/* ---- the parts of a criterion as text -------------------------------------------------------- */

static bool is_comparison(const ast_expr *e) {
  if (e->kind != EX_BINARY) return false;
  ast_op op = e->u.op.op;
  return op == OP_EQ || op == OP_NE || op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE;
}

static bool is_arithmetic(const ast_expr *e) {
  return (e->kind == EX_BINARY && !is_comparison(e) && e->u.op.op != OP_AND && e->u.op.op != OP_OR) ||
         (e->kind == EX_UNARY && e->u.op.op == OP_NEG);
}

static bool is_connective(const ast_expr *e, ast_op op) { return e->kind == EX_BINARY && e->u.op.op == op; }

/* The comparison as seen from the other side: 3 < x is x > 3. */
static ast_op mirrored(ast_op op) {
  switch (op) {
    case OP_LT: return OP_GT;
    case OP_LE: return OP_GE;
    case OP_GT: return OP_LT;
    case OP_GE: return OP_LE;
    default: return op;
  }
}

/* ✓ holds, ✗ fails, ! an error, · not a truth value. */
static void put_mark(explain_ctx *c, const explain_value *v) {
  if (!v->ok) explain_paint(c, "33", "!");
  else if (v->type != VALUE_BOOL) explain_paint(c, "2", "·");
  else if (v->v.b) explain_paint(c, "32", "✓");
  else explain_paint(c, "31", "✗");
}

static void put_expr(explain_ctx *c, const ast_expr *e) {
  char *t = explain_expr_text(e);
  explain_put(c, t);
  free(t);
}

/* "TEXT = VALUE", or "TEXT: error: WHY". */
static void put_valued(explain_ctx *c, const ast_expr *e, const explain_value *v) {
  put_expr(c, e);
  if (v->ok) {
    explain_put(c, " = ");
    explain_put_value(c, v, false);
  } else {
    explain_put(c, ": ");
    explain_paint(c, "33", "error: ");
    explain_put(c, v->error);
  }
}

static void text_node(explain_ctx *c, const ast_expr *e, int at);

/* The leaves of an arithmetic operand, one line each: what it is made of. */
static void text_operand_leaves(explain_ctx *c, const ast_expr *e, int at) {
  if (e->is_const) return;
  if (is_arithmetic(e)) {
    text_operand_leaves(c, e->u.op.lhs, at);
    if (e->kind == EX_BINARY) text_operand_leaves(c, e->u.op.rhs, at);
    return;
  }
  explain_value v = explain_eval(c, e);
  explain_indent(c, at);
  explain_paint(c, "2", "· ");
  put_valued(c, e, &v);
  explain_put(c, "\n");
  explain_value_free(&v);
}

/* "SUBJECT = VALUE, needs OP THRESHOLD", the threshold's value first when
 * it is not a constant; then what arithmetic operands are made of. */
static void text_comparison(explain_ctx *c, const ast_expr *e, int at) {
  const ast_expr *subject = e->u.op.lhs, *other = e->u.op.rhs;
  ast_op op = e->u.op.op;
  if (subject->is_const && !other->is_const) {
    subject = e->u.op.rhs;
    other = e->u.op.lhs;
    op = mirrored(op);
  }
  explain_value sv = explain_eval(c, subject);
  put_valued(c, subject, &sv);
  explain_putf(c, ", needs %s ", ast_op_text(op));
  if (other->is_const) {
    put_expr(c, other);
  } else {
    explain_value ov = explain_eval(c, other);
    if (ov.ok) explain_put_value(c, &ov, false);
    else explain_paint(c, "33", "error");
    explain_put(c, " (");
    put_expr(c, other);
    if (!ov.ok) explain_putf(c, ": %s", ov.error);
    explain_put(c, ")");
    explain_value_free(&ov);
  }
  explain_put(c, "\n");
  explain_value_free(&sv);
  if (is_arithmetic(subject)) text_operand_leaves(c, subject, at + 2);
  if (is_arithmetic(other)) text_operand_leaves(c, other, at + 2);
}

/* The operands of a chain of one connective, flattened: a and b and c. */
static void text_chain(explain_ctx *c, const ast_expr *e, ast_op op, int at) {
  if (is_connective(e, op)) {
    text_chain(c, e->u.op.lhs, op, at);
    text_chain(c, e->u.op.rhs, op, at);
    return;
  }
  explain_indent(c, at);
  text_node(c, e, at);
}

/* One part of a criterion, from its mark on (the caller indented the
 * line); what it is made of on the lines after it, further in. */
static void text_node(explain_ctx *c, const ast_expr *e, int at) {
  explain_value v = explain_eval(c, e);
  put_mark(c, &v);
  explain_put(c, " ");
  if (e->is_const) {
    put_valued(c, e, &v);
    explain_put(c, "\n");
  } else if (is_connective(e, OP_AND) || is_connective(e, OP_OR)) {
    explain_put(c, e->u.op.op == OP_AND ? "all of:\n" : "any of:\n");
    text_chain(c, e->u.op.lhs, e->u.op.op, at + 2);
    text_chain(c, e->u.op.rhs, e->u.op.op, at + 2);
  } else if (e->kind == EX_UNARY && e->u.op.op == OP_NOT) {
    explain_put(c, "not:\n");
    explain_indent(c, at + 2);
    text_node(c, e->u.op.lhs, at + 2);
  } else if (is_comparison(e)) {
    text_comparison(c, e, at);
  } else if (e->kind == EX_IN) {
    explain_value lv = explain_eval(c, e->u.in.lhs);
    put_valued(c, e->u.in.lhs, &lv);
    explain_put(c, ", needs in [");
    for (int i = 0; i < e->u.in.items.len; i++) {
      if (i) explain_put(c, ", ");
      put_expr(c, e->u.in.items.items[i]);
    }
    explain_put(c, "]\n");
    explain_value_free(&lv);
  } else {
    put_valued(c, e, &v);
    explain_put(c, "\n");
    if (e->kind == EX_CALL && e->inlined && e->type == VALUE_BOOL && !e->inlined->is_const) {
      explain_indent(c, at + 2);
      text_node(c, e->inlined, at + 2);   /* what the fn says */
    }
  }
  explain_value_free(&v);
}

/* ---- the parts of a criterion as JSON -------------------------------------------------------- */

static void json_node(explain_ctx *c, const ast_expr *e) {
  explain_value v = explain_eval(c, e);
  bool first = true;
  explain_put(c, "{");
  explain_json_key(c, &first, "text");
  char *t = explain_expr_text(e);
  explain_put_str(c, t);
  free(t);
  explain_json_key(c, &first, "type");
  explain_putf(c, "\"%s\"", value_type_name(e->type));
  if (v.ok) {
    explain_json_key(c, &first, "value");
    explain_put_value(c, &v, true);
  } else {
    explain_json_key(c, &first, "error");
    explain_put_str(c, v.error);
  }
  if (e->type == VALUE_BOOL) {
    explain_json_key(c, &first, "holds");
    explain_put(c, v.ok ? (v.v.b ? "true" : "false") : "null");
  }
  if (e->is_const) {
    explain_json_key(c, &first, "constant");
    explain_put(c, "true");
  }
  const ast_expr *kids[2] = {NULL, NULL};
  const ptr_vec *args = NULL;
  if (e->kind == EX_UNARY || e->kind == EX_BINARY || e->kind == EX_IN) {
    explain_json_key(c, &first, "op");
    explain_putf(c, "\"%s\"", e->kind == EX_IN ? "in" : ast_op_text(e->u.op.op));
    kids[0] = e->kind == EX_IN ? e->u.in.lhs : e->u.op.lhs;
    kids[1] = e->kind == EX_BINARY ? e->u.op.rhs : NULL;
  } else if (e->kind == EX_CALL) {
    if (e->inlined) kids[0] = e->inlined;
    else args = &e->u.call.args;
  }
  explain_json_key(c, &first, "parts");
  explain_put(c, "[");
  for (int i = 0; i < 2 && kids[i] && !e->is_const; i++) {
    if (i) explain_put(c, ",");
    json_node(c, kids[i]);
  }
  for (int i = 0; args && i < args->len; i++) {
    if (i) explain_put(c, ",");
    json_node(c, args->items[i]);
  }
  explain_put(c, "]}");
  explain_value_free(&v);
}

/* ---- criteria -------------------------------------------------------------------------------- */

const ast_milestone *explain_ast_milestone(const explain_ctx *c, uint32_t m) {
  return c->ast ? &((const ast_decl *)c->ast->milestones.items[m])->u.milestone : NULL;
}

static const ast_expr *criterion_expr(const explain_ctx *c, uint32_t m, explain_clause kind, uint32_t action) {
  const ast_milestone *ms = explain_ast_milestone(c, m);
  if (!ms) return NULL;
  switch (kind) {
    case EXPLAIN_ENTRY: return ms->entry;
    case EXPLAIN_EXIT: return ms->exit;
    case EXPLAIN_BLOCKED: return ms->blocked;
    default: return ((const ast_action *)ms->actions.items[action])->done_when;
  }
}

/* A criterion after its label: met at T, not evaluated and why, or its
 * parts (without them: holds or fails). */
void explain_text_criterion(explain_ctx *c, const out_milestone_row *r, explain_clause kind, uint32_t action,
                           int at) {
  int64_t met_at;
  bool holds;
  char why[CRITERIA_WHY];
  explain_state s = explain_criterion(c, r, kind, action, &met_at, &holds, why, sizeof why);
  const ast_expr *e = criterion_expr(c, r->milestone, kind, action);
  if (s == EXPLAIN_MET) {
    explain_paint(c, "32", "✓");
    explain_put(c, " met at ");
    explain_put_time(c, met_at);
    explain_put(c, "\n");
  } else if (s == EXPLAIN_WAITING) {
    explain_paint(c, "2", "·");
    explain_put(c, " ");
    if (e) {
      put_expr(c, e);
      explain_put(c, " ");
    }
    explain_putf(c, "(%s)\n", why);
  } else if (e && !c->no_parts) {
    text_node(c, e, at);
  } else if (why[0]) {
    explain_paint(c, "33", "!");
    explain_putf(c, " error: %s\n", why);
  } else {
    explain_paint(c, holds ? "32" : "31", holds ? "✓ holds\n" : "✗ fails\n");
  }
}

void explain_json_criterion(explain_ctx *c, const out_milestone_row *r, explain_clause kind, uint32_t action) {
  int64_t met_at = OUT_NO_TIME;
  bool holds, first = true;
  char why[CRITERIA_WHY];
  explain_state s = explain_criterion(c, r, kind, action, &met_at, &holds, why, sizeof why);
  const ast_expr *e = criterion_expr(c, r->milestone, kind, action);
  static const char *const states[] = {"evaluated", "met", "not_evaluated"};
  explain_put(c, "{");
  explain_json_key(c, &first, "text");
  if (e) {
    char *t = explain_expr_text(e);
    explain_put_str(c, t);
    free(t);
  } else {
    explain_put(c, "null");
  }
  explain_json_key(c, &first, "state");
  explain_putf(c, "\"%s\"", states[s]);
  explain_json_key(c, &first, "holds");
  explain_put(c, s == EXPLAIN_MET ? "true" : s == EXPLAIN_WAITING || why[0] ? "null" : holds ? "true" : "false");
  explain_json_key(c, &first, "met_at");
  explain_json_time(c, s == EXPLAIN_MET ? met_at : OUT_NO_TIME);
  explain_json_key(c, &first, "reason");
  if (s == EXPLAIN_WAITING) explain_put_str(c, why);
  else explain_put(c, "null");
  explain_json_key(c, &first, "error");
  if (s == EXPLAIN_EVALUATED && why[0]) explain_put_str(c, why);
  else explain_put(c, "null");
  explain_json_key(c, &first, "tree");
  if (s == EXPLAIN_EVALUATED && e && !c->no_parts) json_node(c, e);
  else explain_put(c, "null");
  explain_put(c, "}");
}
