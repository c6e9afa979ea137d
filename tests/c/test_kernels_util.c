/*
 * Tests of the shared kernel machinery (kernels/util): Half/BFloat16
 * conversion, type promotion, element conversion, n-d iteration, broadcast
 * strides, the elementwise engine, reductions and matmul.
 */
#include "test_kernels.h"

#include "util/broadcast_util.h"
#include "util/dtype_util.h"
#include "util/elementwise_util.h"
#include "util/matmul_util.h"
#include "util/reduce_util.h"
#include "util/scalar_util.h"
#include "util/vec_util.h"

/* ---- et_double_str: %g for kernel messages ------------------------------ */

static void test_double_str(void **state) {
  (void)state;
  char buf[32], ref[32];
  static const struct {
    double v;
    const char *want;
  } exact[] = {{0.0, "0"},        {-0.0, "-0"},          {1.5, "1.5"},
               {-2.0, "-2"},      {0.001, "0.001"},      {123456.0, "123456"},
               {1e6, "1e+06"},    {1.5e-7, "1.5e-07"},   {1e100, "1e+100"},
               {HUGE_VAL, "inf"}, {-HUGE_VAL, "-inf"},   {NAN, "nan"}};
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
    assert_string_equal(et_double_str(exact[i].v, buf, sizeof buf),
                        exact[i].want);
  /* Against printf's %g: the same form (plain or exponent) and the same
   * value to the sixth significant digit. */
  const double vals[] = {3.14159265,  -2.5e-5, 0.0001,  9.999995e5, 999999.4,
                         1234567.0,   7e-300,  1.7e308, 5e-324,     0.1,
                         2.0 / 3.0,   -1e-4,   65504.0, 1e15};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    et_double_str(vals[i], buf, sizeof buf);
    snprintf(ref, sizeof ref, "%g", vals[i]);
    if ((strchr(buf, 'e') == NULL) != (strchr(ref, 'e') == NULL) ||
        fabs(strtod(buf, NULL) - vals[i]) > 1.5e-5 * fabs(vals[i]))
      fail_msg("et_double_str(%.17g) = %s, printf %%g = %s", vals[i], buf,
               ref);
  }
  /* A short buffer gets a terminated prefix. */
  assert_string_equal(et_double_str(1.5, buf, 3), "1.");
}

/* ---- Half ---------------------------------------------------------------- */

/* Value of a half bit pattern computed from the definition, as an oracle. */
static double half_ref(uint16_t h) {
  int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v;
  if (e == 0)
    v = ldexp((double)m, -24);
  else if (e == 31)
    v = m ? NAN : INFINITY;
  else
    v = ldexp(1.0 + m / 1024.0, e - 15);
  return s ? -v : v;
}

static void test_half_to_float_exhaustive(void **state) {
  (void)state;
  for (uint32_t h = 0; h < 65536; h++) {
    float f = et_half_to_float((et_half)h);
    double r = half_ref((uint16_t)h);
    if (isnan(r)) {
      assert_true(isnan(f));
      /* payload and sign kept */
      assert_int_equal(et_f32_bits(f) >> 31, h >> 15);
      assert_int_equal((et_f32_bits(f) >> 13) & 0x3ff, h & 0x3ff);
    } else {
      if ((double)f != r) fail_msg("half 0x%04x -> %.10g, want %.10g", h, (double)f, r);
      if (r == 0) assert_int_equal(signbit(f) != 0, (h >> 15) != 0);
    }
  }
}

