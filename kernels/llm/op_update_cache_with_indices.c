/*
 * llama::update_cache_with_indices.out(Tensor value, Tensor(a!) cache,
 *     SymInt start_pos, Tensor indices, *, Tensor(b!) out)
 *
 * Upstream's op_update_cache.cpp: row s of batch b of value [B, S, H, D]
 * goes to cache row indices[b, s] (indices int64 [B, S], each in
 * [0, C)); start_pos is not used. Every index is checked before any row is
 * written. `out` is not written (upstream neither).
 */
#include "llm/ops.h"

#include "llm/sdpa_util.h"
#include "util/shape_util.h"

#include <inttypes.h>
#include <string.h>

et_status et_llm_update_cache_with_indices_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *value = args[0]->u.t;
  et_tensor *cache = args[1]->u.t;
  const et_tensor *indices = args[3]->u.t;
  ET_K_TRY(et_llm_check_4d(ctx, value, "value"));
  ET_K_TRY(et_llm_check_4d(ctx, cache, "cache"));
  ET_K_TRY(et_llm_check_value_fits(ctx, value, "value", cache, "cache"));
  ET_K_TRY(et_k_check_tensor(ctx, indices, "indices"));
  ET_K_TRY(et_k_check_dtype(ctx, indices, ET_LONG, "indices"));
  if (indices->rank != 2 || indices->sizes[0] != value->sizes[0] ||
      indices->sizes[1] != value->sizes[1]) {
    char is[64];
    et_k_tensor_shape_str(is, sizeof is, indices);
    return ET_K_FAIL(ctx, "indices %s must be [batch, seq_len] = [%" PRId32 ", %" PRId32
                     "]", is, value->sizes[0], value->sizes[1]);
  }
  ET_K_TRY(et_k_check_contiguous(ctx, indices, "indices"));
  const size_t B = (size_t)value->sizes[0], S = (size_t)value->sizes[1];
  const int64_t C = cache->sizes[1];
  const int64_t *idx = (const int64_t *)indices->data;
  for (size_t i = 0; i < B * S; i++) {
    if (idx[i] < 0 || idx[i] >= C) {
      return ET_K_FAIL(ctx, "indices[%zu, %zu] = %" PRId64 " is outside the cache's %" PRId64
                       " positions", i / (S ? S : 1), i % (S ? S : 1), idx[i], C);
    }
  }
  const size_t row = (size_t)value->sizes[2] * (size_t)value->sizes[3] *
                     et_dtype_size(value->dtype);
  for (size_t b = 0; b < B; b++) {
    for (size_t s = 0; s < S; s++) {
      memmove((char *)cache->data + (b * (size_t)C + (size_t)idx[b * S + s]) * row,
              (const char *)value->data + (b * S + s) * row, row);
    }
  }
  return ET_OK;
}
