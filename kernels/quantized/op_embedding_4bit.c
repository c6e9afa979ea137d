/*
 * quantized_decomposed::embedding_4bit.out(Tensor weight, Tensor weight_scales,
 *     Tensor? weight_zero_points, int weight_quant_min, int weight_quant_max,
 *     Tensor indices, *, Tensor(a!) out)
 * quantized_decomposed::embedding_4bit.dtype_out(..., Tensor indices,
 *     ScalarType? dtype=None, *, Tensor(a!) out)
 *
 * out[i..., :] = dequantized row indices[i...] of an embedding table
 * quantized to 4 bits, as the reference (upstream's Python definition in
 * exir/passes/_quant_patterns_and_replacements.py, on PyTorch's
 * dequantize_per_channel_group and aten::embedding) computes it. The body is
 * et_q_embedding (embedding_util.c), which documents the details.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

et_status et_q_embedding_4bit_out(et_kernel_ctx *ctx, et_value **args) {
  return et_q_embedding(ctx, args, 4, false);
}

et_status et_q_embedding_4bit_dtype_out(et_kernel_ctx *ctx, et_value **args) {
  return et_q_embedding(ctx, args, 4, true);
}
