/*
 * Portable kernels, part 3: padding, pixel shuffle, upsampling, grid
 * sampling, group/batch normalization, dropout and the two backward
 * operators, checked against hand-computed values, double-precision
 * reference loops and (for the backward operators) the forward kernels'
 * adjoint identities.
 */
#include "test_kernels.h"

static const int kFloatDts[4] = {ET_FLOAT, ET_DOUBLE, ET_HALF, ET_BFLOAT16};
static const double kTol[4] = {2e-6, 1e-12, 2e-3, 1.6e-2};

/* A double list of two values (scale_factors). */
static et_value *VF2(double a, double b) {
  et_value *v = kt_v(ET_TAG_LIST_DOUBLE);
  double *items = (double *)kt_alloc(2 * sizeof(double));
  items[0] = a;
  items[1] = b;
  v->u.dlist.items = items;
  v->u.dlist.len = 2;
  return v;
}

/* ---- padding ------------------------------------------------------------------ */

static void test_constant_pad(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 1, 2, 3, 4, 5, 6);
  et_tensor *o = kt_t(ET_FLOAT, 2, 4, 4);
  /* last dim (1, 0), first dim (1, 1) */
  KT_OK("aten::constant_pad_nd.out", VT(x), VL(1, 0, 1, 1), VD(-1.5), VT(o), VT(o));
  KT_EXPECT(o, -1.5, -1.5, -1.5, -1.5,
               -1.5, 1, 2, 3,
               -1.5, 4, 5, 6,
               -1.5, -1.5, -1.5, -1.5);
  /* negative padding crops */
  et_tensor *oc = kt_t(ET_FLOAT, 2, 2, 2);
  KT_OK("aten::constant_pad_nd.out", VT(x), VL(-1, 0), VI(0), VT(oc), VT(oc));
  KT_EXPECT(oc, 2, 3, 5, 6);
  et_tensor *om = kt_t(ET_FLOAT, 2, 2, 2);
  KT_OK("aten::constant_pad_nd.out", VT(x), VL(-3, 2), VI(7), VT(om), VT(om));
  KT_EXPECT(om, 7, 7, 7, 7);
  /* ints take a double value truncated, as fill_; Bool */
  et_tensor *xi = kt_vals(kt_t(ET_LONG, 1, 2), 1, 2);
  et_tensor *oi = kt_t(ET_LONG, 1, 4);
  KT_OK("aten::constant_pad_nd.out", VT(xi), VL(1, 1), VD(2.7), VT(oi), VT(oi));
  KT_EXPECT(oi, 2, 1, 2, 2);
  et_tensor *xb = kt_vals(kt_t(ET_BOOL, 1, 1), 1);
  et_tensor *ob = kt_t(ET_BOOL, 1, 3);
  KT_OK("aten::constant_pad_nd.out", VT(xb), VL(1, 1), VB(false), VT(ob), VT(ob));
  KT_EXPECT(ob, 0, 1, 0);
  /* channels-last input and output, padding H and W */
  et_tensor *xc = kt_random(kt_ord(kt_t(ET_HALF, 4, 1, 3, 2, 2), 0, 2, 3, 1), 3);
  et_tensor *ocl = kt_ord(kt_t(ET_HALF, 4, 1, 3, 3, 4), 0, 2, 3, 1);
  KT_OK("aten::constant_pad_nd.out", VT(xc), VL(1, 1, 0, 1), VI(0), VT(ocl), VT(ocl));
  for (size_t c = 0; c < 3; c++)
    for (size_t h = 0; h < 3; h++)
      for (size_t w = 0; w < 4; w++) {
        double want = (h < 2 && w >= 1 && w <= 2) ? kt_get(xc, (c * 2 + h) * 2 + w - 1) : 0;
        assert_true(kt_get(ocl, (c * 3 + h) * 4 + w) == want);
      }
  /* errors: odd length, too many dims, a negative size, overflow of value */
  KT_FAIL(ET_INVALID_ARGUMENT, "not even", "aten::constant_pad_nd.out", VT(x), VL(1), VI(0),
          VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "rank", "aten::constant_pad_nd.out", VT(x), VL(1, 1, 1, 1, 1, 1),
          VI(0), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "negative size", "aten::constant_pad_nd.out", VT(x), VL(-4, 0),
          VI(0), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "overflow", "aten::constant_pad_nd.out",
          VT(kt_t(ET_CHAR, 1, 1)), VL(1, 0), VI(300), VT(kt_t(ET_CHAR, 1, 2)), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "aten::constant_pad_nd.out", VT(x),
          VL(1, 1), VI(0), VT(o), VT(o));
}

/* Reflect / replicate index for non-negative padding, written plainly. */
static size_t ref_index(int64_t j, int64_t n, int64_t pl, bool reflect) {
  int64_t i = j - pl;
  if (reflect) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
  } else {
    i = i < 0 ? 0 : i >= n ? n - 1 : i;
  }
  return (size_t)i;
}

static void test_reflection_replication_pad(void **state) {
  (void)state;
  /* 1-D by hand */
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 1, 4), 1, 2, 3, 4);
  et_tensor *o = kt_t(ET_FLOAT, 2, 1, 9);
  KT_OK("aten::reflection_pad1d.out", VT(x), VL(3, 2), VT(o), VT(o));
  KT_EXPECT(o, 4, 3, 2, 1, 2, 3, 4, 3, 2);
  KT_OK("aten::replication_pad1d.out", VT(x), VL(3, 2), VT(o), VT(o));
  KT_EXPECT(o, 1, 1, 1, 1, 2, 3, 4, 4, 4);
  /* negative padding crops; mixed signs */
  et_tensor *on = kt_t(ET_FLOAT, 2, 1, 3);
  KT_OK("aten::reflection_pad1d.out", VT(x), VL(-2, 1), VT(on), VT(on));
  KT_EXPECT(on, 3, 4, 3);
  KT_OK("aten::replication_pad1d.out", VT(x), VL(1, -2), VT(on), VT(on));
  KT_EXPECT(on, 1, 1, 2);
  /* 2-D and 3-D against the plain index rule, several dtypes */
  const int dts[3] = {ET_DOUBLE, ET_INT, ET_HALF};
  for (int t = 0; t < 3; t++)
    for (int mode = 0; mode < 2; mode++) {
      const bool refl = mode == 0;
      et_tensor *x2 = kt_random(kt_t(dts[t], 4, 2, 2, 3, 4), 7 + (uint32_t)t);
      if (dts[t] == ET_INT)
        for (size_t k = 0; k < 48; k++) kt_seti(x2, k, (int64_t)k * 3 - 20);
      et_tensor *o2 = kt_t(dts[t], 4, 2, 2, 3 + 2 + 1, 4 + 1 + 3);
      KT_OK(refl ? "aten::reflection_pad2d.out" : "aten::replication_pad2d.out", VT(x2),
            VL(1, 3, 2, 1), VT(o2), VT(o2));
      for (size_t p = 0; p < 4; p++)
        for (int64_t h = 0; h < 6; h++)
          for (int64_t w = 0; w < 8; w++) {
            size_t src = p * 12 + ref_index(h, 3, 2, refl) * 4 + ref_index(w, 4, 1, refl);
            assert_true(kt_get(o2, p * 48 + (size_t)(h * 8 + w)) == kt_get(x2, src));
          }
      et_tensor *x3 = kt_random(kt_t(dts[t], 4, 1, 3, 3, 2), 9);
      et_tensor *o3 = kt_t(dts[t], 4, 1, 3 + 3, 3 + 1, 2 + 2);
      KT_OK(refl ? "aten::reflection_pad3d.out" : "aten::replication_pad3d.out", VT(x3),
            VL(1, 1, 0, 1, 2, 1), VT(o3), VT(o3));
      for (int64_t d = 0; d < 6; d++)
        for (int64_t h = 0; h < 4; h++)
          for (int64_t w = 0; w < 4; w++) {
            size_t src = (ref_index(d, 3, 2, refl) * 3 + ref_index(h, 3, 0, refl)) * 2 +
                         ref_index(w, 2, 1, refl);
            assert_true(kt_get(o3, (size_t)((d * 4 + h) * 4 + w)) == kt_get(x3, src));
          }
    }
  /* a batched, channels-last 2-D input */
  et_tensor *xc = kt_random(kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 2, 3), 0, 2, 3, 1), 13);
  et_tensor *oc = kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 0, 2, 3, 1);
  KT_OK("aten::replication_pad2d.out", VT(xc), VL(1, 1, 1, 1), VT(oc), VT(oc));
  for (size_t p = 0; p < 6; p++)
    for (int64_t h = 0; h < 4; h++)
      for (int64_t w = 0; w < 5; w++)
        assert_true(kt_get(oc, p * 20 + (size_t)(h * 5 + w)) ==
                    kt_get(xc, p * 6 + ref_index(h, 2, 1, false) * 3 + ref_index(w, 3, 1, false)));
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "smaller than", "aten::reflection_pad1d.out", VT(x), VL(4, 0),
          VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "too small", "aten::replication_pad1d.out", VT(x), VL(-2, -2),
          VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "expected 4 values", "aten::reflection_pad2d.out",
          VT(kt_t(ET_FLOAT, 3, 1, 2, 2)), VL(1, 1), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "rank", "aten::replication_pad3d.out", VT(x),
          VL(1, 1, 1, 1, 1, 1), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "non-zero sizes", "aten::reflection_pad1d.out",
          VT(kt_t(ET_FLOAT, 3, 2, 0, 4)), VL(1, 1), VT(o), VT(o));
  /* an empty batch is fine */
  et_tensor *oe = kt_t(ET_FLOAT, 3, 0, 2, 6);
  KT_OK("aten::reflection_pad1d.out", VT(kt_t(ET_FLOAT, 3, 0, 2, 4)), VL(1, 1), VT(oe), VT(oe));
}

