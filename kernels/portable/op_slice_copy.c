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

et_status op_slice_copy_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[5]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  if (in->rank == 0) return ET_K_FAIL(ctx, "self: cannot slice a 0-dim tensor");
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dim", &dim));
  const int64_t step = args[4]->u.i;
  if (step <= 0) return ET_K_FAIL(ctx, "step: must be positive, got %lld", (long long)step);
  const int64_t size = in->sizes[dim];
  int64_t start = args[2]->tag == ET_TAG_INT ? args[2]->u.i : 0;
  int64_t end = args[3]->tag == ET_TAG_INT ? args[3]->u.i : INT64_MAX;
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (start < 0) start = 0;
  else if (start > size) start = size;
  if (end < start) end = start;
  else if (end > size) end = size;
  /* Written so that no step (up to INT64_MAX) can overflow. */
  const int64_t len = end > start ? (end - start - 1) / step + 1 : 0;

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
