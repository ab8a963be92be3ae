/* test_ffi.c — extern fn calls through libffi (src/vm/native.c), against
 * tests/ffi/libmsl_ffitest.so and the stdlib's own stdlib/native/libmsl_text.so
 * (and, for their manifests, every stdlib/native/libmsl_*.so).
 * Runs from the repository root, after `make` has built both libraries. */
#include <check.h>
#include <dlfcn.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/native.h"
#include "core/native_trust.h"

#define FFI_TEST_DIR "tests/ffi"
#define FFI_TEST_LIB FFI_TEST_DIR "/libmsl_ffitest.so"
#define NATIVE_DIR "stdlib/native"
#define TEXT_LIB NATIVE_DIR "/libmsl_text.so"
#define TEXT_MANIFEST NATIVE_DIR "/libmsl_text.manifest"

/* ---- helpers ------------------------------------------------------------------ */

/* A bump allocator standing in for the VM's storage of returned strings;
 * like the VM's, it never returns NULL (the tests stay within its size). */
typedef struct test_store {
  char data[4096];
  size_t used;
  int nallocs;
} test_store;

static char *store_alloc(void *ctx, size_t len) {
  test_store *s = ctx;
  s->nallocs++;
  ck_assert_msg(len <= sizeof s->data - s->used, "the test store is full");
  char *p = s->data + s->used;
  s->used += len;
  return p;
}

typedef struct call_env {
  char scratch[256];
  test_store store;
  native_mem mem;
  char msg[512];
} call_env;

static void env_init(call_env *e) {
  memset(e, 0, sizeof *e);
  e->mem = (native_mem){e->scratch, sizeof e->scratch, store_alloc, &e->store};
}

static value_data int_value(int64_t i) { return (value_data){.i = i}; }
static value_data float_value(double f) { return (value_data){.f = f}; }
static value_data bool_value(bool b) { return (value_data){.b = b}; }
static value_data str_value(const char *s) {
  return (value_data){.s = {s, (uint32_t)strlen(s)}};
}

/* Binds name from the test library with --allow-ffi semantics. */
static native_fn *bind_test(native_registry *r, const char *name, const value_type *params, int nparams,
                            value_type ret, call_env *e) {
  native_fn *f = native_bind(r, "./libmsl_ffitest.so", FFI_TEST_DIR, name, params, nparams, ret,
                             e->msg, sizeof e->msg);
  ck_assert_msg(f != NULL, "bind %s: %s", name, e->msg);
  return f;
}

static value_data call(const native_fn *f, const value_data *args, call_env *e) {
  value_data ret;
  memset(&ret, 0, sizeof ret);
  ck_assert_msg(native_invoke(f, args, &ret, &e->mem, e->msg, sizeof e->msg), "call: %s", e->msg);
  return ret;
}

static void assert_str(value_data v, const char *want) {
  ck_assert_uint_eq(v.s.len, strlen(want));
  ck_assert_msg(memcmp(v.s.p, want, v.s.len) == 0, "got \"%.*s\", want \"%s\"", (int)v.s.len,
                v.s.p, want);
}

/* Whether the library at path is loaded in this process right now. */
static bool is_loaded(const char *path) {
  char real[PATH_MAX];
  ck_assert_ptr_nonnull(realpath(path, real));
  void *h = dlopen(real, RTLD_NOW | RTLD_NOLOAD);
  if (h != NULL)
    dlclose(h);
  return h != NULL;
}

static const value_type one_string[] = {VALUE_STRING};

/* ---- every type, both ways -------------------------------------------------- */

START_TEST(test_int_float_bool) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  ck_assert_ptr_nonnull(r);

  const value_type two_ints[] = {VALUE_INT, VALUE_INT};
  native_fn *add = bind_test(r, "add_int", two_ints, 2, VALUE_INT, &e);
  value_data args[] = {int_value(40), int_value(2)};
  ck_assert_int_eq(call(add, args, &e).i, 42);
  value_data big[] = {int_value(INT64_MAX - 1), int_value(-5)};
  ck_assert_int_eq(call(add, big, &e).i, INT64_MAX - 6);

  const value_type float_int[] = {VALUE_FLOAT, VALUE_INT};
  native_fn *scale = bind_test(r, "scale", float_int, 2, VALUE_FLOAT, &e);
  value_data sargs[] = {float_value(1.25), int_value(-4)};
  ck_assert_double_eq(call(scale, sargs, &e).f, -5.0);

  const value_type one_bool[] = {VALUE_BOOL};
  native_fn *negate = bind_test(r, "negate", one_bool, 1, VALUE_BOOL, &e);
  value_data t[] = {bool_value(true)}, f[] = {bool_value(false)};
  ck_assert(call(negate, t, &e).b == false);
  ck_assert(call(negate, f, &e).b == true);
  native_registry_free(r);
}
END_TEST

