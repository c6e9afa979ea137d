/*
 * Portable kernels, copies and shapes part 2: copy.out and the identity
 * copies, as_strided_copy, view_as_real_copy, t/transpose/squeeze.dim,
 * select/slice_scatter, narrow/split/unbind/unfold/diagonal copies, stack,
 * flip, roll, repeat, tril, and the factories (empty, zeros, ones, fill,
 * rand, randn, _empty_dim_order). Expected values from PyTorch eager where
 * they are not obvious.
 */
#include "test_kernels.h"

/* 0, 1, 2, ... in every logical position */
static et_tensor *iota(et_tensor *t) {
  for (size_t i = 0; i < et_tensor_numel(t); i++) kt_set(t, i, (double)i);
  return t;
}

/* ---- copies ----------------------------------------------------------------- */

static void test_copy_out_and_identity(void **state) {
  (void)state;
  /* copy.out: src broadcast and converted to self's shape and dtype */
  et_tensor *self = kt_t(ET_FLOAT, 2, 2, 3), *out = kt_t(ET_FLOAT, 2, 2, 3);
  et_tensor *src = kt_vals(kt_t(ET_INT, 1, 3), 1, -2, 3);
  KT_OK("aten::copy.out", VT(self), VT(src), VB(false), VT(out), VT(out));
  KT_EXPECT(out, 1, -2, 3, 1, -2, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "does not broadcast", "aten::copy.out", VT(self),
          VT(kt_t(ET_INT, 1, 2)), VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::copy.out", VT(self), VT(src), VB(false),
          VT(kt_t(ET_INT, 2, 2, 3)), VT(out));
  /* identity copies: any dim orders, same dtype */
  static const char *const ops[] = {"aten::detach_copy.out", "aten::lift_fresh_copy.out",
                                    "et_copy::_h2d_copy.out", "et_copy::_d2h_copy.out"};
  for (size_t k = 0; k < 4; k++) {
    et_tensor *x = iota(kt_t(ET_HALF, 3, 2, 3, 2));
    et_tensor *o = kt_ord(kt_t(ET_HALF, 3, 2, 3, 2), 2, 0, 1);
    KT_OK(ops[k], VT(x), VT(o), VT(o));
    kt_expect_tensors_close(o, x, 0, 0);
    et_tensor *d = kt_dynamic(kt_t(ET_HALF, 3, 1, 1, 1), 64);
    KT_OK(ops[k], VT(x), VT(d), VT(d));
    KT_SHAPE(d, 3, 2, 3, 2);
    kt_expect_tensors_close(d, x, 0, 0);
    KT_OK(ops[k], VT(kt_t(ET_HALF, 3, 0, 3, 2)), VT(d), VT(d)); /* empty */
    KT_SHAPE(d, 3, 0, 3, 2);
    KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", ops[k], VT(x), VT(kt_t(ET_FLOAT, 3, 2, 3, 2)),
            VT(o));
    KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", ops[k], VT(x),
            VT(kt_t(ET_HALF, 3, 2, 2, 3)), VT(o));
  }
}

static void test_as_strided(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 2, 3, 4));
  et_tensor *o = kt_dynamic(kt_t(ET_FLOAT, 2, 1, 1), 16);
  KT_OK("aten::as_strided_copy.out", VT(x), VL(2, 3), VL(1, 4), VI(1), VT(o), VT(o));
  KT_SHAPE(o, 2, 2, 3);
  KT_EXPECT(o, 1, 5, 9, 2, 6, 10); /* from torch */
  KT_OK("aten::as_strided_copy.out", VT(x), VL(2, 2), VL(0, 5), VI(2), VT(o), VT(o));
  KT_EXPECT(o, 2, 7, 2, 7);
  /* the last element exactly: offset 11, and an offset with None */
  KT_OK("aten::as_strided_copy.out", VT(x), VL(1, 1), VL(0, 0), VI(11), VT(o), VT(o));
  KT_EXPECT(o, 11);
  KT_OK("aten::as_strided_copy.out", VT(x), VL(3, 2), VL(4, 3), VN(), VT(o), VT(o));
  KT_EXPECT(o, 0, 3, 4, 7, 8, 11);
  /* storage is memory order: a transposed self is read as laid out */
  et_tensor *xt = iota(kt_ord(kt_t(ET_INT, 2, 2, 3), 1, 0)); /* memory: 0 3 1 4 2 5 */
  et_tensor *oi = kt_t(ET_INT, 1, 4);
  KT_OK("aten::as_strided_copy.out", VT(xt), VL(4), VL(1), VI(1), VT(oi), VT(oi));
  KT_EXPECT(oi, 3, 1, 4, 2);
  /* zero-size results need no storage */
  KT_OK("aten::as_strided_copy.out", VT(x), VL(0, 5), VL(100, 100), VI(100), VT(o), VT(o));
  KT_SHAPE(o, 2, 0, 5);
  /* beyond the storage, by one element and by overflowing products */
  KT_FAIL(ET_INVALID_ARGUMENT, "beyond self's storage", "aten::as_strided_copy.out", VT(x),
          VL(2, 2), VL(1, 4), VI(7), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "beyond self's storage", "aten::as_strided_copy.out", VT(x),
          VL(3, 3), VL(INT64_MAX / 2, INT64_MAX / 2), VI(0), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "beyond self's storage", "aten::as_strided_copy.out", VT(x),
          VL(1, 1), VL(1, 1), VI(12), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "negative strides", "aten::as_strided_copy.out", VT(x), VL(2, 2),
          VL(-1, 3), VI(4), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "negative size", "aten::as_strided_copy.out", VT(x), VL(-2, 2),
          VL(1, 3), VI(4), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "storage_offset", "aten::as_strided_copy.out", VT(x), VL(2, 2),
          VL(1, 3), VI(-1), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "size has 2 entries but stride has 1", "aten::as_strided_copy.out",
          VT(x), VL(2, 2), VL(1), VI(0), VT(o), VT(o));
}

