/*
 * Shared pieces of the elementwise math kernels (fmod, remainder, floor
 * division, shifts, clamp, maximum, ...):
 *
 *  - loop generators that turn one element expression into the typed loop
 *    functions the elementwise engine calls (tensor-tensor, tensor-scalar
 *    and scalar-tensor forms);
 *  - PyTorch's integer and floating division and remainder rules, written
 *    without undefined behaviour (INT64_MIN / -1 wraps, no division by
 *    zero is ever executed: kernels refuse integer zero divisors first);
 *  - Scalar arguments converted the way PyTorch converts a Python number it
 *    wraps into a tensor (to the common dtype first, so an Int8 tensor sees
 *    257 as 1), or checked the way c10's checked_convert checks them
 *    (clamp bounds, masked_fill values).
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_MATH_UTIL_H
#define ET_KERNELS_UTIL_MATH_UTIL_H

#include <edgetorch/kernel.h>

#include "util/elementwise_util.h"
#include "util/scalar_util.h"
#include "util/shape_util.h"

#include <math.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- loop generators --------------------------------------------------------
 * EXPR computes one result from `x` (first operand) and `y` (second), both
 * of type T. The scalar forms read the scalar as a T at `param` (an et_cval
 * holding the compute-dtype value works: its members start at offset 0).
 *
 *   ET_DEFINE_BINARY_TT(fmod, float, f32, fmodf(x, y))  -> fmod_tt_f32
 *   ET_DEFINE_BINARY_TS(...)  x from the tensor in[0], y the scalar -> _ts_
 *   ET_DEFINE_BINARY_ST(...)  x the scalar, y from the tensor in[0] -> _st_
 */
#define ET_DEFINE_BINARY_TT(name, T, S, EXPR)                                  \
  static void name##_tt_##S(void *o_, const void *const *in_, size_t n_,      \
                            const void *p_) {                                  \
    (void)p_;                                                                  \
    T *out_ = (T *)o_;                                                         \
    const T *a_ = (const T *)in_[0], *b_ = (const T *)in_[1];                  \
    for (size_t i_ = 0; i_ < n_; i_++) {                                       \
      const T x = a_[i_], y = b_[i_];                                          \
      out_[i_] = (EXPR);                                                       \
    }                                                                          \
  }

#define ET_DEFINE_BINARY_TS(name, T, S, EXPR)                                  \
  static void name##_ts_##S(void *o_, const void *const *in_, size_t n_,      \
                            const void *p_) {                                  \
    T *out_ = (T *)o_;                                                         \
    const T *a_ = (const T *)in_[0];                                           \
    const T y = *(const T *)p_;                                                \
    for (size_t i_ = 0; i_ < n_; i_++) {                                       \
      const T x = a_[i_];                                                      \
      out_[i_] = (EXPR);                                                       \
    }                                                                          \
  }

#define ET_DEFINE_BINARY_ST(name, T, S, EXPR)                                  \
  static void name##_st_##S(void *o_, const void *const *in_, size_t n_,      \
                            const void *p_) {                                  \
    T *out_ = (T *)o_;                                                         \
    const T *b_ = (const T *)in_[0];                                           \
    const T x = *(const T *)p_;                                                \
    for (size_t i_ = 0; i_ < n_; i_++) {                                       \
      const T y = b_[i_];                                                      \
      out_[i_] = (EXPR);                                                       \
    }                                                                          \
  }

/* Both the tensor-tensor and the tensor-scalar loops. */
#define ET_DEFINE_BINARY_TT_TS(name, T, S, EXPR)                               \
  ET_DEFINE_BINARY_TT(name, T, S, EXPR)                                        \
  ET_DEFINE_BINARY_TS(name, T, S, EXPR)

/* ---- integer division and remainder (b != 0) --------------------------------
 * b == -1 is handled apart: INT64_MIN / -1 overflows in C. Narrower dtypes
 * are computed in int64 and wrapped afterwards, which gives the same
 * results as PyTorch (INT32_MIN // -1 == INT32_MIN). */

static inline int64_t et_i64_div_trunc(int64_t a, int64_t b) {
  if (b == 0) return 0;
  if (b == -1) return (int64_t)(0u - (uint64_t)a);
  return a / b;
}

/* Python's //: rounds towards negative infinity. */
static inline int64_t et_i64_div_floor(int64_t a, int64_t b) {
  if (b == 0) return 0;
  if (b == -1) return (int64_t)(0u - (uint64_t)a);
  int64_t q = a / b, r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? q - 1 : q;
}

/* C's %: the result has the dividend's sign (fmod). */
static inline int64_t et_i64_fmod(int64_t a, int64_t b) {
  if (b == 0 || b == -1) return 0;
  return a % b;
}

