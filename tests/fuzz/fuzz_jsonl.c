/* fuzz_jsonl.c — libFuzzer target: any bytes as a JSON Lines events file
 * and as a JSON Lines accounts file (see io_fuzz.h for what is checked). */
#include "io_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_one(data, size, IO_FORMAT_JSONL);
}
