/* See demo_backend.h (test support: not part of any hosted build). Payload grammar (upstream's demo writer):
 *   <count>version:<v>#(op:demo::<op>, numel:<n>, dtype:<dtype><debug_handle><h>#)*
 */
#include "demo_backend.h"

#include <math.h>
#include <string.h>

#define DEMO_MAX_STEPS 64

typedef struct demo_handle {
  uint32_t steps;
  uint64_t numel;
} demo_handle;

static bool take(const char **p, const char *end, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0) return false;
  *p += n;
  return true;
}

static bool take_uint(const char **p, const char *end, uint64_t *out) {
  uint64_t v = 0;
  const char *s = *p;
  while (s < end && *s >= '0' && *s <= '9') {
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + (uint64_t)(*s++ - '0');
  }
  if (s == *p) return false;
  *p = s;
  *out = v;
  return true;
}

static bool skip_to(const char **p, const char *end, char c) {
  while (*p < end && **p != c) (*p)++;
  if (*p == end) return false;
  (*p)++;
  return true;
}

static et_status parse(const void *data, size_t size, demo_handle *h,
                       et_diag *diag) {
  const char *p = (const char *)data, *end = p + size;
  uint64_t count, version, numel = 0;
  if (!take_uint(&p, end, &count) || !take(&p, end, "version:") ||
      !take_uint(&p, end, &version) || !take(&p, end, "#"))
    return et_diag_set(diag, ET_INVALID_PROGRAM,
                       "demo backend: payload does not start with "
                       "'<count>version:<v>#'");
  if (version != 0 || count > DEMO_MAX_STEPS)
    return et_diag_set(diag, ET_DELEGATE_INVALID_COMPATIBILITY,
                       "demo backend: version %llu with %llu steps (supports "
                       "version 0, at most %d steps)",
                       (unsigned long long)version, (unsigned long long)count,
                       DEMO_MAX_STEPS);
  for (uint64_t i = 0; i < count; i++) {
    uint64_t n;
    if (!take(&p, end, "op:demo::"))
      return et_diag_set(diag, ET_INVALID_PROGRAM,
                         "demo backend: step %llu is malformed",
                         (unsigned long long)i);
    (void)take(&p, end, "aten."); /* newer writers qualify the name */
    if (!take(&p, end, "sin.default"))
      return et_diag_set(diag, ET_NOT_SUPPORTED,
                         "demo backend: step %llu is not sin.default (the only "
                         "operator this backend runs)", (unsigned long long)i);
    if (!take(&p, end, ", numel:") || !take_uint(&p, end, &n) ||
        !take(&p, end, ", dtype:torch.float32") || !skip_to(&p, end, '#'))
      return et_diag_set(diag, ET_NOT_SUPPORTED,
                         "demo backend: step %llu must be float32 with a numel",
                         (unsigned long long)i);
    if (i > 0 && n != numel)
      return et_diag_set(diag, ET_INVALID_PROGRAM,
                         "demo backend: steps disagree on numel");
    numel = n;
  }
  h->steps = (uint32_t)count;
  h->numel = numel;
  return ET_OK;
}

static et_status demo_arena_bytes(const void *processed, size_t size,
                                  const et_compile_spec *specs, size_t n_specs,
                                  size_t *out_bytes) {
  (void)processed;
  (void)size;
  (void)specs;
  (void)n_specs;
  *out_bytes = sizeof(demo_handle);
  return ET_OK;
}

static et_status demo_init(et_backend_ctx *ctx, const void *processed,
                           size_t size, const et_compile_spec *specs,
                           size_t n_specs, void **out_handle) {
  (void)specs;
  (void)n_specs;
  demo_handle parsed;
  et_status st = parse(processed, size, &parsed, ctx->diag);
  if (st) return st;
  demo_handle *h = (demo_handle *)et_backend_alloc(ctx, sizeof *h, _Alignof(demo_handle));
  if (!h)
    return et_diag_set(ctx->diag, ET_MEMORY_ALLOCATION_FAILED,
                       "demo backend: no arena memory for its handle");
  *h = parsed;
  *out_handle = h;
  return ET_OK;
}

static et_status demo_execute(et_backend_ctx *ctx, void *handle,
                              et_value **args, size_t n_args) {
  const demo_handle *h = (const demo_handle *)handle;
  if (n_args != 2 || args[0]->tag != ET_TAG_TENSOR ||
      args[1]->tag != ET_TAG_TENSOR)
    return et_diag_set(ctx->diag, ET_INVALID_ARGUMENT,
                       "demo backend: expects one input and one output tensor, "
                       "got %zu values", n_args);
  const et_tensor *in = args[0]->u.t;
  et_tensor *out = args[1]->u.t;
  size_t n = et_tensor_numel(in);
  if (in->dtype != ET_FLOAT || out->dtype != ET_FLOAT ||
      et_tensor_numel(out) != n || (h->steps && n != h->numel) ||
      (n && (!in->data || !out->data)))
    return et_diag_set(ctx->diag, ET_INVALID_ARGUMENT,
                       "demo backend: input and output must be float32 with "
                       "%llu elements", (unsigned long long)h->numel);
  const float *x = (const float *)in->data;
  float *y = (float *)out->data;
  if (h->steps == 0 && n) memmove(y, x, n * sizeof *y);
  /* One step at a time so that a tracer sees each node (id = step). */
  for (uint32_t s = 0; s < h->steps; s++) {
    et_tracer_backend_event(ctx->tracer, ET_TRACE_BACKEND_BEGIN, NULL,
                            (int32_t)s);
    const float *src = s == 0 ? x : y;
    for (size_t i = 0; i < n; i++) y[i] = sinf(src[i]);
    et_tracer_backend_event(ctx->tracer, ET_TRACE_BACKEND_END, NULL,
                            (int32_t)s);
  }
  return ET_OK;
}

const et_backend et_demo_backend = {
    ET_BACKEND_ABI_VERSION, "BackendWithCompilerDemo", demo_arena_bytes,
    demo_init, demo_execute, NULL};
