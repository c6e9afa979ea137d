/*
 * Quantized nodes of the CPU backend: which type signatures run (checked
 * once at init by et_xnn_qcheck) and their kernels (et_xnn_qrun), with
 * XNNPACK's semantics: per-tensor int8 activations, per-channel int8
 * weights, dynamic per-row int8 activations with int8 / 4-bit weights.
 * Requantization is XNNPACK's fp32 one: scale in float, clamp, round to
 * nearest even, add the zero point.
 */
#include "xnn_internal.h"
#include "xnn_qgemm.h"

#include <math.h>
#include <string.h>

#include "xnn_gemm.h" /* et_xnn_gemm_path: the AVX2 path check */

#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__) && \
    (defined(__GNUC__) || defined(__clang__))
#define XQ_X86 1
#include <immintrin.h>
#endif

static const xnn_val *V(const xnn_graph *g, uint32_t id) { return &g->vals[id]; }

static size_t numel(uint32_t rank, const uint32_t *dims) {
  size_t n = 1;
  for (uint32_t i = 0; i < rank; i++) n *= dims[i];
  return n;
}

bool et_xnn_is_quant_node(const xnn_graph *g, const xnn_node *n) {
  if (n->q) return true;
  if (g->vals[n->out].dt != XDT_F32) return true;
  for (unsigned k = 0; k < n->n_in; k++)
    if (n->in[k] != XNN_INVALID_ID && g->vals[n->in[k]].dt != XDT_F32)
      return true;
  return false;
}

static bool is_q8(const xnn_val *v) {
  return (v->dt == XDT_QINT8 || v->dt == XDT_QUINT8) && v->qkind == XQ_TENSOR;
}

static bool same_q(const xnn_val *a, const xnn_val *b) {
  return a->dt == b->dt && a->qkind == XQ_TENSOR && b->qkind == XQ_TENSOR &&
         a->qs == b->qs && a->qz == b->qz;
}

static et_status unsupported(et_diag *d, uint32_t i, uint32_t type,
                             const char *why) {
  return et_diag_set(d, ET_NOT_SUPPORTED,
                     "XnnpackBackend: node %u (type %u) on quantized "
                     "values: %s", i, type, why);
}

et_status et_xnn_qcheck(const xnn_graph *g, const xnn_node *n, uint32_t i,
                        et_diag *d) {
  if (!et_xnn_is_quant_node(g, n)) return ET_OK;
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  switch (n->type) {
    case XN_CONVERT:
      if (a->dt == XDT_F32 && (is_q8(o) || o->dt == XDT_QDINT8)) return ET_OK;
      if (is_q8(a) && o->dt == XDT_F32) return ET_OK;
      return unsupported(d, i, n->type,
                         "convert runs fp32 -> qint8/quint8/qdint8 and "
                         "qint8/quint8 -> fp32");
    case XN_FULLY_CONNECTED: case XN_CONV2D: case XN_DW_CONV2D:
      if (!n->q || n->q->kind == QP_NONE)
        return unsupported(d, i, n->type, "weights were not prepared");
      return ET_OK;
    case XN_ADD: case XN_MULTIPLY: {
      const xnn_val *b = V(g, n->in[1]);
      if (a->dt == XDT_QINT8 && is_q8(a) && is_q8(b) && is_q8(o) &&
          b->dt == XDT_QINT8 && o->dt == XDT_QINT8)
        return ET_OK;
      return unsupported(d, i, n->type, "add / multiply need qint8 inputs "
                                        "and output");
    }
    case XN_CLAMP: /* a change of quantization requantizes */
      if (is_q8(a) && is_q8(o)) return ET_OK;
      return unsupported(d, i, n->type, "int8 input and output needed");
    case XN_MAX_POOL: case XN_TRANSPOSE: case XN_RESHAPE: case XN_SLICE:
    case XN_CONSTANT_PAD: case XN_COPY:
      if (is_q8(a) && same_q(a, o)) return ET_OK;
      return unsupported(d, i, n->type, "input and output must share one "
                                        "int8 quantization");
    case XN_GLOBAL_AVG_POOL:
      if (a->dt == XDT_QINT8 && is_q8(a) && o->dt == XDT_QINT8 && is_q8(o))
        return ET_OK;
      return unsupported(d, i, n->type, "qint8 input and output needed");
    case XN_CAT2: case XN_CAT3: case XN_CAT4: case XN_CAT5:
      for (unsigned k = 0; k < n->n_in; k++)
        if (!is_q8(V(g, n->in[k])) || !same_q(V(g, n->in[k]), o))
          return unsupported(d, i, n->type,
                             "concatenated values must share the output's "
                             "int8 quantization");
      return ET_OK;
    default:
      return unsupported(d, i, n->type, "not supported by this backend");
  }
}