START_TEST(test_time_and_duration) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  const value_type time_duration[] = {VALUE_TIME, VALUE_DURATION};
  native_fn *shift = bind_test(r, "shift_time", time_duration, 2, VALUE_TIME, &e);
  const int64_t jan_5_2026 = INT64_C(1767571200000000), week = INT64_C(604800000000);
  value_data args[] = {int_value(jan_5_2026), int_value(week)};
  ck_assert_int_eq(call(shift, args, &e).i, jan_5_2026 + week);

  const value_type one_duration[] = {VALUE_DURATION};
  native_fn *echo = bind_test(r, "echo_duration", one_duration, 1, VALUE_DURATION, &e);
  value_data d[] = {int_value(-1)};
  ck_assert_int_eq(call(echo, d, &e).i, -1);
  native_registry_free(r);
}
END_TEST

START_TEST(test_all_types_at_once) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  const value_type all[] = {VALUE_BOOL, VALUE_INT, VALUE_FLOAT, VALUE_STRING, VALUE_TIME, VALUE_DURATION};
  native_fn *describe = bind_test(r, "describe", all, 6, VALUE_STRING, &e);
  value_data args[] = {bool_value(true), int_value(42), float_value(2.5), str_value("ann"),
                     int_value(1000000), int_value(-7)};
  assert_str(call(describe, args, &e), "true 42 2.5 ann 1000000 -7");
  native_registry_free(r);
}
END_TEST

START_TEST(test_arguments_on_the_stack) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  value_type types[19];
  value_data args[19];
  for (int i = 0; i < 8; i++) {
    types[i] = VALUE_INT;
    args[i] = int_value(i + 1);              /* 1..8: 36 */
    types[8 + i] = VALUE_FLOAT;
    args[8 + i] = float_value(0.5);          /* 8 x 0.5: 4 */
  }
  types[16] = VALUE_INT, args[16] = int_value(100);
  types[17] = VALUE_FLOAT, args[17] = float_value(0.25);
  types[18] = VALUE_BOOL, args[18] = bool_value(true);
  native_fn *sum = bind_test(r, "sum_many", types, 19, VALUE_FLOAT, &e);
  ck_assert_double_eq(call(sum, args, &e).f, 136 + 4.25);
  args[18] = bool_value(false);
  ck_assert_double_eq(call(sum, args, &e).f, 136 - 4.25);
  native_registry_free(r);
}
END_TEST

/* ---- strings ---------------------------------------------------------------------- */

START_TEST(test_string_result_is_copied) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  native_fn *greet = bind_test(r, "greet", one_string, 1, VALUE_STRING, &e);
  value_data a[] = {str_value("ann")}, b[] = {str_value("bob")};
  value_data first = call(greet, a, &e);
  value_data second = call(greet, b, &e);
  /* The library reuses one buffer; the copies are the caller's. */
  assert_str(first, "hello, ann");
  assert_str(second, "hello, bob");
  ck_assert_int_eq(e.store.nallocs, 2);
  ck_assert(first.s.p >= e.store.data && first.s.p < e.store.data + sizeof e.store.data);

  char real[PATH_MAX];
  ck_assert_ptr_nonnull(realpath(FFI_TEST_LIB, real));
  void *h = dlopen(real, RTLD_NOW | RTLD_NOLOAD);
  ck_assert_ptr_nonnull(h);
  const char *(*greet_direct)(const char *);
  void *sym = dlsym(h, "greet");
  memcpy(&greet_direct, &sym, sizeof sym);
  const char *library_owned = greet_direct("cy");
  ck_assert_ptr_ne(library_owned, second.s.p);
  dlclose(h);
  native_registry_free(r);
}
END_TEST

START_TEST(test_null_string_reads_as_empty) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  const value_type one_int[] = {VALUE_INT};
  native_fn *null_string = bind_test(r, "null_string", one_int, 1, VALUE_STRING, &e);
  value_data args[] = {int_value(1)};
  value_data v = call(null_string, args, &e);
  ck_assert_uint_eq(v.s.len, 0);
  ck_assert_ptr_nonnull(v.s.p);
  ck_assert_int_eq(e.store.nallocs, 0);
  native_registry_free(r);
}
END_TEST

START_TEST(test_string_argument_is_cut_to_its_length) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  native_fn *greet = bind_test(r, "greet", one_string, 1, VALUE_STRING, &e);
  /* value_str is not NUL-terminated: the loaders point into their buffers. */
  value_data args[] = {{.s = {"annabel", 3}}};
  assert_str(call(greet, args, &e), "hello, ann");
  value_data empty[] = {{.s = {NULL, 0}}};
  assert_str(call(greet, empty, &e), "hello, ");
  native_registry_free(r);
}
END_TEST

