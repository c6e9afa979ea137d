/*
 * Portable kernels, part 3: copies and shape operators, factories,
 * reductions and the scalar ("prim") operators.
 */
#include "test_kernels.h"

/* 0, 1, 2, ... in every logical position */
static et_tensor *iota(et_tensor *t) {
  for (size_t i = 0; i < et_tensor_numel(t); i++) kt_set(t, i, (double)i);
  return t;
}

/* ---- copies and views ---------------------------------------------------- */

static void test_permute_copy(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 3, 2, 3, 4));
  et_tensor *out = kt_t(ET_FLOAT, 3, 4, 2, 3);
  KT_OK("aten::permute_copy.out", VT(x), VL(2, 0, -2), VT(out), VT(out));
  for (size_t k = 0; k < 4; k++)
    for (size_t i = 0; i < 2; i++)
      for (size_t j = 0; j < 3; j++)
        assert_true(kt_get(out, (k * 2 + i) * 3 + j) == (double)((i * 3 + j) * 4 + k));
  /* a linear layer's weight transpose, Half, into a channels-last-ordered out */
  et_tensor *w = iota(kt_t(ET_HALF, 2, 5, 3));
  et_tensor *wt = kt_ord(kt_t(ET_HALF, 2, 3, 5), 1, 0);
  KT_OK("aten::permute_copy.out", VT(w), VL(1, 0), VT(wt), VT(wt));
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 5; j++) assert_true(kt_get(wt, i * 5 + j) == (double)(j * 3 + i));
  /* a transpose larger than one tile, batched, 8-byte elements */
  et_tensor *big = iota(kt_t(ET_LONG, 3, 2, 70, 45));
  et_tensor *bt = kt_t(ET_LONG, 3, 2, 45, 70);
  KT_OK("aten::permute_copy.out", VT(big), VL(0, 2, 1), VT(bt), VT(bt));
  for (size_t b = 0; b < 2; b++)
    for (size_t i = 0; i < 45; i++)
      for (size_t j = 0; j < 70; j++)
        assert_int_equal(kt_geti(bt, (b * 45 + i) * 70 + j), (int64_t)((b * 70 + j) * 45 + i));
  KT_FAIL(ET_INVALID_ARGUMENT, "more than once", "aten::permute_copy.out", VT(x), VL(0, 0, 1),
          VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "expected 3 dims", "aten::permute_copy.out", VT(x), VL(0, 1),
          VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::permute_copy.out", VT(x), VL(0, 1, 3),
          VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::permute_copy.out", VT(x), VL(2, 0, 1),
          VT(kt_t(ET_INT, 3, 4, 2, 3)), VT(out));
}

static void test_expand_select_slice(void **state) {
  (void)state;
  et_tensor *x = kt_vals(kt_t(ET_INT, 2, 3, 1), 1, 2, 3);
  et_tensor *out = kt_t(ET_INT, 3, 2, 3, 2);
  KT_OK("aten::expand_copy.out", VT(x), VL(2, -1, 2), VB(false), VT(out), VT(out));
  KT_EXPECT(out, 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot expand", "aten::expand_copy.out", VT(x), VL(2, 4, 2),
          VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "new leading dim", "aten::expand_copy.out", VT(x),
          VL(-1, 3, 2), VB(false), VT(out), VT(out));

  et_tensor *y = iota(kt_t(ET_FLOAT, 3, 3, 2, 4));
  et_tensor *s = kt_t(ET_FLOAT, 2, 3, 4);
  KT_OK("aten::select_copy.int_out", VT(y), VI(1), VI(-1), VT(s), VT(s));
  KT_EXPECT(s, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23);
  KT_FAIL(ET_INVALID_ARGUMENT, "index 2 is out of range", "aten::select_copy.int_out", VT(y),
          VI(1), VI(2), VT(s), VT(s));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::select_copy.int_out", VT(y), VI(1),
          VI(-3), VT(s), VT(s));
  KT_FAIL(ET_INVALID_ARGUMENT, "0-dim", "aten::select_copy.int_out", VT(kt_t0(ET_FLOAT)), VI(0),
          VI(0), VT(s), VT(s));

  /* slice: step, negative and clamped bounds, None, empty result */
  et_tensor *z = iota(kt_t(ET_LONG, 2, 2, 8));
  et_tensor *sl = kt_dynamic(kt_t(ET_LONG, 2, 2, 8), 16);
  KT_OK("aten::slice_copy.Tensor_out", VT(z), VI(1), VI(1), VI(-1), VI(3), VT(sl), VT(sl));
  KT_SHAPE(sl, 2, 2, 2);
  KT_EXPECT(sl, 1, 4, 9, 12);
  KT_OK("aten::slice_copy.Tensor_out", VT(z), VI(-1), VN(), VI(100), VI(1), VT(sl), VT(sl));
  KT_SHAPE(sl, 2, 2, 8);
  KT_OK("aten::slice_copy.Tensor_out", VT(z), VI(1), VI(-100), VI(2), VI(1), VT(sl), VT(sl));
  KT_EXPECT(sl, 0, 1, 8, 9);
  KT_OK("aten::slice_copy.Tensor_out", VT(z), VI(1), VI(6), VI(2), VI(1), VT(sl), VT(sl));
  KT_SHAPE(sl, 2, 2, 0);
  KT_OK("aten::slice_copy.Tensor_out", VT(z), VI(0), VI(1), VN(), VI(1), VT(sl), VT(sl));
  KT_SHAPE(sl, 2, 1, 8);
  KT_FAIL(ET_INVALID_ARGUMENT, "step", "aten::slice_copy.Tensor_out", VT(z), VI(1), VI(0),
          VI(2), VI(0), VT(sl), VT(sl));
  /* the dynamic-batch model: x[:, :8] with a static out */
  et_tensor *st = kt_t(ET_LONG, 2, 2, 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "aten::slice_copy.Tensor_out", VT(z),
          VI(1), VI(0), VI(8), VI(1), VT(st), VT(st));
}

