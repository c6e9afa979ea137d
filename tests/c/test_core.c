/* Unit tests of runtime/core pieces that need no program file: status names,
 * the message formatter, the arena, tensor resizing, kernel tables, and the
 * header checks of program loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void test_status_names(void **state) {
  (void)state;
  assert_string_equal(et_status_name(ET_OK), "Ok");
  assert_string_equal(et_status_name(ET_INVALID_ARGUMENT), "InvalidArgument");
  assert_string_equal(et_status_name(ET_OPERATOR_MISSING), "OperatorMissing");
  assert_string_equal(et_status_name(ET_INVALID_PROGRAM), "InvalidProgram");
  assert_string_equal(et_status_name(ET_MEMORY_ALLOCATION_FAILED),
                      "MemoryAllocationFailed");
  assert_string_equal(et_status_name((et_status)0x99), "Unknown");
  /* Upstream's numeric codes. */
  assert_int_equal(ET_INVALID_ARGUMENT, 0x12);
  assert_int_equal(ET_OPERATOR_MISSING, 0x14);
  assert_int_equal(ET_NOT_FOUND, 0x20);
  assert_int_equal(ET_MEMORY_ALLOCATION_FAILED, 0x21);
  assert_int_equal(ET_INVALID_PROGRAM, 0x23);
  assert_int_equal(ET_DELEGATE_INVALID_HANDLE, 0x32);
}

static void test_format(void **state) {
  (void)state;
  char buf[64];
  size_t n = et_format(buf, sizeof buf, "a%db%uc%sd%xe%lldf%zu%%", -12, 7u,
                       "str", 255u, (long long)-9000000000LL, (size_t)42);
  assert_string_equal(buf, "a-12b7cstrd0xffe-9000000000f42%");
  assert_int_equal(n, strlen(buf));
  /* Truncation keeps a terminated prefix. */
  n = et_format(buf, 5, "%s", "abcdefgh");
  assert_string_equal(buf, "abcd");
  assert_int_equal(n, 4);
  /* Through a volatile: a literal NULL for %s is a compile-time warning. */
  const char *volatile null_str = NULL;
  et_format(buf, sizeof buf, "%s", null_str);
  assert_string_equal(buf, "(null)");
  et_diag d;
  assert_int_equal(et_diag_set(&d, ET_INVALID_PROGRAM, "x=%d", 3),
                   ET_INVALID_PROGRAM);
  assert_int_equal(d.status, ET_INVALID_PROGRAM);
  assert_string_equal(d.message, "x=3");
  et_diag_clear(&d);
  assert_int_equal(d.status, ET_OK);
  assert_string_equal(d.message, "");
}

static void test_signature_kinds(void **state) {
  (void)state;
  const char *or_none;
  assert_true(et_kernel_sig_accepts('T', ET_TAG_TENSOR));
  assert_false(et_kernel_sig_accepts('T', ET_TAG_NONE));
  assert_true(et_kernel_sig_accepts('t', ET_TAG_NONE));
  assert_true(et_kernel_sig_accepts('s', ET_TAG_BOOL));
  assert_false(et_kernel_sig_accepts('S', ET_TAG_LIST_INT));
  assert_true(et_kernel_sig_accepts('O', ET_TAG_LIST_TENSOR));
  assert_false(et_kernel_sig_accepts('G', ET_TAG_NONE)); /* no 'g' kind */
  assert_false(et_kernel_sig_accepts('g', ET_TAG_LIST_BOOL));
  assert_true(et_kernel_sig_accepts('*', ET_TAG_LIST_OPTIONAL_TENSOR));
  assert_false(et_kernel_sig_accepts('T', 200));
  assert_string_equal(et_kernel_sig_kind('W', &or_none), "Tensor");
  assert_string_equal(or_none, "");
  assert_string_equal(et_kernel_sig_kind('l', &or_none), "ListInt");
  assert_string_equal(or_none, " or None");
  assert_string_equal(et_kernel_sig_kind('O', &or_none), "ListOptionalTensor");
  assert_string_equal(et_kernel_sig_kind('z', &or_none), "String");
  assert_string_equal(et_kernel_sig_kind('N', &or_none), "None");
  assert_string_equal(et_kernel_sig_kind('?', &or_none), "anything");
}

