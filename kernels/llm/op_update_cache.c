/*
 * llama::update_cache.out(Tensor value, Tensor(a!) cache, SymInt start_pos,
 *     *, Tensor(b!) out)
 *
 * Upstream's extension/llm/custom_ops/op_update_cache.cpp: value
 * [B, S, H, D] is copied into rows start_pos .. start_pos + S - 1 of cache
 * [B, C, H, D] (same dtype, any dtype; contiguous). `out` is a placeholder
 * upstream neither resizes nor writes; neither do we.
 */
#include "llm/ops.h"

#include "llm/sdpa_util.h"
#include "util/shape_util.h"

et_status et_llm_update_cache_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *value = args[0]->u.t;
  et_tensor *cache = args[1]->u.t;
  const int64_t start_pos = args[2]->u.i;
  ET_K_TRY(et_llm_check_4d(ctx, value, "value"));
  ET_K_TRY(et_llm_check_4d(ctx, cache, "cache"));
  ET_K_TRY(et_llm_check_value_fits(ctx, value, "value", cache, "cache"));
  ET_K_TRY(et_llm_check_positions(ctx, start_pos, value->sizes[1], cache, "the cache"));
  et_llm_write_rows(value, cache, start_pos);
  return ET_OK;
}
