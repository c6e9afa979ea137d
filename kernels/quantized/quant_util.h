/*
 * Helpers shared by the quantized kernels (kernels/quantized): the integer
 * dtypes a quantized tensor may have and their bounds, element access by
 * dtype, argument checks, and PyTorch's float-to-integer rounding step.
 *
 * Every et_q_check_* function returns ET_OK or records a failure through
 * et_kernel_fail (naming the argument) and returns ET_INVALID_ARGUMENT.
 *
 * Pure and thread-safe; no memory is allocated.
 */
#ifndef ET_KERNELS_QUANTIZED_QUANT_UTIL_H
#define ET_KERNELS_QUANTIZED_QUANT_UTIL_H

#include <edgetorch/kernel.h>
#include <edgetorch/value.h>

#include "util/dtype_util.h"
#include "util/shape_util.h"

#include <float.h>
#include <math.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The integer dtypes of PyTorch's quantized_decomposed ops (uint8, int8,
 * uint16, int16, int32) with their value ranges; false for any other dtype.
 */
bool et_q_int_bounds(int dtype, int64_t *out_lo, int64_t *out_hi);

/* Element i of a tensor of one of the dtypes above (or Long). */
static inline int64_t et_q_get_int(const void *data, int dtype, size_t i) {
  switch (dtype) {
  case ET_BYTE: return ((const uint8_t *)data)[i];
  case ET_CHAR: return ((const int8_t *)data)[i];
  case ET_SHORT: return ((const int16_t *)data)[i];
  case ET_UINT16: return ((const uint16_t *)data)[i];
  case ET_INT: return ((const int32_t *)data)[i];
  default: return ((const int64_t *)data)[i];
  }
}

/* Store v (already in range) as element i. */
static inline void et_q_put_int(void *data, int dtype, size_t i, int64_t v) {
  switch (dtype) {
  case ET_BYTE: ((uint8_t *)data)[i] = (uint8_t)v; break;
  case ET_CHAR: ((int8_t *)data)[i] = (int8_t)v; break;
  case ET_SHORT: ((int16_t *)data)[i] = (int16_t)v; break;
  case ET_UINT16: ((uint16_t *)data)[i] = (uint16_t)v; break;
  case ET_INT: ((int32_t *)data)[i] = (int32_t)v; break;
  default: ((int64_t *)data)[i] = v; break;
  }
}

/* Element i of a Float, Double, Half or BFloat16 tensor, exactly. */
static inline double et_q_get_real(const void *data, int dtype, size_t i) {
  switch (dtype) {
  case ET_FLOAT: return ((const float *)data)[i];
  case ET_DOUBLE: return ((const double *)data)[i];
  case ET_HALF: return et_half_to_float(((const et_half *)data)[i]);
  default: return et_bf16_to_float(((const et_bf16 *)data)[i]);
  }
}

/* Element i of a Float, Half or BFloat16 tensor as float (exact). */
static inline float et_q_get_f(const void *data, int dtype, size_t i) {
  switch (dtype) {
  case ET_FLOAT: return ((const float *)data)[i];
  case ET_HALF: return et_half_to_float(((const et_half *)data)[i]);
  default: return et_bf16_to_float(((const et_bf16 *)data)[i]);
  }
}

/* Store a float into a Float, Half or BFloat16 tensor (rounded to nearest
 * even for the 16-bit types), or a Double one (exact). */
static inline void et_q_put_f(void *data, int dtype, size_t i, float v) {
  switch (dtype) {
  case ET_FLOAT: ((float *)data)[i] = v; break;
  case ET_DOUBLE: ((double *)data)[i] = v; break;
  case ET_HALF: ((et_half *)data)[i] = et_float_to_half(v); break;
  default: ((et_bf16 *)data)[i] = et_float_to_bf16(v); break;
  }
}

