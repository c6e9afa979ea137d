/*
 * quantized_decomposed::choose_qparams.Tensor_out(Tensor input,
 *     int quant_min, int quant_max, float eps, ScalarType dtype, *,
 *     Tensor(a!) scale_out, Tensor(b!) zero_point_out)
 *
 * Per-tensor affine parameters from the input's range, as PyTorch's
 * reference (choose_qparams.tensor -> torch.ao.quantization.utils.
 * determine_qparams, per_tensor_affine) computes them, all in float:
 *   lo = min(min(x), 0), hi = max(max(x), 0)
 *   scale = max((hi - lo) / (quant_max - quant_min), (float)eps)
 *   zero_point = clamp(quant_min - (int32)round(lo / scale), quant_min, quant_max)
 * scale_out (Double) and zero_point_out (Long) get one element each.
 * Upstream's kernel differs: it ignores eps, computes the scale in double,
 * replaces scales below 6.1e-5 and nudges the zero point from whichever end
 * has the smaller error; agreement with it is within one quantization step.
 * Float input only (PyTorch's Half/BFloat16 paths compute in those dtypes);
 * an empty input is refused, as aminmax refuses it.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

et_status et_q_choose_qparams_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const int64_t quant_min = args[1]->u.i, quant_max = args[2]->u.i;
  const double eps = args[3]->u.d;
  et_tensor *scale_out = args[5]->u.t, *zp_out = args[6]->u.t;
  int dtype;
  int64_t lo_b, hi_b;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", false));
  ET_K_TRY(et_q_check_tensor(ctx, scale_out, "scale_out", false));
  ET_K_TRY(et_q_check_tensor(ctx, zp_out, "zero_point_out", false));
  if (in->dtype != ET_FLOAT)
    return ET_K_FAIL(ctx, "input: expected dtype Float, got %s", et_dtype_name(in->dtype));
  ET_K_TRY(et_q_dtype_arg(ctx, args[4], "dtype", &dtype));
  if (!et_q_int_bounds(dtype, &lo_b, &hi_b))
    return ET_K_FAIL(ctx, "dtype: %s is not a quantized dtype", et_dtype_name(dtype));
  /* torch.ao.quantization.utils.validate_qmin_qmax */
  if (!(quant_min <= 0 && 0 <= quant_max))
    return ET_K_FAIL(ctx, "quant_min %lld and quant_max %lld must include 0",
                     (long long)quant_min, (long long)quant_max);
  if (quant_min >= quant_max)
    return ET_K_FAIL(ctx, "quant_min %lld must be less than quant_max %lld",
                     (long long)quant_min, (long long)quant_max);
  if (scale_out->dtype != ET_DOUBLE)
    return ET_K_FAIL(ctx, "scale_out: expected dtype Double, got %s",
                     et_dtype_name(scale_out->dtype));
  if (zp_out->dtype != ET_LONG)
    return ET_K_FAIL(ctx, "zero_point_out: expected dtype Long, got %s",
                     et_dtype_name(zp_out->dtype));
  const size_t n = et_tensor_numel(in);
  if (n == 0) return ET_K_FAIL(ctx, "input: is empty (its range is undefined)");
  const int64_t one[1] = {1};
  if (scale_out->rank != 1 || zp_out->rank != 1)
    return ET_K_FAIL(ctx, "scale_out and zero_point_out: expected rank 1, got %u and %u",
                     (unsigned)scale_out->rank, (unsigned)zp_out->rank);
  ET_K_TRY(et_k_resize(ctx, scale_out, one, 1, "scale_out"));
  ET_K_TRY(et_k_resize(ctx, zp_out, one, 1, "zero_point_out"));

  const float *x = (const float *)in->data;
  float mn = x[0], mx = x[0];
  bool nan = false;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != x[i]) nan = true;
    if (x[i] < mn) mn = x[i];
    if (x[i] > mx) mx = x[i];
  }
  if (nan) mn = mx = NAN; /* aminmax propagates NaN */
  const float lo = mn < 0.0f || mn != mn ? mn : 0.0f;
  const float hi = mx > 0.0f || mx != mx ? mx : 0.0f;
  float scale = (hi - lo) / (float)((double)quant_max - (double)quant_min);
  const float feps = (float)eps;
  if (scale != scale || feps != feps)
    scale = NAN;
  else if (scale < feps)
    scale = feps;
  const float r = nearbyintf(lo / scale);
  /* .to(torch.int): NaN and values beyond int32 become INT32_MIN on x86 */
  const int64_t ri = (r == r && r > -2147483649.0f && r < 2147483648.0f) ? (int64_t)r : INT32_MIN;
  int64_t zp = et_q_sub(quant_min, ri);
  if (zp < quant_min) zp = quant_min;
  if (zp > quant_max) zp = quant_max;
  ((double *)scale_out->data)[0] = scale;
  ((int64_t *)zp_out->data)[0] = zp;
  return ET_OK;
}
