/* See fault_backend.h. */
#include "fault_backend.h"

#include "demo_backend.h"

#include <stdlib.h>
#include <string.h>

#define FAULT_LIVE 0x4C495645u /* "LIVE" */
#define FAULT_DEAD 0x44454144u /* "DEAD" */

typedef struct fault_handle {
  uint32_t magic;
  void *inner;
} fault_handle;

et_fault_state et_fault = {-1, 0, 0, false, 0, 0, 0, 0, 0, 0};

void et_fault_reset(long fail_init_delegate, unsigned long fail_init_every,
                    unsigned long fail_exec_every, bool abort_on_misuse) {
  memset(&et_fault, 0, sizeof et_fault);
  et_fault.fail_init_delegate = fail_init_delegate;
  et_fault.fail_init_every = fail_init_every;
  et_fault.fail_exec_every = fail_exec_every;
  et_fault.abort_on_misuse = abort_on_misuse;
}

static void misuse(void) {
  et_fault.misuses++;
  if (et_fault.abort_on_misuse) abort();
}

static et_status fault_arena_bytes(const void *processed, size_t size,
                                   const et_compile_spec *specs, size_t n_specs,
                                   size_t *out_bytes) {
  size_t inner = 0;
  et_status st = et_demo_backend.arena_bytes(processed, size, specs, n_specs, &inner);
  if (st) return st;
  /* The handle, then the demo handle on a fresh 16-byte boundary. */
  *out_bytes = ((sizeof(fault_handle) + 15) & ~(size_t)15) + inner;
  return ET_OK;
}

static et_status fault_init(et_backend_ctx *ctx, const void *processed,
                            size_t size, const et_compile_spec *specs,
                            size_t n_specs, void **out_handle) {
  unsigned long n = ++et_fault.inits;
  if ((et_fault.fail_init_delegate >= 0 &&
       (long)ctx->delegate_index == et_fault.fail_init_delegate) ||
      (et_fault.fail_init_every && n % et_fault.fail_init_every == 0)) {
    et_fault.init_failures++;
    return et_diag_set(ctx->diag, ET_DELEGATE_INVALID_COMPATIBILITY,
                       "fault backend: injected init failure (delegate %u)",
                       ctx->delegate_index);
  }
  fault_handle *h = (fault_handle *)et_backend_alloc(ctx, sizeof *h, 16);
  if (!h)
    return et_diag_set(ctx->diag, ET_MEMORY_ALLOCATION_FAILED,
                       "fault backend: no arena memory");
  et_status st = et_demo_backend.init(ctx, processed, size, specs, n_specs, &h->inner);
  if (st) {
    h->magic = FAULT_DEAD;
    return st;
  }
  h->magic = FAULT_LIVE;
  et_fault.live++;
  *out_handle = h;
  return ET_OK;
}

static et_status fault_execute(et_backend_ctx *ctx, void *handle,
                               et_value **args, size_t n_args) {
  fault_handle *h = (fault_handle *)handle;
  if (!h || h->magic != FAULT_LIVE) {
    misuse();
    return et_diag_set(ctx->diag, ET_DELEGATE_INVALID_HANDLE,
                       "fault backend: execute on a handle that is not live");
  }
  unsigned long n = ++et_fault.executes;
  if (et_fault.fail_exec_every && n % et_fault.fail_exec_every == 0)
    return et_diag_set(ctx->diag, ET_INTERNAL,
                       "fault backend: injected execute failure");
  return et_demo_backend.execute(ctx, h->inner, args, n_args);
}

static void fault_destroy(void *handle) {
  fault_handle *h = (fault_handle *)handle;
  et_fault.destroys++;
  if (!h || h->magic != FAULT_LIVE) {
    misuse();
    return;
  }
  h->magic = FAULT_DEAD;
  et_fault.live--;
}

const et_backend et_fault_backend = {
    ET_BACKEND_ABI_VERSION, "BackendWithCompilerDemo", fault_arena_bytes,
    fault_init, fault_execute, fault_destroy};
