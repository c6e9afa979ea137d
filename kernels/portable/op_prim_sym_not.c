/* executorch_prim::sym_not.Scalar(Scalar a) -> bool: not a */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_prim_sym_not_scalar(et_kernel_ctx *ctx, et_value **args) {
  return et_prim_set_bool(ctx, args[1], !et_scalar_to_bool(args[0]));
}
