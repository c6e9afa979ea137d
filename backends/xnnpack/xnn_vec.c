/* See xnn_vec.h. */
#include "xnn_vec.h"

#include "xnn_gemm.h"

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
                 float hi) {
  for (size_t k = 0; k < c; k++) {
    float s = bias ? bias[k] : 0.0f;
    for (size_t t = 0; t < taps; t++) s += x[t][k] * w[t][k];
    z[k] = clampf(s, lo, hi);
  }
}

#ifdef XV_X86
/* Lanes [0, n) of a vector (n < 8) for masked loads and stores. */
__attribute__((target("avx2,fma"))) static inline __m256i tail_mask(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* max/min with the value first keeps a NaN NaN (as the GEMM tile does). */
#define XV_CLAMP(v) _mm256_min_ps(_mm256_max_ps((v), vlo), vhi)

/* 32 channels (four independent accumulator chains, enough to hide the FMA
 * latency) at a time, then 8, then a masked tail. */
__attribute__((target("avx2,fma"))) static void
dw_avx2(size_t c, size_t taps, const float *const *x, const float *const *w,
        const float *bias, float *z, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
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
      const float *xt = x[t] + k, *wt = w[t] + k;
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
      a = _mm256_fmadd_ps(_mm256_loadu_ps(x[t] + k), _mm256_loadu_ps(w[t] + k), a);
    _mm256_storeu_ps(z + k, XV_CLAMP(a));
  }
  if (k < c) {
    const __m256i m = tail_mask(c - k);
    __m256 a = bias ? _mm256_maskload_ps(bias + k, m) : _mm256_setzero_ps();
    for (size_t t = 0; t < taps; t++)
      a = _mm256_fmadd_ps(_mm256_maskload_ps(x[t] + k, m),
                          _mm256_maskload_ps(w[t] + k, m), a);
    _mm256_maskstore_ps(z + k, m, XV_CLAMP(a));
  }
}
#undef XV_CLAMP
#endif

et_xnn_dw_fn *et_xnn_dw_pick(void) {
#ifdef XV_X86
  if (et_xnn_gemm_path() == 1) return dw_avx2;
#endif
  return dw_c;
}
