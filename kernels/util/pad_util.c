/* Reflection / replication padding. */
#include "util/pad_util.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

#include <string.h>

int64_t et_pad_src_index(int64_t j, int64_t in, int64_t pad_l, et_pad_mode mode) {
  const int64_t i_start = pad_l < 0 ? -pad_l : 0, o_start = pad_l > 0 ? pad_l : 0;
  int64_t ip;
  if (j < pad_l)
    ip = mode == ET_PAD_REFLECT ? 2 * pad_l - j : pad_l;
  else if (j < in + pad_l)
    ip = j;
  else
    ip = mode == ET_PAD_REFLECT ? 2 * (in + pad_l - 1) - j : in + pad_l - 1;
  return ip - o_start + i_start;
}

et_status et_pad_out(et_kernel_ctx *ctx, et_value **args, uint32_t spatial, et_pad_mode mode) {
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[2]->u.t;
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  if (in->rank != spatial + 1 && in->rank != spatial + 2)
    return ET_K_FAIL(ctx, "self: expected %uD or %uD (batch mode) tensor, got rank %u",
                     (unsigned)(spatial + 1), (unsigned)(spatial + 2), (unsigned)in->rank);
  for (uint32_t d = in->rank == spatial + 2 ? 1 : 0; d < in->rank; d++)
    if (in->sizes[d] == 0) {
      char s[96];
      et_k_tensor_shape_str(s, sizeof s, in);
      return ET_K_FAIL(ctx, "self: expected non-zero sizes (except an optional batch dim), "
                            "got %s",
                       s);
    }
  int64_t pad[6];
  size_t np;
  ET_K_TRY(et_k_int_list(ctx, args[1], pad, 6, &np, "padding"));
  if (np != 2 * spatial)
    return ET_K_FAIL(ctx, "padding: expected %u values, got %zu", (unsigned)(2 * spatial), np);

  const uint32_t lead = in->rank - spatial;
  int64_t osz[ET_MAX_RANK], pl[3], isz[3];
  for (uint32_t d = 0; d < lead; d++) osz[d] = in->sizes[d];
  for (uint32_t s = 0; s < spatial; s++) {
    /* pad holds (left, right) pairs from the last dim backwards */
    const uint32_t d = in->rank - 1 - s;
    const int64_t l = pad[2 * s], r = pad[2 * s + 1], n = in->sizes[d];
    if (mode == ET_PAD_REFLECT && (l >= n || r >= n))
      return ET_K_FAIL(ctx, "padding: reflection padding (%lld, %lld) must be smaller than "
                            "the input dim %u of size %lld",
                       (long long)l, (long long)r, (unsigned)d, (long long)n);
    osz[d] = n + l + r;
    if (osz[d] < 1)
      return ET_K_FAIL(ctx, "padding: input dim %u of size %lld is too small for padding "
                            "(%lld, %lld)",
                       (unsigned)d, (long long)n, (long long)l, (long long)r);
    pl[spatial - 1 - s] = l;
    isz[spatial - 1 - s] = n;
    /* every source index must be inside the input (cheap: one pass per dim) */
    for (int64_t j = 0; j < osz[d]; j++) {
      const int64_t src = et_pad_src_index(j, n, l, mode);
      if (src < 0 || src >= n)
        return ET_K_FAIL(ctx, "padding: (%lld, %lld) reaches outside input dim %u of size %lld",
                         (long long)l, (long long)r, (unsigned)d, (long long)n);
    }
  }
  ET_K_TRY(et_k_resize(ctx, out, osz, in->rank, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;

  /* spatial dims as [D, H, W] with size-1 dims in front when spatial < 3 */
  int64_t OD = 1, OH = 1, ID = 1, IH = 1, pd = 0, ph = 0;
  int64_t isd = 0, ish = 0, osd = 0, osh = 0;
  const uint32_t r = in->rank;
  const int64_t OW = osz[r - 1], IW = isz[spatial - 1], pw = pl[spatial - 1];
  const int64_t isw = in->strides[r - 1], osw = out->strides[r - 1];
  if (spatial >= 2) {
    OH = osz[r - 2], IH = isz[spatial - 2], ph = pl[spatial - 2];
    ish = in->strides[r - 2], osh = out->strides[r - 2];
  }
  if (spatial == 3) {
    OD = osz[r - 3], ID = isz[0], pd = pl[0];
    isd = in->strides[r - 3], osd = out->strides[r - 3];
  }
  /* the middle of each row copies a run; the borders element by element */
  const int64_t mid_lo = pw > 0 ? pw : 0;
  const int64_t mid_hi = IW + pw < OW ? IW + pw : OW;
  const size_t es = et_dtype_size(in->dtype);
  int64_t lsz[2] = {1, 1}, lstr[2][2] = {{0, 0}, {0, 0}};
  for (uint32_t d = 0; d < lead; d++) {
    lsz[d] = in->sizes[d];
    lstr[d][0] = in->strides[d];
    lstr[d][1] = out->strides[d];
  }
  const char *x = (const char *)in->data;
  char *y = (char *)out->data;
  for (int64_t a = 0; a < lsz[0]; a++)
    for (int64_t b = 0; b < lsz[1]; b++) {
      const int64_t ib = a * lstr[0][0] + b * lstr[1][0];
      const int64_t ob = a * lstr[0][1] + b * lstr[1][1];
      for (int64_t od = 0; od < OD; od++) {
        const int64_t id = spatial == 3 ? et_pad_src_index(od, ID, pd, mode) : 0;
        for (int64_t oh = 0; oh < OH; oh++) {
          const int64_t ih = spatial >= 2 ? et_pad_src_index(oh, IH, ph, mode) : 0;
          const char *xr = x + (size_t)(ib + id * isd + ih * ish) * es;
          char *yr = y + (size_t)(ob + od * osd + oh * osh) * es;
          for (int64_t ow = 0; ow < mid_lo; ow++)
            memcpy(yr + (size_t)(ow * osw) * es,
                   xr + (size_t)(et_pad_src_index(ow, IW, pw, mode) * isw) * es, es);
          if (mid_hi > mid_lo) {
            const int64_t len = mid_hi - mid_lo;
            et_copy_nd(yr + (size_t)(mid_lo * osw) * es, out->dtype, &osw,
                       xr + (size_t)(et_pad_src_index(mid_lo, IW, pw, mode) * isw) * es,
                       in->dtype, &isw, 1, &len, NULL);
          }
          for (int64_t ow = mid_hi > mid_lo ? mid_hi : mid_lo; ow < OW; ow++)
            memcpy(yr + (size_t)(ow * osw) * es,
                   xr + (size_t)(et_pad_src_index(ow, IW, pw, mode) * isw) * es, es);
        }
      }
    }
  return ET_OK;
}
