/*
 * Portable kernels, part 2: matrix multiply, convolution, normalization,
 * softmax, pooling and embedding, checked against straightforward reference
 * loops in double precision.
 */
#include "test_kernels.h"

/* ---- mm / bmm / addmm ---------------------------------------------------- */

static void mm_ref(const et_tensor *a, const et_tensor *b, size_t a_off, size_t b_off,
                   int64_t M, int64_t K, int64_t N, double *out) {
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double s = 0;
      for (int64_t k = 0; k < K; k++)
        s += kt_get(a, a_off + (size_t)(i * K + k)) * kt_get(b, b_off + (size_t)(k * N + j));
      out[i * N + j] = s;
    }
}

static void test_mm(void **state) {
  (void)state;
  const int dts[4] = {ET_FLOAT, ET_DOUBLE, ET_HALF, ET_BFLOAT16};
  const double tol[4] = {1e-5, 1e-12, 2e-3, 1.6e-2};
  for (int t = 0; t < 4; t++) {
    et_tensor *a = kt_random(kt_t(dts[t], 2, 9, 13), 1);
    et_tensor *b = kt_random(kt_t(dts[t], 2, 13, 6), 2);
    et_tensor *out = kt_t(dts[t], 2, 9, 6);
    KT_OK("aten::mm.out", VT(a), VT(b), VT(out), VT(out));
    double ref[54];
    mm_ref(a, b, 0, 0, 9, 13, 6, ref);
    kt_expect_close(out, ref, 54, tol[t], tol[t]);
  }
  et_tensor *i = kt_vals(kt_t(ET_INT, 2, 2, 2), 1, 2, 3, 4);
  et_tensor *oi = kt_t(ET_INT, 2, 2, 2);
  KT_OK("aten::mm.out", VT(i), VT(i), VT(oi), VT(oi));
  KT_EXPECT(oi, 7, 10, 15, 22);
  /* errors */
  et_tensor *a = kt_t(ET_FLOAT, 2, 2, 3);
  et_tensor *o = kt_t(ET_FLOAT, 2, 2, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be multiplied", "aten::mm.out", VT(a), VT(a), VT(o),
          VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::mm.out", VT(a),
          VT(kt_t(ET_DOUBLE, 2, 3, 2)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "rank", "aten::mm.out", VT(kt_t(ET_FLOAT, 1, 3)), VT(a), VT(o),
          VT(o));
  et_tensor *tr = kt_ord(kt_t(ET_FLOAT, 2, 3, 2), 1, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "contiguous", "aten::mm.out", VT(a), VT(tr), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "share memory", "aten::mm.out", VT(o), VT(o), VT(o), VT(o));
  et_tensor *bl = kt_t(ET_BOOL, 2, 2, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "not supported", "aten::mm.out", VT(bl), VT(bl),
          VT(kt_t(ET_BOOL, 2, 2, 2)), VT(o));
}

static void test_bmm(void **state) {
  (void)state;
  et_tensor *a = kt_random(kt_t(ET_FLOAT, 3, 3, 5, 4), 3);
  et_tensor *b = kt_random(kt_t(ET_FLOAT, 3, 3, 4, 7), 4);
  et_tensor *out = kt_dynamic(kt_t(ET_FLOAT, 3, 1, 1, 1), 105);
  KT_OK("aten::bmm.out", VT(a), VT(b), VT(out), VT(out));
  KT_SHAPE(out, 3, 3, 5, 7);
  double ref[105];
  for (int k = 0; k < 3; k++) mm_ref(a, b, (size_t)k * 20, (size_t)k * 28, 5, 4, 7, ref + k * 35);
  kt_expect_close(out, ref, 105, 1e-5, 1e-6);
  KT_FAIL(ET_INVALID_ARGUMENT, "batch-multiplied", "aten::bmm.out", VT(a),
          VT(kt_t(ET_FLOAT, 3, 2, 4, 7)), VT(out), VT(out));
}

static void test_addmm(void **state) {
  (void)state;
  et_tensor *m1 = kt_random(kt_t(ET_FLOAT, 2, 4, 16), 5);
  et_tensor *m2 = kt_random(kt_t(ET_FLOAT, 2, 16, 8), 6);
  et_tensor *bias = kt_random(kt_t(ET_FLOAT, 1, 8), 7);
  et_tensor *out = kt_t(ET_FLOAT, 2, 4, 8);
  double mm[32];
  mm_ref(m1, m2, 0, 0, 4, 16, 8, mm);
  /* the linear-layer form: bias [N], beta = alpha = 1 */
  KT_OK("aten::addmm.out", VT(bias), VT(m1), VT(m2), VI(1), VI(1), VT(out), VT(out));
  double ref[32];
  for (int i = 0; i < 32; i++) ref[i] = mm[i] + kt_get(bias, (size_t)(i % 8));
  kt_expect_close(out, ref, 32, 1e-5, 1e-6);
  /* the product is rounded before the bias is added, as a BLAS gemm does */
  et_tensor *prod = kt_t(ET_FLOAT, 2, 4, 8);
  KT_OK("aten::mm.out", VT(m1), VT(m2), VT(prod), VT(prod));
  KT_OK("aten::addmm.out", VT(bias), VT(m1), VT(m2), VI(1), VI(1), VT(out), VT(out));
  for (size_t i = 0; i < 32; i++)
    assert_true(kt_get(out, i) == (double)((float)kt_get(prod, i) + (float)kt_get(bias, i % 8)));
  /* [M, 1] self, beta 0.5, alpha 2 */
  et_tensor *col = kt_random(kt_t(ET_FLOAT, 2, 4, 1), 8);
  KT_OK("aten::addmm.out", VT(col), VT(m1), VT(m2), VD(0.5), VD(2.0), VT(out), VT(out));
  for (int i = 0; i < 32; i++) ref[i] = 2 * mm[i] + 0.5 * kt_get(col, (size_t)(i / 8));
  kt_expect_close(out, ref, 32, 1e-5, 1e-6);
  /* beta 0 ignores self, even NaN */
  et_tensor *nan = kt_vals(kt_t0(ET_FLOAT), NAN);
  KT_OK("aten::addmm.out", VT(nan), VT(m1), VT(m2), VI(0), VI(1), VT(out), VT(out));
  kt_expect_close(out, mm, 32, 1e-5, 1e-6);
  KT_FAIL(ET_INVALID_ARGUMENT, "does not broadcast", "aten::addmm.out",
          VT(kt_t(ET_FLOAT, 1, 3)), VT(m1), VT(m2), VI(1), VI(1), VT(out), VT(out));
  /* integers */
  et_tensor *i1 = kt_vals(kt_t(ET_LONG, 2, 1, 2), 1, 2);
  et_tensor *i2 = kt_vals(kt_t(ET_LONG, 2, 2, 1), 3, 4);
  et_tensor *ib = kt_vals(kt_t(ET_LONG, 1, 1), 100);
  et_tensor *io = kt_t(ET_LONG, 2, 1, 1);
  KT_OK("aten::addmm.out", VT(ib), VT(i1), VT(i2), VI(2), VI(3), VT(io), VT(io));
  KT_EXPECT(io, 233);
  KT_FAIL(ET_INVALID_ARGUMENT, "alpha", "aten::addmm.out", VT(ib), VT(i1), VT(i2), VI(1),
          VD(0.5), VT(io), VT(io));
}

/* ---- convolution ------------------------------------------------------------- */

typedef struct conv_case {
  int64_t N, Cin, H, W, Cout, KH, KW, sh, sw, ph, pw, dh, dw, groups, oph, opw;
  bool transposed, bias, one_d;
} conv_case;

/* Reference: the definition, in double. Transposed convolution scatters. */
static void conv_ref(const conv_case *c, const et_tensor *x, const et_tensor *w,
                     const et_tensor *b, int64_t OH, int64_t OW, double *out) {
  const int64_t cin_g = c->Cin / c->groups, cout_g = c->Cout / c->groups;
  for (int64_t n = 0; n < c->N; n++)
    for (int64_t oc = 0; oc < c->Cout; oc++)
      for (int64_t i = 0; i < OH * OW; i++)
        out[(n * c->Cout + oc) * OH * OW + i] = b ? kt_get(b, (size_t)oc) : 0;
  for (int64_t n = 0; n < c->N; n++)
    for (int64_t g = 0; g < c->groups; g++)
      for (int64_t ocl = 0; ocl < cout_g; ocl++)
        for (int64_t icl = 0; icl < cin_g; icl++)
          for (int64_t kh = 0; kh < c->KH; kh++)
            for (int64_t kw = 0; kw < c->KW; kw++) {
              const int64_t oc = g * cout_g + ocl, ic = g * cin_g + icl;
              if (!c->transposed) {
                double wv = kt_get(w, (size_t)(((oc * cin_g + icl) * c->KH + kh) * c->KW + kw));
                for (int64_t oh = 0; oh < OH; oh++)
                  for (int64_t ow = 0; ow < OW; ow++) {
                    int64_t ih = oh * c->sh - c->ph + kh * c->dh;
                    int64_t iw = ow * c->sw - c->pw + kw * c->dw;
                    if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W) continue;
                    out[((n * c->Cout + oc) * OH + oh) * OW + ow] +=
                        wv * kt_get(x, (size_t)(((n * c->Cin + ic) * c->H + ih) * c->W + iw));
                  }
              } else {
                double wv = kt_get(w, (size_t)(((ic * cout_g + ocl) * c->KH + kh) * c->KW + kw));
                for (int64_t ih = 0; ih < c->H; ih++)
                  for (int64_t iw = 0; iw < c->W; iw++) {
                    int64_t oh = ih * c->sh - c->ph + kh * c->dh;
                    int64_t ow = iw * c->sw - c->pw + kw * c->dw;
                    if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                    out[((n * c->Cout + oc) * OH + oh) * OW + ow] +=
                        wv * kt_get(x, (size_t)(((n * c->Cin + ic) * c->H + ih) * c->W + iw));
                  }
              }
            }
}

