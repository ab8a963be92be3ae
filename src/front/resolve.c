/* resolve.c — namespaces and name resolution (SPEC §4 "Names").
 *
 * Three namespaces: events; milestones and playbooks together; values
 * (segments, lets, fns, externs).  Every module of the program shares them,
 * so a clash with an imported name is an error like any other.  A bare name
 * in an expression is looked up in the fields of the event whose `where` it
 * is in, then in the parameters of the fn whose body it is in, then among
 * the values.  Resolution only fills in what names refer to; types.c checks
 * how they are used. */
#include <string.h>

#include "front/codes.h"
#include "core/htable.h"
#include "front/sema_phases.h"

typedef struct resolve_ctx {
  msl_program *p;
  diag_list *d;
  arena *arena;
  htable events, units, values;    /* name -> its first declaration */
  htable account_fields;           /* name -> int*: index of the account's first such field */
  htable field_names;              /* (field list, name) -> int*: the list's first such field */
  ast_decl *where_event;           /* resolving a `where` of this event */
  bool where_unknown;              /* ... of an undeclared event: fields unknowable */
  ast_decl *fn;                    /* resolving this fn's body */
  long hint_budget;                /* for "did you mean" (sema_hint) */
} resolve_ctx;

static ast_decl *find_decl(const htable *namespace, const char *name) {
  return name ? htable_get_str(namespace, name) : NULL;
}

static int find_field(const ptr_vec *fields, const char *name) {
  if (!name) return -1;
  for (int i = 0; i < fields->len; i++) {
    const ast_field *f = fields->items[i];
    if (f->name.text && strcmp(f->name.text, name) == 0) return i;
  }
  return -1;
}

/* An account may have thousands of fields (generated schemas). */
static int find_account_field(const resolve_ctx *c, const char *name) {
  const int *index = name ? htable_get_str(&c->account_fields, name) : NULL;
  return index ? *index : -1;
}

static int find_param(const ptr_vec *params, const char *name) {
  for (int i = 0; i < params->len; i++) {
    const ast_param *prm = params->items[i];
    if (prm->name.text && strcmp(prm->name.text, name) == 0) return i;
  }
  return -1;
}

static const char *where_text(resolve_ctx *c, msl_loc loc) { return sema_loc_text(c->arena, loc); }

/* "; did you mean ...?" among decls, or "". */
static const char *hint_among(resolve_ctx *c, const char *word, const ptr_vec *decls) {
  sema_hint h = sema_hint_start(word, &c->hint_budget);
  sema_hint_decls(&h, decls);
  return sema_hint_text(c->arena, &h);
}

static const char *hint_among_fields(resolve_ctx *c, const char *word, const ptr_vec *fields) {
  sema_hint h = sema_hint_start(word, &c->hint_budget);
  sema_hint_fields(&h, fields);
  return sema_hint_text(c->arena, &h);
}

/* ---- declarations and their namespaces -------------------------------------- */

static htable *namespace_of(resolve_ctx *c, ast_decl_kind k) {
  switch (k) {
    case DECL_EVENT: return &c->events;
    case DECL_MILESTONE:
    case DECL_PLAYBOOK: return &c->units;
    case DECL_SEGMENT:
    case DECL_LET:
    case DECL_FN:
    case DECL_EXTERN: return &c->values;
    default: return NULL;
  }
}

static void declare_all(resolve_ctx *c) {
  ptr_vec all = {0};
  sema_all_decls(c->p, &all);
  for (int i = 0; i < all.len; i++) {
    ast_decl *d = all.items[i];
    if (d->kind == DECL_ACCOUNT && c->p->account && d != c->p->account) {
      diag_error(c->d, d->loc, DIAG_E24, "a program has one account block; the first is at %s",
                 where_text(c, c->p->account->loc));
      continue;
    }
    htable *ns = namespace_of(c, d->kind);
    if (!ns || !d->name.text) continue;
    ast_decl *earlier = find_decl(ns, d->name.text);
    if (earlier) {
      diag_error(c->d, d->name.loc, DIAG_E22, "%s `%s` is already declared: %s `%s` at %s",
                 ast_decl_kind_name(d->kind), d->name.text, ast_decl_kind_name(earlier->kind),
                 earlier->name.text, where_text(c, earlier->name.loc));
      continue;
    }
    htable_put_str(ns, d->name.text, d);
  }
}

/* ---- expressions ---------------------------------------------------------- */

static void resolve_expr(resolve_ctx *c, ast_expr *e);

