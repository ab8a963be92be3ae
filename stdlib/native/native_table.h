/* native_table.h — what every stdlib native library (stdlib/native/NAME.c,
 * built into libmsl_NAME.so) declares the same way: the table it publishes
 * (SPEC 4) and the prototypes of the functions the table lists.
 *
 * A library writes its table as an X-macro of lines
 *   F(name, result, nparams, (param types))
 * with MSL type names, and expands it once with MSL_NATIVE_TABLE.  From it
 * come both the exported msl_native_table text (one "name(types) -> result"
 * line per function, from which the build writes libmsl_NAME.manifest) and a
 * prototype for each function, so the compiler rejects a definition whose C
 * types differ from what the table says.  Each library compiles with
 * -fvisibility=hidden: only what is marked MSL_EXPORT leaves it. */
#ifndef MSL_NATIVE_TABLE_H
#define MSL_NATIVE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#define MSL_EXPORT __attribute__((visibility("default")))

/* The C type of each MSL type (SPEC 4). */
#define MSL_C_TYPE_bool bool
#define MSL_C_TYPE_int int64_t
#define MSL_C_TYPE_float double
#define MSL_C_TYPE_string const char *
#define MSL_C_TYPE_time int64_t       /* microseconds since 1970-01-01T00:00:00Z */
#define MSL_C_TYPE_duration int64_t   /* microseconds */
#define MSL_C_PARAMS_1(a) MSL_C_TYPE_##a
#define MSL_C_PARAMS_2(a, b) MSL_C_TYPE_##a, MSL_C_TYPE_##b
#define MSL_C_PARAMS_3(a, b, c) MSL_C_TYPE_##a, MSL_C_TYPE_##b, MSL_C_TYPE_##c

#define MSL_NATIVE_PROTOTYPE(name, result, n, params) \
  MSL_EXPORT MSL_C_TYPE_##result name(MSL_C_PARAMS_##n params);
#define MSL_NATIVE_TABLE_LINE(name, result, n, params) #name #params " -> " #result "\n"

/* The prototypes and the exported table of TABLE, an X-macro as above. */
#define MSL_NATIVE_TABLE(TABLE)      \
  TABLE(MSL_NATIVE_PROTOTYPE)        \
  MSL_EXPORT const char msl_native_table[] = TABLE(MSL_NATIVE_TABLE_LINE);

#endif
