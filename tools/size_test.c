/*
 * The smallest useful program on the core runtime, for `make size`: load a
 * program from a buffer (verification on), size and initialize a method in
 * static memory, set one input and execute, with no kernels registered.
 * Upstream's equivalent is test/size_test.cpp.
 */
#include <edgetorch/edgetorch.h>

#include <stdint.h>

/* The program bytes would come from flash; a volatile pointer keeps the
 * compiler from folding the calls away. */
static _Alignas(16) uint8_t program_bytes[64];
static uint8_t *volatile program_ptr = program_bytes;
static volatile size_t program_size = sizeof program_bytes;

static _Alignas(16) uint8_t arena[1024];
static _Alignas(16) uint8_t planned[512];

int main(void) {
  et_program prog;
  et_method_meta meta;
  et_method *m;
  et_diag diag;
#ifdef ET_SIZE_ALL_OPS
  /* size_test_all_ops: the same program with every portable kernel linked. */
  static const et_kernel_table *const tables[] = {&et_portable_kernels};
  static const et_registry registry = {tables, 1, NULL, 0};
#else
  static const et_registry registry = {0};
#endif
  if (et_program_load(&prog, program_ptr, program_size, ET_LOAD_DEFAULT))
    return 1;
  const char *name = et_program_method_name(&prog, 0);
  if (!name || et_program_method_meta(&prog, name, &registry, &meta, NULL)) return 2;
  void *buffers[1] = {planned};
  size_t sizes[1] = {sizeof planned};
  et_method_memory mem = {arena, sizeof arena, buffers, sizes, 1, NULL, 0};
  if (et_method_init(&prog, name, &registry, &mem, &m, &diag)) return 3;
  float x[6] = {1, 2, 3, 4, 5, 6};
  int64_t shape[1] = {6};
  if (et_method_set_input_tensor(m, 0, ET_FLOAT, 1, shape, x, sizeof x)) return 4;
  if (et_method_execute(m)) return 5;
  return et_method_output(m, 0) ? 0 : 6;
}
