/*
 * dim_order_ops::_clone_dim_order.out(Tensor self, *, bool non_blocking=False,
 *                                     int[]? dim_order=None, Tensor(a!) out)
 * Edge IR's clone: same dtype, layout given by dim_order (None keeps
 * self's).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_clone_dim_order_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  ET_K_TRY(et_k_check_dim_order_arg(ctx, args[2], in, out));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  et_copy_tensor(out, in);
  return ET_OK;
}
