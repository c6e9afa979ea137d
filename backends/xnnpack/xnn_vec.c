/* See xnn_vec.h. */
#include "xnn_vec.h"

#include "xnn_gemm.h"

#include <math.h>
#include <stdint.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__) && \
    (defined(__GNUC__) || defined(__clang__))
#define XV_X86 1
#include <immintrin.h>
#endif

static inline float clampf(float v, float lo, float hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

static void dw_c(size_t c, size_t taps, const float *const *x,
                 const float *const *w, const float *bias, float *z, float lo,
                 float hi, size_t npix, size_t xstride, size_t zstride) {
  for (size_t p = 0; p < npix; p++, z += zstride) {
    size_t off = p * xstride;
    for (size_t k = 0; k < c; k++) {
      float s = bias ? bias[k] : 0.0f;
      for (size_t t = 0; t < taps; t++) s += x[t][off + k] * w[t][k];
      z[k] = clampf(s, lo, hi);
    }
  }
}

#ifdef XV_X86
/* Lanes [0, n) of a vector (n < 8) for masked loads and stores. */
__attribute__((target("avx2,fma"))) static inline __m256i tail_mask(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* maxps/minps return their second operand when either is NaN: the bound
 * first and the value second keeps a NaN NaN (as the GEMM tile does). */
#define XV_CLAMP(v) _mm256_min_ps(vhi, _mm256_max_ps(vlo, (v)))

/* 32 channels (four independent accumulator chains, enough to hide the FMA
 * latency) at a time, then 8, then a masked tail. */
__attribute__((target("avx2,fma"))) static void
dw_avx2(size_t c, size_t taps, const float *const *x, const float *const *w,
        const float *bias, float *z, float lo, float hi, size_t npix,
        size_t xstride, size_t zstride) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  for (size_t p = 0; p < npix; p++, z += zstride) {
    const size_t off = p * xstride;
    size_t k = 0;
    for (; k + 32 <= c; k += 32) {
      __m256 a0, a1, a2, a3;
      if (bias) {
        a0 = _mm256_loadu_ps(bias + k);
        a1 = _mm256_loadu_ps(bias + k + 8);
        a2 = _mm256_loadu_ps(bias + k + 16);
        a3 = _mm256_loadu_ps(bias + k + 24);
      } else {
        a0 = a1 = a2 = a3 = _mm256_setzero_ps();
      }
      for (size_t t = 0; t < taps; t++) {
        const float *xt = x[t] + off + k, *wt = w[t] + k;
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xt), _mm256_loadu_ps(wt), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xt + 8), _mm256_loadu_ps(wt + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(xt + 16), _mm256_loadu_ps(wt + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(xt + 24), _mm256_loadu_ps(wt + 24), a3);
      }
      _mm256_storeu_ps(z + k, XV_CLAMP(a0));
      _mm256_storeu_ps(z + k + 8, XV_CLAMP(a1));
      _mm256_storeu_ps(z + k + 16, XV_CLAMP(a2));
      _mm256_storeu_ps(z + k + 24, XV_CLAMP(a3));
    }
    for (; k + 8 <= c; k += 8) {
      __m256 a = bias ? _mm256_loadu_ps(bias + k) : _mm256_setzero_ps();
      for (size_t t = 0; t < taps; t++)
        a = _mm256_fmadd_ps(_mm256_loadu_ps(x[t] + off + k),
                            _mm256_loadu_ps(w[t] + k), a);
      _mm256_storeu_ps(z + k, XV_CLAMP(a));
    }
    if (k < c) {
      const __m256i m = tail_mask(c - k);
      __m256 a = bias ? _mm256_maskload_ps(bias + k, m) : _mm256_setzero_ps();
      for (size_t t = 0; t < taps; t++)
        a = _mm256_fmadd_ps(_mm256_maskload_ps(x[t] + off + k, m),
                            _mm256_maskload_ps(w[t] + k, m), a);
      _mm256_maskstore_ps(z + k, m, XV_CLAMP(a));
    }
  }
}
#undef XV_CLAMP
#endif

/* ---- depthwise rows (planar layout) ------------------------------------ */

