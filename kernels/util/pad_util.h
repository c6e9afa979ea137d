/*
 * Reflection and replication padding of the last 1, 2 or 3 dims
 * (reflection_pad{1,2,3}d, replication_pad{1,2,3}d).
 *
 * PyTorch's rules: the input has `spatial` + 1 or + 2 dims (an optional
 * batch dim, which alone may be empty, then channels and the spatial dims);
 * padding lists (left, right) pairs starting from the last dim; negative
 * padding crops; every output dim must be at least 1; reflection padding
 * must be smaller than the dim it reflects. Element copies only, so every
 * dtype works; any strides (the innermost dim is copied as runs when it is
 * contiguous on both sides).
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_PAD_UTIL_H
#define ET_KERNELS_UTIL_PAD_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum et_pad_mode { ET_PAD_REFLECT, ET_PAD_REPLICATE } et_pad_mode;

/* args = (self, padding, out, ret). */
et_status et_pad_out(et_kernel_ctx *ctx, et_value **args, uint32_t spatial, et_pad_mode mode);

/*
 * Source index along one dim for output index j, with `pad_l` elements of
 * (possibly negative) left padding on an input of `in` elements.
 */
int64_t et_pad_src_index(int64_t j, int64_t in, int64_t pad_l, et_pad_mode mode);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_PAD_UTIL_H */
