/*
 * Portable kernels, part 4: the elementwise math operators added after the
 * first library (trigonometric and logarithmic unary ops, rounding, sign,
 * isinf/isnan, division with rounding modes, fmod/remainder, pow with a
 * scalar base, atan2, maximum/minimum, clamp, leaky_relu/elu/logit/glu,
 * masked_fill, bitwise or/xor/not and shifts, _conj_physical).
 *
 * Reference values come from C's libm in double precision or are written
 * out by hand (PyTorch's results for the same inputs); the PyTorch
 * comparison itself is tests/python/test_kernels_elementwise_vs_torch.py.
 */
#include "test_kernels.h"

/* ---- helpers ------------------------------------------------------------------ */

typedef double (*ref1_fn)(double);

/* Check every element of out against ref(self) computed in double, rounded
 * to out's dtype (float for Half/BFloat16 first), at a relative tolerance. */
static void expect_unary(const char *op, const et_tensor *self, const et_tensor *out,
                         ref1_fn ref, double rtol) {
  size_t n = et_tensor_numel(self);
  assert_int_equal(et_tensor_numel(out), n);
  for (size_t i = 0; i < n; i++) {
    double x = kt_get(self, i);
    double want = ref(x);
    double got = kt_get(out, i);
    if (!kt_close(got, want, rtol, 1e-30))
      fail_msg("%s(%.9g) = %.9g, want %.9g (element %zu)", op, x, got, want, i);
  }
}

static double r_expm1(double x) { return expm1(x); }
static double r_log(double x) { return log(x); }
static double r_log10(double x) { return log10(x); }
static double r_log1p(double x) { return log1p(x); }
static double r_log2(double x) { return log2(x); }
static double r_sin(double x) { return sin(x); }
static double r_cos(double x) { return cos(x); }
static double r_tan(double x) { return tan(x); }
static double r_asin(double x) { return asin(x); }
static double r_acos(double x) { return acos(x); }
static double r_atan(double x) { return atan(x); }
static double r_sinh(double x) { return sinh(x); }
static double r_cosh(double x) { return cosh(x); }
static double r_asinh(double x) { return asinh(x); }
static double r_acosh(double x) { return acosh(x); }
static double r_atanh(double x) { return atanh(x); }
static double r_erf(double x) { return erf(x); }
static double r_recip(double x) { return 1.0 / x; }

/* ---- floating unary ops ----------------------------------------------------- */

static void test_unary_float_ops(void **state) {
  (void)state;
  static const struct {
    const char *op;
    ref1_fn ref;
    double lo, hi; /* a range inside the domain */
  } ops[] = {
      {"aten::expm1.out", r_expm1, -3, 3},   {"aten::log.out", r_log, 0.01, 50},
      {"aten::log10.out", r_log10, 0.01, 50}, {"aten::log1p.out", r_log1p, -0.9, 5},
      {"aten::log2.out", r_log2, 0.01, 50},   {"aten::sin.out", r_sin, -7, 7},
      {"aten::cos.out", r_cos, -7, 7},        {"aten::tan.out", r_tan, -1.4, 1.4},
      {"aten::asin.out", r_asin, -1, 1},      {"aten::acos.out", r_acos, -1, 1},
      {"aten::atan.out", r_atan, -20, 20},    {"aten::sinh.out", r_sinh, -5, 5},
      {"aten::cosh.out", r_cosh, -5, 5},      {"aten::asinh.out", r_asinh, -20, 20},
      {"aten::acosh.out", r_acosh, 1, 20},    {"aten::atanh.out", r_atanh, -0.99, 0.99},
      {"aten::erf.out", r_erf, -3, 3},        {"aten::reciprocal.out", r_recip, 0.1, 9},
  };
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    /* 150 elements: more than one engine chunk */
    et_tensor *x = kt_t(ET_FLOAT, 2, 3, 50);
    for (size_t i = 0; i < 150; i++)
      kt_set(x, i, ops[k].lo + (ops[k].hi - ops[k].lo) * (double)i / 149.0);
    et_tensor *out = kt_t(ET_FLOAT, 2, 3, 50);
    KT_OK(ops[k].op, VT(x), VT(out), VT(out));
    expect_unary(ops[k].op, x, out, ops[k].ref, 2e-6);
    /* Double computes in double */
    et_tensor *xd = kt_t(ET_DOUBLE, 1, 150);
    for (size_t i = 0; i < 150; i++) kt_set(xd, i, kt_get(x, i) + 1e-12);
    et_tensor *od = kt_t(ET_DOUBLE, 1, 150);
    KT_OK(ops[k].op, VT(xd), VT(od), VT(od));
    expect_unary(ops[k].op, xd, od, ops[k].ref, 1e-14);
    /* Half in, Half out: computed in float, rounded once */
    et_tensor *xh = kt_t(ET_HALF, 1, 150);
    for (size_t i = 0; i < 150; i++) kt_set(xh, i, kt_get(x, i));
    et_tensor *oh = kt_t(ET_HALF, 1, 150);
    KT_OK(ops[k].op, VT(xh), VT(oh), VT(oh));
    expect_unary(ops[k].op, xh, oh, ops[k].ref, 1e-3);
    /* BFloat16 */
    et_tensor *xb = kt_t(ET_BFLOAT16, 1, 150);
    for (size_t i = 0; i < 150; i++) kt_set(xb, i, kt_get(x, i));
    et_tensor *ob = kt_t(ET_BFLOAT16, 1, 150);
    KT_OK(ops[k].op, VT(xb), VT(ob), VT(ob));
    expect_unary(ops[k].op, xb, ob, ops[k].ref, 8e-3);
    /* empty */
    et_tensor *e = kt_t(ET_FLOAT, 2, 0, 3);
    et_tensor *oe = kt_t(ET_FLOAT, 2, 0, 3);
    KT_OK(ops[k].op, VT(e), VT(oe), VT(oe));
    /* an integer out is refused */
    KT_FAIL(ET_INVALID_ARGUMENT, "floating", ops[k].op, VT(x), VT(kt_t(ET_INT, 2, 3, 50)),
            VT(out));
  }
  /* integer and Bool inputs give a floating out */
  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 4), 1, 2, -3, 100);
  et_tensor *of = kt_t(ET_FLOAT, 1, 4);
  KT_OK("aten::sin.out", VT(i), VT(of), VT(of));
  KT_EXPECT(of, sinf(1), sinf(2), sinf(-3), sinf(100));
  et_tensor *b = kt_vals(kt_t(ET_BOOL, 1, 2), 1, 0);
  et_tensor *ob = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::expm1.out", VT(b), VT(ob), VT(ob));
  KT_EXPECT(ob, expm1f(1), 0);
  et_tensor *l8 = kt_vals(kt_t(ET_CHAR, 1, 3), 0, 2, -2);
  KT_OK("aten::reciprocal.out", VT(l8), VT(kt_t(ET_FLOAT, 1, 3)), VT(of));
  /* special values */
  et_tensor *s = kt_vals(kt_t(ET_FLOAT, 1, 5), 0, -1, INFINITY, NAN, 1);
  et_tensor *os = kt_t(ET_FLOAT, 1, 5);
  KT_OK("aten::log.out", VT(s), VT(os), VT(os));
  KT_EXPECT(os, -INFINITY, NAN, INFINITY, NAN, 0);
  KT_OK("aten::atanh.out", VT(s), VT(os), VT(os));
  KT_EXPECT(os, 0, -INFINITY, NAN, NAN, INFINITY);
  KT_OK("aten::acosh.out", VT(s), VT(os), VT(os));
  KT_EXPECT(os, NAN, NAN, INFINITY, NAN, 0);
  KT_OK("aten::reciprocal.out", VT(s), VT(os), VT(os));
  KT_EXPECT(os, INFINITY, -1, 0, NAN, 1);
  KT_OK("aten::erf.out", VT(s), VT(os), VT(os));
  KT_EXPECT(os, 0, erff(-1), 1, NAN, erff(1));
  /* -0.0 keeps its sign through sin and reciprocal gives -inf */
  et_tensor *nz = kt_vals(kt_t(ET_FLOAT, 1, 1), -0.0);
  et_tensor *onz = kt_t(ET_FLOAT, 1, 1);
  KT_OK("aten::sin.out", VT(nz), VT(onz), VT(onz));
  assert_true(signbit(kt_get(onz, 0)));
  KT_OK("aten::reciprocal.out", VT(nz), VT(onz), VT(onz));
  assert_true(kt_get(onz, 0) == -INFINITY);
}

/* ---- rounding ----------------------------------------------------------------- */

