/*
 * libFuzzer target: a .npy file from untrusted bytes (extension/npy.c).
 *
 * et_npy_parse on exactly the input bytes. A failure must come with a
 * message. On success the promises of npy.h are checked: a known dtype,
 * rank <= ET_MAX_RANK, numel the product of the shape, nbytes = numel times
 * the element size, and the data exactly the last nbytes of the input (every
 * byte is read, so AddressSanitizer sees a pointer that leaves the input).
 * Then the writer's header for the same dtype and shape must parse back to
 * the same array description (the round trip the CLI and tests rely on).
 * et_npy_dtype_from_descr also gets the raw bytes as a descr.
 *
 * Run: make fuzz, or
 *   build-fuzz/bin/fuzz_npy -max_total_time=60 -max_len=4096 tests/fuzz/corpus_npy
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <edgetorch/edgetorch.h>

#include "npy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const et_npy_array *a) {
  char header[ET_NPY_HEADER_MAX];
  size_t hlen = 0;
  et_diag diag;
  et_diag_clear(&diag);
  if (!et_npy_descr(a->dtype)) __builtin_trap(); /* parse gave it */
  if (et_npy_header(a->dtype, a->rank, a->shape, header, sizeof header, &hlen,
                    &diag) != ET_OK) {
    if (!diag.message[0]) __builtin_trap();
    return;
  }
  if (hlen % 64 != 0 || hlen > sizeof header) __builtin_trap();
  /* Parse the header alone as a file of the same array with no data: only
   * an empty array parses; otherwise the message must say truncated. */
  et_npy_array b;
  et_status st = et_npy_parse(header, hlen, &b, &diag);
  if (a->nbytes == 0) {
    if (st != ET_OK) __builtin_trap();
  } else if (st != ET_INVALID_ARGUMENT || !strstr(diag.message, "truncated")) {
    __builtin_trap();
  }
  if (st == ET_OK &&
      (b.dtype != a->dtype || b.rank != a->rank || b.numel != a->numel ||
       memcmp(b.shape, a->shape, a->rank * sizeof a->shape[0]) != 0))
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly `size` bytes, so that a read past it is caught. */
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  if (size) memcpy(buf, data, size);
  (void)et_npy_dtype_from_descr((const char *)buf, size);

  et_npy_array a;
  et_diag diag;
  et_diag_clear(&diag);
  if (et_npy_parse(buf, size, &a, &diag) != ET_OK) {
    if (!diag.message[0]) __builtin_trap();
    free(buf);
    return 0;
  }
  size_t es = et_dtype_size(a.dtype);
  if (es == 0 || a.rank > ET_MAX_RANK) __builtin_trap();
  size_t numel = 1;
  for (uint32_t d = 0; d < a.rank; d++) {
    if (a.shape[d] < 0) __builtin_trap();
    numel *= (size_t)a.shape[d];
  }
  if (numel != a.numel || a.nbytes != numel * es) __builtin_trap();
  if ((const uint8_t *)a.data + a.nbytes != buf + size) __builtin_trap();
  if (a.version < 1 || a.version > 3) __builtin_trap();
  unsigned sum = 0;
  const volatile uint8_t *p = a.data;
  for (size_t i = 0; i < a.nbytes; i++) sum += p[i];
  (void)sum;
  check_roundtrip(&a);
  free(buf);
  return 0;
}
