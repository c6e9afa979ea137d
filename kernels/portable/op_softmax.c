/* aten::_softmax.out(Tensor self, int dim, bool half_to_float, *, Tensor(a!) out) */
#include "portable/ops.h"

#include "util/softmax_util.h"

et_status et_op_softmax_out(et_kernel_ctx *ctx, et_value **args) {
  return et_softmax_out(ctx, args, false);
}