/* ---- pixel shuffle ---------------------------------------------------------------- */

static void test_pixel_shuffle(void **state) {
  (void)state;
  /* [1, 8, 2, 3] -> [1, 2, 4, 6] and back */
  et_tensor *x = kt_t(ET_SHORT, 4, 1, 8, 2, 3);
  for (size_t k = 0; k < 48; k++) kt_seti(x, k, (int64_t)k);
  et_tensor *o = kt_t(ET_SHORT, 4, 1, 2, 4, 6);
  KT_OK("aten::pixel_shuffle.out", VT(x), VI(2), VT(o), VT(o));
  for (int64_t c = 0; c < 2; c++)
    for (int64_t h = 0; h < 4; h++)
      for (int64_t w = 0; w < 6; w++) {
        int64_t src = ((c * 4 + (h % 2) * 2 + w % 2) * 2 + h / 2) * 3 + w / 2;
        assert_int_equal(kt_geti(o, (size_t)((c * 4 + h) * 6 + w)), src);
      }
  et_tensor *back = kt_t(ET_SHORT, 4, 1, 8, 2, 3);
  KT_OK("aten::pixel_unshuffle.out", VT(o), VI(2), VT(back), VT(back));
  kt_expect_tensors_close(back, x, 0, 0);
  /* 3-D input, Bool, channels-last in and out, factor 3 */
  et_tensor *xb = kt_t(ET_BOOL, 3, 9, 1, 2);
  for (size_t k = 0; k < 18; k++) kt_seti(xb, k, (int64_t)(k % 3 == 0));
  et_tensor *ob = kt_t(ET_BOOL, 3, 1, 3, 6);
  KT_OK("aten::pixel_shuffle.out", VT(xb), VI(3), VT(ob), VT(ob));
  for (int64_t h = 0; h < 3; h++)
    for (int64_t w = 0; w < 6; w++)
      assert_int_equal(kt_geti(ob, (size_t)(h * 6 + w)), kt_geti(xb, (size_t)(((h % 3) * 3 + w % 3) * 2 + w / 3)));
  et_tensor *xc = kt_random(kt_ord(kt_t(ET_FLOAT, 4, 2, 4, 3, 3), 0, 2, 3, 1), 5);
  et_tensor *oc = kt_ord(kt_t(ET_FLOAT, 4, 2, 1, 6, 6), 0, 2, 3, 1);
  KT_OK("aten::pixel_shuffle.out", VT(xc), VI(2), VT(oc), VT(oc));
  for (size_t n = 0; n < 2; n++)
    for (int64_t h = 0; h < 6; h++)
      for (int64_t w = 0; w < 6; w++)
        assert_true(kt_get(oc, n * 36 + (size_t)(h * 6 + w)) ==
                    kt_get(xc, n * 36 + (size_t)((((h % 2) * 2 + w % 2) * 3 + h / 2) * 3 + w / 2)));
  /* errors */
  et_tensor *of = kt_t(ET_FLOAT, 3, 1, 4, 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "divisible", "aten::pixel_shuffle.out", VT(kt_t(ET_FLOAT, 3, 6, 2, 2)),
          VI(2), VT(of), VT(of));
  KT_FAIL(ET_INVALID_ARGUMENT, "divisible", "aten::pixel_unshuffle.out",
          VT(kt_t(ET_FLOAT, 3, 1, 3, 4)), VI(2), VT(of), VT(of));
  KT_FAIL(ET_INVALID_ARGUMENT, "positive", "aten::pixel_shuffle.out", VT(x), VI(0), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "rank", "aten::pixel_shuffle.out", VT(kt_t(ET_FLOAT, 2, 4, 4)),
          VI(2), VT(of), VT(of));
}

/* ---- upsampling ------------------------------------------------------------------ */

static void test_upsample_nearest(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_BYTE, 4, 1, 1, 2, 3), 1, 2, 3, 4, 5, 6);
  et_tensor *o = kt_t(ET_BYTE, 4, 1, 1, 4, 6);
  KT_OK("aten::upsample_nearest2d.vec_out", VT(x), VN(), VF2(2.0, 2.0), VT(o), VT(o));
  KT_EXPECT(o, 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6);
  /* output_size 3 x 2: floor(dst * in / out) */
  et_tensor *o2 = kt_t(ET_BYTE, 4, 1, 1, 3, 2);
  KT_OK("aten::upsample_nearest2d.vec_out", VT(x), VL(3, 2), VN(), VT(o2), VT(o2));
  KT_EXPECT(o2, 1, 2, 1, 2, 4, 5);
  /* a scale that is not the size ratio: 1.7 on 3 gives 5 columns sampled
   * at floor(dst / 1.7) */
  et_tensor *xf = kt_random(kt_t(ET_FLOAT, 4, 2, 1, 1, 3), 1);
  et_tensor *of = kt_t(ET_FLOAT, 4, 2, 1, 1, 5);
  KT_OK("aten::upsample_nearest2d.vec_out", VT(xf), VN(), VF2(1.0, 1.7), VT(of), VT(of));
  const size_t want_src[5] = {0, 0, 1, 1, 2};
  for (size_t n = 0; n < 2; n++)
    for (size_t j = 0; j < 5; j++) assert_true(kt_get(of, n * 5 + j) == kt_get(xf, n * 3 + want_src[j]));
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "exactly one", "aten::upsample_nearest2d.vec_out", VT(x),
          VL(3, 2), VF2(2.0, 2.0), VT(o2), VT(o2));
  KT_FAIL(ET_INVALID_ARGUMENT, "exactly one", "aten::upsample_nearest2d.vec_out", VT(x), VN(),
          VN(), VT(o2), VT(o2));
  KT_FAIL(ET_INVALID_ARGUMENT, "greater than 0", "aten::upsample_nearest2d.vec_out", VT(x),
          VL(0, 2), VN(), VT(o2), VT(o2));
  KT_FAIL(ET_INVALID_ARGUMENT, "4D", "aten::upsample_nearest2d.vec_out",
          VT(kt_t(ET_BYTE, 3, 1, 2, 2)), VL(2, 2), VN(), VT(o2), VT(o2));
}

/* PyTorch's bilinear rule in double, for the reference. */
static void lin_ref(int64_t dst, int64_t in, int64_t out, bool align, double scale, int64_t *i0,
                    int64_t *i1, double *l1) {
  if (in == out) {
    *i0 = *i1 = dst;
    *l1 = 0;
    return;
  }
  double s = align ? (out > 1 ? (double)(in - 1) / (double)(out - 1) : 0)
                   : (scale > 0 ? 1 / scale : (double)in / (double)out);
  double src = align ? s * (double)dst : s * ((double)dst + 0.5) - 0.5;
  if (!align && src < 0) src = 0;
  int64_t i = (int64_t)floor(src);
  if (i > in - 1) i = in - 1;
  *i0 = i;
  *i1 = i < in - 1 ? i + 1 : i;
  *l1 = fmin(fmax(src - (double)i, 0), 1);
}

