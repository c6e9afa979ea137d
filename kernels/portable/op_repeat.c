/*
 * aten::repeat.out(Tensor self, SymInt[] repeats, *, Tensor(a!) out)
 *
 * self tiled repeats[i] times along each dim; repeats may have more
 * entries than self has dims (self then gets leading dims of size 1).
 *
 * Along dim i, out index r * size + s holds self[s]: the copy is one
 * strided walk with a (repeat, element) pair of dims per dim, the repeat
 * dim reading with stride 0.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_op_repeat_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t rep[ET_MAX_RANK];
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, args[1], rep, ET_MAX_RANK, &n, "repeats"));
  if (n < in->rank)
    return ET_K_FAIL(ctx, "repeats: %zu entries, fewer than the %u dims of self", n,
                     (unsigned)in->rank);
  const size_t lead = n - in->rank;
  int64_t sizes[ET_MAX_RANK];
  for (size_t i = 0; i < n; i++) {
    if (rep[i] < 0 || rep[i] > INT32_MAX)
      return ET_K_FAIL(ctx, "repeats: %lld at dim %zu is out of range", (long long)rep[i], i);
    sizes[i] = rep[i] * (i < lead ? 1 : in->sizes[i - lead]);
  }
  ET_K_TRY(et_k_resize(ctx, out, sizes, (uint32_t)n, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;

  /* walk dims (outermost first): size, out stride, self stride */
  int64_t wsz[2 * ET_MAX_RANK], wo[2 * ET_MAX_RANK], wi[2 * ET_MAX_RANK];
  uint32_t w = 0;
  for (size_t i = 0; i < n; i++) {
    const int64_t s = i < lead ? 1 : in->sizes[i - lead];
    if (rep[i] > 1) {
      wsz[w] = rep[i];
      wo[w] = s * out->strides[i];
      wi[w++] = 0;
    }
    if (s > 1) {
      wsz[w] = s;
      wo[w] = out->strides[i];
      wi[w++] = in->strides[i - lead];
    }
  }
  /* et_copy_nd takes ET_MAX_RANK dims: loop over any outer surplus */
  const uint32_t outer = w > ET_MAX_RANK ? w - ET_MAX_RANK : 0;
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  int64_t idx[ET_MAX_RANK] = {0}, ooff = 0, ioff = 0;
  for (;;) {
    et_copy_nd((char *)out->data + ooff * es, out->dtype, wo + outer,
               (const char *)in->data + ioff * es, in->dtype, wi + outer, w - outer, wsz + outer,
               NULL);
    uint32_t d = outer;
    while (d-- > 0) {
      if (++idx[d] < wsz[d]) {
        ooff += wo[d];
        ioff += wi[d];
        break;
      }
      idx[d] = 0;
      ooff -= wo[d] * (wsz[d] - 1);
      ioff -= wi[d] * (wsz[d] - 1);
    }
    if (d == UINT32_MAX) break;
  }
  return ET_OK;
}
