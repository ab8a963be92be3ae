/* opcodes.h — the MSL instruction set, defined once.
 *
 * OP(name, a, b, c, d, res, ta, tb, tc, flags, doc), like Lua's luaP_opmodes:
 * the list feeds the enum, the VM's computed-goto table (vm/interp.c), the names of
 * `msl disasm`, the verifier's checks (verify_insn.c) and the opcode table of
 * docs/bytecode.md (tests/unit/test_opcodes.c checks that it matches).
 *
 * a, b, c, d — what each operand is:
 *   _  unused (must be 0)        R  register         K  constant index
 *   G  aggregate index           S  sequence index   M  milestone index
 *   P  playbook index            F  event field      A  account field (0xFFFF = id)
 *   X  extern index              J  jump target (code offset in the block)
 *   N  a count (IN: constants; CALL: arguments)
 * An operand followed by N names a run: K then N is d constants from c, of
 * the type R[b] is read as; R then N is d argument registers from c.
 *
 * res — the type written to R[a]; ta, tb, tc — the types R[a], R[b], R[c]
 * must hold when read (for a run, each register of it):
 *   _  none (not written / not read)   B  bool    I  int, time or duration
 *   T  time                            F  float   S  string
 *   D  declared by the entry operand b names: the constant, event field,
 *      account field (the id: string), aggregate (res: its result; read:
 *      its argument, none for count) or extern (res: its return type; read:
 *      its parameters); with no operand b, the block's type (RET)
 * int, time and duration are all int64 microseconds in a register, so one
 * op serves the three.
 *
 * flags — where an op may appear and how control leaves it:
 *   OPF_UPD    only in update blocks        OPF_VAL   only in value blocks
 *   OPF_STATE  reads the account's evaluation state (aggregates, sequences,
 *              milestones): not in blocks evaluated once per account
 *   OPF_JUMP   may jump to d                OPF_STOP  never goes on to the next instruction
 *   OPF_TERM   the last instruction of the blocks it is allowed in
 *   OPF_EFFECT an effect of an update block: ends a filter's snippet
 *
 * Every instruction is 8 bytes: op, a (8 bits), b, c, d (16 bits each). */
#ifndef MSL_OPCODES_H
#define MSL_OPCODES_H

