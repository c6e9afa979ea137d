/* Scalar fill. */
#include "util/fill_util.h"

#include "util/broadcast_util.h"
#include "util/dtype_util.h"
#include "util/scalar_util.h"
#include "util/shape_util.h"

et_status et_fill_scalar(et_kernel_ctx *ctx, et_tensor *out, const et_value *value) {
  ET_K_TRY(et_k_check_writable(ctx, out, "out"));
  union {
    uint64_t u;
    uint8_t bytes[8];
  } elem;
  elem.u = 0;
  bool ok;
  if (value->tag == ET_TAG_DOUBLE) {
    ok = et_convert(elem.bytes, out->dtype, 1, &value->u.d, ET_DOUBLE, 1, 1);
  } else if (value->tag == ET_TAG_BOOL) {
    et_bool8 b = value->u.b ? 1 : 0;
    ok = et_convert(elem.bytes, out->dtype, 1, &b, ET_BOOL, 1, 1);
  } else {
    ok = et_convert(elem.bytes, out->dtype, 1, &value->u.i, ET_LONG, 1, 1);
  }
  if (!ok) return ET_K_FAIL(ctx, "out: dtype %s is not supported", et_dtype_name(out->dtype));
  const size_t n = et_tensor_numel(out);
  if (n == 0) return ET_OK;
  /* a dense tensor in any dim order is numel consecutive elements */
  et_fill_bytes(out->data, elem.bytes, et_dtype_size(out->dtype), n);
  return ET_OK;
}

static bool int_limits(int dtype, int64_t *lo, int64_t *hi) {
  switch (dtype) {
  case ET_BYTE: *lo = 0; *hi = UINT8_MAX; return true;
  case ET_CHAR: *lo = INT8_MIN; *hi = INT8_MAX; return true;
  case ET_SHORT: *lo = INT16_MIN; *hi = INT16_MAX; return true;
  case ET_INT: *lo = INT32_MIN; *hi = INT32_MAX; return true;
  case ET_LONG: *lo = INT64_MIN; *hi = INT64_MAX; return true;
  default: return false;
  }
}

/* Largest finite value of a floating dtype (0 for Double: no limit). */
static double float_max(int dtype) {
  switch (dtype) {
  case ET_HALF: return 65504.0;
  case ET_BFLOAT16: return 3.3895313892515355e38;
  case ET_FLOAT: return 3.4028234663852886e38;
  default: return 0;
  }
}

et_status et_scalar_to_elem_checked(et_kernel_ctx *ctx, const et_value *value, int dtype,
                                    void *elem, const char *name) {
  if (!et_dtype_is_supported(dtype))
    return ET_K_FAIL(ctx, "%s: dtype %s is not supported", name, et_dtype_name(dtype));
  bool over = false;
  int64_t lo = 0, hi = 0;
  const bool integral = int_limits(dtype, &lo, &hi);
  const double fmax = float_max(dtype);
  if (dtype == ET_BOOL || value->tag == ET_TAG_BOOL) {
    over = false;
  } else if (value->tag == ET_TAG_DOUBLE) {
    const double d = value->u.d;
    if (integral) /* NaN and infinities fail both comparisons */
      over = !(d >= (double)lo && d < (double)hi + 1.0);
    else if (fmax != 0 && d - d == 0)
      over = d < -fmax || d > fmax;
  } else {
    const int64_t i = value->u.i;
    if (dtype == ET_BYTE)
      over = i > hi || (i < 0 && (uint64_t)0 - (uint64_t)i > (uint64_t)hi);
    else if (integral)
      over = i < lo || i > hi;
    else if (fmax != 0)
      over = (double)i < -fmax || (double)i > fmax;
  }
  if (over) {
    char desc[64];
    if (value->tag == ET_TAG_DOUBLE)
      et_double_str(value->u.d, desc, sizeof desc);
    else
      et_format(desc, sizeof desc, "%lld", (long long)value->u.i);
    return ET_K_FAIL(ctx, "%s: %s cannot be converted to dtype %s without overflow", name, desc,
                     et_dtype_name(dtype));
  }
  if (value->tag == ET_TAG_DOUBLE) {
    et_convert(elem, dtype, 1, &value->u.d, ET_DOUBLE, 1, 1);
  } else if (value->tag == ET_TAG_BOOL) {
    const et_bool8 b = value->u.b ? 1 : 0;
    et_convert(elem, dtype, 1, &b, ET_BOOL, 1, 1);
  } else {
    et_convert(elem, dtype, 1, &value->u.i, ET_LONG, 1, 1);
  }
  return ET_OK;
}
