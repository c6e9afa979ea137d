/*
 * aten::convolution_backward.out(Tensor grad_output, Tensor input,
 *     Tensor weight, SymInt[]? bias_sizes, SymInt[] stride, SymInt[] padding,
 *     SymInt[] dilation, bool transposed, SymInt[] output_padding,
 *     SymInt groups, bool[3] output_mask, *, Tensor(a!) out0,
 *     Tensor(b!) out1, Tensor(c!) out2)
 *
 * Gradients of aten::convolution (1-D [N, C, L], 2-D [N, C, H, W] and 3-D
 * [N, C, D, H, W], plain and transposed, with groups, stride, padding and
 * dilation) with respect to input (out0), weight (out1) and bias (out2,
 * [C_out]), each computed only when its output_mask entry is set;
 * unrequested outputs are left untouched. grad_output must have the shape
 * the forward convolution produces. The geometry (argument checks, output
 * size) is the forward kernel's (util/conv_util.h). (Upstream ExecuTorch's
 * portable kernel handles only plain 2-D convolution.)
 *
 * Every gradient element is gathered and accumulated on its own, in float
 * for Float/Half/BFloat16 and in double for Double, then stored once, so
 * no partial sums are rounded to Half. Contiguous tensors only.
 */
#include "portable/ops.h"

#include "util/conv_util.h"
#include "util/shape_util.h"

#include <string.h>

/* t = o * s (o in [0, n)) for the gathers: o, or -1 when t is not such a
 * position. */
static inline int64_t out_pos(int64_t t, int64_t s, int64_t n) {
  if (t < 0 || t % s != 0) return -1;
  t /= s;
  return t < n ? t : -1;
}

