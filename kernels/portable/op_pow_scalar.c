/*
 * aten::pow.Scalar_out(Scalar self, Tensor exponent, *, Tensor(a!) out)
 *
 * out = self ** exponent for a scalar base. The result dtype is the
 * exponent's promoted with the base (2 ** Bool tensor is Long, 2.5 ** Int
 * tensor is Float) and the base is first converted to it. A base of 1
 * gives 1 everywhere, NaN exponents included (C's pow does, as PyTorch's
 * special case for base 1). Integers use
 * exact wrapping repeated squaring; a negative integer exponent gives 1 for
 * base 1, +-1 for base -1 and 0 otherwise (PyTorch's integer pow). Bool
 * results are refused. This overload lives apart from op_pow.c.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

static inline int64_t ipow(int64_t base, int64_t e) {
  if (e < 0) return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0;
  uint64_t r = 1, b = (uint64_t)base;
  while (e) {
    if (e & 1) r *= b;
    b *= b;
    e >>= 1;
  }
  return (int64_t)r;
}

ET_DEFINE_BINARY_ST(pow, int64_t, i64, ipow(x, y))
ET_DEFINE_BINARY_ST(pow, float, f32, powf(x, y))
ET_DEFINE_BINARY_ST(pow, double, f64, pow(x, y))

static const et_ew_fns pow_st = {pow_st_i64, pow_st_f32, pow_st_f64, NULL};

et_status et_op_pow_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_value *base = args[0];
  const et_tensor *e = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_k_check_tensor(ctx, e, "exponent"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  common = et_promote_type_with_scalar(e->dtype, base);
  if (common == ET_BOOL) return ET_K_FAIL(ctx, "Bool operands are not supported");
  if (!et_can_cast(common, out->dtype))
    return ET_K_FAIL(ctx, "result dtype %s (from %s and a %s scalar) cannot be cast to "
                          "out dtype %s",
                     et_dtype_name(common), et_dtype_name(e->dtype),
                     et_tag_name((int)base->tag), et_dtype_name(out->dtype));
  const int compute = et_ew_compute_dtype(common);
  et_cval b = et_scalar_via_dtype(base, common);
  return et_ew_unary(ctx, e, out, common, compute, &pow_st, &b);
}
