/* Tests for the tracer hook (core), the ETDump recorder and bundled
 * programs (extension). The program and its test vector come from
 * tests/fuzz/corpus_bundled/linear_relu.bpte (written by edgetorch.bundle
 * from Linear(3, 2) + ReLU; upstream's reader loads it, see
 * tests/python/test_devtools_bundle.py). The CPU backend's node events are
 * checked on tests/fuzz/corpus_xnnpack/cnn-80324abe, the XNNPACK payload of
 * an upstream-lowered CNN. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <edgetorch/edgetorch.h>
#include <edgetorch/module.h>
#include <edgetorch/xnnpack_backend.h>

#include "../../backends/xnnpack/xnn_internal.h"

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

/* Backend node outputs: a node with an id gets a debug event with
 * delegate_debug_id_int; a node known by name alone gets one with its name
 * as delegate_debug_id_str (as its profile event has), so the Inspector
 * files it with the node; an output with neither is not logged. */
static size_t count_in(const uint8_t *b, size_t n, const char *s) {
  size_t k = strlen(s), c = 0;
  for (size_t i = 0; i + k <= n; i++) c += memcmp(b + i, s, k) == 0;
  return c;
}

static void test_etdump_node_output_by_name(void **state) {
  (void)state;
  et_etdump *d = et_etdump_create();
  assert_non_null(d);
  et_etdump_set_clock(d, fake_clock, NULL);
  et_etdump_set_capture(d, true);
  et_etdump_begin_block(d, "Execute");
  et_tracer *t = et_etdump_tracer(d);
  float data[4] = {1, 2, 3, 4};
  int32_t sizes[1] = {4};
  int64_t strides[1] = {1};
  et_tensor x;
  memset(&x, 0, sizeof x);
  x.data = data;
  x.sizes = sizes;
  x.strides = strides;
  x.rank = 1;
  x.dtype = ET_FLOAT;
  x.capacity = sizeof data;
  static const char node[] = "NameOnlyNode_q7";
  t->backend_event(t, ET_TRACE_BACKEND_BEGIN, node, -1);
  t->backend_event(t, ET_TRACE_BACKEND_END, node, -1);
  t->backend_output(t, node, -1, &x);
  t->backend_output(t, NULL, -1, &x); /* neither id nor name */
  t->backend_output(t, "IdNode", 5, &x);
  size_t n = et_etdump_event_count(d), debugs = 0;
  assert_int_equal(n, 3);
  et_etdump_event e;
  assert_true(et_etdump_event_get(d, 0, &e));
  assert_null(e.name);
  assert_string_equal(e.delegate_name, node);
  assert_int_equal(e.delegate_debug_id, -1);
  for (size_t i = 1; i < n; i++) {
    et_etdump_debug v;
    assert_true(et_etdump_debug_get(d, i, &v));
    debugs++;
    assert_true(v.offset >= 0);
    if (i == 1) {
      assert_int_equal(v.delegate_debug_id, -1);
      assert_non_null(v.delegate_name);
      assert_string_equal(v.delegate_name, node);
    } else {
      assert_int_equal(v.delegate_debug_id, 5);
      assert_null(v.delegate_name);
    }
  }
  assert_int_equal(debugs, 2);
  uint8_t *bytes;
  size_t size;
  assert_int_equal(et_etdump_serialize(d, &bytes, &size), ET_OK);
  /* The name: the profile event's and the debug event's
   * delegate_debug_id_str. */
  assert_int_equal(count_in(bytes, size, node), 2);
  free(bytes);
  /* Capture off: nothing logged. */
  et_etdump_reset(d);
  et_etdump_set_capture(d, false);
  et_etdump_begin_block(d, "Execute");
  t->backend_output(t, node, -1, &x);
  assert_int_equal(et_etdump_event_count(d), 0);
  et_etdump_free(d);
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

/* ---- the CPU backend's node events ---------------------------------------- */

typedef struct node_rec {
  et_tracer tracer;
  unsigned n, open;
  bool bad_order;
  const char *names[64];
  int32_t ids[64];
  /* backend_output: per call, the node count at the time, and the view. */
  unsigned n_out;
  unsigned out_after[64];
  int32_t out_ids[64];
  uint32_t out_rank[64];
  int32_t out_sizes[64][XNN_MAX_DIMS];
  const void *out_data[64];
  int8_t out_dtype[64];
} node_rec;

static void node_output(et_tracer *self, const char *name, int32_t id,
                        const et_tensor *t) {
  node_rec *r = (node_rec *)self;
  (void)name;
  unsigned k = r->n_out++;
  if (k >= 64 || r->open || t->rank > XNN_MAX_DIMS) {
    r->bad_order = true;
    return;
  }
  r->out_after[k] = r->n;
  r->out_ids[k] = id;
  r->out_rank[k] = t->rank;
  for (uint32_t j = 0; j < t->rank; j++) r->out_sizes[k][j] = t->sizes[j];
  r->out_data[k] = t->data;
  r->out_dtype[k] = t->dtype;
}

static void node_event(et_tracer *self, int phase, const char *name,
                       int32_t id) {
  node_rec *r = (node_rec *)self;
  if (phase == ET_TRACE_BACKEND_BEGIN) {
    if (r->open || r->n >= 64) r->bad_order = true;
    r->open = 1;
    if (r->n < 64) {
      r->names[r->n] = name;
      r->ids[r->n] = id;
    }
    return;
  }
  /* The end names the node its begin named. */
  if (phase != ET_TRACE_BACKEND_END || !r->open || r->n >= 64 ||
      r->ids[r->n] != id || r->names[r->n] != name)
    r->bad_order = true;
  r->open = 0;
  r->n++;
}

static et_status zeros_get(const et_data_map *m, const char *key,
                           et_named_data *out) {
  static float zeros[1 << 14];
  (void)m;
  (void)key;
  memset(out, 0, sizeof *out);
  out->data = zeros;
  out->nbytes = sizeof zeros;
  return ET_OK;
}

typedef struct xarg {
  et_value v;
  et_tensor t;
  int32_t sizes[XNN_MAX_DIMS];
  int64_t strides[XNN_MAX_DIMS];
  uint8_t order[XNN_MAX_DIMS];
} xarg;

static void test_xnnpack_node_events(void **state) {
  (void)state;
  /* The payload's nodes (type, XNode.debug_handle) in order, as upstream's
   * schema.fbs read by its flatc lists them (65535: nodes the lowering
   * added, upstream's DEFAULT_DEBUG_HANDLE). */
  static const char *const want_names[] = {
      "StaticTranspose", "Conv2d", "DepthwiseConv2d", "Hardswish",
      "DepthwiseConv2d", "Conv2d", "MaxPooling2d", "Conv2d", "AvgPooling2d",
      "Conv2d", "Clamp", "ConvTranspose2d", "LeakyReLU", "ConvTranspose2d",
      "GlobalAvgPooling2d", "StaticTranspose", "StaticReshape",
      "FullyConnected"};
  static const int32_t want_ids[] = {65535, 1,  4,  5,  6,  8,  9,  10, 11,
                                     12,    13, 14, 15, 16, 17, 65535, 18, 19};
  const unsigned n_want = sizeof want_ids / sizeof want_ids[0];
  char path[1024];
  const char *src = getenv("ET_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/tests/fuzz/corpus_xnnpack/cnn-80324abe",
           src ? src : ET_SOURCE_DIR);
  et_file_data f;
  et_diag d;
  et_diag_clear(&d);
  assert_int_equal(et_file_read(path, &f, &d), ET_OK);
  size_t bytes = 0;
  assert_int_equal(et_xnnpack_backend.arena_bytes(f.data, f.size, NULL, 0,
                                                  &bytes), ET_OK);
  assert_true(bytes > 0);
  void *mem = aligned_alloc(16, (bytes + 15) & ~(size_t)15);
  assert_non_null(mem);
  et_arena arena;
  et_arena_init(&arena, mem, bytes);
  et_data_map map = {zeros_get};
  et_backend_ctx ctx = {.backend_id = "XnnpackBackend", .diag = &d,
                        .arena = &arena, .external = &map};
  void *h = NULL;
  assert_int_equal(et_xnnpack_backend.init(&ctx, f.data, f.size, NULL, 0, &h),
                   ET_OK);
  const xnn_graph *g = (const xnn_graph *)h;
  assert_int_equal(g->n_nodes, n_want);

  /* Arguments at the declared shapes (contiguous, dim order 0..r-1). */
  xarg args[8];
  et_value *pv[8];
  float *data[8] = {NULL};
  assert_true(g->n_ext <= 8);
  memset(args, 0, sizeof args);
  for (uint32_t v = 0; v < g->n_vals; v++) {
    const xnn_val *x = &g->vals[v];
    if (x->kind != VK_INPUT && x->kind != VK_OUTPUT) continue;
    xarg *a = &args[x->ext];
    a->t.rank = x->rank;
    a->t.dtype = ET_FLOAT;
    a->t.dynamism = ET_STATIC;
    a->t.sizes = a->sizes;
    a->t.strides = a->strides;
    a->t.dim_order = a->order;
    int64_t st = 1;
    for (int k = (int)x->rank - 1; k >= 0; k--) {
      a->sizes[k] = (int32_t)x->bound[k];
      a->order[k] = (uint8_t)k;
      a->strides[k] = st;
      st *= x->bound[k];
    }
    data[x->ext] = calloc(x->cap ? x->cap : 1, sizeof(float));
    assert_non_null(data[x->ext]);
    for (size_t i = 0; i < x->cap; i++)
      data[x->ext][i] = (float)((int)(i % 7) - 3) * 0.25f;
    a->t.data = data[x->ext];
    a->t.capacity = x->cap * sizeof(float);
    a->v.tag = ET_TAG_TENSOR;
    a->v.u.t = &a->t;
    pv[x->ext] = &a->v;
  }
  uint32_t out_ext = UINT32_MAX;
  size_t out_n = 0;
  for (uint32_t v = 0; v < g->n_vals; v++)
    if (g->vals[v].kind == VK_OUTPUT) {
      out_ext = g->vals[v].ext;
      out_n = g->vals[v].cap;
    }
  assert_true(out_ext < g->n_ext && out_n > 0 && out_n <= 64);

  /* Untraced, then traced: one begin/end pair per node, in order, with the
   * node's debug handle and type, and the same output. */
  et_backend_ctx run = {.backend_id = "XnnpackBackend", .diag = &d};
  assert_int_equal(et_xnnpack_backend.execute(&run, h, pv, g->n_ext), ET_OK);
  float plain[64];
  memcpy(plain, data[out_ext], out_n * sizeof(float));
  node_rec r;
  memset(&r, 0, sizeof r);
  r.tracer.backend_event = node_event;
  run.tracer = &r.tracer;
  assert_int_equal(et_xnnpack_backend.execute(&run, h, pv, g->n_ext), ET_OK);
  assert_false(r.bad_order);
  assert_int_equal(r.open, 0);
  assert_int_equal(r.n, n_want);
  for (unsigned i = 0; i < n_want; i++) {
    assert_int_equal(r.ids[i], want_ids[i]);
    assert_string_equal(r.names[i], want_names[i]);
  }
  assert_memory_equal(plain, data[out_ext], out_n * sizeof(float));
  assert_int_equal(r.n_out, 0); /* no output callback: none reported */
  /* With backend_output: one call per node, after its END event, with the
   * node's output value as a float32 view at its current dims. */
  memset(&r, 0, sizeof r);
  r.tracer.backend_event = node_event;
  r.tracer.backend_output = node_output;
  run.tracer = &r.tracer;
  assert_int_equal(et_xnnpack_backend.execute(&run, h, pv, g->n_ext), ET_OK);
  assert_false(r.bad_order);
  assert_int_equal(r.n, n_want);
  assert_int_equal(r.n_out, n_want);
  for (unsigned i = 0; i < n_want; i++) {
    const xnn_val *o = &g->vals[g->nodes[i].out];
    assert_int_equal(r.out_after[i], i + 1);
    assert_int_equal(r.out_ids[i], want_ids[i]);
    assert_int_equal(r.out_dtype[i], ET_FLOAT);
    assert_int_equal(r.out_rank[i], o->rank);
    assert_true(o->rank > 0);
    for (uint32_t j = 0; j < o->rank; j++)
      assert_int_equal(r.out_sizes[i][j], (int32_t)o->dims[j]);
    assert_ptr_equal(r.out_data[i], o->data);
  }
  /* The last node writes the delegate's output: its view is that tensor,
   * NHWC dims of the first conv's output are [1, H, W, 16]. */
  assert_ptr_equal(r.out_data[n_want - 1], data[out_ext]);
  assert_int_equal(r.out_rank[1], 4);
  assert_int_equal(r.out_sizes[1][3], 16);
  assert_memory_equal(plain, data[out_ext], out_n * sizeof(float));
  /* A tracer without backend events is not called. */
  et_tracer quiet = {.event = NULL};
  run.tracer = &quiet;
  assert_int_equal(et_xnnpack_backend.execute(&run, h, pv, g->n_ext), ET_OK);
  /* Without a tracer, outputs are not reported either. */
  memset(&r, 0, sizeof r);
  r.tracer.backend_output = node_output;
  run.tracer = NULL;
  assert_int_equal(et_xnnpack_backend.execute(&run, h, pv, g->n_ext), ET_OK);
  assert_int_equal(r.n_out, 0);

  for (unsigned i = 0; i < 8; i++) free(data[i]);
  free(mem);
  et_file_release(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tracer_sees_every_instruction),
      cmocka_unit_test(test_etdump_serializes),
      cmocka_unit_test(test_etdump_node_output_by_name),
      cmocka_unit_test(test_bundled_verify),
      cmocka_unit_test(test_bundled_damaged),
      cmocka_unit_test(test_xnnpack_node_events),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