static void test_upsample_bilinear(void **state) {
  (void)state;
  /* align_corners: 2x2 -> 3x3 puts averages between the corners */
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 4, 1, 1, 2, 2), 0, 2, 4, 6);
  et_tensor *o = kt_t(ET_FLOAT, 4, 1, 1, 3, 3);
  KT_OK("aten::upsample_bilinear2d.vec_out", VT(x), VL(3, 3), VB(true), VN(), VT(o), VT(o));
  KT_EXPECT(o, 0, 1, 2, 2, 3, 4, 4, 5, 6);
  /* half-pixel centres: 2 -> 4 along W */
  et_tensor *o4 = kt_t(ET_FLOAT, 4, 1, 1, 2, 4);
  KT_OK("aten::upsample_bilinear2d.vec_out", VT(x), VN(), VB(false), VF2(1.0, 2.0), VT(o4),
        VT(o4));
  KT_EXPECT(o4, 0, 0.5, 1.5, 2, 4, 4.5, 5.5, 6);
  /* random shapes, both modes, every float dtype, against the reference */
  for (int t = 0; t < 4; t++)
    for (int align = 0; align < 2; align++) {
      et_tensor *xr = kt_random(kt_t(kFloatDts[t], 4, 2, 3, 5, 4), 17 + (uint32_t)t);
      et_tensor *orr = kt_t(kFloatDts[t], 4, 2, 3, 7, 3);
      KT_OK("aten::upsample_bilinear2d.vec_out", VT(xr), VL(7, 3), VB(align != 0), VN(),
            VT(orr), VT(orr));
      for (size_t p = 0; p < 6; p++)
        for (int64_t oh = 0; oh < 7; oh++)
          for (int64_t ow = 0; ow < 3; ow++) {
            int64_t h0, h1, w0, w1;
            double lh, lw;
            lin_ref(oh, 5, 7, align, 0, &h0, &h1, &lh);
            lin_ref(ow, 4, 3, align, 0, &w0, &w1, &lw);
            double v00 = kt_get(xr, p * 20 + (size_t)(h0 * 4 + w0)), v01 = kt_get(xr, p * 20 + (size_t)(h0 * 4 + w1));
            double v10 = kt_get(xr, p * 20 + (size_t)(h1 * 4 + w0)), v11 = kt_get(xr, p * 20 + (size_t)(h1 * 4 + w1));
            double want = ((1 - lh) * ((1 - lw) * v00 + lw * v01) + lh * ((1 - lw) * v10 + lw * v11));
            double got = kt_get(orr, p * 21 + (size_t)(oh * 3 + ow));
            if (!kt_close(got, want, kTol[t] * 4, kTol[t] * 4))
              fail_msg("dtype %d align %d [%zu,%lld,%lld]: got %g want %g", kFloatDts[t], align,
                       p, (long long)oh, (long long)ow, got, want);
          }
    }
  /* a channels-last input gives the same values */
  et_tensor *xa = kt_random(kt_t(ET_FLOAT, 4, 1, 3, 4, 4), 3);
  et_tensor *xb = kt_ord(kt_t(ET_FLOAT, 4, 1, 3, 4, 4), 0, 2, 3, 1);
  for (size_t k = 0; k < 48; k++) kt_set(xb, k, kt_get(xa, k));
  et_tensor *oa = kt_t(ET_FLOAT, 4, 1, 3, 6, 5), *ob = kt_ord(kt_t(ET_FLOAT, 4, 1, 3, 6, 5), 0, 2, 3, 1);
  KT_OK("aten::upsample_bilinear2d.vec_out", VT(xa), VL(6, 5), VB(false), VN(), VT(oa), VT(oa));
  KT_OK("aten::upsample_bilinear2d.vec_out", VT(xb), VL(6, 5), VB(false), VN(), VT(ob), VT(ob));
  kt_expect_tensors_close(ob, oa, 0, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::upsample_bilinear2d.vec_out",
          VT(kt_t(ET_INT, 4, 1, 1, 2, 2)), VL(3, 3), VB(false), VN(), VT(o), VT(o));
  /* uint8: PyTorch's fixed-point path (values from torch 2.13,
   * F.interpolate(x, size=(3, 5), mode="bilinear"), and to (1, 3) without
   * and with antialias, on a [1, 1, 2, 4] input 0, 40, 80, 120, 200, 255, 7,
   * 13) */
  et_tensor *u = kt_vals(kt_t(ET_BYTE, 4, 1, 1, 2, 4), 0, 40, 80, 120, 200, 255, 7, 13);
  et_tensor *uo = kt_t(ET_BYTE, 4, 1, 1, 3, 5);
  KT_OK("aten::upsample_bilinear2d.vec_out", VT(u), VL(3, 5), VB(false), VN(), VT(uo), VT(uo));
  KT_EXPECT(uo, 0, 28, 60, 92, 120, 100, 134, 96, 51, 67, 200, 239, 131, 9, 13);
  et_tensor *ud = kt_t(ET_BYTE, 4, 1, 1, 1, 3);
  KT_OK("aten::upsample_bilinear2d.vec_out", VT(u), VL(1, 3), VB(false), VN(), VT(ud), VT(ud));
  KT_EXPECT(ud, 108, 96, 63);
  KT_OK("aten::_upsample_bilinear2d_aa.out", VT(u), VL(1, 3), VB(false), VN(), VN(), VT(ud),
        VT(ud));
  KT_EXPECT(ud, 114, 96, 60);
  KT_FAIL(ET_INVALID_ARGUMENT, "scale_factors", "aten::upsample_bilinear2d.vec_out", VT(x), VN(),
          VB(false), VF2(-1.0, 2.0), VT(o), VT(o));
}

static void test_upsample_bilinear_aa(void **state) {
  (void)state;
  /* 4 -> 2 along W: triangle taps of width 2, normalized (weights 3:3:1 and
   * 1:3:3); H unchanged is copied */
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 4, 1, 1, 1, 4), 1, 2, 3, 4);
  et_tensor *o = kt_t(ET_FLOAT, 4, 1, 1, 1, 2);
  KT_OK("aten::_upsample_bilinear2d_aa.out", VT(x), VL(1, 2), VB(false), VN(), VN(), VT(o),
        VT(o));
  KT_EXPECT(o, 12.0 / 7, 23.0 / 7);
  /* upscaling with aa is plain bilinear (support 1) */
  et_tensor *xu = kt_random(kt_t(ET_DOUBLE, 4, 1, 2, 3, 4), 8);
  et_tensor *ou = kt_t(ET_DOUBLE, 4, 1, 2, 5, 7), *ob = kt_t(ET_DOUBLE, 4, 1, 2, 5, 7);
  KT_OK("aten::_upsample_bilinear2d_aa.out", VT(xu), VL(5, 7), VB(false), VN(), VN(), VT(ou),
        VT(ou));
  KT_OK("aten::upsample_bilinear2d.vec_out", VT(xu), VL(5, 7), VB(false), VN(), VT(ob), VT(ob));
  kt_expect_tensors_close(ou, ob, 1e-12, 1e-12);
  /* downscaling a constant image keeps it constant, in every float dtype */
  for (int t = 0; t < 4; t++) {
    et_tensor *xc = kt_t(kFloatDts[t], 4, 2, 1, 9, 7);
    for (size_t k = 0; k < 126; k++) kt_set(xc, k, 0.75);
    et_tensor *oc = kt_t(kFloatDts[t], 4, 2, 1, 4, 3);
    KT_OK("aten::_upsample_bilinear2d_aa.out", VT(xc), VL(4, 3), VB(t % 2 == 0), VN(), VN(),
          VT(oc), VT(oc));
    for (size_t k = 0; k < 24; k++) assert_true(kt_close(kt_get(oc, k), 0.75, kTol[t], kTol[t]));
  }
  /* explicit scales far from the size ratio: output indices whose window
   * falls outside the input have no taps and are 0 (no reads outside) */
  et_tensor *os = kt_t(ET_FLOAT, 4, 1, 1, 1, 5);
  KT_OK("aten::_upsample_bilinear2d_aa.out", VT(x), VL(1, 5), VB(false), VN(), VD(0.1), VT(os),
        VT(os));
  assert_true(kt_get(os, 4) == 0);
  assert_true(kt_close(kt_get(os, 0), 7.5 / 2.8, 1e-6, 1e-6)); /* weights .55 .65 .75 .85 */
  KT_FAIL(ET_INVALID_ARGUMENT, "expected 2 values", "aten::_upsample_bilinear2d_aa.out", VT(x),
          VL(2), VB(false), VN(), VN(), VT(o), VT(o));
}

