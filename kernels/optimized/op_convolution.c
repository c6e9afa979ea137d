/*
 * aten::convolution.out: the portable kernel (its checks, im2col blocks in
 * the scratch memory, every layout and dtype) with the float32 product on
 * the GEMM micro kernels, and depthwise float32 convolutions of contiguous
 * NCHW tensors (1-D or 2-D; windows of up to 64 taps, width stride 1 or 2)
 * computed directly: each channel plane is one task of the parallel-for
 * hook, each output row one pass of a row kernel that keeps the window's
 * sum in registers (xnn_vec.h), its edges tap by tap.
 */
#include "optimized/optimized.h"

#include "portable/ops.h"
#include "util/conv_util.h"
#include "xnn_vec.h"

typedef struct dw_job {
  const et_conv_geom *g;
  const float *x, *w, *bias;
  float *y;
  et_xnn_dw_row_fn *row;
} dw_job;

#define DW_MAX_TAPS 64

/* Output o of a row with every tap checked (the row's edges). */
static float dw_edge(const et_conv_geom *g, const float *const *xr, const float *wr,
                     const int64_t *base, size_t taps, int64_t W, float b, int64_t o) {
  float s = b;
  for (size_t t = 0; t < taps; t++) {
    const int64_t ix = o * g->stride[2] + base[t];
    if (ix >= 0 && ix < W) s += wr[t] * xr[t][ix];
  }
  return s;
}

/* Planes [begin, end) (plane = batch * C + channel). Each output row: the
 * outputs whose whole window row lies inside the input in one call of the
 * row kernel (the taps of the rows inside the input), the edges one by
 * one. */
static void dw_planes(void *ctx, size_t begin, size_t end) {
  const dw_job *J = (const dw_job *)ctx;
  const et_conv_geom *g = J->g;
  const int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
  const int64_t KH = g->k[1], KW = g->k[2], C = g->Cout, S = g->stride[2];
  /* Outputs [lo, hi) have every kx tap inside the row. */
  int64_t lo = 0, hi = OW;
  for (int64_t kx = 0; kx < KW; kx++) {
    int64_t l, h;
    et_conv_valid_range(kx * g->dil[2] - g->pad[2], S, W, OW, &l, &h);
    lo = l > lo ? l : lo;
    hi = h < hi ? h : hi;
  }
  if (lo > hi) lo = hi;
  const float *xr[DW_MAX_TAPS], *xs[DW_MAX_TAPS];
  float wr[DW_MAX_TAPS];
  int64_t base[DW_MAX_TAPS];
  for (size_t p = begin; p < end; p++) {
    const int64_t c = (int64_t)p % C;
    const float *x = J->x + (int64_t)p * H * W, *w = J->w + c * KH * KW;
    float *y = J->y + (int64_t)p * OH * OW;
    const float b = J->bias ? J->bias[c] : 0.0f;
    for (int64_t oy = 0; oy < OH; oy++) {
      float *yr = y + oy * OW;
      size_t taps = 0;
      for (int64_t ky = 0; ky < KH; ky++) {
        const int64_t iy = oy * g->stride[1] - g->pad[1] + ky * g->dil[1];
        if (iy < 0 || iy >= H) continue;
        for (int64_t kx = 0; kx < KW; kx++) {
          xr[taps] = x + iy * W;
          wr[taps] = w[ky * KW + kx];
          base[taps++] = kx * g->dil[2] - g->pad[2]; /* ix = ox * S + base */
        }
      }
      for (int64_t o = 0; o < lo; o++) yr[o] = dw_edge(g, xr, wr, base, taps, W, b, o);
      if (hi > lo) {
        for (size_t t = 0; t < taps; t++) xs[t] = xr[t] + lo * S + base[t];
        J->row((size_t)(hi - lo), taps, xs, wr, b, yr + lo, (size_t)S);
      }
      for (int64_t o = hi; o < OW; o++) yr[o] = dw_edge(g, xr, wr, base, taps, W, b, o);
    }
  }
}

static bool depthwise(et_kernel_ctx *ctx, const et_conv_geom *g, int dtype, const void *x,
                      const void *w, const void *bias, void *y) {
  if (dtype != ET_FLOAT || g->spatial > 2 || g->k[0] != 1 ||
      g->k[1] * g->k[2] > DW_MAX_TAPS || (g->stride[2] != 1 && g->stride[2] != 2))
    return false;
  dw_job J = {g, (const float *)x, (const float *)w, (const float *)bias, (float *)y,
              et_xnn_dw_row_pick()};
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
