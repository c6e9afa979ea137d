/*
 * Kernels: the C functions behind KernelCall instructions, and the tables
 * that register them.
 *
 * A kernel receives the instruction's argument values in upstream's order:
 * every schema argument (out arguments included) followed by one return slot.
 * It checks what only it can check (dtypes, shapes, dim orders, ranges),
 * writes its outputs and returns ET_OK, or returns a failure made with
 * et_kernel_fail() that says which operator and which argument.
 *
 * Each table entry carries a signature string with one character per
 * argument (return slot included). The runtime checks the value tags against
 * it once, when a method is initialized, so a kernel never re-checks tags:
 *
 *   T  tensor the kernel reads     t  tensor or None
 *   W  tensor the kernel writes (out arguments, the return slot of an out
 *      variant, the self of an in-place op): never a constant
 *   P  tensor whose data pointer the kernel sets (et_view's out)
 *   I  int                         i  int or None
 *   D  double                      d  double or None
 *   B  bool                        b  bool or None
 *   S  scalar (int, double, bool)  s  scalar or None
 *   L  int list                    l  int list or None
 *   F  double list                 f  double list or None
 *   G  bool list
 *   V  tensor list                 O  optional tensor list
 *   Z  string                      z  string or None
 *   N  None
 *   *  anything (the kernel checks)
 *
 * Tables are plain const arrays, sorted by name (strcmp order) so lookup is a
 * binary search; a selective build is a filtered copy of ops.def.
 *
 * Thread-safety: tables are immutable. A context belongs to one call.
 */
#ifndef EDGETORCH_KERNEL_H
#define EDGETORCH_KERNEL_H

#include <edgetorch/parallel.h>
#include <edgetorch/status.h>
#include <edgetorch/value.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_kernel_ctx {
  const char *op_name; /* "aten::add.out", for messages */
  et_diag *diag;       /* where failures are recorded (may be NULL) */
  uint8_t *scratch;    /* caller-provided scratch memory, reset per call */
  size_t scratch_size;
  size_t scratch_used;
  /* The method's parallel-for hook (parallel.h) or NULL: serial. A kernel
   * may split its outputs with et_parallel_for(); the portable kernels run
   * serially. */
  et_parallel *parallel;
} et_kernel_ctx;

typedef et_status (*et_kernel_fn)(et_kernel_ctx *ctx, et_value **args);

typedef struct et_kernel {
  const char *name; /* "aten::add.out"; "aten::copy_" when the overload is empty */
  const char *sig;  /* argument kinds, see above; length = number of args */
  et_kernel_fn fn;
} et_kernel;

typedef struct et_kernel_table {
  const et_kernel *kernels; /* sorted by name */
  size_t count;
} et_kernel_table;

/* True if a value tagged `tag` (et_tag) fits signature letter `c`. */
bool et_kernel_sig_accepts(char c, uint32_t tag);
/* The kind letter `c` stands for ("Tensor"); *out_or_none is " or None"
 * for a lower-case letter, else "". For messages. */
const char *et_kernel_sig_kind(char c, const char **out_or_none);

/* Binary search of one table; NULL if absent. */
const et_kernel *et_kernel_table_find(const et_kernel_table *table,
                                      const char *name);

/*
 * Record a kernel failure: the message is prefixed with the operator's name.
 * Returns `status`.
 */
et_status et_kernel_fail(et_kernel_ctx *ctx, et_status status, const char *fmt,
                         ...) ET_PRINTF_FORMAT(3, 4);

/* Scratch memory for the duration of one call; NULL if not enough. */
void *et_kernel_scratch(et_kernel_ctx *ctx, size_t bytes, size_t align);

/* The portable kernel library (kernels/portable), every operator in ops.def. */
extern const et_kernel_table et_portable_kernels;
/* The optimized kernels (kernels/optimized, library edgetorch_optimized):
 * the heavy float32 operators on vector micro kernels, with threads; meant
 * to be searched before the portable table, to which they fall back. */
extern const et_kernel_table et_optimized_kernels;

/* The quantized kernel library (kernels/quantized, library
 * edgetorch_quantized): upstream's quantized_decomposed:: operators. Search
 * it before et_portable_kernels; et_module does. */
extern const et_kernel_table et_quantized_kernels;

/* The LLM kernel library (kernels/llm, library edgetorch_llm_kernels):
 * upstream's llama:: custom ops (custom_sdpa, sdpa_with_kv_cache,
 * update_cache) on a fused attention. et_module searches it after the
 * quantized table, before the portable one. */
extern const et_kernel_table et_llm_kernels;

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_KERNEL_H */
