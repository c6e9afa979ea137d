/* Tests for the hosted layer: file loading, mmap, the module API, the PAL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <edgetorch/edgetorch.h>
#include <edgetorch/module.h>

#include "file_data.h"
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * A program exported by upstream ExecuTorch 1.5.1 (to_edge(...).to_executorch()
 * .buffer) from
 *
 *   class M(torch.nn.Module):
 *       def __init__(self):
 *           super().__init__()
 *           self.register_buffer("c", torch.tensor([[1., 2., 3.], [4., 5., 6.]]))
 *       def forward(self, x):        # x: float32 [2, 3]
 *           return x + self.c
 *
 * It has one method, "forward", one operator (aten::add.out) and a constant
 * segment holding c.
 */
static _Alignas(16) const uint8_t kAddConstPte[] = {
    0x3c, 0x00, 0x00, 0x00, 0x45, 0x54, 0x31, 0x32, 0x65, 0x68, 0x30, 0x30, 0x20, 0x00, 0x00, 0x00,
    0x28, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x18, 0x00,
    0x00, 0x00, 0x14, 0x00, 0x10, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x04, 0x00, 0x10, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x4c, 0x00, 0x00, 0x00, 0x4c, 0x00, 0x00, 0x00,
    0x4c, 0x00, 0x00, 0x00, 0xf4, 0xfe, 0xff, 0xff, 0x04, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x08, 0x00, 0x10, 0x00,
    0x00, 0x00, 0x04, 0x00, 0x08, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x00, 0x28, 0x00, 0x24, 0x00, 0x20, 0x00, 0x1c, 0x00,
    0x18, 0x00, 0x14, 0x00, 0x10, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x04, 0x00, 0x16, 0x00, 0x00, 0x00,
    0x24, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x00, 0x00,
    0xc0, 0x00, 0x00, 0x00, 0xc4, 0x00, 0x00, 0x00, 0xc8, 0x00, 0x00, 0x00, 0xf0, 0x01, 0x00, 0x00,
    0x3c, 0x03, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x00, 0x40, 0xfe, 0xff, 0xff, 0x08, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x6f, 0x75, 0x74, 0x00, 0x09, 0x00, 0x00, 0x00, 0x61, 0x74, 0x65, 0x6e,
    0x3a, 0x3a, 0x61, 0x64, 0x64, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0a, 0x00, 0x10, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00,
    0x0c, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x00, 0xdc, 0xfe, 0xff, 0xff, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x04, 0x00, 0x08, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x00, 0xdc, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x00, 0x94, 0xff, 0xff, 0xff, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x02, 0x06, 0x00,
    0x0c, 0x00, 0x04, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xb0, 0xff, 0xff, 0xff, 0x18, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x12, 0x00, 0x11, 0x00,
    0x00, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x12, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x06, 0x06, 0x00,
    0x08, 0x00, 0x04, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x0a, 0x00, 0x09, 0x00, 0x04, 0x00, 0x08, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00,
    0x00, 0x05, 0x12, 0x00, 0x14, 0x00, 0x13, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x04, 0x00, 0x12, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00,
    0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x94, 0xff, 0xff, 0xff, 0x20, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0c, 0x00, 0x0b, 0x00, 0x04, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x10, 0x00, 0x14, 0x00,
    0x13, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x00, 0x00, 0x04, 0x00, 0x10, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x04, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00, 0x39, 0x00, 0x00, 0x00, 0x5b, 0x31, 0x2c, 0x20,
    0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x20, 0x6e, 0x75, 0x6c, 0x6c, 0x2c, 0x20, 0x22,
    0x63, 0x6f, 0x6e, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x20, 0x6e, 0x75, 0x6c, 0x6c, 0x2c, 0x20,
    0x22, 0x63, 0x68, 0x69, 0x6c, 0x64, 0x72, 0x65, 0x6e, 0x5f, 0x73, 0x70, 0x65, 0x63, 0x22, 0x3a,
    0x20, 0x5b, 0x5d, 0x7d, 0x5d, 0x00, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x5b, 0x31, 0x2c, 0x20,
    0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x20, 0x22, 0x62, 0x75, 0x69, 0x6c, 0x74, 0x69,
    0x6e, 0x73, 0x2e, 0x74, 0x75, 0x70, 0x6c, 0x65, 0x22, 0x2c, 0x20, 0x22, 0x63, 0x6f, 0x6e, 0x74,
    0x65, 0x78, 0x74, 0x22, 0x3a, 0x20, 0x22, 0x6e, 0x75, 0x6c, 0x6c, 0x22, 0x2c, 0x20, 0x22, 0x63,
    0x68, 0x69, 0x6c, 0x64, 0x72, 0x65, 0x6e, 0x5f, 0x73, 0x70, 0x65, 0x63, 0x22, 0x3a, 0x20, 0x5b,
    0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x20, 0x22, 0x62, 0x75, 0x69, 0x6c, 0x74, 0x69,
    0x6e, 0x73, 0x2e, 0x74, 0x75, 0x70, 0x6c, 0x65, 0x22, 0x2c, 0x20, 0x22, 0x63, 0x6f, 0x6e, 0x74,
    0x65, 0x78, 0x74, 0x22, 0x3a, 0x20, 0x22, 0x6e, 0x75, 0x6c, 0x6c, 0x22, 0x2c, 0x20, 0x22, 0x63,
    0x68, 0x69, 0x6c, 0x64, 0x72, 0x65, 0x6e, 0x5f, 0x73, 0x70, 0x65, 0x63, 0x22, 0x3a, 0x20, 0x5b,
    0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x20, 0x6e, 0x75, 0x6c, 0x6c, 0x2c, 0x20, 0x22,
    0x63, 0x6f, 0x6e, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x20, 0x6e, 0x75, 0x6c, 0x6c, 0x2c, 0x20,
    0x22, 0x63, 0x68, 0x69, 0x6c, 0x64, 0x72, 0x65, 0x6e, 0x5f, 0x73, 0x70, 0x65, 0x63, 0x22, 0x3a,
    0x20, 0x5b, 0x5d, 0x7d, 0x5d, 0x7d, 0x2c, 0x20, 0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a,
    0x20, 0x22, 0x62, 0x75, 0x69, 0x6c, 0x74, 0x69, 0x6e, 0x73, 0x2e, 0x64, 0x69, 0x63, 0x74, 0x22,
    0x2c, 0x20, 0x22, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x20, 0x22, 0x5b, 0x5d,
    0x22, 0x2c, 0x20, 0x22, 0x63, 0x68, 0x69, 0x6c, 0x64, 0x72, 0x65, 0x6e, 0x5f, 0x73, 0x70, 0x65,
    0x63, 0x22, 0x3a, 0x20, 0x5b, 0x5d, 0x7d, 0x5d, 0x7d, 0x5d, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
    0x66, 0x6f, 0x72, 0x77, 0x61, 0x72, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40,
    0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40,
};

