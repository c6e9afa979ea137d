/*
 * The quantized kernel table, built from ET_QUANTIZED_OPS_DEF_FILE (this
 * directory's ops.def, or a selective build's filtered copy, which may be
 * empty). Sorted by name, as every
 * kernel table must be (tests/python/test_quantized_kernels.py checks it).
 */
#include "quantized/ops.h"

#ifndef ET_QUANTIZED_OPS_DEF_FILE
#define ET_QUANTIZED_OPS_DEF_FILE "ops.def"
#endif

static const et_kernel quantized_kernels[] = {
#define ET_OP(name, sig, fn) {name, sig, fn},
#include ET_QUANTIZED_OPS_DEF_FILE
#undef ET_OP
    {0, 0, 0} /* so an empty selection still compiles */
};

const et_kernel_table et_quantized_kernels = {
    quantized_kernels, sizeof quantized_kernels / sizeof quantized_kernels[0] - 1};
