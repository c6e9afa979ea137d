/*
 * Shared argument handling of the 2-D pooling kernels (max_pool2d,
 * avg_pool2d; later their backward and 1-D/3-D relatives): parameter lists,
 * PyTorch's output-size rule (with ceil_mode) and its validity checks.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_POOL_UTIL_H
#define ET_KERNELS_UTIL_POOL_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_pool2d {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  int64_t C, H, W, OH, OW; /* C counts batch * channels (planes) */
  int64_t chans;           /* channels of one image */
} et_pool2d;

/*
 * Read kernel_size (1 or 2 values), stride (0 values = kernel_size, 1 or 2),
 * padding (1 or 2) and dilation (NULL = 1; else 1 or 2 values) for input
 * `in` ([C, H, W] or [N, C, H, W], contiguous or channels-last, non-empty H
 * and W), check
 * them as PyTorch does (positive kernel/stride/dilation, padding at most
 * half the effective kernel) and compute the output size with ceil_mode.
 * Fills `p` and out_sizes (rank of in).
 */
et_status et_pool2d_init(et_kernel_ctx *ctx, const et_tensor *in, const et_value *kernel,
                         const et_value *stride, const et_value *padding,
                         const et_value *dilation, bool ceil_mode, et_pool2d *p,
                         int64_t *out_sizes);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_POOL_UTIL_H */
