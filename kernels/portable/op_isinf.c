/*
 * aten::isinf.out(Tensor self, *, Tensor(a!) out): true where x is +inf or -inf.
 * Any real or Bool input (integers and Bool give false); out must be Bool.
 */
#include "portable/ops.h"

#include "util/elementwise_util.h"
#include "util/shape_util.h"

#include <math.h>

static void isinf_i64(void *o, const void *const *in, size_t n, const void *p) {
  (void)in;
  (void)p;
  et_bool8 *out = (et_bool8 *)o;
  for (size_t i = 0; i < n; i++) out[i] = 0;
}

static void isinf_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  et_bool8 *out = (et_bool8 *)o;
  const float *a = (const float *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = (et_bool8)(isinf(a[i]));
}

static void isinf_f64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  et_bool8 *out = (et_bool8 *)o;
  const double *a = (const double *)in[0];
  for (size_t i = 0; i < n; i++) out[i] = (et_bool8)(isinf(a[i]));
}

static const et_ew_fns isinf_fns = {isinf_i64, isinf_f32, isinf_f64, NULL};

et_status et_op_isinf_out(et_kernel_ctx *ctx, et_value **args) {
  return et_ew_predicate(ctx, args[0]->u.t, args[1]->u.t, &isinf_fns);
}
