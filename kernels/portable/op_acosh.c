/*
 * aten::acosh.out(Tensor self, *, Tensor(a!) out): inverse hyperbolic cosine (NaN below 1).
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(acosh, acoshf(x), acosh(x))

et_status et_op_acosh_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &acosh_fns);
}
