/*
 * aten::mm.out, aten::bmm.out, aten::addmm.out: the portable kernels (their
 * checks, broadcasting of addmm's self, alpha and beta) with the float32
 * product on the GEMM micro kernels, split over the parallel-for hook.
 */
#include "optimized/optimized.h"

#include "portable/ops.h"
#include "xnn_gemm.h"

#include <math.h>

bool et_opt_matmul(et_kernel_ctx *ctx, int dtype, int64_t M, int64_t N, int64_t K,
                   const void *A, int64_t lda, const void *B, int64_t ldb, void *C,
                   int64_t ldc) {
  if (dtype != ET_FLOAT) return et_matmul(dtype, M, N, K, A, lda, B, ldb, C, ldc);
  if (M <= 0 || N <= 0) return true;
  et_xnn_gemm_par(ctx->parallel, (size_t)M, (size_t)N, K > 0 ? (size_t)K : 0,
                  (const float *)A, (size_t)lda, (const float *)B, (size_t)ldb,
                  (float *)C, (size_t)ldc, -INFINITY, INFINITY);
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
