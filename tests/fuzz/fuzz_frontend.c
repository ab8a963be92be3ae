/* fuzz_frontend.c — libFuzzer target: any bytes through the parser.
 *
 * The parser must never crash, hang or leak beyond the arena, whatever the
 * input (tools/fuzz.sh builds this with ASan and UBSan). */
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  arena a;
  arena_init(&a);
  diag_list diags;
  diag_init(&diags, &a);
  msl_source *src = source_from_string(&a, "fuzz.ms", (const char *)data, size);
  parse_module(&a, src, &diags);
  arena_free(&a);
  return 0;
}
