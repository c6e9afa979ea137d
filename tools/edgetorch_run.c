/*
 * edgetorch-run: load a .pte program, run one method, time it, write its
 * outputs; or describe the program (--info).
 *
 * Uses the hosted module API (extension/module.c) for loading and memory and
 * extension/npy.c for inputs and outputs. Every failure prints
 * "error: <StatusName>: <message>" on stderr and exits non-zero (1 for a
 * runtime failure, 2 for a usage error).
 */
#include <edgetorch/edgetorch.h>
#include <edgetorch/module.h>

#include "bundled.h"
#include "etdump.h"
#include "file_data.h"
#include "file_kind.h"
#include "host_tensor.h"
#include "npy.h"
#include "threadpool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static const char kUsage[] =
    "usage: edgetorch-run MODEL.pte [options]\n"
    "\n"
    "Run one method of an ExecuTorch .pte program and time it.\n"
    "\n"
    "options:\n"
    "  --method NAME      method to run (default: 'forward' if the program\n"
    "                     has it, else its first method)\n"
    "  --input FILE.npy   value for the next Tensor input, in input order;\n"
    "                     repeat once per Tensor input. Give all of them or\n"
    "                     none. The dtype must match; the shape must match\n"
    "                     (static) or fit the upper bound (dynamic).\n"
    "  --output-dir DIR   write output K as DIR/output_K.npy (K from 0), and\n"
    "                     each generated input K as DIR/input_K.npy; DIR and\n"
    "                     its parents are created if missing\n"
    "  --iterations N     execute N times (default 1); prints each run's time\n"
    "                     and the min, median and mean\n"
    "  --info             describe the program (methods, inputs, outputs,\n"
    "                     operators, delegates, memory) and exit\n"
    "  --data FILE.ptd    tensor data the program keeps outside itself (an\n"
    "                     exporter's external constants); repeatable\n"
    "  --mmap             map the file(s) read-only instead of reading them\n"
    "  --portable         run on the portable kernels alone (exact, the same\n"
    "                     bits on every machine; default: the optimized\n"
    "                     kernels first, within float tolerance of eager)\n"
    "  --threads N        run kernels and delegates on N threads (default:\n"
    "                     the CPUs this process may use, from its affinity\n"
    "                     mask; 1: serial); results are the same for any N\n"
    "  --max-memory BYTES refuse a method needing more memory (arena and\n"
    "                     planned buffers; default 1 GiB), before allocating\n"
    "  --max-instructions N  fail an execute that runs more than N\n"
    "                     instructions (default: the method's instruction\n"
    "                     count times 1024; only loops come near it)\n"
    "  --max-generated-bytes N\n"
    "                     refuse to generate an input larger than N bytes\n"
    "                     (suffixes K, M, G; default 256M); give such an\n"
    "                     input with --input instead\n"
    "  --version          print the edgetorch version and exit\n"
    "  --etdump FILE      record every run's events (operators, delegates)\n"
    "                     as an ETDump upstream's Inspector reads\n"
    "  --debug-buffer FILE  with --etdump: capture each operator's outputs\n"
    "                     (intermediate outputs) into FILE\n"
    "  --bundled FILE.bpte  run every test case of a bundled program (in place\n"
    "                     of MODEL.pte) and compare the outputs with the\n"
    "                     expected ones: |got - want| <= atol + rtol * |want|;\n"
    "                     exit status 1 if any case fails\n"
    "  --rtol X, --atol X with --bundled (default 1e-5 and 1e-8, upstream's)\n"
    "  -h, --help         print this help\n"
    "\n"
    "Inputs:\n"
    "  Scalar inputs (Int, Double, Bool) are set to the value they were\n"
    "  traced with, as upstream requires. Without --input, Tensor inputs are\n"
    "  generated deterministically in C (row-major) order by one xorshift64\n"
    "  stream (x ^= x << 13; x ^= x >> 7; x ^= x << 17; seed\n"
    "  0x9E3779B97F4A7C15) consumed input by input, one draw per element:\n"
    "    float types (Float, Double, Half, BFloat16, complex parts):\n"
    "      (draw >> 40) / 2^24 * 2 - 1, a float in [-1, 1), then rounded\n"
    "      to the dtype;\n"
    "    integer types: (draw >> 32) % 4, in [0, 4);\n"
    "    Bool: true, false, true, ... (no draw);\n"
    "    other dtypes: the draw's low byte(s).\n"
    "  Dynamic tensors get their upper-bound sizes. The Python CLI\n"
    "  (`edgetorch run`) generates the same values. An input above\n"
    "  --max-generated-bytes is refused: give it with --input.\n"
    "\n"
    ".npy files:\n"
    "  C order, format 1.0-3.0, little-endian: <f2 <f4 <f8 <c8 <c16 <i2 <i4\n"
    "  <i8 <u2 <u4 <u8 |i1 |u1 |b1, and BFloat16 as ml_dtypes saves it\n"
    "  ('<V2'; read such an output with np.load(f).view(ml_dtypes.bfloat16)).\n"
    "  Files are C order whatever the tensor's dim order; the runner converts.\n"
    "\n"
    "Exit status: 0 on success; 1 when loading or running fails; 2 for a\n"
    "usage error. Errors are printed as 'error: <StatusName>: <message>'.\n";

/* ---- errors ---------------------------------------------------------------
 */

ET_PRINTF_FORMAT(3, 4)
static int fail(int code, et_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "error: %s: ", et_status_name(st));
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return code;
}

