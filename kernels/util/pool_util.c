/* 2-D pooling parameters and output sizes. */
#include "util/pool_util.h"

#include "util/layout_util.h"
#include "util/shape_util.h"

static et_status pair(et_kernel_ctx *ctx, const et_value *v, int64_t dflt0, int64_t dflt1,
                      bool allow_empty, const char *name, int64_t out[2]) {
  if (!v) {
    out[0] = dflt0;
    out[1] = dflt1;
    return ET_OK;
  }
  size_t n = v->u.ilist.len;
  if (n == 0 && allow_empty) {
    out[0] = dflt0;
    out[1] = dflt1;
    return ET_OK;
  }
  if (n != 1 && n != 2)
    return ET_K_FAIL(ctx, "%s: expected 1 or 2 values, got %zu", name, n);
  out[0] = et_int_list_get(v, 0);
  out[1] = et_int_list_get(v, n == 1 ? 0 : 1);
  return ET_OK;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* PyTorch's pooling_output_shape. */
static int64_t out_size(int64_t in, int64_t k, int64_t pad, int64_t s, int64_t d, bool ceil) {
  int64_t o = floor_div(in + 2 * pad - d * (k - 1) - 1 + (ceil ? s - 1 : 0), s) + 1;
  if (ceil && (o - 1) * s >= in + pad) o--;
  return o;
}

et_status et_pool2d_init(et_kernel_ctx *ctx, const et_tensor *in, const et_value *kernel,
                         const et_value *stride, const et_value *padding,
                         const et_value *dilation, bool ceil_mode, et_pool2d *p,
                         int64_t *out_sizes) {
  ET_K_TRY(et_k_check_rank(ctx, in, 3, 4, "self"));
  int64_t k[2] = {0, 0}, s[2] = {0, 0}, pd[2] = {0, 0}, d[2] = {0, 0};
  ET_K_TRY(pair(ctx, kernel, 0, 0, false, "kernel_size", k));
  ET_K_TRY(pair(ctx, stride, k[0], k[1], true, "stride", s));
  ET_K_TRY(pair(ctx, padding, 0, 0, false, "padding", pd));
  ET_K_TRY(pair(ctx, dilation, 1, 1, false, "dilation", d));
  for (int i = 0; i < 2; i++) {
    if (k[i] <= 0) return ET_K_FAIL(ctx, "kernel_size: must be positive");
    if (s[i] <= 0) return ET_K_FAIL(ctx, "stride: must be positive");
    if (d[i] <= 0) return ET_K_FAIL(ctx, "dilation: must be positive");
    if (k[i] > INT32_MAX || s[i] > INT32_MAX || d[i] > INT32_MAX || pd[i] > INT32_MAX)
      return ET_K_FAIL(ctx, "kernel_size, stride, padding and dilation must be at most %d",
                       INT32_MAX);
    if (pd[i] < 0 || pd[i] > ((k[i] - 1) * d[i] + 1) / 2)
      return ET_K_FAIL(ctx, "padding: %lld must be between 0 and half the effective kernel "
                            "size",
                       (long long)pd[i]);
  }
  const uint32_t r = in->rank;
  p->H = in->sizes[r - 2];
  p->W = in->sizes[r - 1];
  p->chans = in->sizes[r - 3];
  p->C = p->chans * (r == 4 ? in->sizes[0] : 1);
  if (p->H <= 0 || p->W <= 0) return ET_K_FAIL(ctx, "self: spatial dims must be non-empty");
  p->kh = k[0], p->kw = k[1], p->sh = s[0], p->sw = s[1];
  p->ph = pd[0], p->pw = pd[1], p->dh = d[0], p->dw = d[1];
  p->OH = out_size(p->H, p->kh, p->ph, p->sh, p->dh, ceil_mode);
  p->OW = out_size(p->W, p->kw, p->pw, p->sw, p->dw, ceil_mode);
  if (p->OH < 1 || p->OW < 1)
    return ET_K_FAIL(ctx, "output size %lldx%lld is too small", (long long)p->OH,
                     (long long)p->OW);
  for (uint32_t i = 0; i < r - 2; i++) out_sizes[i] = in->sizes[i];
  out_sizes[r - 2] = p->OH;
  out_sizes[r - 1] = p->OW;
  return ET_OK;
}
