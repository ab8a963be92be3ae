/* native.h — calling `extern fn` declarations through libffi (native.c).
 *
 * Not named ffi.h: with -Isrc, that name would hide libffi's own <ffi.h>.
 * Its prefix is native_, not ffi_: ffi_ is libffi's namespace (ffi_call,
 * ffi_type, ffi_cif, ...).
 *
 * A registry owns the native libraries a run loads.  The caller binds only
 * the externs its program actually calls (SPEC 4: a library is loaded only
 * when the program calls one of its functions), before reading any input, so
 * that a refusal comes first.  Each library is dlopen'ed once per registry;
 * each bound function has its libffi call interface prepared at bind time.
 *
 * Types map as SPEC 4 says: int → int64_t, float → double, bool → C bool,
 * string → const char * (NUL-terminated), time/duration → int64_t
 * microseconds. */
#ifndef MSL_NATIVE_H
#define MSL_NATIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "io/io.h"
#include "core/native_trust.h"

typedef struct native_registry native_registry;   /* loaded libraries; owns them */
typedef struct native_fn native_fn;               /* a bound function, owned by its registry */

/* stdlib_native_dir: the stdlib's `native/` directory, whose libraries load
 * without allow_ffi as far as their tables say (NULL or a missing directory:
 * none does).  allow_ffi: --allow-ffi was given. */
native_registry *native_registry_new(const char *stdlib_native_dir, bool allow_ffi);
/* Unloads every library; every native_fn of the registry becomes invalid.
 * NULL is a no-op. */
void native_registry_free(native_registry *r);
/* How many libraries r has loaded (each once, however many binds use it). */
int native_registry_nlibs(const native_registry *r);

typedef enum native_admission {
  NATIVE_ADMITTED,       /* the call may be bound */
  NATIVE_REFUSED,        /* the trust rule refuses it (msg says why) */
} native_admission;

/* The trust rule of SPEC 4 for `extern fn symbol(params...) -> ret from
 * "lib"`, decided without loading anything (native_trust.h): a library
 * whose real path lies under stdlib_native_dir is called only when the
 * table it publishes (its manifest) lists exactly this signature — with or
 * without allow_ffi; any other library only with allow_ffi.  A LIB without
 * '/' is never the stdlib's: where the loader would find it is only known by
 * loading it, which runs its code.  lib and base_dir as for native_bind.  The
 * caller admits every call first, so that a refusal comes before any
 * library loads. */
native_admission native_admit(const native_registry *r, const char *lib, const char *base_dir,
                              const char *symbol, const value_type *params, int nparams, value_type ret,
                              char *msg, size_t msglen);

/* Binds `extern fn symbol(params...) -> ret from "lib"` (the C symbol is the
 * MSL name).  lib: as written in the declaration.  With a '/', it is a path
 * relative to base_dir, the directory of the .ms file that declared it
 * (NULL: the current directory), or an absolute path; without one, the
 * dynamic loader finds it as LIB.so, then LIB.  native_admit's rule applies
 * first, to the very real path then loaded (a link changed since native_admit
 * cannot slip another file in).  The symbol is looked up in the library itself only, never in the
 * libraries it depends on.  Returns NULL with msg filled when the call is
 * refused, the library cannot be loaded, the symbol is missing, or the
 * signature is not supported (a type outside value_type, more than
 * MSL_EXTERN_MAX_PARAMS parameters).  Not thread-safe: binding changes the
 * registry (the caller binds everything before running). */
native_fn *native_bind(native_registry *r, const char *lib, const char *base_dir, const char *symbol,
                       const value_type *params, int nparams, value_type ret, char *msg, size_t msglen);

/* Memory native_invoke borrows from its caller, so that a call needs no malloc
 * in the common case. */
typedef struct native_mem {
  /* NUL-terminated copies of the string arguments go here (so an argument
   * must not itself point into it); when they do not fit, native_invoke takes
   * heap memory for that call and frees it. */
  char *scratch;
  size_t scratch_len;
  /* Storage for a returned string of len > 0 bytes (native_invoke adds no NUL),
   * alive as long as the caller needs the value; never NULL (out of memory
   * ends the process, util.h). */
  char *(*alloc)(void *ctx, size_t len);
  void *alloc_ctx;
} native_mem;

/* Calls f with args[0..nparams-1], typed as bound, and stores the result in
 * *ret.  A returned const char * is copied at once through mem->alloc (the
 * library keeps ownership); NULL reads as "", and "" needs no alloc
 * (ret->s.p is then a static "").  Returns false with msg filled when a
 * string argument holds a NUL byte (C would see it cut there) or a returned
 * string is 4 GiB or longer.  Reentrant: it writes nothing but its outputs
 * and mem's scratch, so threads with scratch of their own may call one bound
 * function at once. */
bool native_invoke(const native_fn *f, const value_data *args, value_data *ret, const native_mem *mem,
                   char *msg, size_t msglen);

#endif
