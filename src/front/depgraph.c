/* depgraph.c — dependency graphs of the checker (prefix depgraph_): the
 * order lets, segments and fns are checked in, milestone dependency
 * cycles (`start after`, completed(), achieving()), and the "a -> b -> a"
 * text of a cycle.  See sema_phases.h. */
#include <string.h>

#include "front/codes.h"
#include "front/sema_phases.h"

/* "b -> c -> b": the names on path from the first d, then d's name; built
 * in one piece, since a cycle can be many thousand declarations long. */
static const char *decl_name(const ast_decl *d) { return d->name.text ? d->name.text : "?"; }

const char *depgraph_cycle_chain(arena *a, const ptr_vec *path, const ast_decl *d) {
  int from = 0;
  while (from < path->len && path->items[from] != d) from++;
  size_t len = strlen(decl_name(d)) + 1;
  for (int i = from; i < path->len; i++) len += strlen(decl_name(path->items[i])) + 4;
  char *chain = arena_alloc(a, len), *at = chain;
  for (int i = from; i < path->len; i++) {
    const char *name = decl_name(path->items[i]);
    size_t n = strlen(name);
    memcpy(at, name, n);
    memcpy(at + n, " -> ", 4);
    at += n + 4;
  }
  strcpy(at, decl_name(d));
  return chain;
}

/* Adds to a decl_deps the let, segment or fn a node uses directly. */
typedef struct decl_deps {
  arena *arena;
  ptr_vec decls;   /* ast_decl*, in the order the body uses them */
} decl_deps;

static bool collect_decl_use(const ast_expr *e, void *data) {
  decl_deps *deps = data;
  if (e->kind == EX_NAME && (e->binding == BIND_LET || e->binding == BIND_SEGMENT) && e->decl)
    ptr_vec_push(deps->arena, &deps->decls, e->decl);
  else if (e->kind == EX_CALL && e->decl && e->decl->kind == DECL_FN)
    ptr_vec_push(deps->arena, &deps->decls, e->decl);
  return false;
}

static ast_expr *decl_body(ast_decl *d) {
  switch (d->kind) {
    case DECL_LET: return d->u.let.expr;
    case DECL_SEGMENT: return d->u.segment.expr;
    default: return d->u.fn.body;
  }
}

/* A declaration on the explicit stack of the search below. */
typedef struct order_frame {
  ast_decl *decl;
  ptr_vec deps;
  int next;        /* the next of deps to visit */
  bool tainted;    /* it, or something it uses, is in a cycle */
} order_frame;

enum { ORDER_NEW = 0, ORDER_OPEN, ORDER_DONE, ORDER_TAINTED };

/* marks: per let, per segment and per fn, indexed by the declaration's index. */
static unsigned char *order_mark(unsigned char *marks[3], const ast_decl *d) {
  return &marks[d->kind == DECL_LET ? 0 : d->kind == DECL_SEGMENT ? 1 : 2][d->index];
}

/* Visits every let, segment and fn after the ones it uses, found by a
 * depth-first search with an explicit stack: a chain of N lets then costs
 * no stack.  What is in a cycle, or leads into one, is not visited: it is
 * left to the declaration-order checks in ty_program, which report the
 * cycle as a use of a declaration being checked. */
void depgraph_order(msl_program *p, arena *a, void (*visit)(void *ctx, ast_decl *d), void *ctx) {
  unsigned char *marks[3] = {arena_alloc(a, (size_t)p->lets.len + 1),
                             arena_alloc(a, (size_t)p->segments.len + 1),
                             arena_alloc(a, (size_t)p->fns.len + 1)};
  const ptr_vec *roots[3] = {&p->lets, &p->segments, &p->fns};
  int total = p->lets.len + p->segments.len + p->fns.len;
  order_frame *stack = arena_alloc(a, sizeof *stack * (size_t)(total + 1));
  for (int k = 0; k < 3; k++)
    for (int r = 0; r < roots[k]->len; r++) {
      ast_decl *root = roots[k]->items[r];
      if (*order_mark(marks, root) != ORDER_NEW) continue;
      int depth = 0;
      *order_mark(marks, root) = ORDER_OPEN;
      stack[depth++] = (order_frame){.decl = root};
      decl_deps deps = {.arena = a};
      ty_any_node(decl_body(root), collect_decl_use, &deps);
      stack[0].deps = deps.decls;
      while (depth > 0) {
        order_frame *top = &stack[depth - 1];
        if (top->next < top->deps.len) {
          ast_decl *dep = top->deps.items[top->next++];
          unsigned char *mark = order_mark(marks, dep);
          if (*mark == ORDER_OPEN || *mark == ORDER_TAINTED) top->tainted = true;
          if (*mark != ORDER_NEW) continue;
          *mark = ORDER_OPEN;
          decl_deps more = {.arena = a};
          ty_any_node(decl_body(dep), collect_decl_use, &more);
          stack[depth++] = (order_frame){.decl = dep, .deps = more.decls};
          continue;
        }
        ast_decl *done = top->decl;
        bool tainted = top->tainted;
        depth--;
        *order_mark(marks, done) = tainted ? ORDER_TAINTED : ORDER_DONE;
        if (tainted && depth > 0) stack[depth - 1].tainted = true;
        if (!tainted) visit(ctx, done);
      }
    }
}

