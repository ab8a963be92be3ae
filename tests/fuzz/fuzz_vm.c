/* fuzz_vm.c — libFuzzer target: the VM running std/text externs over
 * fuzzer-made events with long strings.
 *
 * One of a few fixed programs (compiled once, externs bound through the
 * stdlib's own libmsl_text.so, so run from the repository root after
 * building it) is chosen by the first byte; the rest of the input is a
 * stream of events for a handful of accounts, with string fields that can
 * be tens of kilobytes long (extern results outgrow the VM's scratch), equal
 * and increasing times, and control events.  Every account is then finished
 * at the latest time.  Runtime errors are fine; the sanitizers check the
 * rest (memory, undefined behaviour, leaks). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc/compile.h"
#include "vm/native.h"
#include "front/sema.h"
#include "vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every program declares `note { body: string, who: string, n: int }` as
 * its only event, so the decoder below fits them all. */
#define FUZZ_EVENTS "event note { body: string  who: string  n: int }\n"
static const char *const fuzz_programs[] = {
    "import \"std/text\"\n" FUZZ_EVENTS
    "milestone same \"same\" { exit count(note where lower(body) == upper(body)) >= 2 }\n"
    "milestone domains \"domains\" { mode continuous\n"
    "  exit distinct(note.who where email_domain(who) != lower(trim(body)) within 1d) >= 3 }\n"
    "milestone longest \"longest\" { start on note where contains(upper(body), trim(who))\n"
    "  exit max(note.n where length(lower(body)) > length(who) since start) > 5 }\n",

    "import \"std/text\"\n" FUZZ_EVENTS
    "milestone fresh \"fresh\" { start on assignment\n"
    "  exit count(note where starts_with(lower(body), lower(who)) since start) >= 2\n"
    "  on achieved emit \"fresh\" }\n"
    "milestone seq \"seq\" { exit sequence(note where ends_with(upper(who), \"A\"),\n"
    "  note where trim(body) == trim(upper(who)) within 2h) }\n"
    "playbook pb \"pb\" { step one \"one\" tracks fresh auto  step two \"two\" tracks seq }\n",

    "import \"std/text\"\n" FUZZ_EVENTS
    "segment long = true\n"
    "milestone sums \"sums\" { segments long mode continuous\n"
    "  entry count(note where lower(who) < upper(body)) >= 1\n"
    "  exit sum(note.n where contains(trim(lower(body)), email_domain(who)) within 30m) >= 10\n"
    "  on achieved emit \"up\" }\n"
    "milestone mins \"mins\" { exit min(note.n where length(trim(body)) != length(body)) < -3\n"
    "  blocked when distinct(note.body where upper(body) != body) > 4 }\n",
};
#define FUZZ_NPROGRAMS (sizeof fuzz_programs / sizeof *fuzz_programs)

typedef struct fuzz_compiled {
  bc_program *p;
  native_fn **externs;
} fuzz_compiled;

static fuzz_compiled fuzz_compile(const char *text, native_registry *reg) {
  arena a;
  arena_init(&a);
  diag_list d;
  diag_init(&d, &a);
  sema_options opts = {.stdlib_dir = "stdlib"};
  msl_source src = {"fuzz.ms", text, strlen(text)};
  msl_program *prog = sema_load_source(&a, &src, &opts, &d);
  if (!prog || d.errors || !sema_check(prog, &opts, &d)) {
    diag_render_text(stderr, &d, false);
    abort();
  }
  fuzz_compiled c = {compile_and_verify(prog, &d), NULL};
  arena_free(&a);
  if (!c.p) abort();
  char msg[512];
  c.externs = calloc(c.p->nexterns ? c.p->nexterns : 1, sizeof *c.externs);
  if (!c.externs) abort();
  for (uint32_t i = 0; i < c.p->nexterns; i++) {
    const bc_extern *x = &c.p->externs[i];
    if (!x->called) continue;
    value_type params[MSL_EXTERN_MAX_PARAMS];
    for (uint32_t k = 0; k < x->nparams; k++) params[k] = (value_type)x->params[k];
    c.externs[i] = native_bind(reg, bc_str(c.p, x->lib), bc_str(c.p, x->base_dir), bc_str(c.p, x->name), params,
                               (int)x->nparams, (value_type)x->ret, msg, sizeof msg);
    if (!c.externs[i]) {
      fprintf(stderr, "fuzz_vm: %s (run from the repository root after `make`)\n", msg);
      abort();
    }
  }
  return c;
}

