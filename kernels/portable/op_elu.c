/*
 * aten::elu.out(Tensor self, Scalar alpha=1, Scalar scale=1,
 *               Scalar input_scale=1, *, Tensor(a!) out)
 * out = x > 0 ? x * scale : expm1(x * input_scale) * alpha * scale
 * (NaN stays NaN). Floating dtypes only; out has self's dtype;
 * Half/BFloat16 compute in float.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

typedef struct elu_param {
  et_cval negcoef, poscoef, in_scale;
} elu_param;

static void elu_f32(void *o, const void *const *in, size_t n, const void *p) {
  const elu_param *q = (const elu_param *)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  const float neg = q->negcoef.f, pos = q->poscoef.f, is = q->in_scale.f;
  for (size_t i = 0; i < n; i++) {
    const float x = a[i];
    out[i] = x <= 0.0f ? expm1f(x * is) * neg : x * pos;
  }
}

static void elu_f64(void *o, const void *const *in, size_t n, const void *p) {
  const elu_param *q = (const elu_param *)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  const double neg = q->negcoef.d, pos = q->poscoef.d, is = q->in_scale.d;
  for (size_t i = 0; i < n; i++) {
    const double x = a[i];
    out[i] = x <= 0.0 ? expm1(x * is) * neg : x * pos;
  }
}

static const et_ew_fns elu_fns = {NULL, elu_f32, elu_f64, NULL};

et_status et_op_elu_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, a, "self"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  const int compute = et_ew_compute_dtype(a->dtype);
  et_cval alpha = et_scalar_cast(args[1], compute);
  elu_param p;
  p.poscoef = et_scalar_cast(args[2], compute);
  p.in_scale = et_scalar_cast(args[3], compute);
  if (compute == ET_FLOAT)
    p.negcoef.f = alpha.f * p.poscoef.f;
  else
    p.negcoef.d = alpha.d * p.poscoef.d;
  return et_ew_unary(ctx, a, out, a->dtype, compute, &elu_fns, &p);
}