/* ---- milestone dependencies ---------------------------------------------------- */

typedef struct dep_edge {
  ast_decl *target;
  msl_loc loc;
} dep_edge;

typedef struct dep_graph {
  arena *arena;
  ptr_vec *edges;          /* per milestone: dep_edge* */
  int from;                /* the milestone whose edges are being collected */
} dep_graph;

static bool collect_dependency(const ast_expr *e, void *data) {
  dep_graph *g = data;
  if ((e->kind == EX_COMPLETED || e->kind == EX_ACHIEVING) && e->decl) {
    dep_edge *edge = arena_alloc(g->arena, sizeof *edge);
    edge->target = e->decl;
    edge->loc = e->loc;
    ptr_vec_push(g->arena, &g->edges[g->from], edge);
  }
  return false;
}

typedef struct dep_search {
  arena *arena;
  diag_list *d;
  dep_graph *graph;
  unsigned char *color;    /* 0 unvisited, 1 on the path, 2 done */
  ptr_vec path;            /* ast_decl*: the path from the root, an explicit stack */
  int *next_edge;          /* per milestone on the path: the next edge to follow */
} dep_search;

static void report_milestone_cycle(dep_search *s, const dep_edge *edge) {
  diag_error(s->d, edge->loc, DIAG_E51, "milestones depend on each other in a cycle: %s",
             depgraph_cycle_chain(s->arena, &s->path, edge->target));
}

/* A depth-first search from root with an explicit stack (s->path): a chain
 * of many thousand `start after` milestones costs no C stack. */
static void visit_milestone(dep_search *s, ast_decl *root) {
  s->color[root->index] = 1;
  s->next_edge[root->index] = 0;
  ptr_vec_push(s->arena, &s->path, root);
  while (s->path.len > 0) {
    ast_decl *m = s->path.items[s->path.len - 1];
    ptr_vec *edges = &s->graph->edges[m->index];
    if (s->next_edge[m->index] == edges->len) {
      s->path.len--;
      s->color[m->index] = 2;
      continue;
    }
    dep_edge *edge = edges->items[s->next_edge[m->index]++];
    ast_decl *t = edge->target;
    if (s->color[t->index] == 1) {
      report_milestone_cycle(s, edge);
    } else if (s->color[t->index] == 0) {
      s->color[t->index] = 1;
      s->next_edge[t->index] = 0;
      ptr_vec_push(s->arena, &s->path, t);
    }
  }
}

/* `start after`, completed() and achieving() must not lead back to where they start. */
void depgraph_milestone_cycles(msl_program *p, arena *a, diag_list *d) {
  int n = p->milestones.len;
  if (n == 0) return;
  dep_graph g = {.arena = a, .edges = arena_alloc(a, sizeof(ptr_vec) * (size_t)n)};
  for (int i = 0; i < n; i++) {
    ast_decl *d = p->milestones.items[i];
    ast_milestone *m = &d->u.milestone;
    g.from = i;
    if (m->start.kind == START_AFTER && m->start.after_decl) {
      dep_edge *edge = arena_alloc(a, sizeof *edge);
      edge->target = m->start.after_decl;
      edge->loc = m->start.after.loc;
      ptr_vec_push(a, &g.edges[i], edge);
    }
    ty_any_node(m->entry, collect_dependency, &g);
    ty_any_node(m->exit, collect_dependency, &g);
    ty_any_node(m->blocked, collect_dependency, &g);
    for (int k = 0; k < m->actions.len; k++)
      ty_any_node(((ast_action *)m->actions.items[k])->done_when, collect_dependency, &g);
  }
  dep_search s = {.arena = a, .d = d, .graph = &g, .color = arena_alloc(a, (size_t)n),
                  .next_edge = arena_alloc(a, sizeof(int) * (size_t)n)};
  for (int i = 0; i < n; i++)
    if (s.color[i] == 0) visit_milestone(&s, p->milestones.items[i]);
}

