/*
 * Indexing by data: reading index tensors, bounds checks, PyTorch's
 * advanced indexing (self[indices] as aten::index/index_put see it), the
 * argument checks of scatter/scatter_add, and strided accumulation.
 *
 * Every index that comes from tensor data is checked before it is used;
 * a failure names the operator (through et_kernel_fail), the argument, the
 * position of the bad value and the dim it indexes.
 *
 * Thread-safety: pure; an et_adv_index belongs to one call (it carries a
 * cursor into each mask).
 */
#ifndef ET_KERNELS_UTIL_INDEX_UTIL_H
#define ET_KERNELS_UTIL_INDEX_UTIL_H

#include <edgetorch/kernel.h>
#include <edgetorch/value.h>

#include "util/broadcast_util.h"
#include "util/dtype_util.h"

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element `off` of a Long or Int tensor (the caller checked the dtype). */
static inline int64_t et_index_at(const et_tensor *t, int64_t off) {
  return t->dtype == ET_LONG ? ((const int64_t *)t->data)[off]
                             : (int64_t)((const int32_t *)t->data)[off];
}

/* Copy one element of `es` bytes (1, 2, 4 or 8 as et_dtype_size gives). */
static inline void et_copy_elem(void *dst, const void *src, size_t es) {
  switch (es) {
  case 1: *(uint8_t *)dst = *(const uint8_t *)src; break;
  case 2: memcpy(dst, src, 2); break;
  case 4: memcpy(dst, src, 4); break;
  default: memcpy(dst, src, 8); break;
  }
}

/* `t` must be Long or Int. */
et_status et_index_check_long_int(et_kernel_ctx *ctx, const et_tensor *t, const char *name);

/*
 * Check an index value `v` against a dim (`dim`) of `size` elements. With
 * `wrap`, values in [-size, size) are accepted and negative ones count from
 * the end (index, index_put, select); without it only [0, size) (gather,
 * scatter, index_select, as PyTorch). The message names the argument
 * `name` (with "[list_pos]" when list_pos >= 0, for tensor lists), the
 * value's flat position `pos` in that tensor (pos < 0: a scalar argument)
 * and the dim. The normalized value goes to *out. et_index_fail is its
 * failure path (records the message).
 */
et_status et_index_fail(et_kernel_ctx *ctx, int64_t v, int64_t size, bool wrap, const char *name,
                        int64_t list_pos, int64_t pos, int64_t dim);

static inline et_status et_index_check(et_kernel_ctx *ctx, int64_t v, int64_t size, bool wrap,
                                       const char *name, int64_t list_pos, int64_t pos,
                                       int64_t dim, int64_t *out) {
  if (v >= 0 && v < size) {
    *out = v;
    return ET_OK;
  }
  if (wrap && v < 0 && v >= -size) {
    *out = v + size;
    return ET_OK;
  }
  return et_index_fail(ctx, v, size, wrap, name, list_pos, pos, dim);
}

/* ---- advanced indexing ------------------------------------------------------
 *
 * self[indices] with a Tensor?[] list: None entries keep a dim; Long/Int
 * tensors index one dim each; a Bool/Byte mask of rank k indexes k dims and
 * acts as a 1-D index over its true positions (row-major), as PyTorch's
 * nonzero expansion. The index tensors (masks as [count]) broadcast to a
 * shape B. If the indexed dims are adjacent, the result x has self's
 * leading dims, then B, then the trailing dims; otherwise B, then every
 * non-indexed dim. */

typedef struct et_adv_term {
  const et_tensor *t; /* Long/Int index or Bool/Byte mask */
  uint32_t pos;       /* position in the indices list */
  uint32_t dim;       /* first self dim it indexes */
  uint32_t k;         /* self dims covered: 1, or the mask's rank */
  bool mask;
  bool dense;         /* mask: contiguous, so linear index = offset */
  int64_t count;      /* mask: number of true elements */
  int64_t bstr[ET_MAX_RANK]; /* strides over B (0 where broadcast) */
  int64_t cur_j, cur_lin;    /* mask cursor: the cur_j-th true is at cur_lin */
} et_adv_term;

