/*
 * aten::_softmax.out: float32 rows along the last dimension of a contiguous
 * tensor run the CPU backend's vector softmax row (xnn_vec.h), the rows
 * split over the parallel-for hook; every other case (other dtypes, another
 * dim, other layouts, half_to_float) is the portable kernel's.
 */
#include "optimized/optimized.h"

#include "portable/ops.h"
#include "util/shape_util.h"
#include "xnn_vec.h"

typedef struct softmax_job {
  const float *x;
  float *y;
  size_t len;
  et_xnn_softmax_fn *row;
} softmax_job;

static void softmax_rows(void *ctx, size_t begin, size_t end) {
  const softmax_job *J = (const softmax_job *)ctx;
  for (size_t r = begin; r < end; r++) J->row(J->len, J->x + r * J->len, J->y + r * J->len);
}

et_status et_opt_softmax_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  const int64_t rank = in->rank;
  const int64_t d = args[1]->u.i;
  const bool last = rank > 0 && (d == rank - 1 || d == -1);
  if (in->dtype != ET_FLOAT || out->dtype != ET_FLOAT || args[2]->u.b || !last ||
      !et_tensor_is_contiguous(in))
    return et_op_softmax_out(ctx, args);
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  if (!et_tensor_is_contiguous(out)) return et_op_softmax_out(ctx, args);
  const size_t len = (size_t)in->sizes[rank - 1];
  const size_t numel = et_tensor_numel(in);
  if (numel == 0 || len == 0) return ET_OK;
  softmax_job J = {(const float *)in->data, (float *)out->data, len, et_xnn_softmax_pick()};
  et_parallel_for(ctx->parallel, numel / len, (1u << 12) / len + 1, softmax_rows, &J);
  return ET_OK;
}