/* The int8 clamp of a node's float output range in o's quantization. */
static void qrange(const xnn_node *n, const xnn_val *o, int32_t *lo,
                   int32_t *hi) {
  int32_t tmin = o->dt == XDT_QUINT8 ? 0 : -128, tmax = tmin + 255;
  *lo = tmin;
  *hi = tmax;
  if (n->lo > -INFINITY) {
    float f = n->lo / o->qs + (float)o->qz;
    f = f < (float)tmin ? (float)tmin : (f > (float)tmax ? (float)tmax : f);
    *lo = (int32_t)lrintf(f);
  }
  if (n->hi < INFINITY) {
    float f = n->hi / o->qs + (float)o->qz;
    f = f < (float)tmin ? (float)tmin : (f > (float)tmax ? (float)tmax : f);
    *hi = (int32_t)lrintf(f);
  }
  if (*hi < *lo) *hi = *lo;
}

static inline int32_t requant(float f, int32_t zo, int32_t lo, int32_t hi) {
  float a = (float)(lo - zo), b = (float)(hi - zo);
  f = f < a ? a : (f > b ? b : f);
  if (f != f) f = 0.0f;
  return (int32_t)lrintf(f) + zo;
}

static inline int32_t ld8(const xnn_val *v, size_t i) {
  const uint8_t *p = (const uint8_t *)v->data;
  return v->dt == XDT_QUINT8 ? (int32_t)p[i] : (int32_t)(int8_t)p[i];
}

static inline void st8(const xnn_val *v, size_t i, int32_t q) {
  ((uint8_t *)v->data)[i] = (uint8_t)(v->dt == XDT_QUINT8 ? q : (int8_t)q);
}

/* ---- convert ------------------------------------------------------------ */

static void convert(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  size_t cnt = numel(o->rank, o->dims);
  if (o->dt == XDT_QDINT8) {
    size_t k = o->rank ? o->dims[o->rank - 1] : 1;
    size_t rows = k ? cnt / k : 0;
    et_xnn_quantize_qd8(a->data, rows, k, (int8_t *)o->data, o->rs, o->rz,
                        o->ra);
    return;
  }
  if (o->dt == XDT_F32) {
    float *z = o->data;
    for (size_t i = 0; i < cnt; i++)
      z[i] = (float)(ld8(a, i) - a->qz) * a->qs;
    return;
  }
  int32_t lo, hi;
  qrange(n, o, &lo, &hi);
  float inv = 1.0f / o->qs;
  for (size_t i = 0; i < cnt; i++)
    st8(o, i, requant(a->data[i] * inv, o->qz, lo, hi));
}

/* ---- fully connected, convolutions -------------------------------------- */

static void fully_connected(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  const xnn_qprep *q = n->q;
  size_t K = n->k, N = n->n;
  size_t M = K ? numel(a->rank, a->dims) / K
               : (a->rank ? numel(a->rank - 1, a->dims) : 1);
  if (q->kind == QP_DQ4) {
    et_xnn_qgemm_d4_par(g->par, M, N, K, (const int8_t *)a->data, K, a->rs,
                        a->rz, a->ra, q->w4, q->cs, q->q4, q->biasf, n->lo, n->hi,
                        o->data, N);
    return;
  }
  et_xnn_qepi e;
  memset(&e, 0, sizeof e);
  if (q->kind == QP_DQ8) {
    e.kind = ET_XNN_QEPI_F32;
    e.scale = q->scale;
    e.rs = a->rs;
    e.rzp = a->rz;
    e.colsum = q->colsum;
    e.biasf = q->biasf;
    e.lo = n->lo;
    e.hi = n->hi;
  } else {
    e.kind = ET_XNN_QEPI_QS8;
    e.bias = q->bias;
    e.scale = q->scale;
    e.zo = q->zo;
    qrange(n, o, &e.qmin, &e.qmax);
  }
  et_xnn_qgemm_s8_par(g->par, M, N, K, (const int8_t *)a->data, K, q->w8, &e,
                      o->data, N);
}

