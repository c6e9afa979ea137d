/*
 * Quantized kernels (kernels/quantized): the table, hand-checked values
 * (rounding ties, saturation, zero points, packing orders) and, table
 * driven, the named error of every argument check. The comparison with
 * PyTorch's reference implementations on many inputs is in
 * tests/python/test_quantized_kernels.py.
 */
#include "test_kernels.h"

#include <edgetorch/method.h>
#include <edgetorch/module.h>

#define QD "quantized_decomposed::"
#define TA "torchao::"

static void test_table(void **state) {
  (void)state;
  const et_kernel_table *t = &et_quantized_kernels;
  assert_int_equal(t->count, 22);
  for (size_t i = 0; i < t->count; i++) {
    const et_kernel *k = &t->kernels[i];
    assert_non_null(k->fn);
    if (i && strcmp(t->kernels[i - 1].name, k->name) >= 0)
      fail_msg("not sorted: %s before %s", t->kernels[i - 1].name, k->name);
    assert_ptr_equal(et_kernel_table_find(t, k->name), k);
    assert_true(strncmp(k->name, QD, strlen(QD)) == 0 || strncmp(k->name, TA, strlen(TA)) == 0);
    /* no quantized operator shadows a portable one */
    assert_null(et_kernel_table_find(&et_portable_kernels, k->name));
  }
  const et_kernel *k = et_kernel_table_find(t, QD "quantize_per_tensor.out");
  assert_non_null(k);
  assert_string_equal(k->sig, "TDIIIIWW");
  k = et_kernel_table_find(t, QD "choose_qparams.Tensor_out");
  assert_non_null(k);
  assert_string_equal(k->sig, "TIIDIWWV");
  k = et_kernel_table_find(t, TA "choose_qparams_affine.out");
  assert_non_null(k);
  assert_string_equal(k->sig, "tZLIssdiiBWWV");
}

static void test_quantize_per_tensor_values(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 8), 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1000, -1000);
  et_tensor *q = kt_t(ET_CHAR, 1, 8);
  et_value *vq = VT(q);
  /* ties round to even, then the zero point, then the clamp */
  KT_OK(QD "quantize_per_tensor.out", VT(x), VD(1.0), VI(0), VI(-128), VI(127), VI(ET_CHAR), vq, vq);
  KT_EXPECT(q, 0, 2, 2, 0, -2, -2, 127, -128);
  KT_OK(QD "quantize_per_tensor.out", VT(x), VD(1.0), VI(3), VI(-100), VI(100), VI(ET_CHAR), vq, vq);
  KT_EXPECT(q, 3, 5, 5, 3, 1, 1, 100, -100);
  /* uint8 with a zero point of 128 and scale 0.5 */
  et_tensor *u = kt_t(ET_BYTE, 1, 4);
  et_value *vu = VT(u);
  et_tensor *y = kt_vals(kt_t(ET_FLOAT, 1, 4), 1.25, -0.25, 100, -100);
  KT_OK(QD "quantize_per_tensor.out", VT(y), VD(0.5), VI(128), VI(0), VI(255), VI(ET_BYTE), vu, vu);
  KT_EXPECT(u, 130, 128, 255, 0);
  /* the Tensor overload reads one-element scale/zero point tensors */
  et_tensor *s = kt_vals(kt_t(ET_DOUBLE, 1, 1), 0.5);
  et_tensor *z = kt_vals(kt_t(ET_LONG, 1, 1), 128);
  KT_OK(QD "quantize_per_tensor.Tensor_out", VT(y), VT(s), VT(z), VI(0), VI(255), VI(ET_BYTE), vu, vu);
  KT_EXPECT(u, 130, 128, 255, 0);
  /* empty */
  et_tensor *e = kt_t(ET_FLOAT, 2, 0, 3), *eq = kt_t(ET_CHAR, 2, 0, 3);
  KT_OK(QD "quantize_per_tensor.out", VT(e), VD(1.0), VI(0), VI(-128), VI(127), VI(ET_CHAR), VT(eq), VT(eq));
}

static void test_dequantize_values(void **state) {
  (void)state;
  et_tensor *q = kt_vals(kt_t(ET_CHAR, 1, 3), -128, 0, 127);
  et_tensor *o = kt_t(ET_FLOAT, 1, 3);
  et_value *vo = VT(o);
  KT_OK(QD "dequantize_per_tensor.out", VT(q), VD(0.5), VI(1), VI(-128), VI(127), VI(ET_CHAR), VN(), vo, vo);
  KT_EXPECT(o, -64.5, -0.5, 63);
  et_tensor *h = kt_t(ET_HALF, 1, 3);
  KT_OK(QD "dequantize_per_tensor.out", VT(q), VD(0.5), VI(1), VI(-128), VI(127), VI(ET_CHAR), VI(ET_HALF), VT(h), VT(h));
  KT_EXPECT(h, -64.5, -0.5, 63);
}

