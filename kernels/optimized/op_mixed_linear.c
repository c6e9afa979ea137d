/*
 * quantized_decomposed::mixed_linear.out, fast: a float32 input times int8
 * weights with float32 scales per output channel or per group (what
 * edgetorch.llm.export(quantize="int8") writes), split over the
 * parallel-for hook.
 *
 * The portable kernel (kernels/quantized/op_mixed_linear.c) keeps
 * upstream's exact arithmetic: one rounding per product and per sum, in
 * order, one output at a time. This one is judged like the other optimized
 * kernels, against eager with float tolerance (FMA, other summation
 * orders), and gives the same bits for every thread count:
 *
 * - few rows (m <= DOT_MAX_M, the decode step): each task takes a block of
 *   output channels and streams their int8 weight rows once, 1 byte per
 *   weight, into dot products with the input rows (AVX2+FMA or NEON: 8
 *   weights a step, widened and converted in registers; plain C otherwise,
 *   the path chosen at run time as the CPU backend's), one sum per group
 *   times its scale;
 * - more rows (prefill): blocks of NR-channel panels are dequantized (w *
 *   scale) into the kernel's scratch and multiplied on the CPU backend's
 *   GEMM micro kernels; with less scratch than one panel, the dot path.
 *
 * Whatever this does not take goes to the portable kernel, with its checks
 * and its exact results: inputs other than Float (Half, a Double or Half
 * out), weight zero points, fewer than MIN_K input channels (nothing to
 * gain), groups that are not a multiple of 8 channels, other layouts.
 */
#include "optimized/optimized.h"

#include "quantized/ops.h"
#include "util/shape_util.h"
#include "xnn_gemm.h"

#include <math.h>
#include <stdint.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__) && \
    (defined(__GNUC__) || defined(__clang__))
#define ML_X86 1
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define ML_NEON 1
#include <arm_neon.h>
#endif

#define MIN_K 32
#define DOT_MAX_M 4
#define ROWS 4         /* output channels a dot tile computes */
#define TASK_ROWS 32   /* output channels a task takes (a multiple of ROWS) */
#define PACK_MAX_BYTES ((size_t)512 << 10)

typedef struct ml_job {
  const float *x, *s;
  const int8_t *w;
  float *out;
  size_t m, n, p, g, ng; /* rows, input channels, outputs, group size, groups */
} ml_job;

/* out[i][j0 + r] for r < rows, i < m: sum over groups of the group's dot
 * product times its scale. */
static void dot_c(const ml_job *j, size_t j0, size_t rows) {
  for (size_t i = 0; i < j->m; i++) {
    const float *x = j->x + i * j->n;
    for (size_t r = 0; r < rows; r++) {
      const int8_t *w = j->w + (j0 + r) * j->n;
      const float *s = j->s + (j0 + r) * j->ng;
      float acc = 0.0f;
      for (size_t q = 0; q < j->ng; q++) {
        float part = 0.0f;
        for (size_t k = q * j->g; k < (q + 1) * j->g; k++) part += x[k] * (float)w[k];
        acc += part * s[q];
      }
      j->out[i * j->p + j0 + r] = acc;
    }
  }
}

#ifdef ML_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 load8(const int8_t *w) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)w)));
}

AVX2 static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* ROWS output channels of one input row; groups of g % 8 == 0 channels
 * (per channel: g == n, any n, the last n % 8 in plain C). */
AVX2 static void dot4_avx2(const ml_job *j, const float *x, size_t j0, float *y) {
  const size_t n = j->n, g = j->g;
  const int8_t *w0 = j->w + j0 * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
  const float *s = j->s + j0 * j->ng;
  /* prefetch two tiles ahead, within the weight */
  const int8_t *pf = j0 + 3 * ROWS <= j->p ? w0 + 2 * ROWS * n : NULL;
  __m256 t0 = _mm256_setzero_ps(), t1 = t0, t2 = t0, t3 = t0;
  float tail[ROWS] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (size_t q = 0; q < j->ng; q++) {
    const size_t k0 = q * g, k1 = k0 + g, kv = k0 + (g & ~(size_t)7);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t k = k0; k < kv; k += 8) {
      /* The next tile's rows (the 4n bytes after these), a line every two
       * steps: four short row streams alone leave the prefetchers idle
       * (half the bandwidth of one long stream, measured). */
      if ((k & 15) == 0 && pf) _mm_prefetch((const char *)(pf + 4 * k), _MM_HINT_T0);
      const __m256 xv = _mm256_loadu_ps(x + k);
      a0 = _mm256_fmadd_ps(xv, load8(w0 + k), a0);
      a1 = _mm256_fmadd_ps(xv, load8(w1 + k), a1);
      a2 = _mm256_fmadd_ps(xv, load8(w2 + k), a2);
      a3 = _mm256_fmadd_ps(xv, load8(w3 + k), a3);
    }
    for (size_t k = kv; k < k1; k++) { /* per channel only: n % 8 */
      tail[0] += x[k] * (float)w0[k];
      tail[1] += x[k] * (float)w1[k];
      tail[2] += x[k] * (float)w2[k];
      tail[3] += x[k] * (float)w3[k];
    }
    const size_t ng = j->ng;
    t0 = _mm256_fmadd_ps(a0, _mm256_set1_ps(s[q]), t0);
    t1 = _mm256_fmadd_ps(a1, _mm256_set1_ps(s[ng + q]), t1);
    t2 = _mm256_fmadd_ps(a2, _mm256_set1_ps(s[2 * ng + q]), t2);
    t3 = _mm256_fmadd_ps(a3, _mm256_set1_ps(s[3 * ng + q]), t3);
  }
  /* a tail exists only with one group: its scale is s[r * ng] = s[r] */
  y[0] = hsum(t0) + tail[0] * s[0];
  y[1] = hsum(t1) + tail[1] * s[j->ng];
  y[2] = hsum(t2) + tail[2] * s[2 * j->ng];
  y[3] = hsum(t3) + tail[3] * s[3 * j->ng];
}
#endif

