/* N-d run iteration, broadcast strides and strided copies. */
#include "util/broadcast_util.h"

#include "util/dtype_util.h"
#include "util/layout_util.h"

#include <string.h>

void et_nd_iter_init(et_nd_iter *it, uint32_t rank, const int64_t *sizes,
                     uint32_t nops, const int64_t *const *strides,
                     const uint8_t *order) {
  int64_t sz[ET_MAX_RANK];
  int64_t st[ET_MAX_RANK][ET_ITER_MAX_OPS];
  uint32_t n = 0;
  bool empty = false;

  memset(it, 0, sizeof *it);
  it->nops = nops;
  if (rank > ET_MAX_RANK) rank = ET_MAX_RANK;
  for (uint32_t k = 0; k < rank; k++) {
    uint32_t d = order ? order[k] : k;
    if (d >= rank) d = k; /* defensive: a bad order still visits valid dims */
    if (sizes[d] == 0) empty = true;
    if (sizes[d] == 1) continue;
    sz[n] = sizes[d];
    for (uint32_t op = 0; op < nops; op++) st[n][op] = strides[op][d];
    n++;
  }
  if (empty) {
    it->inner = 0;
    return;
  }
  if (n == 0) {
    it->inner = 1;
    return;
  }

  /* Merge from the innermost dimension outwards; m[] is built inner first. */
  int64_t msz[ET_MAX_RANK];
  int64_t mst[ET_MAX_RANK][ET_ITER_MAX_OPS];
  uint32_t m = 0;
  msz[0] = sz[n - 1];
  for (uint32_t op = 0; op < nops; op++) mst[0][op] = st[n - 1][op];
  m = 1;
  for (uint32_t j = n - 1; j-- > 0;) {
    bool merge = true;
    for (uint32_t op = 0; op < nops; op++)
      if (st[j][op] != mst[m - 1][op] * msz[m - 1]) merge = false;
    if (merge) {
      msz[m - 1] *= sz[j];
    } else {
      msz[m] = sz[j];
      for (uint32_t op = 0; op < nops; op++) mst[m][op] = st[j][op];
      m++;
    }
  }
  it->inner = msz[0];
  for (uint32_t op = 0; op < nops; op++) it->inner_stride[op] = mst[0][op];
  it->ndim = m - 1;
  for (uint32_t d = 0; d < it->ndim; d++) {
    uint32_t src = m - 1 - d; /* outermost first */
    it->size[d] = msz[src];
    for (uint32_t op = 0; op < nops; op++) it->stride[d][op] = mst[src][op];
  }
}

bool et_nd_iter_next(et_nd_iter *it) {
  for (uint32_t d = it->ndim; d-- > 0;) {
    if (++it->idx[d] < it->size[d]) {
      for (uint32_t op = 0; op < it->nops; op++) it->off[op] += it->stride[d][op];
      return true;
    }
    it->idx[d] = 0;
    for (uint32_t op = 0; op < it->nops; op++)
      it->off[op] -= it->stride[d][op] * (it->size[d] - 1);
  }
  return false;
}

void et_nd_iter_reset(et_nd_iter *it) {
  for (uint32_t d = 0; d < it->ndim; d++) it->idx[d] = 0;
  for (uint32_t op = 0; op < it->nops; op++) it->off[op] = 0;
}

int64_t et_nd_iter_runs(const et_nd_iter *it) {
  if (it->inner == 0) return 0;
  int64_t r = 1;
  for (uint32_t d = 0; d < it->ndim; d++) r *= it->size[d];
  return r;
}

bool et_broadcast_strides(const et_tensor *in, uint32_t out_rank,
                          const int32_t *out_sizes, int64_t *out_strides) {
  if (in->rank > out_rank) return false;
  uint32_t lead = out_rank - in->rank;
  for (uint32_t d = 0; d < out_rank; d++) {
    if (d < lead) {
      out_strides[d] = 0;
      continue;
    }
    int32_t s = in->sizes[d - lead];
    if (s == out_sizes[d])
      out_strides[d] = s == 1 ? 0 : in->strides[d - lead];
    else if (s == 1)
      out_strides[d] = 0;
    else
      return false;
  }
  return true;
}

