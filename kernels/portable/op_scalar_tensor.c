/* aten::scalar_tensor.out(Scalar s, *, Tensor(a!) out): a 0-dim tensor holding s. */
#include "portable/ops.h"

#include "util/fill_util.h"
#include "util/shape_util.h"

et_status et_op_scalar_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_resize(ctx, out, NULL, 0, "out"));
  return et_fill_scalar(ctx, out, args[0]);
}
