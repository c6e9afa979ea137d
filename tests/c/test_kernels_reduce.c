/*
 * Portable kernels: reductions and their relatives (amax/amin, max/min,
 * argmax/argmin, prod, mean.dtype_out, var, var_mean, topk, cdist, pdist),
 * checked against hand-computed values and straightforward double-precision
 * reference loops, including PyTorch's rules for NaN, ties, empty
 * reductions, negative dims, keepdim, dim orders and output resizing.
 */
#include "test_kernels.h"

static const int kFloatDts[4] = {ET_FLOAT, ET_DOUBLE, ET_HALF, ET_BFLOAT16};

/* ---- amax / amin ----------------------------------------------------------- */

static void test_amax_amin(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 3, 2, 3, 2),
                         1, 7, -2, 4, 0, 3,
                         5, -1, 8, 2, -6, 9);
  et_tensor *out = kt_t(ET_FLOAT, 1, 3);
  /* over dims 0 and 2 (the latter negative) */
  KT_OK("aten::amax.out", VT(x), VL(0, -1), VB(false), VT(out), VT(out));
  KT_EXPECT(out, 7, 8, 9);
  KT_OK("aten::amin.out", VT(x), VL(0, -1), VB(false), VT(out), VT(out));
  KT_EXPECT(out, -1, -2, -6);
  /* keepdim */
  et_tensor *ok = kt_t(ET_FLOAT, 3, 2, 1, 2);
  KT_OK("aten::amax.out", VT(x), VL(1), VB(true), VT(ok), VT(ok));
  KT_EXPECT(ok, 1, 7, 8, 9);
  /* [] is every dim */
  et_tensor *o0 = kt_t0(ET_FLOAT);
  KT_OK("aten::amin.out", VT(x), VL0(), VB(false), VT(o0), VT(o0));
  KT_EXPECT(o0, -6);
  /* NaN propagates, for every float dtype */
  for (int t = 0; t < 4; t++) {
    et_tensor *xn = kt_vals(kt_t(kFloatDts[t], 2, 2, 3), 1, NAN, 3, 4, 5, -INFINITY);
    et_tensor *on = kt_t(kFloatDts[t], 1, 2);
    KT_OK("aten::amax.out", VT(xn), VL(1), VB(false), VT(on), VT(on));
    KT_EXPECT(on, NAN, 5);
    KT_OK("aten::amin.out", VT(xn), VL(1), VB(false), VT(on), VT(on));
    KT_EXPECT(on, NAN, -INFINITY);
  }
  /* integers keep their exact values; Bool works */
  et_tensor *xi = kt_t(ET_LONG, 1, 3);
  kt_seti(xi, 0, INT64_MAX - 1);
  kt_seti(xi, 1, INT64_MAX);
  kt_seti(xi, 2, INT64_MIN);
  et_tensor *oi = kt_t0(ET_LONG);
  KT_OK("aten::amax.out", VT(xi), VL(0), VB(false), VT(oi), VT(oi));
  assert_true(kt_geti(oi, 0) == INT64_MAX);
  KT_OK("aten::amin.out", VT(xi), VL(0), VB(false), VT(oi), VT(oi));
  assert_true(kt_geti(oi, 0) == INT64_MIN);
  et_tensor *xb = kt_vals(kt_t(ET_BOOL, 2, 2, 2), 0, 1, 0, 0);
  et_tensor *ob = kt_t(ET_BOOL, 1, 2);
  KT_OK("aten::amax.out", VT(xb), VL(1), VB(false), VT(ob), VT(ob));
  KT_EXPECT(ob, 1, 0);
  et_tensor *xu = kt_vals(kt_t(ET_BYTE, 1, 3), 200, 255, 3);
  et_tensor *ou = kt_t0(ET_BYTE);
  KT_OK("aten::amax.out", VT(xu), VL0(), VB(false), VT(ou), VT(ou));
  KT_EXPECT(ou, 255);
  /* a channels-last input reduces the same logical elements */
  et_tensor *xc = kt_random(kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 0, 2, 3, 1), 3);
  et_tensor *oc = kt_t(ET_FLOAT, 2, 2, 5);
  KT_OK("aten::amax.out", VT(xc), VL(1, 2), VB(false), VT(oc), VT(oc));
  for (size_t n = 0; n < 2; n++)
    for (size_t w = 0; w < 5; w++) {
      double best = -INFINITY;
      for (size_t c = 0; c < 3; c++)
        for (size_t h = 0; h < 4; h++) best = fmax(best, kt_get(xc, ((n * 3 + c) * 4 + h) * 5 + w));
      assert_true(kt_get(oc, n * 5 + w) == best);
    }
  /* empty reductions are errors; empty outputs are not */
  et_tensor *e = kt_t(ET_FLOAT, 2, 0, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "non-zero size", "aten::amax.out", VT(e), VL(0), VB(false),
          VT(kt_t(ET_FLOAT, 1, 3)), VT(out));
  et_tensor *oe = kt_t(ET_FLOAT, 1, 0);
  KT_OK("aten::amin.out", VT(e), VL(1), VB(false), VT(oe), VT(oe));
  KT_FAIL(ET_INVALID_ARGUMENT, "non-zero size", "aten::amax.out", VT(e), VL0(), VB(false),
          VT(o0), VT(o0));
  /* 0-dim input */
  et_tensor *s = kt_vals(kt_t0(ET_INT), -4);
  et_tensor *os = kt_t0(ET_INT);
  KT_OK("aten::amax.out", VT(s), VL(-1), VB(true), VT(os), VT(os));
  KT_EXPECT(os, -4);
  /* argument errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::amax.out", VT(x), VL(0, 2), VB(false),
          VT(kt_t(ET_DOUBLE, 1, 3)), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "more than once", "aten::amax.out", VT(x), VL(0, -3), VB(false),
          VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::amax.out", VT(x), VL(3), VB(false),
          VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "expected rank 2", "aten::amax.out", VT(x), VL(0),
          VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "aten::amax.out", VT(x), VL(1),
          VB(false), VT(kt_t(ET_FLOAT, 2, 2, 3)), VT(out));
  /* a dynamic out is resized */
  et_tensor *od = kt_dynamic(kt_t(ET_FLOAT, 2, 1, 1), 12);
  KT_OK("aten::amax.out", VT(x), VL(0), VB(false), VT(od), VT(od));
  KT_SHAPE(od, 2, 3, 2);
  KT_EXPECT(od, 5, 7, 8, 4, 0, 9);
}