/* Output rows [r0, r1) (row = batch * OH + oy) of an int8 convolution with
 * im2col buffer col (OW rows of kp bytes). */
static void conv_rows(const xnn_graph *g, const xnn_node *n, size_t r0,
                      size_t r1, int8_t *col, et_parallel *par) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  const xnn_conv *c = &n->p.conv;
  const xnn_qprep *q = n->q;
  uint32_t H = a->dims[1], W = a->dims[2], C = a->dims[3];
  uint32_t OH = o->dims[1], OW = o->dims[2], OC = o->dims[3];
  size_t K = n->k, N = n->n, kp = q->kp;
  const int8_t *x = (const int8_t *)a->data;
  et_xnn_qepi e;
  memset(&e, 0, sizeof e);
  e.kind = ET_XNN_QEPI_QS8;
  e.zo = q->zo;
  qrange(n, o, &e.qmin, &e.qmax);
  for (size_t r = r0; r < r1; r++) {
    uint32_t b = (uint32_t)(r / OH), oy = (uint32_t)(r % OH);
    for (uint32_t gi = 0; gi < c->groups; gi++) {
      for (uint32_t ox = 0; ox < OW; ox++) {
        int8_t *row = col + (size_t)ox * kp;
        for (uint32_t ky = 0; ky < c->kh; ky++) {
          int64_t iy = (int64_t)oy * c->sh + (int64_t)ky * c->dh - c->pt;
          for (uint32_t kx = 0; kx < c->kw; kx++) {
            int64_t ix = (int64_t)ox * c->sw + (int64_t)kx * c->dw - c->pl;
            int8_t *dst = row + ((size_t)ky * c->kw + kx) * c->gic;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
              memset(dst, (int8_t)q->za, c->gic);
            else
              memcpy(dst,
                     x + (((size_t)b * H + (size_t)iy) * W + (size_t)ix) * C +
                         (size_t)gi * c->gic,
                     c->gic);
          }
        }
        memset(row + K, 0, kp - K);
      }
      e.bias = q->bias + (size_t)gi * N;
      e.scale = q->scale + (size_t)gi * N;
      et_xnn_qgemm_s8_par(par, OW, N, K, col, kp, q->w8 + (size_t)gi * q->wstride,
                          &e,
                          (int8_t *)o->data +
                              (((size_t)b * OH + oy) * OW) * OC +
                              (size_t)gi * N,
                          OC);
    }
  }
}

typedef struct qjob {
  const xnn_graph *g;
  const xnn_node *n;
  size_t rows, slots;
} qjob;

static void conv_slots(void *ctx, size_t begin, size_t end) {
  const qjob *J = (const qjob *)ctx;
  for (size_t s = begin; s < end; s++)
    conv_rows(J->g, J->n, J->rows * s / J->slots,
              J->rows * (s + 1) / J->slots,
              (int8_t *)J->n->scratch + s * J->n->scratch_floats, NULL);
}

static void conv2d(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  const xnn_conv *c = &n->p.conv;
  const xnn_qprep *q = n->q;
  if (c->kh == 1 && c->kw == 1 && c->sh == 1 && c->sw == 1 && !c->pt &&
      !c->pl && !c->pb && !c->pr && c->groups == 1) {
    et_xnn_qepi e;
    memset(&e, 0, sizeof e);
    e.kind = ET_XNN_QEPI_QS8;
    e.zo = q->zo;
    e.bias = q->bias;
    e.scale = q->scale;
    qrange(n, o, &e.qmin, &e.qmax);
    size_t M = (size_t)a->dims[0] * a->dims[1] * a->dims[2];
    et_xnn_qgemm_s8_par(g->par, M, n->n, n->k, (const int8_t *)a->data,
                        a->dims[3], q->w8, &e, o->data, o->dims[3]);
    return;
  }
  size_t rows = (size_t)o->dims[0] * o->dims[1];
  size_t threads = et_parallel_threads(g->par);
  size_t slots = threads > 1 ? 2 * threads : 1;
  if (slots > XNN_CONV_SLOTS) slots = XNN_CONV_SLOTS;
  if (slots > rows) slots = rows;
  if (slots <= 1) {
    conv_rows(g, n, 0, rows, (int8_t *)n->scratch, g->par);
    return;
  }
  qjob J = {g, n, rows, slots};
  et_parallel_for(g->par, slots, 1, conv_slots, &J);
}

