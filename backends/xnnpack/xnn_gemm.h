/*
 * fp32 GEMM for the CPU backend: C = clamp(A * B + bias, lo, hi).
 *
 * B is either packed once (weights: et_xnn_pack_b, panels of
 * ET_XNN_NR columns, zero padded, K rows each) or read in place row-major
 * (batch matmul). A is row-major with a leading dimension. The micro kernels
 * compute ET_XNN_MR x ET_XNN_NR tiles; the AVX2+FMA variant is chosen at run
 * time when the CPU has it, NEON on aarch64, the plain C one otherwise.
 * Results may differ from a plain dot product by FMA rounding (allowed in
 * backends).
 *
 * The _par variants split C into MR x NR tiles over `par` (parallel.h;
 * NULL: serial): every tile is computed by the same micro kernel over the
 * whole K whatever thread runs it, so C is bit-identical for every thread
 * count. Work under ET_XNN_GRAIN_FMA multiply-adds per task stays serial.
 *
 * No allocation, no OS; thread-safety: pure functions.
 */
#ifndef EDGETORCH_XNN_GEMM_H
#define EDGETORCH_XNN_GEMM_H

#include <edgetorch/parallel.h>

#include <stddef.h>

#define ET_XNN_MR 6
#define ET_XNN_NR 16

/* Floats a packed K x N matrix takes. */
size_t et_xnn_packed_floats(size_t k, size_t n);
/* Pack B[kk][nn] = src[kk * rs + nn * cs] (kk < k, nn < n). */
void et_xnn_pack_b(float *dst, const float *src, size_t k, size_t n,
                   size_t rs, size_t cs);
/* C[m x n] (ldc) = clamp(A[m x k] (lda) * packed + bias (NULL: 0)). */
void et_xnn_gemm_packed(size_t m, size_t n, size_t k, const float *a,
                        size_t lda, const float *packed, const float *bias,
                        float *c, size_t ldc, float lo, float hi);
/* C[m x n] (ldc) = clamp(A[m x k] (lda) * B[k x n] (ldb)). */
void et_xnn_gemm(size_t m, size_t n, size_t k, const float *a, size_t lda,
                 const float *b, size_t ldb, float *c, size_t ldc, float lo,
                 float hi);
/* Multiply-adds one parallel task should at least do (~10 us). */
#define ET_XNN_GRAIN_FMA ((size_t)1 << 18)
void et_xnn_gemm_packed_par(et_parallel *par, size_t m, size_t n, size_t k,
                            const float *a, size_t lda, const float *packed,
                            const float *bias, float *c, size_t ldc, float lo,
                            float hi);
void et_xnn_gemm_par(et_parallel *par, size_t m, size_t n, size_t k,
                     const float *a, size_t lda, const float *b, size_t ldb,
                     float *c, size_t ldc, float lo, float hi);
/* 0: plain C, 1: AVX2+FMA (x86), 2: NEON (aarch64). For tests: force a
 * path (-1: automatic; a positive path is this target's vector one). */
int et_xnn_gemm_path(void);
void et_xnn_gemm_force_path(int path);

#endif
