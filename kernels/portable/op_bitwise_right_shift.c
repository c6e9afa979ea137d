/*
 * aten::bitwise_right_shift.Tensor_out(Tensor self, Tensor other, *,
 *                                     Tensor(a!) out)
 * aten::bitwise_right_shift.Tensor_Scalar_out(Tensor self, Scalar other, *,
 *                                            Tensor(a!) out)
 *
 * self >> other on the promoted integer dtype (Bool and floating operands
 * are refused, as in PyTorch). A scalar shift is first converted to that
 * dtype (an Int8 tensor shifted by 257 shifts by 1). Shift amounts outside
 * [0, bits of the dtype) behave as PyTorch on CPU, without undefined
 * behaviour: a left shift gives 0, a right shift gives -1 for negative
 * values of signed dtypes and 0 otherwise.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/math_util.h"

typedef struct shift_param {
  int64_t amount; /* Tensor_Scalar_out: the shift, in the promoted dtype */
  int64_t bits;   /* width of the promoted dtype */
} shift_param;

static inline int64_t shift1(int64_t x, int64_t y, int64_t bits) {
  /* values are in the promoted dtype's range, so an unsigned (Byte) value
   * is never negative here; ~(~x >> y) is an arithmetic shift in portable C */
  if (y < 0 || y >= bits) return x < 0 ? -1 : 0;
  return x < 0 ? ~(~x >> y) : x >> y;
}

static void shr_tt(void *o, const void *const *in, size_t n, const void *p) {
  const int64_t bits = ((const shift_param *)p)->bits;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0], *b = (const int64_t *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = shift1(a[i], b[i], bits);
}

static void shr_ts(void *o, const void *const *in, size_t n, const void *p) {
  const int64_t bits = ((const shift_param *)p)->bits;
  const int64_t y = ((const shift_param *)p)->amount;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = shift1(a[i], y, bits);
}

static const et_ew_fns shr_tt_fns = {shr_tt, NULL, NULL, NULL};
static const et_ew_fns shr_ts_fns = {shr_ts, NULL, NULL, NULL};

static et_status check_common(et_kernel_ctx *ctx, int common, shift_param *p) {
  if (!et_dtype_is_integral(common, false))
    return ET_K_FAIL(ctx, "bitwise_right_shift needs integer operands, got %s",
                     et_dtype_name(common));
  p->bits = (int64_t)et_dtype_size(common) * 8;
  return ET_OK;
}

et_status et_op_bitwise_right_shift_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t, *b = args[1]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  shift_param p;
  ET_K_TRY(et_arith_common(ctx, a, b, out, &common));
  ET_K_TRY(check_common(ctx, common, &p));
  p.amount = 0;
  return et_ew_binary(ctx, a, b, out, common, &shr_tt_fns, &p);
}

et_status et_op_bitwise_right_shift_tensor_scalar_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *a = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  int common;
  shift_param p;
  ET_K_TRY(et_arith_common_scalar(ctx, a, args[1], out, &common));
  ET_K_TRY(check_common(ctx, common, &p));
  p.amount = et_scalar_via_dtype(args[1], common).i;
  return et_ew_unary(ctx, a, out, common, ET_LONG, &shr_ts_fns, &p);
}
