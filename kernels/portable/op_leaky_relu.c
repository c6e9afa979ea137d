/*
 * aten::leaky_relu.out(Tensor self, Scalar negative_slope=0.01, *,
 *                      Tensor(a!) out)
 * out = x > 0 ? x : x * negative_slope (NaN stays NaN). Floating dtypes
 * only (PyTorch refuses integers); out has self's dtype; Half/BFloat16
 * compute in float.
 */
#include "portable/ops.h"

#include "util/math_util.h"
#include "util/unary_util.h"

ET_DEFINE_BINARY_TS(leaky, float, f32, x > 0.0f ? x : x * y)
ET_DEFINE_BINARY_TS(leaky, double, f64, x > 0.0 ? x : x * y)

static const et_ew_fns leaky_fns = {NULL, leaky_ts_f32, leaky_ts_f64, NULL};

et_status et_op_leaky_relu_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, a, "self"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  const int compute = et_ew_compute_dtype(a->dtype);
  et_cval slope = et_scalar_cast(args[1], compute);
  return et_ew_unary(ctx, a, out, a->dtype, compute, &leaky_fns, &slope);
}
