/*
 * aten::mean.out(Tensor self, int[1]? dim, bool keepdim=False, *,
 *                ScalarType? dtype=None, Tensor(a!) out)
 * aten::mean.dtype_out(Tensor self, *, ScalarType? dtype=None,
 *                      Tensor(a!) out)      (every dim, 0-dim out)
 *
 * Sum over `dim` (None or [] means every dim) divided by the count, in
 * float (double for a Double out). Without `dtype`, self must be floating.
 */
#include "portable/ops.h"

#include "util/reduce_util.h"
#include "util/shape_util.h"

static et_status mean_impl(et_kernel_ctx *ctx, const et_tensor *in, const et_value *dims,
                           bool keepdim, const et_value *dtype, et_tensor *out) {
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, out, "out"));
  if (dtype->tag == ET_TAG_INT) {
    if (dtype->u.i != out->dtype)
      return ET_K_FAIL(ctx, "dtype %s given but out has dtype %s",
                       et_dtype_name((int)dtype->u.i), et_dtype_name(out->dtype));
  } else {
    ET_K_TRY(et_k_check_floating(ctx, in, "self"));
  }
  uint32_t mask;
  ET_K_TRY(et_reduce_mask(ctx, in, dims, "dim", &mask));
  et_reduce_plan p;
  ET_K_TRY(et_reduce_plan_init(ctx, &p, in, mask, keepdim, out));
  const int acc_dt = et_reduce_acc_dtype(out->dtype);
  const size_t ies = et_dtype_size(in->dtype), oes = et_dtype_size(out->dtype);
  if (p.outer.inner == 0) return ET_OK;
  do {
    for (int64_t j = 0; j < p.outer.inner; j++) {
      const int64_t o = p.outer.off[0] + j * p.outer.inner_stride[0];
      const int64_t base = p.outer.off[1] + j * p.outer.inner_stride[1];
      et_cval acc;
      acc.d = 0;
      if (acc_dt == ET_FLOAT) acc.f = 0;
      et_nd_iter_reset(&p.red);
      if (p.red.inner > 0) do {
          et_reduce_add(&acc, acc_dt,
                        (const char *)in->data + (base + p.red.off[0]) * (int64_t)ies,
                        in->dtype, p.red.inner_stride[0], p.red.inner);
        } while (et_nd_iter_next(&p.red));
      if (acc_dt == ET_FLOAT)
        acc.f = acc.f / (float)p.count; /* 0/0 is NaN, as PyTorch's empty mean */
      else
        acc.d = acc.d / (double)p.count;
      et_convert((char *)out->data + o * (int64_t)oes, out->dtype, 1, &acc, acc_dt, 1, 1);
    }
  } while (et_nd_iter_next(&p.outer));
  return ET_OK;
}

et_status et_op_mean_out(et_kernel_ctx *ctx, et_value **args) {
  return mean_impl(ctx, args[0]->u.t, args[1], args[2]->u.b, args[3], args[4]->u.t);
}

et_status et_op_mean_dtype_out(et_kernel_ctx *ctx, et_value **args) {
  return mean_impl(ctx, args[0]->u.t, NULL, false, args[1], args[2]->u.t);
}
