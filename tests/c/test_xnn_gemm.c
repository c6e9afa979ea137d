/*
 * The CPU backend's GEMM micro kernels against a plain double-precision
 * reference, on odd shapes (M/N/K of 1, 3, 17, 255 and the edges of the
 * 6x16 tile; K of 257 to 1024), packed and in-place B, with bias and
 * clamps, on every path the machine has (plain C always; AVX2+FMA when the
 * CPU has it; NEON on aarch64, run under qemu-aarch64 by make
 * test-aarch64).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../backends/xnnpack/xnn_gemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static const size_t SIZES[] = {1, 3, 5, 6, 7, 15, 16, 17, 33, 255};
#define NS (sizeof SIZES / sizeof SIZES[0])

static void check(size_t m, size_t n, size_t k, int packed, int with_bias,
                  float lo, float hi) {
  unsigned s = (unsigned)(m * 131 + n * 7 + k);
  size_t lda = k + 3, ldb = n + 2, ldc = n + 1;
  float *a = malloc(sizeof(float) * m * lda);
  float *b = malloc(sizeof(float) * k * ldb + 64);
  float *bias = malloc(sizeof(float) * n);
  float *c = malloc(sizeof(float) * m * ldc);
  float *pk = malloc(sizeof(float) * (et_xnn_packed_floats(k, n) + 1));
  for (size_t i = 0; i < m * lda; i++) a[i] = frand(&s);
  for (size_t i = 0; i < k * ldb + 16; i++) b[i] = frand(&s);
  for (size_t i = 0; i < n; i++) bias[i] = frand(&s);
  for (size_t i = 0; i < m * ldc; i++) c[i] = 1234.5f; /* canary */
  if (packed) {
    et_xnn_pack_b(pk, b, k, n, ldb, 1);
    et_xnn_gemm_packed(m, n, k, a, lda, pk, with_bias ? bias : NULL, c, ldc,
                       lo, hi);
  } else {
    et_xnn_gemm(m, n, k, a, lda, b, ldb, c, ldc, lo, hi);
  }
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < n; j++) {
      double ref = packed && with_bias ? bias[j] : 0.0;
      for (size_t kk = 0; kk < k; kk++)
        ref += (double)a[i * lda + kk] * b[kk * ldb + j];
      if (ref < lo) ref = lo;
      if (ref > hi) ref = hi;
      double got = c[i * ldc + j];
      if (fabs(got - ref) > 1e-4 * (1.0 + fabs(ref)) + 1e-5 * (double)k)
        fail_msg("m=%zu n=%zu k=%zu packed=%d path=%d: c[%zu][%zu]=%g, "
                 "reference %g", m, n, k, packed, et_xnn_gemm_path(), i, j,
                 got, ref);
    }
    /* The column past n is the caller's: untouched. */
    if (ldc > n) assert_true(c[i * ldc + n] == 1234.5f);
  }
  free(a);
  free(b);
  free(bias);
  free(c);
  free(pk);
}

static void run_all(int path) {
  et_xnn_gemm_force_path(path);
  for (size_t x = 0; x < NS; x++)
    for (size_t y = 0; y < NS; y++)
      for (size_t z = 0; z < NS; z++) {
        size_t m = SIZES[x], n = SIZES[y], k = SIZES[z];
        if (m * n * k > 300000) continue; /* the largest cubes are slow */
        check(m, n, k, 1, (int)((m + n) & 1), -INFINITY, INFINITY);
        check(m, n, k, 0, 0, -INFINITY, INFINITY);
      }
  check(255, 255, 255, 1, 1, -INFINITY, INFINITY);
  /* longer sums (as a K-blocked kernel would split them) */
  check(13, 37, 300, 1, 1, -INFINITY, INFINITY);
  check(13, 37, 300, 0, 0, -INFINITY, INFINITY);
  check(6, 16, 257, 1, 1, -0.5f, 0.5f);
  check(7, 17, 513, 0, 0, -0.5f, 0.5f);
  check(25, 33, 700, 1, 0, 0.0f, INFINITY);
  check(1, 100, 1024, 0, 0, -INFINITY, INFINITY);
  check(17, 33, 17, 1, 1, -0.25f, 0.5f);
  check(7, 17, 3, 0, 0, 0.0f, INFINITY);
  et_xnn_gemm_force_path(-1);
}

static void test_plain_c(void **state) {
  (void)state;
  run_all(0);
}

static void test_best_path(void **state) {
  (void)state;
  /* The target's vector path: AVX2+FMA on x86 (the plain path again on a
   * CPU without it), NEON on aarch64 (always there: it must be the one
   * chosen, so that qemu-aarch64 runs test the NEON tile). */
  run_all(1);
#if defined(__aarch64__) && defined(__ARM_NEON)
  assert_int_equal(et_xnn_gemm_path(), 2);
#endif
}

