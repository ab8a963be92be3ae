/* native.c — `extern fn` calls through libffi: loading libraries under the
 * --allow-ffi rule, binding symbols, and calling them with MSL values. */
#include "vm/native.h"
#include "core/native_trust.h"
#include "core/util.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <ffi.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libffi has no type for C's bool; every ABI MSL runs on gives it one byte. */
_Static_assert(sizeof(bool) == 1, "C bool is passed as a uint8");
/* dlsym returns an object pointer; the function pointer is copied out of it. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers fit in void *");

typedef struct native_lib {
  struct native_lib *next;
  char *key;               /* the real path for a LIB with '/', else LIB as written */
  void *handle;
} native_lib;

struct native_fn {
  struct native_fn *next;
  ffi_cif cif;             /* prepared once at bind time */
  ffi_type *arg_types[MSL_EXTERN_MAX_PARAMS];
  value_type params[MSL_EXTERN_MAX_PARAMS];
  int nparams;
  value_type ret;
  void (*code)(void);
  char name[];             /* the extern's name, for messages */
};

struct native_registry {
  char *native_dir;        /* real path of the stdlib's native/; NULL: none */
  bool allow_ffi;
  native_lib *libs;
  native_fn *fns;
};

native_registry *native_registry_new(const char *stdlib_native_dir, bool allow_ffi) {
  native_registry *r = util_xalloc(sizeof *r);
  r->allow_ffi = allow_ffi;
  /* A directory that does not exist trusts nothing. */
  if (stdlib_native_dir != NULL)
    r->native_dir = util_xrealpath(stdlib_native_dir);
  return r;
}

void native_registry_free(native_registry *r) {
  if (r == NULL)
    return;
  for (native_fn *f = r->fns, *next; f != NULL; f = next) {
    next = f->next;
    free(f);
  }
  for (native_lib *l = r->libs, *next; l != NULL; l = next) {
    next = l->next;
    dlclose(l->handle);
    free(l->key);
    free(l);
  }
  free(r->native_dir);
  free(r);
}

int native_registry_nlibs(const native_registry *r) {
  int n = 0;
  for (const native_lib *l = r->libs; l != NULL; l = l->next)
    n++;
  return n;
}

static ffi_type *native_type(value_type t) {
  switch (t) {
  case VALUE_NONE: break;   /* refused when the signature was admitted */
  case VALUE_BOOL: return &ffi_type_uint8;
  case VALUE_INT:
  case VALUE_TIME:
  case VALUE_DURATION: return &ffi_type_sint64;
  case VALUE_FLOAT: return &ffi_type_double;
  case VALUE_STRING: return &ffi_type_pointer;
  }
  return NULL;
}

static native_lib *find_lib(const native_registry *r, const char *key) {
  for (native_lib *l = r->libs; l != NULL; l = l->next)
    if (strcmp(l->key, key) == 0)
      return l;
  return NULL;
}

/* Takes ownership of key. */
static native_lib *add_lib(native_registry *r, char *key, void *handle) {
  native_lib *l = util_xalloc(sizeof *l);
  l->key = key;
  l->handle = handle;
  l->next = r->libs;
  r->libs = l;
  return l;
}

/* The verdict on a call whose library native_trust_of(_real) judged;
 * detail: what it wrote. */
