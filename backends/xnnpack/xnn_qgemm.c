/*
 * Integer micro kernels (see xnn_qgemm.h): int8 x int8 GEMM with a fused
 * epilogue, qd8 x 4-bit GEMM, per-row dynamic quantization.
 */
#include "xnn_qgemm.h"

#include <math.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#define XQ_X86 1
#include <immintrin.h>
#endif

#define QMR 4
#define QNR 2

static int forced = -1;

int et_xnn_qgemm_path(void) {
  static int detected = -1;
  if (detected < 0) {
    detected = 0;
#ifdef XQ_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      detected = 1;
#endif
  }
  if (forced >= 0) return forced && detected ? 1 : 0;
  return detected;
}

void et_xnn_qgemm_force_path(int path) { forced = path < 0 ? -1 : path; }

static inline int32_t rne_clamp(float f, int32_t zo, int32_t qmin,
                                int32_t qmax) {
  /* XNNPACK's fp32 requantization: scale, clamp in the float domain,
   * round to nearest even, add the zero point. */
  float lo = (float)(qmin - zo), hi = (float)(qmax - zo);
  f = f < lo ? lo : (f > hi ? hi : f);
  return (int32_t)lrintf(f) + zo;
}

/* ---- packing ------------------------------------------------------------ */

/* int8 B: panels of ET_XNN_QNP columns; in a panel, K pairs of 2 * NP
 * bytes: column c's elements k and k+1 at 2c and 2c+1 (what vpmaddwd
 * multiplies with a broadcast pair of A). Zero padded in K and N. */
size_t et_xnn_qpack_s8_kp(size_t k) { return (k + 1) / 2 * 2; }

size_t et_xnn_qpack_s8_bytes(size_t k, size_t n) {
  return (n + ET_XNN_QNP - 1) / ET_XNN_QNP * ET_XNN_QNP *
         et_xnn_qpack_s8_kp(k);
}

static inline size_t s8_at(size_t kp, size_t kk, size_t j) {
  return (j / ET_XNN_QNP) * kp * ET_XNN_QNP + (kk / 2) * 2 * ET_XNN_QNP +
         (j % ET_XNN_QNP) * 2 + (kk & 1);
}

void et_xnn_qpack_s8(int8_t *dst, const int8_t *src, size_t k, size_t n,
                     size_t rs, size_t cs, int32_t *colsum) {
  size_t kp = et_xnn_qpack_s8_kp(k);
  memset(dst, 0, et_xnn_qpack_s8_bytes(k, n));
  for (size_t j = 0; j < n; j++) {
    int32_t s = 0;
    for (size_t kk = 0; kk < k; kk++) {
      int8_t v = src[kk * rs + j * cs];
      dst[s8_at(kp, kk, j)] = v;
      s += v;
    }
    if (colsum) colsum[j] = s;
  }
}

size_t et_xnn_qpack_4_kp(size_t k) {
  return (k + ET_XNN_Q4C - 1) / ET_XNN_Q4C * ET_XNN_Q4C;
}

size_t et_xnn_qpack_4_ncols(size_t n) {
  return (n + ET_XNN_Q4NB - 1) / ET_XNN_Q4NB * ET_XNN_Q4NB;
}

size_t et_xnn_qpack_4_bytes(size_t k, size_t n) {
  return et_xnn_qpack_4_ncols(n) * (et_xnn_qpack_4_kp(k) / 2);
}

size_t et_xnn_qpack_4_nscales(size_t k, size_t n) {
  return et_xnn_qpack_4_ncols(n) * (et_xnn_qpack_4_kp(k) / ET_XNN_Q4C);
}

/* Element (column c of its block, k = 32 ch + t) of a block's chunk:
 * 4 vectors of 32 bytes; byte 4 c + (t % 4) of vector (t % 16) / 4
 * holds it, in the low nibble when t < 16, else in the high one. */
