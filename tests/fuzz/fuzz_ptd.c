/*
 * libFuzzer target: a .ptd (FlatTensor) file from untrusted bytes.
 *
 * et_ptd_load; when it verifies, every key is looked up through the data map
 * and every byte of its data and layout is read (so AddressSanitizer sees
 * any lookup that leaves the file), and the invariants load promises are
 * checked: a known dtype and rank <= ET_MAX_RANK where a layout is recorded.
 * A failure must come with a message.
 *
 * Run: make fuzz (after fuzz_program), or
 *   build-fuzz/bin/fuzz_ptd -max_total_time=60 tests/fuzz/corpus_ptd
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#endif
#include <edgetorch/edgetorch.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Exactly `size` bytes, 16-byte aligned as the reader requires. */
  void *buf = NULL;
  if (posix_memalign(&buf, 16, size ? size : 1) != 0) return 0;
  if (size) memcpy(buf, data, size);
  et_ptd ptd;
  if (et_ptd_load(&ptd, buf, size) != ET_OK) {
    const char *msg = et_ptd_message(&ptd);
    if (!msg || !msg[0]) __builtin_trap();
    free(buf);
    return 0;
  }
  unsigned sum = 0;
  for (size_t i = 0; i < et_ptd_key_count(&ptd); i++) {
    const char *key = et_ptd_key(&ptd, i);
    et_named_data nd;
    if (!key || ptd.map.get(&ptd.map, key, &nd) != ET_OK) __builtin_trap();
    const volatile uint8_t *p = nd.data;
    for (size_t b = 0; b < nd.nbytes; b++) sum += p[b];
    if (nd.sizes) {
      if (nd.rank > ET_MAX_RANK || et_dtype_size(nd.dtype) == 0)
        __builtin_trap();
      const volatile uint8_t *s = nd.sizes;
      for (size_t b = 0; b < 4u * nd.rank; b++) sum += s[b];
      for (size_t d = 0; d < nd.rank; d++) sum += nd.dim_order[d];
    }
  }
  if (et_ptd_key(&ptd, et_ptd_key_count(&ptd)) != NULL) __builtin_trap();
  free(buf);
  (void)sum; /* the reads are volatile: they happen */
  return 0;
}
