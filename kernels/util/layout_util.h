/*
 * Dim orders in kernels. A tensor's bytes are dense in its dim order and its
 * strides follow from it (et_tensor_update_strides), so a kernel that indexes
 * through strides handles contiguous, channels-last (0, 2, 3, 1 for rank 4;
 * 0, 2, 3, 4, 1 for rank 5, as upstream's portable library accepts them)
 * and the orders that differ from these only where a dim has size 1 (torch
 * reports such orders for a channels-last [C, 1, KH, KW] depthwise weight).
 *
 * Two kinds of helper:
 * - for kernels that run over elements without caring where they sit: when
 *   operands have the same shape and the same dim order, element k of one
 *   buffer is element k of the others, so the kernel may walk the buffers
 *   flat whatever the dim order (et_k_flat_alike);
 * - for kernels over [N, C, spatial...] tensors (convolution, pooling): the
 *   element strides of n, c, d, h and w (et_k_ncdhw_strides,
 *   et_k_nchw_strides), so one loop nest indexes every layout. Such a kernel
 *   visits the same elements in the same order with the same arithmetic
 *   whatever the layout, so a channels-last tensor gives bit for bit the
 *   result of the contiguous one.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_LAYOUT_UTIL_H
#define ET_KERNELS_UTIL_LAYOUT_UTIL_H

#include <edgetorch/kernel.h>
#include <edgetorch/value.h>

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* True if a and b have the same sizes and dim order: their buffers hold the
 * same elements at the same positions and can be walked flat together. */
bool et_k_flat_alike(const et_tensor *a, const et_tensor *b);

/*
 * Element strides of an [N, C, spatial...] tensor (rank 3 to 5) in the slots
 * [n, c, d, h, w]: a rank-4 tensor has no depth and a rank-3 one neither
 * depth nor height; missing slots get stride 0 (their size is 1), so
 * offsets are n*s[0] + c*s[1] + d*s[2] + h*s[3] + w*s[4] for any rank.
 */
void et_k_ncdhw_strides(const et_tensor *t, int64_t s[5]);

/*
 * Element strides of an [N, C, H, W] or [C, H, W] tensor (the 2-D pooling
 * layouts) in the slots [n, c, h, w]; n is 0 for rank 3.
 */
void et_k_nchw_strides(const et_tensor *t, int64_t s[4]);

/*
 * Offset of plane `p` (the flat index over [N, C], p = n * C + c) of an
 * [N, C, ...] tensor with `C` channels and ncdhw or nchw strides `s` (4 or 5
 * of them; only s[0] and s[1] are read).
 */
static inline int64_t et_k_plane_offset(const int64_t *s, int64_t C, int64_t p) {
  return (p / C) * s[0] + (p % C) * s[1];
}

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_LAYOUT_UTIL_H */
