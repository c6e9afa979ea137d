/*
 * Helpers for the kernel tests (tests/c/test_kernels*.c): hand-built
 * tensors and values, and a call helper that looks kernels up by name in
 * et_portable_kernels (then et_quantized_kernels), checks the argument tags against the entry's
 * signature (as the runtime does at method init) and runs the kernel with a
 * diagnostic buffer.
 *
 * Hosted test code: uses malloc. Every allocation is recorded and released
 * by kt_free_all(), which the tests call from their cmocka teardown.
 */
#ifndef ET_TEST_KERNELS_H
#define ET_TEST_KERNELS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <edgetorch/kernel.h>
#include <edgetorch/status.h>
#include <edgetorch/value.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dtype_util.h"

#define KT_MAX_ALLOCS 4096
static void *kt_allocs[KT_MAX_ALLOCS];
static int kt_nallocs;
static et_diag kt_diag;
static uint8_t kt_scratch_buf[1 << 16];
static size_t kt_scratch_size; /* scratch given to kernels (0: none) */

static inline void *kt_alloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  assert_non_null(p);
  assert_true(kt_nallocs < KT_MAX_ALLOCS);
  kt_allocs[kt_nallocs++] = p;
  return p;
}

static inline int kt_free_all(void **state) {
  (void)state;
  for (int i = 0; i < kt_nallocs; i++) free(kt_allocs[i]);
  kt_nallocs = 0;
  kt_scratch_size = 0;
  return 0;
}

/* A dense tensor of `dtype`, zero-filled; STATIC unless made dynamic. */
static inline et_tensor *kt_tensor(int dtype, uint32_t rank, const int32_t *sizes) {
  et_tensor *t = (et_tensor *)kt_alloc(sizeof *t);
  t->rank = rank;
  t->dtype = (int8_t)dtype;
  t->sizes = (int32_t *)kt_alloc(sizeof(int32_t) * (rank ? rank : 1));
  uint8_t *order = (uint8_t *)kt_alloc(rank ? rank : 1);
  t->strides = (int64_t *)kt_alloc(sizeof(int64_t) * (rank ? rank : 1));
  size_t numel = 1;
  for (uint32_t d = 0; d < rank; d++) {
    t->sizes[d] = sizes[d];
    order[d] = (uint8_t)d;
    numel *= (size_t)sizes[d];
  }
  t->dim_order = order;
  et_tensor_update_strides(t);
  t->capacity = numel * et_dtype_size(dtype);
  t->data = kt_alloc(t->capacity + 16);
  t->dynamism = ET_STATIC;
  return t;
}

/* Shorthand: kt_t(ET_FLOAT, 2, (int32_t[]){2, 3}). */
#define kt_t(dtype, rank, ...) kt_tensor((dtype), (rank), (const int32_t[]){__VA_ARGS__})
#define kt_t0(dtype) kt_tensor((dtype), 0, NULL)

/* Make `t` DYNAMIC_BOUND with room for `max_numel` elements. */
static inline et_tensor *kt_dynamic(et_tensor *t, size_t max_numel) {
  t->dynamism = ET_DYNAMIC_BOUND;
  t->capacity = max_numel * et_dtype_size(t->dtype);
  t->data = kt_alloc(t->capacity + 16);
  return t;
}

/* Give `t` a dim order (outermost to innermost); data layout follows. */
static inline et_tensor *kt_order(et_tensor *t, const uint8_t *order) {
  uint8_t *o = (uint8_t *)t->dim_order;
  memcpy(o, order, t->rank);
  et_tensor_update_strides(t);
  return t;
}

#define kt_ord(t, ...) kt_order((t), (const uint8_t[]){__VA_ARGS__})

/* Element at logical index (row-major over sizes), honouring strides. */
static inline size_t kt_offset(const et_tensor *t, size_t logical) {
  size_t off = 0;
  for (uint32_t d = t->rank; d-- > 0;) {
    size_t i = logical % (size_t)t->sizes[d];
    logical /= (size_t)t->sizes[d];
    off += i * (size_t)t->strides[d];
  }
  return off;
}

/* Logical element i as double / set from double (converted like a cast). */
static inline double kt_get(const et_tensor *t, size_t i) {
  const char *p = (const char *)t->data + kt_offset(t, i) * et_dtype_size(t->dtype);
  return et_elem_as_double(p, t->dtype);
}

