/*
 * Throughput of the CPU backend's integer kernels (backends/xnnpack/
 * xnn_qgemm.h), not a test: int8 GEMM GOPS at a few shapes, and the
 * qd8 x qb4w (4-bit blockwise, group 32) linear at M=1 (GB/s of 4-bit
 * weights streamed) and at prefill sizes, at 1 and 2 threads, next to a
 * plain read bandwidth of this machine.
 *
 * Build (from the repo root, after cmake --build build):
 *   gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iruntime/include \
 *     bench/xnn_qgemm_bench.c build/lib/libedgetorch_xnnpack.a \
 *     build/lib/libedgetorch.a -lpthread -lm -o build/xnn_qgemm_bench
 *   build/xnn_qgemm_bench
 */
#include "../backends/xnnpack/xnn_qgemm.h"
#include "../extension/threadpool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
/* A streaming read with 256-bit loads, four sums in flight. */
__attribute__((target("avx2"))) static unsigned long vread(const uint8_t *p,
                                                          size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
    a2 = _mm256_add_epi64(a2, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
    a3 = _mm256_add_epi64(a3, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
  }
  a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  uint64_t t[4];
  _mm256_storeu_si256((__m256i *)t, a0);
  unsigned long s = (unsigned long)(t[0] + t[1] + t[2] + t[3]);
  for (; i < n; i++) s += p[i];
  return s;
}
#define HAVE_VREAD 1
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float scale_of(const void *ctx, size_t nn, size_t kk) {
  (void)ctx;
  return 0.01f + 0.0001f * (float)((nn + kk / 32) % 17);
}

/* Best of `reps` timings of fn. */
#define BEST(reps, ...)                               \
  ({                                                  \
    double best = 1e30;                               \
    for (int r_ = 0; r_ < (reps); r_++) {             \
      double t0_ = now();                             \
      __VA_ARGS__;                                    \
      double t_ = now() - t0_;                        \
      best = t_ < best ? t_ : best;                   \
    }                                                 \
    best;                                             \
  })

int main(void) {
  et_threadpool *pool = NULL;
  et_threadpool_create(2, &pool);
  et_parallel *pars[2] = {NULL, pool ? et_threadpool_parallel(pool) : NULL};
  printf("path %d (0 C, 1 AVX2)\n", et_xnn_qgemm_path());

  /* Read bandwidth: sum of a 256 MiB buffer. */
  size_t nb = (size_t)256 << 20;
  unsigned char *big = malloc(nb);
  memset(big, 1, nb);
  volatile unsigned long sink = 0;
  double tb = BEST(3, {
    unsigned long s = 0;
    const unsigned long *p = (const unsigned long *)big;
    for (size_t i = 0; i < nb / 8; i++) s += p[i];
    sink += s;
  });
  printf("read bandwidth (1 thread, plain loop): %.1f GB/s\n", nb / tb / 1e9);
  free(big);

  /* int8 GEMM. */
  size_t shapes[][3] = {{1, 4096, 4096}, {128, 768, 768}, {256, 256, 256},
                        {3136, 64, 576}, {784, 128, 1152}};
  for (size_t si = 0; si < 5; si++) {
    size_t m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
    int8_t *a = malloc(m * k), *b = malloc(k * n);
    for (size_t i = 0; i < m * k; i++) a[i] = (int8_t)(i * 7);
    for (size_t i = 0; i < k * n; i++) b[i] = (int8_t)(i * 13);
    size_t kp = et_xnn_qpack_s8_kp(k);
    int8_t *pk = malloc(et_xnn_qpack_s8_bytes(k, n)), *c = malloc(m * n);
    (void)kp;
    int32_t *bias = calloc(n, sizeof(int32_t)), *cs = malloc(n * 4);
    float *sc = malloc(n * sizeof(float));
    for (size_t j = 0; j < n; j++) sc[j] = 1e-4f;
    et_xnn_qpack_s8(pk, b, k, n, n, 1, cs);
    et_xnn_qepi e = {0};
    e.kind = ET_XNN_QEPI_QS8;
    e.bias = bias;
    e.scale = sc;
    e.qmin = -128;
    e.qmax = 127;
    for (int t = 0; t < 2; t++) {
      if (t && !pars[1]) break;
      double tt = BEST(5, et_xnn_qgemm_s8_par(pars[t], m, n, k, a, k, pk, &e, c, n));
      printf("s8 GEMM %4zux%4zux%4zu  %d thread(s): %7.2f ms  %6.1f GOPS\n", m,
             n, k, t + 1, tt * 1e3, 2.0 * m * n * k / tt / 1e9);
    }
    free(a), free(b), free(pk), free(c), free(bias), free(cs), free(sc);
  }

  /* qd8 x qb4w, 4096 x 4096, group 32. */
  size_t N = 4096, K = 4096, kp = et_xnn_qpack_4_kp(K);
  size_t pkb = et_xnn_qpack_4_bytes(K, N), nsc = et_xnn_qpack_4_nscales(K, N);
  uint8_t *w = malloc(N * K / 2), *pk = malloc(pkb);
  for (size_t i = 0; i < N * K / 2; i++) w[i] = (uint8_t)(i * 37);
  float *chs = malloc(nsc * sizeof(float)), *q = malloc(N * 4);
  et_xnn_qpack_4(pk, chs, q, w, K / 2, K, N, scale_of, NULL);
  size_t mmax = 128;
  float *x = malloc(mmax * K * 4), *y = malloc(mmax * N * 4), *rs = malloc(mmax * 4);
  int8_t *xq = malloc(mmax * K);
  int32_t *rz = malloc(mmax * 4);
  for (size_t i = 0; i < mmax * K; i++) x[i] = sinf((float)i);
  int32_t *as = malloc(mmax * et_xnn_qd8_nchunks(K) * sizeof(int32_t));
  et_xnn_quantize_qd8(x, mmax, K, xq, rs, rz, as);
  double wbytes = (double)N * K / 2, sbytes = (double)N * (kp / 32) * 4;
  size_t ms[] = {1, 4, 32, 128};
  for (size_t mi = 0; mi < 4; mi++)
    for (int t = 0; t < 2; t++) {
      if (t && !pars[1]) break;
      size_t m = ms[mi];
      double tt = BEST(m == 1 ? 20 : 5,
                       et_xnn_qgemm_d4_par(pars[t], m, N, K, xq, K, rs, rz, as, pk,
                                           chs, q, NULL, -INFINITY, INFINITY,
                                           y, N));
      printf("qd8 x qb4w 4096x4096 g32 M=%3zu %d thread(s): %7.3f ms  "
             "%5.1f GB/s of 4-bit weights (%5.1f with the scales)  %6.1f GOPS\n",
             m, t + 1, tt * 1e3, wbytes / tt / 1e9, (wbytes + sbytes) / tt / 1e9,
             2.0 * m * N * K / tt / 1e9);
    }
  /* M=1 streaming from DRAM: cycle over copies whose total exceeds the
   * last-level cache (8 x 10 MiB). */
  enum { COPIES = 8 };
  uint8_t *pks[COPIES];
  float *chss[COPIES];
  for (int c = 0; c < COPIES; c++) {
    pks[c] = malloc(pkb);
    chss[c] = malloc(nsc * sizeof(float));
    memcpy(pks[c], pk, pkb);
    memcpy(chss[c], chs, nsc * sizeof(float));
  }
  for (int t = 0; t < 2; t++) {
    if (t && !pars[1]) break;
    double tt = BEST(5, {
      for (int c = 0; c < COPIES; c++)
        et_xnn_qgemm_d4_par(pars[t], 1, N, K, xq, K, rs, rz, as, pks[c], chss[c],
                            q, NULL, -INFINITY, INFINITY, y, N);
    }) / COPIES;
    printf("qd8 x qb4w 4096x4096 g32 M=  1 %d thread(s), weights cycled "
           "through DRAM: %7.3f ms  %5.1f GB/s of 4-bit weights (%5.1f with "
           "the scales)\n", t + 1, tt * 1e3, wbytes / tt / 1e9,
           (wbytes + sbytes) / tt / 1e9);
  }
  /* Plain streaming read of the same bytes (AVX2-free loop, 2 sums). */
  double tr = BEST(5, {
    unsigned long s0 = 0, s1 = 0;
    for (int c = 0; c < COPIES; c++) {
      const unsigned long *p = (const unsigned long *)pks[c];
      for (size_t i = 0; i < pkb / 8; i += 2) s0 += p[i], s1 += p[i + 1];
    }
    sink += s0 + s1;
  }) / COPIES;
  printf("plain read of the same weight copies: %5.1f GB/s\n", wbytes / tr / 1e9);
#ifdef HAVE_VREAD
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) {
    double tv = BEST(5, {
      for (int c = 0; c < COPIES; c++) sink += vread(pks[c], pkb);
    }) / COPIES;
    printf("AVX2 read of the same weight copies: %5.1f GB/s\n", wbytes / tv / 1e9);
  }
#endif
  for (int c = 0; c < COPIES; c++) free(pks[c]), free(chss[c]);
  double tq = BEST(5, et_xnn_quantize_qd8(x, 1, K, xq, rs, rz, as));
  printf("qd8 quantize of one 4096 row: %.1f us\n", tq * 1e6);
  (void)sink;
  if (pool) et_threadpool_destroy(pool);
  return 0;
}
