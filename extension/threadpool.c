/*
 * The pthread pool behind et_parallel (see threadpool.h).
 *
 * One job at a time. A job is published with a generation counter `gen`
 * that only the dispatching thread (the holder of `busy`) writes: odd while
 * the job's fields are being written, even once they are published. Chunks
 * of the range are claimed with fetch_add on `next` and counted in `done`.
 *
 * Why no data race (the argument a thread sanitizer would check):
 *  - Job fields (fn, ctx, n, chunk, n_chunks) are plain memory, written by
 *    the dispatcher only while gen is odd and no worker is `active`, and
 *    read by a worker only after it has made itself active and seen gen
 *    even and unchanged. Worker: active++ then re-read gen; dispatcher:
 *    gen = odd then read active. Both are sequentially consistent, so
 *    either the dispatcher sees the worker active (and waits for it to
 *    leave), or the worker sees the new gen (and leaves without reading).
 *    The field writes happen before the even gen store (release) that the
 *    worker's load acquires; a worker's reads happen before its active--
 *    (release) that the dispatcher's load of active == 0 acquires.
 *  - Each chunk index is handed out once (fetch_add), so two threads never
 *    run fn on the same indices; fn's writes in a worker happen before its
 *    done++ (release), which the dispatcher acquires before returning.
 *  - A worker that wakes late finds next >= n_chunks and leaves: the caller
 *    never waits for a worker to wake, only for chunks already claimed.
 *  - Sleeping: a worker increments `sleepers` and re-reads gen under the
 *    mutex before waiting; the dispatcher stores gen and then reads
 *    sleepers, signalling under the mutex when any sleep. Sequential
 *    consistency again means one of them sees the other: no lost wake-up.
 *  - Recording (a job with a recorder): each event slot is claimed once
 *    (fetch_add on `claimed`), so no two threads write one slot; a worker
 *    stores a chunk's event before its done++ (release), so the caller has
 *    every event of the job once run() returns. The recorder's clock reads
 *    are ordered the same way: a chunk starts after the dispatcher read the
 *    call's start (the gen store the worker acquired lies between) and ends
 *    before the dispatcher reads the call's end, so with a monotonic clock
 *    shared by all threads, a call's span holds its chunks.
 */
#define _GNU_SOURCE 1 /* sched_getaffinity, CPU_COUNT */
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <edgetorch/pal.h>

/* Idle spins before a worker sleeps, and before a waiting caller yields:
 * some tens of microseconds, so that the next node's dispatch, usually
 * microseconds away, finds the workers awake, while a worker spinning on a
 * machine busy with other work gives its CPU back soon (on an
 * oversubscribed 2-vCPU machine, MobileNetV2 at 2 threads went from 0.67x
 * to 0.88x of its 1-thread speed with 20000 -> 2000; noisy figures). */
#ifndef ET_THREADPOOL_SPIN
#define ET_THREADPOOL_SPIN 2000u
#endif
#define SPIN_ITERS ET_THREADPOOL_SPIN
/* Chunks per thread: dynamic claiming balances uneven tasks. */
#define CHUNKS_PER_THREAD 4u

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
  __asm__ __volatile__("yield");
#endif
}

struct et_threadpool_recorder {
  et_parallel hook; /* first: the recording hook's address is the recorder's */
  et_threadpool *pool;
  et_threadpool_event *events;
  size_t capacity;
  uint64_t (*now)(void *);
  void *user;
  atomic_size_t claimed; /* slots handed out, dropped ones included */
  atomic_size_t calls;   /* run()s numbered so far */
};

struct et_threadpool {
  et_parallel hook; /* first: the hook's address is the pool's */
  uint32_t n_workers;
  atomic_uint started; /* workers that took their index */
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  atomic_bool busy;       /* a run() owns the workers */
  atomic_bool stop;
  atomic_uint gen;        /* even: job published; odd: being written */
  atomic_uint active;     /* workers inside a job */
  atomic_uint sleepers;   /* workers waiting on cv */
  /* The job (see the file comment for who may touch it when). */
  et_parallel_fn fn;
  void *ctx;
  size_t n, chunk, n_chunks;
  et_threadpool_recorder *rec; /* NULL: not recorded */
  uint64_t call;               /* the job's call number when recorded */
  char pad0[64];
  atomic_size_t next; /* next chunk to claim */
  char pad1[64];
  atomic_size_t done; /* chunks finished */
};