/* ---- helpers ---------------------------------------------------------------
 */

static char g_dir[256];

static int make_tmpdir(void **state) {
  (void)state;
  const char *base = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/et_test_ext_XXXXXX", base ? base : "/tmp");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
  (void)state;
  return rmdir(g_dir) == 0 ? 0 : -1;
}

static void tmp_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", g_dir, name);
}

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

/* Set x, run forward, expect x + c. */
static void check_forward(et_module *mod) {
  et_method *m = NULL;
  et_diag d;
  et_diag_clear(&d);
  et_status st = et_module_method(mod, "forward", &m, &d);
  if (st) fail_msg("et_module_method: %s: %s", et_status_name(st), d.message);
  assert_non_null(m);
  /* Later calls return the same, cached method. */
  et_method *again = NULL;
  assert_int_equal(et_module_method(mod, "forward", &again, NULL), ET_OK);
  assert_ptr_equal(again, m);
  assert_true(et_module_method_memory(mod, "forward") > 0);
  assert_int_equal(et_module_method_memory(mod, "nope"), 0);

  const float x[6] = {0.5f, -1.0f, 2.0f, 10.0f, 0.0f, -6.0f};
  const int64_t sizes[2] = {2, 3};
  st = et_method_set_input_tensor(m, 0, ET_FLOAT, 2, sizes, x, sizeof x);
  if (st) fail_msg("set_input: %s: %s", et_status_name(st), et_method_message(m));
  st = et_method_execute(m);
  if (st) fail_msg("execute: %s: %s", et_status_name(st), et_method_message(m));
  assert_int_equal(et_method_output_count(m), 1);
  const et_value *out = et_method_output(m, 0);
  assert_non_null(out);
  assert_int_equal(out->tag, ET_TAG_TENSOR);
  const et_tensor *t = out->u.t;
  assert_int_equal(t->dtype, ET_FLOAT);
  assert_int_equal(t->rank, 2);
  assert_int_equal(t->sizes[0], 2);
  assert_int_equal(t->sizes[1], 3);
  const float c[6] = {1, 2, 3, 4, 5, 6};
  float got[6];
  memcpy(got, t->data, sizeof got);
  for (int i = 0; i < 6; i++) assert_true(got[i] == x[i] + c[i]);
}