/* Strings that do not fit the scratch go to the heap for that call; a result
 * pointing into an argument is copied before that memory is released. */
START_TEST(test_scratch_overflow_and_result_into_argument) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  native_fn *echo = bind_test(r, "echo_string", one_string, 1, VALUE_STRING, &e);

  value_data fits[] = {str_value("abc")};            /* 4 bytes with the NUL */
  e.mem.scratch_len = 4;
  assert_str(call(echo, fits, &e), "abc");
  value_data too_long[] = {str_value("abcd")};
  assert_str(call(echo, too_long, &e), "abcd");
  e.mem.scratch = NULL;
  e.mem.scratch_len = 0;
  assert_str(call(echo, too_long, &e), "abcd");

  const value_type all_types[] = {VALUE_BOOL, VALUE_INT, VALUE_FLOAT, VALUE_STRING, VALUE_TIME, VALUE_DURATION};
  native_fn *describe = bind_test(r, "describe", all_types, 6, VALUE_STRING, &e);
  char long_text[200];
  memset(long_text, 'x', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  value_data args[] = {bool_value(false), int_value(0), float_value(0), str_value(long_text),
                     int_value(0), int_value(0)};
  value_data v = call(describe, args, &e);
  ck_assert_uint_eq(v.s.len, strlen("false 0 0  0 0") + strlen(long_text));
  native_registry_free(r);
}
END_TEST

/* C would see the string cut at the NUL: a call with one is an error. */
START_TEST(test_nul_byte_in_an_argument) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  native_fn *greet = bind_test(r, "greet", one_string, 1, VALUE_STRING, &e);
  value_data args[] = {{.s = {"an\0n", 4}}}, ret;
  ck_assert(!native_invoke(greet, args, &ret, &e.mem, e.msg, sizeof e.msg));
  ck_assert_str_eq(e.msg, "extern fn greet: argument 1 holds a NUL byte");
  value_data trailing[] = {{.s = {"ann\0", 4}}};
  ck_assert(!native_invoke(greet, trailing, &ret, &e.mem, e.msg, sizeof e.msg));
  /* The byte just past the length is not part of the string. */
  value_data cut[] = {{.s = {"ann\0x", 3}}};
  assert_str(call(greet, cut, &e), "hello, ann");
  ck_assert_int_eq(e.store.nallocs, 1);
  native_registry_free(r);
}
END_TEST

/* ---- which libraries load ---------------------------------------------------------- */

START_TEST(test_refused_without_allow_ffi) {
  call_env e;
  env_init(&e);
  ck_assert(!is_loaded(FFI_TEST_LIB));
  native_registry *r = native_registry_new(NATIVE_DIR, false);
  const value_type two_ints[] = {VALUE_INT, VALUE_INT};
  native_fn *f = native_bind(r, "./libmsl_ffitest.so", FFI_TEST_DIR, "add_int", two_ints, 2, VALUE_INT,
                             e.msg, sizeof e.msg);
  ck_assert_ptr_null(f);
  ck_assert_str_eq(e.msg, "extern fn add_int needs library ./libmsl_ffitest.so: "
                          "run with --allow-ffi to load native code");
  /* Refused before loading: none of its code ran. */
  ck_assert(!is_loaded(FFI_TEST_LIB));
  ck_assert_int_eq(native_registry_nlibs(r), 0);

  const value_type churn_params[] = {VALUE_INT, VALUE_STRING};
  f = native_bind(r, "libacme_models", NULL, "churn_risk", churn_params, 2, VALUE_FLOAT, e.msg,
                  sizeof e.msg);
  ck_assert_ptr_null(f);
  ck_assert_str_eq(e.msg, "extern fn churn_risk needs library libacme_models: "
                          "run with --allow-ffi to load native code");
  native_registry_free(r);
}
END_TEST

/* A library the loader finds by name could be anywhere: it always needs
 * --allow-ffi, even when it exists. */
START_TEST(test_library_by_name_needs_allow_ffi) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, false);
  ck_assert_ptr_null(native_bind(r, "libz", NULL, "zlibVersion", NULL, 0, VALUE_STRING, e.msg,
                                 sizeof e.msg));
  ck_assert_ptr_nonnull(strstr(e.msg, "--allow-ffi"));
  native_registry_free(r);
}
END_TEST

