/* disasm.h — `msl disasm`: a readable listing of a compiled program. */
#ifndef MSL_DISASM_H
#define MSL_DISASM_H

#include <stdio.h>

#include "bc/bc.h"

/* Lists p, which must have passed verify_program: a header with the counts, the
 * schema, constants, aggregates, sequences, segments, milestones, playbooks,
 * externs and evaluation order, then every block with a title saying what it
 * is for and one line per instruction ("  0007  ADDI     r2, r0, r1").
 * The output depends on nothing but p (golden tests compare it exactly).
 * Write errors are left in out's error indicator for the caller. */
void disasm_program(const bc_program *p, FILE *out);

#endif
