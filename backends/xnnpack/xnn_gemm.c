/* See xnn_gemm.h. */
#include "xnn_gemm.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__) && \
    (defined(__GNUC__) || defined(__clang__))
#define XG_X86 1
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define XG_NEON 1
#include <arm_neon.h>
#endif

#define MR ET_XNN_MR
#define NR ET_XNN_NR

static inline float clampf(float v, float lo, float hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

size_t et_xnn_packed_floats(size_t k, size_t n) {
  return ((n + NR - 1) / NR) * NR * k;
}

void et_xnn_pack_b(float *dst, const float *src, size_t k, size_t n,
                   size_t rs, size_t cs) {
  for (size_t p = 0; p < n; p += NR) {
    size_t w = n - p < NR ? n - p : NR;
    for (size_t kk = 0; kk < k; kk++) {
      for (size_t j = 0; j < w; j++) dst[j] = src[kk * rs + (p + j) * cs];
      for (size_t j = w; j < NR; j++) dst[j] = 0.0f;
      dst += NR;
    }
  }
}

/* A tile of mr (<= MR) rows by NR columns: b rows are ldb apart and hold NR
 * readable floats; nr columns are stored. */
typedef void tile_fn(size_t mr, size_t k, const float *a, size_t lda,
                     const float *b, size_t ldb, float *c, size_t ldc,
                     size_t nr, const float *bias, float lo, float hi);

static void tile_c(size_t mr, size_t k, const float *a, size_t lda,
                   const float *b, size_t ldb, float *c, size_t ldc, size_t nr,
                   const float *bias, float lo, float hi) {
  float acc[MR][NR];
  for (size_t i = 0; i < mr; i++)
    for (size_t j = 0; j < NR; j++) acc[i][j] = bias && j < nr ? bias[j] : 0.0f;
  for (size_t kk = 0; kk < k; kk++) {
    const float *br = b + kk * ldb;
    for (size_t i = 0; i < mr; i++) {
      float av = a[i * lda + kk];
      for (size_t j = 0; j < NR; j++) acc[i][j] += av * br[j];
    }
  }
  for (size_t i = 0; i < mr; i++)
    for (size_t j = 0; j < nr; j++) c[i * ldc + j] = clampf(acc[i][j], lo, hi);
}

#ifdef XG_X86
/* B rows hold NR readable floats (masked: only the first nr, the rest read
 * as zero, for the columns past the last full panel of an unpacked B). */
#define XG_LOAD_B(p, m)                                                   \
  (masked ? _mm256_maskload_ps((p), (m)) : _mm256_loadu_ps(p))
__attribute__((target("avx2,fma"), always_inline)) static inline void
tile_avx2_body(size_t mr, size_t k, const float *a, size_t lda,
               const float *b, size_t ldb, float *c, size_t ldc, size_t nr,
               const float *bias, float lo, float hi, int masked) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr), lane);
  const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr - 8), lane);
  /* Bias: read in place when the tile is full, masked to nr columns
   * otherwise (no copy through memory). */
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  if (bias && nr == NR) {
    b0 = _mm256_loadu_ps(bias);
    b1 = _mm256_loadu_ps(bias + 8);
  } else if (bias) {
    b0 = _mm256_maskload_ps(bias, m0);
    b1 = _mm256_maskload_ps(bias + 8, m1);
  }
  __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  /* maxps/minps return their second operand when either is NaN: the bound
   * first and the value second keeps a NaN result NaN. Full tiles store
   * straight from the accumulators; partial ones through a masked store. */
