/*
 * Method metadata must tell the exact arena size: one byte less fails with
 * MemoryAllocationFailed and a message, exactly that many bytes works and
 * computes the right answer. Same for each planned buffer.
 *
 * The programs come from the upstream acceptance corpus
 * (tests/python/upstream_corpus.py), found through ET_CORPUS_DIR. Without it
 * the test fails: it must never pass without having run.
 *
 * Every block is allocated with exactly the size under test, so a runtime
 * that wrote past what it asked for is caught by AddressSanitizer builds.
 *
 * The delegated programs run on the test-only demo backend; the delegate
 * lifecycle (a failing init among several delegates, an arena reused after
 * destroy and full of garbage) runs on the fault-injecting wrapper of it,
 * which counts destroy calls and catches any on a handle that is not live.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <edgetorch/edgetorch.h>

#include "demo_backend.h"
#include "fault_backend.h"
#include "file_data.h"
#include "npy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct arena_case {
  const char *program; /* directory in the corpus */
  const char *method;
} arena_case;

static const et_kernel_table *const kTables[] = {&et_portable_kernels};
static const et_backend *const kBackends[] = {&et_demo_backend};
static const et_backend *const kFaultBackends[] = {&et_fault_backend};

static et_registry registry(void) {
  et_registry r;
  memset(&r, 0, sizeof r);
  r.kernel_tables = kTables;
  r.n_kernel_tables = 1;
  r.backends = kBackends;
  r.n_backends = 1;
  return r;
}

static void *alloc_exact(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 16, n ? n : 1) != 0) return NULL;
  memset(p, 0, n ? n : 1);
  return p;
}

static const char *corpus_dir(void) {
  const char *d = getenv("ET_CORPUS_DIR");
  if (!d || !d[0]) {
    fail_msg("ET_CORPUS_DIR is not set: it must name a corpus built by "
             "tests/python/upstream_corpus.py (build/testdata/corpus-<hash>); "
             "this test refuses to pass without running");
  }
  return d;
}

typedef struct loaded {
  et_file_data file;
  et_program prog;
  et_method_meta meta;
  void **planned;
  size_t *planned_sizes;
} loaded;

static void load(loaded *l, const arena_case *c, const et_registry *reg) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/model.pte", corpus_dir(), c->program);
  et_diag diag;
  et_diag_clear(&diag);
  memset(l, 0, sizeof *l);
  et_status st = et_file_read(path, &l->file, &diag);
  if (st != ET_OK) fail_msg("cannot read %s: %s", path, diag.message);
  st = et_program_load(&l->prog, l->file.data, l->file.size, ET_LOAD_DEFAULT);
  if (st != ET_OK)
    fail_msg("%s: load failed: %s: %s", path, et_status_name(st),
             et_program_message(&l->prog));
  st = et_program_method_meta(&l->prog, c->method, reg, &l->meta, NULL);
  if (st != ET_OK)
    fail_msg("%s: method meta failed: %s: %s", path, et_status_name(st),
             et_program_message(&l->prog));
  assert_true(l->meta.arena_bytes > 0);
  size_t n = l->meta.n_planned;
  l->planned = calloc(n ? n : 1, sizeof(void *));
  l->planned_sizes = calloc(n ? n : 1, sizeof(size_t));
  assert_non_null(l->planned);
  assert_non_null(l->planned_sizes);
  for (size_t i = 0; i < n; i++) {
    l->planned_sizes[i] = et_method_meta_planned_size(&l->meta, i);
    l->planned[i] = alloc_exact(l->planned_sizes[i]);
    assert_non_null(l->planned[i]);
  }
}

static void unload(loaded *l) {
  for (size_t i = 0; i < l->meta.n_planned; i++) free(l->planned[i]);
  free(l->planned);
  free(l->planned_sizes);
  et_file_release(&l->file);
}

static et_method_memory memory_of(const loaded *l, void *arena,
                                  size_t arena_size, void *scratch,
                                  size_t scratch_size) {
  et_method_memory m;
  memset(&m, 0, sizeof m);
  m.arena = arena;
  m.arena_size = arena_size;
  m.planned = l->planned;
  m.planned_sizes = l->planned_sizes;
  m.n_planned = l->meta.n_planned;
  m.scratch = scratch;
  m.scratch_size = scratch_size;
  return m;
}