static void resolve_window(resolve_ctx *c, ast_window *w) {
  if (w->expr && !(w->kind == WIN_SINCE && w->expr->kind == EX_START)) resolve_expr(c, w->expr);
}

static void resolve_where(resolve_ctx *c, ast_decl *event, ast_expr *where) {
  if (!where) return;
  ast_decl *saved_event = c->where_event;
  bool saved_unknown = c->where_unknown;
  c->where_event = event;
  c->where_unknown = event == NULL;
  resolve_expr(c, where);
  c->where_event = saved_event;
  c->where_unknown = saved_unknown;
}

static void resolve_event_ref(resolve_ctx *c, ast_event_ref *r) {
  r->field_index = -1;
  r->event_decl = NULL;
  ast_decl *ev = r->event.text ? find_decl(&c->events, r->event.text) : NULL;
  if (!ev && r->event.text)
    diag_error(c->d, r->event.loc, DIAG_E28, "unknown event `%s`%s", r->event.text,
               hint_among(c, r->event.text, &c->p->events));
  if (ev) {
    ev->used = true;
    r->event_decl = ev;
    if (r->field.text) {
      r->field_index = find_field(&ev->u.event.fields, r->field.text);
      if (r->field_index < 0)
        diag_error(c->d, r->field.loc, DIAG_E31, "event `%s` has no field `%s`%s", ev->name.text,
                   r->field.text, hint_among_fields(c, r->field.text, &ev->u.event.fields));
    }
  }
  resolve_where(c, ev, r->where);
}

/* A bare name's suggestion, from what is in scope in the order names
 * resolve (the event's fields, the fn's parameters, the values a bare name
 * can be), else from the account's fields, written `account.NAME`. */
static const char *hint_for_name(resolve_ctx *c, const char *name) {
  sema_hint h = sema_hint_start(name, &c->hint_budget);
  if (c->where_event) sema_hint_fields(&h, &c->where_event->u.event.fields);
  for (int i = 0; c->fn && i < c->fn->u.fn.params.len; i++)
    sema_hint_offer(&h, ((const ast_param *)c->fn->u.fn.params.items[i])->name.text);
  sema_hint_decls(&h, &c->p->segments);
  sema_hint_decls(&h, &c->p->lets);
  if (h.s.best || !c->p->account) return sema_hint_text(c->arena, &h);
  sema_hint_fields(&h, &c->p->account->u.account.fields);
  return h.s.best ? arena_printf(c->arena, "; did you mean `account.%s`?", h.s.best) : "";
}

static void resolve_name(resolve_ctx *c, ast_expr *e) {
  const char *name = e->u.name.text;
  e->binding = BIND_NONE;
  if (!name) return;
  if (c->where_event) {
    int i = find_field(&c->where_event->u.event.fields, name);
    if (i >= 0) {
      e->binding = BIND_EVENT_FIELD;
      e->decl = c->where_event;
      e->index = i;
      return;
    }
  }
  if (c->fn) {
    int i = find_param(&c->fn->u.fn.params, name);
    if (i >= 0) {
      e->binding = BIND_PARAM;
      e->decl = c->fn;
      e->index = i;
      return;
    }
  }
  ast_decl *v = find_decl(&c->values, name);
  if (v && (v->kind == DECL_LET || v->kind == DECL_SEGMENT)) {
    v->used = true;
    e->binding = v->kind == DECL_LET ? BIND_LET : BIND_SEGMENT;
    e->decl = v;
    e->index = v->index;
    return;
  }
  if (v) {
    v->used = true;
    diag_error(c->d, e->loc, DIAG_E33, "`%s` is a function: call it, as in `%s(...)`", name, name);
    return;
  }
  /* Inside the `where` of an undeclared event, the name may be one of its fields. */
  if (c->where_unknown) return;
  if (find_account_field(c, name) >= 0)
    diag_error(c->d, e->loc, DIAG_E27, "unknown name `%s` (the account field is `account.%s`)", name,
               name);
  else if (c->where_event)
    diag_error(c->d, e->loc, DIAG_E27, "unknown name `%s`: event `%s` has no such field%s", name,
               c->where_event->name.text, hint_for_name(c, name));
  else
    diag_error(c->d, e->loc, DIAG_E27, "unknown name `%s`%s", name, hint_for_name(c, name));
}

