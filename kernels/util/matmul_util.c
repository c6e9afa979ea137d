/* Blocked matrix multiply. */
#include "util/matmul_util.h"

#include "util/dtype_util.h"
#include "util/shape_util.h"
#include "util/vec_util.h"

#include <string.h>

#define GEMM_NC 512 /* columns of C kept hot by the row kernel */
#define GEMM_MR 4   /* rows of the scalar register-blocked micro kernel */
#define GEMM_NR 8   /* columns of the scalar register-blocked micro kernel */
#define GEMM_KC 256 /* depth of one pass: its B panel stays in L1 */

/*
 * Every path accumulates each C element over k in increasing order from
 * zero (a pass over a block of k continues from the partial sum the previous
 * pass stored), with no fused multiply-add, so results do not depend on which
 * path computed them.
 *
 * gemm_rows: C rows one at a time, i-k-j over blocks of GEMM_NC columns
 * (streams B row by row: the right shape for few rows, e.g. a batch-1 linear
 * or a recurrent step).
 * gemm: register-blocked micro kernels over panels of B columns that stay in
 * cache for all row blocks, GEMM_KC deep at a time; leftover columns and rows
 * go to plain loops and gemm_rows. Where the compiler has generic vector types
 * (GCC, clang) and the target has SIMD registers, the micro kernel is written
 * on them (VR x VC vectors); elsewhere it is plain C (GEMM_MR x GEMM_NR).
 */
#ifdef ET_HAVE_VEC
#define GEMM_VR 6 /* rows: 6 x 2 accumulators + 2 of B + 1 of A in 16 registers */
#define GEMM_VC 2 /* vectors of columns */
#endif

#define DEFINE_GEMM_ROWS(T, S)                                                 \
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
  }

/* Columns [N0, N) of rows [0, M0): plain dot products. */
#define DEFINE_GEMM_EDGE(T, S)                                                 \
  static void gemm_edge_##S(int64_t M0, int64_t N0, int64_t N, int64_t K,      \
                            const T *A, int64_t lda, const T *B, int64_t ldb,  \
                            T *C, int64_t ldc) {                               \
    for (int64_t i = 0; i < M0; i++)                                           \
      for (int64_t j = N0; j < N; j++) {                                       \
        T s = 0;                                                               \
        for (int64_t k = 0; k < K; k++) s += A[i * lda + k] * B[k * ldb + j];  \
        C[i * ldc + j] = s;                                                    \
      }                                                                        \
  }

#ifdef ET_HAVE_VEC
/* The register-blocked part, rows [0, M0) and columns [0, N0) (multiples of
 * GEMM_VR and GEMM_VC * L): V is the vector type, L its lanes. Unaligned
 * loads and stores through memcpy. */
#define GEMM_BLOCKS_BODY(T, V, L)                                              \
  for (int64_t k0 = 0; k0 < K; k0 += GEMM_KC) {                                \
    const int64_t kn = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;                    \
    for (int64_t j0 = 0; j0 < N0; j0 += GEMM_VC * (L))                         \
      for (int64_t i0 = 0; i0 < M0; i0 += GEMM_VR) {                           \
        V acc[GEMM_VR][GEMM_VC];                                               \
        T *c = C + i0 * ldc + j0;                                              \
        for (int r = 0; r < GEMM_VR; r++)                                      \
          for (int v = 0; v < GEMM_VC; v++) {                                  \
            if (k0) memcpy(&acc[r][v], c + r * ldc + v * (L), sizeof(V));      \
            else memset(&acc[r][v], 0, sizeof(V));                             \
          }                                                                    \
        const T *a = A + i0 * lda + k0;                                        \
        const T *b = B + k0 * ldb + j0;                                        \
        for (int64_t k = 0; k < kn; k++, b += ldb) {                           \
          V bv[GEMM_VC];                                                       \
          for (int v = 0; v < GEMM_VC; v++) memcpy(&bv[v], b + v * (L), sizeof(V)); \
          for (int r = 0; r < GEMM_VR; r++) {                                  \
            const V x = a[r * lda + k] - (V){0};                               \
            for (int v = 0; v < GEMM_VC; v++) acc[r][v] += x * bv[v];          \
          }                                                                    \
        }                                                                      \
        for (int r = 0; r < GEMM_VR; r++)                                      \
          for (int v = 0; v < GEMM_VC; v++)                                    \
            memcpy(c + r * ldc + v * (L), &acc[r][v], sizeof(V));              \
      }                                                                        \
  }