static void test_view_as_real(void **state) {
  (void)state;
  /* a hand-made ComplexFloat tensor (the loader refuses complex; the kernel
   * still copies the pairs) */
  et_tensor *c = kt_t(ET_COMPLEX_FLOAT, 1, 3);
  const float pairs[6] = {1, -1, 2, -2, 3.5f, 0};
  memcpy(c->data, pairs, sizeof pairs);
  et_tensor *o = kt_t(ET_FLOAT, 2, 3, 2);
  KT_OK("aten::view_as_real_copy.out", VT(c), VT(o), VT(o));
  KT_EXPECT(o, 1, -1, 2, -2, 3.5, 0);
  et_tensor *od = kt_t(ET_DOUBLE, 2, 3, 2);
  KT_OK("aten::view_as_real_copy.out", VT(c), VT(od), VT(od));
  KT_EXPECT(od, 1, -1, 2, -2, 3.5, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "needs a complex dtype", "aten::view_as_real_copy.out",
          VT(kt_t(ET_FLOAT, 1, 3)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "expected a floating dtype", "aten::view_as_real_copy.out", VT(c),
          VT(kt_t(ET_INT, 2, 3, 2)), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "aten::view_as_real_copy.out", VT(c),
          VT(kt_t(ET_FLOAT, 2, 2, 3)), VT(o));
}

/* ---- transposes and squeeze -------------------------------------------------- */

static void test_transposes(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_LONG, 2, 2, 3));
  et_tensor *o = kt_t(ET_LONG, 2, 3, 2);
  KT_OK("aten::t_copy.out", VT(x), VT(o), VT(o));
  KT_EXPECT(o, 0, 3, 1, 4, 2, 5);
  et_tensor *v = iota(kt_t(ET_LONG, 1, 4)), *vo = kt_t(ET_LONG, 1, 4);
  KT_OK("aten::t_copy.out", VT(v), VT(vo), VT(vo));
  KT_EXPECT(vo, 0, 1, 2, 3);
  et_tensor *s = kt_vals(kt_t0(ET_LONG), 7), *so = kt_t0(ET_LONG);
  KT_OK("aten::t_copy.out", VT(s), VT(so), VT(so));
  KT_EXPECT(so, 7);
  KT_FAIL(ET_INVALID_ARGUMENT, "at most 2 dims", "aten::t_copy.out",
          VT(kt_t(ET_LONG, 3, 1, 1, 1)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "aten::t_copy.out", VT(x),
          VT(kt_t(ET_LONG, 2, 2, 3)), VT(o));

  et_tensor *y = iota(kt_t(ET_CHAR, 3, 2, 3, 4));
  et_tensor *yo = kt_t(ET_CHAR, 3, 4, 3, 2);
  KT_OK("aten::transpose_copy.int_out", VT(y), VI(0), VI(-1), VT(yo), VT(yo));
  for (size_t k = 0; k < 4; k++)
    for (size_t j = 0; j < 3; j++)
      for (size_t i = 0; i < 2; i++)
        assert_int_equal(kt_geti(yo, (k * 3 + j) * 2 + i), (int64_t)((i * 3 + j) * 4 + k));
  et_tensor *same = kt_t(ET_CHAR, 3, 2, 3, 4);
  KT_OK("aten::transpose_copy.int_out", VT(y), VI(1), VI(1), VT(same), VT(same));
  kt_expect_tensors_close(same, y, 0, 0);
  KT_OK("aten::transpose_copy.int_out", VT(s), VI(0), VI(-1), VT(so), VT(so));
  KT_FAIL(ET_INVALID_ARGUMENT, "dim1: dimension 3 out of range", "aten::transpose_copy.int_out",
          VT(y), VI(0), VI(3), VT(yo), VT(yo));

  et_tensor *q = iota(kt_t(ET_FLOAT, 3, 2, 1, 3));
  et_tensor *qo = kt_t(ET_FLOAT, 2, 2, 3);
  KT_OK("aten::squeeze_copy.dim_out", VT(q), VI(-2), VT(qo), VT(qo));
  KT_EXPECT(qo, 0, 1, 2, 3, 4, 5);
  et_tensor *qk = kt_t(ET_FLOAT, 3, 2, 1, 3); /* dim 0 has size 2: kept */
  KT_OK("aten::squeeze_copy.dim_out", VT(q), VI(0), VT(qk), VT(qk));
  kt_expect_tensors_close(qk, q, 0, 0);
  et_tensor *q0 = kt_t0(ET_FLOAT);
  KT_OK("aten::squeeze_copy.dim_out", VT(kt_vals(kt_t0(ET_FLOAT), 2)), VI(-1), VT(q0), VT(q0));
  KT_EXPECT(q0, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::squeeze_copy.dim_out", VT(q), VI(3),
          VT(qo), VT(qo));
  KT_FAIL(ET_INVALID_ARGUMENT, "expected rank 3", "aten::squeeze_copy.dim_out", VT(q), VI(0),
          VT(qo), VT(qo));
}