/* Run call0 of the method with the saved inputs and compare with eager. */
static void check_outputs(et_method *m, const arena_case *c) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/%s/%s/call0", corpus_dir(), c->program,
           c->method);
  size_t n_in = et_method_input_count(m);
  et_npy_array *in = calloc(n_in ? n_in : 1, sizeof *in);
  assert_non_null(in);
  for (size_t i = 0; i < n_in; i++) {
    char path[1100];
    et_diag diag;
    et_diag_clear(&diag);
    snprintf(path, sizeof path, "%s/inputs_%zu.npy", dir, i);
    et_status st = et_npy_read_file(path, &in[i], &diag);
    if (st != ET_OK) fail_msg("%s: %s", path, diag.message);
    st = et_method_set_input_tensor(m, i, in[i].dtype, in[i].rank,
                                    in[i].shape, in[i].data, in[i].nbytes);
    if (st != ET_OK)
      fail_msg("%s: set input %zu: %s: %s", c->program, i, et_status_name(st),
               et_method_message(m));
  }
  et_status st = et_method_execute(m);
  if (st != ET_OK)
    fail_msg("%s.%s: execute: %s: %s", c->program, c->method,
             et_status_name(st), et_method_message(m));
  size_t n_out = et_method_output_count(m);
  assert_true(n_out > 0);
  for (size_t k = 0; k < n_out; k++) {
    char path[1100];
    et_npy_array exp;
    et_diag diag;
    et_diag_clear(&diag);
    snprintf(path, sizeof path, "%s/expected_%zu.npy", dir, k);
    st = et_npy_read_file(path, &exp, &diag);
    if (st != ET_OK) fail_msg("%s: %s", path, diag.message);
    const et_value *v = et_method_output(m, k);
    assert_non_null(v);
    assert_int_equal(v->tag, ET_TAG_TENSOR);
    const et_tensor *t = v->u.t;
    assert_int_equal(t->dtype, ET_FLOAT);
    assert_int_equal(exp.dtype, ET_FLOAT);
    assert_int_equal(t->rank, exp.rank);
    for (uint32_t d = 0; d < t->rank; d++)
      assert_int_equal(t->sizes[d], exp.shape[d]);
    assert_int_equal(et_tensor_nbytes(t), exp.nbytes);
    const float *a = t->data;
    const float *e = exp.data;
    for (size_t i = 0; i < exp.numel; i++) {
      double tol = 1e-6 + 1e-5 * fabs((double)e[i]);
      if (!(fabs((double)a[i] - (double)e[i]) <= tol))
        fail_msg("%s.%s output %zu element %zu: got %.9g, expected %.9g",
                 c->program, c->method, k, i, (double)a[i], (double)e[i]);
    }
    et_npy_free(&exp);
  }
  for (size_t i = 0; i < n_in; i++) et_npy_free(&in[i]);
  free(in);
}

static void test_arena_exact(void **state) {
  const arena_case *c = *state;
  et_registry reg = registry();
  loaded l;
  load(&l, c, &reg);
  size_t need = l.meta.arena_bytes;
  size_t scratch_size = (size_t)1 << 20;
  void *scratch = alloc_exact(scratch_size);
  assert_non_null(scratch);

  /* One byte short: refused, with a message, and nothing written past it. */
  void *small = alloc_exact(need - 1);
  assert_non_null(small);
  et_method_memory mem = memory_of(&l, small, need - 1, scratch, scratch_size);
  et_method *m = NULL;
  et_diag diag;
  et_diag_clear(&diag);
  et_status st = et_method_init(&l.prog, c->method, &reg, &mem, &m, &diag);
  if (st != ET_MEMORY_ALLOCATION_FAILED)
    fail_msg("%s.%s with an arena of %zu bytes (metadata says %zu): got %s "
             "(%s), expected MemoryAllocationFailed",
             c->program, c->method, need - 1, need, et_status_name(st),
             diag.message);
  assert_true(strlen(diag.message) > 0);
  free(small);

  /* No arena at all. */
  mem = memory_of(&l, NULL, 0, scratch, scratch_size);
  et_diag_clear(&diag);
  st = et_method_init(&l.prog, c->method, &reg, &mem, &m, &diag);
  assert_int_not_equal(st, ET_OK);
  assert_true(strlen(diag.message) > 0);

  /* Exactly the reported size: works, and computes the right thing. */
  void *exact = alloc_exact(need);
  assert_non_null(exact);
  mem = memory_of(&l, exact, need, scratch, scratch_size);
  et_diag_clear(&diag);
  m = NULL;
  st = et_method_init(&l.prog, c->method, &reg, &mem, &m, &diag);
  if (st != ET_OK)
    fail_msg("%s.%s with an arena of exactly %zu bytes: %s: %s", c->program,
             c->method, need, et_status_name(st), diag.message);
  assert_non_null(m);
  check_outputs(m, c);
  /* And again: a second execute on the same memory. */
  check_outputs(m, c);
  et_method_destroy(m);
  free(exact);
  free(scratch);
  unload(&l);
}

