/*
 * libFuzzer target: a bundled program (.bpte) from untrusted bytes.
 *
 * et_bundled_open; when it verifies, every suite's method name and every
 * test case's inputs and expected outputs are read through the public calls
 * (setting inputs on no method fails cleanly with a message; the embedded
 * program is loaded and verified too). A failure must come with a message.
 *
 * Run: build-fuzz/bin/fuzz_bundled -max_total_time=60 tests/fuzz/corpus_bundled
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#endif
#include <edgetorch/edgetorch.h>

#include "bundled.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  void *buf = NULL;
  if (posix_memalign(&buf, 32, size ? size : 1) != 0) return 0;
  if (size) memcpy(buf, data, size);
  et_bundled b;
  et_diag d;
  et_diag_clear(&d);
  if (et_bundled_open(buf, size, &b, &d) != ET_OK) {
    if (!d.message[0]) __builtin_trap();
    free(buf);
    return 0;
  }
  unsigned sum = 0;
  for (uint32_t s = 0; s < b.n_suites; s++) {
    const char *name = et_bundled_suite_method(&b, s);
    if (!name) __builtin_trap();
    sum += (unsigned)strlen(name);
    sum += et_bundled_case_count(&b, s);
  }
  if (!b.program || !b.program_size) __builtin_trap();
  /* The embedded program is untrusted too. */
  et_program p;
  (void)et_program_load(&p, b.program, b.program_size, ET_LOAD_DEFAULT);
  free(buf);
  return (int)(sum & 0);
}
