/* Convolution geometry: arguments, checks and output sizes. */
#include "util/conv_util.h"

#include "util/shape_util.h"

/* A per-spatial-dim list of 1 value (for every dim) or `spatial` values,
 * written to the last `spatial` of out[3]. */
static et_status spatial_list(et_kernel_ctx *ctx, const et_value *v, uint32_t spatial,
                              int64_t min, const char *name, int64_t out[3]) {
  int64_t tmp[ET_MAX_RANK];
  size_t n;
  ET_K_TRY(et_k_int_list(ctx, v, tmp, ET_MAX_RANK, &n, name));
  if (n != 1 && n != spatial)
    return ET_K_FAIL(ctx, "%s: expected 1 or %u values, got %zu", name, (unsigned)spatial, n);
  for (uint32_t i = 0; i < spatial; i++) {
    const int64_t x = tmp[n == 1 ? 0 : i];
    if (x < min)
      return ET_K_FAIL(ctx, "%s: %lld is below the minimum %lld", name, (long long)x,
                       (long long)min);
    /* Sizes are int32 in the format; larger values only overflow later
     * arithmetic. */
    if (x > INT32_MAX)
      return ET_K_FAIL(ctx, "%s: %lld is larger than %d", name, (long long)x, INT32_MAX);
    out[3 - spatial + i] = x;
  }
  return ET_OK;
}

et_status et_conv_geom_init(et_kernel_ctx *ctx, const et_tensor *in, const et_tensor *w,
                            const et_value *stride, const et_value *padding,
                            const et_value *dilation, bool transposed,
                            const et_value *output_padding, int64_t groups, et_conv_geom *g) {
  ET_K_TRY(et_k_check_rank(ctx, in, 3, 5, "input"));
  if (w->rank != in->rank)
    return ET_K_FAIL(ctx, "weight: expected rank %u (as input), got %u", (unsigned)in->rank,
                     (unsigned)w->rank);
  if (groups < 1) return ET_K_FAIL(ctx, "groups: must be positive, got %lld", (long long)groups);
  const uint32_t spatial = in->rank - 2;
  g->spatial = spatial;
  g->transposed = transposed;
  for (int d = 0; d < 3; d++) {
    g->in[d] = g->k[d] = g->stride[d] = g->dil[d] = 1;
    g->pad[d] = g->opad[d] = 0;
  }
  ET_K_TRY(spatial_list(ctx, stride, spatial, 1, "stride", g->stride));
  ET_K_TRY(spatial_list(ctx, padding, spatial, 0, "padding", g->pad));
  ET_K_TRY(spatial_list(ctx, dilation, spatial, 1, "dilation", g->dil));
  if (transposed) ET_K_TRY(spatial_list(ctx, output_padding, spatial, 0, "output_padding", g->opad));
  for (uint32_t i = 0; i < spatial; i++) {
    g->in[3 - spatial + i] = in->sizes[2 + i];
    g->k[3 - spatial + i] = w->sizes[2 + i];
    if (w->sizes[2 + i] < 1)
      return ET_K_FAIL(ctx, "weight: kernel size should be greater than zero, got %d in dim %u",
                       (int)w->sizes[2 + i], (unsigned)(2 + i));
  }

  g->N = in->sizes[0];
  g->Cin = in->sizes[1];
  g->groups = groups;
  if (g->Cin % groups != 0)
    return ET_K_FAIL(ctx, "input: %lld channels are not divisible by groups=%lld",
                     (long long)g->Cin, (long long)groups);
  g->cin_g = g->Cin / groups;
  if (w->sizes[0] < groups)
    return ET_K_FAIL(ctx, "weight: expected at least groups=%lld rows, got %lld",
                     (long long)groups, (long long)w->sizes[0]);
  if (!transposed) {
    g->Cout = w->sizes[0];
    if (g->Cout % groups != 0 || w->sizes[1] != g->cin_g)
      return ET_K_FAIL(ctx, "weight: shape [%lld, %lld, ...] does not fit %lld input "
                            "channels in %lld groups",
                       (long long)w->sizes[0], (long long)w->sizes[1], (long long)g->Cin,
                       (long long)groups);
    g->cout_g = g->Cout / groups;
  } else {
    if (w->sizes[0] != g->Cin)
      return ET_K_FAIL(ctx, "weight: transposed weight must have %lld rows (input channels), "
                            "got %lld",
                       (long long)g->Cin, (long long)w->sizes[0]);
    g->cout_g = w->sizes[1];
    g->Cout = g->cout_g * groups; /* both at most INT32_MAX: no overflow */
  }
  if (g->Cout > INT32_MAX)
    return ET_K_FAIL(ctx, "weight: %lld output channels is more than %d", (long long)g->Cout,
                     INT32_MAX);

  /* Every term is at most INT32_MAX, so none of this overflows int64. */
  for (int d = 0; d < 3; d++) {
    const unsigned dim = (unsigned)(d - (3 - (int)spatial) + 2); /* in input's sizes */
    if (g->in[d] < 1)
      return ET_K_FAIL(ctx, "input: size %lld in dim %u; spatial sizes must be positive (only "
                            "the batch and channel dimensions may be empty)",
                       (long long)g->in[d], dim);
    const int64_t ek = g->dil[d] * (g->k[d] - 1) + 1; /* the dilated kernel */
    if (!transposed) {
      if (g->in[d] + 2 * g->pad[d] < ek)
        return ET_K_FAIL(ctx, "input: padded size %lld in dim %u is smaller than the (dilated) "
                              "kernel size %lld",
                         (long long)(g->in[d] + 2 * g->pad[d]), dim, (long long)ek);
      g->out[d] = (g->in[d] + 2 * g->pad[d] - ek) / g->stride[d] + 1;
    } else {
      const int64_t lim = g->stride[d] > g->dil[d] ? g->stride[d] : g->dil[d];
      if (g->opad[d] >= lim)
        return ET_K_FAIL(ctx, "output_padding: %lld in dim %u must be smaller than stride or "
                              "dilation (%lld)",
                         (long long)g->opad[d], dim, (long long)lim);
      g->out[d] = (g->in[d] - 1) * g->stride[d] - 2 * g->pad[d] + ek + g->opad[d];
      if (g->out[d] < 1)
        return ET_K_FAIL(ctx, "output size %lld in dim %u is not positive", (long long)g->out[d],
                         dim);
    }
    if (g->out[d] > INT32_MAX)
      return ET_K_FAIL(ctx, "output size %lld in dim %u is larger than %d", (long long)g->out[d],
                       dim, INT32_MAX);
  }
  /* The kernels index volumes in int64 (an empty batch or channel dim lets
   * the others be large without the tensor being so). */
  const int64_t *vols[3] = {g->in, g->out, g->k};
  for (int v = 0; v < 3; v++) {
    const int64_t *x = vols[v];
    if (x[1] != 0 && x[0] > INT64_MAX / x[1])
      return ET_K_FAIL(ctx, "spatial sizes are too large");
    const int64_t p = x[0] * x[1];
    if (x[2] != 0 && p > INT64_MAX / x[2]) return ET_K_FAIL(ctx, "spatial sizes are too large");
  }
  return ET_OK;
}

void et_conv_out_sizes(const et_conv_geom *g, int64_t *out_sizes) {
  out_sizes[0] = g->N;
  /* PyTorch gives an input without channels an output without channels */
  out_sizes[1] = g->Cin == 0 ? 0 : g->Cout;
  for (uint32_t i = 0; i < g->spatial; i++) out_sizes[2 + i] = g->out[3 - g->spatial + i];
}