#define MSL_OPCODES(OP) \
  OP(RET,       R, _, _, _,  _, D, _, _,  OPF_VAL | OPF_TERM | OPF_STOP, "return R[a] from the block") \
  OP(END,       _, _, _, _,  _, _, _, _,  OPF_UPD | OPF_TERM | OPF_STOP, "end of an update block") \
  OP(LOADK,     R, K, _, _,  D, _, _, _,  0,                          "R[a] := K[b]") \
  OP(FIELD,     R, F, _, _,  D, _, _, _,  OPF_UPD,                    "R[a] := field b of the event being applied") \
  OP(ACCT,      R, A, _, _,  D, _, _, _,  0,                          "R[a] := account field b (0xFFFF: the id)") \
  OP(AGG,       R, G, _, _,  D, _, _, _,  OPF_STATE,                  "R[a] := value of aggregate b at the evaluation instant") \
  OP(SEQ,       R, S, _, _,  B, _, _, _,  OPF_STATE,                  "R[a] := sequence b has matched") \
  OP(START,     R, M, _, _,  T, _, _, _,  OPF_STATE,                  "R[a] := start time of milestone b") \
  OP(COMPLETED, R, M, _, _,  B, _, _, _,  OPF_STATE,                  "R[a] := milestone b completed (continuous: achieved since reset)") \
  OP(ACHIEVING, R, M, _, _,  B, _, _, _,  OPF_STATE,                  "R[a] := continuous milestone b achieving now") \
  OP(NOT,       R, R, _, _,  B, _, B, _,  0,                          "R[a] := not R[b]") \
  OP(NEGI,      R, R, _, _,  I, _, I, _,  0,                          "R[a] := -R[b] (int64; overflow is a runtime error)") \
  OP(NEGF,      R, R, _, _,  F, _, F, _,  0,                          "R[a] := -R[b] (double)") \
  OP(I2F,       R, R, _, _,  F, _, I, _,  0,                          "R[a] := (double)R[b]") \
  OP(ADDI,      R, R, R, _,  I, _, I, I,  0,                          "R[a] := R[b] + R[c] (checked)") \
  OP(SUBI,      R, R, R, _,  I, _, I, I,  0,                          "R[a] := R[b] - R[c] (checked)") \
  OP(MULI,      R, R, R, _,  I, _, I, I,  0,                          "R[a] := R[b] * R[c] (checked)") \
  OP(DIVI,      R, R, R, _,  I, _, I, I,  0,                          "R[a] := R[b] / R[c] truncating (zero divisor is a runtime error)") \
  OP(MODI,      R, R, R, _,  I, _, I, I,  0,                          "R[a] := R[b] % R[c] (sign of the dividend)") \
  OP(ADDF,      R, R, R, _,  F, _, F, F,  0,                          "R[a] := R[b] + R[c] (double)") \
  OP(SUBF,      R, R, R, _,  F, _, F, F,  0,                          "R[a] := R[b] - R[c] (double)") \
  OP(MULF,      R, R, R, _,  F, _, F, F,  0,                          "R[a] := R[b] * R[c] (double)") \
  OP(DIVF,      R, R, R, _,  F, _, F, F,  0,                          "R[a] := R[b] / R[c] (double, IEEE 754)") \
  OP(EQI,       R, R, R, _,  B, _, I, I,  0,                          "R[a] := R[b] == R[c] (int64)") \
  OP(NEI,       R, R, R, _,  B, _, I, I,  0,                          "R[a] := R[b] != R[c]") \
  OP(LTI,       R, R, R, _,  B, _, I, I,  0,                          "R[a] := R[b] < R[c]") \
  OP(LEI,       R, R, R, _,  B, _, I, I,  0,                          "R[a] := R[b] <= R[c]") \
  OP(EQF,       R, R, R, _,  B, _, F, F,  0,                          "R[a] := R[b] == R[c] (double)") \
  OP(NEF,       R, R, R, _,  B, _, F, F,  0,                          "R[a] := R[b] != R[c]") \
  OP(LTF,       R, R, R, _,  B, _, F, F,  0,                          "R[a] := R[b] < R[c]") \
  OP(LEF,       R, R, R, _,  B, _, F, F,  0,                          "R[a] := R[b] <= R[c]") \
  OP(EQB,       R, R, R, _,  B, _, B, B,  0,                          "R[a] := R[b] == R[c] (bool)") \
  OP(NEB,       R, R, R, _,  B, _, B, B,  0,                          "R[a] := R[b] != R[c]") \
  OP(EQS,       R, R, R, _,  B, _, S, S,  0,                          "R[a] := R[b] == R[c] (bytes)") \
  OP(NES,       R, R, R, _,  B, _, S, S,  0,                          "R[a] := R[b] != R[c]") \
  OP(LTS,       R, R, R, _,  B, _, S, S,  0,                          "R[a] := R[b] < R[c] (bytewise)") \
  OP(LES,       R, R, R, _,  B, _, S, S,  0,                          "R[a] := R[b] <= R[c] (bytewise)") \
  OP(INI,       R, R, K, N,  B, _, I, _,  0,                          "R[a] := R[b] equals one of K[c .. c+d-1] (int64)") \
  OP(INF,       R, R, K, N,  B, _, F, _,  0,                          "R[a] := R[b] equals one of K[c .. c+d-1] (double)") \
  OP(INS,       R, R, K, N,  B, _, S, _,  0,                          "R[a] := R[b] equals one of K[c .. c+d-1] (string)") \
  OP(INB,       R, R, K, N,  B, _, B, _,  0,                          "R[a] := R[b] equals one of K[c .. c+d-1] (bool)") \
  OP(JMPF,      R, _, _, J,  _, B, _, _,  OPF_JUMP,                   "jump to d when R[a] is false") \
  OP(JMPT,      R, _, _, J,  _, B, _, _,  OPF_JUMP,                   "jump to d when R[a] is true") \
  OP(CALL,      R, X, R, N,  D, _, _, D,  0,                          "R[a] := extern b(R[c], ..., R[c+d-1])") \
  OP(UPDATE,    _, G, R, _,  _, _, _, D,  OPF_UPD | OPF_EFFECT,       "add the event (value R[c]; c unused for count) to aggregate b") \
  OP(STEP,      _, S, N, _,  _, _, _, _,  OPF_UPD | OPF_EFFECT,       "the event matches step c of sequence b") \
  OP(STARTON,   _, M, _, _,  _, _, _, _,  OPF_UPD | OPF_EFFECT,       "the event starts milestone b (`start on E`) if not started") \
  OP(STARTONP,  _, P, _, _,  _, _, _, _,  OPF_UPD | OPF_EFFECT,       "the event starts playbook b (`start on E`) if not started")

typedef enum {
#define MSL_OP_ENUM(name, a, b, c, d, res, ta, tb, tc, flags, doc) BC_##name,
  MSL_OPCODES(MSL_OP_ENUM)
#undef MSL_OP_ENUM
  BC__COUNT
} vm_opcode;

typedef enum {
  OPND_NONE, OPND_REG, OPND_CONST, OPND_AGG, OPND_SEQ, OPND_MILESTONE, OPND_PLAYBOOK,
  OPND_FIELD, OPND_ACCT, OPND_EXTERN, OPND_JUMP, OPND_COUNT,
} vm_operand_kind;

/* The register types of the list (res, ta, tb, tc). */
typedef enum {
  OPT_NONE, OPT_BOOL, OPT_INT, OPT_TIME, OPT_FLOAT, OPT_STRING, OPT_DECLARED,
} vm_operand_type;

typedef enum {
  OPF_UPD = 1 << 0,
  OPF_VAL = 1 << 1,
  OPF_STATE = 1 << 2,
  OPF_JUMP = 1 << 3,
  OPF_STOP = 1 << 4,
  OPF_TERM = 1 << 5,
  OPF_EFFECT = 1 << 6,
} vm_opcode_flag;

#endif
