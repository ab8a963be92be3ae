/* codes_cli.h — diagnostics about files given on the command line. */
#define MSL_CLI_CODES(X) \
  X(E, 90, "cannot read file") \
  X(E, 91, "program exceeds a bytecode limit") \
  X(E, 99, "internal error: the compiled program does not verify")