static void test_arena_counting_matches(void **state) {
  (void)state;
  const size_t req[][2] = {{3, 1}, {8, 8}, {5, 4}, {17, 16}, {0, 16}, {2, 2}};
  et_arena count;
  et_arena_init_counting(&count);
  for (size_t i = 0; i < 6; i++) et_arena_alloc(&count, req[i][0], req[i][1]);
  size_t need = count.used;
  assert_true(need >= 3 + 8 + 5 + 17 + 2);

  _Alignas(16) uint8_t buf[256];
  et_arena a;
  et_arena_init(&a, buf, need);
  for (size_t i = 0; i < 6; i++) {
    void *p = et_arena_alloc(&a, req[i][0], req[i][1]);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % req[i][1], 0);
  }
  assert_int_equal(a.used, need);
  assert_int_equal(a.failed, 0);

  et_arena_init(&a, buf, need - 1);
  void *last = NULL;
  for (size_t i = 0; i < 6; i++) last = et_arena_alloc(&a, req[i][0], req[i][1]);
  assert_null(last);
  assert_int_equal(a.failed, need);
  /* Overflowing requests fail instead of wrapping. */
  et_arena_init(&a, buf, sizeof buf);
  assert_null(et_arena_alloc(&a, SIZE_MAX, 8));
}

static void test_tensor_resize(void **state) {
  (void)state;
  int32_t sizes[4] = {2, 3, 4, 5};
  int64_t strides[4];
  const uint8_t contiguous[4] = {0, 1, 2, 3};
  const uint8_t channels_last[4] = {0, 2, 3, 1};
  et_tensor t = {0};
  t.sizes = sizes;
  t.strides = strides;
  t.dim_order = channels_last;
  t.rank = 4;
  t.dtype = ET_FLOAT;
  t.dynamism = ET_DYNAMIC_BOUND;
  t.capacity = 2 * 3 * 4 * 5 * 4;
  et_tensor_update_strides(&t);
  /* NHWC: channel stride 1, width stride C, height stride W*C. */
  assert_int_equal(strides[1], 1);
  assert_int_equal(strides[3], 3);
  assert_int_equal(strides[2], 15);
  assert_int_equal(strides[0], 60);
  assert_true(et_tensor_is_channels_last(&t));
  assert_false(et_tensor_is_contiguous(&t));

  t.dim_order = contiguous;
  const int64_t smaller[4] = {1, 3, 4, 5};
  assert_int_equal(et_tensor_resize64(&t, smaller, 4), ET_OK);
  assert_int_equal(sizes[0], 1);
  assert_int_equal(strides[0], 60);
  assert_int_equal(et_tensor_numel(&t), 60);
  const int64_t larger[4] = {3, 3, 4, 5};
  assert_int_equal(et_tensor_resize64(&t, larger, 4), ET_NOT_SUPPORTED);
  assert_int_equal(sizes[0], 1); /* unchanged on refusal */
  assert_int_equal(et_tensor_resize64(&t, larger, 3), ET_NOT_SUPPORTED);
  const int64_t negative[4] = {-1, 3, 4, 5};
  assert_int_equal(et_tensor_resize64(&t, negative, 4), ET_INVALID_ARGUMENT);

  t.dynamism = ET_STATIC;
  const int64_t same[4] = {1, 3, 4, 5};
  assert_int_equal(et_tensor_resize64(&t, same, 4), ET_OK);
  const int64_t other[4] = {1, 3, 4, 4};
  assert_int_equal(et_tensor_resize64(&t, other, 4), ET_NOT_SUPPORTED);

  assert_int_equal(et_dtype_size(ET_BFLOAT16), 2);
  assert_int_equal(et_dtype_size(ET_LONG), 8);
  assert_int_equal(et_dtype_size(99), 0);
  assert_string_equal(et_dtype_name(ET_BFLOAT16), "BFloat16");
}

static et_status k_noop(et_kernel_ctx *ctx, et_value **args) {
  (void)ctx;
  (void)args;
  return ET_OK;
}

