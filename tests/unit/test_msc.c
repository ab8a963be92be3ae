/* test_msc.c — .msc files, the verifier and the disassembler, over programs
 * built by hand: a valid sample that uses every opcode, every aggregate
 * function and window, every start kind; then one mutation per verifier rule,
 * damaged files of every kind, and a byte-by-byte corruption sweep.
 *
 * `test_msc --write-seeds DIR` writes the fuzzer's seed files
 * (tests/fuzz/seeds/msc/) instead of running the tests. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "bc/bc.h"
#include "bc/disasm.h"
#include "bc/msc.h"
#include "bc/verify.h"

/* ---- building programs ----------------------------------------------------------- */

/* The builders also run outside a test (--write-seeds), where Check's
 * assertions cannot report: they abort instead. */
#define need(cond)                                                         \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: %s does not hold\n", __FILE__, __LINE__, #cond); \
      abort();                                                             \
    }                                                                      \
  } while (0)

enum { POOL_CAP = 4096, CONST_CAP = 64, CODE_CAP = 512, BLOCK_CAP = 64 };

static bc_program *new_program(void) {
  bc_program *p = calloc(1, sizeof *p);
  need(p);
  p->strings = calloc(POOL_CAP, 1);
  p->consts = calloc(CONST_CAP, sizeof *p->consts);
  p->code = calloc(CODE_CAP, sizeof *p->code);
  p->blocks = calloc(BLOCK_CAP, sizeof *p->blocks);
  need(p->strings && p->consts && p->code && p->blocks);
  p->strings_len = 1;   /* offset 0: "" */
  return p;
}

static uint32_t str(bc_program *p, const char *s) {
  size_t n = strlen(s);
  need(p->strings_len + n + 1 < POOL_CAP);
  uint32_t off = p->strings_len;
  memcpy(p->strings + off, s, n + 1);
  p->strings_len += (uint32_t)n + 1;
  return off;
}

static uint32_t konst(bc_program *p, value_type type, value_data v) {
  need(p->nconsts < CONST_CAP);
  p->consts[p->nconsts] = (bc_const){.type = (uint8_t)type, .v = v};
  return p->nconsts++;
}

static uint32_t kint(bc_program *p, value_type type, int64_t i) { return konst(p, type, (value_data){.i = i}); }
static uint32_t kfloat(bc_program *p, double f) { return konst(p, VALUE_FLOAT, (value_data){.f = f}); }
static uint32_t kbool(bc_program *p, bool b) { return konst(p, VALUE_BOOL, (value_data){.b = b}); }
static uint32_t kstr(bc_program *p, const char *s) {
  uint32_t off = str(p, s);
  return konst(p, VALUE_STRING, (value_data){.s = {p->strings + off, (uint32_t)strlen(s)}});
}

static void begin(bc_program *p, value_type type, uint16_t nregs, uint32_t milestone) {
  need(p->nblocks < BLOCK_CAP);
  p->blocks[p->nblocks] = (bc_block){.start = p->ncode, .nregs = nregs, .type = (uint8_t)type,
                                     .milestone = milestone};
}

static void I(bc_program *p, vm_opcode op, unsigned a, unsigned b, unsigned c, unsigned d) {
  need(p->ncode < CODE_CAP);
  p->code[p->ncode++] = (bc_insn){(uint8_t)op, (uint8_t)a, (uint16_t)b, (uint16_t)c, (uint16_t)d};
  p->blocks[p->nblocks].len++;
}

static uint32_t end(bc_program *p) { return p->nblocks++; }

static void *dup_array(const void *items, size_t size) {
  void *a = malloc(size);
  need(a);
  memcpy(a, items, size);
  return a;
}
#define ARRAY(T, ...) ((T *)dup_array((T[]){__VA_ARGS__}, sizeof((T[]){__VA_ARGS__})))

#define MS_NAME(i) (p->milestones[i].name)
#define DAY 86400000000LL

/* The sample: account {plan: string, seats: int = 0, kickoff: time = @1970-01-01};
 * events login {user}, feature_used {feature, module = ""}, report_created
 * {pages: int, score: float}; segments enterprise, big; milestones kickoff
 * (start at, deadline 7d), first_report (start after kickoff, deadline at,
 * actions, blocked when sequence), active (continuous, start on login),
 * sso_done (start on assignment, an exit using every arithmetic op);
 * playbooks onboarding (start on feature_used) and renewal (start at);
 * externs email_domain (called) and churn_risk (not called). */
