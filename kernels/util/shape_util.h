/*
 * Argument checks and shape helpers shared by the portable kernels.
 *
 * Every et_k_check_* function returns ET_OK, or records a failure through
 * et_kernel_fail (naming the argument and what was expected) and returns
 * ET_INVALID_ARGUMENT, so kernels write
 *
 *   et_status st = et_k_check_floating(ctx, self, "self");
 *   if (st) return st;
 *
 * or, with ET_K_TRY, `ET_K_TRY(et_k_check_floating(ctx, self, "self"));`.
 *
 * Thread-safe: no state beyond the context passed in.
 */
#ifndef ET_KERNELS_UTIL_SHAPE_UTIL_H
#define ET_KERNELS_UTIL_SHAPE_UTIL_H

#include <edgetorch/kernel.h>
#include <edgetorch/value.h>

#include "util/dtype_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Return the status of `expr` if it is not ET_OK. */
#define ET_K_TRY(expr)                                                         \
  do {                                                                         \
    et_status et_k_try_st_ = (expr);                                           \
    if (et_k_try_st_ != ET_OK) return et_k_try_st_;                            \
  } while (0)

/* Fail with ET_INVALID_ARGUMENT and a message (prefixed by the op name). */
#define ET_K_FAIL(ctx, ...) et_kernel_fail((ctx), ET_INVALID_ARGUMENT, __VA_ARGS__)

/* Formats sizes as "[2, 3, 4]" into buf (truncated if too small). */
void et_k_shape_str(char *buf, size_t cap, const int64_t *sizes, uint32_t rank);
/* Same for a tensor's sizes. */
void et_k_tensor_shape_str(char *buf, size_t cap, const et_tensor *t);

/* A tensor's sizes as int64. */
void et_k_sizes64(const et_tensor *t, int64_t *out_sizes);

/*
 * Basic validity of a tensor argument: a supported dtype, rank <= ET_MAX_RANK
 * and, when it has elements, a data pointer.
 */
et_status et_k_check_tensor_slow(et_kernel_ctx *ctx, const et_tensor *t,
                                 const char *name);
/* The common case inline (several calls per kernel); failures out of line. */
static inline et_status et_k_check_tensor(et_kernel_ctx *ctx, const et_tensor *t,
                                          const char *name) {
  if (t->data && t->rank <= ET_MAX_RANK && et_dtype_is_supported(t->dtype))
    return ET_OK;
  return et_k_check_tensor_slow(ctx, t, name);
}

/* The dtype of `t` must be `dtype`. */
et_status et_k_check_dtype(et_kernel_ctx *ctx, const et_tensor *t, int dtype,
                           const char *name);
/* Both tensors must have the same dtype. */
et_status et_k_check_same_dtype(et_kernel_ctx *ctx, const et_tensor *a,
                                const char *a_name, const et_tensor *b,
                                const char *b_name);
/* Half, Float, Double or BFloat16. */
et_status et_k_check_floating(et_kernel_ctx *ctx, const et_tensor *t,
                              const char *name);
/* min_rank <= rank <= max_rank. */
et_status et_k_check_rank(et_kernel_ctx *ctx, const et_tensor *t,
                          uint32_t min_rank, uint32_t max_rank, const char *name);
/* Contiguous dim order (0, 1, ..., rank-1). */
et_status et_k_check_contiguous(et_kernel_ctx *ctx, const et_tensor *t,
                                const char *name);
/* Same rank and dim order (both contiguous, or both channels-last, ...). */
bool et_k_same_dim_order(const et_tensor *a, const et_tensor *b);
et_status et_k_check_same_dim_order(et_kernel_ctx *ctx, const et_tensor *a,
                                    const char *a_name, const et_tensor *b,
                                    const char *b_name);
/* Same sizes (and rank). */
bool et_k_same_shape(const et_tensor *a, const et_tensor *b);
et_status et_k_check_same_shape(et_kernel_ctx *ctx, const et_tensor *a,
                                const char *a_name, const et_tensor *b,
                                const char *b_name);
/* `t` may be written by a kernel (not a constant from the program). */
et_status et_k_check_writable(et_kernel_ctx *ctx, const et_tensor *t,
                              const char *name);

/*
 * Normalize a dimension of a tensor of rank `rank` (negative dims count from
 * the end). A rank-0 tensor accepts 0 and -1, as PyTorch's maybe_wrap_dim.
 * `name` names the argument in the message.
 */
et_status et_k_dim(et_kernel_ctx *ctx, int64_t dim, int64_t rank, const char *name,
                   int64_t *out_dim);

/* A slice along one dim of `in` (slice_copy, slice_scatter). */
typedef struct et_k_slice {
  int64_t dim, start, step, len; /* dim wrapped; start in [0, size]; len elements */
} et_k_slice;

/*
 * PyTorch's slice arguments: `dim` (Int) wrapped into in's rank (a 0-dim
 * tensor is refused), `step` (Int) positive, `start` and `end` (Int or None:
 * 0 and the end) counted from the end when negative and clamped to the dim's
 * size. Failures name the argument.
 */
et_status et_k_slice_args(et_kernel_ctx *ctx, const et_tensor *in, const et_value *dim,
                          const et_value *start, const et_value *end, const et_value *step,
                          et_k_slice *out);

/*
 * Read an int list argument into `out` (at most `cap` items). `name` names
 * the argument for messages.
 */
et_status et_k_int_list(et_kernel_ctx *ctx, const et_value *list, int64_t *out,
                        size_t cap, size_t *out_len, const char *name);

/*
 * Resize an output to `sizes` (rank must equal the output's). Failure is an
 * InvalidArgument naming the output and the shapes involved.
 */
et_status et_k_resize(et_kernel_ctx *ctx, et_tensor *t, const int64_t *sizes,
                      uint32_t rank, const char *name);
/* Resize `out` to the sizes of `like`. */
et_status et_k_resize_like(et_kernel_ctx *ctx, et_tensor *out, const et_tensor *like,
                           const char *name);

/*
 * Numpy-style broadcast of the shapes of `a` and `b` into out_sizes /
 * out_rank (out_sizes holds ET_MAX_RANK items).
 */
et_status et_k_broadcast_shape(et_kernel_ctx *ctx, const et_tensor *a,
                               const char *a_name, const et_tensor *b,
                               const char *b_name, int64_t *out_sizes,
                               uint32_t *out_rank);

/*
 * A MemoryFormat? argument (None, or c10's Contiguous 0, Preserve 1,
 * ChannelsLast 2, ChannelsLast3d 3) against the layout of `out`: Contiguous
 * needs a contiguous out, ChannelsLast(3d) a channels-last out; None and
 * Preserve accept any (the copy follows out's dim order).
 */
et_status et_k_check_memory_format(et_kernel_ctx *ctx, const et_value *memory_format,
                                   const et_tensor *out);

/*
 * A `dim_order: int[]?` argument of the dim_order_ops: when given it must be
 * out's dim order; when None, out must have self's dim order.
 */
et_status et_k_check_dim_order_arg(et_kernel_ctx *ctx, const et_value *dim_order,
                                   const et_tensor *self, const et_tensor *out);

/* Number of elements with an overflow check; false on overflow. */
bool et_k_numel(const int64_t *sizes, uint32_t rank, int64_t *out_numel);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_SHAPE_UTIL_H */