START_TEST(test_stdlib_library_needs_no_allow_ffi) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, false);
  native_fn *lower = native_bind(r, "../native/libmsl_text.so", "stdlib/std", "lower", one_string, 1,
                                 VALUE_STRING, e.msg, sizeof e.msg);
  ck_assert_msg(lower != NULL, "%s", e.msg);
  value_data args[] = {str_value("ACME Corp")};
  assert_str(call(lower, args, &e), "acme corp");
  native_fn *domain = native_bind(r, "../native/libmsl_text.so", "stdlib/std", "email_domain",
                                  one_string, 1, VALUE_STRING, e.msg, sizeof e.msg);
  ck_assert_msg(domain != NULL, "%s", e.msg);
  value_data email[] = {str_value("Ann@Example.COM")};
  assert_str(call(domain, email, &e), "example.com");
  ck_assert_int_eq(native_registry_nlibs(r), 1);
  native_registry_free(r);
}
END_TEST

START_TEST(test_path_leaving_the_stdlib_is_refused) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, false);
  const value_type two_ints[] = {VALUE_INT, VALUE_INT};
  ck_assert_ptr_null(native_bind(r, "../native/../../" FFI_TEST_LIB, "stdlib/std", "add_int",
                                 two_ints, 2, VALUE_INT, e.msg, sizeof e.msg));
  ck_assert_ptr_nonnull(strstr(e.msg, "--allow-ffi"));
  native_registry_free(r);

  /* Without a stdlib directory (or with one that does not exist), even the
   * stdlib's library needs --allow-ffi. */
  const char *no_dirs[] = {NULL, "stdlib/no_such_dir"};
  for (int i = 0; i < 2; i++) {
    r = native_registry_new(no_dirs[i], false);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_null(native_bind(r, "../native/libmsl_text.so", "stdlib/std", "lower", one_string,
                                   1, VALUE_STRING, e.msg, sizeof e.msg));
    ck_assert_ptr_nonnull(strstr(e.msg, "--allow-ffi"));
    native_registry_free(r);
  }
}
END_TEST

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  ck_assert_ptr_nonnull(in);
  ck_assert_ptr_nonnull(out);
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
  ck_assert(!ferror(in));
  fclose(in);
  ck_assert_int_eq(fclose(out), 0);
}

/* The trust test compares real paths by directory: native_evil/ is not under
 * native/, and a symbolic link in native/ counts where it points. */
START_TEST(test_trust_compares_real_directories) {
  call_env e;
  env_init(&e);
  char root[] = "/tmp/msl_ffi_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(root));
  char native[64], evil[64], inside[64], outside[64], link[64], target[PATH_MAX];
  snprintf(native, sizeof native, "%s/native", root);
  snprintf(evil, sizeof evil, "%s/native_evil", root);
  snprintf(inside, sizeof inside, "%s/native/lib.so", root);
  snprintf(outside, sizeof outside, "%s/native_evil/lib.so", root);
  snprintf(link, sizeof link, "%s/native/link.so", root);
  ck_assert_int_eq(mkdir(native, 0700), 0);
  ck_assert_int_eq(mkdir(evil, 0700), 0);
  copy_file(FFI_TEST_LIB, inside);
  copy_file(FFI_TEST_LIB, outside);
  ck_assert_ptr_nonnull(realpath(FFI_TEST_LIB, target));
  ck_assert_int_eq(symlink(target, link), 0);

  native_registry *r = native_registry_new(native, false);
  const value_type two_ints[] = {VALUE_INT, VALUE_INT};
  /* In native/ but without a manifest: it publishes no table, so nothing loads. */
  ck_assert_ptr_null(native_bind(r, "./lib.so", native, "add_int", two_ints, 2, VALUE_INT, e.msg,
                                 sizeof e.msg));
  ck_assert_str_eq(e.msg, "extern fn add_int: library ./lib.so lies in the stdlib's native "
                          "directory but publishes no table (lib.manifest: No such file or "
                          "directory)");
  ck_assert_int_eq(native_registry_nlibs(r), 0);
  char manifest[64];
  snprintf(manifest, sizeof manifest, "%s/native/lib.manifest", root);
  FILE *m = fopen(manifest, "w");
  ck_assert_ptr_nonnull(m);
  fputs("# comment\nadd_int(int, int) -> int\n", m);
  ck_assert_int_eq(fclose(m), 0);
  native_fn *f = native_bind(r, "./lib.so", native, "add_int", two_ints, 2, VALUE_INT, e.msg, sizeof e.msg);
  ck_assert_msg(f != NULL, "%s", e.msg);
  value_data args[] = {int_value(1), int_value(2)};
  ck_assert_int_eq(call(f, args, &e).i, 3);
  ck_assert_ptr_null(native_bind(r, outside, NULL, "add_int", two_ints, 2, VALUE_INT, e.msg,
                                 sizeof e.msg));
  ck_assert_ptr_nonnull(strstr(e.msg, "--allow-ffi"));
  ck_assert_ptr_null(native_bind(r, link, NULL, "add_int", two_ints, 2, VALUE_INT, e.msg,
                                 sizeof e.msg));
  ck_assert_ptr_nonnull(strstr(e.msg, "--allow-ffi"));
  native_registry_free(r);

  ck_assert_int_eq(unlink(link), 0);
  ck_assert_int_eq(unlink(manifest), 0);
  ck_assert_int_eq(unlink(inside), 0);
  ck_assert_int_eq(unlink(outside), 0);
  ck_assert_int_eq(rmdir(native), 0);
  ck_assert_int_eq(rmdir(evil), 0);
  ck_assert_int_eq(rmdir(root), 0);
}
END_TEST