/* ---- options --------------------------------------------------------------
 */

typedef struct options {
  const char *model;
  const char *method;
  const char **inputs;
  size_t n_inputs;
  const char **data;
  size_t n_data;
  const char *output_dir;
  unsigned long iterations;
  unsigned long threads; /* 0 (default): et_cpu_count() */
  unsigned long long max_memory;       /* 0: the module's default */
  unsigned long long max_instructions; /* 0: the method's default */
  size_t max_generated;
  const char *etdump;
  const char *debug_buffer;
  const char *bundled;
  double rtol, atol;
  bool info;
  bool mmap;
  bool portable; /* the portable kernels alone */
  bool help;
  bool version;
} options;

/* "256M" -> bytes; false when it is not a count with an optional K/M/G. */
static bool parse_bytes(const char *val, size_t *out) {
  char *end = NULL;
  errno = 0;
  if (!val || val[0] < '0' || val[0] > '9') return false;
  unsigned long long n = strtoull(val, &end, 10);
  if (errno || !end) return false;
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10;
  else if (*end == 'M' || *end == 'm') shift = 20;
  else if (*end == 'G' || *end == 'g') shift = 30;
  if (shift) end++;
  if (*end == 'B' || *end == 'b') end++;
  if (*end != '\0') return false;
  if (n > (unsigned long long)(SIZE_MAX >> shift)) return false;
  *out = (size_t)n << shift;
  return true;
}

static int parse_args(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  o->iterations = 1;
  o->max_generated = ET_HOST_MAX_GENERATED_BYTES;
  o->rtol = 1e-5;
  o->atol = 1e-8;
  o->inputs = calloc((size_t)argc + 1, sizeof(char *));
  o->data = calloc((size_t)argc + 1, sizeof(char *));
  if (!o->inputs || !o->data) {
    return fail(EXIT_RUNTIME, ET_MEMORY_ALLOCATION_FAILED, "out of memory");
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
    /* Accept both "--opt value" and "--opt=value". */
    const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
    char name[32];
    if (eq) {
      size_t n = (size_t)(eq - a);
      if (n >= sizeof name) n = sizeof name - 1;
      memcpy(name, a, n);
      name[n] = '\0';
      val = eq + 1;
      a = name;
    }
    bool takes_value = strcmp(a, "--method") == 0 ||
                       strcmp(a, "--input") == 0 ||
                       strcmp(a, "--data") == 0 ||
                       strcmp(a, "--output-dir") == 0 ||
                       strcmp(a, "--iterations") == 0 ||
                       strcmp(a, "--threads") == 0 ||
                       strcmp(a, "--max-memory") == 0 ||
                       strcmp(a, "--max-instructions") == 0 ||
                       strcmp(a, "--max-generated-bytes") == 0 ||
                       strcmp(a, "--etdump") == 0 ||
                       strcmp(a, "--debug-buffer") == 0 ||
                       strcmp(a, "--bundled") == 0 ||
                       strcmp(a, "--rtol") == 0 || strcmp(a, "--atol") == 0;
    if (takes_value && !val) {
      if (i + 1 >= argc) {
        return fail(EXIT_USAGE, ET_INVALID_ARGUMENT, "%s needs a value", a);
      }
      val = argv[++i];
    } else if (!takes_value && val) {
      return fail(EXIT_USAGE, ET_INVALID_ARGUMENT, "%s takes no value", a);
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      o->help = true;
    } else if (strcmp(a, "--version") == 0) {
      o->version = true;
    } else if (strcmp(a, "--max-generated-bytes") == 0) {
      if (!parse_bytes(val, &o->max_generated)) {
        return fail(EXIT_USAGE, ET_INVALID_ARGUMENT,
                    "--max-generated-bytes wants a byte count such as "
                    "268435456 or 256M, got '%s'",
                    val);
      }
    } else if (strcmp(a, "--info") == 0) {
      o->info = true;
    } else if (strcmp(a, "--mmap") == 0) {
      o->mmap = true;
    } else if (strcmp(a, "--portable") == 0) {
      o->portable = true;
    } else if (strcmp(a, "--method") == 0) {
      o->method = val;
    } else if (strcmp(a, "--input") == 0) {
      o->inputs[o->n_inputs++] = val;
    } else if (strcmp(a, "--data") == 0) {
      o->data[o->n_data++] = val;
    } else if (strcmp(a, "--bundled") == 0) {
      o->bundled = val;
    } else if (strcmp(a, "--rtol") == 0 || strcmp(a, "--atol") == 0) {
      char *end = NULL;
      double x = strtod(val, &end);
      if (!end || *end || val[0] == '\0' || !(x >= 0))
        return fail(EXIT_USAGE, ET_INVALID_ARGUMENT,
                    "%s wants a non-negative number, got '%s'", a, val);
      if (a[2] == 'r') o->rtol = x;
      else o->atol = x;
    } else if (strcmp(a, "--etdump") == 0) {
      o->etdump = val;
    } else if (strcmp(a, "--debug-buffer") == 0) {
      o->debug_buffer = val;
    } else if (strcmp(a, "--output-dir") == 0) {
      o->output_dir = val;
    } else if (strcmp(a, "--iterations") == 0) {
      char *end = NULL;
      errno = 0;
      unsigned long n = strtoul(val, &end, 10);
      if (errno || !end || *end || val[0] == '-' || val[0] == '\0' || n == 0 ||
          n > 1000000ul) {
        return fail(EXIT_USAGE, ET_INVALID_ARGUMENT,
                    "--iterations wants a positive integer, got '%s'", val);
      }
      o->iterations = n;
    } else if (strcmp(a, "--threads") == 0) {
      char *end = NULL;
      errno = 0;
      unsigned long n = strtoul(val, &end, 10);
      if (errno || !end || *end || val[0] == '-' || val[0] == '\0' || n == 0 ||
          n > ET_THREADPOOL_MAX) {
        return fail(EXIT_USAGE, ET_INVALID_ARGUMENT,
                    "--threads wants an integer from 1 to %u, got '%s'",
                    ET_THREADPOOL_MAX, val);
      }
      o->threads = n;
    } else if (strcmp(a, "--max-memory") == 0 ||
               strcmp(a, "--max-instructions") == 0) {
      char *end = NULL;
      errno = 0;
      unsigned long long n = strtoull(val, &end, 10);
      if (errno || !end || *end || val[0] == '-' || val[0] == '\0' || n == 0)
        return fail(EXIT_USAGE, ET_INVALID_ARGUMENT,
                    "%s wants a positive integer, got '%s'", a, val);
      if (a[6] == 'm') o->max_memory = n;
      else o->max_instructions = n;
    } else if (a[0] == '-' && a[1] != '\0') {
      return fail(EXIT_USAGE, ET_INVALID_ARGUMENT,
                  "unknown option '%s' (see --help)", a);
    } else if (!o->model) {
      o->model = a;
    } else {
      return fail(EXIT_USAGE, ET_INVALID_ARGUMENT,
                  "more than one model given ('%s' and '%s')", o->model, a);
    }
  }
  return 0;
}

