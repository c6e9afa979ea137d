/*
 * Reductions over a set of dimensions (sum, mean, any, ...).
 *
 * A plan pairs two iterations: `outer` over the kept dimensions (operand 0
 * the output, operand 1 the input, in the output's dim order) and `red`
 * over the reduced dimensions of the input (in the input's dim order, so a
 * reduction over the innermost dims is one contiguous run per output).
 *
 *   et_reduce_plan p;
 *   ET_K_TRY(et_reduce_plan_init(ctx, &p, in, mask, keepdim, out));
 *   if (p.outer.inner > 0) do {
 *     for (int64_t j = 0; j < p.outer.inner; j++) {
 *       int64_t o = p.outer.off[0] + j * p.outer.inner_stride[0];
 *       int64_t base = p.outer.off[1] + j * p.outer.inner_stride[1];
 *       ... reduce the runs of p.red (offsets relative to base) ...
 *     }
 *   } while (et_nd_iter_next(&p.outer));
 *
 * Thread-safety: plans live on the caller's stack.
 */
#ifndef ET_KERNELS_UTIL_REDUCE_UTIL_H
#define ET_KERNELS_UTIL_REDUCE_UTIL_H

#include <edgetorch/kernel.h>

#include "util/broadcast_util.h"
#include "util/scalar_util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_reduce_plan {
  et_nd_iter outer;
  et_nd_iter red;
  int64_t count; /* input elements per output element */
} et_reduce_plan;

/*
 * Bit mask of the dims to reduce. `dims` may be NULL or a None value (all
 * dims), an Int value (one dim) or an int list; an empty list means all
 * dims, as in PyTorch's sum/mean. Repeated dims are refused.
 */
et_status et_reduce_mask(et_kernel_ctx *ctx, const et_tensor *in, const et_value *dims,
                         const char *name, uint32_t *out_mask);

/* Output shape of reducing `in` over `mask`. */
void et_reduce_shape(const et_tensor *in, uint32_t mask, bool keepdim, int64_t *sizes,
                     uint32_t *rank);

/* Resize `out` to the reduced shape and build the plan. */
et_status et_reduce_plan_init(et_kernel_ctx *ctx, et_reduce_plan *plan,
                              const et_tensor *in, uint32_t mask, bool keepdim,
                              et_tensor *out);

/*
 * acc += sum of n elements at src (dtype src_dtype, stride in elements).
 * acc_dtype is Long, Float or Double (acc->i / ->f / ->d).
 */
void et_reduce_add(et_cval *acc, int acc_dtype, const void *src, int src_dtype,
                   int64_t stride, int64_t n);

/* True if any of n elements at src is non-zero (NaN counts as non-zero). */
bool et_reduce_any(const void *src, int src_dtype, int64_t stride, int64_t n);

/* Accumulator dtype for a sum stored in `out_dtype`: Long for integers and
 * Bool, Double for Double, Float otherwise. */
int et_reduce_acc_dtype(int out_dtype);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_REDUCE_UTIL_H */
