/*
 * The CPU backend's vector micro kernels besides the GEMM (xnn_vec.h)
 * against plain double-precision references, on every path the machine has
 * (plain C always; AVX2+FMA when the CPU has it): depthwise pixels over
 * channel counts that hit every block edge (1..8, 9, 31, 32, 33, 40, 65),
 * 0 to 25 taps, with and without bias, with clamps; element-wise exp,
 * sigmoid, tanh and GELU on a sweep of 200,000 values across the float range
 * and on the special ones (0, -0, infinities, NaN, the overflow and
 * underflow edges), every length from 0 to 17 (the masked tails); softmax
 * rows; axpy over every length from 0 to 41.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../backends/xnnpack/xnn_gemm.h"
#include "../../backends/xnnpack/xnn_vec.h"

#include <float.h>
#include <string.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

/* A run of npix pixels (npix 1: one pixel): the input pixels xstride = c + 3
 * floats apart, the outputs zstride = c + 2 apart, canaries in the gaps. */
static void check_dw(size_t c, size_t taps, int with_bias, float lo, float hi,
                     size_t npix) {
  unsigned s = (unsigned)(c * 31 + taps + npix * 7);
  const size_t xstride = c + 3, zstride = c + 2;
  const size_t xlen = (npix - 1) * xstride + c, zlen = (npix - 1) * zstride + c;
  const float *xs[25], *ws[25];
  /* Each tap's rows are separate allocations of exactly what the run
   * reads, so a read past the last channel is caught by ASan. */
  float *buf[50];
  for (size_t t = 0; t < taps; t++) {
    float *x = malloc(sizeof(float) * (xlen ? xlen : 1));
    float *w = malloc(sizeof(float) * (c ? c : 1));
    for (size_t k = 0; k < xlen; k++) x[k] = frand(&s);
    for (size_t k = 0; k < c; k++) w[k] = frand(&s);
    xs[t] = x, ws[t] = w, buf[2 * t] = x, buf[2 * t + 1] = w;
  }
  float *bias = malloc(sizeof(float) * (c ? c : 1));
  float *z = malloc(sizeof(float) * (zlen + 1));
  for (size_t k = 0; k < c; k++) bias[k] = frand(&s);
  for (size_t k = 0; k <= zlen; k++) z[k] = 1234.5f; /* canaries */
  et_xnn_dw_pick()(c, taps, xs, ws, with_bias ? bias : NULL, z, lo, hi, npix,
                   xstride, zstride);
  for (size_t p = 0; p < npix; p++) {
    for (size_t k = 0; k < c; k++) {
      double ref = with_bias ? bias[k] : 0.0;
      for (size_t t = 0; t < taps; t++)
        ref += (double)xs[t][p * xstride + k] * ws[t][k];
      if (ref < lo) ref = lo;
      if (ref > hi) ref = hi;
      if (fabs(z[p * zstride + k] - ref) > 1e-5 * (1.0 + (double)taps))
        fail_msg("c=%zu taps=%zu npix=%zu path=%d: z[%zu][%zu]=%g, "
                 "reference %g", c, taps, npix, et_xnn_gemm_path(), p, k,
                 z[p * zstride + k], ref);
    }
    if (p + 1 < npix)
      for (size_t k = c; k < zstride; k++)
        assert_true(z[p * zstride + k] == 1234.5f);
  }
  assert_true(z[zlen] == 1234.5f);
  /* A run gives the bits of its pixels one at a time. */
  if (npix > 1) {
    float *one = malloc(sizeof(float) * (c ? c : 1));
    const float *xp[25];
    for (size_t p = 0; p < npix; p++) {
      for (size_t t = 0; t < taps; t++) xp[t] = xs[t] + p * xstride;
      et_xnn_dw_pick()(c, taps, xp, ws, with_bias ? bias : NULL, one, lo, hi,
                       1, 0, 0);
      for (size_t k = 0; k < c; k++)
        assert_true(memcmp(&one[k], &z[p * zstride + k], sizeof(float)) == 0);
    }
    free(one);
  }
  for (size_t t = 0; t < 2 * taps; t++) free(buf[t]);
  free(bias);
  free(z);
}

/* A NaN input channel gives a NaN output channel, clamped or not. */
static void check_dw_nan(void) {
  float x0[9], x1[9], w0[9], w1[9], z[9];
  for (int k = 0; k < 9; k++) x0[k] = 1.0f, x1[k] = 2.0f, w0[k] = 0.5f, w1[k] = -0.25f;
  x1[4] = NAN;
  const float *xs[2] = {x0, x1}, *ws[2] = {w0, w1};
  et_xnn_dw_pick()(9, 2, xs, ws, NULL, z, 0.0f, 6.0f, 1, 0, 0);
  for (int k = 0; k < 9; k++) assert_true((k == 4) == (isnan(z[k]) != 0));
}

