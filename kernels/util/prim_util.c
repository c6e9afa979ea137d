/* Scalar operators with Python semantics. */
#include "util/prim_util.h"

#include <math.h>

/* Upstream's runtime stores a prim op's result as a new value of the
 * result's own kind, replacing the slot (its exporter declares every scalar
 * result slot as an Int), so the slot takes the result's tag. Only scalar
 * slots may be written. */
static et_status scalar_slot(et_kernel_ctx *ctx, const et_value *slot) {
  if (slot->tag == ET_TAG_INT || slot->tag == ET_TAG_DOUBLE || slot->tag == ET_TAG_BOOL)
    return ET_OK;
  return et_kernel_fail(ctx, ET_INVALID_TYPE, "return slot is a %s, expected a scalar",
                        et_tag_name((int)slot->tag));
}

et_status et_prim_set_int(et_kernel_ctx *ctx, et_value *slot, int64_t v) {
  ET_K_TRY(scalar_slot(ctx, slot));
  slot->tag = ET_TAG_INT;
  slot->u.i = v;
  return ET_OK;
}

et_status et_prim_set_double(et_kernel_ctx *ctx, et_value *slot, double v) {
  ET_K_TRY(scalar_slot(ctx, slot));
  slot->tag = ET_TAG_DOUBLE;
  slot->u.d = v;
  return ET_OK;
}

et_status et_prim_set_bool(et_kernel_ctx *ctx, et_value *slot, bool v) {
  ET_K_TRY(scalar_slot(ctx, slot));
  slot->tag = ET_TAG_BOOL;
  slot->u.b = v;
  return ET_OK;
}

et_status et_prim_set_scalar(et_kernel_ctx *ctx, et_value *slot, const et_value *v) {
  switch (v->tag) {
  case ET_TAG_DOUBLE: return et_prim_set_double(ctx, slot, v->u.d);
  case ET_TAG_BOOL: return et_prim_set_bool(ctx, slot, v->u.b);
  case ET_TAG_INT: return et_prim_set_int(ctx, slot, v->u.i);
  default:
    return et_kernel_fail(ctx, ET_INVALID_TYPE, "expected a scalar, got %s",
                          et_tag_name((int)v->tag));
  }
}

static bool is_double(const et_value *v) { return v->tag == ET_TAG_DOUBLE; }

static double py_floordiv(double a, double b) {
  if (b == 0) return signbit(a) ? -INFINITY : INFINITY; /* as upstream */
  double mod = fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && (signbit(b) != signbit(mod))) div -= 1;
  return div;
}

static double py_mod(double a, double b) {
  double r = fmod(a, b);
  if (r != 0 && (signbit(r) != signbit(b))) r += b;
  return r;
}

et_status et_prim_binary(et_kernel_ctx *ctx, et_value **args, et_prim_op op) {
  const et_value *a = args[0], *b = args[1];
  et_value *ret = args[2];
  if (op == ET_PRIM_TRUEDIV)
    return et_prim_set_double(ctx, ret, et_scalar_to_double(a) / et_scalar_to_double(b));
  if (is_double(a) || is_double(b)) {
    const double x = et_scalar_to_double(a), y = et_scalar_to_double(b);
    double r;
    switch (op) {
    case ET_PRIM_ADD: r = x + y; break;
    case ET_PRIM_SUB: r = x - y; break;
    case ET_PRIM_MUL: r = x * y; break;
    case ET_PRIM_FLOORDIV: r = py_floordiv(x, y); break;
    case ET_PRIM_MOD:
      if (y == 0) return ET_K_FAIL(ctx, "modulo by zero");
      r = py_mod(x, y);
      break;
    case ET_PRIM_MAX: r = x > y ? x : y; break;
    default: r = x < y ? x : y; break;
    }
    return et_prim_set_double(ctx, ret, r);
  }
  const int64_t x = et_scalar_to_int64(a), y = et_scalar_to_int64(b);
  int64_t r;
  switch (op) {
  case ET_PRIM_ADD: r = (int64_t)((uint64_t)x + (uint64_t)y); break;
  case ET_PRIM_SUB: r = (int64_t)((uint64_t)x - (uint64_t)y); break;
  case ET_PRIM_MUL: r = (int64_t)((uint64_t)x * (uint64_t)y); break;
  case ET_PRIM_FLOORDIV:
  case ET_PRIM_MOD: {
    if (y == 0) return ET_K_FAIL(ctx, "integer division or modulo by zero");
    if (x == INT64_MIN && y == -1) {
      r = op == ET_PRIM_MOD ? 0 : INT64_MIN; /* 2^63 wraps */
      break;
    }
    int64_t q = x / y, m = x % y;
    if (m != 0 && ((m < 0) != (y < 0))) {
      q -= 1;
      m += y;
    }
    r = op == ET_PRIM_MOD ? m : q;
    break;
  }
  case ET_PRIM_MAX: r = x > y ? x : y; break;
  default: r = x < y ? x : y; break;
  }
  return et_prim_set_int(ctx, args[2], r);
}

et_status et_prim_compare(et_kernel_ctx *ctx, et_value **args, et_cmp cmp) {
  const et_value *a = args[0], *b = args[1];
  int c; /* -1, 0, 1, or 2 for unordered (NaN) */
  if (is_double(a) || is_double(b)) {
    const double x = et_scalar_to_double(a), y = et_scalar_to_double(b);
    c = x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
  } else {
    const int64_t x = et_scalar_to_int64(a), y = et_scalar_to_int64(b);
    c = x < y ? -1 : x > y ? 1 : 0;
  }
  bool r;
  switch (cmp) {
  case ET_CMP_EQ: r = c == 0; break;
  case ET_CMP_NE: r = c != 0; break;
  case ET_CMP_LT: r = c == -1; break;
  case ET_CMP_LE: r = c == -1 || c == 0; break;
  case ET_CMP_GT: r = c == 1; break;
  default: r = c == 1 || c == 0; break;
  }
  return et_prim_set_bool(ctx, args[2], r);
}
