/*
 * aten::log2.out(Tensor self, *, Tensor(a!) out): base-2 logarithm.
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(log2, log2f(x), log2(x))

et_status et_op_log2_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &log2_fns);
}
