/*
 * aten::prod.out(Tensor self, *, ScalarType? dtype=None, Tensor(a!) out)
 * aten::prod.int_out(Tensor self, int dim, bool keepdim=False, *,
 *                    ScalarType? dtype=None, Tensor(a!) out)
 *
 * Product over every dim (0-dim out) or along `dim`. As in PyTorch, without
 * `dtype` an integral or Bool self gives a Long out and a floating self its
 * own dtype; with `dtype`, out must have that dtype. Integers multiply in
 * int64 (wrapping), Float/Half/BFloat16 in float, Double in double, in
 * element order. The product of nothing is 1. Any dim order.
 */
#include "portable/ops.h"

#include "util/reduce_util.h"
#include "util/shape_util.h"

#define CHUNK 64

/* acc *= product of n elements at src. */
static void prod_run(et_cval *acc, int acc_dt, const void *src, int src_dtype,
                     int64_t stride, int64_t n) {
  union {
    int64_t i[CHUNK];
    float f[CHUNK];
    double d[CHUNK];
  } buf;
  const int64_t es = (int64_t)et_dtype_size(src_dtype);
  for (int64_t c = 0; c < n; c += CHUNK) {
    const int64_t m = n - c < CHUNK ? n - c : CHUNK;
    et_convert(&buf, acc_dt, 1, (const char *)src + c * stride * es, src_dtype, stride,
               (size_t)m);
    if (acc_dt == ET_FLOAT) {
      float p = acc->f;
      for (int64_t k = 0; k < m; k++) p *= buf.f[k];
      acc->f = p;
    } else if (acc_dt == ET_DOUBLE) {
      double p = acc->d;
      for (int64_t k = 0; k < m; k++) p *= buf.d[k];
      acc->d = p;
    } else {
      uint64_t p = (uint64_t)acc->i; /* wraps like int64 without UB */
      for (int64_t k = 0; k < m; k++) p *= (uint64_t)buf.i[k];
      acc->i = (int64_t)p;
    }
  }
}

static et_status prod_impl(et_kernel_ctx *ctx, const et_tensor *in, const et_value *dim,
                           bool keepdim, const et_value *dtype, et_tensor *out) {
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  if (dtype->tag == ET_TAG_INT) {
    if (dtype->u.i != out->dtype)
      return ET_K_FAIL(ctx, "dtype %s given but out has dtype %s",
                       et_dtype_name((int)dtype->u.i), et_dtype_name(out->dtype));
  } else if (et_dtype_is_integral(in->dtype, true)) {
    if (out->dtype != ET_LONG)
      return ET_K_FAIL(ctx, "out: expected dtype Long for %s self, got %s",
                       et_dtype_name(in->dtype), et_dtype_name(out->dtype));
  } else {
    ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  }
  uint32_t mask;
  ET_K_TRY(et_reduce_mask(ctx, in, dim, "dim", &mask));
  et_reduce_plan p;
  ET_K_TRY(et_reduce_plan_init(ctx, &p, in, mask, keepdim, out));
  const int acc_dt = et_reduce_acc_dtype(out->dtype);
  const int64_t ies = (int64_t)et_dtype_size(in->dtype), oes = (int64_t)et_dtype_size(out->dtype);
  if (p.outer.inner == 0) return ET_OK;
  do {
    for (int64_t j = 0; j < p.outer.inner; j++) {
      const int64_t o = p.outer.off[0] + j * p.outer.inner_stride[0];
      const int64_t base = p.outer.off[1] + j * p.outer.inner_stride[1];
      et_cval acc;
      acc.d = 1;
      if (acc_dt == ET_FLOAT) acc.f = 1;
      else if (acc_dt == ET_LONG) acc.i = 1;
      et_nd_iter_reset(&p.red);
      if (p.red.inner > 0) do {
          prod_run(&acc, acc_dt, (const char *)in->data + (base + p.red.off[0]) * ies,
                   in->dtype, p.red.inner_stride[0], p.red.inner);
        } while (et_nd_iter_next(&p.red));
      et_convert((char *)out->data + o * oes, out->dtype, 1, &acc, acc_dt, 1, 1);
    }
  } while (et_nd_iter_next(&p.outer));
  return ET_OK;
}

et_status et_op_prod_out(et_kernel_ctx *ctx, et_value **args) {
  return prod_impl(ctx, args[0]->u.t, NULL, false, args[1], args[2]->u.t);
}

et_status et_op_prod_int_out(et_kernel_ctx *ctx, et_value **args) {
  return prod_impl(ctx, args[0]->u.t, args[1], args[2]->u.b, args[3], args[4]->u.t);
}
