/*
 * mutate: the mutation tester of the runtime.
 *
 * For each .pte file given, make N damaged variants (bit flips, bytes
 * overwritten with interesting values, truncations, 16/32/64-bit
 * little-endian fields patched with interesting values at aligned offsets,
 * which is where flatbuffer offsets, lengths and vtable entries live) and
 * push each one through the core API: et_program_load, and when it loads,
 * for every method: metadata, et_method_init on heap memory sized from the
 * metadata (exactly, so AddressSanitizer sees every overrun), inputs made up
 * from the metadata, et_method_execute, and a read of every output byte;
 * then, if that worked, a second execute with dynamic inputs shrunk.
 *
 * Each variant sits in a heap block of exactly its own size, so a read one
 * byte past the file is a sanitizer report. Run it from a sanitizer build:
 * any report ends the process; before it does, a death callback names the
 * variant so that it can be reproduced with --only and saved with --write.
 * A per-variant alarm turns a hang into a failure.
 *
 * Besides crashes, these invariants are checked and counted as failures:
 * every failing call leaves a non-empty message and a known status name,
 * and metadata of a verified program is self-consistent (rank <= 16,
 * non-negative sizes, nbytes = numel * element size).
 *
 * Usage: mutate [options] FILE.pte...
 *   -n, --count N        variants per file (default 1000)
 *   -s, --seed S         seed (default 1)
 *   --only I             run only variant I of each file (reproduce)
 *   --write PATH         with --only: also save that variant's bytes
 *   --timeout SEC        per-variant alarm (default 60: under ASan a program
 *                        that trips the 10M-instruction guard takes ~20 s)
 *   --max-mem BYTES      memory a method may get (default 64 MiB)
 *   -v, --verbose        print the outcome of every variant
 *   --any-outcome        a file itself may fail to load or run (for files
 *                        that are damaged on purpose); only crashes, hangs
 *                        and broken invariants fail
 *   --trace              name each variant on stderr before running it (to
 *                        attribute reports of a build whose sanitizers
 *                        recover and continue)
 *   --data FILE.ptd      external tensor data (et_ptd) for every program
 *   --mutate-data        damage the --data file instead of the programs
 *                        (each program is then run whole, with each variant
 *                        of the data file)
 *   --payload            damage only the first XNNPACK delegate payload
 *                        ("XH00" header) inside each program, so every
 *                        variant reaches the XnnpackBackend's verifier
 * The last line is "<passed> passed, <failed> failed"; the exit status is 0
 * only when nothing failed.
 */
#include "fault_backend.h"
#include <edgetorch/edgetorch.h>
#include <edgetorch/flat_tensor.h>
#include <edgetorch/xnnpack_backend.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define MUTATE_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(MUTATE_SANITIZED)
#define MUTATE_SANITIZED 1
#endif

#ifdef MUTATE_SANITIZED
/* From the sanitizer runtime (sanitizer/common_interface_defs.h). */
void __sanitizer_set_death_callback(void (*callback)(void));
#endif

/* ------------------------------------------------------------------ */
/* Which variant is running, for the crash and hang reports.           */

static const char *g_file = "";
static long g_variant = -1;
static unsigned long long g_seed = 1;
static const char *g_argv0 = "mutate";

static void put(const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static void put_num(unsigned long long v) {
  char buf[24];
  int i = (int)sizeof buf - 1;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v && i > 0);
  put(buf + i);
}

/* Async-signal-safe: only write(2). */
static void report_current(const char *what) {
  put("\nmutate: ");
  put(what);
  if (g_variant < 0) {
    put(" on the original file ");
    put(g_file);
    put("\n");
    return;
  }
  put(" on variant ");
  put_num((unsigned long long)g_variant);
  put(" of ");
  put(g_file);
  put("\nmutate: reproduce with: ");
  put(g_argv0);
  put(" --seed ");
  put_num(g_seed);
  put(" --only ");
  put_num((unsigned long long)g_variant);
  put(" --write variant.pte ");
  put(g_file);
  put("\n");
}

static void on_alarm(int sig) {
  (void)sig;
  report_current("HANG (per-variant timeout)");
  _exit(3);
}

#ifdef MUTATE_SANITIZED
static void on_sanitizer_death(void) { report_current("SANITIZER REPORT"); }
#else
static void on_crash(int sig) {
  report_current(sig == SIGSEGV   ? "CRASH (SIGSEGV)"
                 : sig == SIGBUS  ? "CRASH (SIGBUS)"
                 : sig == SIGFPE  ? "CRASH (SIGFPE)"
                 : sig == SIGILL  ? "CRASH (SIGILL)"
                                  : "CRASH (SIGABRT)");
  signal(sig, SIG_DFL);
  raise(sig);
}
#endif

static void install_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
#ifdef MUTATE_SANITIZED
  __sanitizer_set_death_callback(on_sanitizer_death);