/* ---- scatters into slices -------------------------------------------------------- */

static void test_select_slice_scatter(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 2, 3, 4)), *o = kt_t(ET_FLOAT, 2, 3, 4);
  KT_OK("aten::select_scatter.out", VT(x), VT(kt_vals(kt_t(ET_INT, 1, 3), -1, -2, -3)), VI(1),
        VI(-1), VT(o), VT(o));
  KT_EXPECT(o, 0, 1, 2, -1, 4, 5, 6, -2, 8, 9, 10, -3); /* from torch (Int src converted) */
  KT_OK("aten::select_scatter.out", VT(x), VT(kt_vals(kt_t(ET_FLOAT, 1, 4), 9, 9, 9, 9)), VI(0),
        VI(1), VT(o), VT(o));
  KT_EXPECT(o, 0, 1, 2, 3, 9, 9, 9, 9, 8, 9, 10, 11);
  et_tensor *v = iota(kt_t(ET_BOOL, 1, 2)), *vo = kt_t(ET_BOOL, 1, 2);
  KT_OK("aten::select_scatter.out", VT(v), VT(kt_vals(kt_t0(ET_BOOL), 1)), VI(0), VI(0), VT(vo),
        VT(vo));
  KT_EXPECT(vo, 1, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "index: index 3 is out of range for dim 0 of size 3",
          "aten::select_scatter.out", VT(x), VT(kt_t(ET_FLOAT, 1, 4)), VI(0), VI(3), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "index -4 is out of range", "aten::select_scatter.out", VT(x),
          VT(kt_t(ET_FLOAT, 1, 4)), VI(0), VI(-4), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "must have the shape of the selected slice [3]",
          "aten::select_scatter.out", VT(x), VT(kt_t(ET_FLOAT, 1, 4)), VI(1), VI(0), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "0-dim", "aten::select_scatter.out", VT(kt_t0(ET_FLOAT)),
          VT(kt_t0(ET_FLOAT)), VI(0), VI(0), VT(o), VT(o));

  KT_OK("aten::slice_scatter.out", VT(x), VT(kt_vals(kt_t(ET_FLOAT, 2, 3, 2), -1, -1, -1, -1, -1, -1)),
        VI(1), VI(1), VN(), VI(2), VT(o), VT(o));
  KT_EXPECT(o, 0, -1, 2, -1, 4, -1, 6, -1, 8, -1, 10, -1); /* from torch */
  /* clamped bounds: [-100:2] of dim 0 is rows 0 and 1; an empty slice */
  KT_OK("aten::slice_scatter.out", VT(x), VT(kt_t(ET_FLOAT, 2, 2, 4)), VI(0), VI(-100), VI(2),
        VI(1), VT(o), VT(o));
  KT_EXPECT(o, 0, 0, 0, 0, 0, 0, 0, 0, 8, 9, 10, 11);
  KT_OK("aten::slice_scatter.out", VT(x), VT(kt_t(ET_FLOAT, 2, 3, 0)), VI(1), VI(3), VI(1),
        VI(INT64_MAX), VT(o), VT(o));
  kt_expect_tensors_close(o, x, 0, 0);
  KT_OK("aten::slice_scatter.out", VT(x), VT(kt_vals(kt_t(ET_FLOAT, 2, 3, 1), 7, 7, 7)), VI(1),
        VI(2), VN(), VI(INT64_MAX), VT(o), VT(o));
  KT_EXPECT(o, 0, 1, 7, 3, 4, 5, 7, 7, 8, 9, 7, 11);
  KT_FAIL(ET_INVALID_ARGUMENT, "must have the shape of the slice [3, 2]", "aten::slice_scatter.out",
          VT(x), VT(kt_t(ET_FLOAT, 2, 3, 3)), VI(1), VI(0), VN(), VI(2), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "step", "aten::slice_scatter.out", VT(x),
          VT(kt_t(ET_FLOAT, 2, 3, 4)), VI(1), VN(), VN(), VI(0), VT(o), VT(o));
}

/* ---- narrow, split, unbind, unfold, diagonal -------------------------------------- */

