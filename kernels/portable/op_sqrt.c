/* aten::sqrt.out(Tensor self, *, Tensor(a!) out) */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(sqrt_op, sqrtf(x), sqrt(x))

et_status et_op_sqrt_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &sqrt_op_fns);
}
