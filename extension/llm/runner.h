/*
 * Text generation with a decoder program: the C runner behind
 * `edgetorch-llm` and `edgetorch.llm.Generator`.
 *
 * The program is what `edgetorch llm export` (or upstream's llama export)
 * writes: `forward(tokens int64[1, S], input_pos int64[1])` returning the
 * logits of the last position ([1, vocab]) or of every position
 * ([1, S, vocab]), with its KV cache in mutable buffers, and the constant
 * methods upstream's runner reads: get_max_seq_len (required),
 * get_max_context_len (default: get_max_seq_len), get_bos_id, get_eos_ids,
 * get_vocab_size, use_kv_cache (default true), enable_dynamic_shape
 * (default false). A program without them, or whose forward does not take
 * and return those tensors, is refused with a message saying what is
 * missing.
 *
 * A generation: encode the prompt (BOS first when the program or the
 * tokenizer names one), prefill it in chunks of at most get_max_seq_len
 * tokens when the program has a dynamic sequence length (one token at a time
 * otherwise), then decode token by token until an EOS id, the token budget
 * or the end of the context. The text streams through a callback as whole
 * UTF-8 characters. A prompt that does not fit the context is refused.
 *
 * Extension code: uses malloc, stdio and the clock. Thread-safety: one
 * generation at a time per runner.
 */
#ifndef EDGETORCH_LLM_RUNNER_H
#define EDGETORCH_LLM_RUNNER_H

#include <edgetorch/status.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_llm_runner et_llm_runner;

#define ET_LLM_MAX_EOS 16

/* What the program says about itself (its constant methods). */
typedef struct et_llm_info {
  int64_t max_seq_len;     /* most tokens one forward call takes */
  int64_t max_context_len; /* KV cache length */
  int64_t vocab_size;      /* logits per position */
  int64_t bos_id;          /* -1: none */
  int64_t eos_ids[ET_LLM_MAX_EOS];
  size_t n_eos;
  int use_kv_cache;
  int dynamic_shape; /* prefill in chunks */
  int full_logits;   /* forward returns [1, S, vocab] */
} et_llm_info;

/* Load the program and the tokenizer (tokenizer.json or a SentencePiece
 * .model, detected from the bytes). threads: 0 = the CPUs this process may
 * use, 1 = serial. */
et_status et_llm_runner_load(const char *model_path, const char *tokenizer_path,
                             uint32_t threads, et_llm_runner **out, et_diag *diag);
void et_llm_runner_free(et_llm_runner *r);
const et_llm_info *et_llm_runner_info(const et_llm_runner *r);

typedef struct et_llm_options {
  int32_t max_new_tokens; /* < 0: until EOS or the end of the context */
  float temperature;      /* 0: greedy (argmax) */
  int32_t top_k;          /* 0: off */
  float top_p;            /* 0 or >= 1: off */
  uint64_t seed;
  int add_bos;   /* -1: when there is a BOS id (default), 0: never, 1: always */
  int stop_eos;  /* 0: keep going past EOS ids (benchmarks) */
} et_llm_options;
void et_llm_options_default(et_llm_options *o);

typedef struct et_llm_stats {
  size_t prompt_tokens;
  size_t generated_tokens;
  double prefill_s;       /* prompt through the model, first token sampled */
  double decode_s;        /* the tokens after the first */
  double ttft_s;          /* time to first token (prefill_s) */
  double prefill_tokens_per_s;
  double decode_tokens_per_s;
  size_t peak_rss_bytes;  /* the process's peak resident memory, 0 if unknown */
  int stopped_on_eos;
} et_llm_stats;

/* Called with each piece of generated text (whole UTF-8 characters, not
 * NUL-terminated); a non-zero return stops the generation. */
typedef int (*et_llm_text_fn)(void *user, const char *text, size_t len);

/*
 * Generate from `prompt` (UTF-8, prompt_len bytes). The KV cache starts
 * over at position 0 each call. out_ids (may be NULL) receives the
 * generated ids (malloc'd; free it) and *n_out their count.
 */
et_status et_llm_generate(et_llm_runner *r, const char *prompt, size_t prompt_len,
                          const et_llm_options *opts, et_llm_text_fn on_text, void *user,
                          et_llm_stats *stats, int32_t **out_ids, size_t *n_out,
                          et_diag *diag);

/* The prompt's token ids as the runner feeds them (BOS rule included). */
et_status et_llm_encode(et_llm_runner *r, const char *prompt, size_t prompt_len, int add_bos,
                        int32_t **out_ids, size_t *n_out, et_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_LLM_RUNNER_H */
