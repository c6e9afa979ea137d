/*
 * aten::upsample_bilinear2d.vec_out(Tensor input, SymInt[]? output_size,
 *     bool align_corners, float[]? scale_factors, *, Tensor(a!) out)
 *
 * Bilinear resize of the last two dims of [N, C, H, W], as PyTorch's CPU
 * kernel: the output size is output_size or floor(in * scale); source
 * coordinates come from area_pixel_compute_scale / _source_index (with the
 * given scale when scale_factors are used and align_corners is false), and
 * out = (x00 * w0 + x01 * w1) * h0 + (x10 * w0 + x11 * w1) * h1, computed
 * in float (double for Double). Half/BFloat16 weights are rounded to the
 * input dtype first, as PyTorch stores them. Floating dtypes and Byte,
 * which follows PyTorch's separate uint8 fixed-point path
 * (et_upsample_bilinear_u8); any strides.
 */
#include "portable/ops.h"

#include "util/shape_util.h"
#include "util/upsample_util.h"

#define WCHUNK 128

#define MATH_f32 f32
#define MATH_f16 f32
#define MATH_bf16 f32
#define MATH_f64 f64
#define UFN_(name, k) et_upsample_##name##_##k
#define UFN(name, k) UFN_(name, k)

#define DEFINE_BILINEAR(E, T, S)                                               \
  static void bilinear_##S(const et_upsample2d *g, const T *x, T *y, bool align) { \
    typedef ET_CT(S) ct;                                                       \
    const ct sh = UFN(scale, MATH_##S)(g->IH, g->OH, align, g->scale_h);       \
    const ct sw = UFN(scale, MATH_##S)(g->IW, g->OW, align, g->scale_w);       \
    int64_t iw0[WCHUNK], iw1[WCHUNK];                                          \
    ct lw0[WCHUNK], lw1[WCHUNK];                                               \
    for (int64_t w0 = 0; w0 < g->OW; w0 += WCHUNK) {                           \
      const int64_t len = g->OW - w0 < WCHUNK ? g->OW - w0 : WCHUNK;           \
      for (int64_t j = 0; j < len; j++) {                                      \
        UFN(linear, MATH_##S)(w0 + j, g->IW, g->OW, align, sw, &iw0[j], &iw1[j], &lw0[j], \
                              &lw1[j]);                                        \
        iw0[j] *= g->is[3];                                                    \
        iw1[j] *= g->is[3];                                                    \
        lw0[j] = ET_LD(S, ET_ST(S, lw0[j]));                                   \
        lw1[j] = ET_LD(S, ET_ST(S, lw1[j]));                                   \
      }                                                                        \
      for (int64_t oh = 0; oh < g->OH; oh++) {                                 \
        int64_t ih0, ih1;                                                      \
        ct lh0, lh1;                                                           \
        UFN(linear, MATH_##S)(oh, g->IH, g->OH, align, sh, &ih0, &ih1, &lh0, &lh1); \
        lh0 = ET_LD(S, ET_ST(S, lh0));                                         \
        lh1 = ET_LD(S, ET_ST(S, lh1));                                         \
        for (int64_t n = 0; n < g->N; n++)                                     \
          for (int64_t c = 0; c < g->C; c++) {                                 \
            const T *xp = x + n * g->is[0] + c * g->is[1];                     \
            const T *r0 = xp + ih0 * g->is[2], *r1 = xp + ih1 * g->is[2];      \
            T *yr = y + n * g->os[0] + c * g->os[1] + oh * g->os[2] + w0 * g->os[3]; \
            const int64_t ys = g->os[3];                                       \
            for (int64_t j = 0; j < len; j++) {                                \
              const ct t0 = ET_LD(S, r0[iw0[j]]) * lw0[j] + ET_LD(S, r0[iw1[j]]) * lw1[j]; \
              const ct t1 = ET_LD(S, r1[iw0[j]]) * lw0[j] + ET_LD(S, r1[iw1[j]]) * lw1[j]; \
              yr[j * ys] = ET_ST(S, t0 * lh0 + t1 * lh1);                      \
            }                                                                  \
          }                                                                    \
      }                                                                        \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_BILINEAR)

et_status et_op_upsample_bilinear2d_vec_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const bool align = args[2]->u.b;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "input"));
  if (in->dtype != ET_BYTE) ET_K_TRY(et_k_check_floating(ctx, in, "input"));
  et_upsample2d g;
  ET_K_TRY(et_upsample2d_init(ctx, in, args[1], args[3], 0, 0, out, &g));
  if (et_tensor_numel(out) == 0) return ET_OK;
  switch (in->dtype) {
  case ET_BYTE:
    et_upsample_bilinear_u8(&g, (const uint8_t *)in->data, (uint8_t *)out->data, align, false);
    break;
#define CASE_BIL(E, T, S)                                                      \
  case E:                                                                      \
    bilinear_##S(&g, (const T *)in->data, (T *)out->data, align);              \
    break;
    ET_FOREACH_FLOATHBF16(CASE_BIL)
  default:
    break;
  }
  return ET_OK;
}
