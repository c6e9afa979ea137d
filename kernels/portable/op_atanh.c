/*
 * aten::atanh.out(Tensor self, *, Tensor(a!) out): inverse hyperbolic tangent (+-inf at +-1).
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(atanh, atanhf(x), atanh(x))

et_status et_op_atanh_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &atanh_fns);
}