static void test_narrow_split_unbind(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_SHORT, 2, 3, 4));
  et_tensor *o = kt_dynamic(kt_t(ET_SHORT, 2, 3, 4), 12);
  KT_OK("aten::narrow_copy.out", VT(x), VI(1), VI(-3), VI(2), VT(o), VT(o));
  KT_SHAPE(o, 2, 3, 2);
  KT_EXPECT(o, 1, 2, 5, 6, 9, 10);
  KT_OK("aten::narrow_copy.out", VT(x), VI(0), VI(3), VI(0), VT(o), VT(o));
  KT_SHAPE(o, 2, 0, 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "start: -5 is out of range", "aten::narrow_copy.out", VT(x), VI(1),
          VI(-5), VI(0), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "start (2) + length (3) exceeds dim 1 of size 4",
          "aten::narrow_copy.out", VT(x), VI(1), VI(2), VI(3), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "length: must be non-negative", "aten::narrow_copy.out", VT(x),
          VI(1), VI(0), VI(-1), VT(o), VT(o));

  /* split 4 by 3: [3] and [1]; the second out converts to Float */
  et_tensor *a = kt_t(ET_SHORT, 2, 3, 3), *b = kt_t(ET_FLOAT, 2, 3, 1);
  et_value *outs = VTL(a, b);
  KT_OK("aten::split_copy.Tensor_out", VT(x), VI(3), VI(-1), outs, outs);
  KT_EXPECT(a, 0, 1, 2, 4, 5, 6, 8, 9, 10);
  KT_EXPECT(b, 3, 7, 11);
  /* a dim of size 0 splits into one empty chunk, also with split_size 0 */
  et_tensor *e = kt_t(ET_SHORT, 2, 0, 4);
  et_value *eouts = VTL(e);
  KT_OK("aten::split_copy.Tensor_out", VT(kt_t(ET_SHORT, 2, 0, 4)), VI(0), VI(0), eouts, eouts);
  KT_FAIL(ET_INVALID_ARGUMENT, "gives 3 chunks", "aten::split_copy.Tensor_out", VT(x), VI(1),
          VI(0), outs, outs);
  KT_FAIL(ET_INVALID_ARGUMENT, "can only be 0", "aten::split_copy.Tensor_out", VT(x), VI(0),
          VI(0), outs, outs);
  KT_FAIL(ET_INVALID_ARGUMENT, "out[0]: result shape [3, 2]", "aten::split_copy.Tensor_out", VT(x),
          VI(2), VI(1), outs, outs);

  et_tensor *u0 = kt_t(ET_SHORT, 1, 3), *u1 = kt_t(ET_SHORT, 1, 3), *u2 = kt_t(ET_LONG, 1, 3),
            *u3 = kt_t(ET_SHORT, 1, 3);
  et_value *us = VTL(u0, u1, u2, u3);
  KT_OK("aten::unbind_copy.int_out", VT(x), VI(1), us, us);
  KT_EXPECT(u0, 0, 4, 8);
  KT_EXPECT(u2, 2, 6, 10);
  KT_EXPECT(u3, 3, 7, 11);
  KT_FAIL(ET_INVALID_ARGUMENT, "out: 4 tensors for dim 0 of size 3", "aten::unbind_copy.int_out",
          VT(x), VI(0), us, us);
  KT_FAIL(ET_INVALID_ARGUMENT, "0-dim", "aten::unbind_copy.int_out", VT(kt_t0(ET_SHORT)), VI(0),
          us, us);
}

static void test_unfold_diagonal(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_DOUBLE, 2, 2, 5));
  et_tensor *o = kt_dynamic(kt_t(ET_DOUBLE, 3, 1, 1, 1), 32);
  KT_OK("aten::unfold_copy.out", VT(x), VI(1), VI(2), VI(2), VT(o), VT(o));
  KT_SHAPE(o, 3, 2, 2, 2);
  KT_EXPECT(o, 0, 1, 2, 3, 5, 6, 7, 8); /* from torch */
  et_tensor *y = iota(kt_t(ET_DOUBLE, 2, 3, 2));
  KT_OK("aten::unfold_copy.out", VT(y), VI(0), VI(2), VI(1), VT(o), VT(o));
  KT_SHAPE(o, 3, 2, 2, 2);
  KT_EXPECT(o, 0, 2, 1, 3, 2, 4, 3, 5); /* from torch */
  KT_OK("aten::unfold_copy.out", VT(y), VI(0), VI(3), VI(INT64_MAX), VT(o), VT(o));
  KT_SHAPE(o, 3, 1, 2, 3);
  KT_EXPECT(o, 0, 2, 4, 1, 3, 5);
  et_tensor *o1 = kt_t(ET_FLOAT, 1, 1); /* 0-dim self: [size]; the copy converts */
  KT_OK("aten::unfold_copy.out", VT(kt_vals(kt_t0(ET_DOUBLE), 4)), VI(0), VI(1), VI(1), VT(o1),
        VT(o1));
  KT_EXPECT(o1, 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "size: 6 exceeds dim 1 of size 5", "aten::unfold_copy.out", VT(x),
          VI(1), VI(6), VI(1), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "step: must be positive", "aten::unfold_copy.out", VT(x), VI(1),
          VI(2), VI(0), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "size: must be non-negative", "aten::unfold_copy.out", VT(x),
          VI(1), VI(-1), VI(1), VT(o), VT(o));

  et_tensor *m = iota(kt_t(ET_INT, 2, 3, 4));
  et_tensor *d = kt_dynamic(kt_t(ET_INT, 1, 0), 8);
  KT_OK("aten::diagonal_copy.out", VT(m), VI(1), VI(0), VI(1), VT(d), VT(d));
  KT_EXPECT(d, 1, 6, 11);
  KT_OK("aten::diagonal_copy.out", VT(m), VI(-1), VI(0), VI(1), VT(d), VT(d));
  KT_EXPECT(d, 4, 9);
  KT_OK("aten::diagonal_copy.out", VT(m), VI(0), VI(1), VI(0), VT(d), VT(d));
  KT_EXPECT(d, 0, 5, 10);
  KT_OK("aten::diagonal_copy.out", VT(m), VI(4), VI(0), VI(1), VT(d), VT(d));
  KT_SHAPE(d, 1, 0);
  KT_OK("aten::diagonal_copy.out", VT(m), VI(INT64_MIN), VI(0), VI(1), VT(d), VT(d));
  KT_SHAPE(d, 1, 0);
  et_tensor *m3 = iota(kt_t(ET_INT, 3, 2, 3, 4));
  et_tensor *d3 = kt_t(ET_INT, 2, 3, 2);
  KT_OK("aten::diagonal_copy.out", VT(m3), VI(0), VI(2), VI(0), VT(d3), VT(d3));
  KT_EXPECT(d3, 0, 13, 4, 17, 8, 21); /* from torch */
  KT_FAIL(ET_INVALID_ARGUMENT, "must differ", "aten::diagonal_copy.out", VT(m), VI(0), VI(1),
          VI(-1), VT(d), VT(d));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::diagonal_copy.out", VT(kt_t(ET_INT, 1, 3)),
          VI(0), VI(0), VI(1), VT(d), VT(d));
}