/* ---- max / min ---------------------------------------------------------------- */

static void test_max_min_dim(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 2, 4), 3, 9, 9, 1, 2, -5, 0, -5);
  et_tensor *v = kt_t(ET_FLOAT, 1, 2), *i = kt_t(ET_LONG, 1, 2);
  KT_OK("aten::max.dim_max", VT(x), VI(-1), VB(false), VT(v), VT(i), VTL(v, i));
  KT_EXPECT(v, 9, 2);
  KT_EXPECT(i, 1, 0); /* the first of equal maxima */
  KT_OK("aten::min.dim_min", VT(x), VI(1), VB(false), VT(v), VT(i), VTL(v, i));
  KT_EXPECT(v, 1, -5);
  KT_EXPECT(i, 3, 1);
  /* along dim 0 with keepdim */
  et_tensor *vk = kt_t(ET_FLOAT, 2, 1, 4), *ik = kt_t(ET_LONG, 2, 1, 4);
  KT_OK("aten::max.dim_max", VT(x), VI(0), VB(true), VT(vk), VT(ik), VTL(vk, ik));
  KT_EXPECT(vk, 3, 9, 9, 1);
  KT_EXPECT(ik, 0, 0, 0, 0);
  /* NaN: the first NaN and its index, for max and min */
  for (int t = 0; t < 4; t++) {
    et_tensor *xn = kt_vals(kt_t(kFloatDts[t], 1, 5), 1, NAN, 7, NAN, -1);
    et_tensor *vn = kt_t0(kFloatDts[t]), *in = kt_t0(ET_LONG);
    KT_OK("aten::max.dim_max", VT(xn), VI(0), VB(false), VT(vn), VT(in), VTL(vn, in));
    KT_EXPECT(vn, NAN);
    KT_EXPECT(in, 1);
    KT_OK("aten::min.dim_min", VT(xn), VI(0), VB(false), VT(vn), VT(in), VTL(vn, in));
    KT_EXPECT(vn, NAN);
    KT_EXPECT(in, 1);
  }
  /* Bool and integers */
  et_tensor *xb = kt_vals(kt_t(ET_BOOL, 1, 3), 0, 1, 1);
  et_tensor *vb = kt_t0(ET_BOOL), *ib = kt_t0(ET_LONG);
  KT_OK("aten::max.dim_max", VT(xb), VI(0), VB(false), VT(vb), VT(ib), VTL(vb, ib));
  KT_EXPECT(vb, 1);
  KT_EXPECT(ib, 1);
  et_tensor *x8 = kt_vals(kt_t(ET_CHAR, 2, 2, 2), -128, 127, 5, 5);
  et_tensor *v8 = kt_t(ET_CHAR, 1, 2), *i8 = kt_t(ET_LONG, 1, 2);
  KT_OK("aten::min.dim_min", VT(x8), VI(1), VB(false), VT(v8), VT(i8), VTL(v8, i8));
  KT_EXPECT(v8, -128, 5);
  KT_EXPECT(i8, 0, 0);
  /* a transposed (non-contiguous) input */
  et_tensor *xt = kt_random(kt_ord(kt_t(ET_DOUBLE, 2, 4, 3), 1, 0), 9);
  et_tensor *vt = kt_t(ET_DOUBLE, 1, 3), *it = kt_t(ET_LONG, 1, 3);
  KT_OK("aten::max.dim_max", VT(xt), VI(0), VB(false), VT(vt), VT(it), VTL(vt, it));
  for (size_t c = 0; c < 3; c++) {
    size_t bi = 0;
    for (size_t r = 1; r < 4; r++)
      if (kt_get(xt, r * 3 + c) > kt_get(xt, bi * 3 + c)) bi = r;
    assert_int_equal(kt_geti(it, c), bi);
    assert_true(kt_get(vt, c) == kt_get(xt, bi * 3 + c));
  }
  /* empty: an empty dim is refused, an empty output is fine */
  et_tensor *e = kt_t(ET_FLOAT, 2, 0, 3);
  et_tensor *ve = kt_t(ET_FLOAT, 1, 0), *ie = kt_t(ET_LONG, 1, 0);
  KT_OK("aten::max.dim_max", VT(e), VI(1), VB(false), VT(ve), VT(ie), VTL(ve, ie));
  KT_FAIL(ET_INVALID_ARGUMENT, "non-zero size", "aten::max.dim_max", VT(e), VI(0), VB(false),
          VT(kt_t(ET_FLOAT, 1, 3)), VT(kt_t(ET_LONG, 1, 3)), VTL(ve, ie));
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "Long", "aten::max.dim_max", VT(x), VI(1), VB(false), VT(v),
          VT(kt_t(ET_INT, 1, 2)), VTL(v, i));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::min.dim_min", VT(x), VI(1), VB(false),
          VT(kt_t(ET_HALF, 1, 2)), VT(i), VTL(v, i));
  KT_FAIL(ET_INVALID_ARGUMENT, "indices", "aten::max.dim_max", VT(x), VI(1), VB(false), VT(v),
          VT(kt_t(ET_LONG, 1, 3)), VTL(v, i));
}