#else
  int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    sa.sa_handler = on_crash;
    sigaction(sigs[i], &sa, NULL);
  }
#endif
}

/* ------------------------------------------------------------------ */
/* Random numbers: splitmix64, one stream per (seed, file, variant).   */

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t rng_next(rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static uint64_t rng_below(rng *r, uint64_t n) { return rng_next(r) % n; }

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

/* ------------------------------------------------------------------ */
/* Mutations.                                                           */

static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) {
  return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

enum {
  M_BITFLIP,
  M_BYTE,
  M_TRUNCATE,
  M_FIELD16,
  M_FIELD32,
  M_FIELD64,
  M_HEADER,
  M_KINDS
};
static const char *const mutation_names[M_KINDS] = {
    "bit flip", "byte", "truncate", "field16", "field32", "field64", "header"};

/* A position, biased towards the flatbuffer (where the structure is)
 * rather than constant data. */
static size_t pick_pos(rng *r, size_t size, size_t structure_end,
                       size_t align) {
  size_t limit = size;
  if (structure_end > 0 && structure_end < size && rng_below(r, 4) != 0)
    limit = structure_end;
  if (limit < align) return 0;
  size_t pos = (size_t)rng_below(r, limit - align + 1);
  return pos - pos % align;
}

/* Apply one mutation to buf[0..*size). Returns the kind applied. */
static int mutate_once(rng *r, uint8_t *buf, size_t *size,
                       size_t structure_end) {
  static const uint8_t bytes[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, 0x10};
  size_t n = *size;
  if (n == 0) return M_TRUNCATE;
  int kind = (int)rng_below(r, M_KINDS);
  switch (kind) {
  case M_BITFLIP: {
    size_t pos = pick_pos(r, n, structure_end, 1);
    buf[pos] ^= (uint8_t)(1u << rng_below(r, 8));
    break;
  }
  case M_BYTE: {
    size_t pos = pick_pos(r, n, structure_end, 1);
    buf[pos] = bytes[rng_below(r, sizeof bytes)];
    break;
  }
  case M_TRUNCATE: {
    /* Anywhere, but often near the end or inside the headers. */
    uint64_t how = rng_below(r, 4);
    size_t cut;
    if (how == 0)
      cut = (size_t)rng_below(r, n < 64 ? n : 64);
    else if (how == 1)
      cut = n - 1 - (size_t)rng_below(r, n < 16 ? n : 16);
    else
      cut = (size_t)rng_below(r, n);
    *size = cut;
    break;
  }
  case M_FIELD16: {
    if (n < 2) return kind;
    size_t pos = pick_pos(r, n, structure_end, 2);
    uint16_t old = (uint16_t)(buf[pos] | buf[pos + 1] << 8);
    const uint16_t vals[] = {0,      1,          0xffff,           0x7fff,
                             0x8000, (uint16_t)(old + 1), (uint16_t)(old - 1),
                             (uint16_t)(old + 2), (uint16_t)(old + 4), 4};
    wr16(buf + pos, vals[rng_below(r, sizeof vals / sizeof vals[0])]);
    break;
  }
  case M_FIELD32: {
    if (n < 4) return kind;
    size_t pos = pick_pos(r, n, structure_end, 4);
    uint32_t old = rd32(buf + pos);
    const uint32_t vals[] = {0,
                             1,
                             0xffffffffu,
                             0x7fffffffu,
                             0x80000000u,
                             (uint32_t)n,
                             (uint32_t)n + 1,
                             (uint32_t)n - 1,
                             old + 1,
                             old - 1,
                             old + 4,
                             old - 4,
                             old * 2,
                             0x10000,
                             16,
                             17,
                             0x40000000u};
    wr32(buf + pos, vals[rng_below(r, sizeof vals / sizeof vals[0])]);
    break;
  }
  case M_FIELD64: {
    if (n < 8) return kind;
    size_t pos = pick_pos(r, n, structure_end, 8);
    uint64_t old = rd64(buf + pos);
    const uint64_t vals[] = {0,
                             1,
                             UINT64_MAX,
                             (uint64_t)INT64_MAX,
                             (uint64_t)1 << 63,
                             (uint64_t)1 << 32,
                             (uint64_t)n,
                             (uint64_t)n + 1,
                             (uint64_t)n - 1,
                             old + 1,
                             old - 1,
                             UINT64_MAX - 15};
    wr64(buf + pos, vals[rng_below(r, sizeof vals / sizeof vals[0])]);
    break;
  }
  case M_HEADER: {
    /* The first 64 bytes: root offset, identifier, extended header. */
    if (n < 8) return kind;
    size_t lim = n < 64 ? n : 64;
    size_t pos = (size_t)rng_below(r, lim / 4) * 4;
    if (pos + 4 > n) return kind;
    const uint32_t vals[] = {0, 1, 0xffffffffu, (uint32_t)n, (uint32_t)n + 1,
                             (uint32_t)n - 1, 0x80000000u, 24, 23, 32};
    if (pos >= 16 && pos + 8 <= n && rng_below(r, 2)) {
      const uint64_t v64[] = {0, UINT64_MAX, UINT64_MAX - 7, (uint64_t)n,
                              (uint64_t)n + 1, (uint64_t)1 << 63};
      wr64(buf + pos - pos % 8, v64[rng_below(r, sizeof v64 / sizeof v64[0])]);
    } else {
      wr32(buf + pos, vals[rng_below(r, sizeof vals / sizeof vals[0])]);
    }
    break;
  }
  default:
    break;
  }
  return kind;
}

/* ------------------------------------------------------------------ */
/* Outcome counters.                                                    */

#define N_STATUS 0x40

typedef struct counts {
  unsigned long variants;
  unsigned long load_failed[N_STATUS];
  unsigned long loaded;
  unsigned long meta_failed[N_STATUS];
  unsigned long init_failed[N_STATUS];
  unsigned long skipped_memory;
  unsigned long input_failed[N_STATUS];
  unsigned long exec_failed[N_STATUS];
  unsigned long exec_ok;
  unsigned long exec2_failed[N_STATUS]; /* second run, inputs shrunk */
  unsigned long exec2_ok;
  unsigned long failures; /* invariant violations */
  unsigned long mutations[M_KINDS];
} counts;

static int verbose = 0;
static int trace = 0;
static int any_outcome = 0;
static const et_data_map *g_data_map = NULL; /* for run_method */
static size_t max_mem = (size_t)64 << 20;
static unsigned long long max_instructions; /* 0: the runtime's default */

static void add_status(unsigned long *arr, et_status st) {
  unsigned idx = (unsigned)st < N_STATUS ? (unsigned)st : N_STATUS - 1;
  arr[idx]++;
}

static void print_by_status(const char *label, const unsigned long *arr) {
  unsigned long total = 0;
  for (unsigned i = 0; i < N_STATUS; i++) total += arr[i];
  if (!total) return;
  printf("  %-18s %lu:", label, total);
  for (unsigned i = 0; i < N_STATUS; i++)
    if (arr[i]) printf(" %s %lu", et_status_name((et_status)i), arr[i]);
  printf("\n");
}

/* An invariant was violated: say which, where, and count it. */
static void violation(counts *c, const char *what, const char *detail) {
  c->failures++;
  printf("FAIL %s variant %ld: %s%s%s\n", g_file, g_variant, what,
         detail ? ": " : "", detail ? detail : "");
}

/* A failing call must leave a known status and a message. */
static void check_failure(counts *c, const char *stage, et_status st,
                          const char *message) {
  if (strcmp(et_status_name(st), "Unknown") == 0) {
    char buf[64];
    snprintf(buf, sizeof buf, "status 0x%x has no name", (unsigned)st);
    violation(c, stage, buf);
  }
  if (!message || !message[0]) violation(c, stage, "failure without a message");
  if (verbose)
    printf("  variant %ld: %s failed: %s: %s\n", g_variant, stage,
           et_status_name(st), message ? message : "");
}

/* ------------------------------------------------------------------ */
/* Running one program.                                                  */

static void *alloc_exact(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 16, n ? n : 1) != 0) return NULL;
  return p;
}

