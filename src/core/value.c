/* value.c — names of the runtime types (value.h). */
#include "core/value.h"

const char *value_type_name(value_type t) {
  switch (t) {
    case VALUE_NONE: break;
    case VALUE_BOOL: return "bool";
    case VALUE_INT: return "int";
    case VALUE_FLOAT: return "float";
    case VALUE_STRING: return "string";
    case VALUE_TIME: return "time";
    case VALUE_DURATION: return "duration";
  }
  return "<error>";
}
