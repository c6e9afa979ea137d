/* Reduction plans and accumulation loops. */
#include "util/reduce_util.h"

#include "util/shape_util.h"

et_status et_reduce_mask(et_kernel_ctx *ctx, const et_tensor *in, const et_value *dims,
                         const char *name, uint32_t *out_mask) {
  uint32_t all = in->rank >= 32 ? 0xffffffffu : ((1u << in->rank) - 1u);
  if (dims == NULL || dims->tag == ET_TAG_NONE) {
    *out_mask = all;
    return ET_OK;
  }
  if (dims->tag == ET_TAG_INT) {
    int64_t d;
    ET_K_TRY(et_k_dim(ctx, dims->u.i, in->rank, name, &d));
    *out_mask = in->rank ? (1u << d) : 0;
    return ET_OK;
  }
  size_t n = dims->u.ilist.len;
  if (n == 0) {
    *out_mask = all;
    return ET_OK;
  }
  uint32_t mask = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t d;
    ET_K_TRY(et_k_dim(ctx, et_int_list_get(dims, i), in->rank, name, &d));
    if (in->rank == 0) continue;
    if (mask & (1u << d))
      return ET_K_FAIL(ctx, "%s: dim %lld appears more than once", name, (long long)d);
    mask |= 1u << d;
  }
  *out_mask = mask;
  return ET_OK;
}

void et_reduce_shape(const et_tensor *in, uint32_t mask, bool keepdim, int64_t *sizes,
                     uint32_t *rank) {
  uint32_t r = 0;
  for (uint32_t d = 0; d < in->rank; d++) {
    if (mask & (1u << d)) {
      if (keepdim) sizes[r++] = 1;
    } else {
      sizes[r++] = in->sizes[d];
    }
  }
  *rank = r;
}

et_status et_reduce_plan_init(et_kernel_ctx *ctx, et_reduce_plan *plan,
                              const et_tensor *in, uint32_t mask, bool keepdim,
                              et_tensor *out) {
  int64_t osz[ET_MAX_RANK];
  uint32_t orank;
  et_reduce_shape(in, mask, keepdim, osz, &orank);
  ET_K_TRY(et_k_resize(ctx, out, osz, orank, "out"));

  /* outer: over out's dims; operand 1 is the input's stride of the matching
   * kept dim (reduced dims have size 1 in a keepdim output). */
  int64_t in_str[ET_MAX_RANK];
  uint32_t j = 0;
  for (uint32_t d = 0; d < in->rank; d++) {
    if (mask & (1u << d)) {
      if (keepdim) in_str[j++] = 0;
    } else {
      in_str[j++] = in->strides[d];
    }
  }
  const int64_t *ostrides[2] = {out->strides, in_str};
  et_nd_iter_init(&plan->outer, orank, osz, 2, ostrides, out->dim_order);

  /* red: over the reduced dims of the input, in the input's dim order */
  int64_t rsz[ET_MAX_RANK];
  int64_t count = 1;
  for (uint32_t d = 0; d < in->rank; d++) {
    rsz[d] = (mask & (1u << d)) ? in->sizes[d] : 1;
    count *= rsz[d];
  }
  const int64_t *rstrides[1] = {in->strides};
  et_nd_iter_init(&plan->red, in->rank, rsz, 1, rstrides, in->dim_order);
  plan->count = count;
  return ET_OK;
}

int et_reduce_acc_dtype(int out_dtype) {
  if (out_dtype == ET_DOUBLE) return ET_DOUBLE;
  if (et_dtype_is_floating(out_dtype)) return ET_FLOAT;
  return ET_LONG;
}

/* Eight partial sums: vectorizable, and closer to PyTorch's cascade sum than
 * one running sum. */
#define SUM_LOOP(T, ACC, p, n, out)                                             \
  do {                                                                         \
    ACC s_[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                      \
    int64_t i_ = 0;                                                            \
    for (; i_ + 8 <= (n); i_ += 8)                                             \
      for (int l_ = 0; l_ < 8; l_++) s_[l_] += (ACC)(p)[i_ + l_];              \
    ACC t_ = ((s_[0] + s_[1]) + (s_[2] + s_[3])) + ((s_[4] + s_[5]) + (s_[6] + s_[7])); \
    for (; i_ < (n); i_++) t_ += (ACC)(p)[i_];                                 \
    (out) = t_;                                                                \
  } while (0)

void et_reduce_add(et_cval *acc, int acc_dtype, const void *src, int src_dtype,
                   int64_t stride, int64_t n) {
  if (n <= 0) return;
  if (src_dtype == acc_dtype && stride == 1) {
    if (acc_dtype == ET_FLOAT) {
      float s;
      SUM_LOOP(float, float, (const float *)src, n, s);
      acc->f += s;
    } else if (acc_dtype == ET_DOUBLE) {
      double s;
      SUM_LOOP(double, double, (const double *)src, n, s);
      acc->d += s;
    } else {
      const int64_t *p = (const int64_t *)src;
      uint64_t s = 0; /* wraps like upstream's int64 sum, without UB */
      for (int64_t i = 0; i < n; i++) s += (uint64_t)p[i];
      acc->i = (int64_t)((uint64_t)acc->i + s);
    }
    return;
  }
  et_cval buf[64];
  size_t es = et_dtype_size(src_dtype);
  for (int64_t c = 0; c < n; c += 64) {
    int64_t m = n - c < 64 ? n - c : 64;
    const char *p = (const char *)src + c * stride * (int64_t)es;
    if (acc_dtype == ET_FLOAT) {
      float *b = (float *)(void *)buf, s;
      et_convert(b, ET_FLOAT, 1, p, src_dtype, stride, (size_t)m);
      SUM_LOOP(float, float, b, m, s);
      acc->f += s;
    } else if (acc_dtype == ET_DOUBLE) {
      double *b = (double *)(void *)buf, s;
      et_convert(b, ET_DOUBLE, 1, p, src_dtype, stride, (size_t)m);
      SUM_LOOP(double, double, b, m, s);
      acc->d += s;
    } else {
      int64_t *b = (int64_t *)(void *)buf;
      uint64_t s = 0;
      et_convert(b, ET_LONG, 1, p, src_dtype, stride, (size_t)m);
      for (int64_t i = 0; i < m; i++) s += (uint64_t)b[i];
      acc->i = (int64_t)((uint64_t)acc->i + s);
    }
  }
}

bool et_reduce_any(const void *src, int src_dtype, int64_t stride, int64_t n) {
  et_bool8 buf[64];
  size_t es = et_dtype_size(src_dtype);
  for (int64_t c = 0; c < n; c += 64) {
    int64_t m = n - c < 64 ? n - c : 64;
    et_convert(buf, ET_BOOL, 1, (const char *)src + c * stride * (int64_t)es, src_dtype,
               stride, (size_t)m);
    et_bool8 any = 0;
    for (int64_t i = 0; i < m; i++) any |= buf[i];
    if (any) return true;
  }
  return false;
}
