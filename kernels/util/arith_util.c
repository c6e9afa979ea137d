/* Result dtypes, alpha checks and the comparison kernels. */
#include "util/arith_util.h"

et_status et_arith_common(et_kernel_ctx *ctx, const et_tensor *a, const et_tensor *b,
                          const et_tensor *out, int *out_common) {
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, b, "other"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int common = et_promote_types(a->dtype, b->dtype);
  if (!et_can_cast(common, out->dtype))
    return ET_K_FAIL(ctx, "result dtype %s (from %s and %s) cannot be cast to out dtype %s",
                     et_dtype_name(common), et_dtype_name(a->dtype),
                     et_dtype_name(b->dtype), et_dtype_name(out->dtype));
  *out_common = common;
  return ET_OK;
}

et_status et_arith_common_scalar(et_kernel_ctx *ctx, const et_tensor *a,
                                 const et_value *s, const et_tensor *out,
                                 int *out_common) {
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int common = et_promote_type_with_scalar(a->dtype, s);
  if (!et_can_cast(common, out->dtype))
    return ET_K_FAIL(ctx, "result dtype %s (from %s and a %s scalar) cannot be cast to "
                          "out dtype %s",
                     et_dtype_name(common), et_dtype_name(a->dtype),
                     et_tag_name((int)s->tag), et_dtype_name(out->dtype));
  *out_common = common;
  return ET_OK;
}

et_status et_arith_alpha(et_kernel_ctx *ctx, const et_value *alpha, int common,
                         et_cval *out_alpha) {
  int at = et_scalar_dtype(alpha);
  bool ok = et_can_cast(at, common) ||
            (common == ET_BOOL && et_dtype_is_integral(at, true));
  /* c10's checked conversion to uint8_t also takes negative values down to
   * -255 (they wrap): add(x, y, alpha=-3) on Byte tensors is valid */
  if (ok && common == ET_BYTE && alpha->tag == ET_TAG_INT && alpha->u.i < 0 &&
      alpha->u.i >= -255) {
    out_alpha->i = alpha->u.i;
    return ET_OK;
  }
  if (!ok || !et_scalar_extract(alpha, common, out_alpha)) {
    char d[48];
    et_scalar_describe(alpha, d, sizeof d);
    return ET_K_FAIL(ctx, "alpha (%s) cannot be used with dtype %s", d,
                     et_dtype_name(common));
  }
  return ET_OK;
}

void et_arith_round_scalar(int dtype, et_cval *v) {
  if (dtype == ET_HALF || dtype == ET_BFLOAT16) v->f = et_round_to_dtype(dtype, v->f);
}

/* ---- comparison loops ------------------------------------------------------ */

#define CMP_EXPR_ET_CMP_EQ(x, y) ((x) == (y))
#define CMP_EXPR_ET_CMP_NE(x, y) ((x) != (y))
#define CMP_EXPR_ET_CMP_LT(x, y) ((x) < (y))
#define CMP_EXPR_ET_CMP_LE(x, y) ((x) <= (y))
#define CMP_EXPR_ET_CMP_GT(x, y) ((x) > (y))
#define CMP_EXPR_ET_CMP_GE(x, y) ((x) >= (y))

#define DEFINE_CMP(OP, T, S)                                                   \
  static void cmp_##OP##_tt_##S(void *o, const void *const *in, size_t n,     \
                                 const void *p) {                              \
    (void)p;                                                                   \
    et_bool8 *out = (et_bool8 *)o;                                             \
    const T *a = (const T *)in[0], *b = (const T *)in[1];                      \
    for (size_t i = 0; i < n; i++) out[i] = (et_bool8)CMP_EXPR_##OP(a[i], b[i]); \
  }                                                                            \
  static void cmp_##OP##_ts_##S(void *o, const void *const *in, size_t n,     \
                                 const void *p) {                              \
    et_bool8 *out = (et_bool8 *)o;                                             \
    const T *a = (const T *)in[0];                                             \
    const T b = *(const T *)p;                                                 \
    for (size_t i = 0; i < n; i++) out[i] = (et_bool8)CMP_EXPR_##OP(a[i], b);   \
  }

