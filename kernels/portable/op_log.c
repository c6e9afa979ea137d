/*
 * aten::log.out(Tensor self, *, Tensor(a!) out): natural logarithm.
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(log, logf(x), log(x))

et_status et_op_log_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &log_fns);
}
