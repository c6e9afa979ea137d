/*
 * aten::convolution.out(Tensor input, Tensor weight, Tensor? bias,
 *     SymInt[] stride, SymInt[] padding, SymInt[] dilation, bool transposed,
 *     SymInt[] output_padding, SymInt groups, *, Tensor(a!) out)
 *
 * 1-D ([N, C, L]), 2-D ([N, C, H, W]) and 3-D ([N, C, D, H, W]) convolution,
 * plain and transposed, with groups, stride, padding, dilation and
 * output_padding; tensors of any real dtype (PyTorch's CPU kernels take every
 * integer dtype for plain convolution and Long for transposed; integers
 * wrap). Every convolution runs as a 3-D one (see
 * util/conv_util.h).
 *
 * Plain convolution, three strategies:
 * - 1x1x1 kernels with stride 1 and no padding are a matrix product per
 *   image and group (weight [Cout/g, Cin/g] @ input [Cin/g, D*H*W]);
 * - otherwise, when the context's scratch memory can hold the unfolded input
 *   of one image and group ([Cin/g*KD*KH*KW, OD*OH*OW], im2col), that is
 *   built and multiplied by the weight with the blocked matmul;
 * - otherwise direct loops, ordered for contiguous inner access: a chunk of
 *   an output row is accumulated while the loop walks input channels and
 *   kernel taps; for every tap the valid output range is computed once, so
 *   the innermost loop is a branch-free multiply-add over contiguous input
 *   elements (for stride 1) that the compiler vectorizes.
 * Half and BFloat16 always take the direct loops, with PyTorch's CPU
 * rounding (its slow_conv2d/3d: im2col, then a gemm whose dot products run
 * over (input channel, kernel taps) in float as four interleaved partial
 * sums, (((s0 + s1) + s2) + s3), then bias + dot rounded once).
 *
 * Transposed convolution follows PyTorch's slow_conv_transpose2d/3d: per
 * image, group and output channel, the column of every kernel tap (the sum
 * over input channels of weight * input, in order, stored in the tensor's
 * dtype) is added into the zeroed output (col2im, tap by tap, each addition
 * stored in the dtype), and the bias is added last. That is the same
 * arithmetic as PyTorch's gemm + col2im, so Half/BFloat16 round where it
 * rounds (Float columns use a fused multiply-add, as its BLAS does); the
 * columns are computed a row chunk at a time, with the input channel loop
 * outside a contiguous, vectorizable inner loop, so no scratch memory is
 * needed.
 *
 * Channels-last tensors (input, weight and out each contiguous, channels-last
 * or any other dim order) take strided loops (util/layout_util.h) that give
 * each output element the same products summed in the same order as the path
 * a contiguous call with the same scratch memory takes: from zero over (input
 * channel, kernel taps), padding taps included as products with zero, then
 * the bias, where the contiguous call would use the matrix product; from the
 * bias, padding skipped, where it would use the direct loops; the columns of
 * transposed convolution tap by tap. So the result is bit for bit the
 * contiguous one. These loops are scalar: channels-last convolution is
 * correct, not yet fast.
 */
#include "portable/ops.h"

#include "util/conv_util.h"
#include "util/layout_util.h"
#include "util/matmul_util.h"
#include "util/shape_util.h"

#include <math.h>
#include <string.h>

#define ROWC 128 /* output (or input) columns accumulated at a time */

/* Accumulator per dtype: integers in uint64_t (wrap-around without undefined
 * behaviour), floating types in their compute type. */
#define CACC_u8 uint64_t
#define CACC_i8 uint64_t
#define CACC_i16 uint64_t
#define CACC_i32 uint64_t
#define CACC_i64 uint64_t
#define CACC_f32 float
#define CACC_f64 double
#define CACC_f16 float
#define CACC_bf16 float
#define CACC(S) CACC_##S
/* 1 for the dtypes whose dot products follow PyTorch's four partial sums */
#define CILP_u8 0
#define CILP_i8 0
#define CILP_i16 0
#define CILP_i32 0
#define CILP_i64 0
#define CILP_f32 0
#define CILP_f64 0
#define CILP_f16 1
#define CILP_bf16 1
#define CILP(S) CILP_##S
#define CLD(S, x) ((CACC(S))ET_LD(S, x))
/* a + w * x for the columns of transposed convolution. PyTorch's Float gemm
 * (BLAS) fuses the multiply-add, and with the cancellation of the column sums
 * a separately rounded product can put the result outside Float tolerance of
 * PyTorch's. Where the target has a fused multiply-add, fmaf is one
 * instruction; elsewhere the exact product and sum in double, rounded once to
 * float, is the same fused result (barring a double rounding once in about
 * 2^29 operations). Half/BFloat16 products are exact in float anyway. */
