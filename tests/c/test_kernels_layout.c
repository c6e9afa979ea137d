/*
 * Channels-last against contiguous: every kernel that accepts channels-last
 * tensors (util/layout_util.h) gives, for the same logical values, bit for
 * bit the result it gives for contiguous tensors.
 *
 * Each case builds its tensors through mk()/mko(); a layout mask says which
 * of them (in creation order, rank 4 and 5 only) are channels-last. A case
 * runs once with every tensor contiguous (the reference) and then under
 * several masks (all channels-last, alternate tensors, inputs only), and
 * each output is compared element by element, as bytes. Shapes are not
 * symmetric (H != W, C != H), so reading NCHW as NHWC cannot pass.
 */
#include "test_kernels.h"

#define MAX_OUTS 4

static uint32_t g_mask; /* bit k: the k-th tensor made is channels-last */
static uint32_t g_made;
static et_tensor *g_outs[MAX_OUTS];
static int g_nouts;

static et_tensor *layout(et_tensor *t) {
  const bool cl = (g_mask >> (g_made++ % 32)) & 1u;
  if (cl && t->rank == 4) kt_ord(t, 0, 2, 3, 1);
  if (cl && t->rank == 5) kt_ord(t, 0, 2, 3, 4, 1);
  return t;
}

/* An input with deterministic values in [-1, 1) (the same logical values
 * whatever the layout). */
static et_tensor *mk(int dtype, uint32_t rank, const int32_t *sizes, uint32_t seed) {
  return kt_random(layout(kt_tensor(dtype, rank, sizes)), seed);
}
#define MK(dtype, seed, rank, ...) mk((dtype), (rank), (const int32_t[]){__VA_ARGS__}, (seed))

/* An input of small integers (for integer dtypes). */
static et_tensor *mki(int dtype, uint32_t rank, const int32_t *sizes, uint32_t seed) {
  et_tensor *t = layout(kt_tensor(dtype, rank, sizes));
  uint32_t s = seed * 2654435761u + 7u;
  for (size_t i = 0; i < et_tensor_numel(t); i++) {
    s = s * 1664525u + 1013904223u;
    kt_seti(t, i, (int64_t)((s >> 16) % 9) - 4);
  }
  return t;
}
#define MKI(dtype, seed, rank, ...) mki((dtype), (rank), (const int32_t[]){__VA_ARGS__}, (seed))

/* An output (compared after the call). */
static et_tensor *mko(int dtype, uint32_t rank, const int32_t *sizes) {
  et_tensor *t = layout(kt_tensor(dtype, rank, sizes));
  assert_true(g_nouts < MAX_OUTS);
  g_outs[g_nouts++] = t;
  return t;
}
#define MKO(dtype, rank, ...) mko((dtype), (rank), (const int32_t[]){__VA_ARGS__})

static void same_bits(const et_tensor *got, const et_tensor *want, const char *what,
                      uint32_t mask, int k) {
  assert_int_equal(got->rank, want->rank);
  for (uint32_t d = 0; d < got->rank; d++) assert_int_equal(got->sizes[d], want->sizes[d]);
  const size_t es = et_dtype_size(got->dtype), n = et_tensor_numel(got);
  for (size_t i = 0; i < n; i++) {
    const char *a = (const char *)got->data + kt_offset(got, i) * es;
    const char *b = (const char *)want->data + kt_offset(want, i) * es;
    if (memcmp(a, b, es) != 0)
      fail_msg("%s, layout mask 0x%x, output %d, element %zu: %.9g, contiguous %.9g", what,
               (unsigned)mask, k, i, kt_get(got, i), kt_get(want, i));
  }
}

typedef void (*case_fn)(int variant);

/* Run `fn` contiguous, then under each mask; compare outputs bit for bit. */
static void check_layouts(const char *what, case_fn fn, int variant) {
  static const uint32_t masks[] = {0xffffffffu, 0x55555555u, 0xaaaaaaaau, 0x1u, 0x2u};
  g_mask = 0, g_made = 0, g_nouts = 0;
  fn(variant);
  et_tensor *ref[MAX_OUTS];
  const int nref = g_nouts;
  for (int k = 0; k < nref; k++) ref[k] = g_outs[k];
  for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++) {
    g_mask = masks[m], g_made = 0, g_nouts = 0;
    fn(variant);
    assert_int_equal(g_nouts, nref);
    for (int k = 0; k < nref; k++) same_bits(g_outs[k], ref[k], what, masks[m], k);
  }
  const size_t keep = kt_scratch_size;
  kt_free_all(NULL);
  kt_scratch_size = keep;
}

