/*
 * aten::index_select.out(Tensor self, int dim, Tensor index, *,
 *                        Tensor(a!) out)
 *
 * out = self with dim `dim` replaced by the slices index[0], index[1], ...
 * index is a Long or Int tensor of rank 0 or 1; every value must lie in
 * [0, self.size(dim)) (PyTorch refuses negative values here). A 0-dim self
 * takes one index, which must be 0.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/index_util.h"
#include "util/shape_util.h"

#include <string.h>

et_status et_op_index_select_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *index = args[2]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, index, "index"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_index_check_long_int(ctx, index, "index"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dim", &dim));
  if (index->rank > 1)
    return ET_K_FAIL(ctx, "index: expected rank 0 or 1, got %u", (unsigned)index->rank);
  const int64_t n = (int64_t)et_tensor_numel(index);
  const int64_t istride = index->rank ? index->strides[0] : 0;
  if (in->rank == 0 && n != 1)
    return ET_K_FAIL(ctx, "index: a 0-dim self takes exactly one index, got %lld", (long long)n);
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(in, sizes);
  if (in->rank) sizes[dim] = n;
  ET_K_TRY(et_k_resize(ctx, out, sizes, in->rank, "out"));
  const int64_t size = in->rank ? in->sizes[dim] : 1;
  for (int64_t j = 0; j < n; j++) {
    int64_t v = 0;
    ET_K_TRY(et_index_check(ctx, et_index_at(index, j * istride), size, false, "index", -1, j,
                            dim, &v));
  }
  if (et_tensor_numel(out) == 0) return ET_OK;
  if (in->rank == 0) {
    memcpy(out->data, in->data, et_dtype_size(in->dtype));
    return ET_OK;
  }
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  if (et_tensor_is_contiguous(in) && et_tensor_is_contiguous(out)) {
    /* rows of `trailing` bytes: one memcpy per (leading index, value) */
    int64_t lead = 1, trailing = es;
    for (uint32_t d = 0; d < in->rank; d++) {
      if (d < dim) lead *= in->sizes[d];
      if (d > dim) trailing *= in->sizes[d];
    }
    const char *src = (const char *)in->data;
    char *dst = (char *)out->data;
    for (int64_t l = 0; l < lead; l++)
      for (int64_t j = 0; j < n; j++, dst += trailing)
        memcpy(dst, src + (l * size + et_index_at(index, j * istride)) * trailing,
               (size_t)trailing);
    return ET_OK;
  }
  /* one slab per index value: sizes[dim] = 1, so contiguous trailing dims
   * are a single memmove per leading index */
  sizes[dim] = 1;
  for (int64_t j = 0; j < n; j++) {
    const int64_t v = et_index_at(index, j * istride);
    et_copy_nd((char *)out->data + j * out->strides[dim] * es, out->dtype, out->strides,
               (const char *)in->data + v * in->strides[dim] * es, in->dtype, in->strides,
               in->rank, sizes, out->dim_order);
  }
  return ET_OK;
}
