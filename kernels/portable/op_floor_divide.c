/*
 * aten::floor_divide.out(Tensor self, Tensor other, *, Tensor(a!) out)
 *
 * self // other rounded towards negative infinity (div with
 * rounding_mode="floor"), with broadcasting and type promotion: integers
 * stay integers (an integer zero divisor fails with InvalidArgument,
 * "ZeroDivisionError", as PyTorch raises), floating dtypes follow Python's
 * float // (a zero divisor gives +-inf or NaN). Bool is refused.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

ET_DEFINE_BINARY_TT(fdiv, int64_t, i64, et_i64_div_floor(x, y))
ET_DEFINE_BINARY_TT(fdiv, float, f32, et_f32_div_floor(x, y))
ET_DEFINE_BINARY_TT(fdiv, double, f64, et_f64_div_floor(x, y))

static const et_ew_fns fdiv_tt = {fdiv_tt_i64, fdiv_tt_f32, fdiv_tt_f64, NULL};

et_status et_op_floor_divide_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  if (common == ET_BOOL) return ET_K_FAIL(ctx, "Bool operands are not supported");
  ET_K_TRY(et_check_int_divisor(ctx, common, a, b));
  return et_ew_binary(ctx, a, b, out, common, &fdiv_tt, NULL);
}
