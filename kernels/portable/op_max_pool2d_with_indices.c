/*
 * aten::max_pool2d_with_indices.out(Tensor self, int[2] kernel_size,
 *     int[2] stride=[], int[2] padding=0, int[2] dilation=1,
 *     bool ceil_mode=False, *, Tensor(a!) out, Tensor(b!) indices)
 *
 * Max over each window of a [C, H, W] or [N, C, H, W] input (contiguous or
 * channels-last); NaN wins (as in PyTorch). indices (Long) hold the flat position h * W + w of
 * the maximum within its plane.
 */
#include "portable/ops.h"

#include "util/layout_util.h"
#include "util/pool_util.h"
#include "util/shape_util.h"

#include <math.h>

#define LOWEST_f32 (-INFINITY)
#define LOWEST_f64 (-(double)INFINITY)
#define LOWEST_f16 (-INFINITY)
#define LOWEST_bf16 (-INFINITY)
#define LOWEST_(S) LOWEST_##S

#define DEFINE_MAXPOOL(E, T, S)                                                \
  static void maxpool_##S(const et_pool2d *p, const T *x, const int64_t *xs, T *y, \
                          const int64_t *ys, int64_t *ind, const int64_t *is) { \
    typedef ET_CT(S) acc_t;                                                    \
    for (int64_t c = 0; c < p->C; c++) {                                       \
      const T *xp = x + et_k_plane_offset(xs, p->chans, c);                    \
      for (int64_t oh = 0; oh < p->OH; oh++) {                                 \
        int64_t h0 = oh * p->sh - p->ph;                                       \
        const int64_t h1 = h0 + (p->kh - 1) * p->dh + 1 < p->H ? h0 + (p->kh - 1) * p->dh + 1 \
                                                                : p->H;        \
        while (h0 < 0) h0 += p->dh;                                            \
        for (int64_t ow = 0; ow < p->OW; ow++) {                               \
          int64_t w0 = ow * p->sw - p->pw;                                     \
          const int64_t w1 = w0 + (p->kw - 1) * p->dw + 1 < p->W ? w0 + (p->kw - 1) * p->dw + 1 \
                                                                  : p->W;      \
          while (w0 < 0) w0 += p->dw;                                          \
          acc_t best = LOWEST_(S);                                             \
          int64_t best_i = h0 * p->W + w0;                                     \
          for (int64_t h = h0; h < h1; h += p->dh)                             \
            for (int64_t w = w0; w < w1; w += p->dw) {                         \
              const acc_t v = ET_LD(S, xp[h * xs[2] + w * xs[3]]);             \
              if (v > best || v != v) {                                        \
                best = v;                                                      \
                best_i = h * p->W + w;                                         \
              }                                                                \
            }                                                                  \
          y[et_k_plane_offset(ys, p->chans, c) + oh * ys[2] + ow * ys[3]] = ET_ST(S, best); \
          ind[et_k_plane_offset(is, p->chans, c) + oh * is[2] + ow * is[3]] = best_i; \
        }                                                                      \
      }                                                                        \
    }                                                                          \
  }
DEFINE_MAXPOOL(ET_FLOAT, float, f32)
DEFINE_MAXPOOL(ET_DOUBLE, double, f64)
DEFINE_MAXPOOL(ET_HALF, et_half, f16)
DEFINE_MAXPOOL(ET_BFLOAT16, et_bf16, bf16)
#define DEFINE_MAXPOOL_INT(E, T, S)                                            \
  static void maxpool_##S(const et_pool2d *p, const T *x, const int64_t *xs, T *y, \
                          const int64_t *ys, int64_t *ind, const int64_t *is) { \
    for (int64_t c = 0; c < p->C; c++) {                                       \
      const T *xp = x + et_k_plane_offset(xs, p->chans, c);                    \
      for (int64_t oh = 0; oh < p->OH; oh++) {                                 \
        int64_t h0 = oh * p->sh - p->ph;                                       \
        const int64_t h1 = h0 + (p->kh - 1) * p->dh + 1 < p->H ? h0 + (p->kh - 1) * p->dh + 1 \
                                                                : p->H;        \
        while (h0 < 0) h0 += p->dh;                                            \
        for (int64_t ow = 0; ow < p->OW; ow++) {                               \
          int64_t w0 = ow * p->sw - p->pw;                                     \
          const int64_t w1 = w0 + (p->kw - 1) * p->dw + 1 < p->W ? w0 + (p->kw - 1) * p->dw + 1 \
                                                                  : p->W;      \
          while (w0 < 0) w0 += p->dw;                                          \
          int64_t best = INT64_MIN;                                            \
          int64_t best_i = h0 * p->W + w0;                                     \
          for (int64_t h = h0; h < h1; h += p->dh)                             \
            for (int64_t w = w0; w < w1; w += p->dw) {                         \
              const int64_t v = xp[h * xs[2] + w * xs[3]];                     \
              if (v > best) {                                                  \
                best = v;                                                      \
                best_i = h * p->W + w;                                         \
              }                                                                \
            }                                                                  \
          y[et_k_plane_offset(ys, p->chans, c) + oh * ys[2] + ow * ys[3]] = (T)best; \
          ind[et_k_plane_offset(is, p->chans, c) + oh * is[2] + ow * is[3]] = best_i; \
        }                                                                      \
      }                                                                        \
    }                                                                          \
  }
ET_FOREACH_INT(DEFINE_MAXPOOL_INT)

et_status et_op_max_pool2d_with_indices_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[6]->u.t, *ind = args[7]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_tensor(ctx, ind, "indices"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  ET_K_TRY(et_k_check_dtype(ctx, ind, ET_LONG, "indices"));
  if (in->dtype == ET_BOOL) return ET_K_FAIL(ctx, "self: Bool is not supported");
  et_pool2d p;
  int64_t osz[4];
  ET_K_TRY(et_pool2d_init(ctx, in, args[1], args[2], args[3], args[4], args[5]->u.b, &p, osz));
  ET_K_TRY(et_k_resize(ctx, out, osz, in->rank, "out"));
  ET_K_TRY(et_k_resize(ctx, ind, osz, in->rank, "indices"));
  int64_t xs[4], ys[4], is[4];
  et_k_nchw_strides(in, xs);
  et_k_nchw_strides(out, ys);
  et_k_nchw_strides(ind, is);
  switch (in->dtype) {
#define CASE_MP(E, T, S)                                                       \
  case E:                                                                      \
    maxpool_##S(&p, (const T *)in->data, xs, (T *)out->data, ys, (int64_t *)ind->data, is); \
    break;
    ET_FOREACH_REALHBF16(CASE_MP)
  default:
    break;
  }
  return ET_OK;
}
