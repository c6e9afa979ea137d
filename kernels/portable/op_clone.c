/*
 * aten::clone.out(Tensor self, *, MemoryFormat? memory_format=None,
 *                 Tensor(a!) out)
 * Copies self into out's layout (dim order); dtypes must match.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_clone_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  ET_K_TRY(et_k_check_memory_format(ctx, args[1], out));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  et_copy_tensor(out, in);
  return ET_OK;
}
