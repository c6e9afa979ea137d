/*
 * torchao::quantize_affine.out(Tensor input, SymInt[] block_size,
 *     Tensor scale, Tensor? zero_point, ScalarType output_dtype,
 *     Scalar? quant_min=None, Scalar? quant_max=None, *, Tensor(a!) out)
 *
 * The out variant (named and laid out as upstream's gen_out_variant_schema
 * makes it) of torchao's quantize_affine: for each block b of block_size
 * (affine_util.h),
 *   out = clamp(round(input * (1.0 / scale[b])) + zero_point[b],
 *               quant_min, quant_max).to(output_dtype)
 * step by step in torchao's dtypes: the reciprocal in the scale's dtype,
 * the product and round in the promotion T of input and scale, the zero
 * point added in T (integer zero points converted to T first) or in the
 * promotion of T with a float zero point's dtype, the clamp in that dtype
 * with the bounds converted to it, then PyTorch's float-to-integer
 * conversion (NaN gives 0 for the 8- and 16-bit dtypes, INT32_MIN for Int).
 * quant_min / quant_max default to output_dtype's bounds.
 *
 * Input Float, Half or BFloat16 (as torchao); scale Float, Half, BFloat16 or
 * Double; zero_point an integer or float dtype, one value per block
 * (torchao's reference fails without one, so None is refused); output
 * Byte, Char, Short or Int. Contiguous tensors.
 */
#include "quantized/ops.h"

#include "quantized/affine_util.h"

et_status et_q_quantize_affine_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t, *scale = args[2]->u.t;
  const et_tensor *zp = args[3]->tag == ET_TAG_NONE ? NULL : args[3]->u.t;
  et_tensor *out = args[7]->u.t;
  int dtype;
  int64_t lo_b, hi_b;
  double qmin, qmax;
  et_qa_blocks b;
  ET_K_TRY(et_q_check_tensor(ctx, in, "input", true));
  ET_K_TRY(et_q_check_tensor(ctx, out, "out", true));
  if (in->dtype != ET_FLOAT && in->dtype != ET_HALF && in->dtype != ET_BFLOAT16)
    return ET_K_FAIL(ctx, "input: expected dtype Float, Half or BFloat16, got %s",
                     et_dtype_name(in->dtype));
  ET_K_TRY(et_qa_target_dtype(ctx, args[4], "output_dtype", &dtype, &lo_b, &hi_b));
  ET_K_TRY(et_qa_qrange(ctx, args[5], args[6], dtype, &qmin, &qmax));
  if (out->dtype != dtype)
    return ET_K_FAIL(ctx, "out: dtype %s does not match output_dtype %s",
                     et_dtype_name(out->dtype), et_dtype_name(dtype));
  ET_K_TRY(et_qa_blocks_init(ctx, in, args[1], &b));
  ET_K_TRY(et_qa_check_param(ctx, scale, "scale", b.nblocks, true));
  if (zp == NULL)
    return ET_K_FAIL(ctx, "zero_point: None (torchao's quantize_affine adds a zero point; "
                          "pass zeros)");
  ET_K_TRY(et_qa_check_param(ctx, zp, "zero_point", b.nblocks, false));
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  if (b.numel == 0) return ET_OK;

  const int it = in->dtype, st = scale->dtype, zt = zp->dtype;
  const int t = et_qa_promote(it, st);                        /* input * (1 / scale) */
  const bool zp_float = et_qa_is_float(zt);
  const int t2 = zp_float ? et_qa_promote(t, zt) : t;         /* + zero_point, clamp */
  const double lo = et_qa_round(t2, qmin), hi = et_qa_round(t2, qmax);
  const size_t rows = b.numel / et_qa_row_len(&b), len = et_qa_row_len(&b);
  const size_t blen = et_qa_row_blen(&b);
  size_t idx[ET_MAX_RANK] = {0};
  size_t i = 0;
  for (size_t r = 0; r < rows; r++, et_qa_row_next(&b, idx)) {
    const size_t base = et_qa_row_base(&b, idx);
    for (size_t j0 = 0; j0 < len; j0 += blen) {
      const size_t p = base + j0 / blen;
      const double s = et_q_get_real(scale->data, st, p);
      const double inv = st == ET_DOUBLE ? 1.0 / s : et_qa_round(st, (double)(1.0f / (float)s));
      const double z = zp_float ? et_q_get_real(zp->data, zt, p)
                                : et_qa_from_int(t2, et_q_get_int(zp->data, zt, p));
      for (size_t j = j0; j < j0 + blen; j++, i++) {
        const double x = et_q_get_real(in->data, it, i);
        const double q = et_qa_rint(t, et_qa_mul(t, x, inv));
        const double v = et_q_clampd(et_qa_add(t2, q, z), lo, hi);
        et_q_put_int(out->data, dtype, i, et_qa_to_int(dtype, v));
      }
    }
  }
  return ET_OK;
}
