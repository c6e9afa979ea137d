/*
 * quantized_decomposed::quantize_per_tensor.out(Tensor input, float scale,
 *     int zero_point, int quant_min, int quant_max, ScalarType dtype, *,
 *     Tensor(a!) out)
 * quantized_decomposed::quantize_per_tensor.Tensor_out(Tensor input,
 *     Tensor scale, Tensor zero_point, int quant_min, int quant_max,
 *     ScalarType dtype, *, Tensor(a!) out)
 *
 * out = clamp(round(x * inv_scale) + zero_point, quant_min, quant_max), as
 * PyTorch's reference (torch/ao/quantization/fx/_decomposed.py) computes it:
 * inv_scale = 1.0 / scale in double, then rounded to float; the product,
 * round half to even, the zero point and the clamp all in float. Half and
 * BFloat16 inputs are widened to float first. (Upstream's kernel computes
 * 1.0f / (float)scale, which differs in the last bit for some scales that
 * are not floats.) The .Tensor_out overload reads scale (Double or Float)
 * and zero_point (Long or Int) from one-element tensors.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

static et_status quantize_per_tensor(et_kernel_ctx *ctx, const et_tensor *in, double scale,
                                     int64_t zero_point, int64_t quant_min,
                                     int64_t quant_max, const et_value *dtype_arg,
                                     et_tensor *out) {
  int dtype;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", false));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", false));
  ET_K_TRY(et_q_check_float_input(ctx, in, "input"));
  ET_K_TRY(et_q_dtype_arg(ctx, dtype_arg, "dtype", &dtype));
  ET_K_TRY(et_q_check_qrange(ctx, quant_min, quant_max, dtype));
  if (out->dtype != dtype)
    return ET_K_FAIL(ctx, "out: dtype %s does not match the dtype argument %s",
                     et_dtype_name(out->dtype), et_dtype_name(dtype));
  ET_K_TRY(et_k_check_same_dim_order(ctx, in, "input", out, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));

  int64_t lo, hi;
  (void)et_q_int_bounds(dtype, &lo, &hi);
  const float inv = (float)(1.0 / scale);
  const float fz = (float)zero_point;
  const float fmin = (float)quant_min, fmax = (float)quant_max;
  const size_t n = et_tensor_numel(in);
  /* The common cases without a dtype switch per element (same arithmetic). */
#define QPT_FLOAT_TO(CT)                                                       \
  do {                                                                         \
    const float *x = (const float *)in->data;                                  \
    CT *o = (CT *)out->data;                                                   \
    for (size_t i = 0; i < n; i++) {                                           \
      const float v = et_q_clampf(et_q_rintf(x[i] * inv) + fz, fmin, fmax);    \
      o[i] = (CT)et_q_float_to_q(v, lo, hi, dtype);                            \
    }                                                                          \
    return ET_OK;                                                              \
  } while (0)
  if (in->dtype == ET_FLOAT && dtype == ET_CHAR) QPT_FLOAT_TO(int8_t);
  if (in->dtype == ET_FLOAT && dtype == ET_BYTE) QPT_FLOAT_TO(uint8_t);
#undef QPT_FLOAT_TO
  for (size_t i = 0; i < n; i++) {
    float v = nearbyintf(et_q_get_f(in->data, in->dtype, i) * inv) + fz;
    v = et_q_clampf(v, fmin, fmax);
    et_q_put_int(out->data, dtype, i, et_q_float_to_q(v, lo, hi, dtype));
  }
  return ET_OK;
}

et_status et_q_quantize_per_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  return quantize_per_tensor(ctx, args[0]->u.t, args[1]->u.d, args[2]->u.i, args[3]->u.i,
                             args[4]->u.i, args[5], args[6]->u.t);
}

et_status et_q_quantize_per_tensor_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  double scale;
  int64_t zp;
  ET_K_TRY(et_q_scalar_scale(ctx, args[1]->u.t, "scale", &scale));
  ET_K_TRY(et_q_scalar_zero_point(ctx, args[2]->u.t, "zero_point", &zp));
  return quantize_per_tensor(ctx, args[0]->u.t, scale, zp, args[3]->u.i, args[4]->u.i,
                             args[5], args[6]->u.t);
}
