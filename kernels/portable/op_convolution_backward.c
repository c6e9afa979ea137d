/*
 * aten::convolution_backward.out(Tensor grad_output, Tensor input,
 *     Tensor weight, SymInt[]? bias_sizes, SymInt[] stride, SymInt[] padding,
 *     SymInt[] dilation, bool transposed, SymInt[] output_padding,
 *     SymInt groups, bool[3] output_mask, *, Tensor(a!) out0,
 *     Tensor(b!) out1, Tensor(c!) out2)
 *
 * Gradients of aten::convolution (1-D [N, C, L] and 2-D [N, C, H, W],
 * plain and transposed, with groups, stride, padding and dilation) with
 * respect to input (out0), weight (out1) and bias (out2, [C_out]), each
 * computed only when its output_mask entry is set; unrequested outputs are
 * left untouched. grad_output must have the shape the forward convolution
 * produces. (Upstream ExecuTorch's portable kernel handles only plain 2-D
 * convolution.)
 *
 * Every gradient element is gathered and accumulated on its own, in float
 * for Float/Half/BFloat16 and in double for Double, then stored once, so
 * no partial sums are rounded to Half. Contiguous tensors only.
 */
#include "portable/ops.h"

#include "util/shape_util.h"

#include <string.h>

typedef struct cb_geom {
  int64_t N, Cin, H, W, Cout, OH, OW, KH, KW;
  int64_t sh, sw, ph, pw, dh, dw, groups, cin_g, cout_g;
} cb_geom;

/* a = b * s - p + k * d: the `b` with a in [0, n) form [lo, hi). */
static inline void valid_range(int64_t base, int64_t s, int64_t n, int64_t bmax, int64_t *lo,
                               int64_t *hi) {
  /* b * s + base in [0, n) */
  *lo = base >= 0 ? 0 : (-base + s - 1) / s;
  const int64_t last = n - 1 - base;
  *hi = last < 0 ? 0 : last / s + 1;
  if (*hi > bmax) *hi = bmax;
  if (*lo > *hi) *lo = *hi;
}

