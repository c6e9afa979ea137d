/*
 * aten::index_put.out(Tensor self, Tensor?[] indices, Tensor values,
 *                     bool accumulate=False, *, Tensor(a!) out)
 * aten::index_put_(Tensor(a!) self, Tensor?[] indices, Tensor values,
 *                  bool accumulate=False) -> Tensor(a!)
 *
 * self[indices] = values (or += with accumulate), PyTorch's advanced
 * indexing (index_util.h): Long/Int index tensors (negative values count
 * from the end) and Bool/Byte masks, in any combination; values (self's
 * dtype) broadcast to the shape of self[indices]. With accumulate, repeated
 * positions add up (integers wrap, Bool ors); without it the last write
 * wins. Every index is checked before anything is written. The .out form
 * copies self into out first; index_put_ writes self and returns it.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/index_util.h"
#include "util/shape_util.h"

#include <edgetorch/status.h>

/* Strides that broadcast `t` to `sizes` (rank `rank`); false if it does not. */
static bool bcast_strides(const et_tensor *t, uint32_t rank, const int64_t *sizes,
                          int64_t *strides) {
  if (t->rank > rank) return false;
  const uint32_t lead = rank - t->rank;
  for (uint32_t d = 0; d < rank; d++) {
    if (d < lead) {
      strides[d] = 0;
      continue;
    }
    const int64_t s = t->sizes[d - lead];
    if (s == sizes[d])
      strides[d] = s == 1 ? 0 : t->strides[d - lead];
    else if (s == 1)
      strides[d] = 0;
    else
      return false;
  }
  return true;
}

/* Write values into out (already holding self) at self[indices]. */
static et_status put(et_kernel_ctx *ctx, const et_tensor *self, const et_value *indices,
                     const et_tensor *values, bool accumulate, et_tensor *out) {
  et_adv_index ai;
  ET_K_TRY(et_adv_index_init(ctx, &ai, self, indices));
  int64_t vstr[ET_MAX_RANK];
  if (!bcast_strides(values, ai.xrank, ai.xsize, vstr)) {
    char s1[96], s2[96];
    et_k_tensor_shape_str(s1, sizeof s1, values);
    et_k_shape_str(s2, sizeof s2, ai.xsize, ai.xrank);
    return ET_K_FAIL(ctx, "values %s cannot be broadcast to the indexing result %s", s1, s2);
  }
  const int64_t es = (int64_t)et_dtype_size(out->dtype);
  int64_t rsz[ET_MAX_RANK], rdst[ET_MAX_RANK], rsrc[ET_MAX_RANK];
  for (uint32_t k = 0; k < ai.nrest; k++) {
    rsz[k] = self->sizes[ai.rest_dim[k]];
    rdst[k] = out->strides[ai.rest_dim[k]];
    rsrc[k] = vstr[ai.rest_xpos[k]];
  }
  int64_t rest_numel;
  if (!et_k_numel(rsz, ai.nrest, &rest_numel))
    return ET_K_FAIL(ctx, "self: size overflows");
  if (ai.bnumel == 0 || rest_numel == 0) return ET_OK;

  /* first pass: every index is in range */
  int64_t bidx[ET_MAX_RANK] = {0}, off;
  do {
    ET_K_TRY(et_adv_index_offset(ctx, &ai, self, bidx, out->strides, &off));
  } while (et_adv_index_next(&ai, bidx));

  char *o = (char *)out->data;
  const char *v = (const char *)values->data;
  do {
    ET_K_TRY(et_adv_index_offset(ctx, &ai, self, bidx, out->strides, &off));
    int64_t voff = 0;
    for (uint32_t k = 0; k < ai.brank; k++) voff += bidx[k] * vstr[ai.bpos + k];
    if (accumulate) {
      et_add_nd(o + off * es, rdst, v + voff * es, rsrc, out->dtype, ai.nrest, rsz);
    } else if (ai.nrest == 0) {
      et_copy_elem(o + off * es, v + voff * es, (size_t)es);
    } else {
      et_copy_nd(o + off * es, out->dtype, rdst, v + voff * es, values->dtype, rsrc, ai.nrest,
                 rsz, NULL);
    }
  } while (et_adv_index_next(&ai, bidx));
  return ET_OK;
}

static et_status check_common(et_kernel_ctx *ctx, const et_tensor *self,
                              const et_tensor *values) {
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, values, "values"));
  return et_k_check_same_dtype(ctx, self, "self", values, "values");
}

et_status et_op_index_put_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t, *values = args[2]->u.t;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(check_common(ctx, self, values));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", out, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, self, "out"));
  if (et_tensor_numel(self) != 0) et_copy_tensor(out, self);
  return put(ctx, self, args[1], values, args[3]->u.b, out);
}

et_status et_op_index_put_(et_kernel_ctx *ctx, et_value **args) {
  et_tensor *self = args[0]->u.t;
  const et_tensor *values = args[2]->u.t;
  ET_K_TRY(check_common(ctx, self, values));
  ET_K_TRY(et_k_check_writable(ctx, self, "self"));
  ET_K_TRY(put(ctx, self, args[1], values, args[3]->u.b, self));
  if (args[4] != args[0] && args[4]->tag == ET_TAG_TENSOR) args[4]->u.t = self;
  return ET_OK;
}