#ifdef ML_NEON
static inline void fma8(float32x4_t *lo, float32x4_t *hi, const float *x, const int8_t *w) {
  const int16x8_t w16 = vmovl_s8(vld1_s8(w));
  *lo = vfmaq_f32(*lo, vld1q_f32(x), vcvtq_f32_s32(vmovl_s16(vget_low_s16(w16))));
  *hi = vfmaq_f32(*hi, vld1q_f32(x + 4), vcvtq_f32_s32(vmovl_s16(vget_high_s16(w16))));
}

/* dot4_avx2's NEON twin (same groups, same tail). */
static void dot4_neon(const ml_job *j, const float *x, size_t j0, float *y) {
  const size_t n = j->n, g = j->g, ng = j->ng;
  const int8_t *w[ROWS] = {j->w + j0 * n, j->w + (j0 + 1) * n, j->w + (j0 + 2) * n,
                           j->w + (j0 + 3) * n};
  const float *s = j->s + j0 * ng;
  float32x4_t t[ROWS];
  float tail[ROWS] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (size_t r = 0; r < ROWS; r++) t[r] = vdupq_n_f32(0.0f);
  for (size_t q = 0; q < ng; q++) {
    const size_t k0 = q * g, k1 = k0 + g, kv = k0 + (g & ~(size_t)7);
    float32x4_t lo[ROWS], hi[ROWS];
    for (size_t r = 0; r < ROWS; r++) lo[r] = hi[r] = vdupq_n_f32(0.0f);
    for (size_t k = k0; k < kv; k += 8)
      for (size_t r = 0; r < ROWS; r++) fma8(&lo[r], &hi[r], x + k, w[r] + k);
    for (size_t k = kv; k < k1; k++)
      for (size_t r = 0; r < ROWS; r++) tail[r] += x[k] * (float)w[r][k];
    for (size_t r = 0; r < ROWS; r++)
      t[r] = vfmaq_n_f32(t[r], vaddq_f32(lo[r], hi[r]), s[r * ng + q]);
  }
  for (size_t r = 0; r < ROWS; r++) y[r] = vaddvq_f32(t[r]) + tail[r] * s[r * ng];
}
#endif

static void dot_task(void *ctx, size_t begin, size_t end) {
  const ml_job *j = (const ml_job *)ctx;
  size_t j0 = begin * TASK_ROWS, j1 = end * TASK_ROWS < j->p ? end * TASK_ROWS : j->p;
#ifdef ML_X86
  if (et_xnn_gemm_path() == 1) {
    for (; j0 + ROWS <= j1; j0 += ROWS)
      for (size_t i = 0; i < j->m; i++) {
        float y[ROWS];
        dot4_avx2(j, j->x + i * j->n, j0, y);
        for (size_t r = 0; r < ROWS; r++) j->out[i * j->p + j0 + r] = y[r];
      }
  }
#endif
#ifdef ML_NEON
  if (et_xnn_gemm_path() == 2) {
    for (; j0 + ROWS <= j1; j0 += ROWS)
      for (size_t i = 0; i < j->m; i++) {
        float y[ROWS];
        dot4_neon(j, j->x + i * j->n, j0, y);
        for (size_t r = 0; r < ROWS; r++) j->out[i * j->p + j0 + r] = y[r];
      }
  }
#endif
  if (j0 < j1) dot_c(j, j0, j1 - j0);
}

/* Panels of ET_XNN_NR output channels, dequantized (w * scale), in the
 * GEMM's packed layout: panel[k][c] = w[c0 + c][k] * s[c0 + c][k / g]. */
