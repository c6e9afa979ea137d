/*
 * quantized_decomposed::mixed_linear.out(Tensor input, Tensor weight,
 *     Tensor weight_scales, Tensor? weight_zero_points,
 *     ScalarType? dtype=None, *, Tensor(a!) out)
 *
 * out[i][j] = sum over groups of (sum_{k in group} input[i][k] *
 * weight[j][k]) * weight_scales[j][group], with input (m, n) Float or Half,
 * weight (p, n) Char, weight_scales (p) or (p, G) of input's dtype, groups
 * of g = ceil(n / G) columns (scale index j * ceil(n / g) + k / g), and out
 * (m, p) of dtype `dtype` (Float, Double or Half; out's dtype when None).
 * PyTorch registers no kernel for this op: the semantics and the arithmetic
 * are upstream's (kernels/quantized/cpu/op_mixed_linear.cpp): products in
 * the input's dtype, partial and total sums in the out dtype, each
 * operation rounded to its C++ result type (Half as c10::Half does).
 * Weight zero points are refused, as upstream refuses them.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

/* v rounded to dtype (Half, Float or Double), carried as double. Rounding an
 * exact double result of one operation on two floats to float (or on two
 * halves to half) equals the direct float (half) operation. */
static double rnd(int dtype, double v) {
  if (dtype == ET_DOUBLE) return v;
  return (double)et_round_to_dtype(dtype, (float)v);
}

/* The wider of two of Half, Float, Double. */
static int wider(int a, int b) {
  if (a == ET_DOUBLE || b == ET_DOUBLE) return ET_DOUBLE;
  if (a == ET_FLOAT || b == ET_FLOAT) return ET_FLOAT;
  return ET_HALF;
}

et_status et_q_mixed_linear_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *w = args[1]->u.t, *s = args[2]->u.t;
  et_tensor *out = args[5]->u.t;
  ET_K_TRY(et_q_check_mixed(ctx, in, w, s, out));
  int out_dtype = out->dtype;
  if (args[4]->tag != ET_TAG_NONE) {
    ET_K_TRY(et_q_dtype_arg(ctx, args[4], "dtype", &out_dtype));
    if (out->dtype != out_dtype)
      return ET_K_FAIL(ctx, "out: dtype %s does not match dtype %s",
                       et_dtype_name(out->dtype), et_dtype_name(out_dtype));
  }
  if (out_dtype != ET_FLOAT && out_dtype != ET_DOUBLE && out_dtype != ET_HALF)
    return ET_K_FAIL(ctx, "out: expected dtype Float, Double or Half, got %s",
                     et_dtype_name(out_dtype));
  if (args[3]->tag != ET_TAG_NONE)
    return ET_K_FAIL(ctx, "weight_zero_points: not supported (must be None)");
  if (in->rank != 2 || w->rank != 2 || out->rank != 2 || (s->rank != 1 && s->rank != 2))
    return ET_K_FAIL(ctx, "expected input, weight and out of rank 2 and weight_scales of "
                          "rank 1 or 2, got %u, %u, %u and %u", (unsigned)in->rank,
                     (unsigned)w->rank, (unsigned)out->rank, (unsigned)s->rank);
  if (in->sizes[1] != w->sizes[1] || s->sizes[0] != w->sizes[0])
    return ET_K_FAIL(ctx, "input (%d, %d), weight (%d, %d) and weight_scales (%d, ...) do "
                          "not match", (int)in->sizes[0], (int)in->sizes[1],
                     (int)w->sizes[0], (int)w->sizes[1], (int)s->sizes[0]);
  const size_t m = (size_t)in->sizes[0], n = (size_t)in->sizes[1], p = (size_t)w->sizes[0];
  const size_t G = s->rank == 2 ? (size_t)s->sizes[1] : 1;
  if (G == 0 && n > 0 && p > 0)
    return ET_K_FAIL(ctx, "weight_scales: no groups for %zu columns", n);
  const int64_t sizes[2] = {(int64_t)m, (int64_t)p};
  ET_K_TRY(et_k_resize(ctx, out, sizes, 2, "out"));
  if (n == 0 || p == 0 || m == 0) {
    for (size_t i = 0; i < m * p; i++) et_q_put_real(out->data, out_dtype, i, 0.0);
    return ET_OK;
  }

  const size_t g = (n + G - 1) / G, n_over_g = (n + g - 1) / g;
  const int8_t *y = (const int8_t *)w->data;
  const int U = in->dtype, T = out_dtype, TU = wider(T, U);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < p; j++) {
      double sum = 0.0;
      for (size_t k = 0; k < n; k += g) {
        double psum = 0.0;
        const size_t end = k + g < n ? k + g : n;
        for (size_t k2 = k; k2 < end; k2++) {
          const double prod =
              rnd(U, (double)et_q_get_f(in->data, U, i * n + k2) * (double)y[j * n + k2]);
          psum = rnd(wider(T, U), psum + prod);
          psum = rnd(T, psum);
        }
        const double sc = et_q_get_f(s->data, U, j * n_over_g + k / g);
        sum = rnd(T, rnd(TU, sum + rnd(TU, psum * sc)));
      }
      et_q_put_real(out->data, T, i * p + j, sum);
    }
  return ET_OK;
}
