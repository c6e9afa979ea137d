/*
 * aten::slice_copy.Tensor_out(Tensor self, int dim=0, SymInt? start=None,
 *                             SymInt? end=None, SymInt step=1, *,
 *                             Tensor(a!) out)
 *
 * self[start:end:step] along `dim`, with Python's clamping of start/end.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_slice_copy_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[5]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  et_k_slice sl;
  ET_K_TRY(et_k_slice_args(ctx, in, args[1], args[2], args[3], args[4], &sl));
  const int64_t dim = sl.dim, start = sl.start, step = sl.step, len = sl.len;

  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
  for (uint32_t d = 0; d < in->rank; d++) {
    sizes[d] = in->sizes[d];
    strides[d] = in->strides[d];
  }
  sizes[dim] = len;
  /* With one element or none the stride is never used (and step may be huge). */
  strides[dim] = len > 1 ? in->strides[dim] * step : in->strides[dim];
  ET_K_TRY(et_k_resize(ctx, out, sizes, in->rank, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  const char *src = (const char *)in->data +
                    start * in->strides[dim] * (int64_t)et_dtype_size(in->dtype);
  et_copy_nd(out->data, out->dtype, out->strides, src, in->dtype, strides, in->rank, sizes,
             out->dim_order);
  return ET_OK;
}
