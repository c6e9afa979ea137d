/*
 * torchao::choose_qparams_affine.out(Tensor? input, str mapping_type,
 *     SymInt[] block_size, ScalarType target_dtype, Scalar? quant_min=None,
 *     Scalar? quant_max=None, float? eps=None, ScalarType? scale_dtype=None,
 *     ScalarType? zero_point_dtype=None, bool keepdim=False, *,
 *     Tensor(a!) out0, Tensor(b!) out1) -> (Tensor(a!), Tensor(b!))
 *
 * The out variant (upstream's gen_out_variant_schema naming) of torchao's
 * choose_qparams_affine: out0 the scale, out1 the zero point of each block
 * of block_size (affine_util.h), from the block's min and max, in the
 * input's dtype I step by step as torchao's reference computes them:
 *   lo = min(amin(block), 0), hi = max(amax(block), 0)   (NaN propagates)
 *   SYMMETRIC: scale = max(-lo, hi) / (float(quant_max - quant_min) / 2),
 *     zero_point = int((quant_max + quant_min + 1) / 2)
 *   SYMMETRIC_NO_CLIPPING_ERR: smin = lo / quant_min, smax = hi / quant_max,
 *     scale = smin > smax ? smin : smax, zero_point as SYMMETRIC
 *   then scale = clamp(scale, min=eps)
 *   ASYMMETRIC: scale = clamp((hi - lo) / float(quant_max - quant_min),
 *     min=eps), zero_point = clamp(quant_min - round(lo / scale),
 *     quant_min, quant_max)
 * eps defaults to I's smallest normal value; the scale is converted to
 * scale_dtype (default I), the zero point to zero_point_dtype (default Int
 * for ASYMMETRIC, I for the symmetric mappings, as torchao's reference
 * does), by PyTorch's conversions. Shapes: the block counts of the dims
 * torchao keeps (keepdim=False: dims with block size 1 keep their size,
 * partly reduced dims their block count, fully reduced dims are dropped;
 * keepdim=True: size / block size for every dim).
 *
 * Input Float, Half, BFloat16 or Double; quant_min / quant_max default to
 * target_dtype's bounds (Byte, Char, Short or Int). A block over a dim of
 * size 0 is refused (torch.amin has no identity). Contiguous tensors.
 */
#include "quantized/ops.h"

#include "quantized/affine_util.h"

#include <string.h>

enum { SYM, SYM_NO_CLIP, ASYM };

static bool str_is(const et_value *v, const char *s) {
  const size_t n = strlen(s);
  return v->u.str.len == n && memcmp(v->u.str.ptr, s, n) == 0;
}

/* The smallest normal value of float dtype dt (torch.finfo(dt).smallest_normal). */
static double smallest_normal(int dt) {
  switch (dt) {
  case ET_DOUBLE: return DBL_MIN;
  case ET_HALF: return 6.103515625e-05; /* 2^-14 */
  default: return FLT_MIN;              /* Float, BFloat16: 2^-126 */
  }
}

/* min and max of the block at block coordinates `coord` (NaN if any
 * element is NaN, as torch.amin and torch.amax). */
static void block_minmax(const et_qa_blocks *b, const et_tensor *in, const size_t *coord,
                         double *out_min, double *out_max) {
  const uint32_t r = b->rank;
  if (r == 0) {
    *out_min = *out_max = et_q_get_real(in->data, in->dtype, 0);
    return;
  }
  size_t k[ET_MAX_RANK] = {0}; /* offset inside the block, dims but the last */
  const size_t run = b->blen[r - 1];
  double mn = 0, mx = 0;
  bool first = true, nan = false;
  for (;;) {
    size_t off = 0;
    for (uint32_t d = 0; d < r; d++) {
      const size_t pos = coord[d] * b->blen[d] + (d + 1 < r ? k[d] : 0);
      off = off * b->sizes[d] + pos;
    }
    for (size_t j = 0; j < run; j++) {
      const double x = et_q_get_real(in->data, in->dtype, off + j);
      if (x != x) nan = true;
      if (first) {
        mn = mx = x;
        first = false;
      }
      if (x < mn) mn = x;
      if (x > mx) mx = x;
    }
    uint32_t d = r - 1;
    while (d-- > 0) {
      if (++k[d] < b->blen[d]) break;
      k[d] = 0;
    }
    if (d == UINT32_MAX) break; /* wrapped past dim 0: every run visited */
  }
  *out_min = nan ? NAN : mn;
  *out_max = nan ? NAN : mx;
}