void et_xnn_qpack_4(uint8_t *dst, float *chunk_scale, float *q,
                    const uint8_t *src, size_t row_bytes, size_t k, size_t n,
                    float (*scale_of)(const void *ctx, size_t nn, size_t kk),
                    const void *ctx) {
  size_t nc = et_xnn_qpack_4_kp(k) / ET_XNN_Q4C;
  size_t ncols = et_xnn_qpack_4_ncols(n);
  for (size_t j = 0; j < ncols; j++) {
    size_t blk = j / ET_XNN_Q4NB, c = j % ET_XNN_Q4NB;
    const uint8_t *row = j < n ? src + j * row_bytes : NULL;
    float qsum = 0.0f;
    for (size_t ch = 0; ch < nc; ch++) {
      uint8_t *d = dst + (blk * nc + ch) * (ET_XNN_Q4NB * ET_XNN_Q4C / 2);
      int32_t sw = 0;
      if (row && (ch + 1) * ET_XNN_Q4C <= k) {
        /* A whole chunk: its 16 source bytes hold k = 0..15 (lo, 8 bytes)
         * and 16..31 (hi); output byte t pairs lo's nibble t with hi's. */
        uint64_t lo, hi;
        memcpy(&lo, row + ch * 16, 8);
        memcpy(&hi, row + ch * 16 + 8, 8);
        const uint64_t m = 0x0F0F0F0F0F0F0F0Full;
        uint64_t ev = (lo & m) | ((hi & m) << 4);   /* byte x: t = 2x */
        uint64_t od = ((lo >> 4) & m) | (hi & ~m);  /* byte x: t = 2x+1 */
        for (size_t x = 0; x < 8; x++) {
          size_t t = 2 * x;
          d[(t / 4) * 32 + c * 4 + t % 4] = (uint8_t)(ev >> (8 * x));
          d[(t / 4) * 32 + c * 4 + t % 4 + 1] = (uint8_t)(od >> (8 * x));
        }
        const uint64_t ones = 0x0101010101010101ull; /* byte sums < 256 */
        sw = (int32_t)((((lo & m) + ((lo >> 4) & m)) * ones) >> 56) +
             (int32_t)((((hi & m) + ((hi >> 4) & m)) * ones) >> 56) - 256;
      } else {
        for (size_t t = 0; t < 16; t++) {
          size_t k0 = ch * ET_XNN_Q4C + t, k1 = k0 + 16;
          unsigned u0 = 8, u1 = 8; /* padding: weight 0 */
          if (row && k0 < k) u0 = (row[k0 / 2] >> (4 * (k0 & 1))) & 15u;
          if (row && k1 < k) u1 = (row[k1 / 2] >> (4 * (k1 & 1))) & 15u;
          sw += (int32_t)u0 - 8 + (int32_t)u1 - 8;
          d[(t / 4) * 32 + c * 4 + t % 4] = (uint8_t)(u0 | (u1 << 4));
        }
      }
      float s = row ? scale_of(ctx, j, ch * ET_XNN_Q4C) : 0.0f;
      chunk_scale[(blk * nc + ch) * ET_XNN_Q4NB + c] = s;
      qsum += s * (float)sw;
    }
    q[j] = qsum;
  }
}

size_t et_xnn_qd8_nchunks(size_t k) {
  return (k + ET_XNN_Q4C - 1) / ET_XNN_Q4C;
}

void et_xnn_qd8_chunk_sums(const int8_t *a, size_t m, size_t k, size_t lda,
                           int32_t *sums) {
  size_t nc = et_xnn_qd8_nchunks(k);
  for (size_t i = 0; i < m; i++)
    for (size_t ch = 0; ch < nc; ch++) {
      size_t k0 = ch * ET_XNN_Q4C, k1 = k0 + ET_XNN_Q4C < k ? k0 + ET_XNN_Q4C : k;
      int32_t s = 0;
      for (size_t kk = k0; kk < k1; kk++) s += a[i * lda + kk];
      sums[i * nc + ch] = s;
    }
}

/* ---- dynamic quantization ---------------------------------------------- */

/* The row's quantization multiplier, scale and zero point from its range
 * (which always holds 0). */