#define DEFINE_CB(E, T, S)                                                     \
  /* One weight-gradient element, tap kk = (kd * KH + kh) * KW + kw: over the \
   * batch (volumes n * *_n apart) and every position p of the dense volume  \
   * whose partner p * stride - pad + k * dilation lies in the strided one,  \
   * the sum of dense[p] * strided[partner]. Plain convolution: dense =      \
   * grad_output, strided = input; transposed: dense = input, strided =     \
   * grad_output. */                                                         \
  static ET_CT(S) cb_weight_tap_##S(const et_conv_geom *g, const T *dense, int64_t dense_n, \
                                    const int64_t *dd, const T *strided,       \
                                    int64_t strided_n, const int64_t *sd, int64_t kk) { \
    const int64_t *st = g->stride, *pd = g->pad, *dl = g->dil;                 \
    const int64_t k[3] = {kk / (g->k[1] * g->k[2]), kk / g->k[2] % g->k[1], kk % g->k[2]}; \
    int64_t lo[3], hi[3], base[3];                                             \
    for (int a = 0; a < 3; a++) {                                              \
      base[a] = k[a] * dl[a] - pd[a];                                          \
      et_conv_valid_range(base[a], st[a], sd[a], dd[a], &lo[a], &hi[a]);       \
    }                                                                          \
    ET_CT(S) acc = 0;                                                          \
    for (int64_t n = 0; n < g->N; n++) {                                       \
      const T *dp = dense + n * dense_n, *sp = strided + n * strided_n;        \
      for (int64_t p0 = lo[0]; p0 < hi[0]; p0++)                               \
        for (int64_t p1 = lo[1]; p1 < hi[1]; p1++) {                           \
          const T *dr = dp + (p0 * dd[1] + p1) * dd[2];                        \
          const int64_t so = ((p0 * st[0] + base[0]) * sd[1] + p1 * st[1] + base[1]) * sd[2] + \
                             base[2];                                          \
          for (int64_t p2 = lo[2]; p2 < hi[2]; p2++)                           \
            acc += ET_LD(S, dr[p2]) * ET_LD(S, sp[so + p2 * st[2]]);           \
        }                                                                      \
    }                                                                          \
    return acc;                                                                \
  }                                                                            \
  /* plain convolution: out position o, input position o * s - p + k * d */   \
  static void cb_plain_##S(const et_conv_geom *g, const T *go, const T *x, const T *w, T *gi, \
                           T *gw) {                                            \
    typedef ET_CT(S) ct;                                                       \
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];                 \
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];              \
    const int64_t KD = g->k[0], KH = g->k[1], KW = g->k[2];                    \
    const int64_t IV = ID * IH * IW, OV = OD * OH * OW, KK = KD * KH * KW;     \
    const int64_t *st = g->stride, *pd = g->pad, *dl = g->dil;                 \
    if (gi)                                                                    \
      for (int64_t n = 0; n < g->N; n++)                                       \
        for (int64_t ic = 0; ic < g->Cin; ic++) {                              \
          const int64_t grp = ic / g->cin_g, icl = ic % g->cin_g;              \
          for (int64_t id = 0; id < ID; id++)                                  \
            for (int64_t ih = 0; ih < IH; ih++)                                \
              for (int64_t iw = 0; iw < IW; iw++) {                            \
                ct acc = 0;                                                    \
                for (int64_t ocl = 0; ocl < g->cout_g; ocl++) {                \
                  const int64_t oc = grp * g->cout_g + ocl;                    \
                  const T *gp = go + (n * g->Cout + oc) * OV;                  \
                  const T *wk = w + (oc * g->cin_g + icl) * KK;                \
                  for (int64_t kd = 0; kd < KD; kd++) {                        \
                    const int64_t od = out_pos(id + pd[0] - kd * dl[0], st[0], OD); \
                    if (od < 0) continue;                                      \
                    for (int64_t kh = 0; kh < KH; kh++) {                      \
                      const int64_t oh = out_pos(ih + pd[1] - kh * dl[1], st[1], OH); \
                      if (oh < 0) continue;                                    \
                      for (int64_t kw = 0; kw < KW; kw++) {                    \
                        const int64_t ow = out_pos(iw + pd[2] - kw * dl[2], st[2], OW); \
                        if (ow < 0) continue;                                  \
                        acc += ET_LD(S, gp[(od * OH + oh) * OW + ow]) *        \
                               ET_LD(S, wk[(kd * KH + kh) * KW + kw]);         \
                      }                                                        \
                    }                                                          \
                  }                                                            \
                }                                                              \
                gi[(n * g->Cin + ic) * IV + (id * IH + ih) * IW + iw] = ET_ST(S, acc); \
              }                                                                \
        }                                                                      \
    if (gw)                                                                    \
      for (int64_t oc = 0; oc < g->Cout; oc++)                                 \
        for (int64_t icl = 0; icl < g->cin_g; icl++) {                         \
          const int64_t ic = (oc / g->cout_g) * g->cin_g + icl;                \
          for (int64_t kk = 0; kk < KK; kk++)                                  \
            gw[(oc * g->cin_g + icl) * KK + kk] = ET_ST(                       \
                S, cb_weight_tap_##S(g, go + oc * OV, g->Cout * OV, g->out, x + ic * IV, \
                                     g->Cin * IV, g->in, kk));                 \
        }                                                                      \
  }                                                                            \
  /* transposed: input position i, out position i * s - p + k * d; weight    \
   * [Cin, Cout / groups, KD, KH, KW] */                                       \
  static void cb_transposed_##S(const et_conv_geom *g, const T *go, const T *x, const T *w, \
                                T *gi, T *gw) {                                \
    typedef ET_CT(S) ct;                                                       \
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];                 \
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];              \
    const int64_t KD = g->k[0], KH = g->k[1], KW = g->k[2];                    \
    const int64_t IV = ID * IH * IW, OV = OD * OH * OW, KK = KD * KH * KW;     \
    const int64_t *st = g->stride, *pd = g->pad, *dl = g->dil;                 \
    if (gi)                                                                    \
      for (int64_t n = 0; n < g->N; n++)                                       \
        for (int64_t ic = 0; ic < g->Cin; ic++) {                              \
          const int64_t grp = ic / g->cin_g;                                   \
          for (int64_t id = 0; id < ID; id++)                                  \
            for (int64_t ih = 0; ih < IH; ih++)                                \
              for (int64_t iw = 0; iw < IW; iw++) {                            \
                ct acc = 0;                                                    \
                for (int64_t ocl = 0; ocl < g->cout_g; ocl++) {                \
                  const T *gp = go + (n * g->Cout + grp * g->cout_g + ocl) * OV; \
                  const T *wk = w + (ic * g->cout_g + ocl) * KK;               \
                  for (int64_t kd = 0; kd < KD; kd++) {                        \
                    const int64_t od = id * st[0] - pd[0] + kd * dl[0];        \
                    if (od < 0 || od >= OD) continue;                          \
                    for (int64_t kh = 0; kh < KH; kh++) {                      \
                      const int64_t oh = ih * st[1] - pd[1] + kh * dl[1];      \
                      if (oh < 0 || oh >= OH) continue;                        \
                      for (int64_t kw = 0; kw < KW; kw++) {                    \
                        const int64_t ow = iw * st[2] - pd[2] + kw * dl[2];    \
                        if (ow < 0 || ow >= OW) continue;                      \
                        acc += ET_LD(S, gp[(od * OH + oh) * OW + ow]) *        \
                               ET_LD(S, wk[(kd * KH + kh) * KW + kw]);         \
                      }                                                        \
                    }                                                          \
                  }                                                            \
                }                                                              \
                gi[(n * g->Cin + ic) * IV + (id * IH + ih) * IW + iw] = ET_ST(S, acc); \
              }                                                                \
        }                                                                      \
    if (gw)                                                                    \
      for (int64_t ic = 0; ic < g->Cin; ic++)                                  \
        for (int64_t ocl = 0; ocl < g->cout_g; ocl++) {                        \
          const int64_t oc = (ic / g->cin_g) * g->cout_g + ocl;                \
          for (int64_t kk = 0; kk < KK; kk++)                                  \
            gw[(ic * g->cout_g + ocl) * KK + kk] = ET_ST(                      \
                S, cb_weight_tap_##S(g, x + ic * IV, g->Cin * IV, g->in, go + oc * OV, \
                                     g->Cout * OV, g->out, kk));               \
        }                                                                      \
  }                                                                            \
  static void cb_bias_##S(const et_conv_geom *g, const T *go, T *gb) {         \
    const int64_t OV = et_conv_out_volume(g);                                  \
    for (int64_t oc = 0; oc < g->Cout; oc++) {                                 \
      ET_CT(S) acc = 0;                                                        \
      for (int64_t n = 0; n < g->N; n++) {                                     \
        const T *gp = go + (n * g->Cout + oc) * OV;                            \
        for (int64_t i = 0; i < OV; i++) acc += ET_LD(S, gp[i]);               \
      }                                                                        \
      gb[oc] = ET_ST(S, acc);                                                  \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_CB)

et_status et_op_convolution_backward_out(et_kernel_ctx *ctx, et_value **args) {
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
  if (go->rank != in->rank)
    return ET_K_FAIL(ctx, "grad_output must have input's rank %u", (unsigned)in->rank);
  ET_K_TRY(et_k_check_contiguous(ctx, in, "input"));
  ET_K_TRY(et_k_check_contiguous(ctx, w, "weight"));
  ET_K_TRY(et_k_check_contiguous(ctx, go, "grad_output"));
  if (mask->u.blist.len != 3)
    return ET_K_FAIL(ctx, "output_mask: expected 3 values, got %zu", mask->u.blist.len);
  const bool want[3] = {mask->u.blist.items[0] != 0, mask->u.blist.items[1] != 0,
                        mask->u.blist.items[2] != 0};

  et_conv_geom g;
  ET_K_TRY(et_conv_geom_init(ctx, in, w, args[4], args[5], args[6], transposed, args[8], groups,
                             &g));
  int64_t osz[5];
  et_conv_out_sizes(&g, osz);
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
