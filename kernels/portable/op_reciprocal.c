/*
 * aten::reciprocal.out(Tensor self, *, Tensor(a!) out): 1 / x (inf at 0).
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(reciprocal, 1.0f / x, 1.0 / x)

et_status et_op_reciprocal_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &reciprocal_fns);
}