static void qd8_params(float mn, float mx, float *mul_out, float *scale,
                       int32_t *zp) {
  float mul = 1.0f, rescale = 1.0f, z = 0.0f;
  if (mn != mx && isfinite(mn) && isfinite(mx)) {
    mul = 255.0f / (mx - mn);
    rescale = (mx - mn) / 255.0f;
    float from_min = -128.0f + mn * mul, from_max = 127.0f + mx * mul;
    z = from_min + from_max > 0.0f ? -128.0f - mn * mul : 127.0f - mx * mul;
    z = z < -128.0f ? -128.0f : (z > 127.0f ? 127.0f : z);
  }
  *mul_out = mul;
  *scale = rescale;
  *zp = (int32_t)lrintf(z);
}

static inline int8_t qd8_one(float v, float mul, int32_t zi) {
  float f = v * mul;
  if (f != f) f = 0.0f;
  return (int8_t)rne_clamp(f, zi, -128, 127);
}

static void qd8_rows_c(const float *x, size_t m, size_t k, int8_t *q,
                       float *scale, int32_t *zp, int32_t *sums) {
  for (size_t i = 0; i < m; i++) {
    const float *r = x + i * k;
    float mn = 0.0f, mx = 0.0f;
    for (size_t j = 0; j < k; j++) {
      float v = r[j];
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
    float mul;
    qd8_params(mn, mx, &mul, &scale[i], &zp[i]);
    for (size_t j = 0; j < k; j++) q[i * k + j] = qd8_one(r[j], mul, zp[i]);
  }
  if (sums) et_xnn_qd8_chunk_sums(q, m, k, k, sums);
}

#ifdef XQ_X86
/* The same bits as the plain path: min/max return their second operand
 * for NaN (ignored, as the scalar compares do), the product is rounded
 * with the default (nearest even) mode as lrintf does. */
__attribute__((target("avx2"))) static void
qd8_rows_avx2(const float *x, size_t m, size_t k, int8_t *q, float *scale,
              int32_t *zp, int32_t *sums) {
  size_t nc = et_xnn_qd8_nchunks(k), kf = k / 32 * 32;
  const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256i flip = _mm256_set1_epi8((char)0x80);
  for (size_t i = 0; i < m; i++) {
    const float *r = x + i * k;
    __m256 vmn = _mm256_setzero_ps(), vmx = vmn;
    size_t j = 0;
    for (; j + 8 <= k; j += 8) {
      __m256 v = _mm256_loadu_ps(r + j);
      vmn = _mm256_min_ps(v, vmn);
      vmx = _mm256_max_ps(v, vmx);
    }
    float a[8], b[8], mn = 0.0f, mx = 0.0f;
    _mm256_storeu_ps(a, vmn);
    _mm256_storeu_ps(b, vmx);
    for (size_t t = 0; t < 8; t++) {
      mn = a[t] < mn ? a[t] : mn;
      mx = b[t] > mx ? b[t] : mx;
    }
    for (; j < k; j++) {
      float v = r[j];
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
    float mul;
    int32_t zi;
    qd8_params(mn, mx, &mul, &scale[i], &zp[i]);
    zi = zp[i];
    __m256 vm = _mm256_set1_ps(mul);
    __m256 lo = _mm256_set1_ps((float)(-128 - zi));
    __m256 hi = _mm256_set1_ps((float)(127 - zi));
    __m256i vz = _mm256_set1_epi32(zi);
    int8_t *o = q + i * k;
    for (j = 0; j < kf; j += 32) {
      __m256i w[4];
      for (size_t u = 0; u < 4; u++) {
        __m256 f = _mm256_mul_ps(_mm256_loadu_ps(r + j + 8 * u), vm);
        f = _mm256_andnot_ps(_mm256_cmp_ps(f, f, _CMP_UNORD_Q), f);
        f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
        w[u] = _mm256_add_epi32(_mm256_cvtps_epi32(f), vz);
      }
      __m256i h = _mm256_packs_epi16(_mm256_packs_epi32(w[0], w[1]),
                                     _mm256_packs_epi32(w[2], w[3]));
      h = _mm256_permutevar8x32_epi32(h, perm);
      _mm256_storeu_si256((__m256i *)(o + j), h);
      if (sums) {
        __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(h, flip),
                                      _mm256_setzero_si256());
        __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(sad),
                                   _mm256_extracti128_si256(sad, 1));
        s2 = _mm_add_epi64(s2, _mm_unpackhi_epi64(s2, s2));
        sums[i * nc + j / 32] = (int32_t)_mm_cvtsi128_si32(s2) - 32 * 128;
      }
    }
    int32_t st = 0;
    for (; j < k; j++) {
      o[j] = qd8_one(r[j], mul, zi);
      st += o[j];
    }
    if (sums && kf < k) sums[i * nc + kf / 32] = st;
  }
}
#endif

