/*
 * aten::grid_sampler_2d.out(Tensor input, Tensor grid, int interpolation_mode,
 *     int padding_mode, bool align_corners, *, Tensor(a!) out)
 *
 * Samples input [N, C, H, W] at the normalized (x, y) locations of grid
 * [N, OH, OW, 2] into out [N, C, OH, OW]. interpolation_mode 0 bilinear,
 * 1 nearest (round half to even), 2 bicubic (A = -0.75); padding_mode 0
 * zeros, 1 border, 2 reflection; align_corners maps -1/1 to the corner
 * pixels' centres (true) or edges (false).
 *
 * The arithmetic is that of PyTorch's CPU kernel (GridSamplerKernel.cpp):
 * unnormalize as (g + 1) * s (- 0.5), reflection by folding |x - low| into
 * twice the span, clipping that turns NaN into 0, bilinear weights
 * nw = (1 - dy) * (1 - dx) ... summed nw, ne, sw, se, and bicubic taps that
 * are padded one by one from the unnormalized coordinate. Taps outside the
 * input contribute zero (non-finite or huge coordinates included, without
 * undefined conversions). Floating dtypes, computed in float (double for
 * Double); Half and BFloat16 round every intermediate result to their dtype,
 * as PyTorch's vectorized kernel for them does. Any strides.
 */
#include "portable/ops.h"

#include "util/shape_util.h"

#include <math.h>

enum { MODE_BILINEAR = 0, MODE_NEAREST = 1, MODE_BICUBIC = 2 };
enum { PAD_ZEROS = 0, PAD_BORDER = 1, PAD_REFLECTION = 2 };

/* R rounds every intermediate result to the kernel's dtype: identity for
 * Float/Double, to Half/BFloat16 for those (PyTorch's Vectorized<Half> and
 * Vectorized<BFloat16> round after every operation). */
static inline float rnd_f32(float v) { return v; }
static inline double rnd_f64(double v) { return v; }
static inline float rnd_f16(float v) { return et_round_to_dtype(ET_HALF, v); }
static inline float rnd_bf16(float v) { return et_round_to_dtype(ET_BFLOAT16, v); }

