/*
 * aten::round.out(Tensor self, *, Tensor(a!) out): rounds to the nearest
 * integer, halves to even as torch.round (nearbyint in the default rounding
 * mode; round.decimals_out is not in upstream's portable library).
 * Floating dtypes round (Half/BFloat16 in float, exactly); integers are
 * copied unchanged; Bool is refused, as in PyTorch. out has self's dtype.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

static void round_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = a[i];
}

static void round_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = nearbyintf(a[i]);
}

static void round_f64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = nearbyint(a[i]);
}

static const et_ew_fns round_fns = {round_i64, round_f32, round_f64, NULL};

et_status et_op_round_out(et_kernel_ctx *ctx, et_value **args) {
  return et_unary_real_out(ctx, args, &round_fns, false);
}
