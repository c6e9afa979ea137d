/*
 * Shared argument logic of the arithmetic and comparison kernels: result
 * dtypes with tensors and scalars (as upstream and PyTorch), alpha checks,
 * and the whole of the comparison kernels (eq/ne/lt/le/gt/ge, Tensor and
 * Scalar variants), which differ only in the predicate.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_ARITH_UTIL_H
#define ET_KERNELS_UTIL_ARITH_UTIL_H

#include <edgetorch/kernel.h>

#include "util/dtype_util.h"
#include "util/elementwise_util.h"
#include "util/scalar_util.h"
#include "util/shape_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Common dtype of two tensors (c10 promotion); fails unless it can be cast
 * to out's dtype.
 */
et_status et_arith_common(et_kernel_ctx *ctx, const et_tensor *a, const et_tensor *b,
                          const et_tensor *out, int *out_common);

/* Common dtype of a tensor and a scalar (et_promote_type_with_scalar);
 * fails unless it can be cast to out's dtype. */
et_status et_arith_common_scalar(et_kernel_ctx *ctx, const et_tensor *a,
                                 const et_value *s, const et_tensor *out,
                                 int *out_common);

/*
 * Check `alpha` against the common dtype (a Double alpha needs a floating
 * common dtype; a Bool common dtype takes Int or Bool; an integer alpha must
 * fit the dtype, where Byte, as c10's checked conversion, also takes -255
 * to -1, which wrap) and return it in the compute dtype.
 */
et_status et_arith_alpha(et_kernel_ctx *ctx, const et_value *alpha, int common,
                         et_cval *out_alpha);

/*
 * Round a scalar held in the Float compute dtype to `dtype` when that is
 * Half or BFloat16 (c10's Scalar::to<Half>, which PyTorch's add/sub/rsub
 * kernels apply to alpha and to a Scalar operand); other dtypes unchanged.
 */
void et_arith_round_scalar(int dtype, et_cval *v);

typedef enum et_cmp { ET_CMP_EQ, ET_CMP_NE, ET_CMP_LT, ET_CMP_LE, ET_CMP_GT, ET_CMP_GE } et_cmp;

/*
 * A comparison kernel: args are (self, other, out, ret) for both variants.
 * The inputs are compared in their promoted dtype (a scalar is first
 * converted to that dtype, as PyTorch does) and out gets 1/0 in its own
 * dtype (usually Bool).
 */
et_status et_compare_tensor_out(et_kernel_ctx *ctx, et_value **args, et_cmp cmp);
et_status et_compare_scalar_out(et_kernel_ctx *ctx, et_value **args, et_cmp cmp);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_ARITH_UTIL_H */
