/* aten::sigmoid.out(Tensor self, *, Tensor(a!) out): 1 / (1 + exp(-x)) */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(sigmoid, 1.0f / (1.0f + expf(-x)), 1.0 / (1.0 + exp(-x)))

et_status et_op_sigmoid_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &sigmoid_fns);
}
