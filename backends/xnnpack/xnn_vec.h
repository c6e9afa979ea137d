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

/* `npix` output pixels of a depthwise convolution with one output channel
 * per input channel, over `taps` window taps that lie inside the input for
 * every one of them (a run of pixels along an output row, each `xstride`
 * floats further in the input and `zstride` further in the output):
 *   z[p * zstride + k] = clamp(bias[k] (0 when bias is NULL)
 *                              + sum_t x[t][p * xstride + k] * w[t][k])
 * for p < npix, k < c, the taps summed in order (so a run gives the same
 * bits as its pixels one at a time). */
typedef void et_xnn_dw_fn(size_t c, size_t taps, const float *const *x,
                          const float *const *w, const float *bias, float *z,
                          float lo, float hi, size_t npix, size_t xstride,
                          size_t zstride);
et_xnn_dw_fn *et_xnn_dw_pick(void);

/* One output row of a depthwise convolution in planar (NCHW) layout, over
 * `taps` window taps inside the input for every one of the n outputs:
 *   y[o] = bias + sum_t w[t] * x[t][o * stride]     (o < n, stride 1 or 2)
 * the taps summed in order. x[t] points at tap t's input for output 0. */
typedef void et_xnn_dw_row_fn(size_t n, size_t taps, const float *const *x,
                              const float *w, float bias, float *y,
                              size_t stride);
et_xnn_dw_row_fn *et_xnn_dw_row_pick(void);

/* y[i] += a * x[i] for i < n (x and y do not overlap). */
typedef void et_xnn_axpy_fn(size_t n, float a, const float *x, float *y);
et_xnn_axpy_fn *et_xnn_axpy_pick(void);

/* Element-wise functions: z[i] = f(x[i]) for i < n (z may be x). The
 * vector versions keep within 4 ulp of the exact result (GELU: plus
 * 1.5e-7 times |x| and |result|, from its erf approximation), give NaN for
 * NaN and the exact limits at the infinities; results below FLT_MIN may be
 * off by up to FLT_MIN. */
enum {
  ET_XNN_V_EXP,     /* e^x */
  ET_XNN_V_SIGMOID, /* 1 / (1 + e^-x) */
  ET_XNN_V_TANH,
  ET_XNN_V_GELU, /* x / 2 * (1 + erf(x / sqrt 2)) */
  ET_XNN_V_COUNT
};
typedef void et_xnn_vfn(size_t n, const float *x, float *z);
et_xnn_vfn *et_xnn_vfn_pick(int fn);

/* One softmax row: z[i] = e^(x[i] - max x) / sum_j e^(x[j] - max x). */
typedef void et_xnn_softmax_fn(size_t n, const float *x, float *z);
et_xnn_softmax_fn *et_xnn_softmax_pick(void);

#endif
