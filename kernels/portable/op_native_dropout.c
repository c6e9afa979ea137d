/*
 * aten::native_dropout.out(Tensor input, float p, bool? train, *,
 *                          Tensor(a!) out0, Tensor(b!) out1)
 *
 * out1 is the Bool keep-mask, out0 = input where kept, scaled by
 * 1 / (1 - p) (0 when p = 1), else 0: PyTorch's contract. (Upstream
 * ExecuTorch's portable kernel keeps the same mask but does not rescale.)
 *
 * When train is False, or p = 0, out0 is a copy of input and the mask is
 * all true (any dtype). Otherwise each element is kept with probability
 * 1 - p (Float, Double, Half, BFloat16). Kernels own no generator state, so
 * the uniform draws come from the counter-based stream of random_util.h
 * with a seed made per call from et_pal_time_ns(), the buffers' addresses
 * and the first bytes of the input: different from call to call on a platform with a clock, but a
 * deterministic function of the input and buffers on one without. p must
 * lie in [0, 1]. out0 and out1 have input's shape and dim order.
 */
#include "portable/ops.h"

#include "util/scalar_util.h"

#include "util/random_util.h"
#include "util/shape_util.h"

#include <edgetorch/pal.h>

/* uniform in [0, 1) with 53 random bits: draw i of the stream `seed` */
static inline double uniform(uint64_t seed, size_t i) {
  return (double)(et_rand_u64(seed, (uint64_t)i) >> 11) * (1.0 / 9007199254740992.0);
}

#define DEFINE_DROP(E, T, S)                                                   \
  static void drop_##S(const T *x, T *y, et_bool8 *m, size_t n, double p, uint64_t seed) { \
    typedef ET_CT(S) ct;                                                       \
    const ct scale = p == 1 ? (ct)0 : (ct)(1.0 / (1.0 - p));                   \
    for (size_t i = 0; i < n; i++) {                                           \
      const bool keep = uniform(seed, i) >= p;                                 \
      m[i] = keep;                                                             \
      y[i] = keep ? ET_ST(S, ET_LD(S, x[i]) * scale) : ET_ST(S, (ct)0);        \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_DROP)

et_status et_op_native_dropout_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const double p = args[1]->u.d;
  const bool train = args[2]->tag != ET_TAG_BOOL || args[2]->u.b;
  et_tensor *out = args[3]->u.t, *mask = args[4]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "input"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out0"));
  ET_K_TRY(et_k_check_tensor(ctx, mask, "out1"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "input", out, "out0"));
  ET_K_TRY(et_k_check_dtype(ctx, mask, ET_BOOL, "out1"));
  if (!(p >= 0 && p <= 1))
    return ET_K_FAIL(ctx, "p: dropout probability has to be between 0 and 1, got %s", et_double_str((char[ET_DOUBLE_STR_CAP]){0}, ET_DOUBLE_STR_CAP, p));
  ET_K_TRY(et_k_check_same_dim_order(ctx, in, "input", out, "out0"));
  ET_K_TRY(et_k_check_same_dim_order(ctx, in, "input", mask, "out1"));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out0"));
  ET_K_TRY(et_k_resize_like(ctx, mask, in, "out1"));
  const size_t n = et_tensor_numel(in);
  if (n == 0) return ET_OK;
  /* same shape and dim order: element i of each buffer is the same element */
  if (!train || p == 0) {
    if (out->data != in->data) memmove(out->data, in->data, et_tensor_nbytes(in));
    memset(mask->data, 1, n);
    return ET_OK;
  }
  ET_K_TRY(et_k_check_floating(ctx, in, "input"));
  uint64_t seed = et_pal_time_ns() ^ (uint64_t)(uintptr_t)out->data ^
                  ((uint64_t)(uintptr_t)mask->data << 17) ^ (uint64_t)(uintptr_t)&seed;
  const size_t nb = et_tensor_nbytes(in) < 64 ? et_tensor_nbytes(in) : 64;
  for (size_t i = 0; i < nb; i++) {
    seed = (seed ^ ((const uint8_t *)in->data)[i]) * 0x100000001b3ull;
  }
  switch (in->dtype) {
#define CASE_DROP(E, T, S)                                                     \
  case E:                                                                      \
    drop_##S((const T *)in->data, (T *)out->data, (et_bool8 *)mask->data, n, p, seed); \
    break;
    ET_FOREACH_FLOATHBF16(CASE_DROP)
  default:
    break;
  }
  return ET_OK;
}
