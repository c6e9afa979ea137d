/*
 * The llama:: kernels (kernels/llm): custom_sdpa, sdpa_with_kv_cache,
 * update_cache, update_cache_with_indices against a plain double-precision
 * reference of upstream's semantics, on odd shapes (head_dim 13, grouped
 * heads, start_pos mid-cache, one and several query rows, causal, masked,
 * explicit scale), on both vector paths and with a thread pool; and the
 * refusals, each with its named message.
 */
#include "test_kernels.h"

#include "../../backends/xnnpack/xnn_gemm.h"
#include "llm/attention.h"
#include "threadpool.h"

/* out[b, i, h, :] by upstream's rules, in double. */
static void ref_sdpa(const et_tensor *q, const et_tensor *k, const et_tensor *v,
                     int64_t start_pos, const et_tensor *mask, bool causal, double scale,
                     double *out) {
  const int B = q->sizes[0], S = q->sizes[1], H = q->sizes[2], D = q->sizes[3];
  const int C = k->sizes[1], Hkv = k->sizes[2];
  const int nk = mask ? C : (int)start_pos + S;
  double *p = (double *)kt_alloc(sizeof(double) * (size_t)C);
  for (int b = 0; b < B; b++)
    for (int i = 0; i < S; i++)
      for (int h = 0; h < H; h++) {
        const int hk = h / (H / Hkv);
        int n = nk;
        if (causal && (int)start_pos + i + 1 < n) n = (int)start_pos + i + 1;
        double mx = -INFINITY;
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int d = 0; d < D; d++)
            s += kt_get(q, (size_t)(((b * S + i) * H + h) * D + d)) *
                 kt_get(k, (size_t)(((b * C + j) * Hkv + hk) * D + d));
          s *= scale;
          if (mask) s += kt_get(mask, (size_t)(i * C + j));
          p[j] = s;
          if (s > mx) mx = s;
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
          p[j] = exp(p[j] - mx);
          sum += p[j];
        }
        for (int d = 0; d < D; d++) {
          double acc = 0;
          for (int j = 0; j < n; j++)
            acc += p[j] * kt_get(v, (size_t)(((b * C + j) * Hkv + hk) * D + d));
          out[((b * S + i) * H + h) * D + d] = acc / sum;
        }
      }
}

static void expect_near(const et_tensor *got, const double *want) {
  const size_t n = et_tensor_numel(got);
  for (size_t i = 0; i < n; i++) {
    const double g = kt_get(got, i);
    if (!(fabs(g - want[i]) <= 2e-5 + 2e-5 * fabs(want[i])))
      fail_msg("element %zu: got %.9g, want %.9g", i, g, want[i]);
  }
}

typedef struct sdpa_case {
  int B, S, H, Hkv, D, C;
  int64_t start_pos;
  bool causal, mask, scale;
} sdpa_case;

static const sdpa_case kCases[] = {
    {1, 1, 4, 4, 8, 16, 0, true, false, false},    /* first decode step */
    {1, 1, 6, 2, 13, 300, 211, true, false, false}, /* GQA, > 2 key blocks */
    {2, 5, 6, 3, 13, 20, 7, true, false, true},    /* prefill mid-cache, scale */
    {1, 4, 2, 1, 5, 9, 0, false, false, false},    /* not causal: keys 0..3 */
    {1, 3, 4, 2, 24, 11, 2, false, true, false},   /* additive mask over the cache */
    {1, 7, 3, 3, 64, 150, 140, true, false, false}, /* cache full at the end */
    {1, 2, 20, 2, 9, 40, 30, true, false, false},   /* 10 heads per kv head: 8 + 2 */
};

