/* compile.h — from a checked program (sema.h) to bytecode (bc.h). */
#ifndef MSL_COMPILE_H
#define MSL_COMPILE_H

#include "bc/bc.h"
#include "front/diag.h"
#include "front/sema.h"

/* Compiles a program that sema_check accepted.  Limits the bytecode cannot
 * express (more than 256 registers in a block, 65535 constants ...) are
 * reported as diagnostics; returns NULL then.  The result owns its memory. */
bc_program *compile_program(const msl_program *p, diag_list *diags);

/* compile_program, then the verifier: the one way from a checked program
 * to bytecode the VM may run, for the CLI, the tests and the fuzzers.  A
 * result the verifier refuses is a compiler bug, reported as E099 (an
 * error no rule file can fix); NULL then, as for any error. */
bc_program *compile_and_verify(const msl_program *p, diag_list *diags);

#endif
