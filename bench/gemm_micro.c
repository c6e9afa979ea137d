/*
 * GEMM/GEMV micro-benchmark of the CPU backend (backends/xnnpack/xnn_gemm.c)
 * and the machine's fp32 FMA peak, measured in the same process.
 *
 *   gemm_micro peak               one line: {"peak_gflops": ..., "isa": ...}
 *   gemm_micro M,N,K [M,N,K ...]  one JSON line per shape: C = A(MxK) * B(KxN)
 *                                 with B packed once (weights), bias, no clamp
 *
 * Each figure is the best of several timed runs of at least 20 ms each.
 * Built and run by bench/micro.py against build/lib/libedgetorch_xnnpack.a;
 * a benchmark, not a test.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xnn_gemm.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GM_X86 1
#endif

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile float g_sink;

/* FMA peak of one core: 12 independent accumulator chains, enough to cover
 * the latency of two FMA pipes; flops = 2 * lanes * chains * iterations. */
#ifdef GM_X86
/* Twelve accumulators in named variables (an array may live in memory). */
#define GM_FMA12(T, FMA, ADD, SET1)                                        \
  T a0 = SET1(0.0f), a1 = SET1(1e-3f), a2 = SET1(2e-3f), a3 = SET1(3e-3f), \
    a4 = SET1(4e-3f), a5 = SET1(5e-3f), a6 = SET1(6e-3f), a7 = SET1(7e-3f), \
    a8 = SET1(8e-3f), a9 = SET1(9e-3f), a10 = SET1(1e-2f), a11 = SET1(1.1e-2f); \
  const T x = SET1(0.999f), y = SET1(1e-4f);                                \
  double t0 = now_s();                                                     \
  for (size_t it = 0; it < iters; it++) {                                  \
    a0 = FMA(a0, x, y); a1 = FMA(a1, x, y); a2 = FMA(a2, x, y);            \
    a3 = FMA(a3, x, y); a4 = FMA(a4, x, y); a5 = FMA(a5, x, y);            \
    a6 = FMA(a6, x, y); a7 = FMA(a7, x, y); a8 = FMA(a8, x, y);            \
    a9 = FMA(a9, x, y); a10 = FMA(a10, x, y); a11 = FMA(a11, x, y);        \
  }                                                                        \
  double t = now_s() - t0;                                                 \
  T s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7))); \
  s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)))

__attribute__((target("avx2,fma"))) static double fma_avx2(size_t iters) {
  GM_FMA12(__m256, _mm256_fmadd_ps, _mm256_add_ps, _mm256_set1_ps);
  g_sink = _mm256_cvtss_f32(s);
  return 2.0 * 8 * 12 * (double)iters / t * 1e-9;
}

__attribute__((target("avx512f"))) static double fma_avx512(size_t iters) {
  GM_FMA12(__m512, _mm512_fmadd_ps, _mm512_add_ps, _mm512_set1_ps);
  g_sink = _mm512_reduce_add_ps(s);
  return 2.0 * 16 * 12 * (double)iters / t * 1e-9;
}
#endif

static double fma_scalar(size_t iters) {
  float a[8];
  for (int i = 0; i < 8; i++) a[i] = (float)i * 1e-3f;
  double t0 = now_s();
  for (size_t it = 0; it < iters; it++)
    for (int i = 0; i < 8; i++) a[i] = a[i] * 0.999f + 1e-4f;
  double t = now_s() - t0;
  g_sink = a[0] + a[7];
  return 2.0 * 8 * (double)iters / t * 1e-9;
}

static int peak(void) {
  typedef double (*fn)(size_t);
  fn f = fma_scalar;
  const char *isa = "scalar";
#ifdef GM_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    f = fma_avx512;
    isa = "avx512f";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    f = fma_avx2;
    isa = "avx2+fma";
  }
#endif
  double best = 0;
  for (int r = 0; r < 7; r++) {
    double g = f(4u << 20);
    if (g > best) best = g;
  }
  printf("{\"peak_gflops\": %.3f, \"isa\": \"%s\"}\n", best, isa);
  return 0;
}

static void fill(float *p, size_t n, unsigned *seed) {
  for (size_t i = 0; i < n; i++) {
    *seed = *seed * 1664525u + 1013904223u;
    p[i] = (float)((*seed >> 9) & 0xFFFF) / 65536.0f - 0.5f;
  }
}

static int shape(const char *spec) {
  size_t m, n, k;
  if (sscanf(spec, "%zu,%zu,%zu", &m, &n, &k) != 3 || !m || !n || !k) {
    fprintf(stderr, "gemm_micro: bad shape '%s' (want M,N,K)\n", spec);
    return 2;
  }
  float *a = malloc(m * k * sizeof(float)), *b = malloc(k * n * sizeof(float));
  float *bias = malloc(n * sizeof(float)), *c = malloc(m * n * sizeof(float));
  float *packed = malloc(et_xnn_packed_floats(k, n) * sizeof(float));
  if (!a || !b || !bias || !c || !packed) {
    fprintf(stderr, "gemm_micro: out of memory for %s\n", spec);
    return 2;
  }
  unsigned seed = 12345;
  fill(a, m * k, &seed);
  fill(b, k * n, &seed);
  fill(bias, n, &seed);
  et_xnn_pack_b(packed, b, k, n, n, 1);
  const double flops = 2.0 * (double)m * (double)n * (double)k;
  /* calls per timed run: at least 20 ms of work at 100 GFLOP/s */
  size_t calls = (size_t)(2e9 / flops) + 1;
  double best = 1e30;
  for (int r = 0; r < 9; r++) {
    double t0 = now_s();
    for (size_t i = 0; i < calls; i++)
      et_xnn_gemm_packed(m, n, k, a, k, packed, bias, c, n, -3.4e38f, 3.4e38f);
    double t = (now_s() - t0) / (double)calls;
    if (t < best) best = t;
  }
  g_sink = c[0] + c[m * n - 1];
  printf("{\"m\": %zu, \"n\": %zu, \"k\": %zu, \"seconds\": %.9g, \"gflops\": %.3f, "
         "\"path\": %d}\n",
         m, n, k, best, flops / best * 1e-9, et_xnn_gemm_path());
  free(a);
  free(b);
  free(bias);
  free(c);
  free(packed);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: gemm_micro peak | M,N,K [M,N,K ...]\n");
    return 2;
  }
  if (!strcmp(argv[1], "peak")) return peak();
  for (int i = 1; i < argc; i++) {
    int rc = shape(argv[i]);
    if (rc) return rc;
    fflush(stdout);
  }
  return 0;
}