static void test_rounding(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 12), 0.5, 1.5, 2.5, -0.5, -2.5, 2.4999, -1.7,
                         1e20, INFINITY, NAN, -0.0, 3.0);
  et_tensor *o = kt_t(ET_FLOAT, 1, 12);
  KT_OK("aten::round.out", VT(x), VT(o), VT(o));
  KT_EXPECT(o, 0, 2, 2, -0.0, -2, 2, -2, 1e20, INFINITY, NAN, -0.0, 3);
  assert_true(signbit(kt_get(o, 3))); /* round(-0.5) is -0.0 */
  KT_OK("aten::ceil.out", VT(x), VT(o), VT(o));
  KT_EXPECT(o, 1, 2, 3, -0.0, -2, 3, -1, 1e20, INFINITY, NAN, -0.0, 3);
  KT_OK("aten::floor.out", VT(x), VT(o), VT(o));
  KT_EXPECT(o, 0, 1, 2, -1, -3, 2, -2, 1e20, INFINITY, NAN, -0.0, 3);
  KT_OK("aten::trunc.out", VT(x), VT(o), VT(o));
  KT_EXPECT(o, 0, 1, 2, -0.0, -2, 2, -1, 1e20, INFINITY, NAN, -0.0, 3);
  /* Half: exact */
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 4), 0.5, 1.5, -2.5, 1000.5);
  et_tensor *oh = kt_t(ET_HALF, 1, 4);
  KT_OK("aten::round.out", VT(h), VT(oh), VT(oh));
  KT_EXPECT(oh, 0, 2, -2, 1000);
  /* Double */
  et_tensor *d = kt_vals(kt_t(ET_DOUBLE, 1, 2), 4503599627370495.5, -0.5000000001);
  et_tensor *od = kt_t(ET_DOUBLE, 1, 2);
  KT_OK("aten::round.out", VT(d), VT(od), VT(od));
  assert_true(kt_get(od, 0) == 4503599627370496.0 && kt_get(od, 1) == -1.0);
  /* integers are copied, in their own dtype */
  et_tensor *l = kt_t(ET_LONG, 1, 2);
  kt_seti(l, 0, INT64_MAX);
  kt_seti(l, 1, -7);
  et_tensor *ol = kt_t(ET_LONG, 1, 2);
  static const char *const ops[] = {"aten::ceil.out", "aten::floor.out", "aten::round.out",
                                    "aten::trunc.out"};
  for (int k = 0; k < 4; k++) {
    KT_OK(ops[k], VT(l), VT(ol), VT(ol));
    assert_true(kt_geti(ol, 0) == INT64_MAX && kt_geti(ol, 1) == -7);
    KT_FAIL(ET_INVALID_ARGUMENT, "Bool", ops[k], VT(kt_t(ET_BOOL, 1, 2)),
            VT(kt_t(ET_BOOL, 1, 2)), VT(ol));
    KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", ops[k], VT(l), VT(kt_t(ET_INT, 1, 2)), VT(ol));
  }
}

/* ---- sign, isinf, isnan, bitwise_not, _conj_physical -------------------------- */

static void test_sign_classify_not_conj(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 6), -3, -0.0, 0, 2, NAN, -INFINITY);
  et_tensor *o = kt_t(ET_FLOAT, 1, 6);
  KT_OK("aten::sign.out", VT(x), VT(o), VT(o));
  KT_EXPECT(o, -1, 0, 0, 1, 0, -1); /* PyTorch: sign(NaN) == 0 */
  assert_false(signbit(kt_get(o, 1)));
  et_tensor *u = kt_vals(kt_t(ET_BYTE, 1, 3), 253, 0, 4);
  et_tensor *ou = kt_t(ET_BYTE, 1, 3);
  KT_OK("aten::sign.out", VT(u), VT(ou), VT(ou));
  KT_EXPECT(ou, 1, 0, 1);
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 3), -128, 0, 127);
  et_tensor *oc = kt_t(ET_CHAR, 1, 3);
  KT_OK("aten::sign.out", VT(c), VT(oc), VT(oc));
  KT_EXPECT(oc, -1, 0, 1);
  et_tensor *b = kt_vals(kt_t(ET_BOOL, 1, 2), 1, 0);
  et_tensor *ob = kt_t(ET_BOOL, 1, 2);
  KT_OK("aten::sign.out", VT(b), VT(ob), VT(ob));
  KT_EXPECT(ob, 1, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::sign.out", VT(x),
          VT(kt_t(ET_DOUBLE, 1, 6)), VT(o));

  et_tensor *bo = kt_t(ET_BOOL, 1, 6);
  KT_OK("aten::isinf.out", VT(x), VT(bo), VT(bo));
  KT_EXPECT(bo, 0, 0, 0, 0, 0, 1);
  KT_OK("aten::isnan.out", VT(x), VT(bo), VT(bo));
  KT_EXPECT(bo, 0, 0, 0, 0, 1, 0);
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 3), 65504, 1e6, NAN); /* 1e6 rounds to inf */
  et_tensor *bh = kt_t(ET_BOOL, 1, 3);
  KT_OK("aten::isinf.out", VT(h), VT(bh), VT(bh));
  KT_EXPECT(bh, 0, 1, 0);
  KT_OK("aten::isnan.out", VT(h), VT(bh), VT(bh));
  KT_EXPECT(bh, 0, 0, 1);
  et_tensor *ob3 = kt_t(ET_BOOL, 1, 3);
  memset(ob3->data, 1, 3);
  KT_OK("aten::isnan.out", VT(c), VT(ob3), VT(ob3));
  KT_EXPECT(ob3, 0, 0, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "expected dtype Bool", "aten::isinf.out", VT(x), VT(o), VT(o));

  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 3), 0, -1, 5);
  et_tensor *oi = kt_t(ET_INT, 1, 3);
  KT_OK("aten::bitwise_not.out", VT(i), VT(oi), VT(oi));
  KT_EXPECT(oi, -1, 0, -6);
  KT_OK("aten::bitwise_not.out", VT(u), VT(ou), VT(ou));
  KT_EXPECT(ou, 2, 255, 251);
  KT_OK("aten::bitwise_not.out", VT(b), VT(ob), VT(ob));
  KT_EXPECT(ob, 0, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "integer or Bool", "aten::bitwise_not.out", VT(x), VT(o), VT(o));

  /* _conj_physical: a copy for real dtypes, into any dim order */
  et_tensor *r = kt_random(kt_t(ET_FLOAT, 4, 2, 3, 2, 2), 5);
  et_tensor *rc = kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 2, 2), 0, 2, 3, 1);
  KT_OK("aten::_conj_physical.out", VT(r), VT(rc), VT(rc));
  kt_expect_tensors_close(rc, r, 0, 0);
  KT_OK("aten::_conj_physical.out", VT(b), VT(ob), VT(ob));
  KT_EXPECT(ob, 1, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::_conj_physical.out", VT(r),
          VT(kt_t(ET_DOUBLE, 4, 2, 3, 2, 2)), VT(rc));
}

/* ---- division with rounding modes, floor_divide -------------------------------- */

static double py_floordiv(double a, double b) { return floor(a / b); }

