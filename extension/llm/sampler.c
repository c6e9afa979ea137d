/* Token sampler (see sampler.h). */
#include "sampler.h"

#include <math.h>
#include <string.h>

et_status et_sampler_init(et_sampler *s, size_t vocab, float temperature, int32_t top_k,
                          float top_p, uint64_t seed, et_diag *diag) {
  if (!s) return et_diag_set(diag, ET_INVALID_ARGUMENT, "sampler: no sampler");
  if (vocab == 0 || vocab > INT32_MAX || et_sampler_scratch_size(vocab) == 0)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "sampler: bad vocabulary size %zu", vocab);
  if (!isfinite(temperature))
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "sampler: temperature must be finite");
  if (top_k < 0)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "sampler: top_k %d is negative", (int)top_k);
  if (isnan(top_p) || top_p < 0)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "sampler: top_p must be >= 0");
  s->vocab = vocab;
  s->temperature = temperature;
  s->top_k = top_k;
  s->top_p = top_p;
  s->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
  return ET_OK;
}

size_t et_sampler_scratch_size(size_t vocab) {
  if (vocab > SIZE_MAX / 8) return 0;
  return vocab * 8;
}

uint64_t et_sampler_next_u64(et_sampler *s) {
  uint64_t x = s->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  s->rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

double et_sampler_next_double(et_sampler *s) {
  return (double)(et_sampler_next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct cand {
  float p;
  int32_t i;
} cand;

/* a comes before b: higher probability, then lower index. */
static int before(const cand *a, const cand *b) {
  return a->p > b->p || (a->p == b->p && a->i < b->i);
}

/* Heap with the "last" candidate (lowest priority) at the root. */
static void sift_down(cand *h, size_t n, size_t i) {
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) return;
    if (c + 1 < n && before(&h[c], &h[c + 1])) c++;
    if (!before(&h[i], &h[c])) return;
    cand t = h[i];
    h[i] = h[c];
    h[c] = t;
    i = c;
  }
}

/* Sort h[0..n) into order (most likely first): heapsort, no allocation. */
static void sort_cands(cand *h, size_t n) {
  for (size_t i = n / 2; i-- > 0;) sift_down(h, n, i);
  for (size_t end = n; end > 1; end--) {
    cand t = h[0];
    h[0] = h[end - 1];
    h[end - 1] = t;
    sift_down(h, end - 1, 0);
  }
}

et_status et_sampler_sample(et_sampler *s, const float *logits, void *scratch,
                            size_t scratch_bytes, int32_t *out_token, et_diag *diag) {
  if (!s || !logits || !out_token)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "sampler: bad arguments");
  size_t n = s->vocab;
  /* The maximum (and argmax, lowest index on ties), skipping NaN. */
  size_t arg = n;
  float mx = 0;
  for (size_t i = 0; i < n; i++) {
    float v = logits[i];
    if (isnan(v)) continue;
    if (arg == n || v > mx) {
      mx = v;
      arg = i;
    }
  }
  if (arg == n)
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "sampler: every logit is NaN");
  if (s->temperature <= 0 || isinf(mx)) {
    /* Greedy; also when a logit is +inf (it has all the probability). */
    *out_token = (int32_t)arg;
    return ET_OK;
  }
  if (!scratch || scratch_bytes < et_sampler_scratch_size(n))
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "sampler: scratch of %zu bytes is smaller than the %zu needed",
                       scratch_bytes, et_sampler_scratch_size(n));
  cand *c = scratch;
  const float inv_t = 1.0f / s->temperature;
  size_t m = 0;
  float total = 0;
  for (size_t i = 0; i < n; i++) {
    float v = logits[i];
    if (isnan(v)) continue;
    float e = expf((v - mx) * inv_t);
    c[m].p = e;
    c[m].i = (int32_t)i;
    total += e;
    m++;
  }
  int cut = 0;
  if (s->top_k > 0 && (size_t)s->top_k < m) {
    /* Keep the k most likely: a heap of k whose root is the least of them. */
    size_t k = (size_t)s->top_k;
    for (size_t i = k / 2; i-- > 0;) sift_down(c, k, i);
    /* sift_down keeps the candidate that comes last at the root. */
    for (size_t i = k; i < m; i++) {
      if (before(&c[i], &c[0])) {
        c[0] = c[i];
        sift_down(c, k, 0);
      }
    }
    m = k;
    cut = 1;
  }
  if (s->top_p > 0 && s->top_p < 1) {
    sort_cands(c, m);
    float mass = 0;
    for (size_t i = 0; i < m; i++) mass += c[i].p;
    float keep = s->top_p * mass, acc = 0;
    size_t j = 0;
    while (j < m) {
      acc += c[j].p;
      j++;
      if (acc >= keep) break;
    }
    m = j;
    cut = 1;
  } else if (cut) {
    sort_cands(c, m);
  }
  if (cut) {
    total = 0;
    for (size_t i = 0; i < m; i++) total += c[i].p;
  }
  /* One draw over the kept candidates, in their order (index order when
   * nothing was cut). */
  double r = et_sampler_next_double(s) * (double)total;
  double acc = 0;
  for (size_t i = 0; i < m; i++) {
    acc += (double)c[i].p;
    if (r < acc) {
      *out_token = c[i].i;
      return ET_OK;
    }
  }
  /* rounding: the last candidate with any probability */
  size_t last = m;
  while (last > 0 && c[last - 1].p == 0) last--;
  *out_token = c[last ? last - 1 : 0].i;
  return ET_OK;
}
