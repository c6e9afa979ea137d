/*
 * aten::unsqueeze_copy.out(Tensor self, int dim, *, Tensor(a!) out)
 * Inserts a dim of size 1 at `dim` (in [-rank-1, rank]).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_unsqueeze_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  if (in->rank >= ET_MAX_RANK)
    return ET_K_FAIL(ctx, "self: rank %u cannot grow", (unsigned)in->rank);
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, (int64_t)in->rank + 1, "dim", &dim));
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
  uint32_t r = 0;
  for (uint32_t d = 0; d <= in->rank; d++) {
    if (d == dim) {
      sizes[r] = 1;
      strides[r] = 0;
      r++;
    }
    if (d < in->rank) {
      sizes[r] = in->sizes[d];
      strides[r] = in->strides[d];
      r++;
    }
  }
  ET_K_TRY(et_k_resize(ctx, out, sizes, r, "out"));
  et_copy_nd(out->data, out->dtype, out->strides, in->data, in->dtype, strides, r, sizes,
             out->dim_order);
  return ET_OK;
}
