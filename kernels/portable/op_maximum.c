/*
 * aten::maximum.out(Tensor self, Tensor other, *, Tensor(a!) out)
 *
 * The larger of the two operands, broadcast, in their promoted dtype. NaN
 * propagates (either operand NaN gives NaN); equal values give self's
 * (so the sign of a zero follows self, as PyTorch's scalar path). Bool
 * operands work as logical or.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

ET_DEFINE_BINARY_TT(maximum, int64_t, i64, x < y ? y : x)
/* x + y is NaN when either is: propagates without a branch on which one */
ET_DEFINE_BINARY_TT(maximum, float, f32, (x != x || y != y) ? x + y : (x < y ? y : x))
ET_DEFINE_BINARY_TT(maximum, double, f64, (x != x || y != y) ? x + y : (x < y ? y : x))

static const et_ew_fns maximum_tt = {maximum_tt_i64, maximum_tt_f32, maximum_tt_f64, NULL};

et_status et_op_maximum_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  return et_ew_binary(ctx, a, b, out, common, &maximum_tt, NULL);
}