static void test_squeeze_unsqueeze_view(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 4, 3, 1, 2, 1));
  et_tensor *sq = kt_t(ET_FLOAT, 3, 3, 2, 1);
  KT_OK("aten::squeeze_copy.dims_out", VT(x), VL(1, 2), VT(sq), VT(sq)); /* dim 2 is not 1 */
  KT_EXPECT(sq, 0, 1, 2, 3, 4, 5);
  et_tensor *sq2 = kt_t(ET_FLOAT, 2, 3, 2);
  KT_OK("aten::squeeze_copy.dims_out", VT(x), VL(-1, 1), VT(sq2), VT(sq2));
  KT_FAIL(ET_INVALID_ARGUMENT, "more than once", "aten::squeeze_copy.dims_out", VT(x),
          VL(1, -3), VT(sq2), VT(sq2));
  et_tensor *un = kt_t(ET_FLOAT, 3, 3, 2, 1);
  KT_OK("aten::unsqueeze_copy.out", VT(sq2), VI(-1), VT(un), VT(un));
  KT_EXPECT(un, 0, 1, 2, 3, 4, 5);
  et_tensor *un0 = kt_t(ET_FLOAT, 3, 1, 3, 2);
  KT_OK("aten::unsqueeze_copy.out", VT(sq2), VI(0), VT(un0), VT(un0));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::unsqueeze_copy.out", VT(sq2), VI(3),
          VT(un0), VT(un0));
  /* view: -1 inferred; logical order kept for a channels-last source */
  et_tensor *cl = iota(kt_ord(kt_t(ET_FLOAT, 4, 1, 2, 2, 3), 0, 2, 3, 1));
  et_tensor *v = kt_t(ET_FLOAT, 2, 4, 3);
  KT_OK("aten::view_copy.out", VT(cl), VL(-1, 3), VT(v), VT(v));
  KT_EXPECT(v, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
  KT_FAIL(ET_INVALID_ARGUMENT, "invalid for", "aten::view_copy.out", VT(cl), VL(5, -1), VT(v),
          VT(v));
  KT_FAIL(ET_INVALID_ARGUMENT, "only one dimension can be -1", "aten::view_copy.out", VT(cl),
          VL(-1, -1), VT(v), VT(v));
  KT_FAIL(ET_INVALID_ARGUMENT, "invalid for", "aten::view_copy.out", VT(cl), VL(4, 4), VT(v),
          VT(v));
}

static void test_clone_to_copy_dim_order(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 4, 2, 3, 2, 2));
  /* contiguous -> channels-last, same dtype */
  et_tensor *cl = kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 2, 2), 0, 2, 3, 1);
  KT_OK("dim_order_ops::_clone_dim_order.out", VT(x), VB(false), VL(0, 2, 3, 1), VT(cl), VT(cl));
  kt_expect_tensors_close(cl, x, 0, 0);
  const float *raw = (const float *)cl->data; /* memory order is N, H, W, C */
  assert_true(raw[0] == 0 && raw[1] == 4 && raw[2] == 8 && raw[3] == 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "dim_order", "dim_order_ops::_clone_dim_order.out", VT(x),
          VB(false), VL(0, 1, 2, 3), VT(cl), VT(cl));
  KT_FAIL(ET_INVALID_ARGUMENT, "dim_order is None", "dim_order_ops::_clone_dim_order.out",
          VT(x), VB(false), VN(), VT(cl), VT(cl));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "dim_order_ops::_clone_dim_order.out", VT(x),
          VB(false), VL(0, 2, 3, 1), VT(kt_ord(kt_t(ET_HALF, 4, 2, 3, 2, 2), 0, 2, 3, 1)),
          VT(cl));
  /* channels-last Float -> contiguous Half */
  et_tensor *h = kt_t(ET_HALF, 4, 2, 3, 2, 2);
  KT_OK("dim_order_ops::_to_dim_order_copy.out", VT(cl), VB(false), VL(0, 1, 2, 3), VT(h), VT(h));
  kt_expect_tensors_close(h, x, 0, 0);
  et_tensor *b = kt_t(ET_BOOL, 4, 2, 3, 2, 2);
  KT_OK("dim_order_ops::_to_dim_order_copy.out", VT(h), VB(false), VN(), VT(b), VT(b));
  assert_true(kt_get(b, 0) == 0 && kt_get(b, 1) == 1 && kt_get(b, 5) == 1);
  /* _to_copy: Float -> Int truncates; clone keeps dtype */
  et_tensor *f = kt_vals(kt_t(ET_FLOAT, 1, 3), -1.5, 2.7, 300);
  et_tensor *i8 = kt_t(ET_CHAR, 1, 3);
  KT_OK("aten::_to_copy.out", VT(f), VB(false), VN(), VT(i8), VT(i8));
  KT_EXPECT(i8, -1, 2, 44);
  et_tensor *c = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::clone.out", VT(f), VN(), VT(c), VT(c));
  KT_EXPECT(c, -1.5, 2.7, 300);
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::clone.out", VT(f), VN(), VT(i8), VT(i8));
  KT_FAIL(ET_INVALID_ARGUMENT, "channels_last", "aten::clone.out", VT(f), VI(2), VT(c), VT(c));
  KT_OK("aten::clone.out", VT(x), VI(2), VT(cl), VT(cl));
  KT_FAIL(ET_INVALID_ARGUMENT, "contiguous_format", "aten::_to_copy.out", VT(x), VB(false),
          VI(0), VT(cl), VT(cl));
}

