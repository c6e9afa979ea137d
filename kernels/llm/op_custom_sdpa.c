/*
 * llama::custom_sdpa.out(Tensor query, Tensor key, Tensor value,
 *     SymInt start_pos, Tensor? attn_mask=None, float drpout_p=0.,
 *     bool is_causal=False, float? scale=None, *, Tensor(a!) out)
 *
 * Upstream's extension/llm/custom_ops/op_sdpa.cpp: query [B, S, H, D] at
 * positions start_pos .. start_pos + S - 1 attends over the key/value
 * caches [B, C, Hkv, D] (grouped heads: query head h reads kv head
 * h / (H / Hkv)). Without a mask, keys 0 .. start_pos + S - 1 take part,
 * and is_causal limits row i to keys 0 .. start_pos + i; an attn_mask
 * ([S, C], float, added after scaling) covers the whole cache and excludes
 * is_causal. scale defaults to 1 / sqrt(D); drpout_p is ignored (upstream
 * too). Float32 only here (upstream also runs Half and BFloat16).
 */
#include "llm/ops.h"

#include "llm/sdpa_util.h"
#include "util/shape_util.h"

et_status et_llm_custom_sdpa_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *mask = args[4]->tag == ET_TAG_NONE ? NULL : args[4]->u.t;
  const double *scale = args[7]->tag == ET_TAG_NONE ? NULL : &args[7]->u.d;
  return et_llm_sdpa(ctx, args[0]->u.t, args[1]->u.t, args[2]->u.t, args[3]->u.i, mask,
                     args[6]->u.b, scale, args[8]->u.t);
}
