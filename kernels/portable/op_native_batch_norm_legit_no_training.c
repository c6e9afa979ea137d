/*
 * aten::_native_batch_norm_legit_no_training.out(Tensor input, Tensor? weight,
 *     Tensor? bias, Tensor running_mean, Tensor running_var, float momentum,
 *     float eps, *, Tensor(a!) out0, Tensor(b!) out1, Tensor(c!) out2)
 *
 * Inference batch norm over dim 1 (C) of an [N, C, ...] input:
 * out0 = x * alpha[c] + beta[c] with alpha = weight / sqrt(var + eps) and
 * beta = bias - mean * alpha, computed as PyTorch's CPU kernel does. out1
 * and out2 are empty (shape [0]), as in PyTorch. Works for contiguous
 * inputs and for inputs whose channel dim is innermost (channels-last,
 * [N, C]).
 */
#include "portable/ops.h"

#include "util/shape_util.h"

#include <math.h>

#define CHUNK 64 /* channels whose alpha/beta are computed at a time */

#define DEFINE_BN(E, T, S)                                                     \
  /* planes: x[n][c][0..inner) contiguous */                                   \
  static void bn_planes_##S(const T *x, T *y, int64_t n, int64_t c0, int64_t cn, \
                            int64_t C, int64_t inner, const ET_CT(S) *alpha,    \
                            const ET_CT(S) *beta) {                            \
    for (int64_t b = 0; b < n; b++)                                            \
      for (int64_t c = 0; c < cn; c++) {                                       \
        const int64_t off = (b * C + c0 + c) * inner;                          \
        const ET_CT(S) a = alpha[c], s = beta[c];                              \
        for (int64_t i = 0; i < inner; i++) y[off + i] = ET_ST(S, ET_LD(S, x[off + i]) * a + s); \
      }                                                                        \
  }                                                                            \
  /* channel innermost: x[p][c] for p in positions */                          \
  static void bn_cinner_##S(const T *x, T *y, int64_t positions, int64_t c0,   \
                            int64_t cn, int64_t C, const ET_CT(S) *alpha,       \
                            const ET_CT(S) *beta) {                            \
    for (int64_t p = 0; p < positions; p++) {                                  \
      const T *xp = x + p * C + c0;                                            \
      T *yp = y + p * C + c0;                                                  \
      for (int64_t c = 0; c < cn; c++) yp[c] = ET_ST(S, ET_LD(S, xp[c]) * alpha[c] + beta[c]); \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_BN)

static et_status check_param(et_kernel_ctx *ctx, const et_tensor *t, int64_t C,
                             const char *name) {
  ET_K_TRY(et_k_check_tensor(ctx, t, name));
  ET_K_TRY(et_k_check_floating(ctx, t, name));
  if (t->rank != 1 || t->sizes[0] != C)
    return ET_K_FAIL(ctx, "%s: expected shape [%lld]", name, (long long)C);
  return ET_OK;
}

static double param_at(const et_tensor *t, int64_t i) {
  return et_elem_as_double((const char *)t->data + i * (int64_t)et_dtype_size(t->dtype),
                           t->dtype);
}

et_status et_op_native_batch_norm_legit_no_training_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const et_tensor *w = args[1]->tag == ET_TAG_TENSOR ? args[1]->u.t : NULL;
  const et_tensor *b = args[2]->tag == ET_TAG_TENSOR ? args[2]->u.t : NULL;
  const et_tensor *mean = args[3]->u.t, *var = args[4]->u.t;
  const double eps = args[6]->u.d;
  et_tensor *out = args[7]->u.t, *out1 = args[8]->u.t, *out2 = args[9]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "input"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out0"));
  ET_K_TRY(et_k_check_floating(ctx, in, "input"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", out, "out0"));
  ET_K_TRY(et_k_check_rank(ctx, in, 2, ET_MAX_RANK, "input"));
  ET_K_TRY(et_k_check_same_dim_order(ctx, in, "input", out, "out0"));
  const int64_t C = in->sizes[1];
  ET_K_TRY(check_param(ctx, mean, C, "running_mean"));
  ET_K_TRY(check_param(ctx, var, C, "running_var"));
  if (w) ET_K_TRY(check_param(ctx, w, C, "weight"));
  if (b) ET_K_TRY(check_param(ctx, b, C, "bias"));

  const int64_t N = in->sizes[0];
  int64_t inner = 1;
  for (uint32_t d = 2; d < in->rank; d++) inner *= in->sizes[d];
  const bool planes = et_tensor_is_contiguous(in) && inner > 1;
  const bool cinner = in->strides[1] == 1 &&
                      (in->rank == 2 || et_tensor_is_channels_last(in) ||
                       et_tensor_is_contiguous(in));
  if (!planes && !cinner)
    return ET_K_FAIL(ctx, "input: only contiguous and channels-last dim orders are supported");
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out0"));
  const int64_t empty = 0;
  if (out1->rank != 1 || out2->rank != 1)
    return ET_K_FAIL(ctx, "out1/out2: expected rank-1 (empty) tensors");
  ET_K_TRY(et_k_resize(ctx, out1, &empty, 1, "out1"));
  ET_K_TRY(et_k_resize(ctx, out2, &empty, 1, "out2"));
  if (et_tensor_numel(in) == 0) return ET_OK;

  switch (in->dtype) {
#define CASE_BN(E, T, S)                                                       \
  case E: {                                                                    \
    ET_CT(S) alpha[CHUNK], beta[CHUNK];                                        \
    for (int64_t c0 = 0; c0 < C; c0 += CHUNK) {                                \
      const int64_t cn = C - c0 < CHUNK ? C - c0 : CHUNK;                      \
      for (int64_t c = 0; c < cn; c++) {                                       \
        const ET_CT(S) v = (ET_CT(S))param_at(var, c0 + c) + (ET_CT(S))eps;    \
        const ET_CT(S) inv = (ET_CT(S))1 / (ET_CT(S))sqrt((double)v);          \
        const ET_CT(S) g = w ? (ET_CT(S))param_at(w, c0 + c) : (ET_CT(S))1;    \
        const ET_CT(S) bb = b ? (ET_CT(S))param_at(b, c0 + c) : (ET_CT(S))0;   \
        alpha[c] = inv * g;                                                    \
        beta[c] = bb - (ET_CT(S))param_at(mean, c0 + c) * alpha[c];            \
      }                                                                        \
      if (planes)                                                              \
        bn_planes_##S((const T *)in->data, (T *)out->data, N, c0, cn, C, inner, alpha, beta); \
      else                                                                     \
        bn_cinner_##S((const T *)in->data, (T *)out->data, N * inner, c0, cn, C, alpha, beta); \
    }                                                                          \
    break;                                                                     \
  }
    ET_FOREACH_FLOATHBF16(CASE_BN)
  default:
    break;
  }
  return ET_OK;
}