/* ---- file loading --------------------------------------------------------------
 */

static void test_missing_file_is_not_found(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "missing.pte");
  et_diag d;
  for (int mode = ET_LOAD_FILE; mode <= ET_LOAD_MMAP; mode++) {
    et_module *mod = (et_module *)(uintptr_t)1;
    et_diag_clear(&d);
    assert_int_equal(et_module_load_file(path, (et_load_mode)mode, &mod, &d),
                     ET_NOT_FOUND);
    assert_null(mod);
    assert_int_equal(d.status, ET_NOT_FOUND);
    assert_non_null(strstr(d.message, path));
    assert_non_null(strstr(d.message, "No such file"));
  }
  /* A missing directory along the way is NotFound too. */
  tmp_path(path, sizeof path, "no_dir/x.pte");
  et_file_data f;
  assert_int_equal(et_file_read(path, &f, &d), ET_NOT_FOUND);
  assert_int_equal(et_file_map(path, &f, &d), ET_NOT_FOUND);
}

static void test_directory_is_access_failed(void **state) {
  (void)state;
  et_file_data f;
  et_diag d;
  assert_int_equal(et_file_read(g_dir, &f, &d), ET_ACCESS_FAILED);
  assert_non_null(strstr(d.message, g_dir));
  assert_int_equal(et_file_map(g_dir, &f, &d), ET_ACCESS_FAILED);
  et_module *mod;
  assert_int_equal(et_module_load_file(g_dir, ET_LOAD_FILE, &mod, &d),
                   ET_ACCESS_FAILED);
  assert_null(mod);
}

/* Reads `path` expecting ET_ACCESS_FAILED with "Permission denied" in the
 * message: 0 when so, else a code saying what differed. */
static int read_is_denied(const char *path) {
  et_file_data f;
  et_diag d;
  if (et_file_read(path, &f, &d) != ET_ACCESS_FAILED) return 1;
  if (!strstr(d.message, "Permission denied")) return 2;
  return 0;
}

/* The nobody account's ids (the traditional 65534 where there is no
 * /etc/passwd entry to ask: the test only needs an unprivileged id). */
#define NOBODY_ID 65534

static void test_unreadable_file_is_access_failed(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "secret.pte");
  write_bytes(path, "x", 1);
  assert_int_equal(chmod(path, 0), 0);
  if (geteuid() != 0) {
    assert_int_equal(read_is_denied(path), 0);
    unlink(path);
    return;
  }
  /* Root reads anything (CI runs as root): read with nobody's effective
   * ids, then take root's back (the real and saved uid stay 0). No child
   * process: fork is unreliable under qemu-user, where this also runs. The
   * file must be reachable: open the private temporary directory for
   * traversal for the duration. */
  assert_int_equal(chmod(g_dir, 0711), 0);
  gid_t gid = getegid();
  assert_int_equal(setegid(NOBODY_ID), 0);
  assert_int_equal(seteuid(NOBODY_ID), 0);
  int denied = read_is_denied(path);
  assert_int_equal(seteuid(0), 0);
  assert_int_equal(setegid(gid), 0);
  assert_int_equal(chmod(g_dir, 0700), 0);
  unlink(path);
  /* 1: not ET_ACCESS_FAILED; 2: no "Permission denied" in the message */
  assert_int_equal(denied, 0);
}

