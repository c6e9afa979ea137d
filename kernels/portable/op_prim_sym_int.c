/* executorch_prim::sym_int.Scalar(Scalar a) -> Scalar: int(a), truncating */
#include "portable/ops.h"

#include "util/prim_util.h"

#include <math.h>

et_status et_op_prim_sym_int_scalar(et_kernel_ctx *ctx, et_value **args) {
  if (args[0]->tag == ET_TAG_DOUBLE) {
    const double d = args[0]->u.d;
    if (!(d - d == 0)) return ET_K_FAIL(ctx, "cannot convert a non-finite value to int");
    return et_prim_set_int(ctx, args[1], et_f64_to_i64(trunc(d)));
  }
  return et_prim_set_int(ctx, args[1], et_scalar_to_int64(args[0]));
}