/* ---- grid_sampler_2d ------------------------------------------------------------- */

static double gs_unnorm(double g, int64_t size, bool align) {
  return align ? (g + 1) / 2 * (double)(size - 1) : ((g + 1) * (double)size - 1) / 2;
}

static double gs_reflect(double x, double lo2, double hi2) {
  if (lo2 == hi2) return 0;
  double mn = lo2 / 2, span = (hi2 - lo2) / 2;
  x = fabs(x - mn);
  double extra = fmod(x, span);
  int flips = (int)floor(x / span);
  return flips % 2 == 0 ? extra + mn : span - extra + mn;
}

static double gs_pad(double x, int64_t size, int pad, bool align) {
  if (pad == 2) x = align ? gs_reflect(x, 0, 2.0 * (double)(size - 1)) : gs_reflect(x, -1, 2.0 * (double)size - 1);
  if (pad >= 1) x = fmin((double)(size - 1), fmax(x, 0));
  return x;
}

static double gs_at(const et_tensor *x, size_t plane, int64_t H, int64_t W, int64_t iy, int64_t ix) {
  if (iy < 0 || iy >= H || ix < 0 || ix >= W) return 0;
  return kt_get(x, plane * (size_t)(H * W) + (size_t)(iy * W + ix));
}

static double cubic1(double x) { return ((1.25) * x - 2.25) * x * x + 1; }
static double cubic2(double x) { return ((-0.75 * x + 3.75) * x - 6) * x + 3; }

static void test_grid_sampler(void **state) {
  (void)state;
  const int64_t H = 4, W = 5;
  et_tensor *x = kt_random(kt_t(ET_DOUBLE, 4, 2, 3, 4, 5), 61);
  et_tensor *grid = kt_random(kt_t(ET_DOUBLE, 4, 2, 3, 6, 2), 62);
  for (size_t k = 0; k < 72; k++) kt_set(grid, k, kt_get(grid, k) * 1.4); /* some outside */
  kt_set(grid, 0, 1.0);
  kt_set(grid, 1, -1.0);
  et_tensor *out = kt_t(ET_DOUBLE, 4, 2, 3, 3, 6);
  for (int mode = 0; mode < 3; mode++)
    for (int pad = 0; pad < 3; pad++)
      for (int align = 0; align < 2; align++) {
        KT_OK("aten::grid_sampler_2d.out", VT(x), VT(grid), VI(mode), VI(pad), VB(align != 0),
              VT(out), VT(out));
        for (size_t n = 0; n < 2; n++)
          for (size_t p = 0; p < 18; p++) {
            double gx = kt_get(grid, (n * 18 + p) * 2), gy = kt_get(grid, (n * 18 + p) * 2 + 1);
            for (size_t c = 0; c < 3; c++) {
              size_t plane = n * 3 + c;
              double want;
              if (mode == 2) {
                double fx = gs_unnorm(gx, W, align), fy = gs_unnorm(gy, H, align);
                double x0 = floor(fx), y0 = floor(fy), tx = fx - x0, ty = fy - y0;
                double cx[4] = {cubic2(tx + 1), cubic1(tx), cubic1(1 - tx), cubic2(2 - tx)};
                double cy[4] = {cubic2(ty + 1), cubic1(ty), cubic1(1 - ty), cubic2(2 - ty)};
                want = 0;
                for (int r = 0; r < 4; r++)
                  for (int k = 0; k < 4; k++) {
                    double px = gs_pad(x0 - 1 + k, W, pad, align), py = gs_pad(y0 - 1 + r, H, pad, align);
                    double v = (px > -1 && px < W && py > -1 && py < H)
                                   ? gs_at(x, plane, H, W, (int64_t)py, (int64_t)px)
                                   : 0;
                    want += cx[k] * cy[r] * v;
                  }
              } else {
                double fx = gs_pad(gs_unnorm(gx, W, align), W, pad, align);
                double fy = gs_pad(gs_unnorm(gy, H, align), H, pad, align);
                if (mode == 1) {
                  want = gs_at(x, plane, H, W, (int64_t)nearbyint(fy), (int64_t)nearbyint(fx));
                } else {
                  double x0 = floor(fx), y0 = floor(fy), dx = fx - x0, dy = fy - y0;
                  int64_t ix = (int64_t)x0, iy = (int64_t)y0;
                  want = gs_at(x, plane, H, W, iy, ix) * (1 - dx) * (1 - dy) +
                         gs_at(x, plane, H, W, iy, ix + 1) * dx * (1 - dy) +
                         gs_at(x, plane, H, W, iy + 1, ix) * (1 - dx) * dy +
                         gs_at(x, plane, H, W, iy + 1, ix + 1) * dx * dy;
                }
              }
              double got = kt_get(out, plane * 18 + p);
              if (!kt_close(got, want, 1e-9, 1e-9))
                fail_msg("mode %d pad %d align %d n %zu p %zu c %zu: got %.12g want %.12g", mode,
                         pad, align, n, p, c, got, want);
            }
          }
      }
  /* Float and Half: an identity grid with align_corners returns the input */
  for (int t = 0; t < 4; t++) {
    et_tensor *xf = kt_random(kt_t(kFloatDts[t], 4, 1, 2, 3, 4), 63);
    et_tensor *gi = kt_t(kFloatDts[t], 4, 1, 3, 4, 2);
    for (size_t h = 0; h < 3; h++)
      for (size_t w = 0; w < 4; w++) {
        kt_set(gi, (h * 4 + w) * 2, -1.0 + 2.0 * (double)w / 3);
        kt_set(gi, (h * 4 + w) * 2 + 1, -1.0 + (double)h);
      }
    et_tensor *of = kt_t(kFloatDts[t], 4, 1, 2, 3, 4);
    for (int mode = 0; mode < 3; mode++) {
      KT_OK("aten::grid_sampler_2d.out", VT(xf), VT(gi), VI(mode), VI(0), VB(true), VT(of), VT(of));
      kt_expect_tensors_close(of, xf, kTol[t] * 8, kTol[t] * 8);
    }
  }
  /* NaN coordinates: zeros padding gives NaN (bilinear) or 0 (nearest); border clamps NaN to 0 */
  et_tensor *x1 = kt_vals(kt_t(ET_FLOAT, 4, 1, 1, 2, 2), 1, 1, 1, 1);
  et_tensor *gn = kt_vals(kt_t(ET_FLOAT, 4, 1, 1, 1, 2), NAN, NAN);
  et_tensor *o1 = kt_t(ET_FLOAT, 4, 1, 1, 1, 1);
  KT_OK("aten::grid_sampler_2d.out", VT(x1), VT(gn), VI(0), VI(0), VB(false), VT(o1), VT(o1));
  KT_EXPECT(o1, NAN);
  KT_OK("aten::grid_sampler_2d.out", VT(x1), VT(gn), VI(1), VI(0), VB(false), VT(o1), VT(o1));
  KT_EXPECT(o1, 0);
  KT_OK("aten::grid_sampler_2d.out", VT(x1), VT(gn), VI(0), VI(1), VB(false), VT(o1), VT(o1));
  KT_EXPECT(o1, 1);
  et_tensor *ginf = kt_vals(kt_t(ET_FLOAT, 4, 1, 1, 1, 2), INFINITY, 1e30);
  KT_OK("aten::grid_sampler_2d.out", VT(x1), VT(ginf), VI(1), VI(0), VB(false), VT(o1), VT(o1));
  KT_EXPECT(o1, 0);
  KT_OK("aten::grid_sampler_2d.out", VT(x1), VT(ginf), VI(2), VI(2), VB(true), VT(o1), VT(o1));
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "interpolation_mode", "aten::grid_sampler_2d.out", VT(x), VT(grid),
          VI(3), VI(0), VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "padding_mode", "aten::grid_sampler_2d.out", VT(x), VT(grid),
          VI(0), VI(-1), VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "batch size", "aten::grid_sampler_2d.out", VT(x),
          VT(kt_t(ET_DOUBLE, 4, 1, 3, 6, 2)), VI(0), VI(0), VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "size 2", "aten::grid_sampler_2d.out", VT(x),
          VT(kt_t(ET_DOUBLE, 4, 2, 3, 6, 3)), VI(0), VI(0), VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::grid_sampler_2d.out", VT(x),
          VT(kt_t(ET_FLOAT, 4, 2, 3, 6, 2)), VI(0), VI(0), VB(false), VT(out), VT(out));
}

