/*
 * aten::tan.out(Tensor self, *, Tensor(a!) out): tangent.
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(tan, tanf(x), tan(x))

et_status et_op_tan_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &tan_fns);
}
