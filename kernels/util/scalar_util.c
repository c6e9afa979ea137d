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

void et_scalar_describe(const et_value *v, char *buf, size_t cap) {
  switch (v->tag) {
  case ET_TAG_INT: et_format(buf, cap, "Int %lld", (long long)v->u.i); break;
  case ET_TAG_BOOL: et_format(buf, cap, "Bool %s", v->u.b ? "true" : "false"); break;
  case ET_TAG_DOUBLE: et_format(buf, cap, "Double"); break;
  default: et_format(buf, cap, "%s", et_tag_name((int)v->tag)); break;
  }
}

const char *et_double_str(char *buf, size_t cap, double d) {
  if (d != d) {
    et_format(buf, cap, "nan");
    return buf;
  }
  const char *sign = d < 0 ? "-" : "";
  double a = d < 0 ? -d : d;
  if (a - a != 0) {
    et_format(buf, cap, "%sinf", sign);
    return buf;
  }
  int e = 0; /* a = m.mmmmm * 10^e */
  if (a != 0) {
    while (a >= 10) a /= 10, e++;
    while (a < 1) a *= 10, e--;
  }
  int64_t m = (int64_t)(a * 100000 + 0.5);
  if (m >= 1000000) m /= 10, e++;
  int frac = 5; /* digits after the first */
  while (frac > 0 && m % 10 == 0) m /= 10, frac--;
  static const char zeros[] = "00000";
  char dg[8];
  et_format(dg, sizeof dg, "%lld", (long long)m);
  char mant[24];
  if (e < -4 || e >= 6) { /* d.ddddde[+-]XX */
    et_format(mant, sizeof mant, "%c%s%s", dg[0], frac ? "." : "", dg + 1);
    et_format(buf, cap, "%s%se%c%s%d", sign, mant, e < 0 ? '-' : '+',
              (e < 0 ? -e : e) < 10 ? "0" : "", e < 0 ? -e : e);
  } else if (e < 0) { /* 0.000ddd */
    et_format(buf, cap, "%s0.%s%s", sign, zeros + (5 - (-e - 1)), dg);
  } else { /* ddd.ddd or ddd000 */
    size_t n = (size_t)frac + 1, ip = (size_t)e + 1;
    if (ip >= n) {
      et_format(buf, cap, "%s%s%s", sign, dg, zeros + (5 - (ip - n)));
    } else {
      et_format(mant, sizeof mant, "%s", dg);
      mant[ip] = 0;
      et_format(buf, cap, "%s%s.%s", sign, mant, dg + ip);
    }
  }
  return buf;
}