#define CMAC_u8(a, w, x) ((a) + (w) * (x))
#define CMAC_i8(a, w, x) ((a) + (w) * (x))
#define CMAC_i16(a, w, x) ((a) + (w) * (x))
#define CMAC_i32(a, w, x) ((a) + (w) * (x))
#define CMAC_i64(a, w, x) ((a) + (w) * (x))
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define CMAC_f32(a, w, x) fmaf((w), (x), (a))
#else
#define CMAC_f32(a, w, x) ((float)((double)(a) + (double)(w) * (double)(x)))
#endif
#define CMAC_f64(a, w, x) ((a) + (w) * (x))
#define CMAC_f16(a, w, x) ((a) + (w) * (x))
#define CMAC_bf16(a, w, x) ((a) + (w) * (x))
#define CMAC(S, a, w, x) CMAC_##S(a, w, x)
#define CST(S, v) ET_ST(S, (ET_CT(S))(v))

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

#define DEFINE_CONV(E, T, S)                                                   \
  static void conv_##S(const et_conv_geom *g, const T *x, const T *w, const T *bias, T *y) { \
    typedef CACC(S) acc_t;                                                     \
    enum { ILP = CILP(S) };                                                    \
    acc_t acc[ILP ? 4 : 1][ROWC];                                              \
    const int64_t KD = g->k[0], KH = g->k[1], KW = g->k[2];                    \
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];                 \
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];              \
    const int64_t K = g->cin_g * KD * KH * KW, K4 = K - K % 4;                 \
    const int64_t sw = g->stride[2], IV = ID * IH * IW;                        \
    for (int64_t n = 0; n < g->N; n++)                                         \
      for (int64_t oc = 0; oc < g->Cout; oc++) {                               \
        const int64_t grp = oc / g->cout_g;                                    \
        const acc_t bv = bias ? CLD(S, bias[oc]) : (acc_t)0;                   \
        const T *wo = w + oc * K;                                              \
        const T *xg = x + (n * g->Cin + grp * g->cin_g) * IV;                  \
        T *yvol = y + (n * g->Cout + oc) * OD * OH * OW;                       \
        for (int64_t od = 0; od < OD; od++)                                    \
          for (int64_t oh = 0; oh < OH; oh++)                                  \
            for (int64_t ow0 = 0; ow0 < OW; ow0 += ROWC) {                     \
              const int64_t len = min64(ROWC, OW - ow0);                       \
              for (int a = 0; a < (ILP ? 4 : 1); a++)                          \
                for (int64_t j = 0; j < len; j++) acc[a][j] = ILP ? (acc_t)0 : bv; \
              for (int64_t ic = 0; ic < g->cin_g; ic++)                        \
                for (int64_t kd = 0; kd < KD; kd++) {                          \
                  const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dil[0]; \
                  if (id < 0 || id >= ID) continue;                            \
                  for (int64_t kh = 0; kh < KH; kh++) {                        \
                    const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dil[1]; \
                    if (ih < 0 || ih >= IH) continue;                          \
                    const T *xrow = xg + ((ic * ID + id) * IH + ih) * IW;      \
                    for (int64_t kw = 0; kw < KW; kw++) {                      \
                      const int64_t l = ((ic * KD + kd) * KH + kh) * KW + kw;  \
                      acc_t *restrict a = acc[ILP && l < K4 ? (l & 3) : 0];    \
                      const acc_t wv = CLD(S, wo[l]);                          \
                      const int64_t base = kw * g->dil[2] - g->pad[2];         \
                      int64_t lo, hi;                                          \
                      et_conv_valid_range(base, sw, IW, OW, &lo, &hi);         \
                      if (lo < ow0) lo = ow0;                                  \
                      if (hi > ow0 + len) hi = ow0 + len;                      \
                      if (lo >= hi) continue;                                  \
                      lo -= ow0;                                               \
                      hi -= ow0;                                               \
                      if (sw == 1) {                                           \
                        const int64_t o = ow0 + base;                          \
                        for (int64_t j = lo; j < hi; j++) a[j] += wv * CLD(S, xrow[o + j]); \
                      } else {                                                 \
                        const int64_t o = ow0 * sw + base;                     \
                        for (int64_t j = lo; j < hi; j++)                      \
                          a[j] += wv * CLD(S, xrow[o + j * sw]);               \
                      }                                                        \
                    }                                                          \
                  }                                                            \
                }                                                              \
              T *yrow = yvol + (od * OH + oh) * OW + ow0;                      \
              if (ILP) {                                                       \
                for (int64_t j = 0; j < len; j++) {                            \
                  const acc_t s = ((acc[0][j] + acc[ILP ? 1 : 0][j]) + acc[ILP ? 2 : 0][j]) + \
                                  acc[ILP ? 3 : 0][j];                         \
                  yrow[j] = CST(S, bias ? bv + s : s);                         \
                }                                                              \
              } else {                                                         \
                for (int64_t j = 0; j < len; j++) yrow[j] = CST(S, acc[0][j]); \
              }                                                                \
            }                                                                  \
      }                                                                        \
  }                                                                            \
  /* transposed: weight is [Cin, Cout/groups, KD, KH, KW] */                   \
  static void convt_##S(const et_conv_geom *g, const T *x, const T *w, const T *bias, T *y) { \
    typedef CACC(S) acc_t;                                                     \
    acc_t acc[ROWC];                                                           \
    const int64_t KD = g->k[0], KH = g->k[1], KW = g->k[2], KK = KD * KH * KW; \
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];                 \
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];              \
    const int64_t IV = ID * IH * IW, OV = OD * OH * OW, sw = g->stride[2];     \
    /* between input channels; with none, the weight is empty and KK may be   \
     * anything: nothing below reads it */                                     \
    const int64_t wstride = g->cin_g ? g->cout_g * KK : 0;                     \
    for (int64_t n = 0; n < g->N; n++)                                         \
      for (int64_t grp = 0; grp < g->groups; grp++)                            \
        for (int64_t ocl = 0; ocl < g->cout_g; ocl++) {                        \
          const int64_t oc = grp * g->cout_g + ocl;                            \
          T *yv = y + (n * g->Cout + oc) * OV;                                 \
          const T *xg = x + (n * g->Cin + grp * g->cin_g) * IV;                \
          const T *wg = w + (g->cin_g ? (grp * g->cin_g * g->cout_g + ocl) * KK : 0); \
          memset(yv, 0, (size_t)OV * sizeof(T));                               \
          for (int64_t kd = 0; kd < (g->cin_g ? KD : 0); kd++)                 \
            for (int64_t kh = 0; kh < KH; kh++)                                \
              for (int64_t kw = 0; kw < KW; kw++) {                            \
                const int64_t tap = (kd * KH + kh) * KW + kw;                  \
                const int64_t base = kw * g->dil[2] - g->pad[2];               \
                int64_t lo, hi;                                                \
                et_conv_valid_range(base, sw, OW, IW, &lo, &hi);               \
                if (lo >= hi) continue;                                        \
                for (int64_t id = 0; id < ID; id++) {                          \
                  const int64_t od = id * g->stride[0] - g->pad[0] + kd * g->dil[0]; \
                  if (od < 0 || od >= OD) continue;                            \
                  for (int64_t ih = 0; ih < IH; ih++) {                        \
                    const int64_t oh = ih * g->stride[1] - g->pad[1] + kh * g->dil[1]; \
                    if (oh < 0 || oh >= OH) continue;                          \
                    const T *xrow = xg + (id * IH + ih) * IW;                  \
                    T *yrow = yv + (od * OH + oh) * OW;                        \
                    for (int64_t iw0 = lo; iw0 < hi; iw0 += ROWC) {            \
                      const int64_t len = min64(ROWC, hi - iw0);               \
                      for (int64_t j = 0; j < len; j++) acc[j] = 0;            \
                      for (int64_t ic = 0; ic < g->cin_g; ic++) {              \
                        const acc_t wv = CLD(S, wg[ic * wstride + tap]);       \
                        const T *restrict xr = xrow + ic * IV + iw0;           \
                        for (int64_t j = 0; j < len; j++)                      \
                          acc[j] = CMAC(S, acc[j], wv, CLD(S, xr[j]));         \
                      }                                                        \
                      T *yo = yrow + (iw0 * sw + base); /* in [0, OW) */       \
                      for (int64_t j = 0; j < len; j++)                        \
                        yo[j * sw] = CST(S, CLD(S, yo[j * sw]) + CLD(S, CST(S, acc[j]))); \
                    }                                                          \
                  }                                                            \
                }                                                              \
              }                                                                \
          if (bias) {                                                          \
            const acc_t bv = CLD(S, bias[oc]);                                 \
            for (int64_t i = 0; i < OV; i++) yv[i] = CST(S, CLD(S, yv[i]) + bv); \
          }                                                                    \
        }                                                                      \
  }
