/*
 * aten::logit.out(Tensor self, float? eps=None, *, Tensor(a!) out)
 * out = log(z / (1 - z)) with z = clamp(x, eps, 1 - eps) when eps is given
 * and not negative, z = x otherwise (so 0 and 1 give -inf and inf, and
 * values outside [0, 1] NaN). Any real or Bool input (integers give a
 * floating out, as in PyTorch); out must be floating. Half/BFloat16 input
 * computes in its dtype as PyTorch's CPU kernel does: eps, 1 - eps, 1 - z,
 * the quotient and the log are each rounded to it.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

typedef struct logit_param {
  double eps; /* < 0: no clamping */
  int round;  /* ET_HALF or ET_BFLOAT16: round every step to it; else 0 */
} logit_param;

static void logit_f32(void *o, const void *const *in, size_t n, const void *p) {
  const logit_param *q = (const logit_param *)p;
  const double e = q->eps;
  const int r = q->round;
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  if (r) {
    const float lo = et_round_to_dtype(r, (float)e), hi = et_round_to_dtype(r, 1.0f - lo);
    for (size_t i = 0; i < n; i++) {
      float z = a[i];
      if (e >= 0) {
        z = z < lo ? lo : z;
        z = z > hi ? hi : z;
      }
      out[i] = et_round_to_dtype(r, logf(et_round_to_dtype(r, z / et_round_to_dtype(r, 1.0f - z))));
    }
    return;
  }
  if (e < 0) {
    for (size_t i = 0; i < n; i++) out[i] = logf(a[i] / (1.0f - a[i]));
    return;
  }
  const float lo = (float)e, hi = 1.0f - (float)e;
  for (size_t i = 0; i < n; i++) {
    float z = a[i] < lo ? lo : a[i];
    z = z > hi ? hi : z;
    out[i] = logf(z / (1.0f - z));
  }
}

static void logit_f64(void *o, const void *const *in, size_t n, const void *p) {
  const double e = ((const logit_param *)p)->eps;
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  if (e < 0) {
    for (size_t i = 0; i < n; i++) out[i] = log(a[i] / (1.0 - a[i]));
    return;
  }
  const double lo = e, hi = 1.0 - e;
  for (size_t i = 0; i < n; i++) {
    double z = a[i] < lo ? lo : a[i];
    z = z > hi ? hi : z;
    out[i] = log(z / (1.0 - z));
  }
}

static const et_ew_fns logit_fns = {NULL, logit_f32, logit_f64, NULL};

et_status et_op_logit_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, out, "out"));
  logit_param p;
  p.eps = args[1]->tag == ET_TAG_DOUBLE ? args[1]->u.d : -1.0;
  if (p.eps != p.eps) p.eps = -1.0;
  p.round = a->dtype == ET_HALF || a->dtype == ET_BFLOAT16 ? (int)a->dtype : 0;
  const int compute = a->dtype == ET_DOUBLE ? ET_DOUBLE : ET_FLOAT;
  return et_ew_unary(ctx, a, out, compute, compute, &logit_fns, &p);
}
