/*
 * quantized_decomposed::add.out(Tensor a, float a_scale, int a_zero_point,
 *     int a_quant_min, int a_quant_max, Tensor b, float b_scale,
 *     int b_zero_point, int b_quant_min, int b_quant_max, float out_scale,
 *     int out_zero_point, int out_quant_min, int out_quant_max, *,
 *     Tensor(a!) out)
 *
 * Quantized add, equal to dequantize_per_tensor(a) + dequantize_per_tensor(b)
 * followed by quantize_per_tensor with the out parameters, each step as
 * PyTorch's reference ops compute it in float (see op_dequantize_per_tensor.c
 * and op_quantize_per_tensor.c). PyTorch registers no kernel for this op;
 * upstream's computes the same but with 1.0f / (float)out_scale. a, b and out
 * have the same shape and the same quantized dtype (no broadcasting); the
 * a/b quant ranges are not used.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

et_status et_q_add_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[5]->u.t;
  et_tensor *out = args[14]->u.t;
  const int64_t out_min = args[12]->u.i, out_max = args[13]->u.i;
  ET_K_TRY(et_q_check_tensor(ctx, a, "a", false));
  ET_K_TRY(et_q_check_tensor(ctx, b, "b", false));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", false));
  ET_K_TRY(et_q_check_qtensor(ctx, a, "a", a->dtype));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "a", b, "b"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "a", out, "out"));
  ET_K_TRY(et_k_check_same_shape(ctx, a, "a", b, "b"));
  ET_K_TRY(et_k_check_same_dim_order(ctx, a, "a", b, "b"));
  ET_K_TRY(et_k_check_same_dim_order(ctx, a, "a", out, "out"));
  ET_K_TRY(et_q_check_qrange(ctx, out_min, out_max, a->dtype));
  ET_K_TRY(et_k_resize_like(ctx, out, a, "out"));

  const int dtype = a->dtype;
  int64_t lo, hi;
  (void)et_q_int_bounds(dtype, &lo, &hi);
  const float as = (float)args[1]->u.d, az = (float)args[2]->u.i;
  const float bs = (float)args[6]->u.d, bz = (float)args[7]->u.i;
  const float inv = (float)(1.0 / args[10]->u.d), oz = (float)args[11]->u.i;
  const float fmin = (float)out_min, fmax = (float)out_max;
  const size_t n = et_tensor_numel(a);
  for (size_t i = 0; i < n; i++) {
    const float da = ((float)et_q_get_int(a->data, dtype, i) - az) * as;
    const float db = ((float)et_q_get_int(b->data, dtype, i) - bz) * bs;
    float v = nearbyintf((da + db) * inv) + oz;
    v = et_q_clampf(v, fmin, fmax);
    et_q_put_int(out->data, dtype, i, et_q_float_to_q(v, lo, hi, dtype));
  }
  return ET_OK;
}