static void test_float_to_half_rounding(void **state) {
  (void)state;
  /* Every pair of adjacent finite halves: values just below, at and above
   * their midpoint round down, to even and up. */
  for (uint32_t h = 0; h < 0x7bff; h++) {
    for (int sign = 0; sign < 2; sign++) {
      uint16_t lo = (uint16_t)(h | (sign << 15)), hi = (uint16_t)((h + 1) | (sign << 15));
      float flo = et_half_to_float(lo), fhi = et_half_to_float(hi);
      float mid = (float)(((double)flo + (double)fhi) / 2);
      assert_true((double)mid == ((double)flo + (double)fhi) / 2); /* exact */
      uint16_t even = (h & 1) ? hi : lo;
      if (et_float_to_half(mid) != even)
        fail_msg("mid of 0x%04x/0x%04x -> 0x%04x", lo, hi, et_float_to_half(mid));
      assert_int_equal(et_float_to_half(nextafterf(mid, sign ? INFINITY : -INFINITY)), lo);
      assert_int_equal(et_float_to_half(nextafterf(mid, sign ? -INFINITY : INFINITY)), hi);
      assert_int_equal(et_float_to_half(flo), lo);
    }
  }
  /* overflow and special values (constants from torch) */
  assert_int_equal(et_float_to_half(65504.0f), 0x7bff);
  assert_int_equal(et_float_to_half(65519.0f), 0x7bff);
  assert_int_equal(et_float_to_half(65520.0f), 0x7c00);
  assert_int_equal(et_float_to_half(-1e30f), 0xfc00);
  assert_int_equal(et_float_to_half(INFINITY), 0x7c00);
  assert_int_equal(et_float_to_half(0.1f), 11878);
  assert_int_equal(et_float_to_half(-2.5f), 49408);
  assert_int_equal(et_float_to_half(1e-8f), 0);
  assert_int_equal(et_float_to_half(6e-8f), 1);
  assert_int_equal(et_float_to_half(3e-5f), 503);
  assert_int_equal(et_float_to_half(1.0f / 3.0f), 13653);
  assert_int_equal(et_float_to_half(-0.0f), 0x8000);
  assert_int_equal(et_float_to_half(NAN), 0x7e00);
  assert_int_equal(et_float_to_half(-NAN), 0xfe00);
}

static void test_bf16(void **state) {
  (void)state;
  for (uint32_t b = 0; b < 0x7f7f; b++) {
    float lo = et_bf16_to_float((et_bf16)b), hi = et_bf16_to_float((et_bf16)(b + 1));
    assert_true((double)lo == (double)et_f32_from_bits(b << 16));
    float mid = (float)(((double)lo + (double)hi) / 2);
    et_bf16 even = (b & 1) ? (et_bf16)(b + 1) : (et_bf16)b;
    assert_int_equal(et_float_to_bf16(mid), even);
    assert_int_equal(et_float_to_bf16(nextafterf(mid, -INFINITY)), b);
    assert_int_equal(et_float_to_bf16(nextafterf(mid, INFINITY)), b + 1);
  }
  /* constants from torch */
  assert_int_equal(et_float_to_bf16(0.1f), 15821);
  assert_int_equal(et_float_to_bf16(-2.5f), 49184);
  assert_int_equal(et_float_to_bf16(65520.0f), 18304);
  assert_int_equal(et_float_to_bf16(1e-8f), 12844);
  assert_int_equal(et_float_to_bf16(1.0f / 3.0f), 16043);
  assert_int_equal(et_float_to_bf16(1e38f), 32406);
  assert_int_equal(et_float_to_bf16(3.4e38f), 32640); /* rounds to inf */
  assert_true(isnan(et_bf16_to_float(et_float_to_bf16(NAN))));
  assert_true(isnan(et_half_to_float(et_float_to_half(NAN))));
}

/* ---- promotion -------------------------------------------------------------- */

