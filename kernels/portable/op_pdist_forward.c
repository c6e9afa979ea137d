/*
 * aten::_pdist_forward.out(Tensor self, float p=2., *, Tensor(a!) out)
 *
 * p-norm distances between every pair of rows i < j of self [N, M], in
 * row-major pair order: out [N * (N - 1) / 2]. p >= 0 (inf allowed); see
 * distance_util.h. Floating dtypes, any strides.
 */
#include "portable/ops.h"

#include "util/scalar_util.h"

#include "util/distance_util.h"
#include "util/shape_util.h"

et_status et_op_pdist_forward_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const double p = args[1]->u.d;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, in, "self"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  ET_K_TRY(et_k_check_rank(ctx, in, 2, 2, "self"));
  if (!(p >= 0)) return ET_K_FAIL(ctx, "p: only non-negative values are supported, got %s", et_double_str((char[ET_DOUBLE_STR_CAP]){0}, ET_DOUBLE_STR_CAP, p));
  const int64_t N = in->sizes[0], M = in->sizes[1];
  const int64_t pairs = N > 1 ? N * (N - 1) / 2 : 0;
  ET_K_TRY(et_k_resize(ctx, out, &pairs, 1, "out"));
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  const int64_t sr = in->strides[0], sc = in->strides[1], os = out->strides[0];
  const char *x = (const char *)in->data;
  char *o = (char *)out->data;
  int64_t k = 0;
  for (int64_t i = 0; i + 1 < N; i++) {
    et_distance_rows(in->dtype, p, x + i * sr * es, sc, x + (i + 1) * sr * es, sr, sc,
                     N - 1 - i, M, o + k * os * es, os);
    k += N - 1 - i;
  }
  return ET_OK;
}
