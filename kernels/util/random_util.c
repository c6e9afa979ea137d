/* Counter-based uniform and normal fills. */
#include "util/random_util.h"

#include "util/dtype_util.h"
#include "util/shape_util.h"

#include <math.h>

#define SEED_UNIFORM 0x243f6a8885a308d3ull /* pi's fraction bits */
#define SEED_NORMAL 0x13198a2e03707344ull

et_status et_fill_random(et_kernel_ctx *ctx, et_tensor *out, bool normal) {
  ET_K_TRY(et_k_check_tensor(ctx, out, "out"));
  ET_K_TRY(et_k_check_floating(ctx, out, "out"));
  ET_K_TRY(et_k_check_writable(ctx, out, "out"));
  const int64_t n = (int64_t)et_tensor_numel(out);
  /* significand bits of the dtype (uniform values k * 2^-bits are exact) */
  const int bits = out->dtype == ET_HALF ? 11 : out->dtype == ET_BFLOAT16 ? 8
                   : out->dtype == ET_FLOAT ? 24 : 53;
  const double scale = ldexp(1.0, -bits), scale53 = ldexp(1.0, -53);
  const double two_pi = 6.283185307179586476925286766559;
  const size_t es = et_dtype_size(out->dtype);
  double buf[64];
  /* a dense tensor in any dim order is numel consecutive elements */
  for (int64_t c = 0; c < n; c += 64) {
    const int64_t m = n - c < 64 ? n - c : 64;
    for (int64_t k = 0; k < m; k++) {
      const uint64_t i = (uint64_t)(c + k);
      if (!normal) {
        buf[k] = (double)(et_rand_u64(SEED_UNIFORM, i) >> (64 - bits)) * scale;
        continue;
      }
      /* Box-Muller: pair p = i / 2 gives cos (even i) and sin (odd i) */
      const uint64_t p = i / 2;
      const double u1 = (double)((et_rand_u64(SEED_NORMAL, 2 * p) >> 11) + 1) * scale53;
      const double u2 = (double)(et_rand_u64(SEED_NORMAL, 2 * p + 1) >> 11) * scale53;
      const double rad = sqrt(-2.0 * log(u1));
      buf[k] = rad * ((i & 1) ? sin(two_pi * u2) : cos(two_pi * u2));
    }
    et_convert((char *)out->data + c * (int64_t)es, out->dtype, 1, buf, ET_DOUBLE, 1, (size_t)m);
  }
  return ET_OK;
}