static void test_max_min_unary(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_HALF, 2, 2, 2), 1.5, -3, 65504, 0);
  et_tensor *o = kt_t0(ET_HALF);
  KT_OK("aten::max.unary_out", VT(x), VT(o), VT(o));
  KT_EXPECT(o, 65504);
  KT_OK("aten::min.unary_out", VT(x), VT(o), VT(o));
  KT_EXPECT(o, -3);
  et_tensor *xn = kt_vals(kt_t(ET_FLOAT, 1, 3), 1, NAN, 2);
  et_tensor *on = kt_t0(ET_FLOAT);
  KT_OK("aten::min.unary_out", VT(xn), VT(on), VT(on));
  KT_EXPECT(on, NAN);
  et_tensor *xb = kt_vals(kt_t(ET_BOOL, 1, 2), 1, 0);
  et_tensor *ob = kt_t0(ET_BOOL);
  KT_OK("aten::min.unary_out", VT(xb), VT(ob), VT(ob));
  KT_EXPECT(ob, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "numel() == 0", "aten::max.unary_out", VT(kt_t(ET_FLOAT, 1, 0)),
          VT(on), VT(on));
  KT_FAIL(ET_INVALID_ARGUMENT, "rank", "aten::max.unary_out", VT(xn),
          VT(kt_t(ET_FLOAT, 1, 1)), VT(on));
}

/* ---- argmax / argmin ---------------------------------------------------------- */

static void test_argmax_argmin(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 1, 5, 5, 7, -2, 7);
  et_tensor *o = kt_t(ET_LONG, 1, 2);
  KT_OK("aten::argmax.out", VT(x), VI(1), VB(false), VT(o), VT(o));
  KT_EXPECT(o, 1, 0);
  KT_OK("aten::argmin.out", VT(x), VI(-1), VB(false), VT(o), VT(o));
  KT_EXPECT(o, 0, 1);
  /* dim None: the flat index; keepdim keeps every dim as 1 */
  et_tensor *o0 = kt_t0(ET_LONG);
  KT_OK("aten::argmax.out", VT(x), VN(), VB(false), VT(o0), VT(o0));
  KT_EXPECT(o0, 3);
  et_tensor *ok = kt_t(ET_LONG, 2, 1, 1);
  KT_OK("aten::argmin.out", VT(x), VN(), VB(true), VT(ok), VT(ok));
  KT_EXPECT(ok, 4);
  /* the flat index is row-major even for a transposed input */
  et_tensor *xt = kt_ord(kt_t(ET_INT, 2, 3, 4), 1, 0);
  for (size_t k = 0; k < 12; k++) kt_seti(xt, k, (int64_t)((k * 7) % 12));
  KT_OK("aten::argmax.out", VT(xt), VN(), VB(false), VT(o0), VT(o0));
  assert_int_equal(kt_get(xt, (size_t)kt_geti(o0, 0)), 11);
  assert_int_equal(kt_geti(o0, 0), 5); /* 5 * 7 % 12 == 11 */
  KT_OK("aten::argmin.out", VT(xt), VN(), VB(false), VT(o0), VT(o0));
  KT_EXPECT(o0, 0);
  /* NaN is picked by both, first NaN wins */
  for (int t = 0; t < 4; t++) {
    et_tensor *xn = kt_vals(kt_t(kFloatDts[t], 1, 4), 1, NAN, 2, NAN);
    KT_OK("aten::argmax.out", VT(xn), VN(), VB(false), VT(o0), VT(o0));
    KT_EXPECT(o0, 1);
    KT_OK("aten::argmin.out", VT(xn), VI(0), VB(false), VT(o0), VT(o0));
    KT_EXPECT(o0, 1);
  }
  /* 0-dim */
  et_tensor *s = kt_vals(kt_t0(ET_DOUBLE), 2);
  KT_OK("aten::argmax.out", VT(s), VI(0), VB(true), VT(o0), VT(o0));
  KT_EXPECT(o0, 0);
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::argmax.out", VT(kt_t(ET_BOOL, 1, 2)), VN(),
          VB(false), VT(o0), VT(o0));
  KT_FAIL(ET_INVALID_ARGUMENT, "numel() == 0", "aten::argmax.out", VT(kt_t(ET_FLOAT, 1, 0)),
          VN(), VB(false), VT(o0), VT(o0));
  KT_FAIL(ET_INVALID_ARGUMENT, "non-zero size", "aten::argmin.out", VT(kt_t(ET_FLOAT, 2, 2, 0)),
          VI(1), VB(false), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "Long", "aten::argmin.out", VT(x), VI(1), VB(false),
          VT(kt_t(ET_INT, 1, 2)), VT(o));
}

