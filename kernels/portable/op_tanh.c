/* aten::tanh.out(Tensor self, *, Tensor(a!) out) */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(tanh_op, tanhf(x), tanh(x))

et_status et_op_tanh_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &tanh_op_fns);
}
