/* Tests for extension/npy.c: round trips, exact headers, malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------
 */

static char g_dir[256];

static int make_tmpdir(void **state) {
  (void)state;
  const char *base = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/et_test_npy_XXXXXX", base ? base : "/tmp");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
  (void)state;
  /* Files are removed by the tests that make them. */
  return rmdir(g_dir) == 0 ? 0 : -1;
}

static void tmp_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", g_dir, name);
}

/* A .npy image made from a header dictionary text and raw data. */
typedef struct image {
  uint8_t bytes[4096];
  size_t size;
} image;

static void make_image(image *im, unsigned major, const char *dict,
                       const void *data, size_t nbytes) {
  size_t dl = strlen(dict);
  size_t pre = major == 1 ? 10 : 12;
  assert_true(pre + dl + nbytes <= sizeof im->bytes);
  memcpy(im->bytes, "\x93NUMPY", 6);
  im->bytes[6] = (uint8_t)major;
  im->bytes[7] = 0;
  if (major == 1) {
    im->bytes[8] = (uint8_t)(dl & 0xff);
    im->bytes[9] = (uint8_t)(dl >> 8);
  } else {
    im->bytes[8] = (uint8_t)(dl & 0xff);
    im->bytes[9] = (uint8_t)((dl >> 8) & 0xff);
    im->bytes[10] = (uint8_t)((dl >> 16) & 0xff);
    im->bytes[11] = (uint8_t)(dl >> 24);
  }
  memcpy(im->bytes + pre, dict, dl);
  if (nbytes) memcpy(im->bytes + pre + dl, data, nbytes);
  im->size = pre + dl + nbytes;
}

/* Parse from a heap copy of exactly `size` bytes so that ASan catches any
 * read past the end. */
static et_status parse_exact(const void *bytes, size_t size, et_npy_array *a,
                             et_diag *d) {
  void *copy = malloc(size ? size : 1);
  assert_non_null(copy);
  if (size) memcpy(copy, bytes, size);
  et_status st = et_npy_parse(copy, size, a, d);
  free(copy);
  return st;
}

/* ---- round trips --------------------------------------------------------------
 */

static const int kDtypes[] = {ET_FLOAT,  ET_DOUBLE, ET_HALF,   ET_BFLOAT16,
                              ET_LONG,   ET_INT,    ET_SHORT,  ET_CHAR,
                              ET_BYTE,   ET_BOOL,   ET_UINT16, ET_UINT32,
                              ET_UINT64, ET_COMPLEX_FLOAT, ET_COMPLEX_DOUBLE};

static void round_trip(int dtype, uint32_t rank, const int64_t *shape) {
  size_t numel = 1;
  for (uint32_t d = 0; d < rank; d++) numel *= (size_t)shape[d];
  size_t es = et_dtype_size(dtype);
  size_t nbytes = numel * es;
  uint8_t *data = malloc(nbytes ? nbytes : 1);
  assert_non_null(data);
  for (size_t i = 0; i < nbytes; i++) {
    data[i] = dtype == ET_BOOL ? (uint8_t)(i % 2) : (uint8_t)(i * 37 + 11);
  }
  char path[512];
  tmp_path(path, sizeof path, "rt.npy");
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(
      et_npy_write_file(path, dtype, rank, shape, data, nbytes, &d), ET_OK);
  et_npy_array a;
  assert_int_equal(et_npy_read_file(path, &a, &d), ET_OK);
  assert_int_equal(a.dtype, dtype);
  assert_int_equal(a.rank, rank);
  assert_int_equal(a.version, 1);
  for (uint32_t k = 0; k < rank; k++) assert_int_equal(a.shape[k], shape[k]);
  assert_int_equal(a.numel, numel);
  assert_int_equal(a.nbytes, nbytes);
  assert_int_equal((uintptr_t)a.data % 16, 0);
  if (nbytes) assert_memory_equal(a.data, data, nbytes);

  /* The file is header (a multiple of 64) + data, nothing else. */
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long fsize = ftell(f);
  fclose(f);
  assert_true(fsize >= 64);
  assert_int_equal(((size_t)fsize - nbytes) % 64, 0);

  et_npy_free(&a);
  assert_null(a.data);
  free(data);
  unlink(path);
}

