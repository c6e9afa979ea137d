/*
 * aten::argmax.out(Tensor self, int? dim=None, bool keepdim=False, *,
 *                  Tensor(a!) out)
 *
 * Index (Long) of the largest element along `dim`, or the flat row-major
 * index over the whole tensor when dim is None (keepdim then keeps every
 * dim as size 1). NaN counts as largest (the first NaN is reported); ties
 * give the first index. Bool input and empty reductions are refused, as in
 * PyTorch. Any dim order.
 */
#include "portable/ops.h"

#include "util/minmax_util.h"

et_status et_op_argmax_out(et_kernel_ctx *ctx, et_value **args) {
  return et_minmax_arg_out(ctx, args, true);
}