static void run_conv_case(const conv_case *c, int dtype, double tol) {
  et_tensor *x, *w, *out;
  int64_t OH, OW;
  if (!c->transposed) {
    OH = (c->H + 2 * c->ph - c->dh * (c->KH - 1) - 1) / c->sh + 1;
    OW = (c->W + 2 * c->pw - c->dw * (c->KW - 1) - 1) / c->sw + 1;
  } else {
    OH = (c->H - 1) * c->sh - 2 * c->ph + c->dh * (c->KH - 1) + c->oph + 1;
    OW = (c->W - 1) * c->sw - 2 * c->pw + c->dw * (c->KW - 1) + c->opw + 1;
  }
  const int64_t w0 = c->transposed ? c->Cin : c->Cout;
  const int64_t w1 = c->transposed ? c->Cout / c->groups : c->Cin / c->groups;
  if (c->one_d) {
    x = kt_t(dtype, 3, (int32_t)c->N, (int32_t)c->Cin, (int32_t)c->W);
    w = kt_t(dtype, 3, (int32_t)w0, (int32_t)w1, (int32_t)c->KW);
    out = kt_dynamic(kt_t(dtype, 3, 1, 1, 1), (size_t)(c->N * c->Cout * OW));
  } else {
    x = kt_t(dtype, 4, (int32_t)c->N, (int32_t)c->Cin, (int32_t)c->H, (int32_t)c->W);
    w = kt_t(dtype, 4, (int32_t)w0, (int32_t)w1, (int32_t)c->KH, (int32_t)c->KW);
    out = kt_dynamic(kt_t(dtype, 4, 1, 1, 1, 1), (size_t)(c->N * c->Cout * OH * OW));
  }
  kt_random(x, 11);
  kt_random(w, 12);
  et_tensor *b = c->bias ? kt_random(kt_t(dtype, 1, (int32_t)c->Cout), 13) : NULL;
  et_value *stride = c->one_d ? VL(c->sw) : VL(c->sh, c->sw);
  et_value *pad = c->one_d ? VL(c->pw) : VL(c->ph, c->pw);
  et_value *dil = c->one_d ? VL(c->dw) : VL(c->dh, c->dw);
  et_value *opad = c->one_d ? VL(c->opw) : VL(c->oph, c->opw);
  KT_OK("aten::convolution.out", VT(x), VT(w), b ? VT(b) : VN(), stride, pad, dil,
        VB(c->transposed), opad, VI(c->groups), VT(out), VT(out));
  if (c->one_d)
    KT_SHAPE(out, 3, (int32_t)c->N, (int32_t)c->Cout, (int32_t)OW);
  else
    KT_SHAPE(out, 4, (int32_t)c->N, (int32_t)c->Cout, (int32_t)OH, (int32_t)OW);
  size_t n = (size_t)(c->N * c->Cout * OH * OW);
  double *ref = (double *)kt_alloc(sizeof(double) * n);
  conv_ref(c, x, w, b, OH, OW, ref);
  kt_expect_close(out, ref, n, tol, tol);
}

