/*
 * Portable kernels, part 1: the registry and the elementwise operators
 * (arithmetic, comparisons, where, logical_not, unary math, activations).
 * Kernels are looked up by name in et_portable_kernels and their argument
 * tags checked against the registered signature, as the runtime does.
 */
#include "test_kernels.h"

/* ---- registry ---------------------------------------------------------------- */

static void test_registry_sorted_and_valid(void **state) {
  (void)state;
  const et_kernel_table *t = &et_portable_kernels;
  assert_true(t->count >= 90);
  for (size_t i = 0; i < t->count; i++) {
    const et_kernel *k = &t->kernels[i];
    assert_non_null(k->fn);
    if (i) {
      if (strcmp(t->kernels[i - 1].name, k->name) >= 0)
        fail_msg("not sorted: %s before %s", t->kernels[i - 1].name, k->name);
    }
    assert_ptr_equal(et_kernel_table_find(t, k->name), k);
    assert_true(strlen(k->sig) >= 1);
    for (const char *c = k->sig; *c; c++)
      if (!strchr("TtWPIiDdBbSsLlFfGVOZzN*", *c)) fail_msg("%s: bad letter %c", k->name, *c);
    /* a namespace, and an overload unless the name is aten::copy_-like */
    assert_non_null(strstr(k->name, "::"));
  }
  assert_null(et_kernel_table_find(t, "aten::add"));
  assert_null(et_kernel_table_find(t, "aten::nonexistent.out"));
  /* names and signatures the acceptance programs use */
  static const char *const want[][2] = {
      {"aten::add.out", "TTSWW"},
      {"aten::copy_", "WTBW"},
      {"aten::addmm.out", "TTTSSWW"},
      {"aten::convolution.out", "TTtLLLBLIWW"},
      {"aten::_native_batch_norm_legit_no_training.out", "TttTTDDWWWV"},
      {"aten::native_layer_norm.out", "TLttDWWWV"},
      {"aten::max_pool2d_with_indices.out", "TLLLLBWWV"},
      {"aten::mean.out", "TlBiWW"},
      {"aten::sum.IntList_out", "TlBiWW"},
      {"aten::gelu.out", "TZWW"},
      {"aten::full_like.out", "TSiWW"},
      {"aten::slice_copy.Tensor_out", "TIiiIWW"},
      {"aten::sym_size.int", "TII"},
      {"aten::_local_scalar_dense", "TS"},
      {"dim_order_ops::_clone_dim_order.out", "TBlWW"},
      {"dim_order_ops::_to_dim_order_copy.out", "TBlWW"},
      {"executorch_prim::et_view.default", "TLP"},
      {"executorch_prim::et_copy_index.tensor", "WTI"},
      {"executorch_prim::add.Scalar", "SSS"},
      {"executorch_prim::eq.Scalar", "SSS"},
      {"executorch_prim::mod.Scalar", "III"},
      {"executorch_prim::floordiv.int", "III"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const et_kernel *k = et_kernel_table_find(t, want[i][0]);
    if (!k) fail_msg("missing %s", want[i][0]);
    assert_string_equal(k->sig, want[i][1]);
  }
}

/* ---- add / sub / mul / div --------------------------------------------------- */

static void test_add_broadcast_alpha(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 1, 2, 3, 4, 5, 6);
  et_tensor *b = kt_vals(kt_t(ET_FLOAT, 1, 3), 10, 20, 30);
  et_tensor *out = kt_t(ET_FLOAT, 2, 2, 3);
  et_value *vo = VT(out);
  KT_OK("aten::add.out", VT(a), VT(b), VI(2), vo, vo);
  KT_EXPECT(out, 21, 42, 63, 24, 45, 66);
  /* alpha 1, broadcast on the left operand and along an inner dim */
  et_tensor *c = kt_vals(kt_t(ET_FLOAT, 2, 2, 1), 100, 200);
  KT_OK("aten::add.out", VT(c), VT(a), VI(1), vo, vo);
  KT_EXPECT(out, 101, 102, 103, 204, 205, 206);
  /* rank-0 operand */
  et_tensor *s = kt_vals(kt_t0(ET_FLOAT), 0.5);
  KT_OK("aten::add.out", VT(a), VT(s), VD(-2.0), vo, vo);
  KT_EXPECT(out, 0, 1, 2, 3, 4, 5);
}