START_TEST(test_library_loaded_once_and_unloaded) {
  call_env e;
  env_init(&e);
  ck_assert(!is_loaded(FFI_TEST_LIB));
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  /* Nothing loads before a bind asks for it. */
  ck_assert_int_eq(native_registry_nlibs(r), 0);
  ck_assert(!is_loaded(FFI_TEST_LIB));

  char absolute[PATH_MAX];
  ck_assert_ptr_nonnull(realpath(FFI_TEST_LIB, absolute));
  const value_type two_ints[] = {VALUE_INT, VALUE_INT};
  const value_type one_bool[] = {VALUE_BOOL};
  native_fn *add = bind_test(r, "add_int", two_ints, 2, VALUE_INT, &e);
  native_fn *negate = native_bind(r, FFI_TEST_LIB, NULL, "negate", one_bool, 1, VALUE_BOOL, e.msg,
                                  sizeof e.msg);
  native_fn *add_again = native_bind(r, absolute, "/nowhere", "add_int", two_ints, 2, VALUE_INT, e.msg,
                                     sizeof e.msg);
  ck_assert_ptr_nonnull(negate);
  ck_assert_ptr_nonnull(add_again);
  ck_assert_int_eq(native_registry_nlibs(r), 1);
  ck_assert(is_loaded(FFI_TEST_LIB));
  value_data args[] = {int_value(2), int_value(3)};
  ck_assert_int_eq(call(add, args, &e).i, call(add_again, args, &e).i);

  native_registry_free(r);
  /* Every dlopen was matched by a dlclose. */
  ck_assert(!is_loaded(FFI_TEST_LIB));
  native_registry_free(NULL);
}
END_TEST

/* ---- what cannot be bound ---------------------------------------------------------- */

START_TEST(test_missing_library) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  ck_assert_ptr_null(native_bind(r, "./no_such_lib.so", FFI_TEST_DIR, "f", NULL, 0, VALUE_INT, e.msg,
                                 sizeof e.msg));
  ck_assert_str_eq(e.msg, "extern fn f: cannot load library ./no_such_lib.so "
                          "(tests/ffi/./no_such_lib.so): No such file or directory");
  ck_assert_ptr_null(native_bind(r, "libmsl_no_such_lib", NULL, "f", NULL, 0, VALUE_INT, e.msg,
                                 sizeof e.msg));
  ck_assert_msg(strstr(e.msg, "extern fn f: cannot load library libmsl_no_such_lib: "
                              "libmsl_no_such_lib.so") == e.msg, "%s", e.msg);
  /* Not an ELF file: dlopen's own reason. */
  ck_assert_ptr_null(native_bind(r, "./ffitest.c", FFI_TEST_DIR, "f", NULL, 0, VALUE_INT, e.msg,
                                 sizeof e.msg));
  ck_assert_ptr_nonnull(strstr(e.msg, "extern fn f: cannot load library ./ffitest.c: "));
  ck_assert_ptr_null(native_bind(r, "", NULL, "f", NULL, 0, VALUE_INT, e.msg, sizeof e.msg));
  ck_assert_str_eq(e.msg, "extern fn f: the library name is empty");
  ck_assert_int_eq(native_registry_nlibs(r), 0);
  native_registry_free(r);
}
END_TEST

START_TEST(test_missing_symbol) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  ck_assert_ptr_null(native_bind(r, "./libmsl_ffitest.so", FFI_TEST_DIR, "churn_risk", NULL, 0,
                                 VALUE_FLOAT, e.msg, sizeof e.msg));
  ck_assert_msg(strstr(e.msg, "extern fn churn_risk: no function churn_risk in library "
                              "./libmsl_ffitest.so") == e.msg, "%s", e.msg);
  ck_assert_ptr_null(native_bind(r, "./libmsl_ffitest.so", FFI_TEST_DIR, "not_a_function", NULL, 0,
                                 VALUE_INT, e.msg, sizeof e.msg));
  ck_assert_str_eq(e.msg, "extern fn not_a_function: not_a_function in library "
                          "./libmsl_ffitest.so is data, not a function");
  native_registry_free(r);
}
END_TEST

