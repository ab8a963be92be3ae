/* verify.h — the bytecode verifier: whether a compiled program (bc.h) is
 * safe for the VM to run.
 *
 * The VM trusts what the verifier accepted and checks nothing itself, so the
 * verifier trusts nothing: a .msc file may be corrupt, foreign or hostile.
 * It checks every table (indices in range, enums known, strings inside the
 * pool, block references of the right kind and type), every instruction
 * (operands per their kind in opcodes.h, ops allowed where their flags
 * there say), that every block ends in RET/END and jumps only forward inside
 * itself (so every run terminates), the types held by registers along every
 * path (against the register types of opcodes.h), and that the milestone
 * evaluation order puts dependencies first. */
#ifndef MSL_VERIFY_H
#define MSL_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "bc/bc.h"

/* True when p is safe to run.  Otherwise false, with msg saying where and
 * what: "block 12 (exit of milestone `kickoff`), instruction 7: register 40
 * out of range (block has 6)".  Never crashes on a program whose arrays hold
 * the counts bc.h gives them (msc_read builds only such programs). */
bool verify_program(const bc_program *p, char *msg, size_t msglen);

/* What block b is for, e.g. "exit of milestone kickoff" or "update login,
 * account-wide"; several uses are joined with "; ", none gives "unused".
 * quote: put names in backquotes (messages) or not (listings).  Reads only
 * the tables, so it is safe on any program whose arrays hold their counts. */
void verify_block_title(const bc_program *p, uint32_t b, bool quote, char *buf, size_t len);

/* The same for every block at once: verify_block_title looks through all the
 * tables for one block, so a listing of every block would take time
 * blocks * tables. */
typedef struct verify_block_roles verify_block_roles;
verify_block_roles *verify_block_roles_new(const bc_program *p);
void verify_block_roles_title(const verify_block_roles *r, uint32_t b, bool quote, char *buf, size_t len);
void verify_block_roles_free(verify_block_roles *r);

#endif