static void test_div_modes(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 7, -7, 7.5, -0.5, 0.5, 1);
  et_tensor *b = kt_vals(kt_t(ET_FLOAT, 1, 3), 2, 2, -2);
  et_tensor *o = kt_t(ET_FLOAT, 2, 2, 3);
  KT_OK("aten::div.out_mode", VT(a), VT(b), VS("floor"), VT(o), VT(o));
  KT_EXPECT(o, 3, -4, -4, -1, 0, -1);
  KT_OK("aten::div.out_mode", VT(a), VT(b), VS("trunc"), VT(o), VT(o));
  KT_EXPECT(o, 3, -3, -3, -0.0, 0, -0.0);
  assert_true(signbit(kt_get(o, 3)));
  KT_OK("aten::div.out_mode", VT(a), VT(b), VN(), VT(o), VT(o));
  KT_EXPECT(o, 3.5, -3.5, -3.75, -0.25, 0.25, -0.5);
  /* zero divisors and NaN in floating dtypes: IEEE results */
  et_tensor *z = kt_vals(kt_t(ET_FLOAT, 1, 5), -1, 1, 0, NAN, INFINITY);
  et_tensor *zb = kt_vals(kt_t0(ET_FLOAT), 0);
  et_tensor *zo = kt_t(ET_FLOAT, 1, 5);
  KT_OK("aten::div.out_mode", VT(z), VT(zb), VS("floor"), VT(zo), VT(zo));
  KT_EXPECT(zo, -INFINITY, INFINITY, NAN, NAN, INFINITY);
  KT_OK("aten::div.out_mode", VT(z), VT(zb), VS("trunc"), VT(zo), VT(zo));
  KT_EXPECT(zo, -INFINITY, INFINITY, NAN, NAN, INFINITY);
  /* floor follows Python's float //: exact where floor(a / b) rounds */
  et_tensor *p = kt_vals(kt_t(ET_DOUBLE, 1, 3), 1.0, -1e-30, 5);
  et_tensor *q = kt_vals(kt_t(ET_DOUBLE, 1, 3), 0.1, 1e10, 0.1);
  et_tensor *po = kt_t(ET_DOUBLE, 1, 3);
  KT_OK("aten::div.out_mode", VT(p), VT(q), VS("floor"), VT(po), VT(po));
  KT_EXPECT(po, 9, -1, 49); /* Python: 1.0 // 0.1 == 9.0, 5 // 0.1 == 49.0 */
  assert_true(py_floordiv(1.0, 0.1) == 10.0); /* the naive formula differs */

  /* integers: Python semantics, wrapping, zero divisors refused */
  et_tensor *ia = kt_vals(kt_t(ET_INT, 1, 5), -7, 7, -7, 7, INT32_MIN);
  et_tensor *ib = kt_vals(kt_t(ET_INT, 1, 5), 2, -2, -2, 2, -1);
  et_tensor *io = kt_t(ET_INT, 1, 5);
  KT_OK("aten::div.out_mode", VT(ia), VT(ib), VS("floor"), VT(io), VT(io));
  KT_EXPECT(io, -4, -4, 3, 3, INT32_MIN);
  KT_OK("aten::floor_divide.out", VT(ia), VT(ib), VT(io), VT(io));
  KT_EXPECT(io, -4, -4, 3, 3, INT32_MIN);
  KT_OK("aten::div.out_mode", VT(ia), VT(ib), VS("trunc"), VT(io), VT(io));
  KT_EXPECT(io, -3, -3, 3, 3, INT32_MIN);
  et_tensor *l = kt_t(ET_LONG, 1, 1), *lm = kt_t(ET_LONG, 1, 1), *lo = kt_t(ET_LONG, 1, 1);
  kt_seti(l, 0, INT64_MIN);
  kt_seti(lm, 0, -1);
  KT_OK("aten::div.out_mode", VT(l), VT(lm), VS("trunc"), VT(lo), VT(lo));
  assert_true(kt_geti(lo, 0) == INT64_MIN);
  KT_OK("aten::floor_divide.out", VT(l), VT(lm), VT(lo), VT(lo));
  assert_true(kt_geti(lo, 0) == INT64_MIN);
  /* true division of integers gives Float */
  et_tensor *fo = kt_t(ET_FLOAT, 1, 5);
  KT_OK("aten::div.out_mode", VT(ia), VT(ib), VN(), VT(fo), VT(fo));
  KT_EXPECT(fo, -3.5, -3.5, 3.5, 3.5, 2147483648.0);
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::div.out_mode", VT(ia), VT(ib), VN(), VT(io),
          VT(io));
  et_tensor *iz = kt_vals(kt_t(ET_INT, 1, 5), 1, 1, 0, 1, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "ZeroDivisionError", "aten::div.out_mode", VT(ia), VT(iz),
          VS("floor"), VT(io), VT(io));
  KT_FAIL(ET_INVALID_ARGUMENT, "ZeroDivisionError", "aten::div.out_mode", VT(ia), VT(iz),
          VS("trunc"), VT(io), VT(io));
  KT_FAIL(ET_INVALID_ARGUMENT, "ZeroDivisionError", "aten::floor_divide.out", VT(ia), VT(iz),
          VT(io), VT(io));
  /* ... but an empty dividend divides nothing */
  et_tensor *ie = kt_t(ET_INT, 2, 0, 5);
  et_tensor *ieo = kt_t(ET_INT, 2, 0, 5);
  KT_OK("aten::floor_divide.out", VT(ie), VT(iz), VT(ieo), VT(ieo));
  /* the result dtype must fit out */
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be cast", "aten::div.out_mode", VT(a), VT(b),
          VS("floor"), VT(kt_t(ET_INT, 2, 2, 3)), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::div.out_mode", VT(kt_t(ET_BOOL, 1, 2)),
          VT(kt_t(ET_BOOL, 1, 2)), VS("trunc"), VT(kt_t(ET_BOOL, 1, 2)), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::floor_divide.out", VT(kt_t(ET_BOOL, 1, 2)),
          VT(kt_t(ET_BOOL, 1, 2)), VT(kt_t(ET_BOOL, 1, 2)), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "rounding_mode", "aten::div.out_mode", VT(a), VT(b),
          VS("round"), VT(o), VT(o));
  /* Byte // Char promotes to Short */
  et_tensor *u = kt_vals(kt_t(ET_BYTE, 1, 2), 200, 255);
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 2), -3, 16);
  et_tensor *so = kt_t(ET_SHORT, 1, 2);
  KT_OK("aten::floor_divide.out", VT(u), VT(c), VT(so), VT(so));
  KT_EXPECT(so, -67, 15);
}

static void test_div_scalar_modes(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 1, 4), 7, -7, 0.5, -0.5);
  et_tensor *o = kt_t(ET_FLOAT, 1, 4);
  KT_OK("aten::div.Scalar_mode_out", VT(a), VD(2.0), VS("floor"), VT(o), VT(o));
  KT_EXPECT(o, 3, -4, 0, -1);
  KT_OK("aten::div.Scalar_mode_out", VT(a), VI(-2), VS("trunc"), VT(o), VT(o));
  KT_EXPECT(o, -3, 3, -0.0, 0);
  KT_OK("aten::div.Scalar_mode_out", VT(a), VI(4), VN(), VT(o), VT(o));
  KT_EXPECT(o, 1.75, -1.75, 0.125, -0.125);
  /* integer tensor, integer scalar: integer result; Double scalar: Float */
  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 3), 5, -5, 9);
  et_tensor *io = kt_t(ET_INT, 1, 3);
  KT_OK("aten::div.Scalar_mode_out", VT(i), VI(2), VS("floor"), VT(io), VT(io));
  KT_EXPECT(io, 2, -3, 4);
  et_tensor *fo = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::div.Scalar_mode_out", VT(i), VD(2.0), VS("floor"), VT(fo), VT(fo));
  KT_EXPECT(fo, 2, -3, 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be cast", "aten::div.Scalar_mode_out", VT(i), VD(2.0),
          VS("floor"), VT(io), VT(io));
  KT_FAIL(ET_INVALID_ARGUMENT, "ZeroDivisionError", "aten::div.Scalar_mode_out", VT(i), VI(0),
          VS("trunc"), VT(io), VT(io));
  /* 256 is 0 in Int8, as PyTorch converts the scalar first */
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 1), 5);
  et_tensor *co = kt_t(ET_CHAR, 1, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "ZeroDivisionError", "aten::div.Scalar_mode_out", VT(c),
          VI(256), VS("floor"), VT(co), VT(co));
  KT_OK("aten::div.Scalar_mode_out", VT(c), VI(258), VS("floor"), VT(co), VT(co));
  KT_EXPECT(co, 2);
  /* Half keeps the float value of a Double scalar: 5 // 0.1 is 49 in PyTorch */
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 1), 5);
  et_tensor *ho = kt_t(ET_HALF, 1, 1);
  KT_OK("aten::div.Scalar_mode_out", VT(h), VD(0.1), VS("floor"), VT(ho), VT(ho));
  KT_EXPECT(ho, 49);
  /* Bool tensor with an Int scalar computes in Long */
  et_tensor *b = kt_vals(kt_t(ET_BOOL, 1, 2), 1, 0);
  et_tensor *lo = kt_t(ET_LONG, 1, 2);
  KT_OK("aten::div.Scalar_mode_out", VT(b), VI(-2), VS("floor"), VT(lo), VT(lo));
  KT_EXPECT(lo, -1, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::div.Scalar_mode_out", VT(b), VB(true),
          VS("floor"), VT(kt_t(ET_BOOL, 1, 2)), VT(lo));
}

/* ---- fmod, remainder ------------------------------------------------------------ */