static native_admission judge(const native_registry *r, native_trust trust, const char *lib,
                              const char *symbol, const char *detail, char *msg, size_t msglen) {
  switch (trust) {
  case NATIVE_LISTED:
    return NATIVE_ADMITTED;
  case NATIVE_FOREIGN:
    if (r->allow_ffi)
      return NATIVE_ADMITTED;
    util_set_msg(msg, msglen,
            "extern fn %s needs library %s: run with --allow-ffi to load native code", symbol,
            lib);
    break;
  /* A stdlib library is called only as its table says, --allow-ffi or not:
   * another signature would crash, another name reach what it links. */
  case NATIVE_UNLISTED:
    util_set_msg(msg, msglen,
            "extern fn %s: library %s is the stdlib's own, and its table lists no function %s",
            symbol, lib, symbol);
    break;
  case NATIVE_MISMATCH:
    util_set_msg(msg, msglen,
            "extern fn %s: library %s is the stdlib's own, and its table declares it as %s",
            symbol, lib, detail);
    break;
  case NATIVE_NO_TABLE:
    util_set_msg(msg, msglen,
            "extern fn %s: library %s lies in the stdlib's native directory but publishes no "
            "table (%s)",
            symbol, lib, detail);
    break;
  }
  return NATIVE_REFUSED;
}

native_admission native_admit(const native_registry *r, const char *lib, const char *base_dir,
                              const char *symbol, const value_type *params, int nparams, value_type ret,
                              char *msg, size_t msglen) {
  char detail[512] = "";
  native_trust trust = native_trust_of(r->native_dir, lib, base_dir, symbol, params, nparams, ret,
                                       detail, sizeof detail);
  return judge(r, trust, lib, symbol, detail, msg, msglen);
}

/* The signature a bind asks for, for the trust rule. */
typedef struct wanted_fn {
  const char *symbol;
  const value_type *params;
  int nparams;
  value_type ret;
} wanted_fn;

/* LIB with a '/': a file path, relative to base_dir unless absolute.  The
 * trust rule is applied to the very real path then loaded, so a link that
 * changes between the two cannot slip another file in. */
static native_lib *load_path(native_registry *r, const char *lib, const char *base_dir,
                             const wanted_fn *w, char *msg, size_t msglen) {
  const char *symbol = w->symbol;
  char *path = native_trust_lib_path(lib, base_dir);
  char *real = util_xrealpath(path);
  if (real == NULL && r->allow_ffi) {
    util_set_msg(msg, msglen, "extern fn %s: cannot load library %s (%s): %s", symbol, lib, path,
            strerror(errno));
    free(path);
    return NULL;
  }
  free(path);
  char detail[512] = "";
  native_trust trust = native_trust_of_real(r->native_dir, real, symbol, w->params, w->nparams,
                                            w->ret, detail, sizeof detail);
  if (judge(r, trust, lib, symbol, detail, msg, msglen) != NATIVE_ADMITTED) {
    free(real);
    return NULL;
  }

  native_lib *l = find_lib(r, real);
  if (l != NULL) {
    free(real);
    return l;
  }
  void *handle = dlopen(real, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    util_set_msg(msg, msglen, "extern fn %s: cannot load library %s: %s", symbol, lib, dlerror());
    free(real);
    return NULL;
  }
  return add_lib(r, real, handle);
}

/* LIB without a '/': the dynamic loader's search, as LIB.so, then LIB.
 * Never the stdlib's: it needs allow_ffi. */
static native_lib *load_name(native_registry *r, const char *lib, const char *symbol, char *msg,
                             size_t msglen) {
  if (judge(r, NATIVE_FOREIGN, lib, symbol, "", msg, msglen) != NATIVE_ADMITTED)
    return NULL;
  native_lib *l = find_lib(r, lib);
  if (l != NULL)
    return l;
  char *with_so;
  if (asprintf(&with_so, "%s.so", lib) < 0)
    util_out_of_memory();
  void *handle = dlopen(with_so, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    /* The first error names LIB.so, the form SPEC 4 looks for first. */
    util_set_msg(msg, msglen, "extern fn %s: cannot load library %s: %s", symbol, lib, dlerror());
    handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  }
  free(with_so);
  if (handle == NULL)
    return NULL;
  return add_lib(r, util_xstrndup(lib, strlen(lib)), handle);
}

/* True when sym lies in the library handle stands for.  dlsym(handle, ...)
 * searches the library and then every library it depends on, so without
 * this test `system` would be found through any library linked to libc.
 * Both link maps come from the dynamic loader, so comparing them is exact. */
