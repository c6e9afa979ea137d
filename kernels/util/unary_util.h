/*
 * Unary elementwise kernels (exp, tanh, sigmoid, sqrt, ...).
 *
 * ET_DEFINE_FLOAT_UNARY(name, EXPR_F, EXPR_D) defines float and double loops
 * computing `x -> EXPR` (x is the element) and `name##_fns`; the kernel then
 * calls et_unary_float_out(), which accepts any real or Bool input, requires
 * a floating out, and computes in double for Double input and in float
 * otherwise (as upstream's unary_ufunc_realhbbf16_to_floathbf16).
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_UNARY_UTIL_H
#define ET_KERNELS_UTIL_UNARY_UTIL_H

#include <edgetorch/kernel.h>

#include "util/elementwise_util.h"
#include "util/shape_util.h"

#include <math.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ET_DEFINE_FLOAT_UNARY(name, EXPR_F, EXPR_D)                            \
  static void name##_f32(void *o_, const void *const *in_, size_t n_,         \
                         const void *p_) {                                     \
    (void)p_;                                                                  \
    float *out_ = (float *)o_;                                                 \
    const float *a_ = (const float *)in_[0];                                   \
    for (size_t i_ = 0; i_ < n_; i_++) {                                       \
      const float x = a_[i_];                                                  \
      out_[i_] = (EXPR_F);                                                     \
    }                                                                          \
  }                                                                            \
  static void name##_f64(void *o_, const void *const *in_, size_t n_,         \
                         const void *p_) {                                     \
    (void)p_;                                                                  \
    double *out_ = (double *)o_;                                               \
    const double *a_ = (const double *)in_[0];                                 \
    for (size_t i_ = 0; i_ < n_; i_++) {                                       \
      const double x = a_[i_];                                                 \
      out_[i_] = (EXPR_D);                                                     \
    }                                                                          \
  }                                                                            \
  static const et_ew_fns name##_fns = {NULL, name##_f32, name##_f64, NULL};

/* Run a float unary op: args = (self, out, ret). */
et_status et_unary_float_out(et_kernel_ctx *ctx, et_value **args, const et_ew_fns *fns);

/*
 * Run a same-dtype unary op on real dtypes (neg, abs, relu): args = (self,
 * out, ret); out must have self's dtype. Bool is refused unless allow_bool.
 */
et_status et_unary_real_out(et_kernel_ctx *ctx, et_value **args, const et_ew_fns *fns,
                            bool allow_bool);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_UNARY_UTIL_H */
