/*
 * aten::sign.out(Tensor self, *, Tensor(a!) out): -1, 0 or 1 in self's
 * dtype. As PyTorch on CPU computes (0 < x) - (x < 0), NaN and -0.0 give
 * +0; Bool is copied; unsigned Byte gives 0 or 1. out has self's dtype.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

static void sign_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = (int64_t)(a[i] > 0) - (int64_t)(a[i] < 0);
}

static void sign_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = (float)(a[i] > 0.0f) - (float)(a[i] < 0.0f);
}

static void sign_f64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = (double)(a[i] > 0.0) - (double)(a[i] < 0.0);
}

static const et_ew_fns sign_fns = {sign_i64, sign_f32, sign_f64, NULL};

et_status et_op_sign_out(et_kernel_ctx *ctx, et_value **args) {
  /* Bool: x > 0 is x itself, which the Long loop reproduces */
  return et_unary_real_out(ctx, args, &sign_fns, true);
}