static void test_copy_(void **state) {
  (void)state;
  et_tensor *buf = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 0, 0, 0, 0, 0, 0);
  et_tensor *src = kt_vals(kt_t(ET_INT, 1, 3), 1, 2, 3);
  et_tensor *ret = kt_t(ET_FLOAT, 2, 2, 3);
  et_value *vret = VT(ret);
  KT_OK("aten::copy_", VT(buf), VT(src), VB(false), vret);
  KT_EXPECT(buf, 1, 2, 3, 1, 2, 3);
  assert_ptr_equal(vret->u.t, buf); /* the return value is self */
  KT_FAIL(ET_INVALID_ARGUMENT, "does not broadcast", "aten::copy_", VT(buf),
          VT(kt_t(ET_FLOAT, 1, 2)), VB(false), vret);
  buf->flags |= ET_TENSOR_CONSTANT;
  KT_FAIL(ET_INVALID_ARGUMENT, "constant", "aten::copy_", VT(buf), VT(src), VB(false), vret);
}

static void test_cat(void **state) {
  (void)state;
  et_tensor *a = iota(kt_t(ET_FLOAT, 2, 2, 2));
  et_tensor *b = kt_vals(kt_t(ET_INT, 2, 2, 1), 10, 20);
  et_tensor *e = kt_t(ET_FLOAT, 1, 0); /* legacy empty: skipped */
  et_tensor *out = kt_t(ET_FLOAT, 2, 2, 3);
  KT_OK("aten::cat.out", VTL(a, e, b), VI(-1), VT(out), VT(out));
  KT_EXPECT(out, 0, 1, 10, 2, 3, 20);
  et_tensor *o0 = kt_t(ET_FLOAT, 2, 4, 2);
  KT_OK("aten::cat.out", VTL(a, a), VI(0), VT(o0), VT(o0));
  KT_EXPECT(o0, 0, 1, 2, 3, 0, 1, 2, 3);
  /* channels-last out */
  et_tensor *x = iota(kt_t(ET_FLOAT, 4, 1, 2, 2, 2));
  et_tensor *y = iota(kt_t(ET_FLOAT, 4, 1, 1, 2, 2));
  et_tensor *co = kt_ord(kt_t(ET_FLOAT, 4, 1, 3, 2, 2), 0, 2, 3, 1);
  KT_OK("aten::cat.out", VTL(x, y), VI(1), VT(co), VT(co));
  KT_EXPECT(co, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "does not match", "aten::cat.out", VTL(a, kt_t(ET_FLOAT, 2, 3, 1)),
          VI(1), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be cast", "aten::cat.out", VTL(a, a),
          VI(1), VT(kt_t(ET_INT, 2, 2, 4)), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::cat.out", VTL(a, a), VI(2), VT(out),
          VT(out));
}

static void test_full_embedding_like(void **state) {
  (void)state;
  et_tensor *out = kt_dynamic(kt_t(ET_INT, 2, 1, 1), 8);
  KT_OK("aten::full.out", VL(2, 4), VD(2.7), VT(out), VT(out));
  KT_SHAPE(out, 2, 2, 4);
  KT_EXPECT(out, 2, 2, 2, 2, 2, 2, 2, 2);
  et_tensor *h = kt_t(ET_HALF, 1, 3);
  KT_OK("aten::full_like.out", VT(kt_t(ET_FLOAT, 1, 3)), VD(0.1), VN(), VT(h), VT(h));
  assert_int_equal(((et_half *)h->data)[2], 11878);
  et_tensor *b = kt_t(ET_BOOL, 1, 2);
  KT_OK("aten::full_like.out", VT(b), VB(true), VI(1), VT(b), VT(b));
  KT_EXPECT(b, 1, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "negative", "aten::full.out", VL(-1, 2), VI(0), VT(out), VT(out));
}

/* ---- reductions --------------------------------------------------------------- */

static void test_sum_mean(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 3, 2, 3, 4));
  et_tensor *o = kt_t(ET_FLOAT, 2, 2, 4);
  KT_OK("aten::sum.IntList_out", VT(x), VL(1), VB(false), VN(), VT(o), VT(o));
  KT_EXPECT(o, 12, 15, 18, 21, 48, 51, 54, 57);
  et_tensor *ok = kt_t(ET_FLOAT, 3, 2, 1, 1);
  KT_OK("aten::sum.IntList_out", VT(x), VL(-1, 1), VB(true), VN(), VT(ok), VT(ok));
  KT_EXPECT(ok, 66, 210);
  et_tensor *all = kt_t0(ET_FLOAT);
  KT_OK("aten::sum.IntList_out", VT(x), VN(), VB(false), VN(), VT(all), VT(all));
  KT_EXPECT(all, 276);
  KT_OK("aten::sum.IntList_out", VT(x), VL0(), VB(false), VN(), VT(all), VT(all));
  KT_EXPECT(all, 276);
  /* Int input into Long out; Bool counts; dtype argument */
  et_tensor *i = kt_vals(kt_t(ET_INT, 1, 3), 2000000000, 2000000000, 1);
  et_tensor *l = kt_t0(ET_LONG);
  KT_OK("aten::sum.IntList_out", VT(i), VL(0), VB(false), VI(ET_LONG), VT(l), VT(l));
  assert_int_equal(kt_geti(l, 0), 4000000001LL);
  et_tensor *bb = kt_vals(kt_t(ET_BOOL, 1, 4), 1, 1, 0, 1);
  KT_OK("aten::sum.IntList_out", VT(bb), VN(), VB(false), VN(), VT(l), VT(l));
  assert_int_equal(kt_geti(l, 0), 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "dtype Float given", "aten::sum.IntList_out", VT(i), VL(0),
          VB(false), VI(ET_FLOAT), VT(l), VT(l));
  KT_FAIL(ET_INVALID_ARGUMENT, "appears more than once", "aten::sum.IntList_out", VT(x),
          VL(1, -2), VB(false), VN(), VT(o), VT(o));
  /* channels-last input, reducing H and W (global average pooling) */
  et_tensor *cl = iota(kt_ord(kt_t(ET_FLOAT, 4, 2, 3, 2, 2), 0, 2, 3, 1));
  et_tensor *m = kt_t(ET_FLOAT, 4, 2, 3, 1, 1);
  KT_OK("aten::mean.out", VT(cl), VL(-1, -2), VB(true), VN(), VT(m), VT(m));
  KT_EXPECT(m, 1.5, 5.5, 9.5, 13.5, 17.5, 21.5);
  et_tensor *md = kt_t(ET_DOUBLE, 1, 2);
  KT_OK("aten::mean.out", VT(kt_vals(kt_t(ET_INT, 2, 2, 2), 1, 2, 4, 4)), VL(1), VB(false),
        VI(ET_DOUBLE), VT(md), VT(md));
  KT_EXPECT(md, 1.5, 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::mean.out", VT(i), VL(0), VB(false), VN(),
          VT(kt_t0(ET_FLOAT)), VT(l));
  /* empty reduction: sum 0, mean NaN */
  et_tensor *e = kt_t(ET_FLOAT, 2, 2, 0);
  et_tensor *eo = kt_t(ET_FLOAT, 1, 2);
  KT_OK("aten::sum.IntList_out", VT(e), VL(1), VB(false), VN(), VT(eo), VT(eo));
  KT_EXPECT(eo, 0, 0);
  KT_OK("aten::mean.out", VT(e), VL(1), VB(false), VN(), VT(eo), VT(eo));
  KT_EXPECT(eo, NAN, NAN);
}

