/*
 * et_threadpool: a pthread pool implementing the parallel-for hook
 * (edgetorch/parallel.h) for hosted builds (extension/ only: the core,
 * kernels and backends never see a thread).
 *
 * A pool of n threads runs n - 1 persistent workers; the thread that calls
 * run() works too. Ranges are handed out in chunks from an atomic counter,
 * so a late or descheduled worker never holds the caller up: the caller
 * takes whatever is left. Idle workers spin briefly (a dispatch soon after
 * the last one costs no wake-up) and then sleep on a condition variable.
 * No allocation per call.
 *
 * Ownership: et_threadpool_create allocates the pool and starts its workers;
 * et_threadpool_destroy stops and joins them (no run() may be in progress).
 *
 * Thread-safety: run() may be called from any thread. One run() at a time
 * uses the workers; a run() called while another is in progress (from
 * another thread, or nested inside a task) runs its whole range on its own
 * caller, so it can neither deadlock nor wait for the other.
 */
#ifndef EDGETORCH_EXT_THREADPOOL_H
#define EDGETORCH_EXT_THREADPOOL_H

#include <edgetorch/parallel.h>
#include <edgetorch/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_threadpool et_threadpool;

/* The most threads a pool takes. */
#define ET_THREADPOOL_MAX 256u

/*
 * A pool of `n_threads` threads, the caller included (0: et_cpu_count()).
 * n_threads == 1 starts no worker (run() is then serial). Capped at
 * ET_THREADPOOL_MAX. MemoryAllocationFailed or Internal (a thread could not
 * be started) on failure, with *out NULL.
 */
et_status et_threadpool_create(uint32_t n_threads, et_threadpool **out);
void et_threadpool_destroy(et_threadpool *pool);

/* The hook to hand to et_method_set_parallel; lives as long as the pool. */
et_parallel *et_threadpool_parallel(et_threadpool *pool);
uint32_t et_threadpool_threads(const et_threadpool *pool);

/* The number of CPUs this process may run on (sched_getaffinity where
 * available, else the online CPUs; at least 1). */
uint32_t et_cpu_count(void);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_EXT_THREADPOOL_H */