static void test_convolution(void **state) {
  (void)state;
  const conv_case cases[] = {
      /* N Cin H W Cout KH KW sh sw ph pw dh dw g oph opw transposed bias 1d */
      {2, 3, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, false, true, false}, /* the CNN */
      {1, 4, 9, 11, 6, 3, 2, 2, 3, 1, 1, 2, 1, 2, 0, 0, false, true, false},
      {2, 6, 5, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6, 0, 0, false, false, false}, /* depthwise */
      {1, 2, 1, 300, 3, 1, 5, 1, 2, 0, 2, 1, 3, 1, 0, 0, false, true, true},  /* 1-D, long row */
      {1, 4, 4, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2, 1, 1, true, true, false},   /* transposed */
      {2, 3, 1, 6, 2, 1, 4, 1, 3, 0, 1, 1, 2, 1, 0, 2, true, false, true},   /* transposed 1-D */
      {2, 8, 5, 6, 12, 1, 1, 1, 1, 0, 0, 1, 1, 2, 0, 0, false, true, false}, /* pointwise */
  };
  /* without scratch (direct loops; 1x1 as a matmul), with enough scratch
   * (im2col + matmul), with room for a few output rows only (im2col and
   * matmul a block of rows at a time) and with too little (direct again) */
  const size_t scratch[4] = {0, sizeof kt_scratch_buf, 4096, 64};
  for (int sc = 0; sc < 4; sc++) {
    kt_scratch_size = scratch[sc];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
      run_conv_case(&cases[i], ET_FLOAT, 1e-5);
    run_conv_case(&cases[1], ET_DOUBLE, 1e-12);
    run_conv_case(&cases[1], ET_HALF, 1e-2);
    run_conv_case(&cases[6], ET_HALF, 1e-2);
    run_conv_case(&cases[4], ET_BFLOAT16, 6e-2);
  }
}

/* 3-D (and, through it, every) convolution against the definition in double,
 * plain and transposed; integer data for Long (exact). */
typedef struct conv3_case {
  int64_t N, Cin, Cout, groups;
  int64_t in[3], k[3], st[3], pad[3], dil[3], opad[3];
  bool transposed, bias;
} conv3_case;

static void conv3_ref(const conv3_case *c, const et_tensor *x, const et_tensor *w,
                      const et_tensor *b, const int64_t o[3], double *y) {
  const int64_t cin_g = c->Cin / c->groups, cout_g = c->Cout / c->groups;
  const int64_t OV = o[0] * o[1] * o[2], IV = c->in[0] * c->in[1] * c->in[2];
  const int64_t KV = c->k[0] * c->k[1] * c->k[2];
  for (int64_t n = 0; n < c->N; n++)
    for (int64_t oc = 0; oc < c->Cout; oc++)
      for (int64_t i = 0; i < OV; i++) y[(n * c->Cout + oc) * OV + i] = b ? kt_get(b, (size_t)oc) : 0;
  for (int64_t n = 0; n < c->N; n++)
    for (int64_t g = 0; g < c->groups; g++)
      for (int64_t ocl = 0; ocl < cout_g; ocl++)
        for (int64_t icl = 0; icl < cin_g; icl++)
          for (int64_t kk = 0; kk < KV; kk++) {
            const int64_t oc = g * cout_g + ocl, ic = g * cin_g + icl;
            const int64_t kd = kk / (c->k[1] * c->k[2]), kh = kk / c->k[2] % c->k[1], kw = kk % c->k[2];
            const int64_t kpos[3] = {kd, kh, kw};
            const double wv = kt_get(w, (size_t)((c->transposed ? ic * cout_g + ocl : oc * cin_g + icl) * KV + kk));
            /* plain: walk the output; transposed: walk the input */
            const int64_t *walk = c->transposed ? c->in : o;
            for (int64_t p = 0; p < walk[0] * walk[1] * walk[2]; p++) {
              const int64_t pos[3] = {p / (walk[1] * walk[2]), p / walk[2] % walk[1], p % walk[2]};
              int64_t other[3];
              bool ok = true;
              for (int d = 0; d < 3; d++) {
                other[d] = pos[d] * c->st[d] - c->pad[d] + kpos[d] * c->dil[d];
                ok = ok && other[d] >= 0 && other[d] < (c->transposed ? o[d] : c->in[d]);
              }
              if (!ok) continue;
              const int64_t *ip = c->transposed ? pos : other, *op = c->transposed ? other : pos;
              const double xv = kt_get(x, (size_t)((n * c->Cin + ic) * IV +
                                                   (ip[0] * c->in[1] + ip[1]) * c->in[2] + ip[2]));
              y[(n * c->Cout + oc) * OV + (op[0] * o[1] + op[1]) * o[2] + op[2]] += wv * xv;
            }
          }
}

static et_tensor *conv3_data(et_tensor *t, uint32_t seed) {
  if (t->dtype != ET_LONG) return kt_random(t, seed);
  uint32_t s = seed * 2654435761u + 7u;
  for (size_t i = 0; i < et_tensor_numel(t); i++) {
    s = s * 1664525u + 1013904223u;
    kt_seti(t, i, (int64_t)((s >> 8) % 19) - 9);
  }
  return t;
}

