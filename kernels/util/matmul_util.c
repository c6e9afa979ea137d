/* Blocked matrix multiply. */
#include "util/matmul_util.h"

#include "util/dtype_util.h"
#include "util/shape_util.h"

#include <string.h>

#define GEMM_NC 512 /* columns of C kept hot by the row kernel */
#define GEMM_MR 4   /* rows of the register-blocked micro kernel */
#define GEMM_NR 8   /* columns of the register-blocked micro kernel */

/*
 * Every path accumulates each C element over k in increasing order from
 * zero, so results do not depend on which path computed them.
 *
 * gemm_rows: C rows one at a time, i-k-j over blocks of GEMM_NC columns
 * (streams B row by row: the right shape for M < 4, e.g. a batch-1 linear).
 * gemm: GEMM_MR x GEMM_NR blocks of C held in registers while k runs, over
 * panels of GEMM_NR columns of B that stay in cache for all row blocks;
 * leftover columns and rows go to plain loops and gemm_rows.
 */
#define DEFINE_GEMM(T, S)                                                      \
  static void gemm_rows_##S(int64_t M, int64_t N, int64_t K, const T *A,       \
                            int64_t lda, const T *B, int64_t ldb, T *C,        \
                            int64_t ldc) {                                     \
    for (int64_t i = 0; i < M; i++) {                                          \
      T *restrict c = C + i * ldc;                                             \
      for (int64_t j = 0; j < N; j++) c[j] = 0;                                \
      for (int64_t j0 = 0; j0 < N; j0 += GEMM_NC) {                           \
        const int64_t jn = N - j0 < GEMM_NC ? N - j0 : GEMM_NC;                \
        T *restrict cj = c + j0;                                               \
        for (int64_t k = 0; k < K; k++) {                                      \
          const T a = A[i * lda + k];                                          \
          const T *restrict b = B + k * ldb + j0;                              \
          for (int64_t j = 0; j < jn; j++) cj[j] += a * b[j];                  \
        }                                                                      \
      }                                                                        \
    }                                                                          \
  }                                                                            \
  static void gemm_##S(int64_t M, int64_t N, int64_t K, const T *A, int64_t lda, \
                       const T *B, int64_t ldb, T *C, int64_t ldc) {           \
    const int64_t M4 = M - M % GEMM_MR, N8 = N - N % GEMM_NR;                  \
    for (int64_t j0 = 0; j0 < N8; j0 += GEMM_NR)                               \
      for (int64_t i0 = 0; i0 < M4; i0 += GEMM_MR) {                           \
        T acc[GEMM_MR][GEMM_NR];                                               \
        for (int r = 0; r < GEMM_MR; r++)                                      \
          for (int jj = 0; jj < GEMM_NR; jj++) acc[r][jj] = 0;                 \
        const T *a0 = A + i0 * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda; \
        const T *b = B + j0;                                                   \
        for (int64_t k = 0; k < K; k++, b += ldb) {                            \
          const T x0 = a0[k], x1 = a1[k], x2 = a2[k], x3 = a3[k];              \
          for (int jj = 0; jj < GEMM_NR; jj++) {                               \
            const T bv = b[jj];                                                \
            acc[0][jj] += x0 * bv;                                             \
            acc[1][jj] += x1 * bv;                                             \
            acc[2][jj] += x2 * bv;                                             \
            acc[3][jj] += x3 * bv;                                             \
          }                                                                    \
        }                                                                      \
        for (int r = 0; r < GEMM_MR; r++)                                      \
          for (int jj = 0; jj < GEMM_NR; jj++) C[(i0 + r) * ldc + j0 + jj] = acc[r][jj]; \
      }                                                                        \
    for (int64_t i = 0; i < M4; i++)                                           \
      for (int64_t j = N8; j < N; j++) {                                       \
        T s = 0;                                                               \
        for (int64_t k = 0; k < K; k++) s += A[i * lda + k] * B[k * ldb + j];  \
        C[i * ldc + j] = s;                                                    \
      }                                                                        \
    if (M4 < M) gemm_rows_##S(M - M4, N, K, A + M4 * lda, lda, B, ldb, C + M4 * ldc, ldc); \
  }

DEFINE_GEMM(float, f32)
DEFINE_GEMM(double, f64)