static void test_promote_table(void **state) {
  (void)state;
  /* torch.promote_types over (Byte Char Short Int Long Half Float Double Bool
   * BFloat16), generated with torch 2.13. */
  static const int dts[10] = {ET_BYTE, ET_CHAR, ET_SHORT, ET_INT,  ET_LONG,
                              ET_HALF, ET_FLOAT, ET_DOUBLE, ET_BOOL, ET_BFLOAT16};
#define B_ ET_BYTE
#define C_ ET_CHAR
#define S_ ET_SHORT
#define I_ ET_INT
#define L_ ET_LONG
#define H_ ET_HALF
#define F_ ET_FLOAT
#define D_ ET_DOUBLE
#define O_ ET_BOOL
#define Z_ ET_BFLOAT16
  static const int want[10][10] = {
      {B_, S_, S_, I_, L_, H_, F_, D_, B_, Z_}, {S_, C_, S_, I_, L_, H_, F_, D_, C_, Z_},
      {S_, S_, S_, I_, L_, H_, F_, D_, S_, Z_}, {I_, I_, I_, I_, L_, H_, F_, D_, I_, Z_},
      {L_, L_, L_, L_, L_, H_, F_, D_, L_, Z_}, {H_, H_, H_, H_, H_, H_, F_, D_, H_, F_},
      {F_, F_, F_, F_, F_, F_, F_, D_, F_, F_}, {D_, D_, D_, D_, D_, D_, D_, D_, D_, D_},
      {B_, C_, S_, I_, L_, H_, F_, D_, O_, Z_}, {Z_, Z_, Z_, Z_, Z_, F_, F_, D_, Z_, Z_}};
  for (int a = 0; a < 10; a++)
    for (int b = 0; b < 10; b++)
      if (et_promote_types(dts[a], dts[b]) != want[a][b])
        fail_msg("promote(%s, %s) = %s, want %s", et_dtype_name(dts[a]),
                 et_dtype_name(dts[b]), et_dtype_name(et_promote_types(dts[a], dts[b])),
                 et_dtype_name(want[a][b]));
  assert_int_equal(et_promote_types(ET_QINT8, ET_FLOAT), -1);
  assert_int_equal(et_promote_types(ET_FLOAT, ET_UINT16), -1);

  assert_true(et_can_cast(ET_INT, ET_FLOAT));
  assert_true(et_can_cast(ET_BOOL, ET_INT));
  assert_false(et_can_cast(ET_FLOAT, ET_INT));
  assert_false(et_can_cast(ET_HALF, ET_BOOL));
  assert_false(et_can_cast(ET_INT, ET_BOOL));
  assert_true(et_can_cast(ET_DOUBLE, ET_HALF));
  assert_int_equal(et_compute_dtype(ET_HALF), ET_FLOAT);
  assert_int_equal(et_compute_dtype(ET_BFLOAT16), ET_FLOAT);
  assert_int_equal(et_compute_dtype(ET_INT), ET_INT);
}

static void test_scalar_promotion(void **state) {
  (void)state;
  et_value *i = VI(3), *d = VD(2.5), *b = VB(true);
  assert_int_equal(et_promote_type_with_scalar(ET_INT, d), ET_FLOAT); /* not Double */
  assert_int_equal(et_promote_type_with_scalar(ET_BOOL, d), ET_FLOAT);
  assert_int_equal(et_promote_type_with_scalar(ET_HALF, d), ET_HALF);
  assert_int_equal(et_promote_type_with_scalar(ET_BOOL, i), ET_LONG);
  assert_int_equal(et_promote_type_with_scalar(ET_CHAR, i), ET_CHAR);
  assert_int_equal(et_promote_type_with_scalar(ET_FLOAT, b), ET_FLOAT);
  assert_int_equal(et_promote_type_with_scalar(ET_BOOL, b), ET_BOOL);
  et_cval v;
  assert_true(et_scalar_extract(i, ET_CHAR, &v));
  assert_int_equal(v.i, 3);
  assert_false(et_scalar_extract(VI(300), ET_CHAR, &v)); /* out of range */
  assert_false(et_scalar_extract(d, ET_INT, &v));        /* float into int */
  assert_false(et_scalar_extract(b, ET_INT, &v));        /* bool into int */
  assert_true(et_scalar_extract(d, ET_HALF, &v));
  assert_true(v.f == 2.5f);
  assert_false(et_scalar_extract(VD(1e300), ET_FLOAT, &v));
  assert_true(et_scalar_extract(VD(INFINITY), ET_FLOAT, &v));
  assert_true(et_scalar_extract(VD(1e300), ET_DOUBLE, &v));
  assert_true(et_scalar_extract(b, ET_BOOL, &v));
  assert_int_equal(v.i, 1);
  assert_int_equal(et_scalar_to_int64(VD(-3.7)), -3);
  assert_int_equal(et_scalar_to_int64(VD(NAN)), INT64_MIN);
}

/* ---- conversion ------------------------------------------------------------- */