/* One depthwise tap over cn channels: acc[k] += (x[k] - za) * w[k]. */
static void dw_tap_c(int32_t *acc, const int8_t *x, const int8_t *w, int32_t za,
                     uint32_t cn) {
  for (uint32_t k = 0; k < cn; k++) acc[k] += ((int32_t)x[k] - za) * w[k];
}

#ifdef XQ_X86
/* Eight channels at a time widened to int32 (exact: |(x - za) * w| fits);
 * the rest as dw_tap_c. */
__attribute__((target("avx2"))) static void dw_tap_avx2(int32_t *acc, const int8_t *x,
                                                       const int8_t *w, int32_t za,
                                                       uint32_t cn) {
  const __m256i vz = _mm256_set1_epi32(za);
  uint32_t k = 0;
  for (; k + 8 <= cn; k += 8) {
    __m256i xv = _mm256_sub_epi32(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(x + k))), vz);
    __m256i wv = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(w + k)));
    __m256i a = _mm256_loadu_si256((const __m256i *)(acc + k));
    _mm256_storeu_si256((__m256i *)(acc + k), _mm256_add_epi32(a, _mm256_mullo_epi32(xv, wv)));
  }
  dw_tap_c(acc + k, x + k, w + k, za, cn - k);
}
#endif

#ifdef XQ_X86
/* One output pixel's channels in blocks of 16 (channel multiplier 1): the
 * accumulators stay in registers over the taps, each tap's (x - za) * w
 * exact in int16 (|x - za| <= 255, |w| <= 128) and widened into them; the
 * requantization is dw_rows' own arithmetic. Returns the channels done. */
__attribute__((target("avx2"))) static uint32_t
dw_pixel_avx2(const xnn_node *n, const int8_t *x, uint32_t H, uint32_t W,
              uint32_t C, uint32_t b, uint32_t oy, uint32_t ox, uint32_t OC,
              int32_t lo, int32_t hi, int8_t *z) {
  const xnn_conv *c = &n->p.conv;
  const xnn_qprep *q = n->q;
  const __m256i za = _mm256_set1_epi16((int16_t)q->za);
  const __m256 flo = _mm256_set1_ps((float)(lo - q->zo));
  const __m256 fhi = _mm256_set1_ps((float)(hi - q->zo));
  const __m256i zo = _mm256_set1_epi32(q->zo);
  uint32_t c0 = 0;
  for (; c0 + 16 <= OC; c0 += 16) {
    __m256i a0 = _mm256_loadu_si256((const __m256i *)(q->bias + c0));
    __m256i a1 = _mm256_loadu_si256((const __m256i *)(q->bias + c0 + 8));
    for (uint32_t ky = 0; ky < c->kh; ky++) {
      int64_t iy = (int64_t)oy * c->sh + (int64_t)ky * c->dh - c->pt;
      if (iy < 0 || iy >= H) continue;
      for (uint32_t kx = 0; kx < c->kw; kx++) {
        int64_t ix = (int64_t)ox * c->sw + (int64_t)kx * c->dw - c->pl;
        if (ix < 0 || ix >= W) continue;
        const int8_t *xp =
            x + (((size_t)b * H + (size_t)iy) * W + (size_t)ix) * C + c0;
        const int8_t *wp = q->w8 + ((size_t)ky * c->kw + kx) * OC + c0;
        __m256i xv = _mm256_sub_epi16(
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)xp)), za);
        __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wp));
        __m256i pr = _mm256_mullo_epi16(xv, wv);
        a0 = _mm256_add_epi32(a0, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(pr)));
        a1 = _mm256_add_epi32(a1, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(pr, 1)));
      }
    }
    __m256 f0 = _mm256_mul_ps(_mm256_cvtepi32_ps(a0), _mm256_loadu_ps(q->scale + c0));
    __m256 f1 = _mm256_mul_ps(_mm256_cvtepi32_ps(a1), _mm256_loadu_ps(q->scale + c0 + 8));
    f0 = _mm256_min_ps(_mm256_max_ps(f0, flo), fhi);
    f1 = _mm256_min_ps(_mm256_max_ps(f1, flo), fhi);
    __m256i i0 = _mm256_add_epi32(_mm256_cvtps_epi32(f0), zo);
    __m256i i1 = _mm256_add_epi32(_mm256_cvtps_epi32(f1), zo);
    __m256i h = _mm256_permute4x64_epi64(_mm256_packs_epi32(i0, i1), 0xD8);
    _mm_storeu_si128((__m128i *)(z + c0),
                     _mm_packs_epi16(_mm256_castsi256_si128(h),
                                     _mm256_extracti128_si256(h, 1)));
  }
  return c0;
}
#endif

