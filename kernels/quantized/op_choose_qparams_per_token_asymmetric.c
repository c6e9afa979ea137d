/*
 * quantized_decomposed::choose_qparams_per_token_asymmetric.out(Tensor input,
 *     ScalarType dtype, *, Tensor(a!) scale_out, Tensor(b!) zero_point_out)
 *
 * Asymmetric int8 parameters for each token (row along the last dim), as
 * PyTorch's reference (_choose_qparams_per_token_asymmetric_impl) computes
 * them in float with quant_min = -128, quant_max = 127:
 *   lo = min(min(row), 0), hi = max(max(row), 0)
 *   scale = max((hi - lo) / 255, FLT_EPSILON)
 *   a = lo / scale, b = hi / scale
 *   zp = (-128 + a) + (127 + b) > 0 ? -128 - a : 127 - b
 *   zero_point = round(clamp(zp, -128, 127))
 * scale_out (Double) and zero_point_out (Long) are resized to input's shape
 * with the last size 1. The dtype argument is not used by the reference;
 * it must name a quantized dtype. Upstream's kernel uses another formula
 * (see op_choose_qparams.c). Float input; contiguous tensors.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

#include <float.h>

et_status et_q_choose_qparams_per_token_asymmetric_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *scale_out = args[2]->u.t, *zp_out = args[3]->u.t;
  int dtype;
  int64_t lo_b, hi_b;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", true));
  ET_K_TRY(et_q_check_tensor(ctx, scale_out, "scale_out", true));
  ET_K_TRY(et_q_check_tensor(ctx, zp_out, "zero_point_out", true));
  if (in->dtype != ET_FLOAT)
    return ET_K_FAIL(ctx, "input: expected dtype Float, got %s", et_dtype_name(in->dtype));
  ET_K_TRY(et_q_dtype_arg(ctx, args[1], "dtype", &dtype));
  if (!et_q_int_bounds(dtype, &lo_b, &hi_b))
    return ET_K_FAIL(ctx, "dtype: %s is not a quantized dtype", et_dtype_name(dtype));
  if (scale_out->dtype != ET_DOUBLE)
    return ET_K_FAIL(ctx, "scale_out: expected dtype Double, got %s",
                     et_dtype_name(scale_out->dtype));
  if (zp_out->dtype != ET_LONG)
    return ET_K_FAIL(ctx, "zero_point_out: expected dtype Long, got %s",
                     et_dtype_name(zp_out->dtype));
  if (in->rank == 0) return ET_K_FAIL(ctx, "input: expected rank >= 1");
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(in, sizes);
  sizes[in->rank - 1] = 1;
  ET_K_TRY(et_k_resize(ctx, scale_out, sizes, in->rank, "scale_out"));
  ET_K_TRY(et_k_resize(ctx, zp_out, sizes, in->rank, "zero_point_out"));
  const size_t len = (size_t)in->sizes[in->rank - 1];
  const size_t tokens = et_tensor_numel(scale_out);
  if (tokens == 0) return ET_OK;
  if (len == 0) /* amin over an empty dim has no identity */
    return ET_K_FAIL(ctx, "input: the last dim is empty");

  const float *x = (const float *)in->data;
  for (size_t t = 0; t < tokens; t++) {
    const float *row = x + t * len;
    float mn = row[0], mx = row[0];
    bool nan = false;
    for (size_t j = 0; j < len; j++) {
      if (row[j] != row[j]) nan = true;
      if (row[j] < mn) mn = row[j];
      if (row[j] > mx) mx = row[j];
    }
    if (nan) mn = mx = NAN;
    const float lo = mn < 0.0f || mn != mn ? mn : 0.0f;
    const float hi = mx > 0.0f || mx != mx ? mx : 0.0f;
    float scale = (hi - lo) / 255.0f;
    if (scale < FLT_EPSILON) scale = FLT_EPSILON; /* clamp(min=eps) keeps NaN */
    const float a = lo / scale, b = hi / scale;
    float zp = (-128.0f + a) + (127.0f + b) > 0.0f ? -128.0f - a : 127.0f - b;
    zp = nearbyintf(et_q_clampf(zp, -128.0f, 127.0f));
    ((double *)scale_out->data)[t] = scale;
    ((int64_t *)zp_out->data)[t] = zp == zp ? (int64_t)zp : INT64_MIN;
  }
  return ET_OK;
}