static void run_dw(int path) {
  static const size_t C[] = {1, 2, 3, 5, 7, 8, 9, 16, 31, 32, 33, 40, 65};
  static const size_t T[] = {0, 1, 4, 9, 25};
  et_xnn_gemm_force_path(path);
  for (size_t i = 0; i < sizeof C / sizeof C[0]; i++)
    for (size_t j = 0; j < sizeof T / sizeof T[0]; j++) {
      check_dw(C[i], T[j], (int)((i + j) & 1), -INFINITY, INFINITY, 1);
      check_dw(C[i], T[j], 1, 0.0f, 0.5f, 1);
      check_dw(C[i], T[j], (int)((i + j + 1) & 1), -INFINITY, INFINITY, 5);
      check_dw(C[i], T[j], 1, -0.25f, 0.5f, 2);
    }
  check_dw_nan();
  et_xnn_gemm_force_path(-1);
}

static void test_dw_plain_c(void **state) {
  (void)state;
  run_dw(0);
}

static void test_dw_best_path(void **state) {
  (void)state;
  run_dw(1);
}

/* A planar depthwise row: each tap's input is an allocation of exactly the
 * (n - 1) * stride + 1 floats the row reads (ASan catches a read past it),
 * the output has a canary. */
static void check_dw_row(size_t n, size_t taps, size_t stride) {
  unsigned s = (unsigned)(n * 131 + taps * 7 + stride);
  const size_t len = n ? (n - 1) * stride + 1 : 0;
  const float *xs[25];
  float *bufs[25], w[25];
  for (size_t t = 0; t < taps; t++) {
    bufs[t] = malloc(sizeof(float) * (len ? len : 1));
    for (size_t i = 0; i < len; i++) bufs[t][i] = frand(&s);
    xs[t] = bufs[t];
    w[t] = frand(&s);
  }
  float bias = frand(&s);
  float *y = malloc(sizeof(float) * (n + 1));
  y[n] = 1234.5f;
  et_xnn_dw_row_pick()(n, taps, xs, w, bias, y, stride);
  for (size_t o = 0; o < n; o++) {
    double ref = bias;
    for (size_t t = 0; t < taps; t++) ref += (double)w[t] * xs[t][o * stride];
    if (fabs(y[o] - ref) > 1e-5 * (1.0 + (double)taps))
      fail_msg("dw_row n=%zu taps=%zu stride=%zu path=%d: y[%zu]=%g, reference %g", n,
               taps, stride, et_xnn_gemm_path(), o, y[o], ref);
  }
  assert_true(y[n] == 1234.5f);
  for (size_t t = 0; t < taps; t++) free(bufs[t]);
  free(y);
}

static void run_dw_row(int path) {
  static const size_t N[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 41, 64, 65, 112};
  static const size_t T[] = {0, 1, 3, 9, 25};
  et_xnn_gemm_force_path(path);
  for (size_t i = 0; i < sizeof N / sizeof N[0]; i++)
    for (size_t j = 0; j < sizeof T / sizeof T[0]; j++)
      for (size_t st = 1; st <= 2; st++) check_dw_row(N[i], T[j], st);
  et_xnn_gemm_force_path(-1);
}

static void test_dw_row_plain_c(void **state) {
  (void)state;
  run_dw_row(0);
}

static void test_dw_row_best_path(void **state) {
  (void)state;
  run_dw_row(1);
}

static double ref_fn(int fn, double x) {
  switch (fn) {
    case ET_XNN_V_EXP: return exp(x);
    case ET_XNN_V_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case ET_XNN_V_TANH: return tanh(x);
    default: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
  }
}

static const char *const FN_NAMES[] = {"exp", "sigmoid", "tanh", "gelu"};

/* Largest error allowed: 4 ulp of the result (plain libm is within 1-2);
 * GELU's erf approximation is absolute (1.5e-7), so its error scales with
 * |x|; results below FLT_MIN may be off by FLT_MIN. */
static double tolerance(int fn, double x, double ref) {
  double ulp = ldexp(1.0, ilogb(fabs(ref) > FLT_MIN ? ref : FLT_MIN) - 23);
  double tol = 4.0 * ulp;
  if (fn == ET_XNN_V_GELU) tol += 1.5e-7 * fabs(x) + 1.5e-7 * fabs(ref);
  if (fabs(ref) < FLT_MIN) tol = FLT_MIN;
  return tol;
}

static void check_values(int fn, const float *x, size_t n) {
  float *z = malloc(sizeof(float) * (n + 1));
  z[n] = 1234.5f;
  et_xnn_vfn_pick(fn)(n, x, z);
  for (size_t i = 0; i < n; i++) {
    double ref = ref_fn(fn, x[i]);
    if (isnan(ref)) {
      if (!isnan(z[i]))
        fail_msg("%s(%a) = %g, want NaN (path %d)", FN_NAMES[fn], (double)x[i],
                 z[i], et_xnn_gemm_path());
      continue;
    }
    if (ref > FLT_MAX) ref = INFINITY;
    if (ref < -FLT_MAX) ref = -INFINITY;
    if (isinf(ref)) {
      if (z[i] != ref)
        fail_msg("%s(%a) = %g, want %g (path %d)", FN_NAMES[fn], (double)x[i],
                 z[i], ref, et_xnn_gemm_path());
      continue;
    }
    double err = fabs(z[i] - ref), tol = tolerance(fn, x[i], ref);
    if (!(err <= tol))
      fail_msg("%s(%.9g) = %.9g, reference %.9g, error %g > %g (path %d)",
               FN_NAMES[fn], (double)x[i], z[i], ref, err, tol,
               et_xnn_gemm_path());
  }
  assert_true(z[n] == 1234.5f);
  free(z);
}

