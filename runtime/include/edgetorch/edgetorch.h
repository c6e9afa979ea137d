/*
 * edgetorch: run ExecuTorch `.pte` programs from C11 with no malloc and no OS.
 *
 * The one header most users include. Typical use:
 *
 *   et_program prog;
 *   et_program_load(&prog, bytes, size, ET_LOAD_DEFAULT);
 *   et_method_meta meta;
 *   et_program_method_meta(&prog, "forward", &registry, &meta, &diag);
 *   // provide meta.arena_bytes of arena and each planned buffer
 *   et_method *m;
 *   et_method_init(&prog, "forward", &registry, &memory, &m, &diag);
 *   et_method_set_input_tensor(m, 0, ET_FLOAT, rank, sizes, data, nbytes);
 *   et_method_execute(m);
 *   const et_value *out = et_method_output(m, 0);
 */
#ifndef EDGETORCH_EDGETORCH_H
#define EDGETORCH_EDGETORCH_H

#include <edgetorch/arena.h>
#include <edgetorch/backend.h>
#include <edgetorch/data_map.h>
#include <edgetorch/flat_tensor.h>
#include <edgetorch/kernel.h>
#include <edgetorch/method.h>
#include <edgetorch/pal.h>
#include <edgetorch/program.h>
#include <edgetorch/status.h>
#include <edgetorch/value.h>

#define EDGETORCH_VERSION_MAJOR 0
#define EDGETORCH_VERSION_MINOR 1
#define EDGETORCH_VERSION_PATCH 0
#define EDGETORCH_VERSION "0.1.0"

#endif /* EDGETORCH_EDGETORCH_H */
