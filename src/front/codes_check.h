/* codes_check.h — diagnostics of the checker (sema.c, resolve.c, types.c,
 * lint.c): imports, names, types, constants, test blocks, and the lints.
 * docs/errors.md documents each one. */
#define MSL_CHECK_CODES(X) \
  X(E, 20, "cannot find or read an imported module") \
  X(E, 21, "import cycle") \
  X(E, 22, "name declared twice") \
  X(E, 23, "milestone display name used twice") \
  X(E, 24, "more than one account block") \
  X(E, 25, "field or parameter declared twice") \
  X(E, 26, "reserved field name") \
  X(E, 27, "unknown name") \
  X(E, 28, "unknown event") \
  X(E, 29, "unknown milestone or playbook") \
  X(E, 30, "unknown segment") \
  X(E, 31, "unknown field") \
  X(E, 32, "unknown function") \
  X(E, 33, "name of the wrong kind") \
  X(E, 34, "operator cannot be applied to these types") \
  X(E, 35, "condition is not a bool") \
  X(E, 36, "invalid element in an `in` list") \
  X(E, 37, "expression has the wrong type") \
  X(E, 38, "window length is not a compile-time constant") \
  X(E, 39, "duration must be positive") \
  X(E, 40, "overflow or division by zero in a constant") \
  X(E, 41, "aggregate over a field that is not a number") \
  X(E, 42, "events are not allowed here") \
  X(E, 43, "`start` needs a bounded start clause") \
  X(E, 44, "`start` outside a milestone's conditions") \
  X(E, 45, "`achieving()` of a once-mode milestone") \
  X(E, 46, "value is not a compile-time constant") \
  X(E, 47, "let or segment depends on itself") \
  X(E, 48, "recursive function") \
  X(E, 49, "wrong number of arguments") \
  X(E, 50, "argument has the wrong type") \
  X(E, 51, "milestones depend on each other in a cycle") \
  X(E, 52, "`deadline` duration without a bounded start") \
  X(E, 53, "action or step name used twice or reserved") \
  X(E, 54, "unknown or impossible status in `expect`") \
  X(E, 55, "unknown milestone field or wrong value in `expect`") \
  X(E, 56, "unknown step in `expect`") \
  X(E, 57, "bad field in a test account or test event") \
  X(E, 58, "bad control event in a test") \
  X(E, 59, "`expect signal` names a signal nothing emits") \
  X(E, 60, "`at` in an `expect` that has no time") \
  X(E, 61, "inlined functions too large") \
  X(E, 62, "extern fn with more parameters than supported") \
  X(E, 63, "extern fn not in the table of its stdlib library") \
  X(E, 64, "extern fn signature differs from its stdlib library's table") \
  X(E, 65, "stdlib native library without a readable table") \
  X(E, 67, "declarations depend on each other through too long a chain") \
  X(E, 68, "`on overdue emit` without a deadline") \
  X(E, 69, "`on lost emit` in a once-mode milestone") \
  X(W, 1, "playbook with fewer than 3 or more than 7 steps") \
  X(W, 2, "unused declaration") \
  X(W, 3, "unused event type") \
  X(W, 4, "condition is constant") \
  X(W, 5, "step tracks a milestone that does not apply to its playbook's accounts") \
  X(W, 6, "`start after` a milestone that never applies") \
  X(W, 7, "deadline shorter than the estimate") \
  X(W, 8, "milestone without a description") \
  X(W, 9, "malformed `# msl: allow` comment")
