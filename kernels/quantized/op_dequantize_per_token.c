/*
 * quantized_decomposed::dequantize_per_token.out(Tensor input, Tensor scales,
 *     Tensor zero_points, int quant_min, int quant_max, ScalarType dtype,
 *     ScalarType output_dtype, *, Tensor(a!) out)
 *
 * For each token t (a row along the last dim): out = ((input -
 * zero_points[t]) * scales[t]).to(output_dtype), in PyTorch's promoted
 * dtypes (see et_q_dequant_store). input's dtype must be `dtype` and
 * quant_min/quant_max within its range. Contiguous tensors.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

et_status et_q_dequantize_per_token_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *scales = args[1]->u.t, *zps = args[2]->u.t;
  et_tensor *out = args[7]->u.t;
  int dtype, out_dtype;
  size_t tokens, len;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", true));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", true));
  ET_K_TRY(et_q_dtype_arg(ctx, args[5], "dtype", &dtype));
  ET_K_TRY(et_q_check_qtensor(ctx, in, "input", dtype));
  ET_K_TRY(et_q_check_qrange(ctx, args[3]->u.i, args[4]->u.i, dtype));
  ET_K_TRY(et_q_dtype_arg(ctx, args[6], "output_dtype", &out_dtype));
  ET_K_TRY(et_q_check_real_dtype(ctx, out_dtype, "output_dtype"));
  if (out->dtype != out_dtype)
    return ET_K_FAIL(ctx, "out: dtype %s does not match output_dtype %s",
                     et_dtype_name(out->dtype), et_dtype_name(out_dtype));
  ET_K_TRY(et_q_token_params(ctx, in, scales, zps, &tokens, &len));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));

  for (size_t t = 0; t < tokens; t++)
    for (size_t j = 0; j < len; j++) {
      const size_t i = t * len + j;
      et_q_dequant_store(out->data, out_dtype, i, et_q_get_int(in->data, dtype, i),
                         zps->data, zps->dtype, scales->data, scales->dtype, t);
    }
  return ET_OK;
}
