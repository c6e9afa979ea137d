/*
 * aten::arange.out(Scalar end, *, Tensor(a!) out)
 * aten::arange.start_out(Scalar start, Scalar end, Scalar step=1, *,
 *                        Tensor(a!) out)
 *
 * out = [start, start + step, ...) up to end (exclusive), resized to
 * ceil((end - start) / step) elements. Values are computed as
 * start + i * step in int64 for integer outs and in double otherwise (as
 * PyTorch's CPU kernel), then stored in out's dtype.
 */
#include "portable/ops.h"

#include "util/scalar_util.h"
#include "util/shape_util.h"

#include <math.h>

static et_status arange(et_kernel_ctx *ctx, const et_value *vs, const et_value *ve,
                        const et_value *vstep, et_tensor *out) {
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (out->dtype == ET_BOOL) return ET_K_FAIL(ctx, "out: Bool is not supported");
  const double start = et_scalar_to_double(vs), end = et_scalar_to_double(ve);
  const double step = vstep ? et_scalar_to_double(vstep) : 1.0;
  if (!(start - start == 0) || !(end - end == 0))
    return ET_K_FAIL(ctx, "start and end must be finite");
  if (step == 0 || step != step) return ET_K_FAIL(ctx, "step must be nonzero");
  if ((step > 0 && end < start) || (step < 0 && end > start))
    return ET_K_FAIL(ctx, "upper bound and lower bound are inconsistent with the step sign");
  const bool integral = et_dtype_is_integral(out->dtype, false);
  double n_d;
  if (integral && et_scalar_is_integral(vs) && et_scalar_is_integral(ve) &&
      (!vstep || et_scalar_is_integral(vstep))) {
    const int64_t s = vs->u.i, e = ve->u.i, st = vstep ? vstep->u.i : 1;
    n_d = ceil((double)(e - s) / (double)st);
  } else {
    n_d = ceil((end - start) / step);
  }
  if (!(n_d >= 0 && n_d <= (double)INT32_MAX))
    return ET_K_FAIL(ctx, "the number of elements is out of range");
  const int64_t n = (int64_t)n_d;
  if (out->rank != 1) return ET_K_FAIL(ctx, "out: expected rank 1, got %u", (unsigned)out->rank);
  ET_K_TRY(et_k_resize(ctx, out, &n, 1, "out"));
  const size_t es = et_dtype_size(out->dtype);
  char *o = (char *)out->data;
  /* values are formed in chunks, then converted to out's dtype */
  union {
    int64_t i[64];
    double d[64];
  } buf;
  for (int64_t c = 0; c < n; c += 64) {
    const int64_t m = n - c < 64 ? n - c : 64;
    if (integral) {
      const uint64_t s = (uint64_t)et_scalar_to_int64(vs);
      const uint64_t st = vstep ? (uint64_t)et_scalar_to_int64(vstep) : 1u;
      for (int64_t k = 0; k < m; k++) buf.i[k] = (int64_t)(s + (uint64_t)(c + k) * st);
      et_convert(o + c * (int64_t)es, out->dtype, 1, buf.i, ET_LONG, 1, (size_t)m);
    } else {
      for (int64_t k = 0; k < m; k++) buf.d[k] = start + (double)(c + k) * step;
      et_convert(o + c * (int64_t)es, out->dtype, 1, buf.d, ET_DOUBLE, 1, (size_t)m);
    }
  }
  return ET_OK;
}

et_status et_op_arange_out(et_kernel_ctx *ctx, et_value **args) {
  et_value zero;
  zero.tag = ET_TAG_INT;
  zero.u.i = 0;
  return arange(ctx, &zero, args[0], NULL, args[1]->u.t);
}

et_status et_op_arange_start_out(et_kernel_ctx *ctx, et_value **args) {
  return arange(ctx, args[0], args[1], args[2], args[3]->u.t);
}
