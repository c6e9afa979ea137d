/*
 * libFuzzer target: a whole program's life from untrusted bytes.
 *
 * et_program_load, then for every method: metadata (the whole metadata API),
 * et_method_init on heap memory of exactly the sizes the metadata reports
 * (so AddressSanitizer sees any overrun of the arena or a planned buffer),
 * inputs made up from the metadata, et_method_execute and a read of every
 * output byte. Memory per method is capped so the fuzzer does not spend its
 * time in malloc.
 *
 * Build (clang): cmake -DET_BUILD_FUZZ=ON -DET_SANITIZE=ON
 *   -DCMAKE_C_COMPILER=clang -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link
 * Run: build-fuzz/bin/fuzz_program -max_total_time=60 CORPUS_DIR
 *   tests/fuzz/corpus
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#endif
#include "fault_backend.h"
#include <edgetorch/edgetorch.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MEM ((size_t)16 << 20)
#define FUZZ_SCRATCH ((size_t)64 << 10)
#define FUZZ_MAX_METHODS 8
#define FUZZ_MAX_INPUTS 64

static void *alloc_exact(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 16, n ? n : 1) != 0) return NULL;
  return p;
}

/* A failure must come with a message (the runtime's contract). */
static void expect_message(const char *msg) {
  if (!msg || !msg[0]) __builtin_trap();
}

static void fill(void *data, size_t nbytes, int dtype) {
  uint8_t *b = data;
  if (dtype == ET_FLOAT) {
    for (size_t i = 0; i + 4 <= nbytes; i += 4) {
      float f = (float)((int)(i / 4 % 7) - 3) * 0.5f;
      memcpy(b + i, &f, 4);
    }
  } else if (dtype == ET_DOUBLE) {
    for (size_t i = 0; i + 8 <= nbytes; i += 8) {
      double d = (double)((int)(i / 8 % 7) - 3) * 0.5;
      memcpy(b + i, &d, 8);
    }
  } else {
    size_t es = et_dtype_size(dtype);
    memset(data, 0, nbytes);
    if (es)
      for (size_t i = 0; i < nbytes; i += es) b[i] = (uint8_t)(i / es % 2);
  }
}

static void touch(const et_value *v) {
  if (!v || v->tag != ET_TAG_TENSOR || !v->u.t) return;
  const et_tensor *t = v->u.t;
  if (t->rank > ET_MAX_RANK) __builtin_trap();
  size_t nb = et_tensor_nbytes(t);
  if (nb && !t->data) __builtin_trap();
  const volatile uint8_t *p = t->data;
  unsigned sum = 0;
  for (size_t i = 0; i < nb; i++) sum += p[i];
  (void)sum;
}

