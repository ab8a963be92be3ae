/* sema.c — loading a program (the main module and its imports) and running
 * the checker's phases; see sema.h.
 *
 * A module is keyed by the real path of its file, so two spellings of one
 * import load it once.  The modules being loaded form a stack; an import of
 * a module on that stack is a cycle. */
#include "front/sema.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "front/codes.h"
#include "front/parse.h"
#include "front/sema_phases.h"

typedef struct loaded_module {
  char *key;              /* real path; NULL for a source that is not a file */
  ast_module *module;
  bool loading;           /* on the import stack */
} loaded_module;

typedef struct loader {
  arena *arena;
  const sema_options *opts;
  diag_list *diags;
  msl_program *program;
  ptr_vec loaded;         /* loaded_module* */
  ptr_vec stack;          /* loaded_module*, the importer chain, outermost first */
  long hint_budget;       /* for "did you mean" (sema_hint) */
} loader;

const char *sema_loc_text(arena *a, msl_loc loc) {
  if (!loc.src) return "<command line>";
  return arena_printf(a, "%s:%d:%d", loc.src->path, loc.line, loc.col);
}

/* The real path of path when it names a regular file, else NULL. */
static char *regular_file_key(arena *a, const char *path) {
  char *real = util_xrealpath(path);
  if (!real) return NULL;
  struct stat st;
  char *key = NULL;
  if (stat(real, &st) == 0 && S_ISREG(st.st_mode)) key = arena_strdup(a, real);
  free(real);
  return key;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* The directory part of path with a trailing '/', or "" when it has none. */
static const char *dir_prefix(arena *a, const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? arena_strndup(a, path, (size_t)(slash - path) + 1) : "";
}

static loaded_module *find_loaded(loader *ld, const char *key) {
  for (int i = 0; i < ld->loaded.len; i++) {
    loaded_module *lm = ld->loaded.items[i];
    if (lm->key && strcmp(lm->key, key) == 0) return lm;
  }
  return NULL;
}

static void load_imports(loader *ld, loaded_module *lm);

static loaded_module *add_module(loader *ld, const msl_source *src, char *key) {
  ast_module *m = parse_module(ld->arena, src, ld->diags);
  for (int i = 0; i < m->decls.len; i++) ((ast_decl *)m->decls.items[i])->module = m;
  loaded_module *lm = arena_alloc(ld->arena, sizeof *lm);
  lm->key = key;
  lm->module = m;
  ptr_vec_push(ld->arena, &ld->loaded, lm);
  lm->loading = true;
  ptr_vec_push(ld->arena, &ld->stack, lm);
  load_imports(ld, lm);
  ld->stack.len--;
  lm->loading = false;
  ptr_vec_push(ld->arena, &ld->program->modules, m);
  return lm;
}

static void report_cycle(loader *ld, ast_decl *imp, loaded_module *target) {
  const char *chain = "";
  bool in_cycle = false;
  for (int i = 0; i < ld->stack.len; i++) {
    loaded_module *lm = ld->stack.items[i];
    if (lm == target) in_cycle = true;
    if (in_cycle) chain = arena_printf(ld->arena, "%s%s -> ", chain, lm->module->src->path);
  }
  diag_error(ld->diags, imp->u.import.path.loc, DIAG_E21, "import cycle: %s%s", chain,
             target->module->src->path);
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Offers the modules of directory dir (its `.ms` files, without `.ms`), in
 * name order so that the first among equally close ones does not depend on
 * the file system.  A directory that cannot be read offers nothing: the
 * hint is a courtesy, the error stands without it. */
static void offer_modules(loader *ld, sema_hint *h, const char *dir) {
  if (*h->budget <= 0) return;
  DIR *d = opendir(*dir ? dir : ".");
  if (!d) return;
  ptr_vec names = {0};
  const struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.' && ends_with(e->d_name, ".ms"))
      ptr_vec_push(ld->arena, &names, arena_strndup(ld->arena, e->d_name, strlen(e->d_name) - 3));
  closedir(d);
  if (names.len > 0) qsort(names.items, (size_t)names.len, sizeof *names.items, compare_names);
  for (int i = 0; i < names.len; i++) sema_hint_offer(h, names.items[i]);
}

/* "; did you mean `std/text`?" for an import `std/txt` that names no file:
 * the closest module in the directories it was looked for in, spelled as
 * the import spells it; "" when none is close. */
static const char *import_hint(loader *ld, const char *text, const char *const *paths, int n) {
  const char *slash = strrchr(text, '/');
  const char *dir_part = slash ? arena_strndup(ld->arena, text, (size_t)(slash - text) + 1) : "";
  const char *base = slash ? slash + 1 : text;
  bool with_ext = ends_with(base, ".ms");
  sema_hint h = sema_hint_start(with_ext ? arena_strndup(ld->arena, base, strlen(base) - 3) : base,
                                &ld->hint_budget);
  for (int i = 0; i < n; i++) offer_modules(ld, &h, dir_prefix(ld->arena, paths[i]));
  return h.s.best ? arena_printf(ld->arena, "; did you mean `%s%s%s`?", dir_part, h.s.best,
                                 with_ext ? ".ms" : "")
                  : "";
}

static void load_import(loader *ld, const msl_source *importer, ast_decl *imp) {
  const char *text = imp->u.import.path.text;
  if (!text) return;
  arena *a = ld->arena;
  const char *name = ends_with(text, ".ms") ? text : arena_printf(a, "%s.ms", text);
  const char *candidates[2];
  int n = 0;
  if (name[0] == '/') {
    candidates[n++] = name;
  } else {
    candidates[n++] = arena_printf(a, "%s%s", dir_prefix(a, importer->path), name);
    if (ld->opts && ld->opts->stdlib_dir)
      candidates[n++] = arena_printf(a, "%s/%s", ld->opts->stdlib_dir, name);
  }
  for (int i = 0; i < n; i++) {
    char *key = regular_file_key(a, candidates[i]);
    if (!key) continue;
    loaded_module *lm = find_loaded(ld, key);
    if (lm && lm->loading) {
      report_cycle(ld, imp, lm);
      return;
    }
    if (!lm) {
      int err = 0;
      msl_source *src = source_load(a, candidates[i], &err);
      if (!src) {
        diag_error(ld->diags, imp->u.import.path.loc, DIAG_E20, "cannot read module `%s` (%s): %s",
                   text, candidates[i], strerror(err));
        return;
      }
      lm = add_module(ld, src, key);
    }
    imp->u.import.target = lm->module;
    return;
  }
  const char *hint = import_hint(ld, text, candidates, n);
  if (n == 2)
    diag_error(ld->diags, imp->u.import.path.loc, DIAG_E20,
               "cannot find module `%s`: neither %s nor %s exists%s", text, candidates[0],
               candidates[1], hint);
  else
    diag_error(ld->diags, imp->u.import.path.loc, DIAG_E20,
               "cannot find module `%s`: %s does not exist%s", text, candidates[0], hint);
}

static void load_imports(loader *ld, loaded_module *lm) {
  ast_module *m = lm->module;
  for (int i = 0; i < m->decls.len; i++) {
    ast_decl *d = m->decls.items[i];
    if (d->kind == DECL_IMPORT) load_import(ld, m->src, d);
  }
}

static void collect_decls(ast_module *m, ptr_vec *seen, arena *a, ptr_vec *out) {
  for (int i = 0; i < seen->len; i++)
    if (seen->items[i] == m) return;
  ptr_vec_push(a, seen, m);
  for (int i = 0; i < m->decls.len; i++) {
    ast_decl *d = m->decls.items[i];
    ptr_vec_push(a, out, d);
    if (d->kind == DECL_IMPORT && d->u.import.target)
      collect_decls(d->u.import.target, seen, a, out);
  }
}

void sema_all_decls(const msl_program *p, ptr_vec *out) {
  ptr_vec seen = {0};
  collect_decls(p->main, &seen, p->arena, out);
}

static void push_indexed(arena *a, ptr_vec *v, ast_decl *d) {
  d->index = v->len;
  ptr_vec_push(a, v, d);
}

/* Fills the per-kind vectors in declaration order. */
static void index_program(msl_program *p) {
  ptr_vec all = {0};
  sema_all_decls(p, &all);
  arena *a = p->arena;
  for (int i = 0; i < all.len; i++) {
    ast_decl *d = all.items[i];
    switch (d->kind) {
      case DECL_IMPORT: break;
      case DECL_ACCOUNT:
        if (!p->account) p->account = d;
        break;
      case DECL_EVENT: push_indexed(a, &p->events, d); break;
      case DECL_SEGMENT: push_indexed(a, &p->segments, d); break;
      case DECL_LET: push_indexed(a, &p->lets, d); break;
      case DECL_FN: push_indexed(a, &p->fns, d); break;
      case DECL_EXTERN: push_indexed(a, &p->externs, d); break;
      case DECL_MILESTONE:
        push_indexed(a, &p->milestones, d);
        d->u.milestone.index = d->index;
        ptr_vec_push(a, &p->units, d);
        break;
      case DECL_PLAYBOOK:
        push_indexed(a, &p->playbooks, d);
        d->u.playbook.index = d->index;
        ptr_vec_push(a, &p->units, d);
        break;
      case DECL_TEST:
        if (d->module == p->main) push_indexed(a, &p->tests, d);
        break;
    }
  }
}

static msl_program *load_program(arena *a, const msl_source *src, char *key,
                                 const sema_options *opts, diag_list *diags) {
  msl_program *p = arena_alloc(a, sizeof *p);
  p->arena = a;
  loader ld = {.arena = a, .opts = opts, .diags = diags, .program = p, .hint_budget = SEMA_HINT_BUDGET};
  p->main = add_module(&ld, src, key)->module;
  index_program(p);
  return p;
}

msl_program *sema_load(arena *a, const char *path, const sema_options *opts, diag_list *diags,
                       int *io_err) {
  int err = 0;
  msl_source *src = source_load(a, path, &err);
  if (!src) {
    if (io_err) *io_err = err;
    return NULL;
  }
  return load_program(a, src, regular_file_key(a, path), opts, diags);
}

msl_program *sema_load_source(arena *a, const msl_source *src, const sema_options *opts,
                              diag_list *diags) {
  return load_program(a, src, regular_file_key(a, src->path), opts, diags);
}

bool sema_check(msl_program *p, const sema_options *opts, diag_list *diags) {
  resolve_program(p, diags);
  ty_program(p, diags);
  sema_externs(p, opts ? opts->stdlib_dir : NULL, diags);
  /* Lints reason about a well-typed program; on a broken one they only add noise. */
  if (opts && opts->lints && diags->errors == 0) sema_lint(p, diags);
  return diags->errors == 0;
}
