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

/* The kernels built on a matrix product, with the product given (see
 * util/matmul_util.h): et_op_mm_out is et_mm_out_with(ctx, args,
 * et_matmul_exact), and so on. For the optimized table. */
#include "util/conv_util.h"
#include "util/matmul_util.h"
et_status et_mm_out_with(et_kernel_ctx *ctx, et_value **args, et_matmul_fn mm);
et_status et_bmm_out_with(et_kernel_ctx *ctx, et_value **args, et_matmul_fn mm);
et_status et_addmm_out_with(et_kernel_ctx *ctx, et_value **args, et_matmul_fn mm);
/* dw: a depthwise fast path or NULL. */
et_status et_convolution_out_with(et_kernel_ctx *ctx, et_value **args, et_matmul_fn mm,
                                  et_conv_depthwise_fn dw);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_PORTABLE_OPS_H */
