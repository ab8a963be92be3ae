/* codes_syntax.h — diagnostics of the lexer and the parser (grammar/).
 * Documented in docs/errors.md. */
#define MSL_SYNTAX_CODES(X)                          \
  X(E, 1, "unexpected character")                    \
  X(E, 2, "unterminated string")                     \
  X(E, 3, "invalid escape sequence")                 \
  X(E, 4, "invalid Unicode escape")                  \
  X(E, 5, "number out of range")                     \
  X(E, 6, "malformed number or duration")            \
  X(E, 7, "invalid time literal")                    \
  X(E, 8, "duration out of range")                   \
  X(E, 9, "syntax error")                            \
  X(E, 10, "clause given twice")                     \
  X(E, 11, "nested too deeply")                      \
  X(E, 12, "comparisons do not chain")               \
  X(E, 13, "clause not allowed here")                \
  X(E, 14, "invalid backquoted name")                \
  X(E, 15, "keyword used as a name")                 \
  X(E, 16, "unknown type")                           \
  X(E, 17, "expected `achieved`, `overdue`, `lost` or `complete` after `on`") \
  X(E, 18, "invalid control event")                  \
  X(E, 19, "parsing stopped")
