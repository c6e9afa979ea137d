/*
 * The thread pool (extension/threadpool.c) behind the et_parallel hook:
 * every index of a range is run exactly once, ranges start on grain
 * boundaries, nested and concurrent calls fall back to the caller, many
 * dispatches in a row and pools made and destroyed in a loop work; and the
 * CPU backend's GEMM gives the same bits on every thread count.
 *
 * Counters are atomic, so a double visit is counted (not lost in a race)
 * and the suite is meaningful under the sanitizers too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <edgetorch/parallel.h>

#include "../../backends/xnnpack/xnn_gemm.h"
#include "threadpool.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The cross suites run under qemu-user, which cannot start threads here
 * (CMakeLists.txt sets ET_TEST_NO_THREADS): those tests are skipped, loudly. */
static void need_threads(void) {
  const char *why = getenv("ET_TEST_NO_THREADS");
  if (why && why[0]) {
    print_message("skipped: no threads under %s\n", why);
    skip();
  }
}

typedef struct cover {
  atomic_uchar *hits;
  size_t n, grain;
  atomic_size_t calls;
  atomic_int bad_range; /* a range off its grain, empty or past n */
} cover;

static void cover_fn(void *ctx, size_t begin, size_t end) {
  cover *c = (cover *)ctx;
  atomic_fetch_add(&c->calls, 1);
  if (begin >= end || end > c->n || begin % c->grain != 0)
    atomic_store(&c->bad_range, 1);
  for (size_t i = begin; i < end && i < c->n; i++)
    atomic_fetch_add(&c->hits[i], 1);
}

/* Run [0, n) with `grain` on `p`; every index once; returns the calls. */
static size_t run_cover(et_parallel *p, size_t n, size_t grain) {
  cover c;
  c.hits = calloc(n ? n : 1, sizeof *c.hits);
  assert_non_null(c.hits);
  c.n = n;
  c.grain = grain ? grain : 1;
  atomic_init(&c.calls, 0);
  atomic_init(&c.bad_range, 0);
  et_parallel_for(p, n, grain, cover_fn, &c);
  for (size_t i = 0; i < n; i++) {
    if (atomic_load(&c.hits[i]) != 1)
      fail_msg("n=%zu grain=%zu: index %zu ran %u times", n, grain, i,
               (unsigned)atomic_load(&c.hits[i]));
  }
  assert_int_equal(atomic_load(&c.bad_range), 0);
  free(c.hits);
  return atomic_load(&c.calls);
}

static void test_every_index_once(void **state) {
  (void)state;
  need_threads();
  static const size_t ns[] = {0, 1, 2, 3, 7, 8, 63, 64, 65, 1000, 4097, 100003};
  static const size_t grains[] = {0, 1, 2, 3, 16, 64, 1000, 5000};
  static const uint32_t threads[] = {1, 2, 3, 4, 8};
  for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
    et_threadpool *pool = NULL;
    assert_int_equal(et_threadpool_create(threads[t], &pool), ET_OK);
    assert_int_equal(et_threadpool_threads(pool), threads[t]);
    et_parallel *p = et_threadpool_parallel(pool);
    assert_int_equal(et_parallel_threads(p), threads[t]);
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
      for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++) {
        size_t calls = run_cover(p, ns[i], grains[g]);
        size_t gr = grains[g] ? grains[g] : 1;
        if (ns[i] == 0) assert_int_equal(calls, 0);
        /* Less than two grains, or one thread: one call on the caller. */
        if (ns[i] && (ns[i] / gr < 2 || threads[t] == 1))
          assert_int_equal(calls, 1);
        /* Enough work on several threads is split (chunking does not depend
         * on timing, only on n, grain and the thread count). */
        if (threads[t] > 1 && ns[i] / gr >= 2) assert_true(calls >= 2);
      }
    et_threadpool_destroy(pool);
  }
}