#define XG_STORE_ROW(row, v0, v1)                                            \
  do {                                                                       \
    __m256 r0_ = _mm256_min_ps(vhi, _mm256_max_ps(vlo, (v0)));               \
    __m256 r1_ = _mm256_min_ps(vhi, _mm256_max_ps(vlo, (v1)));               \
    float *cr_ = c + (row) * ldc;                                            \
    if (nr == NR) {                                                          \
      _mm256_storeu_ps(cr_, r0_);                                            \
      _mm256_storeu_ps(cr_ + 8, r1_);                                        \
    } else {                                                                 \
      _mm256_maskstore_ps(cr_, m0, r0_);                                     \
      _mm256_maskstore_ps(cr_ + 8, m1, r1_);                                 \
    }                                                                        \
  } while (0)
  if (mr == MR) {
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda,
                *a4 = a + 4 * lda, *a5 = a + 5 * lda;
    __m256 c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1,
           c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1;
    for (size_t kk = 0; kk < k; kk++) {
      const float *br = b + kk * ldb;
      __m256 x0 = XG_LOAD_B(br, m0), x1 = XG_LOAD_B(br + 8, m1), v;
      v = _mm256_broadcast_ss(a0 + kk);
      c00 = _mm256_fmadd_ps(v, x0, c00);
      c01 = _mm256_fmadd_ps(v, x1, c01);
      v = _mm256_broadcast_ss(a1 + kk);
      c10 = _mm256_fmadd_ps(v, x0, c10);
      c11 = _mm256_fmadd_ps(v, x1, c11);
      v = _mm256_broadcast_ss(a2 + kk);
      c20 = _mm256_fmadd_ps(v, x0, c20);
      c21 = _mm256_fmadd_ps(v, x1, c21);
      v = _mm256_broadcast_ss(a3 + kk);
      c30 = _mm256_fmadd_ps(v, x0, c30);
      c31 = _mm256_fmadd_ps(v, x1, c31);
      v = _mm256_broadcast_ss(a4 + kk);
      c40 = _mm256_fmadd_ps(v, x0, c40);
      c41 = _mm256_fmadd_ps(v, x1, c41);
      v = _mm256_broadcast_ss(a5 + kk);
      c50 = _mm256_fmadd_ps(v, x0, c50);
      c51 = _mm256_fmadd_ps(v, x1, c51);
    }
    XG_STORE_ROW(0, c00, c01);
    XG_STORE_ROW(1, c10, c11);
    XG_STORE_ROW(2, c20, c21);
    XG_STORE_ROW(3, c30, c31);
    XG_STORE_ROW(4, c40, c41);
    XG_STORE_ROW(5, c50, c51);
  } else {
    __m256 acc[MR][2];
    for (size_t i = 0; i < mr; i++) {
      acc[i][0] = b0;
      acc[i][1] = b1;
    }
    for (size_t kk = 0; kk < k; kk++) {
      const float *br = b + kk * ldb;
      __m256 x0 = XG_LOAD_B(br, m0), x1 = XG_LOAD_B(br + 8, m1);
      for (size_t i = 0; i < mr; i++) {
        __m256 v = _mm256_broadcast_ss(a + i * lda + kk);
        acc[i][0] = _mm256_fmadd_ps(v, x0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(v, x1, acc[i][1]);
      }
    }
    for (size_t i = 0; i < mr; i++) XG_STORE_ROW(i, acc[i][0], acc[i][1]);
  }
#undef XG_STORE_ROW
}
#undef XG_LOAD_B

/* The body instantiated for each row count: with mr a constant the
 * accumulators of a partial tile stay in registers (a variable mr kept
 * them in memory, a load and store per multiply-add: batch-1 linears ran
 * at a third of the speed). */
#define XG_TILE_BY_ROWS(masked)                                              \
  switch (mr) {                                                              \
    case 1: tile_avx2_body(1, k, a, lda, b, ldb, c, ldc, nr, bias, lo, hi, masked); break; \
    case 2: tile_avx2_body(2, k, a, lda, b, ldb, c, ldc, nr, bias, lo, hi, masked); break; \
    case 3: tile_avx2_body(3, k, a, lda, b, ldb, c, ldc, nr, bias, lo, hi, masked); break; \
    case 4: tile_avx2_body(4, k, a, lda, b, ldb, c, ldc, nr, bias, lo, hi, masked); break; \
    case 5: tile_avx2_body(5, k, a, lda, b, ldb, c, ldc, nr, bias, lo, hi, masked); break; \
    default: tile_avx2_body(MR, k, a, lda, b, ldb, c, ldc, nr, bias, lo, hi, masked); break; \
  }

__attribute__((target("avx2,fma"))) static void
tile_avx2(size_t mr, size_t k, const float *a, size_t lda, const float *b,
          size_t ldb, float *c, size_t ldc, size_t nr, const float *bias,
          float lo, float hi) {
  XG_TILE_BY_ROWS(0)
}