#define GEMM_BLOCKS_PARAMS(T)                                                  \
  int64_t M0, int64_t N0, int64_t K, const T *A, int64_t lda, const T *B,      \
      int64_t ldb, T *C, int64_t ldc

/* Rows one at a time (the rows the blocks leave, and products with fewer
 * rows than a block, e.g. a batch-1 linear or a recurrent step). B is
 * streamed row by row (contiguous, so the prefetcher keeps up) into a block
 * of GEMM_NC columns of the C row kept in L1, four rows of B per pass so
 * that each C vector is loaded and stored once per four products. Each
 * element still adds its products in increasing k. */
#define GEMM_ROWS_BODY(T, V, L)                                                \
  for (int64_t i = 0; i < M; i++) {                                            \
    const T *a = A + i * lda;                                                  \
    T *c = C + i * ldc;                                                        \
    for (int64_t j0 = 0; j0 < N; j0 += GEMM_NC) {                              \
      const int64_t jn = N - j0 < GEMM_NC ? N - j0 : GEMM_NC;                  \
      const int64_t jv = jn - jn % (L);                                        \
      T *cj = c + j0;                                                          \
      for (int64_t j = 0; j < jn; j++) cj[j] = 0;                              \
      int64_t k = 0;                                                           \
      for (; k + 4 <= K; k += 4) {                                             \
        const T *b0 = B + k * ldb + j0, *b1 = b0 + ldb, *b2 = b1 + ldb,        \
                *b3 = b2 + ldb;                                                \
        const T s0 = a[k], s1 = a[k + 1], s2 = a[k + 2], s3 = a[k + 3];        \
        const V x0 = s0 - (V){0}, x1 = s1 - (V){0}, x2 = s2 - (V){0},          \
                x3 = s3 - (V){0};                                              \
        for (int64_t j = 0; j < jv; j += (L)) {                                \
          V y, w;                                                              \
          memcpy(&y, cj + j, sizeof y);                                        \
          memcpy(&w, b0 + j, sizeof w);                                        \
          y += x0 * w;                                                         \
          memcpy(&w, b1 + j, sizeof w);                                        \
          y += x1 * w;                                                         \
          memcpy(&w, b2 + j, sizeof w);                                        \
          y += x2 * w;                                                         \
          memcpy(&w, b3 + j, sizeof w);                                        \
          y += x3 * w;                                                         \
          memcpy(cj + j, &y, sizeof y);                                        \
        }                                                                      \
        for (int64_t j = jv; j < jn; j++)                                      \
          cj[j] = (((cj[j] + s0 * b0[j]) + s1 * b1[j]) + s2 * b2[j]) + s3 * b3[j]; \
      }                                                                        \
      for (; k < K; k++) {                                                     \
        const T *b0 = B + k * ldb + j0;                                        \
        const T s0 = a[k];                                                     \
        const V x0 = s0 - (V){0};                                              \
        for (int64_t j = 0; j < jv; j += (L)) {                                \
          V y, w;                                                              \
          memcpy(&y, cj + j, sizeof y);                                        \
          memcpy(&w, b0 + j, sizeof w);                                        \
          y += x0 * w;                                                         \
          memcpy(cj + j, &y, sizeof y);                                        \
        }                                                                      \
        for (int64_t j = jv; j < jn; j++) cj[j] += s0 * b0[j];                 \
      }                                                                        \
    }                                                                          \
  }

#define GEMM_ROWS_PARAMS(T)                                                    \
  int64_t M, int64_t N, int64_t K, const T *A, int64_t lda, const T *B,        \
      int64_t ldb, T *C, int64_t ldc

/* The plain-C parts both vector paths share. */
DEFINE_GEMM_EDGE(float, f32)
DEFINE_GEMM_EDGE(double, f64)

