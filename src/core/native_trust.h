/* native_trust.h — which extern fn calls may run without --allow-ffi
 * (SPEC 4), decided without loading anything: `msl check` (sema_externs.c)
 * and the runtime (native.c) ask the same question here.
 *
 * A call is trusted only when its library's real path lies in the stdlib's
 * native/ directory and the table that library publishes lists the
 * function's name with exactly the declared signature.  The table is read
 * from the manifest installed beside the library — LIB.so's is LIB.manifest,
 * one line "name(type, ...) -> type" per function, '#' lines are comments —
 * which `make` writes from the table the library exports
 * (msl_native_table; tools/native_manifest.c). */
#ifndef MSL_NATIVE_TRUST_H
#define MSL_NATIVE_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/value.h"

/* The most parameters an extern fn may have: native_invoke keeps its argument
 * storage on the stack.  The checker can refuse more with this constant. */
#define MSL_EXTERN_MAX_PARAMS 32

/* The path a LIB that holds a '/' names (malloc'd): relative to base_dir
 * (NULL or "": the current directory) unless absolute. */
char *native_trust_lib_path(const char *lib, const char *base_dir);

/* The real path of the file native_trust_lib_path names (malloc'd).  NULL
 * with errno set when it does not resolve, or for a LIB without '/'
 * (EINVAL): where the dynamic loader would find that is only known by
 * loading it. */
char *native_lib_real_path(const char *lib, const char *base_dir);

/* True when path (a real path) is dir (a real path) or lies below it. */
bool native_path_under(const char *path, const char *dir);

typedef enum native_trust {
  NATIVE_FOREIGN = 0,   /* not a stdlib library: its calls need --allow-ffi */
  NATIVE_LISTED,        /* a stdlib library whose table lists this signature */
  NATIVE_UNLISTED,      /* a stdlib library whose table has no function of this name */
  NATIVE_MISMATCH,      /* a stdlib library whose table lists the name with another signature */
  NATIVE_NO_TABLE,      /* a stdlib library without a readable manifest */
} native_trust;

/* How trusted `extern fn name(params) -> ret from "lib"` is, declared in a
 * file in base_dir.  native_dir: the real path of the stdlib's native/
 * directory (NULL: there is none, and no library is the stdlib's).  detail
 * gets, for NATIVE_MISMATCH, the table's line for name; for
 * NATIVE_NO_TABLE, the manifest's file name and why it is unusable. */
native_trust native_trust_of(const char *native_dir, const char *lib, const char *base_dir,
                             const char *name, const value_type *params, int nparams, value_type ret,
                             char *detail, size_t detaillen);

/* The same for a library whose real path is known (NULL: it has none, as
 * for a LIB without '/'), so that a caller can load exactly the file it
 * judged. */
native_trust native_trust_of_real(const char *native_dir, const char *real, const char *name,
                                  const value_type *params, int nparams, value_type ret, char *detail,
                                  size_t detaillen);

/* "name(type, ...) -> type", the form of a table line, into buf; false when
 * it does not fit or a type is not an value_type. */
bool native_signature(const char *name, const value_type *params, int nparams, value_type ret,
                      char *buf, size_t buflen);

/* Looks signature (as native_signature writes it) up in table, the text of
 * a manifest: NATIVE_LISTED, NATIVE_UNLISTED, or NATIVE_MISMATCH with the
 * table's line for that name in detail. */
native_trust native_table_find(const char *table, const char *signature, char *detail,
                               size_t detaillen);

#endif
