/*
 * libFuzzer target: a Hugging Face tokenizer.json from untrusted bytes
 * (extension/llm/json.c, tok_hf.c, pretok.c, normalize.c).
 *
 * The bytes go to the JSON reader on its own (a failure must carry a
 * message) and to et_tokenizer_load_buffer. A tokenizer that loads is
 * exercised: the input's own bytes and fixed multilingual text are
 * encoded, every id must be inside the vocabulary, the ids decode, and the
 * streaming decoder takes them one by one.
 *
 * Run: make fuzz, or
 *   build-fuzz/bin/fuzz_tokenizer_json -max_total_time=60 -max_len=16384 \
 *     -dict=tests/fuzz/tokenizer_json.dict tests/fuzz/corpus_tokenizer_json
 */
#include "fuzz_tokenizer_common.h"

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  if (size) memcpy(buf, data, size);
  et_json_doc *doc = NULL;
  et_diag d;
  et_diag_clear(&d);
  if (et_json_parse(buf, size, &doc, &d) != ET_OK) {
    if (doc || !d.message[0]) __builtin_trap();
  } else {
    if (!et_json_doc_root(doc)) __builtin_trap();
    et_json_doc_free(doc);
  }
  fuzz_tokenizer_bytes(buf, size);
  free(buf);
  return 0;
}