static void test_any(void **state) {
  (void)state;
  /* the transformer's masked-row check: any over the last dim, keepdim */
  et_tensor *x = kt_vals(kt_t(ET_BOOL, 2, 3, 2), 0, 0, 1, 0, 1, 1);
  et_tensor *o = kt_t(ET_BOOL, 2, 3, 1);
  KT_OK("aten::any.out", VT(x), VI(-1), VB(true), VT(o), VT(o));
  KT_EXPECT(o, 0, 1, 1);
  et_tensor *f = kt_vals(kt_t(ET_FLOAT, 2, 2, 2), 0, -0.0, NAN, 0);
  et_tensor *a = kt_t0(ET_BOOL);
  KT_OK("aten::any.all_out", VT(f), VT(a), VT(a));
  KT_EXPECT(a, 1);
  et_tensor *o2 = kt_t(ET_BOOL, 1, 2);
  KT_OK("aten::any.dims_out", VT(f), VL(1), VB(false), VT(o2), VT(o2));
  KT_EXPECT(o2, 0, 1);
  KT_OK("aten::any.dims_out", VT(f), VN(), VB(false), VT(a), VT(a));
  KT_EXPECT(a, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "Bool", "aten::any.all_out", VT(f), VT(kt_t0(ET_FLOAT)), VT(a));
}

/* ---- prim ops ------------------------------------------------------------------ */