static void test_add_dtypes(void **state) {
  (void)state;
  /* Int8 + Int8 wraps in Int8 */
  et_tensor *a = kt_vals(kt_t(ET_CHAR, 1, 3), 100, -100, 5);
  et_tensor *o8 = kt_t(ET_CHAR, 1, 3);
  KT_OK("aten::add.out", VT(a), VT(a), VI(1), VT(o8), VT(o8));
  KT_EXPECT(o8, -56, 56, 10);
  /* ... even when the out is wider (upstream computes in the common dtype) */
  et_tensor *o32 = kt_t(ET_INT, 1, 3);
  KT_OK("aten::add.out", VT(a), VT(a), VI(1), VT(o32), VT(o32));
  KT_EXPECT(o32, -56, 56, 10);
  /* Byte + Char -> Short */
  et_tensor *u = kt_vals(kt_t(ET_BYTE, 1, 3), 200, 255, 0);
  et_tensor *o16 = kt_t(ET_SHORT, 1, 3);
  KT_OK("aten::add.out", VT(u), VT(a), VI(1), VT(o16), VT(o16));
  KT_EXPECT(o16, 300, 155, 5);
  /* Int + Float -> Float */
  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 3), 1, 2, 3);
  et_tensor *f = kt_vals(kt_t(ET_FLOAT, 1, 3), 0.5, 0.25, 0.125);
  et_tensor *of = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::add.out", VT(i), VT(f), VI(2), VT(of), VT(of));
  KT_EXPECT(of, 2, 2.5, 3.25);
  /* Bool + Bool = or, stored as 1 in an Int out */
  et_tensor *b1 = kt_vals(kt_t(ET_BOOL, 1, 3), 1, 1, 0);
  et_tensor *b2 = kt_vals(kt_t(ET_BOOL, 1, 3), 1, 0, 0);
  et_tensor *ob = kt_t(ET_BOOL, 1, 3);
  KT_OK("aten::add.out", VT(b1), VT(b2), VB(true), VT(ob), VT(ob));
  KT_EXPECT(ob, 1, 1, 0);
  KT_OK("aten::add.out", VT(b1), VT(b2), VI(1), VT(o32), VT(o32));
  KT_EXPECT(o32, 1, 1, 0);
  /* Half: computed in float, rounded once */
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 2), 0.1, 1000);
  et_tensor *oh = kt_t(ET_HALF, 1, 2);
  KT_OK("aten::add.out", VT(h), VT(h), VI(1), VT(oh), VT(oh));
  float h0 = et_half_to_float(et_float_to_half(0.1f));
  assert_true(kt_get(oh, 0) == (double)et_half_to_float(et_float_to_half(h0 + h0)));
  assert_true(kt_get(oh, 1) == 2000.0);
  /* Half + BFloat16 -> Float */
  et_tensor *bf = kt_vals(kt_t(ET_BFLOAT16, 1, 2), 1.5, -2);
  et_tensor *of2 = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::add.out", VT(h), VT(bf), VI(1), VT(of2), VT(of2));
  assert_true(kt_get(of2, 0) == (double)(h0 + 1.5f));
  /* Double */
  et_tensor *d = kt_vals(kt_t(ET_DOUBLE, 1, 2), 1e-17, 1);
  et_tensor *od = kt_t(ET_DOUBLE, 1, 2);
  KT_OK("aten::add.out", VT(d), VT(d), VD(0.5), VT(od), VT(od));
  assert_true(kt_get(od, 0) == 1.5e-17 && kt_get(od, 1) == 1.5);
  /* Long overflow wraps without UB */
  et_tensor *l = kt_t(ET_LONG, 1, 1);
  kt_seti(l, 0, INT64_MAX);
  et_tensor *ol = kt_t(ET_LONG, 1, 1);
  KT_OK("aten::add.out", VT(l), VT(l), VI(1), VT(ol), VT(ol));
  assert_int_equal(kt_geti(ol, 0), -2);
}

static void test_add_scalar(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 1, 3), 1, 2, 3);
  et_tensor *out = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::add.Scalar_out", VT(a), VD(2.5), VI(2), VT(out), VT(out));
  KT_EXPECT(out, 6, 7, 8);
  /* Int tensor + Double scalar -> Float (not Double) */
  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 2), 1, 2);
  et_tensor *of = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::add.Scalar_out", VT(i), VD(0.5), VI(1), VT(of), VT(of));
  KT_EXPECT(of, 1.5, 2.5);
  /* Int8 + 1000 wraps (torch: [1, 2] + 1000 -> [-23, -22]) */
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 2), 1, 2);
  et_tensor *oc = kt_t(ET_CHAR, 1, 2);
  KT_OK("aten::add.Scalar_out", VT(c), VI(1000), VI(1), VT(oc), VT(oc));
  KT_EXPECT(oc, -23, -22);
  /* Half + 0.1 keeps the scalar in float: torch gives 0.2000 (bits 0x3266) */
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 1), 0.1);
  et_tensor *oh = kt_t(ET_HALF, 1, 1);
  KT_OK("aten::add.Scalar_out", VT(h), VD(0.1), VI(1), VT(oh), VT(oh));
  assert_int_equal(*(const et_half *)oh->data, et_float_to_half(et_half_to_float(11878) + 0.1f));
  /* Bool tensor + Int scalar -> Long */
  et_tensor *b = kt_vals(kt_t(ET_BOOL, 1, 2), 1, 0);
  et_tensor *ol = kt_t(ET_LONG, 1, 2);
  KT_OK("aten::add.Scalar_out", VT(b), VI(5), VI(1), VT(ol), VT(ol));
  KT_EXPECT(ol, 6, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be cast", "aten::add.Scalar_out", VT(b), VI(5),
          VI(1), VT(kt_t(ET_BOOL, 1, 2)), VT(ol));
}

