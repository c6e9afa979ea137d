/* Scalar reading, promotion with scalars and extraction into compute types. */
#include "util/scalar_util.h"

#include <edgetorch/status.h>

#include <float.h>

int et_scalar_dtype(const et_value *v) {
  switch (v->tag) {
  case ET_TAG_DOUBLE: return ET_DOUBLE;
  case ET_TAG_BOOL: return ET_BOOL;
  default: return ET_LONG;
  }
}

bool et_scalar_is_floating(const et_value *v) { return v->tag == ET_TAG_DOUBLE; }
bool et_scalar_is_integral(const et_value *v) { return v->tag == ET_TAG_INT; }

double et_scalar_to_double(const et_value *v) {
  switch (v->tag) {
  case ET_TAG_DOUBLE: return v->u.d;
  case ET_TAG_BOOL: return v->u.b ? 1.0 : 0.0;
  case ET_TAG_INT: return (double)v->u.i;
  default: return 0.0;
  }
}

int64_t et_scalar_to_int64(const et_value *v) {
  switch (v->tag) {
  case ET_TAG_DOUBLE: return et_f64_to_i64(v->u.d);
  case ET_TAG_BOOL: return v->u.b ? 1 : 0;
  case ET_TAG_INT: return v->u.i;
  default: return 0;
  }
}

bool et_scalar_to_bool(const et_value *v) {
  switch (v->tag) {
  case ET_TAG_DOUBLE: return v->u.d != 0;
  case ET_TAG_BOOL: return v->u.b;
  case ET_TAG_INT: return v->u.i != 0;
  default: return false;
  }
}

int et_promote_type_with_scalar(int t, const et_value *s) {
  switch (s->tag) {
  case ET_TAG_DOUBLE: return et_dtype_is_floating(t) ? t : ET_FLOAT;
  case ET_TAG_INT: return t == ET_BOOL ? ET_LONG : t;
  default: return t;
  }
}

et_cval et_scalar_cast(const et_value *v, int compute) {
  et_cval r;
  r.i = 0;
  switch (compute) {
  case ET_FLOAT:
    r.f = v->tag == ET_TAG_DOUBLE ? (float)v->u.d : (float)et_scalar_to_int64(v);
    break;
  case ET_DOUBLE: r.d = et_scalar_to_double(v); break;
  case ET_BOOL: r.b = et_scalar_to_bool(v); break;
  default: r.i = et_scalar_to_int64(v); break;
  }
  return r;
}

static bool int_range(int dtype, int64_t *lo, int64_t *hi) {
  switch (dtype) {
  case ET_BYTE: *lo = 0; *hi = UINT8_MAX; return true;
  case ET_CHAR: *lo = INT8_MIN; *hi = INT8_MAX; return true;
  case ET_SHORT: *lo = INT16_MIN; *hi = INT16_MAX; return true;
  case ET_INT: *lo = INT32_MIN; *hi = INT32_MAX; return true;
  case ET_LONG: *lo = INT64_MIN; *hi = INT64_MAX; return true;
  default: return false;
  }
}

bool et_scalar_extract(const et_value *v, int common, et_cval *out) {
  int compute = et_ew_compute_dtype(common);
  out->i = 0;
  if (common == ET_BOOL) {
    if (v->tag == ET_TAG_INT) out->i = v->u.i != 0;
    else if (v->tag == ET_TAG_BOOL) out->i = v->u.b ? 1 : 0;
    else return false;
    return true;
  }
  if (et_dtype_is_integral(common, false)) {
    int64_t lo, hi;
    if (v->tag != ET_TAG_INT || !int_range(common, &lo, &hi)) return false;
    if (v->u.i < lo || v->u.i > hi) return false;
    out->i = v->u.i;
    return true;
  }
  if (!et_dtype_is_floating(common)) return false;
  double d;
  if (v->tag == ET_TAG_DOUBLE) {
    d = v->u.d;
    /* finite values beyond the compute dtype's range are refused (Half and
     * BFloat16 compute in float); inf and NaN are representable */
    double max = compute == ET_DOUBLE ? DBL_MAX : (double)FLT_MAX;
    if (d - d == 0 && (d < -max || d > max)) return false;
  } else if (v->tag == ET_TAG_INT) {
    d = (double)v->u.i;
  } else {
    return false;
  }
  if (compute == ET_DOUBLE) out->d = d;
  else out->f = (float)d;
  return true;
}

const char *et_double_str(double v, char *buf, size_t cap) {
  char s[32];
  size_t n = 0;
  if (v != v) {
    et_format(buf, cap, "nan");
    return buf;
  }
  if (v < 0 || (v == 0 && 1 / v < 0)) {
    s[n++] = '-';
    v = -v;
  }
  if (v > DBL_MAX) {
    et_format(buf, cap, "%sinf", n ? "-" : "");
    return buf;
  }
  /* t = v / 10^e in [1, 10) (approximately: only e is taken from it). */
  int e = 0;
  double t = v;
  if (t != 0) {
    while (t >= 10) { t /= 10; e++; }
    while (t < 1) { t *= 10; e--; }
  }
  /* Six digits, v * 10^(5-e) rounded: one rounding step when the power of
   * ten is exact (up to 1e22), else from t. */
  int k = 5 - e;
  double p10 = 1;
  for (int i = 0; i < (k < 0 ? -k : k) && i < 23; i++) p10 *= 10;
  double scaled = k > 22 || k < -22 ? t * 100000 : k >= 0 ? v * p10 : v / p10;
  uint64_t m = (uint64_t)(scaled + 0.5);
  if (m >= 1000000) { m = (m + 5) / 10; e++; }
  if (m && m < 100000) { m *= 10; e--; }
  char dig[6];
  for (int i = 5; i >= 0; i--, m /= 10) dig[i] = (char)('0' + m % 10);
  int nd = 6;
  while (nd > 1 && dig[nd - 1] == '0') nd--;
  bool sci = e < -4 || e >= 6;
  int point = sci ? 1 : e + 1; /* digits before the point */
  if (point <= 0) {
    s[n++] = '0';
    s[n++] = '.';
    for (int i = point; i < 0; i++) s[n++] = '0';
  }
  for (int i = 0; i < nd || i < point; i++) {
    if (i == point && point > 0) s[n++] = '.';
    s[n++] = dig[i];
  }
  s[n] = '\0';
  if (sci)
    et_format(buf, cap, "%se%c%s%d", s, e < 0 ? '-' : '+',
              (e < 0 ? -e : e) < 10 ? "0" : "", e < 0 ? -e : e);
  else
    et_format(buf, cap, "%s", s);
  return buf;
}

void et_scalar_describe(const et_value *v, char *buf, size_t cap) {
  switch (v->tag) {
  case ET_TAG_INT: et_format(buf, cap, "Int %lld", (long long)v->u.i); break;
  case ET_TAG_BOOL: et_format(buf, cap, "Bool %s", v->u.b ? "true" : "false"); break;
  case ET_TAG_DOUBLE: et_format(buf, cap, "Double"); break;
  default: et_format(buf, cap, "%s", et_tag_name((int)v->tag)); break;
  }
}