static inline void kt_set(et_tensor *t, size_t i, double v) {
  char *p = (char *)t->data + kt_offset(t, i) * et_dtype_size(t->dtype);
  assert_true(et_convert(p, t->dtype, 1, &v, ET_DOUBLE, 1, 1));
}

static inline int64_t kt_geti(const et_tensor *t, size_t i) {
  const char *p = (const char *)t->data + kt_offset(t, i) * et_dtype_size(t->dtype);
  return et_elem_as_int64(p, t->dtype);
}

static inline void kt_seti(et_tensor *t, size_t i, int64_t v) {
  char *p = (char *)t->data + kt_offset(t, i) * et_dtype_size(t->dtype);
  assert_true(et_convert(p, t->dtype, 1, &v, ET_LONG, 1, 1));
}

/* Fill logical elements from a double array. */
static inline et_tensor *kt_fill(et_tensor *t, const double *v) {
  size_t n = et_tensor_numel(t);
  for (size_t i = 0; i < n; i++) kt_set(t, i, v[i]);
  return t;
}

#define kt_vals(t, ...) kt_fill((t), (const double[]){__VA_ARGS__})

/* Deterministic pseudo-random values in [-1, 1). */
static inline et_tensor *kt_random(et_tensor *t, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 12345u;
  size_t n = et_tensor_numel(t);
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    kt_set(t, i, ((double)(s >> 8) / (double)(1u << 24)) * 2.0 - 1.0);
  }
  return t;
}

/* ---- values ----------------------------------------------------------------- */

static inline et_value *kt_v(uint32_t tag) {
  et_value *v = (et_value *)kt_alloc(sizeof *v);
  v->tag = tag;
  return v;
}
static inline et_value *VT(et_tensor *t) {
  et_value *v = kt_v(ET_TAG_TENSOR);
  v->u.t = t;
  return v;
}
static inline et_value *VI(int64_t i) {
  et_value *v = kt_v(ET_TAG_INT);
  v->u.i = i;
  return v;
}
static inline et_value *VD(double d) {
  et_value *v = kt_v(ET_TAG_DOUBLE);
  v->u.d = d;
  return v;
}
static inline et_value *VB(bool b) {
  et_value *v = kt_v(ET_TAG_BOOL);
  v->u.b = b;
  return v;
}
static inline et_value *VN(void) { return kt_v(ET_TAG_NONE); }
static inline et_value *VS(const char *s) {
  et_value *v = kt_v(ET_TAG_STRING);
  v->u.str.ptr = s;
  v->u.str.len = strlen(s);
  return v;
}
static inline et_value *kt_int_list(size_t n, const int64_t *items) {
  et_value *v = kt_v(ET_TAG_LIST_INT);
  et_value **arr = (et_value **)kt_alloc(sizeof(et_value *) * (n ? n : 1));
  for (size_t i = 0; i < n; i++) arr[i] = VI(items[i]);
  v->u.ilist.items = arr;
  v->u.ilist.len = n;
  return v;
}
#define VL(...)                                                                \
  kt_int_list(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t),        \
              (const int64_t[]){__VA_ARGS__})
#define VL0() kt_int_list(0, NULL)
static inline et_value *kt_tensor_list(size_t n, et_tensor *const *ts) {
  et_value *v = kt_v(ET_TAG_LIST_TENSOR);
  et_value **arr = (et_value **)kt_alloc(sizeof(et_value *) * (n ? n : 1));
  for (size_t i = 0; i < n; i++) arr[i] = VT(ts[i]);
  v->u.tlist.items = arr;
  v->u.tlist.len = n;
  return v;
}
#define VTL(...)                                                               \
  kt_tensor_list(sizeof((et_tensor *const[]){__VA_ARGS__}) / sizeof(et_tensor *), \
                 (et_tensor *const[]){__VA_ARGS__})

/* ---- calling kernels ------------------------------------------------------- */

/* True if value `v` is acceptable for signature letter `c` (kernel.h). */
static inline bool kt_tag_ok(char c, const et_value *v) {
  return et_kernel_sig_accepts(c, v->tag);
}

