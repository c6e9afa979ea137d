/*
 * aten::erf.out(Tensor self, *, Tensor(a!) out): error function.
 * Any real or Bool input (integers give a floating out, as in PyTorch);
 * Half/BFloat16 compute in float, Double in double.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(erf, erff(x), erf(x))

et_status et_op_erf_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &erf_fns);
}