static void dw_row_c(size_t n, size_t taps, const float *const *x,
                     const float *w, float bias, float *y, size_t stride) {
  for (size_t o = 0; o < n; o++) {
    float s = bias;
    for (size_t t = 0; t < taps; t++) s += w[t] * x[t][o * stride];
    y[o] = s;
  }
}

#ifdef XV_X86
/* Eight outputs of tap row x at stride 1 or 2 (the even lanes of 16). */
__attribute__((target("avx2,fma"))) static inline __m256
dw_row_load(const float *x, size_t stride) {
  if (stride == 1) return _mm256_loadu_ps(x);
  __m256 a = _mm256_loadu_ps(x), b = _mm256_loadu_ps(x + 8);
  __m256 e = _mm256_shuffle_ps(a, b, 0x88); /* a0 a2 b0 b2 | a4 a6 b4 b6 */
  return _mm256_castpd_ps(
      _mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)); /* a0 a2 a4 a6 b.. */
}

/* 32 outputs at a time (four independent accumulator chains), then 8; the
 * rest one at a time. At stride 2 a block of 8 reads 16 inputs, one past
 * its last: it runs only while that stays inside the row's n outputs. */
__attribute__((target("avx2,fma"))) static void
dw_row_avx2(size_t n, size_t taps, const float *const *x, const float *w,
            float bias, float *y, size_t stride) {
  const __m256 vb = _mm256_set1_ps(bias);
  const size_t over = stride == 1 ? 0 : 1; /* outputs of slack a block needs */
  size_t o = 0;
  for (; o + 32 + over <= n; o += 32) {
    __m256 a0 = vb, a1 = vb, a2 = vb, a3 = vb;
    for (size_t t = 0; t < taps; t++) {
      const float *xt = x[t] + o * stride;
      __m256 wv = _mm256_broadcast_ss(w + t);
      a0 = _mm256_fmadd_ps(wv, dw_row_load(xt, stride), a0);
      a1 = _mm256_fmadd_ps(wv, dw_row_load(xt + 8 * stride, stride), a1);
      a2 = _mm256_fmadd_ps(wv, dw_row_load(xt + 16 * stride, stride), a2);
      a3 = _mm256_fmadd_ps(wv, dw_row_load(xt + 24 * stride, stride), a3);
    }
    _mm256_storeu_ps(y + o, a0);
    _mm256_storeu_ps(y + o + 8, a1);
    _mm256_storeu_ps(y + o + 16, a2);
    _mm256_storeu_ps(y + o + 24, a3);
  }
  for (; o + 8 + over <= n; o += 8) {
    __m256 a = vb;
    for (size_t t = 0; t < taps; t++)
      a = _mm256_fmadd_ps(_mm256_broadcast_ss(w + t),
                          dw_row_load(x[t] + o * stride, stride), a);
    _mm256_storeu_ps(y + o, a);
  }
  for (; o < n; o++) {
    float s = bias;
    for (size_t t = 0; t < taps; t++) s = fmaf(w[t], x[t][o * stride], s);
    y[o] = s;
  }
}
#endif

et_xnn_dw_row_fn *et_xnn_dw_row_pick(void) {
#ifdef XV_X86
  if (et_xnn_gemm_path() == 1) return dw_row_avx2;
#endif
  return dw_row_c;
}

/* ---- element-wise functions ------------------------------------------ */

