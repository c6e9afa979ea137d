/*
 * Scalar ("prim") operators: executorch_prim::*.Scalar, floordiv.int,
 * mod.int. They compute on Int, Double and Bool values (Bool counts as the
 * integer 0 or 1, as in Python) and store their result in the return slot as
 * a value of the result's kind (Python's: true division gives a Double, a
 * comparison a Bool, ceil/round/trunc an Int), replacing the slot's tag as
 * upstream's runtime does; upstream's exporter declares every scalar result
 * slot as an Int. A kernel that reads such a value as an Int after it became
 * a Double reads it through its tag (et_scalar_*) or validates the integer
 * as it would any program-supplied integer.
 *
 * Integer arithmetic follows Python (floor division, remainder with the
 * divisor's sign) and wraps on int64 overflow instead of growing; division
 * or remainder by integer zero fails with InvalidArgument.
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_PRIM_UTIL_H
#define ET_KERNELS_UTIL_PRIM_UTIL_H

#include <edgetorch/kernel.h>

#include "util/arith_util.h"

#ifdef __cplusplus
extern "C" {
#endif

et_status et_prim_set_int(et_kernel_ctx *ctx, et_value *slot, int64_t v);
et_status et_prim_set_double(et_kernel_ctx *ctx, et_value *slot, double v);
et_status et_prim_set_bool(et_kernel_ctx *ctx, et_value *slot, bool v);
/* Copy a scalar value into the slot (converted to the slot's tag). */
et_status et_prim_set_scalar(et_kernel_ctx *ctx, et_value *slot, const et_value *v);

typedef enum et_prim_op {
  ET_PRIM_ADD,
  ET_PRIM_SUB,
  ET_PRIM_MUL,
  ET_PRIM_FLOORDIV,
  ET_PRIM_TRUEDIV,
  ET_PRIM_MOD,
  ET_PRIM_MAX,
  ET_PRIM_MIN
} et_prim_op;

/* args = (a, b, ret). */
et_status et_prim_binary(et_kernel_ctx *ctx, et_value **args, et_prim_op op);
/* args = (a, b, ret); ret gets a Bool. */
et_status et_prim_compare(et_kernel_ctx *ctx, et_value **args, et_cmp cmp);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_PRIM_UTIL_H */
