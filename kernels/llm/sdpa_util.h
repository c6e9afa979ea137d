/*
 * Shared argument checks and the attention driver of the llama:: kernels
 * (op_custom_sdpa.c, op_sdpa_with_kv_cache.c, op_update_cache*.c).
 * Layouts are upstream's (extension/llm/custom_ops): q and out
 * [B, S, H, D], key/value caches [B, max_context_len, Hkv, D], all in
 * contiguous dim order.
 *
 * Thread-safety: no state beyond the context passed in.
 */
#ifndef ET_KERNELS_LLM_SDPA_UTIL_H
#define ET_KERNELS_LLM_SDPA_UTIL_H

#include <edgetorch/kernel.h>
#include <edgetorch/value.h>

#include "llm/attention.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A rank-4 tensor in contiguous dim order with data. */
et_status et_llm_check_4d(et_kernel_ctx *ctx, const et_tensor *t, const char *name);
/* et_llm_check_4d and float32 (upstream also takes Half and BFloat16). */
et_status et_llm_check_4d_float(et_kernel_ctx *ctx, const et_tensor *t, const char *name);
/* 0 <= start_pos and start_pos + seq_len <= cache length (dim 1). */
et_status et_llm_check_positions(et_kernel_ctx *ctx, int64_t start_pos, int64_t seq_len,
                                 const et_tensor *cache, const char *name);
/* `value` [B, S, Hkv, D] fits `cache` [B, C, Hkv, D]: same dtype, same dims
 * 0, 2 and 3. */
et_status et_llm_check_value_fits(et_kernel_ctx *ctx, const et_tensor *value,
                                  const char *vname, const et_tensor *cache,
                                  const char *cname);
/* Copy value's S rows into cache rows start_pos .. start_pos + S - 1 of
 * every batch (arguments checked). */
void et_llm_write_rows(const et_tensor *value, et_tensor *cache, int64_t start_pos);

/*
 * custom_sdpa's body: checks q, k, v, the mask, is_causal and start_pos,
 * resizes out to q's sizes and runs the fused attention. args in
 * custom_sdpa.out's order starting at q; `mask`, `scale` may be NULL
 * (None). The dropout probability is ignored, as upstream does.
 */
et_status et_llm_sdpa(et_kernel_ctx *ctx, const et_tensor *q, const et_tensor *k,
                      const et_tensor *v, int64_t start_pos, const et_tensor *mask,
                      bool is_causal, const double *scale, et_tensor *out);
/* The checks and the resize of et_llm_sdpa, without running: *out_attn
 * describes the attention to run (out_attn->B == 0: nothing to run). */
et_status et_llm_sdpa_prepare(et_kernel_ctx *ctx, const et_tensor *q, const et_tensor *k,
                      const et_tensor *v, int64_t start_pos, const et_tensor *mask,
                              bool is_causal, const double *scale, et_tensor *out,
                              et_llm_attn *out_attn);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_LLM_SDPA_UTIL_H */