static void resolve_account_field(resolve_ctx *c, ast_expr *e) {
  const char *name = e->u.name.text;
  e->index = -1;
  if (!name || strcmp(name, "id") == 0) return;
  int i = find_account_field(c, name);
  if (i >= 0) {
    e->index = i;
    return;
  }
  sema_hint h = sema_hint_start(name, &c->hint_budget);
  sema_hint_offer(&h, "id");
  if (c->p->account) sema_hint_fields(&h, &c->p->account->u.account.fields);
  diag_error(c->d, e->u.name.loc, DIAG_E31, "the account has no field `%s`%s%s", name,
             c->p->account ? "" : " (the program has no account block)",
             sema_hint_text(c->arena, &h));
}

static ast_decl *resolve_milestone_name(resolve_ctx *c, const ast_name *n, const char *what) {
  if (!n->text) return NULL;
  ast_decl *u = find_decl(&c->units, n->text);
  if (!u) {
    diag_error(c->d, n->loc, DIAG_E29, "unknown milestone `%s`%s", n->text,
               hint_among(c, n->text, &c->p->milestones));
    return NULL;
  }
  if (u->kind != DECL_MILESTONE) {
    diag_error(c->d, n->loc, DIAG_E33, "`%s` is a playbook; %s needs a milestone", n->text, what);
    return NULL;
  }
  return u;
}

/* The names written like calls that the grammar knows: their arguments
 * are events and milestones, not values. */
static const char *const builtin_calls[] = {"count", "sum", "min", "max", "avg", "distinct",
                                            "sequence", "completed", "achieving"};

/* Reports a call of an unknown function; true when the closest name is a
 * built-in, whose arguments name events or milestones, so that resolving
 * them as values would only add noise. */
static bool report_unknown_function(resolve_ctx *c, const ast_name *n) {
  sema_hint h = sema_hint_start(n->text, &c->hint_budget);
  sema_hint_decls(&h, &c->p->fns);
  sema_hint_decls(&h, &c->p->externs);
  const char *declared_best = h.s.best;
  for (size_t i = 0; i < sizeof builtin_calls / sizeof *builtin_calls; i++)
    sema_hint_offer(&h, builtin_calls[i]);
  diag_error(c->d, n->loc, DIAG_E32, "unknown function `%s`%s", n->text,
             sema_hint_text(c->arena, &h));
  return h.s.best != declared_best;  /* a built-in is closer than any declared function */
}

static void resolve_call(resolve_ctx *c, ast_expr *e) {
  const char *name = e->u.call.name.text;
  if (name) {
    ast_decl *v = find_decl(&c->values, name);
    if (!v) {
      if (report_unknown_function(c, &e->u.call.name)) return;
    } else if (v->kind != DECL_FN && v->kind != DECL_EXTERN) {
      diag_error(c->d, e->u.call.name.loc, DIAG_E33, "`%s` is a %s, not a function", name,
                 ast_decl_kind_name(v->kind));
    } else {
      v->used = true;
      e->decl = v;
    }
  }
  for (int i = 0; i < e->u.call.args.len; i++) resolve_expr(c, e->u.call.args.items[i]);
}

static void resolve_expr(resolve_ctx *c, ast_expr *e) {
  if (!e) return;
  switch (e->kind) {
    case EX_LITERAL:
    case EX_START: break;
    case EX_NAME: resolve_name(c, e); break;
    case EX_ACCOUNT_FIELD: resolve_account_field(c, e); break;
    case EX_UNARY: resolve_expr(c, e->u.op.lhs); break;
    case EX_BINARY:
      resolve_expr(c, e->u.op.lhs);
      resolve_expr(c, e->u.op.rhs);
      break;
    case EX_IN:
      resolve_expr(c, e->u.in.lhs);
      for (int i = 0; i < e->u.in.items.len; i++) resolve_expr(c, e->u.in.items.items[i]);
      break;
    case EX_CALL: resolve_call(c, e); break;
    case EX_AGGREGATE:
      resolve_event_ref(c, &e->u.agg.ref);
      resolve_window(c, &e->u.agg.window);
      break;
    case EX_SEQUENCE:
      for (int i = 0; i < e->u.seq.steps.len; i++) resolve_event_ref(c, e->u.seq.steps.items[i]);
      resolve_window(c, &e->u.seq.window);
      break;
    case EX_COMPLETED:
    case EX_ACHIEVING:
      e->decl = resolve_milestone_name(c, &e->u.name,
                                       e->kind == EX_COMPLETED ? "`completed()`" : "`achieving()`");
      break;
  }
}

/* ---- declarations --------------------------------------------------------- */