static void test_prim_scalar(void **state) {
  (void)state;
  et_value *ri = VI(0), *rd = VD(0), *rb = VB(false);
  KT_OK("executorch_prim::add.Scalar", VI(2), VI(3), ri);
  assert_int_equal(ri->u.i, 5);
  KT_OK("executorch_prim::add.Scalar", VI(2), VD(0.5), rd);
  assert_true(rd->u.d == 2.5);
  assert_int_equal(rd->tag, ET_TAG_DOUBLE);
  KT_OK("executorch_prim::sub.Scalar", VI(2), VI(5), ri);
  assert_int_equal(ri->u.i, -3);
  KT_OK("executorch_prim::mul.Scalar", VI(INT64_MAX), VI(2), ri); /* wraps, no UB */
  assert_int_equal(ri->u.i, -2);
  /* Python floor division and modulo */
  KT_OK("executorch_prim::floordiv.Scalar", VI(-7), VI(2), ri);
  assert_int_equal(ri->u.i, -4);
  KT_OK("executorch_prim::floordiv.int", VI(7), VI(-2), ri);
  assert_int_equal(ri->u.i, -4);
  KT_OK("executorch_prim::floordiv.Scalar", VD(-7.5), VI(2), rd);
  assert_true(rd->u.d == -4.0);
  KT_OK("executorch_prim::mod.Scalar", VI(-7), VI(3), ri);
  assert_int_equal(ri->u.i, 2);
  KT_OK("executorch_prim::mod.int", VI(7), VI(-3), ri);
  assert_int_equal(ri->u.i, -2);
  KT_FAIL(ET_INVALID_ARGUMENT, "by zero", "executorch_prim::floordiv.int", VI(1), VI(0), ri);
  KT_FAIL(ET_INVALID_ARGUMENT, "by zero", "executorch_prim::mod.Scalar", VI(1), VI(0), ri);
  KT_OK("executorch_prim::truediv.Scalar", VI(7), VI(2), rd);
  assert_true(rd->u.d == 3.5);
  KT_OK("executorch_prim::sym_max.Scalar", VI(3), VI(9), ri);
  assert_int_equal(ri->u.i, 9);
  KT_OK("executorch_prim::sym_min.Scalar", VI(3), VI(9), ri);
  assert_int_equal(ri->u.i, 3);
  /* comparisons */
  KT_OK("executorch_prim::eq.Scalar", VI(3), VI(3), rb);
  assert_true(rb->u.b);
  KT_OK("executorch_prim::eq.Scalar", VI(3), VD(3.5), rb);
  assert_false(rb->u.b);
  KT_OK("executorch_prim::lt.Scalar", VI(3), VD(3.5), rb);
  assert_true(rb->u.b);
  KT_OK("executorch_prim::le.Scalar", VI(4), VI(3), rb);
  assert_false(rb->u.b);
  KT_OK("executorch_prim::gt.Scalar", VD(NAN), VI(0), rb);
  assert_false(rb->u.b);
  KT_OK("executorch_prim::ge.Scalar", VB(true), VI(1), rb);
  assert_true(rb->u.b);
  /* unary */
  KT_OK("executorch_prim::neg.Scalar", VI(4), ri);
  assert_int_equal(ri->u.i, -4);
  KT_OK("executorch_prim::neg.Scalar", VD(1.5), rd);
  assert_true(rd->u.d == -1.5);
  KT_OK("executorch_prim::sym_float.Scalar", VI(3), rd);
  assert_true(rd->u.d == 3.0);
  KT_OK("executorch_prim::sym_int.Scalar", VD(-3.7), ri);
  assert_int_equal(ri->u.i, -3);
  KT_FAIL(ET_INVALID_ARGUMENT, "non-finite", "executorch_prim::sym_int.Scalar", VD(INFINITY), ri);
  KT_OK("executorch_prim::sym_not.Scalar", VB(false), rb);
  assert_true(rb->u.b);
  KT_OK("executorch_prim::ceil.Scalar", VD(2.1), ri);
  assert_int_equal(ri->u.i, 3);
  KT_OK("executorch_prim::trunc.Scalar", VD(-2.9), ri);
  assert_int_equal(ri->u.i, -2);
  const double rin[6] = {0.5, 1.5, 2.5, -0.5, -1.5, 2.6};
  const int64_t rout[6] = {0, 2, 2, 0, -2, 3};
  for (int k = 0; k < 6; k++) {
    KT_OK("executorch_prim::round.Scalar", VD(rin[k]), ri);
    assert_int_equal(ri->u.i, rout[k]);
  }
  KT_OK("executorch_prim::sym_ite.Scalar", VB(true), VI(7), VI(8), ri);
  assert_int_equal(ri->u.i, 7);
  KT_OK("executorch_prim::sym_ite.Scalar", VB(false), VI(7), VD(8.5), rd);
  assert_true(rd->u.d == 8.5);
  /* the slot takes the result's kind, whatever it held before (upstream's
   * exporter declares every scalar result slot Int; upstream's runtime
   * replaces the value) */
  KT_OK("executorch_prim::add.Scalar", VI(1), VI(2), rd);
  assert_int_equal(rd->tag, ET_TAG_INT);
  assert_int_equal(rd->u.i, 3);
  KT_OK("executorch_prim::truediv.Scalar", VI(5), VI(3), ri);
  assert_int_equal(ri->tag, ET_TAG_DOUBLE);
  assert_true(ri->u.d == 5.0 / 3.0);
  KT_OK("executorch_prim::ceil.Scalar", ri, rd);
  assert_int_equal(rd->tag, ET_TAG_INT);
  assert_int_equal(rd->u.i, 2);
  KT_OK("executorch_prim::truediv.Scalar", VI(1), VI(0), ri);
  assert_true(ri->tag == ET_TAG_DOUBLE && isinf(ri->u.d));
  KT_OK("executorch_prim::gt.Scalar", VI(2), VI(1), ri);
  assert_true(ri->tag == ET_TAG_BOOL && ri->u.b);
  KT_OK("executorch_prim::sym_not.Scalar", ri, rd);
  assert_true(rd->tag == ET_TAG_BOOL && !rd->u.b);
}

static void test_prim_tensor(void **state) {
  (void)state;
  et_tensor *x = kt_t(ET_FLOAT, 3, 2, 5, 7);
  et_value *r = VI(0);
  KT_OK("aten::sym_size.int", VT(x), VI(-1), r);
  assert_int_equal(r->u.i, 7);
  KT_OK("aten::sym_size.int", VT(x), VI(1), r);
  assert_int_equal(r->u.i, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::sym_size.int", VT(x), VI(3), r);
  KT_OK("aten::sym_numel", VT(x), r);
  assert_int_equal(r->u.i, 70);
  et_value *s = VD(0);
  KT_OK("aten::_local_scalar_dense", VT(kt_vals(kt_t0(ET_HALF), 0.5)), s);
  assert_true(s->u.d == 0.5);
  et_value *si = VI(0);
  KT_OK("aten::_local_scalar_dense", VT(kt_vals(kt_t(ET_LONG, 1, 1), -9)), si);
  assert_int_equal(si->u.i, -9);
  et_value *sb = VB(false);
  KT_OK("aten::_local_scalar_dense", VT(kt_vals(kt_t0(ET_BOOL), 1)), sb);
  assert_true(sb->u.b);
  KT_FAIL(ET_INVALID_ARGUMENT, "at least one element", "aten::_local_scalar_dense",
          VT(kt_t(ET_FLOAT, 1, 0)), s);
}

static void test_et_view(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 2, 2, 6));
  et_tensor *out = kt_t(ET_FLOAT, 3, 3, 2, 2);
  out->data = NULL;
  KT_OK("executorch_prim::et_view.default", VT(x), VL(3, -1, 2), VT(out));
  assert_ptr_equal(out->data, x->data);
  KT_EXPECT(out, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
  /* dynamic out follows self's element count */
  et_tensor *small = iota(kt_t(ET_FLOAT, 2, 1, 6));
  et_tensor *dyn = kt_dynamic(kt_t(ET_FLOAT, 2, 4, 3), 0);
  KT_OK("executorch_prim::et_view.default", VT(small), VL(-1, 3), VT(dyn));
  KT_SHAPE(dyn, 2, 2, 3);
  assert_int_equal(dyn->strides[0], 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "static out shape", "executorch_prim::et_view.default", VT(small),
          VL(3, 2, 1), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "invalid for", "executorch_prim::et_view.default", VT(x),
          VL(5, -1, 2), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "rank", "executorch_prim::et_view.default", VT(x), VL(12),
          VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "executorch_prim::et_view.default", VT(x),
          VL(3, 2, 2), VT(kt_t(ET_INT, 3, 3, 2, 2)));
}

