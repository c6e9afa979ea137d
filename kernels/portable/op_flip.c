/*
 * aten::flip.out(Tensor self, int[] dims, *, Tensor(a!) out)
 * self with the order of elements reversed along each of `dims` (each dim
 * at most once).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_flip_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t dims[ET_MAX_RANK];
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, args[1], dims, ET_MAX_RANK, &n, "dims"));
  uint32_t seen = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t d;
    ET_K_TRY(et_k_dim(ctx, dims[i], in->rank, "dims", &d));
    if (seen & (1u << d))
      return ET_K_FAIL(ctx, "dims: dim %lld appears more than once", (long long)d);
    seen |= 1u << d;
  }
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  /* read flipped dims backwards: start at their last element, negative stride */
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK], start = 0;
  for (uint32_t d = 0; d < in->rank; d++) {
    sizes[d] = in->sizes[d];
    strides[d] = in->strides[d];
    if (seen & (1u << d)) {
      start += (sizes[d] - 1) * strides[d];
      strides[d] = -strides[d];
    }
  }
  et_copy_nd(out->data, out->dtype, out->strides,
             (const char *)in->data + start * (int64_t)et_dtype_size(in->dtype), in->dtype,
             strides, in->rank, sizes, out->dim_order);
  return ET_OK;
}
