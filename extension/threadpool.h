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
 * No allocation per call. A recorder (below) gives a second hook over the
 * pool that also records which thread ran which chunk, when, for traces.
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

#include <stddef.h>
#include <stdint.h>

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

/*
 * Recording what the pool runs (for traces: which thread ran which part of
 * which parallel-for, when). Off unless asked for, per hook: a recorder
 * gives a second et_parallel hook over a pool that records every run() made
 * through it, while the pool's plain hook (and so every other user of the
 * same pool) records nothing. Without a recorder a chunk costs one
 * predictable branch more than before.
 *
 * Each run() through the recording hook adds one ET_THREADPOOL_CALL event
 * (on the calling thread, from the start of the dispatch to the return,
 * range [0, n)) and one ET_THREADPOOL_CHUNK event per chunk (the thread
 * that ran it, its range; the chunks of one call cover [0, n) exactly
 * once). A run() that goes serial (too little work, or the pool busy with
 * another run) is one chunk on its caller, and its call is marked serial.
 *
 * Memory: the caller gives the event buffer; nothing is allocated while
 * recording. When the buffer is full further events are dropped and
 * counted (et_threadpool_recorder_dropped). Events are in the order their
 * slots were claimed: a call's chunks usually precede the call itself,
 * which is stored when it returns.
 *
 * Time: et_pal_time_ns() (the hosted platform layer: CLOCK_MONOTONIC, the
 * ETDump recorder's default clock too, so the two sets of events share a
 * time line) unless the host sets a clock; that clock is read on every
 * thread of the pool and must be safe to call concurrently.
 *
 * Thread-safety: the recording hook may be used as the pool's plain hook
 * is (run() from any thread). Reading the events, reset and set_clock are
 * for when no run() through this recorder is in progress (between
 * executes): a run()'s events are all stored when it returns.
 */
typedef enum et_threadpool_event_kind {
  ET_THREADPOOL_CALL = 0,  /* one run(): the dispatch, on its caller */
  ET_THREADPOOL_CHUNK = 1  /* one range of a run(), on one thread */
} et_threadpool_event_kind;

typedef struct et_threadpool_event {
  uint64_t start, end; /* clock ticks (nanoseconds with the default clock) */
  uint64_t call;       /* the run() this belongs to: 1, 2, ... per recorder */
  size_t begin, end_index; /* the range: [begin, end_index) */
  /* The thread: 0 for a thread that is not one of the pool's workers (the
   * caller of run()), k in [1, threads) for worker k. */
  uint32_t thread;
  uint8_t kind;        /* et_threadpool_event_kind */
  uint8_t serial;      /* a call run whole on its caller */
} et_threadpool_event;

typedef struct et_threadpool_recorder et_threadpool_recorder;

/* A recorder storing into events[0, capacity) (the caller's; it must
 * outlive the recorder). MemoryAllocationFailed, or InvalidArgument
 * (out NULL, or events NULL with a capacity). */
et_status et_threadpool_recorder_create(et_threadpool_event *events,
                                        size_t capacity,
                                        et_threadpool_recorder **out);
void et_threadpool_recorder_destroy(et_threadpool_recorder *r);

/* The hook that runs on `pool` and records into `r` (NULL if either is
 * NULL). It lives as long as the recorder; calling this again points it at
 * another pool (not while a run() through it is in progress). Its
 * n_threads is the pool's: a one-thread pool's hook is never called (see
 * et_parallel_for), so nothing is recorded then. */
et_parallel *et_threadpool_recorder_hook(et_threadpool_recorder *r,
                                         et_threadpool *pool);

/* The clock (NULL: et_pal_time_ns). */
void et_threadpool_recorder_set_clock(et_threadpool_recorder *r,
                                      uint64_t (*now)(void *user),
                                      void *user);

/* Events stored (at most the capacity), and events dropped for want of
 * room since creation or the last reset. */
size_t et_threadpool_recorder_count(const et_threadpool_recorder *r);
uint64_t et_threadpool_recorder_dropped(const et_threadpool_recorder *r);
/* Event i (i < count), or NULL. */
const et_threadpool_event *
et_threadpool_recorder_event(const et_threadpool_recorder *r, size_t i);
/* Forget the events (and the dropped count); calls are numbered from 1
 * again. */
void et_threadpool_recorder_reset(et_threadpool_recorder *r);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_EXT_THREADPOOL_H */
