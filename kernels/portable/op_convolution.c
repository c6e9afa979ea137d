/*
 * aten::convolution.out(Tensor input, Tensor weight, Tensor? bias,
 *     SymInt[] stride, SymInt[] padding, SymInt[] dilation, bool transposed,
 *     SymInt[] output_padding, SymInt groups, *, Tensor(a!) out)
 *
 * 1-D ([N, C, L]) and 2-D ([N, C, H, W]) convolution, plain and transposed,
 * with groups, stride, padding and dilation; contiguous tensors only. A 1-D
 * convolution runs as a 2-D one of height 1.
 *
 * Three strategies, all accumulating each output over (input channel, kernel
 * row, kernel column) in order:
 * - 1x1 kernels with stride 1 and no padding are a matrix product per image
 *   and group (weight [Cout/g, Cin/g] @ input [Cin/g, H*W]), no copies;
 * - otherwise, when the context's scratch memory can hold the unfolded input
 *   of one image and group ([Cin/g*KH*KW, OH*OW], im2col), that is built and
 *   multiplied by the weight with the blocked matmul;
 * - otherwise direct loops, ordered for contiguous inner access: a chunk of
 *   an output row is accumulated in float (double for Double) while the loop
 *   walks input channels and kernel taps; for every tap the valid output
 *   range is computed once, so the innermost loop is a branch-free
 *   multiply-add over contiguous input elements (for stride 1) that the
 *   compiler vectorizes. Half/BFloat16 are rounded once per output element.
 * Transposed convolution gathers, for every output element, the inputs that
 * reach it (direct loops).
 */
#include "portable/ops.h"

#include "util/matmul_util.h"
#include "util/shape_util.h"

#include <string.h>

#define ROWC 128 /* output columns accumulated at a time */

typedef struct conv_geom {
  int64_t N, Cin, H, W, Cout, OH, OW, KH, KW;
  int64_t sh, sw, ph, pw, dh, dw, groups;
  int64_t cin_g, cout_g;
} conv_geom;

static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* First ow with ow*s + base >= 0, and one past the last with ow*s + base < W. */
static inline void valid_cols(int64_t base, int64_t s, int64_t W, int64_t *lo, int64_t *hi) {
  *lo = base >= 0 ? 0 : (-base + s - 1) / s;
  const int64_t last = W - 1 - base; /* ow*s <= last */
  *hi = last < 0 ? 0 : last / s + 1;
}

