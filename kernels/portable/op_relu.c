/*
 * aten::relu.out(Tensor self, *, Tensor(a!) out): max(x, 0), NaN and -0.0
 * kept (as PyTorch's clamp_min). Bool is refused. The select form
 * `x < 0 ? 0 : x` has no branch and vectorizes.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

static void relu_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = a[i] < 0 ? 0 : a[i];
}

static void relu_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  for (size_t i = 0; i < n; i++) {
    const float x = a[i];
    out[i] = x < 0.0f ? 0.0f : x;
  }
}

static void relu_f64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  for (size_t i = 0; i < n; i++) {
    const double x = a[i];
    out[i] = x < 0.0 ? 0.0 : x;
  }
}

static const et_ew_fns relu_fns = {relu_i64, relu_f32, relu_f64, NULL};

et_status et_op_relu_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_real_out(ctx, args, &relu_fns, false);
}