static void test_fmod_remainder(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 1, 8), -5, 5, -5, -0.0, 1, -1, INFINITY, 5.5);
  et_tensor *b = kt_vals(kt_t(ET_FLOAT, 1, 8), 3, -3, -3, 3, INFINITY, INFINITY, 2, 0);
  et_tensor *o = kt_t(ET_FLOAT, 1, 8);
  KT_OK("aten::fmod.Tensor_out", VT(a), VT(b), VT(o), VT(o));
  KT_EXPECT(o, -2, 2, -2, -0.0, 1, -1, NAN, NAN);
  assert_true(signbit(kt_get(o, 3)));
  KT_OK("aten::remainder.Tensor_out", VT(a), VT(b), VT(o), VT(o));
  KT_EXPECT(o, 1, -1, -2, -0.0, 1, INFINITY, NAN, NAN);
  /* integers */
  et_tensor *ia = kt_vals(kt_t(ET_INT, 1, 5), -5, 5, -5, 7, INT32_MIN);
  et_tensor *ib = kt_vals(kt_t(ET_INT, 1, 5), 3, -3, -3, 7, -1);
  et_tensor *io = kt_t(ET_INT, 1, 5);
  KT_OK("aten::fmod.Tensor_out", VT(ia), VT(ib), VT(io), VT(io));
  KT_EXPECT(io, -2, 2, -2, 0, 0);
  KT_OK("aten::remainder.Tensor_out", VT(ia), VT(ib), VT(io), VT(io));
  KT_EXPECT(io, 1, -1, -2, 0, 0);
  et_tensor *l = kt_t(ET_LONG, 1, 1), *lm = kt_t(ET_LONG, 1, 1), *lo = kt_t(ET_LONG, 1, 1);
  kt_seti(l, 0, INT64_MIN);
  kt_seti(lm, 0, -1);
  KT_OK("aten::remainder.Tensor_out", VT(l), VT(lm), VT(lo), VT(lo));
  assert_true(kt_geti(lo, 0) == 0);
  KT_OK("aten::fmod.Tensor_out", VT(l), VT(lm), VT(lo), VT(lo));
  assert_true(kt_geti(lo, 0) == 0);
  et_tensor *iz = kt_vals(kt_t(ET_INT, 1, 1), 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "ZeroDivisionError", "aten::fmod.Tensor_out", VT(ia), VT(iz),
          VT(io), VT(io));
  KT_FAIL(ET_INVALID_ARGUMENT, "ZeroDivisionError", "aten::remainder.Tensor_out", VT(ia),
          VT(iz), VT(io), VT(io));
  KT_FAIL(ET_INVALID_ARGUMENT, "ZeroDivisionError", "aten::remainder.Scalar_out", VT(ia),
          VI(0), VT(io), VT(io));
  KT_FAIL(ET_INVALID_ARGUMENT, "ZeroDivisionError", "aten::fmod.Scalar_out", VT(ia), VB(false),
          VT(io), VT(io));
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::fmod.Tensor_out", VT(kt_t(ET_BOOL, 1, 1)),
          VT(kt_t(ET_BOOL, 1, 1)), VT(kt_t(ET_BOOL, 1, 1)), VT(io));
  /* scalars: converted to the common dtype first (Int8 sees 257 as 1) */
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 3), 5, -5, 100);
  et_tensor *co = kt_t(ET_CHAR, 1, 3);
  KT_OK("aten::fmod.Scalar_out", VT(c), VI(257), VT(co), VT(co));
  KT_EXPECT(co, 0, 0, 0);
  KT_OK("aten::remainder.Scalar_out", VT(c), VI(-3), VT(co), VT(co));
  KT_EXPECT(co, -1, -2, -2);
  KT_OK("aten::remainder.Scalar_out", VT(c), VI(3), VT(co), VT(co));
  KT_EXPECT(co, 2, 1, 1);
  et_tensor *fo = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::remainder.Scalar_out", VT(c), VD(2.5), VT(fo), VT(fo));
  KT_EXPECT(fo, 0, -0.0, 0);
  KT_OK("aten::fmod.Scalar_out", VT(a), VD(-2.0), VT(o), VT(o));
  KT_EXPECT(o, -1, 1, -1, -0.0, 1, -1, NAN, 1.5);
  /* Half: the scalar is rounded to Half first (1 fmod Half(0.1) ~ 0.000244) */
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 1), 1);
  et_tensor *ho = kt_t(ET_HALF, 1, 1);
  KT_OK("aten::fmod.Scalar_out", VT(h), VD(0.1), VT(ho), VT(ho));
  float h01 = et_half_to_float(et_float_to_half(0.1f));
  assert_true(kt_get(ho, 0) == (double)et_half_to_float(et_float_to_half(fmodf(1.0f, h01))));
  KT_OK("aten::remainder.Scalar_out", VT(h), VD(-0.3), VT(ho), VT(ho));
  float hm3 = et_half_to_float(et_float_to_half(-0.3f));
  assert_true(kt_get(ho, 0) ==
              (double)et_half_to_float(et_float_to_half(fmodf(1.0f, hm3) + hm3)));
  /* broadcast: [2,1] against [3] into [2,3] */
  et_tensor *ba = kt_vals(kt_t(ET_DOUBLE, 2, 2, 1), 10, -10);
  et_tensor *bb = kt_vals(kt_t(ET_DOUBLE, 1, 3), 3, -4, 7);
  et_tensor *bo = kt_t(ET_DOUBLE, 2, 2, 3);
  KT_OK("aten::remainder.Tensor_out", VT(ba), VT(bb), VT(bo), VT(bo));
  KT_EXPECT(bo, 1, -2, 3, 2, -2, 4);
}

/* ---- rsub, pow.Scalar_out, atan2 ------------------------------------------------ */

static void test_rsub_pow_atan2(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 1, 3), 1, 2, 3);
  et_tensor *o = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::rsub.Scalar_out", VT(a), VD(1.5), VI(2), VT(o), VT(o));
  KT_EXPECT(o, -0.5, -2.5, -4.5);
  KT_OK("aten::rsub.Scalar_out", VT(a), VI(10), VD(1.0), VT(o), VT(o));
  KT_EXPECT(o, 9, 8, 7);
  /* Int8 sees 300 as 44 */
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 2), 1, 2);
  et_tensor *co = kt_t(ET_CHAR, 1, 2);
  KT_OK("aten::rsub.Scalar_out", VT(c), VI(300), VI(1), VT(co), VT(co));
  KT_EXPECT(co, 43, 42);
  et_tensor *fo = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::rsub.Scalar_out", VT(c), VD(1.5), VI(1), VT(fo), VT(fo));
  KT_EXPECT(fo, 0.5, -0.5);
  KT_FAIL(ET_INVALID_ARGUMENT, "alpha", "aten::rsub.Scalar_out", VT(c), VI(1), VD(1.5),
          VT(co), VT(co));
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::rsub.Scalar_out", VT(kt_t(ET_BOOL, 1, 2)),
          VB(true), VI(1), VT(kt_t(ET_BOOL, 1, 2)), VT(co));

  /* pow with a scalar base */
  et_tensor *e = kt_vals(kt_t(ET_FLOAT, 1, 4), 0, 0.5, -1, NAN);
  et_tensor *eo = kt_t(ET_FLOAT, 1, 4);
  KT_OK("aten::pow.Scalar_out", VD(2.0), VT(e), VT(eo), VT(eo));
  KT_EXPECT(eo, 1, sqrtf(2), 0.5, NAN);
  KT_OK("aten::pow.Scalar_out", VI(1), VT(e), VT(eo), VT(eo));
  KT_EXPECT(eo, 1, 1, 1, 1);
  et_tensor *ie = kt_vals(kt_t(ET_INT, 1, 4), 1, 2, -1, 31);
  et_tensor *io = kt_t(ET_INT, 1, 4);
  KT_OK("aten::pow.Scalar_out", VI(2), VT(ie), VT(io), VT(io));
  KT_EXPECT(io, 2, 4, 0, INT32_MIN);
  KT_OK("aten::pow.Scalar_out", VI(-1), VT(ie), VT(io), VT(io));
  KT_EXPECT(io, -1, 1, -1, -1);
  et_tensor *le = kt_vals(kt_t(ET_LONG, 1, 3), 63, 64, 0);
  et_tensor *lo = kt_t(ET_LONG, 1, 3);
  KT_OK("aten::pow.Scalar_out", VI(-2), VT(le), VT(lo), VT(lo));
  assert_true(kt_geti(lo, 0) == INT64_MIN && kt_geti(lo, 1) == 0 && kt_geti(lo, 2) == 1);
  /* Int8 exponent, base 300 -> 44 */
  et_tensor *ce = kt_vals(kt_t(ET_CHAR, 1, 2), 1, 2);
  KT_OK("aten::pow.Scalar_out", VI(300), VT(ce), VT(co), VT(co));
  KT_EXPECT(co, 44, -112);
  /* Bool exponent with an Int base computes in Long; a Bool base is refused */
  et_tensor *be = kt_vals(kt_t(ET_BOOL, 1, 2), 1, 0);
  et_tensor *bo = kt_t(ET_LONG, 1, 2);
  KT_OK("aten::pow.Scalar_out", VI(3), VT(be), VT(bo), VT(bo));
  KT_EXPECT(bo, 3, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::pow.Scalar_out", VB(true), VT(be),
          VT(kt_t(ET_BOOL, 1, 2)), VT(bo));
  et_tensor *f2 = kt_t(ET_FLOAT, 1, 4);
  KT_OK("aten::pow.Scalar_out", VD(2.5), VT(ie), VT(f2), VT(f2));
  KT_EXPECT(f2, 2.5, 6.25, 0.4, powf(2.5f, 31));
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be cast", "aten::pow.Scalar_out", VD(2.5), VT(ie),
          VT(io), VT(io));

  /* atan2 */
  et_tensor *y = kt_vals(kt_t(ET_FLOAT, 1, 5), 1, 1, -1, 0, NAN);
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 5), 1, -1, 0, -1, 1);
  et_tensor *ao = kt_t(ET_FLOAT, 1, 5);
  KT_OK("aten::atan2.out", VT(y), VT(x), VT(ao), VT(ao));
  KT_EXPECT(ao, atan2f(1, 1), atan2f(1, -1), atan2f(-1, 0), atan2f(0, -1), NAN);
  et_tensor *iy = kt_vals(kt_t(ET_INT, 1, 2), 1, 2);
  et_tensor *bx = kt_vals(kt_t(ET_BOOL, 1, 2), 1, 0);
  et_tensor *ao2 = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::atan2.out", VT(iy), VT(bx), VT(ao2), VT(ao2));
  KT_EXPECT(ao2, atan2f(1, 1), atan2f(2, 0));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::atan2.out", VT(iy), VT(bx), VT(io), VT(io));
}

