/*
 * demo_etdump MODEL.pte INPUT.npy OUT.etdp OUT.bin: run a program on the
 * test-only demo backend (which the hosted CLI and binding do not register)
 * with an ETDump recorder attached and intermediate outputs captured, for
 * the devtools tests of delegated programs. Exit status 0 on success.
 */
#include <edgetorch/edgetorch.h>
#include <edgetorch/module.h>

#include "demo_backend.h"
#include "etdump.h"
#include "npy.h"

#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: demo_etdump MODEL.pte INPUT.npy OUT.etdp OUT.bin\n");
    return 2;
  }
  et_diag d;
  et_diag_clear(&d);
  et_module *mod = NULL;
  et_npy_array x;
  et_method *m = NULL;
  et_etdump *etd = et_etdump_create();
  int rc = 1;
  if (!etd) return 1;
  et_status st = et_module_load_file(argv[1], ET_LOAD_FILE, &mod, &d);
  if (!st) st = et_module_add_backend(mod, &et_demo_backend);
  if (!st) st = et_module_method(mod, "forward", &m, &d);
  if (!st) st = et_npy_read_file(argv[2], &x, &d);
  if (!st) {
    st = et_method_set_input_tensor(m, 0, x.dtype, x.rank, x.shape, x.data, x.nbytes);
    et_etdump_set_capture(etd, true);
    if (!st) st = et_etdump_execute(etd, m);
    if (!st) st = et_etdump_write(etd, argv[3], argv[4], &d);
    if (st && m && !d.message[0]) et_diag_set(&d, st, "%s", et_method_message(m));
    et_npy_free(&x);
  }
  if (st)
    fprintf(stderr, "error: %s: %s\n", et_status_name(st), d.message);
  else
    rc = 0;
  et_etdump_free(etd);
  if (mod) et_module_free(mod);
  return rc;
}
