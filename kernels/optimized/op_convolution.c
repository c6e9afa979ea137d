/*
 * aten::convolution.out: the portable kernel (its checks, im2col blocks in
 * the scratch memory, every layout and dtype) with the float32 product on
 * the GEMM micro kernels, and depthwise float32 convolutions of contiguous
 * NCHW tensors (1-D or 2-D) computed directly: each channel plane is one
 * task of the parallel-for hook, each output row the bias plus one
 * multiply-add pass per window tap (a vector axpy where the stride along
 * the width is 1).
 */
#include "optimized/optimized.h"

#include "portable/ops.h"
#include "util/conv_util.h"
#include "xnn_vec.h"

typedef struct dw_job {
  const et_conv_geom *g;
  const float *x, *w, *bias;
  float *y;
  et_xnn_axpy_fn *axpy;
} dw_job;

/* Planes [begin, end) (plane = batch * C + channel). */
static void dw_planes(void *ctx, size_t begin, size_t end) {
  const dw_job *J = (const dw_job *)ctx;
  const et_conv_geom *g = J->g;
  const int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
  const int64_t KH = g->k[1], KW = g->k[2], C = g->Cout;
  for (size_t p = begin; p < end; p++) {
    const int64_t c = (int64_t)p % C;
    const float *x = J->x + (int64_t)p * H * W, *w = J->w + c * KH * KW;
    float *y = J->y + (int64_t)p * OH * OW;
    const float b = J->bias ? J->bias[c] : 0.0f;
    for (int64_t oy = 0; oy < OH; oy++) {
      float *yr = y + oy * OW;
      for (int64_t ox = 0; ox < OW; ox++) yr[ox] = b;
      for (int64_t ky = 0; ky < KH; ky++) {
        const int64_t iy = oy * g->stride[1] - g->pad[1] + ky * g->dil[1];
        if (iy < 0 || iy >= H) continue;
        const float *xr = x + iy * W;
        for (int64_t kx = 0; kx < KW; kx++) {
          const float wv = w[ky * KW + kx];
          const int64_t base = kx * g->dil[2] - g->pad[2]; /* ix = ox * s + base */
          int64_t lo, hi;
          et_conv_valid_range(base, g->stride[2], W, OW, &lo, &hi);
          if (g->stride[2] == 1) {
            J->axpy((size_t)(hi - lo), wv, xr + lo + base, yr + lo);
          } else {
            const int64_t s = g->stride[2];
            for (int64_t ox = lo; ox < hi; ox++) yr[ox] += wv * xr[ox * s + base];
          }
        }
      }
    }
  }
}

static bool depthwise(et_kernel_ctx *ctx, const et_conv_geom *g, int dtype, const void *x,
                      const void *w, const void *bias, void *y) {
  if (dtype != ET_FLOAT || g->spatial > 2 || g->k[0] != 1) return false;
  dw_job J = {g, (const float *)x, (const float *)w, (const float *)bias, (float *)y,
              et_xnn_axpy_pick()};
  const size_t planes = (size_t)(g->N * g->Cout);
  /* taps per plane: the work of one task */
  const uint64_t per = (uint64_t)g->out[1] * (uint64_t)g->out[2] * (uint64_t)(g->k[1] * g->k[2]);
  const size_t grain = per ? (size_t)((1u << 16) / per) + 1 : planes;
  et_parallel_for(ctx->parallel, planes, grain, dw_planes, &J);
  return true;
}

et_status et_opt_convolution_out(et_kernel_ctx *ctx, et_value **args) {
  return et_convolution_out_with(ctx, args, et_opt_matmul, depthwise);
}
