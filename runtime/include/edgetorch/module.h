/*
 * et_module: the convenient, hosted way to run a program (extension/).
 *
 * Unlike the core, a module may use the OS and malloc: it loads a `.pte`
 * from a file (read or mmap) or copies a buffer, sizes every method's arena
 * and planned buffers from method metadata, and allocates them. Tools, the
 * Python binding and hosted applications use it; embedded users use the
 * core API (program.h, method.h) with their own memory instead.
 *
 * Ownership: the module owns the program bytes (or the mapping), every
 * method it initialized and their memory; et_module_free releases all.
 * Thread-safety: one thread at a time per module.
 */
#ifndef EDGETORCH_MODULE_H
#define EDGETORCH_MODULE_H

#include <edgetorch/method.h>
#include <edgetorch/program.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum et_load_mode {
  ET_LOAD_FILE = 0, /* read the whole file into an aligned heap buffer */
  ET_LOAD_MMAP = 1, /* map the file read-only (zero copy) */
  ET_LOAD_BUFFER = 2 /* et_module_load_buffer: caller's bytes, copied only if
                        not 16-byte aligned */
} et_load_mode;

typedef struct et_module et_module;

/*
 * Load and verify a program. On failure *out is NULL and `diag` (optional)
 * says why (NotFound / AccessFailed for the file, or the program's own
 * verification message).
 */
et_status et_module_load_file(const char *path, et_load_mode mode,
                              et_module **out, et_diag *diag);
et_status et_module_load_buffer(const void *data, size_t size,
                                et_module **out, et_diag *diag);
void et_module_free(et_module *m);

const et_program *et_module_program(const et_module *m);

/* The registry methods are initialized with: the portable kernels and the
 * backends registered with et_module_add_backend (by default none). */
const et_registry *et_module_registry(const et_module *m);
et_status et_module_add_backend(et_module *m, const et_backend *backend);

/*
 * The method `name`, initialized on first use with heap memory sized from
 * its metadata (arena, planned buffers, scratch). Later calls return the same
 * method. On failure `diag` says why.
 */
et_status et_module_method(et_module *m, const char *name, et_method **out,
                           et_diag *diag);

/* Bytes the module allocated for method `name` (arena + planned buffers),
 * 0 if it is not initialized. */
size_t et_module_method_memory(const et_module *m, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_MODULE_H */
