/* value.h — the runtime value model every layer shares: the types a rule
 * file declares and the values cells, constants and registers hold. */
#ifndef MSL_VALUE_H
#define MSL_VALUE_H

#include <stdbool.h>
#include <stdint.h>

/* Runtime types: the same numbering as ty_kind in ast.h (1..6). */
typedef enum {
  IO_BOOL = 1, IO_INT, IO_FLOAT, IO_STRING, IO_TIME, IO_DURATION,
} io_type;
/* The type's name as rule files write it ("int", "time", ...). */
const char *io_type_name(io_type t);

typedef struct io_str {
  const char *p;
  uint32_t len;
} io_str;

/* A typed value; which member is live is given by the schema's type. */
typedef union io_value {
  bool b;
  int64_t i;        /* int, and time/duration in microseconds */
  double f;
  io_str s;
} io_value;

#endif
