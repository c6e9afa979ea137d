/*
 * aten::upsample_nearest2d.vec_out(Tensor input, SymInt[]? output_size,
 *     float[]? scale_factors, *, Tensor(a!) out)
 *
 * Nearest-neighbour resize of the last two dims of [N, C, H, W]: the output
 * size is output_size, or floor(in * scale) when scale_factors are given
 * (then the scale, not the size ratio, maps output to input, as PyTorch
 * does). Source index: identity for equal sizes, dst / 2 for an exact
 * doubling, otherwise min(floor(dst * scale), in - 1) in float. Element
 * copies only, so every dtype works; any strides.
 */
#include "portable/ops.h"

#include "util/shape_util.h"
#include "util/upsample_util.h"

#define WCHUNK 256 /* output columns whose source index is computed at a time */

#define DEFINE_NEAREST(T, B)                                                   \
  static void nearest_##B(const et_upsample2d *g, const T *x, T *y, float sh, float sw) { \
    int64_t iw[WCHUNK];                                                        \
    for (int64_t w0 = 0; w0 < g->OW; w0 += WCHUNK) {                           \
      const int64_t len = g->OW - w0 < WCHUNK ? g->OW - w0 : WCHUNK;           \
      for (int64_t j = 0; j < len; j++)                                        \
        iw[j] = et_upsample_nearest_index(w0 + j, g->IW, g->OW, sw) * g->is[3]; \
      for (int64_t n = 0; n < g->N; n++)                                       \
        for (int64_t c = 0; c < g->C; c++)                                     \
          for (int64_t oh = 0; oh < g->OH; oh++) {                             \
            const int64_t ih = et_upsample_nearest_index(oh, g->IH, g->OH, sh); \
            const T *xr = x + n * g->is[0] + c * g->is[1] + ih * g->is[2];     \
            T *yr = y + n * g->os[0] + c * g->os[1] + oh * g->os[2] + w0 * g->os[3]; \
            const int64_t ys = g->os[3];                                       \
            for (int64_t j = 0; j < len; j++) yr[j * ys] = xr[iw[j]];          \
          }                                                                    \
    }                                                                          \
  }
DEFINE_NEAREST(uint8_t, 8)
DEFINE_NEAREST(uint16_t, 16)
DEFINE_NEAREST(uint32_t, 32)
DEFINE_NEAREST(uint64_t, 64)

et_status et_op_upsample_nearest2d_vec_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  et_upsample2d g;
  ET_K_TRY(et_upsample2d_init(ctx, in, args[1], args[2], 0, 0, out, &g));
  if (et_tensor_numel(out) == 0) return ET_OK;
  const float sh = et_upsample_scale_f32(g.IH, g.OH, false, g.scale_h);
  const float sw = et_upsample_scale_f32(g.IW, g.OW, false, g.scale_w);
  switch (et_dtype_size(in->dtype)) {
  case 1: nearest_8(&g, (const uint8_t *)in->data, (uint8_t *)out->data, sh, sw); break;
  case 2: nearest_16(&g, (const uint16_t *)in->data, (uint16_t *)out->data, sh, sw); break;
  case 4: nearest_32(&g, (const uint32_t *)in->data, (uint32_t *)out->data, sh, sw); break;
  default: nearest_64(&g, (const uint64_t *)in->data, (uint64_t *)out->data, sh, sw); break;
  }
  return ET_OK;
}
