/* ast.h — the syntax tree of an MSL module, shared by every front-end phase.
 *
 * The parser (grammar/msl.y) builds it in an arena; the resolver and type
 * checker (resolve.c, types.c) annotate it in place (the fields marked
 * "set by the checker"); the formatter (fmt.c) prints it back with the
 * comments the lexer kept; the compiler (compile.c) reads the annotated
 * tree.  Nodes are never freed one by one. */
#ifndef MSL_AST_H
#define MSL_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/value.h"
#include "front/diag.h"

/* ---- names ----------------------------------------------------------------- */

typedef struct ast_name {
  const char *text;      /* NULL when absent */
  msl_loc loc;
  bool backquoted;       /* written `like this` in the source */
} ast_name;

/* ---- literal values (also used by test blocks and defaults) ------------- */

typedef struct ast_value {
  value_type type;
  union {
    bool b;
    int64_t i;           /* int; time and duration in microseconds */
    double f;
    struct { const char *s; size_t len; } str;  /* decoded bytes, may hold NUL */
  } u;
} ast_value;

/* ---- expressions ------------------------------------------------------------ */

typedef enum {
  EX_LITERAL,        /* lit; raw keeps the source spelling for fmt */
  EX_NAME,           /* name: a bare identifier */
  EX_ACCOUNT_FIELD,  /* account.name */
  EX_START,          /* start */
  EX_UNARY,          /* op, lhs */
  EX_BINARY,         /* op, lhs, rhs */
  EX_IN,             /* lhs in [items] */
  EX_CALL,           /* name(args) */
  EX_AGGREGATE,      /* agg */
  EX_SEQUENCE,       /* seq */
  EX_COMPLETED,      /* completed(name) */
  EX_ACHIEVING,      /* achieving(name) */
} ast_expr_kind;

typedef enum {
  OP_NEG, OP_NOT,
  OP_OR, OP_AND,
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
  OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
} ast_op;

const char *ast_op_text(ast_op op);   /* "-", "not", "or", "==", ... */

typedef enum { AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG, AGG_DISTINCT } ast_agg_fn;

const char *ast_agg_name(ast_agg_fn fn);

typedef enum {
  WIN_NONE,          /* all events up to t */
  WIN_WITHIN,        /* within D: (t - D, t] */
  WIN_SINCE,         /* since EXPR: [EXPR, t]; `since start` is EXPR of kind EX_START */
} ast_window_kind;

typedef struct ast_expr ast_expr;
typedef struct ast_decl ast_decl;

typedef struct ast_window {
  ast_window_kind kind;
  ast_expr *expr;          /* the duration (WITHIN) or the time (SINCE) */
  msl_loc loc;             /* the whole `within ...` / `since ...` */
  /* set by the checker */
  int64_t duration_us;     /* WITHIN: the constant length, > 0 */
  bool since_start;        /* SINCE with EX_START */
} ast_window;

/* One event pattern: `E [where P]`, in aggregates and sequences. */
typedef struct ast_event_ref {
  ast_name event;
  ast_name field;          /* E.f in sum/min/max/avg/distinct; text NULL for count */
  ast_expr *where;         /* NULL when absent */
  /* set by the checker */
  ast_decl *event_decl;    /* DECL_EVENT */
  int field_index;         /* index into event_decl->u.event.fields, -1 if none */
} ast_event_ref;

/* What a bare EX_NAME turned out to be (set by the checker). */
typedef enum {
  BIND_NONE = 0,
  BIND_EVENT_FIELD,     /* inside a where: field of the pattern's event */
  BIND_PARAM,           /* fn parameter */
  BIND_LET,             /* let constant */
  BIND_SEGMENT,         /* segment */
} ast_binding_kind;

struct ast_expr {
  ast_expr_kind kind;
  msl_loc loc;
  bool parens;             /* written in parentheses (kept by fmt) */
  union {
    struct { ast_value value; const char *raw; } lit;
    ast_name name;                                   /* EX_NAME, EX_ACCOUNT_FIELD,
                                                        EX_COMPLETED, EX_ACHIEVING */
    struct { ast_op op; ast_expr *lhs, *rhs; } op;   /* EX_UNARY (rhs NULL), EX_BINARY */
    struct { ast_expr *lhs; ptr_vec items; } in;     /* items: ast_expr* */
    struct { ast_name name; ptr_vec args; } call;    /* args: ast_expr* */
    struct { ast_agg_fn fn; ast_event_ref ref; ast_window window; } agg;
    struct { ptr_vec steps; ast_window window; } seq; /* steps: ast_event_ref*;
                                                        window WIN_NONE or WIN_WITHIN */
  } u;
  /* set by the checker */
  value_type type;
  ast_binding_kind binding;
  ast_decl *decl;          /* BIND_LET/BIND_SEGMENT, EX_CALL target (fn/extern),
                              EX_COMPLETED/EX_ACHIEVING target (milestone),
                              BIND_EVENT_FIELD: the event */
  int index;               /* BIND_EVENT_FIELD field index, BIND_PARAM index,
                              EX_ACCOUNT_FIELD index into the account fields
                              (-1 for the built-in id) */
  bool is_const;           /* a compile-time constant (literals, lets, ops) */
  ast_value const_value;   /* its value when is_const */
  ast_expr *inlined;       /* EX_CALL of a fn: a clone of the body with the
                              arguments substituted for the parameters, itself
                              checked; the compiler compiles this instead */
};

