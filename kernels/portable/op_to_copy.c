/*
 * aten::_to_copy.out(Tensor self, *, bool non_blocking=False,
 *                    MemoryFormat? memory_format=None, Tensor(a!) out)
 * Copies self into out, converting dtype (as PyTorch's .to) and layout.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_to_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_memory_format(ctx, args[2], out));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  et_copy_tensor(out, in);
  return ET_OK;
}
