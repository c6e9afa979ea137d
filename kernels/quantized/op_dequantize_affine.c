/*
 * torchao::dequantize_affine.out(Tensor input, SymInt[] block_size,
 *     Tensor scale, Tensor? zero_point, ScalarType input_dtype,
 *     Scalar? quant_min=None, Scalar? quant_max=None,
 *     ScalarType output_dtype=6, *, Tensor(a!) out)
 *
 * The out variant (upstream's gen_out_variant_schema naming) of torchao's
 * dequantize_affine: for each block b of block_size (affine_util.h),
 *   out = ((input.to(O) - zero_point[b].to(O)) * scale[b]).to(O)
 * with O = output_dtype: the difference in O, the product in the promotion
 * of O with the scale's dtype, then one conversion to O. Without a zero
 * point, input.to(O) * scale[b]. quant_min / quant_max are only checked
 * against input_dtype's bounds (torchao does not clamp).
 *
 * Input of dtype input_dtype (Byte, Char, Short or Int); scale Float, Half,
 * BFloat16 or Double; zero_point an integer or float dtype; output Float,
 * Half or BFloat16 (as torchao). Contiguous tensors.
 */
#include "quantized/ops.h"

#include "quantized/affine_util.h"

et_status et_q_dequantize_affine_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *scale = args[2]->u.t;
  const et_tensor *zp = args[3]->tag == ET_TAG_NONE ? NULL : args[3]->u.t;
  et_tensor *out = args[8]->u.t;
  int dtype, o;
  int64_t lo_b, hi_b;
  double qmin, qmax;
  et_qa_blocks b;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", true));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", true));
  ET_K_TRY(et_qa_target_dtype(ctx, args[4], "input_dtype", &dtype, &lo_b, &hi_b));
  if (in->dtype != dtype)
    return ET_K_FAIL(ctx, "input: dtype %s does not match input_dtype %s",
                     et_dtype_name(in->dtype), et_dtype_name(dtype));
  ET_K_TRY(et_qa_qrange(ctx, args[5], args[6], dtype, &qmin, &qmax));
  ET_K_TRY(et_q_dtype_arg(ctx, args[7], "output_dtype", &o));
  if (o != ET_FLOAT && o != ET_HALF && o != ET_BFLOAT16)
    return ET_K_FAIL(ctx, "output_dtype: expected Float, Half or BFloat16, got %s",
                     et_dtype_name(o));
  if (out->dtype != o)
    return ET_K_FAIL(ctx, "out: dtype %s does not match output_dtype %s",
                     et_dtype_name(out->dtype), et_dtype_name(o));
  ET_K_TRY(et_qa_blocks_init(ctx, in, args[1], &b));
  ET_K_TRY(et_qa_check_param(ctx, scale, "scale", b.nblocks, true));
  if (zp) ET_K_TRY(et_qa_check_param(ctx, zp, "zero_point", b.nblocks, false));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  if (b.numel == 0) return ET_OK;

  const int st = scale->dtype, p_t = et_qa_promote(o, st);
  const size_t rows = b.numel / et_qa_row_len(&b), len = et_qa_row_len(&b);
  const size_t blen = et_qa_row_blen(&b);
  size_t idx[ET_MAX_RANK] = {0};
  size_t i = 0;
  for (size_t r = 0; r < rows; r++, et_qa_row_next(&b, idx)) {
    const size_t base = et_qa_row_base(&b, idx);
    for (size_t j0 = 0; j0 < len; j0 += blen) {
      const size_t p = base + j0 / blen;
      const double s = et_q_get_real(scale->data, st, p);
      const double z = zp ? et_qa_get_as(zp->data, zp->dtype, p, o) : 0.0;
      if (o == ET_FLOAT && st == ET_FLOAT) { /* the common case, same arithmetic */
        const float fs = (float)s, fz = (float)z;
        for (size_t j = j0; j < j0 + blen; j++, i++) {
          const float d = (float)et_q_get_int(in->data, dtype, i);
          ((float *)out->data)[i] = (zp ? d - fz : d) * fs;
        }
        continue;
      }
      for (size_t j = j0; j < j0 + blen; j++, i++) {
        double d = et_qa_from_int(o, et_q_get_int(in->data, dtype, i));
        if (zp) d = et_qa_sub(o, d, z);
        et_q_put_real(out->data, o, i, et_qa_mul(p_t, d, s));
      }
    }
  }
  return ET_OK;
}