void et_xnn_quantize_qd8(const float *x, size_t m, size_t k, int8_t *q,
                         float *scale, int32_t *zp, int32_t *sums) {
#ifdef XQ_X86
  if (et_xnn_qgemm_path() == 1) {
    qd8_rows_avx2(x, m, k, q, scale, zp, sums);
    return;
  }
#endif
  qd8_rows_c(x, m, k, q, scale, zp, sums);
}

/* ---- s8 GEMM ------------------------------------------------------------ */

static inline void epilogue(const et_xnn_qepi *e, size_t i, size_t j,
                            int32_t acc, void *c, size_t ldc) {
  switch (e->kind) {
    case ET_XNN_QEPI_QS8: {
      float f = (float)(acc + e->bias[j]) * e->scale[j];
      ((int8_t *)c)[i * ldc + j] = (int8_t)rne_clamp(f, e->zo, e->qmin, e->qmax);
      break;
    }
    case ET_XNN_QEPI_F32: {
      int32_t t = acc - e->rzp[i] * e->colsum[j];
      float f = (float)t * (e->rs[i] * e->scale[j]);
      if (e->biasf) f += e->biasf[j];
      f = f < e->lo ? e->lo : (f > e->hi ? e->hi : f);
      ((float *)c)[i * ldc + j] = f;
      break;
    }
    default: ((int32_t *)c)[i * ldc + j] = acc; break;
  }
}

typedef struct s8_job {
  size_t m, n, k, kp, lda, ldc;
  const int8_t *a, *b;
  const et_xnn_qepi *e;
  void *c;
  int vec;
} s8_job;

/* Columns [j0, j1) (j0 a multiple of the panel width). */
static void s8_cols_c(const s8_job *J, size_t j0, size_t j1) {
  for (size_t i = 0; i < J->m; i++) {
    const int8_t *a = J->a + i * J->lda;
    for (size_t j = j0; j < j1; j++) {
      int32_t acc = 0;
      for (size_t kk = 0; kk < J->k; kk++)
        acc += (int32_t)a[kk] * J->b[s8_at(J->kp, kk, j)];
      epilogue(J->e, i, j, acc, J->c, J->ldc);
    }
  }
}

#ifdef XQ_X86
#define S8_KC 256 /* A elements widened at a time */

