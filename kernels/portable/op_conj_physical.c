/*
 * aten::_conj_physical.out(Tensor self, *, Tensor(a!) out): the complex
 * conjugate. ComplexHalf/Float/Double: the real parts copied, the imaginary
 * parts negated (sign flipped, NaN included, as PyTorch). Every other
 * supported (real or Bool) dtype is its own conjugate: a copy, as PyTorch's
 * conj_physical. out has self's dtype and may have another dim order.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

#include <string.h>

/* The real dtype of a complex one's parts, or -1. */
static int part_dtype(int dtype) {
  switch (dtype) {
  case ET_COMPLEX_HALF: return ET_HALF;
  case ET_COMPLEX_FLOAT: return ET_FLOAT;
  case ET_COMPLEX_DOUBLE: return ET_DOUBLE;
  default: return -1;
  }
}

static et_status conj_complex(et_kernel_ctx *ctx, const et_tensor *a, et_tensor *out,
                              int part) {
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  if (a->rank + 1 > ET_MAX_RANK)
    return ET_K_FAIL(ctx, "self: rank %u is too large", (unsigned)a->rank);
  ET_K_TRY(et_k_resize_like(ctx, out, a, "out"));
  const size_t n = et_tensor_numel(out);
  if (n == 0) return ET_OK;
  if (!a->data || !out->data) return ET_K_FAIL(ctx, "self or out has no data");
  /* Copy as pairs of reals: a trailing dim of 2 on both sides. */
  int64_t sizes[ET_MAX_RANK], sst[ET_MAX_RANK], dst[ET_MAX_RANK];
  uint8_t order[ET_MAX_RANK];
  for (uint32_t d = 0; d < a->rank; d++) {
    sizes[d] = a->sizes[d];
    sst[d] = a->strides[d] * 2;
    dst[d] = out->strides[d] * 2;
    order[d] = out->dim_order[d];
  }
  sizes[a->rank] = 2;
  sst[a->rank] = dst[a->rank] = 1;
  order[a->rank] = (uint8_t)a->rank;
  if (!et_copy_nd(out->data, part, dst, a->data, part, sst, a->rank + 1, sizes, order))
    return ET_K_FAIL(ctx, "out: copy failed");
  /* out is dense: every element's imaginary part is the odd real. */
  const size_t es = et_dtype_size(part);
  unsigned char *p = (unsigned char *)out->data;
  for (size_t i = 0; i < n; i++) {
    unsigned char *im = p + (2 * i + 1) * es;
    if (es == 2) {
      uint16_t b;
      memcpy(&b, im, 2);
      b ^= 0x8000u;
      memcpy(im, &b, 2);
    } else if (es == 4) {
      uint32_t b;
      memcpy(&b, im, 4);
      b ^= 0x80000000u;
      memcpy(im, &b, 4);
    } else {
      uint64_t b;
      memcpy(&b, im, 8);
      b ^= 0x8000000000000000u;
      memcpy(im, &b, 8);
    }
  }
  return ET_OK;
}

et_status et_op_conj_physical_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  const int part = part_dtype(a->dtype);
  if (part >= 0) return conj_complex(ctx, a, out, part);
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, a, "self", out, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, a, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  if (!et_copy_tensor(out, a)) return ET_K_FAIL(ctx, "out: copy failed");
  return ET_OK;
}