static void test_read_and_map_agree(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "bytes.bin");
  uint8_t data[5000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
  write_bytes(path, data, sizeof data);
  et_file_data a, b;
  assert_int_equal(et_file_read(path, &a, NULL), ET_OK);
  assert_int_equal(et_file_map(path, &b, NULL), ET_OK);
  assert_int_equal(a.kind, ET_FILE_HEAP);
  assert_int_equal(b.kind, ET_FILE_MAP);
  assert_int_equal(a.size, sizeof data);
  assert_int_equal(b.size, sizeof data);
  assert_int_equal((uintptr_t)a.data % 16, 0);
  assert_int_equal((uintptr_t)b.data % 16, 0);
  assert_memory_equal(a.data, data, sizeof data);
  assert_memory_equal(b.data, data, sizeof data);
  et_file_release(&a);
  et_file_release(&b);
  assert_null(a.data);

  /* An empty file gives an aligned pointer and size 0 in both modes. */
  write_bytes(path, "", 0);
  assert_int_equal(et_file_read(path, &a, NULL), ET_OK);
  assert_int_equal(et_file_map(path, &b, NULL), ET_OK);
  assert_int_equal(a.size, 0);
  assert_int_equal(b.size, 0);
  assert_non_null(a.data);
  assert_non_null(b.data);
  et_file_release(&a);
  et_file_release(&b);
  unlink(path);
}

/* Pages of this process in memory (Linux: /proc/self/statm), or -1. */
static long resident_pages(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, res = -1;
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &size, &res) != 2) res = -1;
  fclose(f);
  return res;
}

typedef struct released {
  int calls;
  const void *data;
  size_t size;
} released;

static void count_release(void *user, const void *data, size_t size) {
  released *r = (released *)user;
  r->calls++;
  r->data = data;
  r->size = size;
}

/* et_program_release hands the hook ranges inside the program's bytes
 * only; et_file_release_pages gives a mapping's pages back (the process's
 * resident size drops) and the bytes still read the same. */
static void test_release_pages(void **state) {
  (void)state;
  uint8_t buf[100] = {0};
  et_program p;
  memset(&p, 0, sizeof p);
  p.data = buf;
  p.size = sizeof buf;
  released r = {0, NULL, 0};
  et_program_release(&p, buf, 10); /* no hook: nothing */
  et_program_set_release(&p, count_release, &r);
  et_program_release(&p, buf + 10, 20);
  assert_int_equal(r.calls, 1);
  assert_ptr_equal(r.data, buf + 10);
  assert_int_equal(r.size, 20);
  et_program_release(&p, buf + 90, 20);  /* runs past the end */
  et_program_release(&p, buf + 100, 1);  /* starts at the end */
  et_program_release(&p, buf + 50, 0);   /* empty */
  et_program_release(&p, NULL, 5);
  et_program_release(&p, &r, 1);         /* not the program's bytes */
  assert_int_equal(r.calls, 1);
  et_program_release(&p, buf, sizeof buf);
  assert_int_equal(r.calls, 2);

  char path[512];
  tmp_path(path, sizeof path, "pages.bin");
  size_t n = (size_t)16 << 20;
  uint8_t *data = malloc(n);
  assert_non_null(data);
  for (size_t i = 0; i < n; i++) data[i] = (uint8_t)(i * 13 + (i >> 12));
  write_bytes(path, data, n);
  et_file_data f;
  assert_int_equal(et_file_map(path, &f, NULL), ET_OK);
  volatile unsigned sum = 0;
  for (size_t i = 0; i < n; i += 4096) sum += ((const uint8_t *)f.data)[i];
  long before = resident_pages();
  et_file_release_pages(&f, f.data, n);
  long after = resident_pages();
#ifdef __linux__
  long pages = (long)(n / (size_t)sysconf(_SC_PAGESIZE));
  if (before < 0 || after < 0 || before - after < pages * 3 / 4)
    fail_msg("resident pages %ld -> %ld after releasing %ld mapped pages",
             before, after, pages);
#endif
  assert_memory_equal(f.data, data, n); /* read back from the file */
  et_file_release_pages(&f, data, n);   /* not the mapping: nothing */
  et_file_release_pages(&f, (const uint8_t *)f.data + n - 10, 20);
  et_file_release(&f);
  assert_int_equal(et_file_read(path, &f, NULL), ET_OK);
  et_file_release_pages(&f, f.data, n); /* heap: nothing */
  assert_memory_equal(f.data, data, n);
  et_file_release(&f);
  free(data);
  unlink(path);
  (void)sum;
}

