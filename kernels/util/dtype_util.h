/*
 * Dtypes for kernels: storage types, Half/BFloat16 conversion, dispatch
 * lists, c10 type promotion and element conversion.
 *
 * Dispatch: a kernel writes its inner loop once as a macro body taking
 * (ENUM, CTYPE, SUFFIX), instantiates it with one of the ET_FOREACH_* lists
 * below (one typed function per dtype), and selects the function with a
 * switch built from the same list. There is never an indirect call per
 * element; the elementwise engine (elementwise_util.h) makes at most one per
 * chunk of elements.
 *
 * Per suffix S there is a compute type ET_CT(S) (int64_t for integers and
 * Bool, float for Float/Half/BFloat16, double for Double), a load
 * ET_LD(S, x) from storage to compute type and a store ET_ST(S, v) back.
 * Half and BFloat16 are computed in float and rounded to nearest even on
 * store, as PyTorch does on CPU. Bool is stored as one byte (0 or 1); any
 * non-zero byte reads as true.
 *
 * Everything here is pure and thread-safe.
 */
#ifndef ET_KERNELS_UTIL_DTYPE_UTIL_H
#define ET_KERNELS_UTIL_DTYPE_UTIL_H

#include <edgetorch/value.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint16_t et_half; /* IEEE binary16, as bits */
typedef uint16_t et_bf16; /* bfloat16 (top half of a binary32), as bits */
typedef uint8_t et_bool8; /* Bool storage: 0 false, anything else true */

/* ---- Half and BFloat16 ---------------------------------------------------- */

static inline uint32_t et_f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static inline float et_f32_from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static inline float et_half_to_float(et_half h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (uint32_t)(h >> 10) & 0x1fu;
  uint32_t man = (uint32_t)h & 0x3ffu;
  if (exp == 0x1fu) /* infinity or NaN (payload kept) */
    return et_f32_from_bits(sign | 0x7f800000u | (man << 13));
  if (exp != 0) return et_f32_from_bits(sign | ((exp + 112u) << 23) | (man << 13));
  if (man == 0) return et_f32_from_bits(sign);
  /* subnormal: man * 2^-24, exact in float */
  return et_f32_from_bits(sign | et_f32_bits((float)man * 5.9604644775390625e-8f));
}

/* Round to nearest even; overflow gives infinity, NaN gives a quiet NaN with
 * the sign kept (0x7e00, as c10 does). */
static inline et_half et_float_to_half(float f) {
  uint32_t x = et_f32_bits(f);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return (et_half)(sign | 0x7e00u);
  if (ax >= 0x477ff000u) return (et_half)(sign | 0x7c00u); /* >= 65520: inf */
  if (ax < 0x38800000u) {
    /* Below the smallest normal half: adding 0.5 aligns the value to the
     * half subnormal spacing (2^-24) and the FPU rounds to nearest even. */
    float r = et_f32_from_bits(ax) + 0.5f;
    return (et_half)(sign | (uint16_t)(et_f32_bits(r) - 0x3f000000u));
  }
  uint32_t odd = (ax >> 13) & 1u;
  ax += 0xc8000fffu + odd; /* rebias exponent by -112 and round */
  return (et_half)(sign | (uint16_t)(ax >> 13));
}

static inline float et_bf16_to_float(et_bf16 b) {
  return et_f32_from_bits((uint32_t)b << 16);
}

/* Round to nearest even; NaN becomes 0x7fc0 (as c10 does). */
static inline et_bf16 et_float_to_bf16(float f) {
  uint32_t u = et_f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (et_bf16)0x7fc0u;
  u += 0x7fffu + ((u >> 16) & 1u);
  return (et_bf16)(u >> 16);
}

/* ---- float -> integer conversions without undefined behaviour -------------
 * C leaves out-of-range float->int conversions undefined. These follow what
 * PyTorch produces on x86-64: values outside int32 (resp. int64) and NaN
 * give INT32_MIN (resp. INT64_MIN); 8/16-bit signed targets go through int32
 * and Byte through int64, then wrap. */

static inline int64_t et_f64_to_i64(double x) {
  return (x >= -9223372036854775808.0 && x < 9223372036854775808.0) ? (int64_t)x
                                                                    : INT64_MIN;
}