#define DEFINE_CONV(E, T, S)                                                   \
  static void conv_##S(const conv_geom *g, const T *x, const T *w, const T *bias, T *y) { \
    typedef ET_CT(S) acc_t;                                                    \
    acc_t acc[ROWC];                                                           \
    for (int64_t n = 0; n < g->N; n++)                                         \
      for (int64_t oc = 0; oc < g->Cout; oc++) {                               \
        const int64_t grp = oc / g->cout_g;                                    \
        const acc_t bv = bias ? ET_LD(S, bias[oc]) : (acc_t)0;                 \
        T *yplane = y + (n * g->Cout + oc) * g->OH * g->OW;                    \
        for (int64_t oh = 0; oh < g->OH; oh++)                                 \
          for (int64_t ow0 = 0; ow0 < g->OW; ow0 += ROWC) {                    \
            const int64_t len = min64(ROWC, g->OW - ow0);                      \
            for (int64_t j = 0; j < len; j++) acc[j] = bv;                     \
            for (int64_t ic = 0; ic < g->cin_g; ic++) {                        \
              const int64_t cin = grp * g->cin_g + ic;                         \
              const T *xplane = x + (n * g->Cin + cin) * g->H * g->W;          \
              const T *wk = w + (oc * g->cin_g + ic) * g->KH * g->KW;          \
              for (int64_t kh = 0; kh < g->KH; kh++) {                         \
                const int64_t ih = oh * g->sh - g->ph + kh * g->dh;            \
                if (ih < 0 || ih >= g->H) continue;                            \
                const T *xrow = xplane + ih * g->W;                            \
                for (int64_t kw = 0; kw < g->KW; kw++) {                       \
                  const acc_t wv = ET_LD(S, wk[kh * g->KW + kw]);              \
                  const int64_t base = kw * g->dw - g->pw;                     \
                  int64_t lo, hi;                                              \
                  valid_cols(base, g->sw, g->W, &lo, &hi);                     \
                  lo = max64(lo, ow0) - ow0;                                   \
                  hi = min64(hi, ow0 + len) - ow0;                             \
                  if (lo >= hi) continue;                                      \
                  if (g->sw == 1) {                                            \
                    const int64_t o = ow0 + base;                              \
                    for (int64_t j = lo; j < hi; j++) acc[j] += wv * ET_LD(S, xrow[o + j]); \
                  } else {                                                     \
                    const int64_t o = ow0 * g->sw + base, s = g->sw;           \
                    for (int64_t j = lo; j < hi; j++)                          \
                      acc[j] += wv * ET_LD(S, xrow[o + j * s]);                \
                  }                                                            \
                }                                                              \
              }                                                                \
            }                                                                  \
            T *yrow = yplane + oh * g->OW + ow0;                               \
            for (int64_t j = 0; j < len; j++) yrow[j] = ET_ST(S, acc[j]);      \
          }                                                                    \
      }                                                                        \
  }                                                                            \
  /* transposed: weight is [Cin, Cout/groups, KH, KW] */                       \
  static void convt_##S(const conv_geom *g, const T *x, const T *w, const T *bias, T *y) { \
    typedef ET_CT(S) acc_t;                                                    \
    acc_t acc[ROWC];                                                           \
    for (int64_t n = 0; n < g->N; n++)                                         \
      for (int64_t oc = 0; oc < g->Cout; oc++) {                               \
        const int64_t grp = oc / g->cout_g, ocl = oc % g->cout_g;              \
        const acc_t bv = bias ? ET_LD(S, bias[oc]) : (acc_t)0;                 \
        T *yplane = y + (n * g->Cout + oc) * g->OH * g->OW;                    \
        for (int64_t oh = 0; oh < g->OH; oh++)                                 \
          for (int64_t ow0 = 0; ow0 < g->OW; ow0 += ROWC) {                    \
            const int64_t len = min64(ROWC, g->OW - ow0);                      \
            for (int64_t j = 0; j < len; j++) acc[j] = bv;                     \
            for (int64_t ic = 0; ic < g->cin_g; ic++) {                        \
              const int64_t cin = grp * g->cin_g + ic;                         \
              const T *xplane = x + (n * g->Cin + cin) * g->H * g->W;          \
              const T *wk = w + (cin * g->cout_g + ocl) * g->KH * g->KW;       \
              for (int64_t kh = 0; kh < g->KH; kh++) {                         \
                const int64_t th = oh + g->ph - kh * g->dh;                    \
                if (th < 0 || th % g->sh != 0 || th / g->sh >= g->H) continue; \
                const T *xrow = xplane + (th / g->sh) * g->W;                  \
                for (int64_t kw = 0; kw < g->KW; kw++) {                       \
                  const acc_t wv = ET_LD(S, wk[kh * g->KW + kw]);              \
                  for (int64_t j = 0; j < len; j++) {                          \
                    const int64_t tw = ow0 + j + g->pw - kw * g->dw;           \
                    if (tw < 0 || tw % g->sw != 0 || tw / g->sw >= g->W) continue; \
                    acc[j] += wv * ET_LD(S, xrow[tw / g->sw]);                 \
                  }                                                            \
                }                                                              \
              }                                                                \
            }                                                                  \
            T *yrow = yplane + oh * g->OW + ow0;                               \
            for (int64_t j = 0; j < len; j++) yrow[j] = ET_ST(S, acc[j]);      \
          }                                                                    \
      }                                                                        \
  }
ET_FOREACH_FLOATHBF16(DEFINE_CONV)

/* col[k][p] for k = (ic, kh, kw) and p = (oh, ow) of one image and group. */
#define DEFINE_IM2COL(E, T, S)                                                 \
  static void im2col_##S(const conv_geom *g, const T *x, T *col) {             \
    const int64_t P = g->OH * g->OW;                                           \
    for (int64_t ic = 0; ic < g->cin_g; ic++)                                  \
      for (int64_t kh = 0; kh < g->KH; kh++)                                   \
        for (int64_t kw = 0; kw < g->KW; kw++) {                               \
          T *row = col + ((ic * g->KH + kh) * g->KW + kw) * P;                 \
          const int64_t base = kw * g->dw - g->pw;                             \
          int64_t lo, hi;                                                      \
          valid_cols(base, g->sw, g->W, &lo, &hi);                             \
          if (hi > g->OW) hi = g->OW;                                          \
          if (lo > hi) lo = hi;                                                \
          for (int64_t oh = 0; oh < g->OH; oh++) {                             \
            T *r = row + oh * g->OW;                                           \
            const int64_t ih = oh * g->sh - g->ph + kh * g->dh;                \
            if (ih < 0 || ih >= g->H) {                                        \
              memset(r, 0, (size_t)g->OW * sizeof(T));                         \
              continue;                                                        \
            }                                                                  \
            const T *xr = x + (ic * g->H + ih) * g->W;                         \
            memset(r, 0, (size_t)lo * sizeof(T));                              \
            for (int64_t ow = lo; ow < hi; ow++) r[ow] = xr[ow * g->sw + base];  \
            memset(r + hi, 0, (size_t)(g->OW - hi) * sizeof(T));              \
          }                                                                    \
        }                                                                      \
  }                                                                            \
  static void add_bias_##S(T *y, const T *bias, int64_t channels, int64_t plane) { \
    for (int64_t c = 0; c < channels; c++) {                                   \
      const ET_CT(S) b = ET_LD(S, bias[c]);                                    \
      T *p = y + c * plane;                                                    \
      for (int64_t i = 0; i < plane; i++) p[i] = ET_ST(S, ET_LD(S, p[i]) + b); \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_IM2COL)