#define STRIDED_COPY(T)                                                        \
  do {                                                                         \
    T *d_ = (T *)dp;                                                           \
    const T *s_ = (const T *)sp;                                               \
    for (int64_t i = 0; i < n; i++) d_[i * ds] = s_[i * ss];                   \
  } while (0)

#ifndef ET_COPY_TILE
#define ET_COPY_TILE 32 /* elements per side of a transpose tile */
#endif

/* A rows x cols block where dst is row-major (row stride drs) and src walks
 * rows with stride 1 and columns with stride scs: a transpose. Tiles keep
 * both sides in cache. */
#define TILED_TRANSPOSE(T)                                                     \
  do {                                                                         \
    T *d_ = (T *)dp;                                                           \
    const T *s_ = (const T *)sp;                                               \
    for (int64_t r0 = 0; r0 < rows; r0 += ET_COPY_TILE)                        \
      for (int64_t c0 = 0; c0 < n; c0 += ET_COPY_TILE) {                       \
        const int64_t r1 = rows - r0 < ET_COPY_TILE ? rows : r0 + ET_COPY_TILE; \
        const int64_t c1 = n - c0 < ET_COPY_TILE ? n : c0 + ET_COPY_TILE;      \
        for (int64_t r = r0; r < r1; r++)                                      \
          for (int64_t c = c0; c < c1; c++) d_[r * drs + c] = s_[r + c * ss];  \
      }                                                                        \
  } while (0)

bool et_copy_nd(void *dst, int dst_dtype, const int64_t *dst_strides,
                const void *src, int src_dtype, const int64_t *src_strides,
                uint32_t rank, const int64_t *sizes, const uint8_t *order) {
  if (!et_dtype_is_supported(dst_dtype) || !et_dtype_is_supported(src_dtype))
    return false;
  const int64_t *strides[2] = {dst_strides, src_strides};
  et_nd_iter it;
  et_nd_iter_init(&it, rank, sizes, 2, strides, order);
  if (it.inner == 0) return true;
  size_t des = et_dtype_size(dst_dtype), ses = et_dtype_size(src_dtype);
  int64_t n = it.inner, ds = it.inner_stride[0], ss = it.inner_stride[1];

  /* A transpose (the source's unit stride is on the next-outer dim, as in
   * permute_copy of a matrix): copy blocks of whole runs tile by tile. */
  if (dst_dtype == src_dtype && ds == 1 && ss > 1 && it.ndim >= 1 &&
      it.stride[it.ndim - 1][1] == 1 && (des == 1 || des == 2 || des == 4 || des == 8)) {
    const uint32_t last = it.ndim - 1;
    const int64_t rows = it.size[last], drs = it.stride[last][0];
    bool more = true;
    while (more) {
      char *dp = (char *)dst + it.off[0] * (int64_t)des;
      const char *sp = (const char *)src + it.off[1] * (int64_t)ses;
      switch (des) {
      case 1: TILED_TRANSPOSE(uint8_t); break;
      case 2: TILED_TRANSPOSE(uint16_t); break;
      case 4: TILED_TRANSPOSE(uint32_t); break;
      default: TILED_TRANSPOSE(uint64_t); break;
      }
      for (int64_t r = 0; r < rows && more; r++) more = et_nd_iter_next(&it);
    }
    return true;
  }

  do {
    char *dp = (char *)dst + it.off[0] * (int64_t)des;
    const char *sp = (const char *)src + it.off[1] * (int64_t)ses;
    if (dst_dtype != src_dtype) {
      et_convert(dp, dst_dtype, ds, sp, src_dtype, ss, (size_t)n);
    } else if (ds == 1 && ss == 1) {
      memmove(dp, sp, (size_t)n * des);
    } else {
      switch (des) {
      case 1: STRIDED_COPY(uint8_t); break;
      case 2: STRIDED_COPY(uint16_t); break;
      case 4: STRIDED_COPY(uint32_t); break;
      case 8: STRIDED_COPY(uint64_t); break;
      default:
        for (int64_t i = 0; i < n; i++)
          memcpy(dp + i * ds * (int64_t)des, sp + i * ss * (int64_t)des, des);
        break;
      }
    }
  } while (et_nd_iter_next(&it));
  return true;
}