static void test_round_trip_every_dtype(void **state) {
  (void)state;
  const int64_t s23[] = {2, 3};
  const int64_t s5[] = {5};
  const int64_t s0[] = {0, 3};
  const int64_t s4[] = {2, 1, 3, 2};
  for (size_t i = 0; i < sizeof kDtypes / sizeof kDtypes[0]; i++) {
    round_trip(kDtypes[i], 2, s23);
    round_trip(kDtypes[i], 1, s5);
    round_trip(kDtypes[i], 0, NULL); /* a 0-d array holds one element */
    round_trip(kDtypes[i], 2, s0);   /* zero elements */
    round_trip(kDtypes[i], 4, s4);
  }
}

static void test_round_trip_max_rank(void **state) {
  (void)state;
  int64_t shape[ET_MAX_RANK];
  for (int i = 0; i < ET_MAX_RANK; i++) shape[i] = (i % 3) ? 1 : 2;
  round_trip(ET_FLOAT, ET_MAX_RANK, shape);
}

/* The header is byte for byte what np.save writes. */
static void test_header_matches_numpy(void **state) {
  (void)state;
  struct {
    int dtype;
    uint32_t rank;
    int64_t shape[2];
    const char *dict;
  } cases[] = {
      {ET_FLOAT, 2, {2, 3},
       "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
      {ET_LONG, 1, {7, 0},
       "{'descr': '<i8', 'fortran_order': False, 'shape': (7,), }"},
      {ET_BOOL, 0, {0, 0},
       "{'descr': '|b1', 'fortran_order': False, 'shape': (), }"},
      {ET_BFLOAT16, 2, {2, 3},
       "{'descr': '<V2', 'fortran_order': False, 'shape': (2, 3), }"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    char buf[ET_NPY_HEADER_MAX];
    size_t len = 0;
    assert_int_equal(et_npy_header(cases[c].dtype, cases[c].rank,
                                   cases[c].shape, buf, sizeof buf, &len, NULL),
                     ET_OK);
    size_t dl = strlen(cases[c].dict);
    assert_int_equal(len, 128); /* all of these fit in 128, as in numpy */
    assert_memory_equal(buf, "\x93NUMPY\x01\x00", 8);
    assert_int_equal((unsigned char)buf[8] | (unsigned char)buf[9] << 8, 118);
    assert_memory_equal(buf + 10, cases[c].dict, dl);
    for (size_t i = 10 + dl; i < len - 1; i++) assert_int_equal(buf[i], ' ');
    assert_int_equal(buf[len - 1], '\n');
  }
  char small[64];
  size_t len;
  const int64_t shape[2] = {2, 3};
  assert_int_equal(et_npy_header(ET_FLOAT, 2, shape, small, sizeof small, &len,
                                 NULL),
                   ET_INVALID_ARGUMENT);
  char buf[ET_NPY_HEADER_MAX];
  assert_int_equal(et_npy_header(ET_QINT8, 2, shape, buf, sizeof buf, &len,
                                 NULL),
                   ET_NOT_SUPPORTED);
}

static void test_write_refuses_mismatched_bytes(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "bad.npy");
  const int64_t shape[] = {2, 3};
  float data[6] = {0};
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_npy_write_file(path, ET_FLOAT, 2, shape, data,
                                     sizeof data - 1, &d),
                   ET_INVALID_ARGUMENT);
  assert_non_null(strstr(d.message, "do not match"));
  assert_int_not_equal(access(path, F_OK), 0);
}

/* ---- accepted variants ---------------------------------------------------------
 */

