/*
 * aten::fmod.Tensor_out(Tensor self, Tensor other, *, Tensor(a!) out)
 * aten::fmod.Scalar_out(Tensor self, Scalar other, *, Tensor(a!) out)
 *
 * C's remainder: the result has the sign of self (fmod for floating
 * dtypes, % for integers). Broadcasting and type promotion as add; a scalar
 * is first converted to the common dtype (an Int8 tensor sees 257 as 1).
 * An integer zero divisor fails with InvalidArgument ("ZeroDivisionError",
 * as PyTorch raises); Bool operands are refused.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

ET_DEFINE_BINARY_TT_TS(fmod, int64_t, i64, et_i64_fmod(x, y))
ET_DEFINE_BINARY_TT_TS(fmod, float, f32, fmodf(x, y))
ET_DEFINE_BINARY_TT_TS(fmod, double, f64, fmod(x, y))

static const et_ew_fns fmod_tt = {fmod_tt_i64, fmod_tt_f32, fmod_tt_f64, NULL};
static const et_ew_fns fmod_ts = {fmod_ts_i64, fmod_ts_f32, fmod_ts_f64, NULL};

et_status et_op_fmod_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  return et_binary_tensor_out(ctx, args, ET_BINARY_DIVISION, &fmod_tt);
}

et_status et_op_fmod_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  return et_binary_scalar_out(ctx, args, ET_BINARY_DIVISION, &fmod_ts);
}
