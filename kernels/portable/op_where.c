/*
 * aten::where.self_out(Tensor condition, Tensor self, Tensor other, *,
 *                      Tensor(a!) out)
 *
 * out = condition ? self : other, all three broadcast together; self and
 * other are promoted to a common dtype. The condition must be Bool (or Byte,
 * which PyTorch still accepts).
 */
#include "portable/ops.h"

#include "util/elementwise_util.h"
#include "util/shape_util.h"

#define DEFINE_WHERE(T, S)                                                     \
  static void where_##S(void *o, const void *const *in, size_t n, const void *p) { \
    (void)p;                                                                   \
    T *out = (T *)o;                                                           \
    const et_bool8 *c = (const et_bool8 *)in[0];                               \
    const T *a = (const T *)in[1], *b = (const T *)in[2];                      \
    for (size_t i = 0; i < n; i++) out[i] = c[i] ? a[i] : b[i];                \
  }
DEFINE_WHERE(int64_t, i64)
DEFINE_WHERE(float, f32)
DEFINE_WHERE(double, f64)

static const et_ew_fns where_fns = {where_i64, where_f32, where_f64, NULL};

et_status et_op_where_self_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *cond = args[0]->u.t, *a = args[1]->u.t, *b = args[2]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, cond, "condition"));
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, b, "other"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (cond->dtype != ET_BOOL && cond->dtype != ET_BYTE)
    return ET_K_FAIL(ctx, "condition: expected dtype Bool, got %s",
                     et_dtype_name(cond->dtype));
  int common = et_promote_types(a->dtype, b->dtype);
  if (!et_can_cast(common, out->dtype))
    return ET_K_FAIL(ctx, "result dtype %s cannot be cast to out dtype %s",
                     et_dtype_name(common), et_dtype_name(out->dtype));
  int64_t s1[ET_MAX_RANK], s2[ET_MAX_RANK];
  uint32_t r1, r2;
  ET_K_TRY(et_k_broadcast_shape(ctx, a, "self", b, "other", s1, &r1));
  /* broadcast (self, other) with the condition: reuse the helper through a
   * shape-only tensor */
  int32_t s1_32[ET_MAX_RANK];
  for (uint32_t d = 0; d < r1; d++) {
    if (s1[d] > INT32_MAX) return ET_K_FAIL(ctx, "size too large");
    s1_32[d] = (int32_t)s1[d];
  }
  et_tensor shape_only = *a;
  shape_only.sizes = s1_32;
  shape_only.rank = r1;
  ET_K_TRY(et_k_broadcast_shape(ctx, cond, "condition", &shape_only, "self/other", s2,
                                &r2));
  ET_K_TRY(et_k_resize(ctx, out, s2, r2, "out"));
  int compute = et_ew_compute_dtype(common);
  et_ew_spec spec;
  spec.fn = et_ew_pick(&where_fns, compute);
  spec.param = NULL;
  spec.out_compute = compute;
  spec.in_compute[0] = ET_BOOL;
  spec.in_compute[1] = spec.in_compute[2] = compute;
  spec.wrap_dtype = -1;
  const et_tensor *ins[3] = {cond, a, b};
  static const char *const names[3] = {"condition", "self", "other"};
  return et_ew_apply(ctx, out, ins, names, 3, &spec);
}
