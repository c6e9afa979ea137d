/*
 * Portable kernels: indexing by data. index_put(_), index_select, scatter,
 * scatter_add, masked_scatter, masked_select, nonzero, repeat_interleave.
 * Expected values come from PyTorch eager (noted where not obvious); every
 * kernel is also driven out of range (negative and too-large indices,
 * wrong dtypes, shapes that do not fit) and through empty tensors.
 */
#include "test_kernels.h"

/* 0, 1, 2, ... in every logical position */
static et_tensor *iota(et_tensor *t) {
  for (size_t i = 0; i < et_tensor_numel(t); i++) kt_set(t, i, (double)i);
  return t;
}

/* An optional-tensor list; NULL items are None. */
static et_value *kt_opt_list(size_t n, et_value *const *items) {
  et_value *v = kt_v(ET_TAG_LIST_OPTIONAL_TENSOR);
  et_value **arr = (et_value **)kt_alloc(sizeof(et_value *) * (n ? n : 1));
  for (size_t i = 0; i < n; i++) arr[i] = items[i];
  v->u.tlist.items = arr;
  v->u.tlist.len = n;
  return v;
}
#define OL(...)                                                                          \
  kt_opt_list(sizeof((et_value *const[]){__VA_ARGS__}) / sizeof(et_value *),             \
              (et_value *const[]){__VA_ARGS__})
#define OL0() kt_opt_list(0, NULL)

#define IPUT "aten::index_put.out"

/* ---- index_put -------------------------------------------------------------- */

static void test_index_put_basic(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 2, 3, 4));
  et_tensor *out = kt_t(ET_FLOAT, 2, 3, 4);
  /* rows 2 and 0 (a negative index counts from the end) */
  et_tensor *i0 = kt_vals(kt_t(ET_LONG, 1, 2), -1, 0);
  et_tensor *v = kt_vals(kt_t(ET_FLOAT, 2, 2, 4), 10, 11, 12, 13, 20, 21, 22, 23);
  KT_OK(IPUT, VT(x), OL(VT(i0)), VT(v), VB(false), VT(out), VT(out));
  KT_EXPECT(out, 20, 21, 22, 23, 4, 5, 6, 7, 10, 11, 12, 13);
  KT_EXPECT(x, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11); /* self untouched */
  /* x[[0, 2], [1, 3]] = 0-dim value (Int indices, broadcast value) */
  et_tensor *a = kt_vals(kt_t(ET_INT, 1, 2), 0, 2), *b = kt_vals(kt_t(ET_INT, 1, 2), 1, 3);
  et_tensor *s = kt_vals(kt_t0(ET_FLOAT), -1);
  KT_OK(IPUT, VT(x), OL(VT(a), VT(b)), VT(s), VB(false), VT(out), VT(out));
  KT_EXPECT(out, 0, -1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -1);
  /* the index tensors broadcast: [[0], [2]] with [1, 3] writes four places */
  et_tensor *c = kt_vals(kt_t(ET_LONG, 2, 2, 1), 0, 2);
  KT_OK(IPUT, VT(x), OL(VT(c), VT(b)), VT(kt_vals(kt_t(ET_FLOAT, 1, 2), 7, 8)), VB(false),
        VT(out), VT(out));
  KT_EXPECT(out, 0, 7, 2, 8, 4, 5, 6, 7, 8, 7, 10, 8);
  /* None in front: x[:, [3, 0]] = [[..], ..] per row */
  et_tensor *cols = kt_vals(kt_t(ET_LONG, 1, 2), 3, 0);
  et_tensor *cv = kt_vals(kt_t(ET_FLOAT, 2, 3, 2), 1, 2, 3, 4, 5, 6);
  KT_OK(IPUT, VT(x), OL(NULL, VT(cols)), VT(cv), VB(false), VT(out), VT(out));
  KT_EXPECT(out, 2, 1, 2, 1, 4, 5, 6, 3, 6, 9, 10, 5);
  /* no index tensors at all: values broadcast over self */
  KT_OK(IPUT, VT(x), OL0(), VT(kt_vals(kt_t(ET_FLOAT, 1, 4), 1, 2, 3, 4)), VB(false), VT(out),
        VT(out));
  KT_EXPECT(out, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4);
  KT_OK(IPUT, VT(x), OL(NULL, NULL), VT(kt_vals(kt_t0(ET_FLOAT), 1)), VB(true), VT(out), VT(out));
  KT_EXPECT(out, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
}

