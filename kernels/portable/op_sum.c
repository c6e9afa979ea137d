/*
 * aten::sum.IntList_out(Tensor self, int[1]? dim, bool keepdim=False, *,
 *                       ScalarType? dtype=None, Tensor(a!) out)
 *
 * Sums over `dim` (None or [] means every dim). Integers and Bool
 * accumulate in int64 (wrapping), Half/BFloat16/Float in float, Double in
 * double, then the sum is converted to out's dtype.
 */
#include "portable/ops.h"

#include "util/reduce_util.h"
#include "util/shape_util.h"

et_status et_op_sum_intlist_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const bool keepdim = args[2]->u.b;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (args[3]->tag == ET_TAG_INT) {
    if (args[3]->u.i != out->dtype)
      return ET_K_FAIL(ctx, "dtype %s given but out has dtype %s",
                       et_dtype_name((int)args[3]->u.i), et_dtype_name(out->dtype));
  } else if (!et_can_cast(in->dtype, out->dtype)) {
    return ET_K_FAIL(ctx, "self dtype %s cannot be cast to out dtype %s",
                     et_dtype_name(in->dtype), et_dtype_name(out->dtype));
  }
  uint32_t mask;
  ET_K_TRY(et_reduce_mask(ctx, in, args[1], "dim", &mask));
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
      else if (acc_dt == ET_LONG) acc.i = 0;
      et_nd_iter_reset(&p.red);
      if (p.red.inner > 0) do {
          et_reduce_add(&acc, acc_dt,
                        (const char *)in->data + (base + p.red.off[0]) * (int64_t)ies,
                        in->dtype, p.red.inner_stride[0], p.red.inner);
        } while (et_nd_iter_next(&p.red));
      et_convert((char *)out->data + o * (int64_t)oes, out->dtype, 1, &acc, acc_dt, 1, 1);
    }
  } while (et_nd_iter_next(&p.outer));
  return ET_OK;
}
