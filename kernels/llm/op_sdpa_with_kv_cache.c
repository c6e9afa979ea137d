/*
 * llama::sdpa_with_kv_cache.out(Tensor query, Tensor key, Tensor value,
 *     Tensor(a!) key_cache, Tensor(b!) value_cache, SymInt start_pos,
 *     SymInt seq_len, Tensor? attn_mask=None, float drpout_p=0.,
 *     bool is_causal=False, float? scale=None, *, Tensor(c!) out)
 *
 * Upstream's op_sdpa.cpp: key and value [B, S, Hkv, D] are written into
 * rows start_pos .. start_pos + S - 1 of the caches [B, C, Hkv, D], then
 * custom_sdpa runs over the caches (see op_custom_sdpa.c). Every argument
 * is checked before a cache row is written. seq_len must be S.
 */
#include "llm/ops.h"

#include "llm/sdpa_util.h"
#include "util/shape_util.h"

#include <inttypes.h>

et_status et_llm_sdpa_with_kv_cache_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *q = args[0]->u.t, *k = args[1]->u.t, *v = args[2]->u.t;
  et_tensor *kc = args[3]->u.t, *vc = args[4]->u.t;
  const int64_t start_pos = args[5]->u.i, seq_len = args[6]->u.i;
  const et_tensor *mask = args[7]->tag == ET_TAG_NONE ? NULL : args[7]->u.t;
  const double *scale = args[10]->tag == ET_TAG_NONE ? NULL : &args[10]->u.d;
  ET_K_TRY(et_llm_check_4d_float(ctx, q, "query"));
  ET_K_TRY(et_llm_check_4d_float(ctx, k, "key"));
  ET_K_TRY(et_llm_check_4d_float(ctx, v, "value"));
  ET_K_TRY(et_llm_check_4d_float(ctx, kc, "key_cache"));
  ET_K_TRY(et_llm_check_4d_float(ctx, vc, "value_cache"));
  if (!et_k_same_shape(kc, vc)) {
    return ET_K_FAIL(ctx, "key_cache and value_cache must have the same shape");
  }
  if (!et_k_same_shape(k, v)) {
    return ET_K_FAIL(ctx, "key and value must have the same shape");
  }
  if (seq_len != q->sizes[1] || k->sizes[1] != q->sizes[1]) {
    return ET_K_FAIL(ctx, "seq_len %" PRId64 " must equal the query's and the key's "
                     "sequence length (dim 1: %" PRId32 ", %" PRId32 ")",
                     seq_len, q->sizes[1], k->sizes[1]);
  }
  ET_K_TRY(et_llm_check_value_fits(ctx, k, "key", kc, "key_cache"));
  ET_K_TRY(et_llm_check_value_fits(ctx, v, "value", vc, "value_cache"));
  ET_K_TRY(et_llm_check_positions(ctx, start_pos, seq_len, kc, "key_cache"));
  /* The attention's own checks, on the caches as they are now. The caches
   * are planned buffers, never the out tensor, so checking first and
   * writing after cannot change what was checked. */
  et_llm_attn a;
  ET_K_TRY(et_llm_sdpa_prepare(ctx, q, kc, vc, start_pos, mask, args[9]->u.b, scale,
                               args[11]->u.t, &a));
  et_llm_write_rows(k, kc, start_pos);
  et_llm_write_rows(v, vc, start_pos);
  if (a.B) et_llm_attention(ctx->parallel, &a);
  return ET_OK;
}