static void run_method(const et_program *p, const char *name,
                       const et_registry *reg) {
  et_method_meta meta;
  et_status st = et_program_method_meta(p, name, reg, &meta, NULL);
  if (st != ET_OK) {
    expect_message(et_program_message(p));
    return;
  }
  for (size_t i = 0; i < meta.n_operators && i < 1024; i++) {
    char buf[128];
    (void)et_method_meta_operator(&meta, i, buf, sizeof buf);
  }
  for (size_t i = 0; i < meta.n_delegates && i < 1024; i++)
    (void)et_method_meta_delegate(&meta, i);
  for (size_t i = 0; i < meta.n_outputs && i < 1024; i++) {
    et_io_info io;
    (void)et_method_meta_output(&meta, i, &io);
  }
  if (meta.n_planned > 64 || meta.n_inputs > FUZZ_MAX_INPUTS) return;

  size_t total = meta.arena_bytes;
  if (total > FUZZ_MAX_MEM) return;
  for (size_t i = 0; i < meta.n_planned; i++) {
    size_t s = et_method_meta_planned_size(&meta, i);
    if (s > FUZZ_MAX_MEM - total) return;
    total += s;
  }

  void *arena = alloc_exact(meta.arena_bytes);
  void *planned[64] = {0};
  size_t planned_sizes[64] = {0};
  void *inputs[FUZZ_MAX_INPUTS] = {0};
  void *scratch = alloc_exact(FUZZ_SCRATCH);
  bool ok = arena && scratch;
  for (size_t i = 0; ok && i < meta.n_planned; i++) {
    planned_sizes[i] = et_method_meta_planned_size(&meta, i);
    planned[i] = alloc_exact(planned_sizes[i]);
    if (!planned[i]) ok = false;
    else memset(planned[i], 0, planned_sizes[i]);
  }
  et_method *m = NULL;
  if (ok) {
    et_method_memory mem;
    memset(&mem, 0, sizeof mem);
    mem.arena = arena;
    mem.arena_size = meta.arena_bytes;
    mem.planned = planned;
    mem.planned_sizes = planned_sizes;
    mem.n_planned = meta.n_planned;
    mem.scratch = scratch;
    mem.scratch_size = FUZZ_SCRATCH;
    et_diag diag;
    et_diag_clear(&diag);
    st = et_method_init(p, name, reg, &mem, &m, &diag);
    if (st != ET_OK) {
      expect_message(diag.message);
      m = NULL;
    }
  }
  if (m) {
    size_t budget = FUZZ_MAX_MEM;
    bool inputs_ok = true;
    for (size_t i = 0; i < meta.n_inputs && inputs_ok; i++) {
      et_io_info io;
      if (et_method_meta_input(&meta, i, &io) != ET_OK) {
        inputs_ok = false;
        break;
      }
      if (io.tag == ET_TAG_TENSOR) {
        if (io.tensor.rank > ET_MAX_RANK) __builtin_trap();
        size_t nb = io.tensor.nbytes;
        if (nb > budget) {
          inputs_ok = false;
          break;
        }
        budget -= nb;
        int64_t sizes[ET_MAX_RANK];
        for (uint32_t d = 0; d < io.tensor.rank; d++) sizes[d] = io.tensor.sizes[d];
        inputs[i] = alloc_exact(nb);
        if (!inputs[i]) {
          inputs_ok = false;
          break;
        }
        fill(inputs[i], nb, io.tensor.dtype);
        st = et_method_set_input_tensor(m, i, io.tensor.dtype, io.tensor.rank,
                                        sizes, inputs[i], nb);
      } else if (io.tag == ET_TAG_INT || io.tag == ET_TAG_DOUBLE ||
                 io.tag == ET_TAG_BOOL) {
        et_value v;
        memset(&v, 0, sizeof v);
        v.tag = io.tag;
        if (io.tag == ET_TAG_INT) v.u.i = io.scalar.i;
        if (io.tag == ET_TAG_DOUBLE) v.u.d = io.scalar.d;
        if (io.tag == ET_TAG_BOOL) v.u.b = io.scalar.b;
        st = et_method_set_input_value(m, i, &v);
      } else {
        continue;
      }
      if (st != ET_OK) {
        expect_message(et_method_message(m));
        inputs_ok = false;
      }
    }
    if (inputs_ok) {
      st = et_method_execute(m);
      if (st != ET_OK) {
        expect_message(et_method_message(m));
      } else {
        size_t n_out = et_method_output_count(m);
        for (size_t i = 0; i < n_out && i < 1024; i++) touch(et_method_output(m, i));
      }
    }
    et_method_destroy(m);
  }
  for (size_t i = 0; i < FUZZ_MAX_INPUTS; i++) free(inputs[i]);
  for (size_t i = 0; i < 64; i++) free(planned[i]);
  free(scratch);
  free(arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const et_kernel_table *const tables[] = {&et_quantized_kernels,
                                                  &et_portable_kernels};
  /* Delegated programs reach the backend lifecycle; see fault_backend.h. */
  static const et_backend *const backends[] = {&et_fault_backend};
  static unsigned long runs;
  /* Vary which init fails from input to input. */
  et_fault_reset(-1, 2 + runs++ % 3, 5, true);
  et_registry reg;
  memset(&reg, 0, sizeof reg);
  reg.kernel_tables = tables;
  reg.n_kernel_tables = 2;
  reg.backends = backends;
  reg.n_backends = 1;

  /* Exactly `size` bytes, 16-byte aligned, as the loader requires. */
  uint8_t *copy = alloc_exact(size);
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  et_program prog;
  memset(&prog, 0, sizeof prog);
  if (et_program_load(&prog, copy, size, ET_LOAD_DEFAULT) != ET_OK) {
    expect_message(et_program_message(&prog));
  } else {
    size_t n = et_program_method_count(&prog);
    for (size_t i = 0; i < n && i < FUZZ_MAX_METHODS; i++) {
      const char *name = et_program_method_name(&prog, i);
      if (name) run_method(&prog, name, &reg);
    }
  }
  free(copy);
  return 0;
}
