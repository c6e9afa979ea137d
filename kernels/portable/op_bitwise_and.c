/*
 * aten::bitwise_and.Tensor_out(Tensor self, Tensor other, *, Tensor(a!) out)
 * aten::bitwise_and.Scalar_out(Tensor self, Scalar other, *, Tensor(a!) out)
 * Integer and Bool dtypes only; computed on the promoted dtype.
 */
#include "portable/ops.h"

#include "util/arith_util.h"

static void and_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0], *b = (const int64_t *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = a[i] & b[i];
}

static void ands_i64(void *o, const void *const *in, size_t n, const void *p) {
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  const int64_t v = ((const et_cval *)p)->i;
  for (size_t i = 0; i < n; i++) out[i] = a[i] & v;
}

static const et_ew_fns and_fns = {and_i64, NULL, NULL, NULL};
static const et_ew_fns ands_fns = {ands_i64, NULL, NULL, NULL};

static et_status integral(et_kernel_ctx *ctx, int common) {
  if (!et_dtype_is_integral(common, true))
    return ET_K_FAIL(ctx, "bitwise_and needs integer or Bool operands, got %s",
                     et_dtype_name(common));
  return ET_OK;
}

et_status op_bitwise_and_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  ET_K_TRY(integral(ctx, common));
  return et_ew_binary(ctx, a, b, out, common, &and_fns, NULL);
}

et_status op_bitwise_and_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  ET_K_TRY(integral(ctx, common));
  et_cval v = et_scalar_cast(args[1], ET_LONG);
  return et_ew_unary(ctx, a, out, common, ET_LONG, &ands_fns, &v);
}
