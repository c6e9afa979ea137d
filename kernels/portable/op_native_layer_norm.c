/*
 * aten::native_layer_norm.out(Tensor input, SymInt[] normalized_shape,
 *     Tensor? weight, Tensor? bias, float eps, *,
 *     Tensor(a!) out0, Tensor(b!) out1, Tensor(c!) out2)
 *
 * Normalizes over the trailing dims given by normalized_shape:
 * out0 = (x - mean) * rstd * weight + bias, out1 = mean, out2 = rstd
 * (both shaped like input with the normalized dims set to 1). Statistics are
 * computed in float (double for Double) with a two-pass variance over eight
 * partial sums; out0 is
 * formed as PyTorch's CPU kernel does, (x * rstd - mean * rstd) * w + b.
 * Contiguous tensors only.
 */
#include "portable/ops.h"

#include "util/shape_util.h"
#include "util/vec_util.h"

#include <math.h>

#define SQRT_f32 sqrtf
#define SQRT_f16 sqrtf
#define SQRT_bf16 sqrtf
#define SQRT_f64 sqrt

/* Sums over eight interleaved partial sums combined pairwise at the end
 * (the order of et_sum_f32, which Float uses: vectorized), so the loops are
 * not bound by add latency; the rounding is no worse than a sequential sum. */
#define DEFINE_LN_SUMS(E, T, S)                                                \
  static ET_CT(S) ln_sum_##S(const T *x, int64_t m, ET_CT(S) mean, bool sq) {  \
    typedef ET_CT(S) acc_t;                                                    \
    const int64_t m8 = m - m % 8;                                              \
    acc_t p[8] = {0};                                                          \
    for (int64_t i = 0; i < m8; i += 8)                                        \
      for (int l = 0; l < 8; l++) {                                            \
        const acc_t d = ET_LD(S, x[i + l]) - mean;                             \
        p[l] += sq ? d * d : d;                                                \
      }                                                                        \
    acc_t s = ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7])); \
    for (int64_t i = m8; i < m; i++) {                                         \
      const acc_t d = ET_LD(S, x[i]) - mean;                                   \
      s += sq ? d * d : d;                                                     \
    }                                                                          \
    return s;                                                                  \
  }
DEFINE_LN_SUMS(, double, f64)
DEFINE_LN_SUMS(, et_half, f16)
DEFINE_LN_SUMS(, et_bf16, bf16)
static float ln_sum_f32(const float *x, int64_t m, float mean, bool sq) {
  return sq ? et_sum_sqdev_f32(x, (size_t)m, mean) : et_sum_f32(x, (size_t)m);
}

/* y = (x * rstd + shift) * w + b over a row of Float, vectorized. */
static void ln_scale_f32(const float *x, float *y, const float *w, const float *b,
                         int64_t m, float rstd, float shift) {
  int64_t i = 0;
#ifdef ET_HAVE_VEC
  const et_vf32 r = et_vf32_splat(rstd), sh = et_vf32_splat(shift);
  for (; i + 4 <= m; i += 4) {
    et_vf32 v = et_vf32_load(x + i) * r + sh;
    if (w) v = v * et_vf32_load(w + i);
    if (b) v = v + et_vf32_load(b + i);
    et_vf32_store(y + i, v);
  }
#endif
  for (; i < m; i++) {
    float v = x[i] * rstd + shift;
    if (w) v = v * w[i];
    if (b) v = v + b[i];
    y[i] = v;
  }
}

#define DEFINE_LN_SCALE(E, T, S)                                               \
  static void ln_scale_##S(const T *x, T *y, const T *w, const T *b, int64_t m, \
                           ET_CT(S) rstd, ET_CT(S) shift) {                    \
    for (int64_t i = 0; i < m; i++) {                                          \
      ET_CT(S) v = ET_LD(S, x[i]) * rstd + shift;                              \
      if (w) v = v * ET_LD(S, w[i]);                                           \
      if (b) v = v + ET_LD(S, b[i]);                                           \
      y[i] = ET_ST(S, v);                                                      \
    }                                                                          \
  }
DEFINE_LN_SCALE(, double, f64)
DEFINE_LN_SCALE(, et_half, f16)
DEFINE_LN_SCALE(, et_bf16, bf16)

#define DEFINE_LN_ROW(E, T, S)                                                 \
  static void ln_row_##S(const T *x, T *y, const T *w, const T *b, int64_t m,  \
                         double eps, ET_CT(S) *out_mean, ET_CT(S) *out_rstd) {  \
    typedef ET_CT(S) acc_t;                                                    \
    const acc_t mean = ln_sum_##S(x, m, 0, false) / (acc_t)m;                  \
    acc_t var = ln_sum_##S(x, m, mean, true) / (acc_t)m;                       \
    if (var < 0) var = 0;                                                      \
    const acc_t rstd = (acc_t)1 / SQRT_##S(var + (acc_t)eps);                  \
    ln_scale_##S(x, y, w, b, m, rstd, -mean * rstd);                           \
    *out_mean = mean;                                                          \
    *out_rstd = rstd;                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_LN_ROW)

