/*
 * aten::min.dim_min(Tensor self, int dim, bool keepdim=False, *,
 *                   Tensor(a!) min, Tensor(b!) min_indices)
 *     -> (Tensor(a!) values, Tensor(b!) indices)
 * aten::min.unary_out(Tensor self, *, Tensor(a!) out)
 *
 * The smallest element along `dim` and its index there (Long), or over the
 * whole tensor (0-dim out). NaN wins (the first NaN and its index); among
 * equal minima the first index is reported. Any dtype including Bool;
 * values have self's dtype. An empty reduction is an error.
 */
#include "portable/ops.h"

#include "util/minmax_util.h"

et_status et_op_min_dim_min(et_kernel_ctx *ctx, et_value **args) {
  return et_minmax_dim_out(ctx, args, false);
}

et_status et_op_min_unary_out(et_kernel_ctx *ctx, et_value **args) {
  return et_minmax_unary_out(ctx, args, false);
}
