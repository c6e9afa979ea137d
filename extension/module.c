/* et_module: the hosted program + methods wrapper (see module.h). */
#include <edgetorch/xnnpack_backend.h>
#include <edgetorch/flat_tensor.h>
#include <edgetorch/module.h>

#include "file_data.h"
#include "threadpool.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct module_method {
  struct module_method *next;
  char *name;
  et_method *method;
  void *arena;
  void **planned;
  size_t *planned_sizes;
  size_t n_planned;
  void *scratch;
  size_t bytes; /* arena + planned buffers */
  bool shared;  /* planned[] are the module's shared buffers, not owned */
  atomic_flag running; /* et_module_execute in progress */
} module_method;

typedef struct module_data {
  et_ptd ptd;
  et_file_data bytes; /* kind NONE: caller's aligned buffer, used in place */
} module_data;

struct et_module {
  et_program program;
  et_file_data bytes; /* kind NONE: caller's aligned buffer, used in place */
  et_load_mode mode;
  const et_kernel_table *tables[ET_MODULE_MAX_KERNEL_TABLES];
  const et_backend *backends[ET_MODULE_MAX_BACKENDS];
  et_registry registry;
  module_method *methods;
  et_data_map data_map; /* searches data[0..n_data) in order */
  module_data *data[ET_MODULE_MAX_DATA];
  size_t n_data;
  size_t memory_limit;
  /* et_module_share_planned_memory: buffer j for every method. */
  bool share_planned;
  void **shared;
  size_t *shared_sizes;
  size_t n_shared;
  /* Threads: `parallel` is what methods get: the owned pool's hook, a
   * caller's (external), or NULL. n_threads 0: et_cpu_count(); a new
   * module has 1 (serial: no thread is started unless asked for). */
  uint32_t n_threads;
  bool external_parallel;
  et_threadpool *pool;
  et_parallel *parallel;
};

/* Give every initialized method the current hook. */
static void apply_parallel(et_module *m) {
  for (module_method *mm = m->methods; mm; mm = mm->next)
    et_method_set_parallel(mm->method, m->parallel);
}

/* Make the owned pool if threads are wanted and none exists yet. A pool that
 * cannot be made leaves the module serial (results are the same). */
static void ensure_pool(et_module *m) {
  if (m->external_parallel || m->pool) return;
  uint32_t n = m->n_threads ? m->n_threads : et_cpu_count();
  if (n <= 1) return;
  if (et_threadpool_create(n, &m->pool) != ET_OK) m->pool = NULL;
  m->parallel = et_threadpool_parallel(m->pool);
  apply_parallel(m);
}

static void drop_pool(et_module *m) {
  m->parallel = NULL;
  apply_parallel(m);
  et_threadpool_destroy(m->pool);
  m->pool = NULL;
}

et_status et_module_set_num_threads(et_module *m, uint32_t n_threads) {
  if (!m) return ET_INVALID_ARGUMENT;
  if (n_threads > ET_THREADPOOL_MAX) n_threads = ET_THREADPOOL_MAX;
  if (m->pool && et_threadpool_threads(m->pool) ==
                     (n_threads ? n_threads : et_cpu_count()) &&
      !m->external_parallel) {
    m->n_threads = n_threads;
    return ET_OK;
  }
  drop_pool(m);
  m->external_parallel = false;
  m->n_threads = n_threads;
  if (m->methods) ensure_pool(m);
  return ET_OK;
}

uint32_t et_module_num_threads(const et_module *m) {
  if (!m) return 0;
  if (m->external_parallel) return et_parallel_threads(m->parallel);
  if (m->pool) return et_threadpool_threads(m->pool);
  uint32_t n = m->n_threads ? m->n_threads : et_cpu_count();
  return n ? n : 1;
}

void et_module_set_parallel(et_module *m, et_parallel *parallel) {
  if (!m) return;
  et_threadpool_destroy(m->pool);
  m->pool = NULL;
  m->external_parallel = true;
  m->parallel = parallel;
  apply_parallel(m);
}

