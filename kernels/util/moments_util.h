/*
 * First and second moments (mean and the sum of squared deviations) for
 * var, var_mean, group norm and training batch norm.
 *
 * Everything accumulates in double, in two passes (mean first, then the
 * squared deviations from it), whatever the input dtype: the statistics
 * come out as accurate as PyTorch's (which accumulates float and Half
 * variance in double too) and are rounded once when stored.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_MOMENTS_UTIL_H
#define ET_KERNELS_UTIL_MOMENTS_UTIL_H

#include <edgetorch/kernel.h>

#include "util/broadcast_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sum of n elements at src (dtype, `stride` elements apart), in double
 * (et_reduce_add with a Double accumulator). */
double et_moments_sum(const void *src, int dtype, int64_t stride, int64_t n);

/* Sum of (x - mean)^2 over n elements at src, in double. */
double et_moments_m2(const void *src, int dtype, int64_t stride, int64_t n, double mean);

/*
 * Mean and sum of squared deviations over every run of `red` (offsets
 * relative to `base`, in elements of data), `count` elements in all. With
 * count 0 the mean is NaN (0/0) and m2 is 0.
 */
void et_moments_iter(const void *data, int dtype, int64_t base, et_nd_iter *red,
                     int64_t count, double *out_mean, double *out_m2);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_MOMENTS_UTIL_H */