/* Row r's 8 results (columns j .. j+nv-1) through the epilogue. */
__attribute__((target("avx2"), always_inline)) static inline void
s8_store_avx2(const s8_job *J, size_t i, size_t j, size_t nv, __m256i acc) {
  const et_xnn_qepi *e = J->e;
  if (e->kind == ET_XNN_QEPI_S32) {
    int32_t t[8];
    _mm256_storeu_si256((__m256i *)t, acc);
    memcpy((int32_t *)J->c + i * J->ldc + j, t, nv * sizeof(int32_t));
    return;
  }
  int32_t ib[8] = {0};
  float fs[8] = {0}, fb[8] = {0};
  const int32_t *bias = NULL;
  const float *scale = e->scale + j, *bf = e->biasf ? e->biasf + j : NULL;
  if (nv < 8) {
    memcpy(fs, scale, nv * sizeof(float));
    scale = fs;
    if (bf) {
      memcpy(fb, bf, nv * sizeof(float));
      bf = fb;
    }
  }
  if (e->kind == ET_XNN_QEPI_QS8) {
    bias = e->bias + j;
    if (nv < 8) {
      memcpy(ib, bias, nv * sizeof(int32_t));
      bias = ib;
    }
    __m256 f = _mm256_cvtepi32_ps(
        _mm256_add_epi32(acc, _mm256_loadu_si256((const __m256i *)bias)));
    f = _mm256_mul_ps(f, _mm256_loadu_ps(scale));
    f = _mm256_max_ps(f, _mm256_set1_ps((float)(e->qmin - e->zo)));
    f = _mm256_min_ps(f, _mm256_set1_ps((float)(e->qmax - e->zo)));
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(f), _mm256_set1_epi32(e->zo));
    __m256i w = _mm256_packs_epi32(q, q);
    w = _mm256_permute4x64_epi64(w, 0x08);
    __m128i b8 = _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_castsi256_si128(w));
    int8_t *dst = (int8_t *)J->c + i * J->ldc + j;
    if (nv == 8) {
      _mm_storel_epi64((__m128i *)dst, b8);
    } else {
      int8_t t[16];
      _mm_storeu_si128((__m128i *)t, b8);
      memcpy(dst, t, nv);
    }
    return;
  }
  /* F32: (acc - rzp * colsum) * (rs * scale) + bias, clamped. */
  const int32_t *cs = e->colsum + j;
  if (nv < 8) {
    memcpy(ib, cs, nv * sizeof(int32_t));
    cs = ib;
  }
  __m256i t = _mm256_sub_epi32(
      acc, _mm256_mullo_epi32(_mm256_set1_epi32(e->rzp[i]),
                              _mm256_loadu_si256((const __m256i *)cs)));
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(t),
                           _mm256_mul_ps(_mm256_set1_ps(e->rs[i]),
                                         _mm256_loadu_ps(scale)));
  if (bf) f = _mm256_add_ps(f, _mm256_loadu_ps(bf));
  f = _mm256_max_ps(f, _mm256_set1_ps(e->lo));
  f = _mm256_min_ps(f, _mm256_set1_ps(e->hi));
  float *dst = (float *)J->c + i * J->ldc + j;
  if (nv == 8) {
    _mm256_storeu_ps(dst, f);
  } else {
    float tmp[8];
    _mm256_storeu_ps(tmp, f);
    memcpy(dst, tmp, nv * sizeof(float));
  }
}

/* mr rows x 2 panels (16 columns from j, nc of them valid). */
__attribute__((target("avx2"), always_inline)) static inline void
s8_tile_avx2(size_t mr, const s8_job *J, size_t i, size_t j, size_t nc) {
  const size_t NP = ET_XNN_QNP;
  const int8_t *b0 = J->b + (j / NP) * J->kp * NP;
  const int8_t *b1 = nc > NP ? b0 + J->kp * NP : b0;
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00,
          c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  int16_t buf[4][S8_KC] __attribute__((aligned(32)));
  for (size_t kc = 0; kc < J->k; kc += S8_KC) {
    size_t len = J->k - kc < S8_KC ? J->k - kc : S8_KC;
    size_t len2 = (len + 1) / 2 * 2;
    for (size_t r = 0; r < mr; r++) {
      const int8_t *ar = J->a + (i + r) * J->lda + kc;
      size_t t = 0;
      for (; t + 16 <= len; t += 16)
        _mm256_store_si256((__m256i *)&buf[r][t],
                           _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(ar + t))));
      for (; t < len; t++) buf[r][t] = ar[t];
      if (len < len2) buf[r][len] = 0;
    }
    const int8_t *p0 = b0 + kc * NP, *p1 = b1 + kc * NP;
    for (size_t t = 0; t < len2; t += 2) {
      __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p0 + t * NP)));
      __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p1 + t * NP)));
      int32_t pr;
      __m256i x;
#define S8_ROW(R, A0, A1)                                  \
  memcpy(&pr, &buf[R][t], 4);                              \
  x = _mm256_set1_epi32(pr);                               \
  A0 = _mm256_add_epi32(A0, _mm256_madd_epi16(x, w0));     \
  A1 = _mm256_add_epi32(A1, _mm256_madd_epi16(x, w1));
      S8_ROW(0, c00, c01)
      if (mr > 1) { S8_ROW(1, c10, c11) }
      if (mr > 2) { S8_ROW(2, c20, c21) }
      if (mr > 3) { S8_ROW(3, c30, c31) }
