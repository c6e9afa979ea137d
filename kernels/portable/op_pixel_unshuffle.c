/*
 * aten::pixel_unshuffle.out(Tensor self, int downscale_factor, *,
 *                           Tensor(a!) out)
 *
 * [*, C, H * r, W * r] -> [*, C * r * r, H, W], the inverse of
 * pixel_shuffle. A pure permutation (one strided copy), every dtype and
 * dim order.
 */
#include "portable/ops.h"

#include "util/shuffle_util.h"

et_status et_op_pixel_unshuffle_out(et_kernel_ctx *ctx, et_value **args) {
  return et_pixel_shuffle_out(ctx, args, false);
}
