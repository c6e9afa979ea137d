/*
 * executorch_prim::floordiv.Scalar(Scalar a, Scalar b) -> Scalar
 * executorch_prim::floordiv.int(int a, int b) -> int
 * Python's a // b (rounds toward negative infinity).
 */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_prim_floordiv_scalar(et_kernel_ctx *ctx, et_value **args) {
  return et_prim_binary(ctx, args, ET_PRIM_FLOORDIV);
}

et_status et_op_prim_floordiv_int(et_kernel_ctx *ctx, et_value **args) {
  return et_prim_binary(ctx, args, ET_PRIM_FLOORDIV);
}
