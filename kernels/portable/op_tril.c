/*
 * aten::tril.out(Tensor self, SymInt diagonal=0, *, Tensor(a!) out)
 *
 * The lower triangle of the matrices in self's last two dims: element
 * (i, j) is kept where j - i <= diagonal and zeroed elsewhere.
 */
#include "portable/ops.h"

#include "util/broadcast_util.h"
#include "util/index_util.h"
#include "util/shape_util.h"

#include <string.h>

/* n elements from src to dst (element strides), and n zeros into dst */
static void run_copy(char *dst, int64_t ds, const char *src, int64_t ss, int64_t n, size_t es) {
  if (ds == 1 && ss == 1) {
    memcpy(dst, src, (size_t)n * es);
    return;
  }
  for (int64_t j = 0; j < n; j++)
    et_copy_elem(dst + j * ds * (int64_t)es, src + j * ss * (int64_t)es, es);
}

static void run_zero(char *dst, int64_t ds, int64_t n, size_t es) {
  if (ds == 1) {
    memset(dst, 0, (size_t)n * es);
    return;
  }
  const uint64_t zero = 0;
  for (int64_t j = 0; j < n; j++) et_copy_elem(dst + j * ds * (int64_t)es, &zero, es);
}

et_status et_op_tril_out(et_kernel_ctx *ctx, et_value **args) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  if (in->rank < 2)
    return ET_K_FAIL(ctx, "self: tril needs at least 2 dims, got %u", (unsigned)in->rank);
  ET_K_TRY(et_k_resize_like(ctx, out, in, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;
  const uint32_t r = in->rank;
  const int64_t rows = in->sizes[r - 2], cols = in->sizes[r - 1];
  int64_t diag = args[1]->u.i; /* clamped: only [-rows, cols] matters */
  if (diag < -rows) diag = -rows;
  if (diag > cols) diag = cols;
  const size_t es = et_dtype_size(in->dtype);
  const int64_t irs = in->strides[r - 2], ics = in->strides[r - 1];
  const int64_t ors = out->strides[r - 2], ocs = out->strides[r - 1];
  int64_t bsz[ET_MAX_RANK];
  et_k_sizes64(in, bsz);
  const int64_t *strides[2] = {out->strides, in->strides};
  et_nd_iter it;
  et_nd_iter_init(&it, r - 2, bsz, 2, strides, NULL);
  do {
    for (int64_t b = 0; b < it.inner; b++) {
      char *o = (char *)out->data + (it.off[0] + b * it.inner_stride[0]) * (int64_t)es;
      const char *s = (const char *)in->data + (it.off[1] + b * it.inner_stride[1]) * (int64_t)es;
      for (int64_t i = 0; i < rows; i++) {
        int64_t keep = i + diag + 1;
        keep = keep < 0 ? 0 : keep > cols ? cols : keep;
        char *orow = o + i * ors * (int64_t)es;
        run_copy(orow, ocs, s + i * irs * (int64_t)es, ics, keep, es);
        run_zero(orow + keep * ocs * (int64_t)es, ocs, cols - keep, es);
      }
    }
  } while (et_nd_iter_next(&it));
  return ET_OK;
}