static void test_add_errors(void **state) {
  (void)state;
  et_tensor *a = kt_t(ET_FLOAT, 2, 2, 3);
  et_tensor *b = kt_t(ET_FLOAT, 1, 4);
  et_tensor *out = kt_t(ET_FLOAT, 2, 2, 3);
  et_value *vo = VT(out);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be broadcast", "aten::add.out", VT(a), VT(b), VI(1),
          vo, vo);
  /* float result into an Int out */
  et_tensor *oi = kt_t(ET_INT, 2, 2, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be cast to out dtype Int", "aten::add.out", VT(a),
          VT(a), VI(1), VT(oi), VT(oi));
  /* a Double alpha with integer operands */
  et_tensor *i = kt_t(ET_INT, 1, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "alpha", "aten::add.out", VT(i), VT(i), VD(0.5),
          VT(kt_t(ET_INT, 1, 2)), VT(i));
  /* static out of the wrong shape */
  et_tensor *wrong = kt_t(ET_FLOAT, 2, 3, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "does not match the static output shape", "aten::add.out",
          VT(a), VT(a), VI(1), VT(wrong), VT(wrong));
  /* out of another rank */
  et_tensor *r1 = kt_t(ET_FLOAT, 1, 6);
  KT_FAIL(ET_INVALID_ARGUMENT, "expected rank 2", "aten::add.out", VT(a), VT(a), VI(1),
          VT(r1), VT(r1));
  /* a dynamic out grows within its capacity, not beyond */
  et_tensor *dyn = kt_dynamic(kt_t(ET_FLOAT, 2, 1, 1), 6);
  KT_OK("aten::add.out", VT(a), VT(a), VI(1), VT(dyn), VT(dyn));
  KT_SHAPE(dyn, 2, 2, 3);
  et_tensor *big = kt_t(ET_FLOAT, 2, 4, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot resize", "aten::add.out", VT(big), VT(big), VI(1),
          VT(dyn), VT(dyn));
  /* unsupported dtype, missing data */
  et_tensor *q = kt_t(ET_QINT8, 1, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "not supported", "aten::add.out", VT(q), VT(q), VI(1),
          VT(kt_t(ET_FLOAT, 1, 2)), VT(q));
  et_tensor *nodata = kt_t(ET_FLOAT, 2, 2, 3);
  nodata->data = NULL;
  KT_FAIL(ET_INVALID_ARGUMENT, "no data", "aten::add.out", VT(nodata), VT(a), VI(1), vo, vo);
}

static void test_add_channels_last_and_alias(void **state) {
  (void)state;
  /* channels-last self and out, contiguous other [C,1,1] */
  et_tensor *a = kt_random(kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 0, 2, 3, 1), 7);
  et_tensor *b = kt_random(kt_t(ET_FLOAT, 3, 3, 1, 1), 8);
  et_tensor *out = kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 4, 5), 0, 2, 3, 1);
  KT_OK("aten::add.out", VT(a), VT(b), VI(1), VT(out), VT(out));
  for (size_t i = 0; i < 120; i++) {
    size_t c = (i / 20) % 3;
    assert_true(kt_get(out, i) == (double)((float)kt_get(a, i) + (float)kt_get(b, c)));
  }
  /* out aliasing self (an in-place update) */
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 4), 1, 2, 3, 4);
  KT_OK("aten::add.out", VT(x), VT(x), VI(1), VT(x), VT(x));
  KT_EXPECT(x, 2, 4, 6, 8);
}

