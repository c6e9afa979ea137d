/*
 * aten::transpose_copy.int_out(Tensor self, int dim0, int dim1, *,
 *                              Tensor(a!) out)
 * self with dims dim0 and dim1 swapped (negative dims count from the end;
 * a 0-dim self accepts 0 and -1).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_transpose_copy_int_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t d0, d1;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dim0", &d0));
  ET_K_TRY(et_k_dim(ctx, args[2]->u.i, in->rank, "dim1", &d1));
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
  for (uint32_t d = 0; d < in->rank; d++) {
    const uint32_t s = d == d0 ? (uint32_t)d1 : d == d1 ? (uint32_t)d0 : d;
    sizes[d] = in->sizes[s];
    strides[d] = in->strides[s];
  }
  ET_K_TRY(et_k_resize(ctx, out, sizes, in->rank, "out"));
  et_copy_nd(out->data, out->dtype, out->strides, in->data, in->dtype, strides, in->rank, sizes,
             out->dim_order);
  return ET_OK;
}