static void test_per_channel_values(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 1, 1, 1, 2, 2, 2);
  et_tensor *s = kt_vals(kt_t(ET_FLOAT, 1, 3), 1, 0.5, 0.25);
  et_tensor *z = kt_vals(kt_t(ET_LONG, 1, 3), 0, 1, -1);
  et_tensor *q = kt_t(ET_CHAR, 2, 2, 3);
  et_value *vq = VT(q);
  KT_OK(QD "quantize_per_channel.out", VT(x), VT(s), VT(z), VI(1), VI(-128), VI(127), VI(ET_CHAR), vq, vq);
  KT_EXPECT(q, 1, 3, 3, 2, 5, 7);
  KT_OK(QD "quantize_per_channel.out", VT(x), VT(s), VT(z), VI(-1), VI(-128), VI(127), VI(ET_CHAR), vq, vq);
  KT_EXPECT(q, 1, 3, 3, 2, 5, 7);
  et_tensor *o = kt_t(ET_FLOAT, 2, 2, 3);
  KT_OK(QD "dequantize_per_channel.out", VT(q), VT(s), VT(z), VI(1), VI(-128), VI(127), VI(ET_CHAR), VN(), VT(o), VT(o));
  KT_EXPECT(o, 1, 1, 1, 2, 2, 2);
  /* no zero points; axis 0 */
  et_tensor *s0 = kt_vals(kt_t(ET_DOUBLE, 1, 2), 2, 3);
  KT_OK(QD "dequantize_per_channel.out", VT(q), VT(s0), VN(), VI(0), VI(-128), VI(127), VI(ET_CHAR), VN(), VT(o), VT(o));
  KT_EXPECT(o, 2, 6, 6, 6, 15, 21);
}

static void test_choose_qparams_values(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 3), -1, 0, 3);
  et_tensor *s = kt_t(ET_DOUBLE, 1, 1), *z = kt_t(ET_LONG, 1, 1);
  KT_OK(QD "choose_qparams.Tensor_out", VT(x), VI(-128), VI(127), VD(1e-5), VI(ET_CHAR), VT(s), VT(z), VTL(s, z));
  assert_true(((double *)s->data)[0] == (double)(4.0f / 255.0f));
  assert_int_equal(((int64_t *)z->data)[0], -64);
  /* a constant input: the scale is eps */
  et_tensor *c = kt_vals(kt_t(ET_FLOAT, 1, 2), 0, 0);
  KT_OK(QD "choose_qparams.Tensor_out", VT(c), VI(-128), VI(127), VD(0.5), VI(ET_CHAR), VT(s), VT(z), VTL(s, z));
  assert_true(((double *)s->data)[0] == 0.5);
  assert_int_equal(((int64_t *)z->data)[0], -128);
  /* per token: shapes [2, 1]; row 0 all positive, row 1 symmetric */
  et_tensor *t = kt_vals(kt_t(ET_FLOAT, 2, 2, 2), 0, 2.55, -1, 1);
  et_tensor *ts = kt_t(ET_DOUBLE, 2, 2, 1), *tz = kt_t(ET_LONG, 2, 2, 1);
  KT_OK(QD "choose_qparams_per_token_asymmetric.out", VT(t), VI(ET_CHAR), VT(ts), VT(tz), VTL(ts, tz));
  assert_true(((double *)ts->data)[0] == (double)(2.55f / 255.0f));
  assert_int_equal(((int64_t *)tz->data)[0], -128);
  assert_true(((double *)ts->data)[1] == (double)(2.0f / 255.0f));
  assert_int_equal(((int64_t *)tz->data)[1], 0); /* round(127 - 127.5) = round(-0.5) = -0 */
}

static void test_per_token_values(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 2, 2), 0.5, 1.5, 0.5, 1.5);
  et_tensor *s = kt_vals(kt_t(ET_DOUBLE, 2, 2, 1), 1, 0.5);
  et_tensor *z = kt_vals(kt_t(ET_LONG, 2, 2, 1), 0, 1);
  et_tensor *q = kt_t(ET_CHAR, 2, 2, 2);
  /* the zero point is added before rounding: 0.5 + 0 -> 0, 1.5 -> 2, 1 + 1 -> 2, 3 + 1 -> 4 */
  KT_OK(QD "quantize_per_token.out", VT(x), VT(s), VT(z), VI(-128), VI(127), VI(ET_CHAR), VT(q), VT(q));
  KT_EXPECT(q, 0, 2, 2, 4);
  et_tensor *o = kt_t(ET_FLOAT, 2, 2, 2);
  KT_OK(QD "dequantize_per_token.out", VT(q), VT(s), VT(z), VI(-128), VI(127), VI(ET_CHAR), VI(ET_FLOAT), VT(o), VT(o));
  KT_EXPECT(o, 0, 2, 0.5, 1.5);
}

static void test_embedding_values(void **state) {
  (void)state;
  et_tensor *idx = kt_vals(kt_t(ET_LONG, 1, 2), 1, 0);
  /* 4 bits: element 2k is the high nibble, 2k + 1 the low one, minus 8 */
  et_tensor *w4 = kt_vals(kt_t(ET_BYTE, 2, 2, 2), 0x1F, 0x80, 0x88, 0x88);
  et_tensor *s = kt_vals(kt_t(ET_FLOAT, 1, 2), 2, 1);
  et_tensor *o = kt_t(ET_FLOAT, 2, 2, 4);
  KT_OK(QD "embedding_4bit.out", VT(w4), VT(s), VN(), VI(-8), VI(7), VT(idx), VT(o), VT(o));
  KT_EXPECT(o, 0, 0, 0, 0, -14, 14, 0, -16);
  /* 2 bits: element 4k + j is bits 2j..2j+1, minus 2 */
  et_tensor *w2 = kt_vals(kt_t(ET_BYTE, 2, 2, 1), 0xE4, 0xAA);
  KT_OK(QD "embedding_2bit.out", VT(w2), VT(s), VN(), VI(-2), VI(1), VT(idx), VT(o), VT(o));
  KT_EXPECT(o, 0, 0, 0, 0, -4, -2, 0, 2);
  /* 8 bits, two groups per row, zero points */
  et_tensor *w8 = kt_vals(kt_t(ET_CHAR, 2, 2, 4), 1, 2, 3, 4, -1, -2, -3, -4);
  et_tensor *sg = kt_vals(kt_t(ET_FLOAT, 2, 2, 2), 1, 2, 3, 4);
  et_tensor *zg = kt_vals(kt_t(ET_FLOAT, 2, 2, 2), 0, 1, 0, -1);
  et_tensor *h = kt_t(ET_HALF, 2, 2, 4);
  KT_OK(QD "embedding_byte.dtype_out", VT(w8), VT(sg), VT(zg), VI(-128), VI(127), VT(idx), VI(ET_HALF), VT(h), VT(h));
  KT_EXPECT(h, -3, -6, -8, -12, 1, 2, 4, 6);
}

