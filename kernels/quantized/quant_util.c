/*
 * Shared checks of the quantized kernels (quant_util.h).
 *
 * A deliberate difference from PyTorch: a value beyond an int32 output's
 * range after clamping (possible only because quant_max = 2^31 - 1 rounds
 * up to 2^31 in float) saturates to quant_max here; PyTorch's conversion
 * gives INT32_MIN on x86 and INT32_MAX on ARM.
 */
#include "quantized/quant_util.h"

bool et_q_int_bounds(int dtype, int64_t *out_lo, int64_t *out_hi) {
  switch (dtype) {
  case ET_BYTE: *out_lo = 0; *out_hi = UINT8_MAX; return true;
  case ET_CHAR: *out_lo = INT8_MIN; *out_hi = INT8_MAX; return true;
  case ET_SHORT: *out_lo = INT16_MIN; *out_hi = INT16_MAX; return true;
  case ET_UINT16: *out_lo = 0; *out_hi = UINT16_MAX; return true;
  case ET_INT: *out_lo = INT32_MIN; *out_hi = INT32_MAX; return true;
  default: return false;
  }
}

et_status et_q_check_tensor(et_kernel_ctx *ctx, const et_tensor *t, const char *name,
                            bool contiguous) {
  if (t->rank > ET_MAX_RANK)
    return ET_K_FAIL(ctx, "%s: rank %u exceeds %d", name, (unsigned)t->rank, ET_MAX_RANK);
  if (et_dtype_size(t->dtype) == 0)
    return ET_K_FAIL(ctx, "%s: unknown dtype %d", name, (int)t->dtype);
  if (t->data == NULL && et_tensor_numel(t) != 0)
    return ET_K_FAIL(ctx, "%s: tensor has no data (input or output not set?)", name);
  if (contiguous) return et_k_check_contiguous(ctx, t, name);
  return ET_OK;
}

et_status et_q_dtype_arg(et_kernel_ctx *ctx, const et_value *v, const char *name,
                         int *out_dtype) {
  if (v->u.i < 0 || v->u.i >= ET_DTYPE_END || et_dtype_size((int)v->u.i) == 0)
    return ET_K_FAIL(ctx, "%s: %lld is not a dtype", name, (long long)v->u.i);
  *out_dtype = (int)v->u.i;
  return ET_OK;
}

et_status et_q_check_qtensor(et_kernel_ctx *ctx, const et_tensor *t, const char *name,
                             int dtype) {
  int64_t lo, hi;
  if (!et_q_int_bounds(t->dtype, &lo, &hi))
    return ET_K_FAIL(ctx, "%s: dtype %s is not a quantized dtype (Byte, Char, Short, "
                          "UInt16 or Int)", name, et_dtype_name(t->dtype));
  if (t->dtype != dtype)
    return ET_K_FAIL(ctx, "%s: dtype %s does not match the dtype argument %s", name,
                     et_dtype_name(t->dtype), et_dtype_name(dtype));
  return ET_OK;
}

et_status et_q_check_qrange(et_kernel_ctx *ctx, int64_t quant_min, int64_t quant_max,
                            int dtype) {
  int64_t lo, hi;
  if (!et_q_int_bounds(dtype, &lo, &hi))
    return ET_K_FAIL(ctx, "dtype: %s is not a quantized dtype (Byte, Char, Short, UInt16 "
                          "or Int)", et_dtype_name(dtype));
  if (quant_min < lo)
    return ET_K_FAIL(ctx, "quant_min %lld is below the lowest %s value %lld",
                     (long long)quant_min, et_dtype_name(dtype), (long long)lo);
  if (quant_max > hi)
    return ET_K_FAIL(ctx, "quant_max %lld is above the highest %s value %lld",
                     (long long)quant_max, et_dtype_name(dtype), (long long)hi);
  return ET_OK;
}

et_status et_q_check_float_input(et_kernel_ctx *ctx, const et_tensor *t,
                                 const char *name) {
  if (t->dtype != ET_FLOAT && t->dtype != ET_HALF && t->dtype != ET_BFLOAT16)
    return ET_K_FAIL(ctx, "%s: expected dtype Float, Half or BFloat16, got %s", name,
                     et_dtype_name(t->dtype));
  return ET_OK;
}

et_status et_q_check_real_dtype(et_kernel_ctx *ctx, int dtype, const char *name) {
  if (dtype != ET_FLOAT && dtype != ET_DOUBLE && dtype != ET_HALF && dtype != ET_BFLOAT16)
    return ET_K_FAIL(ctx, "%s: expected dtype Float, Double, Half or BFloat16, got %s",
                     name, et_dtype_name(dtype));
  return ET_OK;
}

et_status et_q_scalar_scale(et_kernel_ctx *ctx, const et_tensor *t, const char *name,
                            double *out) {
  ET_K_TRY(et_q_check_tensor(ctx, t, name, false));
  if (et_tensor_numel(t) != 1)
    return ET_K_FAIL(ctx, "%s: expected one element, got %zu", name, et_tensor_numel(t));
  if (t->dtype != ET_DOUBLE && t->dtype != ET_FLOAT)
    return ET_K_FAIL(ctx, "%s: expected dtype Double or Float, got %s", name,
                     et_dtype_name(t->dtype));
  *out = et_q_get_real(t->data, t->dtype, 0);
  return ET_OK;
}

et_status et_q_scalar_zero_point(et_kernel_ctx *ctx, const et_tensor *t,
                                 const char *name, int64_t *out) {
  ET_K_TRY(et_q_check_tensor(ctx, t, name, false));
  if (et_tensor_numel(t) != 1)
    return ET_K_FAIL(ctx, "%s: expected one element, got %zu", name, et_tensor_numel(t));
  if (t->dtype != ET_LONG && t->dtype != ET_INT)
    return ET_K_FAIL(ctx, "%s: expected dtype Long or Int, got %s", name,
                     et_dtype_name(t->dtype));
  *out = et_q_get_int(t->data, t->dtype, 0);
  return ET_OK;
}

