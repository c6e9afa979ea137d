/*
 * aten::expand_copy.out(Tensor self, SymInt[] size, *, bool implicit=False,
 *                       Tensor(a!) out)
 *
 * Broadcast self to `size` (-1 keeps a dim; new dims are added in front).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_expand_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t size[ET_MAX_RANK], strides[ET_MAX_RANK];
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, args[1], size, ET_MAX_RANK, &n, "size"));
  if (n < in->rank)
    return ET_K_FAIL(ctx, "size: %zu dims given, self has %u", n, (unsigned)in->rank);
  const size_t lead = n - in->rank;
  for (size_t i = 0; i < n; i++) {
    if (i < lead) {
      if (size[i] < 0)
        return ET_K_FAIL(ctx, "size: %lld is not allowed for a new leading dim %zu",
                         (long long)size[i], i);
      strides[i] = 0;
      continue;
    }
    const int64_t s = in->sizes[i - lead];
    if (size[i] == -1) size[i] = s;
    if (size[i] == s) {
      strides[i] = s == 1 ? 0 : in->strides[i - lead];
    } else if (s == 1 && size[i] >= 0) {
      strides[i] = 0;
    } else {
      return ET_K_FAIL(ctx, "size: cannot expand dim %zu of size %lld to %lld", i,
                       (long long)s, (long long)size[i]);
    }
  }
  ET_K_TRY(et_k_resize(ctx, out, size, (uint32_t)n, "out"));
  et_copy_nd(out->data, out->dtype, out->strides, in->data, in->dtype, strides,
             (uint32_t)n, size, out->dim_order);
  return ET_OK;
}
