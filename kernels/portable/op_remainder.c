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

static et_status no_bool(et_kernel_ctx *ctx, int common) {
  if (common == ET_BOOL) return ET_K_FAIL(ctx, "Bool operands are not supported");
  return ET_OK;
}

et_status op_remainder_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  ET_K_TRY(no_bool(ctx, common));
  ET_K_TRY(et_check_int_divisor(ctx, common, a, b));
  return et_ew_binary(ctx, a, b, out, common, &rem_tt, NULL);
}

et_status op_remainder_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  ET_K_TRY(no_bool(ctx, common));
  const int compute = et_ew_compute_dtype(common);
  et_cval v = et_scalar_via_dtype(args[1], common);
  ET_K_TRY(et_check_int_scalar_divisor(ctx, common, a, v));
  return et_ew_unary(ctx, a, out, common, compute, &rem_ts, &v);
}