static bc_program *sample_program(void) {
  bc_program *p = new_program();
  enum { M_KICKOFF, M_REPORT, M_ACTIVE, M_SSO };

  uint32_t k_zero = kint(p, VALUE_INT, 0), k_epoch = kint(p, VALUE_TIME, 0), k_empty = kstr(p, "");
  uint32_t k_ent = kstr(p, "enterprise"), k_200 = kint(p, VALUE_INT, 200), k_one = kint(p, VALUE_INT, 1);
  uint32_t k_form = kstr(p, "kickoff_form"), k_14d = kint(p, VALUE_DURATION, 14 * DAY);
  uint32_t k_three = kint(p, VALUE_INT, 3), k_2_5 = kfloat(p, 2.5), k_example = kstr(p, "example.com");
  uint32_t k_500 = kint(p, VALUE_INT, 500), k_five = kint(p, VALUE_INT, 5);
  uint32_t k_in_int = kint(p, VALUE_INT, 5);
  kint(p, VALUE_INT, 3);
  uint32_t k_in_float = kfloat(p, 1.5);
  kfloat(p, 2.5);
  uint32_t k_in_str = kstr(p, "a\"\n");
  kstr(p, "b");
  uint32_t k_in_bool = kbool(p, true);
  kbool(p, false);

  p->naccount_fields = 3;
  p->account_fields = ARRAY(bc_field, {.name = str(p, "plan"), .type = VALUE_STRING},
                            {.name = str(p, "seats"), .type = VALUE_INT, .has_default = 1, .default_const = k_zero},
                            {.name = str(p, "kickoff"), .type = VALUE_TIME, .has_default = 1, .default_const = k_epoch});
  p->nevents = 3;
  p->events = ARRAY(bc_event, {.name = str(p, "login"), .nfields = 1},
                    {.name = str(p, "feature_used"), .nfields = 2},
                    {.name = str(p, "report_created"), .nfields = 2});
  p->events[0].fields = ARRAY(bc_field, {.name = str(p, "user"), .type = VALUE_STRING});
  p->events[1].fields = ARRAY(bc_field, {.name = str(p, "feature"), .type = VALUE_STRING},
                              {.name = str(p, "module"), .type = VALUE_STRING, .has_default = 1,
                               .default_const = k_empty});
  p->events[2].fields = ARRAY(bc_field, {.name = str(p, "pages"), .type = VALUE_INT},
                              {.name = str(p, "score"), .type = VALUE_FLOAT});

  /* b0: segment enterprise = account.plan == "enterprise" or account.seats >= 200 */
  begin(p, VALUE_BOOL, 3, BC_NONE);
  I(p, BC_ACCT, 0, 0, 0, 0);
  I(p, BC_LOADK, 1, k_ent, 0, 0);
  I(p, BC_EQS, 0, 0, 1, 0);
  I(p, BC_JMPT, 0, 0, 0, 7);
  I(p, BC_ACCT, 0, 1, 0, 0);
  I(p, BC_LOADK, 1, k_200, 0, 0);
  I(p, BC_LEI, 0, 1, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_ent = end(p);
  /* b1: segment big = account.seats >= 500 */
  begin(p, VALUE_BOOL, 2, BC_NONE);
  I(p, BC_ACCT, 0, 1, 0, 0);
  I(p, BC_LOADK, 1, k_500, 0, 0);
  I(p, BC_LEI, 0, 1, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_big = end(p);
  /* b2: start of kickoff = account.kickoff */
  begin(p, VALUE_TIME, 1, M_KICKOFF);
  I(p, BC_ACCT, 0, 2, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_kick_start = end(p);
  /* b3: exit of kickoff = count(feature_used where feature == "kickoff_form") >= 1 */
  begin(p, VALUE_BOOL, 2, M_KICKOFF);
  I(p, BC_AGG, 0, 0, 0, 0);
  I(p, BC_LOADK, 1, k_one, 0, 0);
  I(p, BC_LEI, 0, 1, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_kick_exit = end(p);
  /* b4: since of g3 = account.kickoff */
  begin(p, VALUE_TIME, 1, BC_NONE);
  I(p, BC_ACCT, 0, 2, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_since = end(p);
  /* b5: deadline of first_report = account.kickoff + 14d */
  begin(p, VALUE_TIME, 2, M_REPORT);
  I(p, BC_ACCT, 0, 2, 0, 0);
  I(p, BC_LOADK, 1, k_14d, 0, 0);
  I(p, BC_ADDI, 0, 0, 1, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_rep_deadline = end(p);
  /* b6: entry of first_report = completed(kickoff) */
  begin(p, VALUE_BOOL, 1, M_REPORT);
  I(p, BC_COMPLETED, 0, M_KICKOFF, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_rep_entry = end(p);
  /* b7: action connect = distinct(login.user within 30d) >= 3 */
  begin(p, VALUE_BOOL, 2, M_REPORT);
  I(p, BC_AGG, 0, 1, 0, 0);
  I(p, BC_LOADK, 1, k_three, 0, 0);
  I(p, BC_LEI, 0, 1, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_connect = end(p);
  /* b8: action build = count(report_created since start) >= 1 and 0 < sum(...) */
  begin(p, VALUE_BOOL, 3, M_REPORT);
  I(p, BC_AGG, 0, 2, 0, 0);
  I(p, BC_LOADK, 1, k_one, 0, 0);
  I(p, BC_LEI, 0, 1, 0, 0);
  I(p, BC_JMPF, 0, 0, 0, 7);
  I(p, BC_AGG, 1, 3, 0, 0);
  I(p, BC_LOADK, 2, k_zero, 0, 0);
  I(p, BC_LTI, 0, 2, 1, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_build = end(p);
  /* b9: blocked when sequence(login, report_created within 7d) */
  begin(p, VALUE_BOOL, 1, M_REPORT);
  I(p, BC_SEQ, 0, 0, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_blocked = end(p);
  /* b10: exit of active = 2.5 < avg(...) and email_domain(account.id) == "example.com" */
  begin(p, VALUE_BOOL, 3, M_ACTIVE);
  I(p, BC_AGG, 0, 4, 0, 0);
  I(p, BC_LOADK, 1, k_2_5, 0, 0);
  I(p, BC_LTF, 0, 1, 0, 0);
  I(p, BC_JMPF, 0, 0, 0, 8);
  I(p, BC_ACCT, 1, BC_ACCOUNT_ID, 0, 0);
  I(p, BC_CALL, 0, 0, 1, 1);
  I(p, BC_LOADK, 2, k_example, 0, 0);
  I(p, BC_EQS, 0, 0, 2, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_active_exit = end(p);
  /* b11: entry of active = 2.5 <= max(report_created.score) */
  begin(p, VALUE_BOOL, 2, M_ACTIVE);
  I(p, BC_AGG, 0, 5, 0, 0);
  I(p, BC_LOADK, 1, k_2_5, 0, 0);
  I(p, BC_LEF, 0, 1, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_active_entry = end(p);
  /* b12: exit of sso_done: every arithmetic, comparison and IN op */
  begin(p, VALUE_BOOL, 14, M_SSO);
  I(p, BC_LOADK, 0, k_five, 0, 0);
  I(p, BC_LOADK, 1, k_three, 0, 0);
  I(p, BC_ADDI, 2, 0, 1, 0);
  I(p, BC_SUBI, 2, 2, 1, 0);
  I(p, BC_MULI, 2, 2, 1, 0);
  I(p, BC_DIVI, 2, 2, 1, 0);
  I(p, BC_MODI, 2, 2, 1, 0);
  I(p, BC_NEGI, 2, 2, 0, 0);
  I(p, BC_I2F, 3, 2, 0, 0);
  I(p, BC_LOADK, 4, k_2_5, 0, 0);
  I(p, BC_ADDF, 3, 3, 4, 0);
  I(p, BC_SUBF, 3, 3, 4, 0);
  I(p, BC_MULF, 3, 3, 4, 0);
  I(p, BC_DIVF, 3, 3, 4, 0);
  I(p, BC_NEGF, 3, 3, 0, 0);
  I(p, BC_EQF, 5, 3, 4, 0);
  I(p, BC_NEF, 5, 3, 4, 0);
  I(p, BC_LTF, 5, 3, 4, 0);
  I(p, BC_LEF, 5, 3, 4, 0);
  I(p, BC_EQI, 6, 0, 1, 0);
  I(p, BC_NEI, 6, 0, 1, 0);
  I(p, BC_LTI, 6, 0, 1, 0);
  I(p, BC_LEI, 6, 0, 1, 0);
  I(p, BC_EQB, 7, 5, 6, 0);
  I(p, BC_NEB, 7, 5, 6, 0);
  I(p, BC_ACCT, 8, BC_ACCOUNT_ID, 0, 0);
  I(p, BC_LOADK, 9, k_ent, 0, 0);
  I(p, BC_EQS, 10, 8, 9, 0);
  I(p, BC_NES, 10, 8, 9, 0);
  I(p, BC_LTS, 10, 8, 9, 0);
  I(p, BC_LES, 10, 8, 9, 0);
  I(p, BC_INI, 11, 0, k_in_int, 2);
  I(p, BC_INF, 11, 4, k_in_float, 2);
  I(p, BC_INS, 11, 8, k_in_str, 2);
  I(p, BC_INB, 11, 7, k_in_bool, 2);
  I(p, BC_NOT, 12, 11, 0, 0);
  I(p, BC_NOT, 12, 12, 0, 0);
  I(p, BC_JMPT, 12, 0, 0, 40);
  I(p, BC_ACHIEVING, 12, M_ACTIVE, 0, 0);
  I(p, BC_JMPT, 12, 0, 0, 41);
  I(p, BC_START, 13, M_SSO, 0, 0);
  I(p, BC_RET, 12, 0, 0, 0);
  uint32_t b_sso_exit = end(p);
  /* b13: start of renewal = account.kickoff */
  begin(p, VALUE_TIME, 1, BC_NONE);
  I(p, BC_ACCT, 0, 2, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_renewal_start = end(p);
  /* b14: when of step sso = account.seats >= 500 */
  begin(p, VALUE_BOOL, 2, BC_NONE);
  I(p, BC_ACCT, 0, 1, 0, 0);
  I(p, BC_LOADK, 1, k_500, 0, 0);
  I(p, BC_LEI, 0, 1, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_sso_when = end(p);
  /* b15: update login, account-wide */
  begin(p, 0, 1, BC_NONE);
  I(p, BC_FIELD, 0, 0, 0, 0);
  I(p, BC_UPDATE, 0, 1, 0, 0);
  I(p, BC_STEP, 0, 0, 0, 0);
  I(p, BC_STARTON, 0, M_ACTIVE, 0, 0);
  I(p, BC_END, 0, 0, 0, 0);
  uint32_t b_up_login = end(p);
  /* b16: update feature_used, account-wide */
  begin(p, 0, 2, BC_NONE);
  I(p, BC_FIELD, 0, 0, 0, 0);
  I(p, BC_LOADK, 1, k_form, 0, 0);
  I(p, BC_EQS, 0, 0, 1, 0);
  I(p, BC_JMPF, 0, 0, 0, 5);
  I(p, BC_UPDATE, 0, 0, 0, 0);
  I(p, BC_STARTONP, 0, 0, 0, 0);
  I(p, BC_END, 0, 0, 0, 0);
  uint32_t b_up_feature = end(p);
  /* b17: update report_created, account-wide */
  begin(p, 0, 1, BC_NONE);
  I(p, BC_STEP, 0, 0, 1, 0);
  I(p, BC_FIELD, 0, 0, 0, 0);
  I(p, BC_UPDATE, 0, 3, 0, 0);
  I(p, BC_FIELD, 0, 1, 0, 0);
  I(p, BC_UPDATE, 0, 4, 0, 0);
  I(p, BC_UPDATE, 0, 5, 0, 0);
  I(p, BC_END, 0, 0, 0, 0);
  uint32_t b_up_report = end(p);
  /* b18: update report_created, since start of first_report */
  begin(p, 0, 1, M_REPORT);
  I(p, BC_UPDATE, 0, 2, 0, 0);
  I(p, BC_END, 0, 0, 0, 0);
  uint32_t b_up_report_since = end(p);

  p->nsegments = 2;
  p->segment_blocks = ARRAY(uint32_t, b_ent, b_big);
  p->segment_names = ARRAY(uint32_t, str(p, "enterprise"), str(p, "big"));

  p->naggregates = 6;
  p->aggregates = ARRAY(bc_aggregate,
    {.fn = BC_AGG_COUNT, .window = BC_WIN_NONE, .result_type = VALUE_INT, .event = 1,
     .since_block = BC_NO_BLOCK, .milestone = BC_NONE, .owner = M_KICKOFF},
    {.fn = BC_AGG_DISTINCT, .window = BC_WIN_WITHIN, .arg_type = VALUE_STRING, .result_type = VALUE_INT,
     .event = 0, .within_us = 30 * DAY, .since_block = BC_NO_BLOCK, .milestone = BC_NONE, .owner = M_REPORT},
    {.fn = BC_AGG_COUNT, .window = BC_WIN_SINCE_START, .result_type = VALUE_INT, .event = 2,
     .since_block = BC_NO_BLOCK, .milestone = M_REPORT, .owner = M_REPORT},
    {.fn = BC_AGG_SUM, .window = BC_WIN_SINCE, .arg_type = VALUE_INT, .result_type = VALUE_INT, .event = 2,
     .since_block = b_since, .milestone = BC_NONE, .owner = M_REPORT},
    {.fn = BC_AGG_AVG, .window = BC_WIN_WITHIN, .arg_type = VALUE_FLOAT, .result_type = VALUE_FLOAT, .event = 2,
     .within_us = 7 * DAY, .since_block = BC_NO_BLOCK, .milestone = BC_NONE, .owner = M_ACTIVE},
    {.fn = BC_AGG_MAX, .window = BC_WIN_NONE, .arg_type = VALUE_FLOAT, .result_type = VALUE_FLOAT, .event = 2,
     .since_block = BC_NO_BLOCK, .milestone = BC_NONE, .owner = BC_NONE});
  p->nsequences = 1;
  p->sequences = ARRAY(bc_sequence, {.nsteps = 2, .within_us = 7 * DAY, .owner = M_REPORT});

  p->nmilestones = 4;
  p->milestones = calloc(4, sizeof *p->milestones);
  need(p->milestones);
  p->milestones[M_KICKOFF] = (bc_milestone){
    .name = str(p, "kickoff"), .display = str(p, "Kickoff held"), .description = str(p, "Kickoff call done"),
    .csm = str(p, "Run the kickoff call"), .customer = str(p, "Name a sponsor"), .group = BC_NONE,
    .decl_order = 0, .start_kind = BC_START_AT, .start_block = b_kick_start, .start_after = BC_NONE,
    .deadline_kind = BC_DEADLINE_AFTER, .deadline_us = 7 * DAY, .deadline_block = BC_NO_BLOCK,
    .estimate_us = -1, .nsegments = 1, .segments = ARRAY(uint32_t, 0),
    .entry_block = BC_NO_BLOCK, .exit_block = b_kick_exit, .blocked_block = BC_NO_BLOCK};
  p->milestones[M_REPORT] = (bc_milestone){
    .name = str(p, "first_report"), .display = str(p, "First report"), .description = BC_NONE,
    .csm = BC_NONE, .customer = BC_NONE, .group = str(p, "Activation"), .decl_order = 1,
    .start_kind = BC_START_AFTER, .start_block = BC_NO_BLOCK, .start_after = M_KICKOFF,
    .deadline_kind = BC_DEADLINE_AT, .deadline_block = b_rep_deadline, .estimate_us = 10 * DAY,
    .entry_block = b_rep_entry, .exit_block = BC_NO_BLOCK, .blocked_block = b_blocked, .nactions = 2,
    .nemits = 2};
  p->milestones[M_REPORT].actions = ARRAY(bc_action,
    {.name = str(p, "connect"), .label = str(p, "Connect the CRM"), .owner = 2, .done_block = b_connect},
    {.name = str(p, "build"), .label = BC_NONE, .owner = 1, .done_block = b_build});
  p->milestones[M_REPORT].emits = ARRAY(bc_emit, {.on = BC_EMIT_ACHIEVED, .signal = str(p, "advocacy_ask")},
                                        {.on = BC_EMIT_OVERDUE, .signal = str(p, "report_late")});
  p->milestones[M_ACTIVE] = (bc_milestone){
    .name = str(p, "active"), .display = str(p, "Active usage"), .description = BC_NONE, .csm = BC_NONE,
    .customer = BC_NONE, .group = BC_NONE, .decl_order = 2, .continuous = 1,
    .start_kind = BC_START_ON_EVENT, .start_block = BC_NO_BLOCK, .start_after = BC_NONE,
    .deadline_block = BC_NO_BLOCK, .estimate_us = -1, .entry_block = b_active_entry,
    .exit_block = b_active_exit, .blocked_block = BC_NO_BLOCK, .nemits = 1};
  p->milestones[M_ACTIVE].emits = ARRAY(bc_emit, {.on = BC_EMIT_LOST, .signal = str(p, "went_quiet")});
  p->milestones[M_SSO] = (bc_milestone){
    .name = str(p, "sso_done"), .display = BC_NONE, .description = BC_NONE, .csm = BC_NONE,
    .customer = BC_NONE, .group = BC_NONE, .decl_order = 3, .start_kind = BC_START_ON_ASSIGNMENT,
    .start_block = BC_NO_BLOCK, .start_after = BC_NONE, .deadline_block = BC_NO_BLOCK, .estimate_us = -1,
    .entry_block = BC_NO_BLOCK, .exit_block = b_sso_exit, .blocked_block = BC_NO_BLOCK};

  p->nplaybooks = 2;
  p->playbooks = calloc(2, sizeof *p->playbooks);
  need(p->playbooks);
  p->playbooks[0] = (bc_playbook){
    .name = str(p, "onboarding"), .display = str(p, "Enterprise onboarding"), .decl_order = 4,
    .start_kind = BC_START_ON_EVENT, .start_block = BC_NO_BLOCK, .start_after = BC_NONE,
    .nsegments = 1, .segments = ARRAY(uint32_t, 0), .nsteps = 4, .nemits = 1};
  p->playbooks[0].steps = ARRAY(bc_step,
    {.name = str(p, "kick"), .label = str(p, "Kickoff"), .tracks = M_KICKOFF, .is_auto = 1, .when_block = BC_NO_BLOCK},
    {.name = str(p, "value"), .label = str(p, "First value"), .tracks = M_REPORT, .is_auto = 1, .when_block = BC_NO_BLOCK},
    {.name = str(p, "sso"), .label = str(p, "SSO rollout"), .tracks = M_SSO, .when_block = b_sso_when},
    {.name = str(p, "live"), .label = BC_NONE, .tracks = M_ACTIVE, .is_auto = 1, .when_block = BC_NO_BLOCK});
  p->playbooks[0].emits = ARRAY(uint32_t, str(p, "handoff"));
  p->playbooks[1] = (bc_playbook){
    .name = str(p, "renewal"), .display = BC_NONE, .decl_order = 5, .start_kind = BC_START_AT,
    .start_block = b_renewal_start, .start_after = BC_NONE, .nsteps = 1};
  p->playbooks[1].steps = ARRAY(bc_step, {.name = str(p, "review"), .label = BC_NONE, .tracks = M_ACTIVE,
                                          .is_auto = 1, .when_block = BC_NO_BLOCK});

  p->nexterns = 2;
  p->externs = ARRAY(bc_extern,
    {.name = str(p, "email_domain"), .lib = str(p, "msl_text"), .base_dir = str(p, "/opt/msl/std"),
     .nparams = 1, .ret = VALUE_STRING, .called = 1},
    {.name = str(p, "churn_risk"), .lib = str(p, "libacme_models"), .base_dir = BC_NONE, .nparams = 2,
     .ret = VALUE_FLOAT, .called = 0});
  p->externs[0].params = ARRAY(uint8_t, VALUE_STRING);
  p->externs[1].params = ARRAY(uint8_t, VALUE_INT, VALUE_STRING);

  /* (4 milestones + 1) scopes x 3 events */
  p->update_blocks = malloc(sizeof(uint32_t) * 15);
  need(p->update_blocks);
  for (int i = 0; i < 15; i++) p->update_blocks[i] = BC_NO_BLOCK;
  p->update_blocks[0] = b_up_login;
  p->update_blocks[1] = b_up_feature;
  p->update_blocks[2] = b_up_report;
  p->update_blocks[(M_REPORT + 1) * 3 + 2] = b_up_report_since;
  p->eval_order = ARRAY(uint32_t, M_KICKOFF, M_REPORT, M_ACTIVE, M_SSO);
  return p;
}

/* The smallest valid program: one event, one milestone whose exit is true. */
static bc_program *tiny_program(void) {
  bc_program *p = new_program();
  uint32_t k_true = kbool(p, true);
  p->nevents = 1;
  p->events = ARRAY(bc_event, {.name = str(p, "ping"), .nfields = 0, .fields = NULL});
  begin(p, VALUE_BOOL, 1, 0);
  I(p, BC_LOADK, 0, k_true, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  uint32_t b_exit = end(p);
  p->nmilestones = 1;
  p->milestones = ARRAY(bc_milestone,
    {.name = str(p, "ready"), .display = BC_NONE, .description = BC_NONE, .csm = BC_NONE, .customer = BC_NONE,
     .group = BC_NONE, .start_block = BC_NO_BLOCK, .start_after = BC_NONE, .deadline_block = BC_NO_BLOCK,
     .estimate_us = -1, .entry_block = BC_NO_BLOCK, .exit_block = b_exit, .blocked_block = BC_NO_BLOCK});
  p->update_blocks = ARRAY(uint32_t, BC_NO_BLOCK, BC_NO_BLOCK);
  p->eval_order = ARRAY(uint32_t, 0);
  return p;
}

/* ---- helpers ---------------------------------------------------------------------- */

static unsigned char *to_bytes(const bc_program *p, size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  ck_assert_ptr_nonnull(f);
  char msg[512];
  bool ok = msc_write(p, f, msg, sizeof msg);
  ck_assert_msg(ok, "msc_write: %s", msg);
  ck_assert_int_eq(fclose(f), 0);
  *len = n;
  return (unsigned char *)buf;
}

static void fix_crc(unsigned char *data, size_t len) {
  uint32_t crc = (uint32_t)crc32_z(0, data + MSC_HEADER_SIZE, len - MSC_HEADER_SIZE);
  for (int i = 0; i < 4; i++) data[16 + i] = (unsigned char)(crc >> (8 * i));
}

static void put_le(unsigned char *at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) at[i] = (unsigned char)(v >> (8 * i));
}

/* Offset in the file of the code table's count. */
static size_t code_offset(const bc_program *p) {
  size_t off = MSC_HEADER_SIZE + 4 + p->strings_len + 4;
  for (uint32_t i = 0; i < p->nconsts; i++) off += 1 + (p->consts[i].type == VALUE_BOOL ? 1 : 8);
  return off;
}

static void expect_read_fails(const unsigned char *data, size_t len, const char *want) {
  char msg[512];
  bc_program *p = msc_read(data, len, msg, sizeof msg);
  if (p) bc_program_free(p);
  ck_assert_msg(!p, "msc_read accepted a file that should fail with \"%s\"", want);
  ck_assert_msg(strstr(msg, want), "message \"%s\" does not contain \"%s\"", msg, want);
}

static char *listing(const bc_program *p) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  ck_assert_ptr_nonnull(f);
  disasm_program(p, f);
  ck_assert_int_eq(fclose(f), 0);
  return buf;
}

/* Field-by-field equality of two programs (string constants compared by
 * offset into their own pools). */
static void assert_programs_equal(const bc_program *a, const bc_program *b) {
#define EQ(x) ck_assert_msg((a->x) == (b->x), "%s differs", #x)
#define EQ_U32S(n, x) do { for (uint32_t i_ = 0; i_ < (n); i_++) EQ(x[i_]); } while (0)
  EQ(strings_len);
  ck_assert(memcmp(a->strings, b->strings, a->strings_len) == 0);
  EQ(nconsts);
  for (uint32_t i = 0; i < a->nconsts; i++) {
    EQ(consts[i].type);
    switch (a->consts[i].type) {
    case VALUE_BOOL: EQ(consts[i].v.b); break;
    case VALUE_FLOAT: ck_assert(memcmp(&a->consts[i].v.f, &b->consts[i].v.f, sizeof(double)) == 0); break;
    case VALUE_STRING:
      EQ(consts[i].v.s.len);
      ck_assert(a->consts[i].v.s.p - a->strings == b->consts[i].v.s.p - b->strings);
      break;
    default: EQ(consts[i].v.i); break;
    }
  }
  EQ(ncode);
  ck_assert(memcmp(a->code, b->code, sizeof *a->code * a->ncode) == 0);
  EQ(nblocks);
  for (uint32_t i = 0; i < a->nblocks; i++) {
    EQ(blocks[i].start); EQ(blocks[i].len); EQ(blocks[i].nregs); EQ(blocks[i].type); EQ(blocks[i].milestone);
  }
  EQ(naccount_fields);
  for (uint32_t i = 0; i < a->naccount_fields; i++) {
    EQ(account_fields[i].name); EQ(account_fields[i].type); EQ(account_fields[i].has_default);
    EQ(account_fields[i].default_const);
  }
  EQ(nevents);
  for (uint32_t e = 0; e < a->nevents; e++) {
    EQ(events[e].name);
    EQ(events[e].nfields);
    for (uint32_t i = 0; i < a->events[e].nfields; i++) {
      EQ(events[e].fields[i].name); EQ(events[e].fields[i].type); EQ(events[e].fields[i].has_default);
      EQ(events[e].fields[i].default_const);
    }
  }
  EQ(nsegments);
  EQ_U32S(a->nsegments, segment_blocks);
  EQ_U32S(a->nsegments, segment_names);
  EQ(naggregates);
  for (uint32_t i = 0; i < a->naggregates; i++) {
    EQ(aggregates[i].fn); EQ(aggregates[i].window); EQ(aggregates[i].arg_type); EQ(aggregates[i].result_type);
    EQ(aggregates[i].event); EQ(aggregates[i].within_us); EQ(aggregates[i].since_block);
    EQ(aggregates[i].milestone); EQ(aggregates[i].owner);
  }
  EQ(nsequences);
  for (uint32_t i = 0; i < a->nsequences; i++) {
    EQ(sequences[i].nsteps); EQ(sequences[i].within_us); EQ(sequences[i].owner);
  }
  EQ(nmilestones);
  for (uint32_t m = 0; m < a->nmilestones; m++) {
    EQ(milestones[m].name); EQ(milestones[m].display); EQ(milestones[m].description); EQ(milestones[m].csm);
    EQ(milestones[m].customer); EQ(milestones[m].group); EQ(milestones[m].decl_order);
    EQ(milestones[m].continuous); EQ(milestones[m].start_kind); EQ(milestones[m].start_block);
    EQ(milestones[m].start_after); EQ(milestones[m].deadline_kind); EQ(milestones[m].deadline_us);
    EQ(milestones[m].deadline_block); EQ(milestones[m].estimate_us); EQ(milestones[m].nsegments);
    EQ_U32S(a->milestones[m].nsegments, milestones[m].segments);
    EQ(milestones[m].entry_block); EQ(milestones[m].exit_block); EQ(milestones[m].blocked_block);
    EQ(milestones[m].nactions);
    for (uint32_t i = 0; i < a->milestones[m].nactions; i++) {
      EQ(milestones[m].actions[i].name); EQ(milestones[m].actions[i].label);
      EQ(milestones[m].actions[i].owner); EQ(milestones[m].actions[i].done_block);
    }
    EQ(milestones[m].nemits);
    for (uint32_t i = 0; i < a->milestones[m].nemits; i++) {
      EQ(milestones[m].emits[i].on); EQ(milestones[m].emits[i].signal);
    }
  }
  EQ(nplaybooks);
  for (uint32_t i = 0; i < a->nplaybooks; i++) {
    EQ(playbooks[i].name); EQ(playbooks[i].display); EQ(playbooks[i].decl_order); EQ(playbooks[i].start_kind);
    EQ(playbooks[i].start_block); EQ(playbooks[i].start_after); EQ(playbooks[i].nsegments);
    EQ_U32S(a->playbooks[i].nsegments, playbooks[i].segments);
    EQ(playbooks[i].nsteps);
    for (uint32_t s = 0; s < a->playbooks[i].nsteps; s++) {
      EQ(playbooks[i].steps[s].name); EQ(playbooks[i].steps[s].label); EQ(playbooks[i].steps[s].tracks);
      EQ(playbooks[i].steps[s].is_auto); EQ(playbooks[i].steps[s].when_block);
    }
    EQ(playbooks[i].nemits);
    EQ_U32S(a->playbooks[i].nemits, playbooks[i].emits);
  }
  EQ(nexterns);
  for (uint32_t i = 0; i < a->nexterns; i++) {
    EQ(externs[i].name); EQ(externs[i].lib); EQ(externs[i].base_dir); EQ(externs[i].nparams);
    ck_assert(memcmp(a->externs[i].params, b->externs[i].params, a->externs[i].nparams) == 0);
    EQ(externs[i].ret); EQ(externs[i].called);
  }
  EQ_U32S((a->nmilestones + 1) * a->nevents, update_blocks);
  EQ_U32S(a->nmilestones, eval_order);
#undef EQ
#undef EQ_U32S
}

/* ---- tables and the valid programs --------------------------------------------------- */

START_TEST(test_op_tables) {
  ck_assert_str_eq(bc_op_names[BC_RET], "RET");
  ck_assert_str_eq(bc_op_names[BC_ADDI], "ADDI");
  ck_assert_str_eq(bc_op_names[BC_STARTONP], "STARTONP");
  static const unsigned char call[4] = {OPND_REG, OPND_EXTERN, OPND_REG, OPND_COUNT};
  static const unsigned char update[4] = {OPND_NONE, OPND_AGG, OPND_REG, OPND_NONE};
  static const unsigned char jmpf[4] = {OPND_REG, OPND_NONE, OPND_NONE, OPND_JUMP};
  static const unsigned char acct[4] = {OPND_REG, OPND_ACCT, OPND_NONE, OPND_NONE};
  ck_assert(memcmp(bc_op_operands[BC_CALL], call, 4) == 0);
  ck_assert(memcmp(bc_op_operands[BC_UPDATE], update, 4) == 0);
  ck_assert(memcmp(bc_op_operands[BC_JMPF], jmpf, 4) == 0);
  ck_assert(memcmp(bc_op_operands[BC_ACCT], acct, 4) == 0);
  ck_assert_uint_eq(bc_op_operands[BC_STEP][2], OPND_COUNT);
  ck_assert_uint_eq(bc_op_operands[BC_FIELD][1], OPND_FIELD);
  for (int op = 0; op < BC__COUNT; op++) {
    ck_assert_ptr_nonnull(bc_op_names[op]);
    for (int k = 0; k < 4; k++) ck_assert_uint_le(bc_op_operands[op][k], OPND_COUNT);
  }
}
END_TEST

START_TEST(test_bc_str) {
  bc_program *p = tiny_program();
  ck_assert_str_eq(bc_str(p, p->milestones[0].name), "ready");
  ck_assert_str_eq(bc_str(p, BC_NONE), "");
  ck_assert_str_eq(bc_str(p, p->strings_len), "");
  bc_program_free(p);
  bc_program_free(NULL);
}
END_TEST

START_TEST(test_sample_uses_every_opcode) {
  bc_program *p = sample_program();
  bool used[BC__COUNT] = {0};
  for (uint32_t i = 0; i < p->ncode; i++) used[p->code[i].op] = true;
  for (int op = 0; op < BC__COUNT; op++) ck_assert_msg(used[op], "the sample does not use %s", bc_op_names[op]);
  bool fns[BC_AGG_DISTINCT + 1] = {0}, windows[BC_WIN_SINCE + 1] = {0};
  for (uint32_t i = 0; i < p->naggregates; i++) {
    fns[p->aggregates[i].fn] = true;
    windows[p->aggregates[i].window] = true;
  }
  for (int w = 0; w <= BC_WIN_SINCE; w++) ck_assert(windows[w]);
  ck_assert(fns[BC_AGG_COUNT] && fns[BC_AGG_SUM] && fns[BC_AGG_MAX] && fns[BC_AGG_AVG] && fns[BC_AGG_DISTINCT]);
  bc_program_free(p);
}
END_TEST

START_TEST(test_valid_programs_verify) {
  char msg[512];
  bc_program *p = sample_program();
  ck_assert_msg(verify_program(p, msg, sizeof msg), "sample: %s", msg);
  ck_assert_str_eq(msg, "");
  bc_program_free(p);
  p = tiny_program();
  ck_assert_msg(verify_program(p, msg, sizeof msg), "tiny: %s", msg);
  bc_program_free(p);
  bc_program empty = {0};
  ck_assert_msg(verify_program(&empty, msg, sizeof msg), "empty: %s", msg);
  ck_assert(verify_program(&empty, NULL, 0));
}
END_TEST

START_TEST(test_round_trip) {
  bc_program *p = sample_program();
  size_t len;
  unsigned char *bytes = to_bytes(p, &len);
  ck_assert(memcmp(bytes, "MSLC", 4) == 0);
  ck_assert_uint_eq(bytes[4], MSC_VERSION);
  char msg[512];
  bc_program *q = msc_read(bytes, len, msg, sizeof msg);
  ck_assert_msg(q != NULL, "msc_read: %s", msg);
  assert_programs_equal(p, q);
  ck_assert_str_eq(bc_str(q, q->consts[3].v.s.p - q->strings), "enterprise");
  /* writing what was read gives the same bytes */
  size_t len2;
  unsigned char *bytes2 = to_bytes(q, &len2);
  ck_assert_uint_eq(len, len2);
  ck_assert(memcmp(bytes, bytes2, len) == 0);
  /* and the listing of both is the same */
  char *l1 = listing(p), *l2 = listing(q);
  ck_assert_str_eq(l1, l2);
  free(l1);
  free(l2);
  free(bytes2);
  free(bytes);
  bc_program_free(q);
  bc_program_free(p);

  bc_program empty = {0};
  bytes = to_bytes(&empty, &len);
  q = msc_read(bytes, len, msg, sizeof msg);
  ck_assert_msg(q != NULL, "empty program: %s", msg);
  ck_assert_uint_eq(q->nmilestones, 0);
  ck_assert_ptr_null(q->milestones);
  bc_program_free(q);
  free(bytes);
}
END_TEST

/* ---- verifier rules: one mutation of the sample each -------------------------------- */

typedef struct mutation {
  const char *name;
  void (*apply)(bc_program *p);
  const char *expect;      /* a substring of the verifier's message */
} mutation;

/* The sample's blocks, by what they are for. */
#define B_ENT (p->segment_blocks[0])
#define B_KICK_START (p->milestones[0].start_block)
#define B_KICK_EXIT (p->milestones[0].exit_block)
#define B_REP_ENTRY (p->milestones[1].entry_block)
#define B_BUILD (p->milestones[1].actions[1].done_block)
#define B_ACTIVE_EXIT (p->milestones[2].exit_block)
#define B_SSO_EXIT (p->milestones[3].exit_block)
#define B_UP_LOGIN (p->update_blocks[0])
#define B_UP_FEATURE (p->update_blocks[1])
#define B_UP_REPORT (p->update_blocks[2])
#define B_UP_REPORT_SINCE (p->update_blocks[8])
#define INSN(block, pc) (p->code[p->blocks[block].start + (pc)])
#define SET(insn, o, a_, b_, c_, d_) ((insn) = (bc_insn){(uint8_t)(o), (uint8_t)(a_), (uint16_t)(b_), (uint16_t)(c_), (uint16_t)(d_)})

#define MUT(name, body) static void mut_##name(bc_program *p) { body; }
MUT(pool_unterminated, p->strings[p->strings_len - 1] = 'x')
MUT(string_outside_pool, p->milestones[0].name = p->strings_len)
MUT(string_missing, p->events[0].name = BC_NONE)
MUT(label_outside_pool, p->milestones[1].actions[0].label = p->strings_len + 7)
MUT(const_type, p->consts[0].type = 9)
MUT(const_string_outside, p->consts[3].v.s.len = p->strings_len)
MUT(const_string_before_pool, p->consts[3].v.s.p = p->strings - 1)
MUT(block_outside_code, p->blocks[0].len = p->ncode + 1)
MUT(block_start_overflow, p->blocks[0].start = 0xFFFFFFF0u)
MUT(block_empty, p->blocks[1].len = 0)
MUT(block_too_many_regs, p->blocks[0].nregs = 300)
MUT(block_type, p->blocks[0].type = 7)
MUT(block_no_regs, p->blocks[B_KICK_START].nregs = 0)
MUT(block_milestone, p->blocks[0].milestone = 99)
MUT(missing_table, free(p->events[1].fields); p->events[1].fields = NULL)
MUT(field_type, p->account_fields[0].type = 0)
MUT(field_has_default, p->events[1].fields[1].has_default = 2)
MUT(field_default_range, p->account_fields[1].default_const = 500)
MUT(field_default_type, p->account_fields[1].default_const = 3)
MUT(segment_block_range, p->segment_blocks[1] = 1000)
MUT(segment_block_type, p->segment_blocks[1] = B_KICK_START)
MUT(segment_block_update, p->segment_blocks[1] = B_UP_LOGIN)
MUT(agg_fn, p->aggregates[0].fn = 9)
MUT(agg_window, p->aggregates[0].window = 9)
MUT(agg_event, p->aggregates[0].event = 3)
MUT(agg_count_arg, p->aggregates[0].arg_type = VALUE_INT)
MUT(agg_arg_type, p->aggregates[1].arg_type = 0)
MUT(agg_sum_string, p->aggregates[3].arg_type = VALUE_STRING; p->aggregates[3].result_type = VALUE_STRING)
MUT(agg_avg_result, p->aggregates[4].result_type = VALUE_INT)
MUT(agg_distinct_result, p->aggregates[1].result_type = VALUE_STRING)
MUT(agg_within_zero, p->aggregates[1].within_us = 0)
MUT(agg_since_block, p->aggregates[3].since_block = BC_NO_BLOCK)
MUT(agg_since_block_type, p->aggregates[3].since_block = B_KICK_EXIT)
MUT(agg_since_start_milestone, p->aggregates[2].milestone = 4)
MUT(agg_stray_milestone, p->aggregates[1].milestone = 0)
MUT(agg_owner, p->aggregates[1].owner = 4)
MUT(seq_no_steps, p->sequences[0].nsteps = 0)
MUT(seq_too_many_steps, p->sequences[0].nsteps = 0x10001)
MUT(seq_negative_window, p->sequences[0].within_us = -1)
MUT(ms_start_kind, p->milestones[0].start_kind = 9)
MUT(ms_start_block, p->milestones[0].start_block = B_KICK_EXIT)
MUT(ms_start_after_range, p->milestones[1].start_after = 4)
MUT(ms_start_after_self, p->milestones[1].start_after = 1)
MUT(ms_deadline_no_start, p->milestones[0].start_kind = BC_START_NONE)
MUT(ms_deadline_kind, p->milestones[0].deadline_kind = 7)
MUT(ms_deadline_negative, p->milestones[0].deadline_us = -5)
MUT(ms_deadline_block, p->milestones[1].deadline_block = B_REP_ENTRY)
MUT(ms_estimate, p->milestones[1].estimate_us = -2)
MUT(ms_continuous, p->milestones[0].continuous = 2)
MUT(ms_segment, p->milestones[0].segments[0] = 2)
MUT(ms_entry_type, p->milestones[1].entry_block = B_KICK_START)
MUT(ms_exit_range, p->milestones[0].exit_block = p->nblocks)
MUT(ms_action_owner, p->milestones[1].actions[0].owner = 3)
MUT(ms_action_block, p->milestones[1].actions[0].done_block = BC_NO_BLOCK)
MUT(ms_emit, p->milestones[1].emits[0].signal = BC_NONE)
MUT(ms_emit_kind, p->milestones[1].emits[1].on = BC_EMIT__COUNT)
MUT(ms_emit_overdue_no_deadline, p->milestones[2].emits[0].on = BC_EMIT_OVERDUE)
MUT(ms_emit_lost_once, p->milestones[1].emits[1].on = BC_EMIT_LOST)
MUT(pb_start_block, p->playbooks[1].start_block = B_ENT)
MUT(pb_step_tracks, p->playbooks[0].steps[1].tracks = 4)
MUT(pb_step_auto, p->playbooks[0].steps[1].is_auto = 2)
MUT(pb_step_when, p->playbooks[0].steps[2].when_block = B_KICK_START)
MUT(pb_segment, p->playbooks[0].segments[0] = 5)
MUT(ext_params, p->externs[1].nparams = 40)
MUT(ext_param_type, p->externs[1].params[1] = 0)
MUT(ext_ret, p->externs[0].ret = 8)
MUT(ext_called_flag, p->externs[1].called = 5)
MUT(ext_lib_missing, p->externs[1].lib = BC_NONE)
MUT(decl_order_twice, p->playbooks[1].decl_order = 0)
MUT(decl_order_range, p->milestones[2].decl_order = 6)
MUT(update_range, p->update_blocks[5] = 77)
MUT(update_value_block, p->update_blocks[5] = B_KICK_EXIT)
MUT(update_twice, p->update_blocks[5] = B_UP_LOGIN)
MUT(opcode, INSN(B_KICK_EXIT, 1).op = 200)
MUT(register_range, INSN(B_KICK_EXIT, 2).c = 40)
MUT(unused_operand, INSN(B_UP_LOGIN, 4).a = 1)
MUT(unused_operand_d, INSN(B_KICK_EXIT, 1).d = 9)
MUT(const_range, INSN(B_KICK_EXIT, 1).b = (uint16_t)p->nconsts)
MUT(agg_range, INSN(B_KICK_EXIT, 0).b = 6)
MUT(seq_range, SET(INSN(B_KICK_EXIT, 0), BC_SEQ, 0, 1, 0, 0))
MUT(milestone_range, INSN(B_REP_ENTRY, 0).b = 4)
MUT(playbook_range, INSN(B_UP_FEATURE, 5).b = 2)
MUT(field_range, INSN(B_UP_LOGIN, 0).b = 1)
MUT(field_in_value_block, SET(INSN(B_KICK_EXIT, 1), BC_FIELD, 1, 0, 0, 0))
MUT(acct_range, INSN(B_ENT, 0).b = 3)
MUT(extern_range, INSN(B_ACTIVE_EXIT, 5).b = 2)
MUT(jump_outside, INSN(B_ENT, 3).d = 8)
MUT(jump_backwards, INSN(B_ENT, 3).d = 2)
MUT(jump_past_snippet, INSN(B_UP_FEATURE, 3).d = 6)
/* the snippet scan from a jump meets an op not checked yet (found by fuzz_msc) */
MUT(invalid_op_after_jump, INSN(B_UP_FEATURE, 4).op = 200)
MUT(in_range, INSN(B_SSO_EXIT, 31).c = (uint16_t)(p->nconsts - 1))
MUT(in_type, INSN(B_SSO_EXIT, 31).c = 3)
MUT(call_arity, INSN(B_ACTIVE_EXIT, 5).d = 2)
MUT(call_arg_regs, INSN(B_ACTIVE_EXIT, 5).c = 3)
MUT(call_not_marked, p->externs[0].called = 0)
MUT(no_final_ret, SET(INSN(B_KICK_START, 1), BC_NOT, 0, 0, 0, 0))
MUT(no_final_end, SET(INSN(B_UP_REPORT_SINCE, 1), BC_UPDATE, 0, 2, 0, 0))
MUT(ret_in_update, SET(INSN(B_UP_LOGIN, 4), BC_RET, 0, 0, 0, 0))
MUT(end_in_value, SET(INSN(B_KICK_START, 1), BC_END, 0, 0, 0, 0))
MUT(update_in_value, SET(INSN(B_KICK_EXIT, 1), BC_UPDATE, 0, 0, 0, 0))
MUT(step_range, INSN(B_UP_LOGIN, 2).c = 2)
MUT(starton_kind, INSN(B_UP_LOGIN, 3).b = 0)
MUT(startonp_kind, INSN(B_UP_FEATURE, 5).b = 1)
/* the login block moved to the since-start scope of kickoff (with the
 * aggregate it updates), so its STARTON would only run once kickoff started */
MUT(starton_scope, p->aggregates[1].window = BC_WIN_SINCE_START; p->aggregates[1].milestone = 0;
    p->update_blocks[3] = p->update_blocks[0]; p->update_blocks[0] = BC_NO_BLOCK)
MUT(start_unbounded, p->milestones[3].start_kind = BC_START_NONE)
MUT(achieving_once, p->milestones[2].continuous = 0; p->milestones[2].nemits = 0)   /* no `on lost` left */
MUT(state_in_segment, SET(INSN(B_ENT, 0), BC_COMPLETED, 0, 0, 0, 0))
MUT(agg_in_when, SET(INSN(p->playbooks[0].steps[2].when_block, 0), BC_AGG, 0, 0, 0, 0))
MUT(update_other_event, INSN(B_UP_LOGIN, 1).b = 3)
MUT(update_wrong_scope, INSN(B_UP_REPORT, 4).b = 2)
MUT(update_count_operand, INSN(B_UP_FEATURE, 4).c = 1)
MUT(field_in_unlisted, p->update_blocks[0] = BC_NO_BLOCK)
MUT(read_before_write, INSN(B_KICK_EXIT, 1).a = 0)
MUT(wrong_operand_type, INSN(B_SSO_EXIT, 10).op = BC_ADDI)
MUT(mixed_at_join, INSN(B_SSO_EXIT, 40).a = 12)
MUT(unset_at_join, INSN(B_SSO_EXIT, 41).a = 13)
MUT(ret_type, INSN(B_SSO_EXIT, 41).a = 2)
MUT(call_arg_type, p->externs[0].params[0] = VALUE_INT)
MUT(update_value_type, INSN(B_UP_REPORT, 2).b = 4)
MUT(jmpf_not_bool, INSN(B_BUILD, 3).a = 1)
/* each register type and flag of opcodes.h that the verifier reads */
MUT(not_on_int, INSN(B_SSO_EXIT, 36).b = 0)
MUT(negf_on_int, INSN(B_SSO_EXIT, 14).b = 2)
MUT(lts_on_bool, INSN(B_SSO_EXIT, 29).b = 7)
/* the type an op writes is its res column: I2F's float reaches the NOT after it */
MUT(i2f_gives_float, SET(INSN(B_SSO_EXIT, 35), BC_I2F, 12, 0, 0, 0))
MUT(acct_id_is_string, INSN(B_ENT, 4).b = BC_ACCOUNT_ID)
MUT(inb_constant_type, INSN(B_SSO_EXIT, 34).c = 13)
MUT(seq_in_segment, SET(INSN(B_ENT, 0), BC_SEQ, 0, 0, 0, 0))
MUT(step_in_value, SET(INSN(B_KICK_EXIT, 1), BC_STEP, 0, 0, 0, 0))
MUT(start_gives_time, INSN(B_SSO_EXIT, 39).d = 40; INSN(B_SSO_EXIT, 41).a = 13)
MUT(eval_twice, p->eval_order[3] = 0)
MUT(eval_range, p->eval_order[3] = 4)
MUT(eval_start_after, p->eval_order[0] = 1; p->eval_order[1] = 0)
MUT(eval_reads, p->eval_order[2] = 3; p->eval_order[3] = 2)
#undef MUT

static const mutation mutations[] = {
  {"pool_unterminated", mut_pool_unterminated, "string pool does not end with a NUL byte"},
  {"string_outside_pool", mut_string_outside_pool, "milestone 0 name: string offset"},
  {"string_missing", mut_string_missing, "event 0 name: missing"},
  {"label_outside_pool", mut_label_outside_pool, "action `connect` label: string offset"},
  {"const_type", mut_const_type, "constant k0: unknown type 9"},
  {"const_string_outside", mut_const_string_outside, "constant k3: string of"},
  {"const_string_before_pool", mut_const_string_before_pool, "not inside the string pool"},
  {"block_outside_code", mut_block_outside_code, "block 0: instructions 0.."},
  {"block_start_overflow", mut_block_start_overflow, "are outside the code"},
  {"block_empty", mut_block_empty, "block 1 is empty"},
  {"block_too_many_regs", mut_block_too_many_regs, "block 0: 300 registers (at most 256)"},
  {"block_type", mut_block_type, "block 0: unknown type 7"},
  {"block_no_regs", mut_block_no_regs, "a value block needs a register"},
  {"block_milestone", mut_block_milestone, "block 0: milestone 99 does not exist"},
  {"missing_table", mut_missing_table, "event `feature_used`: the fields table is missing"},
  {"field_type", mut_field_type, "account field `plan`: unknown type 0"},
  {"field_has_default", mut_field_has_default, "has_default is 2"},
  {"field_default_range", mut_field_default_range, "default constant k500 does not exist"},
  {"field_default_type", mut_field_default_type, "account field `seats`: the default k3 is of type string, the field of type int"},
  {"segment_block_range", mut_segment_block_range, "segment `big`: block 1000 does not exist"},
  {"segment_block_type", mut_segment_block_type, "gives the wrong type: time, expected bool"},
  {"segment_block_update", mut_segment_block_update, "is an update block, not an expression"},
  {"agg_fn", mut_agg_fn, "aggregate g0: unknown function 9"},
  {"agg_window", mut_agg_window, "aggregate g0: unknown window 9"},
  {"agg_event", mut_agg_event, "aggregate g0: event 3 does not exist"},
  {"agg_count_arg", mut_agg_count_arg, "count takes no argument"},
  {"agg_arg_type", mut_agg_arg_type, "aggregate g1: unknown argument type 0"},
  {"agg_sum_string", mut_agg_sum_string, "sum, min, max and avg take int or float, not string"},
  {"agg_avg_result", mut_agg_avg_result, "aggregate g4: gives int, expected float"},
  {"agg_distinct_result", mut_agg_distinct_result, "aggregate g1: gives string, expected int"},
  {"agg_within_zero", mut_agg_within_zero, "window length 0 is not positive"},
  {"agg_since_block", mut_agg_since_block, "since of aggregate g3: block 4294967295 does not exist"},
  {"agg_since_block_type", mut_agg_since_block_type, "since of aggregate g3: block 3 gives the wrong type"},
  {"agg_since_start_milestone", mut_agg_since_start_milestone, "aggregate g2: milestone 4 does not exist"},
  {"agg_stray_milestone", mut_agg_stray_milestone, "without a `since start` window"},
  {"agg_owner", mut_agg_owner, "aggregate g1: owner milestone 4 does not exist"},
  {"seq_no_steps", mut_seq_no_steps, "sequence s0 has no steps"},
  {"seq_too_many_steps", mut_seq_too_many_steps, "sequence s0: 65537 steps (at most 65536)"},
  {"seq_negative_window", mut_seq_negative_window, "window length -1 is negative"},
  {"ms_start_kind", mut_ms_start_kind, "milestone `kickoff`: unknown start kind 9"},
  {"ms_start_block", mut_ms_start_block, "start of milestone `kickoff`: block 3 gives the wrong type: bool, expected time"},
  {"ms_start_after_range", mut_ms_start_after_range, "starts after milestone 4, which does not exist"},
  {"ms_start_after_self", mut_ms_start_after_self, "milestone `first_report`: starts after itself"},
  {"ms_deadline_no_start", mut_ms_deadline_no_start, "a deadline after the start, without a start clause"},
  {"ms_deadline_kind", mut_ms_deadline_kind, "unknown deadline kind 7"},
  {"ms_deadline_negative", mut_ms_deadline_negative, "deadline -5 is negative"},
  {"ms_deadline_block", mut_ms_deadline_block, "deadline of milestone `first_report`: block 6 gives the wrong type"},
  {"ms_estimate", mut_ms_estimate, "estimate -2 is negative"},
  {"ms_continuous", mut_ms_continuous, "continuous is 2"},
  {"ms_segment", mut_ms_segment, "milestone `kickoff`: segment 2 does not exist"},
  {"ms_entry_type", mut_ms_entry_type, "entry of milestone `first_report`: block 2 gives the wrong type: time, expected bool"},
  {"ms_exit_range", mut_ms_exit_range, "exit of milestone `kickoff`: block 19 does not exist"},
  {"ms_action_owner", mut_ms_action_owner, "action `connect`: unknown owner 3"},
  {"ms_action_block", mut_ms_action_block, "action `connect` of milestone `first_report`: block 4294967295"},
  {"ms_emit", mut_ms_emit, "milestone `first_report`: signal 0: missing"},
  {"ms_emit_kind", mut_ms_emit_kind, "milestone `first_report`: signal 1 fires on unknown kind 3"},
  {"ms_emit_overdue_no_deadline", mut_ms_emit_overdue_no_deadline,
   "milestone `active`: signal 0 fires when overdue, but the milestone has no deadline"},
  {"ms_emit_lost_once", mut_ms_emit_lost_once,
   "milestone `first_report`: signal 1 fires when lost, but the milestone is not continuous"},
  {"pb_start_block", mut_pb_start_block, "start of playbook `renewal`: block 0 gives the wrong type"},
  {"pb_step_tracks", mut_pb_step_tracks, "step `value`: tracks milestone 4, which does not exist"},
  {"pb_step_auto", mut_pb_step_auto, "auto is 2"},
  {"pb_step_when", mut_pb_step_when, "when of step `sso` of playbook `onboarding`: block 2 gives the wrong type"},
  {"pb_segment", mut_pb_segment, "playbook `onboarding`: segment 5 does not exist"},
  {"ext_params", mut_ext_params, "extern `churn_risk`: 40 parameters (at most 32)"},
  {"ext_param_type", mut_ext_param_type, "parameter 1 has unknown type 0"},
  {"ext_ret", mut_ext_ret, "extern `email_domain`: unknown return type 8"},
  {"ext_called_flag", mut_ext_called_flag, "called is 5"},
  {"ext_lib_missing", mut_ext_lib_missing, "extern `churn_risk` library: missing"},
  {"decl_order_twice", mut_decl_order_twice, "playbook `renewal`: declaration position 0 is used twice"},
  {"decl_order_range", mut_decl_order_range, "milestone `active`: declaration position 6 out of range"},
  {"update_range", mut_update_range, "update of event `report_created`, since start of milestone `kickoff`: block 77 does not exist"},
  {"update_value_block", mut_update_value_block, "block 3 is a value block, not an update block"},
  {"update_twice", mut_update_twice, "block 15 already runs for another event or scope"},
  {"opcode", mut_opcode, "block 3 (exit of milestone `kickoff`), instruction 1: invalid opcode 200"},
  {"register_range", mut_register_range, "block 3 (exit of milestone `kickoff`), instruction 2: register 40 out of range (block has 2)"},
  {"unused_operand", mut_unused_operand, "END: unused operand a is 1 (must be 0)"},
  {"unused_operand_d", mut_unused_operand_d, "LOADK: unused operand d is 9 (must be 0)"},
  {"const_range", mut_const_range, "constant k21 out of range (the program has 21)"},
  {"agg_range", mut_agg_range, "aggregate g6 out of range (the program has 6)"},
  {"seq_range", mut_seq_range, "sequence s1 out of range (the program has 1)"},
  {"milestone_range", mut_milestone_range, "milestone 4 out of range (the program has 4)"},
  {"playbook_range", mut_playbook_range, "playbook 2 out of range (the program has 2)"},
  {"field_range", mut_field_range, "block 15 (update `login`, account-wide), instruction 0: field 1 out of range (event `login` has 1)"},
  {"field_in_value_block", mut_field_in_value_block, "FIELD is only allowed in update blocks"},
  {"acct_range", mut_acct_range, "account field 3 out of range (the program has 3)"},
  {"extern_range", mut_extern_range, "extern 2 out of range (the program has 2)"},
  {"jump_outside", mut_jump_outside, "jump target 8 outside the block (8 instructions)"},
  {"jump_backwards", mut_jump_backwards, "jump to 2 goes backwards (blocks may not loop)"},
  {"jump_past_snippet", mut_jump_past_snippet, "instruction 3: jump to 6 leaves its snippet, which ends at instruction 4"},
  {"invalid_op_after_jump", mut_invalid_op_after_jump, "instruction 4: invalid opcode 200"},
  {"in_range", mut_in_range, "constants k20..k21 out of range (the program has 21)"},
  {"in_type", mut_in_type, "INI needs int/time/duration constants, k3 is a string"},
  {"call_arity", mut_call_arity, "calls `email_domain` with 2 arguments, it takes 1"},
  {"call_arg_regs", mut_call_arg_regs, "1 argument registers from register 3 are out of range (block has 3)"},
  {"call_not_marked", mut_call_not_marked, "calls `email_domain`, which is not marked as called"},
  {"no_final_ret", mut_no_final_ret, "the block does not end with RET, so it can run off its end"},
  {"no_final_end", mut_no_final_end, "the block does not end with END, so it can run off its end"},
  {"ret_in_update", mut_ret_in_update, "RET in an update block"},
  {"end_in_value", mut_end_in_value, "END in a value block"},
  {"update_in_value", mut_update_in_value, "UPDATE is only allowed in update blocks"},
  {"step_range", mut_step_range, "step 2 out of range (sequence s0 has 2)"},
  {"starton_kind", mut_starton_kind, "milestone `kickoff` does not start on an event"},
  {"startonp_kind", mut_startonp_kind, "playbook `renewal` does not start on an event"},
  {"starton_scope", mut_starton_scope, "STARTON outside the account-wide update blocks"},
  {"start_unbounded", mut_start_unbounded, "milestone `sso_done` has no start clause, so no start time"},
  {"achieving_once", mut_achieving_once, "ACHIEVING of `active`, which is not continuous"},
  {"state_in_segment", mut_state_in_segment, "block 0 (segment `enterprise`), instruction 0: COMPLETED is not allowed here"},
  {"agg_in_when", mut_agg_in_when, "AGG is not allowed here: this block is evaluated once per account"},
  {"update_other_event", mut_update_other_event, "aggregate g3 counts `report_created` events, this block runs for `login`"},
  {"update_wrong_scope", mut_update_wrong_scope, "aggregate g2 is updated in the wrong scope"},
  {"update_count_operand", mut_update_count_operand, "UPDATE of a count: operand c is 1 (must be 0)"},
  {"field_in_unlisted", mut_field_in_unlisted, "block 15 (unused), instruction 0: FIELD in an update block that no event runs"},
  {"read_before_write", mut_read_before_write, "instruction 2: register 1 is read before it is written"},
  {"wrong_operand_type", mut_wrong_operand_type, "instruction 10: ADDI needs int/time/duration, register 3 holds float"},
  {"mixed_at_join", mut_mixed_at_join, "instruction 41: register 12 holds different types on the paths that meet here"},
  {"unset_at_join", mut_unset_at_join, "instruction 41: register 13 is read before it is written"},
  {"ret_type", mut_ret_type, "RET of a bool block needs bool, register 2 holds int/time/duration"},
  {"call_arg_type", mut_call_arg_type, "argument 1 of `email_domain` needs int/time/duration, register 1 holds string"},
  {"update_value_type", mut_update_value_type, "aggregate g4 needs float, register 0 holds int/time/duration"},
  {"jmpf_not_bool", mut_jmpf_not_bool, "instruction 3: JMPF needs bool, register 1 holds int/time/duration"},
  {"not_on_int", mut_not_on_int, "instruction 36: NOT needs bool, register 0 holds int/time/duration"},
  {"negf_on_int", mut_negf_on_int, "instruction 14: NEGF needs float, register 2 holds int/time/duration"},
  {"lts_on_bool", mut_lts_on_bool, "instruction 29: LTS needs string, register 7 holds bool"},
  {"i2f_gives_float", mut_i2f_gives_float, "instruction 36: NOT needs bool, register 12 holds float"},
  {"acct_id_is_string", mut_acct_id_is_string, "instruction 6: LEI needs int/time/duration, register 0 holds string"},
  {"inb_constant_type", mut_inb_constant_type, "INB needs bool constants, k13 is a int"},
  {"seq_in_segment", mut_seq_in_segment, "instruction 0: SEQ is not allowed here"},
  {"step_in_value", mut_step_in_value, "instruction 1: STEP is only allowed in update blocks"},
  {"start_gives_time", mut_start_gives_time, "RET of a bool block needs bool, register 13 holds int/time/duration"},
  {"eval_twice", mut_eval_twice, "evaluation order: milestone `kickoff` appears twice"},
  {"eval_range", mut_eval_range, "evaluation order, position 3: milestone 4 does not exist"},
  {"eval_start_after", mut_eval_start_after, "puts milestone `first_report` before `kickoff`, which it starts after"},
  {"eval_reads", mut_eval_reads, "the evaluation order puts milestone `sso_done` before `active`, which it reads"},
};

START_TEST(test_verifier_rule) {
  const mutation *m = &mutations[_i];
  bc_program *p = sample_program();
  m->apply(p);
  char msg[512];
  bool ok = verify_program(p, msg, sizeof msg);
  bc_program_free(p);
  ck_assert_msg(!ok, "%s: the verifier accepted the program", m->name);
  ck_assert_msg(strstr(msg, m->expect), "%s: message \"%s\" does not contain \"%s\"", m->name, msg, m->expect);
}
END_TEST

START_TEST(test_verifier_message_is_truncated_safely) {
  bc_program *p = sample_program();
  INSN(B_KICK_EXIT, 2).c = 40;
  char msg[16];
  memset(msg, 'x', sizeof msg);
  ck_assert(!verify_program(p, msg, sizeof msg));
  ck_assert_uint_eq(strlen(msg), sizeof msg - 1);
  char title[8];
  verify_block_title(p, B_KICK_EXIT, true, title, sizeof title);
  ck_assert_str_eq(title, "exit of");
  bc_program_free(p);
}
END_TEST

START_TEST(test_block_titles) {
  bc_program *p = sample_program();
  char title[256];
  verify_block_title(p, B_KICK_EXIT, true, title, sizeof title);
  ck_assert_str_eq(title, "exit of milestone `kickoff`");
  verify_block_title(p, B_UP_REPORT_SINCE, false, title, sizeof title);
  ck_assert_str_eq(title, "update report_created, since start of milestone first_report");
  verify_block_title(p, p->milestones[1].actions[0].done_block, false, title, sizeof title);
  ck_assert_str_eq(title, "action connect of milestone first_report");
  verify_block_title(p, p->playbooks[0].steps[2].when_block, false, title, sizeof title);
  ck_assert_str_eq(title, "when of step sso of playbook onboarding");
  /* a block used twice */
  p->segment_blocks[1] = p->playbooks[0].steps[2].when_block;
  verify_block_title(p, p->segment_blocks[1], false, title, sizeof title);
  ck_assert_str_eq(title, "segment big; when of step sso of playbook onboarding");
  verify_block_title(p, 1, false, title, sizeof title);
  ck_assert_str_eq(title, "unused");
  char msg[256];
  ck_assert_msg(verify_program(p, msg, sizeof msg), "%s", msg);    /* unused blocks are allowed */
  bc_program_free(p);
}
END_TEST

/* Dead code after a RET is never run, so its register types are not checked. */
START_TEST(test_dead_code_not_type_checked) {
  bc_program *p = tiny_program();
  /* exit: LOADK r0 true; RET r0; NOT r1, r1 (reads an unset register); RET r0 */
  p->blocks[0].len = 0;
  p->ncode = 0;
  p->nblocks = 0;
  begin(p, VALUE_BOOL, 2, 0);
  I(p, BC_LOADK, 0, 0, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  I(p, BC_NOT, 1, 1, 0, 0);
  I(p, BC_RET, 0, 0, 0, 0);
  end(p);
  char msg[256];
  ck_assert_msg(verify_program(p, msg, sizeof msg), "%s", msg);
  bc_program_free(p);
}
END_TEST

/* ---- files ------------------------------------------------------------------------ */

START_TEST(test_foreign_files) {
  static const unsigned char elf[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  expect_read_fails(elf, sizeof elf, "not an MSL compiled file (bad magic)");
  expect_read_fails((const unsigned char *)"milestone x {}\n", 15, "not an MSL compiled file (bad magic)");
  expect_read_fails((const unsigned char *)"", 0, "not an MSL compiled file (the file is empty)");
  expect_read_fails((const unsigned char *)"M", 1, "truncated file");
  expect_read_fails((const unsigned char *)"X", 1, "bad magic");
}
END_TEST

START_TEST(test_version_mismatch) {
  bc_program *p = sample_program();
  size_t len;
  unsigned char *bytes = to_bytes(p, &len);
  put_le(bytes + 4, 7, 4);
  expect_read_fails(bytes, len, "compiled by a different msl (format version 7, this msl reads 3): "
                                "rebuild it with `msl build`");
  expect_read_fails(bytes, 8, "format version 7");   /* before the rest of the header */
  put_le(bytes + 4, 1, 4);    /* format 1 still had MOVE and JMP: its opcode numbers mean other ops now */
  expect_read_fails(bytes, len, "compiled by a different msl (format version 1, this msl reads 3): "
                                "rebuild it with `msl build`");
  free(bytes);
  bc_program_free(p);
}
END_TEST

START_TEST(test_truncated_files) {
  bc_program *p = sample_program();
  size_t len;
  unsigned char *bytes = to_bytes(p, &len);
  for (size_t n = 1; n < len; n++) expect_read_fails(bytes, n, "truncated file");
  free(bytes);
  bc_program_free(p);
}
END_TEST

START_TEST(test_checksum_and_length) {
  bc_program *p = sample_program();
  size_t len;
  unsigned char *bytes = to_bytes(p, &len);
  bytes[len / 2] ^= 0x10;
  expect_read_fails(bytes, len, "checksum mismatch: the file is corrupt");
  bytes[len / 2] ^= 0x10;
  bytes[16] ^= 1;
  expect_read_fails(bytes, len, "checksum mismatch");
  bytes[16] ^= 1;
  /* data after the payload */
  unsigned char *longer = malloc(len + 1);
  ck_assert_ptr_nonnull(longer);
  memcpy(longer, bytes, len);
  longer[len] = 0;
  expect_read_fails(longer, len + 1, "corrupt file: data after the end of the payload");
  free(longer);
  /* a payload length far beyond the file */
  put_le(bytes + 8, (uint64_t)1 << 62, 8);
  expect_read_fails(bytes, len, "truncated file (the payload should have 4611686018427387904 bytes");
  free(bytes);
  bc_program_free(p);
}
END_TEST

/* Damage inside the payload with a correct checksum: the parser must say so. */
START_TEST(test_corrupt_payload) {
  bc_program *p = sample_program();
  size_t len;
  unsigned char *bytes = to_bytes(p, &len);
  unsigned char *copy = malloc(len);
  ck_assert_ptr_nonnull(copy);

  /* a string pool "of 4 GB": refused before allocating */
  memcpy(copy, bytes, len);
  put_le(copy + MSC_HEADER_SIZE, 0xFFFFFFF0u, 4);
  fix_crc(copy, len);
  expect_read_fails(copy, len, "corrupt file: the string pool table claims 4294967280 entries, more than the");

  /* a code count of 2^32-1 */
  size_t code = code_offset(p);
  memcpy(copy, bytes, len);
  put_le(copy + code, 0xFFFFFFFFu, 4);
  fix_crc(copy, len);
  expect_read_fails(copy, len, "the code table claims 4294967295 entries");

  /* a code count one too small: every later table is read shifted */
  memcpy(copy, bytes, len);
  put_le(copy + code, p->ncode - 1, 4);
  fix_crc(copy, len);
  expect_read_fails(copy, len, "corrupt file");

  /* an unknown constant type (the first constant's type byte) */
  size_t first_const = MSC_HEADER_SIZE + 4 + p->strings_len + 4;
  memcpy(copy, bytes, len);
  copy[first_const] = 77;
  fix_crc(copy, len);
  expect_read_fails(copy, len, "corrupt file: constant k0 has unknown type 77");

  /* a bool constant holding 2: k19 is the first bool of the sample */
  size_t at = first_const;
  for (uint32_t i = 0; i < 19; i++) at += 1 + (p->consts[i].type == VALUE_BOOL ? 1 : 8);
  ck_assert_uint_eq(bytes[at], VALUE_BOOL);
  memcpy(copy, bytes, len);
  copy[at + 1] = 2;
  fix_crc(copy, len);
  expect_read_fails(copy, len, "corrupt file: bool constant k19 holds 2");

  /* a string constant pointing past the pool (k2, "", is at offset 18 in the consts) */
  at = first_const + 2 * 9;
  ck_assert_uint_eq(bytes[at], VALUE_STRING);
  memcpy(copy, bytes, len);
  put_le(copy + at + 1, p->strings_len, 4);
  fix_crc(copy, len);
  expect_read_fails(copy, len, "corrupt file: string constant k2 (offset");

  /* the last byte of the file cut off the payload (length and crc fixed) */
  memcpy(copy, bytes, len);
  put_le(copy + 8, len - MSC_HEADER_SIZE - 1, 8);
  fix_crc(copy, len - 1);
  expect_read_fails(copy, len - 1, "corrupt file: the evaluation order table claims 4 entries, more than the 15 bytes left can hold");

  /* a stray byte after the last table */
  unsigned char *longer = malloc(len + 1);
  ck_assert_ptr_nonnull(longer);
  memcpy(longer, bytes, len);
  longer[len] = 0;
  put_le(longer + 8, len + 1 - MSC_HEADER_SIZE, 8);
  fix_crc(longer, len + 1);
  expect_read_fails(longer, len + 1, "corrupt file: 1 unread bytes after the last table");
  free(longer);

  /* a register operand out of range: parsed fine, refused by the verifier */
  uint32_t kick_exit = p->milestones[0].exit_block;
  size_t insn = code + 4 + 8 * ((size_t)p->blocks[kick_exit].start + 2);
  ck_assert_uint_eq(bytes[insn], BC_LEI);
  memcpy(copy, bytes, len);
  copy[insn + 1] = 200;
  fix_crc(copy, len);
  expect_read_fails(copy, len, "block 3 (exit of milestone `kickoff`), instruction 2: register 200 out of range");

  free(copy);
  free(bytes);
  bc_program_free(p);
}
END_TEST

/* Every single-byte change of a valid file: without fixing the checksum it
 * is always refused; with the checksum fixed it either loads a program that
 * verifies (and lists without trouble) or is refused with a message. */
START_TEST(test_every_byte_flipped) {
  bc_program *p = sample_program();
  size_t len;
  unsigned char *bytes = to_bytes(p, &len);
  unsigned char *copy = malloc(len);
  ck_assert_ptr_nonnull(copy);
  FILE *devnull = fopen("/dev/null", "w");
  ck_assert_ptr_nonnull(devnull);
  static const unsigned char masks[] = {0x01, 0x02, 0x10, 0x80, 0xFF};
  char msg[512];
  int loaded = 0;
  for (size_t i = 0; i < len; i++)
    for (size_t k = 0; k < sizeof masks; k++) {
      memcpy(copy, bytes, len);
      copy[i] ^= masks[k];
      bc_program *q = msc_read(copy, len, msg, sizeof msg);
      ck_assert_msg(!q, "byte %zu ^ 0x%02x was not noticed", i, masks[k]);
      ck_assert_msg(msg[0], "byte %zu ^ 0x%02x: no message", i, masks[k]);
      if (i < MSC_HEADER_SIZE) continue;
      fix_crc(copy, len);
      q = msc_read(copy, len, msg, sizeof msg);
      if (q) {
        loaded++;
        ck_assert_msg(verify_program(q, msg, sizeof msg), "byte %zu: loaded but does not verify: %s", i, msg);
        disasm_program(q, devnull);
        bc_program_free(q);
      } else {
        ck_assert_msg(msg[0], "byte %zu ^ 0x%02x: refused without a message", i, masks[k]);
      }
    }
  /* flips of names and harmless values load: the sweep saw both outcomes */
  ck_assert_int_gt(loaded, 0);
  fclose(devnull);
  free(copy);
  free(bytes);
  bc_program_free(p);
}
END_TEST

START_TEST(test_load_file) {
  char dir[] = "/tmp/test_msc.XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256], msg[512];
  int io_err = -1;

  snprintf(path, sizeof path, "%s/missing.msc", dir);
  ck_assert_ptr_null(msc_load_file(path, &io_err, msg, sizeof msg));
  ck_assert_int_eq(io_err, ENOENT);

  /* a directory opens but cannot be read */
  ck_assert_ptr_null(msc_load_file(dir, &io_err, msg, sizeof msg));
  ck_assert_int_eq(io_err, EISDIR);

  bc_program *p = sample_program();
  size_t len;
  unsigned char *bytes = to_bytes(p, &len);
  snprintf(path, sizeof path, "%s/sample.msc", dir);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
  bc_program *q = msc_load_file(path, &io_err, msg, sizeof msg);
  ck_assert_msg(q != NULL, "%s", msg);
  ck_assert_int_eq(io_err, 0);
  assert_programs_equal(p, q);
  bc_program_free(q);

  /* a short file, a file with more after the payload, an absurd length */
  unsigned char *longer = malloc(len + 4);
  ck_assert_ptr_nonnull(longer);
  memcpy(longer, bytes, len);
  memcpy(longer + len, "more", 4);
  unsigned char absurd[MSC_HEADER_SIZE];
  memcpy(absurd, bytes, sizeof absurd);
  put_le(absurd + 8, (uint64_t)1 << 40, 8);
  struct { const unsigned char *data; size_t len; const char *want; } cases[] = {
    {bytes, 10, "truncated file (10 bytes, the header takes 20)"},
    {bytes, len - 1, "truncated file (the payload should have"},
    {longer, len + 4, "corrupt file: data after the end of the payload"},
    {absurd, sizeof absurd, "corrupt file: a payload of 1099511627776 bytes is more than an MSL program has"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(cases[i].data, 1, cases[i].len, f), cases[i].len);
    ck_assert_int_eq(fclose(f), 0);
    q = msc_load_file(path, &io_err, msg, sizeof msg);
    ck_assert_ptr_null(q);
    ck_assert_int_eq(io_err, 0);
    ck_assert_msg(strstr(msg, cases[i].want), "case %zu: \"%s\"", i, msg);
  }
  free(longer);
  unlink(path);
  rmdir(dir);
  free(bytes);
  bc_program_free(p);
}
END_TEST

START_TEST(test_write_errors) {
  char msg[512];
  bc_program *p = sample_program();
  FILE *full = fopen("/dev/full", "wb");
  if (full) {
    ck_assert(!msc_write(p, full, msg, sizeof msg));
    ck_assert_msg(strstr(msg, "write error: "), "%s", msg);
    fclose(full);
  }
  /* a program that does not verify is never written */
  p->aggregates[0].fn = 9;
  FILE *devnull = fopen("/dev/null", "wb");
  ck_assert_ptr_nonnull(devnull);
  ck_assert(!msc_write(p, devnull, msg, sizeof msg));
  ck_assert_msg(strstr(msg, "internal error: the compiled program does not verify: aggregate g0"), "%s", msg);
  fclose(devnull);
  bc_program_free(p);
}
END_TEST

/* ---- the listing --------------------------------------------------------------------- */

START_TEST(test_disasm) {
  bc_program *p = sample_program();
  char *out = listing(p);
  static const char *const lines[] = {
    "; MSL compiled program, format 3\n",
    "; 3 account fields, 3 events, 2 segments, 6 aggregates, 1 sequence\n",
    "; 4 milestones, 2 playbooks, 2 externs\n",
    "\naccount\n  id: string\n  plan: string\n  seats: int = 0\n  kickoff: time = @1970-01-01T00:00:00Z\n",
    "\nevent e1 feature_used\n  feature: string\n  module: string = \"\"\n",
    "  k7 duration 14d\n",
    "  k9 float 2.5\n",
    "  k17 string \"a\\\"\\n\"\n",
    "  k19 bool true\n",
    "  g0 count(feature_used) -> int (used by kickoff)\n",
    "  g1 distinct(login.user) within 30d -> int (used by first_report)\n",
    "  g2 count(report_created) since start of milestone first_report -> int (used by first_report)\n",
    "  g3 sum(report_created.pages) since block 4 -> int (used by first_report)\n",
    "  g4 avg(report_created.score) within 7d -> float (used by active)\n",
    "  g5 max(report_created.score) -> float\n",
    "  s0 sequence(login, report_created within 7d) (used by first_report)\n",
    "\nsegments\n  enterprise: block 0\n  big: block 1\n",
    "  m0 kickoff \"Kickoff held\"\n    mode once, declared 0\n    description \"Kickoff call done\"\n",
    "    segments enterprise\n    start at block 2\n    deadline 7d\n    exit block 3\n",
    "    start after kickoff\n    deadline at block 5\n    estimate 10d\n    entry block 6\n    blocked when block 9\n",
    "    action connect \"Connect the CRM\" owner customer done when block 7\n",
    "    action build owner csm done when block 8\n    on achieved emit \"advocacy_ask\"\n"
    "    on overdue emit \"report_late\"\n",
    "  m2 active \"Active usage\"\n    mode continuous, declared 2\n    start on login\n",
    "    exit block 10\n    on lost emit \"went_quiet\"\n",
    "  p0 onboarding \"Enterprise onboarding\"\n    declared 4\n    segments enterprise\n    start on feature_used\n",
    "  m3 sso_done\n    mode once, declared 3\n    start on assignment\n",
    "    step sso \"SSO rollout\" tracks sso_done when block 14\n    step live tracks active auto\n",
    "    on complete emit \"handoff\"\n",
    "  p1 renewal\n    declared 5\n    start at block 13\n",
    "  x0 email_domain(string) -> string from \"msl_text\"\n",
    "  x1 churn_risk(int, string) -> float from \"libacme_models\" (not called)\n",
    "\nevaluation order: kickoff, first_report, active, sso_done\n",
    "\nblock 0: segment enterprise (bool, 3 regs)\n"
    "  0000  ACCT     r0, account.plan\n"
    "  0001  LOADK    r1, k3 (\"enterprise\")\n"
    "  0002  EQS      r0, r0, r1\n"
    "  0003  JMPT     r0, 0007\n",
    "\nblock 3: exit of milestone kickoff (bool, 2 regs)\n  0000  AGG      r0, g0\n",
    "  0000  COMPLETED r0, kickoff\n",
    "  0004  ACCT     r1, account.id\n  0005  CALL     r0, email_domain(r1)\n",
    "  0002  ADDI     r2, r0, r1\n",
    "  0031  INI      r11, r0, [k13 (5), k14 (3)]\n",
    "  0032  INF      r11, r4, [k15 (1.5), k16 (2.5)]\n",
    "  0034  INB      r11, r7, [k19 (true), k20 (false)]\n",
    "  0039  JMPT     r12, 0041\n  0040  START    r13, sso_done\n  0041  RET      r12\n",
    "\nblock 15: update login, account-wide (1 reg)\n"
    "  0000  FIELD    r0, login.user\n"
    "  0001  UPDATE   g1, r0\n"
    "  0002  STEP     s0, 0\n"
    "  0003  STARTON  active\n"
    "  0004  END\n",
    "  0004  UPDATE   g0\n  0005  STARTONP onboarding\n",
    "\nblock 18: update report_created, since start of milestone first_report (1 reg)\n  0000  UPDATE   g2\n  0001  END\n",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    if (!strstr(out, lines[i])) fprintf(stderr, "---- listing:\n%s", out);
    ck_assert_msg(strstr(out, lines[i]), "the listing lacks:\n%s", lines[i]);
  }
  char *again = listing(p);
  ck_assert_str_eq(out, again);
  free(again);
  free(out);
  bc_program_free(p);
}
END_TEST

START_TEST(test_disasm_values) {
  bc_program *p = tiny_program();
  kint(p, VALUE_DURATION, 90 * 60000000LL);
  kint(p, VALUE_DURATION, -36 * 3600000000LL);
  kint(p, VALUE_DURATION, 1500000);
  kint(p, VALUE_DURATION, 0);
  kint(p, VALUE_TIME, 1769851800123456LL);
  kfloat(p, 3.0);
  kfloat(p, 0.1);
  kfloat(p, -1e300);
  kint(p, VALUE_INT, INT64_MIN);
  char *out = listing(p);
  static const char *const lines[] = {
    "  k1 duration 90m\n", "  k2 duration -36h\n", "  k3 duration 1.5s\n", "  k4 duration 0s\n",
    "  k5 time @2026-01-31T09:30:00.123456Z\n", "  k6 float 3.0\n", "  k7 float 0.1\n",
    "  k8 float -1e+300\n", "  k9 int -9223372036854775808\n",
    "\nblock 0: exit of milestone ready (bool, 1 reg)\n  0000  LOADK    r0, k0 (true)\n  0001  RET      r0\n",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    if (!strstr(out, lines[i])) fprintf(stderr, "---- listing:\n%s", out);
    ck_assert_msg(strstr(out, lines[i]), "the listing lacks:\n%s", lines[i]);
  }
  free(out);
  bc_program_free(p);
}
END_TEST

static Suite *msc_suite(void) {
  Suite *s = suite_create("msc");
  TCase *t = tcase_create("programs");
  tcase_add_test(t, test_op_tables);
  tcase_add_test(t, test_bc_str);
  tcase_add_test(t, test_sample_uses_every_opcode);
  tcase_add_test(t, test_valid_programs_verify);
  tcase_add_test(t, test_round_trip);
  suite_add_tcase(s, t);
  t = tcase_create("verifier");
  tcase_add_loop_test(t, test_verifier_rule, 0, (int)(sizeof mutations / sizeof mutations[0]));
  tcase_add_test(t, test_verifier_message_is_truncated_safely);
  tcase_add_test(t, test_block_titles);
  tcase_add_test(t, test_dead_code_not_type_checked);
  suite_add_tcase(s, t);
  t = tcase_create("files");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_foreign_files);
  tcase_add_test(t, test_version_mismatch);
  tcase_add_test(t, test_truncated_files);
  tcase_add_test(t, test_checksum_and_length);
  tcase_add_test(t, test_corrupt_payload);
  tcase_add_test(t, test_every_byte_flipped);
  tcase_add_test(t, test_load_file);
  tcase_add_test(t, test_write_errors);
  suite_add_tcase(s, t);
  t = tcase_create("disasm");
  tcase_add_test(t, test_disasm);
  tcase_add_test(t, test_disasm_values);
  suite_add_tcase(s, t);
  return s;
}

/* Writes the fuzzer's seeds: the sample and the tiny program. */
static int write_seeds(const char *dir) {
  struct { const char *name; bc_program *(*make)(void); } seeds[] = {
    {"sample.msc", sample_program}, {"tiny.msc", tiny_program},
  };
  for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
    char path[1024], msg[512];
    snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
    bc_program *p = seeds[i].make();
    FILE *f = fopen(path, "wb");
    bool ok = f && msc_write(p, f, msg, sizeof msg);
    if (f && fclose(f) != 0) ok = false;
    bc_program_free(p);
    if (!ok) {
      fprintf(stderr, "test_msc: %s: cannot write\n", path);
      return 1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) return write_seeds(argv[2]);
  SRunner *r = srunner_create(msc_suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
