/*
 * quantized_decomposed::mixed_mm.out(Tensor input, Tensor weight,
 *     Tensor weight_scales, Tensor? weight_zero_points, *, Tensor(a!) out)
 *
 * out[i][j] = sum_k input[i][k] * weight[k][j] * weight_scales[k], with
 * input (m, n) Float or Half, weight (n, p) Char, weight_scales (n) and out
 * (m, p) of input's dtype. PyTorch registers no kernel for this op: the
 * semantics are upstream's (kernels/quantized/cpu/op_mixed_mm.cpp), and so
 * is the arithmetic: a sequential sum over k of (x * w) * s in the input's
 * dtype (Half rounds after every operation, as c10::Half does). Weight zero
 * points are refused, as upstream refuses them.
 */
#include "quantized/ops.h"

#include "quantized/quant_util.h"

et_status et_q_mixed_mm_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *w = args[1]->u.t, *s = args[2]->u.t;
  et_tensor *out = args[4]->u.t;
  ET_K_TRY(et_q_check_mixed(ctx, in, w, s, out));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", out, "out"));
  if (args[3]->tag != ET_TAG_NONE)
    return ET_K_FAIL(ctx, "weight_zero_points: not supported (must be None)");
  if (in->rank != 2 || w->rank != 2 || s->rank != 1 || out->rank != 2)
    return ET_K_FAIL(ctx, "expected input, weight and out of rank 2 and weight_scales of "
                          "rank 1, got %u, %u, %u and %u", (unsigned)in->rank,
                     (unsigned)w->rank, (unsigned)out->rank, (unsigned)s->rank);
  if (in->sizes[1] != w->sizes[0] || s->sizes[0] != w->sizes[0])
    return ET_K_FAIL(ctx, "input (%d, %d), weight (%d, %d) and weight_scales (%d) do not "
                          "match", (int)in->sizes[0], (int)in->sizes[1], (int)w->sizes[0],
                     (int)w->sizes[1], (int)s->sizes[0]);
  const int64_t sizes[2] = {in->sizes[0], w->sizes[1]};
  ET_K_TRY(et_k_resize(ctx, out, sizes, 2, "out"));

  const size_t m = (size_t)in->sizes[0], n = (size_t)in->sizes[1], p = (size_t)w->sizes[1];
  const int8_t *y = (const int8_t *)w->data;
  const int dt = in->dtype;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < p; j++) {
      float sum = 0.0f;
      for (size_t k = 0; k < n; k++) {
        const float x = et_q_get_f(in->data, dt, i * n + k);
        const float t = et_round_to_dtype(dt, x * (float)y[k * p + j]);
        sum = et_round_to_dtype(dt, sum + et_round_to_dtype(dt, t * et_q_get_f(s->data, dt, k)));
      }
      et_q_put_f(out->data, dt, i * p + j, sum);
    }
  return ET_OK;
}