static void test_et_copy_index(void **state) {
  (void)state;
  et_tensor *acc = kt_dynamic(kt_t(ET_FLOAT, 2, 0, 3), 9);
  et_tensor *row = kt_t(ET_FLOAT, 1, 3);
  for (int64_t k = 0; k < 3; k++) {
    kt_vals(row, (double)k, (double)k + 0.5, -(double)k);
    KT_OK("executorch_prim::et_copy_index.tensor", VT(acc), VT(row), VI(k));
    KT_SHAPE(acc, 2, (int32_t)k + 1, 3);
  }
  KT_EXPECT(acc, 0, 0.5, 0, 1, 1.5, -1, 2, 2.5, -2);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot resize", "executorch_prim::et_copy_index.tensor", VT(acc),
          VT(row), VI(3));
  KT_FAIL(ET_INVALID_ARGUMENT, "non-negative", "executorch_prim::et_copy_index.tensor", VT(acc),
          VT(row), VI(-1));
  KT_FAIL(ET_INVALID_ARGUMENT, "differ after the first dim",
          "executorch_prim::et_copy_index.tensor", VT(acc), VT(kt_t(ET_FLOAT, 1, 4)), VI(0));
  /* a static destination that is already large enough is written in place */
  et_tensor *st = kt_t(ET_FLOAT, 2, 3, 3);
  KT_OK("executorch_prim::et_copy_index.tensor", VT(st), VT(row), VI(1));
  KT_EXPECT(st, 0, 0, 0, 2, 2.5, -2, 0, 0, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "executorch_prim::et_copy_index.tensor",
          VT(st), VT(row), VI(3));
}

/* Tensors with no elements may have no storage (data NULL): kernels must
 * neither touch nor offset such pointers (the sanitizer build checks). */
static et_tensor *nodata(et_tensor *t) {
  t->data = NULL;
  t->capacity = 0;
  return t;
}

