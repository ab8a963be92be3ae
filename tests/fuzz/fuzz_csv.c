/* fuzz_csv.c — libFuzzer target: any bytes as a CSV events file and as a
 * CSV accounts file (see io_fuzz.h for what is checked). */
#include "io_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_one(data, size, IO_FORMAT_CSV);
}