/* ---- printing helpers -------------------------------------------------------
 */

static void print_sizes32(FILE *f, uint32_t rank, const int32_t *sizes) {
  fputc('[', f);
  for (uint32_t d = 0; d < rank; d++) {
    fprintf(f, "%s%ld", d ? ", " : "", (long)sizes[d]);
  }
  fputc(']', f);
}

static const char *dynamism_name(int d) {
  switch (d) {
  case ET_STATIC: return "static";
  case ET_DYNAMIC_BOUND: return "dynamic (bound)";
  case ET_DYNAMIC_UNBOUND: return "dynamic (unbound)";
  default: return "unknown";
  }
}

static void print_io(const et_io_info *io, size_t i) {
  printf("    [%zu] %s", i, et_tag_name((int)io->tag));
  switch (io->tag) {
  case ET_TAG_TENSOR: {
    const et_tensor_info *t = &io->tensor;
    printf(" %s ", et_dtype_name(t->dtype));
    print_sizes32(stdout, t->rank, t->sizes);
    printf(" dim_order (");
    for (uint32_t d = 0; d < t->rank; d++) {
      printf("%s%u", d ? ", " : "", (unsigned)t->dim_order[d]);
    }
    printf(") %s, %zu bytes, %s\n", dynamism_name(t->dynamism), t->nbytes,
           t->planned ? "planned" : "not planned");
    break;
  }
  case ET_TAG_INT: printf(" = %lld\n", (long long)io->scalar.i); break;
  case ET_TAG_DOUBLE: printf(" = %.17g\n", io->scalar.d); break;
  case ET_TAG_BOOL: printf(" = %s\n", io->scalar.b ? "True" : "False"); break;
  default: printf("\n"); break;
  }
}

static bool backend_registered(const et_registry *reg, const char *id) {
  for (size_t i = 0; i < reg->n_backends; i++) {
    if (reg->backends[i]->id && strcmp(reg->backends[i]->id, id) == 0)
      return true;
  }
  return false;
}

/* "portable: 237 operators" for each kernel table of the registry. */
static const char *kernel_libraries(const et_registry *reg) {
  static char buf[160];
  size_t n = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < reg->n_kernel_tables && n < sizeof buf; i++) {
    const et_kernel_table *t = reg->kernel_tables[i];
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s: %zu operators",
                          i ? ", " : "",
                          t == &et_portable_kernels    ? "portable"
                          : t == &et_quantized_kernels ? "quantized"
                          : t == &et_llm_kernels       ? "llm"
                          : t == &et_optimized_kernels ? "optimized"
                                                       : "table",
                          t->count);
  }
  return buf;
}

