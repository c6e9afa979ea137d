/* pixel_shuffle / pixel_unshuffle as strided copies. */
#include "util/shuffle_util.h"

#include "util/broadcast_util.h"
#include "util/shape_util.h"

et_status et_pixel_shuffle_out(et_kernel_ctx *ctx, et_value **args, bool shuffle) {
  const et_tensor *in = args[0]->u.t;
  const int64_t r = args[1]->u.i;
  et_tensor *out = args[2]->u.t;
  const char *fname = shuffle ? "upscale_factor" : "downscale_factor";
  ET_K_TRY(et_k_check_tensor(ctx, in, "self"));
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_same_dtype(ctx, in, "self", out, "out"));
  ET_K_TRY(et_k_check_rank(ctx, in, 3, ET_MAX_RANK - 2, "self"));
  if (r <= 0 || r > INT32_MAX)
    return ET_K_FAIL(ctx, "%s: must be positive, got %lld", fname, (long long)r);
  const uint32_t rank = in->rank, lead = rank - 3;
  const int64_t C = in->sizes[rank - 3], H = in->sizes[rank - 2], W = in->sizes[rank - 1];
  int64_t osz[ET_MAX_RANK];
  for (uint32_t d = 0; d < lead; d++) osz[d] = in->sizes[d];
  if (shuffle) {
    if (C % (r * r) != 0)
      return ET_K_FAIL(ctx, "self: %lld channels are not divisible by %s^2 = %lld",
                       (long long)C, fname, (long long)(r * r));
    osz[lead] = C / (r * r);
    osz[lead + 1] = H * r;
    osz[lead + 2] = W * r;
  } else {
    if (H % r != 0 || W % r != 0)
      return ET_K_FAIL(ctx, "self: height %lld and width %lld must be divisible by %s %lld",
                       (long long)H, (long long)W, fname, (long long)r);
    osz[lead] = C * r * r;
    osz[lead + 1] = H / r;
    osz[lead + 2] = W / r;
  }
  ET_K_TRY(et_k_resize(ctx, out, osz, rank, "out"));
  if (et_tensor_numel(out) == 0) return ET_OK;

  /* the index space follows out's logical order, split by the factor */
  int64_t sz[ET_MAX_RANK], so[ET_MAX_RANK], si[ET_MAX_RANK];
  for (uint32_t d = 0; d < lead; d++) {
    sz[d] = in->sizes[d];
    so[d] = out->strides[d];
    si[d] = in->strides[d];
  }
  const int64_t isc = in->strides[rank - 3], ish = in->strides[rank - 2], isw = in->strides[rank - 1];
  const int64_t osc = out->strides[rank - 3], osh = out->strides[rank - 2], osw = out->strides[rank - 1];
  int64_t *z = sz + lead, *o = so + lead, *i = si + lead;
  if (shuffle) { /* [c, h, ri, w, rj] */
    const int64_t c = C / (r * r);
    z[0] = c, o[0] = osc, i[0] = r * r * isc;
    z[1] = H, o[1] = r * osh, i[1] = ish;
    z[2] = r, o[2] = osh, i[2] = r * isc;
    z[3] = W, o[3] = r * osw, i[3] = isw;
    z[4] = r, o[4] = osw, i[4] = isc;
  } else { /* [c, ri, rj, h, w] */
    z[0] = C, o[0] = r * r * osc, i[0] = isc;
    z[1] = r, o[1] = r * osc, i[1] = ish;
    z[2] = r, o[2] = osc, i[2] = isw;
    z[3] = H / r, o[3] = osh, i[3] = r * ish;
    z[4] = W / r, o[4] = osw, i[4] = r * isw;
  }
  et_copy_nd(out->data, out->dtype, so, in->data, in->dtype, si, lead + 5, sz, NULL);
  return ET_OK;
}
