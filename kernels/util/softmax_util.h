/*
 * softmax and log_softmax along one dimension (aten::_softmax.out,
 * aten::_log_softmax.out and, later, their decomposition-free relatives).
 *
 * Rows along `dim` are processed one at a time with any strides, so every
 * dim order works; each row is max-shifted before exp for stability. Half
 * and BFloat16 compute in float.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_SOFTMAX_UTIL_H
#define ET_KERNELS_UTIL_SOFTMAX_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* args = (self, dim, half_to_float, out, ret). */
et_status et_softmax_out(et_kernel_ctx *ctx, et_value **args, bool log);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_SOFTMAX_UTIL_H */