/* ---- group norm / batch norm --------------------------------------------------- */

static void test_group_norm(void **state) {
  (void)state;
  for (int t = 0; t < 4; t++) {
    const int64_t N = 2, C = 6, HW = 5, G = 3;
    et_tensor *x = kt_random(kt_t(kFloatDts[t], 4, 2, 6, 1, 5), 71 + (uint32_t)t);
    et_tensor *w = kt_random(kt_t(kFloatDts[t], 1, 6), 72);
    et_tensor *b = kt_random(kt_t(kFloatDts[t], 1, 6), 73);
    et_tensor *y = kt_t(kFloatDts[t], 4, 2, 6, 1, 5);
    et_tensor *m = kt_t(kFloatDts[t], 2, 2, 3), *r = kt_t(kFloatDts[t], 2, 2, 3);
    KT_OK("aten::native_group_norm.out", VT(x), VT(w), VT(b), VI(N), VI(C), VI(HW), VI(G),
          VD(1e-5), VT(y), VT(m), VT(r), VTL(y, m, r));
    for (int64_t n = 0; n < N; n++)
      for (int64_t g = 0; g < G; g++) {
        double s = 0, q = 0;
        size_t first = (size_t)((n * C + g * 2) * HW);
        for (size_t k = 0; k < 10; k++) s += kt_get(x, first + k);
        double mean = s / 10;
        for (size_t k = 0; k < 10; k++) q += (kt_get(x, first + k) - mean) * (kt_get(x, first + k) - mean);
        double rstd = 1 / sqrt(q / 10 + 1e-5);
        assert_true(kt_close(kt_get(m, (size_t)(n * G + g)), mean, kTol[t], kTol[t]));
        assert_true(kt_close(kt_get(r, (size_t)(n * G + g)), rstd, kTol[t], kTol[t]));
        for (size_t k = 0; k < 10; k++) {
          size_t c = (size_t)(g * 2) + k / 5;
          double want = (kt_get(x, first + k) - mean) * rstd * kt_get(w, c) + kt_get(b, c);
          if (!kt_close(kt_get(y, first + k), want, kTol[t] * 4, kTol[t] * 4))
            fail_msg("dtype %d: y[%zu] = %g, want %g", kFloatDts[t], first + k, kt_get(y, first + k), want);
        }
      }
  }
  /* no weight/bias, rank 2 (HxW = 1) */
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 1, 4), 1, 3, 10, 10);
  et_tensor *y = kt_t(ET_FLOAT, 2, 1, 4), *m = kt_t(ET_FLOAT, 2, 1, 2), *r = kt_t(ET_FLOAT, 2, 1, 2);
  KT_OK("aten::native_group_norm.out", VT(x), VN(), VN(), VI(1), VI(4), VI(1), VI(2), VD(0),
        VT(y), VT(m), VT(r), VTL(y, m, r));
  KT_EXPECT(y, -1, 1, NAN, NAN); /* zero variance with eps 0: rstd = inf, 0 * inf */
  KT_EXPECT(m, 2, 10);
  KT_EXPECT(r, 1, INFINITY);
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "group", "aten::native_group_norm.out", VT(x), VN(), VN(), VI(1),
          VI(4), VI(1), VI(3), VD(0), VT(y), VT(m), VT(r), VTL(y, m, r));
  KT_FAIL(ET_INVALID_ARGUMENT, "does not match", "aten::native_group_norm.out", VT(x), VN(), VN(),
          VI(1), VI(4), VI(2), VI(2), VD(0), VT(y), VT(m), VT(r), VTL(y, m, r));
  KT_FAIL(ET_INVALID_ARGUMENT, "weight", "aten::native_group_norm.out", VT(x),
          VT(kt_t(ET_FLOAT, 1, 3)), VN(), VI(1), VI(4), VI(1), VI(2), VD(0), VT(y), VT(m), VT(r),
          VTL(y, m, r));
}

static void bn_ref(const et_tensor *x, int64_t N, int64_t C, int64_t inner, int64_t c,
                   double *mean, double *m2) {
  double s = 0, q = 0;
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < inner; i++) s += kt_get(x, (size_t)((n * C + c) * inner + i));
  *mean = s / (double)(N * inner);
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < inner; i++) {
      double d = kt_get(x, (size_t)((n * C + c) * inner + i)) - *mean;
      q += d * d;
    }
  *m2 = q;
}

