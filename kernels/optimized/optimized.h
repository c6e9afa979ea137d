/*
 * The optimized kernels (kernels/optimized): faster versions of the heavy
 * operators, registered as the table et_optimized_kernels before the
 * portable one. Upstream's design: optimized kernels where they exist,
 * portable otherwise.
 *
 * They run on the CPU backend's micro kernels (backends/xnnpack/xnn_gemm.h,
 * xnn_vec.h: AVX2+FMA or NEON chosen at run time, plain C otherwise) and
 * split their work over the method's parallel-for hook. Like the backend,
 * they are judged against eager with float tolerance: results may differ
 * from the portable kernels' by FMA rounding and a few ulp in the
 * transcendental functions, and may depend on the CPU's path, never on the
 * thread count. Whatever a fast path does not take (other dtypes,
 * non-contiguous layouts, half_to_float...) goes to the portable kernel, so
 * errors and edge cases are the portable ones.
 *
 * No malloc, no OS. Thread-safety: as the portable kernels.
 */
#ifndef ET_KERNELS_OPTIMIZED_H
#define ET_KERNELS_OPTIMIZED_H

#include <edgetorch/kernel.h>

#include "util/matmul_util.h"

#define ET_OP(name, sig, fn) et_status fn(et_kernel_ctx *ctx, et_value **args);
#include "optimized/ops.def"
#undef ET_OP

/* The float32 matrix product on the GEMM micro kernels, threaded; other
 * dtypes take et_matmul. An et_matmul_fn. */
bool et_opt_matmul(et_kernel_ctx *ctx, int dtype, int64_t M, int64_t N, int64_t K,
                   const void *A, int64_t lda, const void *B, int64_t ldb, void *C,
                   int64_t ldc);

#endif
