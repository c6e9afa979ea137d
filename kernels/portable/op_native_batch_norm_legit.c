/*
 * aten::_native_batch_norm_legit.out(Tensor input, Tensor? weight,
 *     Tensor? bias, Tensor(a!) running_mean, Tensor(b!) running_var,
 *     bool training, float momentum, float eps, *, Tensor(d!) out,
 *     Tensor(e!) save_mean, Tensor(f!) save_invstd)
 * aten::_native_batch_norm_legit.no_stats_out(Tensor input, Tensor? weight,
 *     Tensor? bias, bool training, float momentum, float eps, *,
 *     Tensor(a!) out, Tensor(b!) save_mean, Tensor(c!) save_invstd)
 *
 * Batch normalization over dim 1 of a contiguous [N, C, ...] input.
 *
 * Training (training=True, and always for no_stats, which has no running
 * statistics to use): per channel, the batch mean and biased variance;
 * save_mean = mean, save_invstd = 1 / sqrt(var + eps) (0 when both are 0,
 * as PyTorch's InvStd), both [C]; out = x * a + (b - mean * a) with
 * a = invstd * weight. When running statistics are given they are updated
 * in place as PyTorch does: running_mean = momentum * mean +
 * (1 - momentum) * running_mean, running_var likewise with the unbiased
 * variance. (Upstream ExecuTorch's portable kernel refuses training=True.)
 *
 * Evaluation (.out with training=False): normalizes with the running
 * statistics exactly as _native_batch_norm_legit_no_training.out, and
 * save_mean / save_invstd are empty ([0]), as in PyTorch.
 *
 * Float/Double statistics accumulate in double (moments_util.h); the
 * transform runs in float (double for Double). Half/BFloat16 follow
 * PyTorch's CPU kernel for reduced types: sum and squared deviations in
 * float; for BFloat16, unless a parameter or statistic is Float/Double
 * (PyTorch's mixed-type case, all in float, which Half always takes), the
 * mean and the variance sum are then rounded to BFloat16, the
 * variance divides in it, invstd = 1 / sqrt(var + eps) is rounded to it, and
 * the running statistics update in its arithmetic (every operation rounded).
 * The transform, x * a + (b - mean * a) in float with a = invstd * weight,
 * reads mean and invstd back from save_mean/save_invstd (so rounded to
 * their dtype), as PyTorch does. Parameters and statistics may have any
 * floating dtype.
 */
#include "portable/ops.h"

#include "util/moments_util.h"
#include "util/shape_util.h"

#include <math.h>

static et_status check_vec(et_kernel_ctx *ctx, const et_tensor *t, int64_t C, const char *name) {
  ET_K_TRY(et_k_check_tensor(ctx, t, name));
  ET_K_TRY(et_k_check_floating(ctx, t, name));
  if (t->rank != 1 || t->sizes[0] != C)
    return ET_K_FAIL(ctx, "%s: expected shape [%lld]", name, (long long)C);
  return ET_OK;
}

static inline char *vec_at(const et_tensor *t, int64_t i) {
  return (char *)t->data + i * t->strides[0] * (int64_t)et_dtype_size(t->dtype);
}

static inline double vec_get(const et_tensor *t, int64_t i, double dflt) {
  return t ? et_elem_as_double(vec_at(t, i), t->dtype) : dflt;
}

static inline void vec_set(const et_tensor *t, int64_t i, double v) {
  et_convert(vec_at(t, i), t->dtype, 1, &v, ET_DOUBLE, 1, 1);
}

#define DEFINE_BN_APPLY(E, T, S)                                               \
  static void bn_apply_##S(const T *x, T *y, int64_t n, ET_CT(S) a, ET_CT(S) b) { \
    for (int64_t i = 0; i < n; i++) y[i] = ET_ST(S, ET_LD(S, x[i]) * a + b);   \
  }
ET_FOREACH_FLOATHBF16(DEFINE_BN_APPLY)

static inline bool lowp(int dtype) { return dtype == ET_HALF || dtype == ET_BFLOAT16; }


/* Sum and sum of squared deviations (from the float mean) of channel c of a
 * Half/BFloat16 input, in float, in order. */
