/*
 * aten::unbind_copy.int_out(Tensor self, int dim=0, *, Tensor(a!)[] out) -> ()
 *
 * out[i] = self.select(dim, i) for every i; the list must have
 * self.size(dim) tensors. Outputs may have another dtype (the copy
 * converts, as upstream). The return slot is the out list again.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

#include <edgetorch/status.h>

et_status et_op_unbind_copy_int_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const et_value *list = args[2];
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  if (in->rank == 0) return ET_K_FAIL(ctx, "self: cannot unbind a 0-dim tensor");
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dim", &dim));
  const size_t n = list->u.tlist.len;
  if ((int64_t)n != in->sizes[dim])
    return ET_K_FAIL(ctx, "out: %zu tensors for dim %lld of size %lld", n, (long long)dim,
                     (long long)in->sizes[dim]);
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
  uint32_t r = 0;
  for (uint32_t d = 0; d < in->rank; d++) {
    if (d == dim) continue;
    sizes[r] = in->sizes[d];
    strides[r++] = in->strides[d];
  }
  for (size_t i = 0; i < n; i++) {
    et_tensor *o = list->u.tlist.items[i]->u.t;
    char name[24];
    et_format(name, sizeof name, "out[%zu]", i);
    ET_K_TRY(et_k_check_tensor(ctx, o, name));
    ET_K_TRY(et_k_resize(ctx, o, sizes, r, name));
  }
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  for (size_t i = 0; i < n; i++) {
    et_tensor *o = list->u.tlist.items[i]->u.t;
    if (et_tensor_numel(o) == 0) continue;
    et_copy_nd(o->data, o->dtype, o->strides,
               (const char *)in->data + (int64_t)i * in->strides[dim] * es, in->dtype, strides,
               r, sizes, o->dim_order);
  }
  return ET_OK;
}