static void dequant_pack(const ml_job *j, float *dst, size_t c0, size_t cols) {
  for (size_t c = 0; c < ET_XNN_NR; c++) {
    float *d = dst + c;
    if (c >= cols) {
      for (size_t k = 0; k < j->n; k++) d[k * ET_XNN_NR] = 0.0f;
      continue;
    }
    const int8_t *w = j->w + (c0 + c) * j->n;
    const float *s = j->s + (c0 + c) * j->ng;
    for (size_t q = 0; q < j->ng; q++)
      for (size_t k = q * j->g; k < (q + 1) * j->g; k++)
        d[k * ET_XNN_NR] = (float)w[k] * s[q];
  }
}

typedef struct pack_job {
  const ml_job *j;
  float *buf;
  size_t c0, cols;
} pack_job;

static void pack_task(void *ctx, size_t begin, size_t end) {
  const pack_job *pj = (const pack_job *)ctx;
  for (size_t t = begin; t < end; t++) {
    size_t c = t * ET_XNN_NR, left = pj->cols - c;
    dequant_pack(pj->j, pj->buf + t * pj->j->n * ET_XNN_NR, pj->c0 + c,
                 left < ET_XNN_NR ? left : ET_XNN_NR);
  }
}

static bool packed_gemm(et_kernel_ctx *ctx, const ml_job *j) {
  const size_t panel_bytes = j->n * ET_XNN_NR * sizeof(float);
  size_t avail = ctx->scratch_size > ctx->scratch_used ? ctx->scratch_size - ctx->scratch_used : 0;
  if (avail > PACK_MAX_BYTES) avail = PACK_MAX_BYTES;
  size_t panels = avail > 64 ? (avail - 64) / panel_bytes : 0;
  const size_t all = (j->p + ET_XNN_NR - 1) / ET_XNN_NR;
  if (panels < 1) return false;
  if (panels > all) panels = all;
  const size_t saved = ctx->scratch_used;
  float *buf = (float *)et_kernel_scratch(ctx, panels * panel_bytes, 64);
  if (!buf) return false;
  const size_t step = panels * ET_XNN_NR;
  for (size_t c0 = 0; c0 < j->p; c0 += step) {
    const size_t cols = j->p - c0 < step ? j->p - c0 : step;
    pack_job pj = {j, buf, c0, cols};
    et_parallel_for(ctx->parallel, (cols + ET_XNN_NR - 1) / ET_XNN_NR, 1, pack_task, &pj);
    et_xnn_gemm_packed_par(ctx->parallel, j->m, cols, j->n, j->x, j->n, buf, NULL,
                           j->out + c0, j->p, -INFINITY, INFINITY);
  }
  ctx->scratch_used = saved;
  return true;
}

et_status et_opt_mixed_linear_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *w = args[1]->u.t, *s = args[2]->u.t;
  et_tensor *out = args[5]->u.t;
  const bool dtype_ok = args[4]->tag == ET_TAG_NONE || args[4]->u.i == ET_FLOAT;
  if (!dtype_ok || args[3]->tag != ET_TAG_NONE || in->dtype != ET_FLOAT ||
      w->dtype != ET_CHAR || s->dtype != ET_FLOAT || out->dtype != ET_FLOAT ||
      in->rank != 2 || w->rank != 2 || out->rank != 2 || (s->rank != 1 && s->rank != 2) ||
      in->sizes[1] != w->sizes[1] || s->sizes[0] != w->sizes[0] ||
      !et_tensor_is_contiguous(in) || !et_tensor_is_contiguous(w) ||
      !et_tensor_is_contiguous(s) || !et_tensor_is_contiguous(out) ||
      (in->data == NULL && et_tensor_numel(in)) || (w->data == NULL && et_tensor_numel(w)) ||
      (s->data == NULL && et_tensor_numel(s)) || in->sizes[1] < MIN_K)
    return et_q_mixed_linear_out(ctx, args);
  const size_t m = (size_t)in->sizes[0], n = (size_t)in->sizes[1], p = (size_t)w->sizes[0];
  const size_t ng = s->rank == 2 ? (size_t)s->sizes[1] : 1;
  if (ng == 0 || n % ng != 0 || (ng > 1 && (n / ng) % 8 != 0))
    return et_q_mixed_linear_out(ctx, args);
  const int64_t sizes[2] = {(int64_t)m, (int64_t)p};
  ET_K_TRY(et_k_resize(ctx, out, sizes, 2, "out"));
  if (m == 0 || p == 0) return ET_OK;
  if (out->data == NULL) return et_q_mixed_linear_out(ctx, args); /* its message */
  ml_job j = {(const float *)in->data, (const float *)s->data, (const int8_t *)w->data,
              (float *)out->data, m, n, p, n / ng, ng};
  if (m > DOT_MAX_M && p >= ET_XNN_NR && packed_gemm(ctx, &j)) return ET_OK;
  const size_t tasks = (p + TASK_ROWS - 1) / TASK_ROWS;
  /* ~64K multiply-adds a task at least */
  const size_t per = m * n * TASK_ROWS;
  et_parallel_for(ctx->parallel, tasks, ((size_t)1 << 16) / per + 1, dot_task, &j);
  return ET_OK;
}
