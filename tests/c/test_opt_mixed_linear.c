/*
 * The optimized quantized_decomposed::mixed_linear.out
 * (kernels/optimized/op_mixed_linear.c) against a double-precision
 * reference of the op's meaning (sum over groups of x . w times the
 * group's scale), on both vector paths, its dot path (few rows, or no
 * scratch) and its packed GEMM path (more rows, scratch), per channel and
 * grouped, with channel counts that leave a tail; bit-identical with a
 * thread pool; what it does not take gives the portable kernel's exact
 * bits and its messages.
 */
#include "test_kernels.h"

#include "../../backends/xnnpack/xnn_gemm.h"
#include "optimized/optimized.h"
#include "quantized/ops.h"
#include "threadpool.h"

static uint8_t g_scratch[1 << 18];

static et_status call(et_status (*fn)(et_kernel_ctx *, et_value **), et_tensor *x,
                      et_tensor *w, et_tensor *s, et_tensor *zp, et_tensor *out,
                      size_t scratch, et_parallel *par) {
  et_kernel_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.op_name = "quantized_decomposed::mixed_linear.out";
  ctx.diag = &kt_diag;
  ctx.scratch = scratch ? g_scratch : NULL;
  ctx.scratch_size = scratch;
  ctx.parallel = par;
  et_diag_clear(&kt_diag);
  et_value *args[] = {VT(x), VT(w), VT(s), zp ? VT(zp) : VN(), VN(), VT(out), VT(out)};
  return fn(&ctx, args);
}

static et_tensor *int8_weights(int p, int n, uint32_t seed) {
  et_tensor *w = kt_t(ET_CHAR, 2, p, n);
  uint32_t st = seed * 2654435761u + 1;
  for (int i = 0; i < p * n; i++) {
    st = st * 1664525u + 1013904223u;
    kt_set(w, (size_t)i, (double)((int)(st >> 24) - 128));
  }
  return w;
}

typedef struct ml_case {
  int m, n, p, groups;
  size_t scratch;
} ml_case;

static const ml_case kCases[] = {
    {1, 45, 9, 1, 0},                   /* decode, a 5-channel tail, 9 = 2 tiles + 1 */
    {1, 256, 37, 8, 0},                 /* decode, groups of 32 */
    {3, 64, 13, 4, 0},                  /* 3 rows, groups of 16 */
    {4, 768, 70, 1, sizeof g_scratch},  /* at most 4 rows: the dot path */
    {7, 96, 35, 1, sizeof g_scratch},   /* packed GEMM, a partial panel */
    {9, 64, 40, 2, sizeof g_scratch},   /* packed GEMM, groups */
    {6, 200, 100, 1, 64 * 200 + 100},   /* scratch for one panel at a time */
    {7, 96, 35, 1, 0},                  /* no scratch: the dot path */
};

static void check_case(const ml_case *c, int path) {
  et_xnn_gemm_force_path(path);
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 2, c->m, c->n), 3);
  et_tensor *w = int8_weights(c->p, c->n, 5);
  et_tensor *s = c->groups == 1 ? kt_random(kt_t(ET_FLOAT, 1, c->p), 7)
                                 : kt_random(kt_t(ET_FLOAT, 2, c->p, c->groups), 7);
  et_tensor *out = kt_t(ET_FLOAT, 2, c->m, c->p);
  assert_int_equal(call(et_opt_mixed_linear_out, x, w, s, NULL, out, c->scratch, NULL), ET_OK);
  const int g = c->n / c->groups;
  for (int i = 0; i < c->m; i++)
    for (int j = 0; j < c->p; j++) {
      double want = 0, mag = 0;
      for (int k = 0; k < c->n; k++) {
        const double t = kt_get(x, (size_t)(i * c->n + k)) * kt_get(w, (size_t)(j * c->n + k)) *
                         kt_get(s, (size_t)(j * c->groups + k / g));
        want += t;
        mag += fabs(t);
      }
      const double got = kt_get(out, (size_t)(i * c->p + j));
      if (!(fabs(got - want) <= 1e-6 * mag + 1e-30))
        fail_msg("m %d n %d p %d groups %d path %d: out[%d][%d] = %.9g, want %.9g", c->m, c->n,
                 c->p, c->groups, path, i, j, got, want);
    }
  et_xnn_gemm_force_path(-1);
}

static void test_plain_c(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; i++) check_case(&kCases[i], 0);
}

static void test_vector(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; i++) check_case(&kCases[i], 1);
}