/* ---- maximum, minimum ----------------------------------------------------------- */

static void test_maximum_minimum(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 1, 5), 1, NAN, 3, -0.0, 2);
  et_tensor *b = kt_vals(kt_t(ET_FLOAT, 1, 5), NAN, 2, 1, 0.0, 2);
  et_tensor *o = kt_t(ET_FLOAT, 1, 5);
  KT_OK("aten::maximum.out", VT(a), VT(b), VT(o), VT(o));
  KT_EXPECT(o, NAN, NAN, 3, 0, 2);
  assert_true(signbit(kt_get(o, 3))); /* ties keep self, as PyTorch's scalar path */
  KT_OK("aten::minimum.out", VT(a), VT(b), VT(o), VT(o));
  KT_EXPECT(o, NAN, NAN, 1, 0, 2);
  assert_true(signbit(kt_get(o, 3)));
  /* Bool: or / and */
  et_tensor *p = kt_vals(kt_t(ET_BOOL, 1, 4), 1, 1, 0, 0);
  et_tensor *q = kt_vals(kt_t(ET_BOOL, 1, 4), 1, 0, 1, 0);
  et_tensor *bo = kt_t(ET_BOOL, 1, 4);
  KT_OK("aten::maximum.out", VT(p), VT(q), VT(bo), VT(bo));
  KT_EXPECT(bo, 1, 1, 1, 0);
  KT_OK("aten::minimum.out", VT(p), VT(q), VT(bo), VT(bo));
  KT_EXPECT(bo, 1, 0, 0, 0);
  /* Int + Float -> Float; Byte vs Char -> Short, broadcast */
  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 2), 1, 2);
  et_tensor *f = kt_vals(kt_t(ET_FLOAT, 1, 2), 1.5, 0.5);
  et_tensor *fo = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::maximum.out", VT(i), VT(f), VT(fo), VT(fo));
  KT_EXPECT(fo, 1.5, 2);
  et_tensor *u = kt_vals(kt_t(ET_BYTE, 2, 2, 1), 200, 0);
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 3), -1, 100, 127);
  et_tensor *so = kt_t(ET_SHORT, 2, 2, 3);
  KT_OK("aten::minimum.out", VT(u), VT(c), VT(so), VT(so));
  KT_EXPECT(so, -1, 100, 127, -1, 0, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be cast", "aten::maximum.out", VT(i), VT(f),
          VT(kt_t(ET_INT, 1, 2)), VT(fo));
}

/* ---- clamp -------------------------------------------------------------------------- */

static void test_clamp(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 1, 5), -2, 0.5, 3, NAN, INFINITY);
  et_tensor *o = kt_t(ET_FLOAT, 1, 5);
  KT_OK("aten::clamp.out", VT(a), VI(0), VD(1.0), VT(o), VT(o));
  KT_EXPECT(o, 0, 0.5, 1, NAN, 1);
  KT_OK("aten::clamp.out", VT(a), VN(), VI(1), VT(o), VT(o));
  KT_EXPECT(o, -2, 0.5, 1, NAN, 1);
  KT_OK("aten::clamp.out", VT(a), VD(0.0), VN(), VT(o), VT(o));
  KT_EXPECT(o, 0, 0.5, 3, NAN, INFINITY);
  KT_OK("aten::clamp.out", VT(a), VI(4), VI(2), VT(o), VT(o)); /* min > max: max */
  KT_EXPECT(o, 2, 2, 2, NAN, 2);
  KT_OK("aten::clamp.out", VT(a), VD(NAN), VN(), VT(o), VT(o)); /* NaN bound */
  KT_EXPECT(o, NAN, NAN, NAN, NAN, NAN);
  KT_FAIL(ET_INVALID_ARGUMENT, "at least one", "aten::clamp.out", VT(a), VN(), VN(), VT(o),
          VT(o));
  /* integer tensors: result Float with Double bounds, overflow refused */
  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 3), 1, 5, 9);
  et_tensor *fo = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::clamp.out", VT(i), VD(2.5), VD(7.5), VT(fo), VT(fo));
  KT_EXPECT(fo, 2.5, 5, 7.5);
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 3), -100, 5, 100);
  et_tensor *co = kt_t(ET_CHAR, 1, 3);
  KT_OK("aten::clamp.out", VT(c), VI(-5), VI(50), VT(co), VT(co));
  KT_EXPECT(co, -5, 5, 50);
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::clamp.out", VT(c), VI(2), VI(300),
          VT(co), VT(co));
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 2), 1, 5);
  et_tensor *ho = kt_t(ET_HALF, 1, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::clamp.out", VT(h), VD(70000.0),
          VN(), VT(ho), VT(ho));
  KT_OK("aten::clamp.out", VT(h), VN(), VD(INFINITY), VT(ho), VT(ho));
  KT_EXPECT(ho, 1, 5);
  KT_OK("aten::clamp.out", VT(h), VD(0.1), VD(2.0), VT(ho), VT(ho));
  KT_EXPECT(ho, 1, 2);
  /* Bool with Int bounds -> Long; Bool bounds -> Bool result, refused */
  et_tensor *b = kt_vals(kt_t(ET_BOOL, 1, 2), 1, 0);
  et_tensor *lo = kt_t(ET_LONG, 1, 2);
  KT_OK("aten::clamp.out", VT(b), VI(0), VI(1), VT(lo), VT(lo));
  KT_EXPECT(lo, 1, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::clamp.out", VT(b), VB(false), VB(true),
          VT(kt_t(ET_BOOL, 1, 2)), VT(lo));
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be cast", "aten::clamp.out", VT(i), VD(2.5), VN(),
          VT(kt_t(ET_INT, 1, 3)), VT(fo));

  /* tensor bounds: broadcast, NaN propagates from any operand */
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 1, 5, NAN, -1, 0.5, 2);
  et_tensor *mn = kt_vals(kt_t(ET_FLOAT, 1, 3), NAN, 1, 0);
  et_tensor *mx = kt_vals(kt_t(ET_FLOAT, 2, 2, 1), 2, 1);
  et_tensor *xo = kt_t(ET_FLOAT, 2, 2, 3);
  KT_OK("aten::clamp.Tensor_out", VT(x), VT(mn), VT(mx), VT(xo), VT(xo));
  KT_EXPECT(xo, NAN, 2, NAN, NAN, 1, 1);
  KT_OK("aten::clamp.Tensor_out", VT(x), VT(mn), VN(), VT(xo), VT(xo));
  KT_EXPECT(xo, NAN, 5, NAN, NAN, 1, 2);
  KT_OK("aten::clamp.Tensor_out", VT(x), VN(), VT(mx), VT(xo), VT(xo));
  KT_EXPECT(xo, 1, 2, NAN, -1, 0.5, 1);
  /* the bounds may be larger than self: out gets the broadcast shape */
  et_tensor *s = kt_vals(kt_t0(ET_FLOAT), 3);
  et_tensor *dyn = kt_dynamic(kt_t(ET_FLOAT, 2, 1, 1), 6);
  KT_OK("aten::clamp.Tensor_out", VT(s), VN(), VT(x), VT(dyn), VT(dyn));
  KT_SHAPE(dyn, 2, 2, 3);
  KT_EXPECT(dyn, 1, 3, NAN, -1, 0.5, 2);
  /* Int tensor with Float bounds -> Float; Int with Long -> Long */
  et_tensor *ti = kt_vals(kt_t(ET_INT, 1, 2), 1, 5);
  et_tensor *tf = kt_vals(kt_t(ET_FLOAT, 1, 2), 0.5, 1);
  et_tensor *tfo = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::clamp.Tensor_out", VT(ti), VT(tf), VN(), VT(tfo), VT(tfo));
  KT_EXPECT(tfo, 1, 5);
  et_tensor *tl = kt_vals(kt_t(ET_LONG, 1, 2), 2, 3);
  et_tensor *tlo = kt_t(ET_LONG, 1, 2);
  KT_OK("aten::clamp.Tensor_out", VT(ti), VN(), VT(tl), VT(tlo), VT(tlo));
  KT_EXPECT(tlo, 1, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "at least one", "aten::clamp.Tensor_out", VT(x), VN(), VN(),
          VT(xo), VT(xo));
  KT_FAIL(ET_INVALID_ARGUMENT, "does not broadcast", "aten::clamp.Tensor_out", VT(x),
          VT(kt_t(ET_FLOAT, 1, 4)), VN(), VT(xo), VT(xo));
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::clamp.Tensor_out", VT(b), VT(b), VT(b),
          VT(kt_t(ET_BOOL, 1, 2)), VT(xo));
}

