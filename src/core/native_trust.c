/* native_trust.c — the --allow-ffi trust rule of SPEC 4, from paths and
 * manifests only: nothing here loads a library. */
#include "core/native_trust.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* A manifest lists a handful of functions; anything this big is not one. */
enum { MANIFEST_MAX_BYTES = 1 << 16 };

char *native_trust_lib_path(const char *lib, const char *base_dir) {
  if (lib[0] == '/' || base_dir == NULL || base_dir[0] == '\0')
    return util_xstrndup(lib, strlen(lib));
  char *path;
  if (asprintf(&path, "%s/%s", base_dir, lib) < 0)
    util_out_of_memory();
  return path;
}

char *native_lib_real_path(const char *lib, const char *base_dir) {
  if (strchr(lib, '/') == NULL) {
    errno = EINVAL;
    return NULL;
  }
  char *path = native_trust_lib_path(lib, base_dir);
  char *real = util_xrealpath(path);
  int saved = errno;
  free(path);
  errno = saved;
  return real;
}

bool native_path_under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  if (strncmp(path, dir, n) != 0)
    return false;
  return path[n] == '/' || path[n] == '\0' || (n > 0 && dir[n - 1] == '/');
}

/* The name of a runtime type; NULL for a number outside value_type. */
static const char *type_name(value_type t) {
  return t >= VALUE_BOOL && t <= VALUE_DURATION ? value_type_name(t) : NULL;
}

bool native_signature(const char *name, const value_type *params, int nparams, value_type ret,
                      char *buf, size_t buflen) {
  size_t used = 0;
  int w = snprintf(buf, buflen, "%s(", name);
  if (w < 0 || (size_t)w >= buflen)
    return false;
  used = (size_t)w;
  for (int i = 0; i < nparams; i++) {
    const char *t = type_name(params[i]);
    if (t == NULL)
      return false;
    w = snprintf(buf + used, buflen - used, "%s%s", i > 0 ? ", " : "", t);
    if (w < 0 || (size_t)w >= buflen - used)
      return false;
    used += (size_t)w;
  }
  const char *r = type_name(ret);
  if (r == NULL)
    return false;
  w = snprintf(buf + used, buflen - used, ") -> %s", r);
  return w >= 0 && (size_t)w < buflen - used;
}

native_trust native_table_find(const char *table, const char *signature, char *detail,
                               size_t detaillen) {
  size_t name_len = strcspn(signature, "(");
  for (const char *line = table; *line != '\0';) {
    size_t len = strcspn(line, "\n");
    if (len > 0 && line[0] != '#' && len > name_len && line[name_len] == '(' &&
        memcmp(line, signature, name_len) == 0) {
      if (len == strlen(signature) && memcmp(line, signature, len) == 0)
        return NATIVE_LISTED;
      util_set_msg(detail, detaillen, "%.*s", (int)len, line);
      return NATIVE_MISMATCH;
    }
    line += len;
    if (*line == '\n')
      line++;
  }
  return NATIVE_UNLISTED;
}

/* LIB.so's manifest is LIB.manifest; any other name gets .manifest added. */
static char *manifest_path(const char *lib_real) {
  size_t n = strlen(lib_real);
  if (n > 3 && strcmp(lib_real + n - 3, ".so") == 0)
    n -= 3;
  char *path = util_xalloc(n + sizeof ".manifest");
  memcpy(path, lib_real, n);
  memcpy(path + n, ".manifest", sizeof ".manifest");
  return path;
}

/* The manifest's text (malloc'd), or NULL with detail saying why. */
static char *read_manifest(const char *path, char *detail, size_t detaillen) {
  const char *base = strrchr(path, '/');
  base = base != NULL ? base + 1 : path;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    util_set_msg(detail, detaillen, "%s: %s", base, strerror(errno));
    return NULL;
  }
  char *text = util_xalloc(MANIFEST_MAX_BYTES + 1);
  size_t len = fread(text, 1, MANIFEST_MAX_BYTES + 1, f);
  bool failed = ferror(f);
  fclose(f);
  if (failed || len > MANIFEST_MAX_BYTES || memchr(text, '\0', len) != NULL) {
    util_set_msg(detail, detaillen, "%s: %s", base,
               failed ? "read error" : "not a manifest (too large, or holds a NUL byte)");
    free(text);
    return NULL;
  }
  text[len] = '\0';
  return text;
}

native_trust native_trust_of(const char *native_dir, const char *lib, const char *base_dir,
                             const char *name, const value_type *params, int nparams, value_type ret,
                             char *detail, size_t detaillen) {
  if (native_dir == NULL)
    return NATIVE_FOREIGN;
  char *real = native_lib_real_path(lib, base_dir);
  if (real == NULL)
    return NATIVE_FOREIGN;
  native_trust trust =
      native_trust_of_real(native_dir, real, name, params, nparams, ret, detail, detaillen);
  free(real);
  return trust;
}

native_trust native_trust_of_real(const char *native_dir, const char *real, const char *name,
                                  const value_type *params, int nparams, value_type ret, char *detail,
                                  size_t detaillen) {
  if (native_dir == NULL || real == NULL || !native_path_under(real, native_dir))
    return NATIVE_FOREIGN;
  char *path = manifest_path(real);
  char *table = read_manifest(path, detail, detaillen);
  free(path);
  if (table == NULL)
    return NATIVE_NO_TABLE;
  char signature[1024];
  native_trust trust = NATIVE_UNLISTED;
  /* A signature too long for the buffer, or with an unknown type, is in no
   * table: native_signature fails only for those. */
  if (native_signature(name, params, nparams, ret, signature, sizeof signature))
    trust = native_table_find(table, signature, detail, detaillen);
  free(table);
  return trust;
}
