/*
 * aten::squeeze_copy.dims_out(Tensor self, int[] dim, *, Tensor(a!) out)
 * aten::squeeze_copy.dim_out(Tensor self, int dim, *, Tensor(a!) out)
 * Drops the listed dims (or the one dim) that have size 1 (others are
 * kept).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_squeeze_copy_dims_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t dims[ET_MAX_RANK];
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, args[1], dims, ET_MAX_RANK, &n, "dim"));
  uint32_t mask = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t d;
    ET_K_TRY(et_k_dim(ctx, dims[i], in->rank, "dim", &d));
    if (in->rank == 0) continue;
    if (mask & (1u << d))
      return ET_K_FAIL(ctx, "dim: %lld appears more than once", (long long)d);
    mask |= 1u << d;
  }
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
  uint32_t r = 0;
  for (uint32_t d = 0; d < in->rank; d++) {
    if ((mask & (1u << d)) && in->sizes[d] == 1) continue;
    sizes[r] = in->sizes[d];
    strides[r] = in->strides[d];
    r++;
  }
  ET_K_TRY(et_k_resize(ctx, out, sizes, r, "out"));
  et_copy_nd(out->data, out->dtype, out->strides, in->data, in->dtype, strides, r, sizes,
             out->dim_order);
  return ET_OK;
}

et_status et_op_squeeze_copy_dim_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dim", &dim));
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
  uint32_t r = 0;
  for (uint32_t d = 0; d < in->rank; d++) {
    if (d == dim && in->sizes[d] == 1) continue;
    sizes[r] = in->sizes[d];
    strides[r] = in->strides[d];
    r++;
  }
  ET_K_TRY(et_k_resize(ctx, out, sizes, r, "out"));
  et_copy_nd(out->data, out->dtype, out->strides, in->data, in->dtype, strides, r, sizes,
             out->dim_order);
  return ET_OK;
}
