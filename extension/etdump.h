/*
 * ETDump: records a method's events through the core's tracer hook
 * (tracer.h) and writes them in upstream's ETDump format (a size-prefixed
 * "ED00" flatbuffer, devtools/etdump/etdump_schema_flatcc.fbs), which
 * upstream's Inspector reads, plus the optional debug buffer that holds the
 * bytes of captured intermediate outputs.
 *
 * What is recorded, as upstream's runtime records it:
 *   block "Default":  "Program::load_method" and "Method::init" around init
 *   block "Execute" per run: "Method::execute"; per kernel instruction
 *     "OPERATOR_CALL" and "native_call_<name.overload>"; per delegate call
 *     "DELEGATE_CALL" plus the backend's own events: by id
 *     (delegate_debug_id_int, e.g. the CPU backend's node debug handles)
 *     with the backend's name for the node as delegate_debug_metadata and,
 *     numbered, as the event name ("Conv2d #2": nodes that share a handle
 *     stay apart), or by name alone (delegate_debug_id_str);
 *     with capture on, one debug event per output tensor of each kernel and
 *     per argument of each delegate call, one per node output a backend
 *     reports (tracer.h backend_output; with the node's
 *     delegate_debug_id_int, as upstream's delegate intermediate outputs,
 *     or its name as delegate_debug_id_str for a node without an id),
 *     and the program outputs.
 * Profile events carry chain_index and instruction_id = the instruction's
 * index in its chain (upstream's debug handle, what an ETRecord maps).
 *
 * Memory: heap (this is an extension). Time: et_pal_time_ns() unless the
 * host sets its own clock. Thread-safety: one recorder per thread.
 */
#ifndef EDGETORCH_ETDUMP_H
#define EDGETORCH_ETDUMP_H

#include <edgetorch/method.h>
#include <edgetorch/tracer.h>

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct et_etdump et_etdump;

et_etdump *et_etdump_create(void);
void et_etdump_free(et_etdump *d);

/* The clock (ticks; the Inspector's source_time_scale says what a tick is:
 * nanoseconds by default). */
void et_etdump_set_clock(et_etdump *d, uint64_t (*now)(void *user),
                         void *user);
/* Capture intermediate outputs (and program outputs) into the debug buffer. */
void et_etdump_set_capture(et_etdump *d, bool on);

/* The tracer to attach with et_method_set_tracer(). */
et_tracer *et_etdump_tracer(et_etdump *d);

/* et_method_init timed as a "Default" block, tracer attached on success. */
et_status et_etdump_method_init(et_etdump *d, const et_program *p,
                                const char *name, const et_registry *registry,
                                const et_method_memory *memory,
                                et_method **out, et_diag *diag);
/* For hosts that make the calls themselves: start a run block ("Default",
 * "Execute") and record a timed event in it. */
void et_etdump_begin_block(et_etdump *d, const char *name);
void et_etdump_record(et_etdump *d, const char *name, uint64_t start,
                      uint64_t end);
/* The clock the recorder uses. */
uint64_t et_etdump_now(et_etdump *d);

/* et_method_execute recorded as one "Execute" block (the tracer is
 * attached for the call only). */
et_status et_etdump_execute(et_etdump *d, et_method *m);

/* The ETDump bytes (malloc'd; the caller frees them). */
et_status et_etdump_serialize(const et_etdump *d, uint8_t **out,
                              size_t *out_size);
/* The debug buffer (owned by d; valid until the next recorded event). */
const uint8_t *et_etdump_debug_buffer(const et_etdump *d, size_t *out_size);
/* Write the ETDump to etdp_path and, if debug_path is not NULL, the debug
 * buffer there. */
et_status et_etdump_write(const et_etdump *d, const char *etdp_path,
                          const char *debug_path, et_diag *diag);

/* Recorded profile events, for tools (block index, names, times). */
typedef struct et_etdump_event {
  const char *block;  /* "Default" or "Execute" */
  uint32_t run;       /* index of the block */
  const char *name;   /* NULL for a delegate event named by id */
  const char *delegate_name; /* backend event: its name (also when it has
                                an id; "Conv2d"), or NULL */
  int32_t chain, instruction, delegate_debug_id;
  uint64_t start, end;
  /* Backend event with a name: k in the ETDump's event name "<name> #k"
   * (k-th event of that name in its delegate call); else 0. */
  uint32_t nth;
} et_etdump_event;
/* Records (profile and debug); event_get is false for a debug record. */
size_t et_etdump_event_count(const et_etdump *d);
bool et_etdump_event_get(const et_etdump *d, size_t i, et_etdump_event *out);
/* A captured value (debug record i; false for a profile record). */
typedef struct et_etdump_debug {
  uint32_t run;
  int32_t chain, instruction; /* instruction -1: a program output */
  int tag;                    /* ET_TAG_TENSOR, _INT, _DOUBLE, _BOOL */
  int dtype;
  uint32_t rank;
  const int64_t *sizes;
  int64_t offset;             /* tensor bytes in the debug buffer; -1: none */
  int64_t i;
  double d;
  int32_t delegate_debug_id;  /* a backend node's output: its id; else -1 */
  /* A backend node's output known by name alone (delegate_debug_id -1):
   * the name (the ETDump's delegate_debug_id_str); else NULL. */
  const char *delegate_name;
} et_etdump_debug;
bool et_etdump_debug_get(const et_etdump *d, size_t i, et_etdump_debug *out);

/* Forget every recorded event and the debug buffer. */
void et_etdump_reset(et_etdump *d);

#ifdef __cplusplus
}
#endif

#endif /* EDGETORCH_ETDUMP_H */
