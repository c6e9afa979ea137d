/*
 * aten::sin.out(Tensor self, *, Tensor(a!) out): sine.
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(sin, sinf(x), sin(x))

et_status et_op_sin_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &sin_fns);
}