/* The same with B rows of only nr readable floats. */
__attribute__((target("avx2,fma"))) static void
tile_avx2_tail(size_t mr, size_t k, const float *a, size_t lda,
               const float *b, size_t ldb, float *c, size_t ldc, size_t nr,
               const float *bias, float lo, float hi) {
  XG_TILE_BY_ROWS(1)
}
#undef XG_TILE_BY_ROWS
#endif

#ifdef XG_NEON
/* aarch64 NEON: 6 rows x 4 vectors of 4 columns = 24 accumulators (of the
 * 32 vector registers), one fused multiply-add per A element and vector. */
static void tile_neon(size_t mr, size_t k, const float *a, size_t lda,
                      const float *b, size_t ldb, float *c, size_t ldc,
                      size_t nr, const float *bias, float lo, float hi) {
  float bb[NR];
  for (size_t j = 0; j < NR; j++) bb[j] = bias && j < nr ? bias[j] : 0.0f;
  float32x4_t acc[MR][4];
  for (size_t i = 0; i < MR; i++)
    for (size_t q = 0; q < 4; q++) acc[i][q] = vld1q_f32(bb + 4 * q);
  if (mr == MR) {
    float32x4_t c00 = acc[0][0], c01 = acc[0][1], c02 = acc[0][2], c03 = acc[0][3];
    float32x4_t c10 = c00, c11 = c01, c12 = c02, c13 = c03;
    float32x4_t c20 = c00, c21 = c01, c22 = c02, c23 = c03;
    float32x4_t c30 = c00, c31 = c01, c32 = c02, c33 = c03;
    float32x4_t c40 = c00, c41 = c01, c42 = c02, c43 = c03;
    float32x4_t c50 = c00, c51 = c01, c52 = c02, c53 = c03;
    for (size_t kk = 0; kk < k; kk++) {
      const float *br = b + kk * ldb;
      float32x4_t x0 = vld1q_f32(br), x1 = vld1q_f32(br + 4),
                  x2 = vld1q_f32(br + 8), x3 = vld1q_f32(br + 12);
      float v;
#define XG_ROW(r)                                                   \
  v = a[(r) * lda + kk];                                            \
  c##r##0 = vfmaq_n_f32(c##r##0, x0, v);                            \
  c##r##1 = vfmaq_n_f32(c##r##1, x1, v);                            \
  c##r##2 = vfmaq_n_f32(c##r##2, x2, v);                            \
  c##r##3 = vfmaq_n_f32(c##r##3, x3, v)
      XG_ROW(0); XG_ROW(1); XG_ROW(2); XG_ROW(3); XG_ROW(4); XG_ROW(5);
#undef XG_ROW
    }
    acc[0][0] = c00; acc[0][1] = c01; acc[0][2] = c02; acc[0][3] = c03;
    acc[1][0] = c10; acc[1][1] = c11; acc[1][2] = c12; acc[1][3] = c13;
    acc[2][0] = c20; acc[2][1] = c21; acc[2][2] = c22; acc[2][3] = c23;
    acc[3][0] = c30; acc[3][1] = c31; acc[3][2] = c32; acc[3][3] = c33;
    acc[4][0] = c40; acc[4][1] = c41; acc[4][2] = c42; acc[4][3] = c43;
    acc[5][0] = c50; acc[5][1] = c51; acc[5][2] = c52; acc[5][3] = c53;
  } else {
    for (size_t kk = 0; kk < k; kk++) {
      const float *br = b + kk * ldb;
      float32x4_t x[4] = {vld1q_f32(br), vld1q_f32(br + 4), vld1q_f32(br + 8),
                          vld1q_f32(br + 12)};
      for (size_t i = 0; i < mr; i++) {
        float v = a[i * lda + kk];
        for (size_t q = 0; q < 4; q++) acc[i][q] = vfmaq_n_f32(acc[i][q], x[q], v);
      }
    }
  }
  float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  for (size_t i = 0; i < mr; i++) {
    float t[NR];
    for (size_t q = 0; q < 4; q++) {
      /* fmax/fmin would drop a NaN result: compare-and-select keeps it,
       * as the x86 max/min order with the accumulator first does. */
      float32x4_t r = acc[i][q];
      r = vbslq_f32(vcltq_f32(r, vlo), vlo, r);
      r = vbslq_f32(vcgtq_f32(r, vhi), vhi, r);
      vst1q_f32(t + 4 * q, r);
    }
    memcpy(c + i * ldc, t, nr * sizeof(float));
  }
}
#endif

