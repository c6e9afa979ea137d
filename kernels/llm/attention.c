/* See attention.h. */
#include "llm/attention.h"

#include "xnn_gemm.h"
#include "xnn_vec.h"

#include <math.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__) && \
    (defined(__GNUC__) || defined(__clang__))
#define LA_X86 1
#include <immintrin.h>
#endif

/* Keys per block: the scores of one block live on the stack. */
#define LA_BLOCK 128

/* s[j] = q . k_j for j < n, k_j = k + j * ks. */
typedef void la_dots_fn(size_t d, const float *q, const float *k, size_t ks,
                        size_t n, float *s);
/* acc = acc * corr + sum_j p[j] v_j for j < n, v_j = v + j * vs. */
typedef void la_accum_fn(size_t d, float *acc, float corr, const float *v,
                         size_t vs, size_t n, const float *p);

static void dots_c(size_t d, const float *q, const float *k, size_t ks,
                   size_t n, float *s) {
  for (size_t j = 0; j < n; j++) {
    const float *kj = k + j * ks;
    float t = 0.0f;
    for (size_t c = 0; c < d; c++) t += q[c] * kj[c];
    s[j] = t;
  }
}

static void accum_c(size_t d, float *acc, float corr, const float *v,
                    size_t vs, size_t n, const float *p) {
  if (corr != 1.0f)
    for (size_t c = 0; c < d; c++) acc[c] *= corr;
  for (size_t j = 0; j < n; j++) {
    const float *vj = v + j * vs;
    const float pj = p[j];
    for (size_t c = 0; c < d; c++) acc[c] += pj * vj[c];
  }
}

#ifdef LA_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256i tail_mask(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2 static inline float hsum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

/* Four keys at a time (four independent FMA chains), the head dimension in
 * vectors of 8 with a masked tail. */
AVX2 static void dots_avx2(size_t d, const float *q, const float *k,
                           size_t ks, size_t n, float *s) {
  const size_t d8 = d & ~(size_t)7;
  const __m256i m = tail_mask(d - d8);
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float *k0 = k + j * ks, *k1 = k0 + ks, *k2 = k1 + ks, *k3 = k2 + ks;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t c = 0;
    for (; c < d8; c += 8) {
      const __m256 qv = _mm256_loadu_ps(q + c);
      a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + c), a0);
      a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k1 + c), a1);
      a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k2 + c), a2);
      a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k3 + c), a3);
    }
    if (c < d) {
      const __m256 qv = _mm256_maskload_ps(q + c, m);
      a0 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + c, m), a0);
      a1 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k1 + c, m), a1);
      a2 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k2 + c, m), a2);
      a3 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k3 + c, m), a3);
    }
    s[j] = hsum(a0);
    s[j + 1] = hsum(a1);
    s[j + 2] = hsum(a2);
    s[j + 3] = hsum(a3);
  }
  for (; j < n; j++) {
    const float *kj = k + j * ks;
    __m256 a = _mm256_setzero_ps();
    size_t c = 0;
    for (; c < d8; c += 8)
      a = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), _mm256_loadu_ps(kj + c), a);
    if (c < d)
      a = _mm256_fmadd_ps(_mm256_maskload_ps(q + c, m), _mm256_maskload_ps(kj + c, m), a);
    s[j] = hsum(a);
  }
}

/* The accumulator in registers, 32 then 8 columns at a time (masked
 * tail), while the keys of the block stream past. */
AVX2 static void accum_avx2(size_t d, float *acc, float corr, const float *v,
                            size_t vs, size_t n, const float *p) {
  const __m256 cv = _mm256_set1_ps(corr);
  size_t c = 0;
  for (; c + 32 <= d; c += 32) {
    __m256 a0 = _mm256_mul_ps(_mm256_loadu_ps(acc + c), cv);
    __m256 a1 = _mm256_mul_ps(_mm256_loadu_ps(acc + c + 8), cv);
    __m256 a2 = _mm256_mul_ps(_mm256_loadu_ps(acc + c + 16), cv);
    __m256 a3 = _mm256_mul_ps(_mm256_loadu_ps(acc + c + 24), cv);
    for (size_t j = 0; j < n; j++) {
      const float *vj = v + j * vs + c;
      const __m256 pj = _mm256_set1_ps(p[j]);
      a0 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj), a0);
      a1 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 8), a1);
      a2 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 16), a2);
      a3 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 24), a3);
    }
    _mm256_storeu_ps(acc + c, a0);
    _mm256_storeu_ps(acc + c + 8, a1);
    _mm256_storeu_ps(acc + c + 16, a2);
    _mm256_storeu_ps(acc + c + 24, a3);
  }
  for (; c < d; c += 8) {
    const size_t w = d - c < 8 ? d - c : 8;
    const __m256i m = tail_mask(w);
    __m256 a = _mm256_mul_ps(_mm256_maskload_ps(acc + c, m), cv);
    for (size_t j = 0; j < n; j++)
      a = _mm256_fmadd_ps(_mm256_set1_ps(p[j]),
                          _mm256_maskload_ps(v + j * vs + c, m), a);
    _mm256_maskstore_ps(acc + c, m, a);
  }
}
#endif

int et_llm_attention_path(void) {
#ifdef LA_X86
  return et_xnn_gemm_path() == 1 ? 1 : 0;
#else
  return 0;
#endif
}

