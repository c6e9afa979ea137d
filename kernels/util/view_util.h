/*
 * Target sizes of a view/reshape (aten::view_copy, executorch_prim::et_view):
 * at most one -1, inferred from the element count; no other negative size;
 * the element count must match.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_VIEW_UTIL_H
#define ET_KERNELS_UTIL_VIEW_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* sizes holds ET_MAX_RANK items; `size` is the int list argument. */
et_status et_view_sizes(et_kernel_ctx *ctx, const et_tensor *in, const et_value *size,
                        int64_t *sizes, uint32_t *rank);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_VIEW_UTIL_H */
