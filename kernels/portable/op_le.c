/*
 * aten::le.Scalar_out(Tensor self, Scalar other, *, Tensor(a!) out)
 * aten::le.Tensor_out(Tensor self, Tensor other, *, Tensor(a!) out)
 */
#include "portable/ops.h"

#include "util/arith_util.h"

et_status et_op_le_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  return et_compare_scalar_out(ctx, args, ET_CMP_LE);
}

et_status et_op_le_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  return et_compare_tensor_out(ctx, args, ET_CMP_LE);
}
