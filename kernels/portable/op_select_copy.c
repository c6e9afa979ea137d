/*
 * aten::select_copy.int_out(Tensor self, int dim, SymInt index, *,
 *                           Tensor(a!) out)
 *
 * The slice self[..., index, ...] along `dim` (negative index counts from
 * the end), without that dim.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_select_copy_int_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  if (in->rank == 0) return ET_K_FAIL(ctx, "self: cannot select from a 0-dim tensor");
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dim", &dim));
  const int64_t size = in->sizes[dim];
  int64_t index = args[2]->u.i;
  if (index < -size || index >= size)
    return ET_K_FAIL(ctx, "index %lld is out of range for dim %lld of size %lld",
                     (long long)index, (long long)dim, (long long)size);
  if (index < 0) index += size;
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
  uint32_t r = 0;
  for (uint32_t d = 0; d < in->rank; d++) {
    if (d == dim) continue;
    sizes[r] = in->sizes[d];
    strides[r] = in->strides[d];
    r++;
  }
  ET_K_TRY(et_k_resize(ctx, out, sizes, r, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  const char *src = (const char *)in->data +
                    index * in->strides[dim] * (int64_t)et_dtype_size(in->dtype);
  et_copy_nd(out->data, out->dtype, out->strides, src, in->dtype, strides, r, sizes,
             out->dim_order);
  return ET_OK;
}
