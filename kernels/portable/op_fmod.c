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

static et_status no_bool(et_kernel_ctx *ctx, int common) {
  if (common == ET_BOOL) return ET_K_FAIL(ctx, "Bool operands are not supported");
  return ET_OK;
}

et_status op_fmod_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  ET_K_TRY(no_bool(ctx, common));
  ET_K_TRY(et_check_int_divisor(ctx, common, a, b));
  return et_ew_binary(ctx, a, b, out, common, &fmod_tt, NULL);
}

et_status op_fmod_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  ET_K_TRY(no_bool(ctx, common));
  const int compute = et_ew_compute_dtype(common);
  et_cval v = et_scalar_via_dtype(args[1], common);
  ET_K_TRY(et_check_int_scalar_divisor(ctx, common, a, v));
  return et_ew_unary(ctx, a, out, common, compute, &fmod_ts, &v);
}