#define DEFINE_CMP_ALL(OP)                                                     \
  DEFINE_CMP(OP, int64_t, i64)                                                 \
  DEFINE_CMP(OP, float, f32)                                                   \
  DEFINE_CMP(OP, double, f64)                                                  \
  static const et_ew_fns cmp_##OP##_tt = {cmp_##OP##_tt_i64, cmp_##OP##_tt_f32, \
                                          cmp_##OP##_tt_f64, NULL};            \
  static const et_ew_fns cmp_##OP##_ts = {cmp_##OP##_ts_i64, cmp_##OP##_ts_f32, \
                                          cmp_##OP##_ts_f64, NULL};

DEFINE_CMP_ALL(ET_CMP_EQ)
DEFINE_CMP_ALL(ET_CMP_NE)
DEFINE_CMP_ALL(ET_CMP_LT)
DEFINE_CMP_ALL(ET_CMP_LE)
DEFINE_CMP_ALL(ET_CMP_GT)
DEFINE_CMP_ALL(ET_CMP_GE)

static const et_ew_fns *cmp_fns(et_cmp cmp, bool scalar) {
  switch (cmp) {
  case ET_CMP_EQ: return scalar ? &cmp_ET_CMP_EQ_ts : &cmp_ET_CMP_EQ_tt;
  case ET_CMP_NE: return scalar ? &cmp_ET_CMP_NE_ts : &cmp_ET_CMP_NE_tt;
  case ET_CMP_LT: return scalar ? &cmp_ET_CMP_LT_ts : &cmp_ET_CMP_LT_tt;
  case ET_CMP_LE: return scalar ? &cmp_ET_CMP_LE_ts : &cmp_ET_CMP_LE_tt;
  case ET_CMP_GT: return scalar ? &cmp_ET_CMP_GT_ts : &cmp_ET_CMP_GT_tt;
  default: return scalar ? &cmp_ET_CMP_GE_ts : &cmp_ET_CMP_GE_tt;
  }
}

et_status et_compare_tensor_out(et_kernel_ctx *ctx, et_value **args, et_cmp cmp) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, b, "other"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  int64_t shape[ET_MAX_RANK];
  uint32_t rank;
  ET_K_TRY(et_k_broadcast_shape(ctx, a, "self", b, "other", shape, &rank));
  ET_K_TRY(et_k_resize(ctx, out, shape, rank, "out"));
  int common = et_promote_types(a->dtype, b->dtype);
  int compute = et_ew_compute_dtype(common);
  et_ew_spec spec;
  spec.fn = et_ew_pick(cmp_fns(cmp, false), compute);
  spec.param = NULL;
  spec.out_compute = ET_BOOL;
  spec.in_compute[0] = spec.in_compute[1] = spec.in_compute[2] = compute;
  spec.wrap_dtype = -1;
  const et_tensor *ins[2] = {a, b};
  static const char *const names[2] = {"self", "other"};
  return et_ew_apply(ctx, out, ins, names, 2, &spec);
}

et_status et_compare_scalar_out(et_kernel_ctx *ctx, et_value **args, et_cmp cmp) {
  const et_tensor *a = args[0]->u.t;
  const et_value *s = args[1];
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_resize_like(ctx, out, a, "out"));
  int common = et_promote_type_with_scalar(a->dtype, s);
  int compute = et_ew_compute_dtype(common);
  /* PyTorch converts the scalar to the common dtype first (so an Int8
   * tensor compares with 300 as with 44, and a Half one with 0.1 as with
   * the Half nearest 0.1). */
  union {
    int64_t i;
    double d;
    uint8_t bytes[8];
  } in_common, value;
  in_common.i = 0;
  value.i = 0;
  if (s->tag == ET_TAG_DOUBLE) {
    et_convert(in_common.bytes, common, 1, &s->u.d, ET_DOUBLE, 1, 1);
  } else {
    int64_t iv = et_scalar_to_int64(s);
    et_convert(in_common.bytes, common, 1, &iv, ET_LONG, 1, 1);
  }
  et_convert(value.bytes, compute, 1, in_common.bytes, common, 1, 1);
  et_ew_spec spec;
  spec.fn = et_ew_pick(cmp_fns(cmp, true), compute);
  spec.param = value.bytes;
  spec.out_compute = ET_BOOL;
  spec.in_compute[0] = spec.in_compute[1] = spec.in_compute[2] = compute;
  spec.wrap_dtype = -1;
  const et_tensor *ins[1] = {a};
  static const char *const names[1] = {"self"};
  return et_ew_apply(ctx, out, ins, names, 1, &spec);
}
