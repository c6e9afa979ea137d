/*
 * Whole-tensor copies shared by the identity-like operators (detach_copy,
 * lift_fresh_copy, et_copy::_h2d_copy/_d2h_copy): argument checks, the
 * resize of out and the copy.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_COPY_UTIL_H
#define ET_KERNELS_UTIL_COPY_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * out = self: same dtype, out resized to self's shape; the dim orders may
 * differ (the copy converts the layout; equal layouts are one memmove).
 */
et_status et_k_copy_identity(et_kernel_ctx *ctx, const et_tensor *self, et_tensor *out);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_COPY_UTIL_H */
