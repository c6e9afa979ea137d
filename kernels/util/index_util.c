/* Index checks, advanced indexing, scatter checks and strided accumulation. */
#include "util/index_util.h"

#include "util/shape_util.h"

#include <edgetorch/status.h>

et_status et_index_check_long_int(et_kernel_ctx *ctx, const et_tensor *t, const char *name) {
  if (t->dtype != ET_LONG && t->dtype != ET_INT)
    return ET_K_FAIL(ctx, "%s: expected dtype Long or Int, got %s", name, et_dtype_name(t->dtype));
  return ET_OK;
}

et_status et_index_fail(et_kernel_ctx *ctx, int64_t v, int64_t size, bool wrap, const char *name,
                        int64_t list_pos, int64_t pos, int64_t dim) {
  char arg[48];
  if (list_pos >= 0)
    et_format(arg, sizeof arg, "%s[%lld]", name, (long long)list_pos);
  else
    et_format(arg, sizeof arg, "%s", name);
  if (pos < 0)
    return ET_K_FAIL(ctx, "%s: index %lld is out of range for dim %lld of size %lld (expected "
                          "[%lld, %lld])",
                     arg, (long long)v, (long long)dim, (long long)size,
                     (long long)(wrap ? -size : 0), (long long)(size - 1));
  return ET_K_FAIL(ctx, "%s: index %lld (element %lld) is out of range for dim %lld of size %lld "
                        "(expected [%lld, %lld])",
                   arg, (long long)v, (long long)pos, (long long)dim, (long long)size,
                   (long long)(wrap ? -size : 0), (long long)(size - 1));
}

/* ---- advanced indexing ----------------------------------------------------- */

static bool is_mask_dtype(int dtype) { return dtype == ET_BOOL || dtype == ET_BYTE; }

/* Mask element at row-major position lin. */
static bool mask_at(const et_adv_term *m, int64_t lin) {
  const uint8_t *p = (const uint8_t *)m->t->data;
  if (m->dense) return p[lin] != 0;
  int64_t off = 0;
  for (uint32_t d = m->k; d-- > 0;) {
    const int64_t s = m->t->sizes[d];
    off += (lin % s) * m->t->strides[d];
    lin /= s;
  }
  return p[off] != 0;
}

