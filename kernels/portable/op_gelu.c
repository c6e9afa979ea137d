/*
 * aten::gelu.out(Tensor self, *, str approximate="none", Tensor(a!) out)
 *
 * "none":  x/2 * (1 + erf(x / sqrt(2)))
 * "tanh":  x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
 * Floating dtypes; out has self's dtype.
 */
#include "portable/ops.h"

#include "util/unary_util.h"

#include <string.h>

#define ET_SQRT1_2 0.70710678118654752440
#define ET_SQRT_2_OVER_PI 0.79788456080286535588

ET_DEFINE_FLOAT_UNARY(gelu_erf, x * 0.5f * (1.0f + erff(x * (float)ET_SQRT1_2)),
                      x * 0.5 * (1.0 + erf(x * ET_SQRT1_2)))
ET_DEFINE_FLOAT_UNARY(gelu_tanh,
                      0.5f * x *
                          (1.0f + tanhf((float)ET_SQRT_2_OVER_PI *
                                        (x + 0.044715f * x * x * x))),
                      0.5 * x *
                          (1.0 + tanh(ET_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))))

static bool str_is(const et_value *v, const char *s) {
  size_t n = strlen(s);
  return v->u.str.len == n && memcmp(v->u.str.ptr, s, n) == 0;
}

et_status et_op_gelu_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, a, "self"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  const et_ew_fns *fns;
  if (str_is(args[1], "none"))
    fns = &gelu_erf_fns;
  else if (str_is(args[1], "tanh"))
    fns = &gelu_tanh_fns;
  else
    return ET_K_FAIL(ctx, "approximate: expected \"none\" or \"tanh\"");
  int compute = a->dtype == ET_DOUBLE ? ET_DOUBLE : ET_FLOAT;
  return et_ew_unary(ctx, a, out, compute, compute, fns, NULL);
}
