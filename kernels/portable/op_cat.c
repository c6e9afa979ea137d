/*
 * aten::cat.out(Tensor[] tensors, int dim=0, *, Tensor(a!) out)
 *
 * Concatenates along `dim`. As in PyTorch, 1-D tensors of size 0 are
 * skipped (legacy empty tensors); the others must match out's rank and every
 * size but `dim`. Inputs may have different dtypes if each can be cast to
 * out's.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

#include <edgetorch/status.h>

static bool legacy_empty(const et_tensor *t) { return t->rank == 1 && t->sizes[0] == 0; }

et_status et_op_cat_out(et_kernel_ctx *ctx, et_value **args) {
  const et_value *list = args[0];
  et_tensor *out = args[2]->u.t;
  const size_t n = list->u.tlist.len;
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (n == 0) return ET_K_FAIL(ctx, "tensors: expected a non-empty list");
  const et_tensor *ref = NULL;
  for (size_t i = 0; i < n; i++) {
    const et_tensor *t = list->u.tlist.items[i]->u.t;
    char name[24];
    et_format(name, sizeof name, "tensors[%zu]", i);
    ET_K_TRY(et_k_check_tensor(ctx, t, name));
    if (!et_can_cast(t->dtype, out->dtype))
      return ET_K_FAIL(ctx, "tensors[%zu]: dtype %s cannot be cast to out dtype %s", i,
                       et_dtype_name(t->dtype), et_dtype_name(out->dtype));
    if (!ref && !legacy_empty(t)) ref = t;
  }
  if (!ref) {
    /* every input is empty: the result is an empty 1-D tensor */
    const int64_t zero = 0;
    return et_k_resize(ctx, out, &zero, 1, "out");
  }
  if (ref->rank == 0)
    return ET_K_FAIL(ctx, "tensors: zero-dimensional tensors cannot be concatenated");
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, ref->rank, "dim", &dim));
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(ref, sizes);
  sizes[dim] = 0;
  for (size_t i = 0; i < n; i++) {
    const et_tensor *t = list->u.tlist.items[i]->u.t;
    if (legacy_empty(t)) continue;
    bool ok = t->rank == ref->rank;
    for (uint32_t d = 0; ok && d < ref->rank; d++)
      if (d != dim && t->sizes[d] != ref->sizes[d]) ok = false;
    if (!ok) {
      char s1[96], s2[96];
      et_k_tensor_shape_str(s1, sizeof s1, t);
      et_k_tensor_shape_str(s2, sizeof s2, ref);
      return ET_K_FAIL(ctx, "tensors[%zu] %s does not match %s except in dim %lld", i, s1, s2,
                       (long long)dim);
    }
    sizes[dim] += t->sizes[dim];
  }
  ET_K_TRY(et_k_resize(ctx, out, sizes, ref->rank, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  const size_t oes = et_dtype_size(out->dtype);
  int64_t offset = 0;
  for (size_t i = 0; i < n; i++) {
    const et_tensor *t = list->u.tlist.items[i]->u.t;
    if (legacy_empty(t) || et_tensor_numel(t) == 0) {
      if (!legacy_empty(t)) offset += t->sizes[dim];
      continue;
    }
    int64_t tsz[ET_MAX_RANK];
    et_k_sizes64(t, tsz);
    char *dst = (char *)out->data + offset * out->strides[dim] * (int64_t)oes;
    et_copy_nd(dst, out->dtype, out->strides, t->data, t->dtype, t->strides, t->rank, tsz,
               out->dim_order);
    offset += t->sizes[dim];
  }
  return ET_OK;
}
