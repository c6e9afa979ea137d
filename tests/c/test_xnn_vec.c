/*
 * The CPU backend's vector micro kernels besides the GEMM (xnn_vec.h)
 * against plain double-precision references, on every path the machine has
 * (plain C always; AVX2+FMA when the CPU has it): depthwise pixels over
 * channel counts that hit every block edge (1..8, 9, 31, 32, 33, 40, 65),
 * 0 to 25 taps, with and without bias, with clamps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../backends/xnnpack/xnn_gemm.h"
#include "../../backends/xnnpack/xnn_vec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static void check_dw(size_t c, size_t taps, int with_bias, float lo, float hi) {
  unsigned s = (unsigned)(c * 31 + taps);
  const float *xs[25], *ws[25];
  /* Each tap's rows are separate allocations of exactly c floats, so a read
   * past the channel count is caught by ASan. */
  float *buf[50];
  for (size_t t = 0; t < taps; t++) {
    float *x = malloc(sizeof(float) * (c ? c : 1));
    float *w = malloc(sizeof(float) * (c ? c : 1));
    for (size_t k = 0; k < c; k++) x[k] = frand(&s), w[k] = frand(&s);
    xs[t] = x, ws[t] = w, buf[2 * t] = x, buf[2 * t + 1] = w;
  }
  float *bias = malloc(sizeof(float) * (c ? c : 1));
  float *z = malloc(sizeof(float) * (c + 1));
  for (size_t k = 0; k < c; k++) bias[k] = frand(&s);
  z[c] = 1234.5f; /* canary past the last channel */
  et_xnn_dw_pick()(c, taps, xs, ws, with_bias ? bias : NULL, z, lo, hi);
  for (size_t k = 0; k < c; k++) {
    double ref = with_bias ? bias[k] : 0.0;
    for (size_t t = 0; t < taps; t++) ref += (double)xs[t][k] * ws[t][k];
    if (ref < lo) ref = lo;
    if (ref > hi) ref = hi;
    if (fabs(z[k] - ref) > 1e-5 * (1.0 + (double)taps))
      fail_msg("c=%zu taps=%zu path=%d: z[%zu]=%g, reference %g", c, taps,
               et_xnn_gemm_path(), k, z[k], ref);
  }
  assert_true(z[c] == 1234.5f);
  for (size_t t = 0; t < 2 * taps; t++) free(buf[t]);
  free(bias);
  free(z);
}

static void run_dw(int path) {
  static const size_t C[] = {1, 2, 3, 5, 7, 8, 9, 16, 31, 32, 33, 40, 65};
  static const size_t T[] = {0, 1, 4, 9, 25};
  et_xnn_gemm_force_path(path);
  for (size_t i = 0; i < sizeof C / sizeof C[0]; i++)
    for (size_t j = 0; j < sizeof T / sizeof T[0]; j++) {
      check_dw(C[i], T[j], (int)((i + j) & 1), -INFINITY, INFINITY);
      check_dw(C[i], T[j], 1, 0.0f, 0.5f);
    }
  et_xnn_gemm_force_path(-1);
}

static void test_dw_plain_c(void **state) {
  (void)state;
  run_dw(0);
}

static void test_dw_best_path(void **state) {
  (void)state;
  run_dw(1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dw_plain_c),
      cmocka_unit_test(test_dw_best_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
