/*
 * aten::var_mean.correction_out(Tensor self, int[1]? dim=None, *,
 *     Scalar? correction=None, bool keepdim=False, Tensor(a!) out0,
 *     Tensor(b!) out1) -> (Tensor(a!), Tensor(b!))
 *
 * out0 = variance and out1 = mean over `dim` (None or [] means every dim),
 * with the rules of var.correction_out (divisor max(0, N - correction),
 * correction 1 by default; empty reductions give NaN). Floating tensors
 * only; statistics in double. Any dim order (out0 and out1 alike).
 */
#include "portable/ops.h"

#include "util/moments_util.h"
#include "util/reduce_util.h"
#include "util/shape_util.h"

et_status et_op_var_mean_correction_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const double correction = args[2]->tag == ET_TAG_NONE ? 1.0 : et_scalar_to_double(args[2]);
  const bool keepdim = args[3]->u.b;
  et_tensor *var_out = args[4]->u.t, *mean_out = args[5]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, var_out, "out0"));
  ET_K_TRY(et_k_check_tensor(ctx, mean_out, "out1"));
  ET_K_TRY(et_k_check_floating(ctx, in, "self"));
  ET_K_TRY(et_k_check_floating(ctx, var_out, "out0"));
  ET_K_TRY(et_k_check_floating(ctx, mean_out, "out1"));
  uint32_t mask;
  ET_K_TRY(et_reduce_mask(ctx, in, args[1], "dim", &mask));
  int64_t sizes[ET_MAX_RANK];
  uint32_t rank;
  et_reduce_shape(in, mask, keepdim, sizes, &rank);
  ET_K_TRY(et_k_resize(ctx, mean_out, sizes, rank, "out1"));
  et_reduce_plan p;
  ET_K_TRY(et_reduce_plan_init(ctx, &p, in, mask, keepdim, var_out));
  ET_K_TRY(et_k_check_same_dim_order(ctx, var_out, "out0", mean_out, "out1"));
  const double denom = (double)p.count - correction > 0 ? (double)p.count - correction : 0.0;
  const int64_t ves = (int64_t)et_dtype_size(var_out->dtype);
  const int64_t mes = (int64_t)et_dtype_size(mean_out->dtype);
  if (p.outer.inner == 0) return ET_OK;
  do {
    for (int64_t j = 0; j < p.outer.inner; j++) {
      const int64_t o = p.outer.off[0] + j * p.outer.inner_stride[0];
      const int64_t base = p.outer.off[1] + j * p.outer.inner_stride[1];
      double mean, m2;
      et_moments_iter(in->data, in->dtype, base, &p.red, p.count, &mean, &m2);
      const double var = p.count == 0 ? mean : m2 / denom;
      et_convert((char *)var_out->data + o * ves, var_out->dtype, 1, &var, ET_DOUBLE, 1, 1);
      et_convert((char *)mean_out->data + o * mes, mean_out->dtype, 1, &mean, ET_DOUBLE, 1, 1);
    }
  } while (et_nd_iter_next(&p.outer));
  return ET_OK;
}