ET_FOREACH_REALHBF16(DEFINE_CONV)

/* The same convolutions for any layout: xs, ws, ys are ncdhw strides
 * (util/layout_util.h). gemm_order: sum as the matrix-product path does. */
#define DEFINE_CONV_STRIDED(E, T, S)                                           \
  static void conv_s_##S(const et_conv_geom *g, const T *x, const int64_t *xs, const T *w, \
                         const int64_t *ws, const T *bias, T *y, const int64_t *ys, \
                         bool gemm_order) {                                    \
    typedef CACC(S) acc_t;                                                     \
    enum { ILP = CILP(S) };                                                    \
    const int64_t KD = g->k[0], KH = g->k[1], KW = g->k[2];                    \
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];                 \
    const int64_t K = g->cin_g * KD * KH * KW, K4 = K - K % 4;                 \
    for (int64_t n = 0; n < g->N; n++)                                         \
      for (int64_t oc = 0; oc < g->Cout; oc++) {                               \
        const int64_t grp = oc / g->cout_g;                                    \
        const acc_t bv = bias ? CLD(S, bias[oc]) : (acc_t)0;                   \
        const T *wo = w + oc * ws[0];                                          \
        const T *xg = x + n * xs[0] + grp * g->cin_g * xs[1];                  \
        T *yo = y + n * ys[0] + oc * ys[1];                                    \
        for (int64_t od = 0; od < g->out[0]; od++)                             \
          for (int64_t oh = 0; oh < g->out[1]; oh++)                           \
            for (int64_t ow = 0; ow < g->out[2]; ow++) {                       \
              acc_t acc[4] = {0, 0, 0, 0};                                     \
              if (!ILP && !gemm_order) acc[0] = bv;                            \
              int64_t l = 0;                                                   \
              for (int64_t ic = 0; ic < g->cin_g; ic++)                        \
                for (int64_t kd = 0; kd < KD; kd++) {                          \
                  const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dil[0]; \
                  for (int64_t kh = 0; kh < KH; kh++) {                        \
                    const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dil[1]; \
                    for (int64_t kw = 0; kw < KW; kw++, l++) {                 \
                      const int64_t iw = ow * g->stride[2] - g->pad[2] + kw * g->dil[2]; \
                      const bool inside = id >= 0 && id < ID && ih >= 0 && ih < IH && \
                                          iw >= 0 && iw < IW;                  \
                      if (!inside && !gemm_order) continue;                    \
                      const acc_t xv = inside ? CLD(S, xg[ic * xs[1] + id * xs[2] + \
                                                          ih * xs[3] + iw * xs[4]]) \
                                              : (acc_t)0;                      \
                      const acc_t wv =                                         \
                          CLD(S, wo[ic * ws[1] + kd * ws[2] + kh * ws[3] + kw * ws[4]]); \
                      acc[ILP && l < K4 ? (l & 3) : 0] += wv * xv;             \
                    }                                                          \
                  }                                                            \
                }                                                              \
              T *dst = yo + od * ys[2] + oh * ys[3] + ow * ys[4];              \
              if (ILP) {                                                       \
                const acc_t s = ((acc[0] + acc[1]) + acc[2]) + acc[3];         \
                *dst = CST(S, bias ? bv + s : s);                              \
              } else {                                                         \
                *dst = CST(S, acc[0]);                                         \
                if (gemm_order && bias) *dst = CST(S, CLD(S, *dst) + bv);      \
              }                                                                \
            }                                                                  \
      }                                                                        \
  }                                                                            \
  /* transposed, gathered per output element: tap by tap, the column value    \
   * (input channels in order) is added as convt_ adds it */                  \
  static void convt_s_##S(const et_conv_geom *g, const T *x, const int64_t *xs, const T *w, \
                          const int64_t *ws, const T *bias, T *y, const int64_t *ys) { \
    typedef CACC(S) acc_t;                                                     \
    const int64_t KD = g->k[0], KH = g->k[1], KW = g->k[2];                    \
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];                 \
    for (int64_t n = 0; n < g->N; n++)                                         \
      for (int64_t oc = 0; oc < g->Cout; oc++) {                               \
        const int64_t grp = oc / g->cout_g, ocl = oc % g->cout_g;              \
        const T *xg = x + n * xs[0] + grp * g->cin_g * xs[1];                  \
        const T *wg = w + grp * g->cin_g * ws[0] + ocl * ws[1];                \
        T *yo = y + n * ys[0] + oc * ys[1];                                    \
        for (int64_t od = 0; od < g->out[0]; od++)                             \
          for (int64_t oh = 0; oh < g->out[1]; oh++)                           \
            for (int64_t ow = 0; ow < g->out[2]; ow++) {                       \
              T *dst = yo + od * ys[2] + oh * ys[3] + ow * ys[4];              \
              *dst = CST(S, 0);                                                \
              for (int64_t kd = 0; kd < (g->cin_g ? KD : 0); kd++) {           \
                const int64_t td = od + g->pad[0] - kd * g->dil[0];            \
                if (td < 0 || td % g->stride[0] || td / g->stride[0] >= ID) continue; \
                for (int64_t kh = 0; kh < KH; kh++) {                          \
                  const int64_t th = oh + g->pad[1] - kh * g->dil[1];          \
                  if (th < 0 || th % g->stride[1] || th / g->stride[1] >= IH) continue; \
                  for (int64_t kw = 0; kw < KW; kw++) {                        \
                    const int64_t tw = ow + g->pad[2] - kw * g->dil[2];        \
                    if (tw < 0 || tw % g->stride[2] || tw / g->stride[2] >= IW) continue; \
                    const T *xp = xg + (td / g->stride[0]) * xs[2] +           \
                                  (th / g->stride[1]) * xs[3] + (tw / g->stride[2]) * xs[4]; \
                    const T *wp = wg + kd * ws[2] + kh * ws[3] + kw * ws[4];   \
                    acc_t a = 0;                                               \
                    for (int64_t ic = 0; ic < g->cin_g; ic++)                  \
                      a = CMAC(S, a, CLD(S, wp[ic * ws[0]]), CLD(S, xp[ic * xs[1]])); \
                    *dst = CST(S, CLD(S, *dst) + CLD(S, CST(S, a)));           \
                  }                                                            \
                }                                                              \
              }                                                                \
              if (bias) *dst = CST(S, CLD(S, *dst) + CLD(S, bias[oc]));        \
            }                                                                  \
      }                                                                        \
  }