/* Store a double into a Float, Double, Half or BFloat16 tensor, rounding
 * once (Half/BFloat16 through float: exact for values PyTorch produces the
 * same way, as its casts from double go through float too). */
static inline void et_q_put_real(void *data, int dtype, size_t i, double v) {
  if (dtype == ET_DOUBLE)
    ((double *)data)[i] = v;
  else
    et_q_put_f(data, dtype, i, (float)v);
}

/* The integer a clamped, integral float x converts to in a tensor of
 * `dtype` (a quantized dtype whose range is [lo, hi]). NaN converts as PyTorch's x86 conversion does
 * (through int32: 0 for the 8- and 16-bit dtypes, INT32_MIN for Int); a value
 * beyond the dtype's range saturates (see quant_util.c). */
static inline int64_t et_q_float_to_q(double x, int64_t lo, int64_t hi, int dtype) {
  if (x != x) return dtype == ET_INT ? INT32_MIN : 0;
  if (x <= (double)lo) return lo;
  if (x >= (double)hi) return hi;
  return (int64_t)x;
}

/* a - b in int64, wrapping as PyTorch's int64 arithmetic does (a zero point
 * from a file may be anything). */
static inline int64_t et_q_sub(int64_t a, int64_t b) {
  return (int64_t)((uint64_t)a - (uint64_t)b);
}

/* nearbyintf (round half to even) without a libm call: adding and
 * subtracting 2^23 rounds a float below 2^23 in magnitude to an integer in
 * the default rounding mode; larger floats are integers already and NaN
 * stays NaN. Needs float arithmetic without excess precision. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
static inline float et_q_rintf(float x) {
  const float big = copysignf(8388608.0f, x); /* 2^23 with x's sign */
  const float r = (x + big) - big;
  return fabsf(x) < 8388608.0f ? r : x; /* NaN fails the test: x */
}
#else
static inline float et_q_rintf(float x) { return nearbyintf(x); }
#endif

/* PyTorch's clamp(x, lo, hi) on floats: NaN stays NaN, lo > hi gives hi. */
static inline float et_q_clampf(float x, float lo, float hi) {
  if (x != x) return x;
  if (x < lo) x = lo;
  if (x > hi) x = hi;
  return x;
}
static inline double et_q_clampd(double x, double lo, double hi) {
  if (x != x) return x;
  if (x < lo) x = lo;
  if (x > hi) x = hi;
  return x;
}

/*
 * A tensor argument: rank <= ET_MAX_RANK, a dtype of known size, data when
 * it has elements. `contiguous` also requires the contiguous dim order.
 */
et_status et_q_check_tensor(et_kernel_ctx *ctx, const et_tensor *t, const char *name,
                            bool contiguous);

/* The operands mixed_mm and mixed_linear share: input Float or Half, weight
 * Char, weight_scales of input's dtype, every tensor checked. */
et_status et_q_check_mixed(et_kernel_ctx *ctx, const et_tensor *in, const et_tensor *w,
                           const et_tensor *s, const et_tensor *out);

/* A ScalarType argument (an Int holding a dtype code) naming a dtype
 * edgetorch knows; `name` names the argument. */
et_status et_q_dtype_arg(et_kernel_ctx *ctx, const et_value *v, const char *name,
                         int *out_dtype);

/* `t` is a quantized integer tensor of dtype `dtype` (the `dtype` argument). */
et_status et_q_check_qtensor(et_kernel_ctx *ctx, const et_tensor *t, const char *name,
                             int dtype);

/* PyTorch's _quant_min_max_bounds_check: dtype is a quantized integer dtype,
 * quant_min >= its lowest value and quant_max <= its highest. */
et_status et_q_check_qrange(et_kernel_ctx *ctx, int64_t quant_min, int64_t quant_max,
                            int dtype);

/* Float, Half or BFloat16 (the float inputs of the quantize ops). */
et_status et_q_check_float_input(et_kernel_ctx *ctx, const et_tensor *t,
                                 const char *name);

