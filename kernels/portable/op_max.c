/*
 * aten::max.dim_max(Tensor self, int dim, bool keepdim=False, *,
 *                   Tensor(a!) max, Tensor(b!) max_values)
 *     -> (Tensor(a!) values, Tensor(b!) indices)
 * aten::max.unary_out(Tensor self, *, Tensor(a!) out)
 *
 * The largest element along `dim` and its index there (Long), or over the
 * whole tensor (0-dim out). NaN wins (the first NaN and its index); among
 * equal maxima the first index is reported, as PyTorch's CPU kernels do.
 * Any dtype including Bool; values have self's dtype. An empty reduction is
 * an error.
 */
#include "portable/ops.h"

#include "util/minmax_util.h"

et_status et_op_max_dim_max(et_kernel_ctx *ctx, et_value **args) {
  return et_minmax_dim_out(ctx, args, true);
}

et_status et_op_max_unary_out(et_kernel_ctx *ctx, et_value **args) {
  return et_minmax_unary_out(ctx, args, true);
}
