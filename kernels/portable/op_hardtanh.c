/*
 * aten::hardtanh.out(Tensor self, Scalar min_val=-1, Scalar max_val=1, *,
 *                    Tensor(a!) out)
 * out = min(max(x, min_val), max_val), NaN kept (PyTorch's clamp); ReLU6 is
 * hardtanh(0, 6). Real dtypes; out has self's dtype. For integer tensors
 * the bounds are first truncated to integers (PyTorch's Scalar::toLong, so
 * hardtanh(x, -0.5, 0.5) clamps to [0, 0]), must then fit the dtype, and
 * may not be negative for Byte, as PyTorch's hardtanh_out checks.
 */
#include "portable/ops.h"

#include "util/scalar_util.h"

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

/* Scalar::toLong: Double truncated toward zero (refused when NaN or outside
 * int64, where PyTorch's checked conversion fails), Bool as 0 or 1. */
static et_status to_long(et_kernel_ctx *ctx, const et_value *v, const char *name,
                         int64_t *out) {
  if (v->tag == ET_TAG_DOUBLE) {
    const double d = v->u.d;
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
      return ET_K_FAIL(ctx, "%s: %s cannot be converted to Long", name, et_double_str((char[ET_DOUBLE_STR_CAP]){0}, ET_DOUBLE_STR_CAP, d));
    *out = (int64_t)d;
    return ET_OK;
  }
  *out = et_scalar_to_int64(v);
  return ET_OK;
}

static const et_ew_fns clamp_fns = {clamp_i64, clamp_f32, clamp_f64, NULL};

et_status et_op_hardtanh_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  if (a->dtype == ET_BOOL) return ET_K_FAIL(ctx, "self: Bool is not supported");
  clamp_param p;
  if (et_dtype_is_integral(a->dtype, false)) {
    et_value lim[2];
    const char *names[2] = {"min_val", "max_val"};
    for (int k = 0; k < 2; k++) {
      ET_K_TRY(to_long(ctx, args[1 + k], names[k], &lim[k].u.i));
      lim[k].tag = ET_TAG_INT;
    }
    if (a->dtype == ET_BYTE && (lim[0].u.i < 0 || lim[1].u.i < 0))
      return ET_K_FAIL(ctx, "cannot do hardtanh on an unsigned type with negative limits");
    for (int k = 0; k < 2; k++)
      if (!et_scalar_extract(&lim[k], a->dtype, k ? &p.hi : &p.lo))
        return ET_K_FAIL(ctx, "%s: %lld cannot be represented in dtype %s", names[k],
                         (long long)lim[k].u.i, et_dtype_name(a->dtype));
  } else if (!et_scalar_extract(args[1], a->dtype, &p.lo) ||
             !et_scalar_extract(args[2], a->dtype, &p.hi)) {
    return ET_K_FAIL(ctx, "min_val/max_val cannot be represented in dtype %s",
                     et_dtype_name(a->dtype));
  }
  return et_ew_unary(ctx, a, out, a->dtype, et_ew_compute_dtype(a->dtype), &clamp_fns, &p);
}