static void fill_input(void *data, size_t nbytes, int dtype) {
  size_t es = et_dtype_size(dtype);
  if (es == 0) {
    memset(data, 0, nbytes);
    return;
  }
  size_t n = nbytes / es;
  uint8_t *b = data;
  for (size_t i = 0; i < n; i++) {
    int k = (int)(i % 7) - 3;
    switch (dtype) {
    case ET_FLOAT: {
      float f = (float)k * 0.25f;
      memcpy(b + i * 4, &f, 4);
      break;
    }
    case ET_DOUBLE: {
      double d = (double)k * 0.25;
      memcpy(b + i * 8, &d, 8);
      break;
    }
    case ET_BOOL:
      b[i] = (uint8_t)(i & 1);
      break;
    case ET_HALF:
      wr16(b + i * 2, (uint16_t)(k < 0 ? 0xb800 : k > 0 ? 0x3800 : 0));
      break;
    case ET_BFLOAT16:
      wr16(b + i * 2, (uint16_t)(k < 0 ? 0xbf00 : k > 0 ? 0x3f00 : 0));
      break;
    default: {
      /* Integers: small non-negative values, little-endian. */
      uint64_t v = (uint64_t)(i % 5);
      for (size_t j = 0; j < es; j++) b[i * es + j] = j < 8 ? (uint8_t)(v >> (8 * j)) : 0;
      break;
    }
    }
  }
}