/* The input as a stream of bytes, 0 once it runs out. */
typedef struct fuzz_in {
  const uint8_t *p;
  size_t n;
} fuzz_in;

static uint8_t take(fuzz_in *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

/* A string: short ones straight from the input, long ones a piece of the
 * input repeated up to ~40 KB (letters, '@' and spaces come from it). */
static size_t take_string(fuzz_in *in, char *buf, size_t cap) {
  uint8_t h = take(in);
  size_t repeat = h & 0x80 ? take(in) : 0;
  size_t piece = h & 15;
  if (piece > in->n) piece = in->n;
  size_t len = piece;
  if (h & 0x80) len = piece ? piece * (1 + repeat * 16) : repeat * 160;
  if (len > cap) len = cap;
  for (size_t i = 0; i < len; i++) buf[i] = piece ? (char)in->p[i % piece] : (char)('A' + i % 26);
  in->p += piece;
  in->n -= piece;
  return len;
}

#define FUZZ_ACCOUNTS 4
#define FUZZ_MAX_EVENTS 256
#define FUZZ_STR_CAP 40000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static native_registry *reg;
  static fuzz_compiled programs[FUZZ_NPROGRAMS];
  static char body[FUZZ_STR_CAP], who[FUZZ_STR_CAP];
  if (!reg) {
    reg = native_registry_new("stdlib/native", false);
    for (size_t i = 0; i < FUZZ_NPROGRAMS; i++) programs[i] = fuzz_compile(fuzz_programs[i], reg);
  }
  fuzz_in in = {data, size};
  const fuzz_compiled *c = &programs[take(&in) % FUZZ_NPROGRAMS];
  vm_runtime *rt = vm_runtime_new(c->p, c->externs);
  static const char *const ids[FUZZ_ACCOUNTS] = {"a", "b", "c", "d"};
  static const char *const names[] = {"same", "fresh", "sums", "pb", "nope", ""};
  vm_account *accounts[FUZZ_ACCOUNTS] = {0};
  bool ok = true;
  int64_t t = 1767225600000000;   /* 2026-01-01 */
  for (int i = 0; i < FUZZ_ACCOUNTS && ok; i++) {
    accounts[i] = vm_account_new(rt, (value_str){ids[i], 1}, NULL);
    ok = accounts[i] != NULL;
  }
  for (int k = 0; k < FUZZ_MAX_EVENTS && ok && in.n; k++) {
    uint8_t op = take(&in);
    /* times: mostly equal or a little later, sometimes hours later */
    if (op & 0x40) t += (int64_t)(take(&in) & 0x3f) * 60000000 * ((op & 0x20) ? 60 : 1);
    io_event ev = {.account = {ids[op & 3], 1}, .time = t, .milestone = {"", 0}, .playbook = {"", 0},
                   .file = "fuzz", .line = k + 1};
    value_data values[3];
    if ((op & 0x1c) == 0x1c) {   /* a control event */
      ev.type = IO_EV_ASSIGN + take(&in) % 6;
      const char *n = names[take(&in) % 6];
      if (op & 0x80) ev.playbook = (value_str){n, (uint32_t)strlen(n)};
      else ev.milestone = (value_str){n, (uint32_t)strlen(n)};
    } else {
      ev.type = 0;
      values[0].s = (value_str){body, (uint32_t)take_string(&in, body, sizeof body)};
      values[1].s = (value_str){who, (uint32_t)take_string(&in, who, sizeof who)};
      values[2].i = (int8_t)take(&in);
      ev.values = values;
    }
    int r = vm_push(rt, accounts[op & 3], &ev);
    if (r == VM_UNSORTED) abort();   /* times never go back here */
    ok = r == VM_OK;
  }
  if (ok) ok = vm_flush(rt);
  for (int i = 0; i < FUZZ_ACCOUNTS && ok; i++) {
    vm_results res;
    ok = vm_finish(rt, accounts[i], t, &res);
  }
  for (int i = 0; i < FUZZ_ACCOUNTS; i++) vm_account_free(rt, accounts[i]);
  vm_runtime_free(rt);
  return 0;
}