static void test_mixed_and_add_values(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 1, 3), 1, 2, 3);
  et_tensor *w = kt_vals(kt_t(ET_CHAR, 2, 2, 3), 1, 0, -1, 2, 2, 2);
  et_tensor *s = kt_vals(kt_t(ET_FLOAT, 1, 2), 0.5, 0.25);
  et_tensor *o = kt_t(ET_FLOAT, 2, 1, 2);
  KT_OK(QD "mixed_linear.out", VT(x), VT(w), VT(s), VN(), VN(), VT(o), VT(o));
  KT_EXPECT(o, -1, 3);
  et_tensor *x2 = kt_vals(kt_t(ET_FLOAT, 2, 1, 2), 1, 2);
  et_tensor *w2 = kt_vals(kt_t(ET_CHAR, 2, 2, 2), 1, 2, 3, 4);
  et_tensor *s2 = kt_vals(kt_t(ET_FLOAT, 1, 2), 1, 0.5);
  KT_OK(QD "mixed_mm.out", VT(x2), VT(w2), VT(s2), VN(), VT(o), VT(o));
  KT_EXPECT(o, 4, 6);
  /* 10 * 0.5 + (4 - 2) * 0.25 = 5.5, a tie: 6 */
  et_tensor *a = kt_vals(kt_t(ET_CHAR, 1, 1), 10), *b = kt_vals(kt_t(ET_CHAR, 1, 1), 4);
  et_tensor *q = kt_t(ET_CHAR, 1, 1);
  KT_OK(QD "add.out", VT(a), VD(0.5), VI(0), VI(-128), VI(127), VT(b), VD(0.25), VI(2), VI(-128),
        VI(127), VD(1.0), VI(0), VI(-128), VI(127), VT(q), VT(q));
  KT_EXPECT(q, 6);
}

