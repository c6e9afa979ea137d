/*
 * Short SIMD vectors through the compiler's generic vector types (GCC and
 * clang `vector_size`), used only where the target has SIMD registers
 * (x86-64 SSE2, Arm NEON); the same source compiles to SSE or NEON. Kernels
 * that use them keep a plain-C path with the same arithmetic order, so a
 * result does not depend on whether vectors were available.
 *
 * Also the vectorized float sums that reductions and normalizations share.
 */
#ifndef ET_KERNELS_UTIL_VEC_UTIL_H
#define ET_KERNELS_UTIL_VEC_UTIL_H

#include <stddef.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__SSE2__) || defined(__ARM_NEON) || defined(__aarch64__))
#define ET_HAVE_VEC 1
typedef float et_vf32 __attribute__((vector_size(16)));  /* 4 lanes */
typedef double et_vf64 __attribute__((vector_size(16))); /* 2 lanes */

/* Unaligned loads and stores. */
static inline et_vf32 et_vf32_load(const float *p) {
  et_vf32 v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void et_vf32_store(float *p, et_vf32 v) { memcpy(p, &v, sizeof v); }
static inline et_vf32 et_vf32_splat(float x) { return (et_vf32){x, x, x, x}; }
#endif

/*
 * Sum of x[0..n) over eight interleaved partial sums p[0..8) (p[l] gets
 * x[i] for i % 8 == l, up to the last multiple of 8), combined as
 * ((p0+p4) + (p1+p5)) + ((p2+p6) + (p3+p7)), then the tail in order.
 */
float et_sum_f32(const float *x, size_t n);
/* The same over (x[i] - mean)^2. */
float et_sum_sqdev_f32(const float *x, size_t n, float mean);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_VEC_UTIL_H */