/* The pool whose worker this thread is, and its index there (1..). */
static _Thread_local const et_threadpool *tl_pool;
static _Thread_local uint32_t tl_index;

static uint32_t thread_index(const et_threadpool *p) {
  return tl_pool == p ? tl_index : 0u;
}

static uint64_t rec_now(const et_threadpool_recorder *r) {
  return r->now ? r->now(r->user) : et_pal_time_ns();
}

/* Store one event, or count it dropped when the buffer is full. */
static void rec_put(et_threadpool_recorder *r, uint8_t kind, uint64_t call,
                    uint32_t thread, size_t begin, size_t end, uint64_t t0,
                    uint64_t t1, bool serial) {
  size_t i = atomic_fetch_add_explicit(&r->claimed, 1, memory_order_relaxed);
  if (i >= r->capacity) return;
  et_threadpool_event *e = &r->events[i];
  e->start = t0;
  e->end = t1;
  e->call = call;
  e->begin = begin;
  e->end_index = end;
  e->thread = thread;
  e->kind = kind;
  e->serial = serial;
}

/* Claim and run chunks until none is left; `self` is this thread's index
 * (0: the caller of run()). */
static void work(et_threadpool *p, uint32_t self) {
  const size_t n_chunks = p->n_chunks, chunk = p->chunk, n = p->n;
  et_threadpool_recorder *const rec = p->rec;
  for (;;) {
    size_t c = atomic_fetch_add(&p->next, 1);
    if (c >= n_chunks) return;
    size_t b = c * chunk, e = n - b < chunk ? n : b + chunk;
    if (rec) {
      uint64_t t0 = rec_now(rec);
      p->fn(p->ctx, b, e);
      rec_put(rec, ET_THREADPOOL_CHUNK, p->call, self, b, e, t0, rec_now(rec),
              false);
    } else {
      p->fn(p->ctx, b, e);
    }
    atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
  }
}

/* Wait for a generation other than `seen` that is published (even); returns
 * it, or `seen` when the pool stops. */
static unsigned wait_job(et_threadpool *p, unsigned seen) {
  for (unsigned i = 0; i < SPIN_ITERS; i++) {
    unsigned g = atomic_load(&p->gen);
    if (g != seen && !(g & 1u)) return g;
    if (atomic_load_explicit(&p->stop, memory_order_relaxed)) return seen;
    cpu_relax();
  }
  unsigned g;
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add(&p->sleepers, 1);
  while (((g = atomic_load(&p->gen)) == seen || (g & 1u)) &&
         !atomic_load(&p->stop))
    pthread_cond_wait(&p->cv, &p->mu);
  atomic_fetch_sub(&p->sleepers, 1);
  pthread_mutex_unlock(&p->mu);
  return atomic_load(&p->stop) ? seen : g;
}

static void *worker_main(void *arg) {
  et_threadpool *p = (et_threadpool *)arg;
  unsigned seen = 0;
  const uint32_t self = atomic_fetch_add(&p->started, 1u) + 1u;
  tl_pool = p;
  tl_index = self;
  for (;;) {
    unsigned g = wait_job(p, seen);
    if (atomic_load(&p->stop)) break;
    atomic_fetch_add(&p->active, 1);
    if (atomic_load(&p->gen) == g) {
      seen = g;
      work(p, self);
    }
    atomic_fetch_sub(&p->active, 1);
  }
  return NULL;
}