START_TEST(test_unsupported_signature_loads_nothing) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  value_type many[MSL_EXTERN_MAX_PARAMS + 1];
  for (int i = 0; i <= MSL_EXTERN_MAX_PARAMS; i++)
    many[i] = VALUE_INT;
  ck_assert_ptr_null(native_bind(r, "./libmsl_ffitest.so", FFI_TEST_DIR, "add_int", many,
                                 MSL_EXTERN_MAX_PARAMS + 1, VALUE_INT, e.msg, sizeof e.msg));
  ck_assert_str_eq(e.msg, "extern fn add_int: 33 parameters; at most 32 are supported");
  const value_type bad_param[] = {VALUE_INT, (value_type)0};
  ck_assert_ptr_null(native_bind(r, "./libmsl_ffitest.so", FFI_TEST_DIR, "add_int", bad_param, 2,
                                 VALUE_INT, e.msg, sizeof e.msg));
  ck_assert_str_eq(e.msg, "extern fn add_int: parameter 2 has no native type (0)");
  ck_assert_ptr_null(native_bind(r, "./libmsl_ffitest.so", FFI_TEST_DIR, "add_int", many, 2,
                                 (value_type)(VALUE_DURATION + 1), e.msg, sizeof e.msg));
  ck_assert_str_eq(e.msg, "extern fn add_int: the result has no native type (7)");
  ck_assert_int_eq(native_registry_nlibs(r), 0);
  ck_assert(!is_loaded(FFI_TEST_LIB));
  native_registry_free(r);
}
END_TEST

/* ---- libraries the dynamic loader finds by name ------------------------------------ */

/* "libz" is found as libz.so (zlib1g-dev is a build dependency). */
START_TEST(test_name_found_as_lib_so) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  native_fn *version = native_bind(r, "libz", NULL, "zlibVersion", NULL, 0, VALUE_STRING, e.msg,
                                   sizeof e.msg);
  ck_assert_msg(version != NULL, "%s", e.msg);
  value_data v = call(version, NULL, &e);
  ck_assert_uint_ge(v.s.len, 3);
  ck_assert(memcmp(v.s.p, "1.", 2) == 0);
  native_registry_free(r);
}
END_TEST

/* "libm.so.6" is not found as libm.so.6.so, then is found as written. */
START_TEST(test_name_found_as_written) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  const value_type one_float[] = {VALUE_FLOAT};
  native_fn *cbrt_fn = native_bind(r, "libm.so.6", NULL, "cbrt", one_float, 1, VALUE_FLOAT, e.msg,
                                   sizeof e.msg);
  ck_assert_msg(cbrt_fn != NULL, "%s", e.msg);
  value_data args[] = {float_value(27.0)};
  ck_assert_double_eq_tol(call(cbrt_fn, args, &e).f, 3.0, 1e-12);
  native_registry_free(r);
}
END_TEST

/* ---- the stdlib's tables ------------------------------------------------------------- */

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot read %s", path);
  static const size_t cap = 1 << 16;
  char *text = malloc(cap + 1);
  ck_assert_ptr_nonnull(text);
  size_t n = fread(text, 1, cap, f);
  ck_assert(!ferror(f));
  fclose(f);
  text[n] = '\0';
  return text;
}

/* The manifest beside lib lists exactly the table the library exports,
 * line for line (its comment lines aside), and every function listed is one
 * the library itself defines. */
static void check_manifest(const char *lib) {
  char real[PATH_MAX];
  ck_assert_ptr_nonnull(realpath(lib, real));
  void *h = dlopen(real, RTLD_NOW | RTLD_LOCAL);
  ck_assert_ptr_nonnull(h);
  const char *table = dlsym(h, "msl_native_table");
  ck_assert_ptr_nonnull(table);
  char manifest_path[PATH_MAX];
  ck_assert_int_lt(snprintf(manifest_path, sizeof manifest_path, "%.*s.manifest",
                            (int)(strlen(lib) - strlen(".so")), lib),
                   (int)sizeof manifest_path);
  char *manifest = read_text(manifest_path);
  char *listed = calloc(1, strlen(manifest) + 1);
  ck_assert_ptr_nonnull(listed);
  for (const char *line = manifest; *line;) {
    size_t len = strcspn(line, "\n");
    if (line[0] != '#')
      strncat(listed, line, len + (line[len] == '\n'));
    line += len + (line[len] == '\n');
  }
  ck_assert_str_eq(listed, table);
  for (const char *line = table; *line; line = strchr(line, '\n') + 1) {
    char name[64];
    size_t len = strcspn(line, "(");
    ck_assert_uint_lt(len, sizeof name);
    memcpy(name, line, len);
    name[len] = '\0';
    ck_assert_msg(dlsym(h, name) != NULL, "%s is listed in %s but not exported", name, lib);
  }
  free(listed);
  free(manifest);
  dlclose(h);
}