#undef S8_ROW
    }
  }
  size_t n0 = nc < NP ? nc : NP, n1 = nc > NP ? nc - NP : 0;
  s8_store_avx2(J, i, j, n0, c00);
  if (n1) s8_store_avx2(J, i, j + NP, n1, c01);
  if (mr > 1) {
    s8_store_avx2(J, i + 1, j, n0, c10);
    if (n1) s8_store_avx2(J, i + 1, j + NP, n1, c11);
  }
  if (mr > 2) {
    s8_store_avx2(J, i + 2, j, n0, c20);
    if (n1) s8_store_avx2(J, i + 2, j + NP, n1, c21);
  }
  if (mr > 3) {
    s8_store_avx2(J, i + 3, j, n0, c30);
    if (n1) s8_store_avx2(J, i + 3, j + NP, n1, c31);
  }
}

__attribute__((target("avx2"))) static void s8_cols_avx2(const s8_job *J,
                                                         size_t j0,
                                                         size_t j1) {
  for (size_t j = j0; j < j1; j += 2 * ET_XNN_QNP) {
    size_t nc = j1 - j < 2 * ET_XNN_QNP ? j1 - j : 2 * ET_XNN_QNP;
    size_t i = 0;
    for (; i + 4 <= J->m; i += 4) s8_tile_avx2(4, J, i, j, nc);
    switch (J->m - i) {
      case 3: s8_tile_avx2(3, J, i, j, nc); break;
      case 2: s8_tile_avx2(2, J, i, j, nc); break;
      case 1: s8_tile_avx2(1, J, i, j, nc); break;
      default: break;
    }
  }
}
#endif

/* Tasks are column blocks of two panels. */
#define S8_NB (2 * ET_XNN_QNP)

static void s8_task(void *ctx, size_t begin, size_t end) {
  const s8_job *J = (const s8_job *)ctx;
  size_t j0 = begin * S8_NB, j1 = end * S8_NB;
  if (j1 > J->n) j1 = J->n;
#ifdef XQ_X86
  if (J->vec) {
    s8_cols_avx2(J, j0, j1);
    return;
  }
#endif
  s8_cols_c(J, j0, j1);
}

/* Column blocks per task so that a task does >= ~2^18 multiply-adds. */
static size_t col_grain(size_t m, size_t k, size_t block) {
  size_t per = (m ? m : 1) * (k ? k : 1) * block;
  size_t g = ((size_t)1 << 18) / per;
  return g ? g : 1;
}

void et_xnn_qgemm_s8_par(et_parallel *par, size_t m, size_t n, size_t k,
                         const int8_t *a, size_t lda, const int8_t *packed,
                         const et_xnn_qepi *e, void *c, size_t ldc) {
  if (!m || !n) return;
  s8_job J = {m, n, k, et_xnn_qpack_s8_kp(k), lda, ldc, a, packed, e, c,
              et_xnn_qgemm_path() == 1};
  et_parallel_for(par, (n + S8_NB - 1) / S8_NB, col_grain(m, k, S8_NB),
                  s8_task, &J);
}

/* ---- qd8 x 4-bit -------------------------------------------------------- */

/* The weights are stored as u = w + 8 in [0, 15] and multiplied as they are
 * (vpmaddubsw: u unsigned, A signed); sum_k u a = sum_k w a + 8 sum_k a, so
 * a chunk's dot product is corrected by 8 times the row's chunk sum. Then
 * C = rs * (sum_ch s * (sum_k w a) - zp * q) with q = sum_ch s * sum_k w. */
typedef struct d4_job {
  size_t m, n, k, nc, lda, ldc;
  const int8_t *a;
  const float *rs;
  const int32_t *rzp, *asum;
  const uint8_t *w;
  const float *cs, *q, *bias;
  float lo, hi;
  float *c;
  int vec;
} d4_job;

#define D4_BLK (ET_XNN_Q4NB * ET_XNN_Q4C / 2) /* bytes of a block's chunk */

static inline void d4_out(const d4_job *J, size_t i, size_t j, float acc) {
  float f = J->rs[i] * (acc - (float)J->rzp[i] * J->q[j]);
  if (J->bias) f += J->bias[j];
  J->c[i * J->ldc + j] = f < J->lo ? J->lo : (f > J->hi ? J->hi : f);
}

