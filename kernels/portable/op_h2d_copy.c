/*
 * et_copy::_h2d_copy.out(Tensor self, *, Tensor(a!) out) -> Tensor(a!)
 *
 * Upstream inserts this copy (exir/passes/_device_copy_ops_registry.py)
 * where a tensor moves from host memory into a device delegate's memory.
 * edgetorch's runtime has no device memory: every tensor lives in host
 * memory, so the copy is a plain one (same dtype, out resized like self).
 */
#include "portable/ops.h"

#include "util/copy_util.h"

et_status et_op_h2d_copy_out(et_kernel_ctx *ctx, et_value **args) {
  return et_k_copy_identity(ctx, args[0]->u.t, args[1]->u.t);
}
