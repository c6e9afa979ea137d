/*
 * p-norm distances between rows, for _cdist_forward and _pdist_forward.
 *
 * As PyTorch's Distance kernels: p = 0 counts the differing coordinates,
 * p = 1 sums |a - b|, p = 2 is the square root of the sum of squares,
 * p = inf takes the largest |a - b|, and any other p is
 * (sum |a - b|^p)^(1/p). Sums accumulate in float for Float/Half/BFloat16
 * and in double for Double, coordinate by coordinate (the direct method; no
 * matrix-product shortcut).
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_DISTANCE_UTIL_H
#define ET_KERNELS_UTIL_DISTANCE_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * out[j * os] = dist_p(a, b_j) for j < nrows, where a is a row of n
 * elements `as` apart and b_j starts at b + j * brs with elements `bs` apart
 * (strides in elements). a, b and out share one floating dtype.
 */
void et_distance_rows(int dtype, double p, const void *a, int64_t as, const void *b,
                      int64_t brs, int64_t bs, int64_t nrows, int64_t n, void *out,
                      int64_t os);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_DISTANCE_UTIL_H */
