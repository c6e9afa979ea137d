/*
 * aten::bitwise_not.out(Tensor self, *, Tensor(a!) out): ~x for integers,
 * logical not for Bool; floating dtypes are refused, as in PyTorch. out has
 * self's dtype.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

static void not_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = ~a[i];
}

static void not_b(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  et_bool8 *out = (et_bool8 *)o;
  const et_bool8 *a = (const et_bool8 *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = (et_bool8)(a[i] == 0);
}

static const et_ew_fns not_fns = {not_i64, NULL, NULL, not_b};

et_status et_op_bitwise_not_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  if (!et_dtype_is_integral(a->dtype, true))
    return ET_K_FAIL(ctx, "self: expected an integer or Bool dtype, got %s",
                     et_dtype_name(a->dtype));
  const int compute = a->dtype == ET_BOOL ? ET_BOOL : ET_LONG;
  return et_ew_unary(ctx, a, out, a->dtype, compute, &not_fns, NULL);
}
