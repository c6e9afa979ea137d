/* aten::abs.out(Tensor self, *, Tensor(a!) out); Bool is refused (PyTorch). */
#include "portable/ops.h"

#include "util/unary_util.h"

static void abs_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  /* INT_MIN stays INT_MIN after wrapping, as in PyTorch */
  for (size_t i = 0; i < n; i++)
    out[i] = a[i] < 0 ? (int64_t)(0u - (uint64_t)a[i]) : a[i];
}

static void abs_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = fabsf(a[i]);
}

static void abs_f64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = fabs(a[i]);
}

static const et_ew_fns abs_fns = {abs_i64, abs_f32, abs_f64, NULL};

et_status et_op_abs_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_real_out(ctx, args, &abs_fns, false);
}
