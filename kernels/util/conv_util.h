/*
 * Shared argument handling of the convolution kernels (aten::convolution and
 * aten::convolution_backward): the geometry of a 1-D, 2-D or 3-D, plain or
 * transposed convolution with groups, read from the operator's arguments,
 * checked as PyTorch checks it, and PyTorch's output-size rule.
 *
 * Every convolution is described as a 3-D one: a 1-D convolution ([N, C, L])
 * has depth and height 1, a 2-D one ([N, C, H, W]) depth 1, with kernel size
 * 1, stride 1, padding 0 and dilation 1 in the added dimensions, so kernels
 * need only one set of loops.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_CONV_UTIL_H
#define ET_KERNELS_UTIL_CONV_UTIL_H

#include <edgetorch/kernel.h>
#include <edgetorch/value.h>

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_conv_geom {
  uint32_t spatial; /* 1, 2 or 3: the number of spatial dimensions */
  bool transposed;
  int64_t N, Cin, Cout, groups;
  int64_t cin_g, cout_g; /* channels per group */
  /* [0] depth, [1] height, [2] width; unused leading dims as described above */
  int64_t in[3], out[3], k[3];
  int64_t stride[3], pad[3], dil[3], opad[3];
} et_conv_geom;

/*
 * Read and check the geometry of a convolution of `input` ([N, Cin, ...],
 * rank 3 to 5) with `weight` ([Cout, Cin/groups, ...], or [Cin,
 * Cout/groups, ...] when transposed, same rank): stride, padding, dilation
 * and output_padding are int lists of 1 value (for every spatial dim) or one
 * per spatial dim (output_padding is read only when transposed); stride and
 * dilation at least 1, padding and output_padding at least 0, every value at
 * most INT32_MAX. Checks channels against groups and the weight's shape
 * (at least `groups` rows, as PyTorch: so a transposed convolution needs
 * input channels),
 * positive spatial input and kernel sizes, output_padding smaller than
 * stride or dilation (transposed), that the output size is positive, and
 * that the input, output and kernel volumes fit int64. Failures are
 * InvalidArgument naming the argument.
 */
et_status et_conv_geom_init(et_kernel_ctx *ctx, const et_tensor *input, const et_tensor *weight,
                            const et_value *stride, const et_value *padding,
                            const et_value *dilation, bool transposed,
                            const et_value *output_padding, int64_t groups, et_conv_geom *g);

/* The output's sizes, [N, Cout, spatial sizes...] (rank spatial + 2); as in
 * PyTorch, an input with no channels gives an output with no channels. */
void et_conv_out_sizes(const et_conv_geom *g, int64_t *out_sizes);

/*
 * A depthwise convolution of contiguous tensors (one input and one output
 * channel per group, not transposed) as the optimized table gives it to the
 * shared convolution kernel (portable/ops.h, et_convolution_out_with), after
 * every check and the resize: true when it computed out, false when it does
 * not take the case (then the kernel's own paths run).
 */
typedef bool (*et_conv_depthwise_fn)(et_kernel_ctx *ctx, const et_conv_geom *g, int dtype,
                                     const void *x, const void *w, const void *bias,
                                     void *y);

/* Elements of one spatial volume of the input / output (D * H * W). */
static inline int64_t et_conv_in_volume(const et_conv_geom *g) {
  return g->in[0] * g->in[1] * g->in[2];
}
static inline int64_t et_conv_out_volume(const et_conv_geom *g) {
  return g->out[0] * g->out[1] * g->out[2];
}
/* Elements of one kernel (KD * KH * KW). */
static inline int64_t et_conv_kernel_volume(const et_conv_geom *g) {
  return g->k[0] * g->k[1] * g->k[2];
}

/*
 * For positions p = b * s + base (b = 0, 1, ...), the b with p in [0, n)
 * form [*lo, *hi), clipped to [0, bmax) (lo <= hi).
 */
static inline void et_conv_valid_range(int64_t base, int64_t s, int64_t n, int64_t bmax,
                                       int64_t *lo, int64_t *hi) {
  *lo = base >= 0 ? 0 : (-base + s - 1) / s;
  const int64_t last = n - 1 - base;
  *hi = last < 0 ? 0 : last / s + 1;
  if (*hi > bmax) *hi = bmax;
  if (*lo > *hi) *lo = *hi;
}

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_CONV_UTIL_H */
