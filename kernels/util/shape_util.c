/* Argument checks, dims, lists, resizing and broadcast shapes. */
#include "util/shape_util.h"

#include <edgetorch/status.h>

void et_k_shape_str(char *buf, size_t cap, const int64_t *sizes, uint32_t rank) {
  if (cap == 0) return;
  size_t n = et_format(buf, cap, "[");
  for (uint32_t d = 0; d < rank && n + 1 < cap; d++)
    n += et_format(buf + n, cap - n, d ? ", %lld" : "%lld", (long long)sizes[d]);
  if (n + 1 < cap) et_format(buf + n, cap - n, "]");
}

void et_k_sizes64(const et_tensor *t, int64_t *out_sizes) {
  for (uint32_t d = 0; d < t->rank && d < ET_MAX_RANK; d++) out_sizes[d] = t->sizes[d];
}

void et_k_tensor_shape_str(char *buf, size_t cap, const et_tensor *t) {
  int64_t s[ET_MAX_RANK];
  uint32_t r = t->rank <= ET_MAX_RANK ? t->rank : ET_MAX_RANK;
  et_k_sizes64(t, s);
  et_k_shape_str(buf, cap, s, r);
}

et_status et_k_check_tensor_slow(et_kernel_ctx *ctx, const et_tensor *t,
                                 const char *name) {
  if (!et_dtype_is_supported(t->dtype))
    return ET_K_FAIL(ctx, "%s: dtype %s is not supported by the portable kernels",
                     name, et_dtype_name(t->dtype));
  if (t->rank > ET_MAX_RANK)
    return ET_K_FAIL(ctx, "%s: rank %u exceeds %d", name, (unsigned)t->rank, ET_MAX_RANK);
  if (t->data == NULL && et_tensor_numel(t) != 0)
    return ET_K_FAIL(ctx, "%s: tensor has no data (input or output not set?)", name);
  return ET_OK;
}

et_status et_k_check_dtype(et_kernel_ctx *ctx, const et_tensor *t, int dtype,
                           const char *name) {
  if (t->dtype != dtype)
    return ET_K_FAIL(ctx, "%s: expected dtype %s, got %s", name, et_dtype_name(dtype),
                     et_dtype_name(t->dtype));
  return ET_OK;
}

et_status et_k_check_same_dtype(et_kernel_ctx *ctx, const et_tensor *a,
                                const char *a_name, const et_tensor *b,
                                const char *b_name) {
  if (a->dtype != b->dtype)
    return ET_K_FAIL(ctx, "%s (%s) and %s (%s) must have the same dtype", a_name,
                     et_dtype_name(a->dtype), b_name, et_dtype_name(b->dtype));
  return ET_OK;
}

et_status et_k_check_floating(et_kernel_ctx *ctx, const et_tensor *t,
                              const char *name) {
  if (!et_dtype_is_floating(t->dtype))
    return ET_K_FAIL(ctx, "%s: expected a floating dtype (Float, Double, Half, "
                          "BFloat16), got %s",
                     name, et_dtype_name(t->dtype));
  return ET_OK;
}

et_status et_k_check_rank(et_kernel_ctx *ctx, const et_tensor *t, uint32_t min_rank,
                          uint32_t max_rank, const char *name) {
  if (t->rank < min_rank || t->rank > max_rank) {
    if (min_rank == max_rank)
      return ET_K_FAIL(ctx, "%s: expected rank %u, got %u", name, (unsigned)min_rank,
                       (unsigned)t->rank);
    return ET_K_FAIL(ctx, "%s: expected rank %u to %u, got %u", name,
                     (unsigned)min_rank, (unsigned)max_rank, (unsigned)t->rank);
  }
  return ET_OK;
}

et_status et_k_check_contiguous(et_kernel_ctx *ctx, const et_tensor *t,
                                const char *name) {
  if (!et_tensor_is_contiguous(t))
    return ET_K_FAIL(ctx, "%s: only the contiguous dim order is supported", name);
  return ET_OK;
}

bool et_k_same_dim_order(const et_tensor *a, const et_tensor *b) {
  if (a->rank != b->rank) return false;
  for (uint32_t d = 0; d < a->rank; d++)
    if (a->dim_order[d] != b->dim_order[d]) return false;
  return true;
}

