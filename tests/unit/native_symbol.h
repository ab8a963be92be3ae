/* native_symbol.h — for the unit tests of the stdlib's native libraries:
 * a function of a dlopen'd library, as the function pointer the test keeps. */
#ifndef MSL_TEST_NATIVE_SYMBOL_H
#define MSL_TEST_NATIVE_SYMBOL_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Stores name's address from lib into the function pointer at fn_ptr
 * (copied with memcpy: C has no cast from void * to a function pointer);
 * false, with dlerror() on stderr, when lib lacks it. */
static inline bool load_symbol(void *lib, const char *name, void *fn_ptr) {
  void *sym = dlsym(lib, name);
  if (sym == NULL) {
    fprintf(stderr, "%s\n", dlerror());
    return false;
  }
  memcpy(fn_ptr, &sym, sizeof sym);
  return true;
}

#endif