/*
 * x86-64: the same blocks and rows on 256-bit AVX vectors (twice the columns
 * per instruction) when the processor has AVX, chosen at run time; multiply
 * and add stay separate instructions (no FMA), so every element is computed
 * with the same operations in the same order as on 128-bit vectors or in
 * plain C.
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GEMM_AVX 1
typedef float gemm_v8f32 __attribute__((vector_size(32)));
typedef double gemm_v4f64 __attribute__((vector_size(32)));
__attribute__((target("avx"))) static void gemm_blocks_avx_f32(GEMM_BLOCKS_PARAMS(float)) {
  GEMM_BLOCKS_BODY(float, gemm_v8f32, 8)
}
__attribute__((target("avx"))) static void gemm_blocks_avx_f64(GEMM_BLOCKS_PARAMS(double)) {
  GEMM_BLOCKS_BODY(double, gemm_v4f64, 4)
}
__attribute__((target("avx"))) static void gemm_rows_avx_f32(GEMM_ROWS_PARAMS(float)) {
  GEMM_ROWS_BODY(float, gemm_v8f32, 8)
}
__attribute__((target("avx"))) static void gemm_rows_avx_f64(GEMM_ROWS_PARAMS(double)) {
  GEMM_ROWS_BODY(double, gemm_v4f64, 4)
}
static bool avx_off; /* et_matmul_narrow_vectors (tests) */
static bool have_avx(void) {
  if (avx_off) return false;
#ifdef __AVX__
  return true;
#else
  static int cached = -1; /* a benign race: every thread computes the same */
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx") ? 1 : 0;
  }
  return cached == 1;
#endif
}
#define GEMM_TRY_AVX(S, L)                                                     \
  if (have_avx()) {                                                            \
    const int64_t N0 = N - N % (GEMM_VC * 2 * (L));                            \
    gemm_blocks_avx_##S(M0, N0, K, A, lda, B, ldb, C, ldc);                    \
    gemm_edge_##S(M0, N0, N, K, A, lda, B, ldb, C, ldc);                       \
    if (M0 < M) gemm_rows_avx_##S(M - M0, N, K, A + M0 * lda, lda, B, ldb, C + M0 * ldc, ldc); \
    return;                                                                    \
  }
#else
#define GEMM_TRY_AVX(S, L)
#endif

#define DEFINE_GEMM(T, S, V, L)                                                \
  static void gemm_blocks_##S(GEMM_BLOCKS_PARAMS(T)) { GEMM_BLOCKS_BODY(T, V, L) } \
  static void gemm_rows_##S(GEMM_ROWS_PARAMS(T)) { GEMM_ROWS_BODY(T, V, L) } \
  static void gemm_##S(int64_t M, int64_t N, int64_t K, const T *A, int64_t lda, \
                       const T *B, int64_t ldb, T *C, int64_t ldc) {           \
    const int64_t M0 = M - M % GEMM_VR;                                        \
    GEMM_TRY_AVX(S, L)                                                         \
    const int64_t N0 = N - N % (GEMM_VC * (L));                                \
    gemm_blocks_##S(M0, N0, K, A, lda, B, ldb, C, ldc);                        \
    gemm_edge_##S(M0, N0, N, K, A, lda, B, ldb, C, ldc);                       \
    if (M0 < M) gemm_rows_##S(M - M0, N, K, A + M0 * lda, lda, B, ldb, C + M0 * ldc, ldc); \
  }
#else
#define DEFINE_GEMM(T, S, V, L)                                                \
  DEFINE_GEMM_ROWS(T, S)                                                       \
  DEFINE_GEMM_EDGE(T, S)                                                       \
  static void gemm_##S(int64_t M, int64_t N, int64_t K, const T *A, int64_t lda, \
                       const T *B, int64_t ldb, T *C, int64_t ldc) {           \
    const int64_t M0 = M - M % GEMM_MR, N0 = N - N % GEMM_NR;                  \
    for (int64_t j0 = 0; j0 < N0; j0 += GEMM_NR)                               \
      for (int64_t i0 = 0; i0 < M0; i0 += GEMM_MR) {                           \
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
    gemm_edge_##S(M0, N0, N, K, A, lda, B, ldb, C, ldc);                       \
    if (M0 < M) gemm_rows_##S(M - M0, N, K, A + M0 * lda, lda, B, ldb, C + M0 * ldc, ldc); \
  }
#endif

void et_matmul_narrow_vectors(bool narrow) {
#ifdef GEMM_AVX
  avx_off = narrow;
#else
  (void)narrow;
#endif
}

DEFINE_GEMM(float, f32, et_vf32, 4)
DEFINE_GEMM(double, f64, et_vf64, 2)

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

bool et_matmul_exact(et_kernel_ctx *ctx, int dtype, int64_t M, int64_t N, int64_t K,
                     const void *A, int64_t lda, const void *B, int64_t ldb, void *C,
                     int64_t ldc) {
  (void)ctx;
  return et_matmul(dtype, M, N, K, A, lda, B, ldb, C, ldc);
}
