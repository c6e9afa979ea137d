/*
 * quantized_decomposed::dequantize_per_channel.out(Tensor input,
 *     Tensor scales, Tensor? zero_points, int axis, int quant_min,
 *     int quant_max, ScalarType dtype, *, ScalarType? out_dtype=None,
 *     Tensor(a!) out)
 *
 * out[..., c, ...] = ((input - zero_points[c]) * scales[c]).to(out_dtype)
 * along `axis`, in PyTorch's promoted dtypes: the difference exact with
 * integer zero points (in the zero points' dtype when they are floating),
 * the product in the scales' dtype (Float or Double, or Double when the zero
 * points are), then one conversion to out_dtype (Float by default). Without
 * zero points, input * scales[c]. PyTorch checks quant_min and quant_max
 * against the dtype; so does this kernel. Contiguous tensors.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

et_status et_q_dequantize_per_channel_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *scales = args[1]->u.t;
  const et_tensor *zps = args[2]->tag == ET_TAG_NONE ? NULL : args[2]->u.t;
  et_tensor *out = args[8]->u.t;
  int dtype, out_dtype = ET_FLOAT;
  et_q_channels ch;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", true));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", true));
  ET_K_TRY(et_q_dtype_arg(ctx, args[6], "dtype", &dtype));
  ET_K_TRY(et_q_check_qtensor(ctx, in, "input", dtype));
  ET_K_TRY(et_q_check_qrange(ctx, args[4]->u.i, args[5]->u.i, dtype));
  if (args[7]->tag != ET_TAG_NONE)
    ET_K_TRY(et_q_dtype_arg(ctx, args[7], "out_dtype", &out_dtype));
  ET_K_TRY(et_q_check_real_dtype(ctx, out_dtype, "out_dtype"));
  if (out->dtype != out_dtype)
    return ET_K_FAIL(ctx, "out: dtype %s does not match out_dtype %s",
                     et_dtype_name(out->dtype), et_dtype_name(out_dtype));
  ET_K_TRY(et_q_channel_params(ctx, in, args[3]->u.i, scales, zps, &ch));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));

  const size_t n = et_tensor_numel(in);
  for (size_t i = 0; i < n; i++) {
    const size_t c = ch.nparams == 1 ? 0 : (i / ch.inner) % ch.channels;
    et_q_dequant_store(out->data, out_dtype, i, et_q_get_int(in->data, dtype, i),
                       zps ? zps->data : NULL, zps ? zps->dtype : -1, scales->data,
                       scales->dtype, c);
  }
  return ET_OK;
}