#define DEFINE_CB(E, T, S)                                                     \
  /* plain convolution: out position o, input position o * s - p + k * d */   \
  static void cb_plain_##S(const cb_geom *g, const T *go, const T *x, const T *w, T *gi, \
                           T *gw) {                                            \
    typedef ET_CT(S) ct;                                                       \
    const int64_t HW = g->H * g->W, OHW = g->OH * g->OW, KK = g->KH * g->KW;   \
    if (gi)                                                                    \
      for (int64_t n = 0; n < g->N; n++)                                       \
        for (int64_t ic = 0; ic < g->Cin; ic++) {                              \
          const int64_t grp = ic / g->cin_g, icl = ic % g->cin_g;              \
          for (int64_t ih = 0; ih < g->H; ih++)                                \
            for (int64_t iw = 0; iw < g->W; iw++) {                            \
              ct acc = 0;                                                      \
              for (int64_t ocl = 0; ocl < g->cout_g; ocl++) {                  \
                const int64_t oc = grp * g->cout_g + ocl;                      \
                const T *gp = go + (n * g->Cout + oc) * OHW;                   \
                const T *wk = w + (oc * g->cin_g + icl) * KK;                  \
                for (int64_t kh = 0; kh < g->KH; kh++) {                       \
                  const int64_t th = ih + g->ph - kh * g->dh;                  \
                  if (th < 0 || th % g->sh != 0 || th / g->sh >= g->OH) continue; \
                  for (int64_t kw = 0; kw < g->KW; kw++) {                     \
                    const int64_t tw = iw + g->pw - kw * g->dw;                \
                    if (tw < 0 || tw % g->sw != 0 || tw / g->sw >= g->OW) continue; \
                    acc += ET_LD(S, gp[(th / g->sh) * g->OW + tw / g->sw]) *   \
                           ET_LD(S, wk[kh * g->KW + kw]);                      \
                  }                                                            \
                }                                                              \
              }                                                                \
              gi[(n * g->Cin + ic) * HW + ih * g->W + iw] = ET_ST(S, acc);     \
            }                                                                  \
        }                                                                      \
    if (gw)                                                                    \
      for (int64_t oc = 0; oc < g->Cout; oc++)                                 \
        for (int64_t icl = 0; icl < g->cin_g; icl++) {                         \
          const int64_t ic = (oc / g->cout_g) * g->cin_g + icl;                \
          for (int64_t kh = 0; kh < g->KH; kh++)                               \
            for (int64_t kw = 0; kw < g->KW; kw++) {                           \
              int64_t h0, h1, w0, w1;                                          \
              valid_range(kh * g->dh - g->ph, g->sh, g->H, g->OH, &h0, &h1);   \
              valid_range(kw * g->dw - g->pw, g->sw, g->W, g->OW, &w0, &w1);   \
              ct acc = 0;                                                      \
              for (int64_t n = 0; n < g->N; n++) {                             \
                const T *gp = go + (n * g->Cout + oc) * OHW;                   \
                const T *xp = x + (n * g->Cin + ic) * HW;                      \
                for (int64_t oh = h0; oh < h1; oh++) {                         \
                  const T *gr = gp + oh * g->OW;                               \
                  const int64_t xo = (oh * g->sh - g->ph + kh * g->dh) * g->W + kw * g->dw - g->pw; \
                  for (int64_t ow = w0; ow < w1; ow++)                         \
                    acc += ET_LD(S, gr[ow]) * ET_LD(S, xp[xo + ow * g->sw]);   \
                }                                                              \
              }                                                                \
              gw[((oc * g->cin_g + icl) * g->KH + kh) * g->KW + kw] = ET_ST(S, acc); \
            }                                                                  \
        }                                                                      \
  }                                                                            \
  /* transposed: input position i, out position i * s - p + k * d; weight    \
   * [Cin, Cout / groups, KH, KW] */                                           \
  static void cb_transposed_##S(const cb_geom *g, const T *go, const T *x, const T *w, \
                                T *gi, T *gw) {                                \
    typedef ET_CT(S) ct;                                                       \
    const int64_t HW = g->H * g->W, OHW = g->OH * g->OW, KK = g->KH * g->KW;   \
    if (gi)                                                                    \
      for (int64_t n = 0; n < g->N; n++)                                       \
        for (int64_t ic = 0; ic < g->Cin; ic++) {                              \
          const int64_t grp = ic / g->cin_g;                                   \
          for (int64_t ih = 0; ih < g->H; ih++)                                \
            for (int64_t iw = 0; iw < g->W; iw++) {                            \
              ct acc = 0;                                                      \
              for (int64_t ocl = 0; ocl < g->cout_g; ocl++) {                  \
                const T *gp = go + (n * g->Cout + grp * g->cout_g + ocl) * OHW; \
                const T *wk = w + (ic * g->cout_g + ocl) * KK;                 \
                for (int64_t kh = 0; kh < g->KH; kh++) {                       \
                  const int64_t oh = ih * g->sh - g->ph + kh * g->dh;          \
                  if (oh < 0 || oh >= g->OH) continue;                         \
                  for (int64_t kw = 0; kw < g->KW; kw++) {                     \
                    const int64_t ow = iw * g->sw - g->pw + kw * g->dw;        \
                    if (ow < 0 || ow >= g->OW) continue;                       \
                    acc += ET_LD(S, gp[oh * g->OW + ow]) * ET_LD(S, wk[kh * g->KW + kw]); \
                  }                                                            \
                }                                                              \
              }                                                                \
              gi[(n * g->Cin + ic) * HW + ih * g->W + iw] = ET_ST(S, acc);     \
            }                                                                  \
        }                                                                      \
    if (gw)                                                                    \
      for (int64_t ic = 0; ic < g->Cin; ic++)                                  \
        for (int64_t ocl = 0; ocl < g->cout_g; ocl++) {                        \
          const int64_t oc = (ic / g->cin_g) * g->cout_g + ocl;                \
          for (int64_t kh = 0; kh < g->KH; kh++)                               \
            for (int64_t kw = 0; kw < g->KW; kw++) {                           \
              int64_t h0, h1, w0, w1;                                          \
              valid_range(kh * g->dh - g->ph, g->sh, g->OH, g->H, &h0, &h1);   \
              valid_range(kw * g->dw - g->pw, g->sw, g->OW, g->W, &w0, &w1);   \
              ct acc = 0;                                                      \
              for (int64_t n = 0; n < g->N; n++) {                             \
                const T *gp = go + (n * g->Cout + oc) * OHW;                   \
                const T *xp = x + (n * g->Cin + ic) * HW;                      \
                for (int64_t ih = h0; ih < h1; ih++) {                         \
                  const T *xr = xp + ih * g->W;                                \
                  const int64_t go_ = (ih * g->sh - g->ph + kh * g->dh) * g->OW + kw * g->dw - g->pw; \
                  for (int64_t iw = w0; iw < w1; iw++)                         \
                    acc += ET_LD(S, xr[iw]) * ET_LD(S, gp[go_ + iw * g->sw]);  \
                }                                                              \
              }                                                                \
              gw[((ic * g->cout_g + ocl) * g->KH + kh) * g->KW + kw] = ET_ST(S, acc); \
            }                                                                  \
        }                                                                      \
  }                                                                            \
  static void cb_bias_##S(const cb_geom *g, const T *go, T *gb) {              \
    const int64_t OHW = g->OH * g->OW;                                         \
    for (int64_t oc = 0; oc < g->Cout; oc++) {                                 \
      ET_CT(S) acc = 0;                                                        \
      for (int64_t n = 0; n < g->N; n++) {                                     \
        const T *gp = go + (n * g->Cout + oc) * OHW;                           \
        for (int64_t i = 0; i < OHW; i++) acc += ET_LD(S, gp[i]);              \
      }                                                                        \
      gb[oc] = ET_ST(S, acc);                                                  \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_CB)

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
  }
  return ET_OK;
}

