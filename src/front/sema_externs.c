/* sema_externs.c — what `msl check` can tell about extern fn declarations
 * without loading anything (SPEC 4): the parameter count the VM supports,
 * and, for a library that resolves into the stdlib's native/ directory,
 * that the table it publishes (its manifest) lists the declaration exactly.
 * A mismatch is a rule error whether or not the function is called and
 * whatever --allow-ffi says: such a call would crash or reach a function
 * the stdlib does not offer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/codes.h"
#include "core/native_trust.h"
#include "core/util.h"
#include "front/sema_phases.h"

/* The real directory of the file a declaration is in (malloc'd), as
 * compile.c records it for the runtime. */
static char *decl_dir(const ast_decl *d) {
  return util_real_dir(d->module != NULL && d->module->src != NULL ? d->module->src->path : ".");
}

static void check_extern(const ast_decl *d, const char *native_dir, diag_list *diags) {
  const ptr_vec *params = &d->u.ext.params;
  if (params->len > MSL_EXTERN_MAX_PARAMS) {
    const ast_param *extra = params->items[MSL_EXTERN_MAX_PARAMS];
    diag_error(diags, extra->loc, DIAG_E62,
               "`extern fn %s` has %d parameters; at most %d are supported", d->name.text,
               params->len, MSL_EXTERN_MAX_PARAMS);
    return;
  }
  if (native_dir == NULL)
    return;
  value_type types[MSL_EXTERN_MAX_PARAMS];
  for (int i = 0; i < params->len; i++)
    types[i] = ((const ast_param *)params->items[i])->type;
  char *dir = decl_dir(d);
  const char *lib = d->u.ext.lib.text;
  char detail[512] = "", declared[1024] = "";
  native_trust trust = native_trust_of(native_dir, lib, dir, d->name.text, types, params->len,
                                       d->u.ext.ret, detail, sizeof detail);
  free(dir);
  native_signature(d->name.text, types, params->len, d->u.ext.ret, declared,
                   sizeof declared);
  switch (trust) {
  case NATIVE_FOREIGN:
  case NATIVE_LISTED:
    break;
  case NATIVE_UNLISTED:
    diag_error(diags, d->name.loc, DIAG_E63,
               "library \"%s\" is the stdlib's own, and its table lists no function `%s`", lib,
               d->name.text);
    break;
  case NATIVE_MISMATCH:
    diag_error(diags, d->name.loc, DIAG_E64,
               "`%s` differs from `%s` in the table of library \"%s\"", declared, detail, lib);
    break;
  case NATIVE_NO_TABLE:
    diag_error(diags, d->u.ext.lib.loc, DIAG_E65,
               "library \"%s\" lies in the stdlib's native directory but publishes no table (%s)",
               lib, detail);
    break;
  }
}

void sema_externs(msl_program *p, const char *stdlib_dir, diag_list *diags) {
  char *native_dir = NULL;
  if (stdlib_dir != NULL) {
    char *path;
    if (asprintf(&path, "%s/native", stdlib_dir) < 0)
      util_out_of_memory();
    native_dir = util_xrealpath(path);   /* NULL: no native/, nothing is the stdlib's */
    free(path);
  }
  for (int i = 0; i < p->externs.len; i++)
    check_extern(p->externs.items[i], native_dir, diags);
  free(native_dir);
}
