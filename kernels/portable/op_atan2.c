/*
 * aten::atan2.out(Tensor self, Tensor other, *, Tensor(a!) out)
 *
 * The angle of (other, self) in (-pi, pi], broadcast. Integer and Bool
 * operands compute in Float (as true division does); Half/BFloat16 in
 * float; out must be a floating dtype the result can be cast to.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

ET_DEFINE_BINARY_TT(atan2, float, f32, atan2f(x, y))
ET_DEFINE_BINARY_TT(atan2, double, f64, atan2(x, y))

static const et_ew_fns atan2_tt = {NULL, atan2_tt_f32, atan2_tt_f64, NULL};

et_status et_op_atan2_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, b, "other"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int common = et_promote_types(a->dtype, b->dtype);
  if (!et_dtype_is_floating(common)) common = ET_FLOAT;
  if (!et_dtype_is_floating(out->dtype) || !et_can_cast(common, out->dtype))
    return ET_K_FAIL(ctx, "out: expected a floating dtype that %s can be cast to, got %s",
                     et_dtype_name(common), et_dtype_name(out->dtype));
  return et_ew_binary(ctx, a, b, out, common, &atan2_tt, NULL);
}
