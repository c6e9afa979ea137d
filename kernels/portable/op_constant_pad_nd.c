/*
 * aten::constant_pad_nd.out(Tensor self, SymInt[] pad, Scalar value=0, *,
 *                           Tensor(a!) out)
 *
 * Pads the last len(pad) / 2 dims: pad lists (before, after) pairs starting
 * from the last dim; negative padding crops, and a dim may not end up
 * negative. New elements are `value`, converted to self's dtype with c10's
 * overflow check (as Tensor.fill_). Every dtype, any dim order: out is
 * filled, then the kept part of self is copied into it.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/fill_util.h"
#include "util/shape_util.h"

et_status et_op_constant_pad_nd_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t pad[2 * ET_MAX_RANK];
  size_t np;
  ET_K_TRY(et_k_int_list(ctx, args[1], pad, 2 * ET_MAX_RANK, &np, "pad"));
  if (np % 2 != 0) return ET_K_FAIL(ctx, "pad: length %zu is not even", np);
  if (np / 2 > in->rank)
    return ET_K_FAIL(ctx, "pad: %zu values pad more dims than self's rank %u", np,
                     (unsigned)in->rank);
  uint8_t elem[8];
  ET_K_TRY(et_scalar_to_elem_checked(ctx, args[2], in->dtype, elem, "value"));

  const uint32_t r = in->rank;
  /* csz: the part of self that survives; skip[k]: where it starts in out */
  int64_t osz[ET_MAX_RANK], csz[ET_MAX_RANK], skip[ET_MAX_RANK], in_off = 0, out_off = 0;
  for (uint32_t d = 0; d < r; d++) {
    osz[d] = in->sizes[d];
    csz[d] = in->sizes[d];
  }
  for (size_t k = 0; k < np / 2; k++) {
    const uint32_t d = r - 1 - (uint32_t)k;
    const int64_t before = pad[2 * k], after = pad[2 * k + 1], n = in->sizes[d];
    if (before < -(int64_t)INT32_MAX || before > INT32_MAX || after < -(int64_t)INT32_MAX ||
        after > INT32_MAX)
      return ET_K_FAIL(ctx, "pad: (%lld, %lld) is out of range", (long long)before,
                       (long long)after);
    osz[d] = n + before + after;
    if (osz[d] < 0)
      return ET_K_FAIL(ctx, "pad: dim %u of size %lld padded by (%lld, %lld) would have a "
                            "negative size",
                       (unsigned)d, (long long)n, (long long)before, (long long)after);
    const int64_t skip_in = before < 0 ? -before : 0, skip_out = before > 0 ? before : 0;
    int64_t len = n - skip_in - (after < 0 ? -after : 0);
    csz[d] = len > 0 ? len : 0;
    in_off += skip_in * in->strides[d];
    skip[k] = skip_out;
  }
  ET_K_TRY(et_k_resize(ctx, out, osz, r, "out"));
  const size_t n = et_tensor_numel(out), es = et_dtype_size(out->dtype);
  if (n == 0) return ET_OK;
  et_fill_bytes(out->data, elem, es, n);
  for (uint32_t d = 0; d < r; d++)
    if (csz[d] == 0) return ET_OK; /* everything was cropped away */
  for (size_t k = 0; k < np / 2; k++) out_off += skip[k] * out->strides[r - 1 - k];
  et_copy_nd((char *)out->data + (size_t)out_off * es, out->dtype, out->strides,
             (const char *)in->data + (size_t)in_off * es, in->dtype, in->strides, r, csz,
             out->dim_order);
  return ET_OK;
}
