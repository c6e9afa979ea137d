/*
 * The CPU backend's integer micro kernels (backends/xnnpack/xnn_qgemm.h)
 * against plain references, on every path the machine has (plain C always;
 * AVX2 when the CPU has it):
 *   - int8 x int8 -> int32 GEMM, raw and with the requantizing (qs8) and
 *     dynamic (fp32) epilogues, on M/N/K of 1, 3, 17, 255 and the tile,
 *     panel and K-block edges (4, 5, 8, 15, 16, 24, 33, 257, 513), operands at the int8 bounds (-128 x
 *     -128 everywhere: the pair sums vpmaddubsw would saturate on), zero
 *     points at the bounds, strided rows; exact;
 *   - qd8 x 4-bit GEMM (blockwise groups of 32 and 64, one group per row),
 *     K of 1, 3, 17, 31, 32, 33, 255, 256 against a double reference;
 *   - per-row dynamic quantization: zero is exact, every value within half
 *     a step;
 *   - a split parallel-for (tasks run in reverse order) gives the same bits
 *     as a serial run.
 * Buffers are exact-size heap blocks so that ASan sees any overread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../backends/xnnpack/xnn_qgemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static unsigned rnd(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

static int8_t r8(unsigned *s, int mode) {
  if (mode == 1) return -128;
  if (mode == 2) return (rnd(s) & 1) ? 127 : -128;
  return (int8_t)(rnd(s) & 0xFF);
}

static const size_t DIMS[] = {1, 3, 4, 5, 15, 16, 17, 33, 255};
#define NDIMS (sizeof DIMS / sizeof DIMS[0])

/* A parallel-for that cuts [0, n) into grain-sized tasks and runs them in
 * reverse order on the caller. */
static void rev_run(et_parallel *self, size_t n, size_t grain,
                    et_parallel_fn fn, void *ctx) {
  (void)self;
  size_t tasks = (n + grain - 1) / grain;
  for (size_t t = tasks; t-- > 0;) {
    size_t b = t * grain, e = b + grain < n ? b + grain : n;
    fn(ctx, b, e);
  }
}
static et_parallel REV = {rev_run, 2};

static int paths(int *out) {
  int n = 0;
  out[n++] = 0;
  et_xnn_qgemm_force_path(1);
  if (et_xnn_qgemm_path() == 1) out[n++] = 1;
  et_xnn_qgemm_force_path(-1);
  return n;
}

