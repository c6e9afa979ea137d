/*
 * aten::randn.out(SymInt[] size, *, Tensor(a!) out)
 *
 * out (resized to size; Half, BFloat16, Float or Double) filled with
 * standard normal values. The generator is counter-based with a
 * fixed seed (util/random_util.h): calls are deterministic and the values
 * differ from torch's.
 */
#include "portable/ops.h"

#include "util/factory_util.h"
#include "util/random_util.h"
#include "util/shape_util.h"

et_status et_op_randn_out(et_kernel_ctx *ctx, et_value **args) {
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, out, "out"));
  ET_K_TRY(et_k_resize_to_size_arg(ctx, args[0], out));
  return et_fill_random(ctx, out, true);
}