static void test_planned_exact(void **state) {
  const arena_case *c = *state;
  et_registry reg = registry();
  loaded l;
  load(&l, c, &reg);
  assert_true(l.meta.n_planned > 0);
  void *arena = alloc_exact(l.meta.arena_bytes);
  assert_non_null(arena);
  for (size_t i = 0; i < l.meta.n_planned; i++) {
    size_t full = l.planned_sizes[i];
    if (full == 0) continue;
    void *saved = l.planned[i];
    l.planned[i] = alloc_exact(full - 1);
    l.planned_sizes[i] = full - 1;
    et_method_memory mem = memory_of(&l, arena, l.meta.arena_bytes, NULL, 0);
    et_method *m = NULL;
    et_diag diag;
    et_diag_clear(&diag);
    et_status st = et_method_init(&l.prog, c->method, &reg, &mem, &m, &diag);
    if (st != ET_MEMORY_ALLOCATION_FAILED)
      fail_msg("%s.%s with planned buffer %zu of %zu bytes (metadata says "
               "%zu): got %s (%s), expected MemoryAllocationFailed",
               c->program, c->method, i, full - 1, full, et_status_name(st),
               diag.message);
    assert_true(strlen(diag.message) > 0);
    free(l.planned[i]);
    l.planned[i] = saved;
    l.planned_sizes[i] = full;
  }
  /* Too few planned buffers. */
  et_method_memory mem = memory_of(&l, arena, l.meta.arena_bytes, NULL, 0);
  mem.n_planned = l.meta.n_planned - 1;
  et_method *m = NULL;
  et_diag diag;
  et_diag_clear(&diag);
  et_status st = et_method_init(&l.prog, c->method, &reg, &mem, &m, &diag);
  assert_int_not_equal(st, ET_OK);
  assert_true(strlen(diag.message) > 0);
  free(arena);
  unload(&l);
}

static void set_zero_inputs(et_method *m) {
  static const float zeros[64];
  for (size_t i = 0; i < et_method_input_count(m); i++) {
    const et_tensor *t = et_method_input(m, i)->u.t;
    int64_t sizes[ET_MAX_RANK];
    for (uint32_t d = 0; d < t->rank; d++) sizes[d] = t->sizes[d];
    assert_true(et_tensor_nbytes(t) <= sizeof zeros);
    assert_int_equal(et_method_set_input_tensor(m, i, ET_FLOAT, t->rank, sizes, zeros,
                                                et_tensor_nbytes(t)),
                     ET_OK);
  }
}

/* Two delegates, the second failing its init, on an arena full of 0xAA:
 * only the first is destroyed, once; a method destroyed twice destroys
 * nothing more; an arena reused after destroy holds stale handles that are
 * never destroyed again; a delegate whose init failed is never destroyed. */
