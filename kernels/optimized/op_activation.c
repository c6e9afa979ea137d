/*
 * aten::exp.out, aten::sigmoid.out, aten::tanh.out, aten::gelu.out: float32
 * inputs run the portable element-wise machinery (checks, resize, any
 * layout) with the CPU backend's vector functions (xnn_vec.h, within 4 ulp;
 * GELU's erf within 1.5e-7); every other dtype is the portable kernel's.
 */
#include "optimized/optimized.h"

#include "portable/ops.h"
#include "util/elementwise_util.h"
#include "util/shape_util.h"
#include "xnn_vec.h"

#include <string.h>

#define DEFINE_VEC_UNARY(name, FN)                                             \
  static void name##_f32(void *o, const void *const *in, size_t n, const void *p) { \
    (void)p;                                                                   \
    et_xnn_vfn_pick(FN)(n, (const float *)in[0], (float *)o);                  \
  }                                                                            \
  static const et_ew_fns name##_fns = {NULL, name##_f32, NULL, NULL};

DEFINE_VEC_UNARY(exp, ET_XNN_V_EXP)
DEFINE_VEC_UNARY(sigmoid, ET_XNN_V_SIGMOID)
DEFINE_VEC_UNARY(tanh, ET_XNN_V_TANH)
DEFINE_VEC_UNARY(gelu, ET_XNN_V_GELU)

/* Float in, Float out: the vector function; else the portable kernel. */
static et_status float_unary(et_kernel_ctx *ctx, et_value **args, const et_tensor *out,
                             const et_ew_fns *fns, et_kernel_fn portable) {
  const et_tensor *a = args[0]->u.t;
  if (a->dtype != ET_FLOAT || out->dtype != ET_FLOAT) return portable(ctx, args);
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  return et_ew_unary(ctx, a, (et_tensor *)out, ET_FLOAT, ET_FLOAT, fns, NULL);
}

et_status et_opt_exp_out(et_kernel_ctx *ctx, et_value **args) {
  return float_unary(ctx, args, args[1]->u.t, &exp_fns, et_op_exp_out);
}

et_status et_opt_sigmoid_out(et_kernel_ctx *ctx, et_value **args) {
  return float_unary(ctx, args, args[1]->u.t, &sigmoid_fns, et_op_sigmoid_out);
}

et_status et_opt_tanh_out(et_kernel_ctx *ctx, et_value **args) {
  return float_unary(ctx, args, args[1]->u.t, &tanh_fns, et_op_tanh_out);
}

et_status et_opt_gelu_out(et_kernel_ctx *ctx, et_value **args) {
  const et_value *approx = args[1];
  const bool none = approx->u.str.len == 4 && memcmp(approx->u.str.ptr, "none", 4) == 0;
  if (!none) return et_op_gelu_out(ctx, args); /* "tanh" and errors */
  const et_tensor *a = args[0]->u.t, *out = args[2]->u.t;
  if (a->dtype != ET_FLOAT || out->dtype != ET_FLOAT) return et_op_gelu_out(ctx, args);
  ET_K_TRY(et_k_check_tensor(ctx, a, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  return et_ew_unary(ctx, a, (et_tensor *)out, ET_FLOAT, ET_FLOAT, &gelu_fns, NULL);
}