/* ---- leaky_relu, elu, logit, glu ------------------------------------------------- */

static void test_activations(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 5), -2, -0.0, 0.5, NAN, -INFINITY);
  et_tensor *o = kt_t(ET_FLOAT, 1, 5);
  KT_OK("aten::leaky_relu.out", VT(x), VD(0.1), VT(o), VT(o));
  KT_EXPECT(o, -0.2f, 0, 0.5, NAN, -INFINITY);
  KT_OK("aten::leaky_relu.out", VT(x), VI(2), VT(o), VT(o));
  KT_EXPECT(o, -4, 0, 0.5, NAN, -INFINITY);
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::leaky_relu.out", VT(kt_t(ET_INT, 1, 2)),
          VD(0.1), VT(kt_t(ET_INT, 1, 2)), VT(o));

  KT_OK("aten::elu.out", VT(x), VI(1), VI(1), VI(1), VT(o), VT(o));
  KT_EXPECT(o, expm1f(-2), 0, 0.5, NAN, -1);
  KT_OK("aten::elu.out", VT(x), VD(2), VD(3), VD(0.5), VT(o), VT(o));
  KT_EXPECT(o, expm1f(-1) * 6, 0, 1.5, NAN, -6);
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::elu.out", VT(x), VI(1), VI(1), VI(1),
          VT(kt_t(ET_DOUBLE, 1, 5)), VT(o));

  et_tensor *p = kt_vals(kt_t(ET_FLOAT, 1, 5), 0, 1, 0.25, -1, NAN);
  KT_OK("aten::logit.out", VT(p), VN(), VT(o), VT(o));
  KT_EXPECT(o, -INFINITY, INFINITY, logf(0.25f / 0.75f), NAN, NAN);
  KT_OK("aten::logit.out", VT(p), VD(0.1), VT(o), VT(o));
  KT_EXPECT(o, logf(0.1f / 0.9f), logf(0.9f / 0.1f), logf(0.25f / 0.75f), logf(0.1f / 0.9f),
            NAN);
  KT_OK("aten::logit.out", VT(p), VD(-0.1), VT(o), VT(o)); /* negative eps: no clamping */
  KT_EXPECT(o, -INFINITY, INFINITY, logf(0.25f / 0.75f), NAN, NAN);
  et_tensor *ip = kt_vals(kt_t(ET_INT, 1, 2), 1, 0);
  et_tensor *ipo = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::logit.out", VT(ip), VN(), VT(ipo), VT(ipo));
  KT_EXPECT(ipo, INFINITY, -INFINITY);

  /* glu along each dim, including a channels-last input */
  et_tensor *g = kt_random(kt_t(ET_FLOAT, 3, 2, 4, 6), 11);
  for (int64_t dim = -3; dim < 3; dim++) {
    const int64_t d = dim < 0 ? dim + 3 : dim;
    int32_t os[3] = {2, 4, 6};
    os[d] /= 2;
    et_tensor *go = kt_tensor(ET_FLOAT, 3, os);
    KT_OK("aten::glu.out", VT(g), VI(dim), VT(go), VT(go));
    for (size_t i = 0; i < et_tensor_numel(go); i++) {
      size_t idx[3] = {i / (size_t)(os[1] * os[2]), (i / (size_t)os[2]) % (size_t)os[1],
                       i % (size_t)os[2]};
      size_t ia = (idx[0] * 4 + idx[1]) * 6 + idx[2];
      size_t half = d == 0 ? 24 : d == 1 ? 12 : 3;
      double av = kt_get(g, ia), bv = kt_get(g, ia + half);
      double want = av / (1 + exp(-bv));
      if (!kt_close(kt_get(go, i), want, 1e-6, 1e-7))
        fail_msg("glu dim %lld element %zu: %.9g, want %.9g", (long long)dim, i,
                 kt_get(go, i), want);
    }
  }
  et_tensor *gc = kt_random(kt_ord(kt_t(ET_FLOAT, 4, 2, 4, 3, 3), 0, 2, 3, 1), 12);
  et_tensor *gco = kt_ord(kt_t(ET_FLOAT, 4, 2, 2, 3, 3), 0, 2, 3, 1);
  KT_OK("aten::glu.out", VT(gc), VI(1), VT(gco), VT(gco));
  for (size_t i = 0; i < 36; i++) {
    size_t n = i / 18, c = (i / 9) % 2, hw = i % 9;
    double av = kt_get(gc, (n * 4 + c) * 9 + hw), bv = kt_get(gc, (n * 4 + c + 2) * 9 + hw);
    assert_true(kt_close(kt_get(gco, i), av / (1 + exp(-bv)), 1e-6, 1e-7));
  }
  /* Half in, Float out */
  et_tensor *gh = kt_vals(kt_t(ET_HALF, 1, 2), 2, 0);
  et_tensor *gho = kt_t(ET_FLOAT, 1, 1);
  KT_OK("aten::glu.out", VT(gh), VI(0), VT(gho), VT(gho));
  KT_EXPECT(gho, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "even", "aten::glu.out", VT(kt_t(ET_FLOAT, 1, 3)), VI(0),
          VT(gho), VT(gho));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::glu.out", VT(g), VI(3), VT(gho),
          VT(gho));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::glu.out", VT(kt_t(ET_INT, 1, 2)), VI(0),
          VT(gho), VT(gho));
}

/* ---- masked_fill ------------------------------------------------------------------ */

