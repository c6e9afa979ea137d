/*
 * aten::_cdist_forward.out(Tensor x1, Tensor x2, float p, int? compute_mode,
 *                          *, Tensor(a!) out)
 *
 * p-norm distances between the rows of x1 [B..., P, M] and x2 [B..., R, M]:
 * out [B..., P, R], batch dims broadcast. p >= 0 (inf allowed); see
 * distance_util.h for the cases. compute_mode (None, 0, 1 or 2) chooses,
 * in PyTorch, whether p = 2 may use a matrix-product formula; edgetorch
 * always computes directly, which is at least as accurate. Floating dtypes,
 * any strides.
 */
#include "portable/ops.h"

#include "util/scalar_util.h"

#include "util/broadcast_util.h"
#include "util/distance_util.h"
#include "util/shape_util.h"

#include <math.h>

et_status et_op_cdist_forward_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *x1 = args[0]->u.t, *x2 = args[1]->u.t;
  const double p = args[2]->u.d;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, x1, "x1"));
  ET_K_TRY(et_k_check_tensor(ctx, x2, "x2"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, x1, "x1"));
  ET_K_TRY(et_k_check_same_dtype(ctx, x1, "x1", x2, "x2"));
  ET_K_TRY(et_k_check_same_dtype(ctx, x1, "x1", out, "out"));
  ET_K_TRY(et_k_check_rank(ctx, x1, 2, ET_MAX_RANK, "x1"));
  ET_K_TRY(et_k_check_rank(ctx, x2, 2, ET_MAX_RANK, "x2"));
  if (!(p >= 0)) return ET_K_FAIL(ctx, "p: only non-negative values are supported, got %s", et_double_str((char[ET_DOUBLE_STR_CAP]){0}, ET_DOUBLE_STR_CAP, p));
  if (args[3]->tag == ET_TAG_INT && (args[3]->u.i < 0 || args[3]->u.i > 2))
    return ET_K_FAIL(ctx, "compute_mode: expected None, 0, 1 or 2, got %lld",
                     (long long)args[3]->u.i);
  const uint32_t r1 = x1->rank, r2 = x2->rank;
  const int64_t M = x1->sizes[r1 - 1];
  if (x2->sizes[r2 - 1] != M)
    return ET_K_FAIL(ctx, "x1 and x2 must have the same number of columns (%lld and %lld)",
                     (long long)M, (long long)x2->sizes[r2 - 1]);
  const int64_t P = x1->sizes[r1 - 2], R = x2->sizes[r2 - 2];

  /* broadcast the batch dims */
  const uint32_t nb = (r1 > r2 ? r1 : r2) - 2;
  int64_t osz[ET_MAX_RANK], s1[ET_MAX_RANK], s2[ET_MAX_RANK], so[ET_MAX_RANK];
  for (uint32_t k = 0; k < nb; k++) {
    const uint32_t d = nb - 1 - k; /* k counts from the innermost batch dim */
    const int64_t a = k < r1 - 2 ? x1->sizes[r1 - 3 - k] : 1;
    const int64_t b = k < r2 - 2 ? x2->sizes[r2 - 3 - k] : 1;
    if (a != b && a != 1 && b != 1) {
      char sa[96], sb[96];
      et_k_tensor_shape_str(sa, sizeof sa, x1);
      et_k_tensor_shape_str(sb, sizeof sb, x2);
      return ET_K_FAIL(ctx, "batch dims of x1 %s and x2 %s cannot be broadcast together", sa,
                       sb);
    }
    osz[d] = a == 1 ? b : a;
    s1[d] = (k < r1 - 2 && a != 1) ? x1->strides[r1 - 3 - k] : 0;
    s2[d] = (k < r2 - 2 && b != 1) ? x2->strides[r2 - 3 - k] : 0;
  }
  osz[nb] = P;
  osz[nb + 1] = R;
  ET_K_TRY(et_k_resize(ctx, out, osz, nb + 2, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  for (uint32_t d = 0; d < nb; d++) so[d] = out->strides[d];
  const int64_t *strides[3] = {so, s1, s2};
  et_nd_iter it;
  et_nd_iter_init(&it, nb, osz, 3, strides, NULL);
  const int64_t es = (int64_t)et_dtype_size(x1->dtype);
  const int64_t s1p = x1->strides[r1 - 2], s1m = x1->strides[r1 - 1];
  const int64_t s2r = x2->strides[r2 - 2], s2m = x2->strides[r2 - 1];
  const int64_t sop = out->strides[nb], sor = out->strides[nb + 1];
  do {
    for (int64_t j = 0; j < it.inner; j++) {
      const char *a = (const char *)x1->data + (it.off[1] + j * it.inner_stride[1]) * es;
      const char *b = (const char *)x2->data + (it.off[2] + j * it.inner_stride[2]) * es;
      char *o = (char *)out->data + (it.off[0] + j * it.inner_stride[0]) * es;
      for (int64_t i = 0; i < P; i++)
        et_distance_rows(x1->dtype, p, a + i * s1p * es, s1m, b, s2r, s2m, R, M,
                         o + i * sop * es, sor);
    }
  } while (et_nd_iter_next(&it));
  return ET_OK;
}
