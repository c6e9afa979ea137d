/* Scalars converted like PyTorch's wrapped numbers, divisor checks, shapes. */
#include "util/math_util.h"

#include "util/arith_util.h"

#include <float.h>
#include <string.h>

et_cval et_scalar_via_dtype(const et_value *v, int common) {
  union {
    int64_t i;
    double d;
    uint8_t bytes[8];
  } in_common;
  in_common.i = 0;
  if (v->tag == ET_TAG_DOUBLE) {
    et_convert(in_common.bytes, common, 1, &v->u.d, ET_DOUBLE, 1, 1);
  } else {
    int64_t iv = et_scalar_to_int64(v);
    et_convert(in_common.bytes, common, 1, &iv, ET_LONG, 1, 1);
  }
  et_cval r;
  r.i = 0;
  int compute = et_ew_compute_dtype(common);
  if (compute == ET_LONG) {
    r.i = et_elem_as_int64(in_common.bytes, common);
  } else {
    et_convert(&r, compute, 1, in_common.bytes, common, 1, 1);
  }
  return r;
}

static bool int_range(int dtype, int64_t *lo, int64_t *hi) {
  switch (dtype) {
  case ET_BYTE: *lo = -(int64_t)UINT8_MAX; *hi = UINT8_MAX; return true;
  case ET_CHAR: *lo = INT8_MIN; *hi = INT8_MAX; return true;
  case ET_SHORT: *lo = INT16_MIN; *hi = INT16_MAX; return true;
  case ET_INT: *lo = INT32_MIN; *hi = INT32_MAX; return true;
  case ET_LONG: *lo = INT64_MIN; *hi = INT64_MAX; return true;
  default: return false;
  }
}

static double float_max(int dtype) {
  switch (dtype) {
  case ET_HALF: return 65504.0;
  case ET_BFLOAT16: return 3.3895313892515355e38;
  case ET_FLOAT: return (double)FLT_MAX;
  default: return DBL_MAX;
  }
}

et_status et_scalar_checked(et_kernel_ctx *ctx, const et_value *v, int dtype,
                            const char *name, et_cval *out) {
  bool ok = true;
  if (dtype == ET_BOOL) {
    /* c10 converts anything to bool (non-zero is true) */
  } else if (et_dtype_is_integral(dtype, false)) {
    int64_t lo = 0, hi = 0;
    int_range(dtype, &lo, &hi);
    if (v->tag == ET_TAG_DOUBLE) {
      /* c10: lowest <= d <= max in double (NaN fails); floats into Byte
       * do not get the negative range that integers wrap through */
      const double d = v->u.d;
      ok = d >= (dtype == ET_BYTE ? 0.0 : (double)lo) && d <= (double)hi;
    } else {
      int64_t iv = et_scalar_to_int64(v);
      ok = iv >= lo && iv <= hi;
    }
  } else if (et_dtype_is_floating(dtype)) {
    double d = et_scalar_to_double(v);
    double max = float_max(dtype);
    ok = !(d - d == 0) || (d >= -max && d <= max);
  } else {
    ok = false;
  }
  if (!ok) {
    char desc[48];
    et_scalar_describe(v, desc, sizeof desc);
    if (v->tag == ET_TAG_DOUBLE) {
      char g[32];
      return ET_K_FAIL(ctx, "%s: value %s cannot be converted to dtype %s without "
                            "overflow",
                       name, et_double_str(v->u.d, g, sizeof g), et_dtype_name(dtype));
    }
    return ET_K_FAIL(ctx, "%s: value (%s) cannot be converted to dtype %s without "
                          "overflow",
                     name, desc, et_dtype_name(dtype));
  }
  *out = et_scalar_via_dtype(v, dtype);
  return ET_OK;
}

#define ANY_ZERO(ENUM, CTYPE, SUFFIX)                                          \
  case ENUM: {                                                                 \
    const CTYPE *p = (const CTYPE *)t->data;                                   \
    for (size_t i = 0; i < n; i++)                                             \
      if (p[i] == 0) return true;                                              \
    return false;                                                              \
  }

bool et_tensor_any_zero(const et_tensor *t) {
  /* a dense tensor's elements fill numel consecutive slots whatever its dim
   * order, so a linear scan sees each exactly once */
  const size_t n = et_tensor_numel(t);
  if (n == 0) return false;
  switch (t->dtype) {
    ET_FOREACH_INT(ANY_ZERO)
    ET_FOREACH_BOOL(ANY_ZERO)
  default: return false;
  }
}
#undef ANY_ZERO

