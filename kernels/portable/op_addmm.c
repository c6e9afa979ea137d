/*
 * aten::addmm.out(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1,
 *                 Scalar alpha=1, Tensor(a!) out)
 *
 * out = beta * self + alpha * (mat1 @ mat2); self broadcasts to [M, N]. The
 * product is formed first and self added afterwards, the order a BLAS gemm
 * with C = self uses. With beta == 0, self is ignored (NaN included), as in
 * PyTorch.
 */
#include "portable/ops.h"

#include "util/arith_util.h"
#include "util/broadcast_util.h"
#include "util/matmul_util.h"

typedef struct addmm_param {
  et_cval alpha, beta;
} addmm_param;

static void axpby_i64(void *o, const void *const *in, size_t n, const void *p) {
  const addmm_param *q = (const addmm_param *)p;
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0], *b = (const int64_t *)in[1];
  const uint64_t al = (uint64_t)q->alpha.i, be = (uint64_t)q->beta.i;
  for (size_t i = 0; i < n; i++)
    out[i] = (int64_t)(al * (uint64_t)a[i] + be * (uint64_t)b[i]);
}

static void axpby_f32(void *o, const void *const *in, size_t n, const void *p) {
  const addmm_param *q = (const addmm_param *)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0], *b = (const float *)in[1];
  const float al = q->alpha.f, be = q->beta.f;
  if (al == 1.0f && be == 1.0f) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
  } else {
    for (size_t i = 0; i < n; i++) out[i] = al * a[i] + be * b[i];
  }
}

static void axpby_f64(void *o, const void *const *in, size_t n, const void *p) {
  const addmm_param *q = (const addmm_param *)p;
  double *out = (double *)o;
  const double *a = (const double *)in[0], *b = (const double *)in[1];
  for (size_t i = 0; i < n; i++) out[i] = q->alpha.d * a[i] + q->beta.d * b[i];
}

static void scale_i64(void *o, const void *const *in, size_t n, const void *p) {
  int64_t *out = (int64_t *)o;
  const int64_t *a = (const int64_t *)in[0];
  const uint64_t al = (uint64_t)((const addmm_param *)p)->alpha.i;
  for (size_t i = 0; i < n; i++) out[i] = (int64_t)(al * (uint64_t)a[i]);
}

static void scale_f32(void *o, const void *const *in, size_t n, const void *p) {
  float *out = (float *)o;
  const float *a = (const float *)in[0];
  const float al = ((const addmm_param *)p)->alpha.f;
  for (size_t i = 0; i < n; i++) out[i] = al * a[i];
}

static void scale_f64(void *o, const void *const *in, size_t n, const void *p) {
  double *out = (double *)o;
  const double *a = (const double *)in[0];
  const double al = ((const addmm_param *)p)->alpha.d;
  for (size_t i = 0; i < n; i++) out[i] = al * a[i];
}

static const et_ew_fns axpby_fns = {axpby_i64, axpby_f32, axpby_f64, NULL};
static const et_ew_fns scale_fns = {scale_i64, scale_f32, scale_f64, NULL};

static bool is_one(const et_cval *v, int compute) {
  return compute == ET_LONG ? v->i == 1 : compute == ET_FLOAT ? v->f == 1.0f : v->d == 1.0;
}

static bool is_zero(const et_cval *v, int compute) {
  return compute == ET_LONG ? v->i == 0 : compute == ET_FLOAT ? v->f == 0.0f : v->d == 0.0;
}

et_status et_addmm_out_with(et_kernel_ctx *ctx, et_value **args, et_matmul_fn mm) {
  const et_tensor *self = args[0]->u.t, *a = args[1]->u.t, *b = args[2]->u.t;
  et_tensor *out = args[5]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_k_check_rank(ctx, a, 2, 2, "mat1"));
  ET_K_TRY(et_k_check_rank(ctx, b, 2, 2, "mat2"));
  if (a->sizes[1] != b->sizes[0])
    return ET_K_FAIL(ctx, "mat1 [%d, %d] and mat2 [%d, %d] cannot be multiplied",
                     (int)a->sizes[0], (int)a->sizes[1], (int)b->sizes[0],
                     (int)b->sizes[1]);
  ET_K_TRY(et_matmul_check(ctx, a, "mat1", b, "mat2", out));
  ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", out, "out"));
  const int dtype = out->dtype;
  const int compute = et_ew_compute_dtype(dtype);
  addmm_param p;
  ET_K_TRY(et_arith_alpha(ctx, args[3], dtype, &p.beta));
  ET_K_TRY(et_arith_alpha(ctx, args[4], dtype, &p.alpha));

  const int64_t M = a->sizes[0], K = a->sizes[1], N = b->sizes[1];
  const int64_t shape[2] = {M, N};
  ET_K_TRY(et_k_resize(ctx, out, shape, 2, "out"));
  /* self must broadcast to [M, N] */
  int64_t bst[2];
  if (!et_broadcast_strides(self, 2, out->sizes, bst)) {
    char s[64];
    et_k_tensor_shape_str(s, sizeof s, self);
    return ET_K_FAIL(ctx, "self %s does not broadcast to [%lld, %lld]", s, (long long)M,
                     (long long)N);
  }
  if (self->data == out->data && et_tensor_nbytes(out) != 0)
    return ET_K_FAIL(ctx, "out must not share memory with self");
  mm(ctx, dtype, M, N, K, a->data, K, b->data, N, out->data, N);

  const bool use_self = !is_zero(&p.beta, compute);
  if (!use_self && is_one(&p.alpha, compute)) return ET_OK;
  et_ew_spec spec = et_ew_spec_uniform(
      et_ew_pick(use_self ? &axpby_fns : &scale_fns, compute), &p, compute, 2);
  const et_tensor *ins[2] = {out, self};
  static const char *const names[2] = {"mat1 @ mat2", "self"};
  return et_ew_apply(ctx, out, ins, names, use_self ? 2 : 1, &spec);
}

et_status et_op_addmm_out(et_kernel_ctx *ctx, et_value **args) {
  return et_addmm_out_with(ctx, args, et_matmul_exact);
}
