/*
 * aten::fill.Scalar_out(Tensor self, Scalar value, *, Tensor(a!) out)
 * aten::fill.Tensor_out(Tensor self, Tensor value, *, Tensor(a!) out)
 *
 * out (self's shape and dtype) filled with value. A Scalar must fit the
 * dtype (c10's overflow rule: 300 does not fit Char); a Tensor value must
 * be 0-dim and is converted as a cast would (no overflow check, as
 * PyTorch).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/fill_util.h"
#include "util/shape_util.h"

static et_status prepare(et_kernel_ctx *ctx, const et_tensor *self, et_tensor *out) {
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", out, "out"));
  ET_K_TRY(et_k_check_writable(ctx, out, "out"));
  return et_k_resize_like(ctx, out, self, "out");
}

et_status et_op_fill_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(prepare(ctx, self, out));
  uint64_t elem = 0;
  ET_K_TRY(et_scalar_to_elem_checked(ctx, args[1], out->dtype, &elem, "value"));
  /* a dense tensor in any dim order is numel consecutive elements */
  const size_t n = et_tensor_numel(out);
  if (n) et_fill_bytes(out->data, &elem, et_dtype_size(out->dtype), n);
  return ET_OK;
}

et_status et_op_fill_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t, *value = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, value, "value"));
  if (value->rank != 0)
    return ET_K_FAIL(ctx, "value: must be a 0-dim tensor, got %u dims", (unsigned)value->rank);
  ET_K_TRY(prepare(ctx, self, out));
  uint64_t elem = 0;
  et_convert(&elem, out->dtype, 1, value->data, value->dtype, 1, 1);
  const size_t n = et_tensor_numel(out);
  if (n) et_fill_bytes(out->data, &elem, et_dtype_size(out->dtype), n);
  return ET_OK;
}
