/* executorch_prim::round.Scalar(Scalar a) -> Scalar: Python's round(a), half to even */
#include "portable/ops.h"

#include "util/prim_util.h"

#include <math.h>

et_status et_op_prim_round_scalar(et_kernel_ctx *ctx, et_value **args) {
  if (args[0]->tag != ET_TAG_DOUBLE)
    return et_prim_set_int(ctx, args[1], et_scalar_to_int64(args[0]));
  const double x = args[0]->u.d;
  if (!(x - x == 0)) return ET_K_FAIL(ctx, "cannot convert a non-finite value to int");
  double r = round(x); /* half away from zero */
  if (fabs(r - x) == 0.5 && fmod(r, 2.0) != 0) r -= (r > x) ? 1.0 : -1.0;
  return et_prim_set_int(ctx, args[1], et_f64_to_i64(r));
}