static void run_case(const sdpa_case *c, int path) {
  et_xnn_gemm_force_path(path);
  et_tensor *q = kt_random(kt_t(ET_FLOAT, 4, c->B, c->S, c->H, c->D), 1);
  et_tensor *k = kt_random(kt_t(ET_FLOAT, 4, c->B, c->C, c->Hkv, c->D), 2);
  et_tensor *v = kt_random(kt_t(ET_FLOAT, 4, c->B, c->C, c->Hkv, c->D), 3);
  et_tensor *out = kt_t(ET_FLOAT, 4, c->B, c->S, c->H, c->D);
  et_tensor *mask = NULL;
  if (c->mask) {
    mask = kt_random(kt_t(ET_FLOAT, 2, c->S, c->C), 4);
    for (int i = 0; i < c->S; i++) kt_set(mask, (size_t)(i * c->C + c->C - 1), -INFINITY);
  }
  const double scale = c->scale ? 0.37 : 1.0 / sqrt((double)c->D);
  double *want = (double *)kt_alloc(sizeof(double) * et_tensor_numel(out));
  ref_sdpa(q, k, v, c->start_pos, mask, c->causal, scale, want);
  KT_OK("llama::custom_sdpa.out", VT(q), VT(k), VT(v), VI(c->start_pos),
        mask ? VT(mask) : VN(), VD(0.0), VB(c->causal), c->scale ? VD(0.37) : VN(),
        VT(out), VT(out));
  expect_near(out, want);

  /* sdpa_with_kv_cache: the rows written first, then the same attention
   * (no mask: the written rows are the last ones the keys see) */
  if (!c->mask) {
    et_tensor *kc = kt_random(kt_t(ET_FLOAT, 4, c->B, c->C, c->Hkv, c->D), 2);
    et_tensor *vc = kt_random(kt_t(ET_FLOAT, 4, c->B, c->C, c->Hkv, c->D), 3);
    et_tensor *kn = kt_random(kt_t(ET_FLOAT, 4, c->B, c->S, c->Hkv, c->D), 5);
    et_tensor *vn = kt_random(kt_t(ET_FLOAT, 4, c->B, c->S, c->Hkv, c->D), 6);
    et_tensor *out2 = kt_t(ET_FLOAT, 4, c->B, c->S, c->H, c->D);
    KT_OK("llama::sdpa_with_kv_cache.out", VT(q), VT(kn), VT(vn), VT(kc), VT(vc),
          VI(c->start_pos), VI(c->S), VN(), VD(0.0), VB(c->causal),
          c->scale ? VD(0.37) : VN(), VT(out2), VT(out2));
    const size_t row = (size_t)c->Hkv * (size_t)c->D;
    for (int b = 0; b < c->B; b++)
      for (size_t e = 0; e < (size_t)c->S * row; e++) {
        const size_t at = ((size_t)b * (size_t)c->C + (size_t)c->start_pos) * row + e;
        assert_true(kt_get(kc, at) == kt_get(kn, (size_t)b * (size_t)c->S * row + e));
        assert_true(kt_get(vc, at) == kt_get(vn, (size_t)b * (size_t)c->S * row + e));
      }
    ref_sdpa(q, kc, vc, c->start_pos, NULL, c->causal, scale, want);
    expect_near(out2, want);
  }
  et_xnn_gemm_force_path(-1);
}

static void test_custom_sdpa_plain_c(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; i++) run_case(&kCases[i], 0);
}

static void test_custom_sdpa_vector(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; i++) run_case(&kCases[i], 1);
}

/* The rows split over threads give bit-identical results. */
static void test_attention_threads_identical(void **state) {
  (void)state;
  if (getenv("ET_TEST_NO_THREADS")) skip();
  const int B = 1, S = 9, H = 8, Hkv = 2, D = 40, C = 200;
  et_tensor *q = kt_random(kt_t(ET_FLOAT, 4, B, S, H, D), 11);
  et_tensor *k = kt_random(kt_t(ET_FLOAT, 4, B, C, Hkv, D), 12);
  et_tensor *v = kt_random(kt_t(ET_FLOAT, 4, B, C, Hkv, D), 13);
  float *o1 = (float *)kt_alloc(sizeof(float) * (size_t)(B * S * H * D));
  float *o2 = (float *)kt_alloc(sizeof(float) * (size_t)(B * S * H * D));
  et_llm_attn a;
  memset(&a, 0, sizeof a);
  a.q = (const float *)q->data;
  a.k = (const float *)k->data;
  a.v = (const float *)v->data;
  a.B = B, a.S = S, a.H = H, a.Hkv = Hkv, a.D = D;
  a.q_sh = a.o_sh = a.k_sh = a.v_sh = D;
  a.q_ss = a.o_ss = (size_t)H * D;
  a.k_ss = a.v_ss = (size_t)Hkv * D;
  a.n_keys = 180;
  a.start_pos = 171;
  a.causal = true;
  a.scale = 0.2f;
  a.out = o1;
  et_llm_attention(NULL, &a);
  et_threadpool *pool = NULL;
  assert_int_equal(et_threadpool_create(2, &pool), ET_OK);
  a.out = o2;
  et_llm_attention(et_threadpool_parallel(pool), &a);
  et_threadpool_destroy(pool);
  assert_memory_equal(o1, o2, sizeof(float) * (size_t)(B * S * H * D));
}

