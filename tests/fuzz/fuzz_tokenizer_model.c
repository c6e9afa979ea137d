/*
 * libFuzzer target: a SentencePiece tokenizer.model (ModelProto) from
 * untrusted bytes (extension/llm/tok_spm.c: the protobuf reader, BPE and
 * Unigram encoders).
 *
 * et_tokenizer_load_buffer on exactly the input bytes; a failure must carry
 * a message. A tokenizer that loads is exercised as in
 * fuzz_tokenizer_common.h.
 *
 * Run: make fuzz, or
 *   build-fuzz/bin/fuzz_tokenizer_model -max_total_time=60 -max_len=16384 \
 *     tests/fuzz/corpus_tokenizer_model
 */
#include "fuzz_tokenizer_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  if (size) memcpy(buf, data, size);
  fuzz_tokenizer_bytes(buf, size);
  free(buf);
  return 0;
}
