/*
 * aten::full_like.out(Tensor self, Scalar fill_value, *,
 *                     MemoryFormat? memory_format=None, Tensor(a!) out)
 * out (resized like self) filled with fill_value in out's dtype.
 */
#include "portable/ops.h"

#include "util/fill_util.h"
#include "util/shape_util.h"

et_status et_op_full_like_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_memory_format(ctx, args[2], out));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  return et_fill_scalar(ctx, out, args[1]);
}
