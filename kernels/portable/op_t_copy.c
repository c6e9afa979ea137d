/*
 * aten::t_copy.out(Tensor self, *, Tensor(a!) out)
 * The transpose of a matrix; 0-D and 1-D tensors are copied as they are.
 * self may have at most 2 dims (as PyTorch's t()).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_t_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  if (in->rank > 2)
    return ET_K_FAIL(ctx, "self: t() expects a tensor with at most 2 dims, got %u",
                     (unsigned)in->rank);
  int64_t sizes[2], strides[2];
  for (uint32_t d = 0; d < in->rank; d++) {
    sizes[d] = in->sizes[in->rank - 1 - d];
    strides[d] = in->strides[in->rank - 1 - d];
  }
  ET_K_TRY(et_k_resize(ctx, out, sizes, in->rank, "out"));
  et_copy_nd(out->data, out->dtype, out->strides, in->data, in->dtype, strides, in->rank, sizes,
             out->dim_order);
  return ET_OK;
}
