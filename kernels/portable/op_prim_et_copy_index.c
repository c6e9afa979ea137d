/*
 * executorch_prim::et_copy_index.tensor(Tensor copy_to, Tensor copy_from,
 *                                       int index)
 *
 * Used by lowered torch.map / scan: copy_to[index] = copy_from, growing
 * copy_to's first dim to index + 1 when it is dynamic. Three arguments and
 * no return slot, as upstream's emitter writes them. copy_to's trailing
 * sizes must equal copy_from's; both contiguous, same dtype.
 */
#include "portable/ops.h"

#include "util/shape_util.h"

#include <string.h>

et_status et_op_prim_et_copy_index_tensor(et_kernel_ctx *ctx, et_value **args) {
  et_tensor *to = args[0]->u.t;
  const et_tensor *from = args[1]->u.t;
  const int64_t index = args[2]->u.i;
  ET_K_TRY(et_k_check_tensor(ctx, to, "copy_to"));
  ET_K_TRY(et_k_check_tensor(ctx, from, "copy_from"));
  ET_K_TRY(et_k_check_writable(ctx, to, "copy_to"));
  ET_K_TRY(et_k_check_same_dtype(ctx, to, "copy_to", from, "copy_from"));
  ET_K_TRY(et_k_check_contiguous(ctx, to, "copy_to"));
  ET_K_TRY(et_k_check_contiguous(ctx, from, "copy_from"));
  if (index < 0) return ET_K_FAIL(ctx, "index: must be non-negative, got %lld", (long long)index);
  if (to->rank != from->rank + 1)
    return ET_K_FAIL(ctx, "copy_to has rank %u, expected copy_from's rank %u plus one",
                     (unsigned)to->rank, (unsigned)from->rank);
  int64_t sizes[ET_MAX_RANK];
  sizes[0] = index + 1;
  for (uint32_t d = 0; d < from->rank; d++) {
    if (to->sizes[d + 1] != from->sizes[d]) {
      char s1[96], s2[96];
      et_k_tensor_shape_str(s1, sizeof s1, to);
      et_k_tensor_shape_str(s2, sizeof s2, from);
      return ET_K_FAIL(ctx, "copy_to %s and copy_from %s differ after the first dim", s1, s2);
    }
    sizes[d + 1] = from->sizes[d];
  }
  /* Grow a dynamic copy_to; a static one must already be large enough. */
  if (to->sizes[0] <= index) ET_K_TRY(et_k_resize(ctx, to, sizes, to->rank, "copy_to"));
  else if (to->dynamism != ET_STATIC) ET_K_TRY(et_k_resize(ctx, to, sizes, to->rank, "copy_to"));
  const size_t chunk = et_tensor_nbytes(from);
  if (chunk == 0) return ET_OK;
  if ((uint64_t)index > SIZE_MAX / chunk || (size_t)index * chunk + chunk > et_tensor_nbytes(to))
    return ET_K_FAIL(ctx, "index %lld is past the end of copy_to", (long long)index);
  memcpy((char *)to->data + (size_t)index * chunk, from->data, chunk);
  return ET_OK;
}
