/*
 * aten::as_strided_copy.out(Tensor self, SymInt[] size, SymInt[] stride,
 *                           SymInt? storage_offset=None, *, Tensor(a!) out)
 *
 * out[i0, i1, ...] = storage[offset + i0 * stride[0] + i1 * stride[1] + ...]
 * where the storage is self's elements in memory order (self's data is
 * dense, in its dim order). Sizes, strides and the offset must be
 * non-negative (PyTorch refuses negative strides too), and every element
 * addressed must lie inside self's storage; this is checked (with overflow
 * checks) before anything is read.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_as_strided_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t size[ET_MAX_RANK], stride[ET_MAX_RANK];
  size_t n, ns;
  ET_K_TRY(et_k_int_list(ctx, args[1], size, ET_MAX_RANK, &n, "size"));
  ET_K_TRY(et_k_int_list(ctx, args[2], stride, ET_MAX_RANK, &ns, "stride"));
  if (n != ns)
    return ET_K_FAIL(ctx, "size has %zu entries but stride has %zu", n, ns);
  const int64_t offset = args[3]->tag == ET_TAG_INT ? args[3]->u.i : 0;
  if (offset < 0)
    return ET_K_FAIL(ctx, "storage_offset: must be non-negative, got %lld", (long long)offset);
  bool empty = false;
  for (size_t i = 0; i < n; i++) {
    if (size[i] < 0)
      return ET_K_FAIL(ctx, "size: negative size %lld at dim %zu", (long long)size[i], i);
    if (stride[i] < 0)
      return ET_K_FAIL(ctx, "stride: negative strides are not supported, got %lld at dim %zu",
                       (long long)stride[i], i);
    if (size[i] == 0) empty = true;
  }
  if (!empty) {
    /* the last element addressed: offset + sum(stride * (size - 1)) */
    const int64_t storage = (int64_t)et_tensor_numel(in);
    int64_t last = offset;
    bool ok = last < storage;
    for (size_t i = 0; ok && i < n; i++) {
      const int64_t span = size[i] - 1;
      if (span != 0 && stride[i] > (storage - 1 - last) / span)
        ok = false;
      else
        last += stride[i] * span;
    }
    if (!ok)
      return ET_K_FAIL(ctx, "size, stride and storage_offset %lld address elements beyond "
                            "self's storage of %lld elements",
                       (long long)offset, (long long)storage);
  }
  ET_K_TRY(et_k_resize(ctx, out, size, (uint32_t)n, "out"));
  if (empty) return ET_OK;
  const char *src = (const char *)in->data + offset * (int64_t)et_dtype_size(in->dtype);
  et_copy_nd(out->data, out->dtype, out->strides, src, in->dtype, stride, (uint32_t)n, size,
             out->dim_order);
  return ET_OK;
}