et_status et_q_channel_params(et_kernel_ctx *ctx, const et_tensor *in, int64_t axis,
                              const et_tensor *scales, const et_tensor *zero_points,
                              et_q_channels *out) {
  ET_K_TRY(et_q_check_tensor(ctx, scales, "scales", true));
  if (in->rank == 0) return ET_K_FAIL(ctx, "input: per-channel quantization needs rank >= 1");
  ET_K_TRY(et_k_dim(ctx, axis, in->rank, "axis", &out->axis));
  if (scales->dtype != ET_FLOAT && scales->dtype != ET_DOUBLE)
    return ET_K_FAIL(ctx, "scales: expected dtype Float or Double, got %s",
                     et_dtype_name(scales->dtype));
  if (scales->rank == 0 || (size_t)scales->sizes[0] != et_tensor_numel(scales))
    return ET_K_FAIL(ctx, "scales: expected a list of per-channel values (rank >= 1 with "
                          "all elements along the first dim), got rank %u",
                     (unsigned)scales->rank);
  const size_t c = et_tensor_numel(scales);
  out->channels = (size_t)in->sizes[out->axis];
  if (c != out->channels && c != 1)
    return ET_K_FAIL(ctx, "scales: %zu values for %zu channels at axis %lld", c,
                     out->channels, (long long)out->axis);
  out->nparams = c;
  if (zero_points) {
    ET_K_TRY(et_q_check_tensor(ctx, zero_points, "zero_points", true));
    if (zero_points->dtype != ET_LONG && zero_points->dtype != ET_INT &&
        zero_points->dtype != ET_FLOAT && zero_points->dtype != ET_DOUBLE)
      return ET_K_FAIL(ctx, "zero_points: expected dtype Long, Int, Float or Double, got %s",
                       et_dtype_name(zero_points->dtype));
    if (et_tensor_numel(zero_points) != c)
      return ET_K_FAIL(ctx, "zero_points: %zu values, scales has %zu",
                       et_tensor_numel(zero_points), c);
  }
  size_t inner = 1;
  for (uint32_t d = (uint32_t)out->axis + 1; d < in->rank; d++) inner *= (size_t)in->sizes[d];
  out->inner = inner;
  return ET_OK;
}

et_status et_q_token_params(et_kernel_ctx *ctx, const et_tensor *in,
                            const et_tensor *scales, const et_tensor *zero_points,
                            size_t *out_tokens, size_t *out_token_size) {
  if (in->rank == 0) return ET_K_FAIL(ctx, "input: per-token quantization needs rank >= 1");
  size_t tokens = 1;
  for (uint32_t d = 0; d + 1 < in->rank; d++) tokens *= (size_t)in->sizes[d];
  const et_tensor *p[2] = {scales, zero_points};
  const char *names[2] = {"scales", "zero_points"};
  for (int k = 0; k < 2; k++) {
    const et_tensor *t = p[k];
    ET_K_TRY(et_q_check_tensor(ctx, t, names[k], true));
    if (k == 0 && t->dtype != ET_FLOAT && t->dtype != ET_DOUBLE)
      return ET_K_FAIL(ctx, "scales: expected dtype Float or Double, got %s",
                       et_dtype_name(t->dtype));
    if (k == 1 && t->dtype != ET_LONG && t->dtype != ET_INT && t->dtype != ET_FLOAT &&
        t->dtype != ET_DOUBLE)
      return ET_K_FAIL(ctx, "zero_points: expected dtype Long, Int, Float or Double, got %s",
                       et_dtype_name(t->dtype));
    if (et_tensor_numel(t) != tokens)
      return ET_K_FAIL(ctx, "%s: %zu values for %zu tokens", names[k], et_tensor_numel(t),
                       tokens);
    /* [..., 1] with in's leading sizes, or any shape whose broadcast against
     * in keeps in's shape and reads one value per token. */
    bool ok = t->rank == in->rank && t->sizes[t->rank - 1] == 1;
    for (uint32_t d = 0; ok && d + 1 < in->rank; d++) ok = t->sizes[d] == in->sizes[d];
    if (!ok && tokens == 1 && t->rank <= in->rank) ok = true;
    if (!ok) {
      char sa[96], sb[96];
      et_k_tensor_shape_str(sa, sizeof sa, t);
      et_k_tensor_shape_str(sb, sizeof sb, in);
      return ET_K_FAIL(ctx, "%s: shape %s is not per token for input %s", names[k], sa, sb);
    }
  }
  *out_tokens = tokens;
  *out_token_size = (size_t)in->sizes[in->rank - 1];
  return ET_OK;
}

et_status et_q_check_mixed(et_kernel_ctx *ctx, const et_tensor *in, const et_tensor *w,
                           const et_tensor *s, const et_tensor *out) {
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", true));
  ET_K_TRY(et_q_check_tensor(ctx, w, "weight", true));
  ET_K_TRY(et_q_check_tensor(ctx, s, "weight_scales", true));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", true));
  if (in->dtype != ET_FLOAT && in->dtype != ET_HALF)
    return ET_K_FAIL(ctx, "input: expected dtype Float or Half, got %s",
                     et_dtype_name(in->dtype));
  if (w->dtype != ET_CHAR)
    return ET_K_FAIL(ctx, "weight: expected dtype Char, got %s", et_dtype_name(w->dtype));
  return et_k_check_same_dtype(ctx, in, "input", s, "weight_scales");
}