static void test_sub(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 1, 3), 1, 2, 3);
  et_tensor *b = kt_vals(kt_t0(ET_FLOAT), 0.5);
  et_tensor *out = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::sub.out", VT(a), VT(b), VI(2), VT(out), VT(out));
  KT_EXPECT(out, 0, 1, 2);
  KT_OK("aten::sub.Scalar_out", VT(a), VI(1), VD(0.5), VT(out), VT(out));
  KT_EXPECT(out, 0.5, 1.5, 2.5);
  et_tensor *u = kt_vals(kt_t(ET_BYTE, 1, 2), 0, 10);
  et_tensor *ou = kt_t(ET_BYTE, 1, 2);
  KT_OK("aten::sub.Scalar_out", VT(u), VI(1), VI(1), VT(ou), VT(ou));
  KT_EXPECT(ou, 255, 9);
  et_tensor *bl = kt_t(ET_BOOL, 1, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::sub.out", VT(bl), VT(bl), VI(1), VT(bl), VT(bl));
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::sub.Scalar_out", VT(bl), VB(true), VI(1),
          VT(bl), VT(bl));
}

static void test_mul_div(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 2, 2, 2), 1, 2, 3, 4);
  et_tensor *b = kt_vals(kt_t(ET_FLOAT, 2, 2, 1), -1, 0.5);
  et_tensor *out = kt_t(ET_FLOAT, 2, 2, 2);
  KT_OK("aten::mul.out", VT(a), VT(b), VT(out), VT(out));
  KT_EXPECT(out, -1, -2, 1.5, 2);
  KT_OK("aten::mul.Scalar_out", VT(a), VD(0.5), VT(out), VT(out));
  KT_EXPECT(out, 0.5, 1, 1.5, 2);
  /* Half * 0.1: the scalar stays in float (torch: 0.3000, not 0.2998) */
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 1), 3);
  et_tensor *oh = kt_t(ET_HALF, 1, 1);
  KT_OK("aten::mul.Scalar_out", VT(h), VD(0.1), VT(oh), VT(oh));
  assert_int_equal(*(et_half *)oh->data, et_float_to_half(3.0f * 0.1f));
  assert_int_not_equal(*(et_half *)oh->data, et_float_to_half(3.0f * et_half_to_float(11878)));
  /* mul of Int tensors with Bool */
  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 3), 3, 4, 5);
  et_tensor *bb = kt_vals(kt_t(ET_BOOL, 1, 3), 1, 0, 1);
  et_tensor *oi = kt_t(ET_INT, 1, 3);
  KT_OK("aten::mul.out", VT(i), VT(bb), VT(oi), VT(oi));
  KT_EXPECT(oi, 3, 0, 5);
  /* div: integers divide in Float; by zero gives inf/nan */
  et_tensor *n = kt_vals(kt_t(ET_LONG, 1, 4), 7, -7, 1, 0);
  et_tensor *dd = kt_vals(kt_t(ET_INT, 1, 4), 2, 2, 0, 0);
  et_tensor *of = kt_t(ET_FLOAT, 1, 4);
  KT_OK("aten::div.out", VT(n), VT(dd), VT(of), VT(of));
  KT_EXPECT(of, 3.5, -3.5, INFINITY, NAN);
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::div.out", VT(n), VT(dd), VT(oi), VT(oi));
  KT_OK("aten::div.Scalar_out", VT(n), VI(2), VT(of), VT(of));
  KT_EXPECT(of, 3.5, -3.5, 0.5, 0);
  et_tensor *od = kt_t(ET_DOUBLE, 1, 4);
  et_tensor *dn = kt_vals(kt_t(ET_DOUBLE, 1, 4), 1, 2, 3, 4);
  KT_OK("aten::div.Scalar_out", VT(dn), VD(3.0), VT(od), VT(od));
  assert_true(kt_get(od, 0) == 1.0 / 3.0);
  et_tensor *hh = kt_vals(kt_t(ET_HALF, 1, 2), 1, 3);
  et_tensor *n2 = kt_vals(kt_t(ET_LONG, 1, 2), 7, 2);
  et_tensor *oh2 = kt_t(ET_HALF, 1, 2);
  KT_OK("aten::div.out", VT(hh), VT(n2), VT(oh2), VT(oh2)); /* Half / Long -> Half */
  assert_true(kt_get(oh2, 0) == (double)et_half_to_float(et_float_to_half(1.0f / 7.0f)));
  assert_true(kt_get(oh2, 1) == 1.5);
}

/* ---- comparisons ---------------------------------------------------------- */