static void test_read_from_pipe(void **state) {
  (void)state;
  /* Non-regular files are read to EOF with a growing buffer. (A FIFO
   * filled by a child process raced under qemu-user: the reader could
   * open and see EOF before the writer came, leaving the child blocked.) */
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  uint8_t data[3000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i ^ 0x5a);
  assert_int_equal(write(fds[1], data, sizeof data), (ssize_t)sizeof data);
  close(fds[1]);
  char path[64];
  snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
  et_file_data f;
  et_diag d;
  et_status st = et_file_read(path, &f, &d);
  close(fds[0]);
  if (st == ET_NOT_FOUND) skip(); /* no /dev/fd on this system */
  assert_int_equal(st, ET_OK);
  assert_int_equal(f.size, sizeof data);
  assert_memory_equal(f.data, data, sizeof data);
  et_file_release(&f);
}

/* ---- modules ------------------------------------------------------------------
 */

static void test_buffer_load_works(void **state) {
  (void)state;
  et_module *mod = NULL;
  et_diag d;
  et_diag_clear(&d);
  et_status st = et_module_load_buffer(kAddConstPte, sizeof kAddConstPte,
                                       &mod, &d);
  if (st) fail_msg("load_buffer: %s: %s", et_status_name(st), d.message);
  /* An aligned buffer is used in place. */
  assert_int_equal(et_module_load_mode(mod), ET_LOAD_BUFFER);
  const et_program *p = et_module_program(mod);
  assert_ptr_equal(p->data, kAddConstPte);
  assert_int_equal(et_program_method_count(p), 1);
  assert_string_equal(et_program_method_name(p, 0), "forward");
  assert_int_equal(et_program_constant_bytes(p) >= 24, 1);
  check_forward(mod);
  et_module_free(mod);
}

static void test_unaligned_buffer_is_copied(void **state) {
  (void)state;
  uint8_t *raw = malloc(sizeof kAddConstPte + 16);
  assert_non_null(raw);
  uint8_t *odd = raw + 1;
  if ((uintptr_t)odd % 16 == 0) odd++;
  memcpy(odd, kAddConstPte, sizeof kAddConstPte);
  et_module *mod = NULL;
  et_diag d;
  et_status st = et_module_load_buffer(odd, sizeof kAddConstPte, &mod, &d);
  if (st) fail_msg("load_buffer: %s: %s", et_status_name(st), d.message);
  /* The caller's bytes may go away: the module holds its own copy. */
  memset(odd, 0xee, sizeof kAddConstPte);
  free(raw);
  const et_program *p = et_module_program(mod);
  assert_int_equal((uintptr_t)p->data % 16, 0);
  assert_int_equal(et_module_load_mode(mod), ET_LOAD_FILE);
  check_forward(mod);
  et_module_free(mod);
}

