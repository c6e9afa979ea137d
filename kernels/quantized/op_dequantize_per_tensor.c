/*
 * quantized_decomposed::dequantize_per_tensor.out(Tensor input, float scale,
 *     int zero_point, int quant_min, int quant_max, ScalarType dtype, *,
 *     ScalarType? out_dtype=None, Tensor(a!) out)
 * quantized_decomposed::dequantize_per_tensor.Tensor_out(Tensor input,
 *     Tensor scale, Tensor zero_point, int quant_min, int quant_max,
 *     ScalarType dtype, *, ScalarType? out_dtype=None, Tensor(a!) out)
 *
 * out = (input.to(out_dtype) - zero_point) * scale, as PyTorch's reference
 * computes it: the conversion, the subtraction and the product each rounded
 * to out_dtype (Float by default), with the scalars in float (double for a
 * Double out). quant_min and quant_max are not used (PyTorch does not check
 * them either); input's dtype must be the dtype argument.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

static et_status dequantize_per_tensor(et_kernel_ctx *ctx, const et_tensor *in,
                                       double scale, int64_t zero_point,
                                       const et_value *dtype_arg,
                                       const et_value *out_dtype_arg, et_tensor *out) {
  int dtype, out_dtype = ET_FLOAT;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", false));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", false));
  ET_K_TRY(et_q_dtype_arg(ctx, dtype_arg, "dtype", &dtype));
  ET_K_TRY(et_q_check_qtensor(ctx, in, "input", dtype));
  if (out_dtype_arg->tag != ET_TAG_NONE)
    ET_K_TRY(et_q_dtype_arg(ctx, out_dtype_arg, "out_dtype", &out_dtype));
  ET_K_TRY(et_q_check_real_dtype(ctx, out_dtype, "out_dtype"));
  if (out->dtype != out_dtype)
    return ET_K_FAIL(ctx, "out: dtype %s does not match out_dtype %s",
                     et_dtype_name(out->dtype), et_dtype_name(out_dtype));
  ET_K_TRY(et_k_check_same_dim_order(ctx, in, "input", out, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));

  const size_t n = et_tensor_numel(in);
  if (out_dtype == ET_DOUBLE) {
    double *o = (double *)out->data;
    const double dz = (double)zero_point;
    for (size_t i = 0; i < n; i++)
      o[i] = ((double)et_q_get_int(in->data, dtype, i) - dz) * scale;
    return ET_OK;
  }
  const float fz = (float)zero_point, fs = (float)scale;
  /* The common cases without a dtype switch per element (same arithmetic:
   * an 8-bit value and a Float out need no rounding of the conversion). */
#define DPT_TO_FLOAT(CT)                                                       \
  do {                                                                         \
    const CT *q = (const CT *)in->data;                                        \
    float *o = (float *)out->data;                                             \
    for (size_t i = 0; i < n; i++) o[i] = ((float)q[i] - fz) * fs;             \
    return ET_OK;                                                              \
  } while (0)
  if (out_dtype == ET_FLOAT && dtype == ET_CHAR) DPT_TO_FLOAT(int8_t);
  if (out_dtype == ET_FLOAT && dtype == ET_BYTE) DPT_TO_FLOAT(uint8_t);
#undef DPT_TO_FLOAT
  for (size_t i = 0; i < n; i++) {
    float v = et_round_to_dtype(out_dtype, (float)et_q_get_int(in->data, dtype, i));
    v = et_round_to_dtype(out_dtype, v - fz);
    et_q_put_f(out->data, out_dtype, i, v * fs);
  }
  return ET_OK;
}

et_status et_q_dequantize_per_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  return dequantize_per_tensor(ctx, args[0]->u.t, args[1]->u.d, args[2]->u.i, args[5],
                               args[6], args[7]->u.t);
}

et_status et_q_dequantize_per_tensor_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  double scale;
  int64_t zp;
  ET_K_TRY(et_q_scalar_scale(ctx, args[1]->u.t, "scale", &scale));
  ET_K_TRY(et_q_scalar_zero_point(ctx, args[2]->u.t, "zero_point", &zp));
  return dequantize_per_tensor(ctx, args[0]->u.t, scale, zp, args[5], args[6],
                               args[7]->u.t);
}
