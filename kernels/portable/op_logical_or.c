/*
 * aten::logical_or.out(Tensor self, Tensor other, *, Tensor(a!) out)
 * Truth values of any dtypes (non-zero is true, NaN included), broadcast;
 * out gets 1/0 in its own dtype (usually Bool).
 */
#include "portable/ops.h"

#include "util/elementwise_util.h"
#include "util/shape_util.h"

static void logical_or_b(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  et_bool8 *out = (et_bool8 *)o;
  const et_bool8 *a = (const et_bool8 *)in[0], *b = (const et_bool8 *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = (et_bool8)((a[i] != 0) || (b[i] != 0));
}

et_status et_op_logical_or_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, b, "other"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int64_t shape[ET_MAX_RANK];
  uint32_t rank;
  ET_K_TRY(et_k_broadcast_shape(ctx, a, "self", b, "other", shape, &rank));
  ET_K_TRY(et_k_resize(ctx, out, shape, rank, "out"));
  et_ew_spec spec = et_ew_spec_uniform(logical_or_b, NULL, ET_BOOL, 2);
  const et_tensor *ins[2] = {a, b};
  static const char *const names[2] = {"self", "other"};
  return et_ew_apply(ctx, out, ins, names, 2, &spec);
}
