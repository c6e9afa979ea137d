/* Contiguous and channels-last dim orders in kernels. */
#include "util/layout_util.h"

#include "util/shape_util.h"

et_status et_k_check_default_or_channels_last(et_kernel_ctx *ctx, const et_tensor *t,
                                              const char *name) {
  if (et_k_default_or_channels_last(t)) return ET_OK;
  char order[3 * ET_MAX_RANK + 1];
  size_t k = 0;
  for (uint32_t d = 0; d < t->rank && d < ET_MAX_RANK; d++) {
    if (d) order[k++] = ',';
    const unsigned v = t->dim_order[d];
    if (v >= 10) order[k++] = (char)('0' + v / 10 % 10);
    order[k++] = (char)('0' + v % 10);
  }
  order[k] = '\0';
  return ET_K_FAIL(ctx, "%s: dim order (%s) is neither contiguous nor channels-last", name,
                   order);
}

bool et_k_flat_alike(const et_tensor *a, const et_tensor *b) {
  return et_k_same_shape(a, b) && et_k_same_dim_order(a, b);
}

void et_k_ncdhw_strides(const et_tensor *t, int64_t s[5]) {
  for (int i = 0; i < 5; i++) s[i] = 0;
  if (t->rank < 2) return;
  s[0] = t->strides[0];
  s[1] = t->strides[1];
  const uint32_t spatial = t->rank - 2 > 3 ? 3 : t->rank - 2;
  for (uint32_t i = 0; i < spatial; i++) s[2 + 3 - spatial + i] = t->strides[2 + i];
}

void et_k_nchw_strides(const et_tensor *t, int64_t s[4]) {
  const uint32_t r = t->rank;
  s[0] = r >= 4 ? t->strides[r - 4] : 0;
  s[1] = r >= 3 ? t->strides[r - 3] : 0;
  s[2] = r >= 2 ? t->strides[r - 2] : 0;
  s[3] = r >= 1 ? t->strides[r - 1] : 0;
}
