/* Upsampling sizes, scales and linear taps (PyTorch's UpSample.h). */
#include "util/upsample_util.h"

#include "util/dtype_util.h"
#include "util/scalar_util.h"
#include "util/shape_util.h"

#include <math.h>

static et_status read_pair_int(et_kernel_ctx *ctx, const et_value *v, int64_t out[2]) {
  size_t n;
  int64_t tmp[ET_MAX_RANK];
  ET_K_TRY(et_k_int_list(ctx, v, tmp, ET_MAX_RANK, &n, "output_size"));
  if (n != 2) return ET_K_FAIL(ctx, "output_size: expected 2 values, got %zu", n);
  out[0] = tmp[0];
  out[1] = tmp[1];
  return ET_OK;
}

et_status et_upsample2d_init(et_kernel_ctx *ctx, const et_tensor *in, const et_value *output_size,
                             const et_value *scale_factors, double scale_h, double scale_w,
                             et_tensor *out, et_upsample2d *g) {
  ET_K_TRY(et_k_check_tensor(ctx, in, "input"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", out, "out"));
  if (in->rank != 4 || in->sizes[1] == 0 || in->sizes[2] == 0 || in->sizes[3] == 0) {
    char s[96];
    et_k_tensor_shape_str(s, sizeof s, in);
    return ET_K_FAIL(ctx, "input: non-empty 4D data tensor expected but got sizes %s", s);
  }
  g->N = in->sizes[0], g->C = in->sizes[1], g->IH = in->sizes[2], g->IW = in->sizes[3];
  g->scale_h = scale_h > 0 ? scale_h : 0;
  g->scale_w = scale_w > 0 ? scale_w : 0;
  int64_t o[2] = {0, 0};
  const bool has_size = output_size && output_size->tag == ET_TAG_LIST_INT;
  const bool has_scales = scale_factors && scale_factors->tag == ET_TAG_LIST_DOUBLE;
  if (scale_factors) {
    if (has_size == has_scales)
      return ET_K_FAIL(ctx, "must specify exactly one of output_size and scale_factors");
    if (has_scales) {
      if (scale_factors->u.dlist.len != 2)
        return ET_K_FAIL(ctx, "scale_factors: expected 2 values, got %zu",
                         scale_factors->u.dlist.len);
      const double s[2] = {et_double_list_get(scale_factors, 0),
                           et_double_list_get(scale_factors, 1)};
      const int64_t isz[2] = {g->IH, g->IW};
      for (int k = 0; k < 2; k++) {
        const double v = (double)isz[k] * s[k];
        char num[32];
        if (!(v >= 0 && v < 2147483648.0))
          return ET_K_FAIL(ctx, "scale_factors: %s gives an invalid output size",
                           et_double_str(s[k], num, sizeof num));
        o[k] = (int64_t)v;
      }
      g->scale_h = s[0] > 0 ? s[0] : 0;
      g->scale_w = s[1] > 0 ? s[1] : 0;
    }
  }
  if (has_size) ET_K_TRY(read_pair_int(ctx, output_size, o));
  if (o[0] <= 0 || o[1] <= 0)
    return ET_K_FAIL(ctx, "input and output sizes should be greater than 0, got output (%lld, "
                          "%lld)",
                     (long long)o[0], (long long)o[1]);
  g->OH = o[0], g->OW = o[1];
  const int64_t osz[4] = {g->N, g->C, g->OH, g->OW};
  ET_K_TRY(et_k_resize(ctx, out, osz, 4, "out"));
  for (int d = 0; d < 4; d++) {
    g->is[d] = in->strides[d];
    g->os[d] = out->strides[d];
  }
  return ET_OK;
}

float et_upsample_scale_f32(int64_t in, int64_t out, bool align_corners, double scale) {
  if (align_corners) return out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
  return scale > 0 ? (float)(1.0 / scale) : (float)in / (float)out;
}

double et_upsample_scale_f64(int64_t in, int64_t out, bool align_corners, double scale) {
  if (align_corners) return out > 1 ? (double)(in - 1) / (double)(out - 1) : 0.0;
  return scale > 0 ? 1.0 / scale : (double)in / (double)out;
}

void et_upsample_linear_f32(int64_t dst, int64_t in, int64_t out, bool align_corners,
                            float scale, int64_t *i0, int64_t *i1, float *l0, float *l1) {
  if (in == out) {
    *i0 = *i1 = dst;
    *l0 = 1;
    *l1 = 0;
    return;
  }
  float src = align_corners ? scale * (float)dst : scale * ((float)dst + 0.5f) - 0.5f;
  if (!align_corners && src < 0) src = 0;
  /* min(floor(src), in - 1), without converting an out-of-range float */
  int64_t i = src < (float)(in - 1) ? (int64_t)floorf(src) : in - 1;
  float l = src - (float)i;
  l = l < 0 ? 0 : l > 1 ? 1 : l;
  *i0 = i;
  *i1 = i + (i < in - 1 ? 1 : 0);
  *l1 = l;
  *l0 = 1.0f - l;
}

void et_upsample_linear_f64(int64_t dst, int64_t in, int64_t out, bool align_corners,
                            double scale, int64_t *i0, int64_t *i1, double *l0, double *l1) {
  if (in == out) {
    *i0 = *i1 = dst;
    *l0 = 1;
    *l1 = 0;
    return;
  }
  double src = align_corners ? scale * (double)dst : scale * ((double)dst + 0.5) - 0.5;
  if (!align_corners && src < 0) src = 0;
  /* PyTorch floors with floorf even for double */
  int64_t i = src < (double)(in - 1) ? (int64_t)floorf((float)src) : in - 1;
  double l = src - (double)i;
  l = l < 0 ? 0 : l > 1 ? 1 : l;
  *i0 = i;
  *i1 = i + (i < in - 1 ? 1 : 0);
  *l1 = l;
  *l0 = 1.0 - l;
}

int64_t et_upsample_nearest_index(int64_t dst, int64_t in, int64_t out, float scale) {
  if (out == in) return dst;
  if (out == 2 * in) return dst >> 1;
  const float src = (float)dst * scale;
  return src < (float)(in - 1) ? (int64_t)floorf(src) : in - 1;
}

/* ---- uint8 bilinear (fixed-point, separable) ------------------------------ */

#define U8_TAPS 64 /* weights of one output index kept on the stack; more are recomputed */

/* One resampled dim: PyTorch's _compute_index_ranges_int16_weights. */
typedef struct u8_axis {
  int64_t in, maxi;
  double scale, support, invscale, delta;
  unsigned prec;
} u8_axis;

typedef struct u8_taps {
  int64_t xmin, xsize;
  double center, total;
} u8_taps;

static double u8_filter(const u8_axis *a, const u8_taps *t, int64_t j) {
  double v = ((double)(j + t->xmin) - t->center + 0.5 - a->delta) * a->invscale;
  v = fabs(v);
  return v < 1.0 ? 1.0 - v : 0.0;
}

static void u8_taps_of(const u8_axis *a, int64_t i, u8_taps *t) {
  t->center = a->scale * ((double)i + 0.5 - a->delta);
  /* the int64 casts truncate toward zero, as PyTorch's static_cast */
  int64_t xmin = et_f64_to_i64(t->center - a->support + 0.5 + a->delta);
  int64_t xmax = et_f64_to_i64(t->center + a->support + 0.5 + a->delta);
  if (xmin < 0) xmin = 0;
  if (xmax > a->in) xmax = a->in;
  int64_t xsize = xmax - xmin;
  /* rounding can give one tap more than the filter has: PyTorch clips */
  xsize = xsize < 0 ? 0 : xsize > a->maxi ? a->maxi : xsize;
  t->xmin = xmin;
  t->xsize = xsize;
  double total = 0.0;
  for (int64_t j = 0; j < xsize; j++) total += u8_filter(a, t, j);
  t->total = total;
}

static double u8_weight_f64(const u8_axis *a, const u8_taps *t, int64_t j) {
  const double w = u8_filter(a, t, j);
  return t->total != 0.0 ? w / t->total : w;
}

/* Weights are never negative for the triangle filter. */
static int32_t u8_weight(const u8_axis *a, const u8_taps *t, int64_t j) {
  return (int32_t)(0.5 + u8_weight_f64(a, t, j) * (double)(1 << a->prec));
}

static void u8_axis_init(u8_axis *a, int64_t in, int64_t out, bool align, double scale,
                         bool antialias) {
  a->in = in;
  a->scale = et_upsample_scale_f64(in, out, align, scale);
  if (antialias) {
    a->support = a->scale >= 1.0 ? a->scale : 1.0;
    const double mi = ceil(a->support) * 2 + 1;
    a->maxi = mi < (double)in ? (int64_t)mi : in;
    a->invscale = a->scale >= 1.0 ? 1.0 / a->scale : 1.0;
    a->delta = 0.0;
  } else {
    a->support = 1.0;
    a->maxi = 2;
    a->invscale = 1.0;
    a->delta = align ? 0.5 : 0.0;
  }
  double wmax = 0.0;
  for (int64_t i = 0; i < out; i++) {
    u8_taps t;
    u8_taps_of(a, i, &t);
    for (int64_t j = 0; j < t.xsize; j++) {
      const double w = u8_weight_f64(a, &t, j);
      if (w > wmax) wmax = w;
    }
  }
  unsigned p = 0;
  for (; p < 22; p++)
    if ((int64_t)(0.5 + wmax * (double)(1 << (p + 1))) >= (1 << 15)) break;
  a->prec = p;
}

static inline uint8_t u8_clamp(int64_t acc, unsigned prec) {
  const int64_t v = acc >> prec; /* acc >= 0: weights and pixels are */
  return (uint8_t)(v > 255 ? 255 : v);
}

void et_upsample_bilinear_u8(const et_upsample2d *g, const uint8_t *x, uint8_t *y,
                             bool align_corners, bool antialias) {
  const bool fh = g->IH != g->OH, fw = g->IW != g->OW;
  u8_axis ah = {0}, aw = {0};
  if (fh) u8_axis_init(&ah, g->IH, g->OH, align_corners, g->scale_h, antialias);
  if (fw) u8_axis_init(&aw, g->IW, g->OW, align_corners, g->scale_w, antialias);
  int32_t wh[U8_TAPS], ww[U8_TAPS];
  for (int64_t oh = 0; oh < g->OH; oh++) {
    u8_taps th = {oh, 1, 0, 0};
    if (fh) u8_taps_of(&ah, oh, &th);
    for (int64_t a = 0; fh && a < th.xsize && a < U8_TAPS; a++) wh[a] = u8_weight(&ah, &th, a);
    for (int64_t ow = 0; ow < g->OW; ow++) {
      u8_taps tw = {ow, 1, 0, 0};
      if (fw) u8_taps_of(&aw, ow, &tw);
      for (int64_t b = 0; fw && b < tw.xsize && b < U8_TAPS; b++) ww[b] = u8_weight(&aw, &tw, b);
      for (int64_t n = 0; n < g->N; n++)
        for (int64_t c = 0; c < g->C; c++) {
          const uint8_t *xp = x + n * g->is[0] + c * g->is[1] + tw.xmin * g->is[3];
          int64_t acc = fh ? (int64_t)1 << (ah.prec - 1) : 0;
          uint8_t v = 0;
          for (int64_t a = 0; a < th.xsize; a++) {
            const uint8_t *xr = xp + (th.xmin + a) * g->is[2];
            uint8_t row = xr[0];
            if (fw) {
              int64_t r = (int64_t)1 << (aw.prec - 1);
              for (int64_t b = 0; b < tw.xsize; b++)
                r += (int64_t)(b < U8_TAPS ? ww[b] : u8_weight(&aw, &tw, b)) * xr[b * g->is[3]];
              row = u8_clamp(r, aw.prec);
            }
            if (!fh) {
              v = row;
              break;
            }
            acc += (int64_t)(a < U8_TAPS ? wh[a] : u8_weight(&ah, &th, a)) * row;
          }
          if (fh) v = u8_clamp(acc, ah.prec);
          y[n * g->os[0] + c * g->os[1] + oh * g->os[2] + ow * g->os[3]] = v;
        }
    }
  }
}