et_status et_k_check_same_dim_order(et_kernel_ctx *ctx, const et_tensor *a,
                                    const char *a_name, const et_tensor *b,
                                    const char *b_name) {
  if (!et_k_same_dim_order(a, b))
    return ET_K_FAIL(ctx, "%s and %s must have the same rank and dim order", a_name,
                     b_name);
  return ET_OK;
}

bool et_k_same_shape(const et_tensor *a, const et_tensor *b) {
  if (a->rank != b->rank) return false;
  for (uint32_t d = 0; d < a->rank; d++)
    if (a->sizes[d] != b->sizes[d]) return false;
  return true;
}

et_status et_k_check_same_shape(et_kernel_ctx *ctx, const et_tensor *a,
                                const char *a_name, const et_tensor *b,
                                const char *b_name) {
  if (!et_k_same_shape(a, b)) {
    char sa[96], sb[96];
    et_k_tensor_shape_str(sa, sizeof sa, a);
    et_k_tensor_shape_str(sb, sizeof sb, b);
    return ET_K_FAIL(ctx, "%s %s and %s %s must have the same shape", a_name, sa,
                     b_name, sb);
  }
  return ET_OK;
}

et_status et_k_check_writable(et_kernel_ctx *ctx, const et_tensor *t,
                              const char *name) {
  if (t->flags & ET_TENSOR_READ_ONLY)
    return ET_K_FAIL(ctx, "%s: is %s and cannot be written", name,
                     t->flags & ET_TENSOR_CONSTANT
                         ? "a constant of the program"
                         : "the caller's input");
  return ET_OK;
}

et_status et_k_dim(et_kernel_ctx *ctx, int64_t dim, int64_t rank, const char *name,
                   int64_t *out_dim) {
  int64_t r = rank > 0 ? rank : 1;
  if (dim < -r || dim >= r)
    return ET_K_FAIL(ctx, "%s: dimension %lld out of range for rank %lld (expected "
                          "[%lld, %lld])",
                     name, (long long)dim, (long long)rank, (long long)-r,
                     (long long)(r - 1));
  *out_dim = dim < 0 ? dim + r : dim;
  return ET_OK;
}

et_status et_k_int_list(et_kernel_ctx *ctx, const et_value *list, int64_t *out,
                        size_t cap, size_t *out_len, const char *name) {
  size_t n = list->u.ilist.len;
  if (n > cap)
    return ET_K_FAIL(ctx, "%s: list has %zu items, at most %zu are supported", name, n,
                     cap);
  for (size_t i = 0; i < n; i++) out[i] = et_int_list_get(list, i);
  *out_len = n;
  return ET_OK;
}

et_status et_k_resize(et_kernel_ctx *ctx, et_tensor *t, const int64_t *sizes,
                      uint32_t rank, const char *name) {
  char want[128], have[128];
  if (rank != t->rank) {
    et_k_shape_str(want, sizeof want, sizes, rank);
    et_k_tensor_shape_str(have, sizeof have, t);
    return ET_K_FAIL(ctx, "%s: expected rank %u (shape %s), but the output has rank %u "
                          "(shape %s)",
                     name, (unsigned)rank, want, (unsigned)t->rank, have);
  }
  int rc = et_tensor_resize64(t, sizes, rank);
  if (rc == ET_OK) return ET_OK;
  et_k_shape_str(want, sizeof want, sizes, rank);
  et_k_tensor_shape_str(have, sizeof have, t);
  if (t->dynamism == ET_STATIC)
    return ET_K_FAIL(ctx, "%s: result shape %s does not match the static output shape %s",
                     name, want, have);
  return ET_K_FAIL(ctx, "%s: cannot resize output %s to %s (capacity %zu bytes)", name,
                   have, want, t->capacity);
}

et_status et_k_resize_like(et_kernel_ctx *ctx, et_tensor *out, const et_tensor *like,
                           const char *name) {
  int64_t s[ET_MAX_RANK];
  if (like->rank > ET_MAX_RANK) return ET_K_FAIL(ctx, "%s: rank too large", name);
  et_k_sizes64(like, s);
  return et_k_resize(ctx, out, s, like->rank, name);
}

