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

/*
 * `value` (an Int, Double or Bool scalar) as one element of `dtype`, written
 * to `elem` (et_dtype_size(dtype) bytes), refusing what c10's checked
 * conversion refuses (fill_, scatter.value): integers outside the target
 * range (Byte also takes -255..-1, wrapping), NaN/inf/out-of-range doubles
 * for integer targets, finite values beyond a float type's range. Anything
 * converts to Bool. The failure names `name`.
 */
et_status et_scalar_to_elem_checked(et_kernel_ctx *ctx, const et_value *value, int dtype,
                                    void *elem, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_FILL_UTIL_H */