static void run_conv3_case(const conv3_case *c, int dtype, double tol) {
  int64_t o[3];
  for (int d = 0; d < 3; d++) {
    const int64_t ek = c->dil[d] * (c->k[d] - 1) + 1;
    o[d] = c->transposed ? (c->in[d] - 1) * c->st[d] - 2 * c->pad[d] + ek + c->opad[d]
                         : (c->in[d] + 2 * c->pad[d] - ek) / c->st[d] + 1;
  }
  const int64_t w0 = c->transposed ? c->Cin : c->Cout;
  const int64_t w1 = c->transposed ? c->Cout / c->groups : c->Cin / c->groups;
  et_tensor *x = conv3_data(kt_t(dtype, 5, (int32_t)c->N, (int32_t)c->Cin, (int32_t)c->in[0],
                                 (int32_t)c->in[1], (int32_t)c->in[2]), 21);
  et_tensor *w = conv3_data(kt_t(dtype, 5, (int32_t)w0, (int32_t)w1, (int32_t)c->k[0],
                                 (int32_t)c->k[1], (int32_t)c->k[2]), 22);
  et_tensor *b = c->bias ? conv3_data(kt_t(dtype, 1, (int32_t)c->Cout), 23) : NULL;
  const size_t n = (size_t)(c->N * c->Cout * o[0] * o[1] * o[2]);
  et_tensor *out = kt_dynamic(kt_t(dtype, 5, 1, 1, 1, 1, 1), n);
  KT_OK("aten::convolution.out", VT(x), VT(w), b ? VT(b) : VN(), VL(c->st[0], c->st[1], c->st[2]),
        VL(c->pad[0], c->pad[1], c->pad[2]), VL(c->dil[0], c->dil[1], c->dil[2]), VB(c->transposed),
        VL(c->opad[0], c->opad[1], c->opad[2]), VI(c->groups), VT(out), VT(out));
  KT_SHAPE(out, 5, (int32_t)c->N, (int32_t)c->Cout, (int32_t)o[0], (int32_t)o[1], (int32_t)o[2]);
  double *ref = (double *)kt_alloc(sizeof(double) * n);
  conv3_ref(c, x, w, b, o, ref);
  kt_expect_close(out, ref, n, tol, tol);
}

static void test_convolution_3d(void **state) {
  (void)state;
  const conv3_case cases[] = {
      /* N Cin Cout g | in | k | stride | pad | dil | opad | transposed bias */
      {2, 4, 6, 2, {5, 6, 7}, {3, 2, 3}, {2, 1, 1}, {1, 0, 2}, {1, 2, 1}, {0, 0, 0}, false, true},
      {1, 3, 5, 1, {2, 3, 4}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}, {0, 0, 0}, false, true},
      {2, 4, 6, 2, {3, 4, 3}, {2, 3, 2}, {2, 1, 2}, {1, 0, 1}, {1, 2, 1}, {1, 0, 0}, true, true},
      {1, 2, 3, 1, {3, 2, 300}, {2, 1, 5}, {1, 1, 2}, {1, 0, 2}, {1, 1, 3}, {0, 0, 0}, false, false},
      {1, 3, 2, 1, {2, 2, 150}, {1, 2, 3}, {1, 1, 2}, {0, 1, 1}, {1, 1, 1}, {0, 0, 1}, true, false},
  };
  /* without scratch (direct loops; 1x1x1 as a matmul), with enough (im2col +
   * matmul) and with too little (direct again) */
  const size_t scratch[3] = {0, sizeof kt_scratch_buf, 64};
  for (int sc = 0; sc < 3; sc++) {
    kt_scratch_size = scratch[sc];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      run_conv3_case(&cases[i], ET_FLOAT, 1e-5);
      run_conv3_case(&cases[i], ET_LONG, 0);
    }
    run_conv3_case(&cases[0], ET_DOUBLE, 1e-12);
    run_conv3_case(&cases[0], ET_HALF, 1e-2);
    run_conv3_case(&cases[2], ET_HALF, 1e-2);
    run_conv3_case(&cases[2], ET_BFLOAT16, 6e-2);
  }
  /* no input channels: PyTorch's output has no channels either; a
   * transposed weight needs at least `groups` rows */
  et_tensor *b0 = kt_vals(kt_t(ET_FLOAT, 1, 2), 1.5, -2);
  et_tensor *o0 = kt_dynamic(kt_t(ET_FLOAT, 5, 1, 1, 1, 1, 1), 64);
  KT_OK("aten::convolution.out", VT(kt_t(ET_FLOAT, 5, 1, 0, 2, 2, 2)),
        VT(kt_t(ET_FLOAT, 5, 2, 0, 1, 1, 1)), VT(b0), VL(1), VL(0), VL(1), VB(false), VL(0), VI(1),
        VT(o0), VT(o0));
  KT_SHAPE(o0, 5, 1, 0, 2, 2, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "at least groups=1 rows", "aten::convolution.out",
          VT(kt_t(ET_FLOAT, 5, 1, 0, 2, 2, 2)), VT(kt_t(ET_FLOAT, 5, 0, 2, 1, 1, 1)), VT(b0), VL(1),
          VL(0), VL(1), VB(true), VL(0), VI(1), VT(o0), VT(o0));
  /* rank 5 needs a rank-5 weight; rank 6 is refused */
  et_tensor *x = kt_t(ET_FLOAT, 5, 1, 2, 3, 3, 3);
  et_tensor *out = kt_dynamic(kt_t(ET_FLOAT, 5, 1, 1, 1, 1, 1), 100);
  KT_FAIL(ET_INVALID_ARGUMENT, "weight: expected rank 5", "aten::convolution.out", VT(x),
          VT(kt_t(ET_FLOAT, 4, 2, 2, 1, 1)), VN(), VL(1), VL(0), VL(1), VB(false), VL(0), VI(1),
          VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "expected rank 3 to 5", "aten::convolution.out",
          VT(kt_t(ET_FLOAT, 6, 1, 2, 1, 3, 3, 3)), VT(kt_t(ET_FLOAT, 6, 2, 2, 1, 1, 1, 1)), VN(),
          VL(1), VL(0), VL(1), VB(false), VL(0), VI(1), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "stride: expected 1 or 3 values", "aten::convolution.out", VT(x),
          VT(kt_t(ET_FLOAT, 5, 2, 2, 1, 1, 1)), VN(), VL(1, 1), VL(0), VL(1), VB(false), VL(0),
          VI(1), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::convolution.out", VT(kt_t(ET_BOOL, 3, 1, 1, 3)),
          VT(kt_t(ET_BOOL, 3, 1, 1, 1)), VN(), VL(1), VL(0), VL(1), VB(false), VL(0), VI(1),
          VT(kt_dynamic(kt_t(ET_BOOL, 3, 1, 1, 1), 3)), VT(kt_dynamic(kt_t(ET_BOOL, 3, 1, 1, 1), 3)));
}