static inline int32_t et_f64_to_i32(double x) {
  return (x > -2147483649.0 && x < 2147483648.0) ? (int32_t)x : INT32_MIN;
}

/* ---- dispatch lists: X(ENUM, CTYPE, SUFFIX) ------------------------------- */

#define ET_FOREACH_INT(X)                                                       \
  X(ET_BYTE, uint8_t, u8)                                                      \
  X(ET_CHAR, int8_t, i8)                                                       \
  X(ET_SHORT, int16_t, i16)                                                    \
  X(ET_INT, int32_t, i32)                                                      \
  X(ET_LONG, int64_t, i64)
#define ET_FOREACH_FLOAT(X)                                                     \
  X(ET_FLOAT, float, f32)                                                      \
  X(ET_DOUBLE, double, f64)
#define ET_FOREACH_HALF_BF16(X)                                                 \
  X(ET_HALF, et_half, f16)                                                     \
  X(ET_BFLOAT16, et_bf16, bf16)
#define ET_FOREACH_BOOL(X) X(ET_BOOL, et_bool8, b)

/* Float, Double, Half, BFloat16 */
#define ET_FOREACH_FLOATHBF16(X) ET_FOREACH_FLOAT(X) ET_FOREACH_HALF_BF16(X)
/* integers, Float, Double */
#define ET_FOREACH_REAL(X) ET_FOREACH_INT(X) ET_FOREACH_FLOAT(X)
/* integers and the four float types */
#define ET_FOREACH_REALHBF16(X) ET_FOREACH_REAL(X) ET_FOREACH_HALF_BF16(X)
/* every dtype the portable kernels compute with */
#define ET_FOREACH_REALHBBF16(X) ET_FOREACH_REALHBF16(X) ET_FOREACH_BOOL(X)

/* A second copy of the full list, for nested dispatch (a macro cannot expand
 * itself). */
#define ET_FOREACH_REALHBBF16_B(X)                                              \
  X(ET_BYTE, uint8_t, u8)                                                      \
  X(ET_CHAR, int8_t, i8)                                                       \
  X(ET_SHORT, int16_t, i16)                                                    \
  X(ET_INT, int32_t, i32)                                                      \
  X(ET_LONG, int64_t, i64)                                                     \
  X(ET_FLOAT, float, f32)                                                      \
  X(ET_DOUBLE, double, f64)                                                    \
  X(ET_HALF, et_half, f16)                                                     \
  X(ET_BFLOAT16, et_bf16, bf16)                                                \
  X(ET_BOOL, et_bool8, b)

/* ---- per-suffix compute type, load and store ------------------------------ */

#define ET_CT_u8 int64_t
#define ET_CT_i8 int64_t
#define ET_CT_i16 int64_t
#define ET_CT_i32 int64_t
#define ET_CT_i64 int64_t
#define ET_CT_b int64_t
#define ET_CT_f32 float
#define ET_CT_f16 float
#define ET_CT_bf16 float
#define ET_CT_f64 double
/* Compute type of suffix S. */
#define ET_CT(S) ET_CT_##S
/* Load a stored element as the compute type. */
#define ET_LD(S, x) et_ld_##S(x)
/* Store a compute-type value (wrapping integers, rounding Half/BFloat16). */
#define ET_ST(S, v) et_st_##S(v)

static inline int64_t et_ld_u8(uint8_t x) { return x; }
static inline int64_t et_ld_i8(int8_t x) { return x; }
static inline int64_t et_ld_i16(int16_t x) { return x; }
static inline int64_t et_ld_i32(int32_t x) { return x; }
static inline int64_t et_ld_i64(int64_t x) { return x; }
static inline int64_t et_ld_b(et_bool8 x) { return x != 0; }
static inline float et_ld_f32(float x) { return x; }
static inline double et_ld_f64(double x) { return x; }
static inline float et_ld_f16(et_half x) { return et_half_to_float(x); }
static inline float et_ld_bf16(et_bf16 x) { return et_bf16_to_float(x); }

