/*
 * libFuzzer target: the CPU backend (XnnpackBackend) on an untrusted
 * delegate payload.
 *
 * The input is the payload itself (XH00 header, XN00/XN01 flatbuffer graph,
 * constant data). arena_bytes sizes it; init gets exactly that many arena
 * bytes (heap, so AddressSanitizer sees an overrun) and an external data map
 * that answers every key with a block of 0x3C bytes (so named constants,
 * quantization scales among them, load);
 * when init succeeds, execute runs on made-up inputs at the declared shapes
 * and every output byte is read. Init must never take more than it declared.
 *
 * Build: make fuzz (clang, -fsanitize=fuzzer,address,undefined).
 * Seeds: tests/fuzz/corpus_xnnpack (payloads of upstream-lowered programs).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#endif
#include <edgetorch/arena.h>
#include <edgetorch/edgetorch.h>
#include <edgetorch/xnnpack_backend.h>

#include "../../backends/xnnpack/xnn_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MEM ((size_t)32 << 20)
#define FUZZ_MAX_ELEMS ((size_t)1 << 20)
#define NAMED_BYTES ((size_t)4 << 20)

static void *alloc_exact(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 16, n ? n : 1) != 0) return NULL;
  return p;
}

static et_status named_get(const et_data_map *m, const char *key,
                           et_named_data *out) {
  static float *zeros;
  (void)m;
  (void)key;
  if (!zeros) {
    /* Not zeros: 0x3C bytes read as fp32 (0.0115) and bf16 (0.0114), so
     * named weight scales are valid and quantized graphs get to execute. */
    zeros = malloc(NAMED_BYTES);
    if (zeros) memset(zeros, 0x3C, NAMED_BYTES);
  }
  memset(out, 0, sizeof *out);
  out->data = zeros;
  out->nbytes = NAMED_BYTES;
  return zeros ? ET_OK : ET_NOT_FOUND;
}

typedef struct arg {
  et_value v;
  et_tensor t;
  int32_t sizes[XNN_MAX_DIMS];
  int64_t strides[XNN_MAX_DIMS];
  uint8_t order[XNN_MAX_DIMS];
  float *data;
} arg;

/* Node events must pair up, one node at a time, each end naming its begin's
 * node. */
typedef struct pairs {
  et_tracer tracer;
  int open;
  int32_t id;
  const char *name;
  uint32_t n;
} pairs;

static void on_node(et_tracer *self, int phase, const char *name, int32_t id) {
  pairs *p = (pairs *)self;
  if (!name) __builtin_trap();
  if (phase == ET_TRACE_BACKEND_BEGIN) {
    if (p->open) __builtin_trap();
    p->open = 1;
    p->id = id;
    p->name = name;
    return;
  }
  if (!p->open || p->id != id || p->name != name) __builtin_trap();
  p->open = 0;
  p->n++;
}

/* Every byte of a traced node output must be readable (its dtype and
 * capacity must describe the value's storage). */
static void on_output(et_tracer *self, const char *name, int32_t id,
                      const et_tensor *t) {
  (void)self;
  (void)id;
  if (!name || !t) __builtin_trap();
  size_t bytes = et_tensor_numel(t) * et_dtype_size(t->dtype);
  if (bytes > t->capacity) __builtin_trap();
  volatile unsigned char sink = 0;
  for (size_t i = 0; i < bytes; i++) sink ^= ((const unsigned char *)t->data)[i];
  (void)sink;
}

static void run(void *handle, size_t n_ext, et_diag *diag) {
  const xnn_graph *g = (const xnn_graph *)handle; /* the handle's first member */
  arg *args = calloc(n_ext ? n_ext : 1, sizeof(arg));
  et_value **pv = calloc(n_ext ? n_ext : 1, sizeof(et_value *));
  if (!args || !pv) goto out;
  for (uint32_t v = 0; v < g->n_vals; v++) {
    const xnn_val *x = &g->vals[v];
    if (x->kind != VK_INPUT && x->kind != VK_OUTPUT) continue;
    if (x->cap > FUZZ_MAX_ELEMS) goto out;
    arg *a = &args[x->ext];
    a->t.rank = x->rank;
    a->t.dtype = x->dt == XDT_QINT8    ? ET_CHAR
                 : x->dt == XDT_QUINT8 ? ET_BYTE
                                       : ET_FLOAT;
    a->t.dynamism = ET_DYNAMIC_BOUND;
    a->t.sizes = a->sizes;
    a->t.strides = a->strides;
    a->t.dim_order = a->order;
    for (uint32_t k = 0; k < x->rank; k++) {
      a->sizes[k] = (int32_t)x->bound[k];
      a->order[k] = (uint8_t)k;
    }
    a->data = alloc_exact(x->cap * sizeof(float));
    if (!a->data) goto out;
    for (size_t i = 0; i < x->cap; i++)
      a->data[i] = (float)((int)(i % 7) - 3) * 0.5f;
    a->t.data = a->data;
    a->t.capacity = x->cap * sizeof(float);
    size_t st = 1;
    for (int k = (int)x->rank - 1; k >= 0; k--) {
      a->strides[k] = (int64_t)st;
      st *= x->bound[k];
    }
    a->v.tag = ET_TAG_TENSOR;
    a->v.u.t = &a->t;
    pv[x->ext] = &a->v;
  }
  et_backend_ctx ctx = {.backend_id = "XnnpackBackend", .diag = diag};
  if (et_xnnpack_backend.execute(&ctx, handle, pv, n_ext) == ET_OK) {
    volatile float sink = 0;
    for (size_t e = 0; e < n_ext; e++)
      if (pv[e]) {
        size_t n = et_tensor_numel(&args[e].t);
        for (size_t i = 0; i < n; i++) sink += args[e].data[i];
      }
    (void)sink;
    /* Traced: the same run, one event pair per node. */
    pairs p = {{NULL, on_node, on_output}, 0, 0, NULL, 0};
    ctx.tracer = &p.tracer;
    et_status st = et_xnnpack_backend.execute(&ctx, handle, pv, n_ext);
    if (st == ET_OK ? p.open || p.n != g->n_nodes : !diag->message[0])
      __builtin_trap();
  } else if (!diag->message[0]) {
    __builtin_trap();
  }
out:
  if (args)
    for (size_t e = 0; e < n_ext; e++) free(args[e].data);
  free(args);
  free(pv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = alloc_exact(size);
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  size_t bytes = 0;
  if (et_xnnpack_backend.arena_bytes(copy, size, NULL, 0, &bytes) != ET_OK)
    __builtin_trap(); /* it reports refusals through init */
  if (bytes <= FUZZ_MAX_MEM) {
    void *mem = alloc_exact(bytes);
    et_arena arena;
    et_diag diag;
    et_data_map map = {named_get};
    memset(&diag, 0, sizeof diag);
    if (mem) {
      et_arena_init(&arena, mem, bytes);
      et_backend_ctx ctx = {.backend_id = "XnnpackBackend",
                            .diag = &diag,
                            .arena = &arena,
                            .external = &map};
      void *h = NULL;
      et_status st = et_xnnpack_backend.init(&ctx, copy, size, NULL, 0, &h);
      if (arena.used > bytes) __builtin_trap();
      if (st == ET_OK) {
        const xnn_graph *g = (const xnn_graph *)h;
        run(h, g->n_ext, &diag);
      } else if (!diag.message[0]) {
        __builtin_trap();
      }
      free(mem);
    }
  }
  free(copy);
  return 0;
}
