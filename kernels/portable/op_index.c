/*
 * aten::index.Tensor_out(Tensor self, Tensor?[] indices, *, Tensor(a!) out)
 *
 * Advanced indexing, self[i0, i1, ...] with None entries for untouched
 * dims. Long/Int index tensors broadcast together to a shape B; if the
 * indexed dims are adjacent the result is self's leading dims + B + the
 * trailing dims, otherwise B + all non-indexed dims (NumPy's rule). Every
 * index value is bounds-checked (negative values count from the end). A
 * Bool/Byte mask is supported as the only index (self[mask], with None
 * entries before it allowed): its true positions are taken in row-major
 * order. Masks combined with other index tensors are refused.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

#include <edgetorch/status.h>

static const et_tensor *entry(const et_value *list, size_t i) {
  const et_value *v = list->u.tlist.items[i];
  return (v && v->tag == ET_TAG_TENSOR) ? v->u.t : NULL;
}

static bool is_mask(const et_tensor *t) { return t->dtype == ET_BOOL || t->dtype == ET_BYTE; }

/* self[..., mask, ...] with the mask covering dims [p, p + k). */
static et_status index_mask(et_kernel_ctx *ctx, const et_tensor *in, uint32_t p,
                            const et_tensor *mask, et_tensor *out) {
  const uint32_t k = mask->rank;
  if (p + k > in->rank) return ET_K_FAIL(ctx, "indices: the mask has too many dims");
  for (uint32_t d = 0; d < k; d++)
    if (mask->sizes[d] != in->sizes[p + d]) {
      char s1[96], s2[96];
      et_k_tensor_shape_str(s1, sizeof s1, mask);
      et_k_tensor_shape_str(s2, sizeof s2, in);
      return ET_K_FAIL(ctx, "mask %s does not match self %s at dim %u", s1, s2,
                       (unsigned)(p + d));
    }
  const size_t mn = et_tensor_numel(mask);
  int64_t count = 0;
  for (size_t i = 0; i < mn; i++) {
    int64_t off = 0;
    size_t q = i;
    for (uint32_t d = k; d-- > 0;) {
      off += (int64_t)(q % (size_t)mask->sizes[d]) * mask->strides[d];
      q /= (size_t)mask->sizes[d];
    }
    count += ((const uint8_t *)mask->data)[off] != 0;
  }
  /* out: self.sizes[:p] + [count] + self.sizes[p+k:] */
  int64_t osz[ET_MAX_RANK], rsz[ET_MAX_RANK], rsrc[ET_MAX_RANK], rdst[ET_MAX_RANK];
  uint32_t orank = 0, rr = 0;
  for (uint32_t d = 0; d < p; d++) osz[orank++] = in->sizes[d];
  osz[orank++] = count;
  for (uint32_t d = p + k; d < in->rank; d++) osz[orank++] = in->sizes[d];
  ET_K_TRY(et_k_resize(ctx, out, osz, orank, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  for (uint32_t d = 0; d < in->rank; d++) {
    if (d >= p && d < p + k) continue;
    rsz[rr] = in->sizes[d];
    rsrc[rr] = in->strides[d];
    rdst[rr] = out->strides[d < p ? d : d - k + 1];
    rr++;
  }
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  int64_t t = 0;
  for (size_t i = 0; i < mn; i++) {
    int64_t moff = 0, soff = 0;
    size_t q = i;
    for (uint32_t d = k; d-- > 0;) {
      const int64_t c = (int64_t)(q % (size_t)mask->sizes[d]);
      q /= (size_t)mask->sizes[d];
      moff += c * mask->strides[d];
      soff += c * in->strides[p + d];
    }
    if (((const uint8_t *)mask->data)[moff] == 0) continue;
    et_copy_nd((char *)out->data + t * out->strides[p] * es, out->dtype, rdst,
               (const char *)in->data + soff * es, in->dtype, rsrc, rr, rsz, NULL);
    t++;
  }
  return ET_OK;
}

et_status et_op_index_tensor_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const et_value *list = args[1];
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  const size_t n = list->u.tlist.len;
  if (n > in->rank)
    return ET_K_FAIL(ctx, "indices: %zu indices for self of rank %u", n, (unsigned)in->rank);
  const et_tensor *masks = NULL;
  uint32_t mask_pos = 0, nidx = 0, first = 0, last = 0;
  for (size_t i = 0; i < n; i++) {
    const et_tensor *t = entry(list, i);
    if (!t) continue;
    char name[24];
    et_format(name, sizeof name, "indices[%zu]", i);
    ET_K_TRY(et_k_check_tensor(ctx, t, name));
    if (is_mask(t)) {
      masks = t;
      mask_pos = (uint32_t)i;
    } else if (t->dtype != ET_LONG && t->dtype != ET_INT) {
      return ET_K_FAIL(ctx, "indices[%zu]: expected dtype Long, Int, Bool or Byte, got %s", i,
                       et_dtype_name(t->dtype));
    }
    if (nidx == 0) first = (uint32_t)i;
    last = (uint32_t)i;
    nidx++;
  }
  if (masks) {
    if (nidx != 1)
      return ET_K_FAIL(ctx, "indices: a Bool mask combined with other index tensors is not "
                            "supported");
    return index_mask(ctx, in, mask_pos, masks, out);
  }
  if (nidx == 0) { /* self[None, ...]: a copy */
    ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
    et_copy_tensor(out, in);
    return ET_OK;
  }

  /* broadcast shape B of the index tensors */
  int64_t B[ET_MAX_RANK];
  uint32_t rb = 0;
  for (size_t i = 0; i < n; i++) {
    const et_tensor *t = entry(list, i);
    if (!t) continue;
    if (t->rank > ET_MAX_RANK) return ET_K_FAIL(ctx, "indices: rank too large");
    uint32_t r = t->rank > rb ? t->rank : rb;
    int64_t nb[ET_MAX_RANK];
    for (uint32_t k = 0; k < r; k++) {
      const int64_t a = k < rb ? B[rb - 1 - k] : 1;
      const int64_t b = k < t->rank ? t->sizes[t->rank - 1 - k] : 1;
      if (a != b && a != 1 && b != 1)
        return ET_K_FAIL(ctx, "indices: index tensors cannot be broadcast together");
      nb[r - 1 - k] = a == 1 ? b : a;
    }
    rb = r;
    for (uint32_t k = 0; k < rb; k++) B[k] = nb[k];
  }
  bool adjacent = true;
  for (uint32_t i = first; i <= last; i++)
    if (!entry(list, i)) adjacent = false;

  /* output shape and the non-indexed ("rest") dims */
  int64_t osz[ET_MAX_RANK], rsz[ET_MAX_RANK], rsrc[ET_MAX_RANK];
  uint32_t rdst_dim[ET_MAX_RANK], orank = 0, rr = 0, bpos;
  const uint32_t nrest = in->rank - nidx;
  if (rb + nrest > ET_MAX_RANK) return ET_K_FAIL(ctx, "result rank exceeds %d", ET_MAX_RANK);
  if (adjacent) {
    for (uint32_t d = 0; d < first; d++) {
      rdst_dim[rr] = orank;
      rsz[rr] = in->sizes[d];
      rsrc[rr++] = in->strides[d];
      osz[orank++] = in->sizes[d];
    }
    bpos = orank;
    for (uint32_t k = 0; k < rb; k++) osz[orank++] = B[k];
    for (uint32_t d = last + 1; d < in->rank; d++) {
      rdst_dim[rr] = orank;
      rsz[rr] = in->sizes[d];
      rsrc[rr++] = in->strides[d];
      osz[orank++] = in->sizes[d];
    }
  } else {
    bpos = 0;
    for (uint32_t k = 0; k < rb; k++) osz[orank++] = B[k];
    for (uint32_t d = 0; d < in->rank; d++) {
      if (d < n && entry(list, d)) continue;
      rdst_dim[rr] = orank;
      rsz[rr] = in->sizes[d];
      rsrc[rr++] = in->strides[d];
      osz[orank++] = in->sizes[d];
    }
  }
  ET_K_TRY(et_k_resize(ctx, out, osz, orank, "out"));
  int64_t bnum;
  if (!et_k_numel(B, rb, &bnum)) return ET_K_FAIL(ctx, "index shape overflows");
  if (et_tensor_numel(out) == 0) return ET_OK;
  int64_t rdst[ET_MAX_RANK];
  for (uint32_t k = 0; k < rr; k++) rdst[k] = out->strides[rdst_dim[k]];

  /* per index tensor: its strides broadcast to B */
  int64_t istr[ET_MAX_RANK][ET_MAX_RANK];
  for (size_t i = 0; i < n; i++) {
    const et_tensor *t = entry(list, i);
    if (!t) continue;
    for (uint32_t k = 0; k < rb; k++) {
      const int64_t kk = (int64_t)k - (int64_t)(rb - t->rank);
      istr[i][k] = (kk < 0 || t->sizes[kk] == 1) ? 0 : t->strides[kk];
    }
  }
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  int64_t bi[ET_MAX_RANK] = {0};
  for (int64_t b = 0; b < bnum; b++) {
    int64_t soff = 0, doff = 0;
    for (uint32_t k = 0; k < rb; k++) doff += bi[k] * out->strides[bpos + k];
    for (size_t i = 0; i < n; i++) {
      const et_tensor *t = entry(list, i);
      if (!t) continue;
      int64_t toff = 0;
      for (uint32_t k = 0; k < rb; k++) toff += bi[k] * istr[i][k];
      int64_t v = t->dtype == ET_LONG ? ((const int64_t *)t->data)[toff]
                                      : ((const int32_t *)t->data)[toff];
      const int64_t size = in->sizes[i];
      if (v < -size || v >= size)
        return ET_K_FAIL(ctx, "indices[%zu]: value %lld is out of range for dim %zu of size %lld",
                         i, (long long)v, i, (long long)size);
      if (v < 0) v += size;
      soff += v * in->strides[i];
    }
    et_copy_nd((char *)out->data + doff * es, out->dtype, rdst,
               (const char *)in->data + soff * es, in->dtype, rsrc, rr, rsz, NULL);
    for (uint32_t k = rb; k-- > 0;) { /* next b in row-major order */
      if (++bi[k] < B[k]) break;
      bi[k] = 0;
    }
  }
  return ET_OK;
}
