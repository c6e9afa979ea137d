/*
 * aten::cumsum.out(Tensor self, int dim, *, ScalarType? dtype=None,
 *                  Tensor(a!) out)
 * Running sums along `dim`, accumulated in int64 (integer/Bool outs),
 * float (Float/Half/BFloat16) or double, in out's dtype (which `dtype`, if
 * given, must equal). Any dim order.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/reduce_util.h"
#include "util/shape_util.h"

et_status et_op_cumsum_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (args[2]->tag == ET_TAG_INT && args[2]->u.i != out->dtype)
    return ET_K_FAIL(ctx, "dtype %s given but out has dtype %s",
                     et_dtype_name((int)args[2]->u.i), et_dtype_name(out->dtype));
  if (!et_can_cast(in->dtype, out->dtype) && args[2]->tag != ET_TAG_INT)
    return ET_K_FAIL(ctx, "self dtype %s cannot be cast to out dtype %s",
                     et_dtype_name(in->dtype), et_dtype_name(out->dtype));
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dim", &dim));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  if (et_tensor_numel(in) == 0) return ET_OK;
  const int acc_dt = et_reduce_acc_dtype(out->dtype);
  const int64_t len = in->rank ? in->sizes[dim] : 1;
  const int64_t xs = in->rank ? in->strides[dim] : 1, ys = out->rank ? out->strides[dim] : 1;
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(in, sizes);
  if (in->rank) sizes[dim] = 1;
  const int64_t *strides[2] = {out->strides, in->strides};
  et_nd_iter it;
  et_nd_iter_init(&it, in->rank, sizes, 2, strides, out->dim_order);
  const size_t ies = et_dtype_size(in->dtype), oes = et_dtype_size(out->dtype);
  union {
    int64_t i[64];
    float f[64];
    double d[64];
  } buf;
  do {
    for (int64_t j = 0; j < it.inner; j++) {
      const char *x = (const char *)in->data + (it.off[1] + j * it.inner_stride[1]) * (int64_t)ies;
      char *y = (char *)out->data + (it.off[0] + j * it.inner_stride[0]) * (int64_t)oes;
      et_cval acc;
      acc.d = 0;
      if (acc_dt == ET_FLOAT) acc.f = 0;
      else if (acc_dt == ET_LONG) acc.i = 0;
      for (int64_t c = 0; c < len; c += 64) {
        const int64_t m = len - c < 64 ? len - c : 64;
        et_convert(&buf, acc_dt, 1, x + c * xs * (int64_t)ies, in->dtype, xs, (size_t)m);
        if (acc_dt == ET_FLOAT) {
          for (int64_t k = 0; k < m; k++) buf.f[k] = acc.f += buf.f[k];
        } else if (acc_dt == ET_DOUBLE) {
          for (int64_t k = 0; k < m; k++) buf.d[k] = acc.d += buf.d[k];
        } else {
          for (int64_t k = 0; k < m; k++)
            buf.i[k] = acc.i = (int64_t)((uint64_t)acc.i + (uint64_t)buf.i[k]);
        }
        et_convert(y + c * ys * (int64_t)oes, out->dtype, ys, &buf, acc_dt, 1, (size_t)m);
      }
    }
  } while (et_nd_iter_next(&it));
  return ET_OK;
}
