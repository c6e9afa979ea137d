/*
 * aten::reflection_pad2d.out(Tensor self, SymInt[4] padding, *, Tensor(a!) out)
 *
 * Pads the last 2 dims of a [C, H, W] or [N, C, H, W] tensor by
 * padding = (left, right, top, bottom): reflection padding
 * mirrors the input at its edges without repeating the edge element;
 * each padding must be smaller than the dim it pads.
 * Negative padding crops. Every dtype; any dim order (see pad_util.h).
 */
#include "portable/ops.h"

#include "util/pad_util.h"

et_status et_op_reflection_pad2d_out(et_kernel_ctx *ctx, et_value **args) {
  return et_pad_out(ctx, args, 2, ET_PAD_REFLECT);
}