static et_status check_param(et_kernel_ctx *ctx, const et_value *v, const et_tensor *in,
                             const int64_t *nshape, size_t nl, const char *name) {
  if (v->tag != ET_TAG_TENSOR) return ET_OK;
  const et_tensor *t = v->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, t, name));
  ET_K_TRY(et_k_check_same_dtype(ctx, t, name, in, "input"));
  ET_K_TRY(et_k_check_contiguous(ctx, t, name));
  bool ok = t->rank == nl;
  for (size_t i = 0; ok && i < nl; i++) ok = t->sizes[i] == nshape[i];
  if (!ok) {
    char s1[96], s2[96];
    et_k_tensor_shape_str(s1, sizeof s1, t);
    et_k_shape_str(s2, sizeof s2, nshape, (uint32_t)nl);
    return ET_K_FAIL(ctx, "%s has shape %s, expected normalized_shape %s", name, s1, s2);
  }
  return ET_OK;
}

et_status et_op_native_layer_norm_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const double eps = args[4]->u.d;
  et_tensor *out = args[5]->u.t, *mean_out = args[6]->u.t, *rstd_out = args[7]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "input"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out0"));
  ET_K_TRY(et_k_check_tensor(ctx, mean_out, "out1"));
  ET_K_TRY(et_k_check_tensor(ctx, rstd_out, "out2"));
  ET_K_TRY(et_k_check_floating(ctx, in, "input"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", out, "out0"));
  ET_K_TRY(et_k_check_floating(ctx, mean_out, "out1"));
  ET_K_TRY(et_k_check_floating(ctx, rstd_out, "out2"));
  ET_K_TRY(et_k_check_contiguous(ctx, in, "input"));
  ET_K_TRY(et_k_check_contiguous(ctx, out, "out0"));
  int64_t nshape[ET_MAX_RANK];
  size_t nl;
  ET_K_TRY(et_k_int_list(ctx, args[1], nshape, ET_MAX_RANK, &nl, "normalized_shape"));
  if (nl == 0 || nl > in->rank)
    return ET_K_FAIL(ctx, "normalized_shape: expected 1 to %u dims, got %zu",
                     (unsigned)in->rank, nl);
  const uint32_t axis = in->rank - (uint32_t)nl;
  for (size_t i = 0; i < nl; i++)
    if (in->sizes[axis + i] != nshape[i]) {
      char s1[96], s2[96];
      et_k_tensor_shape_str(s1, sizeof s1, in);
      et_k_shape_str(s2, sizeof s2, nshape, (uint32_t)nl);
      return ET_K_FAIL(ctx, "normalized_shape %s does not match the trailing dims of input %s",
                       s2, s1);
    }
  ET_K_TRY(check_param(ctx, args[2], in, nshape, nl, "weight"));
  ET_K_TRY(check_param(ctx, args[3], in, nshape, nl, "bias"));
  ET_K_TRY(et_k_check_contiguous(ctx, mean_out, "out1"));
  ET_K_TRY(et_k_check_contiguous(ctx, rstd_out, "out2"));

  int64_t stat_sizes[ET_MAX_RANK];
  int64_t rows = 1, m = 1;
  for (uint32_t d = 0; d < in->rank; d++) {
    stat_sizes[d] = d < axis ? in->sizes[d] : 1;
    if (d < axis) rows *= in->sizes[d];
    else m *= in->sizes[d];
  }
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out0"));
  ET_K_TRY(et_k_resize(ctx, mean_out, stat_sizes, in->rank, "out1"));
  ET_K_TRY(et_k_resize(ctx, rstd_out, stat_sizes, in->rank, "out2"));
  if (rows == 0) return ET_OK;
  if (m == 0) { /* nothing to normalize: the statistics are NaN, as 0/0 */
    const double nan = NAN;
    for (int64_t r = 0; r < rows; r++) {
      et_convert((char *)mean_out->data + r * (int64_t)et_dtype_size(mean_out->dtype),
                 mean_out->dtype, 1, &nan, ET_DOUBLE, 1, 1);
      et_convert((char *)rstd_out->data + r * (int64_t)et_dtype_size(rstd_out->dtype),
                 rstd_out->dtype, 1, &nan, ET_DOUBLE, 1, 1);
    }
    return ET_OK;
  }

  const void *w = args[2]->tag == ET_TAG_TENSOR ? args[2]->u.t->data : NULL;
  const void *b = args[3]->tag == ET_TAG_TENSOR ? args[3]->u.t->data : NULL;
  const size_t mes = et_dtype_size(mean_out->dtype), res = et_dtype_size(rstd_out->dtype);
  switch (in->dtype) {
#define CASE_LN(E, T, S)                                                       \
  case E:                                                                      \
    for (int64_t r = 0; r < rows; r++) {                                       \
      ET_CT(S) mean, rstd;                                                     \
      ln_row_##S((const T *)in->data + r * m, (T *)out->data + r * m, (const T *)w, \
                 (const T *)b, m, eps, &mean, &rstd);                          \
      const int acc_dt = sizeof(mean) == sizeof(double) ? ET_DOUBLE : ET_FLOAT; \
      et_convert((char *)mean_out->data + r * (int64_t)mes, mean_out->dtype, 1, &mean, \
                 acc_dt, 1, 1);                                                \
      et_convert((char *)rstd_out->data + r * (int64_t)res, rstd_out->dtype, 1, &rstd, \
                 acc_dt, 1, 1);                                                \
    }                                                                          \
    break;
    ET_FOREACH_FLOATHBF16(CASE_LN)
  default:
    break;
  }
  return ET_OK;
}