static void exp_c(size_t n, const float *x, float *z) {
  for (size_t i = 0; i < n; i++) z[i] = expf(x[i]);
}
static void sigmoid_c(size_t n, const float *x, float *z) {
  for (size_t i = 0; i < n; i++) z[i] = 1.0f / (1.0f + expf(-x[i]));
}
static void tanh_c(size_t n, const float *x, float *z) {
  for (size_t i = 0; i < n; i++) z[i] = tanhf(x[i]);
}
static void gelu_c(size_t n, const float *x, float *z) {
  for (size_t i = 0; i < n; i++)
    z[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

static void softmax_c(size_t n, const float *x, float *z) {
  float m = -INFINITY, s = 0.0f;
  for (size_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
  for (size_t j = 0; j < n; j++) {
    z[j] = expf(x[j] - m);
    s += z[j];
  }
  float inv = 1.0f / s;
  for (size_t j = 0; j < n; j++) z[j] *= inv;
}

#ifdef XV_X86
#define AVX2 __attribute__((target("avx2,fma")))
#define S1 _mm256_set1_ps

/* e^x: x = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts, Cody and
 * Waite), e^r by a degree-7 polynomial (Cephes' coefficients), 2^n applied
 * as two halves so that n from -150 to 128 stays exact: results in the
 * subnormal range come out as subnormals rounded once more. Above
 * ln(FLT_MAX): +inf; below the smallest subnormal's log: 0; NaN: NaN. */
AVX2 static inline __m256 exp8(__m256 x) {
  const __m256 hi = S1(88.72283172607421875f), lo = S1(-103.972084045410156f);
  __m256 xc = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
  __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, S1(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, S1(0.693359375f), xc);
  r = _mm256_fnmadd_ps(n, S1(-2.12194440e-4f), r);
  __m256 p = S1(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, S1(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, S1(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, S1(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, S1(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, S1(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, S1(1.0f)));
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  __m256 res = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  res = _mm256_blendv_ps(res, S1(INFINITY), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
  res = _mm256_blendv_ps(res, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
  return _mm256_blendv_ps(res, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

AVX2 static inline __m256 sigmoid8(__m256 x) {
  __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(S1(1.0f), _mm256_add_ps(S1(1.0f), e));
}

/* tanh: an odd Taylor polynomial to x^15 below |x| = 1/2 (truncation under
 * 5e-9 relative), (1 - e^-2|x|) / (1 + e^-2|x|) above (no cancellation
 * there), the sign put back. */
AVX2 static inline __m256 tanh8(__m256 x) {
  const __m256 sign = S1(-0.0f);
  __m256 a = _mm256_andnot_ps(sign, x);
  __m256 x2 = _mm256_mul_ps(a, a);
  __m256 p = S1(-0.00145583438705131827f); /* -929569 / 638512875 */
  p = _mm256_fmadd_ps(p, x2, S1(0.00359212803657248102f));
  p = _mm256_fmadd_ps(p, x2, S1(-0.00886323552990219656f));
  p = _mm256_fmadd_ps(p, x2, S1(0.0218694885361552028f));
  p = _mm256_fmadd_ps(p, x2, S1(-0.0539682539682539683f));
  p = _mm256_fmadd_ps(p, x2, S1(0.133333333333333333f));
  p = _mm256_fmadd_ps(p, x2, S1(-0.333333333333333333f));
  __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, x2), a, a);
  __m256 t = exp8(_mm256_mul_ps(a, S1(-2.0f)));
  __m256 big = _mm256_div_ps(_mm256_sub_ps(S1(1.0f), t), _mm256_add_ps(S1(1.0f), t));
  __m256 y = _mm256_blendv_ps(big, small, _mm256_cmp_ps(a, S1(0.5f), _CMP_LT_OQ));
  y = _mm256_or_ps(y, _mm256_and_ps(x, sign));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/* GELU with erf from Abramowitz and Stegun 7.1.26 (|error| <= 1.5e-7):
 * erf(u) = 1 - t (a1 + t (a2 + ...)) e^-u^2, t = 1 / (1 + p u), u >= 0. */
AVX2 static inline __m256 gelu8(__m256 x) {
  const __m256 sign = S1(-0.0f);
  __m256 u = _mm256_mul_ps(x, S1(0.70710678118654752f));
  __m256 a = _mm256_andnot_ps(sign, u);
  __m256 t = _mm256_div_ps(S1(1.0f), _mm256_fmadd_ps(a, S1(0.3275911f), S1(1.0f)));
  __m256 q = S1(1.061405429f);
  q = _mm256_fmadd_ps(q, t, S1(-1.453152027f));
  q = _mm256_fmadd_ps(q, t, S1(1.421413741f));
  q = _mm256_fmadd_ps(q, t, S1(-0.284496736f));
  q = _mm256_fmadd_ps(q, t, S1(0.254829592f));
  q = _mm256_mul_ps(q, t);
  __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
  __m256 erfa = _mm256_fnmadd_ps(q, e, S1(1.0f)); /* erf(|u|) */
  __m256 erfu = _mm256_or_ps(erfa, _mm256_and_ps(u, sign));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(S1(0.5f), x), _mm256_add_ps(S1(1.0f), erfu));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

#define XV_MAP(name, f8)                                                  \
  AVX2 static void name(size_t n, const float *x, float *z) {             \
    size_t i = 0;                                                         \
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(z + i, f8(_mm256_loadu_ps(x + i))); \
    if (i < n) {                                                          \
      __m256i m = tail_mask(n - i);                                       \
      _mm256_maskstore_ps(z + i, m, f8(_mm256_maskload_ps(x + i, m)));    \
    }                                                                     \
  }
XV_MAP(exp_avx2, exp8)
XV_MAP(sigmoid_avx2, sigmoid8)
XV_MAP(tanh_avx2, tanh8)
XV_MAP(gelu_avx2, gelu8)
#undef XV_MAP

AVX2 static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

AVX2 static float hmax8(__m256 v) {
  float t[8], m = -INFINITY;
  _mm256_storeu_ps(t, v);
  for (int i = 0; i < 8; i++) m = t[i] > m ? t[i] : m;
  return m;
}

AVX2 static void softmax_avx2(size_t n, const float *x, float *z) {
  /* The maximum as the plain loop takes it (a NaN never becomes it; the
   * NaN then spreads through its own exponential to the sum). */
  __m256 vm = S1(-INFINITY);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    vm = _mm256_blendv_ps(vm, v, _mm256_cmp_ps(v, vm, _CMP_GT_OQ));
  }
  float m = hmax8(vm);
  for (size_t j = i; j < n; j++) m = x[j] > m ? x[j] : m;
  __m256 mv = S1(m), acc = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
    _mm256_storeu_ps(z + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  if (i < n) {
    __m256i mk = tail_mask(n - i);
    __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, mk), mv));
    e = _mm256_and_ps(e, _mm256_castsi256_ps(mk));
    _mm256_maskstore_ps(z + i, mk, e);
    acc = _mm256_add_ps(acc, e);
  }
  __m256 inv = S1(1.0f / hsum8(acc));
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(z + i, _mm256_mul_ps(_mm256_loadu_ps(z + i), inv));
  if (i < n) {
    __m256i mk = tail_mask(n - i);
    _mm256_maskstore_ps(z + i, mk, _mm256_mul_ps(_mm256_maskload_ps(z + i, mk), inv));
  }
}
#undef S1
#undef AVX2
#endif

et_xnn_vfn *et_xnn_vfn_pick(int fn) {
#ifdef XV_X86
  if (et_xnn_gemm_path() == 1) {
    switch (fn) {
      case ET_XNN_V_EXP: return exp_avx2;
      case ET_XNN_V_SIGMOID: return sigmoid_avx2;
      case ET_XNN_V_TANH: return tanh_avx2;
      case ET_XNN_V_GELU: return gelu_avx2;
      default: return NULL;
    }
  }
#endif
  switch (fn) {
    case ET_XNN_V_EXP: return exp_c;
    case ET_XNN_V_SIGMOID: return sigmoid_c;
    case ET_XNN_V_TANH: return tanh_c;
    case ET_XNN_V_GELU: return gelu_c;
    default: return NULL;
  }
}

et_xnn_softmax_fn *et_xnn_softmax_pick(void) {
#ifdef XV_X86
  if (et_xnn_gemm_path() == 1) return softmax_avx2;
#endif
  return softmax_c;
}

static void axpy_c(size_t n, float a, const float *x, float *y) {
  for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

#ifdef XV_X86
__attribute__((target("avx2,fma"))) static void axpy_avx2(size_t n, float a,
                                                          const float *x,
                                                          float *y) {
  const __m256 va = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i),
                                            _mm256_loadu_ps(y + i)));
    _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i + 8),
                                                _mm256_loadu_ps(y + i + 8)));
  }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i),
                                            _mm256_loadu_ps(y + i)));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    _mm256_maskstore_ps(y + i, m,
                        _mm256_fmadd_ps(va, _mm256_maskload_ps(x + i, m),
                                        _mm256_maskload_ps(y + i, m)));
  }
}
#endif

et_xnn_axpy_fn *et_xnn_axpy_pick(void) {
#ifdef XV_X86
  if (et_xnn_gemm_path() == 1) return axpy_avx2;
#endif
  return axpy_c;
}

et_xnn_dw_fn *et_xnn_dw_pick(void) {
#ifdef XV_X86
  if (et_xnn_gemm_path() == 1) return dw_avx2;
#endif
  return dw_c;
}