/* run() for both hooks: `rec` is the recording hook's recorder, or NULL. */
static void run_job(et_threadpool *p, size_t n, size_t grain,
                    et_parallel_fn fn, void *ctx, et_threadpool_recorder *rec) {
  if (grain == 0) grain = 1;
  bool expected = false;
  if (n == 0) return;
  if (p->n_workers == 0 || n / grain < 2 ||
      !atomic_compare_exchange_strong(&p->busy, &expected, true)) {
    /* Serial: no workers, too little work, or the pool is in use (another
     * thread's run, or a run nested inside one of our tasks). */
    if (!rec) {
      fn(ctx, 0, n);
      return;
    }
    uint64_t call = (uint64_t)atomic_fetch_add(&rec->calls, 1) + 1u;
    uint32_t me = thread_index(p);
    uint64_t t0 = rec_now(rec);
    fn(ctx, 0, n);
    uint64_t t1 = rec_now(rec);
    rec_put(rec, ET_THREADPOOL_CHUNK, call, me, 0, n, t0, t1, true);
    rec_put(rec, ET_THREADPOOL_CALL, call, me, 0, n, t0, t1, true);
    return;
  }
  uint64_t call = 0, t0 = 0;
  if (rec) {
    call = (uint64_t)atomic_fetch_add(&rec->calls, 1) + 1u;
    t0 = rec_now(rec);
  }
  size_t units = n / grain + (n % grain != 0);
  size_t want = (size_t)(p->n_workers + 1) * CHUNKS_PER_THREAD;
  size_t per = units <= want ? 1 : units / want + (units % want != 0);
  size_t chunk = per * grain;

  unsigned g = atomic_load_explicit(&p->gen, memory_order_relaxed);
  atomic_store(&p->gen, g + 1u); /* odd: rewriting the job */
  /* A worker still leaving the last job (it only reads the counters). */
  for (unsigned i = 0; atomic_load(&p->active) != 0; i++) {
    if (i < SPIN_ITERS)
      cpu_relax();
    else
      sched_yield();
  }
  p->fn = fn;
  p->ctx = ctx;
  p->n = n;
  p->chunk = chunk;
  p->n_chunks = n / chunk + (n % chunk != 0);
  p->rec = rec;
  p->call = call;
  atomic_store_explicit(&p->next, 0, memory_order_relaxed);
  atomic_store_explicit(&p->done, 0, memory_order_relaxed);
  atomic_store(&p->gen, g + 2u); /* published */
  if (atomic_load(&p->sleepers) != 0) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
  work(p, 0);
  /* Chunks others claimed may still run: wait for them, yielding the CPU
   * to a descheduled worker after a while. */
  for (unsigned i = 0;
       atomic_load_explicit(&p->done, memory_order_acquire) != p->n_chunks;
       i++) {
    if (i < SPIN_ITERS)
      cpu_relax();
    else
      sched_yield();
  }
  if (rec)
    rec_put(rec, ET_THREADPOOL_CALL, call, 0, 0, n, t0, rec_now(rec), false);
  atomic_store(&p->busy, false);
}

static void pool_run(et_parallel *self, size_t n, size_t grain,
                     et_parallel_fn fn, void *ctx) {
  run_job((et_threadpool *)self, n, grain, fn, ctx, NULL);
}

static void rec_run(et_parallel *self, size_t n, size_t grain,
                    et_parallel_fn fn, void *ctx) {
  et_threadpool_recorder *r = (et_threadpool_recorder *)self;
  run_job(r->pool, n, grain, fn, ctx, r);
}

uint32_t et_cpu_count(void) {
#if defined(__linux__) && defined(CPU_COUNT)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int c = CPU_COUNT(&set);
    if (c > 0) return (uint32_t)c;
  }
#endif
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  return c > 0 ? (uint32_t)c : 1u;
}

static void stop_workers(et_threadpool *p, uint32_t started) {
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->stop, true);
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (uint32_t i = 0; i < started; i++) pthread_join(p->threads[i], NULL);
}