/* ---- stack, flip, roll, repeat, tril --------------------------------------------- */

static void test_stack_flip(void **state) {
  (void)state;
  et_tensor *a = kt_vals(kt_t(ET_FLOAT, 1, 4), 0, 1, 2, 3);
  et_tensor *b = kt_vals(kt_t(ET_INT, 1, 4), 4, 5, 6, 7); /* cast to Float */
  et_tensor *o = kt_t(ET_FLOAT, 2, 4, 2);
  KT_OK("aten::stack.out", VTL(a, b), VI(-1), VT(o), VT(o));
  KT_EXPECT(o, 0, 4, 1, 5, 2, 6, 3, 7); /* from torch */
  et_tensor *o0 = kt_t(ET_FLOAT, 2, 2, 4);
  KT_OK("aten::stack.out", VTL(a, b), VI(0), VT(o0), VT(o0));
  KT_EXPECT(o0, 0, 1, 2, 3, 4, 5, 6, 7);
  et_tensor *s = kt_t(ET_FLOAT, 1, 3);
  KT_OK("aten::stack.out", VTL(kt_vals(kt_t0(ET_FLOAT), 1), kt_vals(kt_t0(ET_FLOAT), 2),
                              kt_vals(kt_t0(ET_FLOAT), 3)),
        VI(0), VT(s), VT(s));
  KT_EXPECT(s, 1, 2, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "must have the shape of tensors[0]", "aten::stack.out",
          VTL(a, kt_t(ET_FLOAT, 1, 3)), VI(0), VT(o0), VT(o0));
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be cast", "aten::stack.out", VTL(a, b), VI(0),
          VT(kt_t(ET_INT, 2, 2, 4)), VT(o0));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::stack.out", VTL(a, b), VI(2), VT(o0),
          VT(o0));
  KT_FAIL(ET_INVALID_ARGUMENT, "non-empty", "aten::stack.out", kt_tensor_list(0, NULL), VI(0),
          VT(o0), VT(o0));

  et_tensor *x = iota(kt_t(ET_BFLOAT16, 3, 2, 3, 4)), *f = kt_t(ET_BFLOAT16, 3, 2, 3, 4);
  KT_OK("aten::flip.out", VT(x), VL(0, -1), VT(f), VT(f));
  KT_EXPECT(f, 15, 14, 13, 12, 19, 18, 17, 16, 23, 22, 21, 20, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9,
            8); /* from torch */
  /* channels-last in, contiguous out */
  et_tensor *cl = iota(kt_ord(kt_t(ET_BFLOAT16, 4, 1, 2, 2, 2), 0, 2, 3, 1));
  et_tensor *cf = kt_t(ET_BFLOAT16, 4, 1, 2, 2, 2);
  KT_OK("aten::flip.out", VT(cl), VL(1, 3), VT(cf), VT(cf));
  KT_EXPECT(cf, 5, 4, 7, 6, 1, 0, 3, 2);
  et_tensor *same = kt_t(ET_BFLOAT16, 3, 2, 3, 4);
  KT_OK("aten::flip.out", VT(x), VL0(), VT(same), VT(same));
  kt_expect_tensors_close(same, x, 0, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "more than once", "aten::flip.out", VT(x), VL(1, -2), VT(f),
          VT(f));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::flip.out", VT(x), VL(3), VT(f), VT(f));
}

