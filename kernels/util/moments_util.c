/* Two-pass moments in double. */
#include "util/moments_util.h"

#include "util/dtype_util.h"
#include "util/reduce_util.h"

#define CHUNK 64

double et_moments_sum(const void *src, int dtype, int64_t stride, int64_t n) {
  et_cval acc;
  acc.d = 0;
  et_reduce_add(&acc, ET_DOUBLE, src, dtype, stride, n);
  return acc.d;
}

/* Four partial sums: the loop vectorizes and rounding error grows more
 * slowly than with one running sum. */
double et_moments_m2(const void *src, int dtype, int64_t stride, int64_t n, double mean) {
  double s[4] = {0, 0, 0, 0};
  double tail = 0;
  if (stride == 1 && dtype == ET_FLOAT) {
    const float *p = (const float *)src;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (int l = 0; l < 4; l++) {
        const double d = (double)p[i + l] - mean;
        s[l] += d * d;
      }
    for (; i < n; i++) {
      const double d = (double)p[i] - mean;
      tail += d * d;
    }
    return ((s[0] + s[1]) + (s[2] + s[3])) + tail;
  }
  double buf[CHUNK];
  const int64_t es = (int64_t)et_dtype_size(dtype);
  for (int64_t c = 0; c < n; c += CHUNK) {
    const int64_t m = n - c < CHUNK ? n - c : CHUNK;
    const double *b = buf;
    if (stride == 1 && dtype == ET_DOUBLE)
      b = (const double *)src + c;
    else
      et_convert(buf, ET_DOUBLE, 1, (const char *)src + c * stride * es, dtype, stride,
                 (size_t)m);
    int64_t i = 0;
    for (; i + 4 <= m; i += 4)
      for (int l = 0; l < 4; l++) {
        const double d = b[i + l] - mean;
        s[l] += d * d;
      }
    for (; i < m; i++) {
      const double d = b[i] - mean;
      tail += d * d;
    }
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + tail;
}

void et_moments_iter(const void *data, int dtype, int64_t base, et_nd_iter *red,
                     int64_t count, double *out_mean, double *out_m2) {
  const int64_t es = (int64_t)et_dtype_size(dtype);
  double sum = 0, m2 = 0;
  et_nd_iter_reset(red);
  if (red->inner > 0) do {
      sum += et_moments_sum((const char *)data + (base + red->off[0]) * es, dtype,
                            red->inner_stride[0], red->inner);
    } while (et_nd_iter_next(red));
  const double mean = sum / (double)count;
  et_nd_iter_reset(red);
  if (red->inner > 0 && count > 0) do {
      m2 += et_moments_m2((const char *)data + (base + red->off[0]) * es, dtype,
                          red->inner_stride[0], red->inner, mean);
    } while (et_nd_iter_next(red));
  *out_mean = mean;
  *out_m2 = m2;
}