ET_FOREACH_REALHBF16(DEFINE_CONV_STRIDED)

/* col[k][p] for k = (ic, kd, kh, kw) and the positions p of output rows
 * [q0, q0 + nq) (a row is one (od, oh), OW positions) of one image and
 * group: col is [K, nq * OW]. */
#define DEFINE_IM2COL(E, T, S)                                                 \
  static void im2col_##S(const et_conv_geom *g, const T *x, T *col, int64_t q0, \
                         int64_t nq) {                                         \
    const int64_t KD = g->k[0], KH = g->k[1], KW = g->k[2];                    \
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];                 \
    const int64_t OH = g->out[1], OW = g->out[2];                              \
    const int64_t P = nq * OW;                                                 \
    for (int64_t ic = 0; ic < g->cin_g; ic++)                                  \
      for (int64_t kd = 0; kd < KD; kd++)                                      \
        for (int64_t kh = 0; kh < KH; kh++)                                    \
          for (int64_t kw = 0; kw < KW; kw++) {                                \
            T *row = col + (((ic * KD + kd) * KH + kh) * KW + kw) * P;         \
            const int64_t base = kw * g->dil[2] - g->pad[2];                   \
            int64_t lo, hi;                                                    \
            et_conv_valid_range(base, g->stride[2], IW, OW, &lo, &hi);         \
            for (int64_t q = q0; q < q0 + nq; q++) {                           \
              const int64_t od = q / OH, oh = q % OH;                          \
              const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dil[0]; \
              {                                                                \
                T *r = row + (q - q0) * OW;                                    \
                const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dil[1]; \
                if (id < 0 || id >= ID || ih < 0 || ih >= IH) {                \
                  memset(r, 0, (size_t)OW * sizeof(T));                        \
                  continue;                                                    \
                }                                                              \
                const T *xr = x + ((ic * ID + id) * IH + ih) * IW;             \
                memset(r, 0, (size_t)lo * sizeof(T));                          \
                for (int64_t ow = lo; ow < hi; ow++) r[ow] = xr[ow * g->stride[2] + base]; \
                memset(r + hi, 0, (size_t)(OW - hi) * sizeof(T));              \
              }                                                                \
            }                                                                  \
          }                                                                    \
  }                                                                            \
  static void add_bias_##S(T *y, const T *bias, int64_t channels, int64_t plane) { \
    for (int64_t c = 0; c < channels; c++) {                                   \
      const CACC(S) b = CLD(S, bias[c]);                                       \
      T *p = y + c * plane;                                                    \
      for (int64_t i = 0; i < plane; i++) p[i] = CST(S, CLD(S, p[i]) + b);     \
    }                                                                          \
  }