et_status et_k_broadcast_shape(et_kernel_ctx *ctx, const et_tensor *a,
                               const char *a_name, const et_tensor *b,
                               const char *b_name, int64_t *out_sizes,
                               uint32_t *out_rank) {
  if (a->rank > ET_MAX_RANK || b->rank > ET_MAX_RANK)
    return ET_K_FAIL(ctx, "rank exceeds %d", ET_MAX_RANK);
  uint32_t r = a->rank > b->rank ? a->rank : b->rank;
  for (uint32_t k = 0; k < r; k++) {
    /* k counts from the innermost dimension */
    int64_t sa = k < a->rank ? a->sizes[a->rank - 1 - k] : 1;
    int64_t sb = k < b->rank ? b->sizes[b->rank - 1 - k] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      char s1[96], s2[96];
      et_k_tensor_shape_str(s1, sizeof s1, a);
      et_k_tensor_shape_str(s2, sizeof s2, b);
      return ET_K_FAIL(ctx, "%s %s and %s %s cannot be broadcast together", a_name, s1,
                       b_name, s2);
    }
    out_sizes[r - 1 - k] = sa == 1 ? sb : sa;
  }
  *out_rank = r;
  return ET_OK;
}

bool et_k_numel(const int64_t *sizes, uint32_t rank, int64_t *out_numel) {
  int64_t n = 1;
  for (uint32_t d = 0; d < rank; d++) {
    if (sizes[d] < 0) return false;
    if (sizes[d] != 0 && n > INT64_MAX / sizes[d]) return false;
    n *= sizes[d];
  }
  *out_numel = n;
  return true;
}

et_status et_k_check_memory_format(et_kernel_ctx *ctx, const et_value *memory_format,
                                   const et_tensor *out) {
  if (memory_format->tag != ET_TAG_INT) return ET_OK;
  switch (memory_format->u.i) {
  case 0:
    if (!et_tensor_is_contiguous(out))
      return ET_K_FAIL(ctx, "memory_format is contiguous_format but out is not contiguous");
    return ET_OK;
  case 1:
    return ET_OK;
  case 2:
  case 3:
    if (!et_tensor_is_channels_last(out) || out->rank != (memory_format->u.i == 2 ? 4u : 5u))
      return ET_K_FAIL(ctx, "memory_format is channels_last but out's dim order is not");
    return ET_OK;
  default:
    return ET_K_FAIL(ctx, "memory_format: unknown value %lld", (long long)memory_format->u.i);
  }
}

et_status et_k_check_dim_order_arg(et_kernel_ctx *ctx, const et_value *dim_order,
                                   const et_tensor *self, const et_tensor *out) {
  if (dim_order->tag != ET_TAG_LIST_INT) {
    if (!et_k_same_dim_order(self, out))
      return ET_K_FAIL(ctx, "dim_order is None, so out must have self's dim order");
    return ET_OK;
  }
  size_t n = dim_order->u.ilist.len;
  if (n != out->rank)
    return ET_K_FAIL(ctx, "dim_order: %zu entries for out of rank %u", n, (unsigned)out->rank);
  for (size_t i = 0; i < n; i++) {
    int64_t d = et_int_list_get(dim_order, i);
    if (d != out->dim_order[i])
      return ET_K_FAIL(ctx, "dim_order: entry %zu is %lld but out's dim order has %u", i,
                       (long long)d, (unsigned)out->dim_order[i]);
  }
  return ET_OK;
}

et_status et_k_slice_args(et_kernel_ctx *ctx, const et_tensor *in, const et_value *dim,
                          const et_value *start, const et_value *end, const et_value *step,
                          et_k_slice *out) {
  if (in->rank == 0) return ET_K_FAIL(ctx, "self: cannot slice a 0-dim tensor");
  ET_K_TRY(et_k_dim(ctx, dim->u.i, in->rank, "dim", &out->dim));
  out->step = step->u.i;
  if (out->step <= 0)
    return ET_K_FAIL(ctx, "step: must be positive, got %lld", (long long)out->step);
  const int64_t size = in->sizes[out->dim];
  int64_t s = start->tag == ET_TAG_INT ? start->u.i : 0;
  int64_t e = end->tag == ET_TAG_INT ? end->u.i : INT64_MAX;
  if (s < 0) s += size;
  if (e < 0) e += size;
  if (s < 0) s = 0;
  else if (s > size) s = size;
  if (e < s) e = s;
  else if (e > size) e = size;
  out->start = s;
  /* Written so that no step (up to INT64_MAX) can overflow. */
  out->len = e > s ? (e - s - 1) / out->step + 1 : 0;
  return ET_OK;
}
