/*
 * aten::empty.out(SymInt[] size, *, MemoryFormat? memory_format=None,
 *                 Tensor(a!) out)
 * out resized to size; its contents are left as they are. memory_format
 * must agree with out's dim order (Contiguous, ChannelsLast) when given.
 */
#include "portable/ops.h"

#include "util/factory_util.h"
#include "util/shape_util.h"

et_status et_op_empty_out(et_kernel_ctx *ctx, et_value **args) {
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_memory_format(ctx, args[1], out));
  return et_k_resize_to_size_arg(ctx, args[0], out);
}
