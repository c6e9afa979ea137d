/*
 * The shared body of the quantized embedding kernels (et_q_embedding in
 * quant_util.h): unpack a row of 8-, 4- or 2-bit weights, dequantize it
 * group by group as PyTorch's reference (dequantize_per_channel_group)
 * does, and gather rows by index as aten::embedding does.
 *
 * Packing (upstream's reference, _quant_patterns_and_replacements.py):
 * 4 bits: byte k holds elements 2k (high nibble) and 2k + 1 (low nibble),
 * each stored + 8; 2 bits: byte k holds elements 4k + j in bits 2j..2j+1,
 * each stored + 2. Char-typed packed bytes are unpacked with PyTorch's int8
 * arithmetic as the reference does (trunc division and remainder by 16;
 * (w & 0xC0) >> 6 is arithmetic), Byte ones as plain bit fields.
 *
 * Dequantization: with zero points, (w - zp) then * scale, each rounded to
 * the scales' dtype (Float, Half or BFloat16); without, w * scale; then one
 * conversion to the out dtype. The group size is the embedding dim over the
 * scales' second size (1 when rank 1) and must be > 1 and divide the dim,
 * as dequantize_per_channel_group requires. Indices: Long or Int.
 */
#include "quantized/quant_util.h"

/* Unpacked value k of a weight row, as the reference unpacks it (with
 * PyTorch's integer semantics also for Char-typed packed bytes). */
static int32_t unpack(const void *row, int wdtype, int bits, size_t k) {
  if (bits == 8)
    return wdtype == ET_CHAR ? ((const int8_t *)row)[k] : ((const uint8_t *)row)[k];
  if (bits == 4) {
    const size_t byte = k / 2;
    int32_t v;
    if (wdtype == ET_CHAR) {
      const int32_t b = ((const int8_t *)row)[byte];
      /* weight.div(16, rounding_mode="trunc") and weight.remainder(16) */
      v = (k % 2 == 0) ? b / 16 : ((b % 16) + 16) % 16;
    } else {
      const uint8_t b = ((const uint8_t *)row)[byte];
      v = (k % 2 == 0) ? b >> 4 : b & 15;
    }
    return v - 8;
  }
  const size_t byte = k / 4, j = k % 4;
  int32_t v;
  if (wdtype == ET_CHAR) {
    const int32_t b = ((const int8_t *)row)[byte];
    /* (weight & mask) >> shift on int8: the top pair is arithmetic */
    v = j == 3 ? (int8_t)(b & 0xC0) / 64 : (b >> (2 * j)) & 3;
  } else {
    v = (((const uint8_t *)row)[byte] >> (2 * j)) & 3;
  }
  return v - 2;
}

