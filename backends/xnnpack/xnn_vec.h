/*
 * Vector micro kernels of the CPU backend besides the GEMM (xnn_gemm.h):
 * depthwise convolution pixels and element-wise transcendental functions.
 * Each has a plain C version and an AVX2+FMA one (x86, chosen at run time
 * with the GEMM's path, et_xnn_gemm_path()); results of the two may differ
 * by FMA rounding and, for the functions, by a few ulp (allowed in
 * backends; each is tested against a plain reference).
 *
 * No allocation, no OS; thread-safety: pure functions.
 */
#ifndef EDGETORCH_XNN_VEC_H
#define EDGETORCH_XNN_VEC_H

#include <stddef.h>

/* One output pixel of a depthwise convolution with one output channel per
 * input channel, over `taps` window taps that lie inside the input:
 *   z[k] = clamp(bias[k] (0 when bias is NULL) + sum_t x[t][k] * w[t][k])
 * for k < c, the taps summed in order. */
typedef void et_xnn_dw_fn(size_t c, size_t taps, const float *const *x,
                          const float *const *w, const float *bias, float *z,
                          float lo, float hi);
et_xnn_dw_fn *et_xnn_dw_pick(void);

#endif
