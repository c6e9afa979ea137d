/*
 * aten::_local_scalar_dense(Tensor self) -> Scalar
 * The first element of self (usually a one-element tensor), written into
 * the return slot: floating dtypes as a double, integers as an int, Bool as
 * a bool (converted to the slot's tag).
 */
#include "portable/ops.h"

#include "util/prim_util.h"

et_status et_op_local_scalar_dense(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *t = args[0]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, t, "self"));
  if (et_tensor_numel(t) < 1) return ET_K_FAIL(ctx, "self: expected at least one element");
  if (et_dtype_is_floating(t->dtype))
    return et_prim_set_double(ctx, args[1], et_elem_as_double(t->data, t->dtype));
  if (t->dtype == ET_BOOL)
    return et_prim_set_bool(ctx, args[1], et_elem_as_bool(t->data, t->dtype));
  return et_prim_set_int(ctx, args[1], et_elem_as_int64(t->data, t->dtype));
}
