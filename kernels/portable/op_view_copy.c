/*
 * aten::view_copy.out(Tensor self, SymInt[] size, *, Tensor(a!) out)
 * Reshape (one size may be -1 and is inferred); elements are copied in
 * row-major order, so any dim orders work.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"
#include "util/view_util.h"

et_status et_op_view_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t sizes[ET_MAX_RANK];
  uint32_t rank;
  ET_K_TRY(et_view_sizes(ctx, in, args[1], sizes, &rank));
  ET_K_TRY(et_k_resize(ctx, out, sizes, rank, "out"));
  if (!et_copy_reshape(out, in)) return ET_K_FAIL(ctx, "element counts differ");
  return ET_OK;
}
