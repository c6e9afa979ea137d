/*
 * Extreme-element scans shared by amax, amin, max, min, argmax and argmin:
 * the largest (or smallest) element of strided runs and its position, with
 * PyTorch's rules: a NaN beats every number (the first NaN wins and ends the
 * scan) and among equal elements the first one is kept.
 *
 * A scan state accumulates over any number of runs; positions count the
 * elements in the order the runs are given (the caller passes each run's
 * first position), so a run-by-run walk in logical order yields PyTorch's
 * flat indices. Values are held in the compute dtype of the input (int64 for
 * integers and Bool, float for Float/Half/BFloat16, double for Double),
 * which represents every input element exactly, so storing the result back
 * in the input's dtype is exact.
 *
 * Thread-safety: pure; states live on the caller's stack.
 */
#ifndef ET_KERNELS_UTIL_MINMAX_UTIL_H
#define ET_KERNELS_UTIL_MINMAX_UTIL_H

#include <edgetorch/kernel.h>

#include "util/reduce_util.h"
#include "util/scalar_util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_minmax {
  et_cval v;    /* best value so far, in et_minmax_acc_dtype(dtype) */
  int64_t idx;  /* its position */
  bool found;   /* at least one element seen */
  bool nan;     /* v is the first NaN: later elements cannot win */
} et_minmax;

/* Long, Float or Double: the dtype et_minmax.v holds for an input dtype. */
int et_minmax_acc_dtype(int dtype);

void et_minmax_init(et_minmax *m);

/*
 * Fold n elements at src (dtype `dtype`, `stride` elements apart, positions
 * first, first + 1, ...) into m, keeping the maximum when want_max, else
 * the minimum. dtype must be supported (et_dtype_is_supported).
 */
void et_minmax_scan(et_minmax *m, bool want_max, const void *src, int dtype,
                    int64_t stride, int64_t n, int64_t first);

/* Fold every run of `red` (offsets relative to `base`, in elements of
 * `data`) into m, counting positions in run order from 0. The iterator is
 * reset first and left exhausted. */
void et_minmax_scan_iter(et_minmax *m, bool want_max, const void *data, int dtype,
                         int64_t base, et_nd_iter *red);

/* Write m's value to one element of dtype `dtype` at dst (exact when dtype
 * is the scanned dtype). */
void et_minmax_store(const et_minmax *m, void *dst, int dtype);

/*
 * PyTorch's refusal of an empty reduction: every dim in `mask` must have a
 * non-zero size ("Expected reduction dim N to have non-zero size").
 */
et_status et_minmax_check_nonempty(et_kernel_ctx *ctx, const et_tensor *in, uint32_t mask);

/*
 * The kernels of the min/max pairs, which differ only in want_max:
 *   amax/amin.out:        (self, int[] dim, keepdim, out, ret)
 *   max/min.dim_max/min:  (self, int dim, keepdim, values, indices, ret)
 *   max/min.unary_out:    (self, out, ret)
 *   argmax/argmin.out:    (self, int? dim, keepdim, out, ret)
 */
et_status et_minmax_amax_out(et_kernel_ctx *ctx, et_value **args, bool want_max);
et_status et_minmax_dim_out(et_kernel_ctx *ctx, et_value **args, bool want_max);
et_status et_minmax_unary_out(et_kernel_ctx *ctx, et_value **args, bool want_max);
et_status et_minmax_arg_out(et_kernel_ctx *ctx, et_value **args, bool want_max);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_MINMAX_UTIL_H */