et_status et_q_embedding(et_kernel_ctx *ctx, et_value **args, int bits, bool has_dtype) {
  const et_tensor *w = args[0]->u.t, *scales = args[1]->u.t;
  const et_tensor *zps = args[2]->tag == ET_TAG_NONE ? NULL : args[2]->u.t;
  const int64_t qmin = args[3]->u.i, qmax = args[4]->u.i;
  const et_tensor *idx = args[5]->u.t;
  et_tensor *out = args[has_dtype ? 7 : 6]->u.t;
  ET_K_TRY(et_q_check_tensor(ctx, w, "weight", true));
  ET_K_TRY(et_q_check_tensor(ctx, scales, "weight_scales", true));
  ET_K_TRY(et_q_check_tensor(ctx, idx, "indices", true));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", true));
  if (w->dtype != ET_CHAR && w->dtype != ET_BYTE)
    return ET_K_FAIL(ctx, "weight: expected dtype Char or Byte, got %s",
                     et_dtype_name(w->dtype));
  if (w->rank != 2) return ET_K_FAIL(ctx, "weight: expected rank 2, got %u", (unsigned)w->rank);
  const int sdt = scales->dtype;
  if (sdt != ET_FLOAT && sdt != ET_HALF && sdt != ET_BFLOAT16)
    return ET_K_FAIL(ctx, "weight_scales: expected dtype Float, Half or BFloat16, got %s",
                     et_dtype_name(sdt));
  if (scales->rank != 1 && scales->rank != 2)
    return ET_K_FAIL(ctx, "weight_scales: expected rank 1 or 2, got %u",
                     (unsigned)scales->rank);
  if (scales->sizes[0] != w->sizes[0])
    return ET_K_FAIL(ctx, "weight_scales: %d rows for a weight of %d rows",
                     (int)scales->sizes[0], (int)w->sizes[0]);
  if (zps) {
    ET_K_TRY(et_q_check_tensor(ctx, zps, "weight_zero_points", true));
    if (zps->dtype != sdt)
      return ET_K_FAIL(ctx, "weight_zero_points: dtype %s differs from weight_scales' %s",
                       et_dtype_name(zps->dtype), et_dtype_name(sdt));
    if ((zps->rank != 1 && zps->rank != 2) || zps->sizes[0] != w->sizes[0])
      return ET_K_FAIL(ctx, "weight_zero_points: expected rank 1 or 2 with %d rows",
                       (int)w->sizes[0]);
    if (et_tensor_numel(zps) != et_tensor_numel(scales))
      return ET_K_FAIL(ctx, "weight_zero_points: %zu values, weight_scales has %zu",
                       et_tensor_numel(zps), et_tensor_numel(scales));
  }
  if (bits == 4 && (qmin != -8 || qmax != 7))
    return ET_K_FAIL(ctx, "expected weight_quant_min -8 and weight_quant_max 7, got %lld "
                          "and %lld", (long long)qmin, (long long)qmax);
  if (bits == 2 && (qmin != -2 || qmax != 1))
    return ET_K_FAIL(ctx, "expected weight_quant_min -2 and weight_quant_max 1, got %lld "
                          "and %lld", (long long)qmin, (long long)qmax);
  if (idx->dtype != ET_LONG && idx->dtype != ET_INT)
    return ET_K_FAIL(ctx, "indices: expected dtype Long or Int, got %s",
                     et_dtype_name(idx->dtype));
  /* The reference returns `dtype` (the scales' dtype when None); the fake
   * kernels upstream's exporter plans with say Float for embedding_2bit and
   * embedding_4bit whatever the scales. So without a dtype, out may have any
   * float dtype: the reference's values are converted to it. */
  int out_dtype = out->dtype;
  if (has_dtype && args[6]->tag != ET_TAG_NONE) {
    ET_K_TRY(et_q_dtype_arg(ctx, args[6], "dtype", &out_dtype));
    if (out->dtype != out_dtype)
      return ET_K_FAIL(ctx, "out: dtype %s does not match dtype %s",
                       et_dtype_name(out->dtype), et_dtype_name(out_dtype));
  }
  ET_K_TRY(et_q_check_real_dtype(ctx, out_dtype, "out"));

  const size_t rows = (size_t)w->sizes[0], packed = (size_t)w->sizes[1];
  const size_t dim = packed * (size_t)(8 / bits);
  const size_t groups = scales->rank == 2 ? (size_t)scales->sizes[1] : 1;
  const size_t gs = groups ? dim / groups : 0;
  /* dequantize_per_channel_group's own checks */
  if (rows * dim > 0) {
    if (gs <= 1)
      return ET_K_FAIL(ctx, "group size %zu (embedding dim %zu, %zu groups): must be > 1",
                       gs, dim, groups);
    if (dim % gs != 0 || (dim / gs) * rows != et_tensor_numel(scales))
      return ET_K_FAIL(ctx, "weight_scales: %zu groups do not divide the embedding dim %zu",
                       groups, dim);
  }
  if (idx->rank + 1 > ET_MAX_RANK) return ET_K_FAIL(ctx, "indices: rank too large");
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(idx, sizes);
  sizes[idx->rank] = (int64_t)dim;
  if (out->rank != idx->rank + 1)
    return ET_K_FAIL(ctx, "out: expected rank %u, got %u", (unsigned)idx->rank + 1,
                     (unsigned)out->rank);
  ET_K_TRY(et_k_resize(ctx, out, sizes, idx->rank + 1, "out"));

  const size_t n = et_tensor_numel(idx);
  for (size_t i = 0; i < n; i++) {
    const int64_t r = et_q_get_int(idx->data, idx->dtype, i);
    if (r < 0 || (size_t)r >= rows)
      return ET_K_FAIL(ctx, "indices[%zu] = %lld is out of range for weight with %zu rows", i,
                       (long long)r, rows);
  }
  /* Past here rows * dim > 0 (a valid index exists), so gs >= 2. */
  if (n == 0 || dim == 0) return ET_OK;
  const size_t npr = dim / gs; /* groups per row */
  for (size_t i = 0; i < n; i++) {
    const size_t r = (size_t)et_q_get_int(idx->data, idx->dtype, i);
    const void *row = (const char *)w->data + r * packed;
    for (size_t k = 0; k < dim; k++) {
      const size_t g = r * npr + k / gs;
      const float q = (float)unpack(row, w->dtype, bits, k);
      const float s = et_q_get_f(scales->data, sdt, g);
      /* w - zp and the product, each rounded to the scales' dtype */
      const float d = zps ? et_round_to_dtype(sdt, q - et_q_get_f(zps->data, sdt, g)) : q;
      et_q_put_real(out->data, out_dtype, i * dim + k, et_round_to_dtype(sdt, d * s));
    }
  }
  return ET_OK;
}
