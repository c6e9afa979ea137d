/*
 * aten::argmin.out(Tensor self, int? dim=None, bool keepdim=False, *,
 *                  Tensor(a!) out)
 *
 * Index (Long) of the smallest element along `dim`, or the flat row-major
 * index over the whole tensor when dim is None. NaN counts as smallest
 * (the first NaN is reported, as PyTorch does); ties give the first index.
 * Bool input and empty reductions are refused. Any dim order.
 */
#include "portable/ops.h"

#include "util/minmax_util.h"

et_status et_op_argmin_out(et_kernel_ctx *ctx, et_value **args) {
  return et_minmax_arg_out(ctx, args, false);
}
