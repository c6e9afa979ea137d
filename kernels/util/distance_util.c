/* Row-to-row p-norm distances. */
#include "util/distance_util.h"

#include "util/dtype_util.h"

#include <math.h>

static inline float abs_f(float x) { return fabsf(x); }
static inline double abs_d(double x) { return fabs(x); }
static inline float pow_f(float x, float y) { return powf(x, y); }
static inline double pow_d(double x, double y) { return pow(x, y); }
static inline float sqrt_f(float x) { return sqrtf(x); }
static inline double sqrt_d(double x) { return sqrt(x); }
#define MATH_f32 f
#define MATH_f16 f
#define MATH_bf16 f
#define MATH_f64 d
#define MF_(op, k) op##_##k
#define MF(op, k) MF_(op, k)
#define ABS(S, x) MF(abs, MATH_##S)(x)
#define POW(S, x, y) MF(pow, MATH_##S)(x, y)
#define SQRT(S, x) MF(sqrt, MATH_##S)(x)

/* One loop per p case, so the innermost loop has no branches on p. */
#define DEFINE_DIST(E, T, S)                                                   \
  static void dist_rows_##S(double p, const T *a, int64_t as, const T *b, int64_t brs, \
                            int64_t bs, int64_t nrows, int64_t n, T *out, int64_t os) { \
    typedef ET_CT(S) ct;                                                       \
    const ct pc = (ct)p, inv_p = (ct)1 / pc;                                   \
    for (int64_t j = 0; j < nrows; j++) {                                      \
      const T *bj = b + j * brs;                                               \
      ct acc = 0;                                                              \
      if (p == 0) {                                                            \
        for (int64_t k = 0; k < n; k++)                                        \
          acc += ET_LD(S, a[k * as]) - ET_LD(S, bj[k * bs]) != 0 ? (ct)1 : (ct)0;  \
      } else if (p == 1) {                                                     \
        for (int64_t k = 0; k < n; k++) acc += ABS(S, ET_LD(S, a[k * as]) - ET_LD(S, bj[k * bs])); \
      } else if (p == 2) {                                                     \
        for (int64_t k = 0; k < n; k++) {                                      \
          const ct d = ET_LD(S, a[k * as]) - ET_LD(S, bj[k * bs]);             \
          acc += d * d;                                                        \
        }                                                                      \
        acc = SQRT(S, acc);                                                    \
      } else if (isinf(p)) {                                                   \
        for (int64_t k = 0; k < n; k++) {                                      \
          const ct d = ABS(S, ET_LD(S, a[k * as]) - ET_LD(S, bj[k * bs]));     \
          if (acc == acc && !(d <= acc)) acc = d; /* NaN sticks */                       \
        }                                                                      \
      } else {                                                                 \
        for (int64_t k = 0; k < n; k++)                                        \
          acc += POW(S, ABS(S, ET_LD(S, a[k * as]) - ET_LD(S, bj[k * bs])), pc); \
        acc = POW(S, acc, inv_p);                                              \
      }                                                                        \
      out[j * os] = ET_ST(S, acc);                                             \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_DIST)

void et_distance_rows(int dtype, double p, const void *a, int64_t as, const void *b,
                      int64_t brs, int64_t bs, int64_t nrows, int64_t n, void *out,
                      int64_t os) {
  switch (dtype) {
#define CASE_DIST(E, T, S)                                                     \
  case E:                                                                      \
    dist_rows_##S(p, (const T *)a, as, (const T *)b, brs, bs, nrows, n, (T *)out, os); \
    break;
    ET_FOREACH_FLOATHBF16(CASE_DIST)
  default:
    break;
  }
}
