/* Tests for extension/host_tensor.c and extension/file_kind.c: strided
 * copies against an element-by-element reference, the generated-input
 * stream and its cap, and file kinds by identifier. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "file_kind.h"
#include "host_tensor.h"

#include <string.h>

/* Reference: element (multi-index) by element, any strides (NULL: row-major). */
static void ref_copy(float *dst, const int64_t *ds, const float *src,
                     const int64_t *ss, uint32_t rank, const int64_t *sizes) {
  int64_t rm[ET_MAX_RANK], acc = 1;
  size_t numel = 1;
  for (uint32_t d = rank; d-- > 0;) {
    rm[d] = acc;
    acc *= sizes[d];
  }
  for (uint32_t d = 0; d < rank; d++) numel *= (size_t)sizes[d];
  for (size_t lin = 0; lin < numel; lin++) {
    int64_t doff = 0, soff = 0;
    size_t rest = lin;
    for (uint32_t d = rank; d-- > 0;) {
      int64_t i = (int64_t)(rest % (size_t)sizes[d]);
      rest /= (size_t)sizes[d];
      doff += i * (ds ? ds[d] : rm[d]);
      soff += i * (ss ? ss[d] : rm[d]);
    }
    dst[doff] = src[soff];
  }
}

static void test_copy_strided_matches_reference(void **state) {
  (void)state;
  float src[64], got[64], want[64];
  for (int i = 0; i < 64; i++) src[i] = (float)i;
  const int64_t sizes[3] = {2, 3, 4};
  /* channels-last-like permutation, transposed, and reversed (negative). */
  const int64_t perm[3] = {1, 8, 2};
  const int64_t trans[3] = {12, 1, 3};
  const int64_t rev[3] = {-12, -4, -1};
  const int64_t *cases[] = {NULL, perm, trans};
  for (size_t c = 0; c < 3; c++) {
    memset(got, 0, sizeof got);
    memset(want, 0, sizeof want);
    et_host_copy_strided(got, NULL, src, cases[c], sizeof(float), 3, sizes);
    ref_copy(want, NULL, src, cases[c], 3, sizes);
    assert_memory_equal(got, want, sizeof got);
    /* And the other direction: compact source into a strided destination. */
    memset(got, 0, sizeof got);
    memset(want, 0, sizeof want);
    et_host_copy_strided(got, cases[c], src, NULL, sizeof(float), 3, sizes);
    ref_copy(want, cases[c], src, NULL, 3, sizes);
    assert_memory_equal(got, want, sizeof got);
  }
  memset(got, 0, sizeof got);
  memset(want, 0, sizeof want);
  et_host_copy_strided(got, NULL, src + 23, rev, sizeof(float), 3, sizes);
  ref_copy(want, NULL, src + 23, rev, 3, sizes);
  assert_memory_equal(got, want, sizeof got);
  assert_true(want[0] == 23.0f && want[23] == 0.0f);
  /* An empty tensor copies nothing; a scalar copies one element. */
  const int64_t empty[2] = {3, 0};
  got[0] = -1.0f;
  et_host_copy_strided(got, NULL, src, NULL, sizeof(float), 2, empty);
  assert_true(got[0] == -1.0f);
  et_host_copy_strided(got, NULL, src + 5, NULL, sizeof(float), 0, NULL);
  assert_true(got[0] == 5.0f);
}

static void test_layout_predicates(void **state) {
  (void)state;
  const int64_t sizes[4] = {2, 3, 1, 4};
  int64_t strides[4];
  const uint8_t cl[4] = {0, 2, 3, 1};
  const uint8_t id[4] = {0, 1, 2, 3};
  et_host_strides_for(4, sizes, id, strides);
  assert_true(et_host_is_compact(4, sizes, strides));
  assert_true(et_host_identity_order(4, id));
  et_host_strides_for(4, sizes, cl, strides);
  assert_false(et_host_identity_order(4, cl));
  assert_int_equal(strides[1], 1);
  assert_int_equal(strides[3], 3);
  assert_false(et_host_is_compact(4, sizes, strides));
}

static void test_generated_stream_and_cap(void **state) {
  (void)state;
  /* The documented stream: first float draw from the seed. */
  uint64_t s = ET_HOST_GEN_SEED, x = ET_HOST_GEN_SEED;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  float f[2];
  et_host_fill_default(f, ET_FLOAT, 2, &s);
  assert_true(f[0] == (float)((double)(x >> 40) / 16777216.0 * 2.0 - 1.0));
  assert_true(f[0] >= -1.0f && f[0] < 1.0f && f[1] != f[0]);
  uint8_t b[3];
  et_host_fill_default(b, ET_BOOL, 3, &s);
  assert_true(b[0] == 1 && b[1] == 0 && b[2] == 1);

  et_tensor_info t;
  memset(&t, 0, sizeof t);
  t.dtype = ET_FLOAT;
  t.rank = 2;
  t.sizes[0] = 1 << 16;
  t.sizes[1] = 1 << 15;
  int64_t sizes[ET_MAX_RANK];
  size_t numel = 0, nbytes = 0;
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_host_default_input_size(&t, 3, ET_HOST_MAX_GENERATED_BYTES,
                                              "--input", "--limit", sizes,
                                              &numel, &nbytes, &d),
                   ET_OUT_OF_RESOURCES);
  assert_non_null(strstr(d.message, "input 3 (Float [65536, 32768])"));
  /* 2^33 bytes, or more than a 32-bit size_t holds. */
  assert_non_null(strstr(d.message, SIZE_MAX > 0xFFFFFFFFu ? "8589934592 bytes"
                                                           : "more than 4294967295 bytes"));
  assert_non_null(strstr(d.message, "--input"));
  assert_non_null(strstr(d.message, "--limit"));
  t.sizes[0] = 2;
  t.sizes[1] = 3;
  assert_int_equal(et_host_default_input_size(&t, 0, 24, "a", "b", sizes,
                                              &numel, &nbytes, &d),
                   ET_OK);
  assert_int_equal(numel, 6);
  assert_int_equal(nbytes, 24);
  assert_int_equal(sizes[1], 3);
}

static void test_file_kinds(void **state) {
  (void)state;
  const char pte[] = "\x10\0\0\0ET12eh00";
  const char ptd[] = "\x10\0\0\0FT01FH01";
  const char bpte[] = "\x10\0\0\0BP08\0\0\0\0";
  const char etdump[] = "\x40\0\0\0\x10\0\0\0ED00";
  assert_int_equal(et_file_kind_of(pte, 12), ET_KIND_PTE);
  assert_int_equal(et_file_kind_of(ptd, 12), ET_KIND_PTD);
  assert_int_equal(et_file_kind_of(bpte, 12), ET_KIND_BPTE);
  assert_int_equal(et_file_kind_of(etdump, 12), ET_KIND_ETDUMP);
  assert_int_equal(et_file_kind_of("hello, world", 12), ET_KIND_UNKNOWN);
  assert_int_equal(et_file_kind_of(pte, 6), ET_KIND_UNKNOWN);
  assert_int_equal(et_file_kind_of(NULL, 0), ET_KIND_UNKNOWN);
  assert_string_equal(et_file_kind_ext(ET_KIND_PTD), ".ptd");
  assert_int_equal(et_file_kind_of_path("/nonexistent/file.pte"), ET_KIND_UNKNOWN);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_copy_strided_matches_reference),
      cmocka_unit_test(test_layout_predicates),
      cmocka_unit_test(test_generated_stream_and_cap),
      cmocka_unit_test(test_file_kinds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
