/*
 * aten::select_scatter.out(Tensor self, Tensor src, int dim, SymInt index,
 *                          *, Tensor(a!) out)
 *
 * out = self, with the slice out[..., index, ...] along `dim` replaced by
 * src (converted to self's dtype). src has self's shape without `dim`;
 * index may be negative (counts from the end) and is bounds-checked.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/index_util.h"
#include "util/shape_util.h"

et_status et_op_select_scatter_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *src = args[1]->u.t;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, src, "src"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  if (in->rank == 0) return ET_K_FAIL(ctx, "self: cannot select from a 0-dim tensor");
  int64_t dim = 0, index = 0;
  ET_K_TRY(et_k_dim(ctx, args[2]->u.i, in->rank, "dim", &dim));
  ET_K_TRY(et_index_check(ctx, args[3]->u.i, in->sizes[dim], true, "index", -1, -1, dim, &index));
  int64_t sizes[ET_MAX_RANK], ostr[ET_MAX_RANK];
  uint32_t r = 0;
  bool match = src->rank + 1 == in->rank;
  for (uint32_t d = 0; d < in->rank; d++) {
    if (d == dim) continue;
    if (match && src->sizes[r] != in->sizes[d]) match = false;
    sizes[r] = in->sizes[d];
    ostr[r++] = 0;
  }
  if (!match) {
    char s1[96], s2[96];
    et_k_tensor_shape_str(s1, sizeof s1, src);
    et_k_shape_str(s2, sizeof s2, sizes, r);
    return ET_K_FAIL(ctx, "src %s must have the shape of the selected slice %s", s1, s2);
  }
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  et_copy_tensor(out, in);
  r = 0;
  for (uint32_t d = 0; d < in->rank; d++)
    if (d != dim) ostr[r++] = out->strides[d];
  et_copy_nd((char *)out->data + index * out->strides[dim] * (int64_t)et_dtype_size(out->dtype),
             out->dtype, ostr, src->data, src->dtype, src->strides, r, sizes, NULL);
  return ET_OK;
}
