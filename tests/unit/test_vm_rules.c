/* test_vm_rules.c — the VM, one line per behaviour, in the style of YARA's
 * assert_true_rule: each case is a rule (or a whole program after a shared
 * prelude), a tiny events.csv and the rows msl run must write.  Expected rows
 * come from SPEC sections 5-6 and were cross-checked with the oracle
 * (../shared/oracle/msl_oracle.py).  A second test disassembles every case and
 * checks that together they reach every opcode of opcodes.h, so coverage
 * cannot silently regress. */
#include "bc/disasm.h"
#include "bc/opcodes.h"
#include "vm_harness.h"

/* Every case sees these declarations and this events.csv header. */
#define PRELUDE                                                                          \
  "account { plan: string = \"pro\"  seats: int = 3  price: float = 1.5  trial: bool = false }\n" \
  "event i { n: int }\nevent f { x: float }\nevent s { v: string }\n"                    \
  "event t { due: time  d: duration }\nevent b { ok: bool }\nevent go\n"
#define HEADER "account,time,event,n,x,v,due,d,ok,milestone\n"

typedef struct vm_case {
  const char *rules;   /* after PRELUDE */
  const char *events;  /* after HEADER */
  const char *as_of;   /* NULL: the last event's time */
  int status;          /* the exit status of the run */
  const char *file;    /* the output checked (NULL: none) */
  const char *rows;    /* its rows, without the header */
} vm_case;

/* exit EXPR of milestone m (once mode) completes at AT */
#define COMPLETED_AT(EXPR, EVENTS, AT) \
  {"milestone m \"M\" { exit " EXPR " }\n", EVENTS, NULL, 0, "milestones.csv", "a,m,completed,,," AT ",,,,\n"}
/* exit EXPR of milestone m never holds */
#define IN_PROGRESS(EXPR, EVENTS) \
  {"milestone m \"M\" { exit " EXPR " }\n", EVENTS, NULL, 0, "milestones.csv", "a,m,in_progress,,,,,,,\n"}
/* exit EXPR of milestone m stops the run with a runtime error (exit 3),
 * which writes no output */
#define RUNTIME_ERROR(EXPR, EVENTS) {"milestone m \"M\" { exit " EXPR " }\n", EVENTS, NULL, EXIT_DATA, NULL, NULL}
/* a whole program: FILE holds ROWS */
#define ROWS(RULES, EVENTS, AS_OF, FILE, R) {RULES, EVENTS, AS_OF, 0, FILE, R}

