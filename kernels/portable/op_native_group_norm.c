/*
 * aten::native_group_norm.out(Tensor input, Tensor? weight, Tensor? bias,
 *     SymInt N, SymInt C, SymInt HxW, int group, float eps, *,
 *     Tensor(a!) out0, Tensor(b!) out1, Tensor(c!) out2)
 *
 * Group normalization of a contiguous [N, C, *] input (N * C * HxW
 * elements): each of the `group` groups of C / group channels of a sample
 * is normalized by its own mean and biased variance; then, per channel c,
 * y = x * s + (b[c] - s * mean) with s = rstd * w[c], as PyTorch's CPU
 * kernel. out1 = mean and out2 = rstd = 1 / sqrt(max(var, 0) + eps), both
 * [N, group]. Statistics accumulate in double (moments_util.h); the rest is
 * computed in float (double for Double). weight and bias, when given, hold
 * C values of any floating dtype.
 */
#include "portable/ops.h"

#include "util/moments_util.h"
#include "util/shape_util.h"

#include <math.h>

static et_status check_param(et_kernel_ctx *ctx, const et_value *v, int64_t C,
                             const char *name) {
  if (v->tag != ET_TAG_TENSOR) return ET_OK;
  const et_tensor *t = v->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, t, name));
  ET_K_TRY(et_k_check_floating(ctx, t, name));
  if (t->rank != 1 || t->sizes[0] != C)
    return ET_K_FAIL(ctx, "%s: expected a vector of %lld values (one per channel)", name,
                     (long long)C);
  return ET_OK;
}

static inline double param_at(const et_value *v, int64_t i, double dflt) {
  if (v->tag != ET_TAG_TENSOR) return dflt;
  const et_tensor *t = v->u.t;
  return et_elem_as_double((const char *)t->data + i * t->strides[0] * (int64_t)et_dtype_size(t->dtype),
                           t->dtype);
}

#define DEFINE_GN_APPLY(E, T, S)                                               \
  static void gn_apply_##S(const T *x, T *y, int64_t hw, ET_CT(S) scale, ET_CT(S) bias) { \
    for (int64_t i = 0; i < hw; i++) y[i] = ET_ST(S, ET_LD(S, x[i]) * scale + bias); \
  }
ET_FOREACH_FLOATHBF16(DEFINE_GN_APPLY)

et_status et_op_native_group_norm_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const int64_t N = args[3]->u.i, C = args[4]->u.i, HxW = args[5]->u.i, G = args[6]->u.i;
  const double eps = args[7]->u.d;
  et_tensor *out = args[8]->u.t, *mean_out = args[9]->u.t, *rstd_out = args[10]->u.t;
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
  ET_K_TRY(et_k_check_rank(ctx, in, 2, ET_MAX_RANK, "input"));
  if (N < 0 || C < 0 || HxW < 0)
    return ET_K_FAIL(ctx, "N, C and HxW must not be negative");
  if (G <= 0 || C % G != 0)
    return ET_K_FAIL(ctx, "group: expected a positive divisor of C = %lld, got %lld",
                     (long long)C, (long long)G);
  int64_t numel;
  const int64_t dims[3] = {N, C, HxW};
  if (!et_k_numel(dims, 3, &numel) || in->sizes[0] != N || in->sizes[1] != C ||
      (uint64_t)numel != et_tensor_numel(in)) {
    char s[96];
    et_k_tensor_shape_str(s, sizeof s, in);
    return ET_K_FAIL(ctx, "input %s does not match N = %lld, C = %lld, HxW = %lld", s,
                     (long long)N, (long long)C, (long long)HxW);
  }
  ET_K_TRY(check_param(ctx, args[1], C, "weight"));
  ET_K_TRY(check_param(ctx, args[2], C, "bias"));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out0"));
  const int64_t ssz[2] = {N, G};
  ET_K_TRY(et_k_resize(ctx, mean_out, ssz, 2, "out1"));
  ET_K_TRY(et_k_resize(ctx, rstd_out, ssz, 2, "out2"));

  const int64_t D = C / G, span = D * HxW;
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  const int64_t mes = (int64_t)et_dtype_size(mean_out->dtype);
  const int64_t res = (int64_t)et_dtype_size(rstd_out->dtype);
  for (int64_t n = 0; n < N; n++)
    for (int64_t g = 0; g < G; g++) {
      const int64_t first = (n * C + g * D) * HxW;
      const char *xg = (const char *)in->data + first * es;
      const double mean = et_moments_sum(xg, in->dtype, 1, span) / (double)span;
      const double var = et_moments_m2(xg, in->dtype, 1, span, mean) / (double)span;
      const int64_t so = n * mean_out->strides[0] + g * mean_out->strides[1];
      const int64_t sr = n * rstd_out->strides[0] + g * rstd_out->strides[1];
      switch (in->dtype) {
#define CASE_GN(E, T, S)                                                       \
  case E: {                                                                    \
    typedef ET_CT(S) ct;                                                       \
    const ct m = (ct)mean, v = (ct)var;                                        \
    const ct rstd = (ct)1 / (ct)sqrt((double)((v > 0 ? v : 0) + (ct)eps));     \
    for (int64_t d = 0; d < D; d++) {                                          \
      const int64_t c = g * D + d;                                             \
      const ct scale = rstd * (ct)param_at(args[1], c, 1.0);                   \
      const ct bias = -scale * m + (ct)param_at(args[2], c, 0.0);              \
      gn_apply_##S((const T *)in->data + first + d * HxW, (T *)out->data + first + d * HxW, \
                   HxW, scale, bias);                                          \
    }                                                                          \
    et_convert((char *)mean_out->data + so * mes, mean_out->dtype, 1, &m,      \
               sizeof(ct) == sizeof(double) ? ET_DOUBLE : ET_FLOAT, 1, 1);    \
    et_convert((char *)rstd_out->data + sr * res, rstd_out->dtype, 1, &rstd,   \
               sizeof(ct) == sizeof(double) ? ET_DOUBLE : ET_FLOAT, 1, 1);    \
    break;                                                                     \
  }
        ET_FOREACH_FLOATHBF16(CASE_GN)
      default:
        break;
      }
    }
  return ET_OK;
}
