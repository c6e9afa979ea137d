/*
 * Backends (delegates): code that runs a whole subgraph that the exporter
 * handed to it, behind a DelegateCall instruction.
 *
 * A backend is a const, versioned struct of function pointers registered
 * under an id string ("XnnpackBackend"). At method init the runtime gives
 * init() the delegate's processed bytes (inline in the program or in a
 * segment, used in place: they live as long as the program) and its compile
 * specs; init() returns an opaque handle. Memory for the handle comes from
 * the method arena through et_backend_alloc(); a backend that takes arena
 * memory reports how much in arena_bytes() so that method metadata stays
 * exact. execute() receives the DelegateCall's values: inputs, then outputs.
 * destroy() is called by et_method_destroy().
 *
 * Thread-safety: a backend struct is immutable; a handle belongs to the
 * method that made it.
 */
#ifndef EDGETORCH_BACKEND_H
#define EDGETORCH_BACKEND_H

#include <edgetorch/data_map.h>
#include <edgetorch/parallel.h>
#include <edgetorch/status.h>
#include <edgetorch/tracer.h>
#include <edgetorch/value.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ET_BACKEND_ABI_VERSION 1u

struct et_program;

typedef struct et_compile_spec {
  const char *key; /* NUL-terminated (points into the program) */
  const uint8_t *value;
  size_t value_size;
} et_compile_spec;

typedef struct et_backend_ctx {
  const char *backend_id;
  uint32_t delegate_index;
  et_diag *diag;           /* failures are recorded here */
  struct et_arena *arena;  /* init only: the method arena */
  /* The method's tracer or NULL. A backend may report its own events
   * (ET_TRACE_BACKEND_BEGIN/END, with a node id or name) through it. */
  et_tracer *tracer;
  /* init only: the program, whose named data (upstream's NamedDataStore)
   * may hold the delegate's weights, and the method's external data map
   * (a .ptd; NULL when none). Both outlive the method. */
  const struct et_program *program;
  const et_data_map *external;
  /* execute only: the method's parallel-for hook (parallel.h) or NULL for
   * serial. Results must not depend on it beyond what the backend's own
   * tolerance allows (ours: bit-identical for every thread count). */
  et_parallel *parallel;
} et_backend_ctx;

typedef struct et_backend {
  uint32_t abi_version; /* ET_BACKEND_ABI_VERSION */
  const char *id;
  /* Optional: exact bytes init() takes from the arena for this delegate. */
  et_status (*arena_bytes)(const void *processed, size_t processed_size,
                           const et_compile_spec *specs, size_t n_specs,
                           size_t *out_bytes);
  et_status (*init)(et_backend_ctx *ctx, const void *processed,
                    size_t processed_size, const et_compile_spec *specs,
                    size_t n_specs, void **out_handle);
  et_status (*execute)(et_backend_ctx *ctx, void *handle, et_value **args,
                       size_t n_args);
  void (*destroy)(void *handle); /* optional */
} et_backend;

/* Memory from the method arena, for init(); NULL when it is exhausted. */
void *et_backend_alloc(et_backend_ctx *ctx, size_t bytes, size_t align);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_BACKEND_H */
