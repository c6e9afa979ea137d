/*
 * aten::copy_(Tensor(a!) self, Tensor src, bool non_blocking=False) -> Tensor(a!)
 * aten::copy.out(Tensor self, Tensor src, bool non_blocking=False, *,
 *                Tensor(a!) out)
 *
 * Writes src (broadcast to self's shape, converted to self's dtype) into
 * self; this is how mutable buffers are written back. The return slot is
 * made to refer to self, as upstream's kernel returns self.
 *
 * copy.out is the functional form: out gets self's shape and dtype and
 * holds src broadcast to that shape and converted to that dtype (self's
 * values are not used). non_blocking means nothing on a CPU.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

#include <string.h>

et_status et_op_copy_(et_kernel_ctx *ctx, et_value **args) {
  et_tensor *self = args[0]->u.t;
  const et_tensor *src = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, src, "src"));
  ET_K_TRY(et_k_check_writable(ctx, self, "self"));
  int64_t strides[ET_MAX_RANK], sizes[ET_MAX_RANK];
  if (!et_broadcast_strides(src, self->rank, self->sizes, strides)) {
    char s1[96], s2[96];
    et_k_tensor_shape_str(s1, sizeof s1, src);
    et_k_tensor_shape_str(s2, sizeof s2, self);
    return ET_K_FAIL(ctx, "src %s does not broadcast to self %s", s1, s2);
  }
  et_k_sizes64(self, sizes);
  /* copying a tensor onto itself (the write-back of a buffer that was
   * updated in place) is a no-op */
  const bool same = self->data == src->data && self->dtype == src->dtype &&
                    et_k_same_shape(self, src) &&
                    (self->rank == 0 ||
                     memcmp(self->strides, src->strides, self->rank * sizeof(int64_t)) == 0);
  if (!same)
    et_copy_nd(self->data, self->dtype, self->strides, src->data, src->dtype, strides,
               self->rank, sizes, self->dim_order);
  if (args[3] != args[0] && args[3]->tag == ET_TAG_TENSOR) args[3]->u.t = self;
  return ET_OK;
}

et_status et_op_copy_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t, *src = args[1]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, src, "src"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", out, "out"));
  int64_t strides[ET_MAX_RANK], sizes[ET_MAX_RANK];
  if (!et_broadcast_strides(src, self->rank, self->sizes, strides)) {
    char s1[96], s2[96];
    et_k_tensor_shape_str(s1, sizeof s1, src);
    et_k_tensor_shape_str(s2, sizeof s2, self);
    return ET_K_FAIL(ctx, "src %s does not broadcast to self %s", s1, s2);
  }
  ET_K_TRY(et_k_resize_like(ctx, out, self, "out"));
  et_k_sizes64(self, sizes);
  et_copy_nd(out->data, out->dtype, out->strides, src->data, src->dtype, strides, out->rank,
             sizes, out->dim_order);
  return ET_OK;
}
