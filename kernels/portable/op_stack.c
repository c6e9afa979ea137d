/*
 * aten::stack.out(Tensor[] tensors, int dim=0, *, Tensor(a!) out)
 *
 * Joins equally shaped tensors along a new dim `dim` (in [-(r+1), r] for
 * inputs of rank r). Inputs may have different dtypes if each can be cast
 * to out's (as cat).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

#include <edgetorch/status.h>

et_status et_op_stack_out(et_kernel_ctx *ctx, et_value **args) {
  const et_value *list = args[0];
  et_tensor *out = args[2]->u.t;
  const size_t n = list->u.tlist.len;
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (n == 0) return ET_K_FAIL(ctx, "tensors: expected a non-empty list");
  const et_tensor *ref = list->u.tlist.items[0]->u.t;
  for (size_t i = 0; i < n; i++) {
    const et_tensor *t = list->u.tlist.items[i]->u.t;
    char name[24];
    et_format(name, sizeof name, "tensors[%zu]", i);
    ET_K_TRY(et_k_check_tensor(ctx, t, name));
    if (!et_can_cast(t->dtype, out->dtype))
      return ET_K_FAIL(ctx, "%s: dtype %s cannot be cast to out dtype %s", name,
                       et_dtype_name(t->dtype), et_dtype_name(out->dtype));
    if (!et_k_same_shape(t, ref)) {
      char s1[96], s2[96];
      et_k_tensor_shape_str(s1, sizeof s1, t);
      et_k_tensor_shape_str(s2, sizeof s2, ref);
      return ET_K_FAIL(ctx, "%s %s must have the shape of tensors[0] %s", name, s1, s2);
    }
  }
  if (ref->rank + 1 > ET_MAX_RANK)
    return ET_K_FAIL(ctx, "tensors: rank %u is too large", (unsigned)ref->rank);
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, ref->rank + 1, "dim", &dim));
  int64_t sizes[ET_MAX_RANK], isz[ET_MAX_RANK], ostr[ET_MAX_RANK];
  uint32_t r = 0;
  for (uint32_t d = 0; d <= ref->rank; d++) {
    if (d == dim) {
      sizes[d] = (int64_t)n;
      continue;
    }
    sizes[d] = isz[r++] = ref->sizes[d < dim ? d : d - 1];
  }
  ET_K_TRY(et_k_resize(ctx, out, sizes, ref->rank + 1, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  r = 0;
  for (uint32_t d = 0; d <= ref->rank; d++)
    if (d != dim) ostr[r++] = out->strides[d];
  const int64_t es = (int64_t)et_dtype_size(out->dtype);
  for (size_t i = 0; i < n; i++) {
    const et_tensor *t = list->u.tlist.items[i]->u.t;
    et_copy_nd((char *)out->data + (int64_t)i * out->strides[dim] * es, out->dtype, ostr, t->data,
               t->dtype, t->strides, r, isz, NULL);
  }
  return ET_OK;
}
