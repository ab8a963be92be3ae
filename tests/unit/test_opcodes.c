/* test_opcodes.c — the opcode list of src/bc/opcodes.h is consistent with
 * itself (types only on registers, jumps with a target, one terminator per
 * kind of block), and the opcode table of docs/bytecode.md is exactly the one
 * the list generates: same opcodes in order, operand kinds, types, flags and
 * doc text.  When the list changes, the test writes the table it expects to
 * build/bytecode_opcodes.md, ready to paste. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc/bc.h"
#include "doc_file.h"

/* The operand letters and doc text as the list spells them. */
static const struct {
  const char *name, *kinds[4], *doc;
} rows[BC__COUNT] = {
#define ROW(name, a, b, c, d, res, ta, tb, tc, flags, doc) {#name, {#a, #b, #c, #d}, doc},
  MSL_OPCODES(ROW)
#undef ROW
};

static const char *type_word(unsigned t) {
  switch ((vm_operand_type)t) {
  case OPT_NONE: return "";
  case OPT_BOOL: return "bool";
  case OPT_INT: return "int";
  case OPT_TIME: return "time";
  case OPT_FLOAT: return "float";
  case OPT_STRING: return "string";
  case OPT_DECLARED: return "declared";
  }
  return "?";
}

/* Appends to buf at *used (the tables are small: 256 bytes a row suffice). */
static void add(char *buf, size_t len, size_t *used, const char *s) {
  size_t n = strlen(s);
  ck_assert_uint_lt(*used + n, len);
  memcpy(buf + *used, s, n + 1);
  *used += n;
}

/* Appends one cell, " TEXT |", or " |" when it is empty. */
static void add_cell(char *buf, size_t len, size_t *used, const char *text) {
  if (*text) {
    add(buf, len, used, " ");
    add(buf, len, used, text);
  }
  add(buf, len, used, " |");
}

/* The row of op in the table of docs/bytecode.md, without its newline. */
static void table_row(unsigned op, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  add(buf, len, &used, "| `");
  add(buf, len, &used, rows[op].name);
  add(buf, len, &used, "` |");
  for (int k = 0; k < 4; k++) add_cell(buf, len, &used, rows[op].kinds[k]);
  add_cell(buf, len, &used, type_word(bc_op_types[op][0]));
  char cell[256];
  size_t cell_used = 0;
  cell[0] = '\0';
  for (int k = 0; k < 3; k++) {
    if (bc_op_types[op][k + 1] == OPT_NONE) continue;
    char one[64];
    snprintf(one, sizeof one, "%s%c: %s", cell_used ? ", " : "", "abc"[k], type_word(bc_op_types[op][k + 1]));
    add(cell, sizeof cell, &cell_used, one);
  }
  add_cell(buf, len, &used, cell);
  static const struct { unsigned flag; const char *word; } flags[] = {
    {OPF_UPD, "update"}, {OPF_VAL, "value"}, {OPF_STATE, "state"}, {OPF_JUMP, "jump"},
    {OPF_STOP, "stop"}, {OPF_TERM, "ends block"}, {OPF_EFFECT, "effect"},
  };
  cell_used = 0;
  cell[0] = '\0';
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    if (!(bc_op_flags[op] & flags[i].flag)) continue;
    if (cell_used) add(cell, sizeof cell, &cell_used, ", ");
    add(cell, sizeof cell, &cell_used, flags[i].word);
  }
  add_cell(buf, len, &used, cell);
  add_cell(buf, len, &used, rows[op].doc);
}

static const char *const header[] = {
  "| opcode | a | b | c | d | R[a] := | reads | flags | effect |",
  "|---|---|---|---|---|---|---|---|---|",
};
#define NHEADER (sizeof header / sizeof header[0])

static void write_expected_table(void) {
  FILE *f = fopen("build/bytecode_opcodes.md", "w");
  if (!f) return;
  for (size_t i = 0; i < NHEADER; i++) fprintf(f, "%s\n", header[i]);
  char row[512];
  for (unsigned op = 0; op < BC__COUNT; op++) {
    table_row(op, row, sizeof row);
    fprintf(f, "%s\n", row);
  }
  fclose(f);
}

START_TEST(doc_table_is_the_list) {
  char *doc = read_all("docs/bytecode.md");
  ck_assert_msg(doc != NULL, "cannot read docs/bytecode.md (run from the repository root)");
  const char *at = strstr(doc, header[0]);
  ck_assert_msg(at != NULL, "docs/bytecode.md has no line \"%s\"", header[0]);
  char want[512];
  for (unsigned i = 0; i < NHEADER + BC__COUNT + 1; i++) {
    const char *eol = strchr(at, '\n');
    size_t n = eol ? (size_t)(eol - at) : strlen(at);
    if (i < NHEADER) snprintf(want, sizeof want, "%s", header[i]);
    else if (i < NHEADER + BC__COUNT) table_row(i - NHEADER, want, sizeof want);
    else want[0] = '\0';                                 /* the table ends after the last opcode */
    bool same = n == strlen(want) && strncmp(at, want, n) == 0;
    if (!same) write_expected_table();
    ck_assert_msg(same, "docs/bytecode.md, opcode table line %u is\n  %.*s\nthe list gives\n  %s\n"
                  "(the whole table is in build/bytecode_opcodes.md)", i + 1, (int)n, at, want);
    at = eol ? eol + 1 : at + n;
  }
  free(doc);
}
END_TEST