/* ---- convolution ------------------------------------------------------------ */

static const int conv_dtypes[] = {ET_FLOAT, ET_DOUBLE, ET_HALF, ET_BFLOAT16, ET_LONG, ET_INT};

static et_tensor *any_in(int dtype, uint32_t seed, uint32_t rank, const int32_t *sizes) {
  return et_dtype_is_floating(dtype) ? mk(dtype, rank, sizes, seed)
                                     : mki(dtype, rank, sizes, seed);
}
#define ANY(dtype, seed, rank, ...) any_in((dtype), (seed), (rank), (const int32_t[]){__VA_ARGS__})

static void conv2d_case(int v) {
  const int dt = conv_dtypes[v % 6];
  et_tensor *x = ANY(dt, 1, 4, 2, 5, 7, 6);
  et_tensor *w = ANY(dt, 2, 4, 4, 5, 3, 2);
  et_tensor *b = ANY(dt, 3, 1, 4);
  et_tensor *o = MKO(dt, 4, 2, 4, 4, 4);
  KT_OK("aten::convolution.out", VT(x), VT(w), VT(b), VL(2, 1), VL(1, 0), VL(1, 2), VB(false),
        VL(0, 0), VI(1), VT(o), VT(o));
}

static void conv_pointwise_case(int v) {
  const int dt = conv_dtypes[v % 6];
  et_tensor *x = ANY(dt, 4, 4, 2, 6, 3, 5);
  et_tensor *w = ANY(dt, 5, 4, 7, 6, 1, 1);
  et_tensor *o = MKO(dt, 4, 2, 7, 3, 5);
  KT_OK("aten::convolution.out", VT(x), VT(w), VN(), VL(1, 1), VL(0, 0), VL(1, 1), VB(false),
        VL(0, 0), VI(1), VT(o), VT(o));
}

static void conv_depthwise_case(int v) {
  const int dt = conv_dtypes[v % 6];
  et_tensor *x = ANY(dt, 6, 4, 1, 6, 9, 7);
  et_tensor *w = ANY(dt, 7, 4, 6, 1, 3, 3);
  et_tensor *b = ANY(dt, 8, 1, 6);
  et_tensor *o = MKO(dt, 4, 1, 6, 5, 4);
  KT_OK("aten::convolution.out", VT(x), VT(w), VT(b), VL(2, 2), VL(1, 1), VL(1, 1), VB(false),
        VL(0, 0), VI(6), VT(o), VT(o));
}

static void convt2d_case(int v) {
  const int dt = v % 2 ? ET_HALF : (v % 3 ? ET_DOUBLE : ET_FLOAT);
  et_tensor *x = ANY(dt, 9, 4, 2, 4, 5, 3);
  et_tensor *w = ANY(dt, 10, 4, 4, 3, 3, 2);
  et_tensor *b = ANY(dt, 11, 1, 6);
  /* H: (5-1)*2 - 2 + (3-1) + 1 + 1 = 10; W: (3-1)*1 - 0 + 2*(2-1) + 0 + 1 = 5 */
  et_tensor *o = MKO(dt, 4, 2, 6, 10, 5);
  KT_OK("aten::convolution.out", VT(x), VT(w), VT(b), VL(2, 1), VL(1, 0), VL(1, 2), VB(true),
        VL(1, 0), VI(2), VT(o), VT(o));
}

static void conv3d_case(int v) {
  const int dt = v % 2 ? ET_BFLOAT16 : ET_FLOAT;
  et_tensor *x = ANY(dt, 12, 5, 1, 3, 4, 5, 6);
  et_tensor *w = ANY(dt, 13, 5, 2, 3, 2, 3, 2);
  et_tensor *b = ANY(dt, 14, 1, 2);
  et_tensor *o = MKO(dt, 5, 1, 2, 3, 3, 7);
  KT_OK("aten::convolution.out", VT(x), VT(w), VT(b), VL(1), VL(0, 0, 1), VL(1), VB(false),
        VL(0), VI(1), VT(o), VT(o));
}

