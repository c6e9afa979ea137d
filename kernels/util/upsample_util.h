/*
 * Shared arithmetic of the 2-D upsampling kernels (upsample_nearest2d,
 * upsample_bilinear2d, _upsample_bilinear2d_aa), following PyTorch's
 * UpSample.h: output sizes of the .vec variants, the source/destination
 * scale (area_pixel_compute_scale) and the source index and weights of a
 * linear tap, computed in the kernel's math type (float for
 * Float/Half/BFloat16, double for Double) so the same rounding happens.
 *
 * A `scale` argument of 0 (or less) means "not given": the ratio of input
 * to output size is used instead.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_UPSAMPLE_UTIL_H
#define ET_KERNELS_UTIL_UPSAMPLE_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Spatial geometry of a [N, C, H, W] input and its output, with strides. */
typedef struct et_upsample2d {
  int64_t N, C, IH, IW, OH, OW;
  int64_t is[4], os[4]; /* strides of input and output, in elements */
  double scale_h, scale_w; /* the given scales, or 0 */
} et_upsample2d;

/*
 * Checks of upsample_2d_common_check (a 4-D input whose dims after the
 * batch are non-zero, positive output sizes, out of input's dtype) and the
 * output size: from output_size (an int list of 2, or None) or from
 * scale_factors (a double list of 2, or None; size = floor(in * scale)),
 * exactly one of which is given. Fills g (scales only when scale_factors is
 * given) and resizes out. A NULL scale_factors means the operator has
 * explicit scales_h/scales_w instead (passed in scale_h/scale_w).
 */
et_status et_upsample2d_init(et_kernel_ctx *ctx, const et_tensor *in, const et_value *output_size,
                             const et_value *scale_factors, double scale_h, double scale_w,
                             et_tensor *out, et_upsample2d *g);

/* area_pixel_compute_scale. */
float et_upsample_scale_f32(int64_t in, int64_t out, bool align_corners, double scale);
double et_upsample_scale_f64(int64_t in, int64_t out, bool align_corners, double scale);

/*
 * compute_source_index_and_lambda for output index `dst`: the two source
 * indices and their weights (l0 + l1 = 1).
 */
void et_upsample_linear_f32(int64_t dst, int64_t in, int64_t out, bool align_corners,
                            float scale, int64_t *i0, int64_t *i1, float *l0, float *l1);
void et_upsample_linear_f64(int64_t dst, int64_t in, int64_t out, bool align_corners,
                            double scale, int64_t *i0, int64_t *i1, double *l0, double *l1);

/*
 * Nearest-neighbour source index (nearest_idx): identity when the sizes
 * match, dst / 2 when the output is twice the input, otherwise
 * min(floor(dst * scale), in - 1) in float.
 */
int64_t et_upsample_nearest_index(int64_t dst, int64_t in, int64_t out, float scale);

/*
 * Bilinear resize of uint8 data ([N, C, H, W] with g's strides), plain
 * (upsample_bilinear2d) or antialiased (_upsample_bilinear2d_aa), as
 * PyTorch's uint8 CPU kernels (the Pillow-SIMD-derived AVX2 path, and the
 * separable fallback, which gives the same values): per dim, PIL-style tap
 * ranges and triangle-filter weights in double, normalized, then turned into
 * fixed-point integers with the largest precision that keeps every weight
 * below 2^15; the width is resampled first (rounded and clamped to 0..255),
 * then the height; a dim whose size does not change is not resampled.
 * Each pass computes (2^(p-1) + sum(weight * pixel)) >> p, clamped.
 */
void et_upsample_bilinear_u8(const et_upsample2d *g, const uint8_t *x, uint8_t *y,
                             bool align_corners, bool antialias);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_UPSAMPLE_UTIL_H */
