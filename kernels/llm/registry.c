/*
 * The LLM kernel table (llama::), built from ET_LLM_OPS_DEF_FILE (this
 * directory's ops.def, or a selective build's filtered copy, which may be
 * empty). Sorted by name, as every kernel table must be.
 */
#include "llm/ops.h"

#ifndef ET_LLM_OPS_DEF_FILE
#define ET_LLM_OPS_DEF_FILE "ops.def"
#endif

static const et_kernel llm_kernels[] = {
#define ET_OP(name, sig, fn) {name, sig, fn},
#include ET_LLM_OPS_DEF_FILE
#undef ET_OP
    {0, 0, 0} /* so an empty selection still compiles */
};

const et_kernel_table et_llm_kernels = {llm_kernels,
                                        sizeof llm_kernels / sizeof llm_kernels[0] - 1};
