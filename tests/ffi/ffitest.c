/* ffitest.c — libmsl_ffitest.so, a native library for the extern fn tests
 * (tests/unit/test_ffi.c and the .ms programs beside this file): every MSL
 * type as a parameter and as a result.  time and duration are int64_t
 * microseconds.
 *
 * Returned strings live in _Thread_local buffers owned by the library (the
 * extern ABI), valid until the same function is called again. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#pragma GCC visibility push(hidden)
#define MSL_EXPORT __attribute__((visibility("default")))

static _Thread_local char greet_result[256];
static _Thread_local char describe_result[512];

MSL_EXPORT int64_t add_int(int64_t a, int64_t b) {
  return a + b;
}

MSL_EXPORT double scale(double x, int64_t factor) {
  return x * (double)factor;
}

MSL_EXPORT bool negate(bool b) {
  return !b;
}

/* "hello, NAME" (cut to the buffer). */
MSL_EXPORT const char *greet(const char *name) {
  snprintf(greet_result, sizeof greet_result, "hello, %s", name);
  return greet_result;
}

/* time + duration, the way MSL adds them. */
MSL_EXPORT int64_t shift_time(int64_t time_us, int64_t duration_us) {
  return time_us + duration_us;
}

MSL_EXPORT int64_t echo_duration(int64_t duration_us) {
  return duration_us;
}

/* Every type at once, written back as text: "true 42 2.5 ann 1000000 -7". */
MSL_EXPORT const char *describe(bool b, int64_t i, double f, const char *s, int64_t time_us,
                                int64_t duration_us) {
  snprintf(describe_result, sizeof describe_result, "%s %" PRId64 " %g %s %" PRId64 " %" PRId64,
           b ? "true" : "false", i, f, s, time_us, duration_us);
  return describe_result;
}

/* The last parameter's position matters: eight ints and eight doubles use up
 * the argument registers on x86-64 and AArch64, so the rest go on the stack. */
MSL_EXPORT double sum_many(int64_t a1, int64_t a2, int64_t a3, int64_t a4, int64_t a5, int64_t a6,
                           int64_t a7, int64_t a8, double f1, double f2, double f3, double f4,
                           double f5, double f6, double f7, double f8, int64_t a9, double f9,
                           bool b) {
  double ints = (double)(a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9);
  double floats = f1 + f2 + f3 + f4 + f5 + f6 + f7 + f8 + f9;
  return b ? ints + floats : ints - floats;
}

/* A library may return NULL for a string; MSL reads it as "". */
MSL_EXPORT const char *null_string(int64_t ignored) {
  (void)ignored;
  return NULL;
}

/* Returns its argument itself: the caller must copy the result before it
 * releases the argument's memory. */
MSL_EXPORT const char *echo_string(const char *s) {
  return s;
}

/* Data, not code: binding it as a function must be refused. */
MSL_EXPORT const int64_t not_a_function = 7;

#pragma GCC visibility pop
