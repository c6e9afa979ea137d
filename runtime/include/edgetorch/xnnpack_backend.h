/*
 * The CPU backend, id "XnnpackBackend": runs the subgraphs that upstream's
 * XnnpackPartitioner delegates, on edgetorch's own C kernels (no XNNPACK).
 *
 * It reads upstream's payload (an XH00 header, the XN00/XN01 flatbuffer
 * graph, constant data inline or in the program's named data / a .ptd),
 * verifies it once at init (ids, shapes, sizes, overflow) and trusts it
 * afterwards. Weights are repacked at init into the layout the GEMM kernels
 * read. float32 graphs are supported; quantized, fp16 and bf16 values are
 * refused at init with NotSupported.
 *
 * Memory: everything (handle, values, packed weights, intermediate tensors,
 * scratch) comes from the method arena in one block whose size arena_bytes
 * reports exactly. Thread-safety: the struct is immutable; a handle belongs
 * to its method.
 */
#ifndef EDGETORCH_XNNPACK_BACKEND_H
#define EDGETORCH_XNNPACK_BACKEND_H

#include <edgetorch/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const et_backend et_xnnpack_backend;

#ifdef __cplusplus
}
#endif

#endif