/* Every stdlib library make builds (stdlib/native/libmsl_NAME.so) has a
 * manifest that matches it; std/text and std/time are among them. */
START_TEST(test_manifest_matches_the_exported_table) {
  glob_t libs;
  ck_assert_int_eq(glob(NATIVE_DIR "/libmsl_*.so", 0, NULL, &libs), 0);
  ck_assert_uint_ge(libs.gl_pathc, 2);
  for (size_t i = 0; i < libs.gl_pathc; i++)
    check_manifest(libs.gl_pathv[i]);
  globfree(&libs);
  char *text = read_text(TEXT_MANIFEST);
  ck_assert_ptr_nonnull(strstr(text, "\nlower(string) -> string\n"));
  ck_assert_ptr_nonnull(strstr(text, "\nemail_domain(string) -> string\n"));
  free(text);
  char *time_table = read_text(NATIVE_DIR "/libmsl_time.manifest");
  ck_assert_ptr_nonnull(strstr(time_table, "\nday_of_week(time) -> int\n"));
  ck_assert_ptr_nonnull(strstr(time_table, "\nbusiness_days_between(time, time) -> int\n"));
  free(time_table);
}
END_TEST

START_TEST(test_table_lookup) {
  const char *table = "# comment lower(int) -> int\nlower(string) -> string\n\n"
                      "contains(string, string) -> bool";
  char detail[128] = "";
  ck_assert_int_eq(native_table_find(table, "lower(string) -> string", detail, sizeof detail),
                   NATIVE_LISTED);
  ck_assert_int_eq(native_table_find(table, "contains(string, string) -> bool", detail,
                                     sizeof detail),
                   NATIVE_LISTED);
  ck_assert_int_eq(native_table_find(table, "lower(int) -> string", detail, sizeof detail),
                   NATIVE_MISMATCH);
  ck_assert_str_eq(detail, "lower(string) -> string");
  ck_assert_int_eq(native_table_find(table, "contains(string) -> bool", detail, sizeof detail),
                   NATIVE_MISMATCH);
  /* A name that is a prefix of a listed one, or has one as its prefix, is not listed. */
  ck_assert_int_eq(native_table_find(table, "low(string) -> string", detail, sizeof detail),
                   NATIVE_UNLISTED);
  ck_assert_int_eq(native_table_find(table, "lowers(string) -> string", detail, sizeof detail),
                   NATIVE_UNLISTED);
  ck_assert_int_eq(native_table_find(table, "comment(int) -> int", detail, sizeof detail),
                   NATIVE_UNLISTED);
  char sig[64];
  const value_type two[] = {VALUE_TIME, VALUE_DURATION};
  ck_assert(native_signature("f", two, 2, VALUE_FLOAT, sig, sizeof sig));
  ck_assert_str_eq(sig, "f(time, duration) -> float");
  ck_assert(native_signature("g", NULL, 0, VALUE_BOOL, sig, sizeof sig));
  ck_assert_str_eq(sig, "g() -> bool");
  ck_assert(!native_signature("f", two, 2, VALUE_FLOAT, sig, 10));
}
END_TEST

/* Without --allow-ffi, and with it: a stdlib library is called only as its
 * table says, and a refusal loads nothing. */