static int print_info(et_module *mod, const char *path) {
  const et_program *p = et_module_program(mod);
  const et_registry *reg = et_module_registry(mod);
  size_t n_methods = et_program_method_count(p);
  printf("program: %s\n", path);
  printf("  size: %zu bytes (%s)\n", p->size,
         et_module_load_mode(mod) == ET_LOAD_MMAP ? "mapped" : "read");
  printf("  constant bytes: %zu\n", et_program_constant_bytes(p));
  printf("  kernel libraries: %s\n", kernel_libraries(reg));
  printf("  methods: %zu\n", n_methods);
  for (size_t mi = 0; mi < n_methods; mi++) {
    const char *name = et_program_method_name(p, mi);
    et_method_meta meta;
    et_diag diag;
    et_diag_clear(&diag);
    et_status st = et_program_method_meta(p, name, reg, &meta, &diag);
    printf("\nmethod %s\n", name ? name : "(null)");
    if (st) {
      return fail(EXIT_RUNTIME, st, "method '%s' metadata: %s", name,
                  diag.message);
    }
    printf("  inputs: %zu\n", meta.n_inputs);
    for (size_t i = 0; i < meta.n_inputs; i++) {
      et_io_info io;
      st = et_method_meta_input(&meta, i, &io);
      if (st) {
        return fail(EXIT_RUNTIME, st, "method '%s' input %zu: %s", name, i,
                    et_program_message(p));
      }
      print_io(&io, i);
    }
    printf("  outputs: %zu\n", meta.n_outputs);
    for (size_t i = 0; i < meta.n_outputs; i++) {
      et_io_info io;
      st = et_method_meta_output(&meta, i, &io);
      if (st) {
        return fail(EXIT_RUNTIME, st, "method '%s' output %zu: %s", name, i,
                    et_program_message(p));
      }
      print_io(&io, i);
    }
    printf("  values: %zu\n", meta.n_values);
    printf("  instructions: %zu\n", meta.n_instructions);
    printf("  operators: %zu\n", meta.n_operators);
    size_t *uses = calloc(meta.n_operators + 1, sizeof *uses);
    if (!uses) return fail(EXIT_RUNTIME, ET_MEMORY_ALLOCATION_FAILED, "out of memory");
    et_method_meta_operator_uses(&meta, uses, meta.n_operators);
    for (size_t i = 0; i < meta.n_operators; i++) {
      char op[256];
      st = et_method_meta_operator(&meta, i, op, sizeof op);
      if (st) {
        free(uses);
        return fail(EXIT_RUNTIME, st, "method '%s' operator %zu: %s", name, i,
                    et_program_message(p));
      }
      printf("    [%zu] %s (%zu call%s)\n", i, op, uses[i], uses[i] == 1 ? "" : "s");
    }
    free(uses);
    char missing[1024];
    size_t n_missing =
        et_method_missing_operators(p, name, reg, missing, sizeof missing);
    if (n_missing) {
      printf("  missing operators: %zu (%s)\n", n_missing, missing);
      printf("    no kernel for %s in this runtime's kernel libraries (%s); "
             "the method cannot load: see docs/adding-a-kernel.md\n",
             n_missing == 1 ? "it" : "them", kernel_libraries(reg));
    }
    printf("  delegates: %zu\n", meta.n_delegates);
    for (size_t i = 0; i < meta.n_delegates; i++) {
      const char *id = et_method_meta_delegate(&meta, i);
      bool known = id && backend_registered(reg, id);
      printf("    [%zu] %s%s\n", i, id ? id : "(unknown)",
             known ? "" : " (not registered: this runtime has no such "
                          "backend, so the method cannot load; build it in "
                          "or export without this delegate)");
    }
    printf("  planned buffers: %zu\n", meta.n_planned);
    size_t total = 0;
    for (size_t i = 0; i < meta.n_planned; i++) {
      size_t sz = et_method_meta_planned_size(&meta, i);
      total += sz;
      printf("    [%zu] %zu bytes\n", i, sz);
    }
    printf("  planned bytes: %zu\n", total);
    printf("  arena bytes: %zu\n", meta.arena_bytes);
  }
  return 0;
}

/* ---- running -------------------------------------------------------------------
 */

/* What tensor input i is set from before each run. */
typedef struct tensor_input {
  bool used;
  int dtype;
  uint32_t rank;
  int64_t sizes[ET_MAX_RANK];
  const void *data; /* in the tensor's dim order */
  size_t nbytes;
  const char *source; /* file name or "generated" */
} tensor_input;

typedef struct run_state {
  et_npy_array *arrays; /* one per input (unused entries zeroed) */
  void **buffers;       /* generated or re-laid-out data, per input */
  tensor_input *tensors;
  size_t n;
} run_state;

static void run_state_free(run_state *r) {
  for (size_t i = 0; i < r->n; i++) {
    if (r->arrays) et_npy_free(&r->arrays[i]);
    if (r->buffers) free(r->buffers[i]);
  }
  free(r->arrays);
  free(r->buffers);
  free(r->tensors);
}

/* Set every tensor input. Planned inputs must be set before each run: the
 * plan may reuse their memory once they are dead (method.h). */
static int apply_tensor_inputs(et_method *m, const run_state *rs) {
  for (size_t i = 0; i < rs->n; i++) {
    const tensor_input *t = &rs->tensors[i];
    if (!t->used) continue;
    et_status st = et_method_set_input_tensor(m, i, t->dtype, t->rank,
                                              t->sizes, t->data, t->nbytes);
    if (st) {
      return fail(EXIT_RUNTIME, st, "input %zu (%s): %s", i, t->source,
                  et_method_message(m));
    }
  }
  return 0;
}

/* mkdir -p: create `dir` and any missing parents. */
static int ensure_dir(const char *dir) {
  size_t n = strlen(dir);
  char *path = malloc(n + 1);
  if (!path) return fail(EXIT_RUNTIME, ET_MEMORY_ALLOCATION_FAILED, "oom");
  memcpy(path, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (path[i] != '/' && path[i] != '\0') continue;
    char saved = path[i];
    path[i] = '\0';
    struct stat sb;
    if (stat(path, &sb) != 0) {
      if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        int err = errno;
        int rc = fail(EXIT_RUNTIME,
                      err == ENOENT ? ET_NOT_FOUND : ET_ACCESS_FAILED,
                      "cannot create output dir '%s': %s", path,
                      strerror(err));
        free(path);
        return rc;
      }
    } else if (!S_ISDIR(sb.st_mode)) {
      int rc = fail(EXIT_RUNTIME, ET_ACCESS_FAILED,
                    "output dir '%s': '%s' is not a directory", dir, path);
      free(path);
      return rc;
    }
    path[i] = saved;
  }
  free(path);
  return 0;
}

