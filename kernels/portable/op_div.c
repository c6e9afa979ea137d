/*
 * aten::div.out(Tensor self, Tensor other, *, Tensor(a!) out)
 * aten::div.Scalar_out(Tensor self, Scalar other, *, Tensor(a!) out)
 *
 * True division: integer and Bool operands divide in Float, as in PyTorch;
 * out must be floating.
 */
#include "portable/ops.h"

#include "util/arith_util.h"

static void div_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0], *b = (const float *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = a[i] / b[i];
}

static void div_f64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0], *b = (const double *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = a[i] / b[i];
}

static const et_ew_fns div_fns = {NULL, div_f32, div_f64, NULL};

/* Float when neither operand is floating, else the promoted floating dtype. */
static int div_common(int a, int b) {
  bool fa = et_dtype_is_floating(a), fb = et_dtype_is_floating(b);
  if (fa && fb) return et_promote_types(a, b);
  if (fa) return a;
  if (fb) return b;
  return ET_FLOAT;
}

static et_status check_out(et_kernel_ctx *ctx, int common, const et_tensor *out) {
  if (!et_dtype_is_floating(out->dtype) || !et_can_cast(common, out->dtype))
    return ET_K_FAIL(ctx, "out: expected a floating dtype that %s can be cast to, got %s",
                     et_dtype_name(common), et_dtype_name(out->dtype));
  return ET_OK;
}

et_status et_op_div_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, b, "other"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int common = div_common(a->dtype, b->dtype);
  ET_K_TRY(check_out(ctx, common, out));
  return et_ew_binary(ctx, a, b, out, common, &div_fns, NULL);
}

static void divs_f32(void *o, const void *const *in, size_t n, const void *p) {
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  const float v = ((const et_cval *)p)->f;
  for (size_t i = 0; i < n; i++) out[i] = a[i] / v;
}

static void divs_f64(void *o, const void *const *in, size_t n, const void *p) {
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  const double v = ((const et_cval *)p)->d;
  for (size_t i = 0; i < n; i++) out[i] = a[i] / v;
}

static const et_ew_fns divs_fns = {NULL, divs_f32, divs_f64, NULL};

et_status et_op_div_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int common = et_dtype_is_floating(a->dtype) ? a->dtype : ET_FLOAT;
  ET_K_TRY(check_out(ctx, common, out));
  int compute = et_ew_compute_dtype(common);
  et_cval v = et_scalar_cast(args[1], compute);
  return et_ew_unary(ctx, a, out, common, compute, &divs_fns, &v);
}