static void test_index_put_advanced(void **state) {
  (void)state;
  et_tensor *x3 = iota(kt_t(ET_FLOAT, 3, 2, 3, 4));
  et_tensor *o3 = kt_t(ET_FLOAT, 3, 2, 3, 4);
  /* separated by a None: B goes first. y[[1,0], :, [3,-1]] = -arange(6).view(2,3) - 1 */
  et_tensor *j0 = kt_vals(kt_t(ET_LONG, 1, 2), 1, 0), *j2 = kt_vals(kt_t(ET_LONG, 1, 2), 3, -1);
  et_tensor *v = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), -1, -2, -3, -4, -5, -6);
  KT_OK(IPUT, VT(x3), OL(VT(j0), NULL, VT(j2)), VT(v), VB(false), VT(o3), VT(o3));
  KT_EXPECT(o3, 0, 1, 2, -4, 4, 5, 6, -5, 8, 9, 10, -6, 12, 13, 14, -1, 16, 17, 18, -2, 20, 21,
            22, -3); /* from torch */
  /* a Bool mask over dims 1 and 2: y[:, m] = [[-1, -2, -3]] */
  et_tensor *m = kt_vals(kt_t(ET_BOOL, 2, 3, 4), 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0);
  KT_OK(IPUT, VT(x3), OL(NULL, VT(m)), VT(kt_vals(kt_t(ET_FLOAT, 2, 1, 3), -1, -2, -3)),
        VB(false), VT(o3), VT(o3));
  KT_EXPECT(o3, -1, 1, 2, -2, 4, 5, 6, 7, 8, -3, 10, 11, -1, 13, 14, -2, 16, 17, 18, 19, 20, -3,
            22, 23); /* from torch */
  /* a mask combined with an index tensor: y[[0, 2], m] = [100, 200] */
  et_tensor *x = iota(kt_t(ET_FLOAT, 2, 3, 4));
  et_tensor *out = kt_t(ET_FLOAT, 2, 3, 4);
  et_tensor *rows = kt_vals(kt_t(ET_LONG, 1, 2), 0, 2);
  et_tensor *bm = kt_vals(kt_t(ET_BYTE, 1, 4), 0, 1, 0, 7); /* Byte masks: non-zero is true */
  KT_OK(IPUT, VT(x), OL(VT(rows), VT(bm)), VT(kt_vals(kt_t(ET_FLOAT, 1, 2), 100, 200)),
        VB(false), VT(out), VT(out));
  KT_EXPECT(out, 0, 100, 2, 3, 4, 5, 6, 7, 8, 9, 10, 200); /* from torch */
  /* a mask over all dims, non-contiguous (a transposed layout) */
  et_tensor *mt = kt_ord(kt_t(ET_BOOL, 2, 3, 4), 1, 0);
  kt_seti(mt, 1, 1);
  kt_seti(mt, 4, 1);
  kt_seti(mt, 11, 1);
  KT_OK(IPUT, VT(x), OL(VT(mt)), VT(kt_vals(kt_t(ET_FLOAT, 1, 3), -1, -2, -3)), VB(false),
        VT(out), VT(out));
  KT_EXPECT(out, 0, -1, 2, 3, -2, 5, 6, 7, 8, 9, 10, -3);
  /* an all-false mask and an empty index change nothing */
  KT_OK(IPUT, VT(x), OL(VT(kt_t(ET_BOOL, 2, 3, 4))), VT(kt_vals(kt_t0(ET_FLOAT), 5)), VB(false),
        VT(out), VT(out));
  kt_expect_tensors_close(out, x, 0, 0);
  KT_OK(IPUT, VT(x), OL(VT(kt_t(ET_LONG, 1, 0))), VT(kt_vals(kt_t0(ET_FLOAT), 5)), VB(false),
        VT(out), VT(out));
  kt_expect_tensors_close(out, x, 0, 0);
  /* channels-last self and out (4-D): x[0, :, 1] = 9 touches the right elements */
  et_tensor *cl = iota(kt_ord(kt_t(ET_INT, 4, 2, 3, 2, 2), 0, 2, 3, 1));
  et_tensor *clo = kt_ord(kt_t(ET_INT, 4, 2, 3, 2, 2), 0, 2, 3, 1);
  KT_OK(IPUT, VT(cl), OL(VT(kt_vals(kt_t0(ET_LONG), 0)), NULL, VT(kt_vals(kt_t0(ET_LONG), 1))),
        VT(kt_vals(kt_t0(ET_INT), -9)), VB(false), VT(clo), VT(clo));
  for (size_t i = 0; i < 24; i++) {
    const size_t n = i / 12, h = (i / 2) % 2;
    assert_int_equal(kt_geti(clo, i), (n == 0 && h == 1) ? -9 : (int64_t)i);
  }
}

