/*
 * aten::gather.out(Tensor self, int dim, Tensor index, *,
 *                  bool sparse_grad=False, Tensor(a!) out)
 * out[i][j][k] = self[index[i][j][k]][j][k] (for dim 0), out shaped like
 * index. index is Long or Int (as PyTorch), every value must be in
 * [0, self.size(dim)) (negative values are refused, as PyTorch does); index
 * sizes may not exceed self's in the other dims. An empty index gives an
 * empty out of its shape whatever its dtype and rank (PyTorch checks
 * neither then).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

#include <string.h>

et_status et_op_gather_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *idx = args[2]->u.t;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, idx, "index"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dim", &dim));
  if (et_tensor_numel(idx) == 0) return et_k_resize_like(ctx, out, idx, "out");
  if (idx->dtype != ET_LONG && idx->dtype != ET_INT)
    return ET_K_FAIL(ctx, "index: expected dtype Long or Int, got %s", et_dtype_name(idx->dtype));
  const uint32_t r = in->rank ? in->rank : 1;
  if ((idx->rank ? idx->rank : 1) != r)
    return ET_K_FAIL(ctx, "index: expected rank %u (as self), got %u", (unsigned)in->rank,
                     (unsigned)idx->rank);
  for (uint32_t d = 0; d < idx->rank && in->rank; d++)
    if (d != dim && idx->sizes[d] > in->sizes[d]) {
      char s1[96], s2[96];
      et_k_tensor_shape_str(s1, sizeof s1, idx);
      et_k_tensor_shape_str(s2, sizeof s2, in);
      return ET_K_FAIL(ctx, "index %s is larger than self %s outside dim %lld", s1, s2,
                       (long long)dim);
    }
  ET_K_TRY(et_k_resize_like(ctx, out, idx, "out"));
  const int64_t size = in->rank ? in->sizes[dim] : 1, sdim = in->rank ? in->strides[dim] : 0;
  /* walk index and out together; self's offset is the same walk with
   * dim's stride replaced by the index value */
  int64_t sizes[ET_MAX_RANK], in_str[ET_MAX_RANK];
  et_k_sizes64(idx, sizes);
  for (uint32_t d = 0; d < idx->rank; d++) in_str[d] = d == dim ? 0 : in->strides[d];
  const int64_t *strides[3] = {out->strides, idx->strides, in_str};
  et_nd_iter it;
  et_nd_iter_init(&it, idx->rank, sizes, 3, strides, out->dim_order);
  const size_t es = et_dtype_size(in->dtype);
  const int64_t *iv = (const int64_t *)idx->data;
  const int32_t *iv32 = (const int32_t *)idx->data;
  const bool i32 = idx->dtype == ET_INT;
  do {
    for (int64_t j = 0; j < it.inner; j++) {
      const int64_t at = it.off[1] + j * it.inner_stride[1];
      const int64_t v = i32 ? iv32[at] : iv[at];
      if (v < 0 || v >= size)
        return ET_K_FAIL(ctx, "index value %lld is out of range for dim %lld of size %lld",
                         (long long)v, (long long)dim, (long long)size);
      memcpy((char *)out->data + (it.off[0] + j * it.inner_stride[0]) * (int64_t)es,
             (const char *)in->data + (it.off[2] + j * it.inner_stride[2] + v * sdim) * (int64_t)es,
             es);
    }
  } while (et_nd_iter_next(&it));
  return ET_OK;
}
