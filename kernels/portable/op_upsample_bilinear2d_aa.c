/*
 * aten::_upsample_bilinear2d_aa.out(Tensor self, SymInt[2] output_size,
 *     bool align_corners, float? scales_h=None, float? scales_w=None, *,
 *     Tensor(a!) out)
 *
 * Antialiased bilinear resize of [N, C, H, W] (PIL's triangle filter
 * stretched by the downscaling factor), as PyTorch's separable CPU kernel:
 * for each output index, the taps are [xmin, xmin + xsize) around
 * center = scale * (i + 0.5) with support max(scale, 1), weighted by
 * 1 - |(x - center + 0.5) / max(scale, 1)| and normalized. The width is
 * resampled first, its result rounded to the input dtype, then the height;
 * a dim whose size does not change is copied rather than filtered (as
 * PyTorch skips it). The weights follow PyTorch's float/double promotions
 * term by term. Computed on the fly per output element (no scratch), in
 * float (double for Double); Half/BFloat16, which PyTorch's CPU kernel
 * lacks, are computed in float too. Byte follows PyTorch's uint8
 * fixed-point path (et_upsample_bilinear_u8). Any strides.
 */
#include "portable/ops.h"

#include "util/shape_util.h"
#include "util/upsample_util.h"

#include <math.h>

/* Taps of one output index along one dim. */
typedef struct aa_taps_f32 {
  int64_t xmin, xsize;
  float center, invscale, total;
} aa_taps_f32;
typedef struct aa_taps_f64 {
  int64_t xmin, xsize;
  double center, invscale, total;
} aa_taps_f64;

static inline float filter_f32(float x) {
  x = fabsf(x);
  return x < 1.0f ? (float)(1.0 - (double)x) : 0.0f;
}
static inline double filter_f64(double x) {
  x = fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

/* The promotions of _compute_indices_min_size_weights_aa with scalar_t =
 * float: (i + 0.5) and the "+ 0.5" terms are double. */
static inline float weight_f32(const aa_taps_f32 *t, int64_t j) {
  return filter_f32(
      (float)(((double)((float)(j + t->xmin) - t->center) + 0.5) * (double)t->invscale));
}
static inline double weight_f64(const aa_taps_f64 *t, int64_t j) {
  return filter_f64(((double)(j + t->xmin) - t->center + 0.5) * t->invscale);
}

#define DEFINE_TAPS(K, CT)                                                     \
  static void taps_##K(aa_taps_##K *t, int64_t i, int64_t in, CT scale) {      \
    const CT support = scale >= 1.0 ? (CT)(1.0 * (double)scale) : (CT)1.0;     \
    const double mi = ceil((double)support) * 2 + 1;                           \
    const int64_t max_interp = mi < (double)in ? (int64_t)mi : in;             \
    t->center = (CT)((double)scale * ((double)i + 0.5));                       \
    t->invscale = scale >= 1.0 ? (CT)(1.0 / (double)scale) : (CT)1.0;          \
    const double lo = (double)(t->center - support) + 0.5;                     \
    const double hi = (double)(t->center + support) + 0.5;                     \
    /* the casts truncate toward zero, as PyTorch's static_cast */             \
    int64_t xmin = lo > 0 ? (lo < (double)in ? (int64_t)lo : in) : 0;          \
    int64_t xmax = hi < (double)in ? (hi > -1.0 ? (int64_t)hi : 0) : in;       \
    int64_t xsize = xmax - xmin;                                               \
    if (xsize < 0) xsize = 0;                                                  \
    if (xsize > max_interp) xsize = max_interp;                                \
    t->xmin = xmin;                                                            \
    t->xsize = xsize;                                                          \
    CT total = 0;                                                              \
    for (int64_t j = 0; j < xsize; j++) total += weight_##K(t, j);             \
    t->total = total;                                                          \
  }                                                                            \
  static inline CT nweight_##K(const aa_taps_##K *t, int64_t j) {              \
    const CT w = weight_##K(t, j);                                             \
    return t->total != 0 ? w / t->total : w;                                   \
  }
DEFINE_TAPS(f32, float)
DEFINE_TAPS(f64, double)

#define MATH_f32 f32
#define MATH_f16 f32
#define MATH_bf16 f32
#define MATH_f64 f64
#define AAN_(name, k) name##_##k
#define AAN(name, k) AAN_(name, k)

