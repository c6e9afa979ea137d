/* Dtype classification, c10 promotion, and the element conversion matrix. */
#include "util/dtype_util.h"

/* Index of a supported dtype in the tables below, or -1. The order is
 * c10's: Byte Char Short Int Long Half Float Double Bool BFloat16. */
static int dtype_index(int dtype) {
  switch (dtype) {
  case ET_BYTE: return 0;
  case ET_CHAR: return 1;
  case ET_SHORT: return 2;
  case ET_INT: return 3;
  case ET_LONG: return 4;
  case ET_HALF: return 5;
  case ET_FLOAT: return 6;
  case ET_DOUBLE: return 7;
  case ET_BOOL: return 8;
  case ET_BFLOAT16: return 9;
  default: return -1;
  }
}

#define u1 ET_BYTE
#define i1 ET_CHAR
#define i2 ET_SHORT
#define i4 ET_INT
#define i8 ET_LONG
#define f2 ET_HALF
#define f4 ET_FLOAT
#define f8 ET_DOUBLE
#define b1 ET_BOOL
#define bf ET_BFLOAT16
/* c10's promoteTypes restricted to the ten real dtypes (rows: a, cols: b). */
static const int8_t promote_table[10][10] = {
    /*        u1  i1  i2  i4  i8  f2  f4  f8  b1  bf */
    /* u1 */ {u1, i2, i2, i4, i8, f2, f4, f8, u1, bf},
    /* i1 */ {i2, i1, i2, i4, i8, f2, f4, f8, i1, bf},
    /* i2 */ {i2, i2, i2, i4, i8, f2, f4, f8, i2, bf},
    /* i4 */ {i4, i4, i4, i4, i8, f2, f4, f8, i4, bf},
    /* i8 */ {i8, i8, i8, i8, i8, f2, f4, f8, i8, bf},
    /* f2 */ {f2, f2, f2, f2, f2, f2, f4, f8, f2, f4},
    /* f4 */ {f4, f4, f4, f4, f4, f4, f4, f8, f4, f4},
    /* f8 */ {f8, f8, f8, f8, f8, f8, f8, f8, f8, f8},
    /* b1 */ {u1, i1, i2, i4, i8, f2, f4, f8, b1, bf},
    /* bf */ {bf, bf, bf, bf, bf, f4, f4, f8, bf, bf},
};
#undef u1
#undef i1
#undef i2
#undef i4
#undef i8
#undef f2
#undef f4
#undef f8
#undef b1
#undef bf

int et_promote_types(int a, int b) {
  int ia = dtype_index(a), ib = dtype_index(b);
  if (ia < 0 || ib < 0) return -1;
  return promote_table[ia][ib];
}

/* ---- conversion matrix -------------------------------------------------------
 * Each source loads into its compute type ("kind": int64, float or double);
 * each destination has one converter per kind. */

#define KIND_u8 i64
#define KIND_i8 i64
#define KIND_i16 i64
#define KIND_i32 i64
#define KIND_i64 i64
#define KIND_b i64
#define KIND_f32 f32
#define KIND_f16 f32
#define KIND_bf16 f32
#define KIND_f64 f64

static inline uint8_t from_i64_u8(int64_t v) { return (uint8_t)v; }
static inline int8_t from_i64_i8(int64_t v) { return (int8_t)(uint8_t)v; }
static inline int16_t from_i64_i16(int64_t v) { return (int16_t)(uint16_t)v; }
static inline int32_t from_i64_i32(int64_t v) { return (int32_t)(uint32_t)v; }
static inline int64_t from_i64_i64(int64_t v) { return v; }
static inline et_bool8 from_i64_b(int64_t v) { return v != 0; }
static inline float from_i64_f32(int64_t v) { return (float)v; }
static inline double from_i64_f64(int64_t v) { return (double)v; }
static inline et_half from_i64_f16(int64_t v) { return et_float_to_half((float)v); }
static inline et_bf16 from_i64_bf16(int64_t v) { return et_float_to_bf16((float)v); }

static inline uint8_t from_f64_u8(double v) { return (uint8_t)et_f64_to_i64(v); }
static inline int8_t from_f64_i8(double v) {
  return (int8_t)(uint8_t)(uint32_t)et_f64_to_i32(v);
}
static inline int16_t from_f64_i16(double v) {
  return (int16_t)(uint16_t)(uint32_t)et_f64_to_i32(v);
}
static inline int32_t from_f64_i32(double v) { return et_f64_to_i32(v); }
static inline int64_t from_f64_i64(double v) { return et_f64_to_i64(v); }
static inline et_bool8 from_f64_b(double v) { return v != 0; }
static inline float from_f64_f32(double v) { return (float)v; }
static inline double from_f64_f64(double v) { return v; }
static inline et_half from_f64_f16(double v) { return et_float_to_half((float)v); }
static inline et_bf16 from_f64_bf16(double v) { return et_float_to_bf16((float)v); }