static void test_index_put_accumulate(void **state) {
  (void)state;
  /* duplicates add up */
  et_tensor *z = kt_t(ET_FLOAT, 1, 4), *zo = kt_t(ET_FLOAT, 1, 4);
  et_tensor *dup = kt_vals(kt_t(ET_LONG, 1, 3), 0, 0, 2);
  KT_OK(IPUT, VT(z), OL(VT(dup)), VT(kt_vals(kt_t(ET_FLOAT, 1, 3), 1, 2, 3)), VB(true), VT(zo),
        VT(zo));
  KT_EXPECT(zo, 3, 0, 3, 0);
  /* Char wraps: 127 + 1 = -128 (from torch) */
  et_tensor *c = kt_vals(kt_t(ET_CHAR, 1, 2), 127, 0), *co = kt_t(ET_CHAR, 1, 2);
  KT_OK(IPUT, VT(c), OL(VT(kt_vals(kt_t(ET_INT, 1, 1), 0))), VT(kt_vals(kt_t(ET_CHAR, 1, 1), 1)),
        VB(true), VT(co), VT(co));
  KT_EXPECT(co, -128, 0);
  /* Half rounds after each addition: 2048 + 1 + 1 stays 2048 (from torch) */
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 2), 2048, 0), *ho = kt_t(ET_HALF, 1, 2);
  KT_OK(IPUT, VT(h), OL(VT(kt_vals(kt_t(ET_LONG, 1, 2), 0, -2))),
        VT(kt_vals(kt_t(ET_HALF, 1, 2), 1, 1)), VB(true), VT(ho), VT(ho));
  KT_EXPECT(ho, 2048, 0);
  /* Bool ors; Long rows with a row block of values */
  et_tensor *b = kt_vals(kt_t(ET_BOOL, 1, 3), 1, 0, 0), *bo = kt_t(ET_BOOL, 1, 3);
  KT_OK(IPUT, VT(b), OL(VT(kt_vals(kt_t(ET_LONG, 1, 3), 0, 0, 1))),
        VT(kt_vals(kt_t(ET_BOOL, 1, 3), 1, 1, 1)), VB(true), VT(bo), VT(bo));
  KT_EXPECT(bo, 1, 1, 0);
  et_tensor *l = iota(kt_t(ET_LONG, 2, 3, 2)), *lo = kt_t(ET_LONG, 2, 3, 2);
  KT_OK(IPUT, VT(l), OL(VT(kt_vals(kt_t(ET_LONG, 1, 3), 1, 1, 0))),
        VT(kt_vals(kt_t(ET_LONG, 1, 2), 10, 100)), VB(true), VT(lo), VT(lo));
  KT_EXPECT(lo, 10, 101, 22, 203, 4, 5);
}

static void test_index_put_inplace(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_DOUBLE, 2, 2, 3));
  et_value *ret = VT(kt_t(ET_DOUBLE, 2, 2, 3));
  KT_OK("aten::index_put_", VT(x), OL(NULL, VT(kt_vals(kt_t(ET_LONG, 1, 1), -1))),
        VT(kt_vals(kt_t(ET_DOUBLE, 1, 1), 0.5)), VB(true), ret);
  KT_EXPECT(x, 0, 1, 2.5, 3, 4, 5.5);
  assert_ptr_equal(ret->u.t, x); /* the return slot is self */
  /* a constant self cannot be written */
  x->flags |= ET_TENSOR_CONSTANT;
  KT_FAIL(ET_INVALID_ARGUMENT, "constant", "aten::index_put_", VT(x), OL0(),
          VT(kt_vals(kt_t0(ET_DOUBLE), 1)), VB(false), VT(x));
  x->flags = 0;
  /* a bad index fails before anything is written */
  KT_FAIL(ET_INVALID_ARGUMENT, "indices[0]: index 2 (element 1) is out of range for dim 0 of size 2",
          "aten::index_put_", VT(x), OL(VT(kt_vals(kt_t(ET_LONG, 1, 2), 0, 2))),
          VT(kt_vals(kt_t0(ET_DOUBLE), 9)), VB(false), VT(x));
  KT_EXPECT(x, 0, 1, 2.5, 3, 4, 5.5);
}

