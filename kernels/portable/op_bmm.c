/* aten::bmm.out(Tensor self, Tensor mat2, *, Tensor(a!) out): [B,M,K] @ [B,K,N] */
#include "portable/ops.h"

#include "util/matmul_util.h"
#include "util/shape_util.h"

et_status et_bmm_out_with(et_kernel_ctx *ctx, et_value **args, et_matmul_fn mm) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_rank(ctx, a, 3, 3, "self"));
  ET_K_TRY(et_k_check_rank(ctx, b, 3, 3, "mat2"));
  if (a->sizes[0] != b->sizes[0] || a->sizes[2] != b->sizes[1])
    return ET_K_FAIL(ctx, "self [%d, %d, %d] and mat2 [%d, %d, %d] cannot be "
                          "batch-multiplied",
                     (int)a->sizes[0], (int)a->sizes[1], (int)a->sizes[2],
                     (int)b->sizes[0], (int)b->sizes[1], (int)b->sizes[2]);
  ET_K_TRY(et_matmul_check(ctx, a, "self", b, "mat2", out));
  const int64_t B = a->sizes[0], M = a->sizes[1], K = a->sizes[2], N = b->sizes[2];
  const int64_t shape[3] = {B, M, N};
  ET_K_TRY(et_k_resize(ctx, out, shape, 3, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  const int64_t es = (int64_t)et_dtype_size(a->dtype);
  for (int64_t i = 0; i < B; i++) {
    /* operands with no elements may have no storage: no arithmetic on NULL */
    const void *ai = M * K != 0 ? (const char *)a->data + i * M * K * es : a->data;
    const void *bi = K * N != 0 ? (const char *)b->data + i * K * N * es : b->data;
    mm(ctx, a->dtype, M, N, K, ai, K, bi, N, (char *)out->data + i * M * N * es, N);
  }
  return ET_OK;
}

et_status et_op_bmm_out(et_kernel_ctx *ctx, et_value **args) {
  return et_bmm_out_with(ctx, args, et_matmul_exact);
}
