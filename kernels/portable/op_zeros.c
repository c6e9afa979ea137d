/*
 * aten::zeros.out(SymInt[] size, *, Tensor(a!) out)
 * out resized to size and filled with zeros (all-zero bytes are zero in
 * every supported dtype).
 */
#include "portable/ops.h"

#include "util/factory_util.h"
#include "util/shape_util.h"

#include <string.h>

et_status et_op_zeros_out(et_kernel_ctx *ctx, et_value **args) {
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_writable(ctx, out, "out"));
  ET_K_TRY(et_k_resize_to_size_arg(ctx, args[0], out));
  const size_t nbytes = et_tensor_nbytes(out);
  if (nbytes) memset(out->data, 0, nbytes);
  return ET_OK;
}
