/* Upsampling sizes, scales and linear taps (PyTorch's UpSample.h). */
#include "util/upsample_util.h"

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
        if (!(v >= 0 && v < 2147483648.0))
          return ET_K_FAIL(ctx, "scale_factors: %g gives an invalid output size", s[k]);
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