ET_FOREACH_REAL(DEFINE_IM2COL)

/* Output rows (of OW positions) whose unfolded input fits the scratch memory
 * at once: 0 if not even one does. */
static int64_t im2col_rows(const et_kernel_ctx *ctx, const et_conv_geom *g, size_t es) {
  const int64_t K = g->cin_g * et_conv_kernel_volume(g), OW = g->out[2];
  if (OW <= 0) return 0;
  const int64_t Q = et_conv_out_volume(g) / OW;
  const size_t used = ctx->scratch_used + 16; /* alignment slack */
  const size_t avail = ctx->scratch && ctx->scratch_size > used ? ctx->scratch_size - used : 0;
  const uint64_t row_bytes = (uint64_t)K * (uint64_t)OW * es;
  if (row_bytes == 0 || avail / row_bytes < 1) return 0;
  return (uint64_t)Q > avail / row_bytes ? (int64_t)(avail / row_bytes) : Q;
}

/* True if a contiguous call takes conv_as_matmul (same conditions). */
static bool takes_matmul(const et_kernel_ctx *ctx, const et_conv_geom *g, int dtype) {
  if (g->transposed || dtype == ET_HALF || dtype == ET_BFLOAT16 || !et_matmul_supports(dtype))
    return false;
  if (g->cin_g == 0 || g->out[2] <= 0) return false;
  bool pointwise = et_conv_kernel_volume(g) == 1;
  for (int d = 0; d < 3; d++) pointwise = pointwise && g->stride[d] == 1 && g->pad[d] == 0;
  return pointwise || im2col_rows(ctx, g, et_dtype_size(dtype)) > 0;
}