static void test_roll(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 2, 3, 4)), *o = kt_t(ET_FLOAT, 2, 3, 4);
  KT_OK("aten::roll.out", VT(x), VL(1, -1), VL(0, 1), VT(o), VT(o));
  KT_EXPECT(o, 9, 10, 11, 8, 1, 2, 3, 0, 5, 6, 7, 4); /* from torch */
  KT_OK("aten::roll.out", VT(x), VL(5), VL0(), VT(o), VT(o));
  KT_EXPECT(o, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6); /* from torch */
  KT_OK("aten::roll.out", VT(x), VL(1, 2), VL(1, 1), VT(o), VT(o));
  KT_EXPECT(o, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8); /* from torch: shifts add up */
  KT_OK("aten::roll.out", VT(x), VL(-13), VL(-2), VT(o), VT(o)); /* -13 mod 3 = 2 */
  KT_EXPECT(o, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3);
  KT_OK("aten::roll.out", VT(x), VL(INT64_MIN), VL0(), VT(o), VT(o)); /* mod 12 = 4 */
  KT_EXPECT(o, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6, 7);
  /* flat roll of a transposed self into a transposed out */
  et_tensor *xt = iota(kt_ord(kt_t(ET_FLOAT, 2, 3, 4), 1, 0));
  et_tensor *ot = kt_ord(kt_t(ET_FLOAT, 2, 3, 4), 1, 0);
  KT_OK("aten::roll.out", VT(xt), VL(5), VL0(), VT(ot), VT(ot));
  KT_EXPECT(ot, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6);
  et_tensor *e = kt_t(ET_FLOAT, 2, 0, 4);
  KT_OK("aten::roll.out", VT(kt_t(ET_FLOAT, 2, 0, 4)), VL(3), VL(0), VT(e), VT(e));
  et_tensor *s = kt_t0(ET_FLOAT);
  KT_OK("aten::roll.out", VT(kt_vals(kt_t0(ET_FLOAT), 3)), VL(2), VL0(), VT(s), VT(s));
  KT_EXPECT(s, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "must not be empty", "aten::roll.out", VT(x), VL0(), VL0(), VT(o),
          VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "exactly one shift", "aten::roll.out", VT(x), VL(1, 1), VL0(),
          VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "same length", "aten::roll.out", VT(x), VL(1, 1), VL(0), VT(o),
          VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range", "aten::roll.out", VT(x), VL(1), VL(2), VT(o),
          VT(o));
}

static void test_repeat_tril(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 2, 3, 1));
  et_tensor *o = kt_dynamic(kt_t(ET_FLOAT, 3, 1, 1, 1), 64);
  KT_OK("aten::repeat.out", VT(x), VL(2, 1, 2), VT(o), VT(o));
  KT_SHAPE(o, 3, 2, 3, 2);
  KT_EXPECT(o, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2); /* from torch */
  et_tensor *y = iota(kt_t(ET_LONG, 2, 2, 2)), *yo = kt_dynamic(kt_t(ET_LONG, 2, 1, 1), 64);
  KT_OK("aten::repeat.out", VT(y), VL(2, 3), VT(yo), VT(yo));
  KT_SHAPE(yo, 2, 4, 6);
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 6; j++)
      assert_int_equal(kt_geti(yo, i * 6 + j), (int64_t)((i % 2) * 2 + j % 2));
  KT_OK("aten::repeat.out", VT(y), VL(0, 3), VT(yo), VT(yo));
  KT_SHAPE(yo, 2, 0, 6);
  /* 9 dims repeated twice: 18 walk dims, more than one strided copy takes */
  int32_t sz[9], osz[9];
  int64_t reps[9];
  for (int d = 0; d < 9; d++) {
    sz[d] = 2;
    osz[d] = 4;
    reps[d] = 2;
  }
  et_tensor *big = iota(kt_tensor(ET_INT, 9, sz)), *bo = kt_tensor(ET_INT, 9, osz);
  KT_OK("aten::repeat.out", VT(big), kt_int_list(9, reps), VT(bo), VT(bo));
  for (size_t i = 0; i < ((size_t)1 << 18); i++) {
    int64_t want = 0;
    for (int d = 0; d < 9; d++) want = want * 2 + (int64_t)((i >> (2 * (8 - d))) & 1);
    if (((const int32_t *)bo->data)[i] != want) fail_msg("element %zu", i);
  }
  KT_FAIL(ET_INVALID_ARGUMENT, "fewer than the 2 dims", "aten::repeat.out", VT(y), VL(2), VT(yo),
          VT(yo));
  KT_FAIL(ET_INVALID_ARGUMENT, "repeats: -1 at dim 0", "aten::repeat.out", VT(y), VL(-1, 1),
          VT(yo), VT(yo));

  et_tensor *m = iota(kt_t(ET_FLOAT, 2, 3, 4)), *t = kt_t(ET_FLOAT, 2, 3, 4);
  KT_OK("aten::tril.out", VT(m), VI(0), VT(t), VT(t));
  KT_EXPECT(t, 0, 0, 0, 0, 4, 5, 0, 0, 8, 9, 10, 0); /* from torch */
  KT_OK("aten::tril.out", VT(m), VI(1), VT(t), VT(t));
  KT_EXPECT(t, 0, 1, 0, 0, 4, 5, 6, 0, 8, 9, 10, 11);
  KT_OK("aten::tril.out", VT(m), VI(-2), VT(t), VT(t));
  KT_EXPECT(t, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0);
  KT_OK("aten::tril.out", VT(m), VI(INT64_MAX), VT(t), VT(t));
  kt_expect_tensors_close(t, m, 0, 0);
  KT_OK("aten::tril.out", VT(m), VI(INT64_MIN), VT(t), VT(t));
  KT_EXPECT(t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  /* batched, transposed in and out, Bool */
  et_tensor *b = kt_ord(kt_t(ET_BOOL, 3, 2, 2, 2), 2, 1, 0), *bt = kt_ord(kt_t(ET_BOOL, 3, 2, 2, 2), 1, 2, 0);
  for (size_t i = 0; i < 8; i++) kt_seti(b, i, 1);
  KT_OK("aten::tril.out", VT(b), VI(0), VT(bt), VT(bt));
  KT_EXPECT(bt, 1, 0, 1, 1, 1, 0, 1, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "at least 2 dims", "aten::tril.out", VT(kt_t(ET_FLOAT, 1, 3)),
          VI(0), VT(t), VT(t));
}