/* Records field i of fields; returns the index of the list's first field
 * with its name (i itself when it is the first).  One table serves every
 * field list, keyed by the list and the name. */
static int first_field_named(resolve_ctx *c, const ptr_vec *fields, int i) {
  const char *name = ((const ast_field *)fields->items[i])->name.text;
  size_t n = strlen(name), len = sizeof fields + n;
  char small[128];
  char *key = len <= sizeof small ? small : arena_alloc(c->arena, len);
  memcpy(key, &fields, sizeof fields);
  memcpy(key + sizeof fields, name, n);
  const int *first = htable_get(&c->field_names, key, len);
  if (first) return *first;
  int *index = arena_alloc(c->arena, sizeof *index);
  *index = i;
  htable_put(&c->field_names, key, len, index);
  return i;
}

static void resolve_fields(resolve_ctx *c, ptr_vec *fields, const char *owner, bool is_account) {
  static const char *const event_columns[] = {"account", "time", "event"};
  for (int i = 0; i < fields->len; i++) {
    ast_field *f = fields->items[i];
    if (!f->name.text) continue;
    if (is_account && strcmp(f->name.text, "id") == 0)
      diag_error(c->d, f->name.loc, DIAG_E26,
                 "`account.id` always exists (the account's id, a string) and cannot be declared");
    for (size_t k = 0; !is_account && k < sizeof event_columns / sizeof *event_columns; k++)
      if (strcmp(f->name.text, event_columns[k]) == 0)
        diag_error(c->d, f->name.loc, DIAG_E26,
                   "an event field cannot be named `%s`: the input's `%s` column holds the "
                   "event's %s",
                   f->name.text, f->name.text, k == 0 ? "account id" : k == 1 ? "time" : "type");
    int first = first_field_named(c, fields, i);
    if (first != i) {
      ast_field *g = fields->items[first];
      diag_error(c->d, f->name.loc, DIAG_E25, "field `%s` is declared twice in %s (first at %s)",
                 f->name.text, owner, where_text(c, g->name.loc));
    }
    resolve_expr(c, f->default_value);
  }
}

static void resolve_params(resolve_ctx *c, ptr_vec *params, const char *fn_name) {
  for (int i = 0; i < params->len; i++) {
    ast_param *prm = params->items[i];
    if (!prm->name.text) continue;
    for (int j = 0; j < i; j++) {
      ast_param *q = params->items[j];
      if (q->name.text && strcmp(q->name.text, prm->name.text) == 0) {
        diag_error(c->d, prm->name.loc, DIAG_E25, "parameter `%s` of `%s` is declared twice",
                   prm->name.text, fn_name ? fn_name : "?");
        break;
      }
    }
  }
}

static void resolve_segment_list(resolve_ctx *c, ptr_vec *names, ptr_vec *decls) {
  for (int i = 0; i < names->len; i++) {
    ast_name *n = names->items[i];
    if (!n->text) continue;
    ast_decl *v = find_decl(&c->values, n->text);
    if (!v) {
      diag_error(c->d, n->loc, DIAG_E30, "unknown segment `%s`%s", n->text,
                 hint_among(c, n->text, &c->p->segments));
    } else if (v->kind != DECL_SEGMENT) {
      diag_error(c->d, n->loc, DIAG_E33, "`%s` is a %s, not a segment", n->text,
                 ast_decl_kind_name(v->kind));
    } else {
      v->used = true;
      ptr_vec_push(c->arena, decls, v);
    }
  }
}

static void resolve_start(resolve_ctx *c, ast_start *s) {
  switch (s->kind) {
    case START_NONE:
    case START_ON_ASSIGNMENT: break;
    case START_AT: resolve_expr(c, s->at); break;
    case START_AFTER: s->after_decl = resolve_milestone_name(c, &s->after, "`start after`"); break;
    case START_ON_EVENT: resolve_event_ref(c, &s->on); break;
  }
}

static void resolve_milestone(resolve_ctx *c, ast_decl *d) {
  ast_milestone *m = &d->u.milestone;
  const char *owner = arena_printf(c->arena, "milestone `%s`", d->name.text ? d->name.text : "?");
  resolve_segment_list(c, &m->segments, &m->segment_decls);
  resolve_start(c, &m->start);
  resolve_expr(c, m->deadline);
  resolve_expr(c, m->estimate);
  resolve_expr(c, m->entry);
  resolve_expr(c, m->exit);
  resolve_expr(c, m->blocked);
  for (int i = 0; i < m->actions.len; i++) {
    ast_action *act = m->actions.items[i];
    for (int j = 0; j < i && act->name.text; j++) {
      ast_action *other = m->actions.items[j];
      if (other->name.text && strcmp(other->name.text, act->name.text) == 0) {
        diag_error(c->d, act->name.loc, DIAG_E53, "action `%s` is declared twice in %s (first at %s)",
                   act->name.text, owner, where_text(c, other->name.loc));
        break;
      }
    }
    resolve_expr(c, act->done_when);
  }
}

