/*
 * aten::diagonal_copy.out(Tensor self, int offset=0, int dim1=0, int dim2=1,
 *                         *, Tensor(a!) out)
 *
 * The diagonal of the (dim1, dim2) planes, `offset` above (> 0) or below
 * (< 0) the main one: out has self's other dims, then the diagonal's
 * length (0 when the offset leaves the plane).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_diagonal_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t d1, d2;
  ET_K_TRY(et_k_dim(ctx, args[2]->u.i, in->rank, "dim1", &d1));
  ET_K_TRY(et_k_dim(ctx, args[3]->u.i, in->rank, "dim2", &d2));
  if (d1 == d2)
    return ET_K_FAIL(ctx, "dim1 and dim2 must differ, both are %lld", (long long)d1);
  const int64_t offset = args[1]->u.i;
  const int64_t s1 = in->sizes[d1], s2 = in->sizes[d2];
  int64_t len;
  if (offset >= 0)
    len = offset >= s2 ? 0 : (s1 < s2 - offset ? s1 : s2 - offset);
  else
    len = offset <= -s1 ? 0 : (s1 + offset < s2 ? s1 + offset : s2);
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
  uint32_t r = 0;
  for (uint32_t d = 0; d < in->rank; d++) {
    if (d == d1 || d == d2) continue;
    sizes[r] = in->sizes[d];
    strides[r++] = in->strides[d];
  }
  sizes[r] = len;
  strides[r++] = in->strides[d1] + in->strides[d2];
  ET_K_TRY(et_k_resize(ctx, out, sizes, r, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  const int64_t start = offset >= 0 ? offset * in->strides[d2] : -offset * in->strides[d1];
  et_copy_nd(out->data, out->dtype, out->strides,
             (const char *)in->data + start * (int64_t)et_dtype_size(in->dtype), in->dtype,
             strides, r, sizes, out->dim_order);
  return ET_OK;
}