static void run_functions(int path) {
  et_xnn_gemm_force_path(path);
  enum { SWEEP = 200000 };
  float *x = malloc(sizeof(float) * SWEEP);
  for (size_t i = 0; i < SWEEP; i++) /* -120 .. 120, denser near 0 */
    x[i] = (float)(120.0 * pow((double)i / SWEEP, 3.0) * (i & 1 ? -1 : 1));
  static const float special[] = {
      0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 1e-7f, 0.5f,
      -0.5f, 0.49999997f, 0.50000006f, 88.72283172607421875f,
      88.72283935546875f, 89.0f, -87.33654f, -87.5f, -103.9f, -103.97209f,
      -104.0f, -150.0f, 9.0f, -9.0f, 20.0f, -20.0f, FLT_MAX, -FLT_MAX,
      FLT_MIN, 6.0f, -6.0f, 3.0f, -3.0f};
  for (int fn = 0; fn < ET_XNN_V_COUNT; fn++) {
    check_values(fn, x, SWEEP);
    check_values(fn, special, sizeof special / sizeof special[0]);
    for (size_t n = 0; n <= 17; n++) check_values(fn, special + 3, n);
  }
  free(x);
  et_xnn_gemm_force_path(-1);
}

static void test_functions_plain_c(void **state) {
  (void)state;
  run_functions(0);
}

static void test_functions_best_path(void **state) {
  (void)state;
  run_functions(1);
}

static void run_softmax(int path) {
  et_xnn_gemm_force_path(path);
  unsigned s = 7;
  for (size_t n = 1; n <= 70; n++) {
    float x[70], z[71];
    for (size_t i = 0; i < n; i++) x[i] = 20.0f * frand(&s);
    z[n] = 1234.5f;
    et_xnn_softmax_pick()(n, x, z);
    double m = -INFINITY, sum = 0.0;
    for (size_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    for (size_t i = 0; i < n; i++) sum += exp(x[i] - m);
    for (size_t i = 0; i < n; i++) {
      double ref = exp(x[i] - m) / sum;
      if (fabs(z[i] - ref) > 1e-6 * ref + 1e-30)
        fail_msg("softmax n=%zu: z[%zu]=%.9g, reference %.9g (path %d)", n,
                 i, z[i], ref, et_xnn_gemm_path());
    }
    assert_true(z[n] == 1234.5f);
  }
  /* A NaN anywhere makes the whole row NaN on every path. */
  float x[9] = {1, 2, NAN, 4, 5, 6, 7, 8, 9}, z[9];
  et_xnn_softmax_pick()(9, x, z);
  for (int i = 0; i < 9; i++) assert_true(isnan(z[i]));
  et_xnn_gemm_force_path(-1);
}

static void test_softmax_plain_c(void **state) {
  (void)state;
  run_softmax(0);
}

static void test_softmax_best_path(void **state) {
  (void)state;
  run_softmax(1);
}

static void run_axpy(int path) {
  et_xnn_gemm_force_path(path);
  unsigned s = 3;
  for (size_t n = 0; n <= 41; n++) {
    float *x = malloc(sizeof(float) * (n ? n : 1)), *y = malloc(sizeof(float) * (n + 1));
    double ref[42];
    for (size_t i = 0; i < n; i++) {
      x[i] = frand(&s);
      y[i] = frand(&s);
      ref[i] = y[i] + 0.75 * (double)x[i];
    }
    y[n] = 1234.5f;
    et_xnn_axpy_pick()(n, 0.75f, x, y);
    for (size_t i = 0; i < n; i++)
      if (fabs(y[i] - ref[i]) > 1e-6)
        fail_msg("axpy n=%zu: y[%zu]=%.9g, reference %.9g (path %d)", n, i, y[i], ref[i],
                 et_xnn_gemm_path());
    assert_true(y[n] == 1234.5f);
    free(x);
    free(y);
  }
  et_xnn_gemm_force_path(-1);
}

static void test_axpy_plain_c(void **state) {
  (void)state;
  run_axpy(0);
}

static void test_axpy_best_path(void **state) {
  (void)state;
  run_axpy(1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dw_plain_c),
      cmocka_unit_test(test_dw_best_path),
      cmocka_unit_test(test_dw_row_plain_c),
      cmocka_unit_test(test_dw_row_best_path),
      cmocka_unit_test(test_functions_plain_c),
      cmocka_unit_test(test_functions_best_path),
      cmocka_unit_test(test_softmax_plain_c),
      cmocka_unit_test(test_softmax_best_path),
      cmocka_unit_test(test_axpy_plain_c),
      cmocka_unit_test(test_axpy_best_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
