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
 * The one exception: et_module_load_buffer uses a 16-byte-aligned caller
 * buffer in place (zero copy), so that buffer must outlive the module; an
 * unaligned buffer is copied and may be freed after the call.
 * Threads: a module runs its methods serially until asked for threads:
 * et_module_set_num_threads gives it a thread pool of its own
 * (extension/threadpool.h; 0: as many threads as the process may use CPUs,
 * what edgetorch-run and the Python binding ask for by default), and
 * et_module_set_parallel a hook the caller shares between modules. Results
 * do not depend on the thread count.
 *
 * Thread-safety: one thread at a time per module. et_module_execute also
 * refuses (InvalidState) to start a method that another thread is
 * executing through it, so a method never runs concurrently with itself.
 */
#ifndef EDGETORCH_MODULE_H
#define EDGETORCH_MODULE_H

#include <edgetorch/method.h>
#include <edgetorch/parallel.h>
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

/* Scratch memory lent to kernels, per method, by et_module_method. Upstream's
 * executor_runner uses the same 1 MiB for its temp allocator. Define it
 * before building the extension to change it. */
#ifndef ET_MODULE_SCRATCH_BYTES
#define ET_MODULE_SCRATCH_BYTES ((size_t)1 << 20)
#endif

/* Backends et_module_add_backend accepts. */
#define ET_MODULE_MAX_BACKENDS 16

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
/* How the program bytes were obtained (ET_LOAD_BUFFER for an aligned caller
 * buffer used in place; ET_LOAD_FILE also for an unaligned buffer that was
 * copied to the heap). */
et_load_mode et_module_load_mode(const et_module *m);

/* The registry methods are initialized with: the optimized kernels, then
 * the portable ones, and the backends (the CPU backend and those added with
 * et_module_add_backend). */
const et_registry *et_module_registry(const et_module *m);
/* The backends and kernel tables every new module starts with (before
 * et_module_add_backend), in search order: for tools that list what a
 * runtime can run without loading a program. Fill out[0..min(count, cap))
 * and return count. Backends and tables have static storage. */
size_t et_module_default_backends(const et_backend **out, size_t cap);
size_t et_module_default_kernel_tables(const et_kernel_table **out,
                                       size_t cap);
/* Add a backend for methods initialized afterwards. InvalidArgument for a
 * NULL backend or id, NotSupported for another ABI version,
 * RegistrationAlreadyRegistered for an id already present, OutOfResources
 * beyond ET_MODULE_MAX_BACKENDS. */
et_status et_module_add_backend(et_module *m, const et_backend *backend);

/* Put a kernel table in front of those present, for methods initialized
 * afterwards (an optimized table, or a test's deliberately wrong kernel).
 * OutOfResources beyond ET_MODULE_MAX_KERNEL_TABLES. */
#define ET_MODULE_MAX_KERNEL_TABLES 8
et_status et_module_add_kernels(et_module *m, const et_kernel_table *table);
/* Take a kernel table out, for methods initialized afterwards: e.g.
 * &et_optimized_kernels for the portable kernels alone (exact results, the
 * same bits on every machine). NotFound if the table is not there. */
et_status et_module_remove_kernels(et_module *m, const et_kernel_table *table);

/* Data files (.ptd) et_module_load_data_file accepts. */
#define ET_MODULE_MAX_DATA 8

/*
 * Add a `.ptd` file holding tensors the program stores outside itself
 * (upstream's FlatTensor format; see flat_tensor.h). Methods initialized
 * afterwards look external tensors up in every added file, in order. A
 * damaged file is InvalidExternalData with the reason. The buffer variant
 * uses a 16-byte-aligned buffer in place (it must outlive the module) and
 * copies an unaligned one.
 */
et_status et_module_load_data_file(et_module *m, const char *path,
                                   et_load_mode mode, et_diag *diag);
et_status et_module_load_data_buffer(et_module *m, const void *data,
                                     size_t size, et_diag *diag);

/*
 * The method `name`, initialized on first use with heap memory sized from
 * its metadata: an arena of exactly arena_bytes, each planned buffer
 * zero-filled (as upstream's Module does), and ET_MODULE_SCRATCH_BYTES of
 * scratch. Later calls return the same method. On failure `diag` says why
 * (NotFound lists the program's methods).
 */
et_status et_module_method(et_module *m, const char *name, et_method **out,
                           et_diag *diag);

/*
 * The most memory et_module_method may allocate for one method (arena plus
 * planned buffers), checked against the method's metadata before anything
 * is allocated: a small file cannot make the module allocate and zero
 * gigabytes. A method over the limit fails with MemoryAllocationFailed and
 * a message naming its needs. 0 restores the default.
 */
#define ET_MODULE_DEFAULT_MEMORY_LIMIT ((size_t)1 << 30)
void et_module_set_memory_limit(et_module *m, size_t bytes);

/*
 * Give every method the same planned buffers, as upstream's Python runtime
 * does (one set per program; buffer j sized for the largest method's buffer
 * j, zero-filled once): methods then share mutable state that the exporter
 * placed at the same offsets (upstream's share_mutable_buffers), and
 * overwrite each other's intermediate values, so one method's outputs must
 * be read before another method runs. Call before the first et_module_method;
 * InvalidState afterwards.
 */
et_status et_module_share_planned_memory(et_module *m, et_diag *diag);

/*
 * Threads for this module's methods, the caller included: 0 means the CPUs
 * this process may use (et_cpu_count()), 1 serial (a new module's default).
 * Replaces any hook set with et_module_set_parallel. The pool is made with
 * the first method (et_module_method) and remade here; call only while none
 * of the module's methods executes.
 */
et_status et_module_set_num_threads(et_module *m, uint32_t n_threads);
/* The threads the module's methods use (1: serial). */
uint32_t et_module_num_threads(const et_module *m);
/*
 * Use a caller's parallel-for hook (NULL: serial) instead of the module's
 * own pool, for every method, present and future; the hook must outlive the
 * module or the next call. Frees the module's own pool if it had one.
 */
void et_module_set_parallel(et_module *m, et_parallel *parallel);

/*
 * Execute method `name` (initialized by et_module_method on first use) with
 * the module's threads. InvalidState when another thread is executing the
 * same method through the module at that moment; the method's own failures
 * otherwise, with its message in `diag`.
 */
et_status et_module_execute(et_module *m, const char *name, et_diag *diag);

/* Bytes the module allocated for method `name` (arena + planned buffers),
 * 0 if it is not initialized. */
size_t et_module_method_memory(const et_module *m, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_MODULE_H */
