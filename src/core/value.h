/* value.h — the runtime value model every layer shares: the types a rule
 * file declares and the values cells, constants and registers hold. */
#ifndef MSL_VALUE_H
#define MSL_VALUE_H

#include <stdbool.h>
#include <stdint.h>

/* The one type enum: what the checker gives each expression and what
 * bytecode, readers and the VM store.  VALUE_NONE is never a runtime type;
 * the checker gives it to an expression that already produced a diagnostic. */
typedef enum {
  VALUE_NONE = 0,
  VALUE_BOOL, VALUE_INT, VALUE_FLOAT, VALUE_STRING, VALUE_TIME, VALUE_DURATION,
} value_type;
/* The type's name as rule files write it ("int", "time", ...); "<error>"
 * for VALUE_NONE. */
const char *value_type_name(value_type t);

typedef struct value_str {
  const char *p;
  uint32_t len;
} value_str;

/* A typed value; which member is live is given by the schema's type. */
typedef union value_data {
  bool b;
  int64_t i;        /* int, and time/duration in microseconds */
  double f;
  value_str s;
} value_data;

#endif
