/*
 * Declarations of every LLM kernel (kernels/llm), generated from this
 * directory's ops.def. Kernels follow edgetorch/kernel.h: no state, no
 * memory of their own (attention keeps its running softmax on the stack and
 * accumulates straight into the output).
 *
 * Thread-safety: as the portable kernels.
 */
#ifndef ET_KERNELS_LLM_OPS_H
#define ET_KERNELS_LLM_OPS_H

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

#endif /* ET_KERNELS_LLM_OPS_H */