et_status et_check_int_divisor(et_kernel_ctx *ctx, int common, const et_tensor *dividend,
                               const et_tensor *divisor) {
  if (!et_dtype_is_integral(common, true) || et_tensor_numel(dividend) == 0) return ET_OK;
  if (et_tensor_any_zero(divisor))
    return ET_K_FAIL(ctx, "ZeroDivisionError: integer division or remainder by zero "
                          "(other has a zero element)");
  return ET_OK;
}

et_status et_check_int_scalar_divisor(et_kernel_ctx *ctx, int common,
                                      const et_tensor *dividend, et_cval divisor) {
  if (!et_dtype_is_integral(common, true) || et_tensor_numel(dividend) == 0) return ET_OK;
  if (divisor.i == 0)
    return ET_K_FAIL(ctx, "ZeroDivisionError: integer division or remainder by zero "
                          "(other is 0 in dtype %s)",
                     et_dtype_name(common));
  return ET_OK;
}

et_status et_k_broadcast_shape_n(et_kernel_ctx *ctx, const et_tensor *const *ts,
                                 const char *const *names, uint32_t n,
                                 int64_t *out_sizes, uint32_t *out_rank) {
  uint32_t rank = 0;
  for (uint32_t k = 0; k < n; k++)
    if (ts[k] && ts[k]->rank > rank) rank = ts[k]->rank;
  if (rank > ET_MAX_RANK) return ET_K_FAIL(ctx, "rank %u exceeds %d", (unsigned)rank, ET_MAX_RANK);
  for (uint32_t d = 0; d < rank; d++) out_sizes[d] = 1;
  for (uint32_t k = 0; k < n; k++) {
    const et_tensor *t = ts[k];
    if (!t) continue;
    for (uint32_t d = 0; d < t->rank; d++) {
      const uint32_t od = rank - t->rank + d;
      const int64_t s = t->sizes[d];
      if (s == out_sizes[od] || s == 1) continue;
      if (out_sizes[od] == 1) {
        out_sizes[od] = s;
        continue;
      }
      char a[96];
      et_k_tensor_shape_str(a, sizeof a, t);
      return ET_K_FAIL(ctx, "%s %s does not broadcast with the other operands (size %lld "
                            "against %lld at dim %u of the result)",
                       names[k], a, (long long)s, (long long)out_sizes[od], (unsigned)od);
    }
  }
  *out_rank = rank;
  return ET_OK;
}

int et_round_mode_parse(const et_value *v) {
  if (v->tag == ET_TAG_NONE) return ET_ROUND_NONE;
  if (v->tag != ET_TAG_STRING) return -1;
  if (v->u.str.len == 5 && memcmp(v->u.str.ptr, "trunc", 5) == 0) return ET_ROUND_TRUNC;
  if (v->u.str.len == 5 && memcmp(v->u.str.ptr, "floor", 5) == 0) return ET_ROUND_FLOOR;
  return -1;
}

/* ---- binary operators with a Tensor_out and a Scalar_out overload --------- */

static et_status binary_rule(et_kernel_ctx *ctx, et_binary_rule rule, int common) {
  if (rule == ET_BINARY_INTEGRAL && !et_dtype_is_integral(common, true))
    return ET_K_FAIL(ctx, "self and other: expected integer or Bool dtypes, their common "
                          "dtype is %s", et_dtype_name(common));
  if (rule == ET_BINARY_DIVISION && common == ET_BOOL)
    return ET_K_FAIL(ctx, "self and other: Bool operands are not supported");
  return ET_OK;
}

et_status et_binary_tensor_out(et_kernel_ctx *ctx, et_value **args, et_binary_rule rule,
                               const et_ew_fns *tt) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  ET_K_TRY(binary_rule(ctx, rule, common));
  if (rule == ET_BINARY_DIVISION) ET_K_TRY(et_check_int_divisor(ctx, common, a, b));
  return et_ew_binary(ctx, a, b, out, common, tt, NULL);
}

et_status et_binary_scalar_out(et_kernel_ctx *ctx, et_value **args, et_binary_rule rule,
                               const et_ew_fns *ts) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  ET_K_TRY(binary_rule(ctx, rule, common));
  et_cval v = et_scalar_via_dtype(args[1], common);
  if (rule == ET_BINARY_DIVISION) ET_K_TRY(et_check_int_scalar_divisor(ctx, common, a, v));
  return et_ew_unary(ctx, a, out, common, et_ew_compute_dtype(common), ts, &v);
}
