/* sema.h — a whole program: the main module and its imports, resolved and
 * type-checked (resolve.c, types.c, lint.c). */
#ifndef MSL_SEMA_H
#define MSL_SEMA_H

#include "front/ast.h"
#include "front/diag.h"

typedef struct msl_program {
  arena *arena;
  ast_module *main;
  ptr_vec modules;         /* ast_module*, each loaded once, imports before importers */
  /* Declarations of all modules by kind, in declaration order (an import's
   * declarations come where its import statement stands). */
  ast_decl *account;       /* NULL when no account block */
  ptr_vec events;          /* DECL_EVENT */
  ptr_vec segments;        /* DECL_SEGMENT */
  ptr_vec lets;            /* DECL_LET */
  ptr_vec fns;             /* DECL_FN */
  ptr_vec externs;         /* DECL_EXTERN */
  ptr_vec milestones;      /* DECL_MILESTONE */
  ptr_vec playbooks;       /* DECL_PLAYBOOK */
  ptr_vec units;           /* milestones and playbooks together, file order */
  ptr_vec tests;           /* DECL_TEST (main module only) */
} msl_program;

typedef struct sema_options {
  const char *stdlib_dir;  /* where `import "std/..."` falls back to; NULL: none */
  bool werror;             /* -Werror: warnings become errors */
  bool lints;              /* run the W-lints (msl check); off for run/build */
} sema_options;

/* Parses path and, recursively, its imports (relative to the importing file,
 * then opts->stdlib_dir; `.ms` may be left off; each loaded once; a cycle is
 * an error).  Returns NULL only when path itself cannot be read (*io_err is
 * errno then); every other problem is a diagnostic. */
msl_program *sema_load(arena *a, const char *path, const sema_options *opts,
                       diag_list *diags, int *io_err);
/* The same for a source already in memory (tests, `-`). */
msl_program *sema_load_source(arena *a, const msl_source *src, const sema_options *opts,
                              diag_list *diags);

/* Name resolution, type checking, fn inlining, constant folding, and (with
 * opts->lints) the lints.  Returns true when there are no errors. */
bool sema_check(msl_program *p, const sema_options *opts, diag_list *diags);

#endif