et_status op_convolution_backward_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *go = args[0]->u.t, *in = args[1]->u.t, *w = args[2]->u.t;
  const bool transposed = args[7]->u.b;
  const int64_t groups = args[9]->u.i;
  const et_value *mask = args[10];
  et_tensor *gi = args[11]->u.t, *gw = args[12]->u.t, *gb = args[13]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, go, "grad_output"));
  ET_K_TRY(et_k_check_tensor(ctx, in, "input"));
  ET_K_TRY(et_k_check_tensor(ctx, w, "weight"));
  ET_K_TRY(et_k_check_floating(ctx, in, "input"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", w, "weight"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", go, "grad_output"));
  ET_K_TRY(et_k_check_rank(ctx, in, 3, 4, "input"));
  if (w->rank != in->rank || go->rank != in->rank)
    return ET_K_FAIL(ctx, "weight and grad_output must have input's rank %u",
                     (unsigned)in->rank);
  ET_K_TRY(et_k_check_contiguous(ctx, in, "input"));
  ET_K_TRY(et_k_check_contiguous(ctx, w, "weight"));
  ET_K_TRY(et_k_check_contiguous(ctx, go, "grad_output"));
  if (mask->u.blist.len != 3)
    return ET_K_FAIL(ctx, "output_mask: expected 3 values, got %zu", mask->u.blist.len);
  const bool want[3] = {mask->u.blist.items[0] != 0, mask->u.blist.items[1] != 0,
                        mask->u.blist.items[2] != 0};
  if (groups < 1) return ET_K_FAIL(ctx, "groups: must be positive, got %lld", (long long)groups);

  const uint32_t spatial = in->rank - 2;
  int64_t st[2], pad[2], dil[2], opad[2] = {0, 0};
  ET_K_TRY(spatial_list(ctx, args[4], spatial, 1, "stride", st));
  ET_K_TRY(spatial_list(ctx, args[5], spatial, 0, "padding", pad));
  ET_K_TRY(spatial_list(ctx, args[6], spatial, 1, "dilation", dil));
  if (transposed) ET_K_TRY(spatial_list(ctx, args[8], spatial, 0, "output_padding", opad));

  cb_geom g;
  g.N = in->sizes[0];
  g.Cin = in->sizes[1];
  g.groups = groups;
  if (spatial == 2) {
    g.H = in->sizes[2], g.W = in->sizes[3], g.KH = w->sizes[2], g.KW = w->sizes[3];
    g.sh = st[0], g.sw = st[1], g.ph = pad[0], g.pw = pad[1], g.dh = dil[0], g.dw = dil[1];
  } else {
    g.H = 1, g.W = in->sizes[2], g.KH = 1, g.KW = w->sizes[2];
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
      return ET_K_FAIL(ctx, "weight: shape [%lld, %lld, ...] does not fit %lld input channels "
                            "in %lld groups",
                       (long long)w->sizes[0], (long long)w->sizes[1], (long long)g.Cin,
                       (long long)groups);
    g.cout_g = g.Cout / groups;
    const int64_t ekh = g.dh * (g.KH - 1) + 1, ekw = g.dw * (g.KW - 1) + 1;
    if (g.H + 2 * g.ph < ekh || g.W + 2 * g.pw < ekw)
      return ET_K_FAIL(ctx, "input: padded spatial size is smaller than the (dilated) kernel");
    g.OH = (g.H + 2 * g.ph - ekh) / g.sh + 1;
    g.OW = (g.W + 2 * g.pw - ekw) / g.sw + 1;
  } else {
    if (w->sizes[0] != g.Cin)
      return ET_K_FAIL(ctx, "weight: transposed weight must have %lld rows (input channels), "
                            "got %lld",
                       (long long)g.Cin, (long long)w->sizes[0]);
    g.cout_g = w->sizes[1];
    g.Cout = g.cout_g * groups;
    if (opad[0] >= (g.sh > g.dh ? g.sh : g.dh) || opad[1] >= (g.sw > g.dw ? g.sw : g.dw))
      return ET_K_FAIL(ctx, "output_padding must be smaller than stride or dilation");
    g.OH = (g.H - 1) * g.sh - 2 * g.ph + g.dh * (g.KH - 1) + 1 + opad[0];
    g.OW = (g.W - 1) * g.sw - 2 * g.pw + g.dw * (g.KW - 1) + 1 + opad[1];
    if (g.OH < 0 || g.OW < 0) return ET_K_FAIL(ctx, "output size is negative");
  }
  const int64_t osz[4] = {g.N, g.Cout, spatial == 2 ? g.OH : g.OW, g.OW};
  bool ok = true;
  for (uint32_t d = 0; d < go->rank; d++) ok = ok && go->sizes[d] == osz[d];
  if (!ok) {
    char have[96], want_s[96];
    et_k_tensor_shape_str(have, sizeof have, go);
    et_k_shape_str(want_s, sizeof want_s, osz, go->rank);
    return ET_K_FAIL(ctx, "grad_output %s does not match the convolution's output shape %s",
                     have, want_s);
  }

  const char *names[3] = {"out0", "out1", "out2"};
  et_tensor *outs[3] = {gi, gw, gb};
  for (int k = 0; k < 3; k++) {
    if (!want[k]) continue;
    ET_K_TRY(et_k_check_tensor(ctx, outs[k], names[k]));
    ET_K_TRY(et_k_check_same_dtype(ctx, outs[k], names[k], in, "input"));
    ET_K_TRY(et_k_check_contiguous(ctx, outs[k], names[k]));
    if (outs[k]->data && (outs[k]->data == in->data || outs[k]->data == w->data ||
                          outs[k]->data == go->data) &&
        et_tensor_numel(outs[k]) != 0)
      return ET_K_FAIL(ctx, "%s must not share memory with the inputs", names[k]);
  }
  if (want[0]) ET_K_TRY(et_k_resize_like(ctx, gi, in, "out0"));
  if (want[1]) ET_K_TRY(et_k_resize_like(ctx, gw, w, "out1"));
  if (want[2]) {
    if (args[3]->tag == ET_TAG_LIST_INT) {
      if (args[3]->u.ilist.len != 1 || et_int_list_get(args[3], 0) != g.Cout)
        return ET_K_FAIL(ctx, "bias_sizes: expected [%lld]", (long long)g.Cout);
    }
    ET_K_TRY(et_k_resize(ctx, gb, &g.Cout, 1, "out2"));
  }
  switch (in->dtype) {
#define CASE_CB(E, T, S)                                                       \
  case E: {                                                                    \
    T *pgi = want[0] ? (T *)gi->data : NULL;                                   \
    T *pgw = want[1] ? (T *)gw->data : NULL;                                   \
    if (transposed)                                                            \
      cb_transposed_##S(&g, (const T *)go->data, (const T *)in->data, (const T *)w->data, pgi, \
                        pgw);                                                  \
    else                                                                       \
      cb_plain_##S(&g, (const T *)go->data, (const T *)in->data, (const T *)w->data, pgi, pgw); \
    if (want[2]) cb_bias_##S(&g, (const T *)go->data, (T *)gb->data);          \
    break;                                                                     \
  }
    ET_FOREACH_FLOATHBF16(CASE_CB)
  default:
    break;
  }
  return ET_OK;
}
