/*
 * aten::gt.Scalar_out(Tensor self, Scalar other, *, Tensor(a!) out)
 * aten::gt.Tensor_out(Tensor self, Tensor other, *, Tensor(a!) out)
 */
#include "portable/ops.h"

#include "util/arith_util.h"

et_status et_op_gt_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  return et_compare_scalar_out(ctx, args, ET_CMP_GT);
}

et_status et_op_gt_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  return et_compare_tensor_out(ctx, args, ET_CMP_GT);
}