/* Atomic: methods on different threads may ask at once (relaxed: every
 * writer stores the same value). */
static atomic_int forced = -1;
static atomic_int detected = -1;

int et_xnn_gemm_path(void) {
  int f = atomic_load_explicit(&forced, memory_order_relaxed);
  if (f >= 0) return f;
  int d = atomic_load_explicit(&detected, memory_order_relaxed);
  if (d < 0) {
    d = 0;
#ifdef XG_X86
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      d = 1;
#endif
#ifdef XG_NEON
    d = 2; /* every aarch64 CPU has NEON (Advanced SIMD) */
#endif
    atomic_store_explicit(&detected, d, memory_order_relaxed);
  }
  return d;
}

void et_xnn_gemm_force_path(int path) {
#if defined(XG_X86)
  int f = path > 1 ? 1 : path;
#elif defined(XG_NEON)
  int f = path > 0 ? 2 : path;
#else
  int f = path < 0 ? -1 : 0;
#endif
  atomic_store_explicit(&forced, f, memory_order_relaxed);
}

static tile_fn *pick_tail(void) {
#ifdef XG_X86
  if (et_xnn_gemm_path() == 1) return tile_avx2_tail;
#endif
  return NULL;
}

static tile_fn *pick(void) {
#ifdef XG_X86
  if (et_xnn_gemm_path() == 1) return tile_avx2;
#endif
#ifdef XG_NEON
  if (et_xnn_gemm_path() == 2) return tile_neon;
#endif
  return tile_c;
}

/* One GEMM split into tiles: task t is panel t / m_tiles, row tile
 * t % m_tiles (a range of tasks walks the rows under one panel, which stays
 * in cache). Unpacked B: the panel past the last full one (`tail`) is the
 * columns too few to read NR of in place, done by a plain loop. */
typedef struct gemm_job {
  tile_fn *tile;
  tile_fn *tail; /* unpacked B's last columns; NULL: gemm_tail_rows */
  size_t m, n, k, lda, ldb, ldc, m_tiles, full, panels;
  int rows_first;
  const float *a, *b, *bias;
  float *c;
  float lo, hi;
  int packed;
} gemm_job;

static void gemm_tail_rows(const gemm_job *j, size_t i0, size_t mr) {
  size_t full = j->full, k = j->k;
  for (size_t i = i0; i < i0 + mr; i++) {
    float acc[NR] = {0};
    for (size_t kk = 0; kk < k; kk++) {
      float av = j->a[i * j->lda + kk];
      const float *br = j->b + kk * j->ldb + full;
      for (size_t jj = 0; jj < j->n - full; jj++) acc[jj] += av * br[jj];
    }
    for (size_t jj = 0; jj < j->n - full; jj++)
      j->c[i * j->ldc + full + jj] = clampf(acc[jj], j->lo, j->hi);
  }
}

static void gemm_tiles(void *ctx, size_t begin, size_t end) {
  const gemm_job *j = (const gemm_job *)ctx;
  for (size_t t = begin; t < end; t++) {
    size_t p, i;
    if (j->rows_first) { /* B in cache: all panels of one row tile */
      p = (t % j->panels) * NR;
      i = (t / j->panels) * MR;
    } else { /* one panel under all row tiles */
      p = (t / j->m_tiles) * NR;
      i = (t % j->m_tiles) * MR;
    }
    size_t mr = j->m - i < MR ? j->m - i : MR;
    if (j->packed) {
      size_t nr = j->n - p < NR ? j->n - p : NR;
      j->tile(mr, j->k, j->a + i * j->lda, j->lda, j->b + (p / NR) * NR * j->k,
              NR, j->c + i * j->ldc + p, j->ldc, nr,
              j->bias ? j->bias + p : NULL, j->lo, j->hi);
    } else if (p < j->full) {
      j->tile(mr, j->k, j->a + i * j->lda, j->lda, j->b + p, j->ldb,
              j->c + i * j->ldc + p, j->ldc, NR, NULL, j->lo, j->hi);
    } else if (j->tail) {
      j->tail(mr, j->k, j->a + i * j->lda, j->lda, j->b + p, j->ldb,
              j->c + i * j->ldc + p, j->ldc, j->n - p, NULL, j->lo, j->hi);
    } else {
      gemm_tail_rows(j, i, mr);
    }
  }
}