static void s8_case(size_t m, size_t n, size_t k, size_t pad, int mode,
                    int path) {
  unsigned s = (unsigned)(m * 7919 + n * 131 + k * 17 + (size_t)mode);
  size_t lda = k + pad;
  int8_t *a = malloc(m * lda + 1), *b = malloc(k * n + 1);
  for (size_t i = 0; i < m * lda; i++) a[i] = r8(&s, mode);
  for (size_t i = 0; i < k * n; i++) b[i] = r8(&s, mode);
  size_t kp = et_xnn_qpack_s8_kp(k);
  int8_t *pk = malloc(et_xnn_qpack_s8_bytes(k, n));
  (void)kp;
  int32_t *cs = malloc(sizeof(int32_t) * n), *c = malloc(sizeof(int32_t) * m * n);
  int32_t *c2 = malloc(sizeof(int32_t) * m * n), *bias = malloc(sizeof(int32_t) * n);
  int8_t *q = malloc(m * n), *q2 = malloc(m * n);
  float *sc = malloc(sizeof(float) * n), *f = malloc(sizeof(float) * m * n);
  float *rs = malloc(sizeof(float) * m);
  int32_t *rz = malloc(sizeof(int32_t) * m);
  et_xnn_qpack_s8(pk, b, k, n, n, 1, cs); /* B is k x n row-major */
  et_xnn_qgemm_force_path(path);
  et_xnn_qepi e;
  memset(&e, 0, sizeof e);
  e.kind = ET_XNN_QEPI_S32;
  et_xnn_qgemm_s8_par(NULL, m, n, k, a, lda, pk, &e, c, n);
  et_xnn_qgemm_s8_par(&REV, m, n, k, a, lda, pk, &e, c2, n);
  for (size_t j = 0; j < n; j++) {
    int32_t col = 0;
    for (size_t kk = 0; kk < k; kk++) col += b[kk * n + j];
    assert_int_equal(cs[j], col);
  }
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      int32_t ref = 0;
      for (size_t kk = 0; kk < k; kk++)
        ref += (int32_t)a[i * lda + kk] * b[kk * n + j];
      if (c[i * n + j] != ref || c2[i * n + j] != ref)
        fail_msg("s8 m=%zu n=%zu k=%zu mode=%d path=%d: c[%zu][%zu]=%d "
                 "(split %d), reference %d", m, n, k, mode, path, i, j,
                 c[i * n + j], c2[i * n + j], ref);
    }
  /* qs8 epilogue: the output zero point at each bound. */
  for (int zi = 0; zi < 2; zi++) {
    e.kind = ET_XNN_QEPI_QS8;
    e.zo = zi ? 127 : -128;
    e.qmin = -128;
    e.qmax = 127;
    for (size_t j = 0; j < n; j++) {
      bias[j] = (int32_t)(rnd(&s) % 2001) - 1000;
      sc[j] = 1.0f / (float)(64 + (rnd(&s) % 4096));
    }
    e.bias = bias;
    e.scale = sc;
    et_xnn_qgemm_s8_par(NULL, m, n, k, a, lda, pk, &e, q, n);
    et_xnn_qgemm_s8_par(&REV, m, n, k, a, lda, pk, &e, q2, n);
    for (size_t i = 0; i < m * n; i++) {
      size_t j = i % n;
      float v = (float)(c[i] + bias[j]) * sc[j];
      float lo = (float)(-128 - e.zo), hi = (float)(127 - e.zo);
      v = v < lo ? lo : (v > hi ? hi : v);
      int32_t ref = (int32_t)lrintf(v) + e.zo;
      if (q[i] != ref || q2[i] != ref)
        fail_msg("qs8 m=%zu n=%zu k=%zu zo=%d path=%d: %d vs %d", m, n, k,
                 e.zo, path, q[i], ref);
    }
  }
  /* fp32 (dynamic) epilogue: row zero points at the bounds. */
  memset(&e, 0, sizeof e);
  e.kind = ET_XNN_QEPI_F32;
  for (size_t i = 0; i < m; i++) {
    rs[i] = 0.01f * (float)(1 + i % 5);
    rz[i] = i % 2 ? 127 : -128;
  }
  e.rs = rs;
  e.rzp = rz;
  e.colsum = cs;
  e.scale = sc;
  e.biasf = NULL;
  e.lo = -INFINITY;
  e.hi = INFINITY;
  et_xnn_qgemm_s8_par(NULL, m, n, k, a, lda, pk, &e, f, n);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double ref = 0;
      for (size_t kk = 0; kk < k; kk++)
        ref += ((double)a[i * lda + kk] - rz[i]) * b[kk * n + j];
      ref *= (double)rs[i] * sc[j];
      if (fabs(f[i * n + j] - ref) > 1e-5 * (1 + fabs(ref)))
        fail_msg("f32 epilogue m=%zu n=%zu k=%zu: %g vs %g", m, n, k,
                 f[i * n + j], ref);
    }
  et_xnn_qgemm_force_path(-1);
  free(a), free(b), free(pk), free(cs), free(c), free(c2), free(bias);
  free(q), free(q2), free(sc), free(f), free(rs), free(rz);
}

static void test_s8_gemm(void **state) {
  (void)state;
  int ps[2], np = paths(ps);
  for (int p = 0; p < np; p++)
    for (size_t x = 0; x < NDIMS; x++)
      for (size_t y = 0; y < NDIMS; y++) {
        size_t m = DIMS[x], k = DIMS[y];
        size_t ns[] = {1, 3, 8, 17, 24};
        for (size_t z = 0; z < 5; z++) s8_case(m, ns[z], k, 0, 0, ps[p]);
      }
}

static void test_s8_gemm_bounds(void **state) {
  (void)state;
  int ps[2], np = paths(ps);
  for (int p = 0; p < np; p++)
    for (int mode = 1; mode <= 2; mode++) {
      s8_case(5, 3, 255, 0, mode, ps[p]);
      s8_case(4, 2, 1024, 0, mode, ps[p]); /* the largest sums */
      s8_case(17, 33, 17, 3, mode, ps[p]);  /* strided rows */
      s8_case(5, 16, 257, 2, mode, ps[p]);  /* A widened in blocks of 256 */
      s8_case(3, 9, 513, 0, mode, ps[p]);
    }
  for (int p = 0; p < np; p++) s8_case(255, 17, 255, 1, 0, ps[p]);
}

typedef struct gs {
  const float *s;
  size_t per_row, group;
} gs;