/* Output tile [cout_g, pn] (from the matrix product) into out of any layout,
 * with the bias added as add_bias_ adds it. */
#define DEFINE_SCATTER(E, T, S)                                                \
  static void scatter_##S(const et_conv_geom *g, const T *tile, int64_t pn, int64_t p0, \
                          const T *bias, T *y, const int64_t *ys) {            \
    const int64_t OH = g->out[1], OW = g->out[2];                              \
    for (int64_t oc = 0; oc < g->cout_g; oc++) {                               \
      const T *t = tile + oc * pn;                                             \
      T *yc = y + oc * ys[1];                                                  \
      for (int64_t p = 0; p < pn; p++) {                                       \
        const int64_t q = (p0 + p) / OW, ow = (p0 + p) % OW;                   \
        T *dst = yc + (q / OH) * ys[2] + (q % OH) * ys[3] + ow * ys[4];        \
        *dst = bias ? CST(S, CLD(S, t[p]) + CLD(S, bias[oc])) : t[p];          \
      }                                                                        \
    }                                                                          \
  }
ET_FOREACH_REAL(DEFINE_SCATTER)

/* col[k][p] (as im2col_ builds it) from an input of any layout, as bytes. */
static void im2col_any(const et_conv_geom *g, const char *x, const int64_t *xs, size_t es,
                       char *col, int64_t p0, int64_t pn) {
  const int64_t KD = g->k[0], KH = g->k[1], KW = g->k[2];
  const int64_t OH = g->out[1], OW = g->out[2];
  char *row = col;
  for (int64_t ic = 0; ic < g->cin_g; ic++)
    for (int64_t kd = 0; kd < KD; kd++)
      for (int64_t kh = 0; kh < KH; kh++)
        for (int64_t kw = 0; kw < KW; kw++, row += pn * (int64_t)es)
          for (int64_t p = 0; p < pn; p++) {
            const int64_t q = (p0 + p) / OW, ow = (p0 + p) % OW;
            const int64_t id = (q / OH) * g->stride[0] - g->pad[0] + kd * g->dil[0];
            const int64_t ih = (q % OH) * g->stride[1] - g->pad[1] + kh * g->dil[1];
            const int64_t iw = ow * g->stride[2] - g->pad[2] + kw * g->dil[2];
            char *dst = row + p * (int64_t)es;
            if (id < 0 || id >= g->in[0] || ih < 0 || ih >= g->in[1] || iw < 0 || iw >= g->in[2])
              memset(dst, 0, es);
            else
              memcpy(dst, x + (ic * xs[1] + id * xs[2] + ih * xs[3] + iw * xs[4]) * (int64_t)es,
                     es);
          }
}

/*
 * The matrix-product strategy for tensors of any layout: blocks of output
 * positions are unfolded (im2col_any), multiplied by the weight into a tile
 * and scattered into out with the bias. The same products summed in the same
 * order as conv_as_matmul, so the same bits. Needs a weight whose (input
 * channel, taps) rows are dense (contiguous, or any layout of a 1x1 or
 * one-input-channel kernel) and scratch for one block of rows; false
 * otherwise (the caller then takes the strided loops, which compute the same
 * values).
 */
