/* executorch_prim::neg.Scalar(Scalar a) -> Scalar: -a (integers wrap) */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_prim_neg_scalar(et_kernel_ctx *ctx, et_value **args) {
  if (args[0]->tag == ET_TAG_DOUBLE) return et_prim_set_double(ctx, args[1], -args[0]->u.d);
  return et_prim_set_int(ctx, args[1],
                         (int64_t)(0u - (uint64_t)et_scalar_to_int64(args[0])));
}
