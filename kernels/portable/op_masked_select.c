/*
 * aten::masked_select.out(Tensor self, Tensor mask, *, Tensor(a!) out)
 *
 * The elements of self (broadcast with the Bool mask) where mask is true,
 * in row-major order, as a 1-D out. The length depends on the data: out
 * must be DYNAMIC_BOUND with room for it (or STATIC of exactly that
 * length); otherwise the call fails without writing.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/index_util.h"
#include "util/shape_util.h"

et_status et_op_masked_select_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t, *mask = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, mask, "mask"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_dtype(ctx, mask, ET_BOOL, "mask"));
  ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", out, "out"));
  ET_K_TRY(et_k_check_rank(ctx, out, 1, 1, "out"));
  int64_t sizes[ET_MAX_RANK];
  int32_t sizes32[ET_MAX_RANK];
  uint32_t rank;
  ET_K_TRY(et_k_broadcast_shape(ctx, self, "self", mask, "mask", sizes, &rank));
  int64_t numel;
  if (!et_k_numel(sizes, rank, &numel)) return ET_K_FAIL(ctx, "the broadcast shape overflows");
  int64_t count = 0;
  int64_t sstr[ET_MAX_RANK], mstr[ET_MAX_RANK];
  et_nd_iter it;
  if (numel != 0) {
    for (uint32_t d = 0; d < rank; d++) sizes32[d] = (int32_t)sizes[d];
    et_broadcast_strides(self, rank, sizes32, sstr);
    et_broadcast_strides(mask, rank, sizes32, mstr);
    const int64_t *strides[2] = {sstr, mstr};
    et_nd_iter_init(&it, rank, sizes, 2, strides, NULL);
    const uint8_t *m = (const uint8_t *)mask->data;
    do {
      for (int64_t j = 0; j < it.inner; j++) count += m[it.off[1] + j * it.inner_stride[1]] != 0;
    } while (et_nd_iter_next(&it));
  }
  ET_K_TRY(et_k_resize(ctx, out, &count, 1, "out"));
  if (count == 0) return ET_OK;
  et_nd_iter_reset(&it);
  const size_t es = et_dtype_size(self->dtype);
  const uint8_t *m = (const uint8_t *)mask->data;
  const char *s = (const char *)self->data;
  char *o = (char *)out->data;
  const int64_t ostr = out->strides[0] * (int64_t)es;
  do {
    for (int64_t j = 0; j < it.inner; j++) {
      if (!m[it.off[1] + j * it.inner_stride[1]]) continue;
      et_copy_elem(o, s + (it.off[0] + j * it.inner_stride[0]) * (int64_t)es, es);
      o += ostr;
    }
  } while (et_nd_iter_next(&it));
  return ET_OK;
}
