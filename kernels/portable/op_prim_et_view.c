/*
 * executorch_prim::et_view.default(Tensor self, int[] size) -> Tensor
 *
 * Emitted for views that are not memory-planned: `out` (the third
 * argument; there is no return slot) is re-pointed at self's data and given
 * the target sizes (one -1 may be inferred). Dtypes and element counts must
 * match; out's rank is fixed. self must be contiguous, since out is then
 * read as contiguous.
 */
#include "portable/ops.h"

#include "util/shape_util.h"
#include "util/view_util.h"

et_status et_op_prim_et_view_default(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", out, "out"));
  if (self->rank > ET_MAX_RANK || out->rank > ET_MAX_RANK)
    return ET_K_FAIL(ctx, "rank exceeds %d", ET_MAX_RANK);
  ET_K_TRY(et_k_check_contiguous(ctx, self, "self"));
  ET_K_TRY(et_k_check_contiguous(ctx, out, "out"));
  int64_t sizes[ET_MAX_RANK];
  uint32_t rank;
  ET_K_TRY(et_view_sizes(ctx, self, args[1], sizes, &rank));
  if (rank != out->rank)
    return ET_K_FAIL(ctx, "size has %u dims but out has rank %u", (unsigned)rank,
                     (unsigned)out->rank);
  bool same = true;
  for (uint32_t d = 0; d < rank; d++) same = same && sizes[d] == out->sizes[d];
  if (!same) {
    if (out->dynamism == ET_STATIC) {
      char s1[96], s2[96];
      et_k_shape_str(s1, sizeof s1, sizes, rank);
      et_k_tensor_shape_str(s2, sizeof s2, out);
      return ET_K_FAIL(ctx, "view shape %s does not match the static out shape %s", s1, s2);
    }
    /* The bytes are self's, so out's own capacity does not bound the view:
     * set the sizes directly (they were checked against self's numel). */
    for (uint32_t d = 0; d < rank; d++) {
      if (sizes[d] > INT32_MAX) return ET_K_FAIL(ctx, "size too large");
      out->sizes[d] = (int32_t)sizes[d];
    }
    et_tensor_update_strides(out);
  }
  out->data = self->data;
  out->capacity = et_tensor_nbytes(self);
  out->flags = (uint8_t)((out->flags & ~ET_TENSOR_READ_ONLY) |
                         (self->flags & ET_TENSOR_READ_ONLY));
  return ET_OK;
}
