/* Identity copies. */
#include "util/copy_util.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_k_copy_identity(et_kernel_ctx *ctx, const et_tensor *self, et_tensor *out) {
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", out, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, self, "out"));
  if (et_tensor_numel(out) != 0) et_copy_tensor(out, self);
  return ET_OK;
}
