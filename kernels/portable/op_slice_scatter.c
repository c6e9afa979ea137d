/*
 * aten::slice_scatter.out(Tensor self, Tensor src, int dim=0,
 *                         SymInt? start=None, SymInt? end=None,
 *                         SymInt step=1, *, Tensor(a!) out)
 *
 * out = self, with self[start:end:step] along `dim` (Python's clamping of
 * start and end) replaced by src, converted to self's dtype. src must have
 * exactly the shape of that slice.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_slice_scatter_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *src = args[1]->u.t;
  et_tensor *out = args[6]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, src, "src"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  et_k_slice sl;
  ET_K_TRY(et_k_slice_args(ctx, in, args[2], args[3], args[4], args[5], &sl));
  const int64_t dim = sl.dim, start = sl.start, step = sl.step, len = sl.len;
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(in, sizes);
  sizes[dim] = len;
  bool match = src->rank == in->rank;
  for (uint32_t d = 0; match && d < in->rank; d++)
    if (src->sizes[d] != sizes[d]) match = false;
  if (!match) {
    char s1[96], s2[96];
    et_k_tensor_shape_str(s1, sizeof s1, src);
    et_k_shape_str(s2, sizeof s2, sizes, in->rank);
    return ET_K_FAIL(ctx, "src %s must have the shape of the slice %s", s1, s2);
  }
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  et_copy_tensor(out, in);
  if (len == 0) return ET_OK;
  int64_t ostr[ET_MAX_RANK];
  for (uint32_t d = 0; d < in->rank; d++) ostr[d] = out->strides[d];
  ostr[dim] = len > 1 ? ostr[dim] * step : 0; /* len > 1: step < size */
  et_copy_nd((char *)out->data + start * out->strides[dim] * (int64_t)et_dtype_size(out->dtype),
             out->dtype, ostr, src->data, src->dtype, src->strides, in->rank, sizes, NULL);
  return ET_OK;
}