void et_module_set_memory_limit(et_module *m, size_t bytes) {
  m->memory_limit = bytes ? bytes : ET_MODULE_DEFAULT_MEMORY_LIMIT;
}

static et_status module_data_get(const et_data_map *map, const char *key,
                                 et_named_data *out) {
  const et_module *m =
      (const et_module *)((const char *)map - offsetof(et_module, data_map));
  for (size_t i = 0; i < m->n_data; i++) {
    const et_data_map *d = &m->data[i]->ptd.map;
    if (d->get(d, key, out) == ET_OK) return ET_OK;
  }
  return ET_NOT_FOUND;
}

static et_status new_module(et_module **out, et_diag *diag) {
  et_module *m = calloc(1, sizeof *m);
  if (!m) {
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "cannot allocate a module");
  }
  /* Searched in order (DESIGN.md): optimized kernels where they exist,
   * then the quantized_decomposed:: library, the llama:: one, then
   * portable. */
  m->tables[0] = &et_optimized_kernels;
  m->tables[1] = &et_quantized_kernels;
  m->tables[2] = &et_llm_kernels;
  m->tables[3] = &et_portable_kernels;
  m->registry.kernel_tables = m->tables;
  m->registry.n_kernel_tables = 4;
  m->registry.backends = m->backends;
  /* The backends built into the hosted library are there from the start. */
  m->backends[0] = &et_xnnpack_backend;
  m->registry.n_backends = 1;
  m->data_map.get = module_data_get;
  m->memory_limit = ET_MODULE_DEFAULT_MEMORY_LIMIT;
  m->n_threads = 1;
  *out = m;
  return ET_OK;
}

/* `data` itself when it is 16-byte aligned (used in place, `f` untouched),
 * else a heap copy that `f` owns. */
static et_status aligned_bytes(const void *data, size_t size, et_file_data *f,
                               const void **out, const char *what,
                               et_diag *diag) {
  *out = data;
  if (data && (uintptr_t)data % ET_FILE_ALIGN == 0) return ET_OK;
  void *copy = et_aligned_malloc(size);
  if (!copy)
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "cannot allocate %zu bytes for %s", size, what);
  if (size) memcpy(copy, data, size);
  f->data = copy;
  f->size = size;
  f->kind = ET_FILE_HEAP;
  *out = copy;
  return ET_OK;
}

/* Verify the bytes the module now holds; frees the module on failure. */
static et_status finish_load(et_module *m, const void *data, size_t size,
                             et_module **out, et_diag *diag) {
  et_status st = et_program_load(&m->program, data, size, ET_LOAD_DEFAULT);
  if (st != ET_OK) {
    et_diag_set(diag, st, "%s", et_program_message(&m->program));
    et_module_free(m);
    return st;
  }
  *out = m;
  return ET_OK;
}

et_status et_module_load_file(const char *path, et_load_mode mode,
                              et_module **out, et_diag *diag) {
  if (!out) return et_diag_set(diag, ET_INVALID_ARGUMENT, "out is NULL");
  *out = NULL;
  if (!path) return et_diag_set(diag, ET_INVALID_ARGUMENT, "no path given");
  if (mode != ET_LOAD_FILE && mode != ET_LOAD_MMAP) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "load mode %d is not a file mode", (int)mode);
  }
  et_module *m = NULL;
  et_status st = new_module(&m, diag);
  if (st) return st;
  st = mode == ET_LOAD_MMAP ? et_file_map(path, &m->bytes, diag)
                            : et_file_read(path, &m->bytes, diag);
  if (st) {
    et_module_free(m);
    return st;
  }
  m->mode = mode;
  st = finish_load(m, m->bytes.data, m->bytes.size, out, diag);
  if (st == ET_OK && mode == ET_LOAD_MMAP)
    et_program_set_release(&m->program, et_file_release_pages, &m->bytes);
  if (st && diag) {
    /* Say which file failed verification. */
    char msg[ET_DIAG_CAP];
    memcpy(msg, diag->message, sizeof msg);
    et_diag_set(diag, st, "%s: %s", path, msg);
  }
  return st;
}

