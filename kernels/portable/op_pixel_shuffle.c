/*
 * aten::pixel_shuffle.out(Tensor self, int upscale_factor, *, Tensor(a!) out)
 *
 * [*, C * r * r, H, W] -> [*, C, H * r, W * r]:
 * out[..., c, h * r + i, w * r + j] = self[..., c * r * r + i * r + j, h, w].
 * A pure permutation of elements, done as one strided copy (tiled where it
 * transposes), so every dtype and dim order works.
 */
#include "portable/ops.h"

#include "util/shuffle_util.h"

et_status et_op_pixel_shuffle_out(et_kernel_ctx *ctx, et_value **args) {
  return et_pixel_shuffle_out(ctx, args, true);
}
