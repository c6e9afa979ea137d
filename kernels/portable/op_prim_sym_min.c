/* executorch_prim::sym_min.Scalar(Scalar a, Scalar b) -> Scalar: min(a, b) */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_prim_sym_min_scalar(et_kernel_ctx *ctx, et_value **args) {
  return et_prim_binary(ctx, args, ET_PRIM_MIN);
}