typedef struct et_adv_index {
  uint32_t nterms;
  et_adv_term term[ET_MAX_RANK];
  uint32_t brank;
  int64_t bsize[ET_MAX_RANK];
  int64_t bnumel;
  uint32_t bpos; /* first dim of B in x */
  uint32_t xrank;
  int64_t xsize[ET_MAX_RANK];
  uint32_t nrest;                  /* self dims that are not indexed */
  uint32_t rest_dim[ET_MAX_RANK];  /* ... as self dims */
  uint32_t rest_xpos[ET_MAX_RANK]; /* ... and their dims in x */
} et_adv_index;

/*
 * Parse `indices` (an optional-tensor list) against `self`: dtypes
 * (Long, Int, Bool, Byte), mask shapes, the number of dims covered, the
 * broadcast of the index shapes and the shape of x. Masks are counted here.
 */
et_status et_adv_index_init(et_kernel_ctx *ctx, et_adv_index *ai, const et_tensor *self,
                            const et_value *indices);

/*
 * The element offset, in a tensor shaped like self with `strides`, of the
 * position that B coordinate `bidx` selects (rest dims at 0). Every index
 * value is bounds-checked (negative values count from the end).
 */
et_status et_adv_index_offset(et_kernel_ctx *ctx, et_adv_index *ai, const et_tensor *self,
                              const int64_t *bidx, const int64_t *strides, int64_t *out_off);

/* Next B coordinate in row-major order; false after the last. */
bool et_adv_index_next(const et_adv_index *ai, int64_t *bidx);

/* ---- scatter ---------------------------------------------------------------- */

/*
 * Shapes and dtypes of scatter/scatter_add: index is Long with self's rank
 * (a 0-dim tensor counts as rank 1), index.size(d) <= src.size(d) for every
 * d (src may be NULL: scatter.value) and <= self.size(d) for d != dim; src
 * and out have self's dtype. out is resized like self. Every index value is
 * checked to lie in [0, self.size(dim)). The normalized dim goes to *out_dim.
 */
et_status et_scatter_prepare(et_kernel_ctx *ctx, const et_tensor *self, int64_t dim,
                             const et_tensor *index, const et_tensor *src, et_tensor *out,
                             int64_t *out_dim);

/*
 * The walk of a scatter: runs over index's shape with operands 0 = out
 * (with dim's stride 0: the kernel adds value * the returned stride),
 * 1 = index, 2 = src (when not NULL). Returns out's stride of dim.
 */
int64_t et_scatter_iter_init(et_nd_iter *it, const et_tensor *out, int64_t dim,
                             const et_tensor *index, const et_tensor *src);

/* ---- accumulation ----------------------------------------------------------- */

/* a + b in the compute type of suffix S (dtype_util.h): integers wrap in
 * 64 bits without undefined behaviour, floats add. */
#define ET_ADD(S, a, b) ET_ADD_##S(a, b)
#define ET_ADD_WRAP_(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define ET_ADD_u8 ET_ADD_WRAP_
#define ET_ADD_i8 ET_ADD_WRAP_
#define ET_ADD_i16 ET_ADD_WRAP_
#define ET_ADD_i32 ET_ADD_WRAP_
#define ET_ADD_i64 ET_ADD_WRAP_
#define ET_ADD_b ET_ADD_WRAP_
#define ET_ADD_FLT_(a, b) ((a) + (b))
#define ET_ADD_f32 ET_ADD_FLT_
#define ET_ADD_f64 ET_ADD_FLT_
#define ET_ADD_f16 ET_ADD_FLT_
#define ET_ADD_bf16 ET_ADD_FLT_

/*
 * dst += src over the index space `sizes` (both of dtype `dtype`, any
 * strides): integers wrap, Bool is a logical or, Half/BFloat16 round after
 * each addition (as PyTorch's CPU kernels). False if dtype is unsupported.
 */
bool et_add_nd(void *dst, const int64_t *dst_strides, const void *src,
               const int64_t *src_strides, int dtype, uint32_t rank, const int64_t *sizes);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_INDEX_UTIL_H */
