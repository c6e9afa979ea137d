/*
 * aten::hardtanh.out(Tensor self, Scalar min_val=-1, Scalar max_val=1, *,
 *                    Tensor(a!) out)
 * out = min(max(x, min_val), max_val), NaN kept (PyTorch's clamp); ReLU6 is
 * hardtanh(0, 6). Real dtypes; out has self's dtype. Integer tensors need
 * integer bounds that fit their dtype.
 */
#include "portable/ops.h"

#include "util/arith_util.h"

typedef struct clamp_param {
  et_cval lo, hi;
} clamp_param;

static void clamp_i64(void *o, const void *const *in, size_t n, const void *p) {
  const clamp_param *q = (const clamp_param *)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  for (size_t i = 0; i < n; i++) {
    const int64_t x = a[i] < q->lo.i ? q->lo.i : a[i];
    out[i] = x > q->hi.i ? q->hi.i : x;
  }
}

static void clamp_f32(void *o, const void *const *in, size_t n, const void *p) {
  const clamp_param *q = (const clamp_param *)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  const float lo = q->lo.f, hi = q->hi.f;
  for (size_t i = 0; i < n; i++) {
    const float x = a[i] < lo ? lo : a[i]; /* NaN compares false: kept */
    out[i] = x > hi ? hi : x;
  }
}

static void clamp_f64(void *o, const void *const *in, size_t n, const void *p) {
  const clamp_param *q = (const clamp_param *)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  for (size_t i = 0; i < n; i++) {
    const double x = a[i] < q->lo.d ? q->lo.d : a[i];
    out[i] = x > q->hi.d ? q->hi.d : x;
  }
}

static const et_ew_fns clamp_fns = {clamp_i64, clamp_f32, clamp_f64, NULL};

et_status op_hardtanh_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  if (a->dtype == ET_BOOL) return ET_K_FAIL(ctx, "self: Bool is not supported");
  clamp_param p;
  if (!et_scalar_extract(args[1], a->dtype, &p.lo) ||
      !et_scalar_extract(args[2], a->dtype, &p.hi))
    return ET_K_FAIL(ctx, "min_val/max_val cannot be represented in dtype %s",
                     et_dtype_name(a->dtype));
  return et_ew_unary(ctx, a, out, a->dtype, et_ew_compute_dtype(a->dtype), &clamp_fns, &p);
}