/* The matmul strategies; false if neither applies (no scratch). */
static bool conv_as_matmul(et_kernel_ctx *ctx, const conv_geom *g, int dtype, const void *x,
                           const void *w, const void *bias, void *y) {
  const size_t es = et_dtype_size(dtype);
  const int64_t P = g->OH * g->OW, K = g->cin_g * g->KH * g->KW;
  const bool pointwise = g->KH == 1 && g->KW == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 &&
                         g->pw == 0;
  void *col = NULL;
  if (!pointwise) {
    if ((uint64_t)K * (uint64_t)P > SIZE_MAX / es) return false;
    col = et_kernel_scratch(ctx, (size_t)(K * P) * es, 16);
    if (!col) return false;
  }
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t grp = 0; grp < g->groups; grp++) {
      const char *xg = (const char *)x + (n * g->Cin + grp * g->cin_g) * g->H * g->W * (int64_t)es;
      const char *wg = (const char *)w + grp * g->cout_g * K * (int64_t)es;
      char *yg = (char *)y + (n * g->Cout + grp * g->cout_g) * P * (int64_t)es;
      const void *b = xg;
      if (!pointwise) {
        switch (dtype) {
#define CASE_IM2COL(E, T, S)                                                   \
  case E:                                                                      \
    im2col_##S(g, (const T *)(const void *)xg, (T *)col);                      \
    break;
          ET_FOREACH_FLOATHBF16(CASE_IM2COL)
        default:
          break;
        }
        b = col;
      }
      et_matmul(dtype, g->cout_g, P, K, wg, K, b, P, yg, P);
      if (bias) {
        switch (dtype) {
#define CASE_BIAS(E, T, S)                                                     \
  case E:                                                                      \
    add_bias_##S((T *)(void *)yg, (const T *)bias + grp * g->cout_g, g->cout_g, P); \
    break;
          ET_FOREACH_FLOATHBF16(CASE_BIAS)
        default:
          break;
        }
      }
    }
  return true;
}

/* A per-spatial-dim list of length 1 (applied to every dim) or `spatial`. */
static et_status spatial_list(et_kernel_ctx *ctx, const et_value *v, uint32_t spatial,
                              int64_t min, const char *name, int64_t out[2]) {
  int64_t tmp[ET_MAX_RANK];
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, v, tmp, ET_MAX_RANK, &n, name));
  if (n != 1 && n != spatial)
    return ET_K_FAIL(ctx, "%s: expected 1 or %u values, got %zu", name, (unsigned)spatial, n);
  for (uint32_t i = 0; i < spatial; i++) {
    out[i] = tmp[n == 1 ? 0 : i];
    if (out[i] < min)
      return ET_K_FAIL(ctx, "%s: %lld is below the minimum %lld", name, (long long)out[i],
                       (long long)min);
    /* Sizes are int32 in the format; larger values only overflow later
     * arithmetic. */
    if (out[i] > INT32_MAX)
      return ET_K_FAIL(ctx, "%s: %lld is larger than %d", name, (long long)out[i], INT32_MAX);
  }
  return ET_OK;
}