static void test_kernel_table(void **state) {
  (void)state;
  static const et_kernel ks[] = {{"aten::add.out", "TTSWW", k_noop},
                                 {"aten::copy_", "WTBW", k_noop},
                                 {"aten::mm.out", "TTWW", k_noop},
                                 {"executorch_prim::et_view.default", "TLP",
                                  k_noop}};
  const et_kernel_table table = {ks, 4};
  for (size_t i = 0; i < 4; i++)
    assert_ptr_equal(et_kernel_table_find(&table, ks[i].name), &ks[i]);
  assert_null(et_kernel_table_find(&table, "aten::add"));
  assert_null(et_kernel_table_find(&table, "aten::zzz.out"));
  assert_null(et_kernel_table_find(&table, ""));

  et_diag d = {0};
  et_kernel_ctx ctx = {"aten::add.out", &d, NULL, 0, 0, NULL};
  assert_int_equal(et_kernel_fail(&ctx, ET_INVALID_ARGUMENT, "bad %s", "dim"),
                   ET_INVALID_ARGUMENT);
  assert_string_equal(d.message, "aten::add.out: bad dim");
  _Alignas(16) uint8_t scratch[64];
  ctx.scratch = scratch;
  ctx.scratch_size = sizeof scratch;
  void *a = et_kernel_scratch(&ctx, 10, 8);
  void *b = et_kernel_scratch(&ctx, 16, 16);
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal((uintptr_t)b % 16, 0);
  assert_null(et_kernel_scratch(&ctx, 64, 1));
}

/* ---- program header checks on synthetic bytes ---------------------------- */

static et_status load_bytes(const void *bytes, size_t n, et_program *p) {
  void *copy = tu_aligned_copy(bytes, n);
  et_status st = et_program_load(p, copy, n, ET_LOAD_DEFAULT);
  /* The program refers to the bytes only while loaded; nothing else below
   * uses them. */
  free(copy);
  return st;
}

static void test_header_errors(void **state) {
  (void)state;
  et_program p;
  uint8_t small[5] = {0};
  assert_int_equal(load_bytes(small, sizeof small, &p), ET_INVALID_PROGRAM);
  assert_non_null(strstr(et_program_message(&p), "too small"));

  uint8_t wrong[16] = {8, 0, 0, 0, 'P', 'K', 0, 0};
  assert_int_equal(load_bytes(wrong, sizeof wrong, &p), ET_INVALID_PROGRAM);
  assert_non_null(strstr(et_program_message(&p), "not an ExecuTorch program"));

  uint8_t newer[16] = {8, 0, 0, 0, 'E', 'T', '1', '3'};
  assert_int_equal(load_bytes(newer, sizeof newer, &p), ET_NOT_SUPPORTED);
  assert_non_null(strstr(et_program_message(&p), "ET13"));
  assert_non_null(strstr(et_program_message(&p), "ET12"));
  assert_non_null(strstr(et_program_message(&p), "newer"));

  uint8_t bad_root[16] = {0xf0, 0xff, 0, 0, 'E', 'T', '1', '2'};
  assert_int_equal(load_bytes(bad_root, sizeof bad_root, &p),
                   ET_INVALID_PROGRAM);
  assert_non_null(strstr(et_program_message(&p), "root offset"));

  uint8_t eh[48] = {40, 0, 0, 0, 'E', 'T', '1', '2', 'e', 'h', '0', '0', 32};
  eh[16] = 200; /* program_size beyond the 48-byte file */
  assert_int_equal(load_bytes(eh, sizeof eh, &p), ET_INVALID_PROGRAM);
  assert_non_null(strstr(et_program_message(&p), "program_size"));

  /* Unaligned data is refused before anything is read. */
  _Alignas(16) uint8_t aligned[32] = {0};
  assert_int_equal(et_program_load(&p, aligned + 1, 16, 0), ET_INVALID_ARGUMENT);
  assert_non_null(strstr(et_program_message(&p), "aligned"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_names),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_signature_kinds),
      cmocka_unit_test(test_arena_counting_matches),
      cmocka_unit_test(test_tensor_resize),
      cmocka_unit_test(test_kernel_table),
      cmocka_unit_test(test_header_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