static void test_delegate_lifecycle(void **state) {
  (void)state;
  const arena_case c = {"two_delegates", "forward"};
  et_registry reg = registry();
  reg.backends = kFaultBackends;
  loaded l;
  et_fault_reset(-1, 0, 0, false);
  load(&l, &c, &reg);
  assert_int_equal(l.meta.n_delegates, 2);
  size_t need = l.meta.arena_bytes;
  void *arena = alloc_exact(need);
  assert_non_null(arena);
  et_method_memory mem = memory_of(&l, arena, need, NULL, 0);
  et_method *m = NULL;
  et_diag diag;

  /* The second delegate fails. */
  memset(arena, 0xAA, need);
  et_fault_reset(1, 0, 0, false);
  et_diag_clear(&diag);
  assert_int_equal(et_method_init(&l.prog, c.method, &reg, &mem, &m, &diag),
                   ET_DELEGATE_INVALID_COMPATIBILITY);
  assert_null(m);
  assert_non_null(strstr(diag.message, "injected init failure (delegate 1)"));
  assert_int_equal(et_fault.inits, 2);
  assert_int_equal(et_fault.destroys, 1);
  assert_int_equal(et_fault.live, 0);
  assert_int_equal(et_fault.misuses, 0);

  /* The first fails: nothing to destroy. */
  memset(arena, 0xAA, need);
  et_fault_reset(0, 0, 0, false);
  assert_int_not_equal(et_method_init(&l.prog, c.method, &reg, &mem, &m, NULL), ET_OK);
  assert_int_equal(et_fault.inits, 1);
  assert_int_equal(et_fault.destroys, 0);

  /* Both succeed; run; destroy twice. */
  memset(arena, 0xAA, need);
  et_fault_reset(-1, 0, 0, false);
  assert_int_equal(et_method_init(&l.prog, c.method, &reg, &mem, &m, &diag), ET_OK);
  assert_int_equal(et_fault.live, 2);
  check_outputs(m, &c);
  et_method_destroy(m);
  et_method_destroy(m);
  assert_int_equal(et_fault.destroys, 2);
  assert_int_equal(et_fault.live, 0);
  assert_int_equal(et_method_execute(m), ET_INVALID_STATE);

  /* The same arena again, now holding the destroyed method's handles: the
   * second delegate fails, and only the new first handle is destroyed. */
  et_fault.fail_init_delegate = 1;
  assert_int_not_equal(et_method_init(&l.prog, c.method, &reg, &mem, &m, NULL), ET_OK);
  assert_int_equal(et_fault.destroys, 3);
  assert_int_equal(et_fault.live, 0);
  assert_int_equal(et_fault.misuses, 0);

  /* A failing execute reports the backend's own message, and the next
   * successful execute leaves no stale message behind. */
  et_fault_reset(-1, 0, 1, false);
  assert_int_equal(et_method_init(&l.prog, c.method, &reg, &mem, &m, &diag), ET_OK);
  set_zero_inputs(m);
  assert_int_equal(et_method_execute(m), ET_INTERNAL);
  assert_non_null(strstr(et_method_message(m), "injected execute failure"));
  et_fault.fail_exec_every = 0;
  set_zero_inputs(m);
  assert_int_equal(et_method_execute(m), ET_OK);
  assert_string_equal(et_method_message(m), "");
  et_method_destroy(m);
  assert_int_equal(et_fault.misuses, 0);
  free(arena);
  unload(&l);
}

static const arena_case kMlp = {"mlp", "forward"};
static const arena_case kCnn = {"cnn", "forward"};
static const arena_case kTransformer = {"transformer", "forward"};
static const arena_case kForward = {"two_methods", "forward"};
static const arena_case kOther = {"two_methods", "other"};
static const arena_case kDynamic = {"dynamic", "forward"};
static const arena_case kCond = {"cond", "forward"};
static const arena_case kDelegated = {"delegated", "forward"};
static const arena_case kDelegatedInline = {"delegated_inline", "forward"};
static const arena_case kTwoDelegates = {"two_delegates", "forward"};

/* Named "<test>/<program>.<method>" so a failure says which one. */
#define CASE(fn, c, label) \
  { #fn "/" label, fn, NULL, NULL, (void *)&(c) }

int main(void) {
  const struct CMUnitTest tests[] = {
      CASE(test_arena_exact, kMlp, "mlp.forward"),
      CASE(test_arena_exact, kCnn, "cnn.forward"),
      CASE(test_arena_exact, kTransformer, "transformer.forward"),
      CASE(test_arena_exact, kForward, "two_methods.forward"),
      CASE(test_arena_exact, kOther, "two_methods.other"),
      CASE(test_arena_exact, kDynamic, "dynamic.forward"),
      CASE(test_arena_exact, kCond, "cond.forward"),
      CASE(test_arena_exact, kDelegated, "delegated.forward"),
      CASE(test_arena_exact, kDelegatedInline, "delegated_inline.forward"),
      CASE(test_arena_exact, kTwoDelegates, "two_delegates.forward"),
      CASE(test_planned_exact, kMlp, "mlp.forward"),
      CASE(test_planned_exact, kTransformer, "transformer.forward"),
      cmocka_unit_test(test_delegate_lifecycle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