static void test_convolution_errors(void **state) {
  (void)state;
  et_tensor *x = kt_t(ET_FLOAT, 4, 1, 4, 5, 5);
  et_tensor *w = kt_t(ET_FLOAT, 4, 6, 2, 3, 3);
  et_tensor *out = kt_dynamic(kt_t(ET_FLOAT, 4, 1, 1, 1, 1), 1000);
  et_value *vo = VT(out);
  /* groups=2 fits (4 channels, weight [6, 2, 3, 3]); groups=3 does not */
  KT_OK("aten::convolution.out", VT(x), VT(w), VN(), VL(1, 1), VL(0, 0), VL(1, 1), VB(false),
        VL(0, 0), VI(2), vo, vo);
  KT_FAIL(ET_INVALID_ARGUMENT, "divisible by groups", "aten::convolution.out", VT(x), VT(w),
          VN(), VL(1, 1), VL(0, 0), VL(1, 1), VB(false), VL(0, 0), VI(3), vo, vo);
  KT_FAIL(ET_INVALID_ARGUMENT, "weight", "aten::convolution.out", VT(x), VT(w), VN(), VL(1, 1),
          VL(0, 0), VL(1, 1), VB(false), VL(0, 0), VI(1), vo, vo);
  KT_FAIL(ET_INVALID_ARGUMENT, "smaller than the (dilated) kernel", "aten::convolution.out",
          VT(x), VT(w), VN(), VL(1, 1), VL(0, 0), VL(3, 3), VB(false), VL(0, 0), VI(2), vo, vo);
  KT_FAIL(ET_INVALID_ARGUMENT, "stride", "aten::convolution.out", VT(x), VT(w), VN(), VL(0),
          VL(0, 0), VL(1, 1), VB(false), VL(0, 0), VI(2), vo, vo);
  KT_FAIL(ET_INVALID_ARGUMENT, "bias", "aten::convolution.out", VT(x), VT(w),
          VT(kt_t(ET_FLOAT, 1, 5)), VL(1, 1), VL(0, 0), VL(1, 1), VB(false), VL(0, 0), VI(2),
          vo, vo);
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::convolution.out", VT(x),
          VT(kt_t(ET_DOUBLE, 4, 6, 2, 3, 3)), VN(), VL(1, 1), VL(0, 0), VL(1, 1), VB(false),
          VL(0, 0), VI(2), vo, vo);
  /* channels-last is not an error (test_kernels_layout.c checks the values) */
  et_tensor *cl = kt_ord(kt_t(ET_FLOAT, 4, 1, 4, 5, 5), 0, 2, 3, 1);
  KT_OK("aten::convolution.out", VT(cl), VT(w), VN(), VL(1, 1), VL(0, 0), VL(1, 1), VB(false),
        VL(0, 0), VI(2), vo, vo);
  et_tensor *fixed = kt_t(ET_FLOAT, 4, 1, 6, 4, 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "aten::convolution.out", VT(x), VT(w),
          VN(), VL(1, 1), VL(0, 0), VL(1, 1), VB(false), VL(0, 0), VI(2), VT(fixed), VT(fixed));
  KT_FAIL(ET_INVALID_ARGUMENT, "output_padding", "aten::convolution.out", VT(x),
          VT(kt_t(ET_FLOAT, 4, 4, 3, 3, 3)), VN(), VL(1, 1), VL(0, 0), VL(1, 1), VB(true),
          VL(1, 1), VI(1), vo, vo);
}

/* ---- normalization ---------------------------------------------------------- */

static void test_batch_norm(void **state) {
  (void)state;
  for (int layout = 0; layout < 3; layout++) {
    et_tensor *x, *out;
    if (layout == 2) { /* BatchNorm1d input [N, C] */
      x = kt_random(kt_t(ET_FLOAT, 2, 4, 3), 21);
      out = kt_t(ET_FLOAT, 2, 4, 3);
    } else {
      x = kt_random(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 21);
      out = kt_t(ET_FLOAT, 4, 2, 3, 4, 5);
      if (layout == 1) {
        kt_ord(x, 0, 2, 3, 1);
        kt_ord(out, 0, 2, 3, 1);
        kt_random(x, 21);
      }
    }
    et_tensor *w = kt_vals(kt_t(ET_FLOAT, 1, 3), 0.8, 1.0, 1.2);
    et_tensor *b = kt_vals(kt_t(ET_FLOAT, 1, 3), -0.1, 0, 0.1);
    et_tensor *mean = kt_vals(kt_t(ET_FLOAT, 1, 3), -0.5, 0, 0.5);
    et_tensor *var = kt_vals(kt_t(ET_FLOAT, 1, 3), 0.5, 1.25, 2);
    et_tensor *o1 = kt_t(ET_FLOAT, 1, 0), *o2 = kt_t(ET_FLOAT, 1, 0);
    KT_OK("aten::_native_batch_norm_legit_no_training.out", VT(x), VT(w), VT(b), VT(mean),
          VT(var), VD(0.1), VD(1e-5), VT(out), VT(o1), VT(o2), VTL(out, o1, o2));
    size_t n = et_tensor_numel(x), inner = layout == 2 ? 1 : 20;
    for (size_t i = 0; i < n; i++) {
      size_t c = (i / inner) % 3;
      double want = (kt_get(x, i) - kt_get(mean, c)) / sqrt(kt_get(var, c) + 1e-5) *
                        kt_get(w, c) + kt_get(b, c);
      if (!kt_close(kt_get(out, i), want, 1e-5, 1e-6))
        fail_msg("layout %d element %zu: %.9g vs %.9g", layout, i, kt_get(out, i), want);
    }
    /* weight and bias None */
    KT_OK("aten::_native_batch_norm_legit_no_training.out", VT(x), VN(), VN(), VT(mean),
          VT(var), VD(0.1), VD(1e-5), VT(out), VT(o1), VT(o2), VTL(out, o1, o2));
    for (size_t i = 0; i < n; i++) {
      size_t c = (i / inner) % 3;
      double want = (kt_get(x, i) - kt_get(mean, c)) / sqrt(kt_get(var, c) + 1e-5);
      assert_true(kt_close(kt_get(out, i), want, 1e-5, 1e-6));
    }
  }
  et_tensor *x = kt_t(ET_FLOAT, 4, 1, 3, 2, 2);
  et_tensor *p3 = kt_t(ET_FLOAT, 1, 3), *p4 = kt_t(ET_FLOAT, 1, 4);
  et_tensor *out = kt_t(ET_FLOAT, 4, 1, 3, 2, 2), *o = kt_t(ET_FLOAT, 1, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "running_var", "aten::_native_batch_norm_legit_no_training.out",
          VT(x), VN(), VN(), VT(p3), VT(p4), VD(0.1), VD(1e-5), VT(out), VT(o), VT(o),
          VTL(out, o, o));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::_native_batch_norm_legit_no_training.out",
          VT(kt_t(ET_INT, 4, 1, 3, 2, 2)), VN(), VN(), VT(p3), VT(p3), VD(0.1), VD(1e-5),
          VT(out), VT(o), VT(o), VTL(out, o, o));
}

