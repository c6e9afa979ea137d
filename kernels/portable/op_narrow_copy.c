/*
 * aten::narrow_copy.out(Tensor self, int dim, SymInt start, SymInt length,
 *                       *, Tensor(a!) out)
 *
 * self[start:start+length] along `dim`. As PyTorch: start may be negative
 * (counts from the end) within [-size, size], length must be non-negative
 * and start + length must not exceed the size (no clamping).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_narrow_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  if (in->rank == 0) return ET_K_FAIL(ctx, "self: cannot narrow a 0-dim tensor");
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dim", &dim));
  const int64_t size = in->sizes[dim];
  int64_t start = args[2]->u.i;
  const int64_t length = args[3]->u.i;
  if (start < -size || start > size)
    return ET_K_FAIL(ctx, "start: %lld is out of range for dim %lld of size %lld (expected "
                          "[%lld, %lld])",
                     (long long)start, (long long)dim, (long long)size, (long long)-size,
                     (long long)size);
  if (start < 0) start += size;
  if (length < 0) return ET_K_FAIL(ctx, "length: must be non-negative, got %lld", (long long)length);
  if (length > size - start)
    return ET_K_FAIL(ctx, "start (%lld) + length (%lld) exceeds dim %lld of size %lld",
                     (long long)start, (long long)length, (long long)dim, (long long)size);
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(in, sizes);
  sizes[dim] = length;
  ET_K_TRY(et_k_resize(ctx, out, sizes, in->rank, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  const char *src = (const char *)in->data +
                    start * in->strides[dim] * (int64_t)et_dtype_size(in->dtype);
  et_copy_nd(out->data, out->dtype, out->strides, src, in->dtype, in->strides, in->rank, sizes,
             out->dim_order);
  return ET_OK;
}