static void test_versions_and_syntax_variants(void **state) {
  (void)state;
  const float data[6] = {1, 2, 3, 4, 5, 6};
  struct {
    unsigned major;
    const char *dict;
    int dtype;
    uint32_t rank;
  } cases[] = {
      {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n",
       ET_FLOAT, 2},
      {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n",
       ET_FLOAT, 2},
      {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n",
       ET_FLOAT, 2},
      /* key order, quotes, no trailing comma, tabs, Python 2 longs */
      {1, "{ \"shape\" :(6,),\t'fortran_order':False,'descr':\"<f4\"}", ET_FLOAT,
       1},
      {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L)}   \n",
       ET_FLOAT, 2},
      {1, "{'descr': '=f4', 'fortran_order': False, 'shape': (6,)}", ET_FLOAT, 1},
      /* one-byte types with any byte-order mark */
      {1, "{'descr': '<u1', 'fortran_order': False, 'shape': (24,)}", ET_BYTE,
       1},
      {1, "{'descr': '>i1', 'fortran_order': False, 'shape': (24,)}", ET_CHAR,
       1},
      /* bfloat16 as written by ml_dtypes, and its '|' spelling */
      {1, "{'descr': '<V2', 'fortran_order': False, 'shape': (12,)}",
       ET_BFLOAT16, 1},
      {1, "{'descr': '|V2', 'fortran_order': False, 'shape': (3, 4)}",
       ET_BFLOAT16, 2},
      {1, "{'descr': '<f2', 'fortran_order': False, 'shape': (12,)}", ET_HALF,
       1},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    image im;
    make_image(&im, cases[c].major, cases[c].dict, data, sizeof data);
    et_npy_array a;
    et_diag d;
    et_diag_clear(&d);
    et_status st = parse_exact(im.bytes, im.size, &a, &d);
    if (st != ET_OK) fail_msg("case %zu: %s", c, d.message);
    assert_int_equal(a.dtype, cases[c].dtype);
    assert_int_equal(a.rank, cases[c].rank);
    assert_int_equal(a.nbytes, sizeof data);
    assert_int_equal(a.version, cases[c].major);
  }
}

static void test_descr_mapping(void **state) {
  (void)state;
  struct {
    const char *descr;
    int dtype;
  } cases[] = {
      {"<f4", ET_FLOAT},    {"<f8", ET_DOUBLE},  {"<f2", ET_HALF},
      {"<i8", ET_LONG},     {"<i4", ET_INT},     {"<i2", ET_SHORT},
      {"|i1", ET_CHAR},     {"|u1", ET_BYTE},    {"|b1", ET_BOOL},
      {"<u2", ET_UINT16},   {"<u4", ET_UINT32},  {"<u8", ET_UINT64},
      {"<V2", ET_BFLOAT16}, {"<c8", ET_COMPLEX_FLOAT},
      {"<c16", ET_COMPLEX_DOUBLE},
      {">f4", -1},          {"<f16", -1},        {"<V4", -1},
      {"<U8", -1},          {"O", -1},           {"", -1},
      {"f4", -1},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    assert_int_equal(
        et_npy_dtype_from_descr(cases[c].descr, strlen(cases[c].descr)),
        cases[c].dtype);
    if (cases[c].dtype >= 0) {
      /* et_npy_descr is the inverse (byte-order neutral types use '|'). */
      assert_string_equal(et_npy_descr(cases[c].dtype), cases[c].descr);
    }
  }
}

/* ---- rejected input ----------------------------------------------------------
 */