static bool conv_as_matmul_any(et_kernel_ctx *ctx, et_matmul_fn mm, const et_conv_geom *g, int dtype,
                               const void *x, const int64_t *xs, const void *w,
                               const int64_t *ws, const void *bias, void *y,
                               const int64_t *ys) {
  const size_t es = et_dtype_size(dtype);
  const int64_t K = g->cin_g * et_conv_kernel_volume(g), OW = g->out[2];
  const int64_t P = et_conv_out_volume(g);
  /* weight rows dense in (ic, kd, kh, kw) order: each stride is what the
   * contiguous layout gives, wherever the dim has more than one element */
  const int64_t want[5] = {K, K / (g->cin_g ? g->cin_g : 1), g->k[1] * g->k[2], g->k[2], 1};
  const int64_t wsz[5] = {g->cout_g, g->cin_g, g->k[0], g->k[1], g->k[2]};
  for (int d = 1; d < 5; d++)
    if (wsz[d] > 1 && ws[d] != want[d]) return false;
  if (g->Cout > 1 && ws[0] != want[0]) return false;
  if (g->cin_g == 0 || OW <= 0 || !et_matmul_supports(dtype)) return false;
  const size_t used = ctx->scratch_used + 32; /* alignment slack, two blocks */
  const size_t avail = ctx->scratch && ctx->scratch_size > used ? ctx->scratch_size - used : 0;
  const uint64_t pos_bytes = (uint64_t)(K + g->cout_g) * es; /* per output position */
  if (avail / pos_bytes < (uint64_t)OW) return false;
  int64_t pb = (int64_t)(avail / pos_bytes);
  if (pb > P) pb = P;
  char *col = et_kernel_scratch(ctx, (size_t)((uint64_t)pb * (uint64_t)K * es), 16);
  char *tile = et_kernel_scratch(ctx, (size_t)((uint64_t)pb * (uint64_t)g->cout_g * es), 16);
  if (!col || !tile) return false;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t grp = 0; grp < g->groups; grp++) {
      const char *xg = (const char *)x + (n * xs[0] + grp * g->cin_g * xs[1]) * (int64_t)es;
      const char *wg = (const char *)w + grp * g->cout_g * ws[0] * (int64_t)es;
      char *yg = (char *)y + (n * ys[0] + grp * g->cout_g * ys[1]) * (int64_t)es;
      for (int64_t p0 = 0; p0 < P; p0 += pb) {
        const int64_t pn = P - p0 < pb ? P - p0 : pb;
        im2col_any(g, xg, xs, es, col, p0, pn);
        mm(ctx, dtype, g->cout_g, pn, K, wg, K, col, pn, tile, pn);
        switch (dtype) {
#define CASE_SCATTER(E, T, S)                                                  \
  case E:                                                                      \
    scatter_##S(g, (const T *)(const void *)tile, pn, p0,                      \
                bias ? (const T *)bias + grp * g->cout_g : NULL, (T *)(void *)yg, ys); \
    break;
          ET_FOREACH_REAL(CASE_SCATTER)
        default:
          break;
        }
      }
    }
  return true;
}

/* The matmul strategies (integers, Float, Double); false if neither applies
 * (no scratch). */
static bool conv_as_matmul(et_kernel_ctx *ctx, et_matmul_fn mm, const et_conv_geom *g, int dtype,
                           const void *x, const void *w, const void *bias, void *y) {
  const size_t es = et_dtype_size(dtype);
  /* no input channels: the direct loops (which skip the taps) */
  if (g->cin_g == 0) return false;
  const int64_t P = et_conv_out_volume(g), IV = et_conv_in_volume(g);
  /* at most the weight's element count, as Cout > 0 here */
  const int64_t K = g->cin_g * et_conv_kernel_volume(g);
  bool pointwise = et_conv_kernel_volume(g) == 1;
  for (int d = 0; d < 3; d++) pointwise = pointwise && g->stride[d] == 1 && g->pad[d] == 0;
  /* The unfolded input goes through the scratch memory a block of output
   * rows at a time (as many as fit; each C element's sum runs over k in the
   * same order whatever the block, so the result does not depend on it). */
  const int64_t OW = g->out[2];
  if (OW <= 0) return false;
  const int64_t Q = P / OW;
  int64_t rows = Q;
  void *col = NULL;
  if (!pointwise) {
    rows = im2col_rows(ctx, g, es);
    if (rows == 0) return false;
    const uint64_t row_bytes = (uint64_t)K * (uint64_t)OW * es;
    col = et_kernel_scratch(ctx, (size_t)((uint64_t)rows * row_bytes), 16);
    if (!col) return false;
  }
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t grp = 0; grp < g->groups; grp++) {
      const char *xg = (const char *)x + (n * g->Cin + grp * g->cin_g) * IV * (int64_t)es;
      const char *wg = (const char *)w + grp * g->cout_g * K * (int64_t)es;
      char *yg = (char *)y + (n * g->Cout + grp * g->cout_g) * P * (int64_t)es;
      if (pointwise) {
        mm(ctx, dtype, g->cout_g, P, K, wg, K, xg, P, yg, P);
      } else {
        for (int64_t q0 = 0; q0 < Q; q0 += rows) {
          const int64_t nq = Q - q0 < rows ? Q - q0 : rows, pn = nq * OW;
          switch (dtype) {
#define CASE_IM2COL(E, T, S)                                                   \
  case E:                                                                      \
    im2col_##S(g, (const T *)(const void *)xg, (T *)col, q0, nq);              \
    break;
            ET_FOREACH_REAL(CASE_IM2COL)
          default:
            break;
          }
          mm(ctx, dtype, g->cout_g, pn, K, wg, K, col, pn, yg + q0 * OW * (int64_t)es, P);
        }
      }
      if (bias) {
        switch (dtype) {
#define CASE_BIAS(E, T, S)                                                     \
  case E:                                                                      \
    add_bias_##S((T *)(void *)yg, (const T *)bias + grp * g->cout_g, g->cout_g, P); \
    break;
          ET_FOREACH_REAL(CASE_BIAS)
        default:
          break;
        }
      }
    }
  return true;
}

