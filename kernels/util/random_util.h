/*
 * Pseudo-random fills for aten::rand and aten::randn.
 *
 * Kernels keep no state between calls, so the generator is counter-based:
 * element i of a call gets splitmix64(seed + i * golden), a pure function
 * of a fixed per-operator seed and i. Every call therefore produces the
 * same values for the same shape and dtype (as if the program seeded a
 * generator with a constant before each call); values are well spread and
 * pass simple distribution tests but do not equal torch's (torch uses a
 * Mersenne Twister / Philox stream that depends on global state).
 *
 * Thread-safety: pure.
 */
#ifndef ET_KERNELS_UTIL_RANDOM_UTIL_H
#define ET_KERNELS_UTIL_RANDOM_UTIL_H

#include <edgetorch/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* splitmix64 of the counter's position in the stream `seed`. */
static inline uint64_t et_rand_u64(uint64_t seed, uint64_t counter) {
  uint64_t z = seed + (counter + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/*
 * Fill `out` (a floating dtype, any dim order) with uniform values in
 * [0, 1) (`normal` false) or standard normal values (Box-Muller).
 * Uniform values carry as many random bits as the dtype's significand, so
 * rounding never produces 1.0.
 */
et_status et_fill_random(et_kernel_ctx *ctx, et_tensor *out, bool normal);

#ifdef __cplusplus
}
#endif

#endif /* ET_KERNELS_UTIL_RANDOM_UTIL_H */