et_status et_module_load_buffer(const void *data, size_t size,
                                et_module **out, et_diag *diag) {
  if (!out) return et_diag_set(diag, ET_INVALID_ARGUMENT, "out is NULL");
  *out = NULL;
  if (!data && size) return et_diag_set(diag, ET_INVALID_ARGUMENT, "no data");
  et_module *m = NULL;
  et_status st = new_module(&m, diag);
  if (st) return st;
  const void *bytes;
  st = aligned_bytes(data, size, &m->bytes, &bytes, "the program", diag);
  if (st) {
    et_module_free(m);
    return st;
  }
  m->mode = m->bytes.kind == ET_FILE_HEAP ? ET_LOAD_FILE : ET_LOAD_BUFFER;
  return finish_load(m, bytes, size, out, diag);
}

static void free_method(module_method *mm) {
  if (mm->method) et_method_destroy(mm->method);
  if (mm->planned && !mm->shared) {
    for (size_t i = 0; i < mm->n_planned; i++) free(mm->planned[i]);
  }
  free(mm->planned);
  free(mm->planned_sizes);
  free(mm->scratch);
  free(mm->arena);
  free(mm->name);
  free(mm);
}

void et_module_free(et_module *m) {
  if (!m) return;
  et_threadpool_destroy(m->pool);
  module_method *mm = m->methods;
  while (mm) {
    module_method *next = mm->next;
    free_method(mm);
    mm = next;
  }
  for (size_t i = 0; i < m->n_data; i++) {
    et_file_release(&m->data[i]->bytes);
    free(m->data[i]);
  }
  for (size_t i = 0; i < m->n_shared; i++) free(m->shared[i]);
  free(m->shared);
  free(m->shared_sizes);
  et_file_release(&m->bytes);
  free(m);
}

/* Verify a .ptd the module now holds in d->bytes and add it. */
static et_status add_data(et_module *m, module_data *d, const void *bytes,
                          size_t size, const char *what, et_diag *diag) {
  et_status st = et_ptd_load(&d->ptd, bytes, size);
  if (st) {
    et_diag_set(diag, st, "%s: %s", what, et_ptd_message(&d->ptd));
    et_file_release(&d->bytes);
    free(d);
    return st;
  }
  m->data[m->n_data++] = d;
  return ET_OK;
}

static et_status new_data(et_module *m, module_data **out, et_diag *diag) {
  *out = NULL;
  if (!m) return et_diag_set(diag, ET_INVALID_ARGUMENT, "no module");
  if (m->n_data >= ET_MODULE_MAX_DATA)
    return et_diag_set(diag, ET_OUT_OF_RESOURCES,
                       "a module takes at most %d data files",
                       ET_MODULE_MAX_DATA);
  *out = calloc(1, sizeof **out);
  return *out ? ET_OK
              : et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                            "cannot allocate a data file");
}

et_status et_module_load_data_file(et_module *m, const char *path,
                                   et_load_mode mode, et_diag *diag) {
  if (!path) return et_diag_set(diag, ET_INVALID_ARGUMENT, "no path given");
  if (mode != ET_LOAD_FILE && mode != ET_LOAD_MMAP)
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "load mode %d is not a file mode", (int)mode);
  module_data *d;
  et_status st = new_data(m, &d, diag);
  if (st) return st;
  st = mode == ET_LOAD_MMAP ? et_file_map(path, &d->bytes, diag)
                            : et_file_read(path, &d->bytes, diag);
  if (st) {
    free(d);
    return st;
  }
  return add_data(m, d, d->bytes.data, d->bytes.size, path, diag);
}

et_status et_module_load_data_buffer(et_module *m, const void *data,
                                     size_t size, et_diag *diag) {
  if (!data && size) return et_diag_set(diag, ET_INVALID_ARGUMENT, "no data");
  module_data *d;
  et_status st = new_data(m, &d, diag);
  if (st) return st;
  const void *bytes;
  st = aligned_bytes(data, size, &d->bytes, &bytes, "the data", diag);
  if (st) {
    free(d);
    return st;
  }
  return add_data(m, d, bytes, size, "data buffer", diag);
}