static float scale_of(const void *ctx, size_t nn, size_t kk) {
  const gs *g = (const gs *)ctx;
  return g->s[nn * g->per_row + kk / g->group];
}

static void d4_case(size_t m, size_t n, size_t k, size_t group, int path) {
  unsigned s = (unsigned)(m * 31 + n * 7 + k * 3 + group);
  size_t rowb = (k + 1) / 2, ng = k / group, kp = et_xnn_qpack_4_kp(k);
  uint8_t *w = malloc(n * rowb);
  for (size_t i = 0; i < n * rowb; i++) w[i] = (uint8_t)rnd(&s);
  float *sc = malloc(sizeof(float) * n * ng);
  for (size_t i = 0; i < n * ng; i++) sc[i] = 0.001f * (float)(1 + rnd(&s) % 100);
  uint8_t *pk = malloc(et_xnn_qpack_4_bytes(k, n));
  float *cs = malloc(sizeof(float) * et_xnn_qpack_4_nscales(k, n));
  float *qq = malloc(sizeof(float) * et_xnn_qpack_4_ncols(n));
  (void)kp;
  gs g = {sc, ng, group};
  et_xnn_qpack_4(pk, cs, qq, w, rowb, k, n, scale_of, &g);
  int8_t *a = malloc(m * k);
  float *rs = malloc(sizeof(float) * m), *bias = malloc(sizeof(float) * n);
  int32_t *rz = malloc(sizeof(int32_t) * m);
  for (size_t i = 0; i < m * k; i++) a[i] = r8(&s, 0);
  for (size_t i = 0; i < m; i++) {
    rs[i] = 0.02f * (float)(1 + i % 3);
    rz[i] = i % 3 == 0 ? -128 : (i % 3 == 1 ? 127 : (int32_t)(rnd(&s) % 256) - 128);
  }
  for (size_t j = 0; j < n; j++) bias[j] = 0.1f * (float)(j % 7) - 0.3f;
  int32_t *as = malloc(sizeof(int32_t) * m * et_xnn_qd8_nchunks(k) + 1);
  et_xnn_qd8_chunk_sums(a, m, k, k, as);
  float *c = malloc(sizeof(float) * m * n), *c2 = malloc(sizeof(float) * m * n);
  et_xnn_qgemm_force_path(path);
  et_xnn_qgemm_d4_par(NULL, m, n, k, a, k, rs, rz, as, pk, cs, qq, bias,
                      -INFINITY, INFINITY, c, n);
  et_xnn_qgemm_d4_par(&REV, m, n, k, a, k, rs, rz, as, pk, cs, qq, bias,
                      -INFINITY, INFINITY, c2, n);
  et_xnn_qgemm_force_path(-1);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double ref = 0, mag = 0;
      for (size_t kk = 0; kk < k; kk++) {
        int wv = (int)((w[j * rowb + kk / 2] >> (4 * (kk & 1))) & 15) - 8;
        double t = ((double)a[i * k + kk] - rz[i]) * wv * sc[j * ng + kk / group];
        ref += t;
        mag += fabs(t);
      }
      ref = ref * rs[i] + bias[j];
      double tol = 1e-5 * (1 + mag * rs[i]);
      if (fabs(c[i * n + j] - ref) > tol)
        fail_msg("d4 m=%zu n=%zu k=%zu group=%zu path=%d: c[%zu][%zu]=%g, "
                 "reference %g", m, n, k, group, path, i, j, c[i * n + j], ref);
      if (memcmp(&c[i * n + j], &c2[i * n + j], sizeof(float)))
        fail_msg("d4 split differs at [%zu][%zu]", i, j);
    }
  free(w), free(sc), free(pk), free(cs), free(qq), free(a), free(rs);
  free(bias), free(rz), free(c), free(c2), free(as);
}

static void test_d4_gemm(void **state) {
  (void)state;
  int ps[2], np = paths(ps);
  const size_t ks[] = {1, 3, 17, 31, 32, 33, 255, 256};
  const size_t ms[] = {1, 3, 4, 5, 17};
  for (int p = 0; p < np; p++)
    for (size_t x = 0; x < 8; x++)
      for (size_t y = 0; y < 5; y++) {
        size_t k = ks[x];
        d4_case(ms[y], 3, k, k, ps[p]); /* per channel (qc4w) */
        d4_case(ms[y], 17, k, k, ps[p]);
        if (k % 32 == 0) d4_case(ms[y], 5, k, 32, ps[p]);
        if (k % 64 == 0) d4_case(ms[y], 2, k, 64, ps[p]);
      }
  for (int p = 0; p < np; p++) d4_case(64, 255, 256, 32, ps[p]);
}

