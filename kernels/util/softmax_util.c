/* Row-wise softmax / log_softmax. */
#include "util/softmax_util.h"

#include "util/broadcast_util.h"
#include "util/dtype_util.h"
#include "util/shape_util.h"

#include <math.h>

static inline float exp_f32(float x) { return expf(x); }
static inline double exp_f64(double x) { return exp(x); }
static inline float log_f32(float x) { return logf(x); }
static inline double log_f64(double x) { return log(x); }
#define EXP_f32 exp_f32
#define EXP_f16 exp_f32
#define EXP_bf16 exp_f32
#define EXP_f64 exp_f64
#define LOG_f32 log_f32
#define LOG_f16 log_f32
#define LOG_bf16 log_f32
#define LOG_f64 log_f64

/* When the storage type is the compute type, exp(x - max) is kept in the
 * output between the two passes; Half/BFloat16 recompute it instead of
 * rounding it twice. */
#define DEFINE_SOFTMAX_ROW(E, T, S)                                            \
  static void softmax_row_##S(const T *x, int64_t xs, T *y, int64_t ys,       \
                              int64_t len, bool log) {                         \
    typedef ET_CT(S) acc_t;                                                    \
    const bool keep = sizeof(T) == sizeof(acc_t);                              \
    acc_t max = ET_LD(S, x[0]);                                                \
    for (int64_t i = 1; i < len; i++) {                                        \
      acc_t v = ET_LD(S, x[i * xs]);                                           \
      if (v > max || v != v) max = v;                                          \
    }                                                                          \
    acc_t sum = 0;                                                             \
    for (int64_t i = 0; i < len; i++) {                                        \
      acc_t e = EXP_##S(ET_LD(S, x[i * xs]) - max);                            \
      sum += e;                                                                \
      if (keep && !log) y[i * ys] = ET_ST(S, e);                               \
    }                                                                          \
    if (log) {                                                                 \
      const acc_t shift = max + LOG_##S(sum);                                  \
      for (int64_t i = 0; i < len; i++)                                        \
        y[i * ys] = ET_ST(S, ET_LD(S, x[i * xs]) - shift);                     \
    } else if (keep) {                                                         \
      const acc_t inv = (acc_t)1 / sum;                                        \
      for (int64_t i = 0; i < len; i++) y[i * ys] = ET_ST(S, ET_LD(S, y[i * ys]) * inv); \
    } else {                                                                   \
      const acc_t inv = (acc_t)1 / sum;                                        \
      for (int64_t i = 0; i < len; i++)                                        \
        y[i * ys] = ET_ST(S, EXP_##S(ET_LD(S, x[i * xs]) - max) * inv);        \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_SOFTMAX_ROW)

et_status et_softmax_out(et_kernel_ctx *ctx, et_value **args, bool log) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, in, "self"));
  if (args[2]->u.b)
    return ET_K_FAIL(ctx, "half_to_float=True is not supported (CPU softmax keeps the "
                          "input dtype)");
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, in->rank, "dim", &dim));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  if (et_tensor_numel(in) == 0) return ET_OK;

  const int64_t len = in->rank ? in->sizes[dim] : 1;
  const int64_t xs = in->rank ? in->strides[dim] : 1;
  const int64_t ys = out->rank ? out->strides[dim] : 1;
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(in, sizes);
  if (in->rank) sizes[dim] = 1;
  const int64_t *strides[2] = {out->strides, in->strides};
  et_nd_iter it;
  et_nd_iter_init(&it, in->rank, sizes, 2, strides, out->dim_order);
  const size_t es = et_dtype_size(in->dtype);
  do {
    for (int64_t j = 0; j < it.inner; j++) {
      char *y = (char *)out->data + (it.off[0] + j * it.inner_stride[0]) * (int64_t)es;
      const char *x =
          (const char *)in->data + (it.off[1] + j * it.inner_stride[1]) * (int64_t)es;
      switch (in->dtype) {
#define CASE_ROW(E, T, S)                                                      \
  case E:                                                                      \
    softmax_row_##S((const T *)x, xs, (T *)y, ys, len, log);                   \
    break;
        ET_FOREACH_FLOATHBF16(CASE_ROW)
      default:
        break;
      }
    }
  } while (et_nd_iter_next(&it));
  return ET_OK;
}