static void test_empty_tensors(void **state) {
  (void)state;
  /* mm / bmm with K = 0: zeros */
  et_tensor *a = nodata(kt_t(ET_FLOAT, 2, 3, 0)), *b = nodata(kt_t(ET_FLOAT, 2, 0, 2));
  et_tensor *o = kt_vals(kt_t(ET_FLOAT, 2, 3, 2), 1, 1, 1, 1, 1, 1);
  KT_OK("aten::mm.out", VT(a), VT(b), VT(o), VT(o));
  KT_EXPECT(o, 0, 0, 0, 0, 0, 0);
  et_tensor *a3 = nodata(kt_t(ET_FLOAT, 3, 2, 3, 0)), *b3 = nodata(kt_t(ET_FLOAT, 3, 2, 0, 2));
  et_tensor *o3 = kt_vals(kt_t(ET_FLOAT, 3, 2, 3, 2), 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  KT_OK("aten::bmm.out", VT(a3), VT(b3), VT(o3), VT(o3));
  KT_EXPECT(o3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  et_tensor *e = nodata(kt_t(ET_FLOAT, 2, 0, 4));
  et_tensor *eo = nodata(kt_t(ET_FLOAT, 2, 0, 4));
  KT_OK("aten::add.out", VT(e), VT(e), VI(1), VT(eo), VT(eo));
  KT_OK("aten::relu.out", VT(e), VT(eo), VT(eo));
  KT_OK("aten::_softmax.out", VT(e), VI(1), VB(false), VT(eo), VT(eo));
  KT_OK("aten::full.out", VL(0, 4), VI(3), VT(eo), VT(eo));
  KT_OK("aten::clone.out", VT(e), VN(), VT(eo), VT(eo));
  KT_OK("aten::permute_copy.out", VT(e), VL(0, 1), VT(eo), VT(eo));
  et_tensor *s1 = nodata(kt_t(ET_FLOAT, 1, 0));
  KT_OK("aten::select_copy.int_out", VT(e), VI(1), VI(2), VT(s1), VT(s1));
  KT_OK("aten::slice_copy.Tensor_out", VT(e), VI(1), VI(1), VI(3), VI(1),
        VT(nodata(kt_t(ET_FLOAT, 2, 0, 2))), VT(s1));
  et_tensor *c = kt_vals(kt_t(ET_FLOAT, 2, 1, 4), 1, 2, 3, 4);
  et_tensor *co = kt_t(ET_FLOAT, 2, 1, 4);
  KT_OK("aten::cat.out", VTL(e, c, e), VI(0), VT(co), VT(co));
  KT_EXPECT(co, 1, 2, 3, 4);
  et_tensor *sum = kt_vals(kt_t(ET_FLOAT, 1, 4), 9, 9, 9, 9);
  KT_OK("aten::sum.IntList_out", VT(e), VL(0), VB(false), VN(), VT(sum), VT(sum));
  KT_EXPECT(sum, 0, 0, 0, 0);
  et_tensor *w = kt_t(ET_FLOAT, 2, 3, 2);
  KT_OK("aten::embedding.out", VT(w), VT(nodata(kt_t(ET_LONG, 1, 0))), VI(-1), VB(false),
        VB(false), VT(nodata(kt_t(ET_FLOAT, 2, 0, 2))), VT(s1));
  /* layer norm over an empty normalized dim: NaN statistics */
  et_tensor *x = nodata(kt_t(ET_FLOAT, 2, 2, 0));
  et_tensor *m = kt_t(ET_FLOAT, 2, 2, 1), *r = kt_t(ET_FLOAT, 2, 2, 1);
  KT_OK("aten::native_layer_norm.out", VT(x), VL(0), VN(), VN(), VD(1e-5),
        VT(nodata(kt_t(ET_FLOAT, 2, 2, 0))), VT(m), VT(r), VTL(x, m, r));
  KT_EXPECT(m, NAN, NAN);
  et_tensor *cx = nodata(kt_t(ET_FLOAT, 4, 0, 2, 3, 3));
  et_tensor *cw = kt_t(ET_FLOAT, 4, 4, 2, 1, 1);
  KT_OK("aten::convolution.out", VT(cx), VT(cw), VN(), VL(1, 1), VL(0, 0), VL(1, 1), VB(false),
        VL(0, 0), VI(1), VT(nodata(kt_t(ET_FLOAT, 4, 0, 4, 3, 3))), VT(cx));
}

static void test_index_gather_split(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 3, 2, 3, 4));
  /* adjacent indexed dims: x[:, [[0],[2]], [1,3]] (Long and Int indices) */
  et_tensor *i1 = kt_vals(kt_t(ET_LONG, 2, 2, 1), 0, 2);
  et_tensor *i2 = kt_vals(kt_t(ET_INT, 1, 2), 1, 3);
  et_value *ol = kt_v(ET_TAG_LIST_OPTIONAL_TENSOR);
  et_value *items[3] = {NULL, VT(i1), VT(i2)};
  ol->u.tlist.items = items;
  ol->u.tlist.len = 3;
  et_tensor *o = kt_dynamic(kt_t(ET_FLOAT, 3, 1, 1, 1), 64);
  KT_OK("aten::index.Tensor_out", VT(x), ol, VT(o), VT(o));
  KT_SHAPE(o, 3, 2, 2, 2);
  KT_EXPECT(o, 1, 3, 9, 11, 13, 15, 21, 23); /* from torch */
  /* separated by a None: x[[1,0], :, [3,-1]] puts B first */
  et_tensor *j0 = kt_vals(kt_t(ET_LONG, 1, 2), 1, 0);
  et_tensor *j2 = kt_vals(kt_t(ET_LONG, 1, 2), 3, -1);
  et_value *items2[3] = {VT(j0), VN(), VT(j2)};
  ol->u.tlist.items = items2;
  et_tensor *o2 = kt_dynamic(kt_t(ET_FLOAT, 2, 1, 1), 64);
  KT_OK("aten::index.Tensor_out", VT(x), ol, VT(o2), VT(o2));
  KT_SHAPE(o2, 2, 2, 3);
  KT_EXPECT(o2, 15, 19, 23, 3, 7, 11);
  /* a Bool mask over dims 1 and 2: x[:, mask] */
  et_tensor *m = kt_vals(kt_t(ET_BOOL, 2, 3, 4), 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0);
  et_value *items3[2] = {NULL, VT(m)};
  ol->u.tlist.items = items3;
  ol->u.tlist.len = 2;
  et_tensor *o3 = kt_dynamic(kt_t(ET_FLOAT, 2, 1, 1), 64);
  KT_OK("aten::index.Tensor_out", VT(x), ol, VT(o3), VT(o3));
  KT_SHAPE(o3, 2, 2, 3);
  KT_EXPECT(o3, 0, 3, 9, 12, 15, 21);
  /* errors: out-of-range value, mask with another index, float index */
  kt_seti(j2, 1, -5);
  ol->u.tlist.items = items2;
  ol->u.tlist.len = 3;
  KT_FAIL(ET_INVALID_ARGUMENT, "value -5 is out of range", "aten::index.Tensor_out", VT(x), ol,
          VT(o2), VT(o2));
  et_value *items4[2] = {VT(j0), VT(kt_t(ET_BOOL, 1, 3))};
  ol->u.tlist.items = items4;
  ol->u.tlist.len = 2;
  KT_FAIL(ET_INVALID_ARGUMENT, "mask combined", "aten::index.Tensor_out", VT(x), ol, VT(o2),
          VT(o2));
  et_value *items5[1] = {VT(kt_t(ET_FLOAT, 1, 2))};
  ol->u.tlist.items = items5;
  ol->u.tlist.len = 1;
  KT_FAIL(ET_INVALID_ARGUMENT, "expected dtype Long", "aten::index.Tensor_out", VT(x), ol,
          VT(o2), VT(o2));

  /* gather along dim 1 (from torch) and its bounds check */
  et_tensor *g = iota(kt_t(ET_FLOAT, 2, 2, 3));
  et_tensor *gi = kt_vals(kt_t(ET_LONG, 2, 2, 2), 2, 0, 1, 1);
  et_tensor *go = kt_t(ET_FLOAT, 2, 2, 2);
  KT_OK("aten::gather.out", VT(g), VI(1), VT(gi), VB(false), VT(go), VT(go));
  KT_EXPECT(go, 2, 0, 4, 4);
  kt_seti(gi, 3, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "index value 3 is out of range", "aten::gather.out", VT(g),
          VI(1), VT(gi), VB(false), VT(go), VT(go));
  kt_seti(gi, 3, -1);
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::gather.out", VT(g), VI(1), VT(gi),
          VB(false), VT(go), VT(go));
  /* Int indices work too; other dtypes only when the index is empty (as
   * PyTorch) */
  et_tensor *gi32 = kt_vals(kt_t(ET_INT, 2, 2, 2), 2, 0, 1, 1);
  KT_OK("aten::gather.out", VT(g), VI(1), VT(gi32), VB(false), VT(go), VT(go));
  KT_EXPECT(go, 2, 0, 4, 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "Long or Int", "aten::gather.out", VT(g), VI(1),
          VT(kt_t(ET_BYTE, 2, 2, 2)), VB(false), VT(go), VT(go));
  et_tensor *ge = kt_dynamic(kt_t(ET_FLOAT, 3, 1, 1, 1), 4);
  KT_OK("aten::gather.out", VT(g), VI(0), VT(kt_t(ET_BYTE, 3, 2, 0, 3)), VB(false), VT(ge),
        VT(ge));
  KT_SHAPE(ge, 3, 2, 0, 3);

  /* split_with_sizes_copy along the last dim; the return slot is the list */
  et_tensor *a = kt_t(ET_FLOAT, 2, 2, 1), *b2 = kt_t(ET_FLOAT, 2, 2, 2);
  et_value *outs = VTL(a, b2);
  KT_OK("aten::split_with_sizes_copy.out", VT(g), VL(1, 2), VI(-1), outs, outs);
  KT_EXPECT(a, 0, 3);
  KT_EXPECT(b2, 1, 2, 4, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "out[1]: result shape [2, 2] does not match the static",
          "aten::split_with_sizes_copy.out", VT(g), VL(1, 2), VI(-1),
          VTL(a, kt_t(ET_FLOAT, 2, 2, 3)), outs);
  KT_FAIL(ET_INVALID_ARGUMENT, "add up to 3", "aten::split_with_sizes_copy.out", VT(g),
          VL(1, 1), VI(1), VTL(a, b2), outs);
  KT_FAIL(ET_INVALID_ARGUMENT, "2 tensors for 3 split sizes", "aten::split_with_sizes_copy.out",
          VT(g), VL(1, 1, 1), VI(1), VTL(a, b2), outs);
}