/* ---- prod, mean.dtype_out --------------------------------------------------- */

static void test_prod(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 1, 2, 3, -4, 0.5, 2);
  et_tensor *o0 = kt_t0(ET_FLOAT);
  KT_OK("aten::prod.out", VT(x), VN(), VT(o0), VT(o0));
  KT_EXPECT(o0, -24);
  et_tensor *o = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::prod.int_out", VT(x), VI(0), VB(false), VN(), VT(o), VT(o));
  KT_EXPECT(o, -4, 1, 6);
  et_tensor *ok = kt_t(ET_FLOAT, 2, 2, 1);
  KT_OK("aten::prod.int_out", VT(x), VI(-1), VB(true), VN(), VT(ok), VT(ok));
  KT_EXPECT(ok, 6, -4);
  /* integers and Bool give Long, wrapping like int64 */
  et_tensor *x8 = kt_vals(kt_t(ET_CHAR, 1, 2), 100, 3);
  et_tensor *ol = kt_t0(ET_LONG);
  KT_OK("aten::prod.out", VT(x8), VN(), VT(ol), VT(ol));
  KT_EXPECT(ol, 300);
  et_tensor *big = kt_t(ET_LONG, 1, 3);
  kt_seti(big, 0, (INT64_C(1) << 40) + 1);
  kt_seti(big, 1, INT64_C(1) << 30);
  kt_seti(big, 2, 3);
  KT_OK("aten::prod.out", VT(big), VN(), VT(ol), VT(ol));
  /* 3 * 2^70 + 3 * 2^30 wraps to 3 * 2^30 */
  assert_true(kt_geti(ol, 0) == INT64_C(3) << 30);
  et_tensor *xb = kt_vals(kt_t(ET_BOOL, 1, 2), 1, 1);
  KT_OK("aten::prod.out", VT(xb), VN(), VT(ol), VT(ol));
  KT_EXPECT(ol, 1);
  /* dtype: Double accumulation and out */
  et_tensor *od = kt_t0(ET_DOUBLE);
  KT_OK("aten::prod.out", VT(x8), VI(ET_DOUBLE), VT(od), VT(od));
  KT_EXPECT(od, 300);
  /* Half computes in float and rounds once */
  et_tensor *xh = kt_vals(kt_t(ET_HALF, 1, 3), 1.5, 2, 100);
  et_tensor *oh = kt_t0(ET_HALF);
  KT_OK("aten::prod.out", VT(xh), VN(), VT(oh), VT(oh));
  KT_EXPECT(oh, 300);
  /* the empty product is 1 */
  KT_OK("aten::prod.out", VT(kt_t(ET_FLOAT, 2, 0, 2)), VN(), VT(o0), VT(o0));
  KT_EXPECT(o0, 1);
  /* NaN propagates */
  KT_OK("aten::prod.out", VT(kt_vals(kt_t(ET_FLOAT, 1, 2), NAN, 0)), VN(), VT(o0), VT(o0));
  KT_EXPECT(o0, NAN);
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "expected dtype Long", "aten::prod.out", VT(x8), VN(),
          VT(kt_t0(ET_INT)), VT(ol));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::prod.out", VT(x), VN(), VT(od), VT(od));
  KT_FAIL(ET_INVALID_ARGUMENT, "dtype Double given", "aten::prod.int_out", VT(x), VI(0),
          VB(false), VI(ET_DOUBLE), VT(o), VT(o));
}

static void test_mean_dtype(void **state) {
  (void)state;
  et_tensor *xi = kt_vals(kt_t(ET_INT, 2, 2, 2), 1, 2, 3, 5);
  et_tensor *o = kt_t0(ET_FLOAT);
  KT_OK("aten::mean.dtype_out", VT(xi), VI(ET_FLOAT), VT(o), VT(o));
  KT_EXPECT(o, 2.75);
  et_tensor *x = kt_random(kt_t(ET_DOUBLE, 3, 3, 4, 5), 4);
  et_tensor *od = kt_t0(ET_DOUBLE);
  KT_OK("aten::mean.dtype_out", VT(x), VN(), VT(od), VT(od));
  double s = 0;
  for (size_t k = 0; k < 60; k++) s += kt_get(x, k);
  assert_true(kt_close(kt_get(od, 0), s / 60, 1e-14, 1e-15));
  /* an empty mean is NaN */
  KT_OK("aten::mean.dtype_out", VT(kt_t(ET_FLOAT, 1, 0)), VN(), VT(o), VT(o));
  KT_EXPECT(o, NAN);
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::mean.dtype_out", VT(xi), VN(),
          VT(kt_t0(ET_LONG)), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::mean.dtype_out", VT(xi), VN(), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "rank", "aten::mean.dtype_out", VT(x), VN(),
          VT(kt_t(ET_DOUBLE, 1, 1)), VT(od));
}

