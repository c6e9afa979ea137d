/*
 * aten::div.out_mode(Tensor self, Tensor other, *, str? rounding_mode,
 *                    Tensor(a!) out)
 * aten::div.Scalar_mode_out(Tensor self, Scalar other, *,
 *                           str? rounding_mode, Tensor(a!) out)
 *
 * rounding_mode None is true division (integer and Bool operands divide in
 * Float; out must be floating), as div.out. "trunc" rounds the quotient
 * towards zero and "floor" towards negative infinity (Python's //); both
 * keep the promoted dtype, so integers stay integers, and an integer zero
 * divisor fails with InvalidArgument ("ZeroDivisionError", as PyTorch
 * raises). Bool operands are refused with a rounding mode.
 *
 * Scalar divisors: integer ones are converted to the common dtype first (an
 * Int8 tensor divided by 256 divides by 0, as in PyTorch); floating ones
 * keep float precision for Half/BFloat16 tensors, as PyTorch's CPU scalar
 * path does (5 // 0.1 in Half is 49, not 50).
 *
 * These overloads live apart from op_div.c (div.out, div.Scalar_out).
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

#include <string.h>

ET_DEFINE_BINARY_TT_TS(tdiv, float, f32, x / y)
ET_DEFINE_BINARY_TT_TS(tdiv, double, f64, x / y)
ET_DEFINE_BINARY_TT_TS(trunc, int64_t, i64, et_i64_div_trunc(x, y))
ET_DEFINE_BINARY_TT_TS(trunc, float, f32, truncf(x / y))
ET_DEFINE_BINARY_TT_TS(trunc, double, f64, trunc(x / y))
ET_DEFINE_BINARY_TT_TS(floor, int64_t, i64, et_i64_div_floor(x, y))
ET_DEFINE_BINARY_TT_TS(floor, float, f32, et_f32_div_floor(x, y))
ET_DEFINE_BINARY_TT_TS(floor, double, f64, et_f64_div_floor(x, y))

static const et_ew_fns mode_tt[3] = {
    {NULL, tdiv_tt_f32, tdiv_tt_f64, NULL},
    {trunc_tt_i64, trunc_tt_f32, trunc_tt_f64, NULL},
    {floor_tt_i64, floor_tt_f32, floor_tt_f64, NULL},
};
static const et_ew_fns mode_ts[3] = {
    {NULL, tdiv_ts_f32, tdiv_ts_f64, NULL},
    {trunc_ts_i64, trunc_ts_f32, trunc_ts_f64, NULL},
    {floor_ts_i64, floor_ts_f32, floor_ts_f64, NULL},
};

static et_status parse_mode(et_kernel_ctx *ctx, const et_value *v, int *out_mode) {
  int mode = et_round_mode_parse(v);
  if (mode < 0) {
    if (v->tag == ET_TAG_STRING) {
      char s[33]; /* et_format has no %.*s; the string is not terminated */
      size_t n = v->u.str.len > 32 ? 32 : v->u.str.len;
      memcpy(s, v->u.str.ptr, n);
      s[n] = '\0';
      return ET_K_FAIL(ctx, "rounding_mode: expected None, \"trunc\" or \"floor\", got "
                            "\"%s\"", s);
    }
    return ET_K_FAIL(ctx, "rounding_mode: expected None, \"trunc\" or \"floor\"");
  }
  *out_mode = mode;
  return ET_OK;
}

/* True division: Float when neither operand is floating. */
static int true_div_common(int common, int a, int b) {
  bool fa = et_dtype_is_floating(a), fb = et_dtype_is_floating(b);
  if (fa || fb) return common;
  return ET_FLOAT;
}

static et_status check_out(et_kernel_ctx *ctx, int mode, int common, const et_tensor *out) {
  if (mode == ET_ROUND_NONE) {
    if (!et_dtype_is_floating(out->dtype) || !et_can_cast(common, out->dtype))
      return ET_K_FAIL(ctx, "out: expected a floating dtype that %s can be cast to, got "
                            "%s",
                       et_dtype_name(common), et_dtype_name(out->dtype));
    return ET_OK;
  }
  if (common == ET_BOOL)
    return ET_K_FAIL(ctx, "Bool operands are not supported with a rounding mode");
  if (!et_can_cast(common, out->dtype))
    return ET_K_FAIL(ctx, "result dtype %s cannot be cast to out dtype %s",
                     et_dtype_name(common), et_dtype_name(out->dtype));
  return ET_OK;
}

et_status et_op_div_out_mode(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[3]->u.t;
  int mode = ET_ROUND_NONE;
  ET_K_TRY(parse_mode(ctx, args[2], &mode));
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, b, "other"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int common = et_promote_types(a->dtype, b->dtype);
  if (mode == ET_ROUND_NONE) common = true_div_common(common, a->dtype, b->dtype);
  ET_K_TRY(check_out(ctx, mode, common, out));
  ET_K_TRY(et_check_int_divisor(ctx, common, a, b));
  return et_ew_binary(ctx, a, b, out, common, &mode_tt[mode], NULL);
}

et_status et_op_div_scalar_mode_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  const et_value *s = args[1];
  et_tensor *out = args[3]->u.t;
  int mode = ET_ROUND_NONE;
  ET_K_TRY(parse_mode(ctx, args[2], &mode));
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int common = et_promote_type_with_scalar(a->dtype, s);
  if (mode == ET_ROUND_NONE && !et_dtype_is_floating(common)) common = ET_FLOAT;
  ET_K_TRY(check_out(ctx, mode, common, out));
  const int compute = et_ew_compute_dtype(common);
  const et_cval v = et_dtype_is_floating(common) ? et_scalar_cast(s, compute)
                                                 : et_scalar_via_dtype(s, common);
  ET_K_TRY(et_check_int_scalar_divisor(ctx, common, a, v));
  return et_ew_unary(ctx, a, out, common, compute, &mode_ts[mode], &v);
}
