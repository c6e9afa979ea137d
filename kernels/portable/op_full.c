/*
 * aten::full.out(SymInt[] size, Scalar fill_value, *, Tensor(a!) out)
 * out (resized to `size`) filled with fill_value converted to out's dtype.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/fill_util.h"
#include "util/shape_util.h"

et_status et_op_full_out(et_kernel_ctx *ctx, et_value **args) {
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int64_t sizes[ET_MAX_RANK];
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, args[0], sizes, ET_MAX_RANK, &n, "size"));
  for (size_t i = 0; i < n; i++)
    if (sizes[i] < 0)
      return ET_K_FAIL(ctx, "size: negative size %lld at dim %zu", (long long)sizes[i], i);
  ET_K_TRY(et_k_resize(ctx, out, sizes, (uint32_t)n, "out"));
  return et_fill_scalar(ctx, out, args[1]);
}