const et_program *et_module_program(const et_module *m) {
  return m ? &m->program : NULL;
}

et_load_mode et_module_load_mode(const et_module *m) {
  return m ? m->mode : ET_LOAD_FILE;
}

const et_registry *et_module_registry(const et_module *m) {
  return m ? &m->registry : NULL;
}

/* What new_module starts with, read from a module made for the purpose so
 * that new_module stays the one place that says it. */
size_t et_module_default_backends(const et_backend **out, size_t cap) {
  et_module *m = NULL;
  if (new_module(&m, NULL) != ET_OK) return 0;
  size_t n = m->registry.n_backends;
  for (size_t i = 0; i < n && i < cap; i++) out[i] = m->backends[i];
  et_module_free(m);
  return n;
}

size_t et_module_default_kernel_tables(const et_kernel_table **out,
                                       size_t cap) {
  et_module *m = NULL;
  if (new_module(&m, NULL) != ET_OK) return 0;
  size_t n = m->registry.n_kernel_tables;
  for (size_t i = 0; i < n && i < cap; i++)
    out[i] = m->registry.kernel_tables[i];
  et_module_free(m);
  return n;
}

et_status et_module_add_backend(et_module *m, const et_backend *backend) {
  if (!m || !backend || !backend->id) return ET_INVALID_ARGUMENT;
  if (backend->abi_version != ET_BACKEND_ABI_VERSION) return ET_NOT_SUPPORTED;
  for (size_t i = 0; i < m->registry.n_backends; i++) {
    if (strcmp(m->backends[i]->id, backend->id) == 0) {
      return ET_REGISTRATION_ALREADY_REGISTERED;
    }
  }
  if (m->registry.n_backends >= ET_MODULE_MAX_BACKENDS) {
    return ET_OUT_OF_RESOURCES;
  }
  m->backends[m->registry.n_backends++] = backend;
  return ET_OK;
}

et_status et_module_add_kernels(et_module *m, const et_kernel_table *table) {
  if (!m || !table) return ET_INVALID_ARGUMENT;
  if (m->registry.n_kernel_tables >= ET_MODULE_MAX_KERNEL_TABLES)
    return ET_OUT_OF_RESOURCES;
  memmove(&m->tables[1], &m->tables[0],
          m->registry.n_kernel_tables * sizeof m->tables[0]);
  m->tables[0] = table;
  m->registry.n_kernel_tables++;
  return ET_OK;
}

et_status et_module_remove_kernels(et_module *m, const et_kernel_table *table) {
  if (!m || !table) return ET_INVALID_ARGUMENT;
  size_t n = m->registry.n_kernel_tables;
  for (size_t i = 0; i < n; i++) {
    if (m->tables[i] == table) {
      memmove(&m->tables[i], &m->tables[i + 1], (n - i - 1) * sizeof m->tables[0]);
      m->registry.n_kernel_tables = n - 1;
      return ET_OK;
    }
  }
  return ET_NOT_FOUND;
}

static module_method *find_method(const et_module *m, const char *name) {
  for (module_method *mm = m->methods; mm; mm = mm->next) {
    if (strcmp(mm->name, name) == 0) return mm;
  }
  return NULL;
}

/* NotFound with the list of the program's methods. */
static et_status no_such_method(const et_module *m, const char *name,
                                et_diag *diag) {
  char list[160];
  size_t n = 0;
  list[0] = '\0';
  size_t count = et_program_method_count(&m->program);
  for (size_t i = 0; i < count && n < sizeof list; i++) {
    n += et_format(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                   et_program_method_name(&m->program, i));
  }
  return et_diag_set(diag, ET_NOT_FOUND,
                     "no method named '%s' (the program has: %s)", name,
                     count ? list : "no methods");
}

static bool has_method(const et_module *m, const char *name) {
  size_t count = et_program_method_count(&m->program);
  for (size_t i = 0; i < count; i++) {
    const char *n = et_program_method_name(&m->program, i);
    if (n && strcmp(n, name) == 0) return true;
  }
  return false;
}