static void test_convert(void **state) {
  (void)state;
  /* float -> integers as PyTorch on x86-64 (constants from torch 2.13) */
  const float src[6] = {-1.0f, 300.0f, 1e10f, NAN, INFINITY, -3.7f};
  uint8_t u8[6];
  int8_t i8[6];
  int16_t i16[6];
  int32_t i32[6];
  int64_t i64[6];
  et_bool8 b[6];
  assert_true(et_convert(u8, ET_BYTE, 1, src, ET_FLOAT, 1, 6));
  assert_true(et_convert(i8, ET_CHAR, 1, src, ET_FLOAT, 1, 6));
  assert_true(et_convert(i16, ET_SHORT, 1, src, ET_FLOAT, 1, 6));
  assert_true(et_convert(i32, ET_INT, 1, src, ET_FLOAT, 1, 6));
  assert_true(et_convert(i64, ET_LONG, 1, src, ET_FLOAT, 1, 6));
  assert_true(et_convert(b, ET_BOOL, 1, src, ET_FLOAT, 1, 6));
  const int u8w[6] = {255, 44, 0, 0, 0, 253}, i8w[6] = {-1, 44, 0, 0, 0, -3};
  const int i16w[6] = {-1, 300, 0, 0, 0, -3};
  const int64_t i32w[6] = {-1, 300, INT32_MIN, INT32_MIN, INT32_MIN, -3};
  const int64_t i64w[6] = {-1, 300, 10000000000LL, INT64_MIN, INT64_MIN, -3};
  for (int k = 0; k < 6; k++) {
    assert_int_equal(u8[k], u8w[k]);
    assert_int_equal(i8[k], i8w[k]);
    assert_int_equal(i16[k], i16w[k]);
    assert_int_equal(i32[k], i32w[k]);
    assert_int_equal(i64[k], i64w[k]);
    assert_int_equal(b[k], 1);
  }
  /* double 5000000007 -> Byte goes through int64 (7), -> Char through int32 */
  const double big = 5000000007.0;
  assert_true(et_convert(u8, ET_BYTE, 1, &big, ET_DOUBLE, 1, 1));
  assert_int_equal(u8[0], 7);
  assert_true(et_convert(i8, ET_CHAR, 1, &big, ET_DOUBLE, 1, 1));
  assert_int_equal(i8[0], 0);
  /* strided source, broadcast source, narrowing wrap, bool */
  const int64_t longs[4] = {1, 257, -1, 0};
  uint8_t out[4];
  assert_true(et_convert(out, ET_BYTE, 1, longs, ET_LONG, 2, 2));
  assert_int_equal(out[0], 1);
  assert_int_equal(out[1], 255);
  assert_true(et_convert(out, ET_BOOL, 1, longs, ET_LONG, 1, 4));
  assert_memory_equal(out, ((uint8_t[]){1, 1, 1, 0}), 4);
  assert_true(et_convert(out, ET_BYTE, 1, longs + 1, ET_LONG, 0, 3));
  assert_memory_equal(out, ((uint8_t[]){1, 1, 1}), 3);
  /* bytes other than 0/1 read as true */
  const uint8_t odd_bool[2] = {2, 0};
  float fb[2];
  assert_true(et_convert(fb, ET_FLOAT, 1, odd_bool, ET_BOOL, 1, 2));
  assert_true(fb[0] == 1.0f && fb[1] == 0.0f);
  /* Double -> Half rounds through Float */
  const double d = 0.1;
  et_half h;
  assert_true(et_convert(&h, ET_HALF, 1, &d, ET_DOUBLE, 1, 1));
  assert_int_equal(h, 11878);
  /* unsupported dtypes are refused */
  assert_false(et_convert(out, ET_QINT8, 1, longs, ET_LONG, 1, 1));
  assert_false(et_convert(out, ET_BYTE, 1, longs, ET_UINT16, 1, 1));
}

/* ---- iteration -------------------------------------------------------------- */