#define DEFINE_GS_MATH(K, CT, FLOOR, RINT, FABS)                               \
  typedef struct axis_##K {                                                    \
    CT max_val, scale, low, twice_span, shift;                                 \
    int64_t size;                                                              \
  } axis_##K;                                                                  \
  static void axis_init_##K(axis_##K *a, int64_t size, bool align) {           \
    a->size = size;                                                            \
    a->max_val = rnd_##K((CT)(size - 1));                                      \
    a->scale = align ? rnd_##K(rnd_##K((CT)(size - 1)) / 2) : rnd_##K(rnd_##K((CT)size) / 2); \
    a->low = align ? (CT)0 : (CT)-0.5;                                         \
    a->twice_span = align ? rnd_##K(rnd_##K((CT)(size - 1)) * 2) : rnd_##K(rnd_##K((CT)size) * 2); \
    a->shift = align ? (CT)0 : (CT)0.5;                                        \
  }                                                                            \
  static inline CT unnormalize_##K(const axis_##K *a, CT g) {                  \
    return rnd_##K(rnd_##K(rnd_##K(g + 1) * a->scale) - a->shift);            \
  }                                                                            \
  /* clamp to [0, max_val]; NaN becomes 0 */                                  \
  static inline CT clip_##K(const axis_##K *a, CT x) {                         \
    x = x > 0 ? x : 0;                                                         \
    return a->max_val < x ? a->max_val : x;                                    \
  }                                                                            \
  static inline CT reflect_##K(const axis_##K *a, CT x) {                      \
    if (a->twice_span <= 0) return 0;                                          \
    const CT ax = FABS(rnd_##K(x - a->low));                                   \
    const CT flips = FLOOR(rnd_##K(ax / a->twice_span)); /* trunc: ax >= 0 */  \
    const CT extra = rnd_##K(ax - rnd_##K(flips * a->twice_span));             \
    const CT other = rnd_##K(a->twice_span - extra);                           \
    const CT m = extra != extra ? extra : (extra < other ? extra : other);     \
    return rnd_##K(m + a->low);                                                \
  }                                                                            \
  static inline CT pad_coord_##K(const axis_##K *a, CT x, int pad) {           \
    if (pad == PAD_BORDER) return clip_##K(a, x);                              \
    if (pad == PAD_REFLECTION) return clip_##K(a, reflect_##K(a, x));          \
    return x;                                                                  \
  }                                                                            \
  /* index of an integral coordinate, or -1 when outside [0, size) */          \
  static inline int64_t index_##K(const axis_##K *a, CT x) {                   \
    return (x > -1 && x < (CT)a->size) ? (int64_t)x : -1;                      \
  }                                                                            \
  /* ((A * x - 5 * A) * x + 8 * A) * x - 4 * A, rounded as it goes */          \
  static inline CT cubic_outer_##K(CT x) {                                     \
    const CT A = (CT)-0.75;                                                    \
    CT v = rnd_##K(rnd_##K(A * x) - rnd_##K(5 * A));                           \
    v = rnd_##K(rnd_##K(v * x) + rnd_##K(8 * A));                              \
    return rnd_##K(rnd_##K(v * x) - rnd_##K(4 * A));                           \
  }                                                                            \
  /* ((A + 2) * x - (A + 3)) * x * x + 1 */                                    \
  static inline CT cubic_inner_##K(CT x) {                                     \
    const CT A = (CT)-0.75;                                                    \
    CT v = rnd_##K(rnd_##K(rnd_##K(A + 2) * x) - rnd_##K(A + 3));              \
    return rnd_##K(rnd_##K(rnd_##K(v * x) * x) + 1);                           \
  }                                                                            \
  static inline void cubic_coeffs_##K(CT c[4], CT t) {                         \
    c[0] = cubic_outer_##K(rnd_##K(t + 1));                                    \
    c[1] = cubic_inner_##K(t);                                                 \
    c[2] = cubic_inner_##K(rnd_##K(1 - t));                                    \
    c[3] = cubic_outer_##K(rnd_##K(2 - t));                                    \
  }                                                                            \
  static inline CT round_##K(CT x) { return RINT(x); }                         \
  static inline CT floor__##K(CT v) { return FLOOR(v); }
DEFINE_GS_MATH(f32, float, floorf, nearbyintf, fabsf)
DEFINE_GS_MATH(f64, double, floor, nearbyint, fabs)
DEFINE_GS_MATH(f16, float, floorf, nearbyintf, fabsf)
DEFINE_GS_MATH(bf16, float, floorf, nearbyintf, fabsf)

#define GSN_(name, k) name##_##k
#define GSN(name, k) GSN_(name, k)
#define R_(S, v) rnd_##S(v)

typedef struct gs_geom {
  int64_t N, C, H, W, OH, OW;
  int64_t is[4], gs[4], os[4];
  int mode, pad;
  bool align;
} gs_geom;