static void *zalloc_aligned(size_t size) {
  void *p = et_aligned_malloc(size);
  if (p) memset(p, 0, size ? size : 1);
  return p;
}

et_status et_module_method(et_module *m, const char *name, et_method **out,
                           et_diag *diag) {
  if (!out) return et_diag_set(diag, ET_INVALID_ARGUMENT, "out is NULL");
  *out = NULL;
  if (!m || !name) {
    return et_diag_set(diag, ET_INVALID_ARGUMENT, "no module or no name");
  }
  module_method *found = find_method(m, name);
  if (found) {
    ensure_pool(m);
    *out = found->method;
    return ET_OK;
  }
  if (!has_method(m, name)) return no_such_method(m, name, diag);

  et_method_meta meta;
  et_diag local;
  et_diag_clear(&local);
  et_status st =
      et_program_method_meta(&m->program, name, &m->registry, &meta, &local);
  if (st)
    return et_diag_set(diag, st, "method '%s' metadata: %s", name,
                       local.message[0] ? local.message : et_status_name(st));

  size_t need = meta.arena_bytes;
  for (size_t i = 0; i < meta.n_planned; i++) {
    size_t sz = et_method_meta_planned_size(&meta, i);
    need = need > SIZE_MAX - sz ? SIZE_MAX : need + sz;
  }
  if (need > m->memory_limit)
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "method '%s' needs %zu bytes of memory (arena and "
                       "planned buffers), over the module's limit of %zu; "
                       "raise it with et_module_set_memory_limit (CLI: "
                       "--max-memory) if the program is trusted",
                       name, need, m->memory_limit);

  module_method *mm = calloc(1, sizeof *mm);
  if (!mm) goto oom;
  size_t name_len = strlen(name);
  mm->name = malloc(name_len + 1);
  if (!mm->name) goto oom;
  memcpy(mm->name, name, name_len + 1);

  mm->arena = zalloc_aligned(meta.arena_bytes);
  if (!mm->arena) goto oom;
  mm->bytes = meta.arena_bytes;
  mm->n_planned = meta.n_planned;
  mm->shared = m->share_planned;
  if (meta.n_planned && m->share_planned) {
    if (meta.n_planned > m->n_shared) goto oom; /* sized from every method */
    mm->planned = calloc(meta.n_planned, sizeof(void *));
    mm->planned_sizes = calloc(meta.n_planned, sizeof(size_t));
    if (!mm->planned || !mm->planned_sizes) goto oom;
    for (size_t i = 0; i < meta.n_planned; i++) {
      mm->planned[i] = m->shared[i];
      mm->planned_sizes[i] = m->shared_sizes[i];
    }
  } else if (meta.n_planned) {
    if (meta.n_planned > SIZE_MAX / sizeof(void *)) goto oom;
    mm->planned = calloc(meta.n_planned, sizeof(void *));
    mm->planned_sizes = calloc(meta.n_planned, sizeof(size_t));
    if (!mm->planned || !mm->planned_sizes) goto oom;
    for (size_t i = 0; i < meta.n_planned; i++) {
      size_t sz = et_method_meta_planned_size(&meta, i);
      mm->planned_sizes[i] = sz;
      mm->planned[i] = zalloc_aligned(sz);
      if (!mm->planned[i]) goto oom;
      mm->bytes = mm->bytes + sz < mm->bytes ? SIZE_MAX : mm->bytes + sz;
    }
  }
  mm->scratch = et_aligned_malloc(ET_MODULE_SCRATCH_BYTES);
  if (!mm->scratch) goto oom;

  et_method_memory mem;
  memset(&mem, 0, sizeof mem);
  mem.arena = mm->arena;
  mem.arena_size = meta.arena_bytes;
  mem.planned = mm->planned;
  mem.planned_sizes = mm->planned_sizes;
  mem.n_planned = mm->n_planned;
  mem.scratch = mm->scratch;
  mem.scratch_size = ET_MODULE_SCRATCH_BYTES;
  mem.external = &m->data_map;

  et_diag_clear(&local);
  st = et_method_init(&m->program, name, &m->registry, &mem, &mm->method,
                      &local);
  if (st) {
    mm->method = NULL; /* nothing to destroy after a failed init */
    free_method(mm);
    return et_diag_set(diag, st, "%s",
                       local.message[0] ? local.message
                                        : et_status_name(st));
  }
  atomic_flag_clear(&mm->running);
  mm->next = m->methods;
  m->methods = mm;
  ensure_pool(m);
  et_method_set_parallel(mm->method, m->parallel);
  *out = mm->method;
  return ET_OK;