static void test_file_and_mmap_load_work(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "add.pte");
  write_bytes(path, kAddConstPte, sizeof kAddConstPte);
  for (int mode = ET_LOAD_FILE; mode <= ET_LOAD_MMAP; mode++) {
    et_module *mod = NULL;
    et_diag d;
    et_status st = et_module_load_file(path, (et_load_mode)mode, &mod, &d);
    if (st) fail_msg("mode %d: %s: %s", mode, et_status_name(st), d.message);
    assert_int_equal(et_module_load_mode(mod), mode);
    /* a mapped program gives pages back; a heap one has no hook */
    const et_program *prog = et_module_program(mod);
    assert_true((prog->release != NULL) == (mode == ET_LOAD_MMAP));
    if (mode == ET_LOAD_MMAP)
      et_program_release(prog, prog->data, prog->size); /* bytes stay valid */
    check_forward(mod);
    et_module_free(mod);
  }
  unlink(path);
}

static void test_bad_program_fails_with_path(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "garbage.pte");
  uint8_t junk[256];
  memset(junk, 0x41, sizeof junk);
  write_bytes(path, junk, sizeof junk);
  et_module *mod = (et_module *)(uintptr_t)1;
  et_diag d;
  et_diag_clear(&d);
  et_status st = et_module_load_file(path, ET_LOAD_MMAP, &mod, &d);
  assert_int_not_equal(st, ET_OK);
  assert_null(mod);
  assert_non_null(strstr(d.message, path));
  /* Every truncation of a real program is refused (its constant segment
   * is at the end), from a copy of exactly n bytes so ASan sees overruns. */
  for (size_t n = 0; n < sizeof kAddConstPte; n++) {
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, kAddConstPte, n);
    st = et_module_load_buffer(copy, n, &mod, NULL);
    free(copy);
    if (st == ET_OK) fail_msg("a %zu-byte prefix was accepted", n);
    assert_null(mod);
  }
  unlink(path);
}

static void test_unknown_method_lists_methods(void **state) {
  (void)state;
  et_module *mod = NULL;
  assert_int_equal(
      et_module_load_buffer(kAddConstPte, sizeof kAddConstPte, &mod, NULL),
      ET_OK);
  et_method *m = (et_method *)(uintptr_t)1;
  et_diag d;
  assert_int_equal(et_module_method(mod, "backward", &m, &d), ET_NOT_FOUND);
  assert_null(m);
  assert_non_null(strstr(d.message, "backward"));
  assert_non_null(strstr(d.message, "forward"));
  et_module_free(mod);
}

/* A kernel standing in for aten::add.out: records the parallel hook it
 * sees, can hold the execute open (to test a second caller), then runs the
 * portable kernel. */
static struct {
  et_kernel_fn real;
  atomic_int calls;
  atomic_int threads_seen; /* et_parallel_threads of the last call */
  atomic_int hold, entered;
} g_spy;

static et_status spy_add(et_kernel_ctx *ctx, et_value **args) {
  atomic_fetch_add(&g_spy.calls, 1);
  atomic_store(&g_spy.threads_seen, (int)et_parallel_threads(ctx->parallel));
  atomic_store(&g_spy.entered, 1);
  while (atomic_load(&g_spy.hold)) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  return g_spy.real(ctx, args);
}

static void set_add_input(et_module *mod) {
  et_method *m = NULL;
  assert_int_equal(et_module_method(mod, "forward", &m, NULL), ET_OK);
  static const float x[6] = {0.5f, -1.0f, 2.0f, 10.0f, 0.0f, -6.0f};
  const int64_t sizes[2] = {2, 3};
  assert_int_equal(et_method_set_input_tensor(m, 0, ET_FLOAT, 2, sizes, x, sizeof x),
                   ET_OK);
}

static void *execute_forward(void *arg) {
  static et_status st;
  st = et_module_execute((et_module *)arg, "forward", NULL);
  return &st;
}