static void test_convolution(void **state) {
  (void)state;
  for (int scratch = 0; scratch < 2; scratch++) {
    kt_scratch_size = scratch ? sizeof kt_scratch_buf : 0;
    for (int v = 0; v < 6; v++) {
      check_layouts("conv2d", conv2d_case, v);
      check_layouts("conv 1x1", conv_pointwise_case, v);
      check_layouts("depthwise conv", conv_depthwise_case, v);
    }
    for (int v = 0; v < 3; v++) check_layouts("transposed conv2d", convt2d_case, v);
    for (int v = 0; v < 2; v++) check_layouts("conv3d", conv3d_case, v);
  }
}

/* ---- pooling and batch norm ------------------------------------------------- */

static void maxpool_case(int v) {
  const int dt = v ? ET_LONG : ET_FLOAT;
  et_tensor *x = ANY(dt, 20, 4, 2, 3, 9, 8);
  et_tensor *o = MKO(dt, 4, 2, 3, 5, 5);
  et_tensor *ind = MKO(ET_LONG, 4, 2, 3, 5, 5);
  KT_OK("aten::max_pool2d_with_indices.out", VT(x), VL(3, 2), VL(2, 2), VL(1, 1), VL(1, 1),
        VB(false), VT(o), VT(ind), VTL(o, ind));
}

static void avgpool_case(int v) {
  const int dt = v ? ET_HALF : ET_FLOAT;
  et_tensor *x = ANY(dt, 21, 4, 2, 3, 9, 8);
  /* H: ceil((9 + 2 - 3) / 2) + 1 = 5; W: (8 - 2) / 1 + 1 = 7 */
  et_tensor *o = MKO(dt, 4, 2, 3, 5, 7);
  KT_OK("aten::avg_pool2d.out", VT(x), VL(3, 2), VL(2, 1), VL(1, 0), VB(true), VB(false), VN(),
        VT(o), VT(o));
}

static void adaptive_case(int v) {
  const int dt = v ? ET_DOUBLE : ET_FLOAT;
  et_tensor *x = MK(dt, 22, 4, 2, 3, 7, 5);
  et_tensor *o = MKO(dt, 4, 2, 3, 3, 2);
  KT_OK("aten::_adaptive_avg_pool2d.out", VT(x), VL(3, 2), VT(o), VT(o));
}

static void batchnorm_case(int v) {
  const int dt = v ? ET_HALF : ET_FLOAT;
  et_tensor *x = MK(dt, 23, 4, 2, 5, 4, 3);
  et_tensor *w = MK(ET_FLOAT, 24, 1, 5), *b = MK(ET_FLOAT, 25, 1, 5);
  et_tensor *mean = MK(ET_FLOAT, 26, 1, 5), *var = kt_t(ET_FLOAT, 1, 5);
  kt_vals(var, 0.5, 1.5, 2.0, 0.25, 3.0);
  et_tensor *o = MKO(dt, 4, 2, 5, 4, 3);
  et_tensor *o1 = kt_t(dt, 1, 0), *o2 = kt_t(dt, 1, 0);
  KT_OK("aten::_native_batch_norm_legit_no_training.out", VT(x), VT(w), VT(b), VT(mean),
        VT(var), VD(0.1), VD(1e-5), VT(o), VT(o1), VT(o2), VTL(o, o1, o2));
}

static void test_pooling_and_batch_norm(void **state) {
  (void)state;
  for (int v = 0; v < 2; v++) {
    check_layouts("max_pool2d", maxpool_case, v);
    check_layouts("avg_pool2d", avgpool_case, v);
    check_layouts("adaptive_avg_pool2d", adaptive_case, v);
  }
  /* batch norm takes in and out of the same dim order */
  for (int v = 0; v < 2; v++) {
    g_mask = 0, g_made = 0, g_nouts = 0;
    batchnorm_case(v);
    et_tensor *ref = g_outs[0];
    g_mask = 0xffffffffu, g_made = 0, g_nouts = 0;
    batchnorm_case(v);
    same_bits(g_outs[0], ref, "batch norm", g_mask, 0);
  }
}

