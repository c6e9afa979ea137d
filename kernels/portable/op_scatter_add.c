/*
 * aten::scatter_add.out(Tensor self, int dim, Tensor index, Tensor src, *,
 *                       Tensor(a!) out)
 *
 * out = self, then out[index[i][j]][j] += src[i][j] (for dim 0), with the
 * shape and index rules of scatter (index_util.h). Repeated positions add
 * up in row-major order of index (integers wrap, Bool ors, Half/BFloat16
 * round after each addition).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/index_util.h"
#include "util/shape_util.h"

#define SCATTER_ADD(ENUM, CTYPE, S)                                                      \
  static void scatter_add_##S(et_nd_iter *it, int64_t dstride, CTYPE *o,                 \
                              const et_tensor *index, const CTYPE *s) {                  \
    do {                                                                                 \
      for (int64_t j = 0; j < it->inner; j++) {                                          \
        const int64_t v = et_index_at(index, it->off[1] + j * it->inner_stride[1]);     \
        CTYPE *d = o + it->off[0] + j * it->inner_stride[0] + v * dstride;               \
        *d = ET_ST(S, ET_ADD(S, ET_LD(S, *d), ET_LD(S, s[it->off[2] + j * it->inner_stride[2]]))); \
      }                                                                                  \
    } while (et_nd_iter_next(it));                                                       \
  }
ET_FOREACH_REALHBBF16(SCATTER_ADD)
#undef SCATTER_ADD

et_status et_op_scatter_add_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t, *index = args[2]->u.t, *src = args[3]->u.t;
  et_tensor *out = args[4]->u.t;
  int64_t dim;
  ET_K_TRY(et_scatter_prepare(ctx, self, args[1]->u.i, index, src, out, &dim));
  if (et_tensor_numel(index) == 0) return ET_OK;
  et_nd_iter it;
  const int64_t dstride = et_scatter_iter_init(&it, out, dim, index, src);
  switch (out->dtype) {
#define CASE(ENUM, CTYPE, S)                                                             \
  case ENUM:                                                                             \
    scatter_add_##S(&it, dstride, (CTYPE *)out->data, index, (const CTYPE *)src->data);   \
    break;
    ET_FOREACH_REALHBBF16(CASE)
#undef CASE
  default: return ET_K_FAIL(ctx, "out: dtype %s is not supported", et_dtype_name(out->dtype));
  }
  return ET_OK;
}