#define DEFINE_GS(E, T, S)                                                     \
  static void gs_##S(const gs_geom *g, const T *x, const T *grid, T *y) {      \
    typedef ET_CT(S) ct;                                                       \
    typedef GSN(axis, S) axis_t;                                               \
    axis_t ax, ay;                                                             \
    GSN(axis_init, S)(&ax, g->W, g->align);                                    \
    GSN(axis_init, S)(&ay, g->H, g->align);                                    \
    for (int64_t n = 0; n < g->N; n++)                                         \
      for (int64_t oh = 0; oh < g->OH; oh++)                                   \
        for (int64_t ow = 0; ow < g->OW; ow++) {                               \
          const T *gp = grid + n * g->gs[0] + oh * g->gs[1] + ow * g->gs[2];   \
          const ct gx = ET_LD(S, gp[0]), gy = ET_LD(S, gp[g->gs[3]]);          \
          const T *xn = x + n * g->is[0];                                      \
          T *yp = y + n * g->os[0] + oh * g->os[2] + ow * g->os[3];            \
          if (g->mode == MODE_BICUBIC) {                                       \
            const ct fx = GSN(unnormalize, S)(&ax, gx);                        \
            const ct fy = GSN(unnormalize, S)(&ay, gy);                        \
            const ct x0 = GSN(floor_, S)(fx), y0 = GSN(floor_, S)(fy);         \
            ct cx[4], cy[4];                                                   \
            GSN(cubic_coeffs, S)(cx, R_(S, fx - x0));                          \
            GSN(cubic_coeffs, S)(cy, R_(S, fy - y0));                          \
            int64_t ix[4], iy[4];                                              \
            for (int k = 0; k < 4; k++) {                                      \
              ix[k] = GSN(index, S)(&ax, GSN(pad_coord, S)(&ax, R_(S, x0 + (ct)(k - 1)), g->pad)); \
              iy[k] = GSN(index, S)(&ay, GSN(pad_coord, S)(&ay, R_(S, y0 + (ct)(k - 1)), g->pad)); \
            }                                                                  \
            for (int64_t c = 0; c < g->C; c++) {                               \
              const T *xc = xn + c * g->is[1];                                 \
              ct acc = 0;                                                      \
              for (int r = 0; r < 4; r++) {                                    \
                ct row = 0;                                                    \
                for (int k = 0; k < 4; k++) {                                  \
                  const ct v = (ix[k] >= 0 && iy[r] >= 0)                      \
                                   ? ET_LD(S, xc[iy[r] * g->is[2] + ix[k] * g->is[3]]) \
                                   : (ct)0;                                    \
                  const ct t = R_(S, cx[k] * v);                               \
                  row = k == 0 ? t : R_(S, row + t);                           \
                }                                                              \
                const ct t = R_(S, cy[r] * row);                               \
                acc = r == 0 ? t : R_(S, acc + t);                             \
              }                                                                \
              yp[c * g->os[1]] = ET_ST(S, acc);                                \
            }                                                                  \
            continue;                                                          \
          }                                                                    \
          const ct fx = GSN(pad_coord, S)(&ax, GSN(unnormalize, S)(&ax, gx), g->pad); \
          const ct fy = GSN(pad_coord, S)(&ay, GSN(unnormalize, S)(&ay, gy), g->pad); \
          if (g->mode == MODE_NEAREST) {                                       \
            const int64_t ix = GSN(index, S)(&ax, GSN(round, S)(fx));          \
            const int64_t iy = GSN(index, S)(&ay, GSN(round, S)(fy));          \
            for (int64_t c = 0; c < g->C; c++)                                 \
              yp[c * g->os[1]] = (ix >= 0 && iy >= 0)                          \
                                     ? xn[c * g->is[1] + iy * g->is[2] + ix * g->is[3]] \
                                     : ET_ST(S, (ct)0);                        \
            continue;                                                          \
          }                                                                    \
          const ct xw = GSN(floor_, S)(fx), yn = GSN(floor_, S)(fy);           \
          const ct dw = R_(S, fx - xw), de = R_(S, 1 - dw);                    \
          const ct dn = R_(S, fy - yn), ds = R_(S, 1 - dn);                    \
          const ct wnw = R_(S, ds * de), wne = R_(S, ds * dw);                 \
          const ct wsw = R_(S, dn * de), wse = R_(S, dn * dw);                 \
          const int64_t iw = GSN(index, S)(&ax, xw);                           \
          const int64_t ie = GSN(index, S)(&ax, R_(S, xw + 1));                \
          const int64_t in_ = GSN(index, S)(&ay, yn);                          \
          const int64_t is_ = GSN(index, S)(&ay, R_(S, yn + 1));               \
          for (int64_t c = 0; c < g->C; c++) {                                 \
            const T *xc = xn + c * g->is[1];                                   \
            const ct vnw = (iw >= 0 && in_ >= 0) ? ET_LD(S, xc[in_ * g->is[2] + iw * g->is[3]]) : 0; \
            const ct vne = (ie >= 0 && in_ >= 0) ? ET_LD(S, xc[in_ * g->is[2] + ie * g->is[3]]) : 0; \
            const ct vsw = (iw >= 0 && is_ >= 0) ? ET_LD(S, xc[is_ * g->is[2] + iw * g->is[3]]) : 0; \
            const ct vse = (ie >= 0 && is_ >= 0) ? ET_LD(S, xc[is_ * g->is[2] + ie * g->is[3]]) : 0; \
            ct acc = R_(S, R_(S, vnw * wnw) + R_(S, vne * wne));               \
            acc = R_(S, acc + R_(S, vsw * wsw));                               \
            yp[c * g->os[1]] = ET_ST(S, acc + R_(S, vse * wse));               \
          }                                                                    \
        }                                                                      \
  }
