/* aten::mm.out(Tensor self, Tensor mat2, *, Tensor(a!) out): [M,K] @ [K,N] */
#include "portable/ops.h"

#include "util/matmul_util.h"
#include "util/shape_util.h"

et_status et_mm_out_with(et_kernel_ctx *ctx, et_value **args, et_matmul_fn mm) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_rank(ctx, a, 2, 2, "self"));
  ET_K_TRY(et_k_check_rank(ctx, b, 2, 2, "mat2"));
  if (a->sizes[1] != b->sizes[0])
    return ET_K_FAIL(ctx, "self [%d, %d] and mat2 [%d, %d] cannot be multiplied",
                     (int)a->sizes[0], (int)a->sizes[1], (int)b->sizes[0],
                     (int)b->sizes[1]);
  ET_K_TRY(et_matmul_check(ctx, a, "self", b, "mat2", out));
  const int64_t M = a->sizes[0], K = a->sizes[1], N = b->sizes[1];
  const int64_t shape[2] = {M, N};
  ET_K_TRY(et_k_resize(ctx, out, shape, 2, "out"));
  mm(ctx, a->dtype, M, N, K, a->data, K, b->data, N, out->data, N);
  return ET_OK;
}

et_status et_op_mm_out(et_kernel_ctx *ctx, et_value **args) {
  return et_mm_out_with(ctx, args, et_matmul_exact);
}