static void test_layer_norm(void **state) {
  (void)state;
  const int dts[3] = {ET_FLOAT, ET_DOUBLE, ET_HALF};
  const double tol[3] = {1e-5, 1e-12, 4e-3};
  for (int t = 0; t < 3; t++) {
    et_tensor *x = kt_random(kt_t(dts[t], 3, 2, 5, 32), 31);
    et_tensor *w = kt_random(kt_t(dts[t], 1, 32), 32);
    et_tensor *b = kt_random(kt_t(dts[t], 1, 32), 33);
    et_tensor *out = kt_t(dts[t], 3, 2, 5, 32);
    et_tensor *mo = kt_t(dts[t], 3, 2, 5, 1), *ro = kt_t(dts[t], 3, 2, 5, 1);
    KT_OK("aten::native_layer_norm.out", VT(x), VL(32), VT(w), VT(b), VD(1e-5), VT(out),
          VT(mo), VT(ro), VTL(out, mo, ro));
    for (size_t r = 0; r < 10; r++) {
      double m = 0, v = 0;
      for (size_t i = 0; i < 32; i++) m += kt_get(x, r * 32 + i);
      m /= 32;
      for (size_t i = 0; i < 32; i++) v += pow(kt_get(x, r * 32 + i) - m, 2);
      v /= 32;
      double rstd = 1 / sqrt(v + 1e-5);
      assert_true(kt_close(kt_get(mo, r), m, tol[t], tol[t]));
      assert_true(kt_close(kt_get(ro, r), rstd, tol[t], tol[t]));
      for (size_t i = 0; i < 32; i++) {
        double want = (kt_get(x, r * 32 + i) - m) * rstd * kt_get(w, i) + kt_get(b, i);
        if (!kt_close(kt_get(out, r * 32 + i), want, tol[t], tol[t]))
          fail_msg("dtype %s row %zu col %zu: %.9g vs %.9g", et_dtype_name(dts[t]), r, i,
                   kt_get(out, r * 32 + i), want);
      }
    }
  }
  /* two normalized dims, no weight/bias, Float stats */
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 3, 3, 4, 5), 34);
  et_tensor *out = kt_t(ET_FLOAT, 3, 3, 4, 5);
  et_tensor *mo = kt_t(ET_FLOAT, 3, 3, 1, 1), *ro = kt_t(ET_FLOAT, 3, 3, 1, 1);
  KT_OK("aten::native_layer_norm.out", VT(x), VL(4, 5), VN(), VN(), VD(1e-5), VT(out), VT(mo),
        VT(ro), VTL(out, mo, ro));
  for (size_t r = 0; r < 3; r++) {
    double m = 0, v = 0;
    for (size_t i = 0; i < 20; i++) m += kt_get(x, r * 20 + i);
    m /= 20;
    for (size_t i = 0; i < 20; i++) v += pow(kt_get(x, r * 20 + i) - m, 2);
    double rstd = 1 / sqrt(v / 20 + 1e-5);
    for (size_t i = 0; i < 20; i++)
      assert_true(kt_close(kt_get(out, r * 20 + i), (kt_get(x, r * 20 + i) - m) * rstd, 1e-5,
                           1e-6));
  }
  KT_FAIL(ET_INVALID_ARGUMENT, "normalized_shape", "aten::native_layer_norm.out", VT(x),
          VL(5, 4), VN(), VN(), VD(1e-5), VT(out), VT(mo), VT(ro), VTL(out, mo, ro));
  KT_FAIL(ET_INVALID_ARGUMENT, "weight", "aten::native_layer_norm.out", VT(x), VL(4, 5),
          VT(kt_t(ET_FLOAT, 1, 20)), VN(), VD(1e-5), VT(out), VT(mo), VT(ro),
          VTL(out, mo, ro));
  KT_FAIL(ET_INVALID_ARGUMENT, "out1", "aten::native_layer_norm.out", VT(x), VL(4, 5), VN(),
          VN(), VD(1e-5), VT(out), VT(kt_t(ET_FLOAT, 3, 3, 4, 1)), VT(ro), VTL(out, mo, ro));
}

