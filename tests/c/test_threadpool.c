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
#include <sched.h>
#include <time.h>

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

/* ---- the recorder -------------------------------------------------------- */

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A task that holds each thread in its first chunk until `want` distinct
 * threads have entered (or 10 s pass): every thread of the pool must then
 * take a chunk, whatever the scheduling, so the recorder must report each. */
typedef struct gather {
  pthread_mutex_t mu;
  pthread_t seen[16];
  int n_seen, want;
  cover c;
} gather;

static void gather_wait(gather *g) {
  pthread_t me = pthread_self();
  pthread_mutex_lock(&g->mu);
  int known = 0;
  for (int i = 0; i < g->n_seen; i++) known |= pthread_equal(g->seen[i], me);
  if (!known && g->n_seen < 16) g->seen[g->n_seen++] = me;
  pthread_mutex_unlock(&g->mu);
  for (uint64_t t0 = mono_ns(); mono_ns() - t0 < 10000000000u;) {
    pthread_mutex_lock(&g->mu);
    int n = g->n_seen;
    pthread_mutex_unlock(&g->mu);
    if (n >= g->want) break;
    sched_yield();
  }
}

static void gather_fn(void *ctx, size_t begin, size_t end) {
  gather *g = (gather *)ctx;
  gather_wait(g);
  cover_fn(&g->c, begin, end);
}

/* The events of call `call` in r: its chunks cover [0, n) exactly once and
 * lie inside the call's span; returns the number of chunks and ORs the
 * threads that ran them into *threads (bit k: thread k). */
static size_t check_call(const et_threadpool_recorder *r, uint64_t call,
                         size_t n, uint32_t *threads) {
  const et_threadpool_event *ce = NULL;
  size_t count = et_threadpool_recorder_count(r);
  for (size_t i = 0; i < count; i++) {
    const et_threadpool_event *e = et_threadpool_recorder_event(r, i);
    assert_non_null(e);
    if (e->call == call && e->kind == ET_THREADPOOL_CALL) {
      assert_null(ce); /* one call event per call */
      ce = e;
    }
  }
  assert_non_null(ce);
  assert_int_equal(ce->begin, 0);
  assert_int_equal(ce->end_index, n);
  assert_true(ce->start <= ce->end);
  unsigned char *hit = calloc(n, 1);
  assert_non_null(hit);
  size_t chunks = 0;
  for (size_t i = 0; i < count; i++) {
    const et_threadpool_event *e = et_threadpool_recorder_event(r, i);
    if (e->call != call || e->kind != ET_THREADPOOL_CHUNK) continue;
    chunks++;
    assert_true(e->begin < e->end_index && e->end_index <= n);
    for (size_t k = e->begin; k < e->end_index; k++) hit[k]++;
    assert_true(ce->start <= e->start && e->start <= e->end &&
                e->end <= ce->end);
    assert_true(e->thread < 32);
    *threads |= 1u << e->thread;
  }
  for (size_t k = 0; k < n; k++)
    if (hit[k] != 1) fail_msg("call %llu: index %zu in %u chunks",
                              (unsigned long long)call, k, (unsigned)hit[k]);
  free(hit);
  return chunks;
}

static void test_recorder_every_thread(void **state) {
  (void)state;
  need_threads();
  enum { THREADS = 4, N = 1000, CAP = 4096 };
  et_threadpool *pool = NULL;
  assert_int_equal(et_threadpool_create(THREADS, &pool), ET_OK);
  et_threadpool_event *buf = calloc(CAP, sizeof *buf);
  assert_non_null(buf);
  et_threadpool_recorder *r = NULL;
  assert_int_equal(et_threadpool_recorder_create(buf, CAP, &r), ET_OK);
  et_parallel *hook = et_threadpool_recorder_hook(r, pool);
  assert_non_null(hook);
  assert_int_equal(et_parallel_threads(hook), THREADS);

  gather g;
  memset(&g, 0, sizeof g);
  pthread_mutex_init(&g.mu, NULL);
  g.want = THREADS;
  g.c.hits = calloc(N, sizeof *g.c.hits);
  assert_non_null(g.c.hits);
  g.c.n = N;
  g.c.grain = 1;
  atomic_init(&g.c.calls, 0);
  atomic_init(&g.c.bad_range, 0);
  et_parallel_for(hook, N, 1, gather_fn, &g);
  assert_int_equal(g.n_seen, THREADS);
  for (size_t i = 0; i < N; i++) assert_int_equal(atomic_load(&g.c.hits[i]), 1);

  uint32_t threads = 0;
  size_t chunks = check_call(r, 1, N, &threads);
  /* One event per task call, plus the call; each thread ran a chunk. */
  assert_int_equal(chunks, atomic_load(&g.c.calls));
  assert_int_equal(et_threadpool_recorder_count(r), chunks + 1);
  assert_int_equal(et_threadpool_recorder_dropped(r), 0);
  assert_int_equal(threads, (1u << THREADS) - 1u);

  /* The pool's plain hook records nothing into r. */
  run_cover(et_threadpool_parallel(pool), N, 1);
  assert_int_equal(et_threadpool_recorder_count(r), chunks + 1);

  /* Many calls: numbered 1, 2, ... after a reset, each covered once. */
  et_threadpool_recorder_reset(r);
  assert_int_equal(et_threadpool_recorder_count(r), 0);
  for (size_t k = 0; k < 50; k++) run_cover(hook, 100 + k, 1 + k % 3);
  assert_int_equal(et_threadpool_recorder_dropped(r), 0);
  size_t total = 0;
  for (size_t k = 0; k < 50; k++) {
    threads = 0;
    total += 1 + check_call(r, 1 + k, 100 + k, &threads);
  }
  assert_int_equal(et_threadpool_recorder_count(r), total);

  pthread_mutex_destroy(&g.mu);
  free(g.c.hits);
  et_threadpool_recorder_destroy(r);
  free(buf);
  et_threadpool_destroy(pool);
}