/* Python's %: the result has the divisor's sign (remainder). */
static inline int64_t et_i64_remainder(int64_t a, int64_t b) {
  if (b == 0 || b == -1) return 0;
  int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

/* ---- floating division and remainder ----------------------------------------
 * Floor division follows CPython's float //, as PyTorch does: the quotient
 * is rebuilt from fmod so that it is exact where a plain floor(a / b)
 * would round (a zero divisor gives the IEEE a / b). */

#define ET_DEFINE_FLOAT_DIVMOD(T, S, FMOD, FLOOR, COPYSIGN)                    \
  static inline T et_##S##_div_floor(T a, T b) {                               \
    if (b == 0) return a / b;                                                  \
    T mod = FMOD(a, b);                                                        \
    T div = (a - mod) / b;                                                     \
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= (T)1;                       \
    if (div == 0) return COPYSIGN((T)0, a / b);                                \
    T fl = FLOOR(div);                                                         \
    if (div - fl > (T)0.5) fl += (T)1;                                         \
    return fl;                                                                 \
  }                                                                            \
  static inline T et_##S##_remainder(T a, T b) {                               \
    T mod = FMOD(a, b);                                                        \
    if (mod != 0 && ((b < 0) != (mod < 0))) mod += b;                          \
    return mod;                                                                \
  }
ET_DEFINE_FLOAT_DIVMOD(float, f32, fmodf, floorf, copysignf)
ET_DEFINE_FLOAT_DIVMOD(double, f64, fmod, floor, copysign)
#undef ET_DEFINE_FLOAT_DIVMOD

/* ---- scalars ------------------------------------------------------------------ */

/*
 * `v` converted as PyTorch converts a wrapped Python number in a binary op
 * whose common dtype is `common`: first to `common` (integers wrap, Double
 * into Half/BFloat16 rounds), then to et_ew_compute_dtype(common).
 */
et_cval et_scalar_via_dtype(const et_value *v, int common);

/*
 * `v` converted to `dtype` with c10's overflow check (checked_convert):
 * integers must be in range (Byte also takes -255..-1, which wraps, as c10
 * does), Doubles into integers must be finite and in range (then truncate),
 * finite values must be in a floating dtype's range (inf and NaN pass);
 * anything converts to Bool. The result is in et_ew_compute_dtype(dtype)
 * (Bool as 0/1 in .i). Fails naming `name`.
 */
et_status et_scalar_checked(et_kernel_ctx *ctx, const et_value *v, int dtype,
                            const char *name, et_cval *out);

/* True if any element of an integer or Bool tensor is zero. */
bool et_tensor_any_zero(const et_tensor *t);

/*
 * The integer-divisor checks of div (trunc/floor), floor_divide, fmod and
 * remainder: when `common` is integral, fail with "ZeroDivisionError" if
 * any element of `divisor` (or the scalar divisor, converted to `common`)
 * is zero, unless `dividend` is empty (then nothing is divided: PyTorch
 * checks element by element).
 */
et_status et_check_int_divisor(et_kernel_ctx *ctx, int common, const et_tensor *dividend,
                               const et_tensor *divisor);
et_status et_check_int_scalar_divisor(et_kernel_ctx *ctx, int common,
                                      const et_tensor *dividend, et_cval divisor);

/* ---- binary operators with a Tensor_out and a Scalar_out overload --------- */

/* What the operands may be, beyond c10's promotion. */
typedef enum et_binary_rule {
  ET_BINARY_INTEGRAL, /* integer or Bool (bitwise and, or, xor) */
  ET_BINARY_DIVISION, /* not Bool; an integer zero divisor fails (fmod, remainder) */
} et_binary_rule;

/*
 * op.Tensor_out(self, other, *, out) and op.Scalar_out(self, other, *, out)
 * of an elementwise operator: promotion and the out-dtype check, `rule`,
 * broadcasting. A Scalar `other` is converted through the promoted dtype
 * first (et_scalar_via_dtype). `tt` computes (self, other); `ts` computes
 * (self) with the converted scalar as its et_cval parameter.
 */
et_status et_binary_tensor_out(et_kernel_ctx *ctx, et_value **args, et_binary_rule rule,
                               const et_ew_fns *tt);
et_status et_binary_scalar_out(et_kernel_ctx *ctx, et_value **args, et_binary_rule rule,
                               const et_ew_fns *ts);

/*
 * Broadcast shape of up to three tensors (NULL entries are skipped); fails
 * naming the tensors that do not broadcast.
 */
et_status et_k_broadcast_shape_n(et_kernel_ctx *ctx, const et_tensor *const *ts,
                                 const char *const *names, uint32_t n,
                                 int64_t *out_sizes, uint32_t *out_rank);

/* "none"/"trunc"/"floor" rounding modes of div; -1 if `v` is not one. */
typedef enum et_round_mode { ET_ROUND_NONE, ET_ROUND_TRUNC, ET_ROUND_FLOOR } et_round_mode;
int et_round_mode_parse(const et_value *v);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_MATH_UTIL_H */