static void test_compare(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 1, 2, 3, NAN, -INFINITY, 0);
  et_tensor *b = kt_vals(kt_t(ET_LONG, 1, 3), 2, 2, 2);
  et_tensor *out = kt_t(ET_BOOL, 2, 2, 3);
  et_value *vo = VT(out);
  KT_OK("aten::eq.Tensor_out", VT(a), VT(b), vo, vo);
  KT_EXPECT(out, 0, 1, 0, 0, 0, 0);
  KT_OK("aten::ne.Tensor_out", VT(a), VT(b), vo, vo);
  KT_EXPECT(out, 1, 0, 1, 1, 1, 1);
  KT_OK("aten::lt.Tensor_out", VT(a), VT(b), vo, vo);
  KT_EXPECT(out, 1, 0, 0, 0, 1, 1);
  KT_OK("aten::le.Tensor_out", VT(a), VT(b), vo, vo);
  KT_EXPECT(out, 1, 1, 0, 0, 1, 1);
  KT_OK("aten::gt.Tensor_out", VT(a), VT(b), vo, vo);
  KT_EXPECT(out, 0, 0, 1, 0, 0, 0);
  KT_OK("aten::ge.Tensor_out", VT(a), VT(b), vo, vo);
  KT_EXPECT(out, 0, 1, 1, 0, 0, 0);
  KT_OK("aten::eq.Scalar_out", VT(a), VD(-INFINITY), vo, vo);
  KT_EXPECT(out, 0, 0, 0, 0, 1, 0);
  KT_OK("aten::gt.Scalar_out", VT(a), VI(1), vo, vo);
  KT_EXPECT(out, 0, 1, 1, 0, 0, 0);
  KT_OK("aten::lt.Scalar_out", VT(a), VI(1), vo, vo);
  KT_EXPECT(out, 0, 0, 0, 0, 1, 1);
  KT_OK("aten::ge.Scalar_out", VT(a), VD(2), vo, vo);
  KT_EXPECT(out, 0, 1, 1, 0, 0, 0);
  KT_OK("aten::le.Scalar_out", VT(a), VD(2), vo, vo);
  KT_EXPECT(out, 1, 1, 0, 0, 1, 1);
  KT_OK("aten::ne.Scalar_out", VT(a), VB(true), vo, vo);
  KT_EXPECT(out, 0, 1, 1, 1, 1, 1);
  /* rank 0 (the torch.cond predicate: x.sum() > 0) */
  et_tensor *s = kt_vals(kt_t0(ET_FLOAT), 0.25);
  et_tensor *so = kt_t0(ET_BOOL);
  KT_OK("aten::gt.Scalar_out", VT(s), VI(0), VT(so), VT(so));
  KT_EXPECT(so, 1);
  /* the scalar is converted to the tensor's dtype first, as in PyTorch:
   * int8 [44, -1] == 300 -> [True, False]; half(0.1) == 0.1 -> True */
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 2), 44, -1);
  et_tensor *co = kt_t(ET_BOOL, 1, 2);
  KT_OK("aten::eq.Scalar_out", VT(c), VI(300), VT(co), VT(co));
  KT_EXPECT(co, 1, 0);
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 1), 0.1);
  et_tensor *ho = kt_t(ET_BOOL, 1, 1);
  KT_OK("aten::eq.Scalar_out", VT(h), VD(0.1), VT(ho), VT(ho));
  KT_EXPECT(ho, 1);
  /* int64 precision is kept (not compared through float) */
  et_tensor *l = kt_t(ET_LONG, 1, 1);
  kt_seti(l, 0, (1LL << 53) + 1);
  KT_OK("aten::eq.Scalar_out", VT(l), VI((1LL << 53) + 1), VT(ho), VT(ho));
  KT_EXPECT(ho, 1);
  /* a Float out gets 1.0 / 0.0 */
  et_tensor *fo = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::lt.Scalar_out", VT(c), VI(0), VT(fo), VT(fo));
  KT_EXPECT(fo, 0, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be broadcast", "aten::eq.Tensor_out", VT(a),
          VT(kt_t(ET_FLOAT, 1, 2)), vo, vo);
}

