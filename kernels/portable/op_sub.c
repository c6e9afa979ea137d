/*
 * aten::sub.out(Tensor self, Tensor other, *, Scalar alpha=1, Tensor(a!) out)
 * aten::sub.Scalar_out(Tensor self, Scalar other, Scalar alpha=1, *, Tensor(a!) out)
 *
 * out = self - alpha * other. Bool operands are refused, as in PyTorch.
 * Half/BFloat16 round alpha and a Scalar other to the dtype first, then
 * compute in float (see op_add.c).
 */
#include "portable/ops.h"

#include "util/arith_util.h"

typedef struct sub_param {
  et_cval alpha;
  et_cval other; /* Scalar_out: alpha * other */
} sub_param;

static void sub_i64(void *o, const void *const *in, size_t n, const void *p) {
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0], *b = (const int64_t *)in[1];
  const uint64_t alpha = (uint64_t)((const sub_param *)p)->alpha.i;
  for (size_t i = 0; i < n; i++)
    out[i] = (int64_t)((uint64_t)a[i] - alpha * (uint64_t)b[i]);
}

static void sub_f32(void *o, const void *const *in, size_t n, const void *p) {
  float *out = (float *)o;
  const float *a = (const float *)in[0], *b = (const float *)in[1];
  const float alpha = ((const sub_param *)p)->alpha.f;
  if (alpha == 1.0f) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] - b[i];
  } else {
    for (size_t i = 0; i < n; i++) out[i] = a[i] - alpha * b[i];
  }
}

static void sub_f64(void *o, const void *const *in, size_t n, const void *p) {
  double *out = (double *)o;
  const double *a = (const double *)in[0], *b = (const double *)in[1];
  const double alpha = ((const sub_param *)p)->alpha.d;
  for (size_t i = 0; i < n; i++) out[i] = a[i] - alpha * b[i];
}

static const et_ew_fns sub_fns = {sub_i64, sub_f32, sub_f64, NULL};

static et_status no_bool(et_kernel_ctx *ctx, int common) {
  if (common == ET_BOOL)
    return ET_K_FAIL(ctx, "subtraction of Bool operands is not supported; use "
                          "logical_xor or bitwise_not instead");
  return ET_OK;
}

et_status et_op_sub_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[3]->u.t;
  int common;
  sub_param p;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  ET_K_TRY(no_bool(ctx, common));
  ET_K_TRY(et_arith_alpha(ctx, args[2], common, &p.alpha));
  et_arith_round_scalar(common, &p.alpha);
  return et_ew_binary(ctx, a, b, out, common, &sub_fns, &p);
}

static void subs_i64(void *o, const void *const *in, size_t n, const void *p) {
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  const uint64_t v = (uint64_t)((const sub_param *)p)->other.i;
  for (size_t i = 0; i < n; i++) out[i] = (int64_t)((uint64_t)a[i] - v);
}

static void subs_f32(void *o, const void *const *in, size_t n, const void *p) {
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  const float v = ((const sub_param *)p)->other.f;
  for (size_t i = 0; i < n; i++) out[i] = a[i] - v;
}

static void subs_f64(void *o, const void *const *in, size_t n, const void *p) {
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  const double v = ((const sub_param *)p)->other.d;
  for (size_t i = 0; i < n; i++) out[i] = a[i] - v;
}

static const et_ew_fns subs_fns = {subs_i64, subs_f32, subs_f64, NULL};

et_status et_op_sub_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  int common;
  sub_param p;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  ET_K_TRY(no_bool(ctx, common));
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
  return et_ew_unary(ctx, a, out, common, compute, &subs_fns, &p);
}
