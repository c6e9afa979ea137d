/*
 * aten::glu.out(Tensor self, int dim=-1, *, Tensor(a!) out)
 *
 * Gated linear unit: self is split in halves a, b along dim (whose size
 * must be even) and out = a * sigmoid(b), with dim halved. Floating dtypes
 * only; out must be floating. The halves are strided views of self, so any
 * dim order works without a copy.
 */
#include "portable/ops.h"

#include "util/elementwise_util.h"
#include "util/shape_util.h"

#include <math.h>

static void glu_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0], *b = (const float *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = a[i] * (1.0f / (1.0f + expf(-b[i])));
}

static void glu_f64(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0], *b = (const double *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = a[i] * (1.0 / (1.0 + exp(-b[i])));
}

static const et_ew_fns glu_fns = {NULL, glu_f32, glu_f64, NULL};

et_status et_op_glu_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *self = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, self, "self"));
  ET_K_TRY(et_k_check_floating(ctx, out, "out"));
  if (self->rank == 0) return ET_K_FAIL(ctx, "self: glu does not support rank-0 tensors");
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[1]->u.i, self->rank, "dim", &dim));
  const int32_t size = self->sizes[dim];
  if (size % 2 != 0)
    return ET_K_FAIL(ctx, "halving dimension must be even, but dimension %lld is size %d",
                     (long long)dim, (int)size);

  int64_t shape[ET_MAX_RANK];
  et_k_sizes64(self, shape);
  shape[dim] = size / 2;
  ET_K_TRY(et_k_resize(ctx, out, shape, self->rank, "out"));

  /* the two halves: self's strides, half the size along dim */
  int32_t half_sizes[ET_MAX_RANK];
  for (uint32_t d = 0; d < self->rank; d++) half_sizes[d] = self->sizes[d];
  half_sizes[dim] = size / 2;
  et_tensor a = *self, b = *self;
  a.sizes = half_sizes;
  b.sizes = half_sizes;
  if (size > 0)
    b.data = (char *)self->data +
             (size_t)(size / 2) * (size_t)self->strides[dim] * et_dtype_size(self->dtype);
  const int compute = self->dtype == ET_DOUBLE ? ET_DOUBLE : ET_FLOAT;
  et_ew_spec spec = et_ew_spec_uniform(et_ew_pick(&glu_fns, compute), NULL, compute, 2);
  const et_tensor *ins[2] = {&a, &b};
  static const char *const names[2] = {"first half of self", "second half of self"};
  return et_ew_apply(ctx, out, ins, names, 2, &spec);
}