static void test_where_logical_not(void **state) {
  (void)state;
  et_tensor *cond = kt_vals(kt_t(ET_BOOL, 2, 2, 1), 1, 0);
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 1, 2, 3, 4, 5, 6);
  et_tensor *b = kt_vals(kt_t0(ET_INT), -1);
  et_tensor *out = kt_t(ET_FLOAT, 2, 2, 3);
  KT_OK("aten::where.self_out", VT(cond), VT(a), VT(b), VT(out), VT(out));
  KT_EXPECT(out, 1, 2, 3, -1, -1, -1);
  et_tensor *fcond = kt_t(ET_FLOAT, 2, 2, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "condition", "aten::where.self_out", VT(fcond), VT(a), VT(b),
          VT(out), VT(out));
  /* the three shapes broadcast together */
  et_tensor *c2 = kt_vals(kt_t(ET_BOOL, 1, 3), 1, 0, 1);
  et_tensor *x = kt_vals(kt_t(ET_DOUBLE, 2, 2, 1), 10, 20);
  et_tensor *o2 = kt_t(ET_DOUBLE, 2, 2, 3);
  KT_OK("aten::where.self_out", VT(c2), VT(x), VT(b), VT(o2), VT(o2));
  KT_EXPECT(o2, 10, -1, 10, 20, -1, 20);

  et_tensor *v = kt_vals(kt_t(ET_FLOAT, 1, 4), 0, -0.0, NAN, 2);
  et_tensor *nb = kt_t(ET_BOOL, 1, 4);
  KT_OK("aten::logical_not.out", VT(v), VT(nb), VT(nb));
  KT_EXPECT(nb, 1, 1, 0, 0);
  et_tensor *ni = kt_t(ET_INT, 1, 4);
  KT_OK("aten::logical_not.out", VT(nb), VT(ni), VT(ni));
  KT_EXPECT(ni, 0, 0, 1, 1);
}

/* ---- unary math and activations ------------------------------------------- */

static void test_unary_float(void **state) {
  (void)state;
  static const char *const ops[] = {"aten::exp.out", "aten::tanh.out", "aten::sigmoid.out",
                                    "aten::sqrt.out", "aten::rsqrt.out"};
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 6), 0.5, 1, 2, 3, 0.001, 10);
  et_tensor *out = kt_t(ET_FLOAT, 1, 6);
  for (int k = 0; k < 5; k++) {
    KT_OK(ops[k], VT(x), VT(out), VT(out));
    for (size_t i = 0; i < 6; i++) {
      double v = kt_get(x, i), want;
      switch (k) {
      case 0: want = exp(v); break;
      case 1: want = tanh(v); break;
      case 2: want = 1 / (1 + exp(-v)); break;
      case 3: want = sqrt(v); break;
      default: want = 1 / sqrt(v); break;
      }
      if (!kt_close(kt_get(out, i), want, 1e-6, 1e-7))
        fail_msg("%s(%g) = %.9g, want %.9g", ops[k], v, kt_get(out, i), want);
    }
  }
  /* integer input -> float out; Double computes in double; Half */
  et_tensor *i = kt_vals(kt_t(ET_LONG, 1, 2), 0, 4);
  et_tensor *of = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::sqrt.out", VT(i), VT(of), VT(of));
  KT_EXPECT(of, 0, 2);
  et_tensor *d = kt_vals(kt_t(ET_DOUBLE, 1, 1), 1e-10);
  et_tensor *od = kt_t(ET_DOUBLE, 1, 1);
  KT_OK("aten::exp.out", VT(d), VT(od), VT(od));
  assert_true(kt_get(od, 0) == exp(1e-10));
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 1), 2);
  et_tensor *oh = kt_t(ET_HALF, 1, 1);
  KT_OK("aten::tanh.out", VT(h), VT(oh), VT(oh));
  assert_int_equal(*(et_half *)oh->data, et_float_to_half(tanhf(2.0f)));
  et_tensor *sq = kt_vals(kt_t(ET_FLOAT, 1, 2), -1, 0);
  KT_OK("aten::rsqrt.out", VT(sq), VT(of), VT(of));
  KT_EXPECT(of, NAN, INFINITY);
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::exp.out", VT(x), VT(kt_t(ET_INT, 1, 6)),
          VT(out));
}

static void test_relu_neg_abs(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 5), -2, -0.0, 0.5, NAN, INFINITY);
  et_tensor *out = kt_t(ET_FLOAT, 1, 5);
  KT_OK("aten::relu.out", VT(x), VT(out), VT(out));
  KT_EXPECT(out, 0, 0, 0.5, NAN, INFINITY);
  KT_OK("aten::neg.out", VT(x), VT(out), VT(out));
  KT_EXPECT(out, 2, 0, -0.5, NAN, -INFINITY);
  KT_OK("aten::abs.out", VT(x), VT(out), VT(out));
  KT_EXPECT(out, 2, 0, 0.5, NAN, INFINITY);
  et_tensor *i = kt_vals(kt_t(ET_CHAR, 1, 3), -128, -3, 7);
  et_tensor *oi = kt_t(ET_CHAR, 1, 3);
  KT_OK("aten::relu.out", VT(i), VT(oi), VT(oi));
  KT_EXPECT(oi, 0, 0, 7);
  KT_OK("aten::abs.out", VT(i), VT(oi), VT(oi));
  KT_EXPECT(oi, -128, 3, 7); /* abs(-128) wraps, as in PyTorch */
  KT_OK("aten::neg.out", VT(i), VT(oi), VT(oi));
  KT_EXPECT(oi, -128, 3, -7);
  et_tensor *bf = kt_vals(kt_ord(kt_t(ET_BFLOAT16, 2, 2, 2), 1, 0), -1, 2, -3, 4);
  et_tensor *obf = kt_ord(kt_t(ET_BFLOAT16, 2, 2, 2), 1, 0);
  KT_OK("aten::relu.out", VT(bf), VT(obf), VT(obf));
  KT_EXPECT(obf, 0, 2, 0, 4);
  et_tensor *b = kt_t(ET_BOOL, 1, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::neg.out", VT(b), VT(b), VT(b));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::relu.out", VT(x),
          VT(kt_t(ET_DOUBLE, 1, 5)), VT(out));
}