/* Look `name` up, check the tags, run it; the message is in kt_diag. */
static inline et_status kt_call_n(const char *name, et_value **args, size_t nargs) {
  const et_kernel *k = et_kernel_table_find(&et_portable_kernels, name);
  if (!k) k = et_kernel_table_find(&et_quantized_kernels, name);
  if (!k) k = et_kernel_table_find(&et_llm_kernels, name);
  if (!k) fail_msg("kernel %s is not registered", name);
  if (strlen(k->sig) != nargs)
    fail_msg("%s: signature %s has %zu letters, test passes %zu args", name, k->sig,
             strlen(k->sig), nargs);
  for (size_t i = 0; i < nargs; i++)
    if (!kt_tag_ok(k->sig[i], args[i]))
      fail_msg("%s: arg %zu has tag %s, signature letter '%c'", name, i,
               et_tag_name((int)args[i]->tag), k->sig[i]);
  et_kernel_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.op_name = k->name;
  ctx.diag = &kt_diag;
  ctx.scratch = kt_scratch_size ? kt_scratch_buf : NULL;
  ctx.scratch_size = kt_scratch_size;
  et_diag_clear(&kt_diag);
  et_status st = k->fn(&ctx, args);
  if (st == ET_OK) assert_int_equal(kt_diag.status, ET_OK);
  return st;
}

#define KT_ARGS(...) ((et_value *[]){__VA_ARGS__})
#define KT_NARGS(...) (sizeof((et_value *[]){__VA_ARGS__}) / sizeof(et_value *))
/* kt_call("aten::add.out", a, b, alpha, out, out) */
#define kt_call(name, ...) kt_call_n((name), KT_ARGS(__VA_ARGS__), KT_NARGS(__VA_ARGS__))

/* Expect success. */
#define KT_OK(name, ...)                                                       \
  do {                                                                         \
    et_status st_ = kt_call(name, __VA_ARGS__);                                \
    if (st_ != ET_OK) fail_msg("%s failed: %s", (name), kt_diag.message);      \
  } while (0)

/* Expect a failure with `status` whose message contains `needle`. */
#define KT_FAIL(want_st_, needle, name, ...)                                     \
  do {                                                                         \
    et_status st_ = kt_call(name, __VA_ARGS__);                                \
    if (st_ != (want_st_))                                                       \
      fail_msg("%s: expected status 0x%x, got 0x%x (%s)", (name), (unsigned)(want_st_), \
               (unsigned)st_, kt_diag.message);                                \
    assert_int_equal(kt_diag.status, (want_st_));                                \
    if (!strstr(kt_diag.message, (needle)))                                    \
      fail_msg("%s: message \"%s\" lacks \"%s\"", (name), kt_diag.message, (needle)); \
    if (!strstr(kt_diag.message, (name)))                                      \
      fail_msg("message \"%s\" does not name the operator", kt_diag.message);  \
  } while (0)

/* |a - b| <= atol + rtol * |b|, NaN equal to NaN. */
static inline bool kt_close(double a, double b, double rtol, double atol) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  if (isinf(a) || isinf(b)) return a == b;
  return fabs(a - b) <= atol + rtol * fabs(b);
}

static inline void kt_expect_close(const et_tensor *t, const double *want, size_t n,
                                   double rtol, double atol) {
  assert_int_equal(et_tensor_numel(t), n);
  for (size_t i = 0; i < n; i++)
    if (!kt_close(kt_get(t, i), want[i], rtol, atol))
      fail_msg("element %zu: got %.9g, want %.9g", i, kt_get(t, i), want[i]);
}

#define KT_EXPECT(t, ...)                                                      \
  kt_expect_close((t), (const double[]){__VA_ARGS__},                          \
                  sizeof((const double[]){__VA_ARGS__}) / sizeof(double), 1e-6, 1e-6)

static inline void kt_expect_shape(const et_tensor *t, uint32_t rank, const int32_t *sizes) {
  assert_int_equal(t->rank, rank);
  for (uint32_t d = 0; d < rank; d++)
    if (t->sizes[d] != sizes[d])
      fail_msg("dim %u: size %d, want %d", (unsigned)d, (int)t->sizes[d], (int)sizes[d]);
}
#define KT_SHAPE(t, rank, ...) kt_expect_shape((t), (rank), (const int32_t[]){__VA_ARGS__})

/* Compare two tensors element by element (logical order). */
static inline void kt_expect_tensors_close(const et_tensor *got, const et_tensor *want,
                                           double rtol, double atol) {
  assert_int_equal(got->rank, want->rank);
  for (uint32_t d = 0; d < got->rank; d++) assert_int_equal(got->sizes[d], want->sizes[d]);
  size_t n = et_tensor_numel(got);
  for (size_t i = 0; i < n; i++)
    if (!kt_close(kt_get(got, i), kt_get(want, i), rtol, atol))
      fail_msg("element %zu: got %.9g, want %.9g", i, kt_get(got, i), kt_get(want, i));
}

#endif /* ET_TEST_KERNELS_H */