static void test_update_cache(void **state) {
  (void)state;
  et_tensor *val = kt_random(kt_t(ET_FLOAT, 4, 2, 3, 2, 5), 1);
  et_tensor *cache = kt_t(ET_FLOAT, 4, 2, 8, 2, 5);
  et_tensor *dummy = kt_t(ET_FLOAT, 1, 1);
  KT_OK("llama::update_cache.out", VT(val), VT(cache), VI(5), VT(dummy), VT(dummy));
  for (int b = 0; b < 2; b++)
    for (int r = 0; r < 8; r++)
      for (int e = 0; e < 10; e++) {
        const double got = kt_get(cache, (size_t)((b * 8 + r) * 10 + e));
        const double want =
            r >= 5 ? kt_get(val, (size_t)((b * 3 + r - 5) * 10 + e)) : 0.0;
        assert_true(got == want);
      }
  /* any dtype, as upstream (a byte copy) */
  et_tensor *hv = kt_random(kt_t(ET_HALF, 4, 1, 1, 1, 3), 2);
  et_tensor *hc = kt_t(ET_HALF, 4, 1, 4, 1, 3);
  KT_OK("llama::update_cache.out", VT(hv), VT(hc), VI(3), VT(dummy), VT(dummy));
  assert_true(kt_get(hc, 9) == kt_get(hv, 0) && kt_get(hc, 11) == kt_get(hv, 2));

  et_tensor *idx = kt_t(ET_LONG, 2, 2, 3);
  const int64_t rows[6] = {7, 0, 3, 1, 4, 6};
  for (int i = 0; i < 6; i++) kt_seti(idx, (size_t)i, rows[i]);
  et_tensor *cache2 = kt_t(ET_FLOAT, 4, 2, 8, 2, 5);
  KT_OK("llama::update_cache_with_indices.out", VT(val), VT(cache2), VI(0), VT(idx),
        VT(dummy), VT(dummy));
  for (int b = 0; b < 2; b++)
    for (int s = 0; s < 3; s++)
      for (int e = 0; e < 10; e++)
        assert_true(kt_get(cache2, (size_t)((b * 8 + rows[b * 3 + s]) * 10 + e)) ==
                    kt_get(val, (size_t)((b * 3 + s) * 10 + e)));
}