static void test_serial_without_hook(void **state) {
  (void)state;
  /* No hook: one call covering everything, on the caller. */
  assert_int_equal(run_cover(NULL, 1000, 1), 1);
  assert_int_equal(run_cover(NULL, 0, 1), 0);
  assert_int_equal(et_parallel_threads(NULL), 1);
  /* A hook claiming one thread is never called. */
  et_parallel one = {NULL, 1};
  assert_int_equal(run_cover(&one, 1000, 1), 1);
}

typedef struct nested {
  et_parallel *p;
  atomic_size_t total;
} nested;

static void inner_fn(void *ctx, size_t begin, size_t end) {
  atomic_fetch_add((atomic_size_t *)ctx, end - begin);
}

static void outer_fn(void *ctx, size_t begin, size_t end) {
  nested *s = (nested *)ctx;
  for (size_t i = begin; i < end; i++) {
    atomic_size_t count;
    atomic_init(&count, 0);
    /* The pool is busy with the outer range: this runs on this thread. */
    et_parallel_for(s->p, 100 + i, 1, inner_fn, &count);
    atomic_fetch_add(&s->total, atomic_load(&count));
  }
}

static void test_nested_runs_serially(void **state) {
  (void)state;
  need_threads();
  et_threadpool *pool = NULL;
  assert_int_equal(et_threadpool_create(4, &pool), ET_OK);
  nested s = {et_threadpool_parallel(pool), 0};
  atomic_init(&s.total, 0);
  et_parallel_for(s.p, 50, 1, outer_fn, &s);
  size_t want = 0;
  for (size_t i = 0; i < 50; i++) want += 100 + i;
  assert_int_equal(atomic_load(&s.total), want);
  et_threadpool_destroy(pool);
}

static void sum_fn(void *ctx, size_t begin, size_t end) {
  size_t s = 0;
  for (size_t i = begin; i < end; i++) s += i + 1;
  atomic_fetch_add((atomic_size_t *)ctx, s);
}

static void test_many_dispatches(void **state) {
  (void)state;
  need_threads();
  et_threadpool *pool = NULL;
  assert_int_equal(et_threadpool_create(3, &pool), ET_OK);
  et_parallel *p = et_threadpool_parallel(pool);
  for (size_t r = 0; r < 20000; r++) {
    size_t n = 2 + r % 37;
    atomic_size_t sum;
    atomic_init(&sum, 0);
    et_parallel_for(p, n, 1, sum_fn, &sum);
    assert_int_equal(atomic_load(&sum), n * (n + 1) / 2);
  }
  et_threadpool_destroy(pool);
}

typedef struct caller {
  et_parallel *p;
  int ok;
} caller;

static void *caller_main(void *arg) {
  caller *c = (caller *)arg;
  c->ok = 1;
  for (size_t r = 0; r < 2000; r++) {
    size_t n = 100 + r % 50;
    atomic_size_t sum;
    atomic_init(&sum, 0);
    et_parallel_for(c->p, n, 1, sum_fn, &sum);
    if (atomic_load(&sum) != n * (n + 1) / 2) c->ok = 0;
  }
  return NULL;
}

static void test_concurrent_callers(void **state) {
  (void)state;
  need_threads();
  /* Two threads share one pool: one gets the workers, the other runs on
   * itself; both get every index once. */
  et_threadpool *pool = NULL;
  assert_int_equal(et_threadpool_create(3, &pool), ET_OK);
  caller c[2] = {{et_threadpool_parallel(pool), 0},
                 {et_threadpool_parallel(pool), 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&t[i], NULL, caller_main, &c[i]), 0);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  assert_int_equal(c[0].ok, 1);
  assert_int_equal(c[1].ok, 1);
  et_threadpool_destroy(pool);
}

