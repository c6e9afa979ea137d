/*
 * The demo backend: a small, complete delegate that proves the backend path
 * end to end. It runs the payload that upstream's test-only
 * `BackendWithCompilerDemo` preprocessor writes (a text list of element-wise
 * `sin` steps), so programs lowered by upstream's exporter with that backend
 * run here unchanged. Register it with its id "BackendWithCompilerDemo".
 *
 * Memory: each delegate takes sizeof(handle) bytes of method arena (reported
 * through arena_bytes). Thread-safety: the struct is immutable.
 */
#ifndef EDGETORCH_DEMO_BACKEND_H
#define EDGETORCH_DEMO_BACKEND_H

#include <edgetorch/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const et_backend et_demo_backend;

#ifdef __cplusplus
}
#endif

#endif
