/* Dim orders in kernels: strides of [N, C, spatial...] tensors. */
#include "util/layout_util.h"

#include "util/shape_util.h"

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