et_status et_threadpool_create(uint32_t n_threads, et_threadpool **out) {
  if (!out) return ET_INVALID_ARGUMENT;
  *out = NULL;
  if (n_threads == 0) n_threads = et_cpu_count();
  if (n_threads > ET_THREADPOOL_MAX) n_threads = ET_THREADPOOL_MAX;
  et_threadpool *p = calloc(1, sizeof *p);
  if (!p) return ET_MEMORY_ALLOCATION_FAILED;
  p->hook.run = pool_run;
  p->hook.n_threads = n_threads;
  p->n_workers = n_threads - 1;
  atomic_init(&p->busy, false);
  atomic_init(&p->stop, false);
  atomic_init(&p->gen, 0u);
  atomic_init(&p->active, 0u);
  atomic_init(&p->sleepers, 0u);
  atomic_init(&p->started, 0u);
  atomic_init(&p->next, 0);
  atomic_init(&p->done, 0);
  if (pthread_mutex_init(&p->mu, NULL)) {
    free(p);
    return ET_INTERNAL;
  }
  if (pthread_cond_init(&p->cv, NULL)) {
    pthread_mutex_destroy(&p->mu);
    free(p);
    return ET_INTERNAL;
  }
  if (p->n_workers) {
    p->threads = calloc(p->n_workers, sizeof *p->threads);
    if (!p->threads) {
      et_threadpool_destroy(p);
      return ET_MEMORY_ALLOCATION_FAILED;
    }
  }
  for (uint32_t i = 0; i < p->n_workers; i++) {
    if (pthread_create(&p->threads[i], NULL, worker_main, p)) {
      stop_workers(p, i);
      p->n_workers = 0; /* joined */
      et_threadpool_destroy(p);
      return ET_INTERNAL;
    }
  }
  *out = p;
  return ET_OK;
}

void et_threadpool_destroy(et_threadpool *p) {
  if (!p) return;
  if (p->n_workers) stop_workers(p, p->n_workers);
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  free(p->threads);
  free(p);
}

et_parallel *et_threadpool_parallel(et_threadpool *p) {
  return p ? &p->hook : NULL;
}

uint32_t et_threadpool_threads(const et_threadpool *p) {
  return p ? p->hook.n_threads : 0;
}

/* ---- recording ----------------------------------------------------------- */

et_status et_threadpool_recorder_create(et_threadpool_event *events,
                                        size_t capacity,
                                        et_threadpool_recorder **out) {
  if (!out) return ET_INVALID_ARGUMENT;
  *out = NULL;
  if (!events && capacity) return ET_INVALID_ARGUMENT;
  et_threadpool_recorder *r = calloc(1, sizeof *r);
  if (!r) return ET_MEMORY_ALLOCATION_FAILED;
  r->hook.run = rec_run;
  r->hook.n_threads = 1;
  r->events = events;
  r->capacity = capacity;
  atomic_init(&r->claimed, 0);
  atomic_init(&r->calls, 0);
  *out = r;
  return ET_OK;
}

void et_threadpool_recorder_destroy(et_threadpool_recorder *r) { free(r); }

et_parallel *et_threadpool_recorder_hook(et_threadpool_recorder *r,
                                         et_threadpool *pool) {
  if (!r || !pool) return NULL;
  r->pool = pool;
  r->hook.n_threads = pool->hook.n_threads;
  return &r->hook;
}

void et_threadpool_recorder_set_clock(et_threadpool_recorder *r,
                                      uint64_t (*now)(void *), void *user) {
  if (!r) return;
  r->now = now;
  r->user = now ? user : NULL;
}

size_t et_threadpool_recorder_count(const et_threadpool_recorder *r) {
  if (!r) return 0;
  size_t c = atomic_load(&r->claimed);
  return c < r->capacity ? c : r->capacity;
}

uint64_t et_threadpool_recorder_dropped(const et_threadpool_recorder *r) {
  if (!r) return 0;
  size_t c = atomic_load(&r->claimed);
  return c > r->capacity ? (uint64_t)(c - r->capacity) : 0u;
}

const et_threadpool_event *
et_threadpool_recorder_event(const et_threadpool_recorder *r, size_t i) {
  return i < et_threadpool_recorder_count(r) ? &r->events[i] : NULL;
}

void et_threadpool_recorder_reset(et_threadpool_recorder *r) {
  if (!r) return;
  atomic_store(&r->claimed, 0);
  atomic_store(&r->calls, 0);
}