static char *join_path(const char *dir, const char *prefix, size_t k) {
  size_t n = strlen(dir) + strlen(prefix) + 32;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/%s_%zu.npy", dir, prefix, k);
  return s;
}

/* Write a dense buffer of `dtype`/`sizes` that is laid out by `strides`. */
static int write_npy(const char *dir, const char *prefix, size_t k, int dtype,
                     uint32_t rank, const int64_t *sizes,
                     const int64_t *strides, bool contiguous, const void *data,
                     size_t nbytes) {
  char *path = join_path(dir, prefix, k);
  if (!path) return fail(EXIT_RUNTIME, ET_MEMORY_ALLOCATION_FAILED, "oom");
  void *tmp = NULL;
  if (!contiguous && nbytes) {
    tmp = et_aligned_malloc(nbytes);
    if (!tmp) {
      free(path);
      return fail(EXIT_RUNTIME, ET_MEMORY_ALLOCATION_FAILED, "oom");
    }
    et_host_copy_strided(tmp, NULL, data, strides, et_dtype_size(dtype), rank,
                         sizes);
    data = tmp;
  }
  et_diag d;
  et_diag_clear(&d);
  et_status st = et_npy_write_file(path, dtype, rank, sizes, data, nbytes, &d);
  free(tmp);
  free(path);
  if (st) return fail(EXIT_RUNTIME, st, "%s", d.message);
  return 0;
}