static void check_tensor_info(counts *c, const char *what,
                              const et_tensor_info *t) {
  char buf[128];
  if (t->rank > ET_MAX_RANK) {
    snprintf(buf, sizeof buf, "%s has rank %u", what, t->rank);
    violation(c, "metadata", buf);
    return;
  }
  size_t numel = 1;
  for (uint32_t d = 0; d < t->rank; d++) {
    if (t->sizes[d] < 0) {
      snprintf(buf, sizeof buf, "%s has size %d", what, (int)t->sizes[d]);
      violation(c, "metadata", buf);
      return;
    }
    if (t->sizes[d] != 0 && numel > SIZE_MAX / (size_t)t->sizes[d]) {
      snprintf(buf, sizeof buf, "%s element count overflows", what);
      violation(c, "metadata", buf);
      return;
    }
    numel *= (size_t)t->sizes[d];
  }
  size_t es = et_dtype_size(t->dtype);
  if (es == 0 || numel > SIZE_MAX / es || numel * es != t->nbytes) {
    snprintf(buf, sizeof buf, "%s: nbytes %zu, dtype %d, numel %zu", what,
             t->nbytes, (int)t->dtype, numel);
    violation(c, "metadata", buf);
  }
}

/* Sum n bytes (so a bad pointer is a sanitizer report). */
static unsigned touch_bytes(const void *data, size_t n) {
  const volatile uint8_t *p = data;
  unsigned sum = 0;
  for (size_t i = 0; i < n; i++) sum += p[i];
  return sum;
}

/* Sum every byte of a value's data (so a bad pointer is a sanitizer report). */
static unsigned touch_value(counts *c, const et_value *v) {
  unsigned sum = 0;
  if (!v) return 0;
  if (v->tag == ET_TAG_TENSOR && v->u.t) {
    const et_tensor *t = v->u.t;
    if (t->rank > ET_MAX_RANK) {
      violation(c, "output", "tensor rank above 16");
      return 0;
    }
    size_t nb = et_tensor_nbytes(t);
    if (nb > 0 && !t->data) {
      violation(c, "output", "tensor with bytes but no data");
      return 0;
    }
    sum += touch_bytes(t->data, nb);
    for (uint32_t d = 0; d < t->rank; d++) sum += (unsigned)t->sizes[d];
  }
  return sum;
}

typedef struct method_memory {
  void *arena;
  void **planned;
  size_t *planned_sizes;
  size_t n_planned;
  void *scratch;
  void **inputs;
  size_t n_inputs;
} method_memory;

static void free_memory(method_memory *mm) {
  free(mm->arena);
  for (size_t i = 0; i < mm->n_planned; i++)
    if (mm->planned) free(mm->planned[i]);
  free(mm->planned);
  free(mm->planned_sizes);
  free(mm->scratch);
  for (size_t i = 0; i < mm->n_inputs; i++)
    if (mm->inputs) free(mm->inputs[i]);
  free(mm->inputs);
  memset(mm, 0, sizeof *mm);
}

#define SCRATCH_BYTES ((size_t)1 << 20)

typedef enum run_result { RUN_OK, RUN_FAILED, RUN_SKIPPED } run_result;

/* Set every input from the metadata: tensors get made-up data of their
 * (upper-bound) sizes, or with `shrink`, dynamic tensors get their first
 * dimension halved; scalars get their traced values. Buffers are allocated
 * on the first call and reused. */
static run_result set_inputs(counts *c, const et_program *p, et_method *m,
                             const et_method_meta *meta, method_memory *mm,
                             bool shrink) {
  size_t input_bytes = 0;
  for (size_t i = 0; i < mm->n_inputs; i++) {
    et_io_info io;
    et_status st = et_method_meta_input(meta, i, &io);
    if (st != ET_OK) {
      add_status(c->input_failed, st);
      check_failure(c, "input metadata", st, et_program_message(p));
      return RUN_FAILED;
    }
    if (io.tag == ET_TAG_TENSOR) {
      check_tensor_info(c, "input", &io.tensor);
      if (io.tensor.rank > ET_MAX_RANK) return RUN_FAILED;
      size_t nb = io.tensor.nbytes;
      if (nb > max_mem || input_bytes + nb > max_mem) {
        c->skipped_memory++;
        return RUN_SKIPPED;
      }
      input_bytes += nb;
      if (!mm->inputs[i]) {
        mm->inputs[i] = alloc_exact(nb);
        if (!mm->inputs[i]) {
          c->skipped_memory++;
          return RUN_SKIPPED;
        }
        fill_input(mm->inputs[i], nb, io.tensor.dtype);
      }
      int64_t sizes[ET_MAX_RANK];
      size_t numel = 1;
      for (uint32_t d = 0; d < io.tensor.rank; d++) {
        sizes[d] = io.tensor.sizes[d];
        if (shrink && d == 0 && io.tensor.dynamism != ET_STATIC && sizes[d] > 1)
          sizes[d] /= 2;
        numel *= (size_t)sizes[d];
      }
      size_t used = numel * et_dtype_size(io.tensor.dtype);
      st = et_method_set_input_tensor(m, i, io.tensor.dtype, io.tensor.rank,
                                      sizes, mm->inputs[i], used);
    } else if (io.tag == ET_TAG_INT || io.tag == ET_TAG_DOUBLE ||
               io.tag == ET_TAG_BOOL) {
      et_value v;
      memset(&v, 0, sizeof v);
      v.tag = io.tag;
      if (io.tag == ET_TAG_INT) v.u.i = io.scalar.i;
      if (io.tag == ET_TAG_DOUBLE) v.u.d = io.scalar.d;
      if (io.tag == ET_TAG_BOOL) v.u.b = io.scalar.b;
      st = et_method_set_input_value(m, i, &v);
    } else {
      continue; /* left unset: execute must say so */
    }
    if (st != ET_OK) {
      add_status(c->input_failed, st);
      check_failure(c, shrink ? "set shrunk input" : "set input", st,
                    et_method_message(m));
      return RUN_FAILED;
    }
  }
  return RUN_OK;
}

