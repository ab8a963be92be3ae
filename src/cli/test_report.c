/* test_report.c — what `msl test` prints (prefix test_, see test.h): text
 * for people (failures as file:line:col lines an editor jumps to), JSON
 * for scripts, JUnit XML as Jenkins and GitLab read it (one testsuite per
 * file), and the coverage of each file's rules by its tests. */
#include "cli/test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/util.h"

/* ---- coverage -------------------------------------------------------------------------------- */

static int file_covered(const test_file *f) {
  int covered = 0;
  for (int k = 0; k < f->cov.len; k++) covered += test_cov_covered(f->cov.items[k]);
  return covered;
}

void test_cov_totals(const test_run *r, int *covered, int *total) {
  *covered = *total = 0;
  for (int i = 0; i < r->files.len; i++) {
    const test_file *f = r->files.items[i];
    if (f->error) continue;   /* as in the report: its tests did not run */
    *covered += file_covered(f);
    *total += f->cov.len;
  }
}

/* Rounded to the 2 decimals shown, so that a threshold compares with what
 * the report says; nothing to cover is all covered. */
double test_cov_percent(int covered, int total) {
  return total ? round((double)covered * 10000.0 / (double)total) / 100.0 : 100.0;
}

static const char *const cov_kind_names[] = {
    [TEST_COV_ENTRY] = "entry",   [TEST_COV_EXIT] = "exit", [TEST_COV_ACTION] = "action",
    [TEST_COV_BLOCKED] = "blocked", [TEST_COV_STEP] = "step", [TEST_COV_SIGNAL] = "signal",
};

/* What the tests saw of an item, in words. */
static const char *cov_seen(const test_cov_item *it) {
  if (it->kind == TEST_COV_STEP) return it->seen_true ? "entered" : "never entered";
  if (it->kind == TEST_COV_SIGNAL) return it->seen_true ? "expected" : "never expected";
  if (it->seen_true && it->seen_false) return "true and false";
  if (it->seen_true) return "only true";
  return it->seen_false ? "only false" : "never evaluated";
}

static void text_cov_item(FILE *out, const test_cov_item *it) {
  fprintf(out, "  %s  %s: ", test_cov_covered(it) ? "covered" : "missing", it->unit);
  switch (it->kind) {
    case TEST_COV_ACTION: fprintf(out, "action `%s`", it->name); break;
    case TEST_COV_STEP: fprintf(out, "step `%s`", it->name); break;
    case TEST_COV_SIGNAL: fprintf(out, "signal \"%s\"", it->name); break;
    case TEST_COV_BLOCKED: fputs("blocked when", out); break;
    default: fputs(cov_kind_names[it->kind], out); break;
  }
  fprintf(out, ", %s\n", cov_seen(it));
}

static void text_coverage(const test_run *r, FILE *out) {
  for (int i = 0; i < r->files.len; i++) {
    const test_file *f = r->files.items[i];
    if (f->error) continue;
    int covered = file_covered(f);
    fprintf(out, "coverage of %s: %d of %d (%.2f%%)\n", f->path, covered, f->cov.len,
            test_cov_percent(covered, f->cov.len));
    for (int k = 0; k < f->cov.len; k++) text_cov_item(out, f->cov.items[k]);
  }
  int covered, total;
  test_cov_totals(r, &covered, &total);
  fprintf(out, "coverage: %d of %d (%.2f%%)\n", covered, total, test_cov_percent(covered, total));
}

/* ---- text -------------------------------------------------------------------------------------- */

/* A test name between quotes: its quotes, backslashes and control bytes escaped. */
static void put_name(FILE *out, const char *name) {
  size_t len = strlen(name), cap = 4 * len + 4;
  char *buf = util_xalloc(cap);
  util_escape(buf, cap, name, len, "\"\\", len);
  fprintf(out, "\"%s\"", buf);
  free(buf);
}

static void text_failure(FILE *out, const test_file *f, const test_result *t, const test_failure *x) {
  fprintf(out, "%s:%d:%d: FAIL ", f->path, x->line, x->col);
  put_name(out, t->name);
  if (x->expect) fprintf(out, ": %s \xe2\x80\x94 %s\n", x->expect, x->message);
  else fprintf(out, ": %s\n", x->message);
}