static void resolve_playbook(resolve_ctx *c, ast_decl *d) {
  ast_playbook *pb = &d->u.playbook;
  const char *owner = arena_printf(c->arena, "playbook `%s`", d->name.text ? d->name.text : "?");
  resolve_segment_list(c, &pb->segments, &pb->segment_decls);
  resolve_start(c, &pb->start);
  for (int i = 0; i < pb->steps.len; i++) {
    ast_step *st = pb->steps.items[i];
    if (st->name.text && strcmp(st->name.text, "done") == 0)
      diag_error(c->d, st->name.loc, DIAG_E53,
                 "a step cannot be named `done`: `done` is the state after the last step");
    for (int j = 0; j < i && st->name.text; j++) {
      ast_step *other = pb->steps.items[j];
      if (other->name.text && strcmp(other->name.text, st->name.text) == 0) {
        diag_error(c->d, st->name.loc, DIAG_E53, "step `%s` is declared twice in %s (first at %s)",
                   st->name.text, owner, where_text(c, other->name.loc));
        break;
      }
    }
    st->tracks_decl = resolve_milestone_name(c, &st->tracks, "a step's `tracks`");
    resolve_expr(c, st->when);
  }
}

static void resolve_display_names(resolve_ctx *c) {
  htable first_use;   /* display name -> the first milestone with it */
  htable_init(&first_use, c->arena);
  for (int i = 0; i < c->p->milestones.len; i++) {
    ast_decl *d = c->p->milestones.items[i];
    const ast_string *s = &d->u.milestone.display;
    if (!s->text) continue;
    ast_decl *other = htable_put_str(&first_use, s->text, d);
    if (other != d)
      diag_error(c->d, s->loc, DIAG_E23, "display name \"%s\" is already used by milestone `%s` at %s",
                 s->text, other->name.text ? other->name.text : "?",
                 where_text(c, other->u.milestone.display.loc));
  }
}

void resolve_program(msl_program *p, diag_list *d) {
  resolve_ctx c = {.p = p, .d = d, .arena = p->arena, .hint_budget = SEMA_HINT_BUDGET};
  htable_init(&c.events, p->arena);
  htable_init(&c.units, p->arena);
  htable_init(&c.values, p->arena);
  htable_init(&c.account_fields, p->arena);
  htable_init(&c.field_names, p->arena);
  for (int i = 0; p->account && i < p->account->u.account.fields.len; i++) {
    const ast_field *f = p->account->u.account.fields.items[i];
    int *index = arena_alloc(p->arena, sizeof *index);
    *index = i;
    if (f->name.text) htable_put_str(&c.account_fields, f->name.text, index);
  }
  declare_all(&c);
  ptr_vec all = {0};
  sema_all_decls(p, &all);
  for (int i = 0; i < all.len; i++) {
    ast_decl *decl = all.items[i];
    switch (decl->kind) {
      case DECL_IMPORT:
      case DECL_TEST: break;  /* tests are checked with their values in tests_check.c */
      case DECL_ACCOUNT: resolve_fields(&c, &decl->u.account.fields, "the account", true); break;
      case DECL_EVENT: {
        const char *owner = arena_printf(p->arena, "event `%s`", decl->name.text ? decl->name.text : "?");
        resolve_fields(&c, &decl->u.event.fields, owner, false);
        break;
      }
      case DECL_SEGMENT: resolve_expr(&c, decl->u.segment.expr); break;
      case DECL_LET: resolve_expr(&c, decl->u.let.expr); break;
      case DECL_FN:
        resolve_params(&c, &decl->u.fn.params, decl->name.text);
        c.fn = decl;
        resolve_expr(&c, decl->u.fn.body);
        c.fn = NULL;
        break;
      case DECL_EXTERN: resolve_params(&c, &decl->u.ext.params, decl->name.text); break;
      case DECL_MILESTONE: resolve_milestone(&c, decl); break;
      case DECL_PLAYBOOK: resolve_playbook(&c, decl); break;
    }
  }
  resolve_display_names(&c);
}
