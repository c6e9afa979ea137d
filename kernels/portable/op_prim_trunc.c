/* executorch_prim::trunc.Scalar(Scalar a) -> Scalar: math.trunc(a), an integer */
#include "portable/ops.h"

#include "util/prim_util.h"

#include <math.h>

et_status et_op_prim_trunc_scalar(et_kernel_ctx *ctx, et_value **args) {
  if (args[0]->tag != ET_TAG_DOUBLE)
    return et_prim_set_int(ctx, args[1], et_scalar_to_int64(args[0]));
  const double d = trunc(args[0]->u.d);
  if (!(d - d == 0)) return ET_K_FAIL(ctx, "cannot convert a non-finite value to int");
  return et_prim_set_int(ctx, args[1], et_f64_to_i64(d));
}
