/* aten::rsqrt.out(Tensor self, *, Tensor(a!) out): 1 / sqrt(x) */
#include "portable/ops.h"

#include "util/unary_util.h"

ET_DEFINE_FLOAT_UNARY(rsqrt, 1.0f / sqrtf(x), 1.0 / sqrt(x))

et_status et_op_rsqrt_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_float_out(ctx, args, &rsqrt_fns);
}