static void test_recorder_bounded(void **state) {
  (void)state;
  need_threads();
  enum { N = 1000 };
  et_threadpool *pool = NULL;
  assert_int_equal(et_threadpool_create(3, &pool), ET_OK);
  et_threadpool_event big[256], small[3];
  et_threadpool_recorder *r = NULL;
  /* How many events one call makes (chunking depends on n, grain and the
   * thread count only). */
  assert_int_equal(et_threadpool_recorder_create(big, 256, &r), ET_OK);
  size_t calls = run_cover(et_threadpool_recorder_hook(r, pool), N, 1);
  size_t per_call = et_threadpool_recorder_count(r);
  assert_int_equal(per_call, calls + 1);
  et_threadpool_recorder_destroy(r);

  assert_int_equal(et_threadpool_recorder_create(small, 3, &r), ET_OK);
  et_parallel *hook = et_threadpool_recorder_hook(r, pool);
  run_cover(hook, N, 1);
  assert_int_equal(et_threadpool_recorder_count(r), 3);
  assert_int_equal(et_threadpool_recorder_dropped(r), per_call - 3);
  run_cover(hook, N, 1); /* the work is done all the same */
  assert_int_equal(et_threadpool_recorder_count(r), 3);
  assert_int_equal(et_threadpool_recorder_dropped(r), 2 * per_call - 3);
  assert_null(et_threadpool_recorder_event(r, 3));
  et_threadpool_recorder_reset(r);
  assert_int_equal(et_threadpool_recorder_count(r), 0);
  assert_int_equal(et_threadpool_recorder_dropped(r), 0);
  et_threadpool_recorder_destroy(r);

  /* Capacity 0 drops everything; bad arguments. */
  assert_int_equal(et_threadpool_recorder_create(NULL, 0, &r), ET_OK);
  run_cover(et_threadpool_recorder_hook(r, pool), N, 1);
  assert_int_equal(et_threadpool_recorder_count(r), 0);
  assert_int_equal(et_threadpool_recorder_dropped(r), per_call);
  assert_null(et_threadpool_recorder_hook(r, NULL));
  assert_null(et_threadpool_recorder_hook(NULL, pool));
  et_threadpool_recorder_destroy(r);
  et_threadpool_recorder_destroy(NULL);
  assert_int_equal(et_threadpool_recorder_create(NULL, 4, &r),
                   ET_INVALID_ARGUMENT);
  assert_null(r);
  assert_int_equal(et_threadpool_recorder_create(big, 4, NULL),
                   ET_INVALID_ARGUMENT);
  et_threadpool_destroy(pool);
}

typedef struct nested_rec {
  et_parallel *p;
  atomic_size_t total;
  gather g;
} nested_rec;

static void nested_rec_fn(void *ctx, size_t begin, size_t end) {
  nested_rec *s = (nested_rec *)ctx;
  gather_wait(&s->g); /* every thread runs an outer chunk */
  for (size_t i = begin; i < end; i++) {
    atomic_size_t count;
    atomic_init(&count, 0);
    et_parallel_for(s->p, 64, 1, inner_fn, &count);
    atomic_fetch_add(&s->total, atomic_load(&count));
  }
}

static atomic_uint_fast64_t fake_ticks;
static uint64_t fake_clock(void *user) {
  (void)user;
  return (uint64_t)atomic_fetch_add(&fake_ticks, 1) + 1u;
}

