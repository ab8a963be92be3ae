/* value.c — names of the runtime types (value.h). */
#include "core/value.h"

const char *io_type_name(io_type t) {
  switch (t) {
    case IO_BOOL: return "bool";
    case IO_INT: return "int";
    case IO_FLOAT: return "float";
    case IO_STRING: return "string";
    case IO_TIME: return "time";
    case IO_DURATION: return "duration";
  }
  return "value";
}