static void test_factories_cumsum(void **state) {
  (void)state;
  et_tensor *r = kt_dynamic(kt_t(ET_FLOAT, 1, 0), 16);
  KT_OK("aten::arange.start_out", VD(0.5), VD(2.0), VD(0.4), VT(r), VT(r));
  KT_SHAPE(r, 1, 4);
  KT_EXPECT(r, 0.5, 0.9, 1.3, 1.7);
  et_tensor *ri = kt_dynamic(kt_t(ET_LONG, 1, 0), 16);
  KT_OK("aten::arange.start_out", VI(5), VI(-3), VI(-2), VT(ri), VT(ri));
  KT_EXPECT(ri, 5, 3, 1, -1);
  KT_OK("aten::arange.out", VI(3), VT(ri), VT(ri));
  KT_EXPECT(ri, 0, 1, 2);
  KT_OK("aten::arange.start_out", VI(0), VI(0), VI(1), VT(ri), VT(ri));
  KT_SHAPE(ri, 1, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "step", "aten::arange.start_out", VI(0), VI(3), VI(0), VT(ri),
          VT(ri));
  KT_FAIL(ET_INVALID_ARGUMENT, "inconsistent", "aten::arange.start_out", VI(0), VI(3), VI(-1),
          VT(ri), VT(ri));
  et_tensor *st = kt_t0(ET_FLOAT);
  KT_OK("aten::scalar_tensor.out", VD(-INFINITY), VT(st), VT(st));
  KT_EXPECT(st, -INFINITY);
  et_tensor *al = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::alias_copy.out", VT(r), VT(kt_dynamic(kt_t(ET_FLOAT, 1, 0), 8)), VT(al));
  /* cumsum of Bool into Long (the GPT-2 position ids), and along dim 0 */
  et_tensor *b = kt_vals(kt_t(ET_BOOL, 2, 2, 3), 1, 0, 1, 1, 1, 1);
  et_tensor *c = kt_t(ET_LONG, 2, 2, 3);
  KT_OK("aten::cumsum.out", VT(b), VI(-1), VN(), VT(c), VT(c));
  KT_EXPECT(c, 1, 1, 2, 1, 2, 3);
  et_tensor *f = iota(kt_t(ET_FLOAT, 2, 2, 3));
  et_tensor *fc = kt_t(ET_DOUBLE, 2, 2, 3);
  KT_OK("aten::cumsum.out", VT(f), VI(0), VI(ET_DOUBLE), VT(fc), VT(fc));
  KT_EXPECT(fc, 0, 1, 2, 3, 5, 7);
  KT_FAIL(ET_INVALID_ARGUMENT, "dtype", "aten::cumsum.out", VT(f), VI(0), VI(ET_FLOAT), VT(fc),
          VT(fc));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_permute_copy, kt_free_all),
      cmocka_unit_test_teardown(test_expand_select_slice, kt_free_all),
      cmocka_unit_test_teardown(test_squeeze_unsqueeze_view, kt_free_all),
      cmocka_unit_test_teardown(test_clone_to_copy_dim_order, kt_free_all),
      cmocka_unit_test_teardown(test_copy_, kt_free_all),
      cmocka_unit_test_teardown(test_cat, kt_free_all),
      cmocka_unit_test_teardown(test_full_embedding_like, kt_free_all),
      cmocka_unit_test_teardown(test_sum_mean, kt_free_all),
      cmocka_unit_test_teardown(test_any, kt_free_all),
      cmocka_unit_test_teardown(test_prim_scalar, kt_free_all),
      cmocka_unit_test_teardown(test_prim_tensor, kt_free_all),
      cmocka_unit_test_teardown(test_et_view, kt_free_all),
      cmocka_unit_test_teardown(test_et_copy_index, kt_free_all),
      cmocka_unit_test_teardown(test_empty_tensors, kt_free_all),
      cmocka_unit_test_teardown(test_index_gather_split, kt_free_all),
      cmocka_unit_test_teardown(test_factories_cumsum, kt_free_all),
  };
  return cmocka_run_group_tests_name("kernels_shape", tests, NULL, NULL);
}
