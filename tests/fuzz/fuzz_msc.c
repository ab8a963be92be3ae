/* fuzz_msc.c — libFuzzer target: any bytes through the .msc loader, the
 * verifier and, for what they accept, the disassembler.
 *
 * The loader must never crash, hang, leak or allocate more than the input
 * justifies, and whatever it accepts must verify and list without trouble
 * (the VM trusts what the verifier accepted).  Most random changes only
 * break the checksum, so each input is also tried with its header's payload
 * length and CRC-32 made right, which lets the fuzzer reach the parser and
 * the verifier.  Seeds (tests/fuzz/seeds/msc/) are the hand-built programs of
 * tests/unit/test_msc.c: `build/test_msc --write-seeds tests/fuzz/seeds/msc`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bc/bc.h"
#include "bc/disasm.h"
#include "bc/msc.h"
#include "bc/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load(const uint8_t *data, size_t size, FILE *sink) {
  char msg[512];
  bc_program *p = msc_read(data, size, msg, sizeof msg);
  if (!p) {
    if (!msg[0]) abort();          /* every refusal says why */
    return;
  }
  if (!verify_program(p, msg, sizeof msg)) abort();
  disasm_program(p, sink);
  bc_program_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FILE *sink;               /* the listing goes nowhere; opened once */
  if (!sink && !(sink = fopen("/dev/null", "w"))) abort();
  load(data, size, sink);
  if (size < MSC_HEADER_SIZE) return 0;
  uint8_t *fixed = malloc(size);
  if (!fixed) return 0;
  memcpy(fixed, data, size);
  uint64_t payload = size - MSC_HEADER_SIZE;
  for (int i = 0; i < 8; i++) fixed[8 + i] = (uint8_t)(payload >> (8 * i));
  uint32_t crc = (uint32_t)crc32_z(0, fixed + MSC_HEADER_SIZE, payload);
  for (int i = 0; i < 4; i++) fixed[16 + i] = (uint8_t)(crc >> (8 * i));
  load(fixed, size, sink);
  free(fixed);
  return 0;
}