static void d4_blocks_c(const d4_job *J, size_t b0, size_t b1) {
  size_t nc = J->nc;
  for (size_t blk = b0; blk < b1; blk++)
    for (size_t i = 0; i < J->m; i++) {
      const int8_t *a = J->a + i * J->lda;
      float acc[ET_XNN_Q4NB] = {0};
      for (size_t ch = 0; ch < nc; ch++) {
        const uint8_t *w = J->w + (blk * nc + ch) * D4_BLK;
        const float *s = J->cs + (blk * nc + ch) * ET_XNN_Q4NB;
        int32_t sa8 = 8 * J->asum[i * nc + ch];
        for (size_t c = 0; c < ET_XNN_Q4NB; c++) {
          int32_t dot = 0;
          for (size_t t = 0; t < 16; t++) {
            size_t k0 = ch * 32 + t, k1 = k0 + 16;
            uint8_t byte = w[(t / 4) * 32 + c * 4 + t % 4];
            if (k0 < J->k) dot += (int32_t)a[k0] * (int32_t)(byte & 15);
            if (k1 < J->k) dot += (int32_t)a[k1] * (int32_t)(byte >> 4);
          }
          acc[c] += s[c] * (float)(dot - sa8);
        }
      }
      size_t j0 = blk * ET_XNN_Q4NB;
      for (size_t c = 0; c < ET_XNN_Q4NB && j0 + c < J->n; c++)
        d4_out(J, i, j0 + c, acc[c]);
    }
}

#ifdef XQ_X86
__attribute__((target("avx2"), always_inline)) static inline __m256i
d4_bcast(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

/* mr rows x one block of 8 columns over all chunks: per chunk, the 32
 * bytes of vector h give the weights of k = 4h..4h+3 (low nibbles) and
 * 16+4h..16+4h+3 (high nibbles) of all 8 columns, multiplied with those
 * 4 bytes of each row broadcast; the int16 sums of a chunk stay below
 * 8 * 2 * 15 * 128 in magnitude. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
d4_tile_avx2(size_t mr, const d4_job *J, size_t i, size_t blk) {
  size_t nc = J->nc, kfull = J->k / 32, lda = J->lda;
  const uint8_t *wb = J->w + blk * nc * D4_BLK;
  const float *sb = J->cs + blk * nc * ET_XNN_Q4NB;
  const int8_t *a0 = J->a + i * lda;
  const int32_t *sa = J->asum + i * nc;
  const __m256i m4 = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
  __m256 f0 = _mm256_setzero_ps(), f1 = f0, f2 = f0, f3 = f0;
  int8_t t[4][32];
#define D4_BC(P, O) d4_bcast((P) + (O))
#define D4_MAC(R, P)                                                         \
  do {                                                                       \
    i##R = _mm256_add_epi16(i##R, _mm256_maddubs_epi16(wl, D4_BC(P, 4 * h))); \
    i##R = _mm256_add_epi16(i##R,                                            \
                            _mm256_maddubs_epi16(wh, D4_BC(P, 16 + 4 * h))); \
  } while (0)
#define D4_END(R)                                                            \
  do {                                                                       \
    __m256i d = _mm256_sub_epi32(_mm256_madd_epi16(i##R, ones),              \
                                 _mm256_set1_epi32(8 * sa[R * nc + ch]));    \
    f##R = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d), sc, f##R);                 \
  } while (0)
  for (size_t ch = 0; ch < nc; ch++) {
    const uint8_t *w = wb + ch * D4_BLK;
    const int8_t *p0, *p1, *p2, *p3;
    if (ch < kfull) {
      p0 = a0 + ch * 32;
      p1 = mr > 1 ? p0 + lda : p0;
      p2 = mr > 2 ? p1 + lda : p0;
      p3 = mr > 3 ? p2 + lda : p0;
    } else { /* the last, partial chunk: zero-padded copies of the rows */
      memset(t, 0, sizeof t);
      for (size_t r = 0; r < mr; r++)
        memcpy(t[r], a0 + r * lda + ch * 32, J->k - ch * 32);
      p0 = t[0], p1 = t[1], p2 = t[2], p3 = t[3];
    }
    _mm_prefetch((const char *)(w + 1024), _MM_HINT_T0);
    _mm_prefetch((const char *)(w + 1024 + 64), _MM_HINT_T0);
    __m256i i0 = _mm256_setzero_si256(), i1 = i0, i2 = i0, i3 = i0;
    for (size_t h = 0; h < 4; h++) {
      __m256i raw = _mm256_loadu_si256((const __m256i *)(w + 32 * h));
      __m256i wl = _mm256_and_si256(raw, m4);
      __m256i wh = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      D4_MAC(0, p0);
      if (mr > 1) D4_MAC(1, p1);
      if (mr > 2) D4_MAC(2, p2);
      if (mr > 3) D4_MAC(3, p3);
    }
    __m256 sc = _mm256_loadu_ps(sb + ch * ET_XNN_Q4NB);
    D4_END(0);
    if (mr > 1) D4_END(1);
    if (mr > 2) D4_END(2);
    if (mr > 3) D4_END(3);
  }
