/* opcodes.h — the MSL instruction set, defined once.
 *
 * OP(name, a, b, c, d, doc): the four operand kinds feed the verifier
 * (verify.c), the names feed `msl disasm`, the list feeds the enum and the
 * VM's computed-goto table (vm.c).  Operand kinds:
 *   _  unused (must be 0)        R  register         K  constant index
 *   G  aggregate index           S  sequence index   M  milestone index
 *   P  playbook index            F  event field      A  account field (0xFFFF = id)
 *   X  extern index              J  jump target (code offset in the block)
 *   N  a count (IN: constants; CALL: arguments)
 * Every instruction is 8 bytes: op, a (8 bits), b, c, d (16 bits each).
 * Registers hold one value of a type the compiler knows statically; int,
 * time and duration are int64 microseconds, so one op serves all three. */
#ifndef MSL_OPCODES_H
#define MSL_OPCODES_H

#define MSL_OPCODES(OP) \
  OP(RET,      R, _, _, _, "return R[a] from the block") \
  OP(END,      _, _, _, _, "end of an update block") \
  OP(LOADK,    R, K, _, _, "R[a] := K[b]") \
  OP(MOVE,     R, R, _, _, "R[a] := R[b]") \
  OP(FIELD,    R, F, _, _, "R[a] := field b of the event being applied") \
  OP(ACCT,     R, A, _, _, "R[a] := account field b (0xFFFF: the id)") \
  OP(AGG,      R, G, _, _, "R[a] := value of aggregate b at the evaluation instant") \
  OP(SEQ,      R, S, _, _, "R[a] := sequence b has matched") \
  OP(START,    R, M, _, _, "R[a] := start time of milestone b") \
  OP(COMPLETED, R, M, _, _, "R[a] := milestone b completed (continuous: achieved since reset)") \
  OP(ACHIEVING, R, M, _, _, "R[a] := continuous milestone b achieving now") \
  OP(NOT,      R, R, _, _, "R[a] := not R[b]") \
  OP(NEGI,     R, R, _, _, "R[a] := -R[b] (int64; overflow is a runtime error)") \
  OP(NEGF,     R, R, _, _, "R[a] := -R[b] (double)") \
  OP(I2F,      R, R, _, _, "R[a] := (double)R[b]") \
  OP(ADDI,     R, R, R, _, "R[a] := R[b] + R[c] (checked)") \
  OP(SUBI,     R, R, R, _, "R[a] := R[b] - R[c] (checked)") \
  OP(MULI,     R, R, R, _, "R[a] := R[b] * R[c] (checked)") \
  OP(DIVI,     R, R, R, _, "R[a] := R[b] / R[c] truncating (zero divisor is a runtime error)") \
  OP(MODI,     R, R, R, _, "R[a] := R[b] % R[c] (sign of the dividend)") \
  OP(ADDF,     R, R, R, _, "R[a] := R[b] + R[c] (double)") \
  OP(SUBF,     R, R, R, _, "R[a] := R[b] - R[c] (double)") \
  OP(MULF,     R, R, R, _, "R[a] := R[b] * R[c] (double)") \
  OP(DIVF,     R, R, R, _, "R[a] := R[b] / R[c] (double, IEEE 754)") \
  OP(EQI,      R, R, R, _, "R[a] := R[b] == R[c] (int64)") \
  OP(NEI,      R, R, R, _, "R[a] := R[b] != R[c]") \
  OP(LTI,      R, R, R, _, "R[a] := R[b] < R[c]") \
  OP(LEI,      R, R, R, _, "R[a] := R[b] <= R[c]") \
  OP(EQF,      R, R, R, _, "R[a] := R[b] == R[c] (double)") \
  OP(NEF,      R, R, R, _, "R[a] := R[b] != R[c]") \
  OP(LTF,      R, R, R, _, "R[a] := R[b] < R[c]") \
  OP(LEF,      R, R, R, _, "R[a] := R[b] <= R[c]") \
  OP(EQB,      R, R, R, _, "R[a] := R[b] == R[c] (bool)") \
  OP(NEB,      R, R, R, _, "R[a] := R[b] != R[c]") \
  OP(EQS,      R, R, R, _, "R[a] := R[b] == R[c] (bytes)") \
  OP(NES,      R, R, R, _, "R[a] := R[b] != R[c]") \
  OP(LTS,      R, R, R, _, "R[a] := R[b] < R[c] (bytewise)") \
  OP(LES,      R, R, R, _, "R[a] := R[b] <= R[c] (bytewise)") \
  OP(INI,      R, R, K, N, "R[a] := R[b] equals one of K[c .. c+d-1] (int64)") \
  OP(INF,      R, R, K, N, "R[a] := R[b] equals one of K[c .. c+d-1] (double)") \
  OP(INS,      R, R, K, N, "R[a] := R[b] equals one of K[c .. c+d-1] (string)") \
  OP(INB,      R, R, K, N, "R[a] := R[b] equals one of K[c .. c+d-1] (bool)") \
  OP(JMP,      _, _, _, J, "jump to d") \
  OP(JMPF,     R, _, _, J, "jump to d when R[a] is false") \
  OP(JMPT,     R, _, _, J, "jump to d when R[a] is true") \
  OP(CALL,     R, X, R, N, "R[a] := extern b(R[c], ..., R[c+d-1])") \
  OP(UPDATE,   _, G, R, _, "add the event (value R[c]; c unused for count) to aggregate b") \
  OP(STEP,     _, S, N, _, "the event matches step c of sequence b") \
  OP(STARTON,  _, M, _, _, "the event starts milestone b (`start on E`) if not started") \
  OP(STARTONP, _, P, _, _, "the event starts playbook b (`start on E`) if not started")

typedef enum {
#define MSL_OP_ENUM(name, a, b, c, d, doc) BC_##name,
  MSL_OPCODES(MSL_OP_ENUM)
#undef MSL_OP_ENUM
  BC__COUNT
} vm_opcode;

typedef enum {
  OPND_NONE, OPND_REG, OPND_CONST, OPND_AGG, OPND_SEQ, OPND_MILESTONE, OPND_PLAYBOOK,
  OPND_FIELD, OPND_ACCT, OPND_EXTERN, OPND_JUMP, OPND_COUNT,
} vm_operand_kind;

#endif