ET_FOREACH_FLOATHBF16(DEFINE_GS)

et_status et_op_grid_sampler_2d_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *grid = args[1]->u.t;
  et_tensor *out = args[5]->u.t;
  gs_geom g;
  g.mode = (int)args[2]->u.i;
  g.pad = (int)args[3]->u.i;
  g.align = args[4]->u.b;
  ET_K_TRY(et_k_check_tensor(ctx, in, "input"));
  ET_K_TRY(et_k_check_tensor(ctx, grid, "grid"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, in, "input"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", grid, "grid"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", out, "out"));
  ET_K_TRY(et_k_check_rank(ctx, in, 4, 4, "input"));
  ET_K_TRY(et_k_check_rank(ctx, grid, 4, 4, "grid"));
  if (args[2]->u.i < 0 || args[2]->u.i > 2)
    return ET_K_FAIL(ctx, "interpolation_mode: expected 0 (bilinear), 1 (nearest) or 2 "
                          "(bicubic), got %lld",
                     (long long)args[2]->u.i);
  if (args[3]->u.i < 0 || args[3]->u.i > 2)
    return ET_K_FAIL(ctx, "padding_mode: expected 0 (zeros), 1 (border) or 2 (reflection), "
                          "got %lld",
                     (long long)args[3]->u.i);
  if (grid->sizes[0] != in->sizes[0])
    return ET_K_FAIL(ctx, "input and grid must have the same batch size (%d and %d)",
                     (int)in->sizes[0], (int)grid->sizes[0]);
  if (grid->sizes[3] != 2)
    return ET_K_FAIL(ctx, "grid: last dim must have size 2, got %d", (int)grid->sizes[3]);
  if (in->sizes[2] == 0 || in->sizes[3] == 0)
    return ET_K_FAIL(ctx, "input: expected non-empty spatial dims");
  g.N = in->sizes[0], g.C = in->sizes[1], g.H = in->sizes[2], g.W = in->sizes[3];
  g.OH = grid->sizes[1], g.OW = grid->sizes[2];
  const int64_t osz[4] = {g.N, g.C, g.OH, g.OW};
  ET_K_TRY(et_k_resize(ctx, out, osz, 4, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  for (int d = 0; d < 4; d++) {
    g.is[d] = in->strides[d];
    g.gs[d] = grid->strides[d];
    g.os[d] = out->strides[d];
  }
  switch (in->dtype) {
#define CASE_GS(E, T, S)                                                       \
  case E:                                                                      \
    gs_##S(&g, (const T *)in->data, (const T *)grid->data, (T *)out->data);    \
    break;
    ET_FOREACH_FLOATHBF16(CASE_GS)
  default:
    break;
  }
  return ET_OK;
}
