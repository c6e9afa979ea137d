/* executorch_prim::ge.Scalar(Scalar a, Scalar b) -> bool: a >= b */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_prim_ge_scalar(et_kernel_ctx *ctx, et_value **args) {
  return et_prim_compare(ctx, args, ET_CMP_GE);
}
