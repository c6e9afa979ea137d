/*
 * aten::rsub.Scalar_out(Tensor self, Scalar other, Scalar alpha=1, *,
 *                       Tensor(a!) out)
 *
 * out = other - alpha * self (sub with the operands swapped). The result
 * dtype is self's promoted with the scalar; other is first converted to it
 * (an Int8 tensor sees 300 as 44, as in PyTorch), alpha must fit it. Bool
 * is refused, as for sub.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

typedef struct rsub_param {
  et_cval other; /* in the compute dtype */
  et_cval alpha;
} rsub_param;

static void rsub_i64(void *o, const void *const *in, size_t n, const void *p) {
  const rsub_param *q = (const rsub_param *)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  const uint64_t v = (uint64_t)q->other.i, alpha = (uint64_t)q->alpha.i;
  for (size_t i = 0; i < n; i++) out[i] = (int64_t)(v - alpha * (uint64_t)a[i]);
}

static void rsub_f32(void *o, const void *const *in, size_t n, const void *p) {
  const rsub_param *q = (const rsub_param *)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  const float v = q->other.f, alpha = q->alpha.f;
  if (alpha == 1.0f) {
    for (size_t i = 0; i < n; i++) out[i] = v - a[i];
  } else {
    for (size_t i = 0; i < n; i++) out[i] = v - alpha * a[i];
  }
}

static void rsub_f64(void *o, const void *const *in, size_t n, const void *p) {
  const rsub_param *q = (const rsub_param *)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  const double v = q->other.d, alpha = q->alpha.d;
  for (size_t i = 0; i < n; i++) out[i] = v - alpha * a[i];
}

static const et_ew_fns rsub_fns = {rsub_i64, rsub_f32, rsub_f64, NULL};

et_status et_op_rsub_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  int common;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  if (common == ET_BOOL)
    return ET_K_FAIL(ctx, "subtraction with Bool operands is not supported; use "
                          "logical_xor or bitwise_not instead");
  rsub_param p;
  ET_K_TRY(et_arith_alpha(ctx, args[2], common, &p.alpha));
  et_arith_round_scalar(common, &p.alpha);
  p.other = et_scalar_via_dtype(args[1], common);
  return et_ew_unary(ctx, a, out, common, et_ew_compute_dtype(common), &rsub_fns, &p);
}
