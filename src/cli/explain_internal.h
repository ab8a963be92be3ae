/* explain_internal.h — what the files of `msl explain` share, private to
 * src/cli/; their shared functions are all prefixed explain_:
 *   explain.c           the command: its options, the program, the run of
 *                       one account, the state and values of criteria,
 *                       and writing for both formats;
 *   explain_criteria.c  a criterion and its parts, as text and as JSON;
 *   explain_render.c    the whole explanation, as text or JSON. */
#ifndef MSL_EXPLAIN_INTERNAL_H
#define MSL_EXPLAIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bc/bc.h"
#include "bc/compile.h"
#include "front/sema.h"
#include "io/output.h"
#include "vm/vm.h"

typedef enum { EXPLAIN_TEXT, EXPLAIN_JSON } explain_format;

/* A control event of the account that names one of the program's
 * milestones, up to the as-of time; each (time, type, milestone) once. */
typedef struct explain_control {
  int64_t time;
  int type;                /* IO_EV_ASSIGN ... IO_EV_COMPLETE */
  uint32_t milestone;
} explain_control;

/* What the explanation of one account needs. */
typedef struct explain_ctx {
  const bc_program *p;
  const msl_program *ast;      /* NULL for a .msc: criteria are shown without their parts */
  const compile_parts *parts;
  const char *no_parts;        /* why criteria show no parts (a .msc ...); NULL: they do */
  uint32_t milestone;          /* --milestone; BC_NONE: every milestone */
  explain_format format;
  bool color;
  FILE *out;
  explain_control *controls;   /* in time order once the run is over */
  size_t ncontrols, controls_cap;
  /* the account, at the as-of time (explain_render runs inside the run) */
  vm_runtime *vm;
  vm_account *account;
  int64_t as_of;
  const vm_results *results;
  bool explained;              /* the run reached the account */
} explain_ctx;

/* ---- explain.c: the state of criteria and the values of their parts -------------------------- */

/* How a criterion of an applicable milestone stands at the as-of time. */
typedef enum {
  EXPLAIN_EVALUATED,       /* the run evaluates it at T: its value, and its parts' */
  EXPLAIN_MET,             /* latched at an earlier or equal instant: *met_at */
  EXPLAIN_WAITING,         /* not evaluated at T: *why says why */
} explain_state;

typedef enum { EXPLAIN_ENTRY, EXPLAIN_EXIT, EXPLAIN_ACTION, EXPLAIN_BLOCKED } explain_clause;

/* The criterion's state in milestone row r: EXPLAIN_MET with *met_at,
 * EXPLAIN_WAITING with the reason in why, or EXPLAIN_EVALUATED with *holds
 * (why empty, or the runtime error that gave no value). */
explain_state explain_criterion(const explain_ctx *c, const out_milestone_row *r, explain_clause kind,
                                uint32_t action, int64_t *met_at, bool *holds, char *why, size_t whylen);

/* A part's value at T: a constant from the tree, else its block run by the
 * VM; a runtime error is a value too.  A string is the value's own. */
typedef struct explain_value {
  bool ok;
  value_type type;
  value_data v;
  char *str;                   /* VALUE_STRING: the bytes (v.s points here) */
  const char *error;           /* !ok: the runtime error, the value's own */
} explain_value;

explain_value explain_eval(const explain_ctx *c, const ast_expr *e);
/* The value of block b of the program (a criterion, a `start at` time). */
explain_value explain_eval_block(const explain_ctx *c, uint32_t b);
void explain_value_free(explain_value *v);

/* The expression as the formatter prints it, on one line (malloc'd). */
char *explain_expr_text(const ast_expr *e);

/* ---- explain.c: writing ---------------------------------------------------------------------- */

void explain_put(explain_ctx *c, const char *s);
void explain_putf(explain_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void explain_indent(explain_ctx *c, int n);
/* s in an SGR colour (bold "1", dim "2", red "31", green "32", yellow "33")
 * when colour is on. */
void explain_paint(explain_ctx *c, const char *sgr, const char *s);
/* A string in double quotes as JSON writes it (util_json_string), in both
 * formats. */
void explain_put_quoted(explain_ctx *c, const char *s, size_t n);
void explain_put_str(explain_ctx *c, const char *s);
void explain_put_time(explain_ctx *c, int64_t t);
/* JSON: a time as a string, or null; a string of the program's pool, or
 * null for BC_NONE; a member's key, with the comma before all but the first. */
void explain_json_time(explain_ctx *c, int64_t t);
void explain_json_pool(explain_ctx *c, uint32_t off);
void explain_json_key(explain_ctx *c, bool *first, const char *key);

/* ---- explain_criteria.c ---------------------------------------------------------------------- */

/* A duration for people: "14d", "1d 2h 30m", "1.5s". */
void explain_put_duration(explain_ctx *c, int64_t us);
/* A value as text, or as JSON (a time as a string, a duration in seconds). */
void explain_put_value(explain_ctx *c, const explain_value *v, bool json);
/* Milestone m's declaration; NULL for a .msc. */
const ast_milestone *explain_ast_milestone(const explain_ctx *c, uint32_t m);
/* A criterion of milestone row r after its label, up to the end of its
 * last line (text; its parts indented by at), or as a JSON object. */
void explain_text_criterion(explain_ctx *c, const out_milestone_row *r, explain_clause kind, uint32_t action,
                            int at);
void explain_json_criterion(explain_ctx *c, const out_milestone_row *r, explain_clause kind, uint32_t action);

/* ---- explain_render.c ------------------------------------------------------------------------ */

/* Writes the explanation of c->account (its results in c->results) to c->out. */
void explain_render(explain_ctx *c);

#endif