/* ---- factories -------------------------------------------------------------------- */

static void test_factories(void **state) {
  (void)state;
  et_tensor *e = kt_dynamic(kt_t(ET_FLOAT, 2, 1, 1), 32);
  KT_OK("aten::empty.out", VL(3, 4), VN(), VT(e), VT(e));
  KT_SHAPE(e, 2, 3, 4);
  KT_OK("aten::empty.out", VL(2, 0), VI(0), VT(e), VT(e));
  KT_SHAPE(e, 2, 2, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "channels_last", "aten::empty.out", VL(3, 4), VI(2), VT(e), VT(e));
  KT_FAIL(ET_INVALID_ARGUMENT, "negative size", "aten::empty.out", VL(-1, 4), VN(), VT(e), VT(e));
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot resize", "aten::empty.out", VL(5, 7), VN(), VT(e), VT(e));
  et_tensor *cl = kt_ord(kt_t(ET_FLOAT, 4, 1, 2, 2, 2), 0, 2, 3, 1);
  KT_OK("dim_order_ops::_empty_dim_order.out", VL(1, 2, 2, 2), VL(0, 2, 3, 1), VT(cl), VT(cl));
  KT_FAIL(ET_INVALID_ARGUMENT, "dim_order is None", "dim_order_ops::_empty_dim_order.out",
          VL(1, 2, 2, 2), VN(), VT(cl), VT(cl));
  KT_FAIL(ET_INVALID_ARGUMENT, "dim_order: entry 1", "dim_order_ops::_empty_dim_order.out",
          VL(1, 2, 2, 2), VL(0, 1, 2, 3), VT(cl), VT(cl));
  et_tensor *odd = kt_ord(kt_t(ET_FLOAT, 3, 2, 2, 2), 2, 0, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "only contiguous and channels-last",
          "dim_order_ops::_empty_dim_order.out", VL(2, 2, 2), VL(2, 0, 1), VT(odd), VT(odd));
  et_tensor *c = kt_t(ET_FLOAT, 2, 2, 2);
  KT_OK("dim_order_ops::_empty_dim_order.out", VL(2, 2), VN(), VT(c), VT(c));

  et_tensor *z = kt_dynamic(kt_t(ET_HALF, 1, 1), 8);
  kt_set(z, 0, 5);
  KT_OK("aten::zeros.out", VL(3), VT(z), VT(z));
  KT_EXPECT(z, 0, 0, 0);
  et_tensor *one = kt_t(ET_BFLOAT16, 2, 2, 2);
  KT_OK("aten::ones.out", VL(2, 2), VT(one), VT(one));
  KT_EXPECT(one, 1, 1, 1, 1);
  et_tensor *ob = kt_t0(ET_BOOL);
  KT_OK("aten::ones.out", VL0(), VT(ob), VT(ob));
  KT_EXPECT(ob, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "aten::zeros.out", VL(4), VT(kt_t(ET_INT, 1, 3)),
          VT(z));

  /* fill: c10's overflow rule for scalars; tensors cast without checks */
  et_tensor *x = kt_t(ET_CHAR, 1, 3), *o = kt_t(ET_CHAR, 1, 3);
  KT_OK("aten::fill.Scalar_out", VT(x), VI(-128), VT(o), VT(o));
  KT_EXPECT(o, -128, -128, -128);
  KT_OK("aten::fill.Scalar_out", VT(x), VD(2.7), VT(o), VT(o));
  KT_EXPECT(o, 2, 2, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "300 cannot be converted to dtype Char without overflow",
          "aten::fill.Scalar_out", VT(x), VI(300), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::fill.Scalar_out", VT(x), VD(NAN), VT(o),
          VT(o));
  KT_OK("aten::fill.Tensor_out", VT(x), VT(kt_vals(kt_t0(ET_LONG), 300)), VT(o), VT(o));
  KT_EXPECT(o, 44, 44, 44); /* from torch */
  et_tensor *u = kt_t(ET_BYTE, 1, 2), *uo = kt_t(ET_BYTE, 1, 2);
  KT_OK("aten::fill.Scalar_out", VT(u), VI(-255), VT(uo), VT(uo));
  KT_EXPECT(uo, 1, 1); /* from torch: Byte wraps -255..-1 */
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::fill.Scalar_out", VT(u), VI(-256),
          VT(uo), VT(uo));
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::fill.Scalar_out", VT(u), VD(-1.0),
          VT(uo), VT(uo));
  et_tensor *h = kt_t(ET_HALF, 1, 2), *ho = kt_t(ET_HALF, 1, 2);
  KT_OK("aten::fill.Scalar_out", VT(h), VD(INFINITY), VT(ho), VT(ho));
  KT_EXPECT(ho, INFINITY, INFINITY);
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::fill.Scalar_out", VT(h), VD(1e6),
          VT(ho), VT(ho));
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::fill.Scalar_out", VT(h), VI(70000),
          VT(ho), VT(ho));
  et_tensor *bb = kt_t(ET_BOOL, 1, 2), *bo = kt_t(ET_BOOL, 1, 2);
  KT_OK("aten::fill.Scalar_out", VT(bb), VI(2), VT(bo), VT(bo)); /* anything converts to Bool */
  KT_EXPECT(bo, 1, 1);
  et_tensor *f = kt_t(ET_FLOAT, 1, 2), *fo = kt_t(ET_FLOAT, 1, 2);
  KT_FAIL(ET_INVALID_ARGUMENT, "without overflow", "aten::fill.Scalar_out", VT(f), VD(1e300),
          VT(fo), VT(fo));
  KT_FAIL(ET_INVALID_ARGUMENT, "0-dim", "aten::fill.Tensor_out", VT(f), VT(kt_t(ET_FLOAT, 1, 1)),
          VT(fo), VT(fo));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::fill.Scalar_out", VT(f), VI(1), VT(o), VT(o));
}

