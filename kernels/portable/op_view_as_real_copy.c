/*
 * aten::view_as_real_copy.out(Tensor self, *, Tensor(a!) out)
 *
 * A complex self of shape S becomes out of shape S + [2] holding (real,
 * imaginary) pairs, converted to out's floating dtype. Only complex inputs
 * are accepted (as PyTorch and upstream); the pairs are the real dtype in
 * memory.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

static int real_dtype(int complex_dtype) {
  switch (complex_dtype) {
  case ET_COMPLEX_HALF: return ET_HALF;
  case ET_COMPLEX_FLOAT: return ET_FLOAT;
  case ET_COMPLEX_DOUBLE: return ET_DOUBLE;
  default: return -1;
  }
}

et_status et_op_view_as_real_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  const int rdt = real_dtype(in->dtype);
  if (rdt < 0)
    return ET_K_FAIL(ctx, "self: view_as_real needs a complex dtype (ComplexHalf, ComplexFloat "
                          "or ComplexDouble), got %s",
                     et_dtype_name(in->dtype));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, out, "out"));
  if (in->rank + 1 > ET_MAX_RANK)
    return ET_K_FAIL(ctx, "self: rank %u is too large", (unsigned)in->rank);
  if (in->data == NULL && et_tensor_numel(in) != 0)
    return ET_K_FAIL(ctx, "self: tensor has no data");
  int64_t sizes[ET_MAX_RANK], strides[ET_MAX_RANK];
  for (uint32_t d = 0; d < in->rank; d++) {
    sizes[d] = in->sizes[d];
    strides[d] = in->strides[d] * 2;
  }
  sizes[in->rank] = 2;
  strides[in->rank] = 1;
  ET_K_TRY(et_k_resize(ctx, out, sizes, in->rank + 1, "out"));
  et_copy_nd(out->data, out->dtype, out->strides, in->data, rdt, strides, in->rank + 1, sizes,
             out->dim_order);
  return ET_OK;
}
