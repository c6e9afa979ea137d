/* aten::sym_size.int(Tensor self, int dim) -> SymInt */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_sym_size_int(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *t = args[0]->u.t;
  if (t->rank == 0) return ET_K_FAIL(ctx, "self: a 0-dim tensor has no sizes");
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, t->rank, "dim", &dim));
  return et_prim_set_int(ctx, args[2], t->sizes[dim]);
}
