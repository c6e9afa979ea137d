/*
 * aten::roll.out(Tensor self, SymInt[1] shifts, int[1] dims=[], *,
 *                Tensor(a!) out)
 *
 * Elements move `shifts[i]` places along `dims[i]` and wrap around (shifts
 * on a repeated dim add up; negative shifts move backwards). With no dims,
 * self is rolled as a flat tensor (one shift) and keeps its shape.
 *
 * Per dim the shift splits the dim into two ranges that swap places, so
 * the copy is 2^k strided block copies (k = dims actually shifted).
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/index_util.h"
#include "util/shape_util.h"

/* shift mod size, in [0, size) */
static int64_t wrap_shift(int64_t s, int64_t size) {
  int64_t m = s % size;
  return m < 0 ? m + size : m;
}

/* Flat roll for any dim orders: walk out in row-major order and self from
 * row-major position numel - s. */
static void roll_flat(const et_tensor *in, et_tensor *out, int64_t s) {
  const int64_t n = (int64_t)et_tensor_numel(in);
  const size_t es = et_dtype_size(in->dtype);
  if (et_tensor_is_contiguous(in) && et_tensor_is_contiguous(out)) {
    memcpy((char *)out->data + s * (int64_t)es, in->data, (size_t)(n - s) * es);
    memcpy(out->data, (const char *)in->data + (n - s) * (int64_t)es, (size_t)s * es);
    return;
  }
  int64_t oi[ET_MAX_RANK] = {0}, si[ET_MAX_RANK] = {0}, ooff = 0, soff = 0;
  int64_t start = (n - s) % n;
  for (uint32_t d = in->rank; d-- > 0;) {
    si[d] = start % in->sizes[d];
    start /= in->sizes[d];
    soff += si[d] * in->strides[d];
  }
  for (int64_t k = 0; k < n; k++) {
    et_copy_elem((char *)out->data + ooff * (int64_t)es, (const char *)in->data + soff * (int64_t)es,
                 es);
    for (uint32_t d = out->rank; d-- > 0;) {
      if (++oi[d] < out->sizes[d]) {
        ooff += out->strides[d];
        break;
      }
      oi[d] = 0;
      ooff -= out->strides[d] * (out->sizes[d] - 1);
    }
    for (uint32_t d = in->rank; d-- > 0;) { /* past the last element: back to 0 */
      if (++si[d] < in->sizes[d]) {
        soff += in->strides[d];
        break;
      }
      si[d] = 0;
      soff -= in->strides[d] * (in->sizes[d] - 1);
    }
  }
}

et_status et_op_roll_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[3]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  int64_t shifts[ET_MAX_RANK], dims[ET_MAX_RANK];
  size_t ns, nd;
  ET_K_TRY(et_k_int_list(ctx, args[1], shifts, ET_MAX_RANK, &ns, "shifts"));
  ET_K_TRY(et_k_int_list(ctx, args[2], dims, ET_MAX_RANK, &nd, "dims"));
  if (ns == 0) return ET_K_FAIL(ctx, "shifts: must not be empty");
  if (nd == 0 && ns != 1)
    return ET_K_FAIL(ctx, "shifts: without dims exactly one shift is allowed, got %zu", ns);
  if (nd != 0 && nd != ns)
    return ET_K_FAIL(ctx, "shifts (%zu) and dims (%zu) must have the same length", ns, nd);
  int64_t shift[ET_MAX_RANK] = {0};
  for (size_t i = 0; i < nd; i++) {
    int64_t d;
    ET_K_TRY(et_k_dim(ctx, dims[i], in->rank, "dims", &d));
    if (in->rank == 0) continue;
    const int64_t size = in->sizes[d];
    if (size != 0) shift[d] = wrap_shift(shift[d] + wrap_shift(shifts[i], size), size);
  }
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  const int64_t numel = (int64_t)et_tensor_numel(in);
  if (numel == 0) return ET_OK;
  if (nd == 0) {
    roll_flat(in, out, wrap_shift(shifts[0], numel));
    return ET_OK;
  }
  /* dims with a real shift, and the 2^k block copies */
  uint32_t rolled[ET_MAX_RANK], k = 0;
  for (uint32_t d = 0; d < in->rank; d++)
    if (shift[d] != 0) rolled[k++] = d;
  const int64_t es = (int64_t)et_dtype_size(in->dtype);
  int64_t sizes[ET_MAX_RANK];
  for (uint32_t combo = 0; combo < (1u << k); combo++) {
    int64_t ooff = 0, ioff = 0;
    et_k_sizes64(in, sizes);
    for (uint32_t j = 0; j < k; j++) {
      const uint32_t d = rolled[j];
      const int64_t size = in->sizes[d], s = shift[d];
      if (combo & (1u << j)) { /* out [0, s) <- in [size - s, size) */
        sizes[d] = s;
        ioff += (size - s) * in->strides[d];
      } else { /* out [s, size) <- in [0, size - s) */
        sizes[d] = size - s;
        ooff += s * out->strides[d];
      }
    }
    et_copy_nd((char *)out->data + ooff * es, out->dtype, out->strides,
               (const char *)in->data + ioff * es, in->dtype, in->strides, in->rank, sizes,
               out->dim_order);
  }
  return ET_OK;
}