static void test_index_put_errors(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_FLOAT, 2, 3, 4)), *out = kt_t(ET_FLOAT, 2, 3, 4);
  et_value *s = VT(kt_vals(kt_t0(ET_FLOAT), 1));
  KT_FAIL(ET_INVALID_ARGUMENT, "indices[0]: index 3 (element 1) is out of range for dim 0 of size 3",
          IPUT, VT(x), OL(VT(kt_vals(kt_t(ET_LONG, 1, 2), 0, 3))), s, VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "indices[1]: index -5 (element 0) is out of range for dim 1",
          IPUT, VT(x), OL(NULL, VT(kt_vals(kt_t(ET_INT, 1, 1), -5))), s, VB(false), VT(out),
          VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "too many indices", IPUT, VT(x),
          OL(NULL, NULL, VT(kt_t(ET_LONG, 1, 1))), s, VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "does not match self", IPUT, VT(x), OL(VT(kt_t(ET_BOOL, 1, 4))),
          s, VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "zero-dimensional mask", IPUT, VT(x), OL(VT(kt_t0(ET_BOOL))), s,
          VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "expected dtype Long, Int, Bool or Byte", IPUT, VT(x),
          OL(VT(kt_t(ET_FLOAT, 1, 1))), s, VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", IPUT, VT(x), OL(VT(kt_t(ET_LONG, 1, 1))),
          VT(kt_t0(ET_DOUBLE)), VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be broadcast to the indexing result [2, 4]", IPUT, VT(x),
          OL(VT(kt_t(ET_LONG, 1, 2))), VT(kt_t(ET_FLOAT, 1, 3)), VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "shape mismatch", IPUT, VT(x),
          OL(VT(kt_t(ET_LONG, 1, 2)), VT(kt_t(ET_LONG, 1, 3))), s, VB(false), VT(out), VT(out));
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", IPUT, VT(x), OL0(), s, VB(false),
          VT(kt_t(ET_FLOAT, 2, 4, 3)), VT(out));
}

/* ---- index_select ------------------------------------------------------------ */

