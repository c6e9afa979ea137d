/*
 * aten::var.out(Tensor self, int[1]? dim, bool unbiased=True,
 *               bool keepdim=False, *, Tensor(a!) out)
 * aten::var.correction_out(Tensor self, int[1]? dim=None, *,
 *                          Scalar? correction=None, bool keepdim=False,
 *                          Tensor(a!) out)
 *
 * Variance over `dim` (None or [] means every dim): the sum of squared
 * deviations from the mean divided by max(0, N - correction) (correction 1
 * by default; unbiased=False means 0). As in PyTorch, a divisor of zero
 * gives inf (or NaN when every deviation is zero) and an empty reduction
 * NaN. Floating self and out only; statistics in double (moments_util.h).
 * Any dim order.
 */
#include "portable/ops.h"

#include "util/moments_util.h"
#include "util/reduce_util.h"
#include "util/shape_util.h"

static et_status var_impl(et_kernel_ctx *ctx, const et_tensor *in, const et_value *dims,
                          double correction, bool keepdim, et_tensor *out) {
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, in, "self"));
  ET_K_TRY(et_k_check_floating(ctx, out, "out"));
  uint32_t mask;
  ET_K_TRY(et_reduce_mask(ctx, in, dims, "dim", &mask));
  et_reduce_plan p;
  ET_K_TRY(et_reduce_plan_init(ctx, &p, in, mask, keepdim, out));
  const double denom = (double)p.count - correction > 0 ? (double)p.count - correction : 0.0;
  const int64_t oes = (int64_t)et_dtype_size(out->dtype);
  if (p.outer.inner == 0) return ET_OK;
  do {
    for (int64_t j = 0; j < p.outer.inner; j++) {
      const int64_t o = p.outer.off[0] + j * p.outer.inner_stride[0];
      const int64_t base = p.outer.off[1] + j * p.outer.inner_stride[1];
      double mean, m2;
      et_moments_iter(in->data, in->dtype, base, &p.red, p.count, &mean, &m2);
      const double var = p.count == 0 ? mean : m2 / denom; /* empty: NaN */
      et_convert((char *)out->data + o * oes, out->dtype, 1, &var, ET_DOUBLE, 1, 1);
    }
  } while (et_nd_iter_next(&p.outer));
  return ET_OK;
}

et_status et_op_var_out(et_kernel_ctx *ctx, et_value **args) {
  return var_impl(ctx, args[0]->u.t, args[1], args[2]->u.b ? 1.0 : 0.0, args[3]->u.b,
                  args[4]->u.t);
}

et_status et_op_var_correction_out(et_kernel_ctx *ctx, et_value **args) {
  const double correction = args[2]->tag == ET_TAG_NONE ? 1.0 : et_scalar_to_double(args[2]);
  return var_impl(ctx, args[0]->u.t, args[1], correction, args[3]->u.b, args[4]->u.t);
}
