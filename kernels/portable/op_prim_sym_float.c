/* executorch_prim::sym_float.Scalar(Scalar a) -> Scalar: float(a) */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_prim_sym_float_scalar(et_kernel_ctx *ctx, et_value **args) {
  return et_prim_set_double(ctx, args[1], et_scalar_to_double(args[0]));
}
