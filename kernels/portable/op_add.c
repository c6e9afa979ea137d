/*
 * aten::add.out(Tensor self, Tensor other, *, Scalar alpha=1, Tensor(a!) out)
 * aten::add.Scalar_out(Tensor self, Scalar other, Scalar alpha=1, *, Tensor(a!) out)
 *
 * out = self + alpha * other, with broadcasting and c10 type promotion;
 * Half/BFloat16 compute in float (alpha and a Scalar other first rounded to
 * the dtype, as PyTorch converts them), integers in int64 wrapped to the
 * common dtype. (PyTorch's vectorized Half/BFloat16 loop rounds once, as
 * here; its scalar loop, which takes the last elements of each run of
 * fewer than a vector block, rounds alpha * other to the dtype first.)
 */
#include "portable/ops.h"

#include "util/arith_util.h"

typedef struct add_param {
  et_cval alpha; /* in the compute dtype */
  et_cval other; /* Scalar_out: alpha * other, in the compute dtype */
} add_param;

static void add_i64(void *o, const void *const *in, size_t n, const void *p) {
  const add_param *pa = (const add_param *)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0], *b = (const int64_t *)in[1];
  const uint64_t alpha = (uint64_t)pa->alpha.i;
  for (size_t i = 0; i < n; i++)
    out[i] = (int64_t)((uint64_t)a[i] + alpha * (uint64_t)b[i]);
}

static void add_f32(void *o, const void *const *in, size_t n, const void *p) {
  const add_param *pa = (const add_param *)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0], *b = (const float *)in[1];
  const float alpha = pa->alpha.f;
  if (alpha == 1.0f) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
  } else {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + alpha * b[i];
  }
}

static void add_f64(void *o, const void *const *in, size_t n, const void *p) {
  const add_param *pa = (const add_param *)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0], *b = (const double *)in[1];
  const double alpha = pa->alpha.d;
  for (size_t i = 0; i < n; i++) out[i] = a[i] + alpha * b[i];
}

static const et_ew_fns add_fns = {add_i64, add_f32, add_f64, NULL};

et_status et_op_add_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[3]->u.t;
  int common;
  add_param p;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  ET_K_TRY(et_arith_alpha(ctx, args[2], common, &p.alpha));
  et_arith_round_scalar(common, &p.alpha);
  return et_ew_binary(ctx, a, b, out, common, &add_fns, &p);
}

static void adds_i64(void *o, const void *const *in, size_t n, const void *p) {
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  const uint64_t v = (uint64_t)((const add_param *)p)->other.i;
  for (size_t i = 0; i < n; i++) out[i] = (int64_t)((uint64_t)a[i] + v);
}

static void adds_f32(void *o, const void *const *in, size_t n, const void *p) {
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  const float v = ((const add_param *)p)->other.f;
  for (size_t i = 0; i < n; i++) out[i] = a[i] + v;
}

static void adds_f64(void *o, const void *const *in, size_t n, const void *p) {
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  const double v = ((const add_param *)p)->other.d;
  for (size_t i = 0; i < n; i++) out[i] = a[i] + v;
}

static const et_ew_fns adds_fns = {adds_i64, adds_f32, adds_f64, NULL};

et_status et_op_add_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  int common;
  add_param p;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  ET_K_TRY(et_arith_alpha(ctx, args[2], common, &p.alpha));
  et_arith_round_scalar(common, &p.alpha);
  int compute = et_ew_compute_dtype(common);
  et_cval b = et_scalar_cast(args[1], compute);
  et_arith_round_scalar(common, &b);
  if (compute == ET_LONG)
    p.other.i = (int64_t)((uint64_t)p.alpha.i * (uint64_t)b.i);
  else if (compute == ET_FLOAT)
    p.other.f = p.alpha.f * b.f;
  else
    p.other.d = p.alpha.d * b.d;
  return et_ew_unary(ctx, a, out, common, compute, &adds_fns, &p);
}
