/*
 * The elementwise engine: out[i] = f(in0[i], in1[i], ...) with numpy
 * broadcasting, any dim orders and dtype conversion, for kernels that write
 * f once per compute dtype.
 *
 * A kernel supplies a loop function that works on dense arrays of compute
 * dtypes (one dtype per input and one for the output, each Long, Float,
 * Double or Bool):
 *
 *   static void add_f32(void *out, const void *const *in, size_t n,
 *                       const void *param) {
 *     float *o = out; const float *a = in[0], *b = in[1]; ...
 *     for (size_t i = 0; i < n; i++) o[i] = a[i] + alpha * b[i];
 *   }
 *
 * The engine walks the output in its dim order in runs (broadcast_util.h).
 * When an operand already has its compute dtype and stride 1 in the run, the
 * loop function gets a pointer straight into the tensor, so same-dtype
 * contiguous operands are one call over all elements, which the compiler
 * can vectorize. Otherwise the run is processed in chunks of ET_EW_CHUNK
 * elements: inputs are converted (or broadcast) into stack buffers, the loop
 * runs, and the output chunk is converted into the out tensor. The loop
 * function is called once per run or chunk, never per element.
 *
 * The output may alias an input of the same dtype and shape (in-place
 * updates); loop functions must then read element i before writing it,
 * which the natural `o[i] = f(a[i], ...)` does.
 *
 * Thread-safety: none needed; all state is on the caller's stack.
 */
#ifndef ET_KERNELS_UTIL_ELEMENTWISE_UTIL_H
#define ET_KERNELS_UTIL_ELEMENTWISE_UTIL_H

#include <edgetorch/kernel.h>

#include "util/dtype_util.h"
#include "util/scalar_util.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ET_EW_MAX_IN 3
#ifndef ET_EW_CHUNK
#define ET_EW_CHUNK 64 /* elements per conversion chunk (stack: 5 x 8 x this) */
#endif

typedef void (*et_ew_fn)(void *out, const void *const *in, size_t n,
                         const void *param);

typedef struct et_ew_spec {
  et_ew_fn fn;
  const void *param;            /* passed to fn unchanged */
  int out_compute;              /* dtype of fn's output array */
  int in_compute[ET_EW_MAX_IN]; /* dtype of each input array */
  /*
   * A dtype the result is rounded through before it is stored in an out of
   * a different dtype, or -1. Integer ops compute in Long; when the common
   * dtype is narrower (Int8 + Int8 -> Int32 out) upstream wraps in the
   * common dtype first, and this reproduces it.
   */
  int wrap_dtype;
} et_ew_spec;

/*
 * Run `spec` over `out` (already resized to the broadcast shape) and `nin`
 * inputs, each of which must broadcast to out's shape. Fails with a message
 * naming `names[k]` if an input does not broadcast or a dtype is not
 * supported.
 */
et_status et_ew_apply(et_kernel_ctx *ctx, et_tensor *out, const et_tensor *const *in,
                      const char *const *names, uint32_t nin, const et_ew_spec *spec);

/* A spec with every input and the output in dtype `compute`. */
et_ew_spec et_ew_spec_uniform(et_ew_fn fn, const void *param, int compute,
                              uint32_t nin);

/* Pick the loop for a compute dtype from a per-dtype set. */
typedef struct et_ew_fns {
  et_ew_fn i64, f32, f64, b;
} et_ew_fns;
et_ew_fn et_ew_pick(const et_ew_fns *fns, int compute);

/*
 * The common pattern of binary arithmetic kernels: resize `out` to the
 * broadcast shape of a and b, check dim orders and dtypes, and run
 * `fns` in et_ew_compute_dtype(common) with the result wrapped through
 * `common` when out's dtype differs. `param` is passed to the loop.
 */
et_status et_ew_binary(et_kernel_ctx *ctx, const et_tensor *a, const et_tensor *b,
                       et_tensor *out, int common, const et_ew_fns *fns,
                       const void *param);

/*
 * A predicate of each element (isinf, isnan): out must be Bool and is
 * resized like `a`; `fns` reads a in et_ew_compute_dtype(a's dtype) and
 * writes et_bool8 values.
 */
et_status et_ew_predicate(et_kernel_ctx *ctx, const et_tensor *a, et_tensor *out,
                          const et_ew_fns *fns);

/*
 * Unary counterpart: out resized like `a`, computed in `compute`, stored
 * to out with conversion (wrapped through `common` when it is integral).
 */
et_status et_ew_unary(et_kernel_ctx *ctx, const et_tensor *a, et_tensor *out,
                      int common, int compute, const et_ew_fns *fns,
                      const void *param);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_ELEMENTWISE_UTIL_H */