/* Bytes of B under which tasks walk the row tiles, each over every panel:
 * B then stays in L2 while A's rows and C's rows are each touched once
 * (small K and N, as in the 1x1 convolutions of mobile networks). Above
 * it a panel stays in cache under every row tile. */
#define ROWS_FIRST_B_BYTES ((size_t)256 << 10)

static void gemm_run(et_parallel *par, gemm_job *j, size_t panels) {
  j->m_tiles = (j->m + MR - 1) / MR;
  j->panels = panels;
  j->rows_first = j->k * panels * NR * sizeof(float) <= ROWS_FIRST_B_BYTES;
  size_t tiles = panels * j->m_tiles;
  uint64_t rows = j->m < MR ? j->m : MR;
  uint64_t per_tile = rows * NR * j->k; /* no wrap where size_t is 32 bits */
  size_t grain = per_tile ? (size_t)(ET_XNN_GRAIN_FMA / per_tile) + 1 : tiles;
  et_parallel_for(par, tiles, grain, gemm_tiles, j);
}

void et_xnn_gemm_packed_par(et_parallel *par, size_t m, size_t n, size_t k,
                            const float *a, size_t lda, const float *packed,
                            const float *bias, float *c, size_t ldc, float lo,
                            float hi) {
  if (k == 0) { /* nothing to multiply (A and B may be NULL) */
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++)
        c[i * ldc + j] = clampf(bias ? bias[j] : 0.0f, lo, hi);
    return;
  }
  if (m == 0 || n == 0) return;
  gemm_job j = {.tile = pick(), .m = m, .n = n, .k = k, .lda = lda,
                .ldb = NR, .ldc = ldc, .full = n, .a = a, .b = packed,
                .bias = bias, .c = c, .lo = lo, .hi = hi, .packed = 1};
  gemm_run(par, &j, (n + NR - 1) / NR);
}

/* ---- one column: C = A * b (matrix times vector) ----------------------- */

/* C[i] for rows [begin, end): dot products of A's rows with the vector. The
 * vector's stride is ldb (contiguous: the vector path). */
typedef struct gemv_job {
  const float *a, *b;
  float *c;
  size_t k, lda, ldb, ldc;
  float lo, hi;
  int vec;
} gemv_job;

static void gemv_rows_c(const gemv_job *j, size_t begin, size_t end) {
  for (size_t i = begin; i < end; i++) {
    const float *ar = j->a + i * j->lda;
    float s = 0.0f;
    for (size_t kk = 0; kk < j->k; kk++) s += ar[kk] * j->b[kk * j->ldb];
    j->c[i * j->ldc] = clampf(s, j->lo, j->hi);
  }
}

#ifdef XG_X86
__attribute__((target("avx2,fma"))) static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* Four rows at a time share each load of the vector; two accumulators per
 * row hide the FMA latency. Streams A once: memory bound, as it should be. */