oom:
  if (mm) {
    mm->method = NULL;
    free_method(mm);
  }
  return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                     "cannot allocate memory for method '%s'", name);
}

et_status et_module_share_planned_memory(et_module *m, et_diag *diag) {
  if (!m) return et_diag_set(diag, ET_INVALID_ARGUMENT, "no module");
  if (m->methods) {
    return et_diag_set(diag, ET_INVALID_STATE,
                       "planned memory can only be shared before the first "
                       "method is loaded");
  }
  if (m->share_planned) return ET_OK;
  /* Buffer j is sized for the largest buffer j of any method. A method
   * whose metadata fails cannot load anyway and is left out. */
  size_t n = 0, count = et_program_method_count(&m->program);
  size_t *sizes = NULL;
  for (size_t k = 0; k < count; k++) {
    et_method_meta meta;
    if (et_program_method_meta(&m->program, et_program_method_name(&m->program, k),
                               &m->registry, &meta, NULL) != ET_OK)
      continue;
    if (meta.n_planned > n) {
      size_t *grown = realloc(sizes, meta.n_planned * sizeof *sizes);
      if (!grown) goto oom;
      for (size_t j = n; j < meta.n_planned; j++) grown[j] = 0;
      sizes = grown;
      n = meta.n_planned;
    }
    for (size_t j = 0; j < meta.n_planned; j++) {
      size_t sz = et_method_meta_planned_size(&meta, j);
      if (sz > sizes[j]) sizes[j] = sz;
    }
  }
  size_t total = 0;
  for (size_t j = 0; j < n; j++)
    total = total > SIZE_MAX - sizes[j] ? SIZE_MAX : total + sizes[j];
  if (total > m->memory_limit) {
    free(sizes);
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                       "the shared planned memory needs %zu bytes, over the "
                       "module's limit of %zu; raise it with "
                       "et_module_set_memory_limit if the program is trusted",
                       total, m->memory_limit);
  }
  m->shared = n ? calloc(n, sizeof(void *)) : NULL;
  if (n && !m->shared) goto oom;
  m->n_shared = n;
  m->shared_sizes = sizes;
  for (size_t j = 0; j < n; j++) {
    m->shared[j] = zalloc_aligned(sizes[j]);
    if (!m->shared[j]) goto oom;
  }
  m->share_planned = true;
  return ET_OK;
oom:
  if (m->shared) {
    for (size_t j = 0; j < m->n_shared; j++) free(m->shared[j]);
  }
  free(m->shared);
  if (m->shared_sizes != sizes) free(m->shared_sizes);
  free(sizes);
  m->shared = NULL;
  m->shared_sizes = NULL;
  m->n_shared = 0;
  return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED,
                     "cannot allocate the shared planned memory");
}

et_status et_module_execute(et_module *m, const char *name, et_diag *diag) {
  et_method *method = NULL;
  et_status st = et_module_method(m, name, &method, diag);
  if (st) return st;
  module_method *mm = find_method(m, name);
  if (atomic_flag_test_and_set(&mm->running))
    return et_diag_set(diag, ET_INVALID_STATE,
                       "method '%s' is already executing on another thread",
                       name);
  ensure_pool(m);
  st = et_method_execute(method);
  atomic_flag_clear(&mm->running);
  if (st) et_diag_set(diag, st, "%s", et_method_message(method));
  return st;
}

size_t et_module_method_memory(const et_module *m, const char *name) {
  if (!m || !name) return 0;
  const module_method *mm = find_method(m, name);
  return mm ? mm->bytes : 0;
}
