/*
 * The `SymInt[] size` argument of the factory operators (empty, zeros,
 * ones, rand, randn, _empty_dim_order): read, checked and applied to out.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_FACTORY_UTIL_H
#define ET_KERNELS_UTIL_FACTORY_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Resize out to the sizes in `size` (an int list); negative sizes, more
 * than ET_MAX_RANK of them or a rank other than out's fail. */
et_status et_k_resize_to_size_arg(et_kernel_ctx *ctx, const et_value *size, et_tensor *out);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_FACTORY_UTIL_H */
