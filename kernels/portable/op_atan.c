/*
 * aten::atan.out(Tensor self, *, Tensor(a!) out): arctangent.
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(atan, atanf(x), atan(x))

et_status et_op_atan_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &atan_fns);
}
