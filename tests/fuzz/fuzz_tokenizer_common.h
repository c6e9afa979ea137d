/* Shared by the tokenizer fuzz targets: load bytes as a tokenizer and, when
 * it loads, exercise encode / decode / streaming; any broken promise traps. */
#ifndef EDGETORCH_FUZZ_TOKENIZER_COMMON_H
#define EDGETORCH_FUZZ_TOKENIZER_COMMON_H

#include "tokenizer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void fuzz_tokenizer_use(et_tokenizer *t, const uint8_t *text, size_t n) {
  uint32_t vocab = et_tokenizer_vocab_size(t);
  int32_t *ids = NULL;
  size_t nids = 0;
  et_diag d;
  et_diag_clear(&d);
  if (et_tokenizer_encode(t, (const char *)text, n, 0, &ids, &nids, &d) != ET_OK) {
    if (!d.message[0]) __builtin_trap();
    return;
  }
  for (size_t i = 0; i < nids; i++)
    if (ids[i] < 0 || (uint32_t)ids[i] >= vocab) __builtin_trap();
  char *out = NULL;
  size_t len = 0;
  if (et_tokenizer_decode(t, ids, nids, 0, &out, &len, &d) != ET_OK) __builtin_trap();
  if (out[len] != 0) __builtin_trap();
  free(out);
  et_token_stream s;
  et_token_stream_init(&s, t, 1);
  size_t cap = et_token_stream_max_bytes(t);
  char *buf = malloc(cap);
  for (size_t i = 0; buf && i < nids; i++) {
    size_t l = 0;
    if (et_token_stream_push(&s, ids[i], buf, cap, &l) != ET_OK || l > cap) __builtin_trap();
  }
  size_t l = 0;
  if (buf && (et_token_stream_flush(&s, buf, cap, &l) != ET_OK || l > cap)) __builtin_trap();
  free(buf);
  free(ids);
}

static void fuzz_tokenizer_bytes(const uint8_t *data, size_t size) {
  et_tokenizer *t = NULL;
  et_diag d;
  et_diag_clear(&d);
  if (et_tokenizer_load_buffer(data, size, &t, &d) != ET_OK) {
    if (t || !d.message[0]) __builtin_trap();
    return;
  }
  static const char kText[] =
      "Hello world, it's 2024! \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 e\xcc\x81  \t\n<s></s>"
      "<|endoftext|> \xff\xc3";
  fuzz_tokenizer_use(t, (const uint8_t *)kText, sizeof kText - 1);
  /* the input's own tail as text (up to 256 bytes) */
  size_t tail = size < 256 ? size : 256;
  fuzz_tokenizer_use(t, data + size - tail, tail);
  int32_t bad[1] = {(int32_t)et_tokenizer_vocab_size(t)};
  char *out = NULL;
  size_t len;
  if (et_tokenizer_decode(t, bad, 1, 0, &out, &len, &d) == ET_OK) __builtin_trap();
  et_tokenizer_free(t);
}

#endif