/* Every check names its argument: one bad call per line. */
static void test_named_errors(void **state) {
  (void)state;
  const int E = ET_INVALID_ARGUMENT;
  et_tensor *f = kt_random(kt_t(ET_FLOAT, 2, 2, 3), 1), *l = kt_t(ET_LONG, 2, 2, 3);
  et_tensor *i8 = kt_t(ET_CHAR, 2, 2, 3), *u8 = kt_t(ET_BYTE, 2, 2, 3), *fo = kt_t(ET_FLOAT, 2, 2, 3);
  et_tensor *s2 = kt_vals(kt_t(ET_DOUBLE, 1, 2), 1, 1), *z1 = kt_vals(kt_t(ET_LONG, 1, 1), 0);
  et_tensor *sl = kt_vals(kt_t(ET_LONG, 1, 1), 1);
  const char *qpt = QD "quantize_per_tensor.out";
  KT_FAIL(E, "input: expected dtype Float", qpt, VT(l), VD(1), VI(0), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "does not match the dtype argument", qpt, VT(f), VD(1), VI(0), VI(0), VI(255), VI(ET_BYTE), VT(i8), VT(i8));
  KT_FAIL(E, "quant_min -129", qpt, VT(f), VD(1), VI(0), VI(-129), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "quant_max 256", qpt, VT(f), VD(1), VI(0), VI(0), VI(256), VI(ET_BYTE), VT(u8), VT(u8));
  KT_FAIL(E, "dtype: 99 is not a dtype", qpt, VT(f), VD(1), VI(0), VI(0), VI(1), VI(99), VT(i8), VT(i8));
  KT_FAIL(E, "not a quantized dtype", qpt, VT(f), VD(1), VI(0), VI(0), VI(1), VI(ET_FLOAT), VT(fo), VT(fo));
  KT_FAIL(E, "out", qpt, VT(f), VD(1), VI(0), VI(-128), VI(127), VI(ET_CHAR), VT(kt_t(ET_CHAR, 2, 3, 3)), VT(i8));
  const char *qptt = QD "quantize_per_tensor.Tensor_out";
  KT_FAIL(E, "scale: expected one element", qptt, VT(f), VT(s2), VT(z1), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "scale: expected dtype Double or Float", qptt, VT(f), VT(sl), VT(z1), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "zero_point: expected dtype Long or Int", qptt, VT(f), VT(kt_vals(kt_t(ET_DOUBLE, 1, 1), 1)), VT(kt_t(ET_FLOAT, 1, 1)), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  const char *dpt = QD "dequantize_per_tensor.out";
  KT_FAIL(E, "input: dtype Byte does not match the dtype argument Char", dpt, VT(u8), VD(1), VI(0), VI(0), VI(255), VI(ET_CHAR), VN(), VT(fo), VT(fo));
  KT_FAIL(E, "input: dtype Float is not a quantized dtype", dpt, VT(f), VD(1), VI(0), VI(0), VI(255), VI(ET_FLOAT), VN(), VT(fo), VT(fo));
  KT_FAIL(E, "out_dtype: expected dtype Float, Double", dpt, VT(i8), VD(1), VI(0), VI(-128), VI(127), VI(ET_CHAR), VI(ET_LONG), VT(l), VT(l));
  KT_FAIL(E, "out: dtype Double does not match out_dtype Float", dpt, VT(i8), VD(1), VI(0), VI(-128), VI(127), VI(ET_CHAR), VN(), VT(kt_t(ET_DOUBLE, 2, 2, 3)), VT(fo));
  const char *qpc = QD "quantize_per_channel.out";
  et_tensor *s3 = kt_vals(kt_t(ET_FLOAT, 1, 3), 1, 1, 1), *z3 = kt_t(ET_LONG, 1, 3);
  KT_FAIL(E, "axis: dimension 2 out of range", qpc, VT(f), VT(s3), VT(z3), VI(2), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "scales: 3 values for 2 channels", qpc, VT(f), VT(s3), VT(z3), VI(0), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "zero_points: 1 values, scales has 3", qpc, VT(f), VT(s3), VT(z1), VI(1), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "scales: expected dtype Float or Double", qpc, VT(f), VT(z3), VT(z3), VI(1), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "zero_points: expected dtype Long, Int", qpc, VT(f), VT(s3), VT(kt_t(ET_CHAR, 1, 3)), VI(1), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  const char *dpc = QD "dequantize_per_channel.out";
  KT_FAIL(E, "quant_max 300", dpc, VT(i8), VT(s3), VN(), VI(1), VI(-128), VI(300), VI(ET_CHAR), VN(), VT(fo), VT(fo));
  KT_FAIL(E, "per-channel quantization needs rank >= 1", dpc, VT(kt_t0(ET_CHAR)), VT(s3), VN(), VI(0), VI(-128), VI(127), VI(ET_CHAR), VN(), VT(kt_t0(ET_FLOAT)), VT(fo));
  const char *qtk = QD "quantize_per_token.out";
  et_tensor *ts = kt_vals(kt_t(ET_DOUBLE, 2, 2, 1), 1, 1), *tz = kt_t(ET_LONG, 2, 2, 1);
  KT_FAIL(E, "scales: 3 values for 2 tokens", qtk, VT(f), VT(s3), VT(tz), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "zero_points: shape [1, 2] is not per token", qtk, VT(f), VT(ts), VT(kt_t(ET_LONG, 2, 1, 2)), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "input: expected a floating dtype", qtk, VT(l), VT(ts), VT(tz), VI(-128), VI(127), VI(ET_CHAR), VT(i8), VT(i8));
  KT_FAIL(E, "output_dtype: expected dtype Float", QD "dequantize_per_token.out", VT(i8), VT(ts), VT(tz), VI(-128), VI(127), VI(ET_CHAR), VI(ET_CHAR), VT(i8), VT(i8));
  const char *cq = QD "choose_qparams.Tensor_out";
  et_tensor *cs = kt_t(ET_DOUBLE, 1, 1), *cz = kt_t(ET_LONG, 1, 1);
  KT_FAIL(E, "input: is empty", cq, VT(kt_t(ET_FLOAT, 1, 0)), VI(-128), VI(127), VD(1e-5), VI(ET_CHAR), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "must include 0", cq, VT(f), VI(1), VI(127), VD(1e-5), VI(ET_CHAR), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "must be less than quant_max", cq, VT(f), VI(0), VI(0), VD(1e-5), VI(ET_CHAR), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "scale_out: expected dtype Double", cq, VT(f), VI(-128), VI(127), VD(1e-5), VI(ET_CHAR), VT(kt_t(ET_FLOAT, 1, 1)), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "input: expected dtype Float", cq, VT(l), VI(-128), VI(127), VD(1e-5), VI(ET_CHAR), VT(cs), VT(cz), VTL(cs, cz));
  const char *cpt = QD "choose_qparams_per_token_asymmetric.out";
  KT_FAIL(E, "zero_point_out: expected dtype Long", cpt, VT(f), VI(ET_CHAR), VT(ts), VT(ts), VTL(ts, ts));
  KT_FAIL(E, "the last dim is empty", cpt, VT(kt_t(ET_FLOAT, 2, 2, 0)), VI(ET_CHAR), VT(ts), VT(tz), VTL(ts, tz));
  et_tensor *w = kt_t(ET_BYTE, 2, 3, 2), *ws = kt_vals(kt_t(ET_FLOAT, 1, 3), 1, 1, 1);
  et_tensor *eo = kt_t(ET_FLOAT, 2, 2, 4);
  et_tensor *ix = kt_vals(kt_t(ET_LONG, 1, 2), 0, 3);
  et_tensor *ok_ix = kt_vals(kt_t(ET_LONG, 1, 2), 0, 2);
  const char *e4 = QD "embedding_4bit.out";
  KT_FAIL(E, "indices[1] = 3 is out of range", e4, VT(w), VT(ws), VN(), VI(-8), VI(7), VT(ix), VT(eo), VT(eo));
  KT_FAIL(E, "weight_quant_min -8 and weight_quant_max 7", e4, VT(w), VT(ws), VN(), VI(-7), VI(7), VT(ok_ix), VT(eo), VT(eo));
  KT_FAIL(E, "weight_scales: 2 rows for a weight of 3 rows", e4, VT(w), VT(kt_t(ET_FLOAT, 1, 2)), VN(), VI(-8), VI(7), VT(ok_ix), VT(eo), VT(eo));
  KT_FAIL(E, "weight: expected dtype Char or Byte", e4, VT(kt_t(ET_FLOAT, 2, 3, 2)), VT(ws), VN(), VI(-8), VI(7), VT(ok_ix), VT(eo), VT(eo));
  KT_FAIL(E, "weight_zero_points: dtype Long differs", e4, VT(w), VT(ws), VT(kt_t(ET_LONG, 1, 3)), VI(-8), VI(7), VT(ok_ix), VT(eo), VT(eo));
  KT_FAIL(E, "indices: expected dtype Long or Int", e4, VT(w), VT(ws), VN(), VI(-8), VI(7), VT(kt_t(ET_FLOAT, 1, 2)), VT(eo), VT(eo));
  KT_FAIL(E, "out: dtype Half does not match dtype Float", QD "embedding_4bit.dtype_out", VT(w), VT(ws), VN(), VI(-8), VI(7), VT(ok_ix), VI(ET_FLOAT), VT(kt_t(ET_HALF, 2, 2, 4)), VT(eo));
  KT_FAIL(E, "out: expected dtype Float, Double, Half or BFloat16, got Long", e4, VT(w), VT(ws), VN(), VI(-8), VI(7), VT(ok_ix), VT(kt_t(ET_LONG, 2, 2, 4)), VT(eo));
  KT_FAIL(E, "weight_quant_min -2 and weight_quant_max 1", QD "embedding_2bit.dtype_out", VT(w), VT(ws), VN(), VI(-8), VI(7), VT(ok_ix), VN(), VT(eo), VT(eo));
  KT_FAIL(E, "group size 1", QD "embedding_byte.out", VT(kt_t(ET_CHAR, 2, 3, 1)), VT(ws), VN(), VI(-8), VI(7), VT(ok_ix), VT(kt_t(ET_FLOAT, 2, 2, 1)), VT(eo));
  /* no rows, no groups, no indices: nothing to do (no division by the group size 0) */
  et_tensor *e0 = kt_t(ET_FLOAT, 2, 0, 4);
  KT_OK(QD "embedding_4bit.out", VT(kt_t(ET_BYTE, 2, 0, 2)), VT(kt_t(ET_FLOAT, 2, 0, 0)), VN(), VI(-8), VI(7),
        VT(kt_t(ET_LONG, 1, 0)), VT(e0), VT(e0));
  et_tensor *mx = kt_t(ET_FLOAT, 2, 2, 3), *mw = kt_t(ET_CHAR, 2, 4, 3), *ms = kt_t(ET_FLOAT, 1, 4);
  et_tensor *mo = kt_t(ET_FLOAT, 2, 2, 4);
  const char *ml = QD "mixed_linear.out";
  KT_FAIL(E, "weight_zero_points: not supported", ml, VT(mx), VT(mw), VT(ms), VT(ms), VN(), VT(mo), VT(mo));
  KT_FAIL(E, "weight: expected dtype Char", ml, VT(mx), VT(kt_t(ET_BYTE, 2, 4, 3)), VT(ms), VN(), VN(), VT(mo), VT(mo));
  KT_FAIL(E, "do not match", ml, VT(mx), VT(kt_t(ET_CHAR, 2, 4, 2)), VT(ms), VN(), VN(), VT(mo), VT(mo));
  KT_FAIL(E, "out: dtype Float does not match dtype Half", ml, VT(mx), VT(mw), VT(ms), VN(), VI(ET_HALF), VT(mo), VT(mo));
  KT_FAIL(E, "input (Float) and weight_scales (Half)", QD "mixed_mm.out", VT(mx), VT(kt_t(ET_CHAR, 2, 3, 4)), VT(kt_t(ET_HALF, 1, 3)), VN(), VT(mo), VT(mo));
  const char *qa = QD "add.out";
  KT_FAIL(E, "a (Char) and b (Byte)", qa, VT(i8), VD(1), VI(0), VI(-128), VI(127), VT(u8), VD(1), VI(0), VI(-128), VI(127), VD(1), VI(0), VI(-128), VI(127), VT(i8), VT(i8));
  KT_FAIL(E, "must have the same shape", qa, VT(i8), VD(1), VI(0), VI(-128), VI(127), VT(kt_t(ET_CHAR, 1, 6)), VD(1), VI(0), VI(-128), VI(127), VD(1), VI(0), VI(-128), VI(127), VT(i8), VT(i8));
  KT_FAIL(E, "a: dtype Float is not a quantized dtype", qa, VT(f), VD(1), VI(0), VI(-128), VI(127), VT(f), VD(1), VI(0), VI(-128), VI(127), VD(1), VI(0), VI(-128), VI(127), VT(fo), VT(fo));
}

/* torchao's affine ops: block geometry, ties, zero points at the bounds,
 * NaN, saturation, the three mappings, shapes with and without keepdim. */
static void test_affine_values(void **state) {
  (void)state;
  /* [2, 4] in blocks [1, 2]: four blocks of two */
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 2, 2, 4), 0.5, 1.5, 2.5, -0.5, 1000, -1000, NAN, 3.0);
  et_tensor *s = kt_vals(kt_t(ET_FLOAT, 2, 2, 2), 1, 1, 0.5, 2);
  et_tensor *z = kt_vals(kt_t(ET_INT, 2, 2, 2), 0, 3, -128, 127);
  et_tensor *q = kt_t(ET_CHAR, 2, 2, 4);
  KT_OK(TA "quantize_affine.out", VT(x), VL(1, 2), VT(s), VT(z), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_EXPECT(q, 0, 2, 5, 3, 127, -128, 0, 127);
  /* a narrower range (int4 in int8) clamps there */
  KT_OK(TA "quantize_affine.out", VT(x), VL(1, 2), VT(s), VT(kt_t(ET_INT, 2, 2, 2)), VI(ET_CHAR), VI(-8), VI(7), VT(q), VT(q));
  KT_EXPECT(q, 0, 2, 2, 0, 7, -8, 0, 2);
  /* per tensor (block = shape), uint8 */
  et_tensor *u = kt_t(ET_BYTE, 2, 2, 4);
  KT_OK(TA "quantize_affine.out", VT(x), VL(2, 4), VT(kt_vals(kt_t(ET_FLOAT, 1, 1), 0.5)),
        VT(kt_vals(kt_t(ET_LONG, 1, 1), 255)), VI(ET_BYTE), VN(), VN(), VT(u), VT(u));
  KT_EXPECT(u, 255, 255, 255, 254, 255, 0, 0, 255);
  /* dequantize per block of dim 0 ([2, 1]: three blocks along dim 1) */
  et_tensor *dq = kt_vals(kt_t(ET_CHAR, 2, 2, 3), -128, 0, 127, 1, 2, 3);
  et_tensor *ds = kt_vals(kt_t(ET_FLOAT, 1, 3), 0.5, 1, 2);
  et_tensor *o = kt_t(ET_FLOAT, 2, 2, 3), *h = kt_t(ET_HALF, 2, 2, 3);
  KT_OK(TA "dequantize_affine.out", VT(dq), VL(2, 1), VT(ds), VN(), VI(ET_CHAR), VN(), VN(), VI(ET_FLOAT), VT(o), VT(o));
  KT_EXPECT(o, -64, 0, 254, 0.5, 2, 6);
  et_tensor *dz = kt_vals(kt_t(ET_CHAR, 1, 3), 1, -1, 0);
  KT_OK(TA "dequantize_affine.out", VT(dq), VL(2, 1), VT(ds), VT(dz), VI(ET_CHAR), VN(), VN(), VI(ET_HALF), VT(h), VT(h));
  KT_EXPECT(h, -64.5, 1, 254, 0, 3, 6);
  /* choose_qparams per row (block [1, 4]) */
  et_tensor *c = kt_vals(kt_t(ET_FLOAT, 2, 2, 4), -1, 0, 3, 2, 0.5, 1, 2, 4);
  et_tensor *cs = kt_t(ET_FLOAT, 1, 2), *cz = kt_t(ET_INT, 1, 2);
  KT_OK(TA "choose_qparams_affine.out", VT(c), VS("ASYMMETRIC"), VL(1, 4), VI(ET_CHAR), VI(-128), VI(127),
        VN(), VN(), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  assert_true(((float *)cs->data)[0] == 4.0f / 255.0f && ((float *)cs->data)[1] == 4.0f / 255.0f);
  assert_int_equal(((int32_t *)cz->data)[0], -64); /* -128 - round(-63.75) */
  assert_int_equal(((int32_t *)cz->data)[1], -128);
  et_tensor *ks = kt_t(ET_FLOAT, 2, 2, 1), *kz = kt_t(ET_FLOAT, 2, 2, 1);
  KT_OK(TA "choose_qparams_affine.out", VT(c), VS("SYMMETRIC"), VL(1, 4), VI(ET_CHAR), VN(), VN(),
        VN(), VN(), VN(), VB(true), VT(ks), VT(kz), VTL(ks, kz));
  assert_true(((float *)ks->data)[0] == 3.0f / 127.5f && ((float *)ks->data)[1] == 4.0f / 127.5f);
  KT_EXPECT(kz, 0, 0); /* the symmetric zero point, in the input's dtype */
  KT_OK(TA "choose_qparams_affine.out", VT(c), VS("SYMMETRIC_NO_CLIPPING_ERR"), VL(1, 4), VI(ET_CHAR), VN(), VN(),
        VN(), VN(), VN(), VB(true), VT(ks), VT(kz), VTL(ks, kz));
  assert_true(((float *)ks->data)[0] == 3.0f / 127.0f && ((float *)ks->data)[1] == 4.0f / 127.0f);
  /* block size 1 everywhere reduces nothing in torchao: one block, rank 0 */
  et_tensor *s0 = kt_t0(ET_FLOAT), *z0 = kt_t0(ET_INT);
  KT_OK(TA "choose_qparams_affine.out", VT(c), VS("ASYMMETRIC"), VL(1, 1), VI(ET_CHAR), VN(), VN(),
        VN(), VN(), VN(), VB(false), VT(s0), VT(z0), VTL(s0, z0));
  assert_true(((float *)s0->data)[0] == 5.0f / 255.0f);
  assert_int_equal(((int32_t *)z0->data)[0], -77); /* -128 - round(-51) */
  /* eps clamps the scale from below */
  KT_OK(TA "choose_qparams_affine.out", VT(c), VS("ASYMMETRIC"), VL(1, 1), VI(ET_CHAR), VN(), VN(),
        VD(0.5), VN(), VN(), VB(false), VT(s0), VT(z0), VTL(s0, z0));
  assert_true(((float *)s0->data)[0] == 0.5f);
  assert_int_equal(((int32_t *)z0->data)[0], -126); /* -128 - round(-2) */
  /* a NaN block: NaN scale, the zero point converts as PyTorch's (INT32_MIN) */
  et_tensor *n = kt_vals(kt_t(ET_FLOAT, 1, 2), NAN, 1);
  et_tensor *ns = kt_t(ET_FLOAT, 1, 1), *nz = kt_t(ET_INT, 1, 1);
  KT_OK(TA "choose_qparams_affine.out", VT(n), VS("ASYMMETRIC"), VL(2), VI(ET_CHAR), VN(), VN(),
        VN(), VN(), VN(), VB(true), VT(ns), VT(nz), VTL(ns, nz));
  assert_true(isnan(((float *)ns->data)[0]));
  assert_int_equal(((int32_t *)nz->data)[0], INT32_MIN);
  /* empty input with one block (block size 0 = the dim's size) */
  et_tensor *e = kt_t(ET_FLOAT, 2, 0, 4), *eq = kt_t(ET_CHAR, 2, 0, 4);
  KT_OK(TA "quantize_affine.out", VT(e), VL(0, 4), VT(kt_vals(kt_t(ET_FLOAT, 1, 1), 1)),
        VT(kt_t(ET_INT, 1, 1)), VI(ET_CHAR), VN(), VN(), VT(eq), VT(eq));
}

/* Every check of the affine ops names its argument. */
static void test_affine_named_errors(void **state) {
  (void)state;
  const int E = ET_INVALID_ARGUMENT;
  et_tensor *x = kt_random(kt_t(ET_FLOAT, 2, 2, 4), 3), *q = kt_t(ET_CHAR, 2, 2, 4);
  et_tensor *s = kt_vals(kt_t(ET_FLOAT, 2, 2, 2), 1, 1, 1, 1), *z = kt_t(ET_INT, 2, 2, 2);
  et_tensor *o = kt_t(ET_FLOAT, 2, 2, 4);
  const char *qa = TA "quantize_affine.out", *da = TA "dequantize_affine.out";
  const char *ca = TA "choose_qparams_affine.out";
  KT_FAIL(E, "block_size: 1 sizes for an input of rank 2", qa, VT(x), VL(2), VT(s), VT(z), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "block_size: 3 at dim 1 does not divide the input's size 4", qa, VT(x), VL(1, 3), VT(s), VT(z), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "block_size: 0 at dim 0 is below 1", qa, VT(x), VL(0, 2), VT(s), VT(z), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "block_size: -2 at dim 1 is below 1", qa, VT(x), VL(1, -2), VT(s), VT(z), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "scale: 4 values for 2 blocks", qa, VT(x), VL(1, 4), VT(s), VT(z), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "scale: expected dtype Float, Half, BFloat16 or Double, got Int", qa, VT(x), VL(1, 2), VT(z), VT(z), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "zero_point: None", qa, VT(x), VL(1, 2), VT(s), VN(), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "zero_point: 3 values for 4 blocks", qa, VT(x), VL(1, 2), VT(s), VT(kt_t(ET_INT, 1, 3)), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "zero_point: expected an integer or float dtype, got Bool", qa, VT(x), VL(1, 2), VT(s), VT(kt_t(ET_BOOL, 2, 2, 2)), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "input: expected dtype Float, Half or BFloat16, got Double", qa, VT(kt_t(ET_DOUBLE, 2, 2, 4)), VL(1, 2), VT(s), VT(z), VI(ET_CHAR), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "output_dtype: UInt16 is not a dtype of torchao's affine quantization", qa, VT(x), VL(1, 2), VT(s), VT(z), VI(ET_UINT16), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "output_dtype: 99 is not a dtype", qa, VT(x), VL(1, 2), VT(s), VT(z), VI(99), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "out: dtype Char does not match output_dtype Byte", qa, VT(x), VL(1, 2), VT(s), VT(z), VI(ET_BYTE), VN(), VN(), VT(q), VT(q));
  KT_FAIL(E, "quant_min -129 is below the lowest Char value -128", qa, VT(x), VL(1, 2), VT(s), VT(z), VI(ET_CHAR), VI(-129), VN(), VT(q), VT(q));
  KT_FAIL(E, "quant_max 128 is above the highest Char value 127", qa, VT(x), VL(1, 2), VT(s), VT(z), VI(ET_CHAR), VN(), VD(128.0), VT(q), VT(q));
  KT_FAIL(E, "quant_min: NaN", qa, VT(x), VL(1, 2), VT(s), VT(z), VI(ET_CHAR), VD(NAN), VN(), VT(q), VT(q));
  KT_FAIL(E, "out", qa, VT(x), VL(1, 2), VT(s), VT(z), VI(ET_CHAR), VN(), VN(), VT(kt_t(ET_CHAR, 1, 8)), VT(q));
  KT_FAIL(E, "input: dtype Char does not match input_dtype Byte", da, VT(q), VL(1, 2), VT(s), VT(z), VI(ET_BYTE), VN(), VN(), VI(ET_FLOAT), VT(o), VT(o));
  KT_FAIL(E, "input_dtype: Long is not a dtype of torchao's", da, VT(kt_t(ET_LONG, 2, 2, 4)), VL(1, 2), VT(s), VT(z), VI(ET_LONG), VN(), VN(), VI(ET_FLOAT), VT(o), VT(o));
  KT_FAIL(E, "output_dtype: expected Float, Half or BFloat16, got Double", da, VT(q), VL(1, 2), VT(s), VT(z), VI(ET_CHAR), VN(), VN(), VI(ET_DOUBLE), VT(kt_t(ET_DOUBLE, 2, 2, 4)), VT(o));
  KT_FAIL(E, "out: dtype Float does not match output_dtype Half", da, VT(q), VL(1, 2), VT(s), VT(z), VI(ET_CHAR), VN(), VN(), VI(ET_HALF), VT(o), VT(o));
  KT_FAIL(E, "zero_point: 1 values for 4 blocks", da, VT(q), VL(1, 2), VT(s), VT(kt_t(ET_INT, 1, 1)), VI(ET_CHAR), VN(), VN(), VI(ET_FLOAT), VT(o), VT(o));
  KT_FAIL(E, "block_size: 5 at dim 1 does not divide", da, VT(q), VL(1, 5), VT(s), VN(), VI(ET_CHAR), VN(), VN(), VI(ET_FLOAT), VT(o), VT(o));
  et_tensor *cs = kt_t(ET_FLOAT, 1, 2), *cz = kt_t(ET_INT, 1, 2);
  KT_FAIL(E, "input: None", ca, VN(), VS("ASYMMETRIC"), VL(1, 4), VI(ET_CHAR), VN(), VN(), VN(), VN(), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "mapping_type: \"symmetric\" is not SYMMETRIC", ca, VT(x), VS("symmetric"), VL(1, 4), VI(ET_CHAR), VN(), VN(), VN(), VN(), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "input: expected dtype Float, Half, BFloat16 or Double, got Long", ca, VT(kt_t(ET_LONG, 2, 2, 4)), VS("ASYMMETRIC"), VL(1, 4), VI(ET_CHAR), VN(), VN(), VN(), VN(), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "target_dtype: Float is not a dtype of torchao's", ca, VT(x), VS("ASYMMETRIC"), VL(1, 4), VI(ET_FLOAT), VN(), VN(), VN(), VN(), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "eps: NaN", ca, VT(x), VS("ASYMMETRIC"), VL(1, 4), VI(ET_CHAR), VN(), VN(), VD(NAN), VN(), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "scale_dtype: expected Float, Half, BFloat16 or Double, got Long", ca, VT(x), VS("ASYMMETRIC"), VL(1, 4), VI(ET_CHAR), VN(), VN(), VN(), VI(ET_LONG), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "zero_point_dtype: expected an integer or float dtype, got Bool", ca, VT(x), VS("ASYMMETRIC"), VL(1, 4), VI(ET_CHAR), VN(), VN(), VN(), VN(), VI(ET_BOOL), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "out0: dtype Float is not the scale's dtype Half", ca, VT(x), VS("ASYMMETRIC"), VL(1, 4), VI(ET_CHAR), VN(), VN(), VN(), VI(ET_HALF), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "out1: dtype Int is not the zero point's dtype Float", ca, VT(x), VS("SYMMETRIC"), VL(1, 4), VI(ET_CHAR), VN(), VN(), VN(), VN(), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "input: the blocks along dim 1 are empty", ca, VT(kt_t(ET_FLOAT, 2, 2, 0)), VS("ASYMMETRIC"), VL(1, 0), VI(ET_CHAR), VN(), VN(), VN(), VN(), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "keepdim: block_size reduces no dim", ca, VT(x), VS("ASYMMETRIC"), VL(1, 1), VI(ET_CHAR), VN(), VN(), VN(), VN(), VN(), VB(true), VT(cs), VT(cz), VTL(cs, cz));
  KT_FAIL(E, "out0", ca, VT(x), VS("ASYMMETRIC"), VL(1, 2), VI(ET_CHAR), VN(), VN(), VN(), VN(), VN(), VB(false), VT(cs), VT(cz), VTL(cs, cz));
}

/* The quantized seeds of the fuzz corpus (PT2E XNNPACKQuantizer, static and
 * dynamic, exported by upstream without delegates) run through et_module,
 * whose default registry holds the quantized table. */
static void test_module_runs_quantized_programs(void **state) {
  (void)state;
  static const char *const files[] = {"quantized_static.pte", "quantized_dynamic.pte"};
  for (size_t f = 0; f < 2; f++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/%s", ET_SOURCE_DIR, files[f]);
    et_module *mod = NULL;
    et_diag diag;
    et_diag_clear(&diag);
    if (et_module_load_file(path, ET_LOAD_DEFAULT, &mod, &diag) != ET_OK)
      fail_msg("%s: %s", path, diag.message);
    const et_registry *reg = et_module_registry(mod);
    bool has_quantized = false;
    for (size_t t = 0; t < reg->n_kernel_tables; t++)
      has_quantized |= reg->kernel_tables[t] == &et_quantized_kernels;
    assert_true(has_quantized);
    et_method *m = NULL;
    if (et_module_method(mod, "forward", &m, &diag) != ET_OK)
      fail_msg("%s: %s", path, diag.message);
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i % 7) * 0.3f - 0.9f;
    const int64_t sizes[2] = {2, 8};
    assert_int_equal(et_method_set_input_tensor(m, 0, ET_FLOAT, 2, sizes, x, sizeof x), ET_OK);
    if (et_method_execute(m) != ET_OK) fail_msg("%s: execute failed", path);
    const et_value *out = et_method_output(m, 0);
    assert_int_equal(out->tag, ET_TAG_TENSOR);
    assert_int_equal(out->u.t->dtype, ET_FLOAT);
    assert_int_equal(et_tensor_numel(out->u.t), 6);
    float absmax = 0;
    for (int i = 0; i < 6; i++) {
      const float v = ((const float *)out->u.t->data)[i];
      assert_true(isfinite(v));
      absmax = fabsf(v) > absmax ? fabsf(v) : absmax;
    }
    assert_true(absmax > 0); /* the program computed something */
    et_module_free(mod);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_table, kt_free_all),
      cmocka_unit_test_teardown(test_quantize_per_tensor_values, kt_free_all),
      cmocka_unit_test_teardown(test_dequantize_values, kt_free_all),
      cmocka_unit_test_teardown(test_per_channel_values, kt_free_all),
      cmocka_unit_test_teardown(test_choose_qparams_values, kt_free_all),
      cmocka_unit_test_teardown(test_per_token_values, kt_free_all),
      cmocka_unit_test_teardown(test_embedding_values, kt_free_all),
      cmocka_unit_test_teardown(test_mixed_and_add_values, kt_free_all),
      cmocka_unit_test_teardown(test_named_errors, kt_free_all),
      cmocka_unit_test_teardown(test_affine_values, kt_free_all),
      cmocka_unit_test_teardown(test_affine_named_errors, kt_free_all),
      cmocka_unit_test_teardown(test_module_runs_quantized_programs, kt_free_all),
  };
  return cmocka_run_group_tests_name("kernels_quantized", tests, NULL, NULL);
}
