/*
 * aten::remainder.Tensor_out(Tensor self, Tensor other, *, Tensor(a!) out)
 * aten::remainder.Scalar_out(Tensor self, Scalar other, *, Tensor(a!) out)
 *
 * Python's %: the result has the sign of other (x - floor(x / y) * y,
 * computed from fmod so that it is exact). Broadcasting and type promotion
 * as add; a scalar is first converted to the common dtype. An integer zero
 * divisor fails with InvalidArgument ("ZeroDivisionError", as PyTorch
 * raises); Bool operands are refused.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

ET_DEFINE_BINARY_TT_TS(rem, int64_t, i64, et_i64_remainder(x, y))
ET_DEFINE_BINARY_TT_TS(rem, float, f32, et_f32_remainder(x, y))
ET_DEFINE_BINARY_TT_TS(rem, double, f64, et_f64_remainder(x, y))

static const et_ew_fns rem_tt = {rem_tt_i64, rem_tt_f32, rem_tt_f64, NULL};
static const et_ew_fns rem_ts = {rem_ts_i64, rem_ts_f32, rem_ts_f64, NULL};

et_status et_op_remainder_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  return et_binary_tensor_out(ctx, args, ET_BINARY_DIVISION, &rem_tt);
}

et_status et_op_remainder_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  return et_binary_scalar_out(ctx, args, ET_BINARY_DIVISION, &rem_ts);
}