static double max_nan(double a, double b) { return a != a || b != b ? NAN : (a > b ? a : b); }
static double min_nan(double a, double b) { return a != a || b != b ? NAN : (a < b ? a : b); }

et_status et_q_choose_qparams_affine_out(et_kernel_ctx *ctx, et_value **args) {
  if (args[0]->tag == ET_TAG_NONE)
    return ET_K_FAIL(ctx, "input: None (the reference needs a tensor)");
  const et_tensor *in = args[0]->u.t;
  et_tensor *s_out = args[10]->u.t, *z_out = args[11]->u.t;
  int mapping, target, sdt, zdt;
  int64_t lo_b, hi_b;
  double qmin, qmax;
  et_qa_blocks b;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", true));
  ET_K_TRY(et_q_check_tensor(ctx, s_out, "out0", true));
  ET_K_TRY(et_q_check_tensor(ctx, z_out, "out1", true));
  const int it = in->dtype;
  if (!et_qa_is_float(it))
    return ET_K_FAIL(ctx, "input: expected dtype Float, Half, BFloat16 or Double, got %s",
                     et_dtype_name(it));
  if (str_is(args[1], "SYMMETRIC"))
    mapping = SYM;
  else if (str_is(args[1], "SYMMETRIC_NO_CLIPPING_ERR"))
    mapping = SYM_NO_CLIP;
  else if (str_is(args[1], "ASYMMETRIC"))
    mapping = ASYM;
  else {
    char name[41];
    const size_t n = args[1]->u.str.len < 40 ? args[1]->u.str.len : 40;
    memcpy(name, args[1]->u.str.ptr, n);
    name[n] = 0;
    return ET_K_FAIL(ctx, "mapping_type: \"%s\" is not SYMMETRIC, SYMMETRIC_NO_CLIPPING_ERR "
                          "or ASYMMETRIC", name);
  }
  ET_K_TRY(et_qa_target_dtype(ctx, args[3], "target_dtype", &target, &lo_b, &hi_b));
  ET_K_TRY(et_qa_qrange(ctx, args[4], args[5], target, &qmin, &qmax));
  double eps = smallest_normal(it);
  if (args[6]->tag != ET_TAG_NONE) {
    eps = args[6]->u.d;
    if (eps != eps) return ET_K_FAIL(ctx, "eps: NaN");
  }
  sdt = it;
  if (args[7]->tag != ET_TAG_NONE) {
    ET_K_TRY(et_q_dtype_arg(ctx, args[7], "scale_dtype", &sdt));
    if (!et_qa_is_float(sdt))
      return ET_K_FAIL(ctx, "scale_dtype: expected Float, Half, BFloat16 or Double, got %s",
                       et_dtype_name(sdt));
  }
  zdt = mapping == ASYM ? ET_INT : it;
  if (args[8]->tag != ET_TAG_NONE) {
    ET_K_TRY(et_q_dtype_arg(ctx, args[8], "zero_point_dtype", &zdt));
    if (!et_qa_is_float(zdt) && zdt != ET_BYTE && zdt != ET_CHAR && zdt != ET_SHORT &&
        zdt != ET_INT && zdt != ET_LONG)
      return ET_K_FAIL(ctx, "zero_point_dtype: expected an integer or float dtype, got %s",
                       et_dtype_name(zdt));
  }
  if (s_out->dtype != sdt)
    return ET_K_FAIL(ctx, "out0: dtype %s is not the scale's dtype %s",
                     et_dtype_name(s_out->dtype), et_dtype_name(sdt));
  if (z_out->dtype != zdt)
    return ET_K_FAIL(ctx, "out1: dtype %s is not the zero point's dtype %s",
                     et_dtype_name(z_out->dtype), et_dtype_name(zdt));
  ET_K_TRY(et_qa_blocks_init(ctx, in, args[2], &b));
  const bool keepdim = args[9]->u.b;
  bool any_reduced = false;
  for (uint32_t d = 0; d < b.rank; d++) any_reduced = any_reduced || b.reduced[d];
  if (!any_reduced) {
    /* torchao reduces over an empty dim list: torch.amin(dim=[]) reduces
     * over every dim, giving one block (and keepdim's reshape to the input's
     * sizes fails unless there is one element) */
    if (keepdim && b.numel != 1)
      return ET_K_FAIL(ctx, "keepdim: block_size reduces no dim (torchao's reference then "
                            "takes one block over the input and cannot keep its dims)");
    for (uint32_t d = 0; d < b.rank; d++) {
      b.blen[d] = b.sizes[d];
      b.groups[d] = 1;
      b.reduced[d] = true;
    }
    b.nblocks = 1;
  }
  int64_t shape[ET_MAX_RANK];
  uint32_t orank = 0;
  for (uint32_t d = 0; d < b.rank; d++) {
    if (b.reduced[d] && b.blen[d] == 0)
      return ET_K_FAIL(ctx, "input: the blocks along dim %u are empty (no min or max)",
                       (unsigned)d);
    if (keepdim || b.blen[d] != b.sizes[d] || !b.reduced[d]) /* dropped: fully reduced */
      shape[orank++] = (int64_t)b.groups[d];
  }
  ET_K_TRY(et_k_resize(ctx, s_out, shape, orank, "out0"));
  ET_K_TRY(et_k_resize(ctx, z_out, shape, orank, "out1"));

  /* the constants, converted as PyTorch converts Python scalars */
  const double den_sym = it == ET_DOUBLE ? (qmax - qmin) / 2 : (double)(float)((qmax - qmin) / 2);
  const double den_asym = it == ET_DOUBLE ? qmax - qmin : (double)(float)(qmax - qmin);
  const double f_qmin = it == ET_DOUBLE ? qmin : (double)(float)qmin;
  const double f_qmax = it == ET_DOUBLE ? qmax : (double)(float)qmax;
  const double eps_i = et_qa_round(it, eps);
  const double lo_i = et_qa_round(it, qmin), hi_i = et_qa_round(it, qmax);
  const double zp_sym = et_qa_round(it, trunc((qmax + qmin + 1) / 2));

  size_t coord[ET_MAX_RANK] = {0};
  for (size_t p = 0; p < b.nblocks; p++) {
    double mn, mx, scale, zp;
    block_minmax(&b, in, coord, &mn, &mx);
    const double neg = min_nan(mn, 0.0), pos = max_nan(mx, 0.0);
    if (mapping == SYM) {
      scale = et_qa_div(it, max_nan(-neg, pos), den_sym);
    } else if (mapping == SYM_NO_CLIP) {
      const double smin = et_qa_div(it, neg, f_qmin), smax = et_qa_div(it, pos, f_qmax);
      scale = smin > smax ? smin : smax;
    } else {
      scale = et_qa_div(it, et_qa_sub(it, pos, neg), den_asym);
    }
    if (scale == scale && scale < eps_i) scale = eps_i; /* clamp(min=eps) keeps NaN */
    if (mapping == ASYM) {
      const double r = et_qa_rint(it, et_qa_div(it, neg, scale));
      zp = et_q_clampd(et_qa_sub(it, lo_i, r), lo_i, hi_i);
    } else {
      zp = zp_sym;
    }
    et_q_put_real(s_out->data, sdt, p, scale);
    if (et_qa_is_float(zdt))
      et_q_put_real(z_out->data, zdt, p, zp);
    else
      et_q_put_int(z_out->data, zdt, p, et_qa_to_int(zdt, zp));
    for (uint32_t d = b.rank; d-- > 0;) { /* next block, row-major over groups */
      if (++coord[d] < b.groups[d]) break;
      coord[d] = 0;
    }
  }
  return ET_OK;
}
