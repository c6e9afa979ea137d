/* executorch_prim::sym_ite.Scalar(Scalar b, Scalar t, Scalar f) -> Scalar: t if b else f */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_prim_sym_ite_scalar(et_kernel_ctx *ctx, et_value **args) {
  return et_prim_set_scalar(ctx, args[3], et_scalar_to_bool(args[0]) ? args[1] : args[2]);
}
