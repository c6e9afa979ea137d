/*
 * aten::clamp.out(Tensor self, Scalar? min=None, Scalar? max=None, *,
 *                 Tensor(a!) out)
 * aten::clamp.Tensor_out(Tensor self, Tensor? min=None, Tensor? max=None, *,
 *                        Tensor(a!) out)
 *
 * out = min(max(self, min), max): when min > max every element becomes max.
 * At least one bound must be given. The result dtype is self's promoted
 * with the bounds (an Int tensor clamped to 2.5 gives Float; a Bool tensor
 * with Int bounds gives Long). Bool results are refused, as in PyTorch,
 * except for Tensor_out with one bound (PyTorch's clamp_min/clamp_max
 * kernels take Bool).
 *
 * Scalar bounds must convert to the result dtype without overflow (c10's
 * check: an Int8 tensor refuses 300, a Half one 70000.0). NaN in self
 * stays NaN; a NaN bound makes every element NaN (PyTorch's CPU result).
 *
 * Tensor bounds broadcast with self (out gets the broadcast shape) and
 * propagate NaN element by element, as PyTorch's clamp/clamp_min/clamp_max.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

/* ---- scalar bounds --------------------------------------------------------- */

typedef struct clamp_param {
  et_cval lo, hi; /* compute dtype; absent bounds are the dtype's extremes */
} clamp_param;

static void clamps_i64(void *o, const void *const *in, size_t n, const void *p) {
  const clamp_param *q = (const clamp_param *)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  const int64_t lo = q->lo.i, hi = q->hi.i;
  for (size_t i = 0; i < n; i++) {
    const int64_t x = a[i] < lo ? lo : a[i];
    out[i] = x > hi ? hi : x;
  }
}

#define DEFINE_CLAMPS(T, S, FIELD)                                             \
  static void clamps_##S(void *o, const void *const *in, size_t n, const void *p) { \
    const clamp_param *q = (const clamp_param *)p;                             \
    T *out = (T *)o;                                                           \
    const T *a = (const T *)in[0];                                             \
    const T lo = q->lo.FIELD, hi = q->hi.FIELD;                                \
    if (lo != lo || hi != hi) {                                                \
      const T nan = lo != lo ? lo : hi;                                        \
      for (size_t i = 0; i < n; i++) out[i] = nan;                             \
      return;                                                                  \
    }                                                                          \
    for (size_t i = 0; i < n; i++) {                                           \
      const T x = a[i] < lo ? lo : a[i]; /* NaN compares false: kept */        \
      out[i] = x > hi ? hi : x;                                                \
    }                                                                          \
  }
DEFINE_CLAMPS(float, f32, f)
DEFINE_CLAMPS(double, f64, d)

static const et_ew_fns clamps_fns = {clamps_i64, clamps_f32, clamps_f64, NULL};

et_status et_op_clamp_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  const et_value *vmin = args[1], *vmax = args[2];
  et_tensor *out = args[3]->u.t;
  const bool has_lo = vmin->tag != ET_TAG_NONE, has_hi = vmax->tag != ET_TAG_NONE;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (!has_lo && !has_hi) return ET_K_FAIL(ctx, "at least one of min and max must be given");
  int common = a->dtype;
  if (has_lo) common = et_promote_type_with_scalar(common, vmin);
  if (has_hi) common = et_promote_type_with_scalar(common, vmax);
  if (common == ET_BOOL) return ET_K_FAIL(ctx, "Bool results are not supported");
  if (!et_can_cast(common, out->dtype))
    return ET_K_FAIL(ctx, "result dtype %s cannot be cast to out dtype %s",
                     et_dtype_name(common), et_dtype_name(out->dtype));
  const int compute = et_ew_compute_dtype(common);
  clamp_param p;
  if (compute == ET_LONG) {
    p.lo.i = INT64_MIN;
    p.hi.i = INT64_MAX;
  } else if (compute == ET_FLOAT) {
    p.lo.f = -INFINITY;
    p.hi.f = INFINITY;
  } else {
    p.lo.d = -INFINITY;
    p.hi.d = INFINITY;
  }
  if (has_lo) ET_K_TRY(et_scalar_checked(ctx, vmin, common, "min", &p.lo));
  if (has_hi) ET_K_TRY(et_scalar_checked(ctx, vmax, common, "max", &p.hi));
  return et_ew_unary(ctx, a, out, common, compute, &clamps_fns, &p);
}

/* ---- tensor bounds ----------------------------------------------------------- */

