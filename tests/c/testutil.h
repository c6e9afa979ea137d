/* Helpers shared by the C tests (hosted: may use malloc and stdio). */
#ifndef EDGETORCH_TESTUTIL_H
#define EDGETORCH_TESTUTIL_H

#include <edgetorch/edgetorch.h>

#include <stddef.h>

/* Read a whole file into a 16-byte aligned heap buffer; NULL on failure. */
void *tu_read_file(const char *path, size_t *out_size);
/* A 16-byte aligned copy of `data`. */
void *tu_aligned_copy(const void *data, size_t size);
/* The portable-kernel registry (no backends). */
const et_registry *tu_portable_registry(void);
/* Path under the test data directory ($ET_CORPUS_DIR); NULL if unset. */
const char *tu_corpus_path(const char *name, char *buf, size_t cap);

#endif