et_status et_convolution_out_with(et_kernel_ctx *ctx, et_value **args, et_matmul_fn mm,
                                  et_conv_depthwise_fn dw) {
  const et_tensor *in = args[0]->u.t, *w = args[1]->u.t;
  const et_tensor *bias = args[2]->tag == ET_TAG_TENSOR ? args[2]->u.t : NULL;
  const bool transposed = args[6]->u.b;
  et_tensor *out = args[9]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "input"));
  ET_K_TRY(et_k_check_tensor(ctx, w, "weight"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (in->dtype == ET_BOOL)
    return ET_K_FAIL(ctx, "input: expected an integer or floating dtype, got Bool");
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", w, "weight"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", out, "out"));

  et_conv_geom g;
  ET_K_TRY(et_conv_geom_init(ctx, in, w, args[3], args[4], args[5], transposed, args[7],
                             args[8]->u.i, &g));
  if (bias) {
    ET_K_TRY(et_k_check_tensor(ctx, bias, "bias"));
    ET_K_TRY(et_k_check_same_dtype(ctx, bias, "bias", in, "input"));
    if (bias->rank != 1 || bias->sizes[0] != g.Cout)
      return ET_K_FAIL(ctx, "bias: expected shape [%lld]", (long long)g.Cout);
  }
  int64_t osz[5];
  et_conv_out_sizes(&g, osz);
  ET_K_TRY(et_k_resize(ctx, out, osz, in->rank, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  if (out->data == in->data || out->data == w->data)
    return ET_K_FAIL(ctx, "out must not share memory with input or weight");

  const void *bd = bias ? bias->data : NULL;
  if (!et_tensor_is_contiguous(in) || !et_tensor_is_contiguous(w) ||
      !et_tensor_is_contiguous(out)) {
    int64_t xs[5], ws[5], ys[5];
    et_k_ncdhw_strides(in, xs);
    et_k_ncdhw_strides(w, ws);
    et_k_ncdhw_strides(out, ys);
    const bool gemm_order = takes_matmul(ctx, &g, in->dtype);
    if (gemm_order && conv_as_matmul_any(ctx, mm, &g, in->dtype, in->data, xs, w->data, ws, bd,
                                         out->data, ys))
      return ET_OK;
    switch (in->dtype) {
#define CASE_CONV_S(E, T, S)                                                   \
  case E:                                                                      \
    if (transposed)                                                            \
      convt_s_##S(&g, (const T *)in->data, xs, (const T *)w->data, ws, (const T *)bd, \
                  (T *)out->data, ys);                                         \
    else                                                                       \
      conv_s_##S(&g, (const T *)in->data, xs, (const T *)w->data, ws, (const T *)bd, \
                 (T *)out->data, ys, gemm_order);                              \
    break;
      ET_FOREACH_REALHBF16(CASE_CONV_S)
    default:
      break;
    }
    return ET_OK;
  }
  if (dw && !transposed && g.cin_g == 1 && g.cout_g == 1 &&
      dw(ctx, &g, in->dtype, in->data, w->data, bd, out->data))
    return ET_OK;
  const bool exact_half = in->dtype == ET_HALF || in->dtype == ET_BFLOAT16;
  if (!transposed && !exact_half &&
      conv_as_matmul(ctx, mm, &g, in->dtype, in->data, w->data, bd, out->data))
    return ET_OK;
  switch (in->dtype) {
#define CASE_CONV(E, T, S)                                                     \
  case E:                                                                      \
    if (transposed)                                                            \
      convt_##S(&g, (const T *)in->data, (const T *)w->data, (const T *)bd, (T *)out->data); \
    else                                                                       \
      conv_##S(&g, (const T *)in->data, (const T *)w->data, (const T *)bd, (T *)out->data); \
    break;
    ET_FOREACH_REALHBF16(CASE_CONV)
  default:
    break;
  }
  return ET_OK;
}

et_status et_op_convolution_out(et_kernel_ctx *ctx, et_value **args) {
  return et_convolution_out_with(ctx, args, et_matmul_exact, NULL);
}