/* An output dtype of the dequantize ops: Float, Double, Half or BFloat16. */
et_status et_q_check_real_dtype(et_kernel_ctx *ctx, int dtype, const char *name);

/* A one-element scale (Float or Double) or zero point (Long or Int) tensor
 * of the .Tensor_out overloads, read as PyTorch's .item() does. */
et_status et_q_scalar_scale(et_kernel_ctx *ctx, const et_tensor *t, const char *name,
                            double *out);
et_status et_q_scalar_zero_point(et_kernel_ctx *ctx, const et_tensor *t,
                                 const char *name, int64_t *out);

/*
 * Per-channel parameters along `axis` of a contiguous tensor `in`: scales
 * (Float or Double, rank >= 1, numel = its first size C, as PyTorch's
 * view(C, 1, ...) needs) and zero points (Long, Int, Float or Double, C
 * elements; NULL when absent). C must be in's size at axis, or 1. Fills
 * the loop counts: element i has channel ((i / inner) % channels) when
 * channels > 1, else channel 0.
 */
typedef struct et_q_channels {
  int64_t axis;     /* normalized */
  size_t inner;     /* elements per channel run */
  size_t channels;  /* in's size at axis */
  size_t nparams;   /* C: channels or 1 */
} et_q_channels;
et_status et_q_channel_params(et_kernel_ctx *ctx, const et_tensor *in, int64_t axis,
                              const et_tensor *scales, const et_tensor *zero_points,
                              et_q_channels *out);

/*
 * Per-token parameters of a contiguous `in` of rank >= 1: scales (Float or
 * Double) and zero points (Long, Int, Float or Double), each with one value
 * per token (the product of in's sizes but the last), shaped as
 * choose_qparams_per_token_asymmetric makes them ([..., 1], in's leading
 * sizes) or flat. Sets *out_tokens and *out_token_size.
 */
et_status et_q_token_params(et_kernel_ctx *ctx, const et_tensor *in,
                            const et_tensor *scales, const et_tensor *zero_points,
                            size_t *out_tokens, size_t *out_token_size);

/*
 * PyTorch's (q - z) * s for one element of the dequantize ops, in the
 * dtypes it promotes to: q - z exact in int64 for integer zero points (in
 * the zero points' dtype otherwise), the product in the scales' dtype (or
 * Double when either is). Stored into `out` (element i, dtype out_dtype)
 * with one rounding. zp_dtype < 0: no zero point.
 */
static inline void et_q_dequant_store(void *out, int out_dtype, size_t i, int64_t q,
                                      const void *zp, int zp_dtype, const void *s,
                                      int s_dtype, size_t c) {
  const bool zp_int = zp_dtype < 0 || zp_dtype == ET_LONG || zp_dtype == ET_INT;
  if (s_dtype == ET_DOUBLE || zp_dtype == ET_DOUBLE) {
    const double d = zp_int ? (double)et_q_sub(q, zp_dtype < 0 ? 0 : et_q_get_int(zp, zp_dtype, c))
                            : (double)q - et_q_get_real(zp, zp_dtype, c);
    et_q_put_real(out, out_dtype, i, d * et_q_get_real(s, s_dtype, c));
  } else {
    const float d = zp_int ? (float)et_q_sub(q, zp_dtype < 0 ? 0 : et_q_get_int(zp, zp_dtype, c))
                           : (float)q - ((const float *)zp)[c];
    et_q_put_f(out, out_dtype, i, d * ((const float *)s)[c]);
  }
}

/*
 * The embedding_byte / embedding_4bit / embedding_2bit kernels (bits = 8, 4,
 * 2): args in schema order; has_dtype for the .dtype_out overloads (a
 * ScalarType? before out). See op_embedding_byte.c.
 */
et_status et_q_embedding(et_kernel_ctx *ctx, et_value **args, int bits, bool has_dtype);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_QUANTIZED_QUANT_UTIL_H */