static void test_nd_iter_coalesce(void **state) {
  (void)state;
  /* equal contiguous shapes: one run */
  int64_t sizes[3] = {2, 3, 4}, cs[3] = {12, 4, 1};
  const int64_t *st2[2] = {cs, cs};
  et_nd_iter it;
  et_nd_iter_init(&it, 3, sizes, 2, st2, NULL);
  assert_int_equal(it.inner, 24);
  assert_int_equal(it.ndim, 0);
  assert_int_equal(et_nd_iter_runs(&it), 1);
  assert_false(et_nd_iter_next(&it));
  /* [N, C] + bias[C]: N runs of C, bias stride 1 then back to 0 */
  int64_t s2[2] = {5, 7}, os[2] = {7, 1}, bs[2] = {0, 1};
  const int64_t *st[2] = {os, bs};
  et_nd_iter_init(&it, 2, s2, 2, st, NULL);
  assert_int_equal(it.inner, 7);
  assert_int_equal(it.inner_stride[1], 1);
  int runs = 0;
  do {
    assert_int_equal(it.off[0], runs * 7);
    assert_int_equal(it.off[1], 0);
    runs++;
  } while (et_nd_iter_next(&it));
  assert_int_equal(runs, 5);
  /* a size-0 dim: nothing; all size-1 / rank 0: one run of 1 */
  int64_t z[2] = {3, 0};
  et_nd_iter_init(&it, 2, z, 2, st, NULL);
  assert_int_equal(it.inner, 0);
  assert_int_equal(et_nd_iter_runs(&it), 0);
  et_nd_iter_init(&it, 0, NULL, 2, st, NULL);
  assert_int_equal(it.inner, 1);
  /* order: walking [2,3] in dim order (1, 0) makes dim 0 innermost */
  int64_t s3[2] = {2, 3}, t0[2] = {1, 2};
  const int64_t *st1[1] = {t0};
  et_nd_iter_init(&it, 2, s3, 1, st1, (const uint8_t[]){1, 0});
  assert_int_equal(it.inner, 6); /* transposed-contiguous merges into one run */
  assert_int_equal(it.inner_stride[0], 1);
}

static void test_broadcast_strides(void **state) {
  (void)state;
  et_tensor *b = kt_t(ET_FLOAT, 2, 3, 1);
  int64_t st[3];
  const int32_t out1[3] = {2, 3, 4};
  assert_true(et_broadcast_strides(b, 3, out1, st));
  assert_int_equal(st[0], 0);
  assert_int_equal(st[1], 1);
  assert_int_equal(st[2], 0);
  const int32_t out2[3] = {2, 4, 4};
  assert_false(et_broadcast_strides(b, 3, out2, st));
  assert_false(et_broadcast_strides(b, 1, out2, st)); /* rank too small */
}

/* ---- elementwise engine ----------------------------------------------------- */

static void sum3_f32(void *o, const void *const *in, size_t n, const void *p) {
  (void)p;
  float *out = (float *)o;
  const float *a = (const float *)in[0], *b = (const float *)in[1], *c = (const float *)in[2];
  for (size_t i = 0; i < n; i++) out[i] = a[i] + 10 * b[i] + 100 * c[i];
}

static void test_ew_engine_mixed(void **state) {
  (void)state;
  /* three inputs of different dtypes, broadcast, out channels-last Half,
   * more elements than one chunk */
  et_tensor *a = kt_random(kt_t(ET_FLOAT, 4, 2, 3, 5, 13), 1);
  et_tensor *b = kt_random(kt_t(ET_DOUBLE, 3, 3, 1, 13), 2);
  et_tensor *c = kt_random(kt_t(ET_BFLOAT16, 1, 1), 3);
  et_tensor *out = kt_ord(kt_t(ET_HALF, 4, 2, 3, 5, 13), 0, 2, 3, 1);
  et_ew_spec spec = et_ew_spec_uniform(sum3_f32, NULL, ET_FLOAT, 3);
  const et_tensor *ins[3] = {a, b, c};
  const char *names[3] = {"a", "b", "c"};
  et_kernel_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.diag = &kt_diag;
  assert_int_equal(et_ew_apply(&ctx, out, ins, names, 3, &spec), ET_OK);
  for (size_t i = 0; i < et_tensor_numel(out); i++) {
    size_t w = i % 13, h = (i / 13) % 5, ch = (i / 65) % 3;
    float want = (float)kt_get(a, i) + 10 * (float)kt_get(b, ch * 13 + w) +
                 100 * (float)kt_get(c, 0);
    (void)h;
    assert_true(kt_get(out, i) == (double)et_half_to_float(et_float_to_half(want)));
  }
  /* a non-broadcastable input is refused with its name */
  et_tensor *bad = kt_t(ET_FLOAT, 1, 4);
  ins[1] = bad;
  assert_int_equal(et_ew_apply(&ctx, out, ins, names, 3, &spec), ET_INVALID_ARGUMENT);
  assert_non_null(strstr(kt_diag.message, "b [4] does not broadcast"));
}

/* ---- reductions and matmul ------------------------------------------------ */

