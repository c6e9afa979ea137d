/*
 * aten::avg_pool2d.out(Tensor self, int[2] kernel_size, int[2] stride=[],
 *     int[2] padding=0, bool ceil_mode=False, bool count_include_pad=True,
 *     int? divisor_override=None, *, Tensor(a!) out)
 *
 * Mean over each window of a [C, H, W] or [N, C, H, W] input (contiguous or
 * channels-last, as out),
 * with PyTorch's divisor rules (padding counted or not; an override).
 * Accumulates in float (double for Double). Long (the one integer dtype
 * PyTorch's CPU kernel takes) sums with wrap-around and divides with C
 * integer division (truncation toward zero), as PyTorch does.
 */
#include "portable/ops.h"

#include "util/layout_util.h"
#include "util/pool_util.h"
#include "util/shape_util.h"

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

#define DEFINE_AVGPOOL(E, T, S)                                                \
  static void avgpool_##S(const et_pool2d *p, const T *x, const int64_t *xs, T *y, \
                          const int64_t *ys, bool include_pad, int64_t divisor) { \
    typedef ET_CT(S) acc_t;                                                    \
    for (int64_t c = 0; c < p->C; c++) {                                       \
      const T *xp = x + et_k_plane_offset(xs, p->chans, c);                    \
      for (int64_t oh = 0; oh < p->OH; oh++)                                   \
        for (int64_t ow = 0; ow < p->OW; ow++) {                               \
          int64_t h0 = oh * p->sh - p->ph, w0 = ow * p->sw - p->pw;            \
          int64_t h1 = min64(h0 + p->kh, p->H + p->ph);                        \
          int64_t w1 = min64(w0 + p->kw, p->W + p->pw);                        \
          const int64_t pool = (h1 - h0) * (w1 - w0);                          \
          h0 = max64(h0, 0), w0 = max64(w0, 0);                                \
          h1 = min64(h1, p->H), w1 = min64(w1, p->W);                          \
          T *dst = y + et_k_plane_offset(ys, p->chans, c) + oh * ys[2] + ow * ys[3]; \
          if (h0 >= h1 || w0 >= w1) {                                          \
            *dst = ET_ST(S, (acc_t)0);                                         \
            continue;                                                          \
          }                                                                    \
          acc_t sum = 0;                                                       \
          for (int64_t h = h0; h < h1; h++)                                    \
            for (int64_t w = w0; w < w1; w++) sum += ET_LD(S, xp[h * xs[2] + w * xs[3]]); \
          const int64_t div = divisor ? divisor : include_pad ? pool : (h1 - h0) * (w1 - w0); \
          *dst = ET_ST(S, sum / (acc_t)div);                                   \
        }                                                                      \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_AVGPOOL)

static void avgpool_i64(const et_pool2d *p, const int64_t *x, const int64_t *xs, int64_t *y,
                        const int64_t *ys, bool include_pad, int64_t divisor) {
  for (int64_t c = 0; c < p->C; c++) {
    const int64_t *xp = x + et_k_plane_offset(xs, p->chans, c);
    for (int64_t oh = 0; oh < p->OH; oh++)
      for (int64_t ow = 0; ow < p->OW; ow++) {
        int64_t h0 = oh * p->sh - p->ph, w0 = ow * p->sw - p->pw;
        int64_t h1 = min64(h0 + p->kh, p->H + p->ph);
        int64_t w1 = min64(w0 + p->kw, p->W + p->pw);
        const int64_t pool = (h1 - h0) * (w1 - w0);
        h0 = max64(h0, 0), w0 = max64(w0, 0);
        h1 = min64(h1, p->H), w1 = min64(w1, p->W);
        int64_t *dst = y + et_k_plane_offset(ys, p->chans, c) + oh * ys[2] + ow * ys[3];
        if (h0 >= h1 || w0 >= w1) {
          *dst = 0;
          continue;
        }
        uint64_t sum = 0; /* wraps like PyTorch's int64 sum, without UB */
        for (int64_t h = h0; h < h1; h++)
          for (int64_t w = w0; w < w1; w++) sum += (uint64_t)xp[h * xs[2] + w * xs[3]];
        const int64_t div = divisor ? divisor : include_pad ? pool : (h1 - h0) * (w1 - w0);
        const int64_t s = (int64_t)sum;
        /* INT64_MIN / -1 overflows: the wrapped quotient is INT64_MIN */
        *dst = div == -1 ? (int64_t)(0 - sum) : s / div;
      }
  }
}

et_status et_op_avg_pool2d_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[7]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (in->dtype != ET_LONG && !et_dtype_is_floating(in->dtype))
    return ET_K_FAIL(ctx, "self: expected a floating dtype (Float, Double, Half, BFloat16) or "
                          "Long, got %s",
                     et_dtype_name(in->dtype));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t divisor = 0;
  if (args[6]->tag == ET_TAG_INT) {
    divisor = args[6]->u.i;
    if (divisor == 0) return ET_K_FAIL(ctx, "divisor_override: must not be zero");
  }
  et_pool2d p;
  int64_t osz[4];
  ET_K_TRY(et_pool2d_init(ctx, in, args[1], args[2], args[3], NULL, args[4]->u.b, &p, osz));
  ET_K_TRY(et_k_resize(ctx, out, osz, in->rank, "out"));
  int64_t xs[4], ys[4];
  et_k_nchw_strides(in, xs);
  et_k_nchw_strides(out, ys);
  switch (in->dtype) {
#define CASE_AP(E, T, S)                                                       \
  case E:                                                                      \
    avgpool_##S(&p, (const T *)in->data, xs, (T *)out->data, ys, args[5]->u.b, divisor); \
    break;
    ET_FOREACH_FLOATHBF16(CASE_AP)
  case ET_LONG:
    avgpool_i64(&p, (const int64_t *)in->data, xs, (int64_t *)out->data, ys, args[5]->u.b,
                divisor);
    break;
  default:
    break;
  }
  return ET_OK;
}
