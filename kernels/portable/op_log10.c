/*
 * aten::log10.out(Tensor self, *, Tensor(a!) out): base-10 logarithm.
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(log10, log10f(x), log10(x))

et_status et_op_log10_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &log10_fns);
}