static void test_batch_norm_training(void **state) {
  (void)state;
  for (int t = 0; t < 4; t++) {
    const int64_t N = 3, C = 2, inner = 6;
    et_tensor *x = kt_random(kt_t(kFloatDts[t], 4, 3, 2, 2, 3), 81 + (uint32_t)t);
    et_tensor *w = kt_random(kt_t(kFloatDts[t], 1, 2), 82);
    et_tensor *b = kt_random(kt_t(kFloatDts[t], 1, 2), 83);
    /* running statistics of the input's dtype: PyTorch's non-mixed case
     * (Half/BFloat16 statistics and updates are rounded to it) */
    et_tensor *rm = kt_vals(kt_t(kFloatDts[t], 1, 2), 0.5, -1);
    et_tensor *rv = kt_vals(kt_t(kFloatDts[t], 1, 2), 2, 3);
    et_tensor *y = kt_t(kFloatDts[t], 4, 3, 2, 2, 3);
    et_tensor *sm = kt_t(kFloatDts[t], 1, 2), *si = kt_t(kFloatDts[t], 1, 2);
    KT_OK("aten::_native_batch_norm_legit.out", VT(x), VT(w), VT(b), VT(rm), VT(rv), VB(true),
          VD(0.1), VD(1e-5), VT(y), VT(sm), VT(si), VTL(y, sm, si));
    for (int64_t c = 0; c < C; c++) {
      double mean, m2;
      bn_ref(x, N, C, inner, c, &mean, &m2);
      double invstd = 1 / sqrt(m2 / 18 + 1e-5);
      assert_true(kt_close(kt_get(sm, (size_t)c), mean, kTol[t], kTol[t]));
      assert_true(kt_close(kt_get(si, (size_t)c), invstd, kTol[t], kTol[t]));
      double rm0 = c == 0 ? 0.5 : -1, rv0 = c == 0 ? 2 : 3;
      const double rtol = kFloatDts[t] == ET_FLOAT || kFloatDts[t] == ET_DOUBLE ? 1e-6 : kTol[t];
      assert_true(kt_close(kt_get(rm, (size_t)c), 0.1 * mean + 0.9 * rm0, rtol, rtol));
      assert_true(kt_close(kt_get(rv, (size_t)c), 0.1 * m2 / 17 + 0.9 * rv0, rtol, rtol));
      for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < inner; i++) {
          size_t k = (size_t)((n * C + c) * inner + i);
          double want = (kt_get(x, k) - mean) * invstd * kt_get(w, (size_t)c) + kt_get(b, (size_t)c);
          assert_true(kt_close(kt_get(y, k), want, kTol[t] * 4, kTol[t] * 4));
        }
    }
    /* no_stats: the same normalization, no running statistics */
    et_tensor *y2 = kt_t(kFloatDts[t], 4, 3, 2, 2, 3);
    et_tensor *sm2 = kt_t(kFloatDts[t], 1, 2), *si2 = kt_t(kFloatDts[t], 1, 2);
    KT_OK("aten::_native_batch_norm_legit.no_stats_out", VT(x), VT(w), VT(b), VB(true), VD(0.1),
          VD(1e-5), VT(y2), VT(sm2), VT(si2), VTL(y2, sm2, si2));
    kt_expect_tensors_close(y2, y, 0, 0);
    kt_expect_tensors_close(sm2, sm, 0, 0);
  }
  /* evaluation: running statistics, empty save_mean/save_invstd */
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 2, 2), 1, 2, 3, 4);
  et_tensor *rm = kt_vals(kt_t(ET_FLOAT, 1, 2), 1, 2);
  et_tensor *rv = kt_vals(kt_t(ET_FLOAT, 1, 2), 4, 1);
  et_tensor *y = kt_t(ET_FLOAT, 2, 2, 2);
  et_tensor *e1 = kt_dynamic(kt_t(ET_FLOAT, 1, 2), 2), *e2 = kt_dynamic(kt_t(ET_FLOAT, 1, 2), 2);
  KT_OK("aten::_native_batch_norm_legit.out", VT(x), VN(), VN(), VT(rm), VT(rv), VB(false), VD(0.1),
        VD(0), VT(y), VT(e1), VT(e2), VTL(y, e1, e2));
  KT_EXPECT(y, 0, 0, 1, 2);
  KT_SHAPE(e1, 1, 0);
  KT_EXPECT(rm, 1, 2); /* untouched */
  /* invstd is 0 when the variance and eps are both 0 */
  et_tensor *xc = kt_vals(kt_t(ET_FLOAT, 2, 2, 1), 3, 3);
  et_tensor *yc = kt_t(ET_FLOAT, 2, 2, 1), *smc = kt_t(ET_FLOAT, 1, 1), *sic = kt_t(ET_FLOAT, 1, 1);
  KT_OK("aten::_native_batch_norm_legit.no_stats_out", VT(xc), VN(), VN(), VB(true), VD(0.1),
        VD(0), VT(yc), VT(smc), VT(sic), VTL(yc, smc, sic));
  KT_EXPECT(sic, 0);
  KT_EXPECT(yc, 0, 0);
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "running_mean", "aten::_native_batch_norm_legit.out", VT(x), VN(),
          VN(), VT(kt_t(ET_FLOAT, 1, 3)), VT(rv), VB(true), VD(0.1), VD(0), VT(y), VT(e1), VT(e2),
          VTL(y, e1, e2));
  et_tensor *konst = kt_vals(kt_t(ET_FLOAT, 1, 2), 0, 0);
  konst->flags |= ET_TENSOR_CONSTANT;
  KT_FAIL(ET_INVALID_ARGUMENT, "constant", "aten::_native_batch_norm_legit.out", VT(x), VN(), VN(),
          VT(konst), VT(rv), VB(true), VD(0.1), VD(0), VT(y), VT(e1), VT(e2), VTL(y, e1, e2));
  KT_FAIL(ET_INVALID_ARGUMENT, "rank", "aten::_native_batch_norm_legit.no_stats_out",
          VT(kt_t(ET_FLOAT, 1, 4)), VN(), VN(), VB(true), VD(0.1), VD(0), VT(y), VT(e1), VT(e2),
          VTL(y, e1, e2));
}

/* ---- dropout -------------------------------------------------------------------- */

static void test_dropout(void **state) {
  (void)state;
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 2, 100, 100), 91);
  et_tensor *y = kt_t(ET_FLOAT, 2, 100, 100), *m = kt_t(ET_BOOL, 2, 100, 100);
  /* eval: identity, all kept (any dtype) */
  KT_OK("aten::native_dropout.out", VT(x), VD(0.5), VB(false), VT(y), VT(m), VTL(y, m));
  kt_expect_tensors_close(y, x, 0, 0);
  for (size_t k = 0; k < 10000; k++) assert_int_equal(kt_geti(m, k), 1);
  et_tensor *xi = kt_vals(kt_t(ET_INT, 1, 3), 1, 2, 3), *yi = kt_t(ET_INT, 1, 3);
  et_tensor *mi = kt_t(ET_BOOL, 1, 3);
  KT_OK("aten::native_dropout.out", VT(xi), VD(0.9), VB(false), VT(yi), VT(mi), VTL(yi, mi));
  KT_EXPECT(yi, 1, 2, 3);
  /* train with p = 0: identity too */
  KT_OK("aten::native_dropout.out", VT(x), VD(0), VN(), VT(y), VT(m), VTL(y, m));
  kt_expect_tensors_close(y, x, 0, 0);
  /* train, p = 0.3: about 70 % kept, kept values scaled by 1 / 0.7 */
  for (int t = 0; t < 4; t++) {
    et_tensor *xt = kt_random(kt_t(kFloatDts[t], 2, 100, 100), 92);
    et_tensor *yt = kt_t(kFloatDts[t], 2, 100, 100);
    KT_OK("aten::native_dropout.out", VT(xt), VD(0.3), VB(true), VT(yt), VT(m), VTL(yt, m));
    size_t kept = 0;
    for (size_t k = 0; k < 10000; k++) {
      if (kt_geti(m, k)) {
        kept++;
        assert_true(kt_close(kt_get(yt, k), kt_get(xt, k) / 0.7, kTol[t], kTol[t]));
      } else {
        assert_true(kt_get(yt, k) == 0);
      }
    }
    if (kept < 6700 || kept > 7300) fail_msg("kept %zu of 10000 with p = 0.3", kept);
  }
  /* p = 1 drops everything */
  KT_OK("aten::native_dropout.out", VT(x), VD(1), VB(true), VT(y), VT(m), VTL(y, m));
  for (size_t k = 0; k < 10000; k++) {
    assert_int_equal(kt_geti(m, k), 0);
    assert_true(kt_get(y, k) == 0);
  }
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "between 0 and 1, got 1.5", "aten::native_dropout.out", VT(x), VD(1.5),
          VB(true), VT(y), VT(m), VTL(y, m));
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::native_dropout.out", VT(x), VD(0.5), VB(true), VT(y),
          VT(kt_t(ET_FLOAT, 2, 100, 100)), VTL(y, m));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::native_dropout.out", VT(xi), VD(0.5), VB(true),
          VT(yi), VT(mi), VTL(yi, mi));
}

/* ---- convolution_backward --------------------------------------------------------- */

static double dot(const et_tensor *a, const et_tensor *b) {
  double s = 0;
  size_t n = et_tensor_numel(a);
  assert_int_equal(n, et_tensor_numel(b));
  for (size_t k = 0; k < n; k++) s += kt_get(a, k) * kt_get(b, k);
  return s;
}

typedef struct cb_case {
  int rank; /* 3 or 4 */
  int32_t N, Cin, H, W, Cout, KH, KW;
  int64_t sh, sw, ph, pw, dh, dw, groups, oph, opw;
  bool transposed;
} cb_case;

/* The adjoint identities of a bilinear map y = conv(x, w):
 *   <go, conv(dx, w)> = <gi, dx> and <go, conv(x, dw)> = <gw, dw>
 * for random dx, dw, with the forward kernel as the oracle; and
 * gb = sum of go over everything but the channel. */