static void test_rand(void **state) {
  (void)state;
  const int dts[4] = {ET_FLOAT, ET_DOUBLE, ET_HALF, ET_BFLOAT16};
  for (int k = 0; k < 4; k++) {
    et_tensor *u = kt_dynamic(kt_t(dts[k], 2, 1, 1), 4096);
    KT_OK("aten::rand.out", VL(64, 64), VT(u), VT(u));
    KT_SHAPE(u, 2, 64, 64);
    double sum = 0, lo = 1, hi = 0;
    size_t below_half = 0, distinct_first = 0;
    for (size_t i = 0; i < 4096; i++) {
      const double v = kt_get(u, i);
      assert_true(v >= 0 && v < 1);
      sum += v;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
      below_half += v < 0.5;
      if (i > 0 && v != kt_get(u, i - 1)) distinct_first++;
    }
    assert_true(fabs(sum / 4096 - 0.5) < 0.02);            /* mean 1/2, sd 0.0045 */
    assert_true(below_half > 1900 && below_half < 2196);   /* about half */
    assert_true(lo < 0.01 && hi > 0.99);
    assert_true(distinct_first > 3900);
    /* same call, same values (counter-based, fixed seed) */
    et_tensor *u2 = kt_dynamic(kt_t(dts[k], 2, 1, 1), 4096);
    KT_OK("aten::rand.out", VL(64, 64), VT(u2), VT(u2));
    kt_expect_tensors_close(u2, u, 0, 0);

    et_tensor *g = kt_dynamic(kt_t(dts[k], 1, 1), 8192);
    KT_OK("aten::randn.out", VL(8192), VT(g), VT(g));
    double s1 = 0, s2 = 0;
    size_t within1 = 0;
    for (size_t i = 0; i < 8192; i++) {
      const double v = kt_get(g, i);
      assert_true(isfinite(v) && fabs(v) < 7);
      s1 += v;
      s2 += v * v;
      within1 += fabs(v) < 1;
    }
    const double mean = s1 / 8192, var = s2 / 8192 - mean * mean;
    assert_true(fabs(mean) < 0.05);       /* sd of the mean 0.011 */
    assert_true(fabs(var - 1) < 0.06);    /* sd of the variance 0.016 */
    assert_true(within1 > 8192 * 0.66 && within1 < 8192 * 0.705); /* 68.3% */
  }
  et_tensor *e = kt_dynamic(kt_t(ET_FLOAT, 1, 1), 4);
  KT_OK("aten::rand.out", VL(0), VT(e), VT(e));
  KT_SHAPE(e, 1, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::rand.out", VL(2), VT(kt_t(ET_INT, 1, 2)),
          VT(e));
  KT_FAIL(ET_INVALID_ARGUMENT, "floating", "aten::randn.out", VL(2), VT(kt_t(ET_LONG, 1, 2)),
          VT(e));
  KT_FAIL(ET_INVALID_ARGUMENT, "negative size", "aten::randn.out", VL(-2), VT(e), VT(e));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_copy_out_and_identity, kt_free_all),
      cmocka_unit_test_teardown(test_as_strided, kt_free_all),
      cmocka_unit_test_teardown(test_view_as_real, kt_free_all),
      cmocka_unit_test_teardown(test_transposes, kt_free_all),
      cmocka_unit_test_teardown(test_select_slice_scatter, kt_free_all),
      cmocka_unit_test_teardown(test_narrow_split_unbind, kt_free_all),
      cmocka_unit_test_teardown(test_unfold_diagonal, kt_free_all),
      cmocka_unit_test_teardown(test_stack_flip, kt_free_all),
      cmocka_unit_test_teardown(test_roll, kt_free_all),
      cmocka_unit_test_teardown(test_repeat_tril, kt_free_all),
      cmocka_unit_test_teardown(test_factories, kt_free_all),
      cmocka_unit_test_teardown(test_rand, kt_free_all),
  };
  return cmocka_run_group_tests_name("kernels_shape2", tests, NULL, NULL);
}
