/*
 * Tokenizers for the LLM runner: text <-> token ids, loaded from the files
 * models ship with.
 *
 * Formats (docs/llm.md lists the limits):
 *  - Hugging Face tokenizer.json with a BPE model: byte-level BPE (GPT-2,
 *    Llama 3, Qwen2: ByteLevel or Split(GPT-2 / Llama-3 / Qwen2 pattern)
 *    pre-tokenizers) and SentencePiece-style BPE (Llama 2, Mistral:
 *    Prepend/Replace normalizers or Metaspace, byte_fallback <0xNN> tokens).
 *  - SentencePiece tokenizer.model (ModelProto), BPE or Unigram.
 * et_tokenizer_load_* detects the format from the bytes, as upstream's
 * runner does. A file is untrusted: anything malformed or unsupported gives
 * a status and a message naming what (never a crash).
 *
 * Ownership: et_tokenizer_load_* returns a tokenizer the caller frees with
 * et_tokenizer_free; it keeps no reference to the input bytes. Ids returned
 * by encode and text returned by decode are malloc'd; free them with free().
 * Thread-safety: a loaded tokenizer is immutable: encode and decode may run
 * on many threads at once. An et_token_stream belongs to one thread.
 */
#ifndef EDGETORCH_LLM_TOKENIZER_H
#define EDGETORCH_LLM_TOKENIZER_H

#include <edgetorch/status.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_tokenizer et_tokenizer;

typedef enum et_tokenizer_kind {
  ET_TOKENIZER_HF_BPE = 1,       /* tokenizer.json, model BPE */
  ET_TOKENIZER_SPM_BPE = 2,      /* tokenizer.model, model_type BPE */
  ET_TOKENIZER_SPM_UNIGRAM = 3   /* tokenizer.model, model_type UNIGRAM */
} et_tokenizer_kind;

/* Files above this size are refused (the largest real tokenizers are ~20 MB). */
#define ET_TOKENIZER_MAX_FILE_BYTES ((size_t)1 << 30)
/* Vocabulary ids must be below this. */
#define ET_TOKENIZER_MAX_VOCAB (1u << 24)

/* Load from bytes, detecting the format: JSON (first non-blank byte '{') or
 * a SentencePiece ModelProto; tiktoken and llama2.c files are recognized
 * and refused by name. */
et_status et_tokenizer_load_buffer(const void *data, size_t size,
                                   et_tokenizer **out_tok, et_diag *diag);
/* Load a file. For tokenizer.json, a tokenizer_config.json in the same
 * directory supplies bos_token / eos_token when present. */
et_status et_tokenizer_load_file(const char *path, et_tokenizer **out_tok,
                                 et_diag *diag);
void et_tokenizer_free(et_tokenizer *tok);

et_tokenizer_kind et_tokenizer_kind_of(const et_tokenizer *tok);
const char *et_tokenizer_kind_name(et_tokenizer_kind kind);
/* One past the largest id. */
uint32_t et_tokenizer_vocab_size(const et_tokenizer *tok);
/* -1 when the tokenizer has none. */
int32_t et_tokenizer_bos_id(const et_tokenizer *tok);
int32_t et_tokenizer_eos_id(const et_tokenizer *tok);
/* Override the BOS / EOS ids (the runner reads them from the program);
 * -1 clears. ET_INVALID_ARGUMENT when out of the vocabulary. */
et_status et_tokenizer_set_bos_eos(et_tokenizer *tok, int32_t bos, int32_t eos);
/* The id of a token given as its text, or -1 (added tokens included). */
int32_t et_tokenizer_token_id(const et_tokenizer *tok, const char *text, size_t len);

/* Encode text[0..len) (UTF-8; invalid bytes are encoded as bytes or <unk>).
 * add_bos puts the BOS id first (ET_INVALID_ARGUMENT if there is none).
 * *out_ids is malloc'd (free it), *out_n its length. */
et_status et_tokenizer_encode(const et_tokenizer *tok, const char *text,
                              size_t len, int add_bos, int32_t **out_ids,
                              size_t *out_n, et_diag *diag);

/* The bytes one token decodes to on its own (the decoder's per-token steps:
 * byte-level mapping, ▁ -> space, <0xNN> -> byte); may be incomplete UTF-8.
 * Valid until the tokenizer is freed. ET_INVALID_ARGUMENT for a bad id. */
et_status et_tokenizer_token_bytes(const et_tokenizer *tok, int32_t id,
                                   const uint8_t **out_bytes, size_t *out_len);
/* Whether id is a special / control token. */
int et_tokenizer_is_special(const et_tokenizer *tok, int32_t id);

/* Decode ids to bytes: the token bytes joined, then the decoder's
 * whole-sequence steps (the leading-space strip of SentencePiece-style
 * decoders). skip_special leaves special tokens out. Raw bytes: a sequence
 * cut inside a character ends in an incomplete UTF-8 sequence.
 * *out_text is malloc'd and NUL-terminated; *out_len excludes the NUL. */
et_status et_tokenizer_decode(const et_tokenizer *tok, const int32_t *ids,
                              size_t n, int skip_special, char **out_text,
                              size_t *out_len, et_diag *diag);

/*
 * Streaming decode: push ids one by one and get only whole UTF-8
 * characters back; a character split across tokens comes out when its
 * last byte arrives. Bytes that can never form a valid character come out
 * as U+FFFD (as Python's errors="replace" would), so the concatenated
 * output is exactly the lossy UTF-8 reading of et_tokenizer_decode's bytes.
 */
typedef struct et_token_stream {
  const et_tokenizer *tok;
  uint8_t pending[4];
  uint8_t npending;
  uint8_t skip_special;
  uint32_t strip_left; /* leading spaces still to strip */
  int started;         /* some output was produced */
  int seen;            /* some token was pushed */
} et_token_stream;

void et_token_stream_init(et_token_stream *s, const et_tokenizer *tok,
                          int skip_special);
/* Bytes of output buffer that always suffice for one push or flush. */
size_t et_token_stream_max_bytes(const et_tokenizer *tok);
et_status et_token_stream_push(et_token_stream *s, int32_t id, char *out,
                               size_t cap, size_t *out_len);
/* End of stream: a dangling incomplete character becomes U+FFFD. */
et_status et_token_stream_flush(et_token_stream *s, char *out, size_t cap,
                                size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_LLM_TOKENIZER_H */