#define NANPROP2(x, y) ((x) != (x) || (y) != (y))
#define NANPROP3(x, y, z) ((x) != (x) || (y) != (y) || (z) != (z))

/* both bounds: in = (self, min, max) */
#define DEFINE_CLAMPT(T, S, ISNAN3)                                            \
  static void clampt_##S(void *o, const void *const *in, size_t n, const void *p) { \
    (void)p;                                                                   \
    T *out = (T *)o;                                                           \
    const T *a = (const T *)in[0], *l = (const T *)in[1], *h = (const T *)in[2]; \
    for (size_t i = 0; i < n; i++) {                                           \
      const T x = a[i], lo = l[i], hi = h[i];                                  \
      const T m = x < lo ? lo : x;                                             \
      out[i] = ISNAN3(x, lo, hi) ? x + lo + hi : (hi < m ? hi : m);            \
    }                                                                          \
  }
#define NONAN3(x, y, z) 0
DEFINE_CLAMPT(int64_t, i64, NONAN3)
DEFINE_CLAMPT(float, f32, NANPROP3)
DEFINE_CLAMPT(double, f64, NANPROP3)

/* one bound: in = (self, bound) */
ET_DEFINE_BINARY_TT(cmin, int64_t, i64, x < y ? y : x)
ET_DEFINE_BINARY_TT(cmin, float, f32, NANPROP2(x, y) ? x + y : (x < y ? y : x))
ET_DEFINE_BINARY_TT(cmin, double, f64, NANPROP2(x, y) ? x + y : (x < y ? y : x))
ET_DEFINE_BINARY_TT(cmax, int64_t, i64, y < x ? y : x)
ET_DEFINE_BINARY_TT(cmax, float, f32, NANPROP2(x, y) ? x + y : (y < x ? y : x))
ET_DEFINE_BINARY_TT(cmax, double, f64, NANPROP2(x, y) ? x + y : (y < x ? y : x))

static const et_ew_fns clampt_fns = {clampt_i64, clampt_f32, clampt_f64, NULL};
static const et_ew_fns cmin_fns = {cmin_tt_i64, cmin_tt_f32, cmin_tt_f64, NULL};
static const et_ew_fns cmax_fns = {cmax_tt_i64, cmax_tt_f32, cmax_tt_f64, NULL};

et_status et_op_clamp_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  const et_tensor *lo = args[1]->tag == ET_TAG_TENSOR ? args[1]->u.t : NULL;
  const et_tensor *hi = args[2]->tag == ET_TAG_TENSOR ? args[2]->u.t : NULL;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (!lo && !hi) return ET_K_FAIL(ctx, "at least one of min and max must be given");
  int common = a->dtype;
  if (lo) {
    ET_K_TRY(et_k_check_tensor(ctx, lo, "min"));
    common = et_promote_types(common, lo->dtype);
  }
  if (hi) {
    ET_K_TRY(et_k_check_tensor(ctx, hi, "max"));
    common = et_promote_types(common, hi->dtype);
  }
  /* PyTorch's clamp_min/clamp_max kernels take Bool (max is OR, min is AND);
   * its two-bound clamp kernel does not */
  if (common == ET_BOOL && lo && hi)
    return ET_K_FAIL(ctx, "Bool results are not supported with both min and max");
  if (!et_can_cast(common, out->dtype))
    return ET_K_FAIL(ctx, "result dtype %s cannot be cast to out dtype %s",
                     et_dtype_name(common), et_dtype_name(out->dtype));
  const et_tensor *all[3] = {a, lo, hi};
  static const char *const all_names[3] = {"self", "min", "max"};
  int64_t shape[ET_MAX_RANK];
  uint32_t rank;
  ET_K_TRY(et_k_broadcast_shape_n(ctx, all, all_names, 3, shape, &rank));
  ET_K_TRY(et_k_resize(ctx, out, shape, rank, "out"));

  const int compute = et_ew_compute_dtype(common);
  const et_tensor *ins[3] = {a, lo ? lo : hi, hi};
  const char *names[3] = {"self", lo ? "min" : "max", "max"};
  uint32_t nin = lo && hi ? 3 : 2;
  const et_ew_fns *fns = nin == 3 ? &clampt_fns : lo ? &cmin_fns : &cmax_fns;
  et_ew_spec spec = et_ew_spec_uniform(et_ew_pick(fns, compute), NULL, compute, nin);
  if (et_dtype_is_integral(common, true)) spec.wrap_dtype = common;
  return et_ew_apply(ctx, out, ins, names, nin, &spec);
}
