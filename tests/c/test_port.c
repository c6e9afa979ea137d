/* Portability: what a program says in 64-bit integers must not be truncated
 * to a 32-bit size_t. A planned buffer larger than the target can address is
 * refused at load with NotSupported; on a 64-bit target the same program
 * loads and reports the full size. Runs on every target (make test-32bit,
 * make test-aarch64, and the host builds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"
#include "util/scalar_util.h"

#include <math.h>

/* tests/fuzz/corpus/dynamic.pte: a small program with one planned buffer. */
static uint8_t *load_sample(size_t *size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/fuzz/corpus/dynamic.pte",
           ET_SOURCE_DIR);
  uint8_t *data = tu_read_file(path, size);
  assert_non_null(data);
  return data;
}

/* Byte offset in the file of planned buffer `b`'s int64 size (method 0). */
static size_t buffer_size_offset(uint8_t *data, size_t size, uint32_t b) {
  et_program p;
  assert_int_equal(et_program_load(&p, data, size, ET_LOAD_DEFAULT), ET_OK);
  fb_reader r;
  et_plan plan;
  et_reader_init(&p, &r);
  assert_int_equal(et_plan_open(&p, &r, 0, &plan, NULL), ET_OK);
  assert_true(plan.buffer_sizes.len > b + 1);
  return plan.buffer_sizes.pos + 8u * (b + 1);
}

static void put_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void test_planned_buffer_beyond_size_max(void **state) {
  (void)state;
  size_t size;
  uint8_t *data = load_sample(&size);
  size_t off = buffer_size_offset(data, size, 0);
  /* 4 GiB + 64: the low 32 bits alone would be a plausible 64 bytes. */
  const uint64_t huge = ((uint64_t)1 << 32) + 64;
  put_le64(data + off, huge);
  et_program p;
  et_status st = et_program_load(&p, data, size, ET_LOAD_DEFAULT);
  if ((uint64_t)SIZE_MAX < huge) {
    assert_int_equal(st, ET_NOT_SUPPORTED);
    assert_string_equal(et_status_name(st), "NotSupported");
    assert_non_null(strstr(et_program_message(&p), "planned buffer 0 needs "
                                                   "4294967360 bytes"));
    assert_non_null(strstr(et_program_message(&p), "more than this target "
                                                   "can address"));
  } else {
    assert_int_equal(st, ET_OK);
    et_method_meta meta;
    const char *name = et_program_method_name(&p, 0);
    assert_non_null(name);
    assert_int_equal(et_program_method_meta(&p, name, NULL, &meta, NULL), ET_OK);
    assert_true((uint64_t)et_method_meta_planned_size(&meta, 0) == huge);
  }
  free(data);
}

/* A size past INT64_MAX reads as negative: refused on every target. */
static void test_planned_buffer_negative(void **state) {
  (void)state;
  size_t size;
  uint8_t *data = load_sample(&size);
  size_t off = buffer_size_offset(data, size, 0);
  put_le64(data + off, (uint64_t)1 << 63);
  et_program p;
  assert_int_equal(et_program_load(&p, data, size, ET_LOAD_DEFAULT),
                   ET_INVALID_PROGRAM);
  assert_non_null(strstr(et_program_message(&p), "negative size"));
  free(data);
}

/* The words the runtime reads must have the sizes its format assumes. */
static void test_type_sizes(void **state) {
  (void)state;
  assert_int_equal(sizeof(int64_t), 8);
  assert_int_equal(sizeof(double), 8);
  assert_true(sizeof(size_t) == 4 || sizeof(size_t) == 8);
  assert_true(sizeof(void *) == sizeof(size_t));
}

/* Kernel messages format doubles with et_double_str (et_format has no %g);
 * it reads as printf's %g does (up to rounding of the last digit). */
static void test_double_str(void **state) {
  (void)state;
  const double v[] = {0.0, 0.5, -1.5, 2.7, 0.1, 1e-5, 0.000123, 70000.0,
                      123456.0, 1234567.0, 1e10, -3.25e-7, 3.14159265, 1e100,
                      65504.0, -9.2233720368547758e18};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    char want[64], got[ET_DOUBLE_STR_CAP];
    snprintf(want, sizeof want, "%g", v[i]);
    assert_string_equal(et_double_str(got, sizeof got, v[i]), want);
  }
  char got[ET_DOUBLE_STR_CAP];
  assert_string_equal(et_double_str(got, sizeof got, NAN), "nan");
  assert_string_equal(et_double_str(got, sizeof got, -INFINITY), "-inf");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_planned_buffer_beyond_size_max),
      cmocka_unit_test(test_planned_buffer_negative),
      cmocka_unit_test(test_type_sizes),
      cmocka_unit_test(test_double_str),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