#define TAPS 64 /* weights of one output index kept on the stack; more are recomputed */

#define DEFINE_AA(E, T, S)                                                     \
  static void aa_##S(const et_upsample2d *g, const T *x, T *y, bool align) {   \
    typedef ET_CT(S) ct;                                                       \
    typedef AAN(aa_taps, MATH_##S) taps_t;                                     \
    const ct sh = AAN(et_upsample_scale, MATH_##S)(g->IH, g->OH, align, g->scale_h); \
    const ct sw = AAN(et_upsample_scale, MATH_##S)(g->IW, g->OW, align, g->scale_w); \
    const bool fh = g->IH != g->OH, fw = g->IW != g->OW;                       \
    ct wh[TAPS], ww[TAPS];                                                     \
    for (int64_t oh = 0; oh < g->OH; oh++) {                                   \
      taps_t th;                                                               \
      th.xmin = oh, th.xsize = 1;                                              \
      if (fh) AAN(taps, MATH_##S)(&th, oh, g->IH, sh);                         \
      for (int64_t a = 0; a < th.xsize && a < TAPS; a++)                       \
        wh[a] = fh ? AAN(nweight, MATH_##S)(&th, a) : (ct)1;                   \
      for (int64_t ow = 0; ow < g->OW; ow++) {                                 \
        taps_t tw;                                                             \
        tw.xmin = ow, tw.xsize = 1;                                            \
        if (fw) AAN(taps, MATH_##S)(&tw, ow, g->IW, sw);                       \
        for (int64_t b = 0; b < tw.xsize && b < TAPS; b++)                     \
          ww[b] = fw ? AAN(nweight, MATH_##S)(&tw, b) : (ct)1;                 \
        for (int64_t n = 0; n < g->N; n++)                                     \
          for (int64_t c = 0; c < g->C; c++) {                                 \
            const T *xp = x + n * g->is[0] + c * g->is[1];                     \
            ct acc = 0;                                                        \
            /* no taps (only with explicit scales far from the sizes): 0 */    \
            for (int64_t a = 0; a < (tw.xsize > 0 ? th.xsize : 0); a++) {      \
              const T *xr = xp + (th.xmin + a) * g->is[2] + tw.xmin * g->is[3]; \
              ct row = ET_LD(S, xr[0]);                                        \
              if (fw) {                                                        \
                row *= ww[0];                                                  \
                for (int64_t b = 1; b < tw.xsize; b++)                         \
                  row += ET_LD(S, xr[b * g->is[3]]) *                          \
                         (b < TAPS ? ww[b] : AAN(nweight, MATH_##S)(&tw, b));  \
                row = ET_LD(S, ET_ST(S, row)); /* the intermediate is stored */ \
              }                                                                \
              if (!fh)                                                         \
                acc = row;                                                     \
              else if (a == 0)                                                 \
                acc = row * wh[0];                                             \
              else                                                             \
                acc += row * (a < TAPS ? wh[a] : AAN(nweight, MATH_##S)(&th, a)); \
            }                                                                  \
            y[n * g->os[0] + c * g->os[1] + oh * g->os[2] + ow * g->os[3]] = ET_ST(S, acc); \
          }                                                                    \
      }                                                                        \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_AA)

et_status et_op_upsample_bilinear2d_aa_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const bool align = args[2]->u.b;
  et_tensor *out = args[5]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  if (in->dtype != ET_BYTE) ET_K_TRY(et_k_check_floating(ctx, in, "self"));
  const double sh = args[3]->tag == ET_TAG_DOUBLE ? args[3]->u.d : 0;
  const double sw = args[4]->tag == ET_TAG_DOUBLE ? args[4]->u.d : 0;
  et_upsample2d g;
  ET_K_TRY(et_upsample2d_init(ctx, in, args[1], NULL, sh, sw, out, &g));
  if (et_tensor_numel(out) == 0) return ET_OK;
  switch (in->dtype) {
  case ET_BYTE:
    et_upsample_bilinear_u8(&g, (const uint8_t *)in->data, (uint8_t *)out->data, align, true);
    break;
#define CASE_AA(E, T, S)                                                       \
  case E:                                                                      \
    aa_##S(&g, (const T *)in->data, (T *)out->data, align);                    \
    break;
    ET_FOREACH_FLOATHBF16(CASE_AA)
  default:
    break;
  }
  return ET_OK;
}
