/* The optimized kernel table: ops.def here (sorted by name), or in a
 * selective build the entries of the operators it selects (CMake writes
 * that filtered copy). An empty selection leaves a table of no kernels. */
#include "optimized/optimized.h"

#ifndef ET_OPT_OPS_DEF_FILE
#define ET_OPT_OPS_DEF_FILE "optimized/ops.def"
#endif

static const et_kernel optimized_kernels[] = {
#define ET_OP(name, sig, fn) {name, sig, fn},
#include ET_OPT_OPS_DEF_FILE
#undef ET_OP
    {0, 0, 0} /* so an empty selection still compiles */
};

const et_kernel_table et_optimized_kernels = {
    optimized_kernels, sizeof optimized_kernels / sizeof optimized_kernels[0] - 1};
