/* View size inference. */
#include "util/view_util.h"

#include "util/shape_util.h"

et_status et_view_sizes(et_kernel_ctx *ctx, const et_tensor *in, const et_value *size,
                        int64_t *sizes, uint32_t *rank) {
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, size, sizes, ET_MAX_RANK, &n, "size"));
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < n; i++) {
    if (sizes[i] == -1) {
      if (infer >= 0) return ET_K_FAIL(ctx, "size: only one dimension can be -1");
      infer = (int64_t)i;
    } else if (sizes[i] < 0) {
      return ET_K_FAIL(ctx, "size: invalid size %lld at dim %zu", (long long)sizes[i], i);
    } else {
      if (sizes[i] != 0 && known > INT64_MAX / sizes[i])
        return ET_K_FAIL(ctx, "size: element count overflows");
      known *= sizes[i];
    }
  }
  const int64_t numel = (int64_t)et_tensor_numel(in);
  if (infer >= 0) {
    if (known == 0 || numel % known != 0) {
      char s[96];
      et_k_shape_str(s, sizeof s, sizes, (uint32_t)n);
      return ET_K_FAIL(ctx, "size %s (with -1) is invalid for %lld elements", s,
                       (long long)numel);
    }
    sizes[infer] = numel / known;
    known = numel;
  }
  if (known != numel) {
    char s[96];
    et_k_shape_str(s, sizeof s, sizes, (uint32_t)n);
    return ET_K_FAIL(ctx, "size %s is invalid for self with %lld elements", s,
                     (long long)numel);
  }
  *rank = (uint32_t)n;
  return ET_OK;
}
