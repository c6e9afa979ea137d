/*
 * aten::max_pool2d_with_indices_backward.grad_input(Tensor grad_output,
 *     Tensor self, int[2] kernel_size, int[2] stride, int[2] padding,
 *     int[2] dilation, bool ceil_mode, Tensor indices, *,
 *     Tensor(a!) grad_input)
 *
 * Routes each element of grad_output to the input position its indices
 * entry names (a flat h * W + w within the plane, as max_pool2d_with_indices
 * produces) and sums what lands on the same position; everything else is
 * zero. The pooling arguments are checked as max_pool2d_with_indices does
 * and grad_output / indices must have its output shape. An index outside
 * the plane is refused (PyTorch's CPU kernel does not check it). Sums run
 * in the gradient's dtype, element by element in output order, as
 * PyTorch's CPU kernel does. Floating dtypes; contiguous tensors.
 */
#include "portable/ops.h"

#include "util/pool_util.h"
#include "util/shape_util.h"

#include <string.h>

#define DEFINE_MPB(E, T, S)                                                    \
  static void mpb_##S(const T *go, const int64_t *ind, T *gi, int64_t planes, int64_t in_plane, \
                      int64_t out_plane) {                                     \
    for (int64_t c = 0; c < planes; c++) {                                     \
      const T *g = go + c * out_plane;                                         \
      const int64_t *ip = ind + c * out_plane;                                 \
      T *dst = gi + c * in_plane;                                              \
      for (int64_t i = 0; i < out_plane; i++)                                  \
        dst[ip[i]] = ET_ST(S, ET_LD(S, dst[ip[i]]) + ET_LD(S, g[i]));          \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_MPB)

et_status et_op_max_pool2d_with_indices_backward_grad_input(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *go = args[0]->u.t, *in = args[1]->u.t, *ind = args[7]->u.t;
  et_tensor *gi = args[8]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, go, "grad_output"));
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, ind, "indices"));
  ET_K_TRY(et_k_check_tensor(ctx, gi, "grad_input"));
  ET_K_TRY(et_k_check_floating(ctx, in, "self"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", go, "grad_output"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", gi, "grad_input"));
  ET_K_TRY(et_k_check_dtype(ctx, ind, ET_LONG, "indices"));
  et_pool2d p;
  int64_t osz[4];
  ET_K_TRY(et_pool2d_init(ctx, in, args[2], args[3], args[4], args[5], args[6]->u.b, &p, osz));
  ET_K_TRY(et_k_check_contiguous(ctx, go, "grad_output"));
  ET_K_TRY(et_k_check_contiguous(ctx, ind, "indices"));
  ET_K_TRY(et_k_check_contiguous(ctx, gi, "grad_input"));
  const et_tensor *chk[2] = {go, ind};
  const char *chk_names[2] = {"grad_output", "indices"};
  for (int k = 0; k < 2; k++) {
    bool ok = chk[k]->rank == in->rank;
    for (uint32_t d = 0; ok && d < in->rank; d++) ok = chk[k]->sizes[d] == osz[d];
    if (!ok) {
      char have[96], want[96];
      et_k_tensor_shape_str(have, sizeof have, chk[k]);
      et_k_shape_str(want, sizeof want, osz, in->rank);
      return ET_K_FAIL(ctx, "%s %s does not match the pooling output shape %s", chk_names[k],
                       have, want);
    }
  }
  ET_K_TRY(et_k_resize_like(ctx, gi, in, "grad_input"));
  const int64_t in_plane = p.H * p.W, out_plane = p.OH * p.OW;
  const int64_t *ip = (const int64_t *)ind->data;
  const int64_t total = p.C * out_plane;
  for (int64_t i = 0; i < total; i++)
    if (ip[i] < 0 || ip[i] >= in_plane)
      return ET_K_FAIL(ctx, "indices[%lld] = %lld is outside the input plane of %lld elements",
                       (long long)i, (long long)ip[i], (long long)in_plane);
  if (gi->data == go->data || gi->data == in->data || gi->data == ind->data)
    return ET_K_FAIL(ctx, "grad_input must not share memory with the inputs");
  memset(gi->data, 0, et_tensor_nbytes(gi));
  switch (in->dtype) {
#define CASE_MPB(E, T, S)                                                      \
  case E:                                                                      \
    mpb_##S((const T *)go->data, ip, (T *)gi->data, p.C, in_plane, out_plane); \
    break;
    ET_FOREACH_FLOATHBF16(CASE_MPB)
  default:
    break;
  }
  return ET_OK;
}