#undef D4_END
#undef D4_MAC
#undef D4_BC
  size_t j0 = blk * ET_XNN_Q4NB, nv = J->n - j0 < 8 ? J->n - j0 : 8;
  __m256 fr[4] = {f0, f1, f2, f3};
  if (nv == 8) {
    __m256 qv = _mm256_loadu_ps(J->q + j0);
    __m256 bv = J->bias ? _mm256_loadu_ps(J->bias + j0) : _mm256_setzero_ps();
    __m256 lo = _mm256_set1_ps(J->lo), hi = _mm256_set1_ps(J->hi);
    for (size_t r = 0; r < mr; r++) {
      __m256 zq = _mm256_mul_ps(_mm256_set1_ps((float)J->rzp[i + r]), qv);
      __m256 y = _mm256_mul_ps(_mm256_set1_ps(J->rs[i + r]),
                               _mm256_sub_ps(fr[r], zq));
      y = _mm256_add_ps(y, bv);
      y = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
      _mm256_storeu_ps(J->c + (i + r) * J->ldc + j0, y);
    }
    return;
  }
  for (size_t r = 0; r < mr; r++) {
    float acc[8];
    _mm256_storeu_ps(acc, fr[r]);
    for (size_t c = 0; c < nv; c++) d4_out(J, i + r, j0 + c, acc[c]);
  }
}

__attribute__((target("avx2,fma"))) static void d4_blocks_avx2(const d4_job *J,
                                                               size_t b0,
                                                               size_t b1) {
  for (size_t blk = b0; blk < b1; blk++) {
    size_t i = 0;
    for (; i + 4 <= J->m; i += 4) d4_tile_avx2(4, J, i, blk);
    switch (J->m - i) {
      case 3: d4_tile_avx2(3, J, i, blk); break;
      case 2: d4_tile_avx2(2, J, i, blk); break;
      case 1: d4_tile_avx2(1, J, i, blk); break;
      default: break;
    }
  }
}
#endif

static void d4_task(void *ctx, size_t begin, size_t end) {
  const d4_job *J = (const d4_job *)ctx;
#ifdef XQ_X86
  if (J->vec) {
    d4_blocks_avx2(J, begin, end);
    return;
  }
#endif
  d4_blocks_c(J, begin, end);
}

void et_xnn_qgemm_d4_par(et_parallel *par, size_t m, size_t n, size_t k,
                         const int8_t *a, size_t lda, const float *rs,
                         const int32_t *rzp, const int32_t *asum,
                         const uint8_t *packed, const float *chunk_scale,
                         const float *q, const float *bias, float lo, float hi,
                         float *c, size_t ldc) {
  if (!m || !n) return;
  d4_job J = {m, n, k, et_xnn_qd8_nchunks(k), lda, ldc, a, rs, rzp, asum,
              packed, chunk_scale, q, bias, lo, hi, c,
              et_xnn_qgemm_path() == 1};
  et_parallel_for(par, (n + ET_XNN_Q4NB - 1) / ET_XNN_Q4NB,
                  col_grain(m, k, ET_XNN_Q4NB), d4_task, &J);
}