static void check_conv_backward(const cb_case *k, int dtype, double tol) {
  const bool one_d = k->rank == 3;
  et_tensor *x, *w, *dx, *dw;
  if (one_d) {
    x = kt_random(kt_t(dtype, 3, k->N, k->Cin, k->W), 1);
    dx = kt_random(kt_t(dtype, 3, k->N, k->Cin, k->W), 2);
  } else {
    x = kt_random(kt_t(dtype, 4, k->N, k->Cin, k->H, k->W), 1);
    dx = kt_random(kt_t(dtype, 4, k->N, k->Cin, k->H, k->W), 2);
  }
  const int32_t w0 = k->transposed ? k->Cin : k->Cout;
  const int32_t w1 = k->transposed ? (int32_t)(k->Cout / k->groups) : (int32_t)(k->Cin / k->groups);
  if (one_d) {
    w = kt_random(kt_t(dtype, 3, w0, w1, k->KW), 3);
    dw = kt_random(kt_t(dtype, 3, w0, w1, k->KW), 4);
  } else {
    w = kt_random(kt_t(dtype, 4, w0, w1, k->KH, k->KW), 3);
    dw = kt_random(kt_t(dtype, 4, w0, w1, k->KH, k->KW), 4);
  }
  et_value *stride = one_d ? VL(k->sw) : VL(k->sh, k->sw);
  et_value *pad = one_d ? VL(k->pw) : VL(k->ph, k->pw);
  et_value *dil = one_d ? VL(k->dw) : VL(k->dh, k->dw);
  et_value *opad = one_d ? VL(k->opw) : VL(k->oph, k->opw);
  et_tensor *y = kt_dynamic(one_d ? kt_t(dtype, 3, 1, 1, 1) : kt_t(dtype, 4, 1, 1, 1, 1), 4096);
  KT_OK("aten::convolution.out", VT(x), VT(w), VN(), stride, pad, dil, VB(k->transposed), opad,
        VI(k->groups), VT(y), VT(y));
  /* grad_output of y's shape */
  et_tensor *go = one_d ? kt_t(dtype, 3, y->sizes[0], y->sizes[1], y->sizes[2])
                        : kt_t(dtype, 4, y->sizes[0], y->sizes[1], y->sizes[2], y->sizes[3]);
  kt_random(go, 5);
  et_tensor *gi = kt_dynamic(one_d ? kt_t(dtype, 3, 1, 1, 1) : kt_t(dtype, 4, 1, 1, 1, 1), 4096);
  et_tensor *gw = kt_dynamic(one_d ? kt_t(dtype, 3, 1, 1, 1) : kt_t(dtype, 4, 1, 1, 1, 1), 4096);
  et_tensor *gb = kt_dynamic(kt_t(dtype, 1, 1), 64);
  et_value *mask = kt_v(ET_TAG_LIST_BOOL);
  static const uint8_t all[3] = {1, 1, 1};
  mask->u.blist.items = all;
  mask->u.blist.len = 3;
  KT_OK("aten::convolution_backward.out", VT(go), VT(x), VT(w), VL(go->sizes[1]), stride, pad, dil,
        VB(k->transposed), opad, VI(k->groups), mask, VT(gi), VT(gw), VT(gb), VTL(gi, gw, gb));
  kt_expect_shape(gi, x->rank, x->sizes);
  kt_expect_shape(gw, w->rank, w->sizes);
  /* <go, conv(dx, w)> = <gi, dx> */
  KT_OK("aten::convolution.out", VT(dx), VT(w), VN(), stride, pad, dil, VB(k->transposed), opad,
        VI(k->groups), VT(y), VT(y));
  double lhs = dot(go, y), rhs = dot(gi, dx);
  if (!kt_close(rhs, lhs, tol, tol)) fail_msg("grad_input: <gi,dx> = %.9g, <go,conv(dx)> = %.9g", rhs, lhs);
  KT_OK("aten::convolution.out", VT(x), VT(dw), VN(), stride, pad, dil, VB(k->transposed), opad,
        VI(k->groups), VT(y), VT(y));
  lhs = dot(go, y), rhs = dot(gw, dw);
  if (!kt_close(rhs, lhs, tol, tol)) fail_msg("grad_weight: <gw,dw> = %.9g, <go,conv(dw)> = %.9g", rhs, lhs);
  size_t per = et_tensor_numel(go) / (size_t)go->sizes[0] / (size_t)go->sizes[1];
  for (int32_t c = 0; c < go->sizes[1]; c++) {
    double s = 0;
    for (int32_t n = 0; n < go->sizes[0]; n++)
      for (size_t i = 0; i < per; i++) s += kt_get(go, ((size_t)n * (size_t)go->sizes[1] + (size_t)c) * per + i);
    assert_true(kt_close(kt_get(gb, (size_t)c), s, tol, tol));
  }
}

/* The same identities for 3-D ([N, C, D, H, W]) convolution. */
static void check_conv_backward_3d(bool transposed, int dtype, double tol) {
  const int32_t N = 2, Cin = 4, Cout = 6, groups = 2;
  const int32_t w0 = transposed ? Cin : Cout, w1 = transposed ? Cout / groups : Cin / groups;
  et_tensor *x = kt_random(kt_t(dtype, 5, N, Cin, 3, 4, 5), 1);
  et_tensor *dx = kt_random(kt_t(dtype, 5, N, Cin, 3, 4, 5), 2);
  et_tensor *w = kt_random(kt_t(dtype, 5, w0, w1, 2, 3, 2), 3);
  et_tensor *dw = kt_random(kt_t(dtype, 5, w0, w1, 2, 3, 2), 4);
  et_value *stride = VL(2, 1, 2), *pad = VL(1, 1, 1), *dil = VL(1, 2, 1);
  et_value *opad = transposed ? VL(1, 0, 1) : VL(0, 0, 0);
  et_tensor *y = kt_dynamic(kt_t(dtype, 5, 1, 1, 1, 1, 1), 4096);
  KT_OK("aten::convolution.out", VT(x), VT(w), VN(), stride, pad, dil, VB(transposed), opad,
        VI(groups), VT(y), VT(y));
  et_tensor *go = kt_random(
      kt_t(dtype, 5, y->sizes[0], y->sizes[1], y->sizes[2], y->sizes[3], y->sizes[4]), 5);
  et_tensor *gi = kt_dynamic(kt_t(dtype, 5, 1, 1, 1, 1, 1), 4096);
  et_tensor *gw = kt_dynamic(kt_t(dtype, 5, 1, 1, 1, 1, 1), 4096);
  et_tensor *gb = kt_dynamic(kt_t(dtype, 1, 1), 64);
  et_value *mask = kt_v(ET_TAG_LIST_BOOL);
  static const uint8_t all[3] = {1, 1, 1};
  mask->u.blist.items = all;
  mask->u.blist.len = 3;
  KT_OK("aten::convolution_backward.out", VT(go), VT(x), VT(w), VL(Cout), stride, pad, dil,
        VB(transposed), opad, VI(groups), mask, VT(gi), VT(gw), VT(gb), VTL(gi, gw, gb));
  kt_expect_shape(gi, x->rank, x->sizes);
  kt_expect_shape(gw, w->rank, w->sizes);
  KT_OK("aten::convolution.out", VT(dx), VT(w), VN(), stride, pad, dil, VB(transposed), opad,
        VI(groups), VT(y), VT(y));
  double lhs = dot(go, y), rhs = dot(gi, dx);
  if (!kt_close(rhs, lhs, tol, tol)) fail_msg("3-D grad_input: %.9g vs %.9g", rhs, lhs);
  KT_OK("aten::convolution.out", VT(x), VT(dw), VN(), stride, pad, dil, VB(transposed), opad,
        VI(groups), VT(y), VT(y));
  lhs = dot(go, y), rhs = dot(gw, dw);
  if (!kt_close(rhs, lhs, tol, tol)) fail_msg("3-D grad_weight: %.9g vs %.9g", rhs, lhs);
  const size_t per = et_tensor_numel(go) / (size_t)(N * Cout);
  for (int32_t c = 0; c < Cout; c++) {
    double sum = 0;
    for (int32_t n = 0; n < N; n++)
      for (size_t i = 0; i < per; i++) sum += kt_get(go, ((size_t)(n * Cout + c)) * per + i);
    assert_true(kt_close(kt_get(gb, (size_t)c), sum, tol, tol));
  }
}