static void test_index_select(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_BFLOAT16, 2, 3, 4));
  et_tensor *o = kt_dynamic(kt_t(ET_BFLOAT16, 2, 3, 4), 32);
  KT_OK("aten::index_select.out", VT(x), VI(1), VT(kt_vals(kt_t(ET_INT, 1, 3), 3, 0, 3)), VT(o),
        VT(o));
  KT_SHAPE(o, 2, 3, 3);
  KT_EXPECT(o, 3, 0, 3, 7, 4, 7, 11, 8, 11);
  KT_OK("aten::index_select.out", VT(x), VI(-2), VT(kt_vals(kt_t0(ET_LONG), 2)), VT(o), VT(o));
  KT_SHAPE(o, 2, 1, 4);
  KT_EXPECT(o, 8, 9, 10, 11);
  KT_OK("aten::index_select.out", VT(x), VI(0), VT(kt_t(ET_LONG, 1, 0)), VT(o), VT(o));
  KT_SHAPE(o, 2, 0, 4);
  /* into a transposed out */
  et_tensor *ot = kt_ord(kt_t(ET_BFLOAT16, 2, 2, 4), 1, 0);
  KT_OK("aten::index_select.out", VT(x), VI(0), VT(kt_vals(kt_t(ET_LONG, 1, 2), 2, 1)), VT(ot),
        VT(ot));
  KT_EXPECT(ot, 8, 9, 10, 11, 4, 5, 6, 7);
  /* a 0-dim self takes the single index 0 */
  et_tensor *s = kt_vals(kt_t0(ET_SHORT), 5), *so = kt_t0(ET_SHORT);
  KT_OK("aten::index_select.out", VT(s), VI(0), VT(kt_vals(kt_t(ET_LONG, 1, 1), 0)), VT(so),
        VT(so));
  KT_EXPECT(so, 5);
  KT_FAIL(ET_INVALID_ARGUMENT, "exactly one index", "aten::index_select.out", VT(s), VI(0),
          VT(kt_t(ET_LONG, 1, 2)), VT(so), VT(so));
  /* PyTorch refuses negative indices here */
  KT_FAIL(ET_INVALID_ARGUMENT, "index: index -1 (element 1) is out of range for dim 1 of size 4",
          "aten::index_select.out", VT(x), VI(1), VT(kt_vals(kt_t(ET_LONG, 1, 2), 0, -1)), VT(o),
          VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "index 3 (element 0) is out of range for dim 0 of size 3",
          "aten::index_select.out", VT(x), VI(0), VT(kt_vals(kt_t(ET_INT, 1, 1), 3)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "expected rank 0 or 1", "aten::index_select.out", VT(x), VI(0),
          VT(kt_t(ET_LONG, 2, 1, 1)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "expected dtype Long or Int", "aten::index_select.out", VT(x),
          VI(0), VT(kt_t(ET_SHORT, 1, 1)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range for rank", "aten::index_select.out", VT(x), VI(2),
          VT(kt_t(ET_LONG, 1, 1)), VT(o), VT(o));
}

/* ---- scatter ------------------------------------------------------------------ */

static void test_scatter(void **state) {
  (void)state;
  et_tensor *z = kt_t(ET_FLOAT, 2, 3, 4), *o = kt_t(ET_FLOAT, 2, 3, 4);
  et_tensor *src = kt_t(ET_FLOAT, 2, 3, 4);
  for (size_t i = 0; i < 12; i++) kt_set(src, i, (double)i + 1);
  et_tensor *idx = kt_vals(kt_t(ET_LONG, 2, 2, 4), 2, 0, 1, 0, 1, 2, 0, 2);
  KT_OK("aten::scatter.src_out", VT(z), VI(0), VT(idx), VT(src), VT(o), VT(o));
  KT_EXPECT(o, 0, 2, 7, 4, 5, 0, 3, 0, 1, 6, 0, 8); /* from torch */
  et_tensor *idx1 = kt_vals(kt_t(ET_LONG, 2, 3, 2), 3, 0, 1, 2, 0, 3);
  KT_OK("aten::scatter.src_out", VT(z), VI(-1), VT(idx1), VT(src), VT(o), VT(o));
  KT_EXPECT(o, 2, 0, 0, 1, 0, 5, 6, 0, 9, 0, 0, 10); /* from torch */
  /* value: Char, and a value that does not fit */
  et_tensor *c = kt_t(ET_CHAR, 2, 2, 3), *co = kt_t(ET_CHAR, 2, 2, 3);
  et_tensor *ci = kt_vals(kt_t(ET_LONG, 2, 2, 1), 2, 0);
  KT_OK("aten::scatter.value_out", VT(c), VI(1), VT(ci), VI(-7), VT(co), VT(co));
  KT_EXPECT(co, 0, 0, -7, -7, 0, 0);
  KT_OK("aten::scatter.value_out", VT(c), VI(1), VT(ci), VD(2.5), VT(co), VT(co));
  KT_EXPECT(co, 0, 0, 2, 2, 0, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "value: 300 cannot be converted to dtype Char without overflow",
          "aten::scatter.value_out", VT(c), VI(1), VT(ci), VI(300), VT(co), VT(co));
  /* Bool src; 0-dim self with a 1-element index */
  et_tensor *b = kt_t(ET_BOOL, 1, 3), *bo = kt_t(ET_BOOL, 1, 3);
  KT_OK("aten::scatter.src_out", VT(b), VI(0), VT(kt_vals(kt_t(ET_LONG, 1, 1), 2)),
        VT(kt_vals(kt_t(ET_BOOL, 1, 2), 1, 0)), VT(bo), VT(bo));
  KT_EXPECT(bo, 0, 0, 1);
  et_tensor *s0 = kt_vals(kt_t0(ET_DOUBLE), 1), *s0o = kt_t0(ET_DOUBLE);
  KT_OK("aten::scatter.src_out", VT(s0), VI(0), VT(kt_vals(kt_t(ET_LONG, 1, 1), 0)),
        VT(kt_vals(kt_t0(ET_DOUBLE), 5)), VT(s0o), VT(s0o));
  KT_EXPECT(s0o, 5);
  /* an empty index copies self */
  KT_OK("aten::scatter.src_out", VT(src), VI(0), VT(kt_t(ET_LONG, 2, 0, 4)), VT(z), VT(o), VT(o));
  kt_expect_tensors_close(o, src, 0, 0);
  /* errors: bounds (negative is refused, as PyTorch), ranks, sizes, dtypes */
  kt_seti(idx, 5, -1);
  KT_FAIL(ET_INVALID_ARGUMENT, "index: index -1 (element 5) is out of range for dim 0 of size 3",
          "aten::scatter.src_out", VT(z), VI(0), VT(idx), VT(src), VT(o), VT(o));
  kt_seti(idx, 5, 3);
  KT_FAIL(ET_INVALID_ARGUMENT, "index 3 (element 5)", "aten::scatter.value_out", VT(z), VI(0),
          VT(idx), VD(1), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "index 3 (element 5)", "aten::scatter_add.out", VT(z), VI(0),
          VT(idx), VT(src), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "index: expected rank 2", "aten::scatter.src_out", VT(z), VI(0),
          VT(kt_t(ET_LONG, 1, 2)), VT(src), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "must not be larger than self", "aten::scatter.src_out", VT(z),
          VI(0), VT(kt_t(ET_LONG, 2, 1, 5)), VT(kt_t(ET_FLOAT, 2, 1, 5)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "nor larger than src", "aten::scatter.src_out", VT(z), VI(0),
          VT(kt_t(ET_LONG, 2, 3, 4)), VT(kt_t(ET_FLOAT, 2, 2, 4)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "index: expected dtype Long", "aten::scatter.src_out", VT(z),
          VI(0), VT(kt_t(ET_INT, 2, 1, 1)), VT(src), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::scatter.src_out", VT(z), VI(0),
          VT(kt_t(ET_LONG, 2, 1, 1)), VT(kt_t(ET_DOUBLE, 2, 1, 1)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "out of range for rank", "aten::scatter.src_out", VT(z), VI(2),
          VT(kt_t(ET_LONG, 2, 1, 1)), VT(src), VT(o), VT(o));
}

static void test_scatter_add(void **state) {
  (void)state;
  et_tensor *one = kt_t(ET_FLOAT, 2, 3, 4), *o = kt_t(ET_FLOAT, 2, 3, 4);
  et_tensor *src = kt_t(ET_FLOAT, 2, 3, 4);
  for (size_t i = 0; i < 12; i++) {
    kt_set(one, i, 1);
    kt_set(src, i, (double)i + 1);
  }
  et_tensor *idx = kt_vals(kt_t(ET_LONG, 2, 2, 4), 0, 0, 0, 0, 0, 1, 2, 0);
  KT_OK("aten::scatter_add.out", VT(one), VI(0), VT(idx), VT(src), VT(o), VT(o));
  KT_EXPECT(o, 7, 3, 4, 13, 1, 7, 1, 1, 1, 1, 8, 1); /* from torch */
  /* Byte wraps; Bool ors */
  et_tensor *u = kt_vals(kt_t(ET_BYTE, 1, 2), 250, 0), *uo = kt_t(ET_BYTE, 1, 2);
  KT_OK("aten::scatter_add.out", VT(u), VI(0), VT(kt_vals(kt_t(ET_LONG, 1, 2), 0, 0)),
        VT(kt_vals(kt_t(ET_BYTE, 1, 2), 5, 6)), VT(uo), VT(uo));
  KT_EXPECT(uo, 5, 0);
  et_tensor *b = kt_vals(kt_t(ET_BOOL, 1, 2), 1, 0), *bo = kt_t(ET_BOOL, 1, 2);
  KT_OK("aten::scatter_add.out", VT(b), VI(0), VT(kt_vals(kt_t(ET_LONG, 1, 2), 0, 0)),
        VT(kt_vals(kt_t(ET_BOOL, 1, 2), 1, 1)), VT(bo), VT(bo));
  KT_EXPECT(bo, 1, 0);
  /* a transposed src and out: dim order must not matter */
  et_tensor *st = kt_ord(kt_t(ET_DOUBLE, 2, 2, 3), 1, 0), *ot = kt_ord(kt_t(ET_DOUBLE, 2, 2, 3), 1, 0);
  for (size_t i = 0; i < 6; i++) kt_set(st, i, (double)i);
  KT_OK("aten::scatter_add.out", VT(kt_t(ET_DOUBLE, 2, 2, 3)), VI(1),
        VT(kt_vals(kt_t(ET_LONG, 2, 2, 2), 2, 2, 0, 1)), VT(st), VT(ot), VT(ot));
  KT_EXPECT(ot, 0, 0, 1, 3, 4, 0);
}

/* ---- masked_scatter / masked_select / nonzero ------------------------------- */

static void test_masked_scatter(void **state) {
  (void)state;
  et_tensor *z = kt_t(ET_FLOAT, 2, 2, 3), *o = kt_t(ET_FLOAT, 2, 2, 3);
  et_tensor *m = kt_vals(kt_t(ET_BOOL, 1, 3), 1, 0, 1);
  et_tensor *src = kt_vals(kt_t(ET_FLOAT, 2, 3, 2), 1, 2, 3, 4, 5, 6);
  KT_OK("aten::masked_scatter.out", VT(z), VT(m), VT(src), VT(o), VT(o));
  KT_EXPECT(o, 1, 0, 2, 3, 0, 4); /* from torch */
  /* self broadcast by the mask: [3] with a [2, 1] mask gives [2, 3] */
  et_tensor *s = kt_vals(kt_t(ET_INT, 1, 3), 7, 8, 9);
  et_tensor *m2 = kt_vals(kt_t(ET_BOOL, 2, 2, 1), 0, 1);
  et_tensor *o2 = kt_t(ET_INT, 2, 2, 3);
  KT_OK("aten::masked_scatter.out", VT(s), VT(m2), VT(kt_vals(kt_t(ET_INT, 1, 4), -1, -2, -3, -4)),
        VT(o2), VT(o2));
  KT_EXPECT(o2, 7, 8, 9, -1, -2, -3);
  /* a transposed source is read in its logical order */
  et_tensor *srct = kt_ord(kt_t(ET_FLOAT, 2, 2, 2), 1, 0);
  for (size_t i = 0; i < 4; i++) kt_set(srct, i, (double)i + 1);
  KT_OK("aten::masked_scatter.out", VT(z), VT(kt_vals(kt_t(ET_BOOL, 2, 2, 3), 1, 1, 0, 0, 1, 1)),
        VT(srct), VT(o), VT(o));
  KT_EXPECT(o, 1, 2, 0, 0, 3, 4);
  /* empty mask: a copy; too small a source fails before writing */
  KT_OK("aten::masked_scatter.out", VT(src), VT(kt_t(ET_BOOL, 1, 2)), VT(kt_t(ET_FLOAT, 1, 0)),
        VT(kt_t(ET_FLOAT, 2, 3, 2)), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "source: has 1 elements, but the mask selects 4",
          "aten::masked_scatter.out", VT(z), VT(m), VT(kt_t(ET_FLOAT, 1, 1)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "mask: expected dtype Bool", "aten::masked_scatter.out", VT(z),
          VT(kt_t(ET_BYTE, 1, 3)), VT(src), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot be broadcast", "aten::masked_scatter.out", VT(z),
          VT(kt_t(ET_BOOL, 1, 2)), VT(src), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::masked_scatter.out", VT(z), VT(m),
          VT(kt_t(ET_DOUBLE, 1, 6)), VT(o), VT(o));
}

static void test_masked_select(void **state) {
  (void)state;
  et_tensor *x = iota(kt_t(ET_LONG, 2, 2, 3));
  et_tensor *o = kt_dynamic(kt_t(ET_LONG, 1, 1), 6);
  KT_OK("aten::masked_select.out", VT(x), VT(kt_vals(kt_t(ET_BOOL, 1, 3), 1, 0, 1)), VT(o), VT(o));
  KT_SHAPE(o, 1, 4);
  KT_EXPECT(o, 0, 2, 3, 5); /* from torch */
  KT_OK("aten::masked_select.out", VT(x), VT(kt_vals(kt_t(ET_BOOL, 2, 2, 1), 1, 0)), VT(o),
        VT(o));
  KT_EXPECT(o, 0, 1, 2);
  /* a 0-dim self broadcast by the mask */
  KT_OK("aten::masked_select.out", VT(kt_vals(kt_t0(ET_LONG), 9)),
        VT(kt_vals(kt_t(ET_BOOL, 1, 3), 1, 1, 0)), VT(o), VT(o));
  KT_EXPECT(o, 9, 9);
  /* empty: all-false mask, and an empty self */
  KT_OK("aten::masked_select.out", VT(x), VT(kt_t(ET_BOOL, 1, 3)), VT(o), VT(o));
  KT_SHAPE(o, 1, 0);
  KT_OK("aten::masked_select.out", VT(kt_t(ET_LONG, 2, 0, 3)), VT(kt_t(ET_BOOL, 1, 3)), VT(o),
        VT(o));
  KT_SHAPE(o, 1, 0);
  /* the result does not fit the out's capacity; a static out of the wrong size */
  et_tensor *small = kt_dynamic(kt_t(ET_LONG, 1, 1), 2);
  et_tensor *all = kt_vals(kt_t(ET_BOOL, 1, 3), 1, 1, 1);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot resize", "aten::masked_select.out", VT(x), VT(all),
          VT(small), VT(small));
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "aten::masked_select.out", VT(x), VT(all),
          VT(kt_t(ET_LONG, 1, 5)), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "mask: expected dtype Bool", "aten::masked_select.out", VT(x),
          VT(kt_t(ET_BYTE, 1, 3)), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "out: expected rank 1", "aten::masked_select.out", VT(x), VT(all),
          VT(kt_t(ET_LONG, 2, 2, 3)), VT(o));
}

static void test_nonzero(void **state) {
  (void)state;
  et_tensor *f = kt_vals(kt_t(ET_FLOAT, 2, 2, 3), 0, NAN, -0.0, 2, 0, 1);
  et_tensor *o = kt_dynamic(kt_t(ET_LONG, 2, 0, 2), 64);
  KT_OK("aten::nonzero.out", VT(f), VT(o), VT(o));
  KT_SHAPE(o, 2, 3, 2);
  KT_EXPECT(o, 0, 1, 1, 0, 1, 2); /* from torch: NaN counts, -0.0 does not */
  /* Half -0.0 and a transposed 3-D Bool input */
  et_tensor *h = kt_vals(kt_t(ET_HALF, 1, 4), -0.0, 1, 0, -2);
  et_tensor *o1 = kt_dynamic(kt_t(ET_LONG, 2, 0, 1), 8);
  KT_OK("aten::nonzero.out", VT(h), VT(o1), VT(o1));
  KT_SHAPE(o1, 2, 2, 1);
  KT_EXPECT(o1, 1, 3);
  et_tensor *b = kt_ord(kt_t(ET_BOOL, 3, 2, 2, 2), 2, 1, 0);
  kt_seti(b, 3, 1);
  kt_seti(b, 4, 1);
  et_tensor *o3 = kt_dynamic(kt_t(ET_LONG, 2, 0, 3), 24);
  KT_OK("aten::nonzero.out", VT(b), VT(o3), VT(o3));
  KT_SHAPE(o3, 2, 2, 3);
  KT_EXPECT(o3, 0, 1, 1, 1, 0, 0);
  /* 0-dim: [1, 0] or [0, 0]; empty input: [0, rank] */
  et_tensor *o0 = kt_dynamic(kt_t(ET_LONG, 2, 0, 0), 4);
  KT_OK("aten::nonzero.out", VT(kt_vals(kt_t0(ET_INT), 3)), VT(o0), VT(o0));
  KT_SHAPE(o0, 2, 1, 0);
  KT_OK("aten::nonzero.out", VT(kt_t0(ET_INT)), VT(o0), VT(o0));
  KT_SHAPE(o0, 2, 0, 0);
  KT_OK("aten::nonzero.out", VT(kt_t(ET_DOUBLE, 2, 3, 0)), VT(o), VT(o));
  KT_SHAPE(o, 2, 0, 2);
  /* does not fit: capacity, static shape, dtype and rank of out */
  et_tensor *ones = kt_vals(kt_t(ET_BYTE, 1, 5), 1, 1, 1, 1, 1);
  et_tensor *small = kt_dynamic(kt_t(ET_LONG, 2, 0, 1), 4);
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot resize", "aten::nonzero.out", VT(ones), VT(small),
          VT(small));
  KT_FAIL(ET_INVALID_ARGUMENT, "static output shape", "aten::nonzero.out", VT(ones),
          VT(kt_t(ET_LONG, 2, 4, 1)), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "out: expected dtype Long", "aten::nonzero.out", VT(ones),
          VT(kt_dynamic(kt_t(ET_INT, 2, 0, 1), 8)), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "out: expected rank 2", "aten::nonzero.out", VT(ones),
          VT(kt_dynamic(kt_t(ET_LONG, 1, 0), 8)), VT(o));
}

static void test_repeat_interleave(void **state) {
  (void)state;
  et_tensor *r = kt_vals(kt_t(ET_LONG, 1, 3), 1, 2, 0);
  et_tensor *o = kt_dynamic(kt_t(ET_LONG, 1, 0), 8);
  KT_OK("aten::repeat_interleave.Tensor_out", VT(r), VN(), VT(o), VT(o));
  KT_SHAPE(o, 1, 3);
  KT_EXPECT(o, 0, 1, 1);
  et_tensor *ri = kt_vals(kt_t(ET_INT, 1, 4), 0, 3, 0, 2);
  et_tensor *oi = kt_dynamic(kt_t(ET_INT, 1, 0), 8);
  KT_OK("aten::repeat_interleave.Tensor_out", VT(ri), VI(5), VT(oi), VT(oi));
  KT_EXPECT(oi, 1, 1, 1, 3, 3);
  KT_OK("aten::repeat_interleave.Tensor_out", VT(kt_t(ET_INT, 1, 0)), VN(), VT(oi), VT(oi));
  KT_SHAPE(oi, 1, 0);
  KT_FAIL(ET_INVALID_ARGUMENT, "output_size 4 does not match the sum of repeats 5",
          "aten::repeat_interleave.Tensor_out", VT(ri), VI(4), VT(oi), VT(oi));
  kt_seti(ri, 2, -1);
  KT_FAIL(ET_INVALID_ARGUMENT, "repeats: value -1 (element 2) is negative",
          "aten::repeat_interleave.Tensor_out", VT(ri), VN(), VT(oi), VT(oi));
  KT_FAIL(ET_INVALID_ARGUMENT, "repeats: expected rank 1", "aten::repeat_interleave.Tensor_out",
          VT(kt_vals(kt_t0(ET_LONG), 3)), VN(), VT(o), VT(o));
  KT_FAIL(ET_INVALID_ARGUMENT, "same dtype", "aten::repeat_interleave.Tensor_out", VT(r), VN(),
          VT(oi), VT(oi));
  KT_FAIL(ET_INVALID_ARGUMENT, "cannot resize", "aten::repeat_interleave.Tensor_out",
          VT(kt_vals(kt_t(ET_LONG, 1, 1), 9)), VN(), VT(o), VT(o));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_index_put_basic, kt_free_all),
      cmocka_unit_test_teardown(test_index_put_advanced, kt_free_all),
      cmocka_unit_test_teardown(test_index_put_accumulate, kt_free_all),
      cmocka_unit_test_teardown(test_index_put_inplace, kt_free_all),
      cmocka_unit_test_teardown(test_index_put_errors, kt_free_all),
      cmocka_unit_test_teardown(test_index_select, kt_free_all),
      cmocka_unit_test_teardown(test_scatter, kt_free_all),
      cmocka_unit_test_teardown(test_scatter_add, kt_free_all),
      cmocka_unit_test_teardown(test_masked_scatter, kt_free_all),
      cmocka_unit_test_teardown(test_masked_select, kt_free_all),
      cmocka_unit_test_teardown(test_nonzero, kt_free_all),
      cmocka_unit_test_teardown(test_repeat_interleave, kt_free_all),
  };
  return cmocka_run_group_tests_name("kernels_index", tests, NULL, NULL);
}
