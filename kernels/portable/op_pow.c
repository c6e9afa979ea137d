/*
 * aten::pow.Tensor_Scalar_out(Tensor self, Scalar exponent, *, Tensor(a!) out)
 * aten::pow.Tensor_Tensor_out(Tensor self, Tensor exponent, *, Tensor(a!) out)
 *
 * Floating dtypes use pow() except for the exponents PyTorch's CPU kernel
 * special-cases (2, 3, 0.5, -0.5, -1, -2), which are computed the same way
 * it does (x*x, x*x*x, sqrt, ...). Integers use exact repeated squaring
 * (wrapping); a negative integer exponent is refused, as in PyTorch. Bool
 * operands are refused.
 */
#include "portable/ops.h"

#include "util/arith_util.h"

#include <math.h>

static int64_t ipow(int64_t base, int64_t e) {
  /* e >= 0 */
  uint64_t r = 1, b = (uint64_t)base;
  while (e) {
    if (e & 1) r *= b;
    b *= b;
    e >>= 1;
  }
  return (int64_t)r;
}

#define DEFINE_POWS(T, S, SQRT, POW)                                           \
  static void pows_##S(void *o, const void *const *in, size_t n, const void *p) { \
    T *out = (T *)o;                                                           \
    const T *a = (const T *)in[0];                                             \
    const T e = *(const T *)p;                                                 \
    if (e == 2) {                                                              \
      for (size_t i = 0; i < n; i++) out[i] = a[i] * a[i];                     \
    } else if (e == 3) {                                                       \
      for (size_t i = 0; i < n; i++) out[i] = a[i] * a[i] * a[i];              \
    } else if (e == (T)0.5) {                                                  \
      for (size_t i = 0; i < n; i++) out[i] = SQRT(a[i]);                      \
    } else if (e == (T)-0.5) {                                                 \
      for (size_t i = 0; i < n; i++) out[i] = (T)1 / SQRT(a[i]);               \
    } else if (e == -1) {                                                      \
      for (size_t i = 0; i < n; i++) out[i] = (T)1 / a[i];                     \
    } else if (e == -2) {                                                      \
      for (size_t i = 0; i < n; i++) out[i] = (T)1 / (a[i] * a[i]);            \
    } else {                                                                   \
      for (size_t i = 0; i < n; i++) out[i] = POW(a[i], e);                    \
    }                                                                          \
  }                                                                            \
  static void powt_##S(void *o, const void *const *in, size_t n, const void *p) { \
    (void)p;                                                                   \
    T *out = (T *)o;                                                           \
    const T *a = (const T *)in[0], *b = (const T *)in[1];                      \
    for (size_t i = 0; i < n; i++) out[i] = POW(a[i], b[i]);                   \
  }
DEFINE_POWS(float, f32, sqrtf, powf)
DEFINE_POWS(double, f64, sqrt, pow)

static void pows_i64(void *o, const void *const *in, size_t n, const void *p) {
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  const int64_t e = *(const int64_t *)p;
  for (size_t i = 0; i < n; i++) out[i] = ipow(a[i], e);
}

static void powt_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0], *b = (const int64_t *)in[1];
  /* negative exponents: 1 and -1 have exact results, others truncate to 0 */
  for (size_t i = 0; i < n; i++)
    out[i] = b[i] >= 0 ? ipow(a[i], b[i]) : a[i] == 1 ? 1 : a[i] == -1 ? ((b[i] & 1) ? -1 : 1) : 0;
}

static const et_ew_fns pows_fns = {pows_i64, pows_f32, pows_f64, NULL};
static const et_ew_fns powt_fns = {powt_i64, powt_f32, powt_f64, NULL};

et_status et_op_pow_tensor_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  if (common == ET_BOOL) return ET_K_FAIL(ctx, "Bool operands are not supported");
  const int compute = et_ew_compute_dtype(common);
  et_cval e = et_scalar_cast(args[1], compute);
  if (compute == ET_LONG && e.i < 0)
    return ET_K_FAIL(ctx, "integers to negative integer powers are not allowed");
  return et_ew_unary(ctx, a, out, common, compute, &pows_fns, &e);
}

et_status et_op_pow_tensor_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  if (common == ET_BOOL) return ET_K_FAIL(ctx, "Bool operands are not supported");
  return et_ew_binary(ctx, a, b, out, common, &powt_fns, NULL);
}