static bool is_own_symbol(void *handle, void *sym) {
  struct link_map *own = NULL, *holder = NULL;
  Dl_info info;
  return dlinfo(handle, RTLD_DI_LINKMAP, &own) == 0 && own != NULL &&
         dladdr1(sym, &info, (void **)&holder, RTLD_DL_LINKMAP) != 0 && holder == own;
}

/* True when sym is certainly a data object, not code: calling it would
 * crash, so binding refuses it.  An address dladdr cannot place exactly
 * (e.g. an IFUNC's resolved implementation) gets the benefit of the doubt. */
static bool is_data_symbol(void *sym) {
  Dl_info info;
  const ElfW(Sym) *elf_sym = NULL;
  if (dladdr1(sym, &info, (void **)&elf_sym, RTLD_DL_SYMENT) == 0 || elf_sym == NULL ||
      info.dli_saddr != sym)
    return false;
  int type = ELF64_ST_TYPE(elf_sym->st_info);   /* the same macro as ELF32_ST_TYPE */
  return type == STT_OBJECT || type == STT_TLS || type == STT_COMMON;
}

native_fn *native_bind(native_registry *r, const char *lib, const char *base_dir, const char *symbol,
                       const value_type *params, int nparams, value_type ret, char *msg, size_t msglen) {
  /* The signature is checked first: an unsupported one loads nothing. */
  if (nparams < 0 || nparams > MSL_EXTERN_MAX_PARAMS) {
    util_set_msg(msg, msglen, "extern fn %s: %d parameters; at most %d are supported", symbol,
            nparams, MSL_EXTERN_MAX_PARAMS);
    return NULL;
  }
  size_t name_len = strlen(symbol);
  native_fn *f = util_xalloc(sizeof *f + name_len + 1);
  for (int i = 0; i < nparams; i++) {
    f->params[i] = params[i];
    f->arg_types[i] = native_type(params[i]);
    if (f->arg_types[i] == NULL) {
      util_set_msg(msg, msglen, "extern fn %s: parameter %d has no native type (%d)", symbol, i + 1,
              (int)params[i]);
      free(f);
      return NULL;
    }
  }
  memcpy(f->name, symbol, name_len + 1);
  f->nparams = nparams;
  f->ret = ret;
  ffi_type *ret_type = native_type(ret);
  if (ret_type == NULL) {
    util_set_msg(msg, msglen, "extern fn %s: the result has no native type (%d)", symbol, (int)ret);
    free(f);
    return NULL;
  }
  if (ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, (unsigned)nparams, ret_type, f->arg_types) !=
      FFI_OK) {
    util_set_msg(msg, msglen, "extern fn %s: libffi cannot prepare the call", symbol);
    free(f);
    return NULL;
  }

  if (lib[0] == '\0') {
    util_set_msg(msg, msglen, "extern fn %s: the library name is empty", symbol);
    free(f);
    return NULL;
  }
  /* load_path and load_name apply the trust rule before anything loads. */
  const wanted_fn wanted = {symbol, params, nparams, ret};
  native_lib *l = strchr(lib, '/') != NULL ? load_path(r, lib, base_dir, &wanted, msg, msglen)
                                           : load_name(r, lib, symbol, msg, msglen);
  if (l == NULL) {
    free(f);
    return NULL;
  }
  dlerror();   /* clears an earlier error, so the one below is dlsym's */
  void *sym = dlsym(l->handle, symbol);
  if (sym == NULL) {
    const char *why = dlerror();
    util_set_msg(msg, msglen, "extern fn %s: no function %s in library %s%s%s", symbol, symbol, lib,
            why != NULL ? ": " : "", why != NULL ? why : "");
    free(f);
    return NULL;
  }
  if (!is_own_symbol(l->handle, sym)) {
    util_set_msg(msg, msglen,
            "extern fn %s: no function %s in library %s (only the library itself is searched, "
            "not the libraries it depends on)",
            symbol, symbol, lib);
    free(f);
    return NULL;
  }
  if (is_data_symbol(sym)) {
    util_set_msg(msg, msglen, "extern fn %s: %s in library %s is data, not a function", symbol,
            symbol, lib);
    free(f);
    return NULL;
  }
  memcpy(&f->code, &sym, sizeof f->code);
  f->next = r->fns;
  r->fns = f;
  return f;
}

