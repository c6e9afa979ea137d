/*
 * Hosted tensor helpers shared by the command-line runner
 * (tools/edgetorch_run.c) and the Python binding
 * (python/edgetorch/runtime/_runtime.c), so that both read, lay out, print
 * and generate tensors the same way:
 *
 *   - Half and BFloat16 <-> float (the kernels' own conversions: round to
 *     nearest even, as PyTorch does);
 *   - strided copies between a tensor's dim order and C order;
 *   - the default inputs both tools give a method when the user gives none,
 *     with a cap on how many bytes they may allocate for them;
 *   - the numpy name of each dtype.
 *
 * Pure functions, no shared state: thread-safe.
 */
#ifndef EDGETORCH_EXT_HOST_TENSOR_H
#define EDGETORCH_EXT_HOST_TENSOR_H

#include <edgetorch/program.h>
#include <edgetorch/status.h>
#include <edgetorch/value.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint16_t et_host_float_to_half(float f);
float et_host_half_to_float(uint16_t h);
uint16_t et_host_float_to_bf16(float f);
float et_host_bf16_to_float(uint16_t b);

/* Element i of a buffer of `dtype` as a double (for printing). False for a
 * dtype with no single real value (complex, quantized, float8). */
bool et_host_element_as_double(const void *data, int dtype, size_t i,
                               double *out);

/* Element strides of a compact tensor of `sizes` laid out in `dim_order`. */
void et_host_strides_for(uint32_t rank, const int64_t *sizes,
                         const uint8_t *dim_order, int64_t *strides);
/* True when dim_order is 0, 1, ..., rank-1. */
bool et_host_identity_order(uint32_t rank, const uint8_t *dim_order);
/* True when `strides` (in elements) describe compact row-major memory
 * (dims of size 1 may have any stride). */
bool et_host_is_compact(uint32_t rank, const int64_t *sizes,
                        const int64_t *strides);

/*
 * Copy the elements of a tensor of `sizes` from `src` (element strides
 * `src_strides`, any sign; NULL for compact row-major) to `dst` (strides
 * `dst_strides`, NULL for compact row-major). Each element is `esize` bytes.
 */
void et_host_copy_strided(void *dst, const int64_t *dst_strides,
                          const void *src, const int64_t *src_strides,
                          size_t esize, uint32_t rank, const int64_t *sizes);

/* ---- default inputs ---------------------------------------------------------
 * Without user inputs, each Tensor input of a method gets its upper-bound
 * sizes, filled in C (row-major) order from one xorshift64 stream
 * (x ^= x << 13; x ^= x >> 7; x ^= x << 17; seed ET_HOST_GEN_SEED) consumed
 * input by input, one draw per element:
 *   float types (Float, Double, Half, BFloat16, each part of a complex):
 *     (draw >> 40) / 2^24 * 2 - 1, in [-1, 1), rounded to the dtype;
 *   integer types: (draw >> 32) % 4, in [0, 4);
 *   Bool: true, false, true, ... (no draw);
 *   other dtypes: the draw's low byte(s).
 * Scalar inputs take the value they were traced with.
 */
#define ET_HOST_GEN_SEED UINT64_C(0x9E3779B97F4A7C15)
#define ET_HOST_GEN_INT_RANGE 4

/* Default cap on the bytes of one generated input: a program may declare
 * a huge input, and a tool must not allocate gigabytes because of it. */
#define ET_HOST_MAX_GENERATED_BYTES ((size_t)256 << 20)

/* Fill `numel` elements of `dtype` from the stream `*state`. */
void et_host_fill_default(void *buf, int dtype, size_t numel,
                          uint64_t *state);

/*
 * Sizes and byte count of the default value of tensor input `index`
 * (`t`): the upper-bound sizes. OutOfResources when it exceeds
 * `max_bytes` (or overflows), with a message in `diag` naming the input, its
 * dtype and sizes, the bytes and the limit, and saying how to pass the input
 * instead (`how` completes "give the input explicitly with ..." and "or
 * raise the limit with ...": e.g. the tool's flag names).
 */
et_status et_host_default_input_size(const et_tensor_info *t, size_t index,
                                     size_t max_bytes, const char *how_input,
                                     const char *how_limit, int64_t *sizes,
                                     size_t *out_numel, size_t *out_nbytes,
                                     et_diag *diag);

/* What to do about a failure to load a method (status `st`, the runtime's
 * message `message`), to append to the message; "" when there is nothing to
 * add. Covers a missing operator (which kernel libraries lack it and how to
 * add a kernel) and a delegate whose backend is not registered. */
const char *et_host_method_load_hint(et_status st, const char *message);

/* numpy's name of a dtype ("float32"; "bfloat16" and the float8 types are
 * ml_dtypes' names, flagged by *ml_dtypes), or NULL when numpy has none. */
const char *et_host_numpy_name(int dtype, bool *ml_dtypes);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_EXT_HOST_TENSOR_H */
