/*
 * aten::repeat_interleave.Tensor_out(Tensor repeats, *,
 *                                    SymInt? output_size=None,
 *                                    Tensor(a!) out)
 *
 * For a 1-D Long or Int `repeats`, out (same dtype, 1-D) holds i repeated
 * repeats[i] times: [1, 2, 0] gives [0, 1, 1]. Repeats must be
 * non-negative; output_size, when given, must equal their sum. The length
 * depends on the data: out must be DYNAMIC_BOUND with room for it (or
 * STATIC of exactly that length).
 */
#include "portable/ops.h"

#include "util/index_util.h"
#include "util/shape_util.h"

et_status et_op_repeat_interleave_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *rep = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, rep, "repeats"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_index_check_long_int(ctx, rep, "repeats"));
  ET_K_TRY(et_k_check_rank(ctx, rep, 1, 1, "repeats"));
  ET_K_TRY(et_k_check_same_dtype(ctx, rep, "repeats", out, "out"));
  ET_K_TRY(et_k_check_rank(ctx, out, 1, 1, "out"));
  const int64_t n = rep->sizes[0], st = rep->strides[0];
  int64_t total = 0;
  for (int64_t i = 0; i < n; i++) {
    const int64_t r = et_index_at(rep, i * st);
    if (r < 0)
      return ET_K_FAIL(ctx, "repeats: value %lld (element %lld) is negative", (long long)r,
                       (long long)i);
    if (r > INT32_MAX - total)
      return ET_K_FAIL(ctx, "repeats: the sum exceeds %d", INT32_MAX);
    total += r;
  }
  if (args[1]->tag == ET_TAG_INT && args[1]->u.i != total)
    return ET_K_FAIL(ctx, "output_size %lld does not match the sum of repeats %lld",
                     (long long)args[1]->u.i, (long long)total);
  ET_K_TRY(et_k_resize(ctx, out, &total, 1, "out"));
  const int64_t os = out->strides[0];
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++) {
    const int64_t r = et_index_at(rep, i * st);
    if (out->dtype == ET_LONG)
      for (int64_t j = 0; j < r; j++, k++) ((int64_t *)out->data)[k * os] = i;
    else
      for (int64_t j = 0; j < r; j++, k++) ((int32_t *)out->data)[k * os] = (int32_t)i;
  }
  return ET_OK;
}