et_status et_adv_index_init(et_kernel_ctx *ctx, et_adv_index *ai, const et_tensor *self,
                            const et_value *indices) {
  memset(ai, 0, sizeof *ai);
  const size_t n = indices->u.tlist.len;
  uint32_t covered = 0;
  for (size_t i = 0; i < n; i++) {
    const et_value *v = indices->u.tlist.items[i];
    const et_tensor *t = (v && v->tag == ET_TAG_TENSOR) ? v->u.t : NULL;
    if (!t) {
      covered++;
      continue;
    }
    char name[32];
    et_format(name, sizeof name, "indices[%zu]", i);
    ET_K_TRY(et_k_check_tensor(ctx, t, name));
    const bool mask = is_mask_dtype(t->dtype);
    if (!mask && t->dtype != ET_LONG && t->dtype != ET_INT)
      return ET_K_FAIL(ctx, "%s: expected dtype Long, Int, Bool or Byte, got %s", name,
                       et_dtype_name(t->dtype));
    if (mask && t->rank == 0)
      return ET_K_FAIL(ctx, "%s: a zero-dimensional mask is not supported", name);
    const uint32_t k = mask ? t->rank : 1;
    if (covered + k > self->rank)
      return ET_K_FAIL(ctx, "indices: too many indices for self of rank %u (%s would index "
                            "dims %u..%u)",
                       (unsigned)self->rank, name, (unsigned)covered,
                       (unsigned)(covered + k - 1));
    et_adv_term *term = &ai->term[ai->nterms++];
    term->t = t;
    term->pos = (uint32_t)i;
    term->dim = covered;
    term->k = k;
    term->mask = mask;
    term->cur_j = term->cur_lin = -1;
    if (mask) {
      for (uint32_t d = 0; d < k; d++)
        if (t->sizes[d] != self->sizes[covered + d]) {
          char s1[96], s2[96];
          et_k_tensor_shape_str(s1, sizeof s1, t);
          et_k_tensor_shape_str(s2, sizeof s2, self);
          return ET_K_FAIL(ctx, "%s: mask %s does not match self %s at dim %u", name, s1, s2,
                           (unsigned)(covered + d));
        }
      term->dense = et_tensor_is_contiguous(t);
      const int64_t mn = (int64_t)et_tensor_numel(t);
      int64_t c = 0;
      if (term->dense) {
        const uint8_t *p = (const uint8_t *)t->data;
        for (int64_t j = 0; j < mn; j++) c += p[j] != 0;
      } else {
        for (int64_t j = 0; j < mn; j++) c += mask_at(term, j);
      }
      term->count = c;
    }
    covered += k;
  }
  if (covered > self->rank)
    return ET_K_FAIL(ctx, "indices: %u dims indexed, but self has rank %u", (unsigned)covered,
                     (unsigned)self->rank);

  /* broadcast shape B of the index shapes (a mask counts as [count]) */
  for (uint32_t i = 0; i < ai->nterms; i++) {
    const et_adv_term *term = &ai->term[i];
    int64_t shp[ET_MAX_RANK];
    uint32_t r;
    if (term->mask) {
      shp[0] = term->count;
      r = 1;
    } else {
      r = term->t->rank;
      et_k_sizes64(term->t, shp);
    }
    const uint32_t nr = r > ai->brank ? r : ai->brank;
    int64_t nb[ET_MAX_RANK];
    for (uint32_t k = 0; k < nr; k++) {
      const int64_t a = k < ai->brank ? ai->bsize[ai->brank - 1 - k] : 1;
      const int64_t b = k < r ? shp[r - 1 - k] : 1;
      if (a != b && a != 1 && b != 1)
        return ET_K_FAIL(ctx, "indices: shape mismatch: indices[%u] cannot be broadcast with "
                              "the indices before it",
                         (unsigned)term->pos);
      nb[nr - 1 - k] = a == 1 ? b : a;
    }
    ai->brank = nr;
    memcpy(ai->bsize, nb, nr * sizeof nb[0]);
  }
  if (!et_k_numel(ai->bsize, ai->brank, &ai->bnumel))
    return ET_K_FAIL(ctx, "indices: the index shape overflows");
  for (uint32_t i = 0; i < ai->nterms; i++) {
    et_adv_term *term = &ai->term[i];
    for (uint32_t k = 0; k < ai->brank; k++) term->bstr[k] = 0;
    if (term->mask) {
      if (term->count != 1) term->bstr[ai->brank - 1] = 1;
      continue;
    }
    const uint32_t r = term->t->rank;
    for (uint32_t k = 0; k < r; k++) {
      const uint32_t bk = ai->brank - r + k;
      term->bstr[bk] = term->t->sizes[k] == 1 ? 0 : term->t->strides[k];
    }
  }

  /* shape of x = self[indices] */
  bool adjacent = true;
  for (uint32_t i = 1; i < ai->nterms; i++)
    if (ai->term[i].dim != ai->term[i - 1].dim + ai->term[i - 1].k) adjacent = false;
  bool indexed[ET_MAX_RANK] = {false};
  for (uint32_t i = 0; i < ai->nterms; i++)
    for (uint32_t d = 0; d < ai->term[i].k; d++) indexed[ai->term[i].dim + d] = true;
  uint32_t nrest = 0;
  for (uint32_t d = 0; d < self->rank; d++) nrest += !indexed[d];
  if (ai->nterms && ai->brank + nrest > ET_MAX_RANK)
    return ET_K_FAIL(ctx, "indices: the result would have rank %u (more than %d)",
                     (unsigned)(ai->brank + nrest), ET_MAX_RANK);
  if (ai->nterms == 0) {
    /* no index tensors: x is self */
    ai->xrank = self->rank;
    et_k_sizes64(self, ai->xsize);
    ai->nrest = self->rank;
    for (uint32_t d = 0; d < self->rank; d++) ai->rest_dim[d] = ai->rest_xpos[d] = d;
    return ET_OK;
  }
  const uint32_t lead = adjacent ? ai->term[0].dim : 0;
  uint32_t x = 0;
  for (uint32_t d = 0; d < lead; d++) {
    ai->rest_dim[ai->nrest] = d;
    ai->rest_xpos[ai->nrest++] = x;
    ai->xsize[x++] = self->sizes[d];
  }
  ai->bpos = x;
  for (uint32_t k = 0; k < ai->brank; k++) ai->xsize[x++] = ai->bsize[k];
  for (uint32_t d = lead; d < self->rank; d++) {
    if (indexed[d]) continue;
    ai->rest_dim[ai->nrest] = d;
    ai->rest_xpos[ai->nrest++] = x;
    ai->xsize[x++] = self->sizes[d];
  }
  ai->xrank = x;
  return ET_OK;
}

