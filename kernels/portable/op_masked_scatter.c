/*
 * aten::masked_scatter.out(Tensor self, Tensor mask, Tensor source, *,
 *                          Tensor(a!) out)
 *
 * out (the broadcast shape of self and the Bool mask) = self, except that
 * the positions where mask is true take source's elements one after the
 * other (row-major order of out; source read in its row-major order, any
 * shape). source must have at least as many elements as the mask selects;
 * this is checked before anything is written.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/index_util.h"
#include "util/shape_util.h"

#include <edgetorch/status.h>

et_status et_op_masked_scatter_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t, *mask = args[1]->u.t, *src = args[2]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, mask, "mask"));
  ET_K_TRY(et_k_check_tensor(ctx, src, "source"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_dtype(ctx, mask, ET_BOOL, "mask"));
  ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", src, "source"));
  ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", out, "out"));
  int64_t sizes[ET_MAX_RANK];
  uint32_t rank;
  ET_K_TRY(et_k_broadcast_shape(ctx, self, "self", mask, "mask", sizes, &rank));
  ET_K_TRY(et_k_resize(ctx, out, sizes, rank, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  int64_t sstr[ET_MAX_RANK], mstr[ET_MAX_RANK];
  et_broadcast_strides(self, rank, out->sizes, sstr);
  et_broadcast_strides(mask, rank, out->sizes, mstr);

  /* count the selected positions first */
  const uint8_t *m = (const uint8_t *)mask->data;
  const int64_t *mstrides[1] = {mstr};
  et_nd_iter it;
  et_nd_iter_init(&it, rank, sizes, 1, mstrides, NULL);
  int64_t count = 0;
  do {
    for (int64_t j = 0; j < it.inner; j++) count += m[it.off[0] + j * it.inner_stride[0]] != 0;
  } while (et_nd_iter_next(&it));
  const int64_t have = (int64_t)et_tensor_numel(src);
  if (count > have)
    return ET_K_FAIL(ctx, "source: has %lld elements, but the mask selects %lld",
                     (long long)have, (long long)count);

  et_copy_nd(out->data, out->dtype, out->strides, self->data, self->dtype, sstr, rank, sizes,
             NULL);
  if (count == 0) return ET_OK;
  /* source in row-major order: an odometer over its sizes */
  const size_t es = et_dtype_size(out->dtype);
  int64_t sidx[ET_MAX_RANK] = {0}, soff = 0;
  const int64_t *strides[2] = {out->strides, mstr};
  et_nd_iter_init(&it, rank, sizes, 2, strides, NULL);
  char *o = (char *)out->data;
  const char *s = (const char *)src->data;
  do {
    for (int64_t j = 0; j < it.inner; j++) {
      if (!m[it.off[1] + j * it.inner_stride[1]]) continue;
      et_copy_elem(o + (it.off[0] + j * it.inner_stride[0]) * (int64_t)es, s + soff * (int64_t)es,
                   es);
      for (uint32_t d = src->rank; d-- > 0;) {
        if (++sidx[d] < src->sizes[d]) {
          soff += src->strides[d];
          break;
        }
        sidx[d] = 0;
        soff -= src->strides[d] * (src->sizes[d] - 1);
      }
    }
  } while (et_nd_iter_next(&it));
  return ET_OK;
}
