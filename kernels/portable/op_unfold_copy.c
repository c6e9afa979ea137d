/*
 * aten::unfold_copy.out(Tensor self, int dimension, int size, int step, *,
 *                       Tensor(a!) out)
 *
 * Windows of `size` elements every `step` along `dimension`: out has
 * self's dims with that one replaced by the number of windows,
 * (self.size(dim) - size) / step + 1, and a new last dim of `size`
 * (a 0-dim self counts as one element: out is [size]). size must not
 * exceed the dim; step must be positive. out may have another dtype (the
 * copy converts, as upstream).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_unfold_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dimension", &dim));
  const int64_t size = args[2]->u.i, step = args[3]->u.i;
  const int64_t dsize = in->rank ? in->sizes[dim] : 1;
  if (size < 0) return ET_K_FAIL(ctx, "size: must be non-negative, got %lld", (long long)size);
  if (size > dsize)
    return ET_K_FAIL(ctx, "size: %lld exceeds dim %lld of size %lld", (long long)size,
                     (long long)dim, (long long)dsize);
  if (step <= 0) return ET_K_FAIL(ctx, "step: must be positive, got %lld", (long long)step);
  if (in->rank + 1 > ET_MAX_RANK) return ET_K_FAIL(ctx, "self: rank %u is too large", (unsigned)in->rank);
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
  for (uint32_t d = 0; d < in->rank; d++) {
    sizes[d] = in->sizes[d];
    strides[d] = in->strides[d];
  }
  if (in->rank) {
    sizes[dim] = (dsize - size) / step + 1;
    /* one window needs no stride (and step may be huge) */
    strides[dim] = sizes[dim] > 1 ? in->strides[dim] * step : 0;
  }
  sizes[in->rank] = size;
  strides[in->rank] = in->rank ? in->strides[dim] : 1;
  ET_K_TRY(et_k_resize(ctx, out, sizes, in->rank + 1, "out"));
  et_copy_nd(out->data, out->dtype, out->strides, in->data, in->dtype, strides, in->rank + 1,
             sizes, out->dim_order);
  return ET_OK;
}
