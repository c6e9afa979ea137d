/*
 * aten::_adaptive_avg_pool2d.out(Tensor self, SymInt[2] output_size, *,
 *                                Tensor(a!) out)
 *
 * Output cell (oh, ow) averages input rows [floor(oh*H/OH), ceil((oh+1)*H/OH))
 * and the same for columns, as PyTorch (sum / kh / kw, in float or double).
 * [C, H, W] or [N, C, H, W], contiguous or channels-last.
 */
#include "portable/ops.h"

#include "util/layout_util.h"
#include "util/shape_util.h"

#define DEFINE_AAP(E, T, S)                                                    \
  static void aap_##S(const T *x, const int64_t *xs, T *y, const int64_t *ys, int64_t C, \
                      int64_t chans, int64_t H, int64_t W, int64_t OH, int64_t OW) { \
    typedef ET_CT(S) acc_t;                                                    \
    for (int64_t c = 0; c < C; c++) {                                          \
      const T *xp = x + et_k_plane_offset(xs, chans, c);                       \
      for (int64_t oh = 0; oh < OH; oh++) {                                    \
        const int64_t h0 = (oh * H) / OH, h1 = ((oh + 1) * H + OH - 1) / OH;   \
        for (int64_t ow = 0; ow < OW; ow++) {                                  \
          const int64_t w0 = (ow * W) / OW, w1 = ((ow + 1) * W + OW - 1) / OW; \
          acc_t sum = 0;                                                       \
          for (int64_t h = h0; h < h1; h++)                                    \
            for (int64_t w = w0; w < w1; w++) sum += ET_LD(S, xp[h * xs[2] + w * xs[3]]); \
          y[et_k_plane_offset(ys, chans, c) + oh * ys[2] + ow * ys[3]] =       \
              ET_ST(S, sum / (acc_t)(h1 - h0) / (acc_t)(w1 - w0));             \
        }                                                                      \
      }                                                                        \
    }                                                                          \
  }
ET_FOREACH_FLOATHBF16(DEFINE_AAP)

et_status et_op_adaptive_avg_pool2d_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, in, "self"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  ET_K_TRY(et_k_check_rank(ctx, in, 3, 4, "self"));
  int64_t os[ET_MAX_RANK];
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, args[1], os, ET_MAX_RANK, &n, "output_size"));
  if (n != 2) return ET_K_FAIL(ctx, "output_size: expected 2 values, got %zu", n);
  if (os[0] < 0 || os[1] < 0) return ET_K_FAIL(ctx, "output_size: must be non-negative");
  const uint32_t r = in->rank;
  const int64_t H = in->sizes[r - 2], W = in->sizes[r - 1];
  if (H <= 0 || W <= 0) return ET_K_FAIL(ctx, "self: spatial dims must be non-empty");
  int64_t osz[4];
  for (uint32_t i = 0; i < r - 2; i++) osz[i] = in->sizes[i];
  osz[r - 2] = os[0];
  osz[r - 1] = os[1];
  ET_K_TRY(et_k_resize(ctx, out, osz, r, "out"));
  const int64_t C = in->sizes[r - 3] * (r == 4 ? in->sizes[0] : 1);
  int64_t xs[4], ys[4];
  et_k_nchw_strides(in, xs);
  et_k_nchw_strides(out, ys);
  switch (in->dtype) {
#define CASE_AAP(E, T, S)                                                      \
  case E:                                                                      \
    aap_##S((const T *)in->data, xs, (T *)out->data, ys, C, in->sizes[r - 3], H, W, os[0], \
            os[1]);                                                            \
    break;
    ET_FOREACH_FLOATHBF16(CASE_AAP)
  default:
    break;
  }
  return ET_OK;
}