static void test_masked_fill(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 1, 2, 3, 4, 5, 6);
  et_tensor *m = kt_vals(kt_t(ET_BOOL, 1, 3), 1, 0, 1);
  et_tensor *o = kt_t(ET_FLOAT, 2, 2, 3);
  KT_OK("aten::masked_fill.Scalar_out", VT(a), VT(m), VD(-1.5), VT(o), VT(o));
  KT_EXPECT(o, -1.5, 2, -1.5, -1.5, 5, -1.5);
  /* a mask larger than self broadcasts both */
  et_tensor *s = kt_vals(kt_t(ET_FLOAT, 1, 3), 1, 2, 3);
  et_tensor *mm = kt_vals(kt_t(ET_BOOL, 2, 2, 1), 1, 0);
  KT_OK("aten::masked_fill.Scalar_out", VT(s), VT(mm), VI(9), VT(o), VT(o));
  KT_EXPECT(o, 9, 9, 9, 1, 2, 3);
  /* value conversions as c10's checked_convert */
  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 3), 1, 2, 3);
  et_tensor *io = kt_t(ET_INT, 1, 3);
  KT_OK("aten::masked_fill.Scalar_out", VT(i), VT(m), VD(2.7), VT(io), VT(io));
  KT_EXPECT(io, 2, 2, 2);
  KT_OK("aten::masked_fill.Scalar_out", VT(i), VT(m), VB(true), VT(io), VT(io));
  KT_EXPECT(io, 1, 2, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::masked_fill.Scalar_out", VT(i),
          VT(m), VD(NAN), VT(io), VT(io));
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::masked_fill.Scalar_out", VT(i),
          VT(m), VD(1e10), VT(io), VT(io));
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 3), 1, 2, 3);
  et_tensor *co = kt_t(ET_CHAR, 1, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::masked_fill.Scalar_out", VT(c),
          VT(m), VI(300), VT(co), VT(co));
  KT_OK("aten::masked_fill.Scalar_out", VT(c), VT(m), VI(-128), VT(co), VT(co));
  KT_EXPECT(co, -128, 2, -128);
  et_tensor *b = kt_vals(kt_t(ET_BOOL, 1, 3), 0, 1, 0);
  et_tensor *bo = kt_t(ET_BOOL, 1, 3);
  KT_OK("aten::masked_fill.Scalar_out", VT(b), VT(m), VI(5), VT(bo), VT(bo));
  KT_EXPECT(bo, 1, 1, 1);
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 3), 1, 2, 3);
  et_tensor *ho = kt_t(ET_HALF, 1, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::masked_fill.Scalar_out", VT(h),
          VT(m), VD(70000.0), VT(ho), VT(ho));
  KT_OK("aten::masked_fill.Scalar_out", VT(h), VT(m), VD(-INFINITY), VT(ho), VT(ho));
  KT_EXPECT(ho, -INFINITY, 2, -INFINITY);
  KT_OK("aten::masked_fill.Scalar_out", VT(h), VT(m), VD(0.1), VT(ho), VT(ho));
  assert_true(kt_get(ho, 0) == (double)et_half_to_float(et_float_to_half(0.1f)));
  KT_FAIL(ET_INVALID_ARGUMENT, "mask", "aten::masked_fill.Scalar_out", VT(c),
          VT(kt_t(ET_BYTE, 1, 3)), VI(1), VT(co), VT(co));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::masked_fill.Scalar_out", VT(c), VT(m),
          VI(1), VT(io), VT(io));
}

/* ---- bitwise or, xor, shifts -------------------------------------------------------- */

static void test_bitwise_or_xor(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_INT, 1, 3), 12, -1, 5);
  et_tensor *b = kt_vals(kt_t(ET_INT, 1, 3), 10, 7, 0);
  et_tensor *o = kt_t(ET_INT, 1, 3);
  KT_OK("aten::bitwise_or.Tensor_out", VT(a), VT(b), VT(o), VT(o));
  KT_EXPECT(o, 14, -1, 5);
  KT_OK("aten::bitwise_xor.Tensor_out", VT(a), VT(b), VT(o), VT(o));
  KT_EXPECT(o, 6, -8, 5);
  KT_OK("aten::bitwise_or.Scalar_out", VT(a), VI(3), VT(o), VT(o));
  KT_EXPECT(o, 15, -1, 7);
  KT_OK("aten::bitwise_xor.Scalar_out", VT(a), VI(-1), VT(o), VT(o));
  KT_EXPECT(o, -13, 0, -6);
  et_tensor *p = kt_vals(kt_t(ET_BOOL, 1, 4), 1, 1, 0, 0);
  et_tensor *q = kt_vals(kt_t(ET_BOOL, 1, 4), 1, 0, 1, 0);
  et_tensor *bo = kt_t(ET_BOOL, 1, 4);
  KT_OK("aten::bitwise_xor.Tensor_out", VT(p), VT(q), VT(bo), VT(bo));
  KT_EXPECT(bo, 0, 1, 1, 0);
  KT_OK("aten::bitwise_or.Scalar_out", VT(p), VB(true), VT(bo), VT(bo));
  KT_EXPECT(bo, 1, 1, 1, 1);
  et_tensor *lo = kt_t(ET_LONG, 1, 4);
  KT_OK("aten::bitwise_or.Scalar_out", VT(p), VI(2), VT(lo), VT(lo));
  KT_EXPECT(lo, 3, 3, 2, 2);
  /* Byte | Char -> Short */
  et_tensor *u = kt_vals(kt_t(ET_BYTE, 1, 1), 200);
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 1), -128);
  et_tensor *so = kt_t(ET_SHORT, 1, 1);
  KT_OK("aten::bitwise_xor.Tensor_out", VT(u), VT(c), VT(so), VT(so));
  KT_EXPECT(so, 200 ^ -128);
  et_tensor *f = kt_t(ET_FLOAT, 1, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "integer or Bool", "aten::bitwise_or.Tensor_out", VT(f), VT(f),
          VT(f), VT(f));
  KT_FAIL(ET_INVALID_ARGUMENT, "integer or Bool", "aten::bitwise_xor.Scalar_out", VT(a),
          VD(1.0), VT(f), VT(f));
}

static void test_shifts(void **state) {
  (void)state;
  /* out-of-range amounts per dtype, as PyTorch on CPU */
  static const int dts[] = {ET_CHAR, ET_BYTE, ET_SHORT, ET_INT, ET_LONG};
  static const int bits[] = {8, 8, 16, 32, 64};
  for (int k = 0; k < 5; k++) {
    const int dt = dts[k];
    et_tensor *a = kt_vals(kt_t(dt, 1, 6), 1, 1, 1, 1, 1, 1);
    et_tensor *s = kt_t(dt, 1, 6);
    kt_seti(s, 0, 0);
    kt_seti(s, 1, bits[k] - 1);
    kt_seti(s, 2, bits[k]);
    kt_seti(s, 3, bits[k] + 1);
    kt_seti(s, 4, dt == ET_BYTE ? 200 : -1);
    kt_seti(s, 5, 3);
    et_tensor *o = kt_t(dt, 1, 6);
    KT_OK("aten::bitwise_left_shift.Tensor_out", VT(a), VT(s), VT(o), VT(o));
    int64_t top = (int64_t)((uint64_t)1 << (bits[k] - 1));
    if (dt != ET_BYTE && dt != ET_LONG) top = -top; /* wraps to the minimum */
    if (dt == ET_LONG) top = INT64_MIN;
    assert_true(kt_geti(o, 0) == 1);
    if (kt_geti(o, 1) != top)
      fail_msg("dtype %s: 1 << %d = %lld, want %lld", et_dtype_name(dt), bits[k] - 1,
               (long long)kt_geti(o, 1), (long long)top);
    assert_true(kt_geti(o, 2) == 0 && kt_geti(o, 3) == 0 && kt_geti(o, 4) == 0);
    assert_true(kt_geti(o, 5) == 8);
    /* right shifts of a negative value (or 200 for Byte) */
    et_tensor *n = kt_t(dt, 1, 6);
    for (size_t i = 0; i < 6; i++) kt_seti(n, i, dt == ET_BYTE ? 200 : -100);
    KT_OK("aten::bitwise_right_shift.Tensor_out", VT(n), VT(s), VT(o), VT(o));
    if (dt == ET_BYTE) {
      assert_true(kt_geti(o, 0) == 200 && kt_geti(o, 1) == 1 && kt_geti(o, 2) == 0 &&
                  kt_geti(o, 3) == 0 && kt_geti(o, 4) == 0 && kt_geti(o, 5) == 25);
    } else {
      assert_true(kt_geti(o, 0) == -100 && kt_geti(o, 1) == -1 && kt_geti(o, 2) == -1 &&
                  kt_geti(o, 3) == -1 && kt_geti(o, 4) == -1 && kt_geti(o, 5) == -13);
    }
    et_tensor *pz = kt_vals(kt_t(dt, 1, 6), 100, 100, 100, 100, 100, 100);
    KT_OK("aten::bitwise_right_shift.Tensor_out", VT(pz), VT(s), VT(o), VT(o));
    assert_true(kt_geti(o, 0) == 100 && kt_geti(o, 1) == 0 && kt_geti(o, 2) == 0 &&
                kt_geti(o, 3) == 0 && kt_geti(o, 4) == 0 && kt_geti(o, 5) == 12);
  }
  /* scalars are converted to the tensor's dtype first: Int8 << 257 is << 1 */
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 2), 1, -64);
  et_tensor *co = kt_t(ET_CHAR, 1, 2);
  KT_OK("aten::bitwise_left_shift.Tensor_Scalar_out", VT(c), VI(257), VT(co), VT(co));
  KT_EXPECT(co, 2, -128);
  KT_OK("aten::bitwise_right_shift.Tensor_Scalar_out", VT(c), VI(257), VT(co), VT(co));
  KT_EXPECT(co, 0, -32);
  KT_OK("aten::bitwise_left_shift.Tensor_Scalar_out", VT(c), VI(9), VT(co), VT(co));
  KT_EXPECT(co, 0, 0);
  /* Byte << Char promotes to Short; -1 is out of range */
  et_tensor *u = kt_vals(kt_t(ET_BYTE, 1, 2), 3, 255);
  et_tensor *sc = kt_vals(kt_t(ET_CHAR, 1, 2), -1, 8);
  et_tensor *so = kt_t(ET_SHORT, 1, 2);
  KT_OK("aten::bitwise_left_shift.Tensor_out", VT(u), VT(sc), VT(so), VT(so));
  KT_EXPECT(so, 0, -256); /* 255 << 8 wraps in Short */
  /* Int8 shifted by an Int tensor computes in Int */
  et_tensor *io = kt_t(ET_INT, 1, 2);
  et_tensor *amt = kt_vals(kt_t(ET_INT, 1, 2), 8, 1);
  KT_OK("aten::bitwise_left_shift.Tensor_out", VT(c), VT(amt), VT(io), VT(io));
  KT_EXPECT(io, 256, -128);
  et_tensor *b = kt_t(ET_BOOL, 1, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "integer operands", "aten::bitwise_left_shift.Tensor_out",
          VT(b), VT(b), VT(b), VT(b));
  KT_FAIL(ET_INVALID_ARGUMENT, "integer operands",
          "aten::bitwise_right_shift.Tensor_Scalar_out", VT(c), VD(1.0),
          VT(kt_t(ET_FLOAT, 1, 2)), VT(co));
}

