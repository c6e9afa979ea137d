/*
 * N-dimensional iteration over several operands that share one index space
 * (an output and its broadcast inputs, a source and a destination view).
 *
 * et_nd_iter walks the index space in runs: each run is a stretch of `inner`
 * elements along which every operand advances by a fixed stride
 * (inner_stride[k], often 1 or 0). Dimensions of size 1 are dropped and
 * adjacent dimensions that are contiguous for every operand are merged
 * first, so equal-shaped contiguous operands are a single run of numel
 * elements, and `x[N,C] + bias[C]` is N runs of C with bias' stride 1.
 *
 *   et_nd_iter it;
 *   et_nd_iter_init(&it, rank, sizes, 2, strides, order);
 *   if (it.inner > 0) do {
 *     ... operand k's run starts at element offset it.off[k] ...
 *   } while (et_nd_iter_next(&it));
 *
 * Offsets and strides are in elements. The iterator holds no pointers and
 * never reads tensor data.
 *
 * Thread-safety: an iterator belongs to one caller.
 */
#ifndef ET_KERNELS_UTIL_BROADCAST_UTIL_H
#define ET_KERNELS_UTIL_BROADCAST_UTIL_H

#include <edgetorch/kernel.h>
#include <edgetorch/value.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ET_ITER_MAX_OPS 4

typedef struct et_nd_iter {
  uint32_t nops;
  uint32_t ndim;  /* outer dimensions (outermost first) */
  int64_t inner;  /* elements per run; 0 when the index space is empty */
  int64_t inner_stride[ET_ITER_MAX_OPS];
  int64_t size[ET_MAX_RANK];
  int64_t stride[ET_MAX_RANK][ET_ITER_MAX_OPS];
  int64_t idx[ET_MAX_RANK];
  int64_t off[ET_ITER_MAX_OPS]; /* start of the current run, per operand */
} et_nd_iter;

/*
 * Prepare iteration over `sizes` (rank <= ET_MAX_RANK) for `nops` operands
 * (<= ET_ITER_MAX_OPS); strides[k][d] is operand k's stride of dim d.
 * `order` lists the dims outermost to innermost (usually the first
 * operand's dim order, so that it is written sequentially); NULL means
 * 0..rank-1.
 */
void et_nd_iter_init(et_nd_iter *it, uint32_t rank, const int64_t *sizes,
                     uint32_t nops, const int64_t *const *strides,
                     const uint8_t *order);

/* Move to the next run; false when there is none. */
bool et_nd_iter_next(et_nd_iter *it);

/* Back to the first run (offsets zero). */
void et_nd_iter_reset(et_nd_iter *it);

/* Number of runs. */
int64_t et_nd_iter_runs(const et_nd_iter *it);

/*
 * Strides that make `in` broadcast to an output of `out_rank` dims of
 * `out_sizes` (right-aligned; broadcast dims get stride 0). False if `in`
 * does not broadcast to that shape.
 */
bool et_broadcast_strides(const et_tensor *in, uint32_t out_rank,
                          const int32_t *out_sizes, int64_t *out_strides);

/*
 * Copy the index space `sizes` from src (src_strides, src_dtype) to dst
 * (dst_strides, dst_dtype), converting dtypes if they differ; order as in
 * et_nd_iter_init. Equal dtypes copy bytes (memcpy for contiguous runs).
 * Returns false if a dtype is not supported.
 */
bool et_copy_nd(void *dst, int dst_dtype, const int64_t *dst_strides,
                const void *src, int src_dtype, const int64_t *src_strides,
                uint32_t rank, const int64_t *sizes, const uint8_t *order);

/*
 * Copy all of `src` into `dst` (same sizes), converting dtype and dim order
 * as needed.
 */
bool et_copy_tensor(et_tensor *dst, const et_tensor *src);

/* Write n copies of the es-byte element `elem` to dst. */
void et_fill_bytes(void *dst, const void *elem, size_t es, size_t n);

/*
 * Copy src into dst element by element in logical (row-major) order, which
 * is what reshaping means; sizes may differ but element counts must match
 * (checked: false otherwise). Any dim orders; dtypes must be equal.
 */
bool et_copy_reshape(et_tensor *dst, const et_tensor *src);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_BROADCAST_UTIL_H */
