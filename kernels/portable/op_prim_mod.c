/*
 * executorch_prim::mod.Scalar(SymInt a, SymInt b) -> SymInt
 * executorch_prim::mod.int(int a, int b) -> int
 * Python's a % b (the result has the divisor's sign).
 */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_prim_mod_scalar(et_kernel_ctx *ctx, et_value **args) {
  return et_prim_binary(ctx, args, ET_PRIM_MOD);
}

et_status et_op_prim_mod_int(et_kernel_ctx *ctx, et_value **args) {
  return et_prim_binary(ctx, args, ET_PRIM_MOD);
}
