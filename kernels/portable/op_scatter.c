/*
 * aten::scatter.src_out(Tensor self, int dim, Tensor index, Tensor src, *,
 *                       Tensor(a!) out)
 * aten::scatter.value_out(Tensor self, int dim, Tensor index, Scalar value, *,
 *                         Tensor(a!) out)
 *
 * out = self, then out[index[i][j]][j] = src[i][j] (for dim 0; likewise for
 * other dims), or = value. index is Long with self's rank and no larger
 * than src anywhere, nor than self outside dim; its values must lie in
 * [0, self.size(dim)) (checked before anything is written). value must fit
 * self's dtype (c10's overflow rule). When an index repeats, the last write
 * in row-major order of index wins.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/fill_util.h"
#include "util/index_util.h"
#include "util/shape_util.h"

et_status et_op_scatter_src_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t, *index = args[2]->u.t, *src = args[3]->u.t;
  et_tensor *out = args[4]->u.t;
  int64_t dim;
  ET_K_TRY(et_scatter_prepare(ctx, self, args[1]->u.i, index, src, out, &dim));
  if (et_tensor_numel(index) == 0) return ET_OK;
  et_nd_iter it;
  const int64_t dstride = et_scatter_iter_init(&it, out, dim, index, src);
  const size_t es = et_dtype_size(out->dtype);
  char *o = (char *)out->data;
  const char *s = (const char *)src->data;
  do {
    for (int64_t j = 0; j < it.inner; j++) {
      const int64_t v = et_index_at(index, it.off[1] + j * it.inner_stride[1]);
      et_copy_elem(o + (it.off[0] + j * it.inner_stride[0] + v * dstride) * (int64_t)es,
                   s + (it.off[2] + j * it.inner_stride[2]) * (int64_t)es, es);
    }
  } while (et_nd_iter_next(&it));
  return ET_OK;
}

et_status et_op_scatter_value_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t, *index = args[2]->u.t;
  et_tensor *out = args[4]->u.t;
  uint64_t elem = 0;
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_scalar_to_elem_checked(ctx, args[3], self->dtype, &elem, "value"));
  int64_t dim;
  ET_K_TRY(et_scatter_prepare(ctx, self, args[1]->u.i, index, NULL, out, &dim));
  if (et_tensor_numel(index) == 0) return ET_OK;
  et_nd_iter it;
  const int64_t dstride = et_scatter_iter_init(&it, out, dim, index, NULL);
  const size_t es = et_dtype_size(out->dtype);
  char *o = (char *)out->data;
  do {
    for (int64_t j = 0; j < it.inner; j++) {
      const int64_t v = et_index_at(index, it.off[1] + j * it.inner_stride[1]);
      et_copy_elem(o + (it.off[0] + j * it.inner_stride[0] + v * dstride) * (int64_t)es, &elem,
                   es);
    }
  } while (et_nd_iter_next(&it));
  return ET_OK;
}
