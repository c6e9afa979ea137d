/* Tests for the tracer hook (core), the ETDump recorder and bundled
 * programs (extension). The program and its test vector come from
 * tests/fuzz/corpus_bundled/linear_relu.bpte (written by edgetorch.bundle
 * from Linear(3, 2) + ReLU; upstream's reader loads it, see
 * tests/python/test_devtools_bundle.py). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <edgetorch/edgetorch.h>
#include <edgetorch/module.h>

#include "bundled.h"
#include "etdump.h"
#include "file_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static et_file_data g_file;

static int setup(void **state) {
  (void)state;
  char path[1024];
  const char *src = getenv("ET_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/tests/fuzz/corpus_bundled/linear_relu.bpte",
           src ? src : ET_SOURCE_DIR);
  et_diag d;
  et_diag_clear(&d);
  return et_file_read(path, &g_file, &d) == ET_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  et_file_release(&g_file);
  return 0;
}

/* A module running the bundled program's forward with its test inputs set. */
static et_method *open_method(et_bundled *b, et_module **mod) {
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_bundled_open(g_file.data, g_file.size, b, &d), ET_OK);
  assert_int_equal(et_module_load_buffer(b->program, b->program_size, mod, &d),
                   ET_OK);
  et_method *m = NULL;
  assert_int_equal(et_module_method(*mod, "forward", &m, &d), ET_OK);
  assert_int_equal(et_bundled_set_inputs(b, 0, 0, m, &d), ET_OK);
  return m;
}

typedef struct counting {
  et_tracer tracer;
  unsigned begins, ends, kernels, open;
  bool nested;
} counting;

static void count_event(et_tracer *self, const struct et_method *m, int phase,
                        uint32_t chain, uint32_t instr, et_status st) {
  counting *c = (counting *)self;
  et_trace_event e;
  assert_int_equal(et_method_trace_info(m, chain, instr, &e), ET_OK);
  assert_int_equal(e.instruction, instr);
  if (phase == ET_TRACE_INSTR_BEGIN) {
    if (c->open) c->nested = true;
    c->open++;
    c->begins++;
  } else {
    assert_int_equal(phase, ET_TRACE_INSTR_END);
    assert_int_equal(st, ET_OK);
    c->open--;
    c->ends++;
    if (e.kind == ET_TRACE_KERNEL) {
      assert_non_null(e.name);
      assert_non_null(strstr(e.name, "::"));
      assert_int_equal(strlen(e.sig), e.n_args);
      c->kernels++;
    }
  }
}

static void test_tracer_sees_every_instruction(void **state) {
  (void)state;
  et_bundled b;
  et_module *mod = NULL;
  et_method *m = open_method(&b, &mod);
  counting c;
  memset(&c, 0, sizeof c);
  c.tracer.event = count_event;
  et_method_set_tracer(m, &c.tracer);
  assert_int_equal(et_method_execute(m), ET_OK);
  et_method_stats s = et_method_get_stats(m);
  assert_int_equal(c.begins, s.instructions);
  assert_int_equal(c.ends, s.instructions);
  assert_true(c.kernels > 0);
  assert_false(c.nested);
  /* Detached: no more calls, same result. */
  et_method_set_tracer(m, NULL);
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_bundled_set_inputs(&b, 0, 0, m, &d), ET_OK);
  assert_int_equal(et_method_execute(m), ET_OK);
  assert_int_equal(c.begins, s.instructions);
  /* Out-of-range queries fail. */
  et_trace_event e;
  assert_int_equal(et_method_trace_info(m, 1, 0, &e), ET_INVALID_ARGUMENT);
  assert_int_equal(et_method_trace_info(m, 0, 100000, &e), ET_INVALID_ARGUMENT);
  et_module_free(mod);
}

static uint64_t fake_ticks;
static uint64_t fake_clock(void *user) {
  (void)user;
  return fake_ticks += 10;
}

