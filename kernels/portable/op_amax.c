/*
 * aten::amax.out(Tensor self, int[1] dim=[], bool keepdim=False, *,
 *                Tensor(a!) out)
 *
 * Largest element over `dim` ([] means every dim), any dtype including Bool,
 * any dim order; NaN propagates. out has self's dtype. Reducing a dim of
 * size zero is an error, as in PyTorch.
 */
#include "portable/ops.h"

#include "util/minmax_util.h"

et_status et_op_amax_out(et_kernel_ctx *ctx, et_value **args) {
  return et_minmax_amax_out(ctx, args, true);
}