static void report_text(const test_run *r, FILE *out) {
  for (int i = 0; i < r->files.len; i++) {
    const test_file *f = r->files.items[i];
    if (f->error) fprintf(out, "%s: tests not run: %s\n", f->path, f->error);
    for (int k = 0; k < f->results.len; k++) {
      const test_result *t = f->results.items[k];
      if (r->verbose) {
        fprintf(out, "%s %s: ", t->failures.len ? "FAIL" : "PASS", f->path);
        put_name(out, t->name);
        fprintf(out, " (%.2f ms)\n", t->seconds * 1000.0);
      }
      for (int j = 0; j < t->failures.len; j++) text_failure(out, f, t, t->failures.items[j]);
    }
  }
  if (r->coverage) text_coverage(r, out);
  fprintf(out, "%d passed, %d failed\n", r->passed, r->failed);
}

/* ---- JSON ---------------------------------------------------------------------------------------- */


static void json_failure(FILE *out, const test_failure *x) {
  fprintf(out, "{\"line\": %d, \"column\": %d, \"expect\": ", x->line, x->col);
  util_json_string_file(out, x->expect);
  fputs(", \"expected\": ", out);
  util_json_string_file(out, x->expected);
  fputs(", \"actual\": ", out);
  util_json_string_file(out, x->actual);
  fputs(", \"message\": ", out);
  util_json_string_file(out, x->message);
  fputc('}', out);
}

static void json_coverage(const test_run *r, FILE *out) {
  fputs(",\n  \"coverage\": {\"files\": [", out);
  bool first = true;
  for (int i = 0; i < r->files.len; i++) {
    const test_file *f = r->files.items[i];
    if (f->error) continue;
    int covered = file_covered(f);
    fprintf(out, "%s\n    {\"file\": ", first ? "" : ",");
    first = false;
    util_json_string_file(out, f->path);
    fprintf(out, ", \"covered\": %d, \"total\": %d, \"percent\": %.2f, \"items\": [", covered, f->cov.len,
            test_cov_percent(covered, f->cov.len));
    for (int k = 0; k < f->cov.len; k++) {
      const test_cov_item *it = f->cov.items[k];
      fprintf(out, "%s\n      {\"unit\": ", k ? "," : "");
      util_json_string_file(out, it->unit);
      fprintf(out, ", \"kind\": \"%s\", \"name\": ", cov_kind_names[it->kind]);
      util_json_string_file(out, it->name);
      fprintf(out, ", \"seen\": \"%s\", \"covered\": %s}", cov_seen(it), test_cov_covered(it) ? "true" : "false");
    }
    fputs("]}", out);
  }
  int covered, total;
  test_cov_totals(r, &covered, &total);
  fprintf(out, "],\n    \"covered\": %d, \"total\": %d, \"percent\": %.2f, \"threshold\": ", covered, total,
          test_cov_percent(covered, total));
  if (r->threshold >= 0) fprintf(out, "%g}", r->threshold);
  else fputs("null}", out);
}

static void report_json(const test_run *r, FILE *out) {
  fputs("{\n  \"tests\": [", out);
  bool first = true;
  for (int i = 0; i < r->files.len; i++) {
    const test_file *f = r->files.items[i];
    for (int k = 0; k < f->results.len; k++) {
      const test_result *t = f->results.items[k];
      fprintf(out, "%s\n    {\"file\": ", first ? "" : ",");
      first = false;
      util_json_string_file(out, f->path);
      fputs(", \"name\": ", out);
      util_json_string_file(out, t->name);
      fprintf(out, ", \"line\": %d, \"column\": %d, \"passed\": %s, \"time_s\": %.6f, \"failures\": [", t->line,
              t->col, t->failures.len ? "false" : "true", t->seconds);
      for (int j = 0; j < t->failures.len; j++) {
        if (j) fputs(", ", out);
        json_failure(out, t->failures.items[j]);
      }
      fputs("]}", out);
    }
  }
  fputs("],\n  \"files\": [", out);
  for (int i = 0; i < r->files.len; i++) {
    const test_file *f = r->files.items[i];
    int failed = 0;
    for (int k = 0; k < f->results.len; k++) failed += ((const test_result *)f->results.items[k])->failures.len > 0;
    fprintf(out, "%s\n    {\"file\": ", i ? "," : "");
    util_json_string_file(out, f->path);
    fprintf(out, ", \"tests\": %d, \"failed\": %d, \"error\": ", f->results.len, failed);
    util_json_string_file(out, f->error);
    fputc('}', out);
  }
  fprintf(out, "],\n  \"passed\": %d,\n  \"failed\": %d", r->passed, r->failed);
  if (r->coverage) json_coverage(r, out);
  fputs("\n}\n", out);
}