/* ---- var / var_mean ----------------------------------------------------------- */

/* Reference variance of `n` elements at logical stride `st` from `first`. */
static void moments_ref(const et_tensor *x, size_t first, size_t st, size_t n, double corr,
                        double *var, double *mean) {
  double s = 0, q = 0;
  for (size_t k = 0; k < n; k++) s += kt_get(x, first + k * st);
  *mean = s / (double)n;
  for (size_t k = 0; k < n; k++) {
    double d = kt_get(x, first + k * st) - *mean;
    q += d * d;
  }
  double den = (double)n - corr;
  *var = q / (den > 0 ? den : 0);
}

static void test_var(void **state) {
  (void)state;
  const double tol[4] = {2e-6, 1e-13, 2e-3, 1.6e-2};
  for (int t = 0; t < 4; t++) {
    et_tensor *x = kt_random(kt_t(kFloatDts[t], 3, 3, 4, 5), 11 + (uint32_t)t);
    /* over dim 1 with the default correction */
    et_tensor *o = kt_t(kFloatDts[t], 2, 3, 5);
    KT_OK("aten::var.correction_out", VT(x), VL(1), VN(), VB(false), VT(o), VT(o));
    for (size_t a = 0; a < 3; a++)
      for (size_t c = 0; c < 5; c++) {
        double v, m;
        moments_ref(x, a * 20 + c, 5, 4, 1, &v, &m);
        if (!kt_close(kt_get(o, a * 5 + c), v, tol[t], tol[t]))
          fail_msg("dtype %d var[%zu,%zu] = %g, want %g", kFloatDts[t], a, c, kt_get(o, a * 5 + c), v);
      }
    /* var.out over dims [0, 2], biased, keepdim */
    et_tensor *ok = kt_t(kFloatDts[t], 3, 1, 4, 1);
    KT_OK("aten::var.out", VT(x), VL(0, -1), VB(false), VB(true), VT(ok), VT(ok));
    for (size_t b = 0; b < 4; b++) {
      double s = 0, q = 0;
      for (size_t a = 0; a < 3; a++)
        for (size_t c = 0; c < 5; c++) s += kt_get(x, a * 20 + b * 5 + c);
      double m = s / 15;
      for (size_t a = 0; a < 3; a++)
        for (size_t c = 0; c < 5; c++) {
          double d = kt_get(x, a * 20 + b * 5 + c) - m;
          q += d * d;
        }
      assert_true(kt_close(kt_get(ok, b), q / 15, tol[t], tol[t]));
    }
  }
  /* correction as a Double, over every dim (None) */
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 3), 1, 2, 4);
  et_tensor *o0 = kt_t0(ET_FLOAT);
  KT_OK("aten::var.correction_out", VT(x), VN(), VD(0.5), VB(false), VT(o0), VT(o0));
  kt_expect_close(o0, (const double[]){(14.0 / 9 * 3) / 2.5}, 1, 1e-6, 0);
  /* PyTorch's divisor max(0, N - correction): inf, or NaN with no spread */
  et_tensor *two = kt_vals(kt_t(ET_FLOAT, 1, 2), 1, 2);
  KT_OK("aten::var.correction_out", VT(two), VN(), VI(5), VB(false), VT(o0), VT(o0));
  KT_EXPECT(o0, INFINITY);
  KT_OK("aten::var.out", VT(kt_vals(kt_t(ET_FLOAT, 1, 1), 3)), VN(), VB(true), VB(false),
        VT(o0), VT(o0));
  KT_EXPECT(o0, NAN);
  /* empty reductions are NaN; empty outputs fine */
  et_tensor *oe = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::var.correction_out", VT(kt_t(ET_FLOAT, 2, 0, 3)), VL(0), VN(), VB(false), VT(oe),
        VT(oe));
  KT_EXPECT(oe, NAN, NAN, NAN);
  /* a transposed input */
  et_tensor *xt = kt_random(kt_ord(kt_t(ET_DOUBLE, 2, 6, 7), 1, 0), 5);
  et_tensor *ot = kt_t(ET_DOUBLE, 1, 6);
  KT_OK("aten::var.correction_out", VT(xt), VL(1), VI(0), VB(false), VT(ot), VT(ot));
  for (size_t r = 0; r < 6; r++) {
    double v, m;
    moments_ref(xt, r * 7, 1, 7, 0, &v, &m);
    assert_true(kt_close(kt_get(ot, r), v, 1e-13, 1e-15));
  }
  /* Double self, Float out */
  et_tensor *of = kt_t(ET_FLOAT, 1, 6);
  KT_OK("aten::var.correction_out", VT(xt), VL(1), VI(0), VB(false), VT(of), VT(of));
  kt_expect_tensors_close(of, ot, 1e-6, 1e-7);
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::var.correction_out",
          VT(kt_t(ET_INT, 1, 2)), VN(), VN(), VB(false), VT(kt_t0(ET_FLOAT)), VT(o0));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::var.out", VT(x), VN(), VB(true), VB(false),
          VT(kt_t0(ET_LONG)), VT(o0));
}