static int set_inputs(et_method *m, const et_method_meta *meta,
                      const options *o, run_state *rs) {
  rs->n = meta->n_inputs;
  rs->arrays = calloc(rs->n + 1, sizeof *rs->arrays);
  rs->buffers = calloc(rs->n + 1, sizeof *rs->buffers);
  rs->tensors = calloc(rs->n + 1, sizeof *rs->tensors);
  if (!rs->arrays || !rs->buffers || !rs->tensors) {
    return fail(EXIT_RUNTIME, ET_MEMORY_ALLOCATION_FAILED, "out of memory");
  }
  size_t n_tensor_inputs = 0;
  for (size_t i = 0; i < meta->n_inputs; i++) {
    et_io_info io;
    if (et_method_meta_input(meta, i, &io) == ET_OK &&
        io.tag == ET_TAG_TENSOR) {
      n_tensor_inputs++;
    }
  }
  if (o->n_inputs && o->n_inputs != n_tensor_inputs) {
    return fail(EXIT_USAGE, ET_INVALID_ARGUMENT,
                "method '%s' has %zu tensor input(s) but %zu --input file(s) "
                "were given; give one .npy per tensor input, in order, or "
                "none to generate them",
                meta->name, n_tensor_inputs, o->n_inputs);
  }
  uint64_t seed = ET_HOST_GEN_SEED;
  size_t next_file = 0;
  for (size_t i = 0; i < meta->n_inputs; i++) {
    et_io_info io;
    et_status st = et_method_meta_input(meta, i, &io);
    if (st) return fail(EXIT_RUNTIME, st, "input %zu metadata", i);
    if (io.tag == ET_TAG_INT || io.tag == ET_TAG_DOUBLE ||
        io.tag == ET_TAG_BOOL) {
      et_value v;
      memset(&v, 0, sizeof v);
      v.tag = io.tag;
      if (io.tag == ET_TAG_INT) v.u.i = io.scalar.i;
      if (io.tag == ET_TAG_DOUBLE) v.u.d = io.scalar.d;
      if (io.tag == ET_TAG_BOOL) v.u.b = io.scalar.b;
      st = et_method_set_input_value(m, i, &v);
      if (st) {
        return fail(EXIT_RUNTIME, st, "input %zu: %s", i,
                    et_method_message(m));
      }
      continue;
    }
    if (io.tag != ET_TAG_TENSOR) continue; /* None and lists: left as traced */

    const et_tensor_info *ti = &io.tensor;
    int64_t sizes[ET_MAX_RANK];
    const void *logical; /* C-ordered data */
    size_t nbytes;
    const char *source = "generated";
    if (o->n_inputs) {
      source = o->inputs[next_file++];
      et_npy_array *a = &rs->arrays[i];
      et_diag d;
      et_diag_clear(&d);
      st = et_npy_read_file(source, a, &d);
      if (st) return fail(EXIT_RUNTIME, st, "input %zu: %s", i, d.message);
      if (a->dtype != ti->dtype) {
        const char *np_name = et_host_numpy_name(ti->dtype, NULL);
        return fail(EXIT_RUNTIME, ET_INVALID_ARGUMENT,
                    "input %zu (%s): dtype %s, the method expects %s; save "
                    "it as %s (numpy: a.astype(%s))",
                    i, source, et_dtype_name(a->dtype),
                    et_dtype_name(ti->dtype), et_dtype_name(ti->dtype),
                    np_name ? np_name : "?");
      }
      if (a->rank != ti->rank) {
        return fail(EXIT_RUNTIME, ET_INVALID_ARGUMENT,
                    "input %zu (%s): rank %u, the method expects rank %u "
                    "(see its sizes with --info); save it with that shape",
                    i, source, (unsigned)a->rank, (unsigned)ti->rank);
      }
      memcpy(sizes, a->shape, sizeof(int64_t) * a->rank);
      logical = a->data;
      nbytes = a->nbytes;
    } else {
      size_t numel = 0;
      et_diag d;
      et_diag_clear(&d);
      st = et_host_default_input_size(
          ti, i, o->max_generated, "--input FILE.npy (one per tensor input)",
          "--max-generated-bytes N", sizes, &numel, &nbytes, &d);
      if (st) return fail(EXIT_RUNTIME, st, "%s", d.message);
      void *buf = et_aligned_malloc(nbytes);
      if (!buf) {
        return fail(EXIT_RUNTIME, ET_MEMORY_ALLOCATION_FAILED,
                    "input %zu: cannot allocate %zu bytes", i, nbytes);
      }
      rs->buffers[i] = buf;
      et_host_fill_default(buf, ti->dtype, numel, &seed);
      logical = buf;
      if (o->output_dir) {
        int rc = write_npy(o->output_dir, "input", i, ti->dtype, ti->rank,
                           sizes, NULL, true, buf, nbytes);
        if (rc) return rc;
      }
    }
    const void *data = logical;
    if (!et_host_identity_order(ti->rank, ti->dim_order) && nbytes) {
      /* .npy is C order; the tensor's memory follows its dim order. */
      int64_t strides[ET_MAX_RANK];
      et_host_strides_for(ti->rank, sizes, ti->dim_order, strides);
      void *laid = et_aligned_malloc(nbytes);
      if (!laid) {
        return fail(EXIT_RUNTIME, ET_MEMORY_ALLOCATION_FAILED,
                    "input %zu: cannot allocate %zu bytes", i, nbytes);
      }
      et_host_copy_strided(laid, strides, logical, NULL,
                           et_dtype_size(ti->dtype), ti->rank, sizes);
      if (rs->buffers[i]) free(rs->buffers[i]);
      rs->buffers[i] = laid;
      data = laid;
    }
    tensor_input *t = &rs->tensors[i];
    t->used = true;
    t->dtype = ti->dtype;
    t->rank = ti->rank;
    memcpy(t->sizes, sizes, sizeof(int64_t) * ti->rank);
    t->data = data;
    t->nbytes = nbytes;
    t->source = source;
  }
  /* Setting them once now reports a bad input before anything runs. */
  return apply_tensor_inputs(m, rs);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void print_preview(const et_tensor *t) {
  size_t numel = et_tensor_numel(t);
  size_t shown = numel < 8 ? numel : 8;
  if (!t->data) {
    printf(" (no data)");
    return;
  }
  printf(" = [");
  for (size_t i = 0; i < shown; i++) {
    double v;
    /* Memory order, which equals logical order for contiguous tensors. */
    if (!et_host_element_as_double(t->data, t->dtype, i, &v)) {
      printf("...");
      break;
    }
    printf("%s%.6g", i ? ", " : "", v);
  }
  printf("%s]", shown < numel ? ", ..." : "");
}

static int handle_outputs(et_method *m, const options *o) {
  size_t n = et_method_output_count(m);
  for (size_t k = 0; k < n; k++) {
    const et_value *v = et_method_output(m, k);
    if (!v) return fail(EXIT_RUNTIME, ET_INTERNAL, "output %zu missing", k);
    printf("output %zu: %s", k, et_tag_name((int)v->tag));
    int rc = 0;
    switch (v->tag) {
    case ET_TAG_TENSOR: {
      const et_tensor *t = v->u.t;
      int64_t sizes[ET_MAX_RANK];
      for (uint32_t d = 0; d < t->rank; d++) sizes[d] = t->sizes[d];
      printf(" %s ", et_dtype_name(t->dtype));
      print_sizes32(stdout, t->rank, t->sizes);
      print_preview(t);
      printf("\n");
      if (o->output_dir) {
        size_t nbytes = et_tensor_nbytes(t);
        if (!t->data && nbytes) {
          return fail(EXIT_RUNTIME, ET_INVALID_STATE,
                      "output %zu has no data", k);
        }
        rc = write_npy(o->output_dir, "output", k, t->dtype, t->rank, sizes,
                       t->strides, et_tensor_is_contiguous(t), t->data,
                       nbytes);
      }
      break;
    }
    case ET_TAG_INT:
      printf(" = %lld\n", (long long)v->u.i);
      if (o->output_dir) {
        rc = write_npy(o->output_dir, "output", k, ET_LONG, 0, NULL, NULL,
                       true, &v->u.i, sizeof(int64_t));
      }
      break;
    case ET_TAG_DOUBLE:
      printf(" = %.17g\n", v->u.d);
      if (o->output_dir) {
        rc = write_npy(o->output_dir, "output", k, ET_DOUBLE, 0, NULL, NULL,
                       true, &v->u.d, sizeof(double));
      }
      break;
    case ET_TAG_BOOL: {
      uint8_t b = v->u.b ? 1 : 0;
      printf(" = %s\n", b ? "True" : "False");
      if (o->output_dir) {
        rc = write_npy(o->output_dir, "output", k, ET_BOOL, 0, NULL, NULL,
                       true, &b, 1);
      }
      break;
    }
    default:
      printf(" (not written)\n");
      break;
    }
    if (rc) return rc;
  }
  return 0;
}

/* A file that failed to load: when it is another kind of ExecuTorch file
 * than the one expected, say so and what to do instead of only "invalid". */
static int fail_load(const char *path, et_file_kind_id want, et_status st,
                     const char *message) {
  et_file_kind_id got = et_file_kind_of_path(path);
  if (got == want || got == ET_KIND_UNKNOWN) {
    if (st == ET_NOT_FOUND || st == ET_ACCESS_FAILED) {
      return fail(EXIT_RUNTIME, st, "%s (check the path%s)", message,
                  want == ET_KIND_PTE ? "; MODEL is the .pte to run" : "");
    }
    if (st == ET_INVALID_PROGRAM || st == ET_INVALID_EXTERNAL_DATA) {
      return fail(EXIT_RUNTIME, st,
                  "%s (the file is damaged, truncated or not an ExecuTorch "
                  "%s: export it again, or check the copy)",
                  message, want == ET_KIND_PTE ? "program" : "data file");
    }
    return fail(EXIT_RUNTIME, st, "%s", message);
  }
  const char *todo = "";
  if (want == ET_KIND_PTE && got == ET_KIND_PTD)
    todo = "give the program's .pte as MODEL and this file with --data";
  else if (want == ET_KIND_PTE && got == ET_KIND_BPTE)
    todo = "run the .pte the bundle was made from (a bundle holds a "
           "program plus test inputs; edgetorch-run takes the program)";
  else if (want == ET_KIND_PTD && got == ET_KIND_PTE)
    todo = "give it as MODEL; --data takes the .ptd written beside it";
  else if (want == ET_KIND_PTE && got == ET_KIND_ETDUMP)
    todo = "read it with a profiling tool; MODEL is the .pte to run";
  else
    todo = want == ET_KIND_PTE ? "MODEL is the .pte to run"
                               : "--data takes a .ptd file";
  return fail(EXIT_RUNTIME, st, "'%s' is %s, not %s; %s", path,
              et_file_kind_desc(got), et_file_kind_desc(want), todo);
}

static const char *pick_method(const et_program *p, const char *wanted) {
  if (wanted) return wanted;
  size_t n = et_program_method_count(p);
  for (size_t i = 0; i < n; i++) {
    const char *name = et_program_method_name(p, i);
    if (name && strcmp(name, "forward") == 0) return name;
  }
  return n ? et_program_method_name(p, 0) : "forward";
}

/* The options every loaded module takes: threads and kernel tables. */
static void configure(et_module *mod, const options *o) {
  et_module_set_num_threads(mod, (uint32_t)o->threads);
  if (o->portable) et_module_remove_kernels(mod, &et_optimized_kernels);
}

static int run(const options *o) {
  et_module *mod = NULL;
  et_diag d;
  et_diag_clear(&d);
  et_status st = et_module_load_file(
      o->model, o->mmap ? ET_LOAD_MMAP : ET_LOAD_FILE, &mod, &d);
  if (st) return fail_load(o->model, ET_KIND_PTE, st, d.message);
  configure(mod, o);
  if (o->max_memory)
    et_module_set_memory_limit(mod, o->max_memory > SIZE_MAX
                                        ? SIZE_MAX
                                        : (size_t)o->max_memory);
  for (size_t i = 0; i < o->n_data; i++) {
    st = et_module_load_data_file(mod, o->data[i],
                                  o->mmap ? ET_LOAD_MMAP : ET_LOAD_FILE, &d);
    if (st) {
      et_module_free(mod);
      return fail_load(o->data[i], ET_KIND_PTD, st, d.message);
    }
  }
  int rc = 0;
  run_state rs;
  memset(&rs, 0, sizeof rs);
  uint64_t *times = NULL;
  et_etdump *etd = NULL;
  if (o->info) {
    rc = print_info(mod, o->model);
    goto done;
  }
  const et_program *p = et_module_program(mod);
  const char *name = pick_method(p, o->method);
  et_method *m = NULL;
  if (o->etdump) {
    if (!(etd = et_etdump_create())) {
      rc = fail(EXIT_RUNTIME, ET_MEMORY_ALLOCATION_FAILED, "out of memory");
      goto done;
    }
    et_etdump_set_capture(etd, o->debug_buffer != NULL);
    et_etdump_begin_block(etd, "Default");
  }
  uint64_t init0 = et_pal_time_ns();
  st = et_module_method(mod, name, &m, &d);
  if (etd) {
    et_etdump_record(etd, "Method::init", init0, et_pal_time_ns());
    et_etdump_record(etd, "Program::load_method", init0, et_pal_time_ns());
  }
  if (st) {
    rc = fail(EXIT_RUNTIME, st, "%s%s%s", d.message,
              et_host_method_load_hint(st, d.message),
              st == ET_NOT_FOUND && strstr(d.message, "no method named")
                  ? "; choose one with --method NAME"
                  : "");
    goto done;
  }
  if (o->max_instructions) et_method_set_instruction_limit(m, o->max_instructions);
  const et_method_meta *meta = et_method_get_meta(m);
  if (o->output_dir && (rc = ensure_dir(o->output_dir))) goto done;
  if ((rc = set_inputs(m, meta, o, &rs))) goto done;

  times = calloc(o->iterations, sizeof *times);
  if (!times) {
    rc = fail(EXIT_RUNTIME, ET_MEMORY_ALLOCATION_FAILED, "out of memory");
    goto done;
  }
  printf("method %s: %zu input(s), %zu output(s), %zu bytes of memory, "
         "%u thread(s)\n",
         name, meta->n_inputs, meta->n_outputs,
         et_module_method_memory(mod, name), et_module_num_threads(mod));
  for (unsigned long it = 0; it < o->iterations; it++) {
    if (it > 0 && (rc = apply_tensor_inputs(m, &rs))) goto done;
    uint64_t t0 = et_pal_time_ns();
    st = etd ? et_etdump_execute(etd, m) : et_method_execute(m);
    uint64_t t1 = et_pal_time_ns();
    if (st) {
      rc = fail(EXIT_RUNTIME, st, "execute (iteration %lu): %s", it,
                et_method_message(m));
      goto done;
    }
    times[it] = t1 - t0;
    printf("iteration %lu: %.3f ms\n", it, (double)times[it] / 1e6);
  }
  {
    double mean = 0;
    for (unsigned long it = 0; it < o->iterations; it++) {
      mean += (double)times[it];
    }
    mean /= (double)o->iterations;
    qsort(times, o->iterations, sizeof *times, cmp_u64);
    size_t n = o->iterations;
    double median = n % 2 ? (double)times[n / 2]
                          : ((double)times[n / 2 - 1] + (double)times[n / 2]) / 2;
    printf("time: min %.3f ms, median %.3f ms, mean %.3f ms (%zu run%s)\n",
           (double)times[0] / 1e6, median / 1e6, mean / 1e6, n,
           n == 1 ? "" : "s");
  }
  rc = handle_outputs(m, o);
  if (!rc && etd) {
    st = et_etdump_write(etd, o->etdump, o->debug_buffer, &d);
    if (st) rc = fail(EXIT_RUNTIME, st, "%s", d.message);
  }

done:
  et_etdump_free(etd);
  free(times);
  run_state_free(&rs);
  et_module_free(mod);
  return rc;
}

/* --bundled: every test case of every suite; 1 if any fails. */
static int run_bundled(const options *o) {
  et_diag d;
  et_diag_clear(&d);
  et_file_data f;
  et_status st = et_file_read(o->bundled, &f, &d);
  if (st) return fail(EXIT_RUNTIME, st, "%s", d.message);
  et_bundled b;
  et_module *mod = NULL;
  int rc = 0;
  unsigned passed = 0, failed = 0;
  if ((st = et_bundled_open(f.data, f.size, &b, &d)) ||
      (st = et_module_load_buffer(b.program, b.program_size, &mod, &d))) {
    rc = fail(EXIT_RUNTIME, st, "%s: %s", o->bundled, d.message);
    goto done;
  }
  configure(mod, o);
  printf("bundled program %s: %u test suite(s), rtol %g, atol %g\n",
         o->bundled, b.n_suites, o->rtol, o->atol);
  for (uint32_t s = 0; s < b.n_suites; s++) {
    const char *name = et_bundled_suite_method(&b, s);
    et_method *m = NULL;
    if ((st = et_module_method(mod, name, &m, &d))) {
      rc = fail(EXIT_RUNTIME, st, "method '%s': %s", name, d.message);
      goto done;
    }
    uint32_t n = et_bundled_case_count(&b, s);
    for (uint32_t c = 0; c < n; c++) {
      et_bundled_output outs[64];
      bool ok = false;
      if ((st = et_bundled_set_inputs(&b, s, c, m, &d)) ||
          (st = et_method_execute(m)) ||
          (st = et_bundled_verify(&b, s, c, m, o->rtol, o->atol, outs, 64,
                                  &ok, &d))) {
        printf("%s case %u: FAIL: %s: %s\n", name, c, et_status_name(st),
               d.message[0] ? d.message : et_method_message(m));
        et_diag_clear(&d);
        failed++;
        continue;
      }
      printf("%s case %u: %s\n", name, c, ok ? "PASS" : "FAIL");
      size_t n_out = et_method_output_count(m);
      for (size_t i = 0; i < n_out && i < 64; i++) {
        if (outs[i].why[0])
          printf("  output %zu: FAIL: %s\n", i, outs[i].why);
        else
          printf("  output %zu: %s, max abs error %.3g (element %zu), max rel "
                 "error %.3g\n", i, outs[i].ok ? "ok" : "FAIL",
                 outs[i].max_abs, outs[i].worst_index, outs[i].max_rel);
      }
      if (ok) passed++;
      else failed++;
    }
  }
  printf("%u passed, %u failed\n", passed, failed);
  if (failed) rc = EXIT_RUNTIME;
done:
  et_module_free(mod);
  et_file_release(&f);
  return rc;
}

int main(int argc, char **argv) {
  options o;
  int rc = parse_args(argc, argv, &o);
  if (rc == 0) {
    if (o.help) {
      fputs(kUsage, stdout);
    } else if (o.version) {
      printf("edgetorch-run %s\n", EDGETORCH_VERSION);
    } else if (o.bundled) {
      rc = run_bundled(&o);
    } else if (o.debug_buffer && !o.etdump) {
      rc = fail(EXIT_USAGE, ET_INVALID_ARGUMENT,
                "--debug-buffer needs --etdump");
    } else if (!o.model) {
      fputs(kUsage, stderr);
      rc = fail(EXIT_USAGE, ET_INVALID_ARGUMENT, "no model given");
    } else {
      rc = run(&o);
    }
  }
  free(o.inputs);
  free(o.data);
  if (fflush(stdout) != 0 && rc == 0) {
    rc = fail(EXIT_RUNTIME, ET_ACCESS_FAILED, "cannot write to stdout");
  }
  return rc;
}