static void test_malformed_headers(void **state) {
  (void)state;
  const uint8_t data[64] = {0};
  struct {
    const char *dict;
    et_status status;
    const char *needle; /* expected in the message */
  } cases[] = {
      {"", ET_INVALID_ARGUMENT, "expected '{'"},
      {"   ", ET_INVALID_ARGUMENT, "expected '{'"},
      {"{", ET_INVALID_ARGUMENT, "quoted string"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
       ET_INVALID_ARGUMENT, "expected ',' or '}'"},
      {"{'descr: '<f4'}", ET_INVALID_ARGUMENT, "expected ':'"},
      {"{'descr': '<f4", ET_INVALID_ARGUMENT, "unterminated"},
      {"{'descr': '<\\f4', 'fortran_order': False, 'shape': ()}",
       ET_INVALID_ARGUMENT, "escapes"},
      {"{'descr': '<f4', 'fortran_order': False}", ET_INVALID_ARGUMENT,
       "missing key 'shape'"},
      {"{'fortran_order': False, 'shape': ()}", ET_INVALID_ARGUMENT,
       "missing key 'descr'"},
      {"{'descr': '<f4', 'shape': ()}", ET_INVALID_ARGUMENT,
       "missing key 'fortran_order'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}",
       ET_INVALID_ARGUMENT, "duplicate"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}",
       ET_INVALID_ARGUMENT, "unknown key"},
      {"{'descr': '<f4', 'fortran_order': Flase, 'shape': ()}",
       ET_INVALID_ARGUMENT, "True or False"},
      {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': ()}",
       ET_INVALID_ARGUMENT, "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [2]}",
       ET_INVALID_ARGUMENT, "tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}",
       ET_INVALID_ARGUMENT, "non-negative"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}",
       ET_INVALID_ARGUMENT, "expected ',' or ')'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,",
       ET_INVALID_ARGUMENT, "non-negative"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': "
       "(99999999999999999999,)}",
       ET_INVALID_ARGUMENT, "overflows"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': "
       "(4294967296, 4294967296, 4294967296)}",
       ET_INVALID_ARGUMENT, "too large"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': ()} x",
       ET_INVALID_ARGUMENT, "after the dictionary"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}",
       ET_NOT_SUPPORTED, "Fortran"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,)}",
       ET_NOT_SUPPORTED, "big-endian"},
      {"{'descr': '<U3', 'fortran_order': False, 'shape': (2,)}",
       ET_NOT_SUPPORTED, "'<U3'"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
       ET_NOT_SUPPORTED, "structured"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': "
       "(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)}",
       ET_NOT_SUPPORTED, "dimensions"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    image im;
    make_image(&im, 1, cases[c].dict, data, 0);
    et_npy_array a;
    et_diag d;
    et_diag_clear(&d);
    et_status st = parse_exact(im.bytes, im.size, &a, &d);
    if (st != cases[c].status || !strstr(d.message, cases[c].needle)) {
      fail_msg("case %zu (%s): got %s '%s', want %s containing '%s'", c,
               cases[c].dict, et_status_name(st), d.message,
               et_status_name(cases[c].status), cases[c].needle);
    }
  }
}

static void test_bad_preamble(void **state) {
  (void)state;
  const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': ()}";
  const float one = 1.0f;
  image im;
  et_npy_array a;
  et_diag d;

  make_image(&im, 1, dict, &one, 4);
  assert_int_equal(parse_exact(im.bytes, im.size, &a, NULL), ET_OK);

  image bad = im;
  bad.bytes[1] = 'n'; /* magic */
  assert_int_equal(parse_exact(bad.bytes, bad.size, &a, &d),
                   ET_INVALID_ARGUMENT);
  assert_non_null(strstr(d.message, "magic"));

  bad = im;
  bad.bytes[6] = 4; /* version 4.0 */
  assert_int_equal(parse_exact(bad.bytes, bad.size, &a, &d), ET_NOT_SUPPORTED);
  assert_non_null(strstr(d.message, "version"));

  bad = im;
  bad.bytes[7] = 1; /* version 1.1 */
  assert_int_equal(parse_exact(bad.bytes, bad.size, &a, &d), ET_NOT_SUPPORTED);

  bad = im;
  bad.bytes[8] = 0xff; /* header length past the end */
  bad.bytes[9] = 0xff;
  assert_int_equal(parse_exact(bad.bytes, bad.size, &a, &d),
                   ET_INVALID_ARGUMENT);
  assert_non_null(strstr(d.message, "past the end"));

  make_image(&bad, 2, dict, &one, 4);
  bad.bytes[11] = 0x80; /* v2 length of 2 GiB */
  assert_int_equal(parse_exact(bad.bytes, bad.size, &a, &d),
                   ET_INVALID_ARGUMENT);

  /* Too short for any preamble. */
  for (size_t n = 0; n < 12; n++) {
    assert_int_not_equal(parse_exact(im.bytes, n, &a, NULL), ET_OK);
  }
  assert_int_equal(et_npy_parse(NULL, 0, &a, NULL), ET_INVALID_ARGUMENT);
}

