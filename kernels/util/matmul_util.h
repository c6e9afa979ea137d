/*
 * Dense matrix multiply for mm, bmm, addmm (and later linear, baddbmm...).
 *
 * Float and Double keep 4x8 blocks of C in registers while k runs over a
 * panel of 8 columns of B (the panel stays in cache across row blocks, and
 * the 8-wide inner loop vectorizes); matrices with fewer than 4 rows stream
 * B row by row instead. Every element is accumulated over k in order from
 * zero whichever path computes it. Half and BFloat16 accumulate in float
 * per output row chunk (rounded once on store); integer dtypes accumulate in
 * int64 with wrap-around.
 *
 * C must not overlap A or B.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_MATMUL_UTIL_H
#define ET_KERNELS_UTIL_MATMUL_UTIL_H

#include <edgetorch/kernel.h>

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * C[M,N] = A[M,K] @ B[K,N], row-major with leading dimensions lda, ldb, ldc
 * (in elements), all of `dtype`. Returns false (nothing written) for a dtype
 * it does not handle (Bool and non-real dtypes).
 */
bool et_matmul(int dtype, int64_t M, int64_t N, int64_t K, const void *A, int64_t lda,
               const void *B, int64_t ldb, void *C, int64_t ldc);

/*
 * A matrix product as the kernels of mm, bmm, addmm and convolution call it:
 * et_matmul's contract, plus the kernel's context (for its parallel-for
 * hook). The portable kernels use et_matmul_exact (et_matmul itself: serial,
 * the same bits on every machine); the optimized table (kernels/optimized)
 * passes a faster one to the same kernels (portable/ops.h, the _with
 * entry points).
 */
typedef bool (*et_matmul_fn)(et_kernel_ctx *ctx, int dtype, int64_t M, int64_t N,
                             int64_t K, const void *A, int64_t lda, const void *B,
                             int64_t ldb, void *C, int64_t ldc);
bool et_matmul_exact(et_kernel_ctx *ctx, int dtype, int64_t M, int64_t N, int64_t K,
                     const void *A, int64_t lda, const void *B, int64_t ldb, void *C,
                     int64_t ldc);

/* True if et_matmul handles `dtype`. */
bool et_matmul_supports(int dtype);

/* Tests: true makes et_matmul use its 128-bit vector (or plain C) blocks even
 * where the processor has wider vectors, so both paths can be checked to give
 * identical results. Not thread-safe; default false. */
void et_matmul_narrow_vectors(bool narrow);

/*
 * Checks shared by mm/bmm/addmm: operands of a dtype et_matmul handles, all
 * the same dtype as out, contiguous, and out not overlapping either input.
 * Returns ET_OK or a recorded InvalidArgument.
 */
et_status et_matmul_check(et_kernel_ctx *ctx, const et_tensor *a, const char *a_name,
                          const et_tensor *b, const char *b_name, const et_tensor *out);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_MATMUL_UTIL_H */