typedef struct la_job {
  const et_llm_attn *a;
  la_dots_fn *dots;
  la_accum_fn *accum;
  et_xnn_vfn *vexp;
} la_job;

/* Query heads sharing a key/value head are computed together (at most
 * LA_GROUP at a time): each block of keys and values is read once for all
 * of them while it is in cache, which is what bounds decode with grouped
 * heads. */
#define LA_GROUP 8

/* Query row i of heads h0 .. h0 + g - 1 of batch b, all reading kv head
 * hk. */
static void la_rows_of_group(const la_job *J, size_t b, size_t hk, size_t h0, size_t g,
                             size_t i) {
  const et_llm_attn *a = J->a;
  const float *k = a->k + b * a->k_sb + hk * a->k_sh;
  const float *v = a->v + b * a->v_sb + hk * a->v_sh;
  const float *mrow = a->mask ? a->mask + i * a->mask_stride : NULL;
  const size_t d = a->D;
  size_t nk = a->n_keys;
  if (a->causal && a->start_pos + i + 1 < nk) nk = a->start_pos + i + 1;
  const float *q[LA_GROUP];
  float *acc[LA_GROUP];
  float mx[LA_GROUP], l[LA_GROUP];
  for (size_t r = 0; r < g; r++) {
    q[r] = a->q + b * a->q_sb + i * a->q_ss + (h0 + r) * a->q_sh;
    acc[r] = a->out + b * a->o_sb + i * a->o_ss + (h0 + r) * a->o_sh;
    mx[r] = -INFINITY;
    l[r] = 0.0f;
    memset(acc[r], 0, d * sizeof *acc[r]);
  }
  float s[LA_BLOCK];
  for (size_t n0 = 0; n0 < nk; n0 += LA_BLOCK) {
    const size_t nb = nk - n0 < LA_BLOCK ? nk - n0 : LA_BLOCK;
    for (size_t r = 0; r < g; r++) {
      J->dots(d, q[r], k + n0 * a->k_ss, a->k_ss, nb, s);
      float bmax = -INFINITY;
      if (mrow) {
        for (size_t j = 0; j < nb; j++) {
          s[j] = s[j] * a->scale + mrow[n0 + j];
          bmax = s[j] > bmax ? s[j] : bmax;
        }
      } else {
        for (size_t j = 0; j < nb; j++) {
          s[j] *= a->scale;
          bmax = s[j] > bmax ? s[j] : bmax;
        }
      }
      if (bmax == -INFINITY) continue; /* all masked: contributes nothing */
      const float mnew = mx[r] > bmax ? mx[r] : bmax;
      const float corr = mx[r] == -INFINITY ? 0.0f : expf(mx[r] - mnew);
      for (size_t j = 0; j < nb; j++) s[j] -= mnew;
      J->vexp(nb, s, s);
      float sum = 0.0f;
      for (size_t j = 0; j < nb; j++) sum += s[j];
      l[r] = l[r] * corr + sum;
      J->accum(d, acc[r], corr, v + n0 * a->v_ss, a->v_ss, nb, s);
      mx[r] = mnew;
    }
  }
  for (size_t r = 0; r < g; r++) {
    if (l[r] > 0.0f) {
      const float inv = 1.0f / l[r];
      for (size_t c = 0; c < d; c++) acc[r][c] *= inv;
    } else if (l[r] != l[r]) { /* NaN scores: keep the NaN */
      for (size_t c = 0; c < d; c++) acc[r][c] = l[r];
    }
  }
}

/* Task t: (batch, kv head, group chunk, query row), the row fastest so
 * that neighbouring tasks share their keys. */
static void la_tasks(void *ctx, size_t begin, size_t end) {
  const la_job *J = (const la_job *)ctx;
  const et_llm_attn *a = J->a;
  const size_t rep = a->H / a->Hkv;
  const size_t chunks = (rep + LA_GROUP - 1) / LA_GROUP;
  for (size_t t = begin; t < end; t++) {
    const size_t i = t % a->S;
    size_t rest = t / a->S;
    const size_t c = rest % chunks;
    rest /= chunks;
    const size_t hk = rest % a->Hkv, b = rest / a->Hkv;
    const size_t h0 = hk * rep + c * LA_GROUP;
    const size_t g = rep - c * LA_GROUP < LA_GROUP ? rep - c * LA_GROUP : LA_GROUP;
    la_rows_of_group(J, b, hk, h0, g, i);
  }
}

void et_llm_attention(et_parallel *par, const et_llm_attn *a) {
  la_job J = {a, dots_c, accum_c, et_xnn_vfn_pick(ET_XNN_V_EXP)};
#ifdef LA_X86
  if (et_llm_attention_path() == 1) {
    J.dots = dots_avx2;
    J.accum = accum_avx2;
  }
#endif
  const size_t rep = a->H / a->Hkv;
  const size_t chunks = (rep + LA_GROUP - 1) / LA_GROUP;
  const size_t tasks = a->B * a->Hkv * chunks * a->S;
  /* About 2^15 multiply-adds (QK and PV) per task at least. */
  const size_t per_task = 2 * (a->n_keys + 1) * (a->D + 1) * (rep < LA_GROUP ? rep : LA_GROUP);
  const size_t grain = per_task >= ((size_t)1 << 15) ? 1 : ((size_t)1 << 15) / per_task;
  et_parallel_for(par, tasks, grain, la_tasks, &J);
}