static void test_module_threads(void **state) {
  (void)state;
  const char *no_threads = getenv("ET_TEST_NO_THREADS");
  if (no_threads && no_threads[0]) { /* see CMakeLists.txt */
    print_message("skipped: no threads under %s\n", no_threads);
    skip();
  }
  const et_kernel *add = et_kernel_table_find(&et_portable_kernels, "aten::add.out");
  assert_non_null(add);
  static et_kernel spy[1];
  spy[0] = *add;
  spy[0].fn = spy_add;
  static const et_kernel_table spy_table = {spy, 1};
  g_spy.real = add->fn;
  atomic_store(&g_spy.calls, 0);
  atomic_store(&g_spy.hold, 0);

  et_module *mod = NULL;
  assert_int_equal(
      et_module_load_buffer(kAddConstPte, sizeof kAddConstPte, &mod, NULL), ET_OK);
  assert_int_equal(et_module_add_kernels(mod, &spy_table), ET_OK);
  /* A new module is serial; 0 asks for the CPUs in the affinity mask. */
  assert_int_equal(et_module_num_threads(mod), 1);
  assert_int_equal(et_module_set_num_threads(mod, 0), ET_OK);
  assert_int_equal(et_module_num_threads(mod), et_cpu_count());
  assert_int_equal(et_module_set_num_threads(mod, 3), ET_OK);
  assert_int_equal(et_module_num_threads(mod), 3);
  set_add_input(mod);
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_module_execute(mod, "forward", &d), ET_OK);
  assert_int_equal(atomic_load(&g_spy.calls), 1);
  assert_int_equal(atomic_load(&g_spy.threads_seen), 3);
  /* Serial: the kernels see no hook. */
  assert_int_equal(et_module_set_num_threads(mod, 1), ET_OK);
  assert_int_equal(et_module_num_threads(mod), 1);
  set_add_input(mod);
  assert_int_equal(et_module_execute(mod, "forward", &d), ET_OK);
  assert_int_equal(atomic_load(&g_spy.threads_seen), 1);
  /* A caller's hook, shared. */
  et_threadpool *pool = NULL;
  assert_int_equal(et_threadpool_create(2, &pool), ET_OK);
  et_module_set_parallel(mod, et_threadpool_parallel(pool));
  assert_int_equal(et_module_num_threads(mod), 2);
  set_add_input(mod);
  assert_int_equal(et_module_execute(mod, "forward", &d), ET_OK);
  assert_int_equal(atomic_load(&g_spy.threads_seen), 2);

  /* A second caller of the method while it executes is refused. */
  set_add_input(mod);
  atomic_store(&g_spy.entered, 0);
  atomic_store(&g_spy.hold, 1);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, execute_forward, mod), 0);
  while (!atomic_load(&g_spy.entered)) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(et_module_execute(mod, "forward", &d), ET_INVALID_STATE);
  assert_non_null(strstr(d.message, "already executing"));
  atomic_store(&g_spy.hold, 0);
  void *res = NULL;
  pthread_join(t, &res);
  assert_int_equal(*(et_status *)res, ET_OK);
  /* Afterwards it runs again, and the outputs are right. */
  atomic_store(&g_spy.hold, 0);
  check_forward(mod);
  et_module_free(mod);
  et_threadpool_destroy(pool); /* after the module that used it */
}

static et_status dummy_execute(et_backend_ctx *ctx, void *handle,
                               et_value **args, size_t n_args) {
  (void)ctx;
  (void)handle;
  (void)args;
  (void)n_args;
  return ET_OK;
}

