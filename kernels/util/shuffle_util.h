/*
 * pixel_shuffle and pixel_unshuffle: moving r x r blocks of channels into
 * space and back. Both are one et_copy_nd over a 5-D (plus leading dims)
 * index space whose strides describe the permutation, so any dtype and any
 * dim order of self and out work and transposing runs are tiled.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_SHUFFLE_UTIL_H
#define ET_KERNELS_UTIL_SHUFFLE_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* args = (self, factor, out, ret); shuffle true for pixel_shuffle. */
et_status et_pixel_shuffle_out(et_kernel_ctx *ctx, et_value **args, bool shuffle);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_SHUFFLE_UTIL_H */
