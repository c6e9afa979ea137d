/*
 * aten::bitwise_and.Tensor_out(Tensor self, Tensor other, *, Tensor(a!) out)
 * aten::bitwise_and.Scalar_out(Tensor self, Scalar other, *, Tensor(a!) out)
 * Integer and Bool dtypes only (a Double scalar makes the result Float,
 * which is refused, as in PyTorch); computed on the promoted dtype.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

ET_DEFINE_BINARY_TT_TS(band, int64_t, i64, x & y)

static const et_ew_fns band_tt = {band_tt_i64, NULL, NULL, NULL};
static const et_ew_fns band_ts = {band_ts_i64, NULL, NULL, NULL};

et_status et_op_bitwise_and_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  return et_binary_tensor_out(ctx, args, ET_BINARY_INTEGRAL, &band_tt);
}

et_status et_op_bitwise_and_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  return et_binary_scalar_out(ctx, args, ET_BINARY_INTEGRAL, &band_ts);
}
