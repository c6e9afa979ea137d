/*
 * aten::bitwise_or.Tensor_out(Tensor self, Tensor other, *, Tensor(a!) out)
 * aten::bitwise_or.Scalar_out(Tensor self, Scalar other, *, Tensor(a!) out)
 * Integer and Bool dtypes only (a Double scalar makes the result Float,
 * which is refused, as in PyTorch); computed on the promoted dtype.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

ET_DEFINE_BINARY_TT_TS(bor, int64_t, i64, x | y)

static const et_ew_fns bor_tt = {bor_tt_i64, NULL, NULL, NULL};
static const et_ew_fns bor_ts = {bor_ts_i64, NULL, NULL, NULL};

static et_status integral(et_kernel_ctx *ctx, int common) {
  if (!et_dtype_is_integral(common, true))
    return ET_K_FAIL(ctx, "bitwise_or needs integer or Bool operands, got %s",
                     et_dtype_name(common));
  return ET_OK;
}

et_status op_bitwise_or_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  ET_K_TRY(integral(ctx, common));
  return et_ew_binary(ctx, a, b, out, common, &bor_tt, NULL);
}

et_status op_bitwise_or_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  ET_K_TRY(integral(ctx, common));
  et_cval v = et_scalar_via_dtype(args[1], common);
  return et_ew_unary(ctx, a, out, common, ET_LONG, &bor_ts, &v);
}