static void test_var_mean(void **state) {
  (void)state;
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 2, 5, 8), 21);
  et_tensor *v = kt_t(ET_FLOAT, 2, 5, 1), *m = kt_t(ET_FLOAT, 2, 5, 1);
  KT_OK("aten::var_mean.correction_out", VT(x), VL(-1), VN(), VB(true), VT(v), VT(m),
        VTL(v, m));
  for (size_t r = 0; r < 5; r++) {
    double rv, rm;
    moments_ref(x, r * 8, 1, 8, 1, &rv, &rm);
    assert_true(kt_close(kt_get(v, r), rv, 2e-6, 1e-7));
    assert_true(kt_close(kt_get(m, r), rm, 2e-6, 1e-7));
  }
  et_tensor *v0 = kt_t0(ET_HALF), *m0 = kt_t0(ET_HALF);
  KT_OK("aten::var_mean.correction_out", VT(kt_vals(kt_t(ET_HALF, 1, 4), 1, 2, 3, 4)), VN(),
        VI(0), VB(false), VT(v0), VT(m0), VTL(v0, m0));
  KT_EXPECT(v0, 1.25);
  KT_EXPECT(m0, 2.5);
  /* empty: both NaN */
  et_tensor *ve = kt_t(ET_FLOAT, 1, 2), *me = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::var_mean.correction_out", VT(kt_t(ET_FLOAT, 2, 0, 2)), VL(0), VN(), VB(false),
        VT(ve), VT(me), VTL(ve, me));
  KT_EXPECT(ve, NAN, NAN);
  KT_EXPECT(me, NAN, NAN);
  KT_FAIL(ET_INVALID_ARGUMENT, "out1", "aten::var_mean.correction_out", VT(x), VL(-1), VN(),
          VB(true), VT(v), VT(kt_t(ET_FLOAT, 2, 5, 2)), VTL(v, m));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::var_mean.correction_out", VT(x), VL(-1), VN(),
          VB(true), VT(v), VT(kt_t(ET_INT, 2, 5, 1)), VTL(v, m));
}

/* ---- topk --------------------------------------------------------------------- */