/* ---- JUnit XML --------------------------------------------------------------------------------- */

/* Text for an attribute or element: markup characters as entities, and
 * the control bytes XML 1.0 cannot hold as `?`. */
static void xml_text(FILE *out, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '&': fputs("&amp;", out); break;
      case '<': fputs("&lt;", out); break;
      case '>': fputs("&gt;", out); break;
      case '"': fputs("&quot;", out); break;
      case '\n': fputs("&#10;", out); break;
      case '\t': fputs("&#9;", out); break;
      default: fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out); break;
    }
  }
}

/* The failure line as the text report writes it, without the file and test. */
static void xml_failure_line(FILE *out, const test_failure *x) {
  if (x->expect) {
    xml_text(out, x->expect);
    fputs(" \xe2\x80\x94 ", out);
  }
  xml_text(out, x->message);
}

static void junit_testcase(FILE *out, const test_file *f, const char *classname, const test_result *t) {
  fputs("    <testcase name=\"", out);
  xml_text(out, t->name);
  fputs("\" classname=\"", out);
  xml_text(out, classname);
  fputs("\" file=\"", out);
  xml_text(out, f->path);
  fprintf(out, "\" line=\"%d\" time=\"%.6f\"", t->line, t->seconds);
  if (!t->failures.len) {
    fputs("/>\n", out);
    return;
  }
  const test_failure *first = t->failures.items[0];
  fprintf(out, ">\n      <failure type=\"%s\" message=\"", first->expect ? "expectation" : "test");
  xml_failure_line(out, first);
  fputs("\">", out);
  for (int j = 0; j < t->failures.len; j++) {
    const test_failure *x = t->failures.items[j];
    if (j) fputs("&#10;", out);
    xml_text(out, f->path);
    fprintf(out, ":%d:%d: ", x->line, x->col);
    xml_failure_line(out, x);
  }
  fputs("</failure>\n    </testcase>\n", out);
}

static void junit_suite(FILE *out, const test_run *r, const test_file *f) {
  double seconds = 0;
  int failed = 0;
  for (int k = 0; k < f->results.len; k++) {
    const test_result *t = f->results.items[k];
    seconds += t->seconds;
    failed += t->failures.len > 0;
  }
  /* the file without .ms: Jenkins groups test cases by classname */
  char *classname = util_xstrndup(f->path, strlen(f->path) - (cli_ends_with(f->path, ".ms") ? 3 : 0));
  fputs("  <testsuite name=\"", out);
  xml_text(out, f->path);
  fprintf(out, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"0\" time=\"%.6f\">\n",
          f->error ? 1 : f->results.len, failed, f->error ? 1 : 0, seconds);
  if (r->coverage && !f->error) {
    int covered = file_covered(f);
    fprintf(out, "    <properties>\n      <property name=\"coverage\" value=\"%.2f\"/>\n"
                 "      <property name=\"coverage_items\" value=\"%d of %d\"/>\n    </properties>\n",
            test_cov_percent(covered, f->cov.len), covered, f->cov.len);
  }
  if (f->error) {
    fputs("    <testcase name=\"(the file)\" classname=\"", out);
    xml_text(out, classname);
    fputs("\">\n      <error type=\"not run\" message=\"", out);
    xml_text(out, f->error);
    fputs("\"/>\n    </testcase>\n", out);
  }
  for (int k = 0; k < f->results.len; k++) junit_testcase(out, f, classname, f->results.items[k]);
  fputs("  </testsuite>\n", out);
  free(classname);
}

static void report_junit(const test_run *r, FILE *out) {
  double seconds = 0;
  int errors = 0;
  for (int i = 0; i < r->files.len; i++) {
    const test_file *f = r->files.items[i];
    errors += f->error != NULL;
    for (int k = 0; k < f->results.len; k++) seconds += ((const test_result *)f->results.items[k])->seconds;
  }
  fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<testsuites name=\"msl test\" tests=\"%d\" failures=\"%d\" errors=\"%d\" time=\"%.6f\">\n",
          r->passed + r->failed + errors, r->failed, errors, seconds);
  for (int i = 0; i < r->files.len; i++) junit_suite(out, r, r->files.items[i]);
  fputs("</testsuites>\n", out);
}

bool test_report(const test_run *r, FILE *out) {
  switch (r->format) {
    case TEST_FORMAT_JSON: report_json(r, out); break;
    case TEST_FORMAT_JUNIT: report_junit(r, out); break;
    default: report_text(r, out); break;
  }
  return !ferror(out);
}
