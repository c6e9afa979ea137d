/*
 * aten::mm.out, aten::bmm.out, aten::addmm.out: the portable kernels (their
 * checks, broadcasting of addmm's self, alpha and beta) with the float32
 * product on the GEMM micro kernels, split over the parallel-for hook.
 */
#include "optimized/optimized.h"

#include "portable/ops.h"
#include "xnn_gemm.h"
#include "xnn_vec.h"

#include <math.h>

/* ---- few rows: stream B row by row -----------------------------------
 * C[i][j] = sum_k A[i][k] * B[k][j] with k outermost: each row of B is read
 * once, contiguously, into C's rows (in L1 for the few rows this takes).
 * A column-by-column walk (the GEMM tile's, NR columns down all of K) would
 * touch a new cache line and often a new page per k: the decode step of a
 * language model (M = 1, B = a K x N weight) then ran at a fraction of the
 * memory bandwidth. Tasks are column blocks; each C element still sums its
 * k in order, so the bits do not depend on the thread count. */
#define STREAM_MAX_M 4
#define STREAM_COLS 256 /* columns per task */
/* Smaller B (attention scores) stays in cache: the register tiles win. */
#define STREAM_MIN_B_BYTES ((size_t)256 << 10)

typedef struct stream_job {
  const float *a, *b;
  float *c;
  size_t m, n, k, lda, ldb, ldc;
  et_xnn_axpy_fn *axpy;
} stream_job;

static void stream_cols(void *ctx, size_t begin, size_t end) {
  const stream_job *j = (const stream_job *)ctx;
  size_t c0 = begin * STREAM_COLS;
  size_t c1 = end * STREAM_COLS < j->n ? end * STREAM_COLS : j->n;
  for (size_t i = 0; i < j->m; i++)
    for (size_t x = c0; x < c1; x++) j->c[i * j->ldc + x] = 0.0f;
  for (size_t kk = 0; kk < j->k; kk++) {
    const float *br = j->b + kk * j->ldb + c0;
    for (size_t i = 0; i < j->m; i++)
      j->axpy(c1 - c0, j->a[i * j->lda + kk], br, j->c + i * j->ldc + c0);
  }
}

/* ---- many rows, a large B: pack panels into scratch -------------------
 * The GEMM reads an unpacked B in place, NR columns down all of K; for a
 * B larger than the caches (a linear layer's weight) that walk misses on
 * every row. With scratch memory, groups of panels are packed (each read
 * once, contiguously) and multiplied by all of A before the next group. */
#define PACK_MIN_M 8
#define PACK_MIN_B_BYTES ((size_t)256 << 10)
#define PACK_MAX_BYTES ((size_t)512 << 10)

static bool packed_groups(et_kernel_ctx *ctx, size_t M, size_t N, size_t K,
                          const float *A, size_t lda, const float *B,
                          size_t ldb, float *C, size_t ldc) {
  size_t panel_bytes = K * ET_XNN_NR * sizeof(float);
  size_t avail = ctx->scratch_size > ctx->scratch_used
                     ? ctx->scratch_size - ctx->scratch_used
                     : 0;
  if (avail > PACK_MAX_BYTES) avail = PACK_MAX_BYTES;
  /* As many panels as fit (alignment slack included); less scratch than
   * one panel: B is read in place (docs/runtime.md says so). */
  size_t panels = avail > 64 ? (avail - 64) / panel_bytes : 0;
  size_t all = (N + ET_XNN_NR - 1) / ET_XNN_NR;
  if (panels < 1) return false;
  if (panels > all) panels = all;
  size_t saved = ctx->scratch_used;
  float *buf = (float *)et_kernel_scratch(ctx, panels * panel_bytes, 64);
  if (!buf) return false;
  size_t step = panels * ET_XNN_NR;
  for (size_t col = 0; col < N; col += step) {
    size_t w = N - col < step ? N - col : step;
    et_xnn_pack_b(buf, B + col, K, w, ldb, 1);
    et_xnn_gemm_packed_par(ctx->parallel, M, w, K, A, lda, buf, NULL, C + col,
                           ldc, -INFINITY, INFINITY);
  }
  ctx->scratch_used = saved; /* give it back */
  return true;
}

bool et_opt_matmul(et_kernel_ctx *ctx, int dtype, int64_t M, int64_t N, int64_t K,
                   const void *A, int64_t lda, const void *B, int64_t ldb, void *C,
                   int64_t ldc) {
  if (dtype != ET_FLOAT) return et_matmul(dtype, M, N, K, A, lda, B, ldb, C, ldc);
  if (M <= 0 || N <= 0) return true;
  size_t m = (size_t)M, n = (size_t)N, k = K > 0 ? (size_t)K : 0;
  size_t b_bytes = k * n * sizeof(float);
  if (k > 0 && n > 1 && m <= STREAM_MAX_M && b_bytes >= STREAM_MIN_B_BYTES) {
    stream_job j = {(const float *)A, (const float *)B, (float *)C, m, n, k,
                    (size_t)lda, (size_t)ldb, (size_t)ldc, et_xnn_axpy_pick()};
    size_t tasks = (n + STREAM_COLS - 1) / STREAM_COLS;
    /* ~64K multiply-adds a task at least */
    size_t per = m * k * STREAM_COLS;
    et_parallel_for(ctx->parallel, tasks, per ? ((size_t)1 << 16) / per + 1 : tasks,
                    stream_cols, &j);
    return true;
  }
  if (k > 0 && m >= PACK_MIN_M && n >= ET_XNN_NR &&
      b_bytes >= PACK_MIN_B_BYTES &&
      packed_groups(ctx, m, n, k, (const float *)A, (size_t)lda, (const float *)B,
                    (size_t)ldb, (float *)C, (size_t)ldc))
    return true;
  et_xnn_gemm_par(ctx->parallel, m, n, k, (const float *)A, (size_t)lda,
                  (const float *)B, (size_t)ldb, (float *)C, (size_t)ldc,
                  -INFINITY, INFINITY);
  return true;
}

et_status et_opt_mm_out(et_kernel_ctx *ctx, et_value **args) {
  return et_mm_out_with(ctx, args, et_opt_matmul);
}

et_status et_opt_bmm_out(et_kernel_ctx *ctx, et_value **args) {
  return et_bmm_out_with(ctx, args, et_opt_matmul);
}

et_status et_opt_addmm_out(et_kernel_ctx *ctx, et_value **args) {
  return et_addmm_out_with(ctx, args, et_opt_matmul);
}