static void test_recorder_serial_and_nested(void **state) {
  (void)state;
  need_threads();
  et_threadpool *pool = NULL;
  assert_int_equal(et_threadpool_create(3, &pool), ET_OK);
  et_threadpool_event buf[1024];
  et_threadpool_recorder *r = NULL;
  assert_int_equal(et_threadpool_recorder_create(buf, 1024, &r), ET_OK);
  et_parallel *hook = et_threadpool_recorder_hook(r, pool);
  /* A run() with too little work to split: one chunk on the caller. */
  atomic_size_t sum;
  atomic_init(&sum, 0);
  hook->run(hook, 1, 1, sum_fn, &sum);
  assert_int_equal(atomic_load(&sum), 1);
  assert_int_equal(et_threadpool_recorder_count(r), 2);
  uint32_t threads = 0;
  assert_int_equal(check_call(r, 1, 1, &threads), 1);
  assert_int_equal(threads, 1u); /* thread 0: the caller */
  for (size_t i = 0; i < 2; i++)
    assert_int_equal(et_threadpool_recorder_event(r, i)->serial, 1);

  /* Runs nested in a recorded run go serial on the thread running the outer
   * chunk, and are recorded as that thread's: inside one of its chunks. */
  et_threadpool_recorder_reset(r);
  nested_rec s;
  memset(&s, 0, sizeof s);
  s.p = hook;
  atomic_init(&s.total, 0);
  pthread_mutex_init(&s.g.mu, NULL);
  s.g.want = 3;
  et_parallel_for(hook, 40, 1, nested_rec_fn, &s);
  pthread_mutex_destroy(&s.g.mu);
  assert_int_equal(atomic_load(&s.total), 40 * 64);
  assert_int_equal(et_threadpool_recorder_dropped(r), 0);
  size_t count = et_threadpool_recorder_count(r), inner = 0;
  uint64_t outer_call = 0;
  for (size_t i = 0; i < count; i++) {
    const et_threadpool_event *e = et_threadpool_recorder_event(r, i);
    if (e->kind == ET_THREADPOOL_CALL && !e->serial) {
      assert_int_equal(outer_call, 0);
      outer_call = e->call;
    }
  }
  assert_true(outer_call != 0);
  for (size_t i = 0; i < count; i++) {
    const et_threadpool_event *e = et_threadpool_recorder_event(r, i);
    if (e->kind != ET_THREADPOOL_CALL || !e->serial) continue;
    inner++;
    threads = 0;
    assert_int_equal(check_call(r, e->call, 64, &threads), 1);
  }
  assert_int_equal(inner, 40);
  threads = 0;
  check_call(r, outer_call, 40, &threads);
  assert_int_equal(threads, 7u); /* the outer chunks ran on threads 0-2 */
  /* Each outer chunk holds, on its own thread, one inner call per index. */
  for (size_t j = 0; j < count; j++) {
    const et_threadpool_event *o = et_threadpool_recorder_event(r, j);
    if (o->call != outer_call || o->kind != ET_THREADPOOL_CHUNK) continue;
    size_t held = 0;
    for (size_t i = 0; i < count; i++) {
      const et_threadpool_event *e = et_threadpool_recorder_event(r, i);
      if (e->kind == ET_THREADPOOL_CALL && e->serial &&
          e->thread == o->thread && o->start <= e->start && e->end <= o->end)
        held++;
    }
    assert_int_equal(held, o->end_index - o->begin);
  }

  /* The host's clock. */
  et_threadpool_recorder_reset(r);
  atomic_store(&fake_ticks, 1000);
  et_threadpool_recorder_set_clock(r, fake_clock, NULL);
  run_cover(hook, 500, 1);
  count = et_threadpool_recorder_count(r);
  assert_true(count >= 3);
  for (size_t i = 0; i < count; i++) {
    const et_threadpool_event *e = et_threadpool_recorder_event(r, i);
    assert_true(e->start > 1000 && e->end > e->start &&
                e->end <= (uint64_t)atomic_load(&fake_ticks));
  }
  et_threadpool_recorder_destroy(r);

  /* A one-thread pool's recording hook is never called: nothing recorded. */
  et_threadpool *one = NULL;
  assert_int_equal(et_threadpool_create(1, &one), ET_OK);
  assert_int_equal(et_threadpool_recorder_create(buf, 1024, &r), ET_OK);
  hook = et_threadpool_recorder_hook(r, one);
  assert_int_equal(et_parallel_threads(hook), 1);
  assert_int_equal(run_cover(hook, 1000, 1), 1);
  assert_int_equal(et_threadpool_recorder_count(r), 0);
  et_threadpool_recorder_destroy(r);
  et_threadpool_destroy(one);
  et_threadpool_destroy(pool);
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
      cmocka_unit_test(test_recorder_every_thread),
      cmocka_unit_test(test_recorder_bounded),
      cmocka_unit_test(test_recorder_serial_and_nested),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
