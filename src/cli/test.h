/* test.h — `msl test` (prefix test_): test.c runs the `test` blocks of rule
 * files through the compiler and the VM, as `msl run` would run their
 * accounts; test_report.c writes what happened as text, JSON or JUnit XML,
 * with the coverage of the rules by the tests. */
#ifndef MSL_TEST_H
#define MSL_TEST_H

#include <stdbool.h>
#include <stdio.h>

#include "core/arena.h"

/* `msl test ARGS...`: the exit status (0 all passed, 1 a test failed or a
 * file has errors or coverage is under --threshold, 2 usage, 4 I/O). */
int test_command(int argc, char **argv);

/* ---- what test.c hands test_report.c ----------------------------------------- */

typedef enum { TEST_FORMAT_TEXT, TEST_FORMAT_JSON, TEST_FORMAT_JUNIT } test_format;

/* Why a test failed: one expectation that did not hold, or the test as a
 * whole (expect NULL: a runtime error, no as-of time). */
typedef struct test_failure {
  int line, col;           /* of the `expect`, or of the test */
  const char *expect;      /* the expectation as written, white space collapsed */
  const char *expected;    /* NULL when message says it all */
  const char *actual;
  const char *message;     /* the explanation after the expectation */
} test_failure;

typedef struct test_result {
  const char *name;
  int line, col;
  double seconds;
  ptr_vec failures;        /* test_failure*; empty: passed */
} test_result;

/* A coverage item: a criterion of a milestone (true and false both seen
 * by some test), a playbook step (entered by some test's account) or an
 * `emit` clause (its signal expected by an expectation that held). */
typedef enum {
  TEST_COV_ENTRY, TEST_COV_EXIT, TEST_COV_ACTION, TEST_COV_BLOCKED, TEST_COV_STEP, TEST_COV_SIGNAL
} test_cov_kind;

typedef struct test_cov_item {
  test_cov_kind kind;
  const char *unit;        /* the milestone or playbook */
  const char *name;        /* the action, step or signal; NULL for the other kinds */
  bool seen_true, seen_false;   /* a step: seen_true = entered; a signal: seen_true = expected */
} test_cov_item;

bool test_cov_covered(const test_cov_item *it);

typedef struct test_file {
  const char *path;
  const char *error;       /* non-NULL: its tests did not run, and why */
  ptr_vec results;         /* test_result*, in file order */
  ptr_vec cov;             /* test_cov_item*: the file's own milestones and playbooks
                              (not its imports'), in declaration order */
} test_file;

typedef struct test_run {
  arena *arena;            /* everything below lives in it */
  ptr_vec files;           /* test_file* */
  int passed, failed;
  test_format format;
  bool verbose;            /* text: every test with its time */
  bool coverage;
  double threshold;        /* --threshold: percent; negative when not given */
} test_run;

/* The coverage totals over every file. */
void test_cov_totals(const test_run *r, int *covered, int *total);
double test_cov_percent(int covered, int total);

/* Writes the report in r->format to out; false when writing failed. */
bool test_report(const test_run *r, FILE *out);

#endif