static void dw_rows(void *ctx, size_t begin, size_t end) {
  const qjob *J = (const qjob *)ctx;
  const xnn_node *n = J->n;
  const xnn_val *a = V(J->g, n->in[0]), *o = V(J->g, n->out);
  const xnn_conv *c = &n->p.conv;
  const xnn_qprep *q = n->q;
  uint32_t H = a->dims[1], W = a->dims[2], C = a->dims[3];
  uint32_t OH = o->dims[1], OW = o->dims[2], OC = o->dims[3], mult = c->goc;
  const int8_t *x = (const int8_t *)a->data;
  int32_t lo, hi, acc[256];
  const int32_t za = q->za;
  void (*tap)(int32_t *, const int8_t *, const int8_t *, int32_t, uint32_t) = dw_tap_c;
#ifdef XQ_X86
  if (et_xnn_gemm_path() == 1) tap = dw_tap_avx2;
#endif
  qrange(n, o, &lo, &hi);
  for (size_t r = begin; r < end; r++) {
    uint32_t b = (uint32_t)(r / OH), oy = (uint32_t)(r % OH);
    for (uint32_t ox = 0; ox < OW; ox++) {
      int8_t *z = (int8_t *)o->data + (((size_t)b * OH + oy) * OW + ox) * OC;
      uint32_t done = 0;
#ifdef XQ_X86
      if (mult == 1 && tap == dw_tap_avx2)
        done = dw_pixel_avx2(n, x, H, W, C, b, oy, ox, OC, lo, hi, z);
#endif
      for (uint32_t c0 = done; c0 < OC; c0 += 256) {
        uint32_t cn = OC - c0 < 256 ? OC - c0 : 256;
        for (uint32_t k = 0; k < cn; k++) acc[k] = q->bias[c0 + k];
        for (uint32_t ky = 0; ky < c->kh; ky++) {
          int64_t iy = (int64_t)oy * c->sh + (int64_t)ky * c->dh - c->pt;
          if (iy < 0 || iy >= H) continue;
          for (uint32_t kx = 0; kx < c->kw; kx++) {
            int64_t ix = (int64_t)ox * c->sw + (int64_t)kx * c->dw - c->pl;
            if (ix < 0 || ix >= W) continue;
            const int8_t *xp =
                x + (((size_t)b * H + (size_t)iy) * W + (size_t)ix) * C;
            const int8_t *w = q->w8 + ((size_t)ky * c->kw + kx) * OC + c0;
            if (mult == 1)
              tap(acc, xp + c0, w, za, cn);
            else
              for (uint32_t k = 0; k < cn; k++)
                acc[k] += ((int32_t)xp[(c0 + k) / mult] - za) * w[k];
          }
        }
        /* Requantize (clamp, then round to nearest even by the 1.5 * 2^23
         * trick, exact for |f| < 2^22: the clamped range is within 255),
         * written so the compiler vectorizes it. */
        const float *sc = q->scale + c0;
        float flo = (float)(lo - q->zo), fhi = (float)(hi - q->zo);
        for (uint32_t k = 0; k < cn; k++) {
          float f = (float)acc[k] * sc[k];
          f = f < flo ? flo : f;
          f = f > fhi ? fhi : f;
          f = (f + 12582912.0f) - 12582912.0f;
          z[c0 + k] = (int8_t)((int32_t)f + q->zo);
        }
      }
    }
  }
}