/* ---- declarations --------------------------------------------------------- */

typedef struct ast_field {
  ast_name name;
  value_type type;
  msl_loc type_loc;
  ast_expr *default_value;  /* NULL: required */
  msl_loc loc;
} ast_field;

typedef struct ast_param {
  ast_name name;
  value_type type;
  msl_loc loc;
} ast_param;

typedef enum {
  START_NONE = 0,      /* unbounded */
  START_AT,            /* start at EXPR */
  START_AFTER,         /* start after M */
  START_ON_EVENT,      /* start on E [where P] */
  START_ON_ASSIGNMENT, /* start on assignment */
} ast_start_kind;

typedef struct ast_start {
  ast_start_kind kind;
  msl_loc loc;
  ast_expr *at;            /* START_AT */
  ast_name after;          /* START_AFTER */
  ast_event_ref on;        /* START_ON_EVENT (field unused) */
  /* set by the checker */
  ast_decl *after_decl;    /* START_AFTER: the milestone */
} ast_start;

typedef enum { DEADLINE_NONE = 0, DEADLINE_AFTER, DEADLINE_AT } ast_deadline_kind;

typedef enum { OWNER_NONE = 0, OWNER_CSM, OWNER_CUSTOMER } ast_owner;

typedef struct ast_action {
  ast_name name;
  const char *label;       /* decoded string */
  const char *label_raw;
  ast_owner owner;
  ast_expr *done_when;
  msl_loc loc;
} ast_action;

typedef struct ast_string {
  const char *text;        /* decoded */
  const char *raw;         /* as written, with quotes, for fmt */
  msl_loc loc;
} ast_string;

/* `on WORD emit "S"`: when a milestone (achieved, overdue, lost) or a
 * playbook (complete) signals. */
typedef enum { EMIT_ACHIEVED, EMIT_OVERDUE, EMIT_LOST, EMIT_COMPLETE } ast_emit_on;

typedef struct ast_emit {
  ast_emit_on on;
  ast_string signal;
  msl_loc loc;             /* the whole clause */
} ast_emit;

/* Clause kinds, in the order fmt prints a fresh milestone (source order is
 * kept: see ast_clause). */
typedef enum {
  CL_DESCRIPTION, CL_CSM, CL_CUSTOMER, CL_GROUP, CL_SEGMENTS, CL_MODE,
  CL_START, CL_DEADLINE, CL_ESTIMATE, CL_ENTRY, CL_EXIT, CL_ACTION,
  CL_BLOCKED, CL_EMIT, CL_STEP,
} ast_clause_kind;

/* A clause in source order; points at the data stored in the milestone or
 * playbook struct (so fmt keeps the user's order and comments between). */
typedef struct ast_clause {
  ast_clause_kind kind;
  msl_loc loc;
  void *item;              /* CL_ACTION: ast_action*, CL_EMIT: ast_emit*,
                              CL_STEP: ast_step*, otherwise NULL */
} ast_clause;

typedef enum { MODE_ONCE = 0, MODE_CONTINUOUS } ast_mode;

typedef struct ast_milestone {
  ast_string display;      /* text NULL when absent */
  ast_string description, csm, customer, group;
  ptr_vec segments;        /* ast_name* */
  ast_mode mode;
  bool mode_given;
  ast_start start;
  ast_deadline_kind deadline_kind;
  ast_expr *deadline;      /* duration (AFTER) or time (AT) */
  ast_expr *estimate;      /* duration, NULL when absent */
  ast_expr *entry;
  ast_expr *exit;
  ast_expr *blocked;
  ptr_vec actions;         /* ast_action* */
  ptr_vec emits;           /* ast_emit*, clause order */
  ptr_vec clauses;         /* ast_clause*, source order */
  /* set by the checker */
  ptr_vec segment_decls;   /* ast_decl* (DECL_SEGMENT) */
  int64_t deadline_us;     /* DEADLINE_AFTER: constant duration */
  int64_t estimate_us;     /* -1 when absent */
  int index;               /* among milestones, declaration order */
} ast_milestone;

typedef struct ast_step {
  ast_name name;
  ast_string label;
  ast_name tracks;
  bool is_auto;
  ast_expr *when;          /* NULL when absent */
  msl_loc loc;
  /* set by the checker */
  ast_decl *tracks_decl;   /* the milestone */
} ast_step;

