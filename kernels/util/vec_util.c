/* Vectorized float sums; see vec_util.h for the summation order. */
#include "util/vec_util.h"

#ifdef ET_HAVE_VEC
#define SUM8(EXPR_LO, EXPR_HI, ELEM)                                           \
  const size_t n8 = n - n % 8;                                                 \
  et_vf32 lo = et_vf32_splat(0.0f), hi = lo;                                   \
  for (size_t i = 0; i < n8; i += 8) {                                         \
    lo += EXPR_LO;                                                             \
    hi += EXPR_HI;                                                             \
  }                                                                            \
  const et_vf32 s = lo + hi;                                                   \
  float sum = (s[0] + s[1]) + (s[2] + s[3]);                                   \
  for (size_t i = n8; i < n; i++) sum += ELEM;                                 \
  return sum;

float et_sum_f32(const float *x, size_t n) {
  SUM8(et_vf32_load(x + i), et_vf32_load(x + i + 4), x[i])
}

float et_sum_sqdev_f32(const float *x, size_t n, float mean) {
  const et_vf32 m = et_vf32_splat(mean);
  SUM8((et_vf32_load(x + i) - m) * (et_vf32_load(x + i) - m),
       (et_vf32_load(x + i + 4) - m) * (et_vf32_load(x + i + 4) - m),
       (x[i] - mean) * (x[i] - mean))
}
#else
#define SUM8(ELEM)                                                             \
  const size_t n8 = n - n % 8;                                                 \
  float p[8] = {0};                                                            \
  for (size_t i0 = 0; i0 < n8; i0 += 8)                                        \
    for (size_t l = 0; l < 8; l++) {                                           \
      const size_t i = i0 + l;                                                 \
      p[l] += ELEM;                                                            \
    }                                                                          \
  float sum = ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7])); \
  for (size_t i = n8; i < n; i++) sum += ELEM;                                 \
  return sum;

float et_sum_f32(const float *x, size_t n) { SUM8(x[i]) }

float et_sum_sqdev_f32(const float *x, size_t n, float mean) {
  SUM8((x[i] - mean) * (x[i] - mean))
}
#endif
