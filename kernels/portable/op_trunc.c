/*
 * aten::trunc.out(Tensor self, *, Tensor(a!) out): rounds towards zero.
 * Floating dtypes round (Half/BFloat16 in float, exactly); integers are
 * copied unchanged; Bool is refused, as in PyTorch. out has self's dtype.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

static void trunc_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = a[i];
}

static void trunc_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = truncf(a[i]);
}

static void trunc_f64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = trunc(a[i]);
}

static const et_ew_fns trunc_fns = {trunc_i64, trunc_f32, trunc_f64, NULL};

et_status et_op_trunc_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_real_out(ctx, args, &trunc_fns, false);
}
