/*
 * Argument checks shared by torchao's affine quantization kernels
 * (affine_util.h).
 *
 * A deliberate difference from torchao: a block size below 1 (that is not
 * the dim's size) is refused here; torchao treats it as "the whole dim".
 */
#include "quantized/affine_util.h"

et_status et_qa_blocks_init(et_kernel_ctx *ctx, const et_tensor *in,
                            const et_value *block_size, et_qa_blocks *out) {
  const size_t n = block_size->u.ilist.len;
  if (n != in->rank)
    return ET_K_FAIL(ctx, "block_size: %zu sizes for an input of rank %u", n,
                     (unsigned)in->rank);
  out->rank = in->rank;
  out->nblocks = 1;
  out->numel = 1;
  for (uint32_t d = 0; d < in->rank; d++) {
    const int64_t b = et_int_list_get(block_size, d);
    const int64_t s = in->sizes[d];
    out->sizes[d] = (size_t)s;
    out->numel *= (size_t)s;
    out->reduced[d] = false;
    if (b == 1) { /* one block per element along d */
      out->blen[d] = 1;
      out->groups[d] = (size_t)s;
    } else if (b == s) { /* one block over the whole dim */
      out->blen[d] = (size_t)s;
      out->groups[d] = 1;
      out->reduced[d] = true;
    } else if (b < 1) {
      return ET_K_FAIL(ctx, "block_size: %lld at dim %u is below 1 (input size %lld)",
                       (long long)b, (unsigned)d, (long long)s);
    } else if (s % b != 0) {
      return ET_K_FAIL(ctx, "block_size: %lld at dim %u does not divide the input's size %lld",
                       (long long)b, (unsigned)d, (long long)s);
    } else {
      out->blen[d] = (size_t)b;
      out->groups[d] = (size_t)(s / b);
      out->reduced[d] = true;
    }
    out->nblocks *= out->groups[d];
  }
  return ET_OK;
}

et_status et_qa_target_dtype(et_kernel_ctx *ctx, const et_value *v, const char *name,
                             int *out_dtype, int64_t *out_lo, int64_t *out_hi) {
  int dt;
  ET_K_TRY(et_q_dtype_arg(ctx, v, name, &dt));
  if (dt != ET_BYTE && dt != ET_CHAR && dt != ET_SHORT && dt != ET_INT)
    return ET_K_FAIL(ctx, "%s: %s is not a dtype of torchao's affine quantization (Byte, Char, "
                          "Short or Int)", name, et_dtype_name(dt));
  (void)et_q_int_bounds(dt, out_lo, out_hi);
  *out_dtype = dt;
  return ET_OK;
}

static et_status scalar_arg(et_kernel_ctx *ctx, const et_value *v, const char *name,
                            double dflt, double *out) {
  switch (v->tag) {
  case ET_TAG_NONE: *out = dflt; return ET_OK;
  case ET_TAG_INT: *out = (double)v->u.i; return ET_OK;
  case ET_TAG_DOUBLE: *out = v->u.d; break;
  default: *out = v->u.b ? 1.0 : 0.0; return ET_OK; /* Bool (the signature allows no other) */
  }
  if (*out != *out) return ET_K_FAIL(ctx, "%s: NaN", name);
  return ET_OK;
}

et_status et_qa_qrange(et_kernel_ctx *ctx, const et_value *qmin, const et_value *qmax,
                       int dtype, double *out_min, double *out_max) {
  int64_t lo, hi;
  (void)et_q_int_bounds(dtype, &lo, &hi);
  ET_K_TRY(scalar_arg(ctx, qmin, "quant_min", (double)lo, out_min));
  ET_K_TRY(scalar_arg(ctx, qmax, "quant_max", (double)hi, out_max));
  if (*out_min < (double)lo)
    return ET_K_FAIL(ctx, "quant_min %lld is below the lowest %s value %lld",
                     (long long)et_f64_to_i64(*out_min), et_dtype_name(dtype), (long long)lo);
  if (*out_max > (double)hi)
    return ET_K_FAIL(ctx, "quant_max %lld is above the highest %s value %lld",
                     (long long)et_f64_to_i64(*out_max), et_dtype_name(dtype), (long long)hi);
  return ET_OK;
}

et_status et_qa_check_param(et_kernel_ctx *ctx, const et_tensor *t, const char *name,
                            size_t nblocks, bool scale) {
  ET_K_TRY(et_q_check_tensor(ctx, t, name, true));
  const int dt = t->dtype;
  if (scale && !et_qa_is_float(dt))
    return ET_K_FAIL(ctx, "%s: expected dtype Float, Half, BFloat16 or Double, got %s", name,
                     et_dtype_name(dt));
  if (!scale && !et_qa_is_float(dt) && dt != ET_BYTE && dt != ET_CHAR && dt != ET_SHORT &&
      dt != ET_INT && dt != ET_LONG)
    return ET_K_FAIL(ctx, "%s: expected an integer or float dtype, got %s", name,
                     et_dtype_name(dt));
  if (et_tensor_numel(t) != nblocks)
    return ET_K_FAIL(ctx, "%s: %zu values for %zu blocks", name, et_tensor_numel(t), nblocks);
  return ET_OK;
}