/* ---- element-wise, pooling, data movement ------------------------------- */

/* Same-shape qint8 add / multiply over [i, cnt): the general loop's
 * arithmetic (separate float multiplies and adds, clamp, nearest even);
 * returns where it stopped. */
typedef struct qbin {
  const int8_t *x, *y;
  int8_t *z;
  int32_t za, zb, zo, lo, hi;
  float ma, mb, mm;
  bool add;
} qbin;

static inline int32_t qbin_one(const qbin *q, size_t i) {
  float u = (float)((int32_t)q->x[i] - q->za), v = (float)((int32_t)q->y[i] - q->zb);
  float f = q->add ? u * q->ma + v * q->mb : u * v * q->mm;
  return requant(f, q->zo, q->lo, q->hi);
}

#ifdef XQ_X86
__attribute__((target("avx2"))) static inline __m256 qbin_ld(const int8_t *p,
                                                            __m256i z) {
  __m256i w = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
  return _mm256_cvtepi32_ps(_mm256_sub_epi32(w, z));
}

__attribute__((target("avx2"))) static size_t qbin_avx2(const qbin *q,
                                                        size_t cnt) {
  const __m256i za = _mm256_set1_epi32(q->za), zb = _mm256_set1_epi32(q->zb);
  const __m256i zo = _mm256_set1_epi32(q->zo);
  const __m256 lo = _mm256_set1_ps((float)(q->lo - q->zo));
  const __m256 hi = _mm256_set1_ps((float)(q->hi - q->zo));
  const __m256 ma = _mm256_set1_ps(q->ma), mb = _mm256_set1_ps(q->mb);
  const __m256 mm = _mm256_set1_ps(q->mm);
  const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  size_t i = 0;
  for (; i + 32 <= cnt; i += 32) {
    __m256i w[4];
    for (size_t k = 0; k < 4; k++) {
      __m256 u = qbin_ld(q->x + i + 8 * k, za), v = qbin_ld(q->y + i + 8 * k, zb);
      __m256 f = q->add ? _mm256_add_ps(_mm256_mul_ps(u, ma), _mm256_mul_ps(v, mb))
                        : _mm256_mul_ps(_mm256_mul_ps(u, v), mm);
      f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
      w[k] = _mm256_add_epi32(_mm256_cvtps_epi32(f), zo);
    }
    __m256i h = _mm256_packs_epi16(_mm256_packs_epi32(w[0], w[1]),
                                   _mm256_packs_epi32(w[2], w[3]));
    _mm256_storeu_si256((__m256i *)(q->z + i),
                        _mm256_permutevar8x32_epi32(h, perm));
  }
  return i;
}
#endif