static run_result run_method(counts *c, const et_program *p, const char *name,
                             const et_registry *reg) {
  et_method_meta meta;
  memset(&meta, 0, sizeof meta);
  et_status st = et_program_method_meta(p, name, reg, &meta, NULL);
  if (st != ET_OK) {
    add_status(c->meta_failed, st);
    check_failure(c, "method meta", st, et_program_message(p));
    return RUN_FAILED;
  }
  /* Exercise the rest of the metadata API. */
  for (size_t i = 0; i < meta.n_operators && i < 4096; i++) {
    char buf[128];
    (void)et_method_meta_operator(&meta, i, buf, sizeof buf);
  }
  for (size_t i = 0; i < meta.n_delegates && i < 4096; i++)
    (void)et_method_meta_delegate(&meta, i);
  for (size_t i = 0; i < meta.n_outputs && i < 4096; i++) {
    et_io_info io;
    if (et_method_meta_output(&meta, i, &io) == ET_OK && io.tag == ET_TAG_TENSOR)
      check_tensor_info(c, "output", &io.tensor);
  }

  /* Memory: exactly what the metadata says, within the cap. */
  size_t total = meta.arena_bytes;
  for (size_t i = 0; i < meta.n_planned; i++) {
    size_t s = et_method_meta_planned_size(&meta, i);
    if (s > max_mem || total > max_mem - s) {
      c->skipped_memory++;
      return RUN_SKIPPED;
    }
    total += s;
  }
  if (total > max_mem || meta.n_planned > 4096 || meta.n_inputs > 4096) {
    c->skipped_memory++;
    return RUN_SKIPPED;
  }
  method_memory mm;
  memset(&mm, 0, sizeof mm);
  mm.arena = alloc_exact(meta.arena_bytes);
  mm.n_planned = meta.n_planned;
  mm.planned = calloc(meta.n_planned ? meta.n_planned : 1, sizeof(void *));
  mm.planned_sizes = calloc(meta.n_planned ? meta.n_planned : 1, sizeof(size_t));
  mm.scratch = alloc_exact(SCRATCH_BYTES);
  if (!mm.arena || !mm.planned || !mm.planned_sizes || !mm.scratch) {
    free_memory(&mm);
    c->skipped_memory++;
    return RUN_SKIPPED;
  }
  for (size_t i = 0; i < meta.n_planned; i++) {
    mm.planned_sizes[i] = et_method_meta_planned_size(&meta, i);
    mm.planned[i] = alloc_exact(mm.planned_sizes[i]);
    if (!mm.planned[i]) {
      free_memory(&mm);
      c->skipped_memory++;
      return RUN_SKIPPED;
    }
    memset(mm.planned[i], 0, mm.planned_sizes[i]);
  }
  et_method_memory mem;
  memset(&mem, 0, sizeof mem);
  mem.arena = mm.arena;
  mem.arena_size = meta.arena_bytes;
  mem.planned = mm.planned;
  mem.planned_sizes = mm.planned_sizes;
  mem.n_planned = mm.n_planned;
  mem.scratch = mm.scratch;
  mem.scratch_size = SCRATCH_BYTES;
  mem.external = g_data_map;

  et_method *m = NULL;
  et_diag diag;
  et_diag_clear(&diag);
  st = et_method_init(p, name, reg, &mem, &m, &diag);
  if (st != ET_OK) {
    add_status(c->init_failed, st);
    check_failure(c, "method init", st, diag.message);
    free_memory(&mm);
    return RUN_FAILED;
  }

  if (max_instructions) et_method_set_instruction_limit(m, max_instructions);
  /* Inputs from the metadata (allocated once, set before each run). */
  size_t n_in = et_method_input_count(m);
  mm.n_inputs = n_in;
  mm.inputs = calloc(n_in ? n_in : 1, sizeof(void *));
  run_result result = mm.inputs ? set_inputs(c, p, m, &meta, &mm, false) : RUN_SKIPPED;

  if (result == RUN_OK) {
    st = et_method_execute(m);
    if (st != ET_OK) {
      add_status(c->exec_failed, st);
      check_failure(c, "execute", st, et_method_message(m));
      result = RUN_FAILED;
    } else {
      c->exec_ok++;
      unsigned sum = 0;
      size_t n_out = et_method_output_count(m);
      for (size_t i = 0; i < n_out && i < 4096; i++)
        sum += touch_value(c, et_method_output(m, i));
      if (verbose) printf("  variant %ld: %s executed (checksum %u)\n", g_variant, name, sum);
      /* Once more, with the first dimension of every dynamic input halved
       * (the usual batch dimension): re-execution and resizing of a damaged
       * program. Failures here are counted, not required to be absent. */
      if (set_inputs(c, p, m, &meta, &mm, true) == RUN_OK) {
        st = et_method_execute(m);
        if (st != ET_OK) {
          add_status(c->exec2_failed, st);
          check_failure(c, "second execute", st, et_method_message(m));
        } else {
          c->exec2_ok++;
          for (size_t i = 0; i < et_method_output_count(m) && i < 4096; i++)
            (void)touch_value(c, et_method_output(m, i));
        }
      }
    }
  }
  et_method_destroy(m);
  free_memory(&mm);
  return result;
}

