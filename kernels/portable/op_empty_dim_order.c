/*
 * dim_order_ops::_empty_dim_order.out(int[] size, *, int[]? dim_order=None,
 *                                     Tensor(a!) out)
 * Edge IR's empty: out resized to size, contents left as they are. A
 * given dim_order must be out's (and contiguous or channels-last); None
 * means contiguous.
 */
#include "portable/ops.h"

#include "util/factory_util.h"
#include "util/shape_util.h"

et_status et_op_empty_dim_order_out(et_kernel_ctx *ctx, et_value **args) {
  const et_value *dim_order = args[1];
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (dim_order->tag == ET_TAG_LIST_INT) {
    const size_t n = dim_order->u.ilist.len;
    if (n != out->rank)
      return ET_K_FAIL(ctx, "dim_order: %zu entries for out of rank %u", n, (unsigned)out->rank);
    for (size_t i = 0; i < n; i++)
      if (et_int_list_get(dim_order, i) != out->dim_order[i])
        return ET_K_FAIL(ctx, "dim_order: entry %zu is %lld but out's dim order has %u", i,
                         (long long)et_int_list_get(dim_order, i), (unsigned)out->dim_order[i]);
    if (!et_tensor_is_contiguous(out) && !et_tensor_is_channels_last(out))
      return ET_K_FAIL(ctx, "dim_order: only contiguous and channels-last orders are supported");
  } else if (!et_tensor_is_contiguous(out)) {
    return ET_K_FAIL(ctx, "dim_order is None, so out must be contiguous");
  }
  return et_k_resize_to_size_arg(ctx, args[0], out);
}
