/*
 * aten::permute_copy.out(Tensor self, int[] dims, *, Tensor(a!) out)
 * out.size(i) = self.size(dims[i]); any dtype and dim orders.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_permute_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t dims[ET_MAX_RANK];
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, args[1], dims, ET_MAX_RANK, &n, "dims"));
  if (n != in->rank)
    return ET_K_FAIL(ctx, "dims: expected %u dims (the rank of self), got %zu",
                     (unsigned)in->rank, n);
  int64_t sizes[ET_MAX_RANK], src_strides[ET_MAX_RANK];
  uint32_t seen = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t d;
    ET_K_TRY(et_k_dim(ctx, dims[i], in->rank, "dims", &d));
    if (seen & (1u << d))
      return ET_K_FAIL(ctx, "dims: dim %lld appears more than once", (long long)d);
    seen |= 1u << d;
    sizes[i] = in->sizes[d];
    src_strides[i] = in->strides[d];
  }
  ET_K_TRY(et_k_resize(ctx, out, sizes, (uint32_t)n, "out"));
  et_copy_nd(out->data, out->dtype, out->strides, in->data, in->dtype, src_strides,
             (uint32_t)n, sizes, out->dim_order);
  return ET_OK;
}
