/*
 * Integer micro kernels of the CPU backend's quantized path.
 *
 * s8 GEMM: C[m][n] = epilogue(sum_k A[m][k] * B[k][n]) with A int8 rows
 * (leading dimension lda, K valid bytes each) and B packed once by
 * et_xnn_qpack_s8 (panels of ET_XNN_QNP columns holding pairs of K). The
 * AVX2 path widens A to int16 a block at a time, broadcasts pairs of it
 * and multiplies them with the panel's int16 pairs with vpmaddwd (exact
 * for every int8 pair: no vpmaddubsw saturation; the sums accumulate
 * across output columns, no horizontal reductions), 4 rows x 16 columns
 * per tile, and applies the epilogue 8 columns at a time; the plain C path
 * gives the same integers and the same epilogue arithmetic.
 *
 * qd8 x 4-bit GEMM: A int8 rows quantized per row (scale, zero point),
 * B 4-bit weights with one float scale per 32-element chunk of K (blockwise
 * qb4w with a group size that is a multiple of 32, or per channel qc4w: one
 * scale for the whole row), repacked once by et_xnn_qpack_4. Output fp32.
 *
 * Every function is pure (thread-safe); the _par variants split the output
 * columns over `par`, each column computed the same way whatever thread
 * runs it, so results do not depend on the thread count. No allocation.
 */
#ifndef EDGETORCH_XNN_QGEMM_H
#define EDGETORCH_XNN_QGEMM_H

#include <edgetorch/parallel.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ET_XNN_QNP 8u /* columns per packed int8 panel */
#define ET_XNN_Q4C 32u /* K chunk of packed 4-bit columns */
#define ET_XNN_Q4NB 8u /* columns per packed 4-bit block */

/* What happens to each int32 dot product. */
enum {
  ET_XNN_QEPI_S32 = 0, /* c is int32: raw dot products (tests) */
  ET_XNN_QEPI_QS8 = 1, /* c is int8: rne((acc + bias[n]) * scale[n]) + zo */
  ET_XNN_QEPI_F32 = 2  /* c is float: (acc - zp[m]*colsum[n]) * rs[m] *
                          scale[n] + biasf[n], clamped */
};

typedef struct et_xnn_qepi {
  int kind;
  const int32_t *bias;   /* QS8: per column, zero-point correction folded */
  const float *scale;    /* QS8: requant multiplier; F32: weight scale */
  int32_t zo, qmin, qmax;/* QS8: output zero point and clamp (int8) */
  const float *rs;       /* F32: per row activation scale */
  const int32_t *rzp;    /* F32: per row activation zero point */
  const int32_t *colsum; /* F32: per column sum of weights */
  const float *biasf;    /* F32: per column bias or NULL */
  float lo, hi;          /* F32: output clamp */
} et_xnn_qepi;

/* K padded (to even) and the bytes a packed K x N matrix takes. */
size_t et_xnn_qpack_s8_kp(size_t k);
size_t et_xnn_qpack_s8_bytes(size_t k, size_t n);
/* Pack B[kk][nn] = src[kk * rs + nn * cs] into dst
 * (et_xnn_qpack_s8_bytes), and colsum[nn] = sum over kk (may be NULL). */
void et_xnn_qpack_s8(int8_t *dst, const int8_t *src, size_t k, size_t n,
                     size_t rs, size_t cs, int32_t *colsum);
void et_xnn_qgemm_s8_par(et_parallel *par, size_t m, size_t n, size_t k,
                         const int8_t *a, size_t lda, const int8_t *packed,
                         const et_xnn_qepi *e, void *c, size_t ldc);

/* 4-bit: kp = k rounded up to 32. The packed weights come in blocks of
 * ET_XNN_Q4NB columns (the last one zero padded), each block a run of
 * kp / 32 chunks of 128 bytes; et_xnn_qpack_4_bytes bytes in all, with
 * et_xnn_qpack_4_nscales chunk scales (floats) and q[] one float per padded
 * column (et_xnn_qpack_4_ncols). */
size_t et_xnn_qpack_4_kp(size_t k);
size_t et_xnn_qpack_4_ncols(size_t n);
size_t et_xnn_qpack_4_bytes(size_t k, size_t n);
size_t et_xnn_qpack_4_nscales(size_t k, size_t n);
/* src: upstream's layout, row nn at src + nn * row_bytes, element kk in
 * the low nibble of byte kk/2 when kk is even, high when odd, stored as
 * w + 8. scale_of(ctx, nn, kk) gives the scale of element (nn, kk). */
void et_xnn_qpack_4(uint8_t *dst, float *chunk_scale, float *q,
                    const uint8_t *src, size_t row_bytes, size_t k, size_t n,
                    float (*scale_of)(const void *ctx, size_t nn, size_t kk),
                    const void *ctx);
/* The sums of each 32-element chunk of the rows of a qd8 matrix (the
 * last chunk may be short): sums[i * et_xnn_qd8_nchunks(k) + chunk]. */
size_t et_xnn_qd8_nchunks(size_t k);
void et_xnn_qd8_chunk_sums(const int8_t *a, size_t m, size_t k, size_t lda,
                           int32_t *sums);
/* C[m][n] (float, ldc) = rs[m] * sum_k (A - rzp[m]) * w + bias, clamped;
 * asum: A's chunk sums (et_xnn_qd8_chunk_sums). */
void et_xnn_qgemm_d4_par(et_parallel *par, size_t m, size_t n, size_t k,
                         const int8_t *a, size_t lda, const float *rs,
                         const int32_t *rzp, const int32_t *asum,
                         const uint8_t *packed, const float *chunk_scale,
                         const float *q, const float *bias, float lo, float hi,
                         float *c, size_t ldc);

/* Per-row dynamic quantization to int8 as XNNPACK's qd8 convert does
 * (asymmetric, range widened to hold 0, zero point nudged to an integer);
 * sums (NULL or m * et_xnn_qd8_nchunks(k)): the rows' chunk sums, as
 * et_xnn_qd8_chunk_sums gives. The AVX2 and plain paths give the same bits. */
void et_xnn_quantize_qd8(const float *x, size_t m, size_t k, int8_t *q,
                         float *scale, int32_t *zp, int32_t *sums);

/* 0: plain C, 1: AVX2 (x86). Force: -1 automatic, 0 C, 1 AVX2 (if the CPU
 * has it). */
int et_xnn_qgemm_path(void);
void et_xnn_qgemm_force_path(int path);

#ifdef __cplusplus
}
#endif

#endif
