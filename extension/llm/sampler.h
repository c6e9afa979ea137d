/*
 * Sampler: picks the next token from a vector of logits.
 *
 *  - temperature 0 (or below): greedy, the argmax (the lowest index on ties;
 *    NaN logits are never picked).
 *  - otherwise softmax(logits / temperature), restricted to the top_k most
 *    likely tokens (top_k > 0) and then to the smallest prefix of them, most
 *    likely first, whose probability reaches top_p (0 < top_p < 1), then one
 *    draw. Ties in probability are ordered by lower index.
 *
 * Randomness is xorshift64* (Vigna 2014: x ^= x >> 12; x ^= x << 25;
 * x ^= x >> 27; return x * 0x2545F4914F6CDD1D) seeded with `seed` (0 is
 * replaced by a fixed non-zero constant); a draw is the top 53 bits as a
 * double in [0, 1). The same seed and logits give the same tokens on every
 * machine (the arithmetic is float, in a fixed order; no FMA contraction is
 * relied on).
 *
 * Memory: sampling allocates nothing. The caller passes scratch of
 * et_sampler_scratch_size(vocab) bytes (8 bytes per token).
 * Thread-safety: one sampler per generation loop; it holds the RNG state.
 */
#ifndef EDGETORCH_LLM_SAMPLER_H
#define EDGETORCH_LLM_SAMPLER_H

#include <edgetorch/status.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_sampler {
  size_t vocab;
  float temperature;
  int32_t top_k;
  float top_p;
  uint64_t rng;
} et_sampler;

/* ET_INVALID_ARGUMENT for vocab 0, a NaN/negative top_p, top_k < 0, or a
 * non-finite temperature. top_p >= 1 or 0 means no nucleus cut. */
et_status et_sampler_init(et_sampler *s, size_t vocab, float temperature, int32_t top_k,
                          float top_p, uint64_t seed, et_diag *diag);
/* Bytes of scratch et_sampler_sample needs (0 if vocab overflows). */
size_t et_sampler_scratch_size(size_t vocab);
/* Pick a token from logits[0..vocab). ET_INVALID_ARGUMENT when scratch is
 * too small, or no logit is a number. */
et_status et_sampler_sample(et_sampler *s, const float *logits, void *scratch,
                            size_t scratch_bytes, int32_t *out_token, et_diag *diag);
/* The next raw RNG value, and a draw in [0, 1) (for tests and callers that
 * need the same stream). */
uint64_t et_sampler_next_u64(et_sampler *s);
double et_sampler_next_double(et_sampler *s);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_LLM_SAMPLER_H */
