/*
 * aten::any.out(Tensor self, int dim, bool keepdim=False, *, Tensor(a!) out)
 * aten::any.all_out(Tensor self, *, Tensor(a!) out)
 * aten::any.dims_out(Tensor self, int[]? dim=None, bool keepdim=False, *,
 *                    Tensor(a!) out)
 *
 * True where any reduced element is non-zero (NaN counts). out is Bool, or
 * Byte (PyTorch keeps Byte for Byte input).
 */
#include "portable/ops.h"

#include "util/reduce_util.h"
#include "util/shape_util.h"

static et_status any_impl(et_kernel_ctx *ctx, const et_tensor *in, const et_value *dims,
                          bool keepdim, et_tensor *out) {
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (out->dtype != ET_BOOL && out->dtype != ET_BYTE)
    return ET_K_FAIL(ctx, "out: expected dtype Bool (or Byte), got %s",
                     et_dtype_name(out->dtype));
  uint32_t mask;
  ET_K_TRY(et_reduce_mask(ctx, in, dims, "dim", &mask));
  et_reduce_plan p;
  ET_K_TRY(et_reduce_plan_init(ctx, &p, in, mask, keepdim, out));
  const size_t ies = et_dtype_size(in->dtype);
  uint8_t *o8 = (uint8_t *)out->data; /* Bool and Byte are both one byte */
  if (p.outer.inner == 0) return ET_OK;
  do {
    for (int64_t j = 0; j < p.outer.inner; j++) {
      const int64_t o = p.outer.off[0] + j * p.outer.inner_stride[0];
      const int64_t base = p.outer.off[1] + j * p.outer.inner_stride[1];
      bool any = false;
      et_nd_iter_reset(&p.red);
      if (p.red.inner > 0) do {
          any = et_reduce_any((const char *)in->data + (base + p.red.off[0]) * (int64_t)ies,
                              in->dtype, p.red.inner_stride[0], p.red.inner);
        } while (!any && et_nd_iter_next(&p.red));
      o8[o] = any ? 1 : 0;
    }
  } while (et_nd_iter_next(&p.outer));
  return ET_OK;
}

et_status et_op_any_out(et_kernel_ctx *ctx, et_value **args) {
  return any_impl(ctx, args[0]->u.t, args[1], args[2]->u.b, args[3]->u.t);
}

et_status et_op_any_all_out(et_kernel_ctx *ctx, et_value **args) {
  return any_impl(ctx, args[0]->u.t, NULL, false, args[1]->u.t);
}

et_status et_op_any_dims_out(et_kernel_ctx *ctx, et_value **args) {
  return any_impl(ctx, args[0]->u.t, args[1], args[2]->u.b, args[3]->u.t);
}