static void test_softmax(void **state) {
  (void)state;
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 3, 2, 3, 4), 41);
  kt_set(x, 5, 30); /* large values must not overflow */
  et_tensor *out = kt_t(ET_FLOAT, 3, 2, 3, 4);
  const int64_t dims[3] = {-1, 1, 0};
  const size_t sizes[3] = {2, 3, 4}, strides[3] = {12, 4, 1};
  for (int lg = 0; lg < 2; lg++)
    for (int k = 0; k < 3; k++) {
      const char *op = lg ? "aten::_log_softmax.out" : "aten::_softmax.out";
      KT_OK(op, VT(x), VI(dims[k]), VB(false), VT(out), VT(out));
      size_t d = dims[k] < 0 ? 2 : (size_t)dims[k];
      for (size_t i = 0; i < 24; i++) {
        size_t base = i - ((i / strides[d]) % sizes[d]) * strides[d];
        double mx = -INFINITY, s = 0;
        for (size_t j = 0; j < sizes[d]; j++) mx = fmax(mx, kt_get(x, base + j * strides[d]));
        for (size_t j = 0; j < sizes[d]; j++) s += exp(kt_get(x, base + j * strides[d]) - mx);
        double want = lg ? kt_get(x, i) - mx - log(s) : exp(kt_get(x, i) - mx) / s;
        if (!kt_close(kt_get(out, i), want, 1e-5, 1e-6))
          fail_msg("%s dim %lld elem %zu: %.9g vs %.9g", op, (long long)dims[k], i,
                   kt_get(out, i), want);
      }
    }
  /* a fully masked row gives NaN (as PyTorch), channels-last input */
  et_tensor *m = kt_vals(kt_t(ET_FLOAT, 2, 2, 2), -INFINITY, -INFINITY, 0, 0);
  et_tensor *mo = kt_t(ET_FLOAT, 2, 2, 2);
  KT_OK("aten::_softmax.out", VT(m), VI(1), VB(false), VT(mo), VT(mo));
  KT_EXPECT(mo, NAN, NAN, 0.5, 0.5);
  et_tensor *cl = kt_random(kt_ord(kt_t(ET_FLOAT, 4, 1, 3, 2, 2), 0, 2, 3, 1), 42);
  et_tensor *clo = kt_ord(kt_t(ET_FLOAT, 4, 1, 3, 2, 2), 0, 2, 3, 1);
  KT_OK("aten::_softmax.out", VT(cl), VI(1), VB(false), VT(clo), VT(clo));
  for (size_t p = 0; p < 4; p++) {
    double s = 0;
    for (size_t c = 0; c < 3; c++) s += exp(kt_get(cl, c * 4 + p));
    for (size_t c = 0; c < 3; c++)
      assert_true(kt_close(kt_get(clo, c * 4 + p), exp(kt_get(cl, c * 4 + p)) / s, 1e-5, 1e-6));
  }
  /* Half: computed in float, rounded once */
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 3), 1, 2, 3);
  et_tensor *ho = kt_t(ET_HALF, 1, 3);
  KT_OK("aten::_softmax.out", VT(h), VI(0), VB(false), VT(ho), VT(ho));
  float e1 = expf(-2.0f), e2 = expf(-1.0f), s = e1 + e2 + 1.0f;
  assert_true(kt_get(ho, 0) == (double)et_half_to_float(et_float_to_half(e1 * (1.0f / s))) ||
              kt_get(ho, 0) == (double)et_half_to_float(et_float_to_half(e1 / s)));
  KT_FAIL(ET_INVALID_ARGUMENT, "half_to_float", "aten::_softmax.out", VT(h), VI(0), VB(true),
          VT(ho), VT(ho));
  KT_FAIL(ET_INVALID_ARGUMENT, "dimension 3 out of range", "aten::_softmax.out", VT(x), VI(3),
          VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::_log_softmax.out",
          VT(kt_t(ET_LONG, 1, 3)), VI(0), VB(false), VT(out), VT(out));
}

/* ---- pooling ----------------------------------------------------------------- */

static void test_max_pool(void **state) {
  (void)state;
  /* 2x2 stride 2 (the CNN), and 3x3 stride 2 padding 1 dilation 1 ceil_mode */
  const struct {
    int64_t k, s, p, d;
    bool ceil;
    int32_t oh, ow;
  } cs[] = {{2, 2, 0, 1, false, 3, 3}, {3, 2, 1, 1, true, 4, 4}, {2, 1, 1, 2, false, 7, 7}};
  for (size_t t = 0; t < 3; t++) {
    et_tensor *x = kt_random(kt_t(ET_FLOAT, 4, 2, 3, 7, 7), 51);
    kt_set(x, 10, NAN);
    et_tensor *out = kt_dynamic(kt_t(ET_FLOAT, 4, 1, 1, 1, 1), 1000);
    et_tensor *ind = kt_dynamic(kt_t(ET_LONG, 4, 1, 1, 1, 1), 1000);
    KT_OK("aten::max_pool2d_with_indices.out", VT(x), VL(cs[t].k, cs[t].k), VL(cs[t].s),
          VL(cs[t].p), VL(cs[t].d), VB(cs[t].ceil), VT(out), VT(ind), VTL(out, ind));
    KT_SHAPE(out, 4, 2, 3, cs[t].oh, cs[t].ow);
    KT_SHAPE(ind, 4, 2, 3, cs[t].oh, cs[t].ow);
    for (size_t c = 0; c < 6; c++)
      for (int64_t oh = 0; oh < cs[t].oh; oh++)
        for (int64_t ow = 0; ow < cs[t].ow; ow++) {
          /* PyTorch: start at -inf and the first valid position; NaN wins */
          double best = -INFINITY;
          int64_t h0 = oh * cs[t].s - cs[t].p, w0 = ow * cs[t].s - cs[t].p;
          while (h0 < 0) h0 += cs[t].d;
          while (w0 < 0) w0 += cs[t].d;
          int64_t bi = h0 * 7 + w0;
          for (int64_t kh = 0; kh < cs[t].k; kh++)
            for (int64_t kw = 0; kw < cs[t].k; kw++) {
              int64_t h = oh * cs[t].s - cs[t].p + kh * cs[t].d;
              int64_t w = ow * cs[t].s - cs[t].p + kw * cs[t].d;
              if (h < 0 || h >= 7 || w < 0 || w >= 7) continue;
              double v = kt_get(x, c * 49 + (size_t)(h * 7 + w));
              if (v > best || isnan(v)) {
                best = v;
                bi = h * 7 + w;
              }
            }
          size_t o = (c * (size_t)cs[t].oh + (size_t)oh) * (size_t)cs[t].ow + (size_t)ow;
          assert_true(kt_close(kt_get(out, o), best, 0, 0));
          assert_int_equal(kt_geti(ind, o), bi);
        }
  }
  et_tensor *x = kt_t(ET_FLOAT, 3, 1, 4, 4);
  et_tensor *out = kt_t(ET_FLOAT, 3, 1, 2, 2);
  et_tensor *ind = kt_t(ET_LONG, 3, 1, 2, 2);
  KT_OK("aten::max_pool2d_with_indices.out", VT(x), VL(2), VL0(), VL(0), VL(1), VB(false),
        VT(out), VT(ind), VTL(out, ind));
  KT_FAIL(ET_INVALID_ARGUMENT, "padding", "aten::max_pool2d_with_indices.out", VT(x), VL(2),
          VL0(), VL(2), VL(1), VB(false), VT(out), VT(ind), VTL(out, ind));
  KT_FAIL(ET_INVALID_ARGUMENT, "indices", "aten::max_pool2d_with_indices.out", VT(x), VL(2),
          VL0(), VL(0), VL(1), VB(false), VT(out), VT(kt_t(ET_INT, 3, 1, 2, 2)),
          VTL(out, ind));
  KT_FAIL(ET_INVALID_ARGUMENT, "too small", "aten::max_pool2d_with_indices.out", VT(x),
          VL(5), VL0(), VL(0), VL(1), VB(false), VT(out), VT(ind), VTL(out, ind));
}

