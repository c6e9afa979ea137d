/*
 * et_copy::_d2h_copy.out(Tensor self, *, Tensor(a!) out) -> Tensor(a!)
 *
 * Upstream inserts this copy (exir/passes/_device_copy_ops_registry.py)
 * where a device delegate's output returns to host memory. edgetorch's
 * runtime has no device memory, so the copy is a plain one (same dtype,
 * out resized like self).
 */
#include "portable/ops.h"

#include "util/copy_util.h"

et_status et_op_d2h_copy_out(et_kernel_ctx *ctx, et_value **args) {
  return et_k_copy_identity(ctx, args[0]->u.t, args[1]->u.t);
}