/* Types sit on register operands: res on a register a, reads on registers. */
START_TEST(types_are_on_registers) {
  for (unsigned op = 0; op < BC__COUNT; op++) {
    const unsigned char *kinds = bc_op_operands[op], *types = bc_op_types[op];
    ck_assert_msg(types[0] == OPT_NONE || kinds[0] == OPND_REG, "%s writes a non-register", bc_op_names[op]);
    ck_assert_msg(!(types[0] != OPT_NONE && types[1] != OPT_NONE), "%s both reads and writes R[a]",
                  bc_op_names[op]);
    for (int k = 0; k < 3; k++)
      ck_assert_msg(types[k + 1] == OPT_NONE || kinds[k] == OPND_REG, "%s reads non-register %c",
                    bc_op_names[op], "abc"[k]);
    /* a register operand other than a run's start is either read or written */
    for (int k = 0; k < 3; k++)
      if (kinds[k] == OPND_REG && (k > 0 || types[0] == OPT_NONE))
        ck_assert_msg(types[k + 1] != OPT_NONE, "%s: register %c has no type", bc_op_names[op], "abc"[k]);
    /* D resolves through operand b: one of the entries that declare a type */
    bool declared = false;
    for (int k = 0; k < 4; k++) declared = declared || types[k] == OPT_DECLARED;
    if (declared) {
      unsigned b = kinds[1];
      ck_assert_msg(b == OPND_NONE || b == OPND_CONST || b == OPND_FIELD || b == OPND_ACCT || b == OPND_AGG ||
                    b == OPND_EXTERN, "%s: operand b declares no type", bc_op_names[op]);
    }
    /* a run (then N) starts at a register or a constant */
    for (int k = 1; k < 4; k++)
      if (kinds[k] == OPND_COUNT && k != 2)
        ck_assert_msg(kinds[k - 1] == OPND_REG || kinds[k - 1] == OPND_CONST, "%s: a count after %c",
                      bc_op_names[op], "abc"[k - 1]);
    /* a constant run is compared with R[b] */
    if (kinds[2] == OPND_CONST && kinds[3] == OPND_COUNT)
      ck_assert_msg(types[2] != OPT_NONE && types[2] != OPT_DECLARED, "%s",
                    bc_op_names[op]);
  }
}
END_TEST

START_TEST(flags_agree_with_operands) {
  unsigned update_terms = 0, value_terms = 0;
  for (unsigned op = 0; op < BC__COUNT; op++) {
    unsigned flags = bc_op_flags[op];
    const char *name = bc_op_names[op];
    ck_assert_msg(((flags & OPF_JUMP) != 0) == (bc_op_operands[op][3] == OPND_JUMP), "%s: jump flag", name);
    for (int k = 0; k < 3; k++) ck_assert_msg(bc_op_operands[op][k] != OPND_JUMP, "%s: a jump target not in d", name);
    ck_assert_msg((flags & (OPF_UPD | OPF_VAL)) != (OPF_UPD | OPF_VAL), "%s is allowed nowhere", name);
    ck_assert_msg(!(flags & OPF_EFFECT) || (flags & OPF_UPD), "%s: an effect outside update blocks", name);
    ck_assert_msg(!(flags & OPF_TERM) || (flags & OPF_STOP), "%s ends a block but goes on", name);
    ck_assert_msg(!(flags & OPF_STOP) || (flags & (OPF_TERM | OPF_JUMP)), "%s stops without a target", name);
    if (flags & OPF_TERM) {
      ck_assert_msg(flags & (OPF_UPD | OPF_VAL), "%s ends both kinds of block", name);
      if (flags & OPF_UPD) update_terms++;
      else value_terms++;
    }
    ck_assert_msg(!(flags & OPF_STATE) || bc_op_types[op][0] != OPT_NONE, "%s reads state into nothing", name);
  }
  ck_assert_uint_eq(update_terms, 1);
  ck_assert_uint_eq(value_terms, 1);
  /* spot checks of what the verifier relies on */
  ck_assert_uint_eq(bc_op_flags[BC_RET], OPF_VAL | OPF_TERM | OPF_STOP);
  ck_assert_uint_eq(bc_op_flags[BC_END], OPF_UPD | OPF_TERM | OPF_STOP);
  ck_assert_uint_eq(bc_op_flags[BC_FIELD], OPF_UPD);
  ck_assert_uint_eq(bc_op_flags[BC_START], OPF_STATE);
  ck_assert_uint_eq(bc_op_flags[BC_JMPF], OPF_JUMP);
  ck_assert_uint_eq(bc_op_types[BC_MODI][0], OPT_INT);
  ck_assert_uint_eq(bc_op_types[BC_EQI][0], OPT_BOOL);
  ck_assert_uint_eq(bc_op_types[BC_INB][2], OPT_BOOL);
  ck_assert_uint_eq(bc_op_types[BC_CALL][3], OPT_DECLARED);
}
END_TEST

static Suite *opcodes_suite(void) {
  Suite *s = suite_create("opcodes");
  TCase *tc = tcase_create("opcodes");
  tcase_add_test(tc, doc_table_is_the_list);
  tcase_add_test(tc, types_are_on_registers);
  tcase_add_test(tc, flags_agree_with_operands);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *r = srunner_create(opcodes_suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
