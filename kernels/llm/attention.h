/*
 * Fused scaled dot-product attention over a KV cache, float32: for each
 * query row, the keys are visited in blocks with a running maximum and sum
 * (online softmax, as in flash attention), so no score matrix larger than
 * one block of one row ever exists. The running numerator accumulates in
 * the output row itself; the only other memory is a block of scores on the
 * stack. Query heads that share a key/value head run together, so each
 * block of keys and values is read once for all of them. Tasks (batch, kv
 * head, query position) are split over the parallel-for hook; each row is
 * computed the same way whatever thread runs it, so results do not depend
 * on the thread count.
 *
 * Vector path: AVX2+FMA on x86 when the CPU backend's GEMM takes it
 * (et_xnn_gemm_path() == 1, chosen at run time; tests may force either),
 * with the backend's vector exp; else plain C. The two differ by FMA
 * rounding and a few ulp of exp.
 *
 * No allocation, no OS; thread-safety: pure function of its arguments.
 */
#ifndef ET_KERNELS_LLM_ATTENTION_H
#define ET_KERNELS_LLM_ATTENTION_H

#include <edgetorch/parallel.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Strides are in elements; the head dimension (D) is contiguous in q, k, v
 * and out. Query head h reads key/value head h / (H / Hkv). */
typedef struct et_llm_attn {
  const float *q; /* [B, S, H, D] by the strides below */
  const float *k; /* [B, *, Hkv, D]: keys 0 .. n_keys - 1 are read */
  const float *v;
  float *out; /* like q */
  const float *mask; /* additive [S, mask_stride] (keys along a row) or NULL */
  size_t mask_stride;
  size_t B, S, H, Hkv, D;
  size_t q_sb, q_ss, q_sh;
  size_t k_sb, k_ss, k_sh;
  size_t v_sb, v_ss, v_sh;
  size_t o_sb, o_ss, o_sh;
  /* Keys visible to every row; with `causal`, row i (position
   * start_pos + i) sees at most keys 0 .. start_pos + i. */
  size_t n_keys;
  size_t start_pos;
  bool causal;
  float scale;
} et_llm_attn;

/* Compute out; a row that sees no key (or only -inf scores) is zeros. */
void et_llm_attention(et_parallel *par, const et_llm_attn *a);

/* 0: plain C, 1: AVX2+FMA; the path et_llm_attention takes now. */
int et_llm_attention_path(void);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_LLM_ATTENTION_H */