static void test_refusals(void **state) {
  (void)state;
  et_tensor *val = kt_random(kt_t(ET_FLOAT, 4, 1, 3, 2, 5), 1);
  et_tensor *cache = kt_t(ET_FLOAT, 4, 1, 8, 2, 5);
  et_tensor *dummy = kt_t(ET_FLOAT, 1, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "start_pos 6 + seq_len 3 is outside the cache's 8",
          "llama::update_cache.out", VT(val), VT(cache), VI(6), VT(dummy), VT(dummy));
  KT_FAIL(ET_INVALID_ARGUMENT, "start_pos -1", "llama::update_cache.out", VT(val),
          VT(cache), VI(-1), VT(dummy), VT(dummy));
  et_tensor *cache3 = kt_t(ET_FLOAT, 3, 8, 2, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "cache must have 4 dimensions", "llama::update_cache.out",
          VT(val), VT(cache3), VI(0), VT(dummy), VT(dummy));
  et_tensor *cache_h = kt_t(ET_FLOAT, 4, 1, 8, 3, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "dimension 2 differs", "llama::update_cache.out", VT(val),
          VT(cache_h), VI(0), VT(dummy), VT(dummy));
  et_tensor *cache_d = kt_t(ET_HALF, 4, 1, 8, 2, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "dtype", "llama::update_cache.out", VT(val), VT(cache_d),
          VI(0), VT(dummy), VT(dummy));
  /* nothing written by a refused call */
  for (size_t i = 0; i < et_tensor_numel(cache); i++) assert_true(kt_get(cache, i) == 0.0);

  et_tensor *idx = kt_t(ET_LONG, 2, 1, 3);
  kt_seti(idx, 0, 2);
  kt_seti(idx, 1, 8);
  KT_FAIL(ET_INVALID_ARGUMENT, "indices[0, 1] = 8 is outside the cache's 8",
          "llama::update_cache_with_indices.out", VT(val), VT(cache), VI(0), VT(idx),
          VT(dummy), VT(dummy));
  assert_true(kt_get(cache, 20) == 0.0); /* row 2 not written either */
  et_tensor *idx32 = kt_t(ET_INT, 2, 1, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "indices", "llama::update_cache_with_indices.out", VT(val),
          VT(cache), VI(0), VT(idx32), VT(dummy), VT(dummy));

  et_tensor *q = kt_random(kt_t(ET_FLOAT, 4, 1, 3, 4, 5), 1);
  et_tensor *out = kt_t(ET_FLOAT, 4, 1, 3, 4, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "start_pos 6 + seq_len 3 is outside the key cache's 8",
          "llama::custom_sdpa.out", VT(q), VT(cache), VT(cache), VI(6), VN(), VD(0.0),
          VB(true), VN(), VT(out), VT(out));
  et_tensor *qh = kt_t(ET_HALF, 4, 1, 3, 4, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "query has dtype Half", "llama::custom_sdpa.out", VT(qh),
          VT(cache), VT(cache), VI(0), VN(), VD(0.0), VB(true), VN(), VT(out), VT(out));
  et_tensor *q3 = kt_t(ET_FLOAT, 3, 3, 4, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "query must have 4 dimensions", "llama::custom_sdpa.out",
          VT(q3), VT(cache), VT(cache), VI(0), VN(), VD(0.0), VB(true), VN(), VT(out),
          VT(out));
  et_tensor *q5 = kt_t(ET_FLOAT, 4, 1, 3, 5, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "query heads (5) must be a multiple of key/value heads (2)",
          "llama::custom_sdpa.out", VT(q5), VT(cache), VT(cache), VI(0), VN(), VD(0.0),
          VB(true), VN(), VT(out), VT(out));
  et_tensor *mask = kt_t(ET_FLOAT, 2, 3, 8);
  KT_FAIL(ET_INVALID_ARGUMENT, "attn_mask and is_causal cannot both be set",
          "llama::custom_sdpa.out", VT(q), VT(cache), VT(cache), VI(0), VT(mask), VD(0.0),
          VB(true), VN(), VT(out), VT(out));
  et_tensor *mask_bad = kt_t(ET_FLOAT, 2, 3, 7);
  KT_FAIL(ET_INVALID_ARGUMENT, "attn_mask [3, 7] must be [seq_len, cache length] = [3, 8]",
          "llama::custom_sdpa.out", VT(q), VT(cache), VT(cache), VI(0), VT(mask_bad),
          VD(0.0), VB(false), VN(), VT(out), VT(out));
  et_tensor *mask_b = kt_t(ET_BOOL, 2, 3, 8);
  KT_FAIL(ET_INVALID_ARGUMENT, "attn_mask has dtype Bool", "llama::custom_sdpa.out", VT(q),
          VT(cache), VT(cache), VI(0), VT(mask_b), VD(0.0), VB(false), VN(), VT(out),
          VT(out));
  et_tensor *kv_d = kt_t(ET_FLOAT, 4, 1, 8, 2, 6);
  KT_FAIL(ET_INVALID_ARGUMENT, "head_dim", "llama::custom_sdpa.out", VT(q), VT(kv_d),
          VT(kv_d), VI(0), VN(), VD(0.0), VB(true), VN(), VT(out), VT(out));

  /* sdpa_with_kv_cache checks everything before writing a cache row */
  et_tensor *kc = kt_t(ET_FLOAT, 4, 1, 8, 2, 5), *vc = kt_t(ET_FLOAT, 4, 1, 8, 2, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "seq_len 2 must equal", "llama::sdpa_with_kv_cache.out",
          VT(q), VT(val), VT(val), VT(kc), VT(vc), VI(0), VI(2), VN(), VD(0.0), VB(true),
          VN(), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "outside key_cache's 8", "llama::sdpa_with_kv_cache.out",
          VT(q), VT(val), VT(val), VT(kc), VT(vc), VI(7), VI(3), VN(), VD(0.0), VB(true),
          VN(), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "attn_mask and is_causal", "llama::sdpa_with_kv_cache.out",
          VT(q), VT(val), VT(val), VT(kc), VT(vc), VI(0), VI(3), VT(mask), VD(0.0),
          VB(true), VN(), VT(out), VT(out));
  for (size_t i = 0; i < et_tensor_numel(kc); i++)
    assert_true(kt_get(kc, i) == 0.0 && kt_get(vc, i) == 0.0);
}

static void test_table_sorted(void **state) {
  (void)state;
  const et_kernel_table *t = &et_llm_kernels;
  assert_int_equal(t->count, 4);
  for (size_t i = 1; i < t->count; i++)
    assert_true(strcmp(t->kernels[i - 1].name, t->kernels[i].name) < 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_custom_sdpa_plain_c, kt_free_all),
      cmocka_unit_test_teardown(test_custom_sdpa_vector, kt_free_all),
      cmocka_unit_test_teardown(test_attention_threads_identical, kt_free_all),
      cmocka_unit_test_teardown(test_update_cache, kt_free_all),
      cmocka_unit_test_teardown(test_refusals, kt_free_all),
      cmocka_unit_test_teardown(test_table_sorted, kt_free_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