/* One argument as C receives it. */
typedef union native_arg {
  int64_t i;
  double f;
  bool b;
  const char *s;
} native_arg;

/* Room for any result libffi writes: integral results smaller than a
 * register are widened to ffi_arg. */
typedef union native_result {
  ffi_arg narrow;
  int64_t i;
  double f;
  const char *s;
} native_result;

bool native_invoke(const native_fn *f, const value_data *args, value_data *ret, const native_mem *mem,
                   char *msg, size_t msglen) {
  native_arg values[MSL_EXTERN_MAX_PARAMS];
  void *pointers[MSL_EXTERN_MAX_PARAMS];

  size_t string_bytes = 0;
  for (int i = 0; i < f->nparams; i++)
    if (f->params[i] == VALUE_STRING) {
      if (args[i].s.len > 0 && memchr(args[i].s.p, '\0', args[i].s.len) != NULL) {
        util_set_msg(msg, msglen, "extern fn %s: argument %d holds a NUL byte", f->name, i + 1);
        return false;
      }
      string_bytes += (size_t)args[i].s.len + 1;
    }
  char *strings = mem->scratch;
  char *heap = NULL;
  if (string_bytes > mem->scratch_len) {
    heap = util_xalloc(string_bytes);
    strings = heap;
  }

  size_t used = 0;
  for (int i = 0; i < f->nparams; i++) {
    switch (f->params[i]) {
    case VALUE_NONE: break;   /* native_type refused it at bind time */
    case VALUE_BOOL: values[i].b = args[i].b; break;
    case VALUE_INT:
    case VALUE_TIME:
    case VALUE_DURATION: values[i].i = args[i].i; break;
    case VALUE_FLOAT: values[i].f = args[i].f; break;
    case VALUE_STRING: {
      char *copy = strings + used;
      if (args[i].s.len > 0)
        memcpy(copy, args[i].s.p, args[i].s.len);
      copy[args[i].s.len] = '\0';
      used += (size_t)args[i].s.len + 1;
      values[i].s = copy;
      break;
    }
    }
    pointers[i] = &values[i];
  }

  native_result result;
  /* libffi only reads the cif; its prototype is just not const-qualified. */
  ffi_call((ffi_cif *)&f->cif, f->code, &result, pointers);

  bool ok = true;
  switch (f->ret) {
  case VALUE_NONE: break;   /* native_type refused it at bind time */
  case VALUE_BOOL: ret->b = (result.narrow & 0xff) != 0; break;
  case VALUE_INT:
  case VALUE_TIME:
  case VALUE_DURATION: ret->i = result.i; break;
  case VALUE_FLOAT: ret->f = result.f; break;
  case VALUE_STRING: {
    /* Copied before the argument copies are released: a function may return
     * a pointer into its own argument. */
    size_t len = result.s != NULL ? strlen(result.s) : 0;
    if (len == 0) {
      ret->s = (value_str){"", 0};
    } else if (len > UINT32_MAX) {
      util_set_msg(msg, msglen, "extern fn %s returned a string of %zu bytes; the limit is %u",
              f->name, len, (unsigned)UINT32_MAX);
      ok = false;
    } else {
      char *copy = mem->alloc(mem->alloc_ctx, len);
      memcpy(copy, result.s, len);
      ret->s = (value_str){copy, (uint32_t)len};
    }
    break;
  }
  }
  free(heap);
  return ok;
}
