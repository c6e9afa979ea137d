/*
 * aten::ones.out(SymInt[] size, *, Tensor(a!) out)
 * out resized to size and filled with ones in its dtype.
 */
#include "portable/ops.h"

#include "util/factory_util.h"
#include "util/fill_util.h"
#include "util/shape_util.h"

et_status et_op_ones_out(et_kernel_ctx *ctx, et_value **args) {
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_resize_to_size_arg(ctx, args[0], out));
  et_value one;
  one.tag = ET_TAG_INT;
  one.u.i = 1;
  return et_fill_scalar(ctx, out, &one);
}
