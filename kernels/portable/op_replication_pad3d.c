/*
 * aten::replication_pad3d.out(Tensor self, SymInt[6] padding, *, Tensor(a!) out)
 *
 * Pads the last 3 dims of a [C, D, H, W] or [N, C, D, H, W] tensor by
 * padding = (left, right, top, bottom, front, back): replication padding
 * repeats the edge elements.
 * Negative padding crops. Every dtype; any dim order (see pad_util.h).
 */
#include "portable/ops.h"

#include "util/pad_util.h"

et_status et_op_replication_pad3d_out(et_kernel_ctx *ctx, et_value **args) {
  return et_pad_out(ctx, args, 3, ET_PAD_REPLICATE);
}