static void binary(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *b = V(g, n->in[1]), *o = V(g, n->out);
  uint32_t r = o->rank;
  if (a->rank == r && b->rank == r &&
      !memcmp(a->dims, o->dims, r * sizeof(uint32_t)) &&
      !memcmp(b->dims, o->dims, r * sizeof(uint32_t))) {
    /* qcheck: all three qint8 */
    qbin q = {(const int8_t *)a->data, (const int8_t *)b->data,
              (int8_t *)o->data, a->qz, b->qz, o->qz, 0, 0,
              a->qs / o->qs, b->qs / o->qs, a->qs * b->qs / o->qs,
              n->type == XN_ADD};
    qrange(n, o, &q.lo, &q.hi);
    size_t cnt = numel(r, o->dims), i = 0;
#ifdef XQ_X86
    if (et_xnn_gemm_path() == 1) i = qbin_avx2(&q, cnt);
#endif
    for (; i < cnt; i++) q.z[i] = (int8_t)qbin_one(&q, i);
    return;
  }
  size_t sa[XNN_MAX_DIMS], sb[XNN_MAX_DIMS], s1 = 1, s2 = 1;
  /* Broadcast strides: dims aligned at the right, size-1 dims stride 0. */
  for (int i = (int)r - 1; i >= 0; i--) {
    int ia = i - (int)(r - a->rank), ib = i - (int)(r - b->rank);
    uint32_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    sa[i] = da == 1 ? 0 : s1;
    sb[i] = db == 1 ? 0 : s2;
    s1 *= da;
    s2 *= db;
  }
  int32_t lo, hi;
  qrange(n, o, &lo, &hi);
  float ma = a->qs / o->qs, mb = b->qs / o->qs, mm = a->qs * b->qs / o->qs;
  size_t total = numel(r, o->dims);
  uint32_t ctr[XNN_MAX_DIMS] = {0};
  for (size_t q = 0; q < total; q++) {
    size_t ia = 0, ib = 0;
    for (uint32_t i = 0; i < r; i++) {
      ia += ctr[i] * sa[i];
      ib += ctr[i] * sb[i];
    }
    float u = (float)(ld8(a, ia) - a->qz), v = (float)(ld8(b, ib) - b->qz);
    float f = n->type == XN_ADD ? u * ma + v * mb : u * v * mm;
    st8(o, q, requant(f, o->qz, lo, hi));
    for (int i = (int)r - 1; i >= 0; i--) {
      if (++ctr[i] < o->dims[i]) break;
      ctr[i] = 0;
    }
  }
}

static void max_pool(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  const xnn_conv *c = &n->p.conv;
  uint32_t B = a->dims[0], H = a->dims[1], W = a->dims[2], C = a->dims[3];
  uint32_t OH = o->dims[1], OW = o->dims[2];
  int32_t lo, hi;
  qrange(n, o, &lo, &hi);
  for (uint32_t b = 0; b < B; b++)
    for (uint32_t oy = 0; oy < OH; oy++)
      for (uint32_t ox = 0; ox < OW; ox++)
        for (uint32_t ch = 0; ch < C; ch++) {
          int32_t m = INT32_MIN;
          for (uint32_t ky = 0; ky < c->kh; ky++) {
            int64_t iy = (int64_t)oy * c->sh + (int64_t)ky * c->dh - c->pt;
            if (iy < 0 || iy >= H) continue;
            for (uint32_t kx = 0; kx < c->kw; kx++) {
              int64_t ix = (int64_t)ox * c->sw + (int64_t)kx * c->dw - c->pl;
              if (ix < 0 || ix >= W) continue;
              int32_t v = ld8(a, (((size_t)b * H + (size_t)iy) * W +
                                  (size_t)ix) * C + ch);
              m = v > m ? v : m;
            }
          }
          if (m == INT32_MIN) m = a->qz;
          m = m < lo ? lo : (m > hi ? hi : m);
          st8(o, (((size_t)b * OH + oy) * OW + ox) * C + ch, m);
        }
}

static void global_avg(const xnn_graph *g, const xnn_node *n) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  uint32_t r = a->rank, C = a->dims[r - 1];
  size_t B = a->dims[0], S = numel(r - 2, a->dims + 1);
  int32_t lo, hi;
  qrange(n, o, &lo, &hi);
  float sc = S ? a->qs / (o->qs * (float)S) : 0.0f;
  for (size_t b = 0; b < B; b++)
    for (uint32_t ch = 0; ch < C; ch++) {
      int64_t s = 0;
      for (size_t p = 0; p < S; p++) s += ld8(a, (b * S + p) * C + ch);
      s -= (int64_t)S * a->qz;
      st8(o, b * C + ch, requant((float)s * sc, o->qz, lo, hi));
    }
}