static void test_gelu(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 7), -3, -1, -0.5, 0, 0.5, 1, 3);
  et_tensor *out = kt_t(ET_FLOAT, 1, 7);
  KT_OK("aten::gelu.out", VT(x), VS("none"), VT(out), VT(out));
  for (size_t i = 0; i < 7; i++) {
    double v = kt_get(x, i), want = 0.5 * v * (1 + erf(v / sqrt(2.0)));
    assert_true(kt_close(kt_get(out, i), want, 1e-6, 1e-7));
  }
  KT_OK("aten::gelu.out", VT(x), VS("tanh"), VT(out), VT(out));
  for (size_t i = 0; i < 7; i++) {
    double v = kt_get(x, i);
    const double k = sqrt(2 / 3.14159265358979323846);
    double want = 0.5 * v * (1 + tanh(k * (v + 0.044715 * v * v * v)));
    assert_true(kt_close(kt_get(out, i), want, 1e-6, 1e-7));
  }
  KT_FAIL(ET_INVALID_ARGUMENT, "approximate", "aten::gelu.out", VT(x), VS("fast"), VT(out),
          VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::gelu.out", VT(kt_t(ET_INT, 1, 7)),
          VS("none"), VT(out), VT(out));
}

static void test_clamp_pow_bitwise_logical(void **state) {
  (void)state;
  /* hardtanh(0, 6) is ReLU6 (MobileNet); NaN is kept */
  et_tensor *x = kt_vals(kt_t(ET_FLOAT, 1, 4), -2, 0.5, 7, NAN);
  et_tensor *out = kt_t(ET_FLOAT, 1, 4);
  KT_OK("aten::hardtanh.out", VT(x), VD(0), VD(6), VT(out), VT(out));
  KT_EXPECT(out, 0, 0.5, 6, NAN);
  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 3), -5, 3, 9);
  et_tensor *oi = kt_t(ET_INT, 1, 3);
  KT_OK("aten::hardtanh.out", VT(i), VI(-1), VI(4), VT(oi), VT(oi));
  KT_EXPECT(oi, -1, 3, 4);
  /* integer tensors truncate the bounds first (PyTorch's Scalar::toLong) */
  KT_OK("aten::hardtanh.out", VT(i), VD(0.5), VD(4.9), VT(oi), VT(oi));
  KT_EXPECT(oi, 0, 3, 4);
  KT_OK("aten::hardtanh.out", VT(i), VD(-0.5), VD(0.5), VT(oi), VT(oi));
  KT_EXPECT(oi, 0, 0, 0);
  et_tensor *i8 = kt_vals(kt_t(ET_CHAR, 1, 3), -5, 3, 9);
  et_tensor *o8 = kt_t(ET_CHAR, 1, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be represented", "aten::hardtanh.out", VT(i8),
          VD(-200.0), VI(4), VT(o8), VT(o8));
  et_tensor *u8 = kt_vals(kt_t(ET_BYTE, 1, 3), 0, 3, 9);
  et_tensor *ou8 = kt_t(ET_BYTE, 1, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "negative limits", "aten::hardtanh.out", VT(u8), VI(-1), VI(4),
          VT(ou8), VT(ou8));
  KT_OK("aten::hardtanh.out", VT(u8), VD(-0.5), VD(4.5), VT(ou8), VT(ou8));
  KT_EXPECT(ou8, 0, 3, 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "min_val", "aten::hardtanh.out", VT(i), VD(NAN), VI(4), VT(oi),
          VT(oi));
  /* pow: PyTorch's special exponents and integer powers (from torch) */
  et_tensor *p = kt_vals(kt_t(ET_FLOAT, 1, 2), 2, 4);
  et_tensor *po = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::pow.Tensor_Scalar_out", VT(p), VD(-0.5), VT(po), VT(po));
  KT_EXPECT(po, 0.70710678, 0.5);
  KT_OK("aten::pow.Tensor_Scalar_out", VT(p), VD(3.0), VT(po), VT(po));
  assert_true(kt_get(po, 1) == 64.0);
  KT_OK("aten::pow.Tensor_Scalar_out", VT(p), VD(1.5), VT(po), VT(po));
  KT_EXPECT(po, 2.82842712, 8);
  et_tensor *pi = kt_vals(kt_t(ET_LONG, 1, 2), 2, -3);
  et_tensor *pio = kt_t(ET_LONG, 1, 2);
  KT_OK("aten::pow.Tensor_Scalar_out", VT(pi), VI(3), VT(pio), VT(pio));
  KT_EXPECT(pio, 8, -27);
  KT_FAIL(ET_INVALID_ARGUMENT, "negative integer powers", "aten::pow.Tensor_Scalar_out", VT(pi),
          VI(-1), VT(pio), VT(pio));
  et_tensor *ex = kt_vals(kt_t(ET_LONG, 1, 2), -1, 2);
  et_tensor *base = kt_vals(kt_t(ET_LONG, 1, 2), 2, 3);
  KT_OK("aten::pow.Tensor_Tensor_out", VT(base), VT(ex), VT(pio), VT(pio));
  KT_EXPECT(pio, 0, 9);
  /* bitwise_and on Bool (the causal mask) and integers; floats refused */
  et_tensor *t = kt_vals(kt_t0(ET_BOOL), 1);
  et_tensor *m = kt_vals(kt_t(ET_BOOL, 2, 2, 2), 1, 0, 1, 1);
  et_tensor *mo = kt_t(ET_BOOL, 2, 2, 2);
  KT_OK("aten::bitwise_and.Tensor_out", VT(t), VT(m), VT(mo), VT(mo));
  KT_EXPECT(mo, 1, 0, 1, 1);
  et_tensor *u = kt_vals(kt_t(ET_BYTE, 1, 2), 0xf0, 0x3c);
  et_tensor *uo = kt_t(ET_BYTE, 1, 2);
  KT_OK("aten::bitwise_and.Scalar_out", VT(u), VI(0x0f | 0x30), VT(uo), VT(uo));
  KT_EXPECT(uo, 0x30, 0x3c);
  KT_FAIL(ET_INVALID_ARGUMENT, "integer or Bool", "aten::bitwise_and.Tensor_out", VT(p), VT(p),
          VT(po), VT(po));
  /* logical ops on mixed dtypes */
  et_tensor *la = kt_vals(kt_t(ET_FLOAT, 1, 4), 0, 0, 2, NAN);
  et_tensor *lb = kt_vals(kt_t(ET_INT, 1, 4), 0, 5, 0, 1);
  et_tensor *lo = kt_t(ET_BOOL, 1, 4);
  KT_OK("aten::logical_and.out", VT(la), VT(lb), VT(lo), VT(lo));
  KT_EXPECT(lo, 0, 0, 0, 1);
  KT_OK("aten::logical_or.out", VT(la), VT(lb), VT(lo), VT(lo));
  KT_EXPECT(lo, 0, 1, 1, 1);
  KT_OK("aten::logical_xor.out", VT(la), VT(lb), VT(lo), VT(lo));
  KT_EXPECT(lo, 0, 1, 1, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_registry_sorted_and_valid, kt_free_all),
      cmocka_unit_test_teardown(test_add_broadcast_alpha, kt_free_all),
      cmocka_unit_test_teardown(test_add_dtypes, kt_free_all),
      cmocka_unit_test_teardown(test_add_scalar, kt_free_all),
      cmocka_unit_test_teardown(test_add_errors, kt_free_all),
      cmocka_unit_test_teardown(test_add_channels_last_and_alias, kt_free_all),
      cmocka_unit_test_teardown(test_sub, kt_free_all),
      cmocka_unit_test_teardown(test_mul_div, kt_free_all),
      cmocka_unit_test_teardown(test_compare, kt_free_all),
      cmocka_unit_test_teardown(test_where_logical_not, kt_free_all),
      cmocka_unit_test_teardown(test_unary_float, kt_free_all),
      cmocka_unit_test_teardown(test_relu_neg_abs, kt_free_all),
      cmocka_unit_test_teardown(test_gelu, kt_free_all),
      cmocka_unit_test_teardown(test_clamp_pow_bitwise_logical, kt_free_all),
  };
  return cmocka_run_group_tests_name("kernels", tests, NULL, NULL);
}
