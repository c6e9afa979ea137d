/*
 * aten::masked_fill.Scalar_out(Tensor self, Tensor mask, Scalar value, *,
 *                              Tensor(a!) out)
 *
 * out = mask ? value : self, with self and mask broadcast together (as
 * PyTorch's out-of-place masked_fill). mask must be Bool; out has self's
 * dtype. value must convert to that dtype without overflow (c10's check:
 * an Int8 tensor refuses 300 and NaN, an Int one truncates 2.7 to 2, a
 * Half one refuses 70000.0 but takes inf; any value converts to Bool).
 */
#include "portable/ops.h"

#include "util/math_util.h"

#define DEFINE_MASKED_FILL(T, S, FIELD)                                        \
  static void mfill_##S(void *o, const void *const *in, size_t n, const void *p) { \
    T *out = (T *)o;                                                           \
    const T *a = (const T *)in[0];                                             \
    const et_bool8 *m = (const et_bool8 *)in[1];                               \
    const T v = ((const et_cval *)p)->FIELD;                                   \
    for (size_t i = 0; i < n; i++) out[i] = m[i] ? v : a[i];                   \
  }
DEFINE_MASKED_FILL(int64_t, i64, i)
DEFINE_MASKED_FILL(float, f32, f)
DEFINE_MASKED_FILL(double, f64, d)

static const et_ew_fns mfill_fns = {mfill_i64, mfill_f32, mfill_f64, NULL};

et_status et_op_masked_fill_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *mask = args[1]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, mask, "mask"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_dtype(ctx, mask, ET_BOOL, "mask"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  et_cval v;
  ET_K_TRY(et_scalar_checked(ctx, args[2], a->dtype, "value", &v));
  int64_t shape[ET_MAX_RANK];
  uint32_t rank;
  ET_K_TRY(et_k_broadcast_shape(ctx, a, "self", mask, "mask", shape, &rank));
  ET_K_TRY(et_k_resize(ctx, out, shape, rank, "out"));
  const int compute = et_ew_compute_dtype(a->dtype);
  et_ew_spec spec = et_ew_spec_uniform(et_ew_pick(&mfill_fns, compute), &v, compute, 2);
  spec.in_compute[1] = ET_BOOL;
  const et_tensor *ins[2] = {a, mask};
  static const char *const names[2] = {"self", "mask"};
  return et_ew_apply(ctx, out, ins, names, 2, &spec);
}
