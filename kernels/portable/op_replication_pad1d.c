/*
 * aten::replication_pad1d.out(Tensor self, SymInt[2] padding, *, Tensor(a!) out)
 *
 * Pads the last dim of a [C, W] or [N, C, W] tensor by
 * padding = (left, right): replication padding
 * repeats the edge elements.
 * Negative padding crops. Every dtype; any dim order (see pad_util.h).
 */
#include "portable/ops.h"

#include "util/pad_util.h"

et_status et_op_replication_pad1d_out(et_kernel_ctx *ctx, et_value **args) {
  return et_pad_out(ctx, args, 1, ET_PAD_REPLICATE);
}