START_TEST(test_stdlib_table_is_enforced) {
  call_env e;
  env_init(&e);
  const value_type one_int[] = {VALUE_INT};
  for (int allow = 0; allow < 2; allow++) {
    native_registry *r = native_registry_new(NATIVE_DIR, allow);
    ck_assert_int_eq(native_admit(r, "../native/libmsl_text.so", "stdlib/std", "lower", one_string,
                                  1, VALUE_STRING, e.msg, sizeof e.msg),
                     NATIVE_ADMITTED);
    ck_assert_ptr_null(native_bind(r, "../native/libmsl_text.so", "stdlib/std", "system",
                                   one_string, 1, VALUE_INT, e.msg, sizeof e.msg));
    ck_assert_str_eq(e.msg, "extern fn system: library ../native/libmsl_text.so is the "
                            "stdlib's own, and its table lists no function system");
    ck_assert_ptr_null(native_bind(r, "../native/libmsl_text.so", "stdlib/std", "lower", one_int,
                                   1, VALUE_STRING, e.msg, sizeof e.msg));
    ck_assert_str_eq(e.msg, "extern fn lower: library ../native/libmsl_text.so is the "
                            "stdlib's own, and its table declares it as lower(string) -> string");
    ck_assert_int_eq(native_admit(r, "../native/libmsl_text.so", "stdlib/std", "msl_native_table",
                                  NULL, 0, VALUE_INT, e.msg, sizeof e.msg),
                     NATIVE_REFUSED);
    ck_assert_int_eq(native_admit(r, "../native/text.c", "stdlib/std", "lower", one_string, 1,
                                  VALUE_STRING, e.msg, sizeof e.msg),
                     NATIVE_REFUSED);
    ck_assert_ptr_nonnull(strstr(e.msg, "publishes no table (text.c.manifest: "));
    /* Outside the stdlib: admitted only with --allow-ffi. */
    ck_assert_int_eq(native_admit(r, "./libmsl_ffitest.so", FFI_TEST_DIR, "system", one_string, 1,
                                  VALUE_INT, e.msg, sizeof e.msg),
                     allow ? NATIVE_ADMITTED : NATIVE_REFUSED);
    ck_assert_int_eq(native_registry_nlibs(r), 0);
    ck_assert(!is_loaded(TEXT_LIB));
    native_registry_free(r);
  }
}
END_TEST

/* dlsym(handle) also searches the libraries a library depends on; binding
 * takes only what the named library defines itself. */
START_TEST(test_lookup_in_the_named_library_only) {
  call_env e;
  env_init(&e);
  native_registry *r = native_registry_new(NATIVE_DIR, true);
  char real[PATH_MAX];
  ck_assert_ptr_nonnull(realpath(FFI_TEST_LIB, real));
  void *h = dlopen(real, RTLD_NOW | RTLD_LOCAL);
  ck_assert_ptr_nonnull(h);
  ck_assert_msg(dlsym(h, "system") != NULL, "the test needs a library that links libc");
  dlclose(h);
  const char *libc_functions[] = {"system", "getenv", "abort", "fopen"};
  for (int i = 0; i < 4; i++) {
    ck_assert_ptr_null(native_bind(r, "./libmsl_ffitest.so", FFI_TEST_DIR, libc_functions[i],
                                   one_string, 1, VALUE_INT, e.msg, sizeof e.msg));
    char want[160];
    snprintf(want, sizeof want, "extern fn %s: no function %s in library ./libmsl_ffitest.so",
             libc_functions[i], libc_functions[i]);
    ck_assert_msg(strstr(e.msg, want) == e.msg, "%s", e.msg);
  }
  /* The library's own functions still bind. */
  const value_type two_ints[] = {VALUE_INT, VALUE_INT};
  ck_assert_ptr_nonnull(bind_test(r, "add_int", two_ints, 2, VALUE_INT, &e));
  native_registry_free(r);
}
END_TEST

int main(void) {
  Suite *s = suite_create("ffi");
  TCase *types = tcase_create("types");
  tcase_add_test(types, test_int_float_bool);
  tcase_add_test(types, test_time_and_duration);
  tcase_add_test(types, test_all_types_at_once);
  tcase_add_test(types, test_arguments_on_the_stack);
  suite_add_tcase(s, types);

  TCase *strings = tcase_create("strings");
  tcase_add_test(strings, test_string_result_is_copied);
  tcase_add_test(strings, test_null_string_reads_as_empty);
  tcase_add_test(strings, test_string_argument_is_cut_to_its_length);
  tcase_add_test(strings, test_scratch_overflow_and_result_into_argument);
  tcase_add_test(strings, test_nul_byte_in_an_argument);
  suite_add_tcase(s, strings);

  TCase *loading = tcase_create("loading");
  tcase_add_test(loading, test_refused_without_allow_ffi);
  tcase_add_test(loading, test_library_by_name_needs_allow_ffi);
  tcase_add_test(loading, test_stdlib_library_needs_no_allow_ffi);
  tcase_add_test(loading, test_path_leaving_the_stdlib_is_refused);
  tcase_add_test(loading, test_trust_compares_real_directories);
  tcase_add_test(loading, test_library_loaded_once_and_unloaded);
  tcase_add_test(loading, test_missing_library);
  tcase_add_test(loading, test_missing_symbol);
  tcase_add_test(loading, test_unsupported_signature_loads_nothing);
  tcase_add_test(loading, test_name_found_as_lib_so);
  tcase_add_test(loading, test_name_found_as_written);
  tcase_add_test(loading, test_manifest_matches_the_exported_table);
  tcase_add_test(loading, test_table_lookup);
  tcase_add_test(loading, test_stdlib_table_is_enforced);
  tcase_add_test(loading, test_lookup_in_the_named_library_only);
  suite_add_tcase(s, loading);

  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