et_status et_xnn_qrun(const xnn_graph *g, const xnn_node *n, et_diag *d) {
  const xnn_val *a = V(g, n->in[0]), *o = V(g, n->out);
  size_t cnt = numel(o->rank, o->dims);
  switch (n->type) {
    case XN_CONVERT:
      if (o->dt == XDT_QDINT8) {
        /* Its rows' parameters were reserved for the bound's rows; a
         * shape with the same element count but more rows does not fit. */
        size_t k = o->rank ? o->dims[o->rank - 1] : 1;
        size_t rows = k ? cnt / k : 0;
        if (rows > o->rcap)
          return et_diag_set(d, ET_INVALID_ARGUMENT,
                             "XnnpackBackend: dynamically quantized value "
                             "%u has %zu rows; the graph reserved %zu",
                             n->out, rows, o->rcap);
      }
      convert(g, n);
      break;
    case XN_FULLY_CONNECTED: fully_connected(g, n); break;
    case XN_CONV2D: conv2d(g, n); break;
    case XN_DW_CONV2D: {
      qjob J = {g, n, (size_t)o->dims[0] * o->dims[1], 0};
      size_t per = (size_t)o->dims[2] * o->dims[3] * n->p.conv.kh * n->p.conv.kw;
      size_t grain = per ? ((size_t)1 << 17) / per + 1 : 1;
      et_parallel_for(g->par, J.rows, grain, dw_rows, &J);
      break;
    }
    case XN_ADD: case XN_MULTIPLY: binary(g, n); break;
    case XN_MAX_POOL: max_pool(g, n); break;
    case XN_GLOBAL_AVG_POOL: global_avg(g, n); break;
    case XN_TRANSPOSE: et_xnn_transpose(g, a, o, n->p.shape.a, 1); break;
    case XN_RESHAPE: case XN_COPY:
      if (cnt && o->data != a->data) memmove(o->data, a->data, cnt);
      break;
    case XN_SLICE:
      et_xnn_box_copy(a->data, a->dims, o->data, o->dims, o->rank, n->p.shape.a,
                      o->dims, false, 1);
      break;
    case XN_CONSTANT_PAD: {
      float f = n->p.shape.value / o->qs + (float)o->qz;
      int32_t tmin = o->dt == XDT_QUINT8 ? 0 : -128;
      f = f < (float)tmin ? (float)tmin
                          : (f > (float)(tmin + 255) ? (float)(tmin + 255) : f);
      int32_t pv = (int32_t)lrintf(f);
      /* st8's byte for pv, for the whole output at once */
      memset(o->data, o->dt == XDT_QUINT8 ? (int)(uint8_t)pv : (int)(uint8_t)(int8_t)pv, cnt);
      et_xnn_box_copy(a->data, a->dims, o->data, o->dims, o->rank, n->p.shape.a,
                      a->dims, true, 1);
      break;
    }
    case XN_CLAMP: {
      int32_t lo, hi;
      qrange(n, o, &lo, &hi);
      if (!same_q(a, o)) { /* requantized: (x - za) * sa / so, clamped */
        float m = a->qs / o->qs;
        for (size_t i = 0; i < cnt; i++)
          st8(o, i, requant((float)(ld8(a, i) - a->qz) * m, o->qz, lo, hi));
        break;
      }
      /* One loop per byte type (vectorizable), as ld8/st8 would do it. */
      if (a->dt == XDT_QUINT8 && o->dt == XDT_QUINT8) {
        const uint8_t *x = (const uint8_t *)a->data;
        uint8_t *z = (uint8_t *)o->data;
        for (size_t i = 0; i < cnt; i++) {
          int32_t v = x[i];
          z[i] = (uint8_t)(v < lo ? lo : (v > hi ? hi : v));
        }
      } else if (a->dt != XDT_QUINT8 && o->dt != XDT_QUINT8) {
        const int8_t *x = (const int8_t *)a->data;
        int8_t *z = (int8_t *)o->data;
        for (size_t i = 0; i < cnt; i++) {
          int32_t v = x[i];
          z[i] = (int8_t)(v < lo ? lo : (v > hi ? hi : v));
        }
      } else {
        for (size_t i = 0; i < cnt; i++) {
          int32_t v = ld8(a, i);
          st8(o, i, v < lo ? lo : (v > hi ? hi : v));
        }
      }
      break;
    }
    case XN_CAT2: case XN_CAT3: case XN_CAT4: case XN_CAT5: et_xnn_cat(g, n, 1); break;
    default: break; /* refused at init by et_xnn_qcheck */
  }
  return ET_OK;
}