static inline uint8_t et_st_u8(int64_t v) { return (uint8_t)v; }
static inline int8_t et_st_i8(int64_t v) { return (int8_t)(uint8_t)v; }
static inline int16_t et_st_i16(int64_t v) { return (int16_t)(uint16_t)v; }
static inline int32_t et_st_i32(int64_t v) { return (int32_t)(uint32_t)v; }
static inline int64_t et_st_i64(int64_t v) { return v; }
static inline et_bool8 et_st_b(int64_t v) { return v != 0; }
static inline float et_st_f32(float v) { return v; }
static inline double et_st_f64(double v) { return v; }
static inline et_half et_st_f16(float v) { return et_float_to_half(v); }
static inline et_bf16 et_st_bf16(float v) { return et_float_to_bf16(v); }

/* x rounded to `dtype` when that is Half or BFloat16 (PyTorch's kernels
 * that compute those in float round some intermediate results so); any
 * other dtype leaves x unchanged. */
static inline float et_round_to_dtype(int dtype, float x) {
  if (dtype == ET_HALF) return et_half_to_float(et_float_to_half(x));
  if (dtype == ET_BFLOAT16) return et_bf16_to_float(et_float_to_bf16(x));
  return x;
}

/* ---- classification and promotion ----------------------------------------- */

/* One of the ten dtypes the portable kernels compute with
 * (Byte, Char, Short, Int, Long, Half, Float, Double, Bool, BFloat16).
 * These predicates run several times per kernel call: inline. */
static inline bool et_dtype_is_supported(int dtype) {
  return (dtype >= ET_BYTE && dtype <= ET_DOUBLE) || dtype == ET_BOOL ||
         dtype == ET_BFLOAT16;
}
/* Half, Float, Double, BFloat16. */
static inline bool et_dtype_is_floating(int dtype) {
  return dtype == ET_HALF || dtype == ET_FLOAT || dtype == ET_DOUBLE ||
         dtype == ET_BFLOAT16;
}
/* Byte..Long, and Bool when include_bool. */
static inline bool et_dtype_is_integral(int dtype, bool include_bool) {
  return (dtype >= ET_BYTE && dtype <= ET_LONG) ||
         (include_bool && dtype == ET_BOOL);
}

/*
 * c10::promoteTypes over the supported dtypes (e.g. Byte+Char -> Short,
 * Bool+X -> X, Half+BFloat16 -> Float, BFloat16+Int -> BFloat16).
 * Returns -1 if either dtype is not supported.
 */
int et_promote_types(int a, int b);

/* c10::canCast: no floating -> integral, no non-Bool -> Bool. */
static inline bool et_can_cast(int from, int to) {
  if (et_dtype_is_floating(from) && et_dtype_is_integral(to, true)) return false;
  return from == ET_BOOL || to != ET_BOOL;
}

/* The dtype a kernel computes a `common` dtype in: Half/BFloat16 -> Float. */
static inline int et_compute_dtype(int common) {
  return (common == ET_HALF || common == ET_BFLOAT16) ? ET_FLOAT : common;
}

/*
 * The dtype the elementwise engine computes `common` in: Long for integers
 * and Bool, Float for Half/BFloat16/Float, Double for Double.
 */
static inline int et_ew_compute_dtype(int common) {
  return common == ET_DOUBLE ? ET_DOUBLE
         : (common == ET_HALF || common == ET_BFLOAT16 || common == ET_FLOAT)
             ? ET_FLOAT
             : ET_LONG;
}

/* ---- element conversion --------------------------------------------------- */

/*
 * Convert n elements from `src` (dtype src_dtype, every src_stride elements)
 * to `dst` (dtype dst_dtype, every dst_stride elements); strides may be 0 or
 * negative. Both dtypes must be supported (et_dtype_is_supported); returns
 * false otherwise and converts nothing. Conversions follow PyTorch: to Bool
 * is `!= 0` (NaN is true), float -> integer truncates (see et_f64_to_i64),
 * integer narrowing wraps, Double -> Half goes through Float.
 */
bool et_convert(void *dst, int dst_dtype, int64_t dst_stride, const void *src,
                int src_dtype, int64_t src_stride, size_t n);

/* One element of any supported dtype, read as double / int64 / bool. */
double et_elem_as_double(const void *p, int dtype);
int64_t et_elem_as_int64(const void *p, int dtype);
bool et_elem_as_bool(const void *p, int dtype);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_DTYPE_UTIL_H */