static void test_avg_pool(void **state) {
  (void)state;
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 4, 1, 2, 5, 6), 61);
  for (int variant = 0; variant < 4; variant++) {
    const int64_t k = 3, s = 2, p = 1;
    const bool ceil = variant & 1, include_pad = variant < 2;
    const int64_t divisor = variant == 3 ? 7 : 0;
    const int64_t OH = ceil ? 3 : 3, OW = ceil ? 4 : 3;
    et_tensor *out = kt_dynamic(kt_t(ET_FLOAT, 4, 1, 1, 1, 1), 100);
    KT_OK("aten::avg_pool2d.out", VT(x), VL(k), VL(s), VL(p), VB(ceil), VB(include_pad),
          divisor ? VI(divisor) : VN(), VT(out), VT(out));
    KT_SHAPE(out, 4, 1, 2, (int32_t)OH, (int32_t)OW);
    for (int64_t c = 0; c < 2; c++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
          int64_t h0 = oh * s - p, w0 = ow * s - p;
          int64_t h1 = h0 + k < 5 + p ? h0 + k : 5 + p, w1 = w0 + k < 6 + p ? w0 + k : 6 + p;
          int64_t pool = (h1 - h0) * (w1 - w0);
          double sum = 0;
          int64_t cnt = 0;
          for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++)
              if (h >= 0 && h < 5 && w >= 0 && w < 6) {
                sum += kt_get(x, (size_t)((c * 5 + h) * 6 + w));
                cnt++;
              }
          double want = sum / (double)(divisor ? divisor : include_pad ? pool : cnt);
          double got = kt_get(out, (size_t)((c * OH + oh) * OW + ow));
          if (!kt_close(got, want, 1e-5, 1e-6))
            fail_msg("variant %d (%lld,%lld,%lld): %.9g vs %.9g", variant, (long long)c,
                     (long long)oh, (long long)ow, got, want);
        }
  }
  KT_FAIL(ET_INVALID_ARGUMENT, "divisor_override", "aten::avg_pool2d.out", VT(x), VL(2),
          VL0(), VL(0), VB(false), VB(true), VI(0), VT(x), VT(x));
}

static void test_adaptive_avg_pool(void **state) {
  (void)state;
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 3, 2, 7, 5), 71);
  et_tensor *out = kt_t(ET_FLOAT, 3, 2, 3, 2);
  KT_OK("aten::_adaptive_avg_pool2d.out", VT(x), VL(3, 2), VT(out), VT(out));
  for (int64_t c = 0; c < 2; c++)
    for (int64_t oh = 0; oh < 3; oh++)
      for (int64_t ow = 0; ow < 2; ow++) {
        int64_t h0 = (int64_t)floor(oh * 7.0 / 3), h1 = (int64_t)ceil((oh + 1) * 7.0 / 3);
        int64_t w0 = (int64_t)floor(ow * 5.0 / 2), w1 = (int64_t)ceil((ow + 1) * 5.0 / 2);
        double sum = 0;
        for (int64_t h = h0; h < h1; h++)
          for (int64_t w = w0; w < w1; w++) sum += kt_get(x, (size_t)((c * 7 + h) * 5 + w));
        double want = sum / (double)((h1 - h0) * (w1 - w0));
        assert_true(kt_close(kt_get(out, (size_t)((c * 3 + oh) * 2 + ow)), want, 1e-5, 1e-6));
      }
  KT_FAIL(ET_INVALID_ARGUMENT, "output_size", "aten::_adaptive_avg_pool2d.out", VT(x), VL(3),
          VT(out), VT(out));
}

/* ---- embedding ---------------------------------------------------------------- */

static void test_embedding(void **state) {
  (void)state;
  et_tensor *w = kt_vals(kt_t(ET_FLOAT, 2, 4, 2), 0, 1, 10, 11, 20, 21, 30, 31);
  et_tensor *idx = kt_vals(kt_t(ET_LONG, 2, 2, 2), 3, 0, 1, 3);
  et_tensor *out = kt_t(ET_FLOAT, 3, 2, 2, 2);
  KT_OK("aten::embedding.out", VT(w), VT(idx), VI(-1), VB(false), VB(false), VT(out), VT(out));
  KT_EXPECT(out, 30, 31, 0, 1, 10, 11, 30, 31);
  et_tensor *idx32 = kt_vals(kt_t(ET_INT, 1, 2), 2, 2);
  et_tensor *o2 = kt_t(ET_FLOAT, 2, 2, 2);
  KT_OK("aten::embedding.out", VT(w), VT(idx32), VI(-1), VB(false), VB(false), VT(o2), VT(o2));
  KT_EXPECT(o2, 20, 21, 20, 21);
  kt_seti(idx, 2, 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "indices[2] = 4 is out of range", "aten::embedding.out", VT(w),
          VT(idx), VI(-1), VB(false), VB(false), VT(out), VT(out));
  kt_seti(idx, 2, -1);
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::embedding.out", VT(w), VT(idx), VI(-1),
          VB(false), VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "Long or Int", "aten::embedding.out", VT(w),
          VT(kt_t(ET_FLOAT, 1, 2)), VI(-1), VB(false), VB(false), VT(o2), VT(o2));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_mm, kt_free_all),
      cmocka_unit_test_teardown(test_bmm, kt_free_all),
      cmocka_unit_test_teardown(test_addmm, kt_free_all),
      cmocka_unit_test_teardown(test_convolution, kt_free_all),
      cmocka_unit_test_teardown(test_convolution_3d, kt_free_all),
      cmocka_unit_test_teardown(test_convolution_errors, kt_free_all),
      cmocka_unit_test_teardown(test_batch_norm, kt_free_all),
      cmocka_unit_test_teardown(test_layer_norm, kt_free_all),
      cmocka_unit_test_teardown(test_softmax, kt_free_all),
      cmocka_unit_test_teardown(test_max_pool, kt_free_all),
      cmocka_unit_test_teardown(test_avg_pool, kt_free_all),
      cmocka_unit_test_teardown(test_adaptive_avg_pool, kt_free_all),
      cmocka_unit_test_teardown(test_embedding, kt_free_all),
  };
  return cmocka_run_group_tests_name("kernels_nn", tests, NULL, NULL);
}