#define DEFINE_LOWP_STATS(E, T, S)                                             \
  static void lowp_stats_##S(const T *x, int64_t N, int64_t C, int64_t inner, int64_t c, \
                             float *out_mean, float *out_m2) {                 \
    float sum = 0;                                                             \
    for (int64_t n = 0; n < N; n++) {                                          \
      const T *p = x + (n * C + c) * inner;                                    \
      for (int64_t i = 0; i < inner; i++) sum += ET_LD(S, p[i]);               \
    }                                                                          \
    const float mean = sum / (float)(N * inner);                               \
    float m2 = 0;                                                              \
    for (int64_t n = 0; n < N; n++) {                                          \
      const T *p = x + (n * C + c) * inner;                                    \
      for (int64_t i = 0; i < inner; i++) {                                    \
        const float d = ET_LD(S, p[i]) - mean;                                 \
        m2 += d * d;                                                           \
      }                                                                        \
    }                                                                          \
    *out_mean = mean;                                                          \
    *out_m2 = m2;                                                              \
  }
ET_FOREACH_HALF_BF16(DEFINE_LOWP_STATS)

/* Batch statistics, normalization and (when rm/rv are given) the running
 * statistics update. */
static et_status bn_train(et_kernel_ctx *ctx, const et_tensor *in, const et_tensor *w,
                          const et_tensor *b, et_tensor *rm, et_tensor *rv, double momentum,
                          double eps, et_tensor *out, et_tensor *save_mean,
                          et_tensor *save_invstd) {
  ET_K_TRY(et_k_check_tensor(ctx, in, "input"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_tensor(ctx, save_mean, "save_mean"));
  ET_K_TRY(et_k_check_tensor(ctx, save_invstd, "save_invstd"));
  ET_K_TRY(et_k_check_floating(ctx, in, "input"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, save_mean, "save_mean"));
  ET_K_TRY(et_k_check_floating(ctx, save_invstd, "save_invstd"));
  ET_K_TRY(et_k_check_rank(ctx, in, 2, ET_MAX_RANK, "input"));
  ET_K_TRY(et_k_check_contiguous(ctx, in, "input"));
  ET_K_TRY(et_k_check_contiguous(ctx, out, "out"));
  const int64_t N = in->sizes[0], C = in->sizes[1];
  int64_t inner = 1;
  for (uint32_t d = 2; d < in->rank; d++) inner *= in->sizes[d];
  if (w) ET_K_TRY(check_vec(ctx, w, C, "weight"));
  if (b) ET_K_TRY(check_vec(ctx, b, C, "bias"));
  if (rm) ET_K_TRY(check_vec(ctx, rm, C, "running_mean"));
  if (rv) ET_K_TRY(check_vec(ctx, rv, C, "running_var"));
  if (rm) ET_K_TRY(et_k_check_writable(ctx, rm, "running_mean"));
  if (rv) ET_K_TRY(et_k_check_writable(ctx, rv, "running_var"));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  ET_K_TRY(et_k_resize(ctx, save_mean, &C, 1, "save_mean"));
  ET_K_TRY(et_k_resize(ctx, save_invstd, &C, 1, "save_invstd"));

  const int64_t count = N * inner;
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  if (lowp(in->dtype)) {
    /* The dtype the statistics are computed in (PyTorch's param_t): Float
     * when any parameter or statistic is Float or Double (its mixed-type
     * case) and, as measured against PyTorch 2.13, always for Half; else
     * BFloat16 */
    const et_tensor *params[6] = {w, b, rm, rv, save_mean, save_invstd};
    bool mixed = in->dtype == ET_HALF;
    for (int k = 0; k < 6; k++) mixed = mixed || (params[k] && !lowp(params[k]->dtype));
    const int P = mixed ? ET_FLOAT : in->dtype;
    const bool pl = lowp(P);
#define R(x) et_round_to_dtype(P, (x)) /* a step PyTorch rounds to P */
    for (int64_t c = 0; c < C; c++) {
      float mean, m2;
      if (in->dtype == ET_HALF)
        lowp_stats_f16((const et_half *)in->data, N, C, inner, c, &mean, &m2);
      else
        lowp_stats_bf16((const et_bf16 *)in->data, N, C, inner, c, &mean, &m2);
      mean = R(mean);
      m2 = R(m2);
      /* param_t / int64: in P's arithmetic */
      const float var = pl ? R(m2 / R((float)count)) : m2 / (float)count;
      const float invstd =
          R((var == 0 && eps == 0) ? 0.0f : (float)(1.0 / sqrt((double)var + eps)));
      vec_set(save_mean, c, mean);
      vec_set(save_invstd, c, invstd);
      if (rm || rv) {
        const float mom = R((float)momentum), om = R(1.0f - mom);
        if (rm)
          vec_set(rm, c, R(R(mom * mean) + R(om * (float)vec_get(rm, c, 0))));
        if (rv) {
          const float unbiased =
              pl ? R(m2 / R((float)(count - 1))) : m2 / (float)(count - 1);
          vec_set(rv, c, R(mom * unbiased + R(om * (float)vec_get(rv, c, 0))));
        }
      }
      /* the transform reads the statistics back from save_mean/save_invstd */
      const float a = (float)vec_get(save_invstd, c, 0) * (float)vec_get(w, c, 1.0);
      const float bb = (float)vec_get(b, c, 0.0) - (float)vec_get(save_mean, c, 0) * a;
      for (int64_t n = 0; n < N; n++) {
        if (in->dtype == ET_HALF)
          bn_apply_f16((const et_half *)in->data + (n * C + c) * inner,
                       (et_half *)out->data + (n * C + c) * inner, inner, a, bb);
        else
          bn_apply_bf16((const et_bf16 *)in->data + (n * C + c) * inner,
                        (et_bf16 *)out->data + (n * C + c) * inner, inner, a, bb);
      }
    }
#undef R
    return ET_OK;
  }
  for (int64_t c = 0; c < C; c++) {
    double sum = 0, m2 = 0;
    for (int64_t n = 0; n < N; n++)
      sum += et_moments_sum((const char *)in->data + (n * C + c) * inner * es, in->dtype, 1,
                            inner);
    const double mean = sum / (double)count; /* NaN for an empty batch */
    for (int64_t n = 0; n < N; n++)
      m2 += et_moments_m2((const char *)in->data + (n * C + c) * inner * es, in->dtype, 1, inner,
                          mean);
    const double var = m2 / (double)count;
    const double invstd = (var == 0 && eps == 0) ? 0.0 : 1.0 / sqrt(var + eps);
    vec_set(save_mean, c, mean);
    vec_set(save_invstd, c, invstd);
    if (rm) vec_set(rm, c, momentum * mean + (1 - momentum) * vec_get(rm, c, 0));
    if (rv) vec_set(rv, c, momentum * (m2 / (double)(count - 1)) + (1 - momentum) * vec_get(rv, c, 0));
    switch (in->dtype) {
#define CASE_BN(E, T, S)                                                       \
  case E: {                                                                    \
    typedef ET_CT(S) ct;                                                       \
    const ct a = (ct)invstd * (ct)vec_get(w, c, 1.0);                          \
    const ct bb = (ct)vec_get(b, c, 0.0) - (ct)mean * a;                       \
    for (int64_t n = 0; n < N; n++)                                            \
      bn_apply_##S((const T *)in->data + (n * C + c) * inner,                  \
                   (T *)out->data + (n * C + c) * inner, inner, a, bb);        \
    break;                                                                     \
  }
      ET_FOREACH_FLOATHBF16(CASE_BN)
    default:
      break;
    }
  }
  return ET_OK;
}

