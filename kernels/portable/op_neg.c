/* aten::neg.out(Tensor self, *, Tensor(a!) out); Bool is refused (PyTorch). */
#include "portable/ops.h"

#include "util/unary_util.h"

static void neg_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = (int64_t)(0u - (uint64_t)a[i]);
}

static void neg_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = -a[i];
}

static void neg_f64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = -a[i];
}

static const et_ew_fns neg_fns = {neg_i64, neg_f32, neg_f64, NULL};

et_status et_op_neg_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_real_out(ctx, args, &neg_fns, false);
}