et_status op_convolution_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *w = args[1]->u.t;
  const et_tensor *bias = args[2]->tag == ET_TAG_TENSOR ? args[2]->u.t : NULL;
  const bool transposed = args[6]->u.b;
  const int64_t groups = args[8]->u.i;
  et_tensor *out = args[9]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "input"));
  ET_K_TRY(et_k_check_tensor(ctx, w, "weight"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, in, "input"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", w, "weight"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", out, "out"));
  ET_K_TRY(et_k_check_rank(ctx, in, 3, 4, "input"));
  if (w->rank != in->rank)
    return ET_K_FAIL(ctx, "weight: expected rank %u (as input), got %u", (unsigned)in->rank,
                     (unsigned)w->rank);
  ET_K_TRY(et_k_check_contiguous(ctx, in, "input"));
  ET_K_TRY(et_k_check_contiguous(ctx, w, "weight"));
  ET_K_TRY(et_k_check_contiguous(ctx, out, "out"));
  if (groups < 1) return ET_K_FAIL(ctx, "groups: must be positive, got %lld", (long long)groups);

  const uint32_t spatial = in->rank - 2;
  int64_t st[2], pad[2], dil[2], opad[2] = {0, 0};
  ET_K_TRY(spatial_list(ctx, args[3], spatial, 1, "stride", st));
  ET_K_TRY(spatial_list(ctx, args[4], spatial, 0, "padding", pad));
  ET_K_TRY(spatial_list(ctx, args[5], spatial, 1, "dilation", dil));
  if (transposed) ET_K_TRY(spatial_list(ctx, args[7], spatial, 0, "output_padding", opad));

  conv_geom g;
  g.N = in->sizes[0];
  g.Cin = in->sizes[1];
  g.groups = groups;
  if (spatial == 2) {
    g.H = in->sizes[2];
    g.W = in->sizes[3];
    g.KH = w->sizes[2];
    g.KW = w->sizes[3];
    g.sh = st[0], g.sw = st[1], g.ph = pad[0], g.pw = pad[1], g.dh = dil[0], g.dw = dil[1];
  } else {
    g.H = 1;
    g.W = in->sizes[2];
    g.KH = 1;
    g.KW = w->sizes[2];
    g.sh = 1, g.sw = st[0], g.ph = 0, g.pw = pad[0], g.dh = 1, g.dw = dil[0];
    opad[1] = opad[0];
    opad[0] = 0;
  }
  if (g.Cin % groups != 0)
    return ET_K_FAIL(ctx, "input: %lld channels are not divisible by groups=%lld",
                     (long long)g.Cin, (long long)groups);
  g.cin_g = g.Cin / groups;
  if (!transposed) {
    g.Cout = w->sizes[0];
    if (g.Cout % groups != 0 || w->sizes[1] != g.cin_g)
      return ET_K_FAIL(ctx, "weight: shape [%lld, %lld, ...] does not fit %lld input "
                            "channels in %lld groups",
                       (long long)w->sizes[0], (long long)w->sizes[1], (long long)g.Cin,
                       (long long)groups);
    g.cout_g = g.Cout / groups;
  } else {
    if (w->sizes[0] != g.Cin)
      return ET_K_FAIL(ctx, "weight: transposed weight must have %lld rows (input channels), "
                            "got %lld",
                       (long long)g.Cin, (long long)w->sizes[0]);
    g.cout_g = w->sizes[1];
    g.Cout = g.cout_g * groups;
  }
  if (bias) {
    ET_K_TRY(et_k_check_tensor(ctx, bias, "bias"));
    ET_K_TRY(et_k_check_same_dtype(ctx, bias, "bias", in, "input"));
    if (bias->rank != 1 || bias->sizes[0] != g.Cout)
      return ET_K_FAIL(ctx, "bias: expected shape [%lld]", (long long)g.Cout);
  }
  const int64_t ek_h = g.dh * (g.KH - 1) + 1, ek_w = g.dw * (g.KW - 1) + 1;
  if (!transposed) {
    if (g.H + 2 * g.ph < ek_h || g.W + 2 * g.pw < ek_w)
      return ET_K_FAIL(ctx, "input: padded spatial size is smaller than the (dilated) kernel");
    g.OH = (g.H + 2 * g.ph - ek_h) / g.sh + 1;
    g.OW = (g.W + 2 * g.pw - ek_w) / g.sw + 1;
  } else {
    if (opad[0] >= max64(g.sh, g.dh) || opad[1] >= max64(g.sw, g.dw))
      return ET_K_FAIL(ctx, "output_padding must be smaller than stride or dilation");
    g.OH = (g.H - 1) * g.sh - 2 * g.ph + ek_h + opad[0];
    g.OW = (g.W - 1) * g.sw - 2 * g.pw + ek_w + opad[1];
    if (g.OH < 0 || g.OW < 0) return ET_K_FAIL(ctx, "output size is negative");
  }
  int64_t osz[4] = {g.N, g.Cout, g.OH, g.OW};
  if (spatial == 1) osz[2] = g.OW;
  ET_K_TRY(et_k_resize(ctx, out, osz, in->rank, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  if (out->data == in->data || out->data == w->data)
    return ET_K_FAIL(ctx, "out must not share memory with input or weight");

  const void *bd = bias ? bias->data : NULL;
  if (!transposed && conv_as_matmul(ctx, &g, in->dtype, in->data, w->data, bd, out->data))
    return ET_OK;
  switch (in->dtype) {
#define CASE_CONV(E, T, S)                                                     \
  case E:                                                                      \
    if (transposed)                                                            \
      convt_##S(&g, (const T *)in->data, (const T *)w->data, (const T *)bd, (T *)out->data); \
    else                                                                       \
      conv_##S(&g, (const T *)in->data, (const T *)w->data, (const T *)bd, (T *)out->data); \
    break;
    ET_FOREACH_FLOATHBF16(CASE_CONV)
  default:
    break;
  }
  return ET_OK;
}