/* Load and run every method, with `ptd` (if not NULL) as the external
 * data. Returns true if everything executed. */
static bool run_program(counts *c, const uint8_t *data, size_t size,
                        const uint8_t *ptd_data, size_t ptd_size,
                        const et_registry *reg) {
  et_ptd ptd;
  g_data_map = NULL;
  if (ptd_data) {
    et_status st = et_ptd_load(&ptd, ptd_data, ptd_size);
    if (st != ET_OK) {
      add_status(c->load_failed, st);
      check_failure(c, "data load", st, et_ptd_message(&ptd));
      return false;
    }
    for (size_t i = 0; i < et_ptd_key_count(&ptd) && i < 4096; i++) {
      et_named_data nd;
      const char *key = et_ptd_key(&ptd, i);
      if (!key || ptd.map.get(&ptd.map, key, &nd) != ET_OK)
        violation(c, "data load", "a verified .ptd key does not look up");
      else
        (void)touch_bytes(nd.data, nd.nbytes);
    }
    g_data_map = &ptd.map;
  }
  et_program prog;
  memset(&prog, 0, sizeof prog);
  et_status st = et_program_load(&prog, data, size, ET_LOAD_DEFAULT);
  if (st != ET_OK) {
    add_status(c->load_failed, st);
    check_failure(c, "load", st, et_program_message(&prog));
    return false;
  }
  c->loaded++;
  bool all_ok = true;
  size_t n = et_program_method_count(&prog);
  if (n > 64) n = 64;
  (void)et_program_constant_bytes(&prog);
  for (size_t i = 0; i < n; i++) {
    const char *name = et_program_method_name(&prog, i);
    if (!name) {
      violation(c, "load", "a loaded program has a method without a name");
      all_ok = false;
      continue;
    }
    if (run_method(c, &prog, name, reg) != RUN_OK) all_ok = false;
  }
  return all_ok;
}

/* ------------------------------------------------------------------ */

static uint8_t *read_file(const char *path, size_t *out_size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  *out_size = n;
  return buf;
}

/* The part of a path that keys a file's random stream: its last two
 * components ("mlp/model.pte"), so that files of the same name in different
 * directories get different variants while reproduction works from any
 * working directory. */
static const char *key_name(const char *path) {
  const char *end = path + strlen(path);
  int slashes = 0;
  for (const char *p = end; p > path; p--) {
    if (p[-1] == '/' && ++slashes == 2) return p;
  }
  return path;
}

/* End of the flatbuffer part (where structure lives), from the extended
 * header if there is one. */
static size_t structure_end(const uint8_t *d, size_t n) {
  if (n >= 24 && memcmp(d + 8, "eh00", 4) == 0) {
    uint64_t ps = rd64(d + 16);
    if (ps <= n) return (size_t)ps;
  }
  return n;
}

/* End of a .ptd's flatbuffer part (header field flatbuffer offset + size). */
static size_t ptd_structure_end(const uint8_t *d, size_t n) {
  if (n >= 48 && memcmp(d + 8, "FH01", 4) == 0) {
    uint64_t off = rd64(d + 16), fs = rd64(d + 24);
    if (off <= n && fs <= n - off) return (size_t)(off + fs);
  }
  return n;
}

