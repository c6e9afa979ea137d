/* Size arguments of factories. */
#include "util/factory_util.h"

#include "util/shape_util.h"

et_status et_k_resize_to_size_arg(et_kernel_ctx *ctx, const et_value *size, et_tensor *out) {
  int64_t sizes[ET_MAX_RANK];
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, size, sizes, ET_MAX_RANK, &n, "size"));
  for (size_t i = 0; i < n; i++)
    if (sizes[i] < 0)
      return ET_K_FAIL(ctx, "size: negative size %lld at dim %zu", (long long)sizes[i], i);
  return et_k_resize(ctx, out, sizes, (uint32_t)n, "out");
}