/* Row-major position of the j-th true element of a mask (j < count). */
static int64_t mask_nth(et_adv_term *m, int64_t j) {
  if (j < m->cur_j) m->cur_j = m->cur_lin = -1;
  const int64_t numel = (int64_t)et_tensor_numel(m->t);
  while (m->cur_j < j) {
    do {
      m->cur_lin++;
    } while (m->cur_lin < numel && !mask_at(m, m->cur_lin));
    if (m->cur_lin >= numel) return -1; /* cannot happen: j < count */
    m->cur_j++;
  }
  return m->cur_lin;
}

et_status et_adv_index_offset(et_kernel_ctx *ctx, et_adv_index *ai, const et_tensor *self,
                              const int64_t *bidx, const int64_t *strides, int64_t *out_off) {
  int64_t off = 0;
  for (uint32_t i = 0; i < ai->nterms; i++) {
    et_adv_term *term = &ai->term[i];
    int64_t toff = 0;
    for (uint32_t k = 0; k < ai->brank; k++) toff += bidx[k] * term->bstr[k];
    if (term->mask) {
      int64_t lin = toff < term->count ? mask_nth(term, toff) : -1;
      if (lin < 0)
        return ET_K_FAIL(ctx, "indices[%u]: mask position %lld is out of range",
                         (unsigned)term->pos, (long long)toff);
      for (uint32_t d = term->k; d-- > 0;) {
        const int64_t s = self->sizes[term->dim + d];
        off += (lin % s) * strides[term->dim + d];
        lin /= s;
      }
    } else {
      int64_t v = 0;
      ET_K_TRY(et_index_check(ctx, et_index_at(term->t, toff), self->sizes[term->dim], true,
                              "indices", term->pos, toff, term->dim, &v));
      off += v * strides[term->dim];
    }
  }
  *out_off = off;
  return ET_OK;
}

bool et_adv_index_next(const et_adv_index *ai, int64_t *bidx) {
  for (uint32_t k = ai->brank; k-- > 0;) {
    if (++bidx[k] < ai->bsize[k]) return true;
    bidx[k] = 0;
  }
  return false;
}

/* ---- scatter ------------------------------------------------------------------ */

static int64_t size_or1(const et_tensor *t, uint32_t d) { return t->rank ? t->sizes[d] : 1; }