static void test_topk(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 2, 6), 5, 1, 9, 3, 7, 2,
                         -1, -5, 0, 8, 8, 4);
  et_tensor *v = kt_t(ET_FLOAT, 2, 2, 3), *i = kt_t(ET_LONG, 2, 2, 3);
  KT_OK("aten::topk.values", VT(x), VI(3), VI(-1), VB(true), VB(true), VT(v), VT(i), VTL(v, i));
  KT_EXPECT(v, 9, 7, 5, 8, 8, 4);
  KT_EXPECT(i, 2, 4, 0, 3, 4, 5);
  KT_OK("aten::topk.values", VT(x), VI(3), VI(1), VB(false), VB(true), VT(v), VT(i), VTL(v, i));
  KT_EXPECT(v, 1, 2, 3, -5, -1, 0);
  KT_EXPECT(i, 1, 5, 3, 1, 0, 2);
  /* along dim 0 (strided), sorted=False still gives a valid (sorted) answer */
  et_tensor *v1 = kt_t(ET_FLOAT, 2, 1, 6), *i1 = kt_t(ET_LONG, 2, 1, 6);
  KT_OK("aten::topk.values", VT(x), VI(1), VI(0), VB(true), VB(false), VT(v1), VT(i1),
        VTL(v1, i1));
  KT_EXPECT(v1, 5, 1, 9, 8, 8, 4);
  KT_EXPECT(i1, 0, 0, 0, 1, 1, 1);
  /* NaN ranks above everything: first when largest, last otherwise */
  for (int t = 0; t < 4; t++) {
    et_tensor *xn = kt_vals(kt_t(kFloatDts[t], 1, 5), 1, NAN, 3, INFINITY, -2);
    et_tensor *vn = kt_t(kFloatDts[t], 1, 2), *in = kt_t(ET_LONG, 1, 2);
    KT_OK("aten::topk.values", VT(xn), VI(2), VI(0), VB(true), VB(true), VT(vn), VT(in),
          VTL(vn, in));
    KT_EXPECT(vn, NAN, INFINITY);
    KT_EXPECT(in, 1, 3);
    KT_OK("aten::topk.values", VT(xn), VI(2), VI(0), VB(false), VB(true), VT(vn), VT(in),
          VTL(vn, in));
    KT_EXPECT(vn, -2, 1);
    KT_EXPECT(in, 4, 0);
  }
  /* ties come in index order */
  et_tensor *xt = kt_vals(kt_t(ET_INT, 1, 6), 2, 7, 2, 7, 7, 2);
  et_tensor *vt = kt_t(ET_INT, 1, 4), *it = kt_t(ET_LONG, 1, 4);
  KT_OK("aten::topk.values", VT(xt), VI(4), VI(0), VB(true), VB(true), VT(vt), VT(it), VTL(vt, it));
  KT_EXPECT(vt, 7, 7, 7, 2);
  KT_EXPECT(it, 1, 3, 4, 0);
  KT_OK("aten::topk.values", VT(xt), VI(4), VI(0), VB(false), VB(true), VT(vt), VT(it), VTL(vt, it));
  KT_EXPECT(vt, 2, 2, 2, 7);
  KT_EXPECT(it, 0, 2, 5, 1);
  /* a long row against a reference selection, channels-last input */
  et_tensor *xr = kt_random(kt_ord(kt_t(ET_DOUBLE, 4, 2, 50, 3, 2), 0, 2, 3, 1), 31);
  et_tensor *vr = kt_t(ET_DOUBLE, 4, 2, 7, 3, 2), *ir = kt_t(ET_LONG, 4, 2, 7, 3, 2);
  KT_OK("aten::topk.values", VT(xr), VI(7), VI(1), VB(true), VB(true), VT(vr), VT(ir), VTL(vr, ir));
  for (size_t n = 0; n < 2; n++)
    for (size_t hw = 0; hw < 6; hw++) {
      bool used[50] = {false};
      for (size_t r = 0; r < 7; r++) {
        size_t best = 50;
        for (size_t c = 0; c < 50; c++)
          if (!used[c] && (best == 50 || kt_get(xr, (n * 50 + c) * 6 + hw) >
                                             kt_get(xr, (n * 50 + best) * 6 + hw)))
            best = c;
        used[best] = true;
        assert_int_equal(kt_geti(ir, (n * 7 + r) * 6 + hw), best);
        assert_true(kt_get(vr, (n * 7 + r) * 6 + hw) == kt_get(xr, (n * 50 + best) * 6 + hw));
      }
    }
  /* k = 0 and 0-dim inputs; a dynamic output is resized */
  et_tensor *vd = kt_dynamic(kt_t(ET_FLOAT, 2, 2, 6), 12), *id = kt_dynamic(kt_t(ET_LONG, 2, 2, 6), 12);
  KT_OK("aten::topk.values", VT(x), VI(0), VI(-1), VB(true), VB(true), VT(vd), VT(id), VTL(vd, id));
  KT_SHAPE(vd, 2, 2, 0);
  KT_SHAPE(id, 2, 2, 0);
  et_tensor *s = kt_vals(kt_t0(ET_LONG), 42);
  et_tensor *vs = kt_t0(ET_LONG), *is = kt_t0(ET_LONG);
  KT_OK("aten::topk.values", VT(s), VI(1), VI(0), VB(true), VB(true), VT(vs), VT(is), VTL(vs, is));
  KT_EXPECT(vs, 42);
  KT_EXPECT(is, 0);
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::topk.values", VT(x), VI(7), VI(1),
          VB(true), VB(true), VT(v), VT(i), VTL(v, i));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::topk.values", VT(x), VI(-1), VI(1),
          VB(true), VB(true), VT(v), VT(i), VTL(v, i));
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::topk.values", VT(kt_t(ET_BOOL, 1, 3)), VI(1),
          VI(0), VB(true), VB(true), VT(kt_t(ET_BOOL, 1, 1)), VT(kt_t(ET_LONG, 1, 1)), VTL(v, i));
  KT_FAIL(ET_INVALID_ARGUMENT, "Long", "aten::topk.values", VT(x), VI(3), VI(1), VB(true),
          VB(true), VT(v), VT(kt_t(ET_INT, 2, 2, 3)), VTL(v, i));
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "aten::topk.values", VT(x), VI(2), VI(1),
          VB(true), VB(true), VT(v), VT(i), VTL(v, i));
}

/* ---- cdist / pdist -------------------------------------------------------------- */

static double dist_ref(const et_tensor *a, size_t ao, const et_tensor *b, size_t bo, size_t m,
                       double p) {
  double acc = 0;
  for (size_t k = 0; k < m; k++) {
    double d = fabs(kt_get(a, ao + k) - kt_get(b, bo + k));
    if (p == 0) acc += d != 0;
    else if (isinf(p)) acc = fmax(acc, d);
    else acc += pow(d, p);
  }
  return (p == 0 || isinf(p)) ? acc : pow(acc, 1 / p);
}