static void test_create_destroy(void **state) {
  (void)state;
  need_threads();
  for (uint32_t r = 0; r < 200; r++) {
    et_threadpool *pool = NULL;
    assert_int_equal(et_threadpool_create(1 + r % 5, &pool), ET_OK);
    if (r % 2) { /* destroyed right after a dispatch, or never used */
      atomic_size_t sum;
      atomic_init(&sum, 0);
      et_parallel_for(et_threadpool_parallel(pool), 64, 1, sum_fn, &sum);
      assert_int_equal(atomic_load(&sum), 64 * 65 / 2);
    }
    et_threadpool_destroy(pool);
  }
  et_threadpool_destroy(NULL);
  assert_int_equal(et_threadpool_create(2, NULL), ET_INVALID_ARGUMENT);
  /* 0: the CPUs this process may use. */
  et_threadpool *pool = NULL;
  assert_int_equal(et_threadpool_create(0, &pool), ET_OK);
  assert_true(et_cpu_count() >= 1);
  assert_int_equal(et_threadpool_threads(pool), et_cpu_count());
  et_threadpool_destroy(pool);
}

static float frand(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

/* The backend's GEMM: the same bits at 1, 2, 3 and 5 threads, packed and
 * in-place B, on shapes whose tiles split unevenly. */
static void test_gemm_bit_identical(void **state) {
  (void)state;
  need_threads();
  static const size_t shapes[][3] = {
      {1, 3072, 768}, {197, 77, 129}, {64, 64, 600}, {7, 1000, 300}};
  et_threadpool *pools[4] = {NULL, NULL, NULL, NULL};
  static const uint32_t threads[4] = {1, 2, 3, 5};
  for (int t = 0; t < 4; t++)
    assert_int_equal(et_threadpool_create(threads[t], &pools[t]), ET_OK);
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    unsigned seed = (unsigned)(m + n + k);
    float *a = malloc(sizeof(float) * m * k);
    float *b = malloc(sizeof(float) * k * n);
    float *bias = malloc(sizeof(float) * n);
    float *pk = malloc(sizeof(float) * et_xnn_packed_floats(k, n));
    float *ref = malloc(sizeof(float) * m * n);
    float *c = malloc(sizeof(float) * m * n);
    assert_true(a && b && bias && pk && ref && c);
    for (size_t i = 0; i < m * k; i++) a[i] = frand(&seed);
    for (size_t i = 0; i < k * n; i++) b[i] = frand(&seed);
    for (size_t i = 0; i < n; i++) bias[i] = frand(&seed);
    et_xnn_pack_b(pk, b, k, n, n, 1);
    for (int packed = 0; packed < 2; packed++) {
      if (packed)
        et_xnn_gemm_packed(m, n, k, a, k, pk, bias, ref, n, -0.5f, 0.5f);
      else
        et_xnn_gemm(m, n, k, a, k, b, n, ref, n, -INFINITY, INFINITY);
      for (int t = 0; t < 4; t++) {
        memset(c, 0xFF, sizeof(float) * m * n);
        et_parallel *p = et_threadpool_parallel(pools[t]);
        if (packed)
          et_xnn_gemm_packed_par(p, m, n, k, a, k, pk, bias, c, n, -0.5f,
                                 0.5f);
        else
          et_xnn_gemm_par(p, m, n, k, a, k, b, n, c, n, -INFINITY, INFINITY);
        if (memcmp(c, ref, sizeof(float) * m * n) != 0)
          fail_msg("gemm %zux%zux%zu (packed %d) differs at %u threads", m, n,
                   k, packed, threads[t]);
      }
    }
    free(a);
    free(b);
    free(bias);
    free(pk);
    free(ref);
    free(c);
  }
  for (int t = 0; t < 4; t++) et_threadpool_destroy(pools[t]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_index_once),
      cmocka_unit_test(test_serial_without_hook),
      cmocka_unit_test(test_nested_runs_serially),
      cmocka_unit_test(test_many_dispatches),
      cmocka_unit_test(test_concurrent_callers),
      cmocka_unit_test(test_create_destroy),
      cmocka_unit_test(test_gemm_bit_identical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
