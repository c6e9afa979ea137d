/*
 * aten::embedding.out(Tensor weight, Tensor indices, SymInt padding_idx=-1,
 *                     bool scale_grad_by_freq=False, bool sparse=False, *,
 *                     Tensor(a!) out)
 *
 * out[..., :] = weight[indices[...], :]; indices are Long or Int and every
 * one is checked against the number of rows. padding_idx, scale_grad_by_freq
 * and sparse only matter for gradients.
 */
#include "portable/ops.h"

#include "util/shape_util.h"

#include <string.h>

et_status et_op_embedding_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *w = args[0]->u.t, *idx = args[1]->u.t;
  et_tensor *out = args[5]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, w, "weight"));
  ET_K_TRY(et_k_check_tensor(ctx, idx, "indices"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_rank(ctx, w, 2, 2, "weight"));
  if (idx->dtype != ET_LONG && idx->dtype != ET_INT)
    return ET_K_FAIL(ctx, "indices: expected dtype Long or Int, got %s",
                     et_dtype_name(idx->dtype));
  ET_K_TRY(et_k_check_same_dtype(ctx, w, "weight", out, "out"));
  ET_K_TRY(et_k_check_contiguous(ctx, w, "weight"));
  ET_K_TRY(et_k_check_contiguous(ctx, idx, "indices"));
  ET_K_TRY(et_k_check_contiguous(ctx, out, "out"));
  if (idx->rank + 1 > ET_MAX_RANK) return ET_K_FAIL(ctx, "indices: rank too large");
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(idx, sizes);
  sizes[idx->rank] = w->sizes[1];
  ET_K_TRY(et_k_resize(ctx, out, sizes, idx->rank + 1, "out"));

  const int64_t rows = w->sizes[0];
  const size_t row_bytes = (size_t)w->sizes[1] * et_dtype_size(w->dtype);
  const size_t n = et_tensor_numel(idx);
  if (n == 0) return ET_OK;
  for (size_t i = 0; i < n; i++) {
    const int64_t r = idx->dtype == ET_LONG ? ((const int64_t *)idx->data)[i]
                                            : ((const int32_t *)idx->data)[i];
    if (r < 0 || r >= rows)
      return ET_K_FAIL(ctx, "indices[%zu] = %lld is out of range for weight with %lld rows",
                       i, (long long)r, (long long)rows);
  }
  if (row_bytes == 0) return ET_OK;
  for (size_t i = 0; i < n; i++) {
    const int64_t r = idx->dtype == ET_LONG ? ((const int64_t *)idx->data)[i]
                                            : ((const int32_t *)idx->data)[i];
    memcpy((char *)out->data + i * row_bytes, (const char *)w->data + (size_t)r * row_bytes,
           row_bytes);
  }
  return ET_OK;
}
