/*
 * et_method: one method of a loaded program, ready to execute.
 *
 * Memory: the caller provides every byte. The method arena (size:
 * et_method_meta.arena_bytes, exactly) holds the method's runtime structures,
 * the et_method itself included. Planned buffers (one per
 * et_method_meta_planned_size) hold tensors at the offsets the exporter
 * planned. Optional scratch memory is lent to kernels for one call at a time.
 * Tensors stored outside the program come from an optional data map.
 * All of these must be 16-byte aligned and outlive the method.
 *
 * Lifecycle: et_method_init -> (set inputs -> execute -> read outputs)* ->
 * et_method_destroy (calls backend destroy hooks; frees nothing else).
 *
 * Thread-safety: a method belongs to one thread at a time: it is never
 * executed by two callers at once (hosts guard this; et_module's users and
 * the Python binding do). Different methods may run at once. Inside one
 * execute, kernels and backends may use the method's parallel-for hook
 * (et_method_set_parallel); without one everything runs on the caller.
 */
#ifndef EDGETORCH_METHOD_H
#define EDGETORCH_METHOD_H

#include <edgetorch/data_map.h>
#include <edgetorch/parallel.h>
#include <edgetorch/program.h>
#include <edgetorch/tracer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_method_memory {
  void *arena;
  size_t arena_size;
  void *const *planned;        /* [n_planned] */
  const size_t *planned_sizes; /* [n_planned] */
  size_t n_planned;
  void *scratch;               /* optional */
  size_t scratch_size;
  /* Optional: data of tensors stored outside the program (a .ptd file);
   * it must outlive the method. See data_map.h. */
  const et_data_map *external;
} et_method_memory;

typedef struct et_method et_method;

/*
 * Initialize method `name` of `p`. On success *out points into the arena.
 * Failures: NotFound (no such method, or an external tensor missing from
 * memory->external), InvalidExternalData (an external tensor's bytes or
 * layout differ from the program's), MemoryAllocationFailed (arena or a
 * planned buffer too small; the message says how many bytes were needed),
 * OperatorMissing (the message lists every missing operator), InvalidProgram
 * (a kernel signature does not match the values the program gives it),
 * backend errors. `diag` (optional) receives the message.
 */
et_status et_method_init(const et_program *p, const char *name,
                         const et_registry *registry,
                         const et_method_memory *memory, et_method **out,
                         et_diag *diag);

void et_method_destroy(et_method *m);

const et_method_meta *et_method_get_meta(const et_method *m);
/* The message of the last failure on `m` ("" if none). */
const char *et_method_message(const et_method *m);
et_status et_method_status(const et_method *m);

/*
 * Set input i from a tensor: dtype must match; rank must match; each size
 * must equal the planned size (STATIC) or fit within its bound (DYNAMIC).
 * A planned input is copied into its planned buffer; an unplanned one points
 * at `data` (which must stay alive and be aligned for the dtype).
 */
et_status et_method_set_input_tensor(et_method *m, size_t i, int dtype,
                                     uint32_t rank, const int64_t *sizes,
                                     const void *data, size_t nbytes);
/* Set a scalar input (Int, Double or Bool; must equal the traced value, as
 * upstream requires). */
et_status et_method_set_input_value(et_method *m, size_t i,
                                    const et_value *v);

/*
 * Run every chain once. Every input must have been set. The memory of a
 * planned input may be reused by the plan once the input is dead, so planned
 * inputs must be set again before the next run; unplanned inputs (which
 * point at caller memory) stay set.
 */
et_status et_method_execute(et_method *m);

/* Attach (or with NULL, detach) a tracer (tracer.h) to an initialized
 * method; its delegates see it in et_backend_ctx.tracer. */
void et_method_set_tracer(et_method *m, et_tracer *tracer);
/* Attach (or with NULL, detach: serial) a parallel-for hook (parallel.h)
 * to an initialized method: its kernels (et_kernel_ctx.parallel) and
 * delegates (et_backend_ctx.parallel) may split work with it. Change it
 * only between executions. */
void et_method_set_parallel(et_method *m, et_parallel *parallel);
/* What instruction `instr` of chain `chain` is (for tracers). */
et_status et_method_trace_info(const et_method *m, uint32_t chain,
                               uint32_t instr, et_trace_event *out);

size_t et_method_input_count(const et_method *m);
size_t et_method_output_count(const et_method *m);
/* Output i after execute (points into the method: valid until the next
 * execute). */
const et_value *et_method_output(const et_method *m, size_t i);
/* Input i's value (its tensor shows the current sizes). */
const et_value *et_method_input(const et_method *m, size_t i);

/* Operator names a method needs that `registry` lacks, for tools. Writes a
 * comma-separated list into buf; returns how many are missing. */
size_t et_method_missing_operators(const et_program *p, const char *name,
                                   const et_registry *registry, char *buf,
                                   size_t cap);

/* Counters kept by execute (for the runner and profilers). */
typedef struct et_method_stats {
  uint64_t executions;
  uint64_t instructions; /* executed in the last run */
} et_method_stats;
et_method_stats et_method_get_stats(const et_method *m);

/*
 * Guard against programs that loop: the most instructions one execute may
 * run before it fails with OutOfResources. The default is the method's own
 * instruction count times ET_INSTRUCTION_BUDGET: a program without backward
 * jumps never reaches it; a loop (upstream's map) may run that many rounds.
 */
#ifndef ET_INSTRUCTION_BUDGET
#define ET_INSTRUCTION_BUDGET 1024u
#endif
void et_method_set_instruction_limit(et_method *m, uint64_t limit);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_METHOD_H */