static void test_quantize_qd8(void **state) {
  (void)state;
  unsigned s = 5;
  const size_t k = 37, m = 6;
  float *x = malloc(sizeof(float) * m * k), sc[6];
  int8_t *q = malloc(m * k);
  int32_t zp[6];
  for (size_t i = 0; i < m * k; i++)
    x[i] = (float)((int)(rnd(&s) % 2001) - 1000) * 0.003f;
  for (size_t j = 0; j < k; j++) {
    x[0 * k + j] = 0.0f;                       /* all zero */
    x[1 * k + j] = 0.5f + 0.01f * (float)j;    /* all positive */
    x[2 * k + j] = -0.5f - 0.01f * (float)j;   /* all negative */
  }
  x[3 * k + 4] = 0.0f;
  et_xnn_quantize_qd8(x, m, k, q, sc, zp, NULL);
  assert_int_equal(zp[0], 0);
  assert_int_equal(zp[1], -128);
  assert_int_equal(zp[2], 127);
  for (size_t i = 0; i < m; i++) {
    assert_true(sc[i] > 0.0f);
    assert_true(zp[i] >= -128 && zp[i] <= 127);
    for (size_t j = 0; j < k; j++) {
      float back = (float)(q[i * k + j] - zp[i]) * sc[i];
      if (fabsf(back - x[i * k + j]) > 0.5f * sc[i] * 1.001f + 1e-7f)
        fail_msg("row %zu col %zu: %g back as %g (scale %g)", i, j,
                 x[i * k + j], back, sc[i]);
    }
  }
  assert_int_equal(q[3 * k + 4] - zp[3], 0); /* zero is exact */
  free(x), free(q);
}

/* Every path gives the plain path's bits and chunk sums, over row lengths
 * around the vector and chunk widths, with NaN, infinities, ties and
 * signed zeros in the rows. */
static void test_quantize_qd8_paths(void **state) {
  (void)state;
  int ps[2], np = paths(ps);
  const size_t ks[] = {1, 7, 8, 31, 32, 33, 64, 100, 257};
  for (size_t x_ = 0; x_ < 9; x_++) {
    size_t k = ks[x_], m = 7, nc = et_xnn_qd8_nchunks(k);
    unsigned s = (unsigned)(k * 11 + 3);
    float *x = malloc(sizeof(float) * m * k);
    for (size_t i = 0; i < m * k; i++)
      x[i] = (float)((int)(rnd(&s) % 2001) - 1000) * 0.0037f;
    x[1 * k + k / 2] = NAN;
    x[2 * k + k - 1] = INFINITY;
    x[3 * k] = -0.0f;
    for (size_t j = 0; j < k; j++) x[4 * k + j] = (float)j - 0.5f * (float)k;
    for (size_t j = 0; j < k; j++) x[5 * k + j] = j % 2 ? -0.0f : 0.0f;
    int8_t *q[2];
    float sc[2][7];
    int32_t zp[2][7], *sm[2];
    for (int p = 0; p < np; p++) {
      q[p] = malloc(m * k);
      sm[p] = malloc(sizeof(int32_t) * m * nc);
      et_xnn_qgemm_force_path(ps[p]);
      et_xnn_quantize_qd8(x, m, k, q[p], sc[p], zp[p], sm[p]);
      et_xnn_qgemm_force_path(-1);
      int32_t *ref = malloc(sizeof(int32_t) * m * nc);
      et_xnn_qd8_chunk_sums(q[p], m, k, k, ref);
      if (memcmp(ref, sm[p], sizeof(int32_t) * m * nc))
        fail_msg("qd8 k=%zu path=%d: chunk sums differ", k, ps[p]);
      free(ref);
    }
    for (int p = 1; p < np; p++)
      if (memcmp(q[0], q[p], m * k) || memcmp(sc[0], sc[p], sizeof sc[0]) ||
          memcmp(zp[0], zp[p], sizeof zp[0]))
        fail_msg("qd8 k=%zu: path %d differs from path %d", k, ps[p], ps[0]);
    for (int p = 0; p < np; p++) free(q[p]), free(sm[p]);
    free(x);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_s8_gemm),
      cmocka_unit_test(test_s8_gemm_bounds),
      cmocka_unit_test(test_d4_gemm),
      cmocka_unit_test(test_quantize_qd8),
      cmocka_unit_test(test_quantize_qd8_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