static const vm_case cases[] = {
  COMPLETED_AT("count(i) >= 3", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-03T00:00:00Z"),  /* count_no_window */
  IN_PROGRESS("count(i within 1d) >= 2", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n"),  /* count_within */
  COMPLETED_AT("count(i within 2d) >= 2", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-02T00:00:00Z"),  /* count_within_two_days */
  COMPLETED_AT("sum(i.n) == 12", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-02T00:00:00Z"),  /* sum_no_window */
  COMPLETED_AT("sum(i.n within 2d) == 5 and count(i) == 3", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-03T00:00:00Z"),  /* sum_within */
  COMPLETED_AT("min(i.n) < 0", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-03T00:00:00Z"),  /* min_no_window */
  COMPLETED_AT("max(i.n) == 7", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-02T00:00:00Z"),  /* max_no_window */
  COMPLETED_AT("avg(i.n) == 6.0", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-02T00:00:00Z"),  /* avg_int_is_float */
  COMPLETED_AT("distinct(s.v) >= 2", "a,2026-01-01,s,,,p,,,,\na,2026-01-02,s,,,p,,,,\na,2026-01-03,s,,,q,,,,\n", "2026-01-03T00:00:00Z"),  /* distinct_strings */
  IN_PROGRESS("distinct(s.v within 1d) >= 2", "a,2026-01-01,s,,,p,,,,\na,2026-01-02,s,,,q,,,,\na,2026-01-03,s,,,q,,,,\n"),  /* distinct_within */
  COMPLETED_AT("sum(f.x) > 1.0", "a,2026-01-01,f,,0.5,,,,,\na,2026-01-02,f,,0.75,,,,,\n", "2026-01-02T00:00:00Z"),  /* sum_float */
  COMPLETED_AT("min(f.x within 2d) > 1.0", "a,2026-01-01,f,,0.5,,,,,\na,2026-01-02,f,,2.5,,,,,\na,2026-01-03,f,,3.5,,,,,\n", "2026-01-03T00:00:00Z"),  /* min_float_within */
  COMPLETED_AT("max(f.x) >= 2.5", "a,2026-01-01,f,,0.5,,,,,\na,2026-01-02,f,,2.5,,,,,\n", "2026-01-02T00:00:00Z"),  /* max_float */
  COMPLETED_AT("avg(f.x within 1d) == 2.0", "a,2026-01-01,f,,1.0,,,,,\na,2026-01-02,f,,2.0,,,,,\n", "2026-01-02T00:00:00Z"),  /* avg_float_within */
  COMPLETED_AT("count(go) >= 1 and sum(i.n) == 0", "a,2026-01-02,go,,,,,,,\n", "2026-01-02T00:00:00Z"),  /* empty_sum_is_zero */
  COMPLETED_AT("count(i where n > 4) >= 2", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-02T00:00:00Z"),  /* where_filter */
  COMPLETED_AT("count(s where v == \"q\") >= 1", "a,2026-01-01,s,,,p,,,,\na,2026-01-02,s,,,q,,,,\n", "2026-01-02T00:00:00Z"),  /* where_string_field */
  ROWS("milestone m \"M\" { start on go exit count(i since start) >= 2 }\n", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\na,2026-01-02,go,,,,,,,\n", NULL, "milestones.csv", "a,m,completed,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,2026-01-03T00:00:00Z,,,,\n"),  /* count_since_start */
  ROWS("milestone m \"M\" { start at @2026-01-02 exit sum(i.n since start) == 5 }\n", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", NULL, "milestones.csv", "a,m,completed,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,2026-01-03T00:00:00Z,,,,\n"),  /* sum_since_start */
  COMPLETED_AT("max(i.n since @2026-01-02T12:00:00Z) == -2", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-03T00:00:00Z"),  /* max_since_time */
  COMPLETED_AT("distinct(s.v since @2026-01-02) == 1 and count(go) == 1", "a,2026-01-01,s,,,p,,,,\na,2026-01-02,s,,,q,,,,\na,2026-01-03,s,,,q,,,,\na,2026-01-04,go,,,,,,,\n", "2026-01-04T00:00:00Z"),  /* distinct_since_time */
  ROWS("milestone m \"M\" { start on go exit min(i.n since start) == 7 }\n", "a,2026-01-01,i,1,,,,,,\na,2026-01-02,go,,,,,,,\na,2026-01-02,i,7,,,,,,\n", NULL, "milestones.csv", "a,m,completed,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,,,,\n"),  /* min_since_start */
  ROWS("milestone m \"M\" { start on go exit avg(i.n since start) == 4.0 }\n", "a,2026-01-01,i,100,,,,,,\na,2026-01-02,go,,,,,,,\na,2026-01-02,i,3,,,,,,\na,2026-01-03,i,5,,,,,,\n", NULL, "milestones.csv", "a,m,completed,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,2026-01-03T00:00:00Z,,,,\n"),  /* avg_since_start */
  COMPLETED_AT("sequence(go, i, s)", "a,2026-01-01,go,,,,,,,\na,2026-01-02,s,,,p,,,,\na,2026-01-02,i,1,,,,,,\na,2026-01-03,s,,,p,,,,\n", "2026-01-03T00:00:00Z"),  /* sequence_plain */
  IN_PROGRESS("sequence(go, i within 1d)", "a,2026-01-01,go,,,,,,,\na,2026-01-03,i,1,,,,,,\n"),  /* sequence_within_too_slow */
  IN_PROGRESS("sequence(go, i within 2d)", "a,2026-01-01,go,,,,,,,\na,2026-01-03,i,1,,,,,,\n"),  /* sequence_within_bound_excluded */
  COMPLETED_AT("sequence(go, i within 3d)", "a,2026-01-01,go,,,,,,,\na,2026-01-03,i,1,,,,,,\n", "2026-01-03T00:00:00Z"),  /* sequence_within_in_time */
  COMPLETED_AT("count(i) + 2 == 5", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-03T00:00:00Z"),  /* int_add */
  COMPLETED_AT("count(i) - 1 == 1", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-02T00:00:00Z"),  /* int_sub */
  COMPLETED_AT("count(i) * 3 == 9", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-03T00:00:00Z"),  /* int_mul */
  COMPLETED_AT("sum(i.n) / 5 == 2", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-02T00:00:00Z"),  /* int_div_truncates */
  COMPLETED_AT("min(i.n) / 5 == 0 and count(i) == 3", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-03T00:00:00Z"),  /* int_div_negative_truncates */
  COMPLETED_AT("min(i.n) % 3 == -2", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-03T00:00:00Z"),  /* int_mod_sign_of_dividend */
  COMPLETED_AT("-min(i.n) == 2", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-03T00:00:00Z"),  /* int_negate */
  COMPLETED_AT("count(i) != 1 and count(i) < 3 and count(i) <= 2", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-02T00:00:00Z"),  /* int_ne_lt_le */
  COMPLETED_AT("count(i) + 0.5 == 2.5", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-02T00:00:00Z"),  /* int_to_float */
  COMPLETED_AT("(sum(f.x) - 1.0) * 2.0 / 4.0 == 0.25", "a,2026-01-01,f,,0.5,,,,,\na,2026-01-02,f,,1.0,,,,,\n", "2026-01-02T00:00:00Z"),  /* float_sub_mul_div */
  COMPLETED_AT("-max(f.x) < -2.0", "a,2026-01-01,f,,0.5,,,,,\na,2026-01-02,f,,2.5,,,,,\n", "2026-01-02T00:00:00Z"),  /* float_negate */
  COMPLETED_AT("max(f.x) != 0.5 and max(f.x) <= 2.5", "a,2026-01-01,f,,0.5,,,,,\na,2026-01-02,f,,2.5,,,,,\n", "2026-01-02T00:00:00Z"),  /* float_ne_le */
  COMPLETED_AT("count(go) >= 1 and 1.0 / sum(f.x) > 1000.0", "a,2026-01-02,go,,,,,,,\n", "2026-01-02T00:00:00Z"),  /* float_div_by_zero_is_ieee */
  COMPLETED_AT("count(t where due >= @2026-01-10) >= 1", "a,2026-01-01,t,,,,2026-01-05T00:00:00Z,1d,,\na,2026-01-02,t,,,,2026-01-11T00:00:00Z,1d,,\n", "2026-01-02T00:00:00Z"),  /* time_field_compare */
  COMPLETED_AT("count(t where due + d == @2026-01-06) >= 1", "a,2026-01-01,t,,,,2026-01-05T00:00:00Z,2d,,\na,2026-01-02,t,,,,2026-01-05T00:00:00Z,1d,,\n", "2026-01-02T00:00:00Z"),  /* time_plus_duration */
  COMPLETED_AT("count(t where @2026-01-10 - due > 4d) >= 1", "a,2026-01-01,t,,,,2026-01-06T00:00:00Z,1d,,\na,2026-01-02,t,,,,2026-01-05T00:00:00Z,1d,,\n", "2026-01-02T00:00:00Z"),  /* time_minus_time */
  COMPLETED_AT("count(t where d * 2 == 6h) >= 1", "a,2026-01-01,t,,,,2026-01-05T00:00:00Z,2h,,\na,2026-01-02,t,,,,2026-01-05T00:00:00Z,3h,,\n", "2026-01-02T00:00:00Z"),  /* duration_times_int */
  ROWS("milestone m \"M\" { start on go exit count(t since start) >= 1 and start < @2026-01-02 }\n", "a,2026-01-01,go,,,,,,,\na,2026-01-02,t,,,,2026-01-01T12:00:00Z,1d,,\na,2026-01-03,t,,,,2026-01-02T00:00:00Z,1d,,\n", NULL, "milestones.csv", "a,m,completed,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,,,\n"),  /* start_as_value */
  COMPLETED_AT("count(s where v != \"p\" and v == \"q\") >= 1", "a,2026-01-01,s,,,p,,,,\na,2026-01-02,s,,,q,,,,\n", "2026-01-02T00:00:00Z"),  /* string_eq_ne */
  COMPLETED_AT("count(s where v < \"b\") >= 1", "a,2026-01-01,s,,,b,,,,\na,2026-01-02,s,,,B,,,,\n", "2026-01-02T00:00:00Z"),  /* string_lt_bytewise */
  COMPLETED_AT("count(s where v <= \"b\") >= 2", "a,2026-01-01,s,,,b,,,,\na,2026-01-02,s,,,c,,,,\na,2026-01-03,s,,,a,,,,\n", "2026-01-03T00:00:00Z"),  /* string_le */
  COMPLETED_AT("account.plan == \"pro\" and account.id == \"a\" and count(go) >= 1", "a,2026-01-02,go,,,,,,,\n", "2026-01-02T00:00:00Z"),  /* account_field_and_id */
  COMPLETED_AT("count(i where n in [7, 9]) >= 1", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\n", "2026-01-02T00:00:00Z"),  /* in_int_list */
  COMPLETED_AT("count(f where x in [2.5, 3.5]) >= 1", "a,2026-01-01,f,,0.5,,,,,\na,2026-01-02,f,,2.5,,,,,\n", "2026-01-02T00:00:00Z"),  /* in_float_list */
  COMPLETED_AT("count(s where v in [\"q\", \"r\"]) >= 1", "a,2026-01-01,s,,,p,,,,\na,2026-01-02,s,,,r,,,,\n", "2026-01-02T00:00:00Z"),  /* in_string_list */
  COMPLETED_AT("count(b where ok in [true]) >= 1", "a,2026-01-01,b,,,,,,false,\na,2026-01-02,b,,,,,,true,\n", "2026-01-02T00:00:00Z"),  /* in_bool_list */
  COMPLETED_AT("count(b where ok == true) >= 1 and count(b where ok != true) >= 1 and count(b where not ok) >= 1", "a,2026-01-01,b,,,,,,false,\na,2026-01-02,b,,,,,,true,\n", "2026-01-02T00:00:00Z"),  /* bool_eq_ne_not */
  COMPLETED_AT("count(go) >= 1 or count(i) >= 3", "a,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\na,2026-01-04,go,,,,,,,\n", "2026-01-03T00:00:00Z"),  /* or_short_circuit */
  ROWS("milestone one \"One\" { exit count(i) >= 2 }\nmilestone two \"Two\" { exit completed(one) and count(go) >= 1 }\n", "a,2026-01-01,go,,,,,,,\na,2026-01-01,i,5,,,,,,\na,2026-01-02,i,7,,,,,,\na,2026-01-03,i,-2,,,,,,\na,2026-01-03,go,,,,,,,\n", NULL, "milestones.csv", "a,one,completed,,,2026-01-02T00:00:00Z,,,,\na,two,completed,,,2026-01-02T00:00:00Z,,,,\n"),  /* completed_of_other */
  ROWS("milestone hot \"Hot\" { mode continuous exit count(i within 1d) >= 1 }\nmilestone two \"Two\" { exit achieving(hot) and count(go) >= 1 }\n", "a,2026-01-01,i,1,,,,,,\na,2026-01-03,go,,,,,,,\na,2026-01-03,i,1,,,,,,\na,2026-01-04,go,,,,,,,\n", NULL, "milestones.csv", "a,hot,not_achieving,,,2026-01-01T00:00:00Z,2026-01-04T00:00:00Z,,,\na,two,completed,,,2026-01-03T00:00:00Z,,,,\n"),  /* achieving_of_continuous */
  ROWS("milestone hot \"Hot\" { mode continuous exit count(i within 1d) >= 1 }\n", "a,2026-01-01,i,1,,,,,,\n", "2026-01-05", "milestones.csv", "a,hot,not_achieving,,,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,,\n"),  /* continuous_loses */
  ROWS("milestone m \"M\" { start on i exit count(go since start) >= 1 }\n", "a,2026-01-01,go,,,,,,,\na,2026-01-02,i,1,,,,,,\na,2026-01-03,go,,,,,,,\n", NULL, "milestones.csv", "a,m,completed,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,2026-01-03T00:00:00Z,,,,\n"),  /* start_on_event */
  ROWS("milestone one \"One\" { exit count(i) >= 1 }\nmilestone m \"M\" { start after one exit count(go since start) >= 1 }\n", "a,2026-01-01,go,,,,,,,\na,2026-01-02,i,1,,,,,,\na,2026-01-03,go,,,,,,,\n", NULL, "milestones.csv", "a,one,completed,,,2026-01-02T00:00:00Z,,,,\na,m,completed,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,2026-01-03T00:00:00Z,,,,\n"),  /* start_after_milestone */
  ROWS("milestone m \"M\" { start at @2026-01-02 exit count(go since start) >= 1 }\n", "a,2026-01-01,go,,,,,,,\n", "2026-01-03", "milestones.csv", "a,m,in_progress,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,,,,,\n"),  /* start_at_time */
  ROWS("milestone m \"M\" { exit count(i) >= 9 }\n", "a,2026-01-02,ms.complete,,,,,,,m\n", NULL, "milestones.csv", "a,m,completed,,,2026-01-02T00:00:00Z,,,,\n"),  /* control_complete */
  ROWS("milestone m1 \"M1\" { exit count(i) >= 1 }\nmilestone m2 \"M2\" { exit count(s) >= 1 }\nplaybook p \"P\" { start on go step one \"One\" tracks m1 auto step two \"Two\" tracks m2 auto }\n", "a,2026-01-01,go,,,,,,,\na,2026-01-02,i,1,,,,,,\n", NULL, "playbooks.csv", "a,p,two,2026-01-02T00:00:00Z,\n"),  /* playbook_start_on */
  ROWS("import \"std/text\"\nmilestone m \"M\" { exit upper(account.plan) == \"PRO\" and count(go) >= 1 }\n", "a,2026-01-02,go,,,,,,,\n", NULL, "milestones.csv", "a,m,completed,,,2026-01-02T00:00:00Z,,,,\n"),  /* call_stdlib_extern */
  ROWS("milestone m \"M\" { mode continuous exit count(s within 1d) >= 1 }\n", "a,2026-01-01T10:00:00.5Z,s,,,x,,,,\n", "2026-01-05", "milestones.csv", "a,m,not_achieving,,,2026-01-01T10:00:00.500000Z,2026-01-02T10:00:00.500000Z,,,\n"),  /* window_expiry_is_exact: e + D is the instant e leaves `within D` */
  ROWS("milestone m \"M\" { mode continuous exit distinct(s.v within 2d) >= 2 }\n", "a,2026-01-01,s,,,x,,,,\na,2026-01-02,s,,,x,,,,\na,2026-01-02,s,,,y,,,,\na,2026-01-03,s,,,y,,,,\n", "2026-01-10", "milestones.csv", "a,m,not_achieving,,,2026-01-02T00:00:00Z,2026-01-04T00:00:00Z,,,\n"),  /* distinct_in_window_forgets_expired_values: x last seen 01-02 leaves at 01-04 */
  ROWS("milestone hi \"Hi\" { mode continuous exit max(i.n within 2d) >= 10 }\nmilestone lo \"Lo\" { mode continuous exit min(i.n within 2d) >= 5 }\n", "a,2026-01-01,i,12,,,,,,\na,2026-01-02,i,3,,,,,,\na,2026-01-03,i,7,,,,,,\n", "2026-01-10", "milestones.csv", "a,hi,not_achieving,,,2026-01-01T00:00:00Z,2026-01-03T00:00:00Z,,,\na,lo,not_achieving,,,2026-01-01T00:00:00Z,2026-01-05T00:00:00Z,,,\n"),  /* min_max_in_window: 3 leaves on 01-04 (min back to 7), 7 on 01-05 (empty: 0) */
  ROWS("milestone hi \"Hi\" { mode continuous exit max(i.n within 1d) >= 8 }\nmilestone act \"Act\" { mode continuous exit count(go within 2h) >= 1 }\n", "a,2026-01-01T10:00:00Z,i,5,,,,,,\na,2026-01-01T12:00:00Z,i,10,,,,,,\na,2026-01-02T11:00:00Z,go,,,,,,,\n", "2026-01-04", "milestones.csv", "a,hi,not_achieving,,,2026-01-01T12:00:00Z,2026-01-02T12:00:00Z,,,\na,act,not_achieving,,,2026-01-02T11:00:00Z,2026-01-02T13:00:00Z,,,\n"),  /* dominated_window_front_keeps_expiries: the 10 drops the 5, its expiry is still an instant */
  ROWS("milestone m \"M\" { mode continuous exit count(i within 1d) >= 2 }\n", "a,2026-01-01,i,1,,,,,,\na,2026-01-01,i,2,,,,,,\na,2026-01-01T12:00:00Z,i,3,,,,,,\n", "2026-01-05", "milestones.csv", "a,m,not_achieving,,,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,,\n"),  /* count_window_rows_sharing_a_time_leave_together: 3 -> 1 at 01-02 */
  ROWS("milestone m \"M\" { mode continuous exit avg(i.n within 1d) >= 1.0 }\n", "a,2026-01-01,i,10,,,,,,\na,2026-01-01,i,10,,,,,,\na,2026-01-01T12:00:00Z,i,1,,,,,,\n", "2026-01-05", "milestones.csv", "a,m,not_achieving,,,2026-01-01T00:00:00Z,2026-01-02T12:00:00Z,,,\n"),  /* avg_window_rows_sharing_a_time_leave_together: 1 / 1 at 01-02, empty (0) at 12:00 */
  ROWS("milestone total \"S\" { exit sum(f.x) >= 0.3 }\nmilestone mean \"V\" { exit avg(f.x within 1d) > 0.15 }\n", "a,2026-01-01,f,,0.1,,,,,\na,2026-01-02,f,,0.2,,,,,\n", NULL, "milestones.csv", "a,total,completed,,,2026-01-02T00:00:00Z,,,,\na,mean,completed,,,2026-01-02T00:00:00Z,,,,\n"),  /* float_sum_and_avg */
  ROWS("milestone m \"M\" { exit sequence(go, i) }\n", "x,2026-01-01,go,,,,,,,\nx,2026-01-01,i,1,,,,,,\ny,2026-01-01,go,,,,,,,\ny,2026-01-02,i,1,,,,,,\n", NULL, "milestones.csv", "x,m,in_progress,,,,,,,\ny,m,completed,,,2026-01-02T00:00:00Z,,,,\n"),  /* sequence_needs_strictly_increasing_times */
  ROWS("milestone m \"M\" { exit sequence(go, i within 2d) }\n", "x,2026-01-01,go,,,,,,,\nx,2026-01-05,go,,,,,,,\nx,2026-01-06,i,1,,,,,,\ny,2026-01-01,go,,,,,,,\ny,2026-01-03,i,1,,,,,,\n", NULL, "milestones.csv", "x,m,completed,,,2026-01-06T00:00:00Z,,,,\ny,m,in_progress,,,,,,,\n"),  /* sequence_within_uses_latest_first_event */
  ROWS("milestone m \"M\" { start on go exit count(go since start) >= 1 }\n", "a,2026-01-01,i,1,,,,,,\na,2026-01-02,go,,,,,,,\n", NULL, "milestones.csv", "a,m,completed,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,,,,\n"),  /* since_start_counts_the_starting_event */
  ROWS("milestone first \"First\" { exit count(go) >= 1 }\nmilestone second \"Second\" { start after first deadline 2d exit count(i since start) >= 1 }\n", "x,2026-01-01,go,,,,,,,\nx,2026-01-04,i,1,,,,,,\ny,2026-01-01,go,,,,,,,\ny,2026-01-02,i,1,,,,,,\n", "2026-01-05", "milestones.csv", "x,first,completed,,,2026-01-01T00:00:00Z,,,,\nx,second,completed,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-04T00:00:00Z,,2026-01-03T00:00:00Z,false,\ny,first,completed,,,2026-01-01T00:00:00Z,,,,\ny,second,completed,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,,2026-01-03T00:00:00Z,true,\n"),  /* start_after_and_deadline */
  ROWS("milestone m \"M\" {\n  action one \"One\" done when count(go) >= 1\n  action two \"Two\" done when count(i) >= 1\n  action three \"Three\" done when count(s) >= 1\n}\n", "x,2026-01-01,go,,,,,,,\nx,2026-01-02,i,1,,,,,,\n", NULL, "milestones.csv", "x,m,in_progress,,,,,,,0.6667\n"),  /* actions_give_progress */
  ROWS("milestone m \"M\" { start at @2026-01-02 exit count(go) >= 9 }\n", "x,2026-01-02,ms.complete,,,,,,,m\n", NULL, "milestones.csv", "x,m,completed,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,2026-01-02T00:00:00Z,,,,\n"),  /* complete_at_the_start_instant */
  RUNTIME_ERROR("count(go) / count(i) >= 2", "acme,2026-01-01,go,,,,,,,\n"),  /* division_by_zero_stops_the_run */
  RUNTIME_ERROR("sum(i.n) * 2 > 0", "acme,2026-01-01,i,9223372036854775807,,,,,,\n"),  /* overflow_stops_the_run */
  RUNTIME_ERROR("count(i) / count(go) >= 1", "a,2026-01-01,i,1,,,,,,\n"),  /* int_div_by_zero */
  RUNTIME_ERROR("count(i) % count(go) >= 1", "a,2026-01-01,i,1,,,,,,\n"),  /* int_mod_by_zero */
  RUNTIME_ERROR("sum(i.n) + 1 > 0", "a,2026-01-01,i,9223372036854775807,,,,,,\n"),  /* int_add_overflow */
  RUNTIME_ERROR("max(i.n) * 2 > 0", "a,2026-01-01,i,4611686018427387904,,,,,,\n"),  /* int_mul_overflow */
  RUNTIME_ERROR("min(i.n) - 1 < 0", "a,2026-01-01,i,-9223372036854775808,,,,,,\n"),  /* int_sub_overflow */
  RUNTIME_ERROR("-min(i.n) > 0", "a,2026-01-01,i,-9223372036854775808,,,,,,\n"),  /* int_negate_overflow */
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static bc_program *compile_case(const vm_case *c) { return compile_rules(PRELUDE, c->rules); }

START_TEST(vm_case_runs) {
  const vm_case *c = &cases[_i];
  int status = run_compiled(compile_case(c), HEADER, c->events, c->as_of);
  ck_assert_msg(status == c->status, "case %d (%s): exit %d, want %d", _i, c->rules, status, c->status);
  if (!c->file) {
    ck_assert_msg(read_rows("milestones.csv") == NULL, "case %d (%s): an output after exit %d", _i, c->rules,
                  status);
  } else {
    const char *got = read_rows(c->file);
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(strcmp(got, c->rows) == 0, "case %d (%s): %s is\n%s want\n%s", _i, c->rules, c->file, got,
                  c->rows);
  }
}
END_TEST

START_TEST(cases_reach_every_opcode) {
  static const char *const names[] = {
#define MSL_OP_NAME(name, ...) #name,
      MSL_OPCODES(MSL_OP_NAME)
#undef MSL_OP_NAME
  };
  enum { NOPS = sizeof names / sizeof names[0] };
  bool seen[NOPS] = {false};
  for (int k = 0; k < NCASES; k++) {
    bc_program *p = compile_case(&cases[k]);
    FILE *listing = tmpfile();
    ck_assert_ptr_nonnull(listing);
    disasm_program(p, listing);
    bc_program_free(p);
    rewind(listing);
    char line[512];
    while (fgets(line, sizeof line, listing)) {
      /* instruction lines: "  0003  ADDI     r2, r0, r1" */
      char offset[16], op[32];
      if (sscanf(line, " %15s %31s", offset, op) != 2 || strspn(offset, "0123456789") != 4 || offset[4]) continue;
      for (int n = 0; n < NOPS; n++)
        if (strcmp(op, names[n]) == 0) seen[n] = true;
    }
    fclose(listing);
  }
  for (int n = 0; n < NOPS; n++) ck_assert_msg(seen[n], "no case reaches opcode %s", names[n]);
}
END_TEST

int main(void) {
  Suite *s = suite_create("vm_rules");
  TCase *tc = tcase_create("vm_rules");
  tcase_add_checked_fixture(tc, vm_setup, vm_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, vm_case_runs, 0, NCASES);
  tcase_add_test(tc, cases_reach_every_opcode);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
