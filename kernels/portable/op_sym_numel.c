/* aten::sym_numel(Tensor self) -> SymInt */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_sym_numel(et_kernel_ctx *ctx, et_value **args) {
  return et_prim_set_int(ctx, args[1], (int64_t)et_tensor_numel(args[0]->u.t));
}