/* ---- layouts, dynamic outputs, long inputs, aliasing ------------------------------- */

static void test_layouts_and_chunks(void **state) {
  (void)state;
  /* channels-last operands give the same values as contiguous ones */
  et_tensor *a = kt_random(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 21);
  et_tensor *b = kt_random(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 22);
  et_tensor *acl = kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 0, 2, 3, 1);
  et_tensor *bcl = kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 0, 2, 3, 1);
  for (size_t i = 0; i < 120; i++) {
    kt_set(acl, i, kt_get(a, i));
    kt_set(bcl, i, kt_get(b, i));
  }
  static const char *const bin[] = {"aten::fmod.Tensor_out", "aten::remainder.Tensor_out",
                                    "aten::atan2.out", "aten::maximum.out",
                                    "aten::floor_divide.out"};
  for (int k = 0; k < 5; k++) {
    et_tensor *o = kt_t(ET_FLOAT, 4, 2, 3, 4, 5);
    et_tensor *ocl = kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 0, 2, 3, 1);
    KT_OK(bin[k], VT(a), VT(b), VT(o), VT(o));
    KT_OK(bin[k], VT(acl), VT(bcl), VT(ocl), VT(ocl));
    kt_expect_tensors_close(ocl, o, 0, 0);
  }
  et_tensor *o1 = kt_t(ET_FLOAT, 4, 2, 3, 4, 5);
  et_tensor *o2 = kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 0, 2, 3, 1);
  KT_OK("aten::sin.out", VT(a), VT(o1), VT(o1));
  KT_OK("aten::sin.out", VT(acl), VT(o2), VT(o2));
  kt_expect_tensors_close(o2, o1, 0, 0);

  /* long mixed-dtype runs (converted in chunks) against element-wise references */
  et_tensor *x = kt_t(ET_INT, 1, 1000);
  et_tensor *y = kt_t(ET_SHORT, 1, 1000);
  for (size_t i = 0; i < 1000; i++) {
    kt_seti(x, i, (int64_t)i * 7919 % 2001 - 1000);
    kt_seti(y, i, (int64_t)(i % 13) - 6 == 0 ? 5 : (int64_t)(i % 13) - 6);
  }
  et_tensor *lo = kt_t(ET_LONG, 1, 1000);
  KT_OK("aten::remainder.Tensor_out", VT(x), VT(y), VT(lo), VT(lo));
  for (size_t i = 0; i < 1000; i++) {
    int64_t p = kt_geti(x, i), q = kt_geti(y, i), r = p % q;
    if (r != 0 && ((r < 0) != (q < 0))) r += q;
    if (kt_geti(lo, i) != r)
      fail_msg("remainder(%lld, %lld) = %lld, want %lld", (long long)p, (long long)q,
               (long long)kt_geti(lo, i), (long long)r);
  }
  KT_OK("aten::floor_divide.out", VT(x), VT(y), VT(lo), VT(lo));
  for (size_t i = 0; i < 1000; i++) {
    int64_t p = kt_geti(x, i), q = kt_geti(y, i);
    int64_t want = (int64_t)floor((double)p / (double)q);
    assert_true(kt_geti(lo, i) == want);
  }
  /* broadcast along the inner run, half inputs into a float out */
  et_tensor *h = kt_random(kt_t(ET_HALF, 2, 3, 200), 31);
  et_tensor *hb = kt_vals(kt_t(ET_HALF, 2, 3, 1), 0.25, -0.5, 1);
  et_tensor *fo = kt_t(ET_FLOAT, 2, 3, 200);
  KT_OK("aten::fmod.Tensor_out", VT(h), VT(hb), VT(fo), VT(fo));
  for (size_t i = 0; i < 600; i++) {
    float want = fmodf((float)kt_get(h, i), (float)kt_get(hb, i / 200));
    assert_true(kt_get(fo, i) == (double)want);
  }
  /* dynamic outputs resize; static outputs of the wrong shape are refused */
  et_tensor *d = kt_dynamic(kt_t(ET_FLOAT, 2, 1, 1), 120);
  KT_OK("aten::cos.out", VT(kt_t(ET_FLOAT, 2, 4, 5)), VT(d), VT(d));
  KT_SHAPE(d, 2, 4, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "does not match the static output shape", "aten::cos.out",
          VT(kt_t(ET_FLOAT, 2, 4, 5)), VT(kt_t(ET_FLOAT, 2, 5, 4)), VT(d));
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot resize", "aten::maximum.out",
          VT(kt_t(ET_FLOAT, 2, 20, 20)), VT(kt_t(ET_FLOAT, 2, 20, 20)), VT(d), VT(d));
  /* in place: out aliases self */
  et_tensor *ip = kt_vals(kt_t(ET_FLOAT, 1, 3), 5, -5, 7);
  KT_OK("aten::remainder.Scalar_out", VT(ip), VI(3), VT(ip), VT(ip));
  KT_EXPECT(ip, 2, 1, 1);
  /* empty operands broadcast to an empty out */
  et_tensor *e = kt_t(ET_FLOAT, 2, 0, 3);
  et_tensor *eo = kt_t(ET_FLOAT, 2, 0, 3);
  KT_OK("aten::atan2.out", VT(e), VT(kt_t(ET_FLOAT, 1, 3)), VT(eo), VT(eo));
  KT_OK("aten::clamp.Tensor_out", VT(e), VT(kt_t(ET_FLOAT, 1, 3)), VN(), VT(eo), VT(eo));
  KT_OK("aten::masked_fill.Scalar_out", VT(e), VT(kt_t(ET_BOOL, 1, 1)), VI(1), VT(eo),
        VT(eo));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_unary_float_ops, kt_free_all),
      cmocka_unit_test_teardown(test_rounding, kt_free_all),
      cmocka_unit_test_teardown(test_sign_classify_not_conj, kt_free_all),
      cmocka_unit_test_teardown(test_div_modes, kt_free_all),
      cmocka_unit_test_teardown(test_div_scalar_modes, kt_free_all),
      cmocka_unit_test_teardown(test_fmod_remainder, kt_free_all),
      cmocka_unit_test_teardown(test_rsub_pow_atan2, kt_free_all),
      cmocka_unit_test_teardown(test_maximum_minimum, kt_free_all),
      cmocka_unit_test_teardown(test_clamp, kt_free_all),
      cmocka_unit_test_teardown(test_activations, kt_free_all),
      cmocka_unit_test_teardown(test_masked_fill, kt_free_all),
      cmocka_unit_test_teardown(test_bitwise_or_xor, kt_free_all),
      cmocka_unit_test_teardown(test_shifts, kt_free_all),
      cmocka_unit_test_teardown(test_layouts_and_chunks, kt_free_all),
  };
  return cmocka_run_group_tests_name("kernels_elementwise", tests, NULL, NULL);
}
