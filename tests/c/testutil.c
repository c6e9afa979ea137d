#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *tu_aligned_copy(const void *data, size_t size) {
  void *buf = aligned_alloc(16, (size + 15) / 16 * 16 + 16);
  if (buf && size) memcpy(buf, data, size);
  return buf;
}

void *tu_read_file(const char *path, size_t *out_size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return NULL;
  }
  long n = ftell(f);
  rewind(f);
  void *buf = n >= 0 ? aligned_alloc(16, ((size_t)n + 15) / 16 * 16 + 16) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) *out_size = (size_t)n;
  return buf;
}

const et_registry *tu_portable_registry(void) {
  static const et_kernel_table *const tables[] = {&et_portable_kernels};
  static const et_registry reg = {tables, 1, NULL, 0};
  return &reg;
}

const char *tu_corpus_path(const char *name, char *buf, size_t cap) {
  const char *dir = getenv("ET_CORPUS_DIR");
  if (!dir) return NULL;
  snprintf(buf, cap, "%s/%s", dir, name);
  return buf;
}