/* Half/BFloat16: float accumulators for a chunk of one output row. */
#define ROW_CHUNK 128
#define DEFINE_GEMM_LOWP(T, S)                                                 \
  static void gemm_##S(int64_t M, int64_t N, int64_t K, const T *A, int64_t lda, \
                       const T *B, int64_t ldb, T *C, int64_t ldc) {           \
    float acc[ROW_CHUNK];                                                      \
    for (int64_t i = 0; i < M; i++) {                                          \
      for (int64_t j0 = 0; j0 < N; j0 += ROW_CHUNK) {                          \
        const int64_t jn = N - j0 < ROW_CHUNK ? N - j0 : ROW_CHUNK;            \
        for (int64_t j = 0; j < jn; j++) acc[j] = 0;                           \
        for (int64_t k = 0; k < K; k++) {                                      \
          const float a = ET_LD(S, A[i * lda + k]);                            \
          const T *b = B + k * ldb + j0;                                       \
          for (int64_t j = 0; j < jn; j++) acc[j] += a * ET_LD(S, b[j]);       \
        }                                                                      \
        for (int64_t j = 0; j < jn; j++) C[i * ldc + j0 + j] = ET_ST(S, acc[j]); \
      }                                                                        \
    }                                                                          \
  }

DEFINE_GEMM_LOWP(et_half, f16)
DEFINE_GEMM_LOWP(et_bf16, bf16)

/* Integers: int64 accumulators with wrap-around (unsigned arithmetic). */
#define DEFINE_GEMM_INT(T, S)                                                  \
  static void gemm_##S(int64_t M, int64_t N, int64_t K, const T *A, int64_t lda, \
                       const T *B, int64_t ldb, T *C, int64_t ldc) {           \
    uint64_t acc[ROW_CHUNK];                                                   \
    for (int64_t i = 0; i < M; i++) {                                          \
      for (int64_t j0 = 0; j0 < N; j0 += ROW_CHUNK) {                          \
        const int64_t jn = N - j0 < ROW_CHUNK ? N - j0 : ROW_CHUNK;            \
        for (int64_t j = 0; j < jn; j++) acc[j] = 0;                           \
        for (int64_t k = 0; k < K; k++) {                                      \
          const uint64_t a = (uint64_t)ET_LD(S, A[i * lda + k]);               \
          const T *b = B + k * ldb + j0;                                       \
          for (int64_t j = 0; j < jn; j++) acc[j] += a * (uint64_t)ET_LD(S, b[j]); \
        }                                                                      \
        for (int64_t j = 0; j < jn; j++)                                       \
          C[i * ldc + j0 + j] = ET_ST(S, (int64_t)acc[j]);                     \
      }                                                                        \
    }                                                                          \
  }

#define DEFINE_GEMM_INT_X(E, T, S) DEFINE_GEMM_INT(T, S)
ET_FOREACH_INT(DEFINE_GEMM_INT_X)

bool et_matmul_supports(int dtype) {
  switch (dtype) {
#define CASE_SUPPORTED(E, T, S) case E:
    ET_FOREACH_REALHBF16(CASE_SUPPORTED)
    return true;
  default:
    return false;
  }
}

bool et_matmul(int dtype, int64_t M, int64_t N, int64_t K, const void *A, int64_t lda,
               const void *B, int64_t ldb, void *C, int64_t ldc) {
  if (!et_matmul_supports(dtype)) return false;
  if (M <= 0 || N <= 0) return true;
  if (K <= 0) { /* empty sums; A and B may have no storage at all */
    const size_t es = et_dtype_size(dtype);
    for (int64_t i = 0; i < M; i++) memset((char *)C + i * ldc * (int64_t)es, 0, (size_t)N * es);
    return true;
  }
  switch (dtype) {
#define CASE_GEMM(E, T, S)                                                     \
  case E:                                                                      \
    gemm_##S(M, N, K, (const T *)A, lda, (const T *)B, ldb, (T *)C, ldc);      \
    return true;
    ET_FOREACH_REALHBF16(CASE_GEMM)
  default:
    return false;
  }
}

static bool overlaps(const et_tensor *a, const et_tensor *b) {
  size_t na = et_tensor_nbytes(a), nb = et_tensor_nbytes(b);
  if (na == 0 || nb == 0 || !a->data || !b->data) return false;
  uintptr_t a0 = (uintptr_t)a->data, b0 = (uintptr_t)b->data;
  return a0 < b0 + nb && b0 < a0 + na;
}

et_status et_matmul_check(et_kernel_ctx *ctx, const et_tensor *a, const char *a_name,
                          const et_tensor *b, const char *b_name, const et_tensor *out) {
  ET_K_TRY(et_k_check_tensor(ctx, a, a_name));
  ET_K_TRY(et_k_check_tensor(ctx, b, b_name));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (!et_matmul_supports(a->dtype))
    return ET_K_FAIL(ctx, "%s: dtype %s is not supported", a_name, et_dtype_name(a->dtype));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, a_name, b, b_name));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, a_name, out, "out"));
  ET_K_TRY(et_k_check_contiguous(ctx, a, a_name));
  ET_K_TRY(et_k_check_contiguous(ctx, b, b_name));
  ET_K_TRY(et_k_check_contiguous(ctx, out, "out"));
  if (overlaps(out, a) || overlaps(out, b))
    return ET_K_FAIL(ctx, "out must not share memory with %s or %s", a_name, b_name);
  return ET_OK;
}