static void test_add_backend(void **state) {
  (void)state;
  et_module *mod = NULL;
  assert_int_equal(
      et_module_load_buffer(kAddConstPte, sizeof kAddConstPte, &mod, NULL),
      ET_OK);
  const et_registry *reg = et_module_registry(mod);
  /* DESIGN.md: optimized, quantized, llm, portable (upstream's order) */
  assert_int_equal(reg->n_kernel_tables, 4);
  assert_ptr_equal(reg->kernel_tables[0], &et_optimized_kernels);
  assert_ptr_equal(reg->kernel_tables[1], &et_quantized_kernels);
  assert_ptr_equal(reg->kernel_tables[2], &et_llm_kernels);
  assert_ptr_equal(reg->kernel_tables[3], &et_portable_kernels);
  /* the optimized table taken out; a second time: NotFound */
  assert_int_equal(et_module_remove_kernels(mod, &et_optimized_kernels), ET_OK);
  assert_int_equal(reg->n_kernel_tables, 3);
  assert_ptr_equal(reg->kernel_tables[0], &et_quantized_kernels);
  assert_ptr_equal(reg->kernel_tables[1], &et_llm_kernels);
  assert_ptr_equal(reg->kernel_tables[2], &et_portable_kernels);
  assert_int_equal(et_module_remove_kernels(mod, &et_optimized_kernels), ET_NOT_FOUND);
  assert_int_equal(et_module_remove_kernels(NULL, &et_optimized_kernels),
                   ET_INVALID_ARGUMENT);
  assert_int_equal(et_module_add_kernels(mod, &et_optimized_kernels), ET_OK);
  assert_ptr_equal(reg->kernel_tables[0], &et_optimized_kernels);
  /* The CPU backend is built into the hosted library (the demo backend is
   * test support only). */
  assert_int_equal(reg->n_backends, 1);
  assert_string_equal(reg->backends[0]->id, "XnnpackBackend");

  static char ids[ET_MODULE_MAX_BACKENDS + 1][16];
  static et_backend backends[ET_MODULE_MAX_BACKENDS + 1];
  for (int i = 0; i <= ET_MODULE_MAX_BACKENDS; i++) {
    snprintf(ids[i], sizeof ids[i], "Backend%d", i);
    memset(&backends[i], 0, sizeof backends[i]);
    backends[i].abi_version = ET_BACKEND_ABI_VERSION;
    backends[i].id = ids[i];
    backends[i].execute = dummy_execute;
  }
  assert_int_equal(et_module_add_backend(mod, NULL), ET_INVALID_ARGUMENT);
  et_backend wrong = backends[0];
  wrong.abi_version = ET_BACKEND_ABI_VERSION + 1;
  assert_int_equal(et_module_add_backend(mod, &wrong), ET_NOT_SUPPORTED);
  for (int i = 0; i < ET_MODULE_MAX_BACKENDS - 1; i++) {
    assert_int_equal(et_module_add_backend(mod, &backends[i]), ET_OK);
  }
  assert_int_equal(reg->n_backends, ET_MODULE_MAX_BACKENDS);
  assert_ptr_equal(reg->backends[4], &backends[3]);
  assert_int_equal(et_module_add_backend(mod, &backends[2]),
                   ET_REGISTRATION_ALREADY_REGISTERED);
  assert_int_equal(
      et_module_add_backend(mod, &backends[ET_MODULE_MAX_BACKENDS]),
      ET_OUT_OF_RESOURCES);
  /* Unused backends do not get in the way of a method without delegates. */
  check_forward(mod);
  et_module_free(mod);
}

/* ---- platform layer --------------------------------------------------------------
 */

static void test_pal_time_is_monotonic(void **state) {
  (void)state;
  uint64_t a = et_pal_time_ns();
  struct timespec ts = {0, 2000000}; /* 2 ms */
  nanosleep(&ts, NULL);
  uint64_t b = et_pal_time_ns();
  assert_true(a > 0);
  assert_true(b >= a + 1000000);
  /* Logging goes to stderr and must not crash on any level. */
  et_pal_log(ET_LOG_DEBUG, "test_extension: debug line");
  et_pal_log(ET_LOG_INFO, "test_extension: info line");
  et_pal_log(ET_LOG_ERROR, "test_extension: error line");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_missing_file_is_not_found),
      cmocka_unit_test(test_directory_is_access_failed),
      cmocka_unit_test(test_unreadable_file_is_access_failed),
      cmocka_unit_test(test_read_and_map_agree),
      cmocka_unit_test(test_release_pages),
      cmocka_unit_test(test_read_from_pipe),
      cmocka_unit_test(test_buffer_load_works),
      cmocka_unit_test(test_unaligned_buffer_is_copied),
      cmocka_unit_test(test_file_and_mmap_load_work),
      cmocka_unit_test(test_bad_program_fails_with_path),
      cmocka_unit_test(test_unknown_method_lists_methods),
      cmocka_unit_test(test_add_backend),
      cmocka_unit_test(test_module_threads),
      cmocka_unit_test(test_pal_time_is_monotonic),
  };
  return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