et_status et_scatter_prepare(et_kernel_ctx *ctx, const et_tensor *self, int64_t dim,
                             const et_tensor *index, const et_tensor *src, et_tensor *out,
                             int64_t *out_dim) {
  ET_K_TRY(et_k_check_tensor(ctx, self, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, index, "index"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_dtype(ctx, index, ET_LONG, "index"));
  ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", out, "out"));
  if (src) {
    ET_K_TRY(et_k_check_tensor(ctx, src, "src"));
    ET_K_TRY(et_k_check_same_dtype(ctx, self, "self", src, "src"));
  }
  ET_K_TRY(et_k_dim(ctx, dim, self->rank, "dim", out_dim));
  dim = *out_dim;
  const uint32_t r = self->rank ? self->rank : 1;
  if ((index->rank ? index->rank : 1) != r)
    return ET_K_FAIL(ctx, "index: expected rank %u (as self), got %u", (unsigned)self->rank,
                     (unsigned)index->rank);
  if (src && (src->rank ? src->rank : 1) != r)
    return ET_K_FAIL(ctx, "src: expected rank %u (as self), got %u", (unsigned)self->rank,
                     (unsigned)src->rank);
  for (uint32_t d = 0; d < r; d++) {
    const int64_t is = size_or1(index, d);
    if ((src && is > size_or1(src, d)) || (d != dim && is > size_or1(self, d))) {
      char s1[96], s2[96], s3[96] = "";
      et_k_tensor_shape_str(s1, sizeof s1, index);
      et_k_tensor_shape_str(s2, sizeof s2, self);
      if (src) et_k_tensor_shape_str(s3, sizeof s3, src);
      return ET_K_FAIL(ctx, "index %s must not be larger than self %s outside dim %lld%s%s", s1,
                       s2, (long long)dim, src ? " nor larger than src " : "", s3);
    }
  }
  ET_K_TRY(et_k_resize_like(ctx, out, self, "out"));
  /* every index value, before anything is written */
  if (et_tensor_numel(index) != 0) {
    int64_t sizes[ET_MAX_RANK];
    et_k_sizes64(index, sizes);
    const int64_t *strides[1] = {index->strides};
    et_nd_iter it;
    et_nd_iter_init(&it, index->rank, sizes, 1, strides, NULL);
    const int64_t size = size_or1(self, (uint32_t)dim);
    int64_t pos = 0;
    do {
      for (int64_t j = 0; j < it.inner; j++, pos++) {
        int64_t v = 0;
        ET_K_TRY(et_index_check(ctx, et_index_at(index, it.off[0] + j * it.inner_stride[0]),
                                size, false, "index", -1, pos, dim, &v));
      }
    } while (et_nd_iter_next(&it));
  }
  if (et_tensor_numel(self) != 0) et_copy_tensor(out, self);
  return ET_OK;
}

int64_t et_scatter_iter_init(et_nd_iter *it, const et_tensor *out, int64_t dim,
                             const et_tensor *index, const et_tensor *src) {
  int64_t sizes[ET_MAX_RANK], ostr[ET_MAX_RANK], sstr[ET_MAX_RANK];
  et_k_sizes64(index, sizes);
  for (uint32_t d = 0; d < index->rank; d++) {
    ostr[d] = (out->rank == 0 || d == dim) ? 0 : out->strides[d];
    sstr[d] = (src && src->rank) ? src->strides[d] : 0;
  }
  const int64_t *strides[3] = {ostr, index->strides, sstr};
  et_nd_iter_init(it, index->rank, sizes, src ? 3 : 2, strides, NULL);
  return out->rank ? out->strides[dim] : 0;
}

/* ---- accumulation --------------------------------------------------------------- */

#define ADD_RUN(ENUM, CTYPE, S)                                                          \
  static void add_run_##S(char *d, int64_t ds, const char *s, int64_t ss, int64_t n) {   \
    CTYPE *dp = (CTYPE *)d;                                                              \
    const CTYPE *sp = (const CTYPE *)s;                                                  \
    for (int64_t i = 0; i < n; i++)                                                      \
      dp[i * ds] = ET_ST(S, ET_ADD(S, ET_LD(S, dp[i * ds]), ET_LD(S, sp[i * ss])));      \
  }
ET_FOREACH_REALHBBF16(ADD_RUN)
#undef ADD_RUN

bool et_add_nd(void *dst, const int64_t *dst_strides, const void *src,
               const int64_t *src_strides, int dtype, uint32_t rank, const int64_t *sizes) {
  if (!et_dtype_is_supported(dtype)) return false;
  const int64_t *strides[2] = {dst_strides, src_strides};
  et_nd_iter it;
  et_nd_iter_init(&it, rank, sizes, 2, strides, NULL);
  if (it.inner == 0) return true;
  const int64_t es = (int64_t)et_dtype_size(dtype);
  do {
    char *d = (char *)dst + it.off[0] * es;
    const char *s = (const char *)src + it.off[1] * es;
    switch (dtype) {
#define ADD_CASE(ENUM, CTYPE, S)                                                         \
  case ENUM: add_run_##S(d, it.inner_stride[0], s, it.inner_stride[1], it.inner); break;
      ET_FOREACH_REALHBBF16(ADD_CASE)
#undef ADD_CASE
    default: return false;
    }
  } while (et_nd_iter_next(&it));
  return true;
}