static inline uint8_t from_f32_u8(float v) { return from_f64_u8(v); }
static inline int8_t from_f32_i8(float v) { return from_f64_i8(v); }
static inline int16_t from_f32_i16(float v) { return from_f64_i16(v); }
static inline int32_t from_f32_i32(float v) { return from_f64_i32(v); }
static inline int64_t from_f32_i64(float v) { return from_f64_i64(v); }
static inline et_bool8 from_f32_b(float v) { return v != 0; }
static inline float from_f32_f32(float v) { return v; }
static inline double from_f32_f64(float v) { return (double)v; }
static inline et_half from_f32_f16(float v) { return et_float_to_half(v); }
static inline et_bf16 from_f32_bf16(float v) { return et_float_to_bf16(v); }

#define FROM_(K, S2) from_##K##_##S2
#define FROM(K, S2) FROM_(K, S2)
#define CONV(S1, S2, x) FROM(KIND_##S1, S2)(ET_LD(S1, x))

typedef void (*cv_fn)(void *dst, int64_t ds, const void *src, int64_t ss,
                      size_t n);

#define CVF(T1, S1, T2, S2)                                                    \
  static void cv_##S1##_##S2(void *dst, int64_t ds, const void *src,         \
                             int64_t ss, size_t n) {                          \
    T2 *d = (T2 *)dst;                                                         \
    const T1 *s = (const T1 *)src;                                             \
    if (ds == 1 && ss == 1) {                                                  \
      for (size_t i = 0; i < n; i++) d[i] = CONV(S1, S2, s[i]);                \
    } else if (ds == 1 && ss == 0) {                                           \
      T2 v = CONV(S1, S2, s[0]);                                               \
      for (size_t i = 0; i < n; i++) d[i] = v;                                 \
    } else {                                                                   \
      for (size_t i = 0; i < n; i++)                                           \
        d[(ptrdiff_t)i * ds] = CONV(S1, S2, s[(ptrdiff_t)i * ss]);             \
    }                                                                          \
  }

#define CV_ALL_DST(T1, S1)                                                     \
  CVF(T1, S1, uint8_t, u8)                                                     \
  CVF(T1, S1, int8_t, i8)                                                      \
  CVF(T1, S1, int16_t, i16)                                                    \
  CVF(T1, S1, int32_t, i32)                                                    \
  CVF(T1, S1, int64_t, i64)                                                    \
  CVF(T1, S1, et_half, f16)                                                    \
  CVF(T1, S1, float, f32)                                                      \
  CVF(T1, S1, double, f64)                                                     \
  CVF(T1, S1, et_bool8, b)                                                     \
  CVF(T1, S1, et_bf16, bf16)

CV_ALL_DST(uint8_t, u8)
CV_ALL_DST(int8_t, i8)
CV_ALL_DST(int16_t, i16)
CV_ALL_DST(int32_t, i32)
CV_ALL_DST(int64_t, i64)
CV_ALL_DST(et_half, f16)
CV_ALL_DST(float, f32)
CV_ALL_DST(double, f64)
CV_ALL_DST(et_bool8, b)
CV_ALL_DST(et_bf16, bf16)

#define CV_ROW(S1)                                                             \
  {cv_##S1##_u8, cv_##S1##_i8,  cv_##S1##_i16, cv_##S1##_i32, cv_##S1##_i64,   \
   cv_##S1##_f16, cv_##S1##_f32, cv_##S1##_f64, cv_##S1##_b, cv_##S1##_bf16},

static const cv_fn cv_table[10][10] = {CV_ROW(u8) CV_ROW(i8) CV_ROW(i16)
                                           CV_ROW(i32) CV_ROW(i64) CV_ROW(f16)
                                               CV_ROW(f32) CV_ROW(f64)
                                                   CV_ROW(b) CV_ROW(bf16)};

bool et_convert(void *dst, int dst_dtype, int64_t dst_stride, const void *src,
                int src_dtype, int64_t src_stride, size_t n) {
  int is = dtype_index(src_dtype), id = dtype_index(dst_dtype);
  if (is < 0 || id < 0) return false;
  if (n) cv_table[is][id](dst, dst_stride, src, src_stride, n);
  return true;
}

double et_elem_as_double(const void *p, int dtype) {
  double v = 0;
  et_convert(&v, ET_DOUBLE, 1, p, dtype, 1, 1);
  return v;
}

int64_t et_elem_as_int64(const void *p, int dtype) {
  int64_t v = 0;
  et_convert(&v, ET_LONG, 1, p, dtype, 1, 1);
  return v;
}

bool et_elem_as_bool(const void *p, int dtype) {
  et_bool8 v = 0;
  et_convert(&v, ET_BOOL, 1, p, dtype, 1, 1);
  return v != 0;
}
