/*
 * aten::split_with_sizes_copy.out(Tensor self, SymInt[] split_sizes,
 *                                 int dim=0, *, Tensor(a!)[] out) -> ()
 * Copies consecutive slices of self along `dim` (of the given sizes, which
 * must add up to self's size) into the tensors of `out`. The return slot is
 * the out list again, as upstream's emitter writes it.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

#include <edgetorch/status.h>

et_status et_op_split_with_sizes_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const et_value *list = args[3];
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  if (in->rank == 0) return ET_K_FAIL(ctx, "self: cannot split a 0-dim tensor");
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[2]->u.i, in->rank, "dim", &dim));
  const size_t n = args[1]->u.ilist.len;
  if (list->u.tlist.len != n)
    return ET_K_FAIL(ctx, "out: %zu tensors for %zu split sizes", list->u.tlist.len, n);
  int64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    const int64_t s = et_int_list_get(args[1], i);
    if (s < 0) return ET_K_FAIL(ctx, "split_sizes: negative size %lld", (long long)s);
    if (s > in->sizes[dim] - total) { /* more than the dim (no overflow) */
      total = -1;
      break;
    }
    total += s;
  }
  if (total != in->sizes[dim])
    return ET_K_FAIL(ctx, "split_sizes must add up to %lld (self's dim %lld)",
                     (long long)in->sizes[dim], (long long)dim);
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(in, sizes);
  for (size_t i = 0; i < n; i++) {
    et_tensor *o = list->u.tlist.items[i]->u.t;
    char name[24];
    et_format(name, sizeof name, "out[%zu]", i);
    ET_K_TRY(et_k_check_tensor(ctx, o, name));
    ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", o, name));
    sizes[dim] = et_int_list_get(args[1], i);
    ET_K_TRY(et_k_resize(ctx, o, sizes, in->rank, name));
  }
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  int64_t offset = 0;
  for (size_t i = 0; i < n; i++) {
    et_tensor *o = list->u.tlist.items[i]->u.t;
    if (et_tensor_numel(o) != 0) {
      sizes[dim] = o->sizes[dim];
      et_copy_nd(o->data, o->dtype, o->strides,
                 (const char *)in->data + offset * in->strides[dim] * es, in->dtype,
                 in->strides, in->rank, sizes, o->dim_order);
    }
    offset += o->sizes[dim];
  }
  return ET_OK;
}