static void test_cdist(void **state) {
  (void)state;
  const double ps[6] = {0, 1, 2, 3, 0.5, INFINITY};
  /* x1 [2, 3, 4] with x2 [1, 5, 4]: batch broadcast */
  et_tensor *x1 = kt_random(kt_t(ET_FLOAT, 3, 2, 3, 4), 41);
  et_tensor *x2 = kt_random(kt_t(ET_FLOAT, 3, 1, 5, 4), 42);
  kt_set(x2, 0, kt_get(x1, 0)); /* an equal coordinate for p = 0 */
  et_tensor *out = kt_t(ET_FLOAT, 3, 2, 3, 5);
  for (int pi = 0; pi < 6; pi++) {
    KT_OK("aten::_cdist_forward.out", VT(x1), VT(x2), VD(ps[pi]), VN(), VT(out), VT(out));
    for (size_t b = 0; b < 2; b++)
      for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 5; j++) {
          double want = dist_ref(x1, (b * 3 + i) * 4, x2, j * 4, 4, ps[pi]);
          double got = kt_get(out, (b * 3 + i) * 5 + j);
          if (!kt_close(got, want, 2e-6, 1e-6))
            fail_msg("p=%g [%zu,%zu,%zu]: got %g want %g", ps[pi], b, i, j, got, want);
        }
  }
  /* Double, a transposed x2 and a missing batch dim on x1 */
  et_tensor *d1 = kt_random(kt_t(ET_DOUBLE, 2, 3, 6), 43);
  et_tensor *d2 = kt_random(kt_ord(kt_t(ET_DOUBLE, 3, 2, 4, 6), 0, 2, 1), 44);
  et_tensor *od = kt_dynamic(kt_t(ET_DOUBLE, 3, 1, 1, 1), 24);
  KT_OK("aten::_cdist_forward.out", VT(d1), VT(d2), VD(2), VI(2), VT(od), VT(od));
  KT_SHAPE(od, 3, 2, 3, 4);
  for (size_t b = 0; b < 2; b++)
    for (size_t i = 0; i < 3; i++)
      for (size_t j = 0; j < 4; j++)
        assert_true(kt_close(kt_get(od, (b * 3 + i) * 4 + j),
                             dist_ref(d1, i * 6, d2, (b * 4 + j) * 6, 6, 2), 1e-13, 1e-14));
  /* zero columns: distances are zero; empty rows: empty out */
  et_tensor *z = kt_t(ET_FLOAT, 2, 2, 3);
  KT_OK("aten::_cdist_forward.out", VT(kt_t(ET_FLOAT, 2, 2, 0)), VT(kt_t(ET_FLOAT, 2, 3, 0)),
        VD(2), VN(), VT(z), VT(z));
  KT_EXPECT(z, 0, 0, 0, 0, 0, 0);
  /* errors */
  KT_FAIL(ET_INVALID_ARGUMENT, "non-negative", "aten::_cdist_forward.out", VT(x1), VT(x2),
          VD(-1), VN(), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "columns", "aten::_cdist_forward.out", VT(x1),
          VT(kt_t(ET_FLOAT, 2, 5, 3)), VD(2), VN(), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "broadcast", "aten::_cdist_forward.out", VT(x1),
          VT(kt_t(ET_FLOAT, 3, 3, 5, 4)), VD(2), VN(), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::_cdist_forward.out", VT(kt_t(ET_INT, 2, 2, 2)),
          VT(kt_t(ET_INT, 2, 2, 2)), VD(2), VN(), VT(kt_t(ET_INT, 2, 2, 2)), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "compute_mode", "aten::_cdist_forward.out", VT(x1), VT(x2),
          VD(2), VI(3), VT(out), VT(out));
}

static void test_pdist(void **state) {
  (void)state;
  const double ps[4] = {2, 1, 0, INFINITY};
  for (int t = 0; t < 4; t++) {
    et_tensor *x = kt_random(kt_t(kFloatDts[t], 2, 5, 3), 51 + (uint32_t)t);
    et_tensor *out = kt_t(kFloatDts[t], 1, 10);
    KT_OK("aten::_pdist_forward.out", VT(x), VD(ps[t]), VT(out), VT(out));
    size_t k = 0;
    double tol = kFloatDts[t] == ET_BFLOAT16 ? 2e-2 : kFloatDts[t] == ET_HALF ? 2e-3 : 1e-6;
    for (size_t i = 0; i < 5; i++)
      for (size_t j = i + 1; j < 5; j++, k++)
        if (!kt_close(kt_get(out, k), dist_ref(x, i * 3, x, j * 3, 3, ps[t]), tol, tol))
          fail_msg("dtype %d pair %zu: got %g", kFloatDts[t], k, kt_get(out, k));
  }
  et_tensor *e = kt_dynamic(kt_t(ET_FLOAT, 1, 3), 3);
  KT_OK("aten::_pdist_forward.out", VT(kt_t(ET_FLOAT, 2, 1, 4)), VD(2), VT(e), VT(e));
  KT_SHAPE(e, 1, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "rank", "aten::_pdist_forward.out", VT(kt_t(ET_FLOAT, 1, 4)),
          VD(2), VT(e), VT(e));
  KT_FAIL(ET_INVALID_ARGUMENT, "non-negative", "aten::_pdist_forward.out",
          VT(kt_t(ET_FLOAT, 2, 3, 4)), VD(NAN), VT(e), VT(e));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_amax_amin, kt_free_all),
      cmocka_unit_test_teardown(test_max_min_dim, kt_free_all),
      cmocka_unit_test_teardown(test_max_min_unary, kt_free_all),
      cmocka_unit_test_teardown(test_argmax_argmin, kt_free_all),
      cmocka_unit_test_teardown(test_prod, kt_free_all),
      cmocka_unit_test_teardown(test_mean_dtype, kt_free_all),
      cmocka_unit_test_teardown(test_var, kt_free_all),
      cmocka_unit_test_teardown(test_var_mean, kt_free_all),
      cmocka_unit_test_teardown(test_topk, kt_free_all),
      cmocka_unit_test_teardown(test_cdist, kt_free_all),
      cmocka_unit_test_teardown(test_pdist, kt_free_all),
  };
  return cmocka_run_group_tests_name("kernels_reduce", tests, NULL, NULL);
}
