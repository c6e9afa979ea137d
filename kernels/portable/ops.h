/*
 * Declarations of every portable kernel, generated from ops.def (the full
 * table, whatever table a selective build registers).
 *
 * Each kernel follows edgetorch/kernel.h: `args` holds the schema arguments
 * in order (out arguments included) and one return slot. Kernels own no
 * memory; they write only their outputs (and return slot) and the context's
 * scratch and diagnostic.
 *
 * Thread-safety: kernels keep no state, so different calls may run on
 * different threads as long as they do not share output tensors.
 */
#ifndef ET_KERNELS_PORTABLE_OPS_H
#define ET_KERNELS_PORTABLE_OPS_H

#include <edgetorch/kernel.h>
#include <edgetorch/value.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ET_OP(name, sig, fn) et_status fn(et_kernel_ctx *ctx, et_value **args);
#include "ops.def"
#undef ET_OP

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_PORTABLE_OPS_H */
