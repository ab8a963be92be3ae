/* native_manifest.c — writes the manifest of a stdlib native library: the
 * table it exports as msl_native_table (SPEC 4), as text that `msl check`
 * and `msl run` read without loading the library.  `make` runs it on each
 * library it builds into stdlib/native/:
 *
 *   native_manifest LIB.so > LIB.manifest
 *
 * Loading LIB.so here runs its code; that is fine at build time, where it is
 * the library just compiled from this repository. */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fputs("usage: native_manifest LIB.so > LIB.manifest\n", stderr);
    return 2;
  }
  const char *lib = argv[1];
  /* A path without '/' would make dlopen search the loader's directories. */
  char path[4096];
  int n = snprintf(path, sizeof path, "%s%s", strchr(lib, '/') ? "" : "./", lib);
  if (n < 0 || (size_t)n >= sizeof path) {
    fprintf(stderr, "native_manifest: %s: path too long\n", lib);
    return 1;
  }
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    fprintf(stderr, "native_manifest: %s\n", dlerror());
    return 1;
  }
  const char *table = dlsym(handle, "msl_native_table");
  /* The table must be the library's own, not one a dependency exports. */
  struct link_map *own = NULL, *holder = NULL;
  Dl_info info;
  if (table == NULL || dlinfo(handle, RTLD_DI_LINKMAP, &own) != 0 ||
      dladdr1(table, &info, (void **)&holder, RTLD_DL_LINKMAP) == 0 || holder != own) {
    fprintf(stderr, "native_manifest: %s exports no msl_native_table of its own\n", lib);
    dlclose(handle);
    return 1;
  }
  const char *base = strrchr(lib, '/');
  base = base ? base + 1 : lib;
  printf("# The functions %s publishes: name(parameter types) -> result type.\n"
         "# Written by make from the library's msl_native_table (tools/native_manifest.c);\n"
         "# msl compares extern fn declarations with it without loading the library.\n"
         "%s",
         base, table);
  int status = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
  dlclose(handle);
  return status;
}
