/*
 * quantized_decomposed::quantize_per_channel.out(Tensor input, Tensor scales,
 *     Tensor zero_points, int axis, int quant_min, int quant_max,
 *     ScalarType dtype, *, Tensor(a!) out)
 *
 * out[..., c, ...] = clamp(round(x * (1 / scales[c])) + zero_points[c],
 * quant_min, quant_max) along `axis`, in the dtypes PyTorch's reference
 * promotes to: the reciprocal, product and rounding in the scales' dtype
 * (Float or Double), the zero point added in the promotion of that with the
 * zero points' dtype (Long/Int: unchanged; Double: double), and the clamp in
 * that type. Half/BFloat16 inputs are widened to float. Contiguous tensors.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

et_status et_q_quantize_per_channel_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *scales = args[1]->u.t, *zps = args[2]->u.t;
  const int64_t quant_min = args[4]->u.i, quant_max = args[5]->u.i;
  et_tensor *out = args[7]->u.t;
  int dtype;
  et_q_channels ch;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", true));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", true));
  ET_K_TRY(et_q_check_float_input(ctx, in, "input"));
  ET_K_TRY(et_q_dtype_arg(ctx, args[6], "dtype", &dtype));
  ET_K_TRY(et_q_check_qrange(ctx, quant_min, quant_max, dtype));
  if (out->dtype != dtype)
    return ET_K_FAIL(ctx, "out: dtype %s does not match the dtype argument %s",
                     et_dtype_name(out->dtype), et_dtype_name(dtype));
  ET_K_TRY(et_q_channel_params(ctx, in, args[3]->u.i, scales, zps, &ch));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));

  int64_t lo, hi;
  (void)et_q_int_bounds(dtype, &lo, &hi);
  const size_t n = et_tensor_numel(in);
  const bool zp_int = zps->dtype == ET_LONG || zps->dtype == ET_INT;
  const bool s_f64 = scales->dtype == ET_DOUBLE;
  const bool r_f64 = s_f64 || zps->dtype == ET_DOUBLE;
  for (size_t i = 0; i < n; i++) {
    const size_t c = ch.nparams == 1 ? 0 : (i / ch.inner) % ch.channels;
    const float x = et_q_get_f(in->data, in->dtype, i);
    double r;
    if (s_f64) {
      const double inv = 1.0 / ((const double *)scales->data)[c];
      r = nearbyint((double)x * inv);
    } else {
      const float inv = 1.0f / ((const float *)scales->data)[c];
      r = nearbyintf(x * inv);
    }
    if (r_f64) {
      const double z = zp_int ? (double)et_q_get_int(zps->data, zps->dtype, c)
                              : et_q_get_real(zps->data, zps->dtype, c);
      r = et_q_clampd(r + z, (double)quant_min, (double)quant_max);
    } else {
      const float z = zp_int ? (float)et_q_get_int(zps->data, zps->dtype, c)
                             : ((const float *)zps->data)[c];
      r = et_q_clampf((float)r + z, (float)quant_min, (float)quant_max);
    }
    et_q_put_int(out->data, dtype, i, et_q_float_to_q(r, lo, hi, dtype));
  }
  return ET_OK;
}
