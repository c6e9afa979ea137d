/*
 * aten::nonzero.out(Tensor self, *, Tensor(a!) out)
 *
 * The coordinates of self's non-zero elements (NaN counts as non-zero,
 * -0.0 as zero), one row each in row-major order: a Long out of shape
 * [count, rank]. count depends on the data: out must be DYNAMIC_BOUND with
 * room for it (or STATIC of exactly that shape); otherwise the call fails
 * without writing.
 */
#include "portable/ops.h"

#include "util/dtype_util.h"
#include "util/shape_util.h"

/* Non-zero test on a stored element (Half/BFloat16: any bit but the sign). */
#define NZ_u8(x) ((x) != 0)
#define NZ_i8(x) ((x) != 0)
#define NZ_i16(x) ((x) != 0)
#define NZ_i32(x) ((x) != 0)
#define NZ_i64(x) ((x) != 0)
#define NZ_b(x) ((x) != 0)
#define NZ_f32(x) ((x) != 0)
#define NZ_f64(x) ((x) != 0)
#define NZ_f16(x) (((x) & 0x7fffu) != 0)
#define NZ_bf16(x) (((x) & 0x7fffu) != 0)

/*
 * Walk self in row-major order; count the non-zero elements and, when `o`
 * is set, write their coordinates (rows of `rank` values, strides os0/os1).
 */
#define NONZERO(ENUM, CTYPE, S)                                                          \
  static int64_t nonzero_##S(const et_tensor *t, int64_t *o, int64_t os0, int64_t os1) {  \
    const CTYPE *p = (const CTYPE *)t->data;                                             \
    const uint32_t r = t->rank;                                                          \
    if (r == 0) return NZ_##S(p[0]) ? 1 : 0;                                             \
    const int64_t n = t->sizes[r - 1], st = t->strides[r - 1];                           \
    int64_t idx[ET_MAX_RANK] = {0}, off = 0, count = 0;                                  \
    for (;;) {                                                                           \
      for (int64_t j = 0; j < n; j++) {                                                  \
        if (!NZ_##S(p[off + j * st])) continue;                                          \
        if (o) {                                                                         \
          int64_t *row = o + count * os0;                                                \
          for (uint32_t d = 0; d + 1 < r; d++) row[d * os1] = idx[d];                    \
          row[(r - 1) * os1] = j;                                                        \
        }                                                                                \
        count++;                                                                         \
      }                                                                                  \
      uint32_t d = r - 1;                                                                \
      while (d-- > 0) {                                                                  \
        if (++idx[d] < t->sizes[d]) {                                                    \
          off += t->strides[d];                                                          \
          break;                                                                         \
        }                                                                                \
        idx[d] = 0;                                                                      \
        off -= t->strides[d] * (t->sizes[d] - 1);                                        \
      }                                                                                  \
      if (d == UINT32_MAX) return count;                                                 \
    }                                                                                    \
  }
ET_FOREACH_REALHBBF16(NONZERO)
#undef NONZERO

static int64_t walk(const et_tensor *t, int64_t *o, int64_t os0, int64_t os1) {
  switch (t->dtype) {
#define CASE(ENUM, CTYPE, S) \
  case ENUM: return nonzero_##S(t, o, os0, os1);
    ET_FOREACH_REALHBBF16(CASE)
#undef CASE
  default: return 0;
  }
}

et_status et_op_nonzero_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_dtype(ctx, out, ET_LONG, "out"));
  ET_K_TRY(et_k_check_rank(ctx, out, 2, 2, "out"));
  const int64_t count = et_tensor_numel(in) == 0 ? 0 : walk(in, NULL, 0, 0);
  const int64_t sizes[2] = {count, in->rank};
  ET_K_TRY(et_k_resize(ctx, out, sizes, 2, "out"));
  if (count == 0 || in->rank == 0) return ET_OK;
  walk(in, (int64_t *)out->data, out->strides[0], out->strides[1]);
  return ET_OK;
}
