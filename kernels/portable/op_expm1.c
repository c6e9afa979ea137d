/*
 * aten::expm1.out(Tensor self, *, Tensor(a!) out): exp(x) - 1, accurate near 0.
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(expm1, expm1f(x), expm1(x))

et_status et_op_expm1_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &expm1_fns);
}
