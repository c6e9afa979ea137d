/*
 * aten::logical_not.out(Tensor self, *, Tensor(a!) out): out = (self == 0),
 * for any input dtype, stored as 1/0 in out's dtype (usually Bool).
 */
#include "portable/ops.h"

#include "util/elementwise_util.h"
#include "util/shape_util.h"

static void not_b(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  et_bool8 *out = (et_bool8 *)o;
  const et_bool8 *a = (const et_bool8 *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = (et_bool8)(a[i] == 0);
}

et_status et_op_logical_not_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, a, "out"));
  et_ew_spec spec = et_ew_spec_uniform(not_b, NULL, ET_BOOL, 1);
  const et_tensor *ins[1] = {a};
  static const char *const names[1] = {"self"};
  return et_ew_apply(ctx, out, ins, names, 1, &spec);
}