static void test_threads_identical(void **state) {
  (void)state;
  if (getenv("ET_TEST_NO_THREADS")) skip();
  et_threadpool *pool = NULL;
  assert_int_equal(et_threadpool_create(2, &pool), ET_OK);
  const int shapes[][3] = {{1, 512, 300}, {12, 128, 200}};
  for (int t = 0; t < 2; t++) {
    const int m = shapes[t][0], n = shapes[t][1], p = shapes[t][2];
    et_tensor *x = kt_random(kt_t(ET_FLOAT, 2, m, n), 11);
    et_tensor *w = int8_weights(p, n, 12);
    et_tensor *s = kt_random(kt_t(ET_FLOAT, 2, p, 4), 13);
    et_tensor *o1 = kt_t(ET_FLOAT, 2, m, p), *o2 = kt_t(ET_FLOAT, 2, m, p);
    assert_int_equal(call(et_opt_mixed_linear_out, x, w, s, NULL, o1, sizeof g_scratch, NULL),
                     ET_OK);
    assert_int_equal(call(et_opt_mixed_linear_out, x, w, s, NULL, o2, sizeof g_scratch,
                          et_threadpool_parallel(pool)), ET_OK);
    assert_memory_equal(o1->data, o2->data, sizeof(float) * (size_t)(m * p));
  }
  et_threadpool_destroy(pool);
}

/* Inputs the fast path does not take: the portable kernel's bits and messages. */
static void test_fallbacks(void **state) {
  (void)state;
  /* fewer than 32 channels; groups of 4 (not a multiple of 8) */
  const int shapes[][4] = {{2, 16, 5, 1}, {2, 64, 5, 16}};
  for (int t = 0; t < 2; t++) {
    const int m = shapes[t][0], n = shapes[t][1], p = shapes[t][2], G = shapes[t][3];
    et_tensor *x = kt_random(kt_t(ET_FLOAT, 2, m, n), 21);
    et_tensor *w = int8_weights(p, n, 22);
    et_tensor *s = G == 1 ? kt_random(kt_t(ET_FLOAT, 1, p), 23)
                          : kt_random(kt_t(ET_FLOAT, 2, p, G), 23);
    et_tensor *o1 = kt_t(ET_FLOAT, 2, m, p), *o2 = kt_t(ET_FLOAT, 2, m, p);
    assert_int_equal(call(et_opt_mixed_linear_out, x, w, s, NULL, o1, 0, NULL), ET_OK);
    assert_int_equal(call(et_q_mixed_linear_out, x, w, s, NULL, o2, 0, NULL), ET_OK);
    assert_memory_equal(o1->data, o2->data, sizeof(float) * (size_t)(m * p));
  }
  /* Half input */
  et_tensor *hx = kt_random(kt_t(ET_HALF, 2, 2, 64), 31);
  et_tensor *hw = int8_weights(3, 64, 32);
  et_tensor *hs = kt_random(kt_t(ET_HALF, 1, 3), 33);
  et_tensor *h1 = kt_t(ET_HALF, 2, 2, 3), *h2 = kt_t(ET_HALF, 2, 2, 3);
  assert_int_equal(call(et_opt_mixed_linear_out, hx, hw, hs, NULL, h1, 0, NULL), ET_OK);
  assert_int_equal(call(et_q_mixed_linear_out, hx, hw, hs, NULL, h2, 0, NULL), ET_OK);
  assert_memory_equal(h1->data, h2->data, 2 * 2 * 3);
  /* refusals keep the portable messages */
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 2, 1, 64), 41);
  et_tensor *w = int8_weights(4, 64, 42);
  et_tensor *s = kt_random(kt_t(ET_FLOAT, 1, 4), 43);
  et_tensor *o = kt_t(ET_FLOAT, 2, 1, 4);
  assert_int_equal(call(et_opt_mixed_linear_out, x, w, s, s, o, 0, NULL), ET_INVALID_ARGUMENT);
  assert_non_null(strstr(kt_diag.message, "weight_zero_points: not supported"));
  et_tensor *w_bad = int8_weights(4, 48, 44);
  assert_int_equal(call(et_opt_mixed_linear_out, x, w_bad, s, NULL, o, 0, NULL),
                   ET_INVALID_ARGUMENT);
  assert_non_null(strstr(kt_diag.message, "do not match"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_plain_c, kt_free_all),
      cmocka_unit_test_teardown(test_vector, kt_free_all),
      cmocka_unit_test_teardown(test_threads_identical, kt_free_all),
      cmocka_unit_test_teardown(test_fallbacks, kt_free_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