static void test_etdump_serializes(void **state) {
  (void)state;
  et_bundled b;
  et_module *mod = NULL;
  et_method *m = open_method(&b, &mod);
  et_etdump *d = et_etdump_create();
  assert_non_null(d);
  et_etdump_set_clock(d, fake_clock, NULL);
  et_etdump_set_capture(d, true);
  assert_int_equal(et_etdump_execute(d, m), ET_OK);
  uint8_t *bytes;
  size_t size;
  assert_int_equal(et_etdump_serialize(d, &bytes, &size), ET_OK);
  assert_true(size > 16);
  uint32_t prefix = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 |
                    (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
  assert_int_equal(prefix, size - 4);
  assert_memory_equal(bytes + 8, "ED00", 4);
  free(bytes);
  /* Each kernel: OPERATOR_CALL and native_call_*, 10 ticks each; then the
   * method; the captured outputs sit in the debug buffer. */
  size_t n = et_etdump_event_count(d), ops = 0, natives = 0, debugs = 0;
  for (size_t i = 0; i < n; i++) {
    et_etdump_event e;
    et_etdump_debug v;
    if (et_etdump_event_get(d, i, &e)) {
      if (strcmp(e.name, "OPERATOR_CALL") == 0) ops++;
      if (strncmp(e.name, "native_call_", 12) == 0) {
        natives++;
        assert_int_equal(e.end - e.start, 10);
        assert_true(e.instruction >= 0);
      }
    } else {
      assert_true(et_etdump_debug_get(d, i, &v));
      debugs++;
    }
  }
  assert_true(ops > 0);
  assert_int_equal(ops, natives);
  assert_true(debugs >= ops);
  size_t dsize;
  assert_non_null(et_etdump_debug_buffer(d, &dsize));
  assert_true(dsize > 0);
  et_etdump_free(d);
  et_module_free(mod);
}

static void test_bundled_verify(void **state) {
  (void)state;
  et_bundled b;
  et_module *mod = NULL;
  et_method *m = open_method(&b, &mod);
  assert_string_equal(et_bundled_suite_method(&b, 0), "forward");
  assert_int_equal(et_bundled_case_count(&b, 0), 1);
  assert_int_equal(et_method_execute(m), ET_OK);
  et_bundled_output out[4];
  bool ok = false;
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_bundled_verify(&b, 0, 0, m, 1e-5, 1e-6, out, 4, &ok, &d),
                   ET_OK);
  assert_true(ok);
  assert_true(out[0].ok);
  assert_true(out[0].max_abs < 1e-6);
  /* A tolerance nothing meets fails. */
  assert_int_equal(et_bundled_verify(&b, 0, 0, m, 0, -1, out, 4, &ok, &d), ET_OK);
  assert_false(ok);
  /* No such case. */
  assert_int_equal(et_bundled_verify(&b, 0, 5, m, 0, 0, out, 4, &ok, &d),
                   ET_INVALID_ARGUMENT);
  assert_true(d.message[0] != 0);
  et_module_free(mod);
}

static void test_bundled_damaged(void **state) {
  (void)state;
  const uint8_t *data = (const uint8_t *)g_file.data;
  uint8_t *copy = malloc(g_file.size);
  assert_non_null(copy);
  et_bundled b;
  et_diag d;
  /* Every truncation is rejected with a message. */
  for (size_t n = 0; n < g_file.size; n += 3) {
    memcpy(copy, data, n);
    et_diag_clear(&d);
    et_status st = et_bundled_open(copy, n, &b, &d);
    if (st == ET_OK) continue; /* the program vector may end early */
    assert_true(d.message[0] != 0);
  }
  /* A wrong identifier. */
  memcpy(copy, data, g_file.size);
  copy[4] = 'X';
  et_diag_clear(&d);
  assert_int_equal(et_bundled_open(copy, g_file.size, &b, &d), ET_INVALID_PROGRAM);
  assert_non_null(strstr(d.message, "BP08"));
  assert_false(et_bundled_is(copy, g_file.size));
  free(copy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tracer_sees_every_instruction),
      cmocka_unit_test(test_etdump_serializes),
      cmocka_unit_test(test_bundled_verify),
      cmocka_unit_test(test_bundled_damaged),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
