/*
 * Dispatch overhead of the event tracer hook (bench/tracer_overhead.py
 * builds and runs this). Loads a .pte, executes it N times and prints the
 * best time per executed instruction, in ns:
 *   off   no tracer attached (compare with a -DET_TRACING=0 build of
 *         runtime/core/method_execute.c)
 *   noop  a tracer whose callback does nothing (the hook's own cost)
 */
#include <edgetorch/edgetorch.h>
#include <edgetorch/module.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void noop(et_tracer *t, const struct et_method *m, int phase,
                 uint32_t c, uint32_t i, et_status st) {
  (void)t; (void)m; (void)phase; (void)c; (void)i; (void)st;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODEL.pte RUNS off|noop\n", argv[0]);
    return 2;
  }
  int runs = atoi(argv[2]);
  et_module *mod;
  et_diag d;
  et_diag_clear(&d);
  if (et_module_load_file(argv[1], ET_LOAD_FILE, &mod, &d)) {
    fprintf(stderr, "%s\n", d.message);
    return 1;
  }
  et_method *m;
  if (et_module_method(mod, "forward", &m, &d)) {
    fprintf(stderr, "%s\n", d.message);
    return 1;
  }
  et_tracer t = {.event = noop};
  if (strcmp(argv[3], "noop") == 0) et_method_set_tracer(m, &t);
  /* Inputs: zeros of the planned shapes (the bench model has one float
   * input). */
  const et_value *in = et_method_input(m, 0);
  size_t nbytes = et_tensor_nbytes(in->u.t);
  void *buf = calloc(1, nbytes + 16);
  int64_t sizes[ET_MAX_RANK];
  for (uint32_t k = 0; k < in->u.t->rank; k++) sizes[k] = in->u.t->sizes[k];
  double best = 1e30;
  for (int r = 0; r < runs; r++) {
    if (et_method_set_input_tensor(m, 0, in->u.t->dtype, in->u.t->rank, sizes,
                                   buf, nbytes))
      return 1;
    uint64_t t0 = et_pal_time_ns();
    if (et_method_execute(m)) {
      fprintf(stderr, "%s\n", et_method_message(m));
      return 1;
    }
    uint64_t t1 = et_pal_time_ns();
    double per = (double)(t1 - t0) / (double)et_method_get_stats(m).instructions;
    if (per < best) best = per;
  }
  printf("%.2f\n", best);
  free(buf);
  et_module_free(mod);
  return 0;
}