static void usage(void) {
  fprintf(stderr,
          "usage: mutate [-n COUNT] [-s SEED] [--only I [--write PATH]] "
          "[--timeout SEC] [--max-mem BYTES] [--max-instructions N] [-v] [--trace] [--any-outcome] "
          "[--data FILE.ptd [--mutate-data]] [--payload] FILE.pte...\n");
}

int main(int argc, char **argv) {
  unsigned long count = 1000;
  long only = -1;
  const char *write_path = NULL;
  unsigned timeout = 60;
  int first_file = argc;
  const char *data_path = NULL;
  int mutate_data = 0, payload = 0;
  g_argv0 = argv[0];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if ((!strcmp(a, "-n") || !strcmp(a, "--count")) && i + 1 < argc) {
      count = strtoul(argv[++i], NULL, 0);
    } else if ((!strcmp(a, "-s") || !strcmp(a, "--seed")) && i + 1 < argc) {
      g_seed = strtoull(argv[++i], NULL, 0);
    } else if (!strcmp(a, "--only") && i + 1 < argc) {
      only = strtol(argv[++i], NULL, 0);
    } else if (!strcmp(a, "--write") && i + 1 < argc) {
      write_path = argv[++i];
    } else if (!strcmp(a, "--timeout") && i + 1 < argc) {
      timeout = (unsigned)strtoul(argv[++i], NULL, 0);
    } else if (!strcmp(a, "--max-instructions") && i + 1 < argc) {
      max_instructions = strtoull(argv[++i], NULL, 0);
    } else if (!strcmp(a, "--max-mem") && i + 1 < argc) {
      max_mem = (size_t)strtoull(argv[++i], NULL, 0);
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      verbose = 1;
    } else if (!strcmp(a, "--trace")) {
      trace = 1;
    } else if (!strcmp(a, "--any-outcome")) {
      any_outcome = 1;
    } else if (!strcmp(a, "--data") && i + 1 < argc) {
      data_path = argv[++i];
    } else if (!strcmp(a, "--mutate-data")) {
      mutate_data = 1;
    } else if (!strcmp(a, "--payload")) {
      payload = 1;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage();
      return 0;
    } else if (a[0] == '-' && a[1] != 0) {
      fprintf(stderr, "mutate: unknown option %s\n", a);
      usage();
      return 2;
    } else {
      first_file = i;
      break;
    }
  }
  if (first_file >= argc || (mutate_data && !data_path)) {
    usage();
    return 2;
  }
  /* The data file, in a block of exactly its size. */
  size_t data_size = 0;
  uint8_t *data = NULL;
  if (data_path) {
    uint8_t *d = read_file(data_path, &data_size);
    data = d ? alloc_exact(data_size) : NULL;
    if (!data) {
      fprintf(stderr, "mutate: cannot read %s\n", data_path);
      free(d);
      return 2;
    }
    memcpy(data, d, data_size);
    free(d);
  }
  install_handlers();

  /* The hosted module's tables: quantized, then portable. */
  const et_kernel_table *tables[] = {&et_quantized_kernels, &et_portable_kernels};
  /* Delegated programs reach the backend lifecycle: the fault injector
   * fails every 3rd init and every 5th execute, and aborts on a destroy or
   * execute of a handle that is not live. The CPU backend as the hosted
   * module has it. */
  const et_backend *backends[] = {&et_fault_backend, &et_xnnpack_backend};
  et_fault_reset(-1, 3, 5, true);
  et_registry reg;
  memset(&reg, 0, sizeof reg);
  reg.kernel_tables = tables;
  reg.n_kernel_tables = 2;
  reg.backends = backends;
  reg.n_backends = 2;

  unsigned long passed = 0, failed = 0;
  for (int fi = first_file; fi < argc; fi++) {
    g_file = argv[fi];
    g_variant = -1;
    size_t size = 0;
    uint8_t *orig = read_file(g_file, &size);
    if (!orig) {
      printf("FAIL %s: cannot read the file\n", g_file);
      failed++;
      continue;
    }
    counts c;
    memset(&c, 0, sizeof c);

    /* The original must run: otherwise the variants prove little. */
    {
      uint8_t *copy = alloc_exact(size);
      if (!copy) {
        free(orig);
        printf("FAIL %s: out of memory\n", g_file);
        failed++;
        continue;
      }
      memcpy(copy, orig, size);
      if (trace) fprintf(stderr, "mutate: original %s\n", g_file);
      alarm(timeout);
      bool ok = run_program(&c, copy, size, data, data_size, &reg);
      alarm(0);
      free(copy);
      printf("mutate: %s (%zu bytes): original %s\n", g_file, size,
             ok ? "executed ok" : "did NOT execute");
      if ((!ok && !any_outcome) || c.failures) failed++;
      else passed++;
      memset(&c, 0, sizeof c);
    }

    /* The file whose variants are made: the program, or the data. */
    const uint8_t *base = mutate_data ? data : orig;
    size_t base_size = mutate_data ? data_size : size;
    size_t send = mutate_data ? ptd_structure_end(data, data_size)
                              : structure_end(orig, size);
    /* The first XNNPACK payload: 4 bytes before "XH00", as long as its
     * header says (constant data offset + size). */
    size_t pl_start = 0, pl_size = 0, pl_struct = 0;
    if (payload && !mutate_data) {
      for (size_t i = 4; i + 26 <= size; i++)
        if (!memcmp(orig + i, "XH00", 4)) {
          uint32_t fo = rd32(orig + i + 6), fs = rd32(orig + i + 10);
          uint32_t co = rd32(orig + i + 14);
          uint64_t cs = rd64(orig + i + 18);
          if (co <= size && cs <= size - co && co + cs <= size - (i - 4)) {
            pl_start = i - 4;
            pl_size = (size_t)(co + cs);
            pl_struct = (size_t)fo + fs;
          }
          break;
        }
      if (!pl_size) {
        printf("FAIL %s: no XNNPACK payload (XH00) in the file\n", g_file);
        failed++;
        free(orig);
        continue;
      }
    }
    uint64_t file_key = hash_str(key_name(g_file)) ^
                        (mutate_data ? hash_str(key_name(data_path)) : 0);
    unsigned long first = only >= 0 ? (unsigned long)only : 0;
    unsigned long last = only >= 0 ? (unsigned long)only + 1 : count;
    for (unsigned long v = first; v < last; v++) {
      rng r = {g_seed * 0x2545f4914f6cdd1dull ^ file_key ^ (v * 0x9e3779b97f4a7c15ull)};
      (void)rng_next(&r);
      size_t n = base_size;
      uint8_t *work = malloc(base_size ? base_size : 1);
      if (!work) break;
      memcpy(work, base, base_size);
      int n_mut = rng_below(&r, 10) < 7 ? 1 : 2 + (int)rng_below(&r, 3);
      if (payload && pl_size) {
        /* Damage inside the payload; a truncation zeroes its tail (the
         * program still says how long the payload is). */
        size_t pn = pl_size;
        for (int k = 0; k < n_mut; k++)
          c.mutations[mutate_once(&r, work + pl_start, &pn, pl_struct)]++;
        if (pn < pl_size) memset(work + pl_start + pn, 0, pl_size - pn);
      } else {
        for (int k = 0; k < n_mut; k++) c.mutations[mutate_once(&r, work, &n, send)]++;
      }
      /* Exactly n bytes, so any overread is a sanitizer report. */
      uint8_t *variant = alloc_exact(n);
      if (!variant) {
        free(work);
        break;
      }
      memcpy(variant, work, n);
      free(work);
      if (write_path) {
        FILE *f = fopen(write_path, "wb");
        if (!f || fwrite(variant, 1, n, f) != n) fprintf(stderr, "mutate: cannot write %s\n", write_path);
        if (f) fclose(f);
      }
      g_variant = (long)v;
      c.variants++;
      if (trace) fprintf(stderr, "mutate: variant %lu of %s\n", v, g_file);
      unsigned long before = c.failures;
      alarm(timeout);
      if (mutate_data)
        (void)run_program(&c, orig, size, variant, n, &reg);
      else
        (void)run_program(&c, variant, n, data, data_size, &reg);
      alarm(0);
      g_variant = -1;
      free(variant);
      if (c.failures != before) failed++;
      else passed++;
    }
    free(orig);
    if (c.variants == 0) continue;

    printf("  variants %lu (mutations:", c.variants);
    for (int k = 0; k < M_KINDS; k++) printf(" %s %lu", mutation_names[k], c.mutations[k]);
    printf(")\n");
    print_by_status("load failed", c.load_failed);
    printf("  %-18s %lu\n", "loaded", c.loaded);
    print_by_status("meta failed", c.meta_failed);
    if (c.skipped_memory) printf("  %-18s %lu\n", "skipped (memory)", c.skipped_memory);
    print_by_status("init failed", c.init_failed);
    print_by_status("set input failed", c.input_failed);
    print_by_status("execute failed", c.exec_failed);
    printf("  %-18s %lu\n", "executed ok", c.exec_ok);
    print_by_status("2nd run failed", c.exec2_failed);
    printf("  %-18s %lu\n", "2nd run ok", c.exec2_ok);
    if (c.failures) printf("  %-18s %lu\n", "INVARIANT FAILURES", c.failures);
    fflush(stdout);
  }
  free(data);
  printf("%lu passed, %lu failed\n", passed, failed);
  return failed ? 1 : 0;
}
