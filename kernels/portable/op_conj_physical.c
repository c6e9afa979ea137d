/*
 * aten::_conj_physical.out(Tensor self, *, Tensor(a!) out): the complex
 * conjugate; the portable kernels have no complex dtypes, so for every
 * supported (real or Bool) dtype this is a copy. out has self's dtype and
 * may have another dim order.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status op_conj_physical_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, a, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  if (!et_copy_tensor(out, a)) return ET_K_FAIL(ctx, "out: copy failed");
  return ET_OK;
}