static void test_reduce_add_precision(void **state) {
  (void)state;
  /* 1 followed by many tiny values: a single running sum stays at exactly 1
   * (each 1e-8 is below half an ulp); partial sums keep 7/8 of them */
  enum { N = 4097 };
  float *x = (float *)kt_alloc(sizeof(float) * N);
  x[0] = 1.0f;
  for (int i = 1; i < N; i++) x[i] = 1e-8f;
  et_cval acc;
  acc.f = 0;
  et_reduce_add(&acc, ET_FLOAT, x, ET_FLOAT, 1, N);
  assert_true(acc.f > 1.00003f && acc.f < 1.00005f);
  /* strided int8 into int64 */
  const int8_t v[6] = {1, -100, 2, -100, 3, -100};
  acc.i = 5;
  et_reduce_add(&acc, ET_LONG, v, ET_CHAR, 2, 3);
  assert_int_equal(acc.i, 11);
  assert_true(et_reduce_any(v, ET_CHAR, 2, 3));
  const float zeros[3] = {0.0f, -0.0f, 0.0f};
  assert_false(et_reduce_any(zeros, ET_FLOAT, 1, 3));
}

static void test_matmul_blocked(void **state) {
  (void)state;
  /* sizes that cross the 4-row micro kernel and the K/N blocks */
  const int64_t M = 7, K = 300, N = 530;
  float *A = (float *)kt_alloc(sizeof(float) * M * K);
  float *B = (float *)kt_alloc(sizeof(float) * K * N);
  float *C = (float *)kt_alloc(sizeof(float) * M * N);
  for (int64_t i = 0; i < M * K; i++) A[i] = (float)((i * 37 % 19) - 9) / 8.0f;
  for (int64_t i = 0; i < K * N; i++) B[i] = (float)((i * 11 % 23) - 11) / 16.0f;
  assert_true(et_matmul(ET_FLOAT, M, N, K, A, K, B, N, C, N));
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double ref = 0;
      for (int64_t k = 0; k < K; k++) ref += (double)A[i * K + k] * B[k * N + j];
      /* inputs are multiples of 1/128 with small sums: exact in float */
      if ((double)C[i * N + j] != ref) fail_msg("C[%lld,%lld]", (long long)i, (long long)j);
    }
  assert_false(et_matmul(ET_BOOL, 1, 1, 1, A, 1, B, 1, C, 1));
  assert_false(et_matmul_supports(ET_BOOL));
}

/* Every path (vector micro kernel, scalar edges, row kernel, k blocks)
 * accumulates each element over k in increasing order from zero: results are
 * bit-identical to a sequential sum in the element type, whatever the shape
 * and leading dimensions. */
#define DEFINE_MATMUL_ORDER_CHECK(T, NAME)                                     \
  static void NAME(int64_t M, int64_t N, int64_t K, int64_t pad) {            \
    const int64_t lda = K + pad, ldb = N + pad, ldc = N + 2 * pad;             \
    T *A = (T *)kt_alloc(sizeof(T) * (size_t)(M * lda + 1));                  \
    T *B = (T *)kt_alloc(sizeof(T) * (size_t)(K * ldb + 1));                   \
    T *C = (T *)kt_alloc(sizeof(T) * (size_t)(M * ldc + 1));                   \
    uint32_t seed = (uint32_t)(M * 131 + N * 17 + K);                          \
    for (int64_t i = 0; i < M * lda; i++) {                                    \
      seed = seed * 1664525u + 1013904223u;                                    \
      A[i] = (T)((double)(seed >> 8) / 16777216.0 - 0.5);                      \
    }                                                                          \
    for (int64_t i = 0; i < K * ldb; i++) {                                    \
      seed = seed * 1664525u + 1013904223u;                                    \
      B[i] = (T)((double)(seed >> 8) / 8388608.0 - 1.0);                       \
    }                                                                          \
    assert_true(et_matmul(sizeof(T) == 4 ? ET_FLOAT : ET_DOUBLE, M, N, K, A, lda, \
                          B, ldb, C, ldc));                                    \
    for (int64_t i = 0; i < M; i++)                                            \
      for (int64_t j = 0; j < N; j++) {                                        \
        T ref = 0;                                                             \
        for (int64_t k = 0; k < K; k++) {                                      \
          const T prod = A[i * lda + k] * B[k * ldb + j];                      \
          ref = ref + prod;                                                    \
        }                                                                      \
        if (memcmp(&ref, &C[i * ldc + j], sizeof ref) != 0)                    \
          fail_msg("%dx%dx%d pad %d: C[%d,%d] = %.17g, sequential sum %.17g",   \
                   (int)M, (int)N, (int)K, (int)pad, (int)i, (int)j,           \
                   (double)C[i * ldc + j], (double)ref);                       \
      }                                                                        \
  }
