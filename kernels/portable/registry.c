/*
 * The portable kernel table, built from ET_OPS_DEF_FILE (ops.def, or a
 * filtered copy for a selective build). The table must be sorted by name;
 * the C tests and tests/python/test_ops_def.py check it.
 */
#include "portable/ops.h"

#ifndef ET_OPS_DEF_FILE
#define ET_OPS_DEF_FILE "ops.def"
#endif

static const et_kernel portable_kernels[] = {
#define ET_OP(name, sig, fn) {name, sig, fn},
#include ET_OPS_DEF_FILE
#undef ET_OP
};

const et_kernel_table et_portable_kernels = {
    portable_kernels, sizeof portable_kernels / sizeof portable_kernels[0]};