/* ---- elementwise, copies, reductions ----------------------------------------- */

static et_value *order_of(const et_tensor *t) {
  int64_t o[ET_MAX_RANK];
  for (uint32_t d = 0; d < t->rank; d++) o[d] = t->dim_order[d];
  return kt_int_list(t->rank, o);
}

static void add_case(int v) {
  et_tensor *a = MK(ET_FLOAT, 30, 4, 2, 3, 5, 4);
  /* v: the second operand broadcasts from [3, 1, 4], [2, 3, 5, 4] or [1, 3, 1, 1] */
  et_tensor *b = v == 0 ? MK(ET_FLOAT, 31, 3, 3, 1, 4)
                 : v == 1 ? MK(ET_FLOAT, 31, 4, 2, 3, 5, 4)
                          : MK(ET_FLOAT, 31, 4, 1, 3, 1, 1);
  et_tensor *o = MKO(ET_FLOAT, 4, 2, 3, 5, 4);
  KT_OK("aten::add.out", VT(a), VT(b), VD(0.5), VT(o), VT(o));
}

static void hardtanh_case(int v) {
  const int dt = v ? ET_HALF : ET_FLOAT;
  et_tensor *a = MK(dt, 32, 4, 2, 3, 5, 4);
  et_tensor *o = MKO(dt, 4, 2, 3, 5, 4);
  KT_OK("aten::hardtanh.out", VT(a), VD(-0.25), VD(0.5), VT(o), VT(o));
}

static void clone_case(int v) {
  et_tensor *a = MK(ET_FLOAT, 33, 4, 2, 3, 5, 4);
  et_tensor *o = MKO(v == 1 ? ET_DOUBLE : ET_FLOAT, 4, 2, 3, 5, 4);
  if (v == 2)
    KT_OK("aten::clone.out", VT(a), VN(), VT(o), VT(o));
  else
    KT_OK(v ? "dim_order_ops::_to_dim_order_copy.out" : "dim_order_ops::_clone_dim_order.out",
          VT(a), VB(false), order_of(o), VT(o), VT(o));
}

static void view_case(int v) {
  (void)v;
  et_tensor *a = MK(ET_FLOAT, 36, 4, 2, 3, 5, 4);
  et_tensor *o = MKO(ET_FLOAT, 4, 2, 3, 5, 4); /* same shape: one memmove when alike */
  et_tensor *f = MKO(ET_FLOAT, 2, 6, 20);
  KT_OK("aten::view_copy.out", VT(a), VL(2, 3, 5, 4), VT(o), VT(o));
  KT_OK("aten::view_copy.out", VT(a), VL(6, 20), VT(f), VT(f));
}

static void mean_case(int v) {
  et_tensor *a = MK(ET_FLOAT, 34, 4, 2, 3, 9, 7);
  et_tensor *o = v ? MKO(ET_FLOAT, 4, 2, 3, 1, 1) : MKO(ET_FLOAT, 4, 2, 1, 9, 7);
  KT_OK("aten::mean.out", VT(a), v ? VL(2, 3) : VL(1), VB(true), VN(), VT(o), VT(o));
}

static void softmax_case(int v) {
  et_tensor *a = MK(ET_FLOAT, 35, 4, 2, 3, 5, 4);
  et_tensor *o = MKO(ET_FLOAT, 4, 2, 3, 5, 4);
  KT_OK(v ? "aten::_log_softmax.out" : "aten::_softmax.out", VT(a), VI(v ? 3 : 1), VB(false),
        VT(o), VT(o));
}

static void test_elementwise_copies_reductions(void **state) {
  (void)state;
  for (int v = 0; v < 3; v++) {
    check_layouts("add", add_case, v);
    check_layouts("clone / to_dim_order_copy", clone_case, v);
  }
  check_layouts("view_copy", view_case, 0);
  for (int v = 0; v < 2; v++) {
    check_layouts("hardtanh", hardtanh_case, v);
    check_layouts("mean", mean_case, v);
    check_layouts("softmax", softmax_case, v);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_convolution, kt_free_all),
      cmocka_unit_test_teardown(test_pooling_and_batch_norm, kt_free_all),
      cmocka_unit_test_teardown(test_elementwise_copies_reductions, kt_free_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