bool et_copy_tensor(et_tensor *dst, const et_tensor *src) {
  int64_t sizes[ET_MAX_RANK];
  if (dst->rank != src->rank || dst->rank > ET_MAX_RANK) return false;
  for (uint32_t d = 0; d < dst->rank; d++) {
    if (dst->sizes[d] != src->sizes[d]) return false;
    sizes[d] = dst->sizes[d];
  }
  return et_copy_nd(dst->data, dst->dtype, dst->strides, src->data, src->dtype,
                    src->strides, dst->rank, sizes, dst->dim_order);
}

void et_fill_bytes(void *dst, const void *elem, size_t es, size_t n) {
  switch (es) {
  case 1: {
    uint8_t v;
    memcpy(&v, elem, 1);
    memset(dst, v, n);
    break;
  }
  case 2: {
    uint16_t v, *d = (uint16_t *)dst;
    memcpy(&v, elem, 2);
    for (size_t i = 0; i < n; i++) d[i] = v;
    break;
  }
  case 4: {
    uint32_t v, *d = (uint32_t *)dst;
    memcpy(&v, elem, 4);
    for (size_t i = 0; i < n; i++) d[i] = v;
    break;
  }
  case 8: {
    uint64_t v, *d = (uint64_t *)dst;
    memcpy(&v, elem, 8);
    for (size_t i = 0; i < n; i++) d[i] = v;
    break;
  }
  default:
    for (size_t i = 0; i < n; i++) memcpy((char *)dst + i * es, elem, es);
    break;
  }
}

/* Offset of the next element in row-major order (an odometer over sizes). */
static int64_t odometer_next(int64_t *idx, const int32_t *sizes, const int64_t *strides,
                             uint32_t rank, int64_t off) {
  for (uint32_t d = rank; d-- > 0;) {
    if (++idx[d] < sizes[d]) return off + strides[d];
    idx[d] = 0;
    off -= strides[d] * (sizes[d] - 1);
  }
  return off;
}

bool et_copy_reshape(et_tensor *dst, const et_tensor *src) {
  size_t n = et_tensor_numel(src);
  if (dst->dtype != src->dtype || n != et_tensor_numel(dst)) return false;
  if (dst->rank > ET_MAX_RANK || src->rank > ET_MAX_RANK) return false;
  const size_t es = et_dtype_size(src->dtype);
  /* both contiguous, or the same shape in the same dim order (channels-last
   * to channels-last): the buffers hold the elements in the same order */
  if ((et_tensor_is_contiguous(dst) && et_tensor_is_contiguous(src)) ||
      et_k_flat_alike(dst, src)) {
    if (n) memmove(dst->data, src->data, n * es);
    return true;
  }
  int64_t di[ET_MAX_RANK] = {0}, si[ET_MAX_RANK] = {0};
  int64_t doff = 0, soff = 0;
  for (size_t i = 0; i < n; i++) {
    memcpy((char *)dst->data + doff * (int64_t)es, (const char *)src->data + soff * (int64_t)es,
           es);
    doff = odometer_next(di, dst->sizes, dst->strides, dst->rank, doff);
    soff = odometer_next(si, src->sizes, src->strides, src->rank, soff);
  }
  return true;
}