static void test_zero_k(void **state) {
  (void)state;
  float bias[3] = {1, 2, 3}, c[6] = {0}, pk[16];
  et_xnn_pack_b(pk, NULL, 0, 3, 3, 1);
  et_xnn_gemm_packed(2, 3, 0, NULL, 0, pk, bias, c, 3, -INFINITY, 2.5f);
  assert_true(c[0] == 1 && c[1] == 2 && c[2] == 2.5f && c[5] == 2.5f);
}

/* One column with a contiguous vector (the matrix-times-vector path): every
 * row count around the 4-row blocks, K around the 8 and 16 steps. */
static void check_gemv(int path) {
  et_xnn_gemm_force_path(path);
  static const size_t MS[] = {1, 3, 4, 5, 7, 17, 255};
  static const size_t KS[] = {1, 3, 7, 8, 9, 15, 16, 17, 255, 300};
  for (size_t x = 0; x < sizeof MS / sizeof MS[0]; x++)
    for (size_t y = 0; y < sizeof KS / sizeof KS[0]; y++) {
      size_t m = MS[x], k = KS[y], lda = k + 2, ldc = 3;
      unsigned s = (unsigned)(m * 17 + k);
      float *a = malloc(sizeof(float) * m * lda), *v = malloc(sizeof(float) * k);
      float *c = malloc(sizeof(float) * m * ldc);
      for (size_t i = 0; i < m * lda; i++) a[i] = frand(&s);
      for (size_t i = 0; i < k; i++) v[i] = frand(&s);
      for (size_t i = 0; i < m * ldc; i++) c[i] = 1234.5f;
      float lo = (x & 1) ? -0.5f : -INFINITY, hi = (x & 1) ? 0.5f : INFINITY;
      et_xnn_gemm(m, 1, k, a, lda, v, 1, c, ldc, lo, hi);
      for (size_t i = 0; i < m; i++) {
        double ref = 0.0;
        for (size_t kk = 0; kk < k; kk++) ref += (double)a[i * lda + kk] * v[kk];
        if (ref < lo) ref = lo;
        if (ref > hi) ref = hi;
        if (fabs(c[i * ldc] - ref) > 1e-4 * (1.0 + fabs(ref)) + 1e-5 * (double)k)
          fail_msg("gemv m=%zu k=%zu path=%d: c[%zu]=%g, reference %g", m, k,
                   et_xnn_gemm_path(), i, c[i * ldc], ref);
        assert_true(c[i * ldc + 1] == 1234.5f && c[i * ldc + 2] == 1234.5f);
      }
      free(a);
      free(v);
      free(c);
    }
  et_xnn_gemm_force_path(-1);
}

static void test_gemv(void **state) {
  (void)state;
  check_gemv(0);
  check_gemv(1);
}

/* A NaN in A makes its row of C NaN, clamped or not, on every path (the
 * vector clamps must not turn it into a bound). */
static void check_nan(int path) {
  et_xnn_gemm_force_path(path);
  enum { M = 7, N = 21, K = 5 };
  float a[M * K], b[K * N], pk[3 * 16 * K], c[M * N];
  unsigned s = 9;
  for (int i = 0; i < M * K; i++) a[i] = frand(&s);
  for (int i = 0; i < K * N; i++) b[i] = frand(&s);
  a[2 * K + 3] = NAN; /* row 2 */
  et_xnn_pack_b(pk, b, K, N, N, 1);
  const float bounds[2][2] = {{-INFINITY, INFINITY}, {0.0f, 6.0f}};
  for (int bi = 0; bi < 2; bi++)
    for (int packed = 0; packed < 2; packed++) {
      if (packed)
        et_xnn_gemm_packed(M, N, K, a, K, pk, NULL, c, N, bounds[bi][0], bounds[bi][1]);
      else
        et_xnn_gemm(M, N, K, a, K, b, N, c, N, bounds[bi][0], bounds[bi][1]);
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
          if ((i == 2) != (isnan(c[i * N + j]) != 0))
            fail_msg("path %d packed %d bounds %d: c[%d][%d] = %g", et_xnn_gemm_path(),
                     packed, bi, i, j, c[i * N + j]);
    }
  et_xnn_gemm_force_path(-1);
}

static void test_nan_propagates(void **state) {
  (void)state;
  check_nan(0);
  check_nan(1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_c),
      cmocka_unit_test(test_best_path),
      cmocka_unit_test(test_zero_k),
      cmocka_unit_test(test_nan_propagates),
      cmocka_unit_test(test_gemv),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
