/*
 * dim_order_ops::_to_dim_order_copy.out(Tensor self, *, bool non_blocking=False,
 *                                       int[]? dim_order=None, Tensor(a!) out)
 * Edge IR's _to_copy: converts dtype and layout (e.g. contiguous <->
 * channels-last). A given dim_order must be out's; None keeps self's.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_to_dim_order_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_dim_order_arg(ctx, args[2], in, out));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  et_copy_tensor(out, in);
  return ET_OK;
}
