/* Drivers of the unary elementwise kernels. */
#include "util/unary_util.h"

et_status et_unary_float_out(et_kernel_ctx *ctx, et_value **args, const et_ew_fns *fns) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, out, "out"));
  int compute = a->dtype == ET_DOUBLE ? ET_DOUBLE : ET_FLOAT;
  return et_ew_unary(ctx, a, out, compute, compute, fns, NULL);
}

et_status et_unary_real_out(et_kernel_ctx *ctx, et_value **args, const et_ew_fns *fns,
                            bool allow_bool) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  if (a->dtype == ET_BOOL && !allow_bool)
    return ET_K_FAIL(ctx, "self: Bool is not supported by this operator");
  int compute = et_ew_compute_dtype(a->dtype);
  return et_ew_unary(ctx, a, out, a->dtype, compute, fns, NULL);
}