static void test_convolution_backward(void **state) {
  (void)state;
  for (int tr = 0; tr < 2; tr++) {
    check_conv_backward_3d(tr != 0, ET_DOUBLE, 1e-10);
    check_conv_backward_3d(tr != 0, ET_FLOAT, 2e-4);
  }
  const cb_case cases[] = {
      {4, 2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, false},
      {4, 1, 4, 7, 8, 6, 3, 2, 2, 3, 1, 0, 2, 1, 2, 0, 0, false},
      {4, 2, 4, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 4, 0, 0, false},
      {3, 2, 3, 1, 9, 4, 1, 3, 1, 2, 0, 2, 1, 2, 1, 0, 0, false},
      {4, 2, 3, 4, 3, 4, 3, 3, 1, 2, 1, 1, 1, 1, 1, 0, 1, true},
      {4, 1, 4, 3, 4, 6, 2, 3, 2, 1, 0, 1, 1, 2, 2, 1, 0, true},
      {3, 1, 2, 1, 5, 3, 1, 4, 1, 3, 0, 1, 1, 1, 1, 0, 2, true},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    check_conv_backward(&cases[c], ET_DOUBLE, 1e-10);
    check_conv_backward(&cases[c], ET_FLOAT, 2e-4);
  }
  /* Half accumulates in float: close to the Float result */
  check_conv_backward(&cases[0], ET_HALF, 3e-2);
  /* only the requested outputs are written */
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 4, 1, 2, 4, 4), 7);
  et_tensor *w = kt_random(kt_t(ET_FLOAT, 4, 3, 2, 3, 3), 8);
  et_tensor *go = kt_random(kt_t(ET_FLOAT, 4, 1, 3, 2, 2), 9);
  et_tensor *gi = kt_t(ET_FLOAT, 4, 1, 2, 4, 4), *gw = kt_t(ET_FLOAT, 4, 3, 2, 3, 3);
  et_tensor *gb = kt_vals(kt_t(ET_FLOAT, 1, 3), 42, 42, 42);
  et_value *mask = kt_v(ET_TAG_LIST_BOOL);
  static const uint8_t m110[3] = {1, 1, 0};
  mask->u.blist.items = m110;
  mask->u.blist.len = 3;
  KT_OK("aten::convolution_backward.out", VT(go), VT(x), VT(w), VN(), VL(1, 1), VL(0, 0), VL(1, 1),
        VB(false), VL(0, 0), VI(1), mask, VT(gi), VT(gw), VT(gb), VTL(gi, gw, gb));
  KT_EXPECT(gb, 42, 42, 42);
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "does not match", "aten::convolution_backward.out",
          VT(kt_t(ET_FLOAT, 4, 1, 3, 3, 3)), VT(x), VT(w), VN(), VL(1, 1), VL(0, 0), VL(1, 1),
          VB(false), VL(0, 0), VI(1), mask, VT(gi), VT(gw), VT(gb), VTL(gi, gw, gb));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::convolution_backward.out", VT(go), VT(x),
          VT(w), VN(), VL(1, 1), VL(0, 0), VL(1, 1), VB(false), VL(0, 0), VI(1), mask,
          VT(kt_t(ET_DOUBLE, 4, 1, 2, 4, 4)), VT(gw), VT(gb), VTL(gi, gw, gb));
  KT_FAIL(ET_INVALID_ARGUMENT, "groups", "aten::convolution_backward.out", VT(go), VT(x), VT(w),
          VN(), VL(1, 1), VL(0, 0), VL(1, 1), VB(false), VL(0, 0), VI(0), mask, VT(gi), VT(gw),
          VT(gb), VTL(gi, gw, gb));
  static const uint8_t m001[3] = {0, 0, 1};
  mask->u.blist.items = m001;
  KT_FAIL(ET_INVALID_ARGUMENT, "bias_sizes", "aten::convolution_backward.out", VT(go), VT(x),
          VT(w), VL(4), VL(1, 1), VL(0, 0), VL(1, 1), VB(false), VL(0, 0), VI(1), mask, VT(gi),
          VT(gw), VT(gb), VTL(gi, gw, gb));
}

/* ---- max_pool2d_with_indices_backward ----------------------------------------- */

static void test_max_pool_backward(void **state) {
  (void)state;
  for (int t = 0; t < 4; t++) {
    et_tensor *x = kt_random(kt_t(kFloatDts[t], 4, 2, 2, 5, 6), 101 + (uint32_t)t);
    et_tensor *y = kt_t(kFloatDts[t], 4, 2, 2, 3, 3), *ind = kt_t(ET_LONG, 4, 2, 2, 3, 3);
    /* overlapping windows: kernel 3, stride 2, padding 1 */
    KT_OK("aten::max_pool2d_with_indices.out", VT(x), VL(3, 3), VL(2, 2), VL(1, 1), VL(1, 1),
          VB(false), VT(y), VT(ind), VTL(y, ind));
    et_tensor *go = kt_random(kt_t(kFloatDts[t], 4, 2, 2, 3, 3), 7);
    et_tensor *gi = kt_t(kFloatDts[t], 4, 2, 2, 5, 6);
    kt_set(gi, 0, 99); /* overwritten with zeros first */
    KT_OK("aten::max_pool2d_with_indices_backward.grad_input", VT(go), VT(x), VL(3, 3), VL(2, 2),
          VL(1, 1), VL(1, 1), VB(false), VT(ind), VT(gi), VT(gi));
    double want[120] = {0};
    for (size_t p = 0; p < 4; p++)
      for (size_t i = 0; i < 9; i++) want[p * 30 + (size_t)kt_geti(ind, p * 9 + i)] += kt_get(go, p * 9 + i);
    kt_expect_close(gi, want, 120, kTol[t] * 4, kTol[t] * 4);
  }
  /* 3-D input, ceil_mode */
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 3, 1, 3, 3), 5);
  et_tensor *y = kt_t(ET_FLOAT, 3, 1, 2, 2), *ind = kt_t(ET_LONG, 3, 1, 2, 2);
  KT_OK("aten::max_pool2d_with_indices.out", VT(x), VL(2), VL(2), VL(0), VL(1), VB(true), VT(y),
        VT(ind), VTL(y, ind));
  et_tensor *go = kt_vals(kt_t(ET_FLOAT, 3, 1, 2, 2), 1, 2, 3, 4);
  et_tensor *gi = kt_t(ET_FLOAT, 3, 1, 3, 3);
  KT_OK("aten::max_pool2d_with_indices_backward.grad_input", VT(go), VT(x), VL(2), VL(2), VL(0),
        VL(1), VB(true), VT(ind), VT(gi), VT(gi));
  double s = 0;
  for (size_t k = 0; k < 9; k++) s += kt_get(gi, k);
  assert_true(s == 10);
  assert_true(kt_get(gi, 8) == 4); /* the last window holds one element */
  /* errors: a bad index, a mismatched grad_output */
  kt_seti(ind, 1, 9);
  KT_FAIL(ET_INVALID_ARGUMENT, "outside the input plane", "aten::max_pool2d_with_indices_backward.grad_input",
          VT(go), VT(x), VL(2), VL(2), VL(0), VL(1), VB(true), VT(ind), VT(gi), VT(gi));
  kt_seti(ind, 1, -1);
  KT_FAIL(ET_INVALID_ARGUMENT, "outside the input plane", "aten::max_pool2d_with_indices_backward.grad_input",
          VT(go), VT(x), VL(2), VL(2), VL(0), VL(1), VB(true), VT(ind), VT(gi), VT(gi));
  KT_FAIL(ET_INVALID_ARGUMENT, "pooling output shape", "aten::max_pool2d_with_indices_backward.grad_input",
          VT(go), VT(x), VL(2), VL(2), VL(0), VL(1), VB(false), VT(ind), VT(gi), VT(gi));
  KT_FAIL(ET_INVALID_ARGUMENT, "Long", "aten::max_pool2d_with_indices_backward.grad_input",
          VT(go), VT(x), VL(2), VL(2), VL(0), VL(1), VB(true), VT(kt_t(ET_INT, 3, 1, 2, 2)), VT(gi), VT(gi));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_constant_pad, kt_free_all),
      cmocka_unit_test_teardown(test_reflection_replication_pad, kt_free_all),
      cmocka_unit_test_teardown(test_pixel_shuffle, kt_free_all),
      cmocka_unit_test_teardown(test_upsample_nearest, kt_free_all),
      cmocka_unit_test_teardown(test_upsample_bilinear, kt_free_all),
      cmocka_unit_test_teardown(test_upsample_bilinear_aa, kt_free_all),
      cmocka_unit_test_teardown(test_grid_sampler, kt_free_all),
      cmocka_unit_test_teardown(test_group_norm, kt_free_all),
      cmocka_unit_test_teardown(test_batch_norm_training, kt_free_all),
      cmocka_unit_test_teardown(test_dropout, kt_free_all),
      cmocka_unit_test_teardown(test_convolution_backward, kt_free_all),
      cmocka_unit_test_teardown(test_max_pool_backward, kt_free_all),
  };
  return cmocka_run_group_tests_name("kernels_nn2", tests, NULL, NULL);
}
