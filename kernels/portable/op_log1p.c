/*
 * aten::log1p.out(Tensor self, *, Tensor(a!) out): log(1 + x), accurate near 0.
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(log1p, log1pf(x), log1p(x))

et_status et_op_log1p_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &log1p_fns);
}
