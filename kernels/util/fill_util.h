/*
 * Filling a tensor with a scalar (full, full_like, later fill/zeros/ones).
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_FILL_UTIL_H
#define ET_KERNELS_UTIL_FILL_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every element of `out` (whatever its dim order) becomes `value` (an Int,
 * Double or Bool scalar) converted to out's dtype as a PyTorch cast would.
 */
et_status et_fill_scalar(et_kernel_ctx *ctx, et_tensor *out, const et_value *value);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_FILL_UTIL_H */