__attribute__((target("avx2,fma"))) static void
gemv_rows_avx2(const gemv_job *j, size_t begin, size_t end) {
  const size_t k = j->k, k16 = k / 16 * 16, k8 = k / 8 * 8;
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(k - k8)), lane);
  const float *x = j->b;
  size_t i = begin;
  for (; i + 4 <= end; i += 4) {
    const float *r0 = j->a + i * j->lda, *r1 = r0 + j->lda, *r2 = r1 + j->lda,
                *r3 = r2 + j->lda;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0,
           b2 = a0, b3 = a0;
    size_t kk = 0;
    for (; kk < k16; kk += 16) {
      __m256 x0 = _mm256_loadu_ps(x + kk), x1 = _mm256_loadu_ps(x + kk + 8);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + kk), x0, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + kk), x0, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + kk), x0, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + kk), x0, a3);
      b0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + kk + 8), x1, b0);
      b1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + kk + 8), x1, b1);
      b2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + kk + 8), x1, b2);
      b3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + kk + 8), x1, b3);
    }
    for (; kk < k8; kk += 8) {
      __m256 x0 = _mm256_loadu_ps(x + kk);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + kk), x0, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + kk), x0, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + kk), x0, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + kk), x0, a3);
    }
    if (kk < k) {
      __m256 x0 = _mm256_maskload_ps(x + kk, tail);
      a0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + kk, tail), x0, a0);
      a1 = _mm256_fmadd_ps(_mm256_maskload_ps(r1 + kk, tail), x0, a1);
      a2 = _mm256_fmadd_ps(_mm256_maskload_ps(r2 + kk, tail), x0, a2);
      a3 = _mm256_fmadd_ps(_mm256_maskload_ps(r3 + kk, tail), x0, a3);
    }
    float s[4] = {hsum8(_mm256_add_ps(a0, b0)), hsum8(_mm256_add_ps(a1, b1)),
                  hsum8(_mm256_add_ps(a2, b2)), hsum8(_mm256_add_ps(a3, b3))};
    for (int q = 0; q < 4; q++) j->c[(i + (size_t)q) * j->ldc] = clampf(s[q], j->lo, j->hi);
  }
  for (; i < end; i++) {
    const float *r0 = j->a + i * j->lda;
    __m256 a0 = _mm256_setzero_ps();
    size_t kk = 0;
    for (; kk < k8; kk += 8)
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + kk), _mm256_loadu_ps(x + kk), a0);
    if (kk < k)
      a0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + kk, tail),
                           _mm256_maskload_ps(x + kk, tail), a0);
    j->c[i * j->ldc] = clampf(hsum8(a0), j->lo, j->hi);
  }
}
#endif

static void gemv_task(void *ctx, size_t begin, size_t end) {
  const gemv_job *j = (const gemv_job *)ctx;
#ifdef XG_X86
  if (j->vec) {
    gemv_rows_avx2(j, begin, end);
    return;
  }
#endif
  gemv_rows_c(j, begin, end);
}

void et_xnn_gemm_par(et_parallel *par, size_t m, size_t n, size_t k,
                     const float *a, size_t lda, const float *b, size_t ldb,
                     float *c, size_t ldc, float lo, float hi) {
  if (n == 1 && k > 0 && m > 0 && ldb == 1) { /* matrix times vector */
    gemv_job j = {a, b, c, k, lda, ldb, ldc, lo, hi, 0};
#ifdef XG_X86
    j.vec = et_xnn_gemm_path() == 1;
#endif
    size_t grain = ET_XNN_GRAIN_FMA / k + 1;
    et_parallel_for(par, m, grain, gemv_task, &j);
    return;
  }
  if (k == 0) {
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) c[i * ldc + j] = clampf(0.0f, lo, hi);
    return;
  }
  if (m == 0 || n == 0) return;
  size_t full = n / NR * NR;
  gemm_job j = {.tile = pick(), .tail = pick_tail(), .m = m, .n = n,
                .k = k, .lda = lda, .ldb = ldb, .ldc = ldc, .full = full,
                .a = a, .b = b,
                .c = c, .lo = lo, .hi = hi, .packed = 0};
  gemm_run(par, &j, full / NR + (full != n));
}

void et_xnn_gemm_packed(size_t m, size_t n, size_t k, const float *a,
                        size_t lda, const float *packed, const float *bias,
                        float *c, size_t ldc, float lo, float hi) {
  et_xnn_gemm_packed_par(NULL, m, n, k, a, lda, packed, bias, c, ldc, lo, hi);
}

void et_xnn_gemm(size_t m, size_t n, size_t k, const float *a, size_t lda,
                 const float *b, size_t ldb, float *c, size_t ldc, float lo,
                 float hi) {
  et_xnn_gemm_par(NULL, m, n, k, a, lda, b, ldb, c, ldc, lo, hi);
}
