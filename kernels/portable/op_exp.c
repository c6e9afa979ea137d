/* aten::exp.out(Tensor self, *, Tensor(a!) out) */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(exp, expf(x), exp(x))

et_status et_op_exp_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &exp_fns);
}