DEFINE_MATMUL_ORDER_CHECK(float, matmul_order_f32)
DEFINE_MATMUL_ORDER_CHECK(double, matmul_order_f64)

static void test_matmul_summation_order(void **state) {
  (void)state;
  static const int64_t shapes[][3] = {
      {1, 1, 1},    {1, 33, 7},    {5, 9, 3},    {6, 8, 256},  {6, 8, 257}, {13, 17, 600},
      {6, 16, 9},   {12, 40, 300}, {64, 64, 64}, {12, 130, 40}, {7, 530, 300},
      {1, 43, 5},   {3, 1029, 70}, {1, 1024, 256}};
  /* the widest vectors the processor has, then 128-bit ones */
  for (int narrow = 0; narrow < 2; narrow++) {
    et_matmul_narrow_vectors(narrow != 0);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
      for (int64_t pad = 0; pad <= 3; pad += 3) {
        matmul_order_f32(shapes[s][0], shapes[s][1], shapes[s][2], pad);
        matmul_order_f64(shapes[s][0], shapes[s][1], shapes[s][2], pad);
      }
  }
  et_matmul_narrow_vectors(false);
}

/* et_sum_f32 and et_sum_sqdev_f32 follow their documented order exactly
 * (eight interleaved partial sums, combined pairwise, then the tail),
 * vectorized or not. */
static void test_vec_sums_order(void **state) {
  (void)state;
  float x[203];
  uint32_t seed = 7;
  for (size_t i = 0; i < 203; i++) {
    seed = seed * 1664525u + 1013904223u;
    x[i] = (float)((double)(seed >> 8) / 16777216.0 - 0.3) * 1000.0f;
  }
  for (size_t n = 0; n <= 203; n += (n < 20 ? 1 : 17)) {
    for (int sq = 0; sq < 2; sq++) {
      const float mean = sq ? 12.5f : 0.0f;
      float p[8] = {0};
      const size_t n8 = n - n % 8;
      for (size_t i = 0; i < n8; i++) {
        const float d = sq ? (x[i] - mean) * (x[i] - mean) : x[i];
        p[i % 8] += d;
      }
      float ref = ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]));
      for (size_t i = n8; i < n; i++) ref += sq ? (x[i] - mean) * (x[i] - mean) : x[i];
      const float got = sq ? et_sum_sqdev_f32(x, n, mean) : et_sum_f32(x, n);
      if (memcmp(&got, &ref, sizeof got) != 0)
        fail_msg("n %zu sq %d: %.9g, expected %.9g", n, sq, (double)got, (double)ref);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_half_to_float_exhaustive, kt_free_all),
      cmocka_unit_test_teardown(test_float_to_half_rounding, kt_free_all),
      cmocka_unit_test_teardown(test_bf16, kt_free_all),
      cmocka_unit_test_teardown(test_promote_table, kt_free_all),
      cmocka_unit_test_teardown(test_scalar_promotion, kt_free_all),
      cmocka_unit_test_teardown(test_convert, kt_free_all),
      cmocka_unit_test_teardown(test_nd_iter_coalesce, kt_free_all),
      cmocka_unit_test_teardown(test_broadcast_strides, kt_free_all),
      cmocka_unit_test_teardown(test_ew_engine_mixed, kt_free_all),
      cmocka_unit_test_teardown(test_reduce_add_precision, kt_free_all),
      cmocka_unit_test_teardown(test_matmul_blocked, kt_free_all),
      cmocka_unit_test_teardown(test_matmul_summation_order, kt_free_all),
      cmocka_unit_test_teardown(test_vec_sums_order, kt_free_all),
      cmocka_unit_test(test_double_str),
  };
  return cmocka_run_group_tests_name("kernels_util", tests, NULL, NULL);
}
