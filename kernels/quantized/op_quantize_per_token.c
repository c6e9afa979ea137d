/*
 * quantized_decomposed::quantize_per_token.out(Tensor input, Tensor scales,
 *     Tensor zero_points, int quant_min, int quant_max, ScalarType dtype, *,
 *     Tensor(a!) out)
 *
 * For each token t (a row along the last dim): out = clamp(round(x *
 * (1 / scales[t]) + zero_points[t]), quant_min, quant_max). Note the order:
 * PyTorch's reference adds the zero point before rounding (the per-tensor
 * and per-channel ops round first). Dtypes as PyTorch promotes them: the
 * reciprocal in the scales' dtype, then double if the input, the scales or
 * the zero points are Double, float otherwise. Contiguous tensors.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

et_status et_q_quantize_per_token_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *scales = args[1]->u.t, *zps = args[2]->u.t;
  const int64_t quant_min = args[3]->u.i, quant_max = args[4]->u.i;
  et_tensor *out = args[6]->u.t;
  int dtype;
  size_t tokens, len;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", true));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", true));
  if (!et_dtype_is_floating(in->dtype))
    return ET_K_FAIL(ctx, "input: expected a floating dtype, got %s", et_dtype_name(in->dtype));
  ET_K_TRY(et_q_dtype_arg(ctx, args[5], "dtype", &dtype));
  ET_K_TRY(et_q_check_qrange(ctx, quant_min, quant_max, dtype));
  if (out->dtype != dtype)
    return ET_K_FAIL(ctx, "out: dtype %s does not match the dtype argument %s",
                     et_dtype_name(out->dtype), et_dtype_name(dtype));
  ET_K_TRY(et_q_token_params(ctx, in, scales, zps, &tokens, &len));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));

  int64_t lo, hi;
  (void)et_q_int_bounds(dtype, &lo, &hi);
  const bool zp_int = zps->dtype == ET_LONG || zps->dtype == ET_INT;
  const bool mul_f64 = in->dtype == ET_DOUBLE || scales->dtype == ET_DOUBLE;
  const bool f64 = mul_f64 || zps->dtype == ET_DOUBLE;
  for (size_t t = 0; t < tokens; t++) {
    double inv_d = 0;
    float inv_f = 0;
    if (scales->dtype == ET_DOUBLE)
      inv_d = 1.0 / ((const double *)scales->data)[t];
    else
      inv_f = 1.0f / ((const float *)scales->data)[t];
    const double zd = zp_int ? (double)et_q_get_int(zps->data, zps->dtype, t)
                             : et_q_get_real(zps->data, zps->dtype, t);
    const float zf = zp_int ? (float)et_q_get_int(zps->data, zps->dtype, t) : (float)zd;
    for (size_t j = 0; j < len; j++) {
      const size_t i = t * len + j;
      double r;
      if (f64) {
        double m = mul_f64 ? et_q_get_real(in->data, in->dtype, i) *
                                 (scales->dtype == ET_DOUBLE ? inv_d : (double)inv_f)
                           : (double)(et_q_get_f(in->data, in->dtype, i) * inv_f);
        r = et_q_clampd(nearbyint(m + zd), (double)quant_min, (double)quant_max);
      } else {
        float m = et_q_get_f(in->data, in->dtype, i) * inv_f + zf;
        r = et_q_clampf(nearbyintf(m), (float)quant_min, (float)quant_max);
      }
      et_q_put_int(out->data, dtype, i, et_q_float_to_q(r, lo, hi, dtype));
    }
  }
  return ET_OK;
}
