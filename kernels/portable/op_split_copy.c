/*
 * aten::split_copy.Tensor_out(Tensor self, SymInt split_size, int dim=0, *,
 *                             Tensor(a!)[] out) -> ()
 *
 * Consecutive chunks of split_size along `dim` (the last one may be
 * smaller) into the tensors of `out`, whose number must match:
 * ceil(size / split_size), and one chunk for a dim of size 0. split_size 0
 * is only valid for a dim of size 0 (as PyTorch). Outputs may have another
 * dtype (the copy converts, as upstream). The return slot is the out list
 * again.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

#include <edgetorch/status.h>

et_status et_op_split_copy_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const et_value *list = args[3];
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  if (in->rank == 0) return ET_K_FAIL(ctx, "self: cannot split a 0-dim tensor");
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[2]->u.i, in->rank, "dim", &dim));
  const int64_t split = args[1]->u.i, size = in->sizes[dim];
  if (split < 0) return ET_K_FAIL(ctx, "split_size: must be non-negative, got %lld", (long long)split);
  if (split == 0 && size != 0)
    return ET_K_FAIL(ctx, "split_size: can only be 0 if dim %lld has size 0, but it has %lld",
                     (long long)dim, (long long)size);
  const int64_t chunks = (split == 0 || size == 0) ? 1 : (size + split - 1) / split;
  const size_t n = list->u.tlist.len;
  if ((int64_t)n != chunks)
    return ET_K_FAIL(ctx, "out: %zu tensors, but splitting %lld by %lld gives %lld chunks", n,
                     (long long)size, (long long)split, (long long)chunks);
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(in, sizes);
  for (size_t i = 0; i < n; i++) {
    et_tensor *o = list->u.tlist.items[i]->u.t;
    char name[24];
    et_format(name, sizeof name, "out[%zu]", i);
    ET_K_TRY(et_k_check_tensor(ctx, o, name));
    const int64_t left = size - (int64_t)i * split;
    sizes[dim] = left < split ? left : split;
    ET_K_TRY(et_k_resize(ctx, o, sizes, in->rank, name));
  }
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  for (size_t i = 0; i < n; i++) {
    et_tensor *o = list->u.tlist.items[i]->u.t;
    if (et_tensor_numel(o) == 0) continue;
    sizes[dim] = o->sizes[dim];
    et_copy_nd(o->data, o->dtype, o->strides,
               (const char *)in->data + (int64_t)i * split * in->strides[dim] * es, in->dtype,
               in->strides, in->rank, sizes, o->dim_order);
  }
  return ET_OK;
}
