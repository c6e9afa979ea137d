/*
 * aten::topk.values(Tensor self, SymInt k, int dim=-1, bool largest=True,
 *     bool sorted=True, *, Tensor(a!) values, Tensor(b!) indices)
 *     -> (Tensor(a!) values, Tensor(b!) indices)
 *
 * The k largest (or smallest) elements along `dim` and their indices
 * (Long). NaN ranks above +inf, as in PyTorch: first when largest, last
 * otherwise. Equal elements are taken in index order (PyTorch leaves the
 * order of ties to its selection algorithm). Results are always sorted
 * best first, which `sorted=False` permits.
 *
 * No scratch memory: each row keeps a binary heap of its k best candidates
 * (worst at the root) directly in the values/indices outputs, so a row costs
 * O(n log k), and the heap is then sorted in place. Any dim order; every
 * real dtype and Half/BFloat16 (Bool is refused, as in PyTorch).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

/* a ranks above b: NaN above everything else */
#define GT(a, b) (((a) != (a) && (b) == (b)) || (a) > (b))

#define DEFINE_TOPK(E, T, S)                                                   \
  /* x (index ix) should be kept before y (index iy) */                        \
  static inline bool better_##S(ET_CT(S) x, int64_t ix, ET_CT(S) y, int64_t iy, \
                                bool largest) {                                \
    if (largest ? GT(x, y) : GT(y, x)) return true;                            \
    if (largest ? GT(y, x) : GT(x, y)) return false;                           \
    return ix < iy;                                                            \
  }                                                                            \
  static void sift_down_##S(T *v, int64_t vs, int64_t *id, int64_t is, int64_t pos, \
                            int64_t size, bool largest) {                      \
    const T tv = v[pos * vs];                                                  \
    const int64_t ti = id[pos * is];                                           \
    const ET_CT(S) t = ET_LD(S, tv);                                           \
    for (;;) {                                                                 \
      int64_t c = 2 * pos + 1;                                                 \
      if (c >= size) break;                                                    \
      /* the worse child moves up: the root stays the worst kept */          \
      if (c + 1 < size && better_##S(ET_LD(S, v[c * vs]), id[c * is],          \
                                     ET_LD(S, v[(c + 1) * vs]), id[(c + 1) * is], largest)) \
        c++;                                                                   \
      if (!better_##S(t, ti, ET_LD(S, v[c * vs]), id[c * is], largest)) break; \
      v[pos * vs] = v[c * vs];                                                 \
      id[pos * is] = id[c * is];                                               \
      pos = c;                                                                 \
    }                                                                          \
    v[pos * vs] = tv;                                                          \
    id[pos * is] = ti;                                                         \
  }                                                                            \
  static void topk_row_##S(const T *x, int64_t xs, int64_t n, T *v, int64_t vs,  \
                           int64_t *id, int64_t is, int64_t k, bool largest) {  \
    /* build: the first k elements, sifted up one by one */                    \
    for (int64_t i = 0; i < k; i++) {                                          \
      const T xv = x[i * xs];                                                  \
      const ET_CT(S) xc = ET_LD(S, xv);                                        \
      int64_t pos = i;                                                         \
      while (pos > 0) {                                                        \
        const int64_t par = (pos - 1) / 2;                                     \
        if (!better_##S(ET_LD(S, v[par * vs]), id[par * is], xc, i, largest)) break; \
        v[pos * vs] = v[par * vs];                                             \
        id[pos * is] = id[par * is];                                           \
        pos = par;                                                             \
      }                                                                        \
      v[pos * vs] = xv;                                                        \
      id[pos * is] = i;                                                        \
    }                                                                          \
    /* later elements replace the root when they rank above it */              \
    ET_CT(S) root = ET_LD(S, v[0]);                                            \
    int64_t root_i = id[0];                                                    \
    for (int64_t i = k; i < n; i++) {                                          \
      const ET_CT(S) xc = ET_LD(S, x[i * xs]);                                 \
      if (!better_##S(xc, i, root, root_i, largest)) continue;                 \
      v[0] = x[i * xs];                                                        \
      id[0] = i;                                                               \
      sift_down_##S(v, vs, id, is, 0, k, largest);                             \
      root = ET_LD(S, v[0]);                                                   \
      root_i = id[0];                                                          \
    }                                                                          \
    /* heap sort: the worst goes last, leaving the best first */               \
    for (int64_t end = k - 1; end > 0; end--) {                                \
      const T tv = v[0];                                                       \
      const int64_t ti = id[0];                                                \
      v[0] = v[end * vs];                                                      \
      id[0] = id[end * is];                                                    \
      v[end * vs] = tv;                                                        \
      id[end * is] = ti;                                                       \
      sift_down_##S(v, vs, id, is, 0, end, largest);                           \
    }                                                                          \
  }
ET_FOREACH_REALHBF16(DEFINE_TOPK)

et_status et_op_topk_values(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  const int64_t k = args[1]->u.i;
  const bool largest = args[3]->u.b;
  et_tensor *vals = args[5]->u.t, *idx = args[6]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, vals, "values"));
  ET_K_TRY(et_k_check_tensor(ctx, idx, "indices"));
  if (in->dtype == ET_BOOL) return ET_K_FAIL(ctx, "self: Bool is not supported");
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", vals, "values"));
  ET_K_TRY(et_k_check_dtype(ctx, idx, ET_LONG, "indices"));
  int64_t dim;
  ET_K_TRY(et_k_dim(ctx, args[2]->u.i, in->rank, "dim", &dim));
  const int64_t n = in->rank ? in->sizes[dim] : 1;
  if (k < 0 || k > n)
    return ET_K_FAIL(ctx, "k = %lld is out of range for a dim of size %lld", (long long)k,
                     (long long)n);
  int64_t sizes[ET_MAX_RANK];
  et_k_sizes64(in, sizes);
  if (in->rank) sizes[dim] = k;
  ET_K_TRY(et_k_resize(ctx, vals, sizes, in->rank, "values"));
  ET_K_TRY(et_k_resize(ctx, idx, sizes, in->rank, "indices"));
  if (et_tensor_numel(in) == 0 || k == 0) {
    if (in->rank == 0) { /* a 0-dim tensor is its own top-0, as in PyTorch */
      memcpy(vals->data, in->data, et_dtype_size(in->dtype));
      *(int64_t *)idx->data = 0;
    }
    return ET_OK;
  }
  if (vals->data == in->data)
    return ET_K_FAIL(ctx, "values must not share memory with self");

  const int64_t xs = in->rank ? in->strides[dim] : 1;
  const int64_t vs = vals->rank ? vals->strides[dim] : 1;
  const int64_t is = idx->rank ? idx->strides[dim] : 1;
  if (in->rank) sizes[dim] = 1;
  const int64_t *strides[3] = {in->strides, vals->strides, idx->strides};
  et_nd_iter it;
  et_nd_iter_init(&it, in->rank, sizes, 3, strides, in->dim_order);
  switch (in->dtype) {
#define CASE_TOPK(E, T, S)                                                     \
  case E:                                                                      \
    do {                                                                       \
      for (int64_t j = 0; j < it.inner; j++)                                   \
        topk_row_##S((const T *)in->data + it.off[0] + j * it.inner_stride[0], xs, n, \
                     (T *)vals->data + it.off[1] + j * it.inner_stride[1], vs,  \
                     (int64_t *)idx->data + it.off[2] + j * it.inner_stride[2], is, k, \
                     largest);                                                 \
    } while (et_nd_iter_next(&it));                                            \
    break;
    ET_FOREACH_REALHBF16(CASE_TOPK)
  default:
    break;
  }
  return ET_OK;
}