static void test_truncated_and_extra_data(void **state) {
  (void)state;
  const int64_t shape[] = {3, 5};
  float data[15];
  for (int i = 0; i < 15; i++) data[i] = (float)i;
  char header[ET_NPY_HEADER_MAX];
  size_t hlen;
  assert_int_equal(
      et_npy_header(ET_FLOAT, 2, shape, header, sizeof header, &hlen, NULL),
      ET_OK);
  uint8_t file[ET_NPY_HEADER_MAX + sizeof data + 1];
  memcpy(file, header, hlen);
  memcpy(file + hlen, data, sizeof data);
  size_t full = hlen + sizeof data;

  et_npy_array a;
  et_diag d;
  assert_int_equal(parse_exact(file, full, &a, &d), ET_OK);
  /* Every shorter prefix is refused, whether it cuts the header or data. */
  for (size_t n = 0; n < full; n++) {
    et_diag_clear(&d);
    et_status st = parse_exact(file, n, &a, &d);
    if (st == ET_OK) fail_msg("prefix of %zu bytes accepted", n);
    if (n >= hlen) assert_non_null(strstr(d.message, "truncated"));
  }
  /* One byte too many is refused as well. */
  file[full] = 0;
  assert_int_equal(parse_exact(file, full + 1, &a, &d), ET_INVALID_ARGUMENT);
  assert_non_null(strstr(d.message, "after its"));

  /* The same through a file: the message names it. */
  char path[512];
  tmp_path(path, sizeof path, "trunc.npy");
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(file, 1, full - 3, f), full - 3);
  fclose(f);
  assert_int_equal(et_npy_read_file(path, &a, &d), ET_INVALID_ARGUMENT);
  assert_non_null(strstr(d.message, path));
  assert_non_null(strstr(d.message, "truncated"));
  assert_null(a.data);
  unlink(path);
}

static void test_missing_file(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "does_not_exist.npy");
  et_npy_array a;
  et_diag d;
  assert_int_equal(et_npy_read_file(path, &a, &d), ET_NOT_FOUND);
  assert_non_null(strstr(d.message, path));
  tmp_path(path, sizeof path, "no_dir/out.npy");
  const int64_t shape[] = {1};
  float x = 0;
  assert_int_equal(et_npy_write_file(path, ET_FLOAT, 1, shape, &x, 4, &d),
                   ET_NOT_FOUND);
}

/* Deterministic byte mutations of a valid file: parsing must never crash
 * or read out of bounds (run under ASan to make that check bite), and any
 * accepted file must describe data that lies inside the image. */
static void test_mutations_never_overrun(void **state) {
  (void)state;
  const int64_t shape[] = {2, 2, 2};
  double data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  char header[ET_NPY_HEADER_MAX];
  size_t hlen;
  assert_int_equal(
      et_npy_header(ET_DOUBLE, 3, shape, header, sizeof header, &hlen, NULL),
      ET_OK);
  uint8_t file[ET_NPY_HEADER_MAX + sizeof data];
  memcpy(file, header, hlen);
  memcpy(file + hlen, data, sizeof data);
  size_t full = hlen + sizeof data;
  uint64_t x = 0x1234567887654321ull;
  const char alphabet[] = "{}()[]',: 0123456789<>|=fiubVTrueFalse\n";
  for (int iter = 0; iter < 20000; iter++) {
    uint8_t m[sizeof file];
    memcpy(m, file, full);
    int edits = 1 + iter % 4;
    for (int e = 0; e < edits; e++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      size_t pos = (size_t)(x % (hlen + 4)); /* mostly the header */
      m[pos] = (x >> 32) & 1 ? (uint8_t)(x >> 40)
                             : (uint8_t)alphabet[(x >> 40) % (sizeof alphabet - 1)];
    }
    size_t len = full - (size_t)(iter % 3 == 0 ? (x >> 50) % 16 : 0);
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, m, len);
    et_npy_array a;
    if (et_npy_parse(copy, len, &a, NULL) == ET_OK) {
      const uint8_t *start = a.data;
      assert_true(start >= copy && start + a.nbytes == copy + len);
      assert_int_equal(a.nbytes, a.numel * et_dtype_size(a.dtype));
    }
    free(copy);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_every_dtype),
      cmocka_unit_test(test_round_trip_max_rank),
      cmocka_unit_test(test_header_matches_numpy),
      cmocka_unit_test(test_write_refuses_mismatched_bytes),
      cmocka_unit_test(test_versions_and_syntax_variants),
      cmocka_unit_test(test_descr_mapping),
      cmocka_unit_test(test_malformed_headers),
      cmocka_unit_test(test_bad_preamble),
      cmocka_unit_test(test_truncated_and_extra_data),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_mutations_never_overrun),
  };
  return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
