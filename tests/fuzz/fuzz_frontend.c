/* fuzz_frontend.c — libFuzzer target: any bytes through the whole front end.
 *
 * Parser, resolver, type checker and lints must never crash, hang or leak
 * beyond the arena, whatever the input; a program they accept must compile
 * to bytecode the verifier accepts (tools/fuzz.sh builds this with ASan and
 * UBSan). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/arena.h"
#include "bc/bc.h"
#include "bc/compile.h"
#include "front/codes.h"
#include "front/diag.h"
#include "front/parse.h"
#include "front/sema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  arena a;
  arena_init(&a);
  diag_list diags;
  diag_init(&diags, &a);
  msl_source *src = source_from_string(&a, "fuzz.ms", (const char *)data, size);
  sema_options opts = {.lints = true};
  msl_program *p = sema_load_source(&a, src, &opts, &diags);
  if (p && diags.errors == 0 && sema_check(p, &opts, &diags)) {
    bc_program *prog = compile_and_verify(p, &diags);
    for (const diag *g = diags.first; g; g = g->next)
      if (g->code == DIAG_E99) abort();   /* the compiler made bad code */
    bc_program_free(prog);
  }
  arena_free(&a);
  return 0;
}
