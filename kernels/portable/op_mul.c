/*
 * aten::mul.out(Tensor self, Tensor other, *, Tensor(a!) out)
 * aten::mul.Scalar_out(Tensor self, Scalar other, *, Tensor(a!) out)
 *
 * out = self * other with broadcasting and type promotion. A scalar keeps
 * the compute precision (PyTorch's CPU scalar path): Half * 0.1 multiplies
 * in float by 0.1f, then rounds once.
 */
#include "portable/ops.h"

#include "util/arith_util.h"

static void mul_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0], *b = (const int64_t *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = (int64_t)((uint64_t)a[i] * (uint64_t)b[i]);
}

static void mul_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0], *b = (const float *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

static void mul_f64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0], *b = (const double *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

static const et_ew_fns mul_fns = {mul_i64, mul_f32, mul_f64, NULL};

et_status et_op_mul_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  return et_ew_binary(ctx, a, b, out, common, &mul_fns, NULL);
}

static void muls_i64(void *o, const void *const *in, size_t n, const void *p) {
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  const uint64_t v = (uint64_t)((const et_cval *)p)->i;
  for (size_t i = 0; i < n; i++) out[i] = (int64_t)((uint64_t)a[i] * v);
}

static void muls_f32(void *o, const void *const *in, size_t n, const void *p) {
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  const float v = ((const et_cval *)p)->f;
  for (size_t i = 0; i < n; i++) out[i] = a[i] * v;
}

static void muls_f64(void *o, const void *const *in, size_t n, const void *p) {
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  const double v = ((const et_cval *)p)->d;
  for (size_t i = 0; i < n; i++) out[i] = a[i] * v;
}

static const et_ew_fns muls_fns = {muls_i64, muls_f32, muls_f64, NULL};

et_status et_op_mul_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  int compute = et_ew_compute_dtype(common);
  et_cval v = et_scalar_cast(args[1], compute);
  return et_ew_unary(ctx, a, out, common, compute, &muls_fns, &v);
}