et_status et_op_native_batch_norm_legit_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *w = args[1]->tag == ET_TAG_TENSOR ? args[1]->u.t : NULL;
  const et_tensor *b = args[2]->tag == ET_TAG_TENSOR ? args[2]->u.t : NULL;
  if (!args[5]->u.b) {
    /* evaluation: the no_training kernel, whose arguments are these without
     * `training` */
    et_value *nt[11] = {args[0], args[1], args[2], args[3], args[4], args[6],
                        args[7], args[8], args[9], args[10], args[11]};
    return et_op_native_batch_norm_legit_no_training_out(ctx, nt);
  }
  return bn_train(ctx, args[0]->u.t, w, b, args[3]->u.t, args[4]->u.t, args[6]->u.d,
                  args[7]->u.d, args[8]->u.t, args[9]->u.t, args[10]->u.t);
}

et_status et_op_native_batch_norm_legit_no_stats_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *w = args[1]->tag == ET_TAG_TENSOR ? args[1]->u.t : NULL;
  const et_tensor *b = args[2]->tag == ET_TAG_TENSOR ? args[2]->u.t : NULL;
  return bn_train(ctx, args[0]->u.t, w, b, NULL, NULL, args[4]->u.d, args[5]->u.d, args[6]->u.t,
                  args[7]->u.t, args[8]->u.t);
}
