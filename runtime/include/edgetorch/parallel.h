/*
 * et_parallel: the parallel-for hook a host passes to a method
 * (et_method_set_parallel), so that kernels and backends can split work
 * across threads while the core itself never touches an OS.
 *
 * The host implements run() (extension/threadpool.h does, with a pthread
 * pool); a microcontroller passes nothing and everything runs serially on
 * the calling thread. Kernels and backends never call run() directly: they
 * call et_parallel_for(), which runs the whole range on the caller when
 * there is no hook, one thread, or too little work.
 *
 * Contract of run(self, n, grain, fn, ctx):
 *   - calls fn(ctx, begin, end) on disjoint ranges that together cover
 *     [0, n) exactly once, each begin a multiple of `grain` (>= 1), so a
 *     kernel can map indices to whole tiles;
 *   - returns only after every call has returned (its writes are then
 *     visible to the caller);
 *   - may run the calls on any threads, the caller's included, in any
 *     order, and may run everything on the caller (when busy, nested inside
 *     another run(), or called from two threads at once).
 * fn must therefore not depend on how [0, n) is cut: each index writes its
 * own outputs, computed the same way whatever range it falls in. Kernels
 * split only over outputs (tiles, rows, channels), never over a reduction,
 * so results are bit-identical for every thread count.
 *
 * Ownership: the host owns the hook; it must outlive its attachment to a
 * method. Thread-safety: run() is called by the thread executing a method;
 * fn runs concurrently with itself on other indices.
 */
#ifndef EDGETORCH_PARALLEL_H
#define EDGETORCH_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One task range: indices [begin, end). */
typedef void (*et_parallel_fn)(void *ctx, size_t begin, size_t end);

typedef struct et_parallel et_parallel;
struct et_parallel {
  void (*run)(et_parallel *self, size_t n, size_t grain, et_parallel_fn fn,
              void *ctx);
  /* Threads run() may use, the caller included (>= 1). Kernels read it to
   * size their split (and per-thread scratch); it never changes while a
   * method that sees this hook executes. */
  uint32_t n_threads;
};

/* How many threads `p` offers (1 without a hook). */
static inline uint32_t et_parallel_threads(const et_parallel *p) {
  return p && p->n_threads > 1 ? p->n_threads : 1u;
}

/*
 * Run fn over [0, n) in ranges of at least `grain` indices (0 counts as 1),
 * on `p`'s threads or, without a hook, one thread or less than two grains of
 * work, as one call fn(ctx, 0, n) on the caller.
 */
static inline void et_parallel_for(et_parallel *p, size_t n, size_t grain,
                                   et_parallel_fn fn, void *ctx) {
  if (n == 0) return;
  if (grain == 0) grain = 1;
  if (!p || !p->run || p->n_threads <= 1 || n / grain < 2) {
    fn(ctx, 0, n);
    return;
  }
  p->run(p, n, grain, fn, ctx);
}

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_PARALLEL_H */