typedef struct ast_playbook {
  ast_string display;
  ptr_vec segments;        /* ast_name* */
  ast_start start;
  ptr_vec steps;           /* ast_step* */
  ptr_vec emits;           /* ast_emit* (on complete emit) */
  ptr_vec clauses;         /* ast_clause*, source order */
  /* set by the checker */
  ptr_vec segment_decls;
  int index;               /* among playbooks, declaration order */
} ast_playbook;

/* ---- test blocks ------------------------------------------------------------ */

typedef struct ast_assign {     /* field = literal */
  ast_name field;
  ast_expr *value;              /* a literal, possibly negated */
  msl_loc loc;
} ast_assign;

typedef struct ast_test_event {
  ast_expr *time;               /* a time literal */
  ast_name event;               /* the event name; for control events "ms.assign" etc. */
  bool control;                 /* written ms.NAME */
  ptr_vec fields;               /* ast_assign* */
  msl_loc loc;
} ast_test_event;

typedef enum {
  EXPECT_STATUS,   /* expect M is STATUS [at TIME] */
  EXPECT_FIELD,    /* expect M.FIELD == VALUE */
  EXPECT_STEP,     /* expect P.step == STEP */
  EXPECT_SIGNAL,   /* expect signal "S" [at TIME] */
} ast_expect_kind;

typedef struct ast_expect {
  ast_expect_kind kind;
  ast_name target;              /* M or P (STATUS, FIELD, STEP) */
  ast_name member;              /* FIELD: started_at ...; STATUS: the status word;
                                   STEP: the step name or `done` */
  ast_expr *value;              /* FIELD: the expected literal */
  ast_string signal;            /* SIGNAL */
  ast_expr *at;                 /* optional time literal */
  msl_loc loc;
} ast_expect;

typedef struct ast_test {
  ast_string name;
  ast_expr *as_of;              /* NULL: latest event time */
  bool has_account;
  ast_name account_id;          /* text NULL: "test"; may be an ident or a string */
  const char *account_id_raw;   /* string form as written, for fmt; NULL if ident */
  ptr_vec account_fields;       /* ast_assign* */
  ptr_vec events;               /* ast_test_event* */
  ptr_vec expects;              /* ast_expect* */
  ptr_vec items;                /* ast_clause-like order: see fmt; holds the
                                   as_of/account/events/expect nodes in source
                                   order as ast_test_item* */
} ast_test;

typedef enum { TI_AS_OF, TI_ACCOUNT, TI_EVENTS, TI_EXPECT } ast_test_item_kind;
typedef struct ast_test_item {
  ast_test_item_kind kind;
  msl_loc loc;
  void *item;                   /* TI_EXPECT: ast_expect*; else NULL */
} ast_test_item;

/* ---- declarations ----------------------------------------------------------- */

typedef enum {
  DECL_IMPORT,
  DECL_ACCOUNT,
  DECL_EVENT,
  DECL_SEGMENT,
  DECL_LET,
  DECL_FN,
  DECL_EXTERN,
  DECL_MILESTONE,
  DECL_PLAYBOOK,
  DECL_TEST,
} ast_decl_kind;

struct ast_decl {
  ast_decl_kind kind;
  ast_name name;           /* text NULL for account, import, test */
  msl_loc loc;             /* the whole declaration */
  struct ast_module *module;
  union {
    struct { ast_string path; struct ast_module *target; /* set by the loader */ } import;
    struct { ptr_vec fields; } account;          /* ast_field* */
    struct { ptr_vec fields; bool has_braces; } event; /* ast_field* */
    struct { ast_expr *expr; } segment;
    struct { ast_expr *expr; } let;
    struct { ptr_vec params; ast_expr *body; } fn;           /* ast_param* */
    struct { ptr_vec params; value_type ret; msl_loc ret_loc;
             ast_string lib; } ext;                          /* ast_param* */
    ast_milestone milestone;
    ast_playbook playbook;
    ast_test test;
  } u;
  /* set by the checker */
  bool used;               /* referenced somewhere (for the unused lint) */
  int index;               /* per-kind declaration index (events, values ...) */
};

/* A comment kept by the lexer for the formatter. */
typedef struct ast_comment {
  const char *text;        /* from '#' to end of line, without the newline */
  msl_loc loc;
  bool trailing;           /* code precedes it on the same line */
} ast_comment;

typedef struct ast_module {
  const msl_source *src;
  ptr_vec decls;           /* ast_decl*, source order */
  ptr_vec comments;        /* ast_comment*, source order */
  /* blank_before[line] would be heavy; fmt asks the source text instead */
} ast_module;

/* ---- construction helpers (ast.c) -------------------------------------------- */

ast_expr *ast_new_expr(arena *a, ast_expr_kind kind, msl_loc loc);
ast_decl *ast_new_decl(arena *a, ast_decl_kind kind, msl_loc loc);
const char *ast_decl_kind_name(ast_decl_kind k);   /* "milestone", "event", ... */

#endif
